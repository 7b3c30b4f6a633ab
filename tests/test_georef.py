"""Georeferencing: ENVI map info ⇄ affine (against GDAL's published numbers), CRS, GLT orthorectification."""

from __future__ import annotations

import math

import dask.array as da
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS

from plumetrace.errors import InvalidFileError, InvalidInputError
from plumetrace.georef import (
    affine_from_map_info,
    crs_from_map_info,
    glt_from_envi,
    glt_to_envi,
    map_info_from_affine,
    orthorectify,
    parse_map_info,
    rotation_deg,
    scene_map_grid,
)
from plumetrace.scene import make_scene


def test_rotated_map_info_matches_gdal():
    # ORNL DAAC AVIRIS-NG tutorial: this map info gives GDAL GeoTransform (c, a, b, f, d, e) below.
    info = "{UTM, 1, 1, 581226.666764, 7916192.56364, 5.2, 5.2, 4, North,WGS-84, rotation=42}"
    a, b, c, d, e, f = affine_from_map_info(info)
    gdal = (581226.666764, 3.86435309248245, 3.479479153066063, 7916192.56364, 3.479479153066063, -3.86435309248245)
    np.testing.assert_allclose((c, a, b, f, d, e), gdal, rtol=1e-12)
    assert rotation_deg((a, b, c, d, e, f)) == pytest.approx(42.0)
    # each axis keeps its 5.2 m ground size
    assert math.hypot(a, d) == pytest.approx(5.2) and math.hypot(b, e) == pytest.approx(5.2)


def test_tie_point_at_pixel_centre():
    # tie point (1.5, 1.5) is the centre of the first pixel: the corner lies half a pixel up-left
    a, b, c, d, e, f = affine_from_map_info("{UTM, 1.5, 1.5, 500002.5, 4000002.5, 5, 5, 11, North, WGS-84}")
    assert (a, b, d, e) == (5.0, 0.0, 0.0, -5.0)
    assert (c, f) == (500000.0, 4000005.0)


def test_parse_map_info_fields():
    info = parse_map_info("{UTM, 1, 1, 1.0, 2.0, 3.0, 4.0, 33, South, WGS-84, units=Meters, rotation=-12.5}")
    assert info["zone"] == 33 and info["hemisphere"] == "South" and info["datum"] == "WGS-84"
    assert info["units"] == "Meters" and info["rotation_deg"] == -12.5
    assert info["pixel_x"] == 3.0 and info["pixel_y"] == 4.0


@pytest.mark.parametrize(
    ("map_info", "epsg"),
    [
        ("{UTM, 1, 1, 0, 0, 5, 5, 11, North, WGS-84}", 32611),
        ("{UTM, 1, 1, 0, 0, 5, 5, 19, South, WGS-84}", 32719),
        ("{Geographic Lat/Lon, 1, 1, -118, 34, 0.001, 0.001, WGS-84, units=Degrees}", 4326),
    ],
)
def test_crs_from_map_info(map_info, epsg):
    assert CRS.from_user_input(crs_from_map_info(parse_map_info(map_info))).to_epsg() == epsg


@settings(max_examples=40, deadline=None)
@given(
    theta=st.floats(-179.0, 179.0),
    size_x=st.floats(0.5, 100.0),
    size_y=st.floats(0.5, 100.0),
    easting=st.floats(1e5, 9e5),
    northing=st.floats(1e6, 9e6),
)
def test_map_info_round_trip(theta, size_x, size_y, easting, northing):
    info = f"{{UTM, 1, 1, {easting!r}, {northing!r}, {size_x!r}, {size_y!r}, 11, North, WGS-84, rotation={theta!r}}}"
    transform = affine_from_map_info(info)
    again = affine_from_map_info(map_info_from_affine(transform, CRS.from_epsg(32611).to_wkt()))
    np.testing.assert_allclose(again, transform, rtol=1e-9, atol=1e-6)


def test_shear_cannot_be_written():
    with pytest.raises(InvalidInputError, match="transform: shear"):
        map_info_from_affine((5.0, 1.0, 0.0, 0.0, -5.0, 0.0), CRS.from_epsg(32611).to_wkt())


def test_bad_map_info():
    with pytest.raises(InvalidFileError, match="a.hdr: map info: needs at least 7 items"):
        parse_map_info("{UTM, 1, 1, 5}", source="a.hdr")
    with pytest.raises(InvalidFileError, match="map info: pixel size must be positive"):
        parse_map_info("{UTM, 1, 1, 0, 0, -5, 5, 11, North}")


def test_glt_conventions():
    sample = np.array([[1, 0, -3]])
    line = np.array([[2, 0, 4]])
    row, col = glt_from_envi(sample, line)
    np.testing.assert_array_equal(row, [[1, -1, 3]])  # negative = filled neighbour, |v| - 1
    np.testing.assert_array_equal(col, [[0, -1, 2]])
    back_sample, back_line = glt_to_envi(row, col)
    np.testing.assert_array_equal(back_sample, [[1, 0, 3]])
    np.testing.assert_array_equal(back_line, [[2, 0, 4]])


GLT_ROW = np.array([[0, 2, -1], [1, 1, 0]])
GLT_COL = np.array([[1, 0, -1], [1, 2, 0]])


def test_orthorectify_numpy_2d_and_3d():
    raw = np.arange(12, dtype=np.float32).reshape(3, 4)  # value = 4 * row + col
    out = orthorectify(raw, GLT_ROW, GLT_COL)
    np.testing.assert_array_equal(out, [[1, 8, np.nan], [5, 6, 0]])
    cube = np.stack([raw, -raw], axis=2)
    out3 = orthorectify(cube, GLT_ROW, GLT_COL, fill=-1.0)
    assert out3.shape == (2, 3, 2)
    np.testing.assert_array_equal(out3[..., 1], [[-1, -8, -1], [-5, -6, -0]])


def test_orthorectify_dask_is_lazy_and_equal():
    raw = np.random.default_rng(0).normal(size=(3, 4, 5))
    lazy = orthorectify(da.from_array(raw, chunks=(1, 4, 5)), GLT_ROW, GLT_COL)
    assert isinstance(lazy, da.Array)
    np.testing.assert_array_equal(lazy.compute(), orthorectify(raw, GLT_ROW, GLT_COL))


def test_orthorectify_rejects_bad_glt():
    raw = np.zeros((3, 4))
    with pytest.raises(InvalidInputError, match="glt: indices exceed"):
        orthorectify(raw, GLT_ROW + 5, GLT_COL)
    with pytest.raises(InvalidInputError, match="glt: glt_row"):
        orthorectify(raw, GLT_ROW, GLT_COL[:1])
    with pytest.raises(InvalidInputError, match="array: must be"):
        orthorectify(np.zeros(3), GLT_ROW, GLT_COL)


def test_scene_map_grid():
    radiance = np.ones((3, 4, 2), np.float32)
    plain = make_scene(radiance, [2100.0, 2200.0], [5.0, 5.0])
    assert scene_map_grid(plain) is None
    utm = CRS.from_epsg(32611).to_wkt()
    raw = make_scene(radiance, [2100.0, 2200.0], [5.0, 5.0], crs=utm, transform=(5, 0, 1e5, 0, -5, 4e6))
    assert scene_map_grid(raw) == (utm, (5.0, 0.0, 1e5, 0.0, -5.0, 4e6), (3, 4))
    raw["glt_row"] = (("gy", "gx"), GLT_ROW)
    raw["glt_col"] = (("gy", "gx"), GLT_COL)
    raw.attrs.update(glt_crs="EPSG:4326", glt_transform=[0.001, 0, -118, 0, -0.001, 34])
    assert scene_map_grid(raw) == ("EPSG:4326", (0.001, 0.0, -118.0, 0.0, -0.001, 34.0), (2, 3))


@pytest.mark.parametrize("theta_deg", [0.0, 30.0, 42.0, -75.0])
def test_glt_from_affine_points_each_cell_at_the_pixel_under_it(theta_deg):
    from plumetrace.georef import glt_from_affine

    info = f"{{UTM, 1, 1, 500000.0, 4000000.0, 5.0, 5.0, 11, North, WGS-84, rotation={theta_deg}}}"
    transform = affine_from_map_info(info)
    lines, samples = 12, 7
    glt_row, glt_col, (sx, _, x0, _, sy, y1) = glt_from_affine(transform, (lines, samples))
    assert sx == pytest.approx(5.0) and sy == pytest.approx(-5.0)
    valid = glt_row >= 0
    # every raw pixel is hit by some map cell of the same size, and the footprint area is conserved (~84 cells)
    assert len(set(zip(glt_row[valid], glt_col[valid]))) >= 0.7 * lines * samples
    assert valid.sum() == pytest.approx(lines * samples, rel=0.15)
    # forward check: the centre of each valid map cell lies inside the raw pixel it names
    a, b, c, d, e, f = transform
    gy, gx = np.nonzero(valid)
    x, y = x0 + (gx + 0.5) * sx, y1 + (gy + 0.5) * sy
    r, q = glt_row[valid] + 0.5, glt_col[valid] + 0.5  # raw pixel centre
    px, py = a * q + b * r + c, d * q + e * r + f
    assert np.all(np.hypot(x - px, y - py) <= 5.0 * math.sqrt(2) / 2 + 1e-6)
