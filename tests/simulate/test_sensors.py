"""Sensor presets against their calibration files and published nominal values."""

from __future__ import annotations

import numpy as np
import pytest

from plumetrace.errors import InvalidInputError
from plumetrace.simulate.sensors import SENSOR_NAMES, get_sensor
from plumetrace.spectra import bundled_path
from plumetrace.spectra.noise import noise_equivalent_radiance


@pytest.mark.parametrize(
    "name, n_bands, pixel_m, lo, hi",
    [
        ("emit", 285, 60.0, 380.0, 2495.0),
        ("aviris-ng", 425, 5.0, 376.0, 2501.0),
        ("prisma", 239, 30.0, 400.0, 2505.0),
        ("enmap", 224, 30.0, 418.0, 2445.0),
    ],
)
def test_preset_shape(name, n_bands, pixel_m, lo, hi):
    s = get_sensor(name)
    assert s.n_bands == n_bands
    assert s.pixel_size_m == pixel_m
    assert s.wavelength_nm.min() >= lo - 1 and s.wavelength_nm.max() <= hi + 1
    assert np.all(np.diff(s.wavelength_nm) > 0)
    assert np.all(s.fwhm_nm > 0) and s.fwhm_nm.max() <= 12.5
    assert s.noise.a.shape == (n_bands,)


def test_emit_centres_come_from_target_file():
    table = np.loadtxt(bundled_path("emit_ch4_target.txt"))
    np.testing.assert_allclose(get_sensor("emit").wavelength_nm, table[:, 1])


def test_aviris_ng_calibration_converted_to_nm():
    s = get_sensor("avng")
    assert s.wavelength_nm[0] == pytest.approx(376.86)
    assert s.fwhm_nm[0] == pytest.approx(5.57)


def test_prisma_snr_matches_specification_at_2100nm():
    from plumetrace.simulate.radiance import ForwardModel

    s = get_sensor("prisma")
    reference = 0.3 * ForwardModel(s.wavelength_nm, s.fwhm_nm, solar_zenith_deg=30.0).unit_radiance
    i = int(np.argmin(abs(s.wavelength_nm - 2100.0)))
    snr = reference[i] / noise_equivalent_radiance(s.noise, reference)[i]
    assert snr == pytest.approx(200.0, rel=0.05)


def test_pixel_size_override():
    assert get_sensor("aviris-ng", pixel_size_m=2.5).pixel_size_m == 2.5


def test_all_names_resolve():
    for name in SENSOR_NAMES:
        assert get_sensor(name.upper()).name == name


def test_unknown_sensor_rejected():
    with pytest.raises(InvalidInputError, match="sensor"):
        get_sensor("landsat")


def test_bad_pixel_size_rejected():
    with pytest.raises(InvalidInputError, match="pixel_size_m"):
        get_sensor("emit", pixel_size_m=-3)
