"""Flight-planning speed and coverage on example areas.

For each area: time to plan (median of repeats) and to write every export, coverage of the coverable
area, lines, path length, flight time, sorties, and the number of legs that come closer to a no-fly zone
than the buffer, counted independently in an azimuthal-equidistant frame around the area. A second plan
with north-south lines (heading 0°) shows what the fewest-turns heading saves.

    python -m benchmarks.plan_speed [--quick] [--json OUT]
"""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pyproj import CRS, Transformer
from shapely import transform
from shapely.geometry import LineString, Point, Polygon, box
from shapely.geometry.base import BaseGeometry

from plumetrace.plan.airspace import Zone
from plumetrace.plan.export import write_plan_outputs
from plumetrace.plan.sensors import sensor_optics
from plumetrace.plan.survey import plan_survey

from ._common import make_parser, print_table, write_json


class Frame:
    """Azimuthal equidistant frame centred on (lon, lat): build areas in metres, check distances in metres."""

    def __init__(self, lon: float, lat: float):
        crs = CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m")
        self.fwd = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        self.inv = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)

    def ll(self, g: BaseGeometry) -> BaseGeometry:
        return transform(g, lambda c: np.column_stack(self.inv.transform(c[:, 0], c[:, 1])))

    def m(self, g: BaseGeometry) -> BaseGeometry:
        return transform(g, lambda c: np.column_stack(self.fwd.transform(c[:, 0], c[:, 1])))


@dataclass
class Case:
    name: str
    lon: float
    lat: float
    area_m: Polygon
    zones_m: list[Polygon] = field(default_factory=list)
    home_m: tuple[float, float] = (-2000.0, -2000.0)
    altitude_m: float = 1000.0
    buffer_m: float = 300.0
    endurance_min: float | None = 90.0
    turn_radius_m: float = 500.0


def _star(cx: float, cy: float, radii: list[float]) -> Polygon:
    ang = np.linspace(0, 2 * np.pi, len(radii), endpoint=False)
    return Polygon(np.column_stack([cx + np.cos(ang) * radii, cy + np.sin(ang) * radii]))


def cases(quick: bool) -> list[Case]:
    rng = np.random.default_rng(6)
    field_holes = Polygon(
        _star(10_000, 6_000, list(rng.uniform(6_000, 11_000, 14))).exterior.coords,
        [box(6_000, 5_000, 7_000, 6_000).exterior.coords, _star(13_000, 7_000, [900] * 8).exterior.coords],
    )
    out = [
        Case("rectangle 10 x 6 km", -102.0, 31.8, box(0, 0, 10_000, 6_000)),
        Case(
            "field 20 km, 2 holes, 3 no-fly",
            -102.0,
            31.8,
            field_holes,
            [Point(4_000, 4_000).buffer(800), box(11_000, 1_000, 12_500, 2_000), Point(15_000, 10_000).buffer(600)],
            home_m=(-3_000.0, -3_000.0),
            endurance_min=60.0,
        ),
        Case(
            "antimeridian (Fiji) 25 x 20 km",
            180.0,
            -17.0,
            box(-12_500, -10_000, 12_500, 10_000),
            [Point(0, 0).buffer(1_500)],
            home_m=(-14_000.0, -12_000.0),
        ),
        Case("Svalbard 78° N, 15 x 10 km", 16.0, 78.2, box(0, 0, 15_000, 10_000), [box(6_000, 3_000, 8_000, 5_000)]),
        Case("Arctic 85.5° N (stereographic)", 40.0, 85.5, box(0, 0, 12_000, 8_000), [Point(6_000, 4_000).buffer(700)]),
    ]
    if not quick:
        zones = [
            Point(*rng.uniform([5_000, 5_000], [55_000, 35_000])).buffer(rng.uniform(500, 2_000)) for _ in range(8)
        ]
        out.append(
            Case(
                "large 60 x 40 km, 8 no-fly",
                -102.0,
                31.8,
                box(0, 0, 60_000, 40_000),
                zones,
                home_m=(-3_000.0, -3_000.0),
                altitude_m=3000.0,
                endurance_min=240.0,
            )
        )
    return out


def run_case(case: Case, *, heading_deg: float | None, repeats: int, plot: Path | None = None) -> dict:
    frame = Frame(case.lon, case.lat)
    area = frame.ll(case.area_m)
    zones = [Zone(f"zone {i + 1}", "no_fly", frame.ll(z)) for i, z in enumerate(case.zones_m)]
    home = frame.ll(Point(case.home_m)).coords[0]
    swath = sensor_optics("aviris-ng").swath_m(case.altitude_m)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        plan = plan_survey(
            [area],
            swath_m=swath,
            altitude_agl_m=case.altitude_m,
            speed_m_s=60.0,
            home_lonlat=home,
            overlap=0.2,
            heading_deg=heading_deg,
            turn_radius_m=case.turn_radius_m,
            zones=zones,
            buffer_m=case.buffer_m,
            endurance_min=case.endurance_min,
        )
        times.append(time.perf_counter() - start)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        write_plan_outputs(Path(tmp), plan)
        export_s = time.perf_counter() - start
        if plot is not None:
            plot.parent.mkdir(parents=True, exist_ok=True)
            plot.write_bytes((Path(tmp) / "plan.png").read_bytes())
    close = 0
    for waypoints in plan.sorties:
        pts = [home] + [(w.lon_deg, w.lat_deg) for w in waypoints] + [home]
        for a, b in zip(pts, pts[1:]):
            if a != b:
                leg = frame.m(LineString([a, b]))
                close += any(leg.distance(z) < case.buffer_m * 0.998 - 0.5 for z in case.zones_m)
    s = plan.summary
    return {
        "area": case.name,
        "heading": "auto" if heading_deg is None else f"{heading_deg:g}°",
        "plan_s": statistics.median(times),
        "export_s": export_s,
        "aoi_km2": s["aoi_area_km2"],
        "coverage_%": 100 * s["coverage_fraction"],
        "lines": s["n_lines"],
        "path_km": s["path_length_km"],
        "flight_min": s["flight_time_min"],
        "sorties": s["n_sorties"],
        "legs_too_close": close,
        "projection": s["projection"].replace("+proj=", "").split()[0],
    }


def main() -> None:
    parser = make_parser(__doc__.splitlines()[0])
    parser.add_argument("--plot", type=Path, default=None, help="save the map of the second area's plan here")
    args = parser.parse_args()
    repeats = args.repeats or (1 if args.quick else 3)
    rows = []
    for i, case in enumerate(cases(args.quick)):
        rows.append(run_case(case, heading_deg=None, repeats=repeats, plot=args.plot if i == 1 else None))
        rows.append(run_case(case, heading_deg=0.0, repeats=1))
    columns = [
        "area",
        "heading",
        "plan_s",
        "export_s",
        "aoi_km2",
        "coverage_%",
        "lines",
        "path_km",
        "flight_min",
        "sorties",
        "legs_too_close",
        "projection",
    ]
    print_table(rows, columns, title="plumetrace plan: speed and coverage (AVIRIS-NG swath, 20 % overlap, 60 m/s)")
    write_json(args.json, {"benchmark": "plan_speed", "rows": rows})


if __name__ == "__main__":
    main()
