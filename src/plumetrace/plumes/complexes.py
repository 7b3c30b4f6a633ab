"""Plume complexes: the components of one plume that the segmentation cut apart, joined under one source.

A turbulent plume seen in a snapshot is lumpy, and far from its source its column falls to the level of the noise:
the hysteresis of :func:`plumetrace.plumes.segment.segment_plumes` then cuts it into several components, and each
would be reported as a plume with its own "source". :func:`merge_components` joins them again. Components are
visited from the most upwind; a component joins a complex already started upwind of it when

1. **it lies downwind of the complex's source** (its most upwind pixel is at most one pixel upwind of it);
2. **it lies inside the wind-direction cone**: both its upwind end (the mean position of its pixels within one
   pixel of its most upwind one) and its centroid are seen from the complex's source at most
   ``cone_sigmas`` × σ_dir off the downwind axis (σ_dir: the wind's direction 1σ; default 2σ, clipped to
   ``min_half_angle_deg``-``max_half_angle_deg``), with a tolerance of ``lateral_tolerance_px`` pixels across the
   wind; a component beside the plume, whose upwind end lies across the wind from the source, does not;
3. **the along-wind gap** between the complex's downwind end and the component's upwind end is at most
   max(``min_gap_px`` pixels, L × (F · low/high − 1)), L being the along-wind distance from the source to the
   complex's downwind end, low/high the hysteresis thresholds (noise sigmas) and F = ``peak_to_mean`` the ratio
   of a snapshot's local column peak to its mean column.

Why that gap: a plume whose width grows in proportion to the distance x from its source (Briggs σ_y = a·x for
stability classes B–D, and the puff ensemble of :mod:`plumetrace.simulate.plumes`) has a mean peak column ∝ 1/x.
The complex ends at L where its column fell to the growth threshold (low × noise σ); further downwind a piece can
still be seeded where a turbulent lump F times the mean exceeds the seed threshold (high × noise σ), i.e. up to
x = L · F · low/high. With F = 4 (lumps of a few times the mean are common in snapshots, far larger ones are not)
and the default 2σ/4σ thresholds this allows a gap of one plume length L; the floor of 3 pixels covers the
smoothing and closing of the segmentation. The thresholds are in units of the noise, so the gap follows it: a
noisier map ends the plume sooner (smaller L) and admits a shorter gap.

A second true source survives: beside the plume (outside the cone at its upwind end), upwind of it (a complex is
only extended downwind), or further downwind than a plume length. One in line downwind, within the gap, cannot be
told from a fragment and is joined — its mass then counts in the complex's rate.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from plumetrace.errors import InvalidInputError
from plumetrace.pixel_geometry import PixelGeometry, downwind_unit_vector

__all__ = ["MergeRule", "DEFAULT_MERGE_RULE", "PlumeComplex", "cone_half_angle_deg", "max_gap_m", "merge_components"]


@dataclass(frozen=True)
class MergeRule:
    """Settings of :func:`merge_components`.

    Attributes
    ----------
    cone_sigmas : float
        Half-angle of the downwind cone in wind-direction sigmas (default 2).
    min_half_angle_deg, max_half_angle_deg : float
        Clip of the cone half-angle, degrees (defaults 10 and 60).
    lateral_tolerance_px : float
        Extra cross-wind tolerance of the cone, pixels (default 2: the source and the component's end are known to
        a pixel or two).
    peak_to_mean : float
        F, the ratio of a snapshot's local column peak to the mean column (default 4).
    min_gap_px : float
        Smallest gap allowed, pixels (default 3).
    """

    cone_sigmas: float = 2.0
    min_half_angle_deg: float = 10.0
    max_half_angle_deg: float = 60.0
    lateral_tolerance_px: float = 2.0
    peak_to_mean: float = 4.0
    min_gap_px: float = 3.0


DEFAULT_MERGE_RULE = MergeRule()


@dataclass
class PlumeComplex:
    """One complex: its component ids (the first is the most upwind, holding the source) and its source pixel."""

    components: list[int]
    source_rc: tuple[float, float]
    direction_deg: float
    direction_sigma_deg: float
    downwind_end_m: float = 0.0


def cone_half_angle_deg(direction_sigma_deg: float, rule: MergeRule = DEFAULT_MERGE_RULE) -> float:
    """Half-angle (degrees) of the downwind cone for a wind-direction 1σ of ``direction_sigma_deg`` degrees."""
    return float(np.clip(rule.cone_sigmas * direction_sigma_deg, rule.min_half_angle_deg, rule.max_half_angle_deg))


def max_gap_m(
    length_m: float,
    pixel_size_m: float,
    *,
    low_sigma: float = 2.0,
    high_sigma: float = 4.0,
    rule: MergeRule = DEFAULT_MERGE_RULE,
) -> float:
    """Largest along-wind gap (m) after a complex reaching ``length_m`` metres downwind of its source.

    max(min_gap_px · pixel, L · (F · low/high − 1)): see the module docstring.
    """
    factor = max(rule.peak_to_mean * low_sigma / high_sigma - 1.0, 0.0)
    return max(rule.min_gap_px * pixel_size_m, length_m * factor)


def merge_components(
    labels: np.ndarray,
    geometry: PixelGeometry,
    wind_of: Callable[[int], tuple[float, float]],
    source_of: Callable[[int], tuple[float, float]],
    *,
    low_sigma: float = 2.0,
    high_sigma: float = 4.0,
    rule: MergeRule = DEFAULT_MERGE_RULE,
) -> list[PlumeComplex]:
    """Group the components of a label map into plume complexes.

    Parameters
    ----------
    labels : int array (y, x)
        Components 1..n (0 = background), e.g. from :func:`plumetrace.plumes.segment.segment_plumes`.
    geometry : PixelGeometry
        Pixel geometry of the map.
    wind_of : callable(component id) -> (direction_deg, direction_sigma_deg)
        Wind direction (blowing from, degrees clockwise from north) and its 1σ (degrees) at a component.
    source_of : callable(component id) -> (row, col)
        Source pixel of a component standing alone (called only for components that start a complex).
    low_sigma, high_sigma : float
        The segmentation's hysteresis thresholds (noise sigmas), for the gap rule.
    rule : MergeRule
        Cone and gap settings.

    Returns
    -------
    list of PlumeComplex
        Ordered by their strongest component (the smallest component id); each complex lists its components from
        the most upwind.
    """
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise InvalidInputError("plume labels", f"must be 2-D, got shape {labels.shape}")
    pixel = geometry.pixel_size_m
    ids = [int(i) for i in np.unique(labels) if i > 0]
    positions: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    upwind_edge: dict[int, float] = {}
    for cid in ids:
        rows, cols = np.nonzero(labels == cid)
        east, north = geometry.to_metres(rows, cols)
        positions[cid] = (np.asarray(east, dtype=float), np.asarray(north, dtype=float))
        dw_e, dw_n = downwind_unit_vector(wind_of(cid)[0])
        upwind_edge[cid] = float((positions[cid][0] * dw_e + positions[cid][1] * dw_n).min())
    complexes: list[PlumeComplex] = []
    for cid in sorted(ids, key=lambda i: upwind_edge[i]):
        east, north = positions[cid]
        best: tuple[float, PlumeComplex] | None = None
        for plume in complexes:
            dw_e, dw_n = downwind_unit_vector(plume.direction_deg)
            src_e, src_n = geometry.to_metres(np.array([plume.source_rc[0]]), np.array([plume.source_rc[1]]))
            de, dn = east - float(src_e[0]), north - float(src_n[0])
            along = de * dw_e + dn * dw_n
            across = -de * dw_n + dn * dw_e
            start = float(along.min())
            if start < -pixel:  # not downwind of the complex's source
                continue
            tan_half = math.tan(math.radians(cone_half_angle_deg(plume.direction_sigma_deg, rule)))
            tolerance = rule.lateral_tolerance_px * pixel
            end = along <= start + pixel
            points = (
                (float(along[end].mean()), float(across[end].mean())),
                (float(along.mean()), float(across.mean())),
            )
            if any(abs(x) > tan_half * max(a, 0.0) + tolerance for a, x in points):
                continue
            gap = start - plume.downwind_end_m
            if gap > max_gap_m(plume.downwind_end_m, pixel, low_sigma=low_sigma, high_sigma=high_sigma, rule=rule):
                continue
            if best is None or gap < best[0]:
                best = (gap, plume)
        if best is not None:
            plume = best[1]
            dw_e, dw_n = downwind_unit_vector(plume.direction_deg)
            src_e, src_n = geometry.to_metres(np.array([plume.source_rc[0]]), np.array([plume.source_rc[1]]))
            along = (east - float(src_e[0])) * dw_e + (north - float(src_n[0])) * dw_n
            plume.components.append(cid)
            plume.downwind_end_m = max(plume.downwind_end_m, float(along.max()))
            continue
        direction, sigma = wind_of(cid)
        row, col = source_of(cid)
        dw_e, dw_n = downwind_unit_vector(direction)
        src_e, src_n = geometry.to_metres(np.array([row]), np.array([col]))
        along = (east - float(src_e[0])) * dw_e + (north - float(src_n[0])) * dw_n
        complexes.append(PlumeComplex([cid], (float(row), float(col)), direction, sigma, float(along.max())))
    complexes.sort(key=lambda plume: min(plume.components))
    return complexes
