from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

from plumetrace.errors import InvalidInputError
from plumetrace.georef import metres_per_degree
from plumetrace.pixel_geometry import downwind_unit_vector, pixel_geometry
from plumetrace.plumes.source import locate_source

UTM_11N = "EPSG:32611"


@pytest.mark.parametrize("direction_deg", [270.0, 90.0, 0.0, 180.0, 225.0])
def test_source_is_at_the_upwind_end_for_any_wind(direction_deg, analytic_plume):
    pixel = 30.0
    geometry = pixel_geometry(xr.Dataset(attrs={"pixel_size_m": pixel}))
    d_row, d_col = geometry.downwind_rc(direction_deg)
    source = (60.0, 60.0)
    truth = analytic_plume(
        (121, 121),
        source_rc=source,
        rate_kg_h=1000.0,
        wind_speed_m_s=3.0,
        pixel_size_m=pixel,
        downwind_rc=(d_row, d_col),
    )
    rng = np.random.default_rng(int(direction_deg))
    enhancement = truth + rng.normal(0.0, 20.0, truth.shape)
    mask = truth > 100.0
    est = locate_source(enhancement, mask, geometry=geometry, direction_deg=direction_deg)
    error_px = math.hypot(est.row - source[0], est.col - source[1])
    assert error_px <= 2.0
    assert est.sigma_m >= pixel / math.sqrt(12)
    assert est.sigma_m < 10 * pixel


def test_north_up_grid_has_rows_pointing_south():
    geometry = pixel_geometry(xr.Dataset(attrs={"pixel_size_m": 10.0}))
    # a wind from the north blows towards the south = increasing row
    assert geometry.downwind_rc(0.0) == pytest.approx((1.0, 0.0))
    assert geometry.downwind_rc(270.0) == pytest.approx((0.0, 1.0))


def test_rotated_transform_rotates_the_downwind_vector():
    # map grid rotated 90 degrees: columns run south, rows run west
    ds = xr.Dataset(attrs={"crs": UTM_11N, "transform": [0.0, -30.0, 500000.0, -30.0, 0.0, 4000000.0]})
    geometry = pixel_geometry(ds)
    assert geometry.pixel_size_m == pytest.approx(30.0)
    # wind from the north blows south = increasing column here
    assert geometry.downwind_rc(0.0) == pytest.approx((0.0, 1.0))


def test_lonlat_of_a_utm_pixel():
    ds = xr.Dataset(attrs={"crs": UTM_11N, "transform": [30.0, 0.0, 500000.0, 0.0, -30.0, 4000000.0]})
    geometry = pixel_geometry(ds)
    lon, lat = geometry.lonlat(0.0, 0.0)
    # the central meridian of zone 11 is -117; 500015 m easting is 15 m east of it
    assert float(lon) == pytest.approx(-117.0 + 15.0 / metres_per_degree(float(lat))[0], abs=1e-6)
    assert 36.0 < float(lat) < 36.2


def test_geographic_map_pixels_are_measured_on_the_wgs84_ellipsoid():
    ds = xr.Dataset(attrs={"crs": "EPSG:4326", "transform": [0.0005, 0.0, -102.0, 0.0, -0.0005, 32.0]})
    geometry = pixel_geometry(ds)
    east, north = metres_per_degree(32.0)
    np.testing.assert_allclose(geometry.jacobian, [[0.0, 0.0005 * east], [-0.0005 * north, 0.0]], rtol=1e-12)
    assert geometry.pixel_size_m == pytest.approx(0.5 * 0.0005 * (east + north), rel=1e-12)


def test_downwind_unit_vector_convention():
    assert downwind_unit_vector(270.0) == pytest.approx((1.0, 0.0), abs=1e-12)  # westerly wind blows east
    assert downwind_unit_vector(0.0) == pytest.approx((0.0, -1.0), abs=1e-12)  # northerly wind blows south


def test_requires_pixel_size_without_georeferencing():
    with pytest.raises(InvalidInputError, match="pixel size"):
        pixel_geometry(xr.Dataset())


def test_rejects_bad_pixel_size():
    with pytest.raises(InvalidInputError, match="pixel size"):
        pixel_geometry(xr.Dataset(), pixel_size_m=-3.0)


def test_rejects_empty_mask():
    geometry = pixel_geometry(xr.Dataset(attrs={"pixel_size_m": 10.0}))
    with pytest.raises(InvalidInputError, match="empty"):
        locate_source(np.ones((5, 5)), np.zeros((5, 5), bool), geometry=geometry, direction_deg=0.0)
