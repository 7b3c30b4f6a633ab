"""EMIT L1B RAD NetCDF: a file built like the real product (netCDF4, 1-based GLT) reads correctly; writer round trips."""

from __future__ import annotations

from pathlib import Path

import dask.array as da
import numpy as np
import pytest
from pyproj import CRS

from plumetrace.errors import InvalidFileError, MissingFileError
from plumetrace.georef import orthorectify
from plumetrace.io.emit import is_emit_netcdf, read_emit_l1b, write_emit_netcdf
from plumetrace.scene import make_scene

netCDF4 = pytest.importorskip("netCDF4")

WAVELENGTH_NM = np.array([2100.0, 2200.0, 2300.0, 2400.0])
FWHM_NM = np.array([8.0, 8.1, 8.2, 8.3])
GEOTRANSFORM = [-118.2, 0.000542232520256367, 0.0, 34.1, 0.0, -0.000542232520256367]  # GDAL order


def write_emit_like(
    path: Path,
    radiance: np.ndarray,
    glt_x: np.ndarray,
    glt_y: np.ndarray,
    *,
    wavelengths: np.ndarray | None = WAVELENGTH_NM,
    fwhm: np.ndarray | None = FWHM_NM,
    units: str = "uW/cm^2/SR/nm",
) -> Path:
    """The EMIT L1B RAD layout, written with netCDF4 as the EMIT SDS does (independent of write_emit_netcdf)."""
    lines, samples, bands = radiance.shape
    with netCDF4.Dataset(path, "w") as nc:
        nc.time_coverage_start = "2023-08-01T18:31:26+0000"
        nc.geotransform = np.array(GEOTRANSFORM)
        nc.spatial_ref = CRS.from_epsg(4326).to_wkt()
        for name, size in (
            ("downtrack", lines),
            ("crosstrack", samples),
            ("bands", bands),
            ("ortho_y", glt_x.shape[0]),
            ("ortho_x", glt_x.shape[1]),
        ):
            nc.createDimension(name, size)
        var = nc.createVariable("radiance", "f4", ("downtrack", "crosstrack", "bands"), fill_value=-9999.0)
        var.units = units
        var[:] = radiance
        sbp = nc.createGroup("sensor_band_parameters")
        if wavelengths is not None:
            sbp.createVariable("wavelengths", "f4", ("bands",))[:] = wavelengths
        if fwhm is not None:
            sbp.createVariable("fwhm", "f4", ("bands",))[:] = fwhm
        loc = nc.createGroup("location")
        lat = 34.1 - 0.0005 * np.arange(lines)[:, None] + 0 * np.arange(samples)[None, :]
        lon = -118.2 + 0.0005 * np.arange(samples)[None, :] + 0 * np.arange(lines)[:, None]
        loc.createVariable("lat", "f8", ("downtrack", "crosstrack"))[:] = lat
        loc.createVariable("lon", "f8", ("downtrack", "crosstrack"))[:] = lon
        loc.createVariable("elev", "f8", ("downtrack", "crosstrack"))[:] = np.full((lines, samples), 250.0)
        loc.createVariable("glt_x", "i4", ("ortho_y", "ortho_x"))[:] = glt_x
        loc.createVariable("glt_y", "i4", ("ortho_y", "ortho_x"))[:] = glt_y
    return path


def _radiance(lines: int = 6, samples: int = 4) -> np.ndarray:
    return np.random.default_rng(1).uniform(0.1, 12.0, (lines, samples, 4)).astype(np.float32)


# A 3 x 3 map grid: GLT values are 1-based (crosstrack, downtrack), 0 = no data.
GLT_X = np.array([[1, 2, 0], [4, 3, 2], [0, 1, 1]], dtype=np.int32)
GLT_Y = np.array([[1, 1, 0], [6, 2, 3], [0, 5, 4]], dtype=np.int32)


def test_reads_emit_layout(tmp_path):
    radiance = _radiance()
    radiance[2, 1, :] = -9999.0
    path = write_emit_like(tmp_path / "EMIT_L1B_RAD_001_20230801T183126_2321312_004.nc", radiance, GLT_X, GLT_Y)
    assert is_emit_netcdf(path)
    scene = read_emit_l1b(path)
    assert scene.attrs["sensor"] == "emit"
    assert scene.attrs["acquisition_time"] == "2023-08-01T18:31:26Z"
    assert isinstance(scene["radiance"].data, da.Array)
    values = scene["radiance"].values
    assert np.all(np.isnan(values[2, 1]))
    mask = np.ones(radiance.shape[:2], bool)
    mask[2, 1] = False
    np.testing.assert_array_equal(values[mask], radiance[mask])
    np.testing.assert_allclose(scene["wavelength"].values, WAVELENGTH_NM, rtol=1e-6)
    np.testing.assert_allclose(scene["fwhm"].values, FWHM_NM, rtol=1e-6)
    assert float(scene["elevation_m"].mean()) == 250.0
    # 1-based with 0 = none → 0-based with -1 = none
    np.testing.assert_array_equal(scene["glt_row"].values, [[0, 0, -1], [5, 1, 2], [-1, 4, 3]])
    np.testing.assert_array_equal(scene["glt_col"].values, [[0, 1, -1], [3, 2, 1], [-1, 0, 0]])
    a, b, c, d, e, f = scene.attrs["glt_transform"]
    assert (c, a, b, f, d, e) == tuple(GEOTRANSFORM)
    assert CRS.from_user_input(scene.attrs["glt_crs"]).to_epsg() == 4326


def test_orthorectified_cell_holds_the_raw_pixel_the_glt_names(tmp_path):
    radiance = _radiance()
    scene = read_emit_l1b(write_emit_like(tmp_path / "e.nc", radiance, GLT_X, GLT_Y))
    ortho = orthorectify(scene["radiance"], scene["glt_row"].values, scene["glt_col"].values)
    ortho = ortho.compute()
    np.testing.assert_array_equal(ortho[1, 0], radiance[5, 3])  # glt_y=6, glt_x=4 (1-based)
    np.testing.assert_array_equal(ortho[2, 2], radiance[3, 0])
    assert np.all(np.isnan(ortho[0, 2])) and np.all(np.isnan(ortho[2, 0]))


def test_radiance_units_are_converted(tmp_path):
    radiance = _radiance()
    scene = read_emit_l1b(write_emit_like(tmp_path / "e.nc", radiance, GLT_X, GLT_Y, units="W m-2 sr-1 um-1"))
    np.testing.assert_allclose(scene["radiance"].values, radiance * 0.1, rtol=1e-6)


def test_round_trip_through_writer(tmp_path):
    radiance = _radiance()
    radiance[0, 0, 2] = np.nan
    scene = make_scene(
        radiance,
        WAVELENGTH_NM,
        FWHM_NM,
        sensor="emit",
        acquisition_time="2023-08-01T18:31:26Z",
        crs=CRS.from_epsg(32611).to_wkt(),
        transform=(60.0, 0.0, 400000.0, 0.0, -60.0, 3770000.0),
        solar_zenith_deg=28.5,
    )
    path = write_emit_netcdf(scene, tmp_path / "sim.nc")
    assert is_emit_netcdf(path)
    back = read_emit_l1b(path)
    np.testing.assert_array_equal(back["radiance"].values, radiance)
    np.testing.assert_allclose(back["wavelength"].values, WAVELENGTH_NM, rtol=1e-6)
    assert back.attrs["solar_zenith_deg"] == 28.5
    assert back.attrs["acquisition_time"] == "2023-08-01T18:31:26Z"
    # north-up scene → identity GLT on its own grid, lat/lon of pixel centres
    np.testing.assert_array_equal(back["glt_row"].values, np.repeat(np.arange(6)[:, None], 4, axis=1))
    np.testing.assert_allclose(back.attrs["glt_transform"], (60.0, 0.0, 400000.0, 0.0, -60.0, 3770000.0))
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(32611, 4326, always_xy=True).transform(400030.0, 3769970.0)
    assert back["lon"].values[0, 0] == pytest.approx(lon, abs=1e-9)
    assert back["lat"].values[0, 0] == pytest.approx(lat, abs=1e-9)


def test_obs_sibling_gives_per_pixel_zeniths(tmp_path):
    radiance = _radiance()
    path = write_emit_like(tmp_path / "EMIT_L1B_RAD_001_20230801T183126_2321312_004.nc", radiance, GLT_X, GLT_Y)
    obs = np.zeros((6, 4, 11), dtype=np.float32)
    obs[:, :, 2], obs[:, :, 4] = 9.0, 41.0
    with netCDF4.Dataset(tmp_path / "EMIT_L1B_OBS_001_20230801T183126_2321312_004.nc", "w") as nc:
        for name, size in (("downtrack", 6), ("crosstrack", 4), ("bands", 11)):
            nc.createDimension(name, size)
        nc.createVariable("obs", "f4", ("downtrack", "crosstrack", "bands"), fill_value=-9999.0)[:] = obs
    scene = read_emit_l1b(path)
    assert float(scene["solar_zenith_deg"].mean()) == 41.0
    assert float(scene["view_zenith_deg"].mean()) == 9.0


# ------------------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize("missing", ["wavelengths", "fwhm"])
def test_missing_band_parameters(tmp_path, missing):
    path = write_emit_like(tmp_path / "e.nc", _radiance(), GLT_X, GLT_Y, **{missing: None})
    with pytest.raises(InvalidFileError, match=rf"e\.nc: sensor_band_parameters/{missing}: missing"):
        read_emit_l1b(path)


def test_non_monotonic_wavelengths(tmp_path):
    path = write_emit_like(tmp_path / "e.nc", _radiance(), GLT_X, GLT_Y, wavelengths=WAVELENGTH_NM[[0, 2, 1, 3]])
    with pytest.raises(InvalidFileError, match="wavelengths: not strictly increasing"):
        read_emit_l1b(path)


def test_unknown_units(tmp_path):
    path = write_emit_like(tmp_path / "e.nc", _radiance(), GLT_X, GLT_Y, units="counts")
    with pytest.raises(InvalidFileError, match="radiance units"):
        read_emit_l1b(path)


def test_all_fill(tmp_path):
    path = write_emit_like(tmp_path / "e.nc", np.full((6, 4, 4), -9999.0, np.float32), GLT_X, GLT_Y)
    with pytest.raises(InvalidFileError, match="radiance: every pixel is fill"):
        read_emit_l1b(path)


def test_glt_outside_swath(tmp_path):
    path = write_emit_like(tmp_path / "e.nc", _radiance(), GLT_X * 3, GLT_Y)
    with pytest.raises(InvalidFileError, match="location/glt_x: indices beyond"):
        read_emit_l1b(path)


def test_truncated_file(tmp_path):
    path = write_emit_like(tmp_path / "e.nc", _radiance(), GLT_X, GLT_Y)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(InvalidFileError, match=r"e\.nc: format: not a readable"):
        read_emit_l1b(path)


def test_missing_file(tmp_path):
    with pytest.raises(MissingFileError):
        read_emit_l1b(tmp_path / "none.nc")


def test_rotated_scene_gets_a_north_up_glt(tmp_path):
    radiance = _radiance(lines=10, samples=6)
    transform = (3.86435309248245, 3.479479153066063, 581226.7, 3.479479153066063, -3.86435309248245, 7916192.6)
    scene = make_scene(radiance, WAVELENGTH_NM, FWHM_NM, crs=CRS.from_epsg(32604).to_wkt(), transform=transform)
    back = read_emit_l1b(write_emit_netcdf(scene, tmp_path / "rot.nc"))
    a, b, _, d, e, _ = back.attrs["glt_transform"]
    assert (b, d) == (0.0, 0.0) and a == pytest.approx(5.2) and e == pytest.approx(-5.2)
    rows, cols = back["glt_row"].values, back["glt_col"].values
    valid = rows >= 0
    assert valid.sum() == pytest.approx(60, rel=0.15)  # footprint area of 10 x 6 pixels of 5.2 m
    ortho = orthorectify(back["radiance"].values, rows, cols)
    np.testing.assert_array_equal(ortho[valid], radiance[rows[valid], cols[valid]])
