"""The robust round over a scene (``robust=True``, ``mf`` and ``ace``), for any group map.

After the apply pass, each round marks the plume (:func:`plumetrace.detect.robust.plume_mask` on the significance
``enhancement / uncertainty``), re-reads the blocks that hold marked pixels to sum them per group
(:func:`marked_sums`), downdates every group's statistics
(:func:`plumetrace.detect.robust.plume_free_statistics`) and, unless the downdated filter leaves the marked pixels'
summed estimate as it is (:func:`plumetrace.detect.robust.reapply_needed`), applies the filter again.

The marked pixels stay in the statistics with their estimated plume taken out (``x - α s``, ``α ≥ 0``): excluding
them instead also removed target-like clutter from the background, which then stood out (half the AUPRC on
procedural AVIRIS-NG; docs/design/spy_gap.md).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from plumetrace.detect.covariance import GroupStatistics
from plumetrace.detect.group_map import GroupMap, centred_pixels
from plumetrace.detect.matched_filter import FilterWeights, filter_weights
from plumetrace.detect.reader import WindowReader, block_buffer
from plumetrace.detect.robust import (
    plume_estimate_sums,
    plume_estimate_terms,
    plume_free_statistics,
    plume_mask,
    reapply_needed,
)
from plumetrace.detect.workers import run_threads

__all__ = ["STRIPE_WINDOW", "marked_sums", "pooled_plume_mask", "robust_rounds"]

#: Columns: striping in the pooled significance is what a median over this many misses.
STRIPE_WINDOW = 15


def marked_sums(
    reader: WindowReader,
    part: list[tuple[int, int]],
    mask: np.ndarray,
    group_map: GroupMap,
    base_mean32: np.ndarray,
    terms: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, ...]:
    """Per-group sums over the pixels marked in ``mask`` (n_lines, n_col) of the blocks in ``part``.

    With ``d = x - b`` (``b = base_mean32``, the first pass's group means as float32), returns count, ``Σ d``,
    ``Σ d dᵀ`` and the plume-estimate sums ``A``, ``P``, ``Q`` of
    :func:`plumetrace.detect.robust.plume_estimate_sums` (``terms``: ``gain``, ``alpha_offset``, ``stats_offset``
    from :func:`plumetrace.detect.robust.plume_estimate_terms`).
    """
    gain, alpha_offset, stats_offset = terms
    n_group, n_band = group_map.n_group, base_mean32.shape[1]
    count = np.zeros(n_group, dtype=np.int64)
    sum_d = np.zeros((n_group, n_band))
    sum_dd = np.zeros((n_group, n_band, n_band))
    sum_a = np.zeros(n_group)
    sum_ad = np.zeros((n_group, n_band))
    sum_a2 = np.zeros(n_group)
    buffer = block_buffer(reader, max((r1 - r0 for r0, r1 in part), default=0))
    for row0, row1 in part:
        d, g = centred_pixels(reader, group_map, row0, row1, mask[row0:row1], base_mean32, buffer)
        order = np.argsort(g, kind="stable")
        g, d = g[order], d[order]
        bounds = np.flatnonzero(np.diff(g)) + 1
        for start, stop in zip(np.concatenate([[0], bounds]), np.concatenate([bounds, [g.size]])):
            group = int(g[start])
            piece32 = d[start:stop]
            piece = piece32.astype(np.float64)
            count[group] += stop - start
            if group_map.gram_float64:
                sum_d[group] += piece.sum(axis=0)
                sum_dd[group] += piece.T @ piece
            else:
                sum_d[group] += piece32.sum(axis=0, dtype=np.float64)
                sum_dd[group] += piece32.T @ piece32
            a, ad, a2 = plume_estimate_sums(piece, gain[group], alpha_offset[group], stats_offset[group])
            sum_a[group] += a
            sum_ad[group] += ad
            sum_a2[group] += a2
    return count, sum_d, sum_dd, sum_a, sum_ad, sum_a2


def pooled_plume_mask(z_pooled: np.ndarray) -> np.ndarray:
    """Plume mask of the significance under scene-pooled statistics (n_lines, n_col), destriped first.

    Column-to-column striping is not a plume; a plume is smooth across columns (and may fill most of some columns),
    so only the high-pass part of the column medians is removed (in place).
    """
    from scipy import ndimage  # lazy: start-up time

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        medians = np.nan_to_num(np.nanmedian(z_pooled[:: max(1, z_pooled.shape[0] // 256)], axis=0))
    z_pooled -= (medians - ndimage.median_filter(medians, size=STRIPE_WINDOW, mode="nearest"))[None, :]
    return plume_mask(z_pooled)


def robust_rounds(
    reader: WindowReader,
    blocks: list[tuple[int, int]],
    threads: int,
    group_map: GroupMap,
    group_stats: GroupStatistics,
    weights: FilterWeights,
    unit_absorption: np.ndarray,
    out: dict[str, np.ndarray],
    *,
    rounds: int,
    shrinkage: float | str,
    min_pixels: int,
    base_mean32: np.ndarray,
    reapply: Callable[[FilterWeights], None],
    extra_mask: np.ndarray | None = None,
    exclude: np.ndarray | None = None,
) -> tuple[FilterWeights, int, int]:
    """Rounds of mask → downdate → re-application.

    Parameters
    ----------
    reader, blocks, threads
        The window bands, their row blocks and the worker threads.
    group_map : GroupMap
        The group of every pixel.
    group_stats : GroupStatistics
        The statistics of all valid pixels of each group (the first pass's).
    weights : FilterWeights
        The filter the apply pass used.
    unit_absorption : ndarray (n_band,)
        Target unit absorption per ppm·m.
    out : dict of ndarray (n_lines, n_col) float32
        The apply pass's products; the mask comes from ``enhancement / uncertainty``.
    rounds : int, keyword-only
        Most rounds (each mask from the previous round's estimate).
    shrinkage : keyword-only
        Covariance regularisation of the downdated filter (:func:`plumetrace.detect.matched_filter.filter_weights`).
    min_pixels : int, keyword-only
        Fewest pixels a group keeps when its marked pixels are excluded.
    base_mean32 : ndarray (n_group, n_band) float32, keyword-only
        What the marked pixels are centred on (the first filter's group means).
    reapply : callable (FilterWeights) -> None, keyword-only
        Applies a filter to the scene again, writing ``out``.
    extra_mask : ndarray (n_lines, n_col) bool, optional, keyword-only
        Marked in every round as well (the pooled-statistics mask).
    exclude : ndarray (n_lines, n_col) bool, optional, keyword-only
        Pixels already out of the statistics: never marked.

    Returns
    -------
    (weights, rounds_done, masked_pixels)
        The filter last applied, the rounds that re-applied the filter and the pixels marked in the last of them.
    """
    k = unit_absorption
    done, masked = 0, 0
    for round_index in range(int(rounds)):
        with np.errstate(divide="ignore", invalid="ignore"):
            mask = plume_mask(out["enhancement"] / out["uncertainty"])
        if extra_mask is not None:
            mask |= extra_mask
        if exclude is not None:  # already out of the statistics
            mask &= ~exclude
        if not mask.any():
            break
        marked = [(r0, r1) for r0, r1 in blocks if mask[r0:r1].any()]
        terms = plume_estimate_terms(weights, base_mean32, group_stats.mean)
        gathered = run_threads(
            threads,
            lambda _w, part, mask=mask, terms=terms: marked_sums(reader, part, mask, group_map, base_mean32, terms),
            marked,
        )
        m_count, m_sum, m_outer, m_alpha, m_alpha_d, m_alpha2 = (sum(g[i] for g in gathered) for i in range(6))
        del gathered
        robust_stats = plume_free_statistics(
            group_stats,
            np.nan_to_num(group_stats.mean) * k,
            m_count,
            m_sum,
            m_outer,
            m_alpha,
            m_alpha_d,
            m_alpha2,
            min_pixels=min_pixels,
        )
        robust_weights = filter_weights(robust_stats, k, shrinkage=shrinkage)
        # Re-apply only when the downdated filter moves the marked pixels' estimate (mean and covariance both count:
        # a plume's signature t∘x varies over cluttered ground); see plumetrace.detect.robust.
        if not reapply_needed(m_count, m_sum, base_mean32, weights, robust_weights):
            break
        weights = robust_weights
        reapply(weights)
        done, masked = round_index + 1, int(mask.sum())
    return weights, done, masked
