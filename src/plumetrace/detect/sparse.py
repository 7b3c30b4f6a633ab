"""Albedo-corrected, reweighted-ℓ1 sparse matched filter (the mag1c class of retrieval).

Foote et al. (2020, IEEE TGRS 58:6480, "Fast and accurate retrieval of methane concentration from imaging
spectrometer data using sparsity prior") estimate a non-negative, sparse enhancement ``α`` per pixel by iterating:

1. ``r = xᵀμ / μᵀμ`` (albedo factor, fixed); start from the albedo-corrected matched filter clamped at 0;
2. remove the current plume from the data, ``x' = x - r α (k ⊙ μ)``, and recompute the mean ``μ'``, the target
   ``s' = k ⊙ μ'`` and the covariance ``C'`` from ``x'``;
3. ``α ← max(0, ((x - μ')ᵀ C'⁻¹ s' - 1 / (r (α + ε))) / (r s'ᵀ C'⁻¹ s'))`` — the ℓ1 weight ``1/(r α)`` of the previous
   iterate (reweighted ℓ1, Candès et al. 2008) drives small values to zero.

Here the statistics of ``x'`` are not recomputed from the pixels: with ``c = r α`` (non-zero only on the active
set) and ``d = x - μ`` (centred on the group mean of the data),

``Σ (x' - μ')(x' - μ')ᵀ = S - s aᵀ - a sᵀ + v s sᵀ``,  ``μ' = μ - c̄ s``,  ``a = Σ c d``,  ``v = Σ (c - c̄)²``,

where ``S`` is the scatter matrix of the data (from the streaming pass) and ``s`` the previous target. So each
iteration touches only the pixels with ``α > 0``; pixels at 0 stay at 0 (their ℓ1 weight ``1/(r ε)`` with
``ε = 1e-4`` ppm·m is far above any matched-filter score), so they are dropped from the active set as they appear.
In these units (``k`` per ppm·m, ``α`` in ppm·m) the update is mag1c's exactly (its ``1e5`` scaling cancels).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse as sp

from plumetrace.detect.covariance import GroupStatistics
from plumetrace.detect.matched_filter import FilterWeights

__all__ = ["EPSILON_PPM_M", "sparse_iterations"]

#: mag1c's ε (1e-9 in its 1e5-scaled units) in ppm·m.
EPSILON_PPM_M = 1e-4
_CHUNK = 65536


def _rowwise_dot(d: np.ndarray, per_group: np.ndarray, group: np.ndarray) -> np.ndarray:
    """``d[i] · per_group[group[i]]`` for all i, in chunks (float32)."""
    out = np.empty(d.shape[0], dtype=np.float32)
    table = per_group.astype(np.float32)
    for start in range(0, d.shape[0], _CHUNK):
        stop = min(start + _CHUNK, d.shape[0])
        out[start:stop] = np.einsum("nb,nb->n", d[start:stop], table[group[start:stop]])
    return out


def sparse_iterations(
    centred: np.ndarray,
    group: np.ndarray,
    albedo: np.ndarray,
    alpha0: np.ndarray,
    stats: GroupStatistics,
    weights: FilterWeights,
    unit_absorption: np.ndarray,
    *,
    iterations: int = 30,
    regularize: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run the reweighted-ℓ1 iterations on the active pixels.

    Parameters
    ----------
    centred : ndarray (n_active, n_band) float32
        ``x - μ`` of the pixels whose initial estimate is positive (μ = their group's data mean).
    group : ndarray (n_active,) int
        Group of each active pixel.
    albedo : ndarray (n_active,) float
        Albedo factor ``r`` of each active pixel.
    alpha0 : ndarray (n_active,) float
        Initial albedo-corrected matched-filter estimate (ppm·m, > 0).
    stats : GroupStatistics
        Statistics of the data (all valid pixels of each group).
    weights : FilterWeights
        The initial filter (its regularised covariance ``C̃`` is updated, not re-estimated: the plume removal is a
        rank-2 change ``U M Uᵀ`` applied through the Woodbury identity to ``C̃⁻¹``).
    unit_absorption : ndarray (n_band,)
        Target unit absorption per ppm·m.
    iterations : int, keyword-only
        Number of reweighting iterations (mag1c default 30).
    regularize : bool, keyword-only
        Apply the ℓ1 reweighting (False = mag1c ``--no-sparsity``).

    Returns
    -------
    alpha : ndarray (n_active,) float32
        Final enhancement, ppm·m (≥ 0).
    sigma : ndarray (n_group,) float64
        Final noise-propagated 1σ per group before albedo correction (ppm·m); a pixel's is ``sigma / r``.
    mean : ndarray (n_group, n_band) float64
        Final plume-free background mean.
    """
    k = np.asarray(unit_absorption, dtype=np.float64)
    n_group, n_band = stats.mean.shape
    good = stats.count >= 2
    mean0 = np.nan_to_num(stats.mean)
    target = mean0 * k
    count = stats.count.astype(np.float64)
    inverse = np.linalg.inv(np.where(good[:, None, None], weights.cov, np.eye(n_band)))  # C̃⁻¹, once
    sample0 = np.where(good[:, None, None], stats.cov, np.eye(n_band))
    alpha = np.asarray(alpha0, dtype=np.float32).copy()
    g = np.asarray(group, dtype=np.int64)
    order = np.argsort(g, kind="stable")  # pixels grouped, so per-group sums are CSR rows without a conversion
    active = order
    d = np.asarray(centred, dtype=np.float32)[order]
    g = g[order]
    ra = np.asarray(albedo, dtype=np.float32)[order]
    al = alpha[order]
    sigma = np.where(good, weights.sigma, np.nan)
    mean = mean0
    nm1 = np.maximum(count - 1.0, 1.0)
    alive = np.ones(g.size, dtype=bool)
    n_compacted = g.size
    with np.errstate(divide="ignore", invalid="ignore"):
        for iteration in range(iterations):
            c = ra * al  # float32; 0 for dead pixels
            reg = (1.0 / (ra * (al + np.float32(EPSILON_PPM_M)))) if regularize else np.float32(0.0)
            c64 = c.astype(np.float64)
            sum_c = np.bincount(g, weights=c64, minlength=n_group)
            sum_cc = np.bincount(g, weights=c64 * c64, minlength=n_group)
            if g.size:
                indptr = np.searchsorted(g, np.arange(n_group + 1))
                mix = sp.csr_matrix((c, np.arange(g.size), indptr), shape=(n_group, g.size))
                a = np.asarray(mix @ d, dtype=np.float64)  # Σ c d per group (float32 products of ~10³ terms)
            else:
                a = np.zeros((n_group, n_band))
            cbar = np.where(count > 0, sum_c / np.maximum(count, 1.0), 0.0)
            v = sum_cc - count * cbar**2
            # C' = C + U M Uᵀ with U = [s, a], M = [[v, -1], [-1, 0]] / (n - 1); Woodbury on A = C̃⁻¹.
            u = np.stack([target, a], axis=2)  # (G, B, 2)
            m_inv = np.zeros((n_group, 2, 2))
            m_inv[:, 0, 1] = m_inv[:, 1, 0] = -nm1
            m_inv[:, 1, 1] = -nm1 * v
            au = np.matmul(inverse, u)  # (G, B, 2)
            cap = m_inv + np.matmul(u.transpose(0, 2, 1), au)  # (G, 2, 2)
            mean = mean0 - cbar[:, None] * target
            target = mean * k
            at = np.matmul(inverse, target[:, :, None])  # (G, B, 1)
            rhs = np.matmul(u.transpose(0, 2, 1), at)  # (G, 2, 1)
            q = (at - np.matmul(au, np.linalg.solve(cap, rhs)))[:, :, 0]
            normalizer = np.maximum(np.einsum("gb,gb->g", target, q), 1e-10)
            if iteration == iterations - 1:  # noise propagation through the final filter
                uq = np.matmul(u.transpose(0, 2, 1), q[:, :, None])[:, :, 0]
                quad = np.einsum("gb,gb->g", q, np.matmul(sample0, q[:, :, None])[:, :, 0])
                quad += (uq[:, 0] * v * uq[:, 0] - 2 * uq[:, 0] * uq[:, 1]) / nm1
                sigma = np.where(good, np.sqrt(np.maximum(quad, 0)) / normalizer, np.nan)
            offset = np.einsum("gb,gb->g", mean - mean0, q)  # (x - μ')·q = d·q - (μ' - μ)·q
            score = _rowwise_dot(d, q, g) - offset[g].astype(np.float32)
            al = np.maximum((score - reg) / (ra * normalizer[g].astype(np.float32)), 0).astype(np.float32)
            al[~(np.isfinite(al) & alive)] = 0
            alive = al > 0
            n_alive = int(alive.sum())
            if n_alive < 0.7 * n_compacted or iteration == iterations - 1:
                # Dropping dead pixels is exact (their ℓ1 weight 1/(r ε) pins them at 0); do it when worth a copy.
                alpha[active] = al
                active, d, g, ra, al = active[alive], d[alive], g[alive], ra[alive], al[alive]
                alive = np.ones(g.size, dtype=bool)
                n_compacted = g.size
    return alpha, sigma, mean
