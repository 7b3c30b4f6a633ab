"""Whole flight plans: an imaging survey over an area, or in-situ transects downwind of a source.

This module wires the pieces together — local projection, airspace, coverage lines or transects, routing,
sorties — validates the inputs, refuses plans that cannot comply (naming the zone), and returns a
:class:`FlightPlan` in lon/lat degrees for the exporters.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry import LineString, Point, Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from plumetrace.errors import InvalidFileError, InvalidInputError
from plumetrace.plan.airspace import Airspace, Zone, build_airspace, require_compliance
from plumetrace.plan.coverage import layout_lines
from plumetrace.plan.geometry import LocalProjection, local_projection, unwrap_geometry, unwrap_longitudes
from plumetrace.plan.routing import VisibilityRouter
from plumetrace.plan.sorties import Segment, Sortie, build_sorties, order_segments, sortie_legs
from plumetrace.plan.transects import downwind_transects

__all__ = [
    "PlanWaypoint",
    "FlightPlan",
    "plan_survey",
    "plan_transects",
    "ALTITUDE_RANGE_M",
    "SPEED_RANGE_M_S",
    "SURVEY_ALTITUDE_M",
    "SURVEY_SPEED_M_S",
    "MAX_FERRY_KM",
    "MAX_AREA_KM2",
    "MAX_EXTENT_KM",
    "MAX_LINES",
    "MAX_LINE_LENGTH_KM",
]

ALTITUDE_RANGE_M = (5.0, 20_000.0)
SPEED_RANGE_M_S = (1.0, 300.0)
# Defaults of an imaging survey (`plan --mode survey`): a light aircraft carrying an AVIRIS-class imager.
SURVEY_ALTITUDE_M = 1000.0  # above ground; ~1 m pixels for AVIRIS-NG
SURVEY_SPEED_M_S = 60.0  # ground speed
# Work limits, checked before any planning so that a wrong input fails in well under a second.
MAX_FERRY_KM = 500.0  # home farther than this from the area (or source) is a typo, not a ferry flight
MAX_AREA_KM2 = 10_000.0  # 100 x 100 km: about a week of airborne imaging; split larger areas
MAX_EXTENT_KM = 300.0  # the local projection keeps its scale error under ~0.1 % within +-150 km
MAX_LINES = 2_000  # line layout, routing and sorties grow faster than linearly with the line count
MAX_LINE_LENGTH_KM = 20_000.0  # imaging-line length: about 100 h at 60 m/s
_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class PlanWaypoint:
    """A waypoint in WGS84: longitude, latitude (degrees), altitude above ground (m), kind."""

    lon_deg: float
    lat_deg: float
    altitude_m: float
    kind: str


@dataclass
class FlightPlan:
    """A checked flight plan, lon/lat degrees.

    Attributes
    ----------
    mode
        ``"survey"`` or ``"transects"``.
    home_lonlat
        Take-off / landing point (lon, lat), degrees.
    sorties
        Waypoints of each sortie between take-off and return (home excluded).
    lines_lonlat
        The imaging lines or transects, for maps.
    zones
        Airspace zones as given; ``no_fly_buffered_lonlat`` the buffered no-fly polygons (geofence).
    aoi_lonlat
        Area of interest polygons (survey mode), or empty.
    summary
        Report figures: coverage_fraction, path_length_km, flight_time_min, n_sorties, ...
    """

    mode: str
    home_lonlat: tuple[float, float]
    sorties: list[list[PlanWaypoint]]
    lines_lonlat: list[LineString]
    zones: list[Zone]
    no_fly_buffered_lonlat: list[tuple[str, Polygon]]
    aoi_lonlat: list[Polygon]
    cruise_altitude_m: float
    speed_m_s: float
    summary: dict[str, Any] = field(default_factory=dict)


def _check_range(field_name: str, value: float, lo: float, hi: float, unit: str) -> float:
    value = float(value)
    if not (math.isfinite(value) and lo <= value <= hi):
        u = f" {unit}" if unit else ""
        raise InvalidInputError(field_name, f"{value:g}{u} is out of range [{lo:g}, {hi:g}]{u}")
    return value


def _validate_common(
    *, altitude_agl_m: float, speed_m_s: float, turn_radius_m: float, buffer_m: float, endurance_min: float | None
) -> None:
    _check_range("altitude", altitude_agl_m, *ALTITUDE_RANGE_M, "m")
    _check_range("speed", speed_m_s, *SPEED_RANGE_M_S, "m/s")
    _check_range("turn_radius", turn_radius_m, 0.0, 20_000.0, "m")
    _check_range("buffer", buffer_m, 0.0, 100_000.0, "m")
    if endurance_min is not None:
        _check_range("endurance", endurance_min, 1.0, 48 * 60.0, "min")


def _zone_source(zones: Sequence[Zone], name: str, kind: str) -> str | None:
    """The file the zone called ``name`` was read from, when known."""
    return next((z.source for z in zones if z.name == name and z.kind == kind and z.source), None)


def _zone_containing(point: BaseGeometry, airspace: Airspace) -> str | None:
    for name, poly in airspace.no_fly:
        if poly.intersects(point) and poly.buffer(-1e-6).intersects(point):
            return f"inside no-fly zone {name!r}"
    permitted = airspace.permitted_union
    if permitted is not None and not permitted.covers(point):
        return "outside permitted airspace " + repr(" + ".join(n for n, _ in airspace.permitted))
    return None


def _check_home(home_lonlat: tuple[float, float]) -> tuple[float, float]:
    """(lon, lat) of a valid take-off point; InvalidInputError("home", ...) otherwise."""
    try:
        lon, lat = map(float, home_lonlat)
    except (TypeError, ValueError):
        raise InvalidInputError("home", f"{home_lonlat!r} is not a (longitude, latitude) pair in degrees") from None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise InvalidInputError(
            "home", f"({lat:g}, {lon:g}) is not a latitude in [-90, 90] and a longitude in [-180, 180] degrees"
        )
    return lon, lat


def _home_distance_m(home_lonlat: tuple[float, float], geoms_lonlat: Sequence[BaseGeometry]) -> float:
    """Geodesic distance from home to the nearest point of ``geoms_lonlat`` (0 inside), metres.

    Boundaries are densified to 0.005° (~500 m) so a long edge passing close to home is measured at its
    nearest point, not at its corners.
    """
    lon, lat = home_lonlat
    union = unary_union(list(geoms_lonlat))
    ref = float(shapely.get_coordinates(union)[0, 0])
    home = Point(float(unwrap_longitudes(np.array([lon]), reference_deg=ref)[0]), lat)
    if union.covers(home):
        return 0.0
    pts = shapely.get_coordinates(shapely.segmentize(union.boundary if union.area > 0 else union, 0.005))
    _, _, dist = _GEOD.inv(np.full(len(pts), lon), np.full(len(pts), lat), pts[:, 0], pts[:, 1])
    return float(np.min(dist))


def _check_ferry(
    home_lonlat: tuple[float, float],
    geoms_lonlat: Sequence[BaseGeometry],
    *,
    what: str,
    speed_m_s: float,
    endurance_min: float | None,
) -> None:
    """Refuse a home too far from the work: > MAX_FERRY_KM, or too far to fly there and back in one sortie."""
    d = _home_distance_m(home_lonlat, geoms_lonlat)
    lon, lat = home_lonlat
    if d > MAX_FERRY_KM * 1000.0:
        raise InvalidInputError(
            "home",
            f"({lat:g}, {lon:g}) is {d / 1000:,.0f} km from the {what}; take off within "
            f"{MAX_FERRY_KM:g} km of it (is LAT,LON in the right order?)",
        )
    if endurance_min is not None and 2.0 * d > endurance_min * 60.0 * speed_m_s:
        raise InvalidInputError(
            "home",
            f"({lat:g}, {lon:g}) is {d / 1000:,.1f} km from the {what}: out and back "
            f"({2 * d / 1000:,.1f} km) is more than the endurance of {endurance_min:g} min at {speed_m_s:g} m/s "
            f"({endurance_min * 60 * speed_m_s / 1000:,.1f} km)",
        )


def _setup(
    geoms_lonlat: Sequence[BaseGeometry], home_lonlat: tuple[float, float], zones: Sequence[Zone], buffer_m: float
) -> tuple[LocalProjection, Airspace, tuple[float, float], BaseGeometry]:
    lon, lat = _check_home(home_lonlat)
    home_pt = Point(lon, lat)
    # Centred on the work, never on home: the area, its lines and figures do not depend on where home is.
    projection = local_projection(list(geoms_lonlat))
    airspace = build_airspace(zones, projection, buffer_m=buffer_m)
    home = projection.to_local(home_pt)
    local = [projection.to_local(g) for g in geoms_lonlat] + [home]
    for _, p in (*airspace.permitted, *airspace.no_fly):
        local.append(p)
    minx, miny, maxx, maxy = unary_union(local).bounds
    pad = 0.5 * max(maxx - minx, maxy - miny, 1000.0)
    world = box(minx - pad, miny - pad, maxx + pad, maxy + pad)
    return projection, airspace, (home.x, home.y), airspace.legal_region(world)


def _check_home_airspace(home_lonlat: tuple[float, float], home: tuple[float, float], airspace: Airspace) -> None:
    """Refuse a home point inside a buffered no-fly zone or outside permitted airspace."""
    where = _zone_containing(Point(home), airspace)
    if where:
        lon, lat = home_lonlat
        raise InvalidInputError("home", f"home point ({lat:.5f}, {lon:.5f}) lies {where}")


def _finish(
    mode: str,
    *,
    projection: LocalProjection,
    airspace: Airspace,
    zones: Sequence[Zone],
    home: tuple[float, float],
    home_lonlat: tuple[float, float],
    segments: list[Segment],
    legal: BaseGeometry,
    cruise_altitude_m: float,
    speed_m_s: float,
    turn_radius_m: float,
    endurance_min: float | None,
    summary: dict[str, Any],
    aoi_lonlat: list[Polygon],
) -> FlightPlan:
    # Routes keep 2 m (or 2 % of the buffer) clear of the buffered zones' edges.
    router = VisibilityRouter(legal, clearance_m=max(2.0, 0.02 * airspace.buffer_m))
    ordered = order_segments(segments, home)
    endurance_m = math.inf if endurance_min is None else endurance_min * 60.0 * speed_m_s
    sorties = build_sorties(
        ordered,
        home=home,
        router=router,
        cruise_altitude_m=cruise_altitude_m,
        endurance_m=endurance_m,
        turn_radius_m=turn_radius_m,
    )
    legs: list[LineString] = []
    for s in sorties:
        legs.extend(sortie_legs(s, home))
    require_compliance(legs, airspace)
    out_sorties = [_to_lonlat(s, projection) for s in sorties]
    total_m = sum(s.length_m for s in sorties)
    summary.update(
        {
            "path_length_km": total_m / 1000.0,
            "flight_time_min": total_m / speed_m_s / 60.0,
            "n_sorties": len(sorties),
            "sortie_length_km": [s.length_m / 1000.0 for s in sorties],
            "sortie_time_min": [s.length_m / speed_m_s / 60.0 for s in sorties],
            "legs_in_no_fly": 0,
            "speed_m_s": speed_m_s,
            "turn_radius_m": turn_radius_m,
            "buffer_m": airspace.buffer_m,
            "endurance_min": endurance_min,
            "projection": projection.crs.to_string(),
        }
    )
    return FlightPlan(
        mode=mode,
        home_lonlat=(float(home_lonlat[0]), float(home_lonlat[1])),
        sorties=out_sorties,
        lines_lonlat=[projection.to_lonlat(LineString([s.start, s.end])) for s in segments],
        zones=list(zones),
        no_fly_buffered_lonlat=[(n, projection.to_lonlat(p)) for n, p in airspace.no_fly],
        aoi_lonlat=aoi_lonlat,
        cruise_altitude_m=cruise_altitude_m,
        speed_m_s=speed_m_s,
        summary=summary,
    )


def _to_lonlat(sortie: Sortie, projection: LocalProjection) -> list[PlanWaypoint]:
    if not sortie.waypoints:
        return []
    lon, lat = projection.lonlat([w.x_m for w in sortie.waypoints], [w.y_m for w in sortie.waypoints])
    return [
        PlanWaypoint(float(lo), float(la), float(w.altitude_m), w.kind) for lo, la, w in zip(lon, lat, sortie.waypoints)
    ]


def plan_survey(
    aoi_lonlat: Sequence[Polygon],
    *,
    swath_m: float,
    altitude_agl_m: float,
    speed_m_s: float,
    home_lonlat: tuple[float, float],
    overlap: float = 0.2,
    heading_deg: float | None = None,
    turn_radius_m: float = 0.0,
    zones: Sequence[Zone] = (),
    buffer_m: float = 0.0,
    endurance_min: float | None = None,
    aoi_path: str | os.PathLike | None = None,
) -> FlightPlan:
    """Plan an imaging survey that covers an area with parallel lines.

    Parameters
    ----------
    aoi_lonlat
        Area of interest polygons (holes allowed), lon/lat degrees.
    swath_m
        Swath width on the ground, metres (see :mod:`plumetrace.plan.sensors`).
    altitude_agl_m
        Flight altitude above ground, metres, in [5, 20000].
    speed_m_s
        Ground speed, m/s, in [1, 300].
    home_lonlat
        Take-off and landing point (lon, lat), degrees.
    overlap
        Side overlap of neighbouring swaths, fraction in [0, 0.9].
    heading_deg
        Line heading (degrees clockwise from grid north); chosen to minimise lines and turns when None.
    turn_radius_m
        Minimum turn radius, metres.
    zones
        Permitted and no-fly zones (:func:`plumetrace.plan.airspace.read_zones`).
    buffer_m
        Safety distance from no-fly zones, metres.
    endurance_min
        Longest sortie, minutes of flight at ``speed_m_s``; unlimited when None.
    aoi_path
        The file the area was read from, named in the messages about the area (``FILE: area: ...``).

    Returns
    -------
    FlightPlan
        ``summary`` holds coverage_fraction (of the coverable area), aoi/coverable/excluded areas (km²),
        heading, swath, spacing, line count, path length (km), flight time (min) and sortie count.

    Raises
    ------
    InvalidInputError, InvalidFileError
        Inputs out of range; an area too large to plan in one go (``MAX_AREA_KM2``, ``MAX_EXTENT_KM``,
        ``MAX_LINES``, ``MAX_LINE_LENGTH_KM``: refused before any planning); home farther than
        ``MAX_FERRY_KM`` from the area or beyond the endurance; the area lies inside a no-fly zone or outside
        permitted airspace; the swath is larger than the area; home in forbidden airspace; a line that no
        sortie can fly.
    """
    _validate_common(
        altitude_agl_m=altitude_agl_m,
        speed_m_s=speed_m_s,
        turn_radius_m=turn_radius_m,
        buffer_m=buffer_m,
        endurance_min=endurance_min,
    )
    overlap = _check_range("overlap", overlap, 0.0, 0.9, "")
    if heading_deg is not None and not math.isfinite(heading_deg):
        raise InvalidInputError("heading_deg", f"must be a finite number of degrees, got {heading_deg}")
    if not (math.isfinite(swath_m) and swath_m > 0.0):
        raise InvalidInputError("swath", f"must be a positive number of metres, got {swath_m}")
    home_lonlat = _check_home(home_lonlat)
    aoi_lonlat = list(aoi_lonlat)
    if not aoi_lonlat:
        raise InvalidInputError("aoi", "no polygon given")
    # Areas across the antimeridian: continuous longitudes around the first vertex.
    ref = float(shapely.get_coordinates(aoi_lonlat[0])[0, 0])
    aoi_lonlat = [unwrap_geometry(p, reference_deg=ref) for p in aoi_lonlat]
    for i, poly in enumerate(aoi_lonlat):
        if not poly.is_valid:
            raise InvalidInputError(f"aoi[{i}]", f"invalid polygon: {shapely.validation.explain_validity(poly)}")

    def area_error(field_name: str, problem: str) -> InvalidInputError:
        if aoi_path is None:
            return InvalidInputError("aoi", problem)
        return InvalidFileError(aoi_path, field_name, problem)

    # Size the work before doing any: a continent-size area must fail at once, not after minutes.
    area = unary_union([local_projection(aoi_lonlat).to_local(p) for p in aoi_lonlat])
    rect = area.minimum_rotated_rectangle
    coords = list(rect.exterior.coords) if rect.geom_type == "Polygon" else [(0, 0), (0, 0), (0, 0)]
    sides = sorted(math.dist(coords[i], coords[i + 1]) for i in range(2))
    if area.area / 1e6 > MAX_AREA_KM2:
        raise area_error(
            "area",
            f"{area.area / 1e6:,.0f} km² is more than one plan covers (at most "
            f"{MAX_AREA_KM2:,.0f} km²); split the area into smaller polygons and plan each",
        )
    if sides[1] / 1000.0 > MAX_EXTENT_KM:
        raise area_error(
            "area",
            f"the polygons span {sides[1] / 1000:,.0f} km (at most {MAX_EXTENT_KM:g} km in "
            "one plan); plan distant parts separately",
        )
    spacing = swath_m * (1.0 - overlap)
    n_lines = math.ceil(sides[0] / spacing) if spacing > 0 else math.inf
    line_km = area.area / spacing / 1000.0
    if n_lines > MAX_LINES or line_km > MAX_LINE_LENGTH_KM:
        raise area_error(
            "area",
            f"{area.area / 1e6:,.1f} km² at {spacing:.0f} m line spacing needs about {n_lines:,} lines "
            f"and {line_km:,.0f} km of imaging (at most {MAX_LINES:,} lines, {MAX_LINE_LENGTH_KM:,.0f} km); "
            "fly higher (wider swath), lower the overlap or split the area",
        )
    _check_ferry(home_lonlat, aoi_lonlat, what="area of interest", speed_m_s=speed_m_s, endurance_min=endurance_min)
    projection, airspace, home, legal = _setup(aoi_lonlat, home_lonlat, zones, buffer_m)
    area = unary_union([projection.to_local(p) for p in aoi_lonlat])
    for name, zone in airspace.no_fly:
        if zone.covers(area):
            where = _zone_source(zones, name, "no_fly")
            buffered = f" (with its {airspace.buffer_m:g} m buffer)" if airspace.buffer_m >= 0.01 else ""
            problem = f"no-fly zone {name!r}{buffered} covers the whole area of interest; nothing can be imaged"
            if where:
                raise InvalidFileError(where, "no_fly", problem)
            raise InvalidInputError("aoi", f"the area of interest lies entirely inside no-fly zone {name!r}")
    permitted = airspace.permitted_union
    if permitted is not None:
        outside = area.difference(permitted).area
        names = " + ".join(n for n, _ in airspace.permitted)
        sources = sorted({z.source for z in zones if z.kind == "permitted" and z.source})
        if not permitted.intersects(area) or outside >= area.area * (1 - 1e-9):
            problem = f"permitted airspace {names!r} does not overlap the area of interest"
            if sources:
                raise InvalidFileError(" + ".join(sources), "permitted", problem)
            raise InvalidInputError("permitted", problem)
        if outside > 1e-3 * area.area:
            origin = f" ({' + '.join(sources)})" if sources else ""
            raise area_error(
                "area",
                f"{100 * outside / area.area:.1f} % of the area of interest lies outside permitted airspace "
                f"{names!r}{origin}; shrink the area or extend the permitted zones",
            )
    _check_home_airspace(home_lonlat, home, airspace)
    rect = area.minimum_rotated_rectangle
    coords = list(rect.exterior.coords) if rect.geom_type == "Polygon" else [(0, 0), (0, 0), (0, 0)]
    sides = sorted(math.dist(coords[i], coords[i + 1]) for i in range(2))
    if swath_m >= sides[1]:
        raise InvalidInputError(
            "swath",
            f"swath {swath_m:.0f} m is larger than the area ({sides[1]:.0f} x {sides[0]:.0f} m); "
            "fly lower or plan a single pass",
        )
    try:
        layout = layout_lines(area, legal, swath_m=swath_m, overlap=overlap, heading_deg=heading_deg)
    except InvalidInputError as exc:
        if exc.field != "aoi":
            raise
        raise area_error("area", exc.problem) from None
    segments = [Segment(ln.start, ln.end, altitude_agl_m, "line") for ln in layout.lines]
    summary: dict[str, Any] = {
        "mode": "survey",
        "coverage_fraction": layout.coverage_fraction,
        "aoi_area_km2": area.area / 1e6,
        "coverable_area_km2": layout.coverable.area / 1e6,
        "excluded_area_km2": (area.area - layout.coverable.area) / 1e6,
        "excluded_by": [n for n, z in airspace.no_fly if z.intersects(area)],
        "heading_deg": layout.heading_deg,
        "swath_m": layout.swath_m,
        "line_spacing_m": layout.spacing_m,
        "overlap": overlap,
        "altitude_agl_m": altitude_agl_m,
        "n_lines": len(layout.lines),
        "line_length_km": sum(ln.length_m for ln in layout.lines) / 1000.0,
    }
    return _finish(
        "survey",
        projection=projection,
        airspace=airspace,
        zones=zones,
        home=home,
        home_lonlat=home_lonlat,
        segments=segments,
        legal=legal,
        cruise_altitude_m=altitude_agl_m,
        speed_m_s=speed_m_s,
        turn_radius_m=turn_radius_m,
        endurance_min=endurance_min,
        summary=summary,
        aoi_lonlat=aoi_lonlat,
    )


def plan_transects(
    source_lonlat: tuple[float, float],
    *,
    wind_from_deg: float,
    distances_m: Sequence[float],
    altitudes_m: Sequence[float],
    speed_m_s: float,
    home_lonlat: tuple[float, float],
    width_m: float | None = None,
    turn_radius_m: float = 0.0,
    zones: Sequence[Zone] = (),
    buffer_m: float = 0.0,
    endurance_min: float | None = None,
) -> FlightPlan:
    """Plan cross-wind transects (one altitude) or a vertical curtain (several) downwind of a source.

    Parameters
    ----------
    source_lonlat
        Suspected source (lon, lat), degrees.
    wind_from_deg
        Wind direction (from), degrees clockwise from true north.
    distances_m
        Downwind distances of the transects, metres.
    altitudes_m
        Altitudes above ground, metres, each in [5, 20000].
    speed_m_s, home_lonlat, turn_radius_m, zones, buffer_m, endurance_min
        As for :func:`plan_survey`.
    width_m
        Transect length across the wind, metres (default grows with distance).

    Returns
    -------
    FlightPlan

    Raises
    ------
    InvalidInputError
        Bad inputs, or a transect that crosses a buffered no-fly zone or leaves permitted airspace (the
        transect is not trimmed: the message names the zone).
    """
    altitudes = [float(a) for a in altitudes_m]
    for a in altitudes or [float("nan")]:
        _validate_common(
            altitude_agl_m=a,
            speed_m_s=speed_m_s,
            turn_radius_m=turn_radius_m,
            buffer_m=buffer_m,
            endurance_min=endurance_min,
        )
    home_lonlat = _check_home(home_lonlat)
    lines = downwind_transects(
        source_lonlat, wind_from_deg=wind_from_deg, distances_m=distances_m, altitudes_m=altitudes, width_m=width_m
    )
    geoms = [ln for ln, _, _ in lines] + [Point(*source_lonlat)]
    _check_ferry(home_lonlat, geoms, what="transects", speed_m_s=speed_m_s, endurance_min=endurance_min)
    projection, airspace, home, legal = _setup(geoms, home_lonlat, zones, buffer_m)
    _check_home_airspace(home_lonlat, home, airspace)
    segments = []
    for ln, d, alt in lines:
        local = projection.to_local(ln)
        (x0, y0), (x1, y1) = list(local.coords)
        segments.append(Segment((x0, y0), (x1, y1), alt, f"transect at {d:.0f} m"))
    for i, seg in enumerate(segments):
        try:
            require_compliance([LineString([seg.start, seg.end])], airspace, what=seg.label)
        except InvalidInputError as exc:
            raise InvalidInputError(exc.field, f"transect {i + 1}: {exc.problem}") from None
    summary: dict[str, Any] = {
        "mode": "transects" if len(set(altitudes)) == 1 else "curtain",
        "source_lonlat": [float(source_lonlat[0]), float(source_lonlat[1])],
        "wind_from_deg": float(wind_from_deg),
        "distances_m": [float(d) for d in distances_m],
        "altitudes_m": altitudes,
        "n_lines": len(segments),
        "line_length_km": sum(s.length_m for s in segments) / 1000.0,
    }
    # Transects keep their altitude; transit between them flies at the highest requested altitude.
    return _finish(
        "transects",
        projection=projection,
        airspace=airspace,
        zones=zones,
        home=home,
        home_lonlat=home_lonlat,
        segments=segments,
        legal=legal,
        cruise_altitude_m=max(altitudes),
        speed_m_s=speed_m_s,
        turn_radius_m=turn_radius_m,
        endurance_min=endurance_min,
        summary=summary,
        aoi_lonlat=[],
    )
