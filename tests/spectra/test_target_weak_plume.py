"""The CH4 target's amplitude against the simulator's known truth: a linear matched filter with perfect statistics
(mean = the plume-free radiance, covariance = the sensor's noise) reads a uniform weak plume at its true enhancement.

Known truth: the simulator (:class:`plumetrace.simulate.radiance.ForwardModel`) applies the plume's CH4 optical
depth on the high-resolution grid *before* band convolution, so its band radiance is the exact answer for any
enhancement; the target is built independently from the LUT's band-convolved log radiance.
"""

from __future__ import annotations

import numpy as np
import pytest

from plumetrace.detect.covariance import GroupStatistics
from plumetrace.detect.matched_filter import apply_filter, filter_weights
from plumetrace.errors import InvalidInputError
from plumetrace.simulate.radiance import ForwardModel
from plumetrace.simulate.sensors import get_sensor
from plumetrace.spectra.ch4_lut import load_ch4_lut
from plumetrace.spectra.target import WEAK_PLUME_MAX_PPM_M, ch4_target, unit_absorption_from_lut

WINDOW_NM = (2122.0, 2488.0)


def _ideal_ratio(sensor: str, enhancement_ppm_m: float, *, solar_zenith_deg: float = 30.0, **target_options) -> float:
    """Retrieved / true for a noise-free uniform plume on a uniform 30 % surface, ideal filter statistics."""
    preset = get_sensor(sensor)
    model = ForwardModel(preset.wavelength_nm, preset.fwhm_nm, solar_zenith_deg=solar_zenith_deg)
    band = (preset.wavelength_nm >= WINDOW_NM[0]) & (preset.wavelength_nm <= WINDOW_NM[1])
    surface = np.full((1, model.grid_nm.size), 0.3)
    background = model.band_radiance(surface)[0][band]
    plume = model.band_radiance(surface, enhancement_ppm_m)[0][band]
    noise = preset.noise
    sigma = np.abs(noise.a * np.sqrt(np.maximum(noise.b + model.band_radiance(surface)[0], 1e-5)) + noise.c)[band]
    stats = GroupStatistics(count=np.array([10_000]), mean=background[None], cov=np.diag(sigma**2)[None])
    k = ch4_target(preset.wavelength_nm, preset.fwhm_nm, airmass_factor=model.airmass_factor, **target_options)[band]
    weights = filter_weights(stats, k)
    centred = (plume - background).astype(np.float32)[None, None, :]  # (col, row, band)
    enhancement, *_ = apply_filter(centred, np.ones((1, 1), dtype=bool), weights, np.zeros(1, dtype=int))
    return float(enhancement[0, 0]) / enhancement_ppm_m


@pytest.mark.parametrize("sensor", ["emit", "aviris-ng"])
def test_weak_plume_read_within_2_percent(sensor):
    assert _ideal_ratio(sensor, 500.0) == pytest.approx(1.0, abs=0.02)
    assert _ideal_ratio(sensor, 100.0) == pytest.approx(1.0, abs=0.025)
    assert _ideal_ratio(sensor, 2000.0) == pytest.approx(1.0, abs=0.025)


def test_geometry_does_not_move_the_amplitude():
    """Air-mass scaling of target and simulator agree: the ratio is the same at 0° and 50° solar zenith."""
    assert _ideal_ratio("emit", 500.0, solar_zenith_deg=50.0) == pytest.approx(
        _ideal_ratio("emit", 500.0, solar_zenith_deg=0.0), abs=0.005
    )


def test_full_range_target_over_reads_weak_plumes():
    """The defect the weak-plume regression fixes: the 0-16,000 ppm·m slope over-reads 500 ppm·m by > 8 %."""
    assert _ideal_ratio("emit", 500.0, max_enhancement_ppm_m=None) > 1.08


def test_regression_range_defaults_and_fallback():
    lut = load_ch4_lut()
    bands = np.array([2300.0, 2350.0])
    fwhm = np.full(2, 8.5)
    assert WEAK_PLUME_MAX_PPM_M == 2000.0
    # Below the first non-zero level the two lowest levels are used: same as asking for exactly that level.
    np.testing.assert_allclose(
        unit_absorption_from_lut(lut, bands, fwhm, max_enhancement_ppm_m=10.0),
        unit_absorption_from_lut(lut, bands, fwhm, max_enhancement_ppm_m=500.0),
    )
    # Band-averaged ln L is convex in ΔX: the weak-plume slope is steeper than the full-range one.
    weak = unit_absorption_from_lut(lut, bands, fwhm)
    full = unit_absorption_from_lut(lut, bands, fwhm, max_enhancement_ppm_m=None)
    assert np.all(weak < full) and np.all(full < 0)


@pytest.mark.parametrize("bad", [0.0, -5.0, float("nan")])
def test_bad_regression_range_rejected(bad):
    with pytest.raises(InvalidInputError, match="max_enhancement_ppm_m"):
        ch4_target(np.array([2300.0]), np.array([8.5]), max_enhancement_ppm_m=bad)
