"""Local projection: distances match the WGS84 geodesic near the antimeridian, at high latitude, anywhere."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import LineString, Polygon

from plumetrace.plan.geometry import local_projection, unwrap_longitudes

GEOD = Geod(ellps="WGS84")


def _square(lon, lat, half_deg_lat):
    dlon = half_deg_lat / max(np.cos(np.radians(lat)), 0.02)
    return Polygon(
        [
            (lon - dlon, lat - half_deg_lat),
            (lon + dlon, lat - half_deg_lat),
            (lon + dlon, lat + half_deg_lat),
            (lon - dlon, lat + half_deg_lat),
        ]
    )


def test_unwrap_longitudes_across_antimeridian():
    lon = np.array([179.9, -179.9, 179.8, -179.7])
    assert np.allclose(unwrap_longitudes(lon), [179.9, 180.1, 179.8, 180.3])


def test_centre_of_area_spanning_antimeridian_is_near_180():
    area = Polygon([(179.9, -17.0), (-179.9, -17.0), (-179.9, -16.8), (179.9, -16.8)])
    proj = local_projection(area)
    assert abs(abs(proj.center_lon_deg) - 180.0) < 0.01
    assert proj.crs.to_epsg() in (32701, 32760)  # UTM zone 60S or 1S, not zone 31
    # The local polygon is a small rectangle (about 21 km x 22 km), not a sliver around the globe.
    local = proj.to_local(area)
    minx, miny, maxx, maxy = local.bounds
    assert 20_000 < maxx - minx < 23_000
    assert 21_000 < maxy - miny < 23_000


@pytest.mark.parametrize("lat", [84.5, 88.0, 89.9, -80.5, -87.0])
def test_polar_stereographic_above_84_degrees(lat):
    proj = local_projection(_square(30.0, lat, 0.05))
    assert "+proj=stere" in proj.crs.srs


@settings(max_examples=40, deadline=None)
@given(
    lon=st.floats(-180.0, 180.0),
    lat=st.floats(-89.5, 89.5),
    az=st.floats(0.0, 360.0),
    dist=st.floats(100.0, 30_000.0),
)
def test_local_distances_match_geodesic(lon, lat, az, dist):
    """A 30 km geodesic measured in the local projection is within 0.1 % (UTM / polar stereographic)."""
    lon2, lat2, _ = GEOD.fwd(lon, lat, az, dist)
    line = LineString([(lon, lat), (lon2, lat2)])
    proj = local_projection(line)
    local = proj.to_local(line)
    assert local.length == pytest.approx(dist, rel=1e-3)


@settings(max_examples=25, deadline=None)
@given(lon=st.floats(-180.0, 180.0), lat=st.floats(-89.0, 89.0))
def test_round_trip_lonlat(lon, lat):
    p = _square(lon, lat, 0.02)
    proj = local_projection(p)
    back = proj.to_lonlat(proj.to_local(p))
    a = np.asarray(p.exterior.coords)
    b = np.asarray(back.exterior.coords)
    assert np.allclose(unwrap_longitudes(b[:, 0], reference_deg=lon), a[:, 0], atol=1e-7)
    assert np.allclose(b[:, 1], a[:, 1], atol=1e-7)
