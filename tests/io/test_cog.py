"""COG writer/reader of detection products: round trip, band layout, GLT orthorectification, errors."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from plumetrace.errors import InvalidFileError, MissingFileError
from plumetrace.io.cog import (
    BANDS,
    read_enhancement,
    write_enhancement,
    write_quicklook,
)


def _result(rows: int = 30, cols: int = 20, **attrs) -> xr.Dataset:
    rng = np.random.default_rng(0)
    data = {name: (("y", "x"), rng.normal(size=(rows, cols)).astype(np.float32)) for name, _ in BANDS}
    data["enhancement"][1][-1, -1] = np.nan
    data["uncertainty"] = (("y", "x"), np.abs(data["uncertainty"][1]))  # a 1σ is never negative
    base = {"gas": "ch4", "method": "mf", "stats": "column", "sensor": "emit", "window_nm": [2122.0, 2488.0]}
    base.update(attrs)
    return xr.Dataset(data, attrs=base)


def test_round_trip_projected(tmp_path):
    result = _result(
        crs="EPSG:32611", transform=[30.0, 0.0, 5e5, 0.0, -30.0, 4e6], acquisition_time="2026-01-02T03:04:05Z"
    )
    info = write_enhancement(result, tmp_path / "e.tif")
    assert info["orthorectified"] is False and info["shape"] == (30, 20)
    back = read_enhancement(tmp_path / "e.tif")
    for name, _ in BANDS:
        np.testing.assert_array_equal(back[name].values, result[name].values)
    assert back.enhancement.attrs["units"] == "ppm m"
    assert back.attrs["gas"] == "ch4" and back.attrs["window_nm"] == [2122.0, 2488.0]
    assert back.attrs["acquisition_time"] == "2026-01-02T03:04:05Z"
    assert back.attrs["pixel_size_m"] == pytest.approx(30.0)


def test_geographic_pixel_size(tmp_path):
    result = _result(crs="EPSG:4326", transform=[0.001, 0.0, -102.0, 0.0, -0.001, 32.0])
    write_enhancement(result, tmp_path / "g.tif")
    # 0.001° at ~32°N on the WGS84 ellipsoid (geodesic lengths): 110.86 m north-south, 94.55 m east-west.
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    east = geod.inv(-102.0005, 32.0, -101.9995, 32.0)[2]
    north = geod.inv(-102.0, 31.9995, -102.0, 32.0005)[2]
    assert read_enhancement(tmp_path / "g.tif").attrs["pixel_size_m"] == pytest.approx(0.5 * (east + north), rel=1e-4)


def test_glt_orthorectification(tmp_path):
    result = _result(rows=4, cols=3)
    glt_row = np.array([[0, 1, -1], [2, 3, 3]], dtype=np.int32)
    glt_col = np.array([[0, 2, -1], [1, 0, 1]], dtype=np.int32)
    result["glt_row"] = (("gy", "gx"), glt_row)
    result["glt_col"] = (("gy", "gx"), glt_col)
    result.attrs.update(glt_crs="EPSG:32611", glt_transform=[60.0, 0.0, 1e5, 0.0, -60.0, 2e6])
    info = write_enhancement(result, tmp_path / "o.tif")
    assert info["orthorectified"] and info["shape"] == (2, 3)
    back = read_enhancement(tmp_path / "o.tif")
    raw = result.albedo.values
    np.testing.assert_array_equal(back.albedo.values[0, :2], [raw[0, 0], raw[1, 2]])
    assert np.isnan(back.albedo.values[0, 2])
    np.testing.assert_array_equal(back.albedo.values[1], [raw[2, 1], raw[3, 0], raw[3, 1]])


def test_quicklook_png(tmp_path):
    path = write_quicklook(_result().enhancement.values, tmp_path / "q.png", title="t")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_quicklook_of_a_large_map_with_nan_is_decimated_not_refused(tmp_path):
    import matplotlib.image

    values = np.random.default_rng(0).normal(0.0, 50.0, (1700, 900)).astype(np.float32)
    values[:100] = np.nan
    path = write_quicklook(values, tmp_path / "q.png")
    height, width = matplotlib.image.imread(path).shape[:2]
    assert 300 < height < 1000 and 300 < width < 1000


def test_missing_and_wrong_file(tmp_path):
    with pytest.raises(MissingFileError):
        read_enhancement(tmp_path / "none.tif")
    bad = tmp_path / "bad.tif"
    bad.write_text("not a tiff")
    with pytest.raises(InvalidFileError):
        read_enhancement(bad)


def _one_band(path, values, *, crs="EPSG:32611", units=None, unit_type=None, description=None, nodata=None, **tags):
    """A plain one-band GeoTIFF (another tool's map) with optional units tag, GDAL unit type and description."""
    import rasterio

    values = np.asarray(values, np.float32)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=values.shape[1],
        height=values.shape[0],
        count=1,
        dtype="float32",
        crs=crs,
        transform=rasterio.transform.Affine(30.0, 0.0, 5e5, 0.0, -30.0, 4e6),
        nodata=nodata,
    ) as dst:
        dst.write(values[None])
        if unit_type:
            dst.units = (unit_type,)
        if description:
            dst.set_band_description(1, description)
        dst.update_tags(**({"units": units} if units else {}), **tags)
    return path


def test_one_band_map_needs_its_units_stated_or_given(tmp_path):
    values = np.arange(6, dtype=np.float32).reshape(2, 3)
    path = _one_band(tmp_path / "plain.tif", values)
    with pytest.raises(InvalidFileError, match="units: not stated .*--units"):
        read_enhancement(path)
    back = read_enhancement(path, units="ppm·m")
    np.testing.assert_array_equal(back.enhancement.values, values)
    assert list(back.data_vars) == ["enhancement"] and back.attrs["units"] == "ppm m"
    assert back.attrs["pixel_size_m"] == pytest.approx(30.0) and "crs" in back.attrs


def test_one_band_units_from_gdal_unit_type_or_tags(tmp_path):
    values = np.arange(6, dtype=np.float32).reshape(2, 3)
    for name, kwargs in {"type.tif": {"unit_type": "ppm m"}, "tag.tif": {"units": "ppmm"}}.items():
        back = read_enhancement(_one_band(tmp_path / name, values, **kwargs))
        np.testing.assert_array_equal(back.enhancement.values, values)


def test_file_stating_other_units_than_given_is_refused(tmp_path):
    path = _one_band(tmp_path / "ppb.tif", np.ones((2, 3)), unit_type="ppb m")
    with pytest.raises(InvalidFileError, match="units: the file states 'ppb m'.*'ppm m' was given"):
        read_enhancement(path, units="ppm m")


@pytest.mark.parametrize(
    "units, factor",
    [("ppb m", 1e-3), ("ppb·m", 1e-3), ("mol m-2", 1 / (1e-6 * 42.2900)), ("mol/m²", 1 / (1e-6 * 42.2900))],
)
def test_column_units_are_converted_to_ppm_m(tmp_path, units, factor):
    from plumetrace.io.map_units import AIR_MOLAR_DENSITY_MOL_M3
    from plumetrace.plumes.ime import AIR_MOLAR_DENSITY_MOL_M3 as IME_AIR

    assert AIR_MOLAR_DENSITY_MOL_M3 == IME_AIR  # the mass of a map in mol/m² is the mass its column holds
    values = np.full((2, 3), 2.0, np.float32)
    back = read_enhancement(_one_band(tmp_path / "c.tif", values, units=units))
    np.testing.assert_allclose(back.enhancement.values, 2.0 * factor, rtol=1e-4)
    assert back.attrs["source_units"] == units and back.enhancement.attrs["units"] == "ppm m"


def test_several_bands_of_an_unknown_product_are_refused(tmp_path):
    import rasterio

    path = tmp_path / "rgb.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=2,
        height=2,
        count=3,
        dtype="float32",
        crs="EPSG:4326",
        transform=rasterio.transform.Affine(1, 0, 0, 0, -1, 2),
    ) as dst:
        dst.write(np.zeros((3, 2, 2), np.float32))
    with pytest.raises(InvalidFileError, match="band enhancement_ppm_m: missing .*3 band.*single band"):
        read_enhancement(path, units="ppm m")


def _product(tmp_path, name="p.tif", *, tags=None, edit=None, nodata=None):
    """The detection product of :func:`_result` as a plain (editable) GeoTIFF, with ``tags`` and ``edit(bands)``."""
    import rasterio

    write_enhancement(_result(crs="EPSG:32611", transform=[30.0, 0.0, 5e5, 0.0, -30.0, 4e6]), tmp_path / "cog.tif")
    with rasterio.open(tmp_path / "cog.tif") as src:
        profile, bands, all_tags, names = src.profile, src.read(), src.tags(), src.descriptions
    if edit is not None:
        edit(bands)
    profile.update(driver="GTiff", nodata=nodata if nodata is not None else profile["nodata"])
    with rasterio.open(tmp_path / name, "w", **profile) as dst:
        dst.write(bands)
        for index, description in enumerate(names, 1):
            dst.set_band_description(index, description)
        dst.update_tags(**{**all_tags, **(tags or {})})
    return tmp_path / name


@pytest.mark.parametrize("units", ["ppm m", "ppm·m", "PPM*M", "ppm-m", "ppmm"])
def test_ppm_m_spellings_are_accepted(tmp_path, units):
    path = _product(tmp_path, tags={"units": units})
    assert read_enhancement(path).encoding["source"] == str(path)


@pytest.mark.parametrize("units", ["kg", "ppm", "ppb", "kg m-2", "ppm/m"])
def test_other_units_are_refused(tmp_path, units):
    path = _product(tmp_path, tags={"units": units})
    with pytest.raises(InvalidFileError, match="units"):
        read_enhancement(path)


def test_negative_uncertainty_and_inf_are_refused_nodata_becomes_nan(tmp_path):
    def negative_sigma(bands):
        bands[1, 0, 0] = -1.0

    def infinite(bands):
        bands[0, 1, 1] = np.inf

    def nodata_row(bands):
        bands[0, 0, :] = -9999.0

    with pytest.raises(InvalidFileError, match="uncertainty_ppm_m: negative"):
        read_enhancement(_product(tmp_path, "s.tif", edit=negative_sigma))
    with pytest.raises(InvalidFileError, match="enhancement_ppm_m: infinite value at row 1, col 1"):
        read_enhancement(_product(tmp_path, "i.tif", edit=infinite))
    back = read_enhancement(_product(tmp_path, "n.tif", edit=nodata_row, nodata=-9999.0))
    assert np.isnan(back.enhancement.values[0]).all() and np.isfinite(back.enhancement.values[1:-1]).all()


def test_declared_size_is_checked_against_memory_before_reading(tmp_path, monkeypatch):
    from plumetrace.io import cog

    path = _product(tmp_path)
    monkeypatch.setattr(cog, "_available_memory_bytes", lambda: 1000)
    with pytest.raises(InvalidFileError, match="width/height: declares 20 x 30 pixels"):
        read_enhancement(path)


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_only_the_enhancement_band_is_required(tmp_path):
    import rasterio

    path = tmp_path / "one.tif"
    with rasterio.open(path, "w", driver="GTiff", width=3, height=2, count=1, dtype="float32") as dst:
        dst.write(np.arange(6, dtype=np.float32).reshape(1, 2, 3))
        dst.set_band_description(1, "enhancement_ppm_m")
        dst.update_tags(units="ppm m")
    back = read_enhancement(path)
    assert list(back.data_vars) == ["enhancement"]


@pytest.mark.parametrize(
    "content, problem", [(b"", "empty"), (b"\x89PNG\r\n\x1a\n0000", "PNG image"), (b"x,y\n1,2\n", "not a GeoTIFF")]
)
def test_files_that_are_not_geotiffs(tmp_path, content, problem):
    path = tmp_path / "x.tif"
    path.write_bytes(content)
    with pytest.raises(InvalidFileError, match=problem):
        read_enhancement(path)
    with pytest.raises(InvalidFileError, match="directory"):
        read_enhancement(tmp_path)
