"""Re-check an existing route (QGroundControl ``.plan`` or GeoJSON) against airspace zones.

The route is the sequence of straight legs the autopilot flies: for a ``.plan``, home → every mission
item with a position → home when the mission ends with return-to-launch; for GeoJSON, every LineString
(or the Points in file order). Zones come from the command line; with none given, a ``.plan`` is checked
against its own geofence (already buffered, so no extra buffer is applied to it).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from shapely.geometry import LineString, Point

from plumetrace.errors import InvalidFileError, InvalidInputError, MissingFileError
from plumetrace.io.vector import read_features
from plumetrace.plan.airspace import Violation, Zone, build_airspace, find_violations
from plumetrace.plan.export import read_qgc_plan
from plumetrace.plan.geometry import local_projection

__all__ = ["RouteCheck", "read_route", "check_route"]


@dataclass(frozen=True)
class RouteCheck:
    """Result of a compliance check: legs (lon/lat), zones used, and every violation."""

    legs_lonlat: tuple[LineString, ...]
    zones: tuple[Zone, ...]
    violations: tuple[Violation, ...]

    @property
    def complies(self) -> bool:
        return not self.violations


def read_route(path: str | os.PathLike, *, what: str = "route file") -> tuple[list[LineString], list[Zone]]:
    """Legs (lon/lat) of a ``.plan`` or GeoJSON/KML route, and the ``.plan``'s own geofence zones.

    ``what`` is how messages call the file (``PATH: --check file not found``).
    """
    path = Path(path)
    if path.is_dir():
        raise InvalidFileError(path, "route", "is a folder; give a .plan, GeoJSON or KML route file")
    if not path.is_file():
        raise MissingFileError(path, what)
    legs: list[LineString] = []
    zones: list[Zone] = []
    if path.suffix.lower() == ".plan":
        doc = read_qgc_plan(path)
        lat_h, lon_h = doc["home"]
        pts = [(lon_h, lat_h)] + [(lon, lat) for lat, lon, _, _ in doc["waypoints"]]
        if doc["returns_home"]:
            pts.append((lon_h, lat_h))
        for i, (inclusion, poly) in enumerate(doc["fence"]):
            kind = "permitted" if inclusion else "no_fly"
            zones.append(Zone(name=f"geofence[{i}]", kind=kind, polygon_lonlat=poly))
        legs = [LineString([a, b]) for a, b in zip(pts, pts[1:]) if a != b]
    else:
        points = []
        for geom, props in read_features(path, what=what):
            if props.get("role") in ("aoi", "permitted", "no_fly", "no_fly_buffered", "imaging_line"):
                continue  # a plumetrace plan.geojson: check the routes, not the map layers
            if geom.geom_type == "LineString":
                c = list(geom.coords)
                legs.extend(LineString([a[:2], b[:2]]) for a, b in zip(c, c[1:]) if a[:2] != b[:2])
            elif geom.geom_type == "MultiLineString":
                for part in geom.geoms:
                    c = list(part.coords)
                    legs.extend(LineString([a[:2], b[:2]]) for a, b in zip(c, c[1:]) if a[:2] != b[:2])
            elif geom.geom_type == "Point" and not legs and props.get("role") not in ("home", "waypoint"):
                points.append(geom.coords[0][:2])
        if not legs and len(points) >= 2:
            legs = [LineString([a, b]) for a, b in zip(points, points[1:]) if a != b]
    if not legs:
        raise InvalidFileError(path, "route", "no legs found (need a mission, LineStrings or two or more Points)")
    return legs, zones


def check_route(
    path: str | os.PathLike, *, zones: Sequence[Zone] = (), buffer_m: float = 0.0, what: str = "route file"
) -> RouteCheck:
    """Check every leg of a route file against permitted and (buffered) no-fly zones.

    Parameters
    ----------
    path
        ``.plan`` (QGroundControl) or GeoJSON / KML route.
    zones
        Zones to check against; when empty, the ``.plan``'s own geofence is used.
    buffer_m
        Safety buffer around the given no-fly zones, metres (not applied to a plan's own geofence).

    Returns
    -------
    RouteCheck
        ``violations`` name the leg (0-based, in flight order) and zone.
    """
    legs, own = read_route(path, what=what)
    use = list(zones) if zones else own
    if not zones:
        buffer_m = 0.0
    if not use:
        raise InvalidInputError("zones", f"{Path(path).name} has no geofence: give permitted or no-fly zones")
    projection = local_projection([*legs, *(z.polygon_lonlat for z in use), Point(legs[0].coords[0])])
    airspace = build_airspace(use, projection, buffer_m=buffer_m)
    violations = find_violations([projection.to_local(leg) for leg in legs], airspace)
    return RouteCheck(tuple(legs), tuple(use), tuple(violations))
