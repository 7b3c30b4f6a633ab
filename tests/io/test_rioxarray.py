"""Scenes and detection products in rioxarray's conventions, and the COG band metadata GIS tools read.

A Scene or product on a map grid carries ``x``/``y`` and the CF grid mapping ``spatial_ref``, so rioxarray reports
the CRS and transform of its ``crs``/``transform`` attributes and ``rio.to_raster`` writes a georeferenced file; the
COG bands carry units, descriptions and nodata.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import rasterio
import xarray as xr
from pyproj import CRS
from rasterio.transform import Affine

from plumetrace.detect.engine import detect_scene
from plumetrace.detect.result import on_map_grid
from plumetrace.io.cog import BAND_UNITS, BANDS, product_grid, write_enhancement
from plumetrace.io.emit import read_emit_l1b, write_emit_netcdf
from plumetrace.io.envi import read_envi, write_envi
from plumetrace.scene import make_scene, map_coords
from plumetrace.simulate.scene import simulate_scene

rioxarray = pytest.importorskip("rioxarray")

UTM_TRANSFORM = [60.0, 0.0, 753420.0, 0.0, -60.0, 3534480.0]
GEO_TRANSFORM = [0.0006, 0.0, -102.32, 0.0, -0.0005, 31.92]


@pytest.fixture(scope="module")
def simulated():
    scene, _ = simulate_scene(shape=(40, 40), seed=3, rate_kg_h=2000.0)
    return scene.load()


def _with_grid(scene: xr.Dataset, crs: str, transform: list[float]) -> xr.Dataset:
    return make_scene(
        scene["radiance"].values,
        scene["wavelength"].values,
        scene["fwhm"].values,
        sensor=scene.attrs["sensor"],
        solar_zenith_deg=scene.attrs["solar_zenith_deg"],
        crs=crs,
        transform=transform,
        acquisition_time=scene.attrs["acquisition_time"],
    )


@pytest.fixture(scope="module", params=["utm", "epsg4326"])
def gridded(request, simulated):
    if request.param == "utm":
        return _with_grid(simulated, "EPSG:32613", UTM_TRANSFORM)
    return _with_grid(simulated, "EPSG:4326", GEO_TRANSFORM)


def _assert_georef(obj, crs, transform) -> None:
    assert obj.rio.crs is not None and CRS.from_user_input(obj.rio.crs) == CRS.from_user_input(crs)
    assert obj.rio.transform().almost_equals(Affine(*transform[:6]), precision=1e-9)


def test_simulated_scene_has_map_coordinates(simulated):
    assert {"x", "y", "spatial_ref"} <= set(simulated.coords)
    a, _, c, _, e, f = simulated.attrs["transform"]
    assert simulated["x"].values[0] == pytest.approx(c + a / 2) and simulated["y"].values[0] == pytest.approx(f + e / 2)
    grid_mapping = simulated["spatial_ref"].attrs
    assert CRS.from_wkt(grid_mapping["crs_wkt"]) == CRS.from_user_input(simulated.attrs["crs"])
    assert grid_mapping["spatial_ref"] == grid_mapping["crs_wkt"]
    assert Affine.from_gdal(*map(float, grid_mapping["GeoTransform"].split())) == Affine(*simulated.attrs["transform"])
    assert grid_mapping["grid_mapping_name"] == "transverse_mercator"
    _assert_georef(simulated["radiance"].isel(band=0), simulated.attrs["crs"], simulated.attrs["transform"])


def test_scene_band_round_trips_through_rioxarray(gridded, tmp_path):
    band = gridded["radiance"].isel(band=10)
    _assert_georef(band, gridded.attrs["crs"], gridded.attrs["transform"])
    band.rio.to_raster(tmp_path / "band.tif")
    with rasterio.open(tmp_path / "band.tif") as src:
        assert CRS.from_user_input(src.crs) == CRS.from_user_input(gridded.attrs["crs"])
        assert src.transform.almost_equals(Affine(*gridded.attrs["transform"]), precision=1e-9)
    back = rioxarray.open_rasterio(tmp_path / "band.tif").squeeze("band", drop=True)
    _assert_georef(back, gridded.attrs["crs"], gridded.attrs["transform"])
    np.testing.assert_array_equal(back.values, band.values)
    np.testing.assert_allclose(
        back["x"].values, gridded["x"].values, rtol=0, atol=1e-9 * abs(gridded["x"].values).max()
    )


def test_detection_product_round_trips_through_rioxarray(gridded, tmp_path):
    result = detect_scene(gridded)
    for name in ("enhancement", "uncertainty", "albedo", "sensitivity"):
        _assert_georef(result[name], result.attrs["crs"], result.attrs["transform"])
    assert result.attrs["transform"] == gridded.attrs["transform"] and result.attrs["crs"] == gridded.attrs["crs"]
    result["enhancement"].rio.to_raster(tmp_path / "enhancement.tif")
    back = rioxarray.open_rasterio(tmp_path / "enhancement.tif", masked=True).squeeze("band", drop=True)
    _assert_georef(back, result.attrs["crs"], result.attrs["transform"])
    np.testing.assert_array_equal(back.values, result["enhancement"].values)
    # The Dataset as a whole, and a clip to the bounds keeps the grid.
    _assert_georef(result, result.attrs["crs"], result.attrs["transform"])
    clipped = result["enhancement"].rio.clip_box(*result["enhancement"].rio.bounds())
    assert clipped.shape == result["enhancement"].shape
    # The COG plumetrace writes and the product's own coordinates agree.
    write_enhancement(result, tmp_path / "cog.tif")
    cog = rioxarray.open_rasterio(tmp_path / "cog.tif")
    _assert_georef(cog, result.attrs["crs"], result.attrs["transform"])
    np.testing.assert_allclose(cog["x"].values, result["x"].values)
    np.testing.assert_allclose(cog["y"].values, result["y"].values)


def test_rotated_grid_has_no_1d_coordinates_but_the_transform(simulated, tmp_path):
    theta = math.radians(12.0)
    rotated = [60 * math.cos(theta), 60 * math.sin(theta), 753420.0, 60 * math.sin(theta), -60 * math.cos(theta), 3.5e6]
    scene = _with_grid(simulated, "EPSG:32613", rotated)
    assert "spatial_ref" in scene.coords and "x" not in scene.coords and "y" not in scene.coords
    result = detect_scene(scene)
    _assert_georef(result["enhancement"], result.attrs["crs"], rotated)
    result["enhancement"].rio.to_raster(tmp_path / "rotated.tif")
    with rasterio.open(tmp_path / "rotated.tif") as src:
        assert src.transform.almost_equals(Affine(*rotated), precision=1e-9)


def test_envi_reader_adds_map_coordinates(gridded, tmp_path):
    write_envi(gridded, tmp_path / "scene_rdn")
    scene = read_envi(tmp_path / "scene_rdn")
    _assert_georef(scene["radiance"].isel(band=0), scene.attrs["crs"], scene.attrs["transform"])
    np.testing.assert_allclose(scene["x"].values, gridded["x"].values)
    np.testing.assert_allclose(scene["y"].values, gridded["y"].values)
    assert scene["radiance"].encoding["grid_mapping"] == "spatial_ref"


def test_scene_without_map_grid_has_no_spatial_ref(simulated):
    lat, lon = np.meshgrid(np.linspace(32, 31.9, 40), np.linspace(-102.4, -102.3, 40), indexing="ij")
    scene = make_scene(
        simulated["radiance"].values, simulated["wavelength"].values, simulated["fwhm"].values, lat=lat, lon=lon
    )
    assert "spatial_ref" not in scene.coords and "x" not in scene.coords
    result = detect_scene(scene)
    assert "spatial_ref" not in result.coords and {"lat", "lon"} <= set(result.coords)


def test_glt_product_on_map_grid_matches_the_cog(simulated, tmp_path):
    """EMIT layout (raw swath + GLT): the result keeps lat/lon; on_map_grid gives the orthorectified COG's grid."""
    theta = math.radians(20.0)
    rotated = [60 * math.cos(theta), 60 * math.sin(theta), 753420.0, 60 * math.sin(theta), -60 * math.cos(theta), 3.5e6]
    path = write_emit_netcdf(_with_grid(simulated, "EPSG:32613", rotated), tmp_path / "EMIT_L1B_RAD_001_x.nc")
    scene = read_emit_l1b(path)
    assert "glt_row" in scene and "spatial_ref" not in scene.coords and "lat" in scene.coords
    result = detect_scene(scene)
    assert "spatial_ref" not in result.coords and "lat" in result.coords
    mapped = on_map_grid(result)
    _assert_georef(mapped["enhancement"], scene.attrs["glt_crs"], scene.attrs["glt_transform"])
    arrays, crs, transform, ortho = product_grid(result)
    assert ortho
    for name, _ in BANDS:
        np.testing.assert_array_equal(mapped[name].values, arrays[name])
    write_enhancement(result, tmp_path / "enhancement.tif")
    cog = rioxarray.open_rasterio(tmp_path / "enhancement.tif", masked=True)
    _assert_georef(cog, crs, transform)
    np.testing.assert_array_equal(cog.sel(band=1).values, mapped["enhancement"].values)
    np.testing.assert_allclose(cog["x"].values, mapped["x"].values)
    assert (
        on_map_grid(detect_scene(_with_grid(simulated, "EPSG:32613", UTM_TRANSFORM))).attrs.get("orthorectified")
        is None
    )


def test_cog_band_metadata_for_gis(tmp_path):
    rng = np.random.default_rng(0)
    data = {name: (("y", "x"), rng.random((20, 30), dtype=np.float32)) for name, _ in BANDS}
    result = xr.Dataset(data, attrs={"gas": "ch4", "crs": "EPSG:32613", "transform": UTM_TRANSFORM})
    write_enhancement(result, tmp_path / "e.tif")
    with rasterio.open(tmp_path / "e.tif") as src:
        assert src.units == ("ppm m", "ppm m", "1", "1")
        assert src.units == tuple(BAND_UNITS[name] for name, _ in BANDS)
        assert src.descriptions == ("enhancement_ppm_m", "uncertainty_ppm_m", "albedo", "sensitivity")
        assert src.nodata is not None and math.isnan(src.nodata)
        assert all(math.isnan(v) for v in src.nodatavals)
        assert src.scales == (1.0,) * 4 and src.offsets == (0.0,) * 4  # stored unscaled
        assert [src.tags(i)["units"] for i in range(1, 5)] == list(src.units)


def test_map_coords_of_a_geographic_grid():
    coords = map_coords("EPSG:4326", GEO_TRANSFORM, (3, 4))
    assert coords["x"].attrs["units"] == "degrees_east" and coords["y"].attrs["standard_name"] == "latitude"
    np.testing.assert_allclose(coords["x"].values, -102.32 + 0.0006 * (np.arange(4) + 0.5))
    np.testing.assert_allclose(coords["y"].values, 31.92 - 0.0005 * (np.arange(3) + 0.5))
    assert coords["spatial_ref"].attrs["grid_mapping_name"] == "latitude_longitude"
