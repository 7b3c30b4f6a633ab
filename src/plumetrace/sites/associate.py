"""Association of detections into sites: agglomerative merging gated on Mahalanobis distances.

Every detection starts as its own cluster. The pair of clusters whose positions agree best (smallest squared
Mahalanobis distance d² with their combined covariance) is merged first,
as long as the merged cluster is consistent with one source (:func:`_mergeable`) and the two hold no detection of
the same overpass (two sources found in one scene are two places by construction). A cluster's position is the
inverse-variance weighted mean of its members (per axis), its variance the inverse of the summed weights, so a site
seen many times is located better than any one detection. Each detection's 1σ is taken at least ``floor_pixels``
pixels of its product (:func:`effective_sigma`): a source's stated σ can be far below a pixel, its geolocation
cannot. The result does not depend on the order of the input.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from plumetrace.sites.options import SiteOptions

__all__ = ["associate", "effective_sigma", "mahalanobis_d2"]

#: Clusters of three or more detections: their whole-site spread T is tested at 1 − (1 − p)·SPREAD_FACTOR (p the
#: gate probability; 0.995 for p = 0.95), and the d² of the two merged clusters is capped at the 2-dof quantile at
#: 1 − (1 − p)·CAP_FACTOR (19.8 for p = 0.95). Chosen on simulated campaigns (docs/sites.md).
SPREAD_FACTOR = 0.1
CAP_FACTOR = 0.001


@dataclass
class _Cluster:
    w_e: float  # sum of 1/σ_east², m⁻²
    w_n: float
    we_e: float  # sum of east/σ_east²
    wn_n: float
    ss: float = 0.0  # sum of the members' squared Mahalanobis distances to the cluster position (χ², 2(n-1) dof)
    members: list[int] = field(default_factory=list)
    groups: set[Any] = field(default_factory=set)

    @property
    def east(self) -> float:
        return self.we_e / self.w_e

    @property
    def north(self) -> float:
        return self.wn_n / self.w_n


def mahalanobis_d2(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Squared Mahalanobis distance of two positions ``(east_m, north_m, var_east_m2, var_north_m2)`` (m, m²).

    Independent errors: the combined variance along each axis is the sum of the two.
    """
    return (a[0] - b[0]) ** 2 / (a[2] + b[2]) + (a[1] - b[1]) ** 2 / (a[3] + b[3])


def _d2(a: _Cluster, b: _Cluster) -> float:
    return mahalanobis_d2((a.east, a.north, 1.0 / a.w_e, 1.0 / a.w_n), (b.east, b.north, 1.0 / b.w_e, 1.0 / b.w_n))


def effective_sigma(sigma_m: np.ndarray, pixel_size_m: np.ndarray, *, options: SiteOptions) -> np.ndarray:
    """A detection's position 1σ as the association uses it: at least ``floor_pixels`` pixels and ``min_sigma_m``.

    Parameters
    ----------
    sigma_m : array
        Stated 1σ along one axis, m.
    pixel_size_m : array
        Pixel size of the product, m (NaN: no pixel floor).
    options : SiteOptions
    """
    floor = options.floor_pixels * np.nan_to_num(np.asarray(pixel_size_m, float), nan=0.0)
    return np.maximum(np.maximum(np.asarray(sigma_m, float), floor), options.min_sigma_m)


def _mergeable(a: _Cluster, b: _Cluster, d2: float, gate: float, cap: float) -> bool:
    """Whether the members of ``a`` and ``b`` together are consistent with one source.

    Never two detections of one overpass. Two single detections: d² within the gate (chi-square, 2 dof, at the gate
    probability p). Three or more: the spread of all members about the merged position, T = T_a + T_b + d² (the
    weighted sums of squares add so; χ² with 2(n − 1) dof for one source), within its quantile at
    1 − (1 − p)·:data:`SPREAD_FACTOR`, and d² itself within ``cap``. Testing d² of two clusters alone would be
    biased: agglomeration grows clusters from the closest pairs, so one source's detections can end up in two tight
    clusters whose positions differ by more than their σ suggest (with the pairwise test alone a third of the
    simulated sites of tests/sites/simcampaign.py were split so); T judges the whole site.
    """
    if a.groups & b.groups:
        return False
    n = len(a.members) + len(b.members)
    if n == 2:
        return d2 <= _chi2_quantile(gate, 2)
    return d2 <= cap and a.ss + b.ss + d2 <= _chi2_quantile(1.0 - (1.0 - gate) * SPREAD_FACTOR, 2 * (n - 1))


_CHI2_CACHE: dict[tuple[float, int], float] = {}


def _chi2_quantile(p: float, dof: int) -> float:
    key = (p, dof)
    if key not in _CHI2_CACHE:
        from scipy.stats import chi2

        _CHI2_CACHE[key] = float(chi2.ppf(p, dof))
    return _CHI2_CACHE[key]


def associate(
    east_m: np.ndarray,
    north_m: np.ndarray,
    sigma_east_m: np.ndarray,
    sigma_north_m: np.ndarray,
    pixel_size_m: np.ndarray,
    overpass: np.ndarray,
    *,
    options: SiteOptions = SiteOptions(),
) -> np.ndarray:
    """Site label of each detection.

    Parameters
    ----------
    east_m, north_m : array (n,)
        Source positions in a local frame, m.
    sigma_east_m, sigma_north_m : array (n,)
        Their stated 1σ, m (floored by :func:`effective_sigma`).
    pixel_size_m : array (n,)
        Pixel size of each detection's product, m (NaN: no pixel floor).
    overpass : array (n,)
        Overpass (scene or log) id of each detection; a site never takes two detections of one overpass.
    options : SiteOptions

    Returns
    -------
    ndarray of int (n,)
        Labels 0, 1, ... numbered in order of each site's first detection.
    """
    from scipy.spatial import cKDTree

    n = len(east_m)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    sig_e = effective_sigma(sigma_east_m, pixel_size_m, options=options)
    sig_n = effective_sigma(sigma_north_m, pixel_size_m, options=options)
    east = np.asarray(east_m, float)
    north = np.asarray(north_m, float)
    clusters: dict[int, _Cluster] = {}
    for i in range(n):
        we, wn = 1.0 / sig_e[i] ** 2, 1.0 / sig_n[i] ** 2
        clusters[i] = _Cluster(we, wn, we * east[i], wn * north[i], 0.0, [i], {overpass[i]})
    p = options.gate_probability
    cap = _chi2_quantile(1.0 - (1.0 - p) * CAP_FACTOR, 2)
    # Largest Euclidean distance two clusters can be apart and still merge (variances only shrink).
    max_var = 2.0 * float(max(sig_e.max(), sig_n.max())) ** 2
    radius = float(np.sqrt(cap * max_var)) * (1 + 1e-9)
    neighbours: dict[int, set[int]] = {i: set() for i in range(n)}
    heap: list[tuple[float, int, int]] = []
    pairs = cKDTree(np.column_stack([east, north])).query_pairs(radius, output_type="ndarray")
    for i, j in pairs.tolist():
        neighbours[i].add(j)
        neighbours[j].add(i)
    if len(pairs):  # two single detections: d² within the gate, never two of one overpass (vectorised)
        i, j = pairs[:, 0], pairs[:, 1]
        d2 = (east[i] - east[j]) ** 2 / (sig_e[i] ** 2 + sig_e[j] ** 2) + (north[i] - north[j]) ** 2 / (
            sig_n[i] ** 2 + sig_n[j] ** 2
        )
        keep = (d2 <= _chi2_quantile(p, 2)) & (np.asarray(overpass)[i] != np.asarray(overpass)[j])
        heap = list(zip(d2[keep].tolist(), np.minimum(i, j)[keep].tolist(), np.maximum(i, j)[keep].tolist()))
        heapq.heapify(heap)
    next_id = n
    while heap:
        d2, a, b = heapq.heappop(heap)
        if a not in clusters or b not in clusters:
            continue  # one of them was merged already
        ca, cb = clusters.pop(a), clusters.pop(b)
        merged = _Cluster(
            ca.w_e + cb.w_e,
            ca.w_n + cb.w_n,
            ca.we_e + cb.we_e,
            ca.wn_n + cb.wn_n,
            ca.ss + cb.ss + d2,
            sorted(ca.members + cb.members),
            ca.groups | cb.groups,
        )
        k = next_id
        next_id += 1
        clusters[k] = merged
        near = (neighbours.pop(a) | neighbours.pop(b)) - {a, b}
        neighbours[k] = set()
        for m in near:
            if m not in clusters:
                continue
            neighbours[m] -= {a, b}
            neighbours[m].add(k)
            neighbours[k].add(m)
            other = clusters[m]
            d2_km = _d2(merged, other)
            if _mergeable(merged, other, d2_km, p, cap):
                heapq.heappush(heap, (d2_km, min(m, k), max(m, k)))
    labels = np.empty(n, dtype=np.int64)
    for label, cluster in enumerate(sorted(clusters.values(), key=lambda c: c.members[0])):
        labels[cluster.members] = label
    return labels
