"""Parallel flight lines that cover an area: spacing from swath and side overlap, heading that minimises
lines and turns, clipped so that no line enters forbidden airspace.

Everything is in local metres (:mod:`plumetrace.plan.geometry`). Heading is degrees clockwise from the
projection's grid north, in [0, 180) (a line is flown in either direction).

How lines are laid out
----------------------
Rotate the area so the heading points along +x. Lines sit ``spacing = swath (1 - overlap)`` apart,
centred on the area, and line ``k`` is responsible for the strip ``|y - y_k| ≤ spacing / 2``; the strips
tile the area. The line runs over the x-extent of the area inside its strip (so slanted edges are covered
to the corner) intersected with the legal region (so it never enters a buffered no-fly zone or leaves
permitted airspace). Where a no-fly zone blocks a line but leaves part of its strip uncovered, extra
*fill* lines are added at the height of each uncovered patch.

The heading is chosen from the directions of the coverable area's convex-hull edges and a 10° sweep:
the fewest line segments (each costs a turn), then the shortest total line length.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import LineString, Polygon
from shapely.geometry.base import BaseGeometry

from plumetrace.errors import InvalidInputError

__all__ = ["FlightLine", "CoverageLayout", "layout_lines", "coverage_fraction", "candidate_headings"]

_MIN_PIECE_M = 1.0
# Unions of many edge-sharing swath rectangles are snapped to a millimetre grid: without it GEOS has been
# seen to drop 10 % of the area of such a union (shapely 2.2, rectangles at UTM-sized coordinates).
_GRID_M = 1e-3


@dataclass(frozen=True)
class FlightLine:
    """One straight imaging line in local metres (start → end along the heading)."""

    start: tuple[float, float]
    end: tuple[float, float]
    row: int  # strip number across the area (fill lines share the row of their strip)

    @property
    def length_m(self) -> float:
        return math.hypot(self.end[0] - self.start[0], self.end[1] - self.start[1])

    def reversed(self) -> FlightLine:
        return FlightLine(self.end, self.start, self.row)


@dataclass(frozen=True)
class CoverageLayout:
    """Flight lines over an area and how well they cover it.

    Attributes
    ----------
    lines
        Imaging lines, local metres.
    heading_deg
        Line heading, degrees clockwise from grid north, [0, 180).
    swath_m, spacing_m
        Swath width and distance between lines, metres.
    coverage_fraction
        Fraction of ``coverable`` area inside the union of the swaths.
    coverable
        The area to image: area of interest minus forbidden airspace, metres.
    """

    lines: tuple[FlightLine, ...]
    heading_deg: float
    swath_m: float
    spacing_m: float
    coverage_fraction: float
    coverable: BaseGeometry


def _angle(heading_deg: float) -> float:
    """Rotation (degrees, counter-clockwise) that brings the heading onto +x."""
    return -(90.0 - heading_deg)


def candidate_headings(region: BaseGeometry, *, step_deg: float = 10.0) -> list[float]:
    """Headings worth trying: convex-hull edge directions plus a regular sweep, degrees in [0, 180)."""
    hull = np.asarray(region.convex_hull.exterior.coords) if region.convex_hull.geom_type == "Polygon" else None
    heads = list(np.arange(0.0, 180.0, step_deg))
    if hull is not None:
        d = np.diff(hull, axis=0)
        heads += list(np.degrees(np.arctan2(d[:, 0], d[:, 1])) % 180.0)
    heads = sorted({round(float(h) % 180.0, 6) for h in heads})
    return heads


def _intervals(pieces: BaseGeometry) -> list[tuple[float, float]]:
    parts = shapely.get_parts(pieces)
    if len(parts) == 0:
        return []
    b = shapely.bounds(parts)
    order = np.argsort(b[:, 0])
    merged: list[list[float]] = []
    for x0, x1 in b[order][:, [0, 2]]:
        if merged and x0 <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], x1)
        else:
            merged.append([float(x0), float(x1)])
    return [(a, c) for a, c in merged]


def _rows(
    rot_region: BaseGeometry,
    rot_legal: BaseGeometry,
    ys: np.ndarray,
    half_m: float,
    rows: np.ndarray,
    xbounds: tuple[float, float] | None = None,
) -> list[tuple[int, float, float, float]]:
    """Line pieces (row, y, x0, x1) in the rotated frame for strips centred on ``ys``."""
    minx, _, maxx, _ = rot_region.bounds
    if xbounds is not None:
        minx, maxx = xbounds
    strips = shapely.box(minx - 1.0, ys - half_m, maxx + 1.0, ys + half_m)
    try:
        inside = shapely.intersection(rot_region, strips)
    except shapely.errors.GEOSException:  # near-degenerate input: snap to a millimetre grid and retry
        inside = shapely.intersection(rot_region, strips, grid_size=1e-3)
    out: list[tuple[int, float, float, float]] = []
    for row, y, piece in zip(rows, ys, inside):
        if piece.is_empty or piece.area <= 0.0:
            continue
        for x0, x1 in _intervals(piece):
            seg = LineString([(x0, y), (x1, y)])
            legal = seg.intersection(rot_legal)
            for part in shapely.get_parts(legal):
                if part.geom_type != "LineString" or part.length < _MIN_PIECE_M:
                    continue
                xs = np.asarray(part.coords)[:, 0]
                out.append((int(row), float(y), float(xs.min()), float(xs.max())))
    return out


def _footprints(pieces: list[tuple[int, float, float, float]], swath_m: float) -> BaseGeometry:
    if not pieces:
        return Polygon()
    arr = np.asarray([p[1:] for p in pieces])
    return shapely.union_all(
        shapely.box(arr[:, 1], arr[:, 0] - swath_m / 2, arr[:, 2], arr[:, 0] + swath_m / 2), grid_size=_GRID_M
    )


def _layout(
    region: BaseGeometry, legal: BaseGeometry, heading_deg: float, swath_m: float, spacing_m: float, *, fill: bool
) -> tuple[list[tuple[int, float, float, float]], BaseGeometry, BaseGeometry]:
    angle = _angle(heading_deg)
    rot_region = affinity.rotate(region, angle, origin=(0.0, 0.0))
    rot_legal = affinity.rotate(legal, angle, origin=(0.0, 0.0))  # callers centre the frame first (precision)
    _, miny, _, maxy = rot_region.bounds
    height = maxy - miny
    n = max(1, math.ceil(height / spacing_m - 1e-9))
    centre = (miny + maxy) / 2.0
    ys = centre + (np.arange(n) - (n - 1) / 2.0) * spacing_m
    pieces = _rows(rot_region, rot_legal, ys, spacing_m / 2.0, np.arange(n))
    if fill:
        for _ in range(3):
            covered = _footprints(pieces, swath_m)
            missing = shapely.difference(rot_region, covered, grid_size=_GRID_M)
            patches = [p for p in shapely.get_parts(missing) if p.area > 1e-4 * max(rot_region.area, 1.0)]
            if not patches:
                break
            extra: list[tuple[int, float, float, float]] = []
            for patch in patches:
                _, py0, _, py1 = patch.bounds
                # Try heights across the patch; keep the one whose line covers most of it in fewest pieces
                # (a line grazing a buffered zone's corner breaks into short pieces, each costing a turn).
                best: tuple[float, int, list] | None = None
                for f in (0.5, 0.02, 0.98, 0.25, 0.75):
                    y = py0 + f * (py1 - py0)
                    row = int(np.argmin(np.abs(ys - y)))
                    got = _rows(patch.buffer(1e-6), rot_legal, np.array([y]), swath_m / 2.0, np.array([row]))
                    if not got:
                        continue
                    covered_m2 = patch.intersection(_footprints(got, swath_m)).area
                    key = (round(covered_m2 / patch.area, 3), -len(got), got)
                    if best is None or key[:2] > best[:2]:
                        best = key
                if best is not None:
                    extra.extend(best[2])
            if not extra:
                break
            pieces.extend(extra)
    return pieces, rot_region, rot_legal


def _to_lines(pieces: list[tuple[int, float, float, float]], heading_deg: float) -> list[FlightLine]:
    angle = _angle(heading_deg)
    c, s = math.cos(math.radians(-angle)), math.sin(math.radians(-angle))
    lines = []
    for row, y, x0, x1 in sorted(pieces):
        a = (c * x0 - s * y, s * x0 + c * y)
        b = (c * x1 - s * y, s * x1 + c * y)
        lines.append(FlightLine(a, b, row))
    return lines


def coverage_fraction(
    lines: list[FlightLine] | tuple[FlightLine, ...], swath_m: float, coverable: BaseGeometry
) -> float:
    """Fraction of ``coverable`` inside the union of the lines' swaths (flat-ended rectangles), in [0, 1]."""
    if coverable.is_empty or coverable.area <= 0.0:
        return 0.0
    if not lines:
        return 0.0
    geoms = [LineString([ln.start, ln.end]).buffer(swath_m / 2.0, cap_style="flat") for ln in lines]
    covered = shapely.union_all(geoms, grid_size=_GRID_M)
    return float(shapely.intersection(coverable, covered, grid_size=_GRID_M).area / coverable.area)


def layout_lines(
    area: BaseGeometry,
    legal: BaseGeometry,
    *,
    swath_m: float,
    overlap: float = 0.2,
    heading_deg: float | None = None,
) -> CoverageLayout:
    """Lay parallel imaging lines over an area.

    Parameters
    ----------
    area
        Area of interest, local metres (polygon with holes, or multipolygon).
    legal
        Where the aircraft may fly, local metres (permitted airspace minus buffered no-fly zones).
    swath_m
        Swath width on the ground, metres (> 0).
    overlap
        Side overlap between neighbouring swaths, fraction in [0, 0.9].
    heading_deg
        Line heading, degrees clockwise from grid north; chosen automatically when None.

    Returns
    -------
    CoverageLayout

    Raises
    ------
    InvalidInputError
        Bad swath or overlap; nothing left to image once forbidden airspace is removed.
    """
    if not swath_m > 0.0 or not math.isfinite(swath_m):
        raise InvalidInputError("swath_m", f"must be a positive number of metres, got {swath_m}")
    if not 0.0 <= overlap <= 0.9:
        raise InvalidInputError("overlap", f"must lie in [0, 0.9], got {overlap}")
    # Work about the area's centre: rotations and overlays keep full precision near the origin.
    cx, cy = area.centroid.x, area.centroid.y
    area = affinity.translate(area, -cx, -cy)
    legal = affinity.translate(legal, -cx, -cy)
    coverable = area.intersection(legal)
    if coverable.is_empty or coverable.area < 1e-6 * max(area.area, 1.0):
        raise InvalidInputError("aoi", "no part of the area of interest lies in legal airspace")
    spacing = swath_m * (1.0 - overlap)
    if heading_deg is None:
        best: tuple[int, float, float] | None = None
        for h in candidate_headings(coverable):
            pieces, _, _ = _layout(coverable, legal, h, swath_m, spacing, fill=False)
            score = (len(pieces), sum(p[3] - p[2] for p in pieces), h)
            if best is None or score < best:
                best = score
        heading = float(best[2]) if best else 0.0
    else:
        if not math.isfinite(heading_deg):
            raise InvalidInputError("heading_deg", f"must be a finite number of degrees, got {heading_deg}")
        heading = float(heading_deg) % 180.0
    pieces, _, _ = _layout(coverable, legal, heading, swath_m, spacing, fill=True)
    lines = _to_lines(pieces, heading)
    frac = coverage_fraction(lines, swath_m, coverable)
    lines = [FlightLine((ln.start[0] + cx, ln.start[1] + cy), (ln.end[0] + cx, ln.end[1] + cy), ln.row) for ln in lines]
    coverable = affinity.translate(coverable, cx, cy)
    return CoverageLayout(tuple(lines), heading, float(swath_m), float(spacing), frac, coverable)
