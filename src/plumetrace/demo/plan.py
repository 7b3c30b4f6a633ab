"""Demo step: plan a survey over a small example field with an airstrip no-fly zone, then re-check it."""

from __future__ import annotations

import math
from typing import Any

from shapely.geometry import Polygon, box

__all__ = ["example_area", "demo_step"]


def example_area() -> tuple[Polygon, Polygon, tuple[float, float]]:
    """A 6 km × 4 km example area (lon/lat, Permian Basin) with a 300 m hole, an airstrip, and home."""
    area = Polygon(
        [(-102.100, 31.800), (-102.037, 31.800), (-102.037, 31.836), (-102.100, 31.836)],
        [[(-102.080, 31.810), (-102.077, 31.810), (-102.077, 31.813), (-102.080, 31.813)]],
    )
    airstrip = box(-102.062, 31.815, -102.052, 31.822)
    home = (-102.105, 31.795)
    return area, airstrip, home


def demo_step(ctx: Any) -> list[tuple[str, str, str, str]]:
    """Plan, export and re-check; rows compare the plan with what must hold."""
    from plumetrace.io.staging import staged_output
    from plumetrace.plan.airspace import Zone
    from plumetrace.plan.check import check_route
    from plumetrace.plan.export import write_plan_outputs
    from plumetrace.plan.sensors import sensor_optics
    from plumetrace.plan.survey import plan_survey

    area, airstrip, home = example_area()
    zone = Zone("airstrip", "no_fly", airstrip)
    altitude_m, speed_m_s, endurance_min, buffer_m = 1000.0, 60.0, 15.0, 200.0
    plan = plan_survey(
        [area],
        swath_m=sensor_optics("aviris-ng").swath_m(altitude_m),
        altitude_agl_m=altitude_m,
        speed_m_s=speed_m_s,
        home_lonlat=home,
        overlap=0.2,
        turn_radius_m=400.0,
        zones=[zone],
        buffer_m=buffer_m,
        endurance_min=endurance_min,
    )
    out = ctx.out_dir / "plan"
    with staged_output(out) as stage:
        write_plan_outputs(stage, plan)
    ctx.products["plan_dir"] = out
    # Independent re-check of the exported GeoJSON route against the zone, as `plumetrace plan --check` does.
    check = check_route(out / "plan.geojson", zones=[zone], buffer_m=buffer_m * 0.999)
    s = plan.summary
    min_sorties = math.ceil(s["path_length_km"] * 1000 / (endurance_min * 60 * speed_m_s))
    return [
        ("plan", "coverage of coverable area", f"{100 * s['coverage_fraction']:.2f} %", "≥ 99 %"),
        ("plan", "legs entering buffered no-fly zone", str(len(check.violations)), "0"),
        (
            "plan",
            "sorties (15 min endurance)",
            str(s["n_sorties"]),
            f"≥ {min_sorties} (path {s['path_length_km']:.0f} km)",
        ),
    ]
