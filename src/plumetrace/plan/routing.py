"""Connecting legs that never cross forbidden airspace: a visibility graph over the legal region.

The legal region is permitted airspace minus buffered no-fly zones (:meth:`Airspace.legal_region`).
Graph nodes are the corners of that region shrunk by a small ``clearance_m`` (so routes pass *outside*
the buffered zones, not along their edges); an edge joins two nodes when the straight segment between
them lies inside the legal region. The shortest path (networkx Dijkstra) between two points is the
shortest polygonal route through that region, up to the clearance.

Turn radius: a fixed-wing aircraft cannot reverse on the spot. :func:`turn_length_m` gives the length of
the shortest turn joining two anti-parallel flight lines ``d`` apart (a U-turn when ``d ≥ 2r``, an
"omega" turn when ``d < 2r``); the planner adds it to the routed length of each connection.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from plumetrace.errors import InvalidInputError

__all__ = ["VisibilityRouter", "turn_length_m"]


def turn_length_m(lateral_offset_m: float, turn_radius_m: float) -> float:
    """Length of the shortest turn reversing heading with a lateral offset, metres.

    Parameters
    ----------
    lateral_offset_m
        Distance between the two anti-parallel lines, metres (≥ 0).
    turn_radius_m
        Minimum turn radius, metres (≥ 0).

    Returns
    -------
    float
        ``π r + (d - 2r)`` for ``d ≥ 2r`` (semicircle plus straight); for ``d < 2r`` the omega turn
        ``r (π + 4a)`` with ``a = π/2 - atan2(d/2 + r, sqrt(4r² - (d/2 + r)²))`` — ``7π r / 3`` at ``d = 0``.
    """
    d = abs(float(lateral_offset_m))
    r = float(turn_radius_m)
    if r <= 0.0:
        return d
    if d >= 2.0 * r:
        return math.pi * r + (d - 2.0 * r)
    h = d / 2.0 + r
    x2 = math.sqrt(max(4.0 * r * r - h * h, 0.0))
    a = math.pi / 2.0 - math.atan2(h, x2)
    return r * (math.pi + 4.0 * a)


@dataclass
class VisibilityRouter:
    """Shortest legal routes between points in local metres.

    Parameters
    ----------
    legal_region
        Where the aircraft may fly (polygon or multipolygon, metres).
    clearance_m
        Extra distance kept from the region's boundary by the graph nodes, metres.
    """

    legal_region: BaseGeometry
    clearance_m: float = 1.0
    _graph: nx.Graph = field(init=False, repr=False)
    _nodes: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Lenient test (edges touching the region's boundary pass) for legs that start or end on it, e.g.
        # flight lines clipped at a buffered zone; strict test (keep clearance / 2) between graph nodes.
        self._legal = self.legal_region.buffer(self.clearance_m * 0.01)
        self._strict = self.legal_region.buffer(-self.clearance_m * 0.5, quad_segs=2)
        shapely.prepare(self._legal)
        shapely.prepare(self._strict)
        # Douglas-Peucker keeps a subset of the vertices, so nodes stay clearance_m inside; a tolerance of
        # clearance / 4 keeps chords between neighbours clear of the strict test and drops most arc vertices.
        inner = self.legal_region.buffer(-self.clearance_m, quad_segs=2).simplify(0.25 * self.clearance_m)
        corners = []
        for poly in getattr(inner, "geoms", [inner]):
            if poly.is_empty or not isinstance(poly, Polygon):
                continue
            for ring in (poly.exterior, *poly.interiors):
                corners.append(np.asarray(ring.coords)[:-1])
        nodes = np.concatenate(corners) if corners else np.empty((0, 2))
        self._nodes = nodes[:, :2]
        graph = nx.Graph()
        n = len(self._nodes)
        graph.add_nodes_from(range(n))
        if n > 1:
            i, j = np.triu_indices(n, k=1)
            segs = shapely.linestrings(np.stack([self._nodes[i], self._nodes[j]], axis=1))
            ok = shapely.contains(self._strict, segs)
            lengths = np.hypot(*(self._nodes[i] - self._nodes[j]).T)
            graph.add_weighted_edges_from(zip(i[ok].tolist(), j[ok].tolist(), lengths[ok].tolist()))
        self._graph = graph

    def is_clear(self, a: tuple[float, float], b: tuple[float, float]) -> bool:
        """Whether the straight segment a→b stays inside the legal region."""
        if a == b:
            return bool(shapely.contains(self._legal, Point(a)))
        return bool(shapely.contains(self._legal, LineString([a, b])))

    def route(self, a: tuple[float, float], b: tuple[float, float]) -> list[tuple[float, float]]:
        """Shortest legal polyline from ``a`` to ``b`` (both included), metres.

        Raises
        ------
        InvalidInputError
            When an end point lies outside the legal region or no legal route joins them.
        """
        a = (float(a[0]), float(a[1]))
        b = (float(b[0]), float(b[1]))
        for name, p in (("start", a), ("end", b)):
            if not shapely.covers(self._legal, Point(p)):
                raise InvalidInputError("route", f"{name} point ({p[0]:.0f}, {p[1]:.0f}) m lies in forbidden airspace")
        if self.is_clear(a, b):
            return [a, b]
        graph = self._graph  # temporary end nodes are added, then removed
        n = len(self._nodes)
        try:
            for tag, p in (("a", a), ("b", b)):
                graph.add_node(tag)
                if n == 0:
                    continue
                segs = shapely.linestrings(
                    np.stack([np.broadcast_to(np.asarray(p), self._nodes.shape), self._nodes], axis=1)
                )
                ok = np.nonzero(shapely.contains(self._legal, segs))[0]
                lengths = np.hypot(*(self._nodes[ok] - np.asarray(p)).T)
                graph.add_weighted_edges_from((tag, int(k), float(w)) for k, w in zip(ok, lengths))
            path = nx.shortest_path(graph, "a", "b", weight="weight")
        except nx.NetworkXNoPath:
            raise InvalidInputError(
                "route", "no legal route between the points (enclosed by forbidden airspace)"
            ) from None
        finally:
            graph.remove_nodes_from(["a", "b"])
        return [a] + [tuple(map(float, self._nodes[k])) for k in path[1:-1]] + [b]
