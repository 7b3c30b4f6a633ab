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
   ``sensitivity`` are its class's. Then the same passes as the column modes, over the class map
   (:class:`~plumetrace.detect.group_map.GroupMap`): the robust round (``mf``/``ace``,
   :mod:`plumetrace.detect.robust_round`) or the reweighted-ℓ1 iterations of the sparse filter
   (:mod:`plumetrace.detect.sparse_pass`).

Memory: a few blocks per thread, the class map and the product maps, as in the column modes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
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
from plumetrace.detect.covariance import GroupStatistics, ShiftedSums, merge_columns
from plumetrace.detect.group_map import GroupMap
from plumetrace.detect.matched_filter import FilterWeights, filter_weights
from plumetrace.detect.options import DetectOptions
from plumetrace.detect.reader import WindowReader, band_axis, block_buffer, pixels
from plumetrace.detect.robust_round import robust_rounds
from plumetrace.detect.sparse_pass import first_plume_removal, sparse_pass
from plumetrace.detect.statistics_pass import pilot, validity
from plumetrace.detect.workers import TaskProgress, run_threads
from plumetrace.errors import InvalidInputError

__all__ = ["cluster_retrieval"]

PlumeSums = tuple[np.ndarray, np.ndarray, np.ndarray]


def _fit_sample(
    reader: WindowReader,
    ref_brightness: np.ndarray,
    flare_factor: float,
    saturation_value: float | None,
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
    reader: WindowReader,
    class_map: np.ndarray,
    row0: int,
    row1: int,
    buffer: np.ndarray,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Spectra (n, n_band) float32 of the valid (or ``mask``ed) pixels of rows ``row0:row1``, their group, and the mask."""
    block = reader.read(row0, row1, out=buffer)
    groups = class_map[row0:row1]
    selected = (groups >= 0) if mask is None else mask
    return (
        pixels(block, selected, reader.layout),
        groups[selected].astype(np.int64),
        selected,
    )


def _fit(
    reader: WindowReader,
    k: np.ndarray,
    options: DetectOptions,
    ref_brightness: np.ndarray,
) -> tuple[ClusterModel, np.ndarray]:
    """The classes, from a sample of lines, and each class's shift spectrum (its sample mean, (n_class, n_band))."""
    sample, valid_fraction = _fit_sample(reader, ref_brightness, options.flare_factor, options.saturation_value)
    if sample.shape[0] == 0:
        raise InvalidInputError("scene", "no valid pixels in the spectral window of the sampled lines")
    n_band = reader.n_bands
    n_lines, n_col = reader.n_lines, reader.n_samples
    n_fit = (
        auto_clusters(int(valid_fraction * n_lines * n_col), n_band)
        if options.clusters is None
        else int(options.clusters)
    )
    model = fit_clusters(sample, k, n_clusters=n_fit, features=options.cluster_features)
    sample_labels = model.assign(sample)
    class_shift = np.empty((model.n_class, n_band))
    for c in range(model.n_class):
        members = sample[sample_labels == c]
        class_shift[c] = (
            members.mean(axis=0, dtype=np.float64) if members.size else sample.mean(axis=0, dtype=np.float64)
        )
    return model, class_shift


def _class_statistics(
    reader: WindowReader,
    blocks: list[tuple[int, int]],
    threads: int,
    model: ClusterModel,
    class_shift: np.ndarray,
    ref_brightness: np.ndarray,
    options: DetectOptions,
    advance: Callable[..., None],
) -> tuple[np.ndarray, int, GroupStatistics]:
    """Statistics pass: the class map (n_lines, n_col) int16 (-1 invalid; small classes merged), the number of
    classes kept and their statistics."""
    n_lines, n_col, n_band = reader.n_lines, reader.n_samples, reader.n_bands
    need = min_class_pixels(n_band)
    class_map = np.full((n_lines, n_col), -1, dtype=np.int16)
    partials = run_threads(
        threads,
        lambda _w, part: _accumulate_classes(
            reader,
            part,
            model,
            class_shift,
            class_map,
            ref_brightness,
            options.flare_factor,
            options.saturation_value,
            advance,
        ),
        blocks,
    )
    sums = partials[0]
    for other in partials[1:]:
        sums.add(other)
    del partials
    total = int(sums.count.sum())
    if total < need:
        raise InvalidInputError(
            "scene",
            f"only {total} valid pixels in the window; one class needs at least {need}",
        )
    if options.clusters is not None:
        check_clusters(options.clusters, total, n_band)
    group_of_class, n_group = merge_small_classes(sums.count, model.centroids, need)
    valid_map = class_map >= 0
    class_map[valid_map] = group_of_class.astype(np.int16)[class_map[valid_map]]
    return class_map, n_group, merge_columns(sums, group_of_class, n_group)


def _class_apply_pass(
    reader: WindowReader,
    blocks: list[tuple[int, int]],
    threads: int,
    class_map: np.ndarray,
    weights: FilterWeights,
    out: dict[str, np.ndarray],
    *,
    method: str,
    albedo_correct: bool,
    advance: Callable[..., None],
) -> PlumeSums | None:
    """Apply each class's filter to its pixels, writing ``out``; ``sparse``: clamp at 0 and return the per-class
    plume sums ``(Σc, Σc², Σc(x - μ))`` of ``c = r α``."""
    n_group, n_band = weights.mean.shape
    mean32 = np.nan_to_num(weights.mean).astype(np.float32)
    mean_dir = (mean32 / np.maximum((mean32 * mean32).sum(axis=1, keepdims=True), np.float32(1e-30))).astype(np.float32)
    q32 = weights.q.astype(np.float32)
    norm32 = weights.normalizer.astype(np.float32)
    sigma32 = weights.sigma.astype(np.float32)
    whitening = whitening_matrices(weights) if method == "ace" else None
    collect = method == "sparse"

    def work(_w: int, part: list[tuple[int, int]]) -> PlumeSums:
        sum_c, sum_cc, sum_cd = (
            np.zeros(n_group),
            np.zeros(n_group),
            np.zeros((n_group, n_band)),
        )
        buffer = block_buffer(reader, max((r1 - r0 for r0, r1 in part), default=0))
        for row0, row1 in part:
            d, g, valid = _class_pixels(reader, class_map, row0, row1, buffer)
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
                    ace[sel] = ace_score(
                        d[sel][None],
                        score[sel][None],
                        whitening[c][None],
                        weights.normalizer[c : c + 1],
                    )[0]
                _put(out["ace_score"], row0, row1, valid, ace)
            if collect:
                enh = np.maximum(enh, np.float32(0.0))  # NaN (albedo ≤ 0) stays NaN
                c_plume = np.where(enh > 0, albedo * enh, np.float32(0.0))
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
    if not collect:
        return None
    return sum(p[0] for p in parts), sum(p[1] for p in parts), sum(p[2] for p in parts)


def _put(target: np.ndarray, row0: int, row1: int, selected: np.ndarray, values: np.ndarray) -> None:
    """Write per-pixel ``values`` at the ``selected`` pixels of rows ``row0:row1`` of a (n_lines, n_col) map."""
    view = target[row0:row1]
    view[selected] = values


def cluster_retrieval(
    reader: WindowReader,
    unit_absorption: np.ndarray,
    options: DetectOptions,
    *,
    blocks: list[tuple[int, int]],
    threads: int,
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
    options : DetectOptions
        The run's options (validated).
    blocks, threads : keyword-only
        Row blocks and worker threads.
    bar, description : keyword-only
        The progress bar and the description of its task.

    Returns
    -------
    (arrays, attrs)
        ``enhancement``, ``uncertainty``, ``albedo`` (and ``ace_score``) float32 (n_lines, n_col), NaN where
        invalid; attrs ``clusters`` (classes used after merging), ``clusters_fitted``, ``cluster_features``,
        ``cluster_pixels`` (pixels per class), ``robust_rounds``, ``robust_masked_pixels``.
    """
    k = np.asarray(unit_absorption, dtype=np.float64)
    n_lines, n_col, n_band = reader.n_lines, reader.n_samples, reader.n_bands
    method, albedo_correct = options.method, options.albedo_corrected
    if options.clusters is not None:  # impossible whatever the valid pixels: fail before reading
        check_clusters(options.clusters, n_lines * n_col, n_band)
    progress = TaskProgress(bar, f"{description} (cluster)", 2 * len(blocks) + 1)

    # Pass 0: flare reference, then the classes from a sample of lines.
    _shift, ref_brightness = pilot(reader, options.saturation_value)
    model, class_shift = _fit(reader, k, options, ref_brightness)
    progress.advance()
    # Pass 1: class map and per-class statistics.
    class_map, n_group, group_stats = _class_statistics(
        reader,
        blocks,
        threads,
        model,
        class_shift,
        ref_brightness,
        options,
        progress.advance,
    )
    group_map = GroupMap.classes(class_map, n_group)
    weights = filter_weights(group_stats, k, shrinkage=options.shrinkage)
    # Pass 2: apply.
    out = {
        name: np.full((n_lines, n_col), np.nan, dtype=np.float32) for name in ("enhancement", "uncertainty", "albedo")
    }
    if method == "ace":
        out["ace_score"] = np.full((n_lines, n_col), np.nan, dtype=np.float32)

    def apply(weights: FilterWeights) -> PlumeSums | None:
        return _class_apply_pass(
            reader,
            blocks,
            threads,
            class_map,
            weights,
            out,
            method=method,
            albedo_correct=albedo_correct,
            advance=progress.advance,
        )

    plume = apply(weights)
    rounds_done, masked = 0, 0
    if options.robust_active:

        def reapply(new_weights: FilterWeights) -> None:
            progress.extend(len(blocks))
            apply(new_weights)

        weights, rounds_done, masked = robust_rounds(
            reader,
            blocks,
            threads,
            group_map,
            group_stats,
            weights,
            k,
            out,
            rounds=options.robust_rounds,
            shrinkage=options.shrinkage,
            min_pixels=min_class_pixels(n_band),
            base_mean32=np.nan_to_num(weights.mean).astype(np.float32),
            reapply=reapply,
        )
    if method == "sparse" and options.iterations > 0:
        state = first_plume_removal(group_stats, weights, k, *plume)
        progress.extend(len(blocks) + options.iterations - 1)
        sparse_pass(
            reader,
            blocks,
            threads,
            group_map,
            state,
            state.mean0,
            out,
            class_map >= 0,
            iterations=options.iterations,
            spill_bytes=options.spill_bytes,
            advance=progress.advance,
        )
    attrs = {
        "clusters": int(n_group),
        "clusters_fitted": int(model.n_class),
        "cluster_features": model.features,
        "cluster_pixels": [int(c) for c in group_stats.count],
        "robust_rounds": rounds_done,
        "robust_masked_pixels": masked,
    }
    return out, attrs
