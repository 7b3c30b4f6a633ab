"""The apply pass over a column map (``stats`` column, group or scene): the filter on every block.

Each block is centred on its columns' group means and filtered (:func:`plumetrace.detect.matched_filter.apply_filter`;
ACE on top of it, :mod:`plumetrace.detect.ace`), writing ``enhancement``, ``uncertainty``, ``albedo`` (and
``ace_score``) into the product maps. Options of one pass:

- ``pooled`` (the first pass of the robust round with more than one group): also the significance under statistics
  pooled over the scene (:func:`pooled_terms`) — a plume running along a column is nearly invisible to that column's
  own filter (it is in its mean), but stands out under pooled statistics;
- ``collect`` (``sparse``): the estimate is clamped at 0 and the per-group plume sums ``Σc``, ``Σc²``,
  ``Σc(x - μ)`` of ``c = r α`` are gathered for :func:`plumetrace.detect.sparse_pass.first_plume_removal`.

In memory (a NumPy array, not ACE) workers take whole column ranges through all blocks, so each piece stays in
cache while it is read, checked, centred and filtered (~30 % less time than whole-width blocks).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from plumetrace.detect.ace import ace_score, whitening_matrices
from plumetrace.detect.covariance import GroupStatistics
from plumetrace.detect.matched_filter import FilterWeights, apply_filter, filter_weights
from plumetrace.detect.reader import (
    WindowReader,
    band_axis,
    block_buffer,
    centre_in_place,
    columns_first,
)
from plumetrace.detect.statistics_pass import merge_columns_stats, validity
from plumetrace.detect.workers import column_chunks, run_threads

__all__ = ["ColumnFilter", "PooledTerms", "apply_pass", "pooled_terms"]

#: Columns per task of the in-memory apply pass (its per-column state is small: wider pieces, fewer calls).
APPLY_COLUMN_CHUNK = 256

PlumeSums = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class ColumnFilter:
    """A filter laid out per column: the weights, each column's group, the centring spectra (n_col, n_band) float32
    and, for ACE, each column's whitening matrix."""

    weights: FilterWeights
    groups: np.ndarray
    mean_col: np.ndarray
    whitening: np.ndarray | None

    @classmethod
    def of(cls, weights: FilterWeights, groups: np.ndarray, method: str) -> ColumnFilter:
        whitening = whitening_matrices(weights)[groups] if method == "ace" else None
        return cls(weights, groups, weights.mean[groups].astype(np.float32), whitening)


@dataclass(frozen=True)
class PooledTerms:
    """Significance under scene-pooled statistics: ``((x - μ_col)·q + offset[col]) × scale`` (float32)."""

    q: np.ndarray
    offset: np.ndarray
    scale: np.float32


def pooled_terms(
    group_stats: GroupStatistics,
    weights: FilterWeights,
    groups: np.ndarray,
    k: np.ndarray,
    shrinkage: float | str,
) -> PooledTerms:
    """The scene-pooled filter's terms for columns centred on their own group means (``weights.mean[groups]``)."""
    scene_weights = filter_weights(merge_columns_stats(group_stats), k, shrinkage=shrinkage)
    q_s = scene_weights.q[0]
    offset = (weights.mean[groups] - scene_weights.mean[0]) @ q_s  # (x-μ_s)·q = (x-μ_col)·q + (μ_col-μ_s)·q
    scale = 1.0 / (scene_weights.normalizer[0] * scene_weights.sigma[0])
    return PooledTerms(q_s.astype(np.float32), offset.astype(np.float32)[None, :], np.float32(scale))


@dataclass(frozen=True)
class _Pass:
    """What every block of one apply pass shares."""

    reader: WindowReader
    column_filter: ColumnFilter
    method: str
    albedo_correct: bool
    out: dict[str, np.ndarray]
    valid_map: np.ndarray | None
    ref_brightness: np.ndarray
    flare_factor: float
    saturation_value: float | None
    pooled: PooledTerms | None
    z_pooled: np.ndarray | None
    collect: bool


def _apply_block(
    p: _Pass,
    row0: int,
    row1: int,
    col0: int,
    col1: int,
    read_buffer: np.ndarray,
    buffer: np.ndarray | None,
    plume: PlumeSums,
) -> np.ndarray | None:
    """Filter rows ``row0:row1`` × columns ``col0:col1`` into ``p.out``; returns the reused ACE buffer."""
    reader, cf, out, layout = p.reader, p.column_filter, p.out, p.reader.layout
    cols = slice(col0, col1)
    g = cf.groups[cols]
    if col0 == 0 and col1 == reader.n_samples:
        block = reader.read(row0, row1, out=read_buffer)
    else:
        block = reader.read(
            row0,
            row1,
            out=read_buffer[: row1 - row0, : col1 - col0],
            col0=col0,
            col1=col1,
        )
    if p.valid_map is not None:
        valid = p.valid_map[row0:row1, cols]
    else:
        valid = validity(
            block,
            p.ref_brightness[cols],
            p.flare_factor,
            p.saturation_value,
            band_axis(layout),
        )
    if p.method == "ace":  # the whitening needs per-column matrix products: columns first
        buffer = centred = columns_first(block, cf.mean_col[cols], buffer, layout)
        enh, unc, alb, score = apply_filter(
            centred,
            valid.T,
            cf.weights,
            g,
            layout="crb",
            albedo_correct=p.albedo_correct,
        )
        ace = ace_score(centred, score, cf.whitening[cols], cf.weights.normalizer[g]).T
        ace[~valid] = np.nan
        out["ace_score"][row0:row1, cols] = ace
        enh, unc, alb = enh.T, unc.T, alb.T
    else:  # dot products only: stay in the block's own layout
        centred = centre_in_place(block, cf.mean_col[cols], layout)
        enh, unc, alb, score = apply_filter(
            centred,
            valid,
            cf.weights,
            g,
            layout=layout,
            albedo_correct=p.albedo_correct,
        )
    if p.pooled is not None:
        if p.method == "ace":
            z = np.einsum("crb,b->cr", centred, p.pooled.q).T
        else:
            z = np.einsum("rbc,b->rc" if layout == "rbc" else "rcb,b->rc", centred, p.pooled.q)
        z += p.pooled.offset[:, cols]
        z *= p.pooled.scale
        z[~valid] = np.nan
        p.z_pooled[row0:row1, cols] = z
    if p.collect:  # sparse: the non-negative first estimate and its plume part c = r α
        enh = np.where(valid, np.maximum(enh, 0), np.float32(np.nan))
        c = np.where(enh > 0, alb * enh, np.float32(0))
        plume_c, plume_cc, plume_cd = plume
        plume_c[cols] += c.sum(axis=0, dtype=np.float64)
        plume_cc[cols] += (c.astype(np.float64) ** 2).sum(axis=0)
        plume_cd[cols] += np.einsum("rbc,rc->cb" if layout == "rbc" else "rcb,rc->cb", centred, c)
    out["enhancement"][row0:row1, cols] = enh
    out["uncertainty"][row0:row1, cols] = unc
    out["albedo"][row0:row1, cols] = alb
    return buffer


def _plume_accumulators(n_col: int, n_band: int) -> PlumeSums:
    return np.zeros(n_col), np.zeros(n_col), np.zeros((n_col, n_band))


def _by_blocks(p: _Pass, part: list[tuple[int, int]], advance: Callable[..., None]) -> PlumeSums:
    plume = _plume_accumulators(p.reader.n_samples, p.reader.n_bands)
    buffer: np.ndarray | None = None
    read_buffer = block_buffer(p.reader, max((r1 - r0 for r0, r1 in part), default=0))
    for row0, row1 in part:
        buffer = _apply_block(p, row0, row1, 0, p.reader.n_samples, read_buffer, buffer, plume)
        advance()
    return plume


def _by_columns(
    p: _Pass,
    blocks: list[tuple[int, int]],
    part: list[tuple[int, int]],
    advance: Callable[..., None],
) -> PlumeSums:
    n_col, n_band = p.reader.n_samples, p.reader.n_bands
    plume = _plume_accumulators(n_col, n_band)
    width = max((c1 - c0 for c0, c1 in part), default=0)
    read_buffer = np.empty((max(r1 - r0 for r0, r1 in blocks), width, n_band), dtype=np.float32)
    for col0, col1 in part:
        for row0, row1 in blocks:
            _apply_block(p, row0, row1, col0, col1, read_buffer, None, plume)
        advance(len(blocks) * (col1 - col0) / n_col)
    return plume


def apply_pass(
    reader: WindowReader,
    blocks: list[tuple[int, int]],
    threads: int,
    column_filter: ColumnFilter,
    out: dict[str, np.ndarray],
    *,
    method: str,
    albedo_correct: bool,
    by_columns: bool,
    valid_map: np.ndarray | None,
    ref_brightness: np.ndarray,
    flare_factor: float,
    saturation_value: float | None,
    advance: Callable[..., None],
    pooled: PooledTerms | None = None,
    z_pooled: np.ndarray | None = None,
    collect: bool = False,
) -> PlumeSums | None:
    """Apply ``column_filter`` to every pixel, writing ``out`` (n_lines, n_col) float32 maps (NaN where invalid).

    Parameters
    ----------
    reader, blocks, threads
        The window bands, their row blocks and the worker threads.
    column_filter : ColumnFilter
        The filter and each column's group.
    out : dict of ndarray
        ``enhancement`` and ``uncertainty`` (ppm·m), ``albedo`` (unitless) and, for ACE, ``ace_score``.
    method : {"mf", "sparse", "ace"}, keyword-only
    albedo_correct : bool, keyword-only
        Divide estimate and uncertainty by the albedo factor.
    by_columns : bool, keyword-only
        Workers take column ranges through all blocks (in-memory readers) instead of whole blocks.
    valid_map : ndarray (n_lines, n_col) bool or None, keyword-only
        The statistics pass's valid pixels, when it kept them (else each block's validity is computed again from
        ``ref_brightness``, ``flare_factor``, ``saturation_value``).
    advance : callable, keyword-only
        Progress, in blocks.
    pooled, z_pooled : keyword-only
        Terms of the scene-pooled significance and the (n_lines, n_col) float32 map it is written to.
    collect : bool, keyword-only
        ``sparse``: clamp the estimate at 0 and return the per-group plume sums ``(Σc, Σc², Σc(x - μ))``.

    Returns
    -------
    The per-group plume sums with ``collect``, else None.
    """
    p = _Pass(
        reader,
        column_filter,
        method,
        albedo_correct,
        out,
        valid_map,
        ref_brightness,
        flare_factor,
        saturation_value,
        pooled,
        z_pooled,
        collect,
    )
    if by_columns:
        chunks = column_chunks(reader.n_samples, threads, APPLY_COLUMN_CHUNK)
        parts = run_threads(threads, lambda _w, part: _by_columns(p, blocks, part, advance), chunks)
    else:
        parts = run_threads(threads, lambda _w, part: _by_blocks(p, part, advance), blocks)
    if not collect:
        return None
    groups, n_group = column_filter.groups, column_filter.weights.mean.shape[0]
    per_group = np.zeros((n_group, reader.n_bands))
    np.add.at(per_group, groups, sum(q[2] for q in parts))
    return (
        np.bincount(groups, weights=sum(q[0] for q in parts), minlength=n_group),
        np.bincount(groups, weights=sum(q[1] for q in parts), minlength=n_group),
        per_group,
    )
