"""Forward model physics: LUT consistency, Beer-Lambert scaling, CH4 band positions, level interpolation, real data."""

from __future__ import annotations

import math

import numpy as np
import pytest

from plumetrace.errors import InvalidInputError
from plumetrace.simulate.pasadena import load_pasadena_targets, simulate_pasadena_radiance
from plumetrace.simulate.radiance import ForwardModel, ch4_optical_depth
from plumetrace.simulate.scene import enhancement_levels, interpolate_levels
from plumetrace.simulate.sensors import get_sensor
from plumetrace.spectra.ch4_lut import REFERENCE_AIRMASS_FACTOR, load_ch4_lut
from plumetrace.spectra.response import gaussian_response_matrix
from plumetrace.spectra.solar import solar_irradiance


@pytest.fixture(scope="module")
def emit_model() -> ForwardModel:
    s = get_sensor("emit")
    return ForwardModel(s.wavelength_nm, s.fwhm_nm, solar_zenith_deg=0.0, view_zenith_deg=0.0)


def _flat(model: ForwardModel, value: float = 0.3) -> np.ndarray:
    return np.full(model.grid_nm.size, value)


def test_reference_geometry_reproduces_lut_ratio(emit_model):
    # At the LUT's own geometry (A = A_ref) and one of its levels, the plume must equal the LUT row exactly.
    assert emit_model.airmass_factor == pytest.approx(REFERENCE_AIRMASS_FACTOR)
    lut = load_ch4_lut()
    swir = emit_model.wavelength_nm > 1500
    matrix = gaussian_response_matrix(lut.wavelength_nm, emit_model.wavelength_nm[swir], emit_model.fwhm_nm[swir])
    expected = (matrix @ lut.radiance[4]) / (matrix @ lut.radiance[0])  # 4000 ppm·m
    got = emit_model.band_radiance(_flat(emit_model), 4000.0)[swir] / emit_model.band_radiance(_flat(emit_model))[swir]
    np.testing.assert_allclose(got, expected, rtol=2e-3)


def test_optical_depth_scales_with_airmass():
    lut = load_ch4_lut()
    tau_ref = -np.log(lut.radiance[3] / lut.radiance[0])  # 2000 ppm·m at A_ref
    tau = ch4_optical_depth(2000.0, airmass_factor=1.5 * REFERENCE_AIRMASS_FACTOR)
    np.testing.assert_allclose(tau, 1.5 * tau_ref, rtol=1e-12, atol=1e-15)


def test_beer_lambert_saturation_is_resolved_before_convolution(emit_model):
    # Doubling the column must less than double the band absorption in the strongest band (saturated lines),
    # which a band-level Beer-Lambert with a fixed coefficient would not give.
    base = emit_model.band_radiance(_flat(emit_model))
    a1 = 1 - emit_model.band_radiance(_flat(emit_model), 4000.0) / base
    a2 = 1 - emit_model.band_radiance(_flat(emit_model), 8000.0) / base
    band = int(np.nanargmax(np.where(np.isfinite(a1), a1, -1)))
    k1 = -np.log(1 - a1[band]) / 4000.0
    k2 = -np.log(1 - a2[band]) / 8000.0
    assert k2 < k1 * 0.995


def test_plume_absorbs_most_at_2300nm(emit_model):
    base = emit_model.band_radiance(_flat(emit_model))
    ratio = emit_model.band_radiance(_flat(emit_model), 2000.0) / base
    ok = base > 0.01 * base.max()  # leave out the opaque water bands
    strongest = emit_model.wavelength_nm[ok][np.argmin(ratio[ok])]
    assert 2280.0 < strongest < 2380.0
    vnir = emit_model.wavelength_nm < 1300
    np.testing.assert_allclose(ratio[vnir], 1.0)  # no CH4 absorption in the VNIR
    assert 1.0 - ratio[ok].min() > 0.03  # 2000 ppm·m absorbs several per cent


def test_radiance_scales_with_cos_sza_and_earth_sun_distance():
    s = get_sensor("emit")
    a = ForwardModel(s.wavelength_nm, s.fwhm_nm, solar_zenith_deg=20.0).unit_radiance
    b = ForwardModel(s.wavelength_nm, s.fwhm_nm, solar_zenith_deg=50.0).unit_radiance
    i = int(np.argmin(abs(s.wavelength_nm - 2130)))  # window band: continuum only
    amf_a = 1 / math.cos(math.radians(20)) + 1
    amf_b = 1 / math.cos(math.radians(50)) + 1
    cos_ratio = math.cos(math.radians(50)) / math.cos(math.radians(20))
    # Irradiance falls as cos θs; the longer path removes a little more in the window (optical depth 0-0.15).
    assert cos_ratio * math.exp(-0.15 * (amf_b - amf_a)) < b[i] / a[i] < cos_ratio
    far = ForwardModel(s.wavelength_nm, s.fwhm_nm, solar_zenith_deg=20.0, day_of_year=185).unit_radiance
    near = ForwardModel(s.wavelength_nm, s.fwhm_nm, solar_zenith_deg=20.0, day_of_year=3).unit_radiance
    assert near[i] / far[i] == pytest.approx((1.0167 / 0.9833) ** 2, rel=2e-3)


def test_vnir_radiance_follows_kurucz(emit_model):
    # Green band, reflectance 1, overhead sun, nadir: E0/π · exp(-2 τ) with the documented effective optical depth
    # 0.5·Rayleigh (0.0088·0.55^-4.05) + 0.25·aerosol (0.1) + gray (LUT window, 0.07-0.1).
    i = int(np.argmin(abs(emit_model.wavelength_nm - 550)))
    e0_over_pi = solar_irradiance(np.array([550.0]), smoothing_nm=8.5)[0] / math.pi
    t = emit_model.unit_radiance[i] / e0_over_pi
    tau_fixed = 0.5 * 0.0088 * 0.55**-4.05 + 0.25 * 0.1
    assert math.exp(-2 * (tau_fixed + 0.1)) < t < math.exp(-2 * (tau_fixed + 0.07))


def test_plume_signature_matches_emit_operational_target(emit_model):
    # Known truth: NASA's EMIT CH4 unit-absorption target at the same band centres.
    from plumetrace.spectra import bundled_path

    target = np.loadtxt(bundled_path("emit_ch4_target.txt"))[:, 2]
    base = emit_model.band_radiance(_flat(emit_model))
    log_ratio = np.log(emit_model.band_radiance(_flat(emit_model), 1000.0) / base)
    swir = emit_model.wavelength_nm > 2100
    assert np.corrcoef(log_ratio[swir], target[swir])[0, 1] > 0.97


def test_level_interpolation_error_below_0p1_percent(emit_model):
    lib_like = np.stack([_flat(emit_model, 0.25), np.linspace(0.1, 0.5, emit_model.grid_nm.size)])
    levels = enhancement_levels(12000.0)
    table = emit_model.level_table(lib_like, levels)
    values = np.array([37.0, 333.3, 1234.5, 5678.9, 11111.0])
    weights = np.tile([0.6, 0.4], (values.size, 1))
    approx = interpolate_levels(table, levels, weights, values)
    exact = np.stack(
        [
            0.6 * emit_model.band_radiance(lib_like[0], v) + 0.4 * emit_model.band_radiance(lib_like[1], v)
            for v in values
        ]
    )
    ok = exact > 1e-3 * exact.max()
    rel = np.abs(approx[ok] - exact[ok]) / exact[ok]
    assert rel.max() < 1e-3


def test_negative_enhancement_rejected():
    with pytest.raises(InvalidInputError, match="enhancement_ppm_m"):
        ch4_optical_depth(-5.0, airmass_factor=2.0)


def test_bad_geometry_rejected():
    s = get_sensor("emit")
    with pytest.raises(InvalidInputError, match="solar_zenith_deg"):
        ForwardModel(s.wavelength_nm, s.fwhm_nm, solar_zenith_deg=89.0)


def pasadena_correlations(root) -> dict[str, tuple[float, float]]:
    """Per-target (correlation, gain) of simulated vs measured AVIRIS-NG radiance over 2.0-2.45 µm."""
    out = {}
    for target in load_pasadena_targets(root):
        simulated, measured = simulate_pasadena_radiance(target), target.measured
        window = (measured[:, 0] >= 2000.0) & (measured[:, 0] <= 2450.0)
        sim, meas = simulated[window], measured[window, 1]
        gain = float(sim @ meas / (sim @ sim))
        out[target.insitu] = (float(np.corrcoef(gain * sim, meas)[0, 1]), gain)
    return out


@pytest.mark.shared_data
def test_pasadena_simulated_radiance_matches_aviris_ng(shared_data):
    root = shared_data / "swir-scenes" / "aviris-ng-pasadena"
    results = pasadena_correlations(root)
    assert len(results) == 5
    for target, (corr, gain) in results.items():
        assert corr > 0.95, f"{target}: correlation {corr:.4f}"
        assert 0.7 < gain < 1.5, f"{target}: gain {gain:.3f} (absolute scale should be near 1)"


def test_lut_units_are_physical_radiance():
    # The LUT is used as µW cm⁻² sr⁻¹ nm⁻¹ for unit reflectance, overhead sun: in a clean window its ratio to the
    # Kurucz E0/π must be a plausible clear-sky two-way transmittance (0.75-0.95), not an arbitrary scale.
    lut = load_ch4_lut()
    for lo, hi in ((1550.0, 1565.0), (1620.0, 1630.0), (2130.0, 2145.0)):
        band = (lut.wavelength_nm > lo) & (lut.wavelength_nm < hi)
        grid = lut.wavelength_nm[band]
        ratio = lut.radiance[0, band].mean() / (solar_irradiance(grid).mean() / math.pi)
        assert 0.75 < ratio < 0.95, (lo, hi, ratio)
