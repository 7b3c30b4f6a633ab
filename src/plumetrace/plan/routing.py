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
        self._nodes, self._graph = self._build_graph(coarse=True)
        self._dense: tuple[np.ndarray, nx.Graph] | None = None

    def _build_graph(self, *, coarse: bool) -> tuple[np.ndarray, nx.Graph]:
        """Nodes (clearance_m inside the region) and the edges between them that pass the strict test.

        ``coarse`` puts few nodes round convex obstacles (:meth:`_hole_nodes`); otherwise every obstacle
        keeps its own corners (Douglas-Peucker at clearance / 4, a subset of its vertices, so chords between
        neighbours stay clear). The dense graph is the fallback when the coarse one finds no route.
        """
        inner = self.legal_region.buffer(-self.clearance_m, quad_segs=2)
        corners = []
        for poly in getattr(inner, "geoms", [inner]):
            if poly.is_empty or not isinstance(poly, Polygon):
                continue
            corners.append(self._ring_nodes(poly.exterior))
            for ring in poly.interiors:
                corners.append(self._hole_nodes(ring) if coarse else self._ring_nodes(ring))
        nodes = np.concatenate(corners) if corners else np.empty((0, 2))
        nodes = nodes[:, :2]
        nodes = nodes[shapely.covers(self._strict, shapely.points(nodes))] if len(nodes) else nodes
        graph = nx.Graph()
        n = len(nodes)
        graph.add_nodes_from(range(n))
        if n > 1:
            i, j = np.triu_indices(n, k=1)
            segs = shapely.linestrings(np.stack([nodes[i], nodes[j]], axis=1))
            ok = self._strict_clear(segs)
            lengths = np.hypot(*(nodes[i] - nodes[j]).T)
            graph.add_weighted_edges_from(zip(i[ok].tolist(), j[ok].tolist(), lengths[ok].tolist()))
        return nodes, graph

    def _ring_nodes(self, ring) -> np.ndarray:
        """Corners of a ring, Douglas-Peucker simplified at clearance / 4 (a subset of its own vertices)."""
        return np.asarray(ring.simplify(0.25 * self.clearance_m).coords)[:-1, :2]

    def _hole_nodes(self, ring) -> np.ndarray:
        """Few corners round a convex obstacle: its hull, simplified by ``t`` and grown by ``t`` (mitred).

        The grown polygon contains the hull, so its edges — the graph edges between neighbouring corners —
        stay clear of the obstacle while a circle of 64 vertices becomes a ~16-gon (a detour of at most a
        few ``t``). Non-convex obstacles keep their own (simplified) corners so pockets stay reachable.
        """
        hole = Polygon(ring)
        hull = hole.convex_hull
        if hull.area > 1.01 * hole.area or hull.geom_type != "Polygon":
            return self._ring_nodes(ring)
        t = max(0.02 * math.sqrt(hull.area), self.clearance_m)
        grown = hull.simplify(t).buffer(t, join_style="mitre")
        return np.asarray(grown.exterior.coords)[:-1, :2]

    def _strict_clear(self, segs: np.ndarray) -> np.ndarray:
        """Which segments keep clearance / 2 inside the region: none may touch a piece of its outside.

        The outside (frame beyond the region plus every hole) is split into parts in an STRtree, so each
        segment is only tested against the parts its bounding box meets — far cheaper than testing every
        segment against the whole region when there are many no-fly zones.
        """
        minx, miny, maxx, maxy = self._strict.bounds
        pad = 1.0 + 0.01 * max(maxx - minx, maxy - miny)
        frame = shapely.box(minx - pad, miny - pad, maxx + pad, maxy + pad)
        parts = shapely.get_parts(frame.difference(self._strict))
        ok = np.ones(len(segs), dtype=bool)
        if len(parts):
            hit_seg, _ = shapely.STRtree(parts).query(segs, predicate="intersects")
            ok[np.unique(hit_seg)] = False
        return ok

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
        path = self._shortest(self._nodes, self._graph, a, b)
        if path is None:  # the coarse graph missed a narrow passage: retry with every corner
            if self._dense is None:
                self._dense = self._build_graph(coarse=False)
            path = self._shortest(*self._dense, a, b)
        if path is None:
            raise InvalidInputError("route", "no legal route between the points (enclosed by forbidden airspace)")
        return path

    def _shortest(
        self, nodes: np.ndarray, graph: nx.Graph, a: tuple[float, float], b: tuple[float, float]
    ) -> list[tuple[float, float]] | None:
        n = len(nodes)
        try:  # temporary end nodes are added, then removed
            for tag, p in (("a", a), ("b", b)):
                graph.add_node(tag)
                if n == 0:
                    continue
                segs = shapely.linestrings(np.stack([np.broadcast_to(np.asarray(p), nodes.shape), nodes], axis=1))
                ok = np.nonzero(shapely.contains(self._legal, segs))[0]
                lengths = np.hypot(*(nodes[ok] - np.asarray(p)).T)
                graph.add_weighted_edges_from((tag, int(k), float(w)) for k, w in zip(ok, lengths))
            path = nx.shortest_path(graph, "a", "b", weight="weight")
        except nx.NetworkXNoPath:
            return None
        finally:
            graph.remove_nodes_from(["a", "b"])
        return [a] + [tuple(map(float, nodes[k])) for k in path[1:-1]] + [b]
