"""Streaming passes of the detection engine for ``stats="cluster"`` (class-wise background statistics).

The column modes (:mod:`plumetrace.detect.engine`) group pixels by cross-track column; here a pixel's group is its
spectral class (:mod:`plumetrace.detect.clusters`), so groups are per pixel and the passes work on the valid pixels
of each block as a (pixels × bands) matrix:

0. *pilot* (the engine's): per-column reference brightness for flare masking;
   *fit*: the valid pixels of evenly spaced lines (at most :data:`~plumetrace.detect.clusters.MAX_FIT_PIXELS`)
   give the classes and each class's shift spectrum (its sample mean);
1. *statistics*: every valid pixel is assigned to a class (stored in an int16 class map, 2 bytes a pixel — the
   size of a product band — so the apply pass need not assign again); per-class shifted sums, one float32 GEMM per
   class and block, merged in float64. Classes with fewer than
   :func:`~plumetrace.detect.clusters.min_class_pixels` pixels are merged into the nearest adequate class
   (:func:`~plumetrace.detect.clusters.merge_small_classes`, exact: shifted sums of different shifts combine);
2. *apply*: each pixel is centred on its class mean and filtered with its class's weights; ``uncertainty`` and
   ``sensitivity`` are its class's. Then, as in the column modes: the robust exclusion of the plume from each class's
   statistics (``mf``/``ace``), the rank-2 refinement (``refine``), or the reweighted-ℓ1 iterations of the sparse
   filter (:mod:`plumetrace.detect.sparse`, through :class:`~plumetrace.detect.sparse.SparseState` and
   :func:`~plumetrace.detect.sparse.sparse_iterations` with the class as the group of each active pixel).

Memory: a few blocks per thread, the class map and the product maps, as in the column modes.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from plumetrace.detect.ace import ace_score, whitening_matrices
from plumetrace.detect.clusters import (
    MAX_FIT_PIXELS,
    ClusterModel,
    auto_clusters,
    check_clusters,
    fit_clusters,
    merge_small_classes,
    min_class_pixels,
)
from plumetrace.detect.covariance import ShiftedSums, merge_columns
from plumetrace.detect.matched_filter import FilterWeights, filter_weights
from plumetrace.detect.reader import WindowReader, band_axis, block_buffer, pixels
from plumetrace.detect.robust import (
    plume_estimate_sums,
    plume_estimate_terms,
    plume_free_statistics,
    plume_mask,
    reapply_needed,
)
from plumetrace.detect.sparse import REFINE_SIGMA, SparseState, SpilledPiece, reweight, sparse_iterations
from plumetrace.detect.statistics_pass import pilot, validity
from plumetrace.detect.workers import run_threads
from plumetrace.errors import InvalidInputError

__all__ = ["cluster_retrieval"]

PlumeSums = tuple[np.ndarray, np.ndarray, np.ndarray]


def _fit_sample(
    reader: WindowReader, ref_brightness: np.ndarray, flare_factor: float, saturation_value: float | None
) -> tuple[np.ndarray, float]:
    """Valid spectra (n, n_band) of evenly spaced lines (about ``MAX_FIT_PIXELS``) and the lines' valid fraction."""

    n_lines, n_col = reader.n_lines, reader.n_samples
    n_rows = int(min(n_lines, max(1, math.ceil(MAX_FIT_PIXELS / max(n_col, 1)))))
    rows = np.unique(np.linspace(0, n_lines - 1, n_rows).round().astype(int))
    axis = band_axis(reader.layout)
    buffer = block_buffer(reader, 1)
    parts, n_seen = [], 0
    for r in rows:
        line = reader.read(int(r), int(r) + 1, out=buffer)
        valid = validity(line, ref_brightness, flare_factor, saturation_value, axis)
        parts.append(pixels(line, valid, reader.layout).copy())
        n_seen += valid.size
    sample = np.concatenate(parts) if parts else np.empty((0, reader.n_bands), dtype=np.float32)
    return sample, sample.shape[0] / max(n_seen, 1)


def _class_order(labels: np.ndarray, n_class: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(labels, kind="stable")
    return order, np.searchsorted(labels[order], np.arange(n_class + 1))


def _accumulate_classes(
    reader: WindowReader,
    part: list[tuple[int, int]],
    model: ClusterModel,
    class_shift: np.ndarray,
    class_map: np.ndarray,
    ref_brightness: np.ndarray,
    flare_factor: float,
    saturation_value: float | None,
    advance: Any,
) -> ShiftedSums:
    """Assign the valid pixels of the blocks in ``part`` to classes (into ``class_map``) and sum them per class."""

    sums = ShiftedSums.zeros(class_shift)
    shift32 = class_shift.astype(np.float32)
    axis = band_axis(reader.layout)
    buffer = block_buffer(reader, max((r1 - r0 for r0, r1 in part), default=0))
    for row0, row1 in part:
        block = reader.read(row0, row1, out=buffer)
        valid = validity(block, ref_brightness, flare_factor, saturation_value, axis)
        spectra = pixels(block, valid, reader.layout)
        labels = model.assign(spectra)
        class_map[row0:row1][valid] = labels.astype(np.int16)
        spectra -= shift32[labels]
        _add_by_class(sums, spectra, labels)
        advance()
    return sums


def _add_by_class(sums: ShiftedSums, centred: np.ndarray, labels: np.ndarray) -> None:
    """Add the count, ``Σ d`` and ``Σ d dᵀ`` of the centred spectra (n, n_band) of each class to ``sums`` (in place)."""
    order, indptr = _class_order(labels, sums.count.size)
    for c in range(sums.count.size):
        lo, hi = indptr[c], indptr[c + 1]
        if hi == lo:
            continue
        d = centred[order[lo:hi]]
        sums.count[c] += hi - lo
        sums.sum1[c] += d.sum(axis=0, dtype=np.float64)
        sums.sum2[c] += d.T @ d


def _class_pixels(
    reader: WindowReader, class_map: np.ndarray, row0: int, row1: int, buffer: np.ndarray, mask: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Spectra (n, n_band) float32 of the valid (or ``mask``ed) pixels of rows ``row0:row1``, their group, and the mask."""
    block = reader.read(row0, row1, out=buffer)
    groups = class_map[row0:row1]
    selected = (groups >= 0) if mask is None else mask
    return pixels(block, selected, reader.layout), groups[selected].astype(np.int64), selected


def cluster_retrieval(
    reader: WindowReader,
    unit_absorption: np.ndarray,
    *,
    method: str,
    clusters: int | None,
    features: str,
    blocks: list[tuple[int, int]],
    threads: int,
    shrinkage: float | str,
    flare_factor: float,
    saturation_value: float | None,
    albedo_correct: bool,
    refine: bool,
    robust: bool,
    robust_rounds: int,
    iterations: int,
    spill_bytes: int,
    bar: Any,
    description: str,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Retrieval with class-wise statistics (the ``stats="cluster"`` branch of :func:`plumetrace.detect.engine.detect_window`).

    Parameters
    ----------
    reader : WindowReader
        The window bands of the scene.
    unit_absorption : ndarray (n_band,)
        Target unit absorption ``k`` per ppm·m.
    clusters : int or None, keyword-only
        Classes to fit (None: :func:`~plumetrace.detect.clusters.auto_clusters`).
    features : {"shape", "radiance"}, keyword-only
        Clustering features (:class:`~plumetrace.detect.clusters.ClusterModel`).
    other keywords
        As for :func:`~plumetrace.detect.engine.detect_window`; ``bar`` is its progress bar.

    Returns
    -------
    (arrays, attrs)
        ``enhancement``, ``uncertainty``, ``albedo`` (and ``ace_score``) float32 (n_lines, n_col), NaN where
        invalid; attrs ``clusters`` (classes used after merging), ``clusters_fitted``, ``cluster_features``,
        ``cluster_pixels`` (pixels per class), ``robust_rounds``, ``robust_masked_pixels``.
    """

    k = np.asarray(unit_absorption, dtype=np.float64)
    n_lines, n_col, n_band = reader.n_lines, reader.n_samples, reader.n_bands
    need = min_class_pixels(n_band)
    if clusters is not None:
        check_clusters(clusters, n_lines * n_col, n_band)  # impossible whatever the valid pixels: fail before reading
    task = bar.add_task(f"{description} (cluster)", total=2 * len(blocks) + 1)

    def advance(n: float = 1) -> None:
        bar.advance(task, n)

    def extend(n: int) -> None:
        bar.update(task, total=bar.tasks[task].total + n)

    # Pass 0: flare reference, then the classes from a sample of lines.
    _shift, ref_brightness = pilot(reader, saturation_value)
    sample, valid_fraction = _fit_sample(reader, ref_brightness, flare_factor, saturation_value)
    if sample.shape[0] == 0:
        raise InvalidInputError("scene", "no valid pixels in the spectral window of the sampled lines")
    n_fit = auto_clusters(int(valid_fraction * n_lines * n_col), n_band) if clusters is None else int(clusters)
    model = fit_clusters(sample, k, n_clusters=n_fit, features=features)
    sample_labels = model.assign(sample)
    class_shift = np.empty((model.n_class, n_band))
    for c in range(model.n_class):
        members = sample[sample_labels == c]
        class_shift[c] = members.mean(axis=0, dtype=np.float64) if members.size else sample.mean(axis=0, dtype=np.float64)
    del sample, sample_labels
    advance()

    # Pass 1: class map and per-class sums.
    class_map = np.full((n_lines, n_col), -1, dtype=np.int16)
    partials = run_threads(
        threads,
        lambda _w, part: _accumulate_classes(
            reader, part, model, class_shift, class_map, ref_brightness, flare_factor, saturation_value, advance
        ),
        blocks,
    )
    sums = partials[0]
    for other in partials[1:]:
        sums.add(other)
    del partials
    total = int(sums.count.sum())
    if total < need:
        raise InvalidInputError("scene", f"only {total} valid pixels in the window; one class needs at least {need}")
    if clusters is not None:
        check_clusters(clusters, total, n_band)
    group_of_class, n_group = merge_small_classes(sums.count, model.centroids, need)
    valid_map = class_map >= 0
    class_map[valid_map] = group_of_class.astype(np.int16)[class_map[valid_map]]
    group_stats = merge_columns(sums, group_of_class, n_group)
    del sums
    weights = filter_weights(group_stats, k, shrinkage=shrinkage)

    out = {name: np.full((n_lines, n_col), np.nan, dtype=np.float32) for name in ("enhancement", "uncertainty", "albedo")}
    if method == "ace":
        out["ace_score"] = np.full((n_lines, n_col), np.nan, dtype=np.float32)
    collect = method == "sparse" or refine

    def apply_pass(weights: FilterWeights) -> PlumeSums:
        mean32 = np.nan_to_num(weights.mean).astype(np.float32)
        mean_dir = (mean32 / np.maximum((mean32 * mean32).sum(axis=1, keepdims=True), np.float32(1e-30))).astype(np.float32)
        q32 = weights.q.astype(np.float32)
        norm32 = weights.normalizer.astype(np.float32)
        sigma32 = weights.sigma.astype(np.float32)
        whitening = whitening_matrices(weights) if method == "ace" else None

        def work(_w: int, part: list[tuple[int, int]]) -> PlumeSums:
            sum_c, sum_cc, sum_cd = np.zeros(n_group), np.zeros(n_group), np.zeros((n_group, n_band))
            buffer = block_buffer(reader, max((r1 - r0 for r0, r1 in part), default=0))
            for row0, row1 in part:
                spectra, g, valid = _class_pixels(reader, class_map, row0, row1, buffer)
                d = spectra
                d -= mean32[g]
                score = np.einsum("nb,nb->n", d, q32[g])
                albedo = np.einsum("nb,nb->n", d, mean_dir[g]) + np.float32(1.0)
                enh = score / norm32[g]
                unc = sigma32[g].copy()
                if albedo_correct:
                    with np.errstate(divide="ignore", invalid="ignore"):
                        safe = np.where(albedo > 0, albedo, np.float32(np.nan))
                        enh /= safe
                        unc /= safe
                if method == "ace":
                    ace = np.empty_like(score)
                    for c in np.unique(g):
                        sel = g == c
                        ace[sel] = ace_score(d[sel][None], score[sel][None], whitening[c][None], weights.normalizer[c : c + 1])[0]
                    _put(out["ace_score"], row0, row1, valid, ace)
                if collect:
                    if method == "sparse":
                        enh = np.maximum(enh, np.float32(0.0))  # NaN (albedo ≤ 0) stays NaN
                        c_plume = np.where(enh > 0, albedo * enh, np.float32(0.0))
                    else:
                        amplitude = albedo * enh if albedo_correct else enh
                        c_plume = np.where(enh > REFINE_SIGMA * unc, amplitude, np.float32(0.0))
                    c64 = c_plume.astype(np.float64)
                    sum_c += np.bincount(g, weights=c64, minlength=n_group)
                    sum_cc += np.bincount(g, weights=c64 * c64, minlength=n_group)
                    for c in np.unique(g[c_plume != 0]):
                        sel = g == c
                        sum_cd[c] += c_plume[sel] @ d[sel]
                _put(out["enhancement"], row0, row1, valid, enh)
                _put(out["uncertainty"], row0, row1, valid, unc)
                _put(out["albedo"], row0, row1, valid, albedo)
                advance()
            return sum_c, sum_cc, sum_cd

        parts = run_threads(threads, work, blocks)
        return sum(p[0] for p in parts), sum(p[1] for p in parts), sum(p[2] for p in parts)

    plume = apply_pass(weights)

    robust_done = (0, 0)
    if robust and method in ("mf", "ace") and not refine and int(robust_rounds) > 0:
        base_mean = np.nan_to_num(weights.mean).astype(np.float32)
        for round_index in range(int(robust_rounds)):
            with np.errstate(divide="ignore", invalid="ignore"):
                mask = plume_mask(out["enhancement"] / out["uncertainty"])
            if not mask.any():
                break
            marked = [(r0, r1) for r0, r1 in blocks if mask[r0:r1].any()]

            # Marked pixels stay in the statistics with their estimated plume taken out (x - α s, α ≥ 0), as in
            # engine.py: excluding them also took target-like clutter out of the background (robust.remove_target).
            gain, alpha_offset, stats_offset = plume_estimate_terms(weights, base_mean, group_stats.mean)

            def masked_sums(_w: int, part: list[tuple[int, int]]) -> tuple[np.ndarray, ...]:
                sums = ShiftedSums.zeros(base_mean)
                sum_a, sum_ad, sum_a2 = np.zeros(n_group), np.zeros((n_group, n_band)), np.zeros(n_group)
                buffer = block_buffer(reader, max((r1 - r0 for r0, r1 in part), default=0))
                for row0, row1 in part:
                    d, g, _ = _class_pixels(reader, class_map, row0, row1, buffer, mask[row0:row1])
                    d -= base_mean[g]
                    _add_by_class(sums, d, g)
                    d = d.astype(np.float64)
                    for c in np.unique(g):
                        a, ad, a2 = plume_estimate_sums(d[g == c], gain[c], alpha_offset[c], stats_offset[c])
                        sum_a[c] += a
                        sum_ad[c] += ad
                        sum_a2[c] += a2
                return sums, sum_a, sum_ad, sum_a2

            gathered = run_threads(threads, masked_sums, marked)
            marked_sums = gathered[0][0]
            for other in gathered[1:]:
                marked_sums.add(other[0])
            m_alpha, m_alpha_d, m_alpha2 = (sum(g[i] for g in gathered) for i in (1, 2, 3))
            m_count, m_sum = marked_sums.count, marked_sums.sum1
            robust_stats = plume_free_statistics(
                group_stats, np.nan_to_num(group_stats.mean) * k, m_count, m_sum, marked_sums.sum2, m_alpha,
                m_alpha_d, m_alpha2, min_pixels=need,
            )
            robust_weights = filter_weights(robust_stats, k, shrinkage=shrinkage)
            if not reapply_needed(m_count, m_sum, base_mean, weights, robust_weights):
                break  # the downdated filter leaves the marked pixels' estimate as it is (plumetrace.detect.robust)
            weights = robust_weights
            extend(len(blocks))
            apply_pass(weights)
            robust_done = (round_index + 1, int(mask.sum()))

    if refine and method != "sparse":
        state = SparseState(group_stats, weights, k)
        state.update(*plume)
        extend(len(blocks))
        _refined_pass(reader, blocks, threads, class_map, state, out, albedo_correct, advance)

    if method == "sparse" and iterations > 0:
        state = SparseState(group_stats, weights, k)
        state.update(*plume)
        extend(len(blocks) + int(iterations) - 1)
        _sparse_passes(reader, blocks, threads, class_map, state, out, int(iterations), spill_bytes, advance)

    attrs = {
        "clusters": int(n_group),
        "clusters_fitted": int(model.n_class),
        "cluster_features": model.features,
        "cluster_pixels": [int(c) for c in group_stats.count],
        "robust_rounds": robust_done[0],
        "robust_masked_pixels": robust_done[1],
    }
    return out, attrs


def _put(target: np.ndarray, row0: int, row1: int, selected: np.ndarray, values: np.ndarray) -> None:
    """Write per-pixel ``values`` at the ``selected`` pixels of rows ``row0:row1`` of a (n_lines, n_col) map."""
    view = target[row0:row1]
    view[selected] = values


def _refined_pass(
    reader: WindowReader,
    blocks: list[tuple[int, int]],
    threads: int,
    class_map: np.ndarray,
    state: SparseState,
    out: dict[str, np.ndarray],
    albedo_correct: bool,
    advance: Any,
) -> None:
    """``refine``: apply the filter of the plume-removed statistics (``state``) in one more read."""

    mean0 = state.mean0.astype(np.float32)

    def work(_w: int, part: list[tuple[int, int]]) -> None:
        buffer = block_buffer(reader, max((r1 - r0 for r0, r1 in part), default=0))
        for row0, row1 in part:
            d, g, valid = _class_pixels(reader, class_map, row0, row1, buffer)
            d -= mean0[g]
            enh = (np.einsum("nb,nb->n", d, state.q[g]) - state.offset[g]) / state.normalizer[g]
            if albedo_correct:
                with np.errstate(divide="ignore", invalid="ignore"):
                    enh /= out["albedo"][row0:row1][valid]
            _put(out["enhancement"], row0, row1, valid, enh)
            advance()

    run_threads(threads, work, blocks)
    valid_map = class_map >= 0
    sigma = state.sigma().astype(np.float32)[class_map[valid_map]]
    out["uncertainty"][valid_map] = sigma / out["albedo"][valid_map] if albedo_correct else sigma


def _sparse_passes(
    reader: WindowReader,
    blocks: list[tuple[int, int]],
    threads: int,
    class_map: np.ndarray,
    state: SparseState,
    out: dict[str, np.ndarray],
    iterations: int,
    spill_bytes: int,
    advance: Any,
) -> None:
    """Reweighted-ℓ1 iterations: the first reweighting while re-reading the blocks (keeping only the pixels that
    survive it), the rest on those pixels (:func:`~plumetrace.detect.sparse.sparse_iterations`)."""

    mean0 = state.mean0.astype(np.float32)
    q1, offset1, norm1 = state.q, state.offset, state.normalizer
    spill = int(np.count_nonzero(out["enhancement"] > 0)) * reader.n_bands * 4 > spill_bytes

    def survivors(_w: int, part: list[tuple[int, int]]) -> list[tuple[Any, ...]]:
        kept: list[tuple[Any, ...]] = []
        buffer = block_buffer(reader, max((r1 - r0 for r0, r1 in part), default=0))
        for row0, row1 in part:
            alpha0 = out["enhancement"][row0:row1]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                positive = alpha0 > 0  # NaN compares False
            if not positive.any():
                advance()
                continue
            d, g, _ = _class_pixels(reader, class_map, row0, row1, buffer, positive)
            d -= mean0[g]
            rows_idx, cols_idx = np.nonzero(positive)
            r = out["albedo"][row0:row1][positive]
            score = np.einsum("nb,nb->n", d, q1[g]) - offset1[g]
            alpha1 = reweight(score, r, alpha0[positive], norm1[g])
            alive = alpha1 > 0
            piece = d[alive]
            kept.append((SpilledPiece(piece) if spill else piece, rows_idx[alive] + row0, cols_idx[alive], g[alive],
                         r[alive], alpha1[alive]))
            advance()
        return kept

    pieces = [p for part in run_threads(threads, survivors, blocks) for p in part]
    valid_map = class_map >= 0
    out["enhancement"][valid_map] = 0.0
    if pieces:
        rows_act = np.concatenate([p[1] for p in pieces])
        cols_act = np.concatenate([p[2] for p in pieces])
        g_act = np.concatenate([p[3] for p in pieces])
        alb_act = np.concatenate([p[4] for p in pieces])
        alpha_act = np.concatenate([p[5] for p in pieces])
        spectra = [p[0] for p in pieces]
        del pieces
        alpha = sparse_iterations(spectra, g_act, alb_act, alpha_act, state, iterations=iterations - 1)
        out["enhancement"][rows_act, cols_act] = alpha
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = state.sigma().astype(np.float32)[class_map[valid_map]]
        out["uncertainty"][valid_map] = sigma / out["albedo"][valid_map]
    advance(iterations - 1)
