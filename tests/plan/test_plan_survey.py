"""Survey planner: sorties respect endurance and return home; plans that cannot comply are refused."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
from shapely.geometry import LineString, Point, box

sys.path.insert(0, str(Path(__file__).resolve().parent))  # plan_frames: test helper beside this file
from plan_frames import AEQD  # noqa: E402

from plumetrace.errors import InvalidInputError
from plumetrace.plan.airspace import Zone
from plumetrace.plan.survey import plan_survey

FRAME = AEQD(-102.0, 31.8)
AREA = FRAME.to_lonlat(box(0, 0, 6000, 3000))
HOME = FRAME.to_lonlat(Point(-1000, -1000)).coords[0]
BASE = dict(swath_m=500.0, altitude_agl_m=1000.0, speed_m_s=50.0, home_lonlat=HOME)


def _legs_m(plan):
    legs = []
    for waypoints in plan.sorties:
        pts = [HOME] + [(w.lon_deg, w.lat_deg) for w in waypoints] + [HOME]
        legs.extend(FRAME.to_m(LineString([a, b])) for a, b in zip(pts, pts[1:]) if a != b)
    return legs


def test_rectangle_plan_figures():
    plan = plan_survey([AREA], overlap=0.2, **BASE)
    s = plan.summary
    spacing = 400.0
    assert s["n_lines"] == math.ceil(3000 / spacing)
    assert s["coverage_fraction"] == pytest.approx(1.0, abs=1e-6)
    assert s["aoi_area_km2"] == pytest.approx(18.0, rel=2e-3)
    assert s["n_sorties"] == 1
    # path = lines + connections + ferry; at least the line length and the straight ferry out and back
    line_km = s["n_lines"] * 6.0
    assert s["path_length_km"] > line_km
    assert s["flight_time_min"] == pytest.approx(s["path_length_km"] * 1000 / 50.0 / 60.0)
    total = sum(leg.length for leg in _legs_m(plan)) / 1000
    assert total == pytest.approx(s["path_length_km"], rel=5e-3)  # no turn radius: legs are the path


def test_endurance_splits_into_sorties_that_return_home():
    endurance_min = 12.0
    plan = plan_survey([AREA], endurance_min=endurance_min, turn_radius_m=150.0, **BASE)
    assert plan.summary["n_sorties"] > 1
    limit_km = endurance_min * 60 * 50.0 / 1000
    assert all(km <= limit_km + 1e-9 for km in plan.summary["sortie_length_km"])
    # every imaging line is flown exactly once across the sorties
    starts = sum(w.kind == "line_start" for s in plan.sorties for w in s)
    assert starts == plan.summary["n_lines"]


def test_connecting_legs_detour_around_no_fly_zone():
    zone_m = box(2500, -2000, 3500, 5000)  # a wall across the area, longer than it
    plan_zone = Zone("range", "no_fly", FRAME.to_lonlat(zone_m))
    plan = plan_survey([AREA], zones=[plan_zone], buffer_m=100.0, **BASE)
    assert plan.summary["excluded_by"] == ["range"]
    for leg in _legs_m(plan):
        assert leg.distance(zone_m) >= 100.0 * 0.998 - 0.5
    assert plan.summary["coverage_fraction"] >= 0.99


def test_permitted_airspace_is_respected():
    permitted = Zone("corridor", "permitted", FRAME.to_lonlat(box(-2000, -2000, 7000, 4000)))
    plan = plan_survey([AREA], zones=[permitted], **BASE)
    ring = box(-2000, -2000, 7000, 4000).buffer(0.5)
    assert all(ring.covers(leg) for leg in _legs_m(plan))


# ------------------------------------------------------------------------------------ refusals
def test_area_inside_no_fly_zone_is_refused():
    zone = Zone("military", "no_fly", FRAME.to_lonlat(box(-500, -500, 6500, 3500)))
    with pytest.raises(InvalidInputError, match="entirely inside no-fly zone 'military'"):
        plan_survey([AREA], zones=[zone], **BASE)


def test_area_outside_permitted_airspace_is_refused_not_trimmed():
    permitted = Zone("corridor", "permitted", FRAME.to_lonlat(box(-2000, -2000, 4000, 4000)))
    with pytest.raises(InvalidInputError, match="outside permitted airspace 'corridor'"):
        plan_survey([AREA], zones=[permitted], **BASE)


def test_home_inside_no_fly_zone_is_refused():
    zone = Zone("town", "no_fly", FRAME.to_lonlat(Point(-1000, -1000).buffer(300)))
    with pytest.raises(InvalidInputError, match="home: .* inside no-fly zone 'town'"):
        plan_survey([AREA], zones=[zone], **BASE)


@pytest.mark.parametrize(
    "change,field",
    [
        ({"altitude_agl_m": 0.5}, "altitude"),
        ({"altitude_agl_m": 50_000.0}, "altitude"),
        ({"speed_m_s": 0.0}, "speed"),
        ({"speed_m_s": 1000.0}, "speed"),
        ({"endurance_min": 0.0}, "endurance"),
        ({"turn_radius_m": -1.0}, "turn_radius"),
        ({"buffer_m": -5.0}, "buffer"),
    ],
)
def test_out_of_range_inputs(change, field):
    with pytest.raises(InvalidInputError, match=f"^{field}: .* out of range"):
        plan_survey([AREA], **(BASE | change))


def test_swath_larger_than_area_is_refused():
    with pytest.raises(InvalidInputError, match="swath 9000 m is larger than the area"):
        plan_survey([AREA], **(BASE | {"swath_m": 9000.0}))


def test_self_intersecting_area_is_refused():
    from shapely.geometry import Polygon

    bowtie = Polygon([(-102.0, 31.8), (-101.9, 31.9), (-101.9, 31.8), (-102.0, 31.9)])
    with pytest.raises(InvalidInputError, match=r"aoi\[0\]: invalid polygon: Self-intersection"):
        plan_survey([bowtie], **BASE)


def test_line_longer_than_endurance_is_refused():
    with pytest.raises(InvalidInputError, match="endurance_min: line"):
        plan_survey([AREA], **(BASE | {"endurance_min": 2.0}))


def test_projection_is_centred_on_the_area_not_on_home():
    near = plan_survey([AREA], **BASE)
    far_home = FRAME.to_lonlat(Point(-300_000, -200_000)).coords[0]  # ~360 km away, in another UTM zone
    far = plan_survey([AREA], **(BASE | {"home_lonlat": far_home}))
    assert far.summary["projection"] == near.summary["projection"]
    assert far.summary["aoi_area_km2"] == pytest.approx(near.summary["aoi_area_km2"], rel=1e-9)
    assert far.summary["n_lines"] == near.summary["n_lines"]


@pytest.mark.parametrize(
    "home,endurance,match",
    [
        ((11.6, 48.1), None, r"^home: .* km from the area of interest; take off within 500 km"),
        (FRAME.to_lonlat(Point(-30_000, 0)).coords[0], 10.0, r"^home: .* more than the endurance of 10 min"),
    ],
)
def test_home_too_far_is_refused(home, endurance, match):
    with pytest.raises(InvalidInputError, match=match):
        plan_survey([AREA], **(BASE | {"home_lonlat": home, "endurance_min": endurance}))


def test_continent_size_area_is_refused_at_once(tmp_path):
    import time

    from plumetrace.errors import InvalidFileError

    continent = box(-120.0, 30.0, -80.0, 48.0)
    start = time.perf_counter()
    with pytest.raises(InvalidFileError, match=r"aoi.geojson: area: .* km² is more than one plan covers"):
        plan_survey([continent], **(BASE | {"home_lonlat": (-100.0, 39.0)}), aoi_path=tmp_path / "aoi.geojson")
    assert time.perf_counter() - start < 2.0


def test_too_many_lines_is_refused_naming_the_area():
    big = FRAME.to_lonlat(box(0, 0, 40_000, 40_000))
    with pytest.raises(InvalidInputError, match=r"^aoi: .* lines"):
        plan_survey([big], **(BASE | {"swath_m": 20.0}))
