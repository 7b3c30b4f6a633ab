import numpy as np
import pytest

from plumetrace.spectra.ch4_lut import load_ch4_lut
from plumetrace.spectra.response import convolve_to_bands, gaussian_response_matrix


def test_response_rows_sum_to_one_on_nonuniform_grid():
    wl = np.sort(np.random.default_rng(0).uniform(2000, 2500, 5000))
    m = gaussian_response_matrix(wl, np.array([2100.0, 2300.0]), np.array([8.0, 10.0]))
    assert m.sum(axis=1) == pytest.approx([1.0, 1.0])


def test_convolving_a_line_gives_the_gaussian_band_average():
    wl = np.linspace(2000, 2400, 40001)
    spectrum = wl.copy()  # a linear spectrum: the band average is the band centre
    out = convolve_to_bands(wl, spectrum, np.array([2100.0, 2250.0]), np.array([7.4, 12.0]))
    assert out == pytest.approx([2100.0, 2250.0], abs=1e-6)


def test_band_outside_grid_is_nan():
    wl = np.linspace(2000, 2100, 1001)
    out = convolve_to_bands(wl, np.ones_like(wl), np.array([2050.0, 2500.0]), np.array([8.0, 8.0]))
    assert out[0] == pytest.approx(1.0) and np.isnan(out[1])


def test_bundled_ch4_lut_shape_and_absorption():
    lut = load_ch4_lut()
    assert lut.radiance.shape == (7, 31800)
    assert lut.enhancement_ppm_m[0] == 0
    # More methane means less radiance in the 2.3 µm band.
    band = (lut.wavelength_nm > 2290) & (lut.wavelength_nm < 2380)
    assert lut.radiance[-1, band].sum() < lut.radiance[0, band].sum()
