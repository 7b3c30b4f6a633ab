"""Order the segments to fly, join them with legal connecting legs, and split the route into sorties that
each start and end at home within the aircraft's endurance.

A *segment* is a straight stretch that must be flown as given (an imaging line, a downwind transect, one
level of a vertical curtain), in local metres. Ordering is greedy nearest-neighbour from home, choosing
each segment's direction; connections are routed with :class:`~plumetrace.plan.routing.VisibilityRouter`
and costed at least as long as the turn the aircraft needs (:func:`~plumetrace.plan.routing.turn_length_m`).
A sortie ends when the next segment plus the flight home would exceed the endurance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from shapely.geometry import LineString

from plumetrace.errors import InvalidInputError
from plumetrace.plan.routing import VisibilityRouter, turn_length_m

__all__ = ["Segment", "Waypoint", "Sortie", "order_segments", "build_sorties", "sortie_legs"]

XY = tuple[float, float]


@dataclass(frozen=True)
class Segment:
    """A straight stretch to fly, local metres, at ``altitude_m`` above ground."""

    start: XY
    end: XY
    altitude_m: float
    label: str = "line"

    @property
    def length_m(self) -> float:
        return math.hypot(self.end[0] - self.start[0], self.end[1] - self.start[1])

    def reversed(self) -> Segment:
        return Segment(self.end, self.start, self.altitude_m, self.label)


@dataclass(frozen=True)
class Waypoint:
    """A point of the route, local metres; ``kind`` is ``line_start``, ``line_end`` or ``transit``."""

    x_m: float
    y_m: float
    altitude_m: float
    kind: str


@dataclass
class Sortie:
    """One flight from home and back: the waypoints between take-off and return (home excluded)."""

    waypoints: list[Waypoint] = field(default_factory=list)
    length_m: float = 0.0
    segment_count: int = 0


def order_segments(segments: list[Segment], home: XY) -> list[Segment]:
    """Greedy nearest-neighbour order from ``home``, each segment flown in its nearer direction."""
    remaining = list(range(len(segments)))
    if not remaining:
        return []
    starts = np.array([s.start for s in segments], dtype=float)
    ends = np.array([s.end for s in segments], dtype=float)
    pos = np.asarray(home, dtype=float)
    used = np.zeros(len(segments), dtype=bool)
    out: list[Segment] = []
    for _ in range(len(segments)):
        d_fwd = np.hypot(*(starts - pos).T)
        d_rev = np.hypot(*(ends - pos).T)
        d_fwd[used] = np.inf
        d_rev[used] = np.inf
        i_f, i_r = int(np.argmin(d_fwd)), int(np.argmin(d_rev))
        if d_fwd[i_f] <= d_rev[i_r]:
            seg = segments[i_f]
            used[i_f] = True
        else:
            seg = segments[i_r].reversed()
            used[i_r] = True
        out.append(seg)
        pos = np.asarray(seg.end, dtype=float)
    return out


def _polyline_length(points: list[XY]) -> float:
    return float(sum(math.hypot(b[0] - a[0], b[1] - a[1]) for a, b in zip(points, points[1:])))


def _connection_cost(prev: Segment, nxt: Segment, routed_m: float, turn_radius_m: float) -> float:
    """Routed length, but never less than the turn an aircraft needs between anti-parallel segments."""
    u = np.subtract(prev.end, prev.start)
    v = np.subtract(nxt.end, nxt.start)
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if turn_radius_m <= 0 or nu == 0 or nv == 0:
        return routed_m
    cos = float(np.dot(u, v) / (nu * nv))
    if cos > -0.99:  # not a reversal: a turn through less than ~172° costs about r * angle
        return max(routed_m, turn_radius_m * math.acos(max(-1.0, min(1.0, cos))))
    w = np.subtract(nxt.start, prev.end)
    along = abs(float(np.dot(w, u) / nu))
    lateral = abs(float(u[0] * w[1] - u[1] * w[0]) / nu)
    return max(routed_m, turn_length_m(lateral, turn_radius_m) + along)


def build_sorties(
    segments: list[Segment],
    *,
    home: XY,
    router: VisibilityRouter,
    cruise_altitude_m: float,
    endurance_m: float,
    turn_radius_m: float = 0.0,
) -> list[Sortie]:
    """Fly ``segments`` in order, splitting into sorties that return home within ``endurance_m``.

    Parameters
    ----------
    segments
        Ordered segments (see :func:`order_segments`), local metres.
    home
        Take-off and landing point, local metres.
    router
        Legal-route finder for connecting legs.
    cruise_altitude_m
        Altitude of transit waypoints, metres above ground.
    endurance_m
        Longest distance one sortie may fly (endurance × speed), metres; ``inf`` for no limit.
    turn_radius_m
        Minimum turn radius, metres (costs turns; legs themselves are straight).

    Returns
    -------
    list of Sortie

    Raises
    ------
    InvalidInputError
        A single segment with its ferry flights from and back to home does not fit the endurance.
    """
    sorties: list[Sortie] = []
    cache: dict[tuple[XY, XY], list[XY]] = {}

    def route(a: XY, b: XY) -> list[XY]:
        key = (a, b)
        if key not in cache:
            cache[key] = router.route(a, b)
        return cache[key]

    current: Sortie | None = None
    prev: Segment | None = None
    for index, seg in enumerate(segments):
        back = route(seg.end, home)
        back_m = _polyline_length(back)
        if current is not None and prev is not None:
            link = route(prev.end, seg.start)
            link_m = _connection_cost(prev, seg, _polyline_length(link), turn_radius_m)
            if current.length_m + link_m + seg.length_m + back_m <= endurance_m:
                for x, y in link[1:-1]:
                    current.waypoints.append(Waypoint(x, y, cruise_altitude_m, "transit"))
                current.waypoints.append(Waypoint(*seg.start, seg.altitude_m, "line_start"))
                current.waypoints.append(Waypoint(*seg.end, seg.altitude_m, "line_end"))
                current.length_m += link_m + seg.length_m
                current.segment_count += 1
                prev = seg
                continue
            # close the current sortie
            _close(current, prev, route, home, cruise_altitude_m)
            sorties.append(current)
        out = route(home, seg.start)
        out_m = _polyline_length(out)
        need = out_m + seg.length_m + back_m
        if need > endurance_m:
            raise InvalidInputError(
                "endurance_min",
                f"{seg.label} {index + 1} ({seg.length_m / 1000:.1f} km) with the ferry from and back to home needs "
                f"{need / 1000:.1f} km, more than one sortie's {endurance_m / 1000:.1f} km",
            )
        current = Sortie()
        for x, y in out[1:-1]:
            current.waypoints.append(Waypoint(x, y, cruise_altitude_m, "transit"))
        current.waypoints.append(Waypoint(*seg.start, seg.altitude_m, "line_start"))
        current.waypoints.append(Waypoint(*seg.end, seg.altitude_m, "line_end"))
        current.length_m = out_m + seg.length_m
        current.segment_count = 1
        prev = seg
    if current is not None and prev is not None:
        _close(current, prev, route, home, cruise_altitude_m)
        sorties.append(current)
    return sorties


def _close(sortie: Sortie, prev: Segment, route, home: XY, cruise_altitude_m: float) -> None:
    back = route(prev.end, home)
    for x, y in back[1:-1]:
        sortie.waypoints.append(Waypoint(x, y, cruise_altitude_m, "transit"))
    sortie.length_m += _polyline_length(back)


def sortie_legs(sortie: Sortie, home: XY) -> list[LineString]:
    """Straight legs home → waypoints → home of one sortie, local metres (for compliance checks)."""
    pts = [home] + [(w.x_m, w.y_m) for w in sortie.waypoints] + [home]
    return [LineString([a, b]) for a, b in zip(pts, pts[1:]) if a != b]
