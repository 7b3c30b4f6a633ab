"""EMIT L2B CH4ENH (COG and NetCDF layouts) read as enhancement maps."""

from __future__ import annotations

import numpy as np
import pytest

from plumetrace.errors import InvalidFileError
from plumetrace.io.cog import read_enhancement
from tests.io.emit_l2b_files import TIME, geographic_grid, write_emit_cog, write_emit_netcdf

SHAPE = (6, 5)


def _map(seed: int = 0) -> np.ndarray:
    values = np.random.default_rng(seed).normal(0.0, 100.0, SHAPE).astype(np.float32)
    values[0, 0] = np.nan
    return values


def test_emit_cog_reads_units_fill_time_and_geographic_grid(tmp_path):
    values = _map()
    transform = geographic_grid(SHAPE)
    path = write_emit_cog(tmp_path, values, transform)
    back = read_enhancement(path)
    np.testing.assert_array_equal(back.enhancement.values, values)  # -9999 is NaN again
    assert back.attrs["sensor"] == "emit" and back.attrs["gas"] == "ch4"
    assert back.attrs["acquisition_time"] == TIME  # from the granule name
    assert back.attrs["pixel_size_m"] == pytest.approx(60.0, rel=1e-3)
    assert "uncertainty" not in back


def test_emit_cog_takes_its_sibling_uncertainty(tmp_path):
    values, sigma = _map(), np.full(SHAPE, 25.0, np.float32)
    transform = geographic_grid(SHAPE)
    path = write_emit_cog(tmp_path, values, transform)
    write_emit_cog(tmp_path, sigma, transform, product="CH4UNCERT")
    back = read_enhancement(path)
    np.testing.assert_array_equal(back.uncertainty.values, sigma)


def test_emit_cog_sibling_on_another_grid_is_refused(tmp_path):
    transform = geographic_grid(SHAPE)
    path = write_emit_cog(tmp_path, _map(), transform)
    write_emit_cog(tmp_path, np.ones((3, 3), np.float32), transform, product="CH4UNCERT")
    with pytest.raises(InvalidFileError, match="CH4UNCERT.*grid"):
        read_enhancement(path)


def test_emit_cog_recognised_by_band_description_alone(tmp_path):
    path = write_emit_cog(tmp_path, _map(), geographic_grid(SHAPE))
    renamed = path.rename(tmp_path / "ch4.tif")
    back = read_enhancement(renamed)
    assert back.attrs["sensor"] == "emit" and "acquisition_time" not in back.attrs


def test_emit_netcdf_is_orthorectified_through_its_glt(tmp_path):
    values, sigma = _map(), np.full(SHAPE, 25.0, np.float32)
    transform = geographic_grid(SHAPE)
    path = write_emit_netcdf(tmp_path / "EMIT_L2B_CH4ENH.nc", values, transform, uncertainty=sigma)
    back = read_enhancement(path)
    np.testing.assert_array_equal(back.enhancement.values, values)  # the flipped swath is put right by the GLT
    np.testing.assert_array_equal(back.uncertainty.values, sigma)
    assert back.attrs["transform"] == pytest.approx(list(transform))
    assert back.attrs["acquisition_time"] == TIME and back.attrs["sensor"] == "emit"
    assert back.encoding["source"] == str(path)


def test_emit_netcdf_without_glt_keeps_the_swath_with_lat_lon(tmp_path):
    values = _map()
    path = write_emit_netcdf(tmp_path / "e.nc", values, geographic_grid(SHAPE), glt=False)
    back = read_enhancement(path)
    np.testing.assert_array_equal(back.enhancement.values, values[::-1])
    assert back.lat.shape == SHAPE and "transform" not in back.attrs


def test_emit_netcdf_units(tmp_path):
    values = _map()
    path = write_emit_netcdf(tmp_path / "ppb.nc", values * 1000, geographic_grid(SHAPE), units="ppb m")
    np.testing.assert_allclose(read_enhancement(path).enhancement.values, values, rtol=1e-5)
    path = write_emit_netcdf(tmp_path / "none.nc", values, geographic_grid(SHAPE), units=None)
    with pytest.raises(InvalidFileError, match="units: not stated"):
        read_enhancement(path)
    np.testing.assert_array_equal(read_enhancement(path, units="ppm m").enhancement.values, values)
    path = write_emit_netcdf(tmp_path / "xch4.nc", values, geographic_grid(SHAPE), units="ppb")
    with pytest.raises(InvalidFileError, match="units: 'ppb'"):
        read_enhancement(path)


def test_other_netcdf_is_refused_naming_the_variable(tmp_path):
    import xarray as xr

    path = tmp_path / "other.nc"
    xr.Dataset({"t2m": (("y", "x"), np.zeros((2, 2)))}).to_netcdf(path, engine="h5netcdf")
    with pytest.raises(InvalidFileError, match="variable ch4_enhancement: missing.*t2m"):
        read_enhancement(path)
