"""metres_per_degree: the WGS84 length of a degree of longitude and latitude (georef)."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from plumetrace.georef import metres_per_degree


@pytest.mark.parametrize("lat", [0.0, 31.9, -45.0, 70.0])
def test_matches_short_geodesics(lat):
    geod = Geod(ellps="WGS84")
    east_geodesic = geod.inv(10.0 - 0.0005, lat, 10.0 + 0.0005, lat)[2] * 1000.0
    north_geodesic = geod.inv(10.0, lat - 0.0005, 10.0, lat + 0.0005)[2] * 1000.0
    east, north = metres_per_degree(lat)
    assert isinstance(east, float) and isinstance(north, float)
    assert east == pytest.approx(east_geodesic, rel=1e-7)
    assert north == pytest.approx(north_geodesic, rel=1e-7)


def test_known_values_and_arrays():
    east, north = metres_per_degree(np.array([0.0, 90.0]))
    assert east[0] == pytest.approx(111_319.49, abs=0.01) and east[1] == pytest.approx(0.0, abs=1e-6)
    assert north[0] == pytest.approx(110_574.28, abs=0.01) and north[1] == pytest.approx(111_693.98, abs=0.01)
