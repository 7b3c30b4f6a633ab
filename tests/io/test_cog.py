"""COG writer/reader of detection products: round trip, band layout, GLT orthorectification, errors."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from plumetrace.errors import InvalidFileError, MissingFileError
from plumetrace.io.cog import BANDS, read_enhancement, write_enhancement, write_quicklook


def _result(rows: int = 30, cols: int = 20, **attrs) -> xr.Dataset:
    rng = np.random.default_rng(0)
    data = {name: (("y", "x"), rng.normal(size=(rows, cols)).astype(np.float32)) for name, _ in BANDS}
    data["enhancement"][1][-1, -1] = np.nan
    base = {"gas": "ch4", "method": "mf", "stats": "column", "sensor": "emit", "window_nm": [2122.0, 2488.0]}
    base.update(attrs)
    return xr.Dataset(data, attrs=base)


def test_round_trip_projected(tmp_path):
    result = _result(crs="EPSG:32611", transform=[30.0, 0.0, 5e5, 0.0, -30.0, 4e6], acquisition_time="2026-01-02T03:04:05Z")
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
    # 0.001° at ~32°N: 111.3 m north-south, 94.4 m east-west.
    assert read_enhancement(tmp_path / "g.tif").attrs["pixel_size_m"] == pytest.approx(0.5 * (94.4 + 111.3), rel=0.01)


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


def test_missing_and_wrong_file(tmp_path):
    with pytest.raises(MissingFileError):
        read_enhancement(tmp_path / "none.tif")
    bad = tmp_path / "bad.tif"
    bad.write_text("not a tiff")
    with pytest.raises(InvalidFileError):
        read_enhancement(bad)


def test_file_without_product_bands(tmp_path):
    import rasterio

    path = tmp_path / "plain.tif"
    with rasterio.open(path, "w", driver="GTiff", width=2, height=2, count=1, dtype="float32", crs="EPSG:4326",
                       transform=rasterio.transform.from_origin(0, 2, 1, 1)) as dst:
        dst.write(np.zeros((1, 2, 2), np.float32))
    with pytest.raises(InvalidFileError, match="band description"):
        read_enhancement(path)
