"""Airspace limits: permitted (inclusion) zones the flight must stay inside, no-fly (exclusion) zones it
must stay out of with a safety buffer, and the compliance check that names the offending zone.

Zones are given in lon/lat degrees; checks run in the local metric projection
(:mod:`plumetrace.plan.geometry`). A leg *violates* a no-fly zone when more than ``tolerance_m`` of it
lies deeper than ``depth_m`` inside the buffered zone, and a permitted zone when more than ``tolerance_m``
lies further than ``depth_m`` outside the union of permitted zones (defaults 0.01 m and 0.05 m only absorb
round-off: a leg along the edge of a buffered zone keeps exactly the buffer distance and complies).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from plumetrace.errors import InvalidFileError, InvalidInputError
from plumetrace.io.vector import _polygon_parts, read_features
from plumetrace.plan.geometry import LocalProjection

__all__ = [
    "Zone",
    "Violation",
    "Airspace",
    "read_zones",
    "build_airspace",
    "find_violations",
    "require_compliance",
]

ZoneKind = Literal["permitted", "no_fly"]


@dataclass(frozen=True)
class Zone:
    """One airspace polygon.

    Attributes
    ----------
    name
        Label used in messages (the feature's ``name``/``id`` property, else ``FILE[i]``).
    kind
        ``"permitted"`` (inclusion) or ``"no_fly"`` (exclusion).
    polygon_lonlat
        The zone as given, lon/lat degrees.
    source
        The file it was read from (None when built in code).
    """

    name: str
    kind: ZoneKind
    polygon_lonlat: Polygon
    source: str | None = None  # the file the zone was read from, named in messages


@dataclass(frozen=True)
class Violation:
    """A leg that leaves permitted airspace or enters a buffered no-fly zone."""

    leg_index: int
    zone: str
    kind: ZoneKind
    length_m: float

    def message(self) -> str:
        where = "inside no-fly zone" if self.kind == "no_fly" else "outside permitted airspace"
        return f"leg {self.leg_index} runs {self.length_m:.0f} m {where} {self.zone!r}"


@dataclass(frozen=True)
class Airspace:
    """Zones projected to local metres, with the no-fly zones already buffered.

    Attributes
    ----------
    permitted
        (name, polygon in metres) of every permitted zone; empty means no inclusion limit.
    no_fly
        (name, buffered polygon in metres) of every no-fly zone.
    buffer_m
        Safety buffer applied to the no-fly zones, metres.
    """

    permitted: tuple[tuple[str, Polygon], ...]
    no_fly: tuple[tuple[str, Polygon], ...]
    buffer_m: float

    @property
    def permitted_union(self) -> BaseGeometry | None:
        """Union of permitted zones (None when there is no inclusion limit)."""
        return unary_union([p for _, p in self.permitted]) if self.permitted else None

    @property
    def no_fly_union(self) -> BaseGeometry:
        """Union of buffered no-fly zones (empty polygon when there are none)."""
        return unary_union([p for _, p in self.no_fly]) if self.no_fly else Polygon()

    def legal_region(self, bounds: BaseGeometry) -> BaseGeometry:
        """Where the aircraft may be: permitted zones (or ``bounds`` when none) minus buffered no-fly zones."""
        region = self.permitted_union if self.permitted else bounds
        return region.difference(self.no_fly_union)


def read_zones(path: str | os.PathLike, kind: ZoneKind, *, what: str | None = None) -> list[Zone]:
    """Read airspace polygons from a GeoJSON or KML file.

    Parameters
    ----------
    path
        Polygons (multi-polygons split into parts); a ``name`` or ``id`` property labels each zone.
    kind
        ``"permitted"`` or ``"no_fly"``.
    what
        How messages call the file when it is missing (e.g. ``"--no-fly file"``).

    Returns
    -------
    list of Zone
        At least one.

    Raises
    ------
    MissingFileError, InvalidFileError
        As :func:`plumetrace.io.vector.read_features`; a geometry that is not a polygon; no polygon at all.
    """
    zones: list[Zone] = []
    stem = Path(path).name
    for index, (geom, props) in enumerate(read_features(path, what=what or f"{kind.replace('_', '-')} zone file")):
        parts = _polygon_parts(geom)
        if parts is None:
            raise InvalidFileError(path, f"features[{index}].geometry", f"expected a Polygon, got {geom.geom_type}")
        label = props.get("name") or props.get("id") or f"{stem}[{index}]"
        for j, part in enumerate(parts):
            name = str(label) if len(parts) == 1 else f"{label}#{j}"
            zones.append(Zone(name=name, kind=kind, polygon_lonlat=part, source=str(path)))
    if not zones:
        raise InvalidFileError(path, "features", f"no polygon found: a {kind.replace('_', '-')} file needs one or more")
    return zones


def build_airspace(zones: Sequence[Zone], projection: LocalProjection, *, buffer_m: float = 0.0) -> Airspace:
    """Project zones to local metres and buffer the no-fly zones by ``buffer_m``.

    Parameters
    ----------
    zones
        Permitted and no-fly zones, lon/lat degrees.
    projection
        The plan's local projection.
    buffer_m
        Safety distance kept from every no-fly zone, metres (≥ 0).
    """
    if not buffer_m >= 0.0:
        raise InvalidInputError("buffer_m", f"must be ≥ 0 m, got {buffer_m}")
    permitted = tuple((z.name, projection.to_local(z.polygon_lonlat)) for z in zones if z.kind == "permitted")
    # Round corners are drawn with chords; growing the radius by 1 / cos(half the chord angle) keeps every
    # chord at least ``buffer_m`` from the zone, so the polygon is conservative rather than 0.5 % short.
    quad_segs = 8
    grow = 1.0 / math.cos(math.pi / (4 * quad_segs))
    no_fly = tuple(
        (
            z.name,
            projection.to_local(z.polygon_lonlat).buffer(buffer_m * grow, quad_segs=quad_segs)
            if buffer_m >= 0.01
            else projection.to_local(z.polygon_lonlat),
        )  # sub-cm buffers are round-off
        for z in zones
        if z.kind == "no_fly"
    )
    return Airspace(permitted=permitted, no_fly=no_fly, buffer_m=float(buffer_m))


def find_violations(
    legs_m: Sequence[LineString], airspace: Airspace, *, tolerance_m: float = 0.01, depth_m: float = 0.05
) -> list[Violation]:
    """Every (leg, zone) pair that breaks the airspace limits.

    Parameters
    ----------
    legs_m
        Straight legs or polylines in local metres.
    airspace
        From :func:`build_airspace`.
    tolerance_m
        Length inside a zone below which a touch is ignored (round-off), metres.
    depth_m
        How far past a zone's edge a leg must go to count, metres: flying exactly along the edge of a
        buffered no-fly zone (or of permitted airspace) complies.

    Returns
    -------
    list of Violation
        Ordered by leg then zone; empty when the route complies.
    """
    violations: list[Violation] = []
    if not legs_m:
        return violations
    legs = list(legs_m)
    arr = np.asarray(legs, dtype=object)
    for name, zone in airspace.no_fly:
        core = zone.buffer(-depth_m)  # running along the buffered edge is allowed; entering it is not
        if core.is_empty:
            continue
        shapely.prepare(core)
        hits = shapely.intersects(core, arr)
        for i in map(int, hits.nonzero()[0]):
            inside = legs[i].intersection(core).length
            if inside > tolerance_m:
                violations.append(Violation(i, name, "no_fly", float(inside)))
    permitted = airspace.permitted_union
    if permitted is not None:
        grown = permitted.buffer(depth_m)
        shapely.prepare(grown)
        outside_any = ~shapely.covers(grown, arr)
        label = " + ".join(n for n, _ in airspace.permitted)
        for i in map(int, outside_any.nonzero()[0]):
            outside = legs[i].difference(grown).length
            if outside > tolerance_m:
                violations.append(Violation(i, label, "permitted", float(outside)))
    violations.sort(key=lambda v: (v.leg_index, v.zone))
    return violations


def require_compliance(legs_m: Sequence[LineString], airspace: Airspace, *, what: str = "plan") -> None:
    """Raise InvalidInputError naming the first offending leg and zone when the legs do not comply."""
    violations = find_violations(legs_m, airspace)
    if violations:
        first = violations[0]
        more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
        field = "no_fly" if first.kind == "no_fly" else "permitted"
        raise InvalidInputError(field, f"{what} cannot comply: {first.message()}{more}")
