"""CH4 target from the bundled LUT, checked against NASA's EMIT target and the marshsi transmittance LUT."""

from __future__ import annotations

import numpy as np
import pytest

from plumetrace.errors import InvalidFileError, InvalidInputError, MissingFileError
from plumetrace.spectra.ch4_lut import REFERENCE_AIRMASS_FACTOR, load_ch4_lut
from plumetrace.spectra.response import convolve_to_bands
from plumetrace.spectra.target import (
    ch4_target,
    read_target_file,
    resolve_target,
    unit_absorption_from_lut,
    write_target_file,
)

EMIT_TARGET = "ch4-swir-absorption/emit/emit20220815t042838_ch4_target.txt"
MARSHSI_LUT = "ch4-swir-absorption/marshsi/output_Tch4_LUT_AMF_VZA_0_v2.nc"


def test_emit_target_correlation(shared_data):
    """NASA's operational EMIT target is the full-range (0-16,000 ppm·m) regression; ours in that convention matches it."""
    wavelength, emit = read_target_file(shared_data / EMIT_TARGET)
    ours = ch4_target(wavelength, np.full_like(wavelength, 8.5), max_enhancement_ppm_m=None)
    window = (wavelength >= 2100) & (wavelength <= 2450)
    assert np.corrcoef(ours[window], emit[window])[0, 1] >= 0.99
    # Same units and magnitude: the least-squares scale between the two is within 5 % of 1.
    scale = ours[window] @ emit[window] / (emit[window] @ emit[window])
    assert scale == pytest.approx(1.0, abs=0.05)
    assert np.all(ours[wavelength < 1400] == 0)


def test_weak_plume_target_against_emit(shared_data):
    """The default (0-2000 ppm·m) target keeps NASA's shape and is 10-16 % stronger: the weak-plume slope."""
    wavelength, emit = read_target_file(shared_data / EMIT_TARGET)
    ours = ch4_target(wavelength, np.full_like(wavelength, 8.5))
    window = (wavelength >= 2100) & (wavelength <= 2450)
    assert np.corrcoef(ours[window], emit[window])[0, 1] >= 0.98
    scale = ours[window] @ emit[window] / (emit[window] @ emit[window])
    assert 1.10 <= scale <= 1.16


def _marshsi_unit_absorption_per_ppb(shared_data, wavelength, fwhm):
    xr = pytest.importorskip("xarray")
    with xr.open_dataset(shared_data / MARSHSI_LUT) as ds:
        wl = ds["wvl_mod"].values.astype(np.float64)
        trans = ds["t_ch4_arr"].values.astype(np.float64)  # (wvl, ch4 level, amf)
        mixing_ppb = ds["mr_ch4_arr"].values.astype(np.float64)  # (ch4 level, amf)
        amf = ds["amf_arr"].values.astype(np.float64)
    slopes = []
    for j in range(amf.size):
        band_t = convolve_to_bands(wl, trans[:, :6, j].T, wavelength, fwhm)
        design = np.stack([np.ones(6), mixing_ppb[:6, j]], axis=1)
        coef, *_ = np.linalg.lstsq(design, np.log(band_t), rcond=None)
        slopes.append(coef[1])
    return amf, np.array(slopes)


def test_reference_airmass_factor_matches_marshsi(shared_data):
    """The AMF at which marshsi's (Beer–Lambert) unit absorption equals the mag1c LUT's is REFERENCE_AIRMASS_FACTOR ±10 %.

    marshsi tabulates transmittance against column-mean mixing ratio (ppb) for air-mass factors 2-3.9. One ppb of
    column-mean enhancement is 1e-3 ppm × H metres of surface-density air, H = p/(g m_air n_surface) = 8.43 km for the
    US standard atmosphere.
    """
    wavelength = np.arange(2100.0, 2400.0, 7.4)
    fwhm = np.full_like(wavelength, 8.5)
    amf, per_ppb = _marshsi_unit_absorption_per_ppb(shared_data, wavelength, fwhm)
    per_ppm_m = per_ppb / (1e-3 * 8430.0)
    ours = ch4_target(wavelength, fwhm)
    # Shapes agree (independent line data and radiative transfer).
    assert np.corrcoef(ours, per_ppm_m[0])[0, 1] >= 0.99
    # Ratio ours / marshsi(amf) falls with amf; find where it crosses 1 (linear in the first two grid points).
    ratio = np.array([(ours @ k) / (k @ k) for k in per_ppm_m])
    assert np.all(np.diff(ratio) < 0)
    slope = (ratio[1] - ratio[0]) / (amf[1] - amf[0])
    amf_equal = amf[0] + (1.0 - ratio[0]) / slope if ratio[0] > 1 else np.interp(1.0, ratio[::-1], amf[::-1])
    assert amf_equal == pytest.approx(REFERENCE_AIRMASS_FACTOR, rel=0.10)


def test_airmass_scaling_is_linear():
    wavelength = np.array([2200.0, 2300.0, 2350.0])
    fwhm = np.full(3, 8.5)
    base = ch4_target(wavelength, fwhm)
    scaled = ch4_target(wavelength, fwhm, airmass_factor=3.0)
    np.testing.assert_allclose(scaled, base * 3.0 / REFERENCE_AIRMASS_FACTOR)


def test_beer_lambert_lut_gives_exact_slope():
    """A synthetic LUT with L = L0 exp(-σ ΔX) gives unit absorption -σ band-averaged (weak lines)."""
    wl = np.linspace(2000, 2500, 5001)
    sigma = 1e-6 * (1 + np.sin(wl / 10.0))  # per ppm·m, smooth so band averaging is nearly linear
    levels = np.array([0.0, 100.0, 200.0, 400.0])
    lut = type(load_ch4_lut())(
        wavelength_nm=wl, radiance=np.exp(-np.outer(levels, sigma)), enhancement_ppm_m=levels, gas="x"
    )
    bands = np.array([2100.0, 2250.0, 2400.0])
    got = unit_absorption_from_lut(lut, bands, np.full(3, 5.0))
    expected = -convolve_to_bands(wl, sigma, bands, np.full(3, 5.0))
    np.testing.assert_allclose(got, expected, rtol=1e-3)


def test_target_file_round_trip_and_resolve(tmp_path):
    wavelength = np.array([2100.0, 2200.0, 2300.0, 2400.0])
    values = np.array([0.0, -1e-5, -2e-5, -0.5e-5])
    path = tmp_path / "nh3.txt"
    write_target_file(path, wavelength, values)
    wl, got = read_target_file(path)
    np.testing.assert_allclose(got, values)
    target = resolve_target(str(path), np.array([2150.0, 2300.0, 2450.0]), np.full(3, 8.0))
    assert target.gas == "nh3"
    np.testing.assert_allclose(target.unit_absorption, [-0.5e-5, -2e-5, 0.0])


def test_user_lut_npz(tmp_path):
    lut = load_ch4_lut()
    path = tmp_path / "ch4copy.npz"
    np.savez(path, wavelength_nm=lut.wavelength_nm, radiance=lut.radiance, enhancement_ppm_m=lut.enhancement_ppm_m)
    bands = np.array([2200.0, 2300.0])
    target = resolve_target(str(path), bands, np.full(2, 8.5), airmass_factor=2.5)
    np.testing.assert_allclose(target.unit_absorption, ch4_target(bands, np.full(2, 8.5), airmass_factor=2.5))


def test_unknown_gas_rejected():
    with pytest.raises(InvalidInputError, match="gas: unknown gas 'xenon'"):
        resolve_target("xenon", np.array([2200.0]), np.array([8.5]))


def test_target_without_overlap_rejected():
    with pytest.raises(InvalidInputError, match="no overlap"):
        resolve_target("ch4", np.array([500.0, 600.0]), np.array([8.5, 8.5]))


def test_missing_target_file(tmp_path):
    with pytest.raises(MissingFileError):
        read_target_file(tmp_path / "none.txt")


def test_malformed_target_file(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("1 2100\n2 2200\n")
    with pytest.raises(InvalidFileError, match="target table"):
        read_target_file(path)


def test_malformed_lut_file(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, wavelength_nm=np.array([1.0, 2.0]), radiance=np.ones((2, 3)), enhancement_ppm_m=np.array([0.0, 1.0]))
    with pytest.raises(InvalidFileError, match="radiance"):
        resolve_target(str(path), np.array([2200.0]), np.array([8.5]))
