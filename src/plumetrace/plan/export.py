"""Write a :class:`~plumetrace.plan.survey.FlightPlan` for autopilots, GIS and people, and read QGC plans back.

* QGroundControl ``.plan`` (JSON, one file per sortie): mission items take-off (MAV_CMD_NAV_TAKEOFF, 22),
  waypoints (MAV_CMD_NAV_WAYPOINT, 16) and return-to-launch (MAV_CMD_NAV_RETURN_TO_LAUNCH, 20), altitudes
  relative to home (MAV_FRAME_GLOBAL_RELATIVE_ALT, 3); geofence polygons with ``inclusion`` true for
  permitted zones and false for the buffered no-fly zones. QGC writes coordinates as **[lat, lon]**
  (``params[4]`` latitude, ``params[5]`` longitude, ``plannedHomePosition`` [lat, lon, alt]), unlike GeoJSON.
  Format: QGroundControl developer guide, "Plan File Format" (docs.qgroundcontrol.com).
* GeoJSON and KML: area, zones, imaging lines, each sortie's route and waypoints.
* CSV: one row per waypoint (sortie, seq, lat, lon, altitude, kind).
* PNG: a map of the plan.
* ``report.json``: the plan's summary figures.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
from shapely.geometry import LineString, Point, Polygon

from plumetrace.errors import InvalidFileError, MissingFileError
from plumetrace.io.jsonable import to_jsonable
from plumetrace.io.vector import Feature, KmlStyle, write_csv, write_geojson, write_kml
from plumetrace.plan.geometry import unwrap_longitudes
from plumetrace.plan.survey import FlightPlan, PlanWaypoint

__all__ = [
    "MAV_CMD_NAV_WAYPOINT",
    "MAV_CMD_NAV_TAKEOFF",
    "MAV_CMD_NAV_RETURN_TO_LAUNCH",
    "qgc_plan_dict",
    "write_qgc_plan",
    "read_qgc_plan",
    "plan_features",
    "write_plan_outputs",
    "plot_plan",
]

MAV_CMD_NAV_WAYPOINT = 16
MAV_CMD_NAV_RETURN_TO_LAUNCH = 20
MAV_CMD_NAV_TAKEOFF = 22
MAV_FRAME_MISSION = 2
MAV_FRAME_GLOBAL_RELATIVE_ALT = 3
MAV_AUTOPILOT_PX4 = 12
MAV_TYPE_FIXED_WING = 1
MAV_TYPE_QUADROTOR = 2

#: KML styles of the plan features (by their ``role`` property): no-fly zones red, routes blue, lines black.
KML_STYLES = {
    "aoi": KmlStyle(line="#2ca02c", width=2.0, fill="#2ca02c", fill_opacity=0.15),
    "permitted": KmlStyle(line="#2ca02c", width=2.0),
    "no_fly": KmlStyle(line="#d62728", width=2.5, fill="#d62728", fill_opacity=0.5),
    "no_fly_buffered": KmlStyle(line="#d62728", width=1.5, fill="#d62728", fill_opacity=0.15),
    "imaging_line": KmlStyle(line="#000000", width=3.0),
    "route": KmlStyle(line="#1f77b4", width=2.0),
    "home": KmlStyle(line="#ffd700", icon="homegardenbusiness.png", icon_colour="#ffd700", icon_scale=1.3),
    "waypoint": KmlStyle(line="#1f77b4", icon="placemark_circle.png", icon_colour="#1f77b4", icon_scale=0.6),
}


def _wrap(lon: float) -> float:
    """Longitude in [-180, 180] (unchanged when already there, so values round-trip exactly)."""
    return lon if -180.0 <= lon <= 180.0 else (lon + 180.0) % 360.0 - 180.0


def _simple_item(jump_id: int, command: int, frame: int, params: list[Any], altitude: float | None) -> dict:
    item: dict[str, Any] = {
        "autoContinue": True,
        "command": command,
        "doJumpId": jump_id,
        "frame": frame,
        "params": params,
        "type": "SimpleItem",
    }
    if altitude is not None:
        item.update({"AMSLAltAboveTerrain": None, "Altitude": altitude, "AltitudeMode": 1})
    return item


def qgc_plan_dict(plan: FlightPlan, sortie_index: int) -> dict[str, Any]:
    """The QGC ``.plan`` document of one sortie (0-based index)."""
    waypoints = plan.sorties[sortie_index]
    lon_h, lat_h = plan.home_lonlat
    alt0 = waypoints[0].altitude_m if waypoints else plan.cruise_altitude_m
    items = [
        _simple_item(
            1, MAV_CMD_NAV_TAKEOFF, MAV_FRAME_GLOBAL_RELATIVE_ALT, [0, 0, 0, None, lat_h, _wrap(lon_h), alt0], alt0
        )
    ]
    for w in waypoints:
        items.append(
            _simple_item(
                len(items) + 1,
                MAV_CMD_NAV_WAYPOINT,
                MAV_FRAME_GLOBAL_RELATIVE_ALT,
                [0, 0, 0, None, w.lat_deg, _wrap(w.lon_deg), w.altitude_m],
                w.altitude_m,
            )
        )
    items.append(_simple_item(len(items) + 1, MAV_CMD_NAV_RETURN_TO_LAUNCH, MAV_FRAME_MISSION, [0] * 7, None))
    polygons = [
        {"inclusion": True, "polygon": _latlon_ring(z.polygon_lonlat), "version": 1}
        for z in plan.zones
        if z.kind == "permitted"
    ]
    polygons += [
        {"inclusion": False, "polygon": _latlon_ring(p), "version": 1}
        for _, poly in plan.no_fly_buffered_lonlat
        for p in getattr(poly, "geoms", [poly])
    ]
    turning = float(plan.summary.get("turn_radius_m") or 0.0) > 0.0
    return {
        "fileType": "Plan",
        "geoFence": {"circles": [], "polygons": polygons, "version": 2},
        "groundStation": "QGroundControl",
        "mission": {
            "cruiseSpeed": plan.speed_m_s,
            "firmwareType": MAV_AUTOPILOT_PX4,
            "globalPlanAltitudeMode": 1,
            "hoverSpeed": plan.speed_m_s,
            "items": items,
            "plannedHomePosition": [lat_h, _wrap(lon_h), 0],
            "vehicleType": MAV_TYPE_FIXED_WING if turning else MAV_TYPE_QUADROTOR,
            "version": 2,
        },
        "rallyPoints": {"points": [], "version": 2},
        "version": 1,
    }


def _latlon_ring(poly: Polygon) -> list[list[float]]:
    coords = np.asarray(poly.exterior.coords)[:-1]
    return [[float(lat), _wrap(float(lon))] for lon, lat in coords[:, :2]]


def write_qgc_plan(path: str | os.PathLike, plan: FlightPlan, sortie_index: int) -> Path:
    """Write one sortie as a QGroundControl ``.plan`` file; returns the path."""
    path = Path(path)
    path.write_text(json.dumps(qgc_plan_dict(plan, sortie_index), indent=4), encoding="utf-8")
    return path


def read_qgc_plan(path: str | os.PathLike) -> dict[str, Any]:
    """Read a QGroundControl ``.plan``.

    Returns
    -------
    dict
        ``home`` (lat, lon); ``waypoints`` list of (lat, lon, altitude_m, command) for every mission item
        with a position (take-off, waypoint, …) in order; ``returns_home`` whether the mission ends with
        return-to-launch; ``fence`` list of (inclusion, polygon lon/lat).

    Raises
    ------
    MissingFileError, InvalidFileError
        Missing file; not JSON; not a Plan; a field with the wrong shape (the message names it).
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidFileError(path, "json", f"not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("fileType") != "Plan":
        raise InvalidFileError(path, "fileType", 'must be "Plan"')
    mission = doc.get("mission")
    if not isinstance(mission, dict) or not isinstance(mission.get("items"), list):
        raise InvalidFileError(path, "mission.items", "missing or not a list")
    home = mission.get("plannedHomePosition")
    if not (isinstance(home, list) and len(home) >= 2 and all(isinstance(v, (int, float)) for v in home[:2])):
        raise InvalidFileError(path, "mission.plannedHomePosition", "must be [lat, lon, alt]")
    if not (math.isfinite(home[0]) and math.isfinite(home[1]) and abs(home[0]) <= 90 and abs(home[1]) <= 180):
        raise InvalidFileError(
            path, "mission.plannedHomePosition", f"[{home[0]}, {home[1]}] is not a latitude, longitude"
        )
    waypoints: list[tuple[float, float, float, int]] = []
    returns_home = False
    for i, item in enumerate(_flatten_items(path, mission["items"])):
        field = f"mission.items[{i}]"
        command = item.get("command")
        params = item.get("params")
        if not isinstance(command, int) or not isinstance(params, list) or len(params) != 7:
            raise InvalidFileError(path, field, "needs an integer command and 7 params")
        returns_home = command == MAV_CMD_NAV_RETURN_TO_LAUNCH
        lat, lon, alt = params[4], params[5], params[6]
        if command in (MAV_CMD_NAV_WAYPOINT, MAV_CMD_NAV_TAKEOFF) or (
            command < 100 and isinstance(lat, (int, float)) and isinstance(lon, (int, float)) and (lat or lon)
        ):
            if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (lat, lon)):
                raise InvalidFileError(path, f"{field}.params", "latitude / longitude (params 5, 6) must be numbers")
            if abs(lat) > 90:
                raise InvalidFileError(path, f"{field}.params", f"latitude {lat} beyond ±90 (is it [lon, lat]?)")
            waypoints.append((float(lat), float(lon), float(alt or 0.0), command))
    fence = []
    geofence = doc.get("geoFence") or {}
    if not isinstance(geofence, dict) or not isinstance(geofence.get("polygons") or [], list):
        raise InvalidFileError(path, "geoFence.polygons", "must be an object holding a list of polygons")
    for i, poly in enumerate(geofence.get("polygons") or []):
        ring = poly.get("polygon") if isinstance(poly, dict) else None
        if not isinstance(ring, list) or len(ring) < 3:
            raise InvalidFileError(path, f"geoFence.polygons[{i}].polygon", "needs at least 3 [lat, lon] points")
        try:
            fence_poly = Polygon([(float(p[1]), float(p[0])) for p in ring])
        except (TypeError, ValueError, IndexError, KeyError):
            raise InvalidFileError(
                path, f"geoFence.polygons[{i}].polygon", "points must be [lat, lon] numbers"
            ) from None
        if not fence_poly.is_valid or fence_poly.area == 0.0:
            raise InvalidFileError(
                path, f"geoFence.polygons[{i}].polygon", "not a valid polygon (self-intersecting or flat)"
            )
        fence.append((bool(poly.get("inclusion", True)), fence_poly))
    return {
        "home": (float(home[0]), float(home[1])),
        "waypoints": waypoints,
        "returns_home": returns_home,
        "fence": fence,
    }


def _flatten_items(path: Path, items: list) -> list[dict]:
    out: list[dict] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidFileError(path, f"mission.items[{i}]", "not an object")
        if item.get("type") == "ComplexItem":
            nested = (item.get("TransectStyleComplexItem") or {}).get("Items") or []
            out.extend(_flatten_items(path, nested))
        else:
            out.append(item)
    return out


def _route_line(plan: FlightPlan, waypoints: list[PlanWaypoint]) -> LineString:
    pts = [(*plan.home_lonlat, 0.0)] + [(w.lon_deg, w.lat_deg, w.altitude_m) for w in waypoints]
    pts.append((*plan.home_lonlat, 0.0))
    return LineString(pts)


def plan_features(plan: FlightPlan) -> list[Feature]:
    """GeoJSON/KML features of a plan: area, zones, lines, sortie routes, home, waypoints (lon/lat)."""
    feats: list[Feature] = []
    for i, aoi in enumerate(plan.aoi_lonlat):
        feats.append((aoi, {"name": f"area of interest {i + 1}", "role": "aoi"}))
    for z in plan.zones:
        feats.append((z.polygon_lonlat, {"name": z.name, "role": z.kind}))
    for name, poly in plan.no_fly_buffered_lonlat:
        feats.append((poly, {"name": f"{name} (buffered)", "role": "no_fly_buffered"}))
    for i, line in enumerate(plan.lines_lonlat):
        feats.append((line, {"name": f"line {i + 1}", "role": "imaging_line"}))
    for s, waypoints in enumerate(plan.sorties):
        feats.append((_route_line(plan, waypoints), {"name": f"sortie {s + 1}", "role": "route", "sortie": s + 1}))
    feats.append((Point(plan.home_lonlat), {"name": "home", "role": "home"}))
    for s, waypoints in enumerate(plan.sorties):
        for k, w in enumerate(waypoints):
            feats.append(
                (
                    Point(w.lon_deg, w.lat_deg),
                    {
                        "name": f"S{s + 1}-{k + 1}",
                        "role": "waypoint",
                        "sortie": s + 1,
                        "seq": k + 1,
                        "altitude_m": w.altitude_m,
                        "kind": w.kind,
                    },
                )
            )
    return feats


def waypoint_rows(plan: FlightPlan) -> list[dict[str, Any]]:
    """CSV rows: one per waypoint, home at take-off and return."""
    rows = []
    lon_h, lat_h = plan.home_lonlat
    for s, waypoints in enumerate(plan.sorties):
        rows.append({"sortie": s + 1, "seq": 0, "lat": lat_h, "lon": _wrap(lon_h), "altitude_m": 0.0, "kind": "home"})
        for k, w in enumerate(waypoints):
            rows.append(
                {
                    "sortie": s + 1,
                    "seq": k + 1,
                    "lat": w.lat_deg,
                    "lon": _wrap(w.lon_deg),
                    "altitude_m": w.altitude_m,
                    "kind": w.kind,
                }
            )
        rows.append(
            {
                "sortie": s + 1,
                "seq": len(waypoints) + 1,
                "lat": lat_h,
                "lon": _wrap(lon_h),
                "altitude_m": 0.0,
                "kind": "home",
            }
        )
    return rows


def plot_plan(path: str | os.PathLike, plan: FlightPlan) -> Path:
    """Draw the plan (area, zones, lines, routes, home) to a PNG map in lon/lat (unwrapped at 180°).

    The page is :mod:`plumetrace.io.mapplot`'s (900 × 700 pixels): equal ground scale east and north, plain degree
    ticks, a scale bar and north arrow below the map and the legend beside it, off the data.
    """
    from matplotlib import colormaps

    from plumetrace.georef import metres_per_degree
    from plumetrace.io.mapplot import MapFrame, map_page, save_page

    ref = plan.home_lonlat[0]

    def xy(geom):
        c = np.asarray(geom.coords)
        return unwrap_longitudes(c[:, 0], reference_deg=ref), c[:, 1]

    fig, ax, cax = map_page()
    cax.set_axis_off()
    for aoi in plan.aoi_lonlat:
        ax.fill(*xy(aoi.exterior), color="#cfe8cf", label="area of interest")
        for hole in aoi.interiors:
            ax.fill(*xy(hole), color="white")
    for z in plan.zones:
        if z.kind == "permitted":
            ax.plot(*xy(z.polygon_lonlat.exterior), color="tab:green", lw=1.5, ls="--", label="permitted airspace")
    for _name, poly in plan.no_fly_buffered_lonlat:
        for p in getattr(poly, "geoms", [poly]):
            ax.fill(*xy(p.exterior), color="tab:red", alpha=0.15, label="no-fly + buffer")
    for z in plan.zones:
        if z.kind == "no_fly":
            ax.fill(*xy(z.polygon_lonlat.exterior), color="tab:red", alpha=0.5, label="no-fly zone")
    colours = colormaps["tab10"]
    for s, waypoints in enumerate(plan.sorties):
        ax.plot(*xy(_route_line(plan, waypoints)), color=colours(s % 10), lw=0.8, label=f"sortie {s + 1}")
    for line in plan.lines_lonlat:
        ax.plot(*xy(line), color="k", lw=1.6, label="imaging line / transect")
    ax.plot([ref], [plan.home_lonlat[1]], marker="*", ms=14, color="gold", mec="k", ls="none", label="home")
    if "source_lonlat" in plan.summary:  # transects / curtain: the source and the wind they are flown across
        from plumetrace.plan.transects import draw_source_and_wind

        s = plan.summary
        draw_source_and_wind(
            ax, s["source_lonlat"], s["wind_from_deg"], 0.5 * min(s["distances_m"]), reference_lon_deg=ref
        )
    lat_mid = float(np.mean(ax.get_ylim()))
    east_m, north_m = metres_per_degree(lat_mid)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    if len(unique) > 14:
        unique = {k: v for k, v in unique.items() if not k.startswith("sortie ")}
    ax.legend(unique.values(), unique.keys(), fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    ax.set_xlabel("longitude (°)")
    ax.set_ylabel("latitude (°)")
    s = plan.summary
    title = f"{s.get('mode', plan.mode)}: {s.get('n_sorties', 0)} sorties, {s.get('path_length_km', 0):.1f} km"
    if "coverage_fraction" in s:
        title += f", coverage {100 * s['coverage_fraction']:.1f} %"
    fig.text(0.5, 0.975, title, ha="center", va="top", fontsize=11)
    frame = MapFrame(None, "longitude (°)", "latitude (°)", (float(east_m), float(north_m)), 0.0, None)
    path = Path(path)
    save_page(fig, ax, frame, path, aspect=float(north_m) / max(float(east_m), 1e-6))
    return path


def write_plan_outputs(out_dir: str | os.PathLike, plan: FlightPlan, *, png: bool = True) -> list[Path]:
    """Write every export of a plan into ``out_dir`` (an existing folder, e.g. a staging folder).

    Files: ``sortie_NN.plan`` (one per sortie), ``plan.geojson``, ``plan.kml``, ``waypoints.csv``,
    ``report.json`` and, when ``png``, ``plan.png``.
    """
    out = Path(out_dir)
    written = [write_qgc_plan(out / f"sortie_{i + 1:02d}.plan", plan, i) for i in range(len(plan.sorties))]
    feats = plan_features(plan)
    written.append(write_geojson(out / "plan.geojson", feats))
    written.append(
        write_kml(out / "plan.kml", feats, name=f"plumetrace {plan.mode} plan", styles=KML_STYLES, style_by="role")
    )
    written.append(write_csv(out / "waypoints.csv", waypoint_rows(plan)))
    report = out / "report.json"
    report.write_text(json.dumps(to_jsonable(plan.summary), indent=2), encoding="utf-8")
    written.append(report)
    if png:
        written.append(plot_plan(out / "plan.png", plan))
    return written
