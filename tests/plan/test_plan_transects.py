"""Downwind transects: positions checked against WGS84 geodesics from the source."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from plumetrace.errors import InvalidInputError
from plumetrace.plan.survey import plan_transects
from plumetrace.plan.transects import default_transect_width_m, downwind_transects

GEOD = Geod(ellps="WGS84")


@pytest.mark.parametrize("wind_from", [0.0, 90.0, 225.0, 300.0])
def test_transects_are_crosswind_at_the_given_distances(wind_from):
    src = (-102.1, 31.8)
    lines = downwind_transects(src, wind_from_deg=wind_from, distances_m=[200, 800], altitudes_m=[50], width_m=400)
    assert [d for _, d, _ in lines] == [200, 800]
    downwind = (wind_from + 180.0) % 360.0
    for line, dist, _ in lines:
        (lon_a, lat_a), (lon_b, lat_b) = line.coords
        mid_lon, mid_lat = (lon_a + lon_b) / 2, (lat_a + lat_b) / 2
        az, _, d = GEOD.inv(src[0], src[1], mid_lon, mid_lat)
        assert d == pytest.approx(dist, rel=2e-3)
        assert ((az - downwind + 540) % 360) - 180 == pytest.approx(0.0, abs=0.2)
        az_line, _, length = GEOD.inv(lon_a, lat_a, lon_b, lat_b)
        assert length == pytest.approx(400.0, rel=1e-3)
        # perpendicular to the wind
        assert abs(np.cos(np.radians(az_line - downwind))) < 5e-3


def test_curtain_alternates_direction_and_altitude():
    lines = downwind_transects((10.0, 50.0), wind_from_deg=270, distances_m=[500], altitudes_m=[20, 40, 60])
    assert [a for _, _, a in lines] == [20, 40, 60]
    first, second, _ = (ln for ln, _, _ in lines)
    assert first.coords[0] == pytest.approx(second.coords[-1])
    assert first.length > 0
    width = GEOD.inv(*first.coords[0], *first.coords[1])[2]
    assert width == pytest.approx(default_transect_width_m(500), rel=1e-6)


def test_transect_through_no_fly_zone_is_refused_not_trimmed():
    from shapely.geometry import Point

    from plumetrace.plan.airspace import Zone

    # wind from the west: the transect 500 m downwind runs north-south through (lon0 + ~0.007, lat0)
    src = (10.0, 50.0)
    lon_c, lat_c, _ = GEOD.fwd(*src, 90.0, 500.0)
    zone = Zone("school", "no_fly", Point(lon_c, lat_c).buffer(0.0005))
    with pytest.raises(InvalidInputError, match="school"):
        plan_transects(
            src,
            wind_from_deg=270,
            distances_m=[500],
            altitudes_m=[50],
            speed_m_s=10,
            home_lonlat=(9.99, 50.0),
            zones=[zone],
        )


def test_transect_plan_returns_home():
    plan = plan_transects(
        (10.0, 50.0),
        wind_from_deg=270,
        distances_m=[200, 500],
        altitudes_m=[50],
        speed_m_s=10,
        home_lonlat=(9.99, 50.0),
    )
    assert plan.summary["n_sorties"] == 1
    assert [w.kind for w in plan.sorties[0]] == ["line_start", "line_end", "line_start", "line_end"]
    assert plan.summary["mode"] == "transects"


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"distances_m": []}, "distances"),
        ({"distances_m": [-5]}, "distances"),
        ({"altitudes_m": []}, "altitudes"),
        ({"wind_from_deg": float("nan")}, "wind_dir"),
        ({"width_m": 0.0}, "transect_width_m"),
    ],
)
def test_bad_transect_inputs(kwargs, field):
    args = {"wind_from_deg": 270.0, "distances_m": [100], "altitudes_m": [30]} | kwargs
    with pytest.raises(InvalidInputError, match=field):
        downwind_transects((10.0, 50.0), **args)
