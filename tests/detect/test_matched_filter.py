"""Classic matched filter: analytic recovery, statistics modes, uncertainty, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _detect_synthetic import synthetic_scene

from plumetrace.detect.engine import detect_scene
from plumetrace.detect.matched_filter import (
    AUTO_ROWS_PER_BAND,
    choose_stats,
    column_groups,
    group_width,
)
from plumetrace.errors import InvalidFileError, InvalidInputError

WINDOW = (2100.0, 2480.0)


def test_recovers_injected_beer_lambert_enhancement():
    """Paired scenes (same background and noise, plume on 64 scattered pixels): mean response = truth within 5 %."""
    rows, cols = 800, 16
    truth = np.zeros((rows, cols))
    rng = np.random.default_rng(5)
    picks = rng.choice(rows * cols, size=64, replace=False)
    truth.flat[picks] = 300.0
    clean, _, _ = synthetic_scene(rows=rows, cols=cols, seed=3)
    plume, _, _ = synthetic_scene(rows=rows, cols=cols, seed=3, plume_ppm_m=truth)
    a = detect_scene(clean, window_nm=WINDOW, stats="scene").enhancement.values
    b = detect_scene(plume, window_nm=WINDOW, stats="scene").enhancement.values
    response = (b - a).flat[picks]
    assert np.mean(response) == pytest.approx(300.0, rel=0.05)
    outside = truth == 0
    assert abs(np.mean((b - a)[outside])) < 5.0  # the plume barely moves the background estimate


def test_column_wise_equals_scene_wide_for_identical_columns():
    scene, _, _ = synthetic_scene(rows=300, cols=6, seed=4, identical_columns=True)
    # Without regularisation the statistics are identical (the loading scales with bands / pixels, so it differs).
    # Single pass: the robust round's mask is a threshold (column mode also marks under scene-pooled statistics), so
    # float32 round-off can flip a row at its edge and the two modes would exclude different pixels.
    by_column = detect_scene(scene, window_nm=WINDOW, stats="column", shrinkage=0.0, robust=False)
    by_scene = detect_scene(scene, window_nm=WINDOW, stats="scene", shrinkage=0.0, robust=False)
    # The scene-wide pass multiplies uncentred-by-column float32 blocks: agreement to a few % of σ, not bit for bit.
    sigma = float(np.nanmean(by_scene.uncertainty.values))
    np.testing.assert_allclose(by_column.enhancement.values, by_scene.enhancement.values, atol=0.06 * sigma)
    np.testing.assert_allclose(by_column.uncertainty.values, by_scene.uncertainty.values, rtol=5e-3)
    # Identical columns give identical results column by column.
    np.testing.assert_array_equal(by_column.enhancement.values, by_column.enhancement.values[:, :1].repeat(6, axis=1))


@pytest.mark.parametrize("stats", ["column", "scene"])
def test_uncertainty_matches_empirical_std(stats):
    scene, _, _ = synthetic_scene(rows=600, cols=8, seed=6)
    ds = detect_scene(scene, window_nm=WINDOW, stats=stats)
    empirical = float(np.nanstd(ds.enhancement.values))
    predicted = float(np.nanmean(ds.uncertainty.values))
    assert predicted == pytest.approx(empirical, rel=0.2)
    np.testing.assert_allclose(ds.sensitivity.values, 1000.0 / ds.uncertainty.values, rtol=1e-5)


def test_choose_stats_from_rows_vs_bands():
    # The threshold moved from 4 to AUTO_ROWS_PER_BAND = 25 rows per band, and below it auto pools the scene instead
    # of groups: benchmarks/stats_choice.py on scenes with push-broom column effects (per-column or grouped statistics
    # below ~25 rows per band add false plumes that scene-wide statistics do not).
    assert AUTO_ROWS_PER_BAND == 25
    assert choose_stats(AUTO_ROWS_PER_BAND * 50, 50, 1242) == ("column", 1)
    assert choose_stats(1280, 50, 1242) == ("column", 1)  # a full EMIT granule: its own statistics per column
    assert choose_stats(640, 50, 1242) == ("scene", 1242)
    assert choose_stats(3, 50, 20) == ("scene", 20)


def test_group_width_reaches_the_pixel_count():
    assert group_width(150, 50, 1242) == math.ceil(AUTO_ROWS_PER_BAND * 50 / 150)
    assert group_width(5000, 50, 1242) == 2  # a group is at least two columns
    assert group_width(3, 50, 20) == 20


def test_column_groups_fold_narrow_tail():
    groups, n = column_groups(10, "group", 4)
    assert n == 3 and list(np.bincount(groups)) == [4, 4, 2]
    groups, n = column_groups(9, "group", 4)
    assert n == 2 and list(np.bincount(groups)) == [4, 5]


def test_auto_pools_the_scene_when_columns_are_short():
    # Below AUTO_ROWS_PER_BAND rows per band auto uses scene-wide statistics (it pooled groups of columns before the
    # stats_choice evidence); explicit groups still get the width that reaches the pixel count.
    scene, _, _ = synthetic_scene(rows=60, cols=40, seed=7)
    assert detect_scene(scene, window_nm=WINDOW, stats="auto").attrs["stats"] == "scene"
    grouped = detect_scene(scene, window_nm=WINDOW, stats="group")
    assert grouped.attrs["stats"] == "group"
    assert grouped.attrs["columns_per_group"] == group_width(60, grouped.attrs["window_bands"], 40)


def test_nan_and_fill_pixels_masked():
    scene, _, _ = synthetic_scene(rows=200, cols=6, seed=8)
    radiance = scene["radiance"].values.copy()
    radiance[10, 2, 20] = np.nan  # a band inside the window
    radiance[20, 3, :] = -9999.0
    radiance[30, 1, :] = 0.0
    scene["radiance"].values[...] = radiance
    ds = detect_scene(scene, window_nm=WINDOW)
    for name in ("enhancement", "uncertainty", "albedo", "sensitivity"):
        values = ds[name].values
        assert np.isnan(values[10, 2]) and np.isnan(values[20, 3]) and np.isnan(values[30, 1])
        assert np.isfinite(values).sum() == values.size - 3


def test_flare_pixels_masked_and_excluded():
    scene, _, _ = synthetic_scene(rows=200, cols=4, seed=9)
    scene["radiance"].values[50, 1, :] *= 20.0
    ds = detect_scene(scene, window_nm=WINDOW)
    assert np.isnan(ds.enhancement.values[50, 1])
    assert np.isfinite(ds.enhancement.values[51, 1])


def test_result_metadata():
    scene, _, _ = synthetic_scene(rows=120, cols=4, seed=10)
    ds = detect_scene(scene, window_nm=WINDOW, stats="scene")
    assert ds.enhancement.dtype == np.float32 and ds.enhancement.attrs["units"] == "ppm m"
    assert ds.attrs["gas"] == "ch4" and ds.attrs["method"] == "mf" and ds.attrs["stats"] == "scene"
    assert ds.attrs["window_nm"] == [2100.0, 2480.0]
    assert ds.attrs["airmass_factor"] == pytest.approx(2.0)


def test_wrong_gas_rejected():
    scene, _, _ = synthetic_scene(rows=50, cols=2)
    with pytest.raises(InvalidInputError, match="gas"):
        detect_scene(scene, gas="unobtainium", window_nm=WINDOW)


def test_window_outside_sensor_rejected():
    scene, _, _ = synthetic_scene(rows=50, cols=2)
    with pytest.raises(InvalidInputError, match="window_nm"):
        detect_scene(scene, window_nm=(1500.0, 1700.0))


def test_reversed_window_rejected():
    scene, _, _ = synthetic_scene(rows=50, cols=2)
    with pytest.raises(InvalidInputError, match="window_nm"):
        detect_scene(scene, window_nm=(2400.0, 2200.0))


def test_target_without_overlap_rejected(tmp_path):
    target = tmp_path / "vis.txt"
    target.write_text("1 500.0 -1.0\n2 510.0 -2.0\n3 520.0 -1.0\n")
    scene, _, _ = synthetic_scene(rows=50, cols=2)
    with pytest.raises(InvalidFileError, match="vis.txt: wavelength: .*no overlap"):
        detect_scene(scene, gas=str(target), window_nm=WINDOW)


def test_too_few_valid_pixels_per_column_rejected():
    scene, _, _ = synthetic_scene(rows=40, cols=4, seed=11)
    scene["radiance"].values[5:, 2, :] = np.nan  # column 2 keeps 5 valid pixels
    with pytest.raises(InvalidInputError, match="too few valid pixels per column"):
        detect_scene(scene, window_nm=WINDOW, stats="column")


def test_unknown_method_and_stats_rejected():
    scene, _, _ = synthetic_scene(rows=50, cols=2)
    with pytest.raises(InvalidInputError, match="method"):
        detect_scene(scene, method="magic", window_nm=WINDOW)
    with pytest.raises(InvalidInputError, match="stats"):
        detect_scene(scene, stats="row", window_nm=WINDOW)
    with pytest.raises(InvalidInputError, match="device"):
        detect_scene(scene, device="tpu", window_nm=WINDOW)


def test_albedo_correction_removes_dark_surface_bias():
    """A plume over dark pixels: the plain MF response scales with albedo; the albedo-corrected one does not."""
    rows, cols = 600, 8
    truth = np.zeros((rows, cols))
    truth[::25, ::2] = 400.0
    clean, _, _ = synthetic_scene(rows=rows, cols=cols, seed=14)
    plume, _, _ = synthetic_scene(rows=rows, cols=cols, seed=14, plume_ppm_m=truth)
    for scene in (clean, plume):  # the plume pixels sit on a surface 3x darker than the rest
        scene["radiance"].values[::25, ::2, :] *= np.float32(1 / 3)
    picks = truth > 0
    responses = {}
    for correct in (False, True):
        a = detect_scene(clean, window_nm=WINDOW, stats="scene", albedo_correct=correct).enhancement.values
        b = detect_scene(plume, window_nm=WINDOW, stats="scene", albedo_correct=correct).enhancement.values
        responses[correct] = float(np.mean((b - a)[picks]) / 400.0)
    assert responses[False] < 0.5  # ≈ the albedo (1/3 × the pixel's own brightness)
    # Corrected: near 1 (the dark pixels are 2 % outliers in the statistics, which costs a little).
    assert 0.75 < responses[True] < 1.25 and responses[True] > 2 * responses[False]


def test_robust_round_reduces_plume_contamination_bias(plume_scene):
    """A large plume inflates the covariance along the target; the robust round removes it from the statistics."""
    scene, truth, _ = plume_scene
    inside = truth > 1000
    biases = {}
    for robust in (False, True):
        e = detect_scene(scene, window_nm=WINDOW, stats="scene", robust=robust).enhancement.values
        biases[robust] = abs(np.mean(e[inside] - truth[inside])) / np.mean(truth[inside])
    assert biases[True] < 0.6 * biases[False]
