from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from plumetrace.errors import InvalidInputError
from plumetrace.plumes.segment import SegmentParams, robust_background, segment_plumes


def _discs(shape, centres, radius, value):
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    out = np.zeros(shape)
    for r, c in centres:
        out[(rows - r) ** 2 + (cols - c) ** 2 <= radius**2] = value
    return out


def test_background_sigma_is_robust_to_a_large_plume():
    rng = np.random.default_rng(1)
    noise = rng.normal(100.0, 50.0, (200, 200))
    plume = _discs(noise.shape, [(100, 100)], 45, 400.0)  # ~16 % of the map
    median, sigma = robust_background(noise + plume)
    assert median.item() == pytest.approx(100.0, abs=5.0)
    assert sigma.item() == pytest.approx(50.0, rel=0.06)


def test_column_wise_background_follows_column_noise():
    rng = np.random.default_rng(2)
    column_sigma = np.linspace(20.0, 200.0, 40)
    noise = rng.normal(0.0, 1.0, (2000, 40)) * column_sigma  # MAD sigma: ~3 % error per column
    _, sigma = robust_background(noise, column_wise=True)
    np.testing.assert_allclose(sigma[0], column_sigma, rtol=0.15)


def test_finds_the_planted_plumes_and_nothing_else():
    rng = np.random.default_rng(3)
    shape = (150, 150)
    truth = _discs(shape, [(40, 40), (110, 100)], 5, 1.0)
    enhancement = rng.normal(0.0, 50.0, shape) + 400.0 * truth
    labels = segment_plumes(xr.DataArray(enhancement, dims=("y", "x")))
    assert labels.attrs["n_plumes"] == 2
    found = labels.values > 0
    overlap = (found & (truth > 0)).sum() / (truth > 0).sum()
    assert overlap > 0.9
    # smoothing (1 px) and the low threshold grow the mask by about one pixel around the edge, not more
    assert (found & (truth == 0)).sum() < 1.0 * (truth > 0).sum()


def test_pure_noise_gives_no_plume():
    rng = np.random.default_rng(4)
    labels = segment_plumes(rng.normal(0.0, 80.0, (300, 300)))
    assert labels.attrs["n_plumes"] == 0


def test_min_pixels_and_min_peak_filter_candidates():
    shape = (60, 60)
    rng = np.random.default_rng(5)
    base = rng.normal(0.0, 10.0, shape)
    small = base.copy()
    small[30, 30] += 500.0  # a single hot pixel: bright but 1 pixel
    assert segment_plumes(small, params=SegmentParams(smooth_px=0, closing_radius_px=0)).attrs["n_plumes"] == 0
    big = base + 400.0 * _discs(shape, [(30, 30)], 4, 1.0)
    assert segment_plumes(big).attrs["n_plumes"] == 1
    assert segment_plumes(big, params=SegmentParams(min_peak_ppm_m=1000.0)).attrs["n_plumes"] == 0


def test_labels_ordered_by_peak():
    rng = np.random.default_rng(6)
    shape = (100, 100)
    enhancement = rng.normal(0.0, 20.0, shape)
    enhancement += 200.0 * _discs(shape, [(20, 20)], 4, 1.0) + 600.0 * _discs(shape, [(70, 70)], 4, 1.0)
    labels = segment_plumes(enhancement).values
    assert labels[70, 70] == 1 and labels[20, 20] == 2


def test_nan_pixels_stay_background():
    rng = np.random.default_rng(7)
    enhancement = rng.normal(0.0, 20.0, (80, 80)) + 300.0 * _discs((80, 80), [(40, 40)], 6, 1.0)
    enhancement[:, :10] = np.nan
    labels = segment_plumes(enhancement)
    assert labels.attrs["n_plumes"] == 1
    assert not labels.values[:, :10].any()


@pytest.mark.parametrize(
    "params, field",
    [
        (SegmentParams(high_sigma=-1), "high_sigma"),
        (SegmentParams(low_sigma=5, high_sigma=4), "low_sigma"),
        (SegmentParams(min_pixels=0), "min_pixels"),
        (SegmentParams(smooth_px=-1), "smooth_px"),
        (SegmentParams(min_peak_ppm_m=-5), "min_peak_ppm_m"),
        (SegmentParams(max_albedo_darkening=1.5), "max_albedo_darkening"),
    ],
)
def test_rejects_bad_parameters(params, field):
    with pytest.raises(InvalidInputError, match=field):
        segment_plumes(np.random.default_rng(0).normal(size=(20, 20)), params=params)


def test_rejects_empty_map():
    with pytest.raises(InvalidInputError, match="empty"):
        segment_plumes(np.full((10, 10), np.nan))


def test_rejects_constant_map():
    with pytest.raises(InvalidInputError, match="no variation"):
        segment_plumes(np.zeros((10, 10)))


def test_rejects_3d_input():
    with pytest.raises(InvalidInputError, match="2-D"):
        segment_plumes(np.zeros((3, 10, 10)))


def test_sparse_columns_fall_back_to_the_scene_statistic():
    rng = np.random.default_rng(8)
    noise = rng.normal(0.0, 40.0, (300, 20))
    noise[:, 5] *= 5.0  # a noisy column with enough rows keeps its own sigma
    noise[50:, 7] = np.nan  # only 50 valid rows: below min_column_pixels = 100
    median, sigma = robust_background(noise, column_wise=True, min_column_pixels=100)
    scene_sigma = robust_background(noise)[1].item()
    assert sigma[0, 7] == scene_sigma
    assert sigma[0, 5] == pytest.approx(200.0, rel=0.15)
    assert sigma[0, 0] == pytest.approx(40.0, rel=0.15)


def test_column_statistics_only_on_the_raw_sensor_grid():
    rng = np.random.default_rng(9)
    column_sigma = np.where(np.arange(30) < 15, 20.0, 200.0)
    enhancement = xr.DataArray(rng.normal(0.0, 1.0, (300, 30)) * column_sigma, dims=("y", "x"))
    enhancement[150:153, 3:6] += 200.0  # 10 sigma in a quiet column, 1 sigma of the scene mix
    enhancement.attrs = {"stats": "column"}
    labels = segment_plumes(enhancement)
    assert labels.attrs["column_wise"] == 1
    assert labels.values[151, 4] > 0  # found against its own quiet column's noise
    enhancement.attrs = {"stats": "column", "orthorectified": True}
    assert segment_plumes(enhancement).attrs["column_wise"] == 0


def test_per_pixel_uncertainty_suppresses_false_plumes_over_noisy_pixels():
    rng = np.random.default_rng(10)
    shape = (200, 200)
    noise_sigma = np.full(shape, 30.0)
    dark = np.zeros(shape, dtype=bool)
    for r, c in rng.integers(10, 190, (40, 2)):  # dark patches (albedo-corrected noise x8)
        dark[r - 4 : r + 4, c - 4 : c + 4] = True
    noise_sigma[dark] = 240.0
    enhancement = rng.normal(0.0, 1.0, shape) * noise_sigma
    plume = _discs(shape, [(100, 20)], 4, 1.0) * (~dark)
    enhancement += 400.0 * plume
    without = segment_plumes(enhancement)
    with_unc = segment_plumes(enhancement, uncertainty=noise_sigma)
    assert without.attrs["n_plumes"] > 3  # noise in the dark patches passes the scene-wide thresholds
    assert with_unc.attrs["n_plumes"] == 1
    assert with_unc.values[100, 20] == 1


def test_rejects_uncertainty_of_another_shape():
    with pytest.raises(InvalidInputError, match="uncertainty"):
        segment_plumes(np.random.default_rng(0).normal(size=(20, 20)), uncertainty=np.ones((10, 10)))


def test_pixel_noise_follows_the_retrieval_uncertainty_at_the_map_level():
    from plumetrace.plumes.segment import pixel_noise_ppm_m

    rng = np.random.default_rng(3)
    unc = np.full((100, 100), 50.0)
    unc[:, 50:] = 150.0  # dark half: three times noisier
    true_noise = 1.4 * unc  # clutter makes the map 40 % noisier than the propagated uncertainty
    enhancement = rng.normal(0.0, true_noise)
    noise = pixel_noise_ppm_m(enhancement, uncertainty=unc)
    assert np.median(noise[:, :50]) == pytest.approx(70.0, rel=0.05)
    assert np.median(noise[:, 50:]) == pytest.approx(210.0, rel=0.05)
    # without the uncertainty: one robust sigma for the whole map
    flat = pixel_noise_ppm_m(enhancement)
    assert np.ptp(flat) == 0


def test_surface_criterion_drops_a_feature_that_follows_a_dark_patch_only():
    # a plume over uniform ground and an equally strong "enhancement" confined to a 25 % darker patch (the way a
    # matched filter misreads a minority surface): only the latter is a surface feature
    rng = np.random.default_rng(5)
    shape = (120, 120)
    plume = _discs(shape, [(40, 40)], 6, 1.0)
    patch = _discs(shape, [(85, 85)], 6, 1.0)
    enhancement = rng.normal(0.0, 50.0, shape) + 400.0 * (plume + patch)
    albedo = 1.0 + rng.normal(0.0, 0.03, shape) - 0.25 * patch
    kept = segment_plumes(enhancement, albedo=albedo)
    assert kept.attrs["n_plumes"] == 2  # off by default
    labels = segment_plumes(enhancement, albedo=albedo, params=SegmentParams(max_albedo_darkening=0.1))
    assert labels.attrs["n_plumes"] == 1
    assert labels.values[40, 40] == 1 and labels.values[85, 85] == 0


def test_surface_criterion_rejects_a_mismatched_albedo_map():
    enhancement = np.random.default_rng(0).normal(0.0, 50.0, (60, 60)) + 400.0 * _discs((60, 60), [(30, 30)], 5, 1.0)
    with pytest.raises(InvalidInputError, match="albedo"):
        segment_plumes(enhancement, albedo=np.ones((10, 10)), params=SegmentParams(max_albedo_darkening=0.1))
