"""Exports: the QGC .plan parses back to the same waypoints in [lat, lon] order; other formats agree;
--check finds the legs that enter a zone."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, box

sys.path.insert(0, str(Path(__file__).resolve().parent))  # plan_frames: test helper beside this file
from plan_frames import AEQD  # noqa: E402

from plumetrace.errors import InvalidFileError
from plumetrace.io.vector import read_features, write_geojson
from plumetrace.plan.airspace import Zone
from plumetrace.plan.check import check_route
from plumetrace.plan.export import (
    MAV_CMD_NAV_RETURN_TO_LAUNCH,
    MAV_CMD_NAV_TAKEOFF,
    MAV_CMD_NAV_WAYPOINT,
    read_qgc_plan,
    write_plan_outputs,
    write_qgc_plan,
)
from plumetrace.plan.survey import FlightPlan, PlanWaypoint, plan_survey

FRAME = AEQD(-102.0, 31.8)


def _plan(waypoints, home=(-102.0, 31.8), zones=()):
    return FlightPlan(
        mode="survey",
        home_lonlat=home,
        sorties=[waypoints],
        lines_lonlat=[],
        zones=list(zones),
        no_fly_buffered_lonlat=[(z.name, z.polygon_lonlat) for z in zones if z.kind == "no_fly"],
        aoi_lonlat=[],
        cruise_altitude_m=100.0,
        speed_m_s=20.0,
        summary={"mode": "survey"},
    )


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-179.999, 179.999), st.floats(-89.9, 89.9), st.floats(5.0, 5000.0)),
        min_size=1,
        max_size=30,
    )
)
def test_qgc_plan_parses_back_to_the_same_waypoints(tmp_path_factory, points):
    wps = [PlanWaypoint(lon, lat, alt, "line_start") for lon, lat, alt in points]
    path = write_qgc_plan(tmp_path_factory.mktemp("p") / "s.plan", _plan(wps), 0)
    back = read_qgc_plan(path)
    assert back["home"] == (31.8, -102.0)  # [lat, lon]
    assert back["returns_home"]
    takeoff, *rest = back["waypoints"]
    assert takeoff[3] == MAV_CMD_NAV_TAKEOFF
    assert [(lat, lon, alt) for lat, lon, alt, _ in rest] == [(lat, lon, alt) for lon, lat, alt in points]
    assert all(cmd == MAV_CMD_NAV_WAYPOINT for *_, cmd in rest)


def test_qgc_plan_structure_matches_the_documented_format(tmp_path):
    zones = [
        Zone("ok", "permitted", box(-102.1, 31.7, -101.9, 31.9)),
        Zone("no", "no_fly", box(-102.0, 31.8, -101.99, 31.81)),
    ]
    path = write_qgc_plan(
        tmp_path / "s.plan", _plan([PlanWaypoint(-101.95, 31.85, 120.0, "line_start")], zones=zones), 0
    )
    doc = json.loads(path.read_text())
    assert doc["fileType"] == "Plan" and doc["version"] == 1 and doc["groundStation"] == "QGroundControl"
    mission = doc["mission"]
    assert mission["version"] == 2 and mission["plannedHomePosition"][:2] == [31.8, -102.0]
    items = mission["items"]
    assert [i["command"] for i in items] == [MAV_CMD_NAV_TAKEOFF, MAV_CMD_NAV_WAYPOINT, MAV_CMD_NAV_RETURN_TO_LAUNCH]
    assert items[1]["params"][4:] == [31.85, -101.95, 120.0] and items[1]["frame"] == 3
    assert [i["doJumpId"] for i in items] == [1, 2, 3]
    fence = doc["geoFence"]
    assert fence["version"] == 2
    assert [p["inclusion"] for p in fence["polygons"]] == [True, False]
    assert fence["polygons"][1]["polygon"][0] == [31.8, -101.99]  # [lat, lon] of box's first corner; not closed
    assert len(fence["polygons"][1]["polygon"]) == 4


def test_all_outputs_written_and_consistent(tmp_path):
    area = FRAME.to_lonlat(box(0, 0, 3000, 1500))
    home = FRAME.to_lonlat(Point(-500, -500)).coords[0]
    plan = plan_survey([area], swath_m=400, altitude_agl_m=800, speed_m_s=40, home_lonlat=home, endurance_min=8)
    files = {p.name for p in write_plan_outputs(tmp_path, plan)}
    n = plan.summary["n_sorties"]
    assert {f"sortie_{i + 1:02d}.plan" for i in range(n)} <= files
    assert {"plan.geojson", "plan.kml", "waypoints.csv", "report.json", "plan.png"} <= files
    with (tmp_path / "waypoints.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == sum(len(s) + 2 for s in plan.sorties)
    for s in range(n):
        qgc = read_qgc_plan(tmp_path / f"sortie_{s + 1:02d}.plan")["waypoints"][1:]
        csv_rows = [r for r in rows if int(r["sortie"]) == s + 1 and r["kind"] != "home"]
        got = [v for r in csv_rows for v in (float(r["lat"]), float(r["lon"]))]
        assert got == pytest.approx([v for a, b, *_ in qgc for v in (a, b)], abs=1e-9)
    roles = [p.get("role") for _, p in read_features(tmp_path / "plan.kml")]
    assert roles.count("route") == n
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["n_sorties"] == n and report["legs_in_no_fly"] == 0


def test_check_finds_legs_entering_a_zone(tmp_path):
    route = LineString([(-102.02, 31.8), (-101.98, 31.8), (-101.98, 31.82)])
    path = write_geojson(tmp_path / "route.geojson", [(route, {"name": "r"})])
    zone = Zone("tank farm", "no_fly", Point(-102.0, 31.8).buffer(0.002))
    result = check_route(path, zones=[zone])
    assert not result.complies
    (v,) = result.violations
    assert v.leg_index == 0 and v.zone == "tank farm"
    # ~ 2 × 0.002° of longitude at 31.8° N = 2 × 189 m
    assert v.length_m == pytest.approx(2 * 0.002 * 111_320 * 0.8499, rel=0.02)
    # the second leg passes 0.02° of longitude (≈ 1.9 km) east of the zone: a 500 m buffer misses it,
    # a 2.5 km buffer catches it
    assert len(check_route(path, zones=[zone], buffer_m=500).violations) == 1
    assert check_route(path, zones=[zone], buffer_m=2500).violations[-1].leg_index == 1


def test_check_of_plan_uses_its_own_geofence(tmp_path):
    zone = Zone("no", "no_fly", box(-101.99, 31.79, -101.97, 31.81))
    wps = [PlanWaypoint(-101.95, 31.8, 100.0, "line_start")]  # home → here crosses the zone
    path = write_qgc_plan(tmp_path / "s.plan", _plan(wps, zones=[zone]), 0)
    result = check_route(path)
    assert {v.leg_index for v in result.violations} == {0, 1}  # out and back (take-off is at home)
    assert all(v.zone == "geofence[0]" for v in result.violations)


def test_bad_plan_files(tmp_path):
    p = tmp_path / "x.plan"
    p.write_text(json.dumps({"fileType": "Mission"}))
    with pytest.raises(InvalidFileError, match="fileType"):
        read_qgc_plan(p)
    p.write_text(
        json.dumps(
            {
                "fileType": "Plan",
                "mission": {"items": [{"command": 16, "params": [0]}], "plannedHomePosition": [1, 2, 0]},
            }
        )
    )
    with pytest.raises(InvalidFileError, match=r"mission.items\[0\]"):
        read_qgc_plan(p)
