"""The reweighted-ℓ1 iterations of the sparse filter over a scene (``method="sparse"``), for any group map.

After the apply pass (which gathers each group's plume sums ``Σc``, ``Σc²``, ``Σc(x - μ)`` of the first,
non-negative estimate ``c = r α``), :func:`first_plume_removal` gives the statistics with that plume removed, and
:func:`sparse_pass` runs the first reweighting while re-reading the blocks — keeping only the pixels that survive
it, the only spectra ever held in memory — then the remaining iterations on those pixels
(:func:`plumetrace.detect.sparse.sparse_iterations`). A long flight line can leave more active spectra than memory
should hold: then each block's piece goes to a temporary file (page cache, not resident memory) and is read back
at each iteration.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from plumetrace.detect.covariance import GroupStatistics
from plumetrace.detect.group_map import GroupMap, centred_pixels
from plumetrace.detect.matched_filter import FilterWeights
from plumetrace.detect.reader import WindowReader, block_buffer
from plumetrace.detect.sparse import (
    SparseState,
    SpilledPiece,
    reweight,
    sparse_iterations,
)
from plumetrace.detect.workers import run_threads

__all__ = ["first_plume_removal", "sparse_pass"]


def first_plume_removal(
    group_stats: GroupStatistics,
    weights: FilterWeights,
    unit_absorption: np.ndarray,
    sum_c: np.ndarray,
    sum_cc: np.ndarray,
    sum_cd: np.ndarray,
) -> SparseState:
    """Background statistics with the apply pass's first plume estimate removed.

    Parameters
    ----------
    group_stats, weights
        The statistics of every group and the first filter built on them.
    unit_absorption : ndarray (n_band,)
        Target unit absorption per ppm·m.
    sum_c, sum_cc : ndarray (n_group,)
        ``Σc`` and ``Σc²`` of the plume part ``c = r α`` of each group's pixels.
    sum_cd : ndarray (n_group, n_band)
        ``Σc (x - μ)``.
    """
    state = SparseState(group_stats, weights, unit_absorption)
    state.update(sum_c, sum_cc, sum_cd)
    return state


def _survivors(
    reader: WindowReader,
    group_map: GroupMap,
    part: list[tuple[int, int]],
    out: dict[str, np.ndarray],
    state: SparseState,
    mean32: np.ndarray,
    spill: bool,
    advance: Callable[..., None],
) -> list[tuple[Any, ...]]:
    """First reweighting of the pixels of ``part`` with a positive estimate; the pieces of those still positive:
    (spectra or :class:`SpilledPiece`, rows, columns, groups, albedo factors, estimates)."""
    kept: list[tuple[Any, ...]] = []
    buffer = block_buffer(reader, max((r1 - r0 for r0, r1 in part), default=0))
    for row0, row1 in part:
        alpha0 = out["enhancement"][row0:row1]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            positive = alpha0 > 0  # NaN (invalid) compares False
        if not positive.any():
            advance()
            continue
        d, g = centred_pixels(reader, group_map, row0, row1, positive, mean32, buffer)
        rows_idx, cols_idx = np.nonzero(positive)
        r = out["albedo"][row0:row1][positive]
        score = np.einsum("nb,nb->n", d, state.q[g]) - state.offset[g]
        alpha1 = reweight(score, r, alpha0[positive], state.normalizer[g])
        alive = alpha1 > 0
        piece = d[alive]
        del d
        kept.append(
            (
                SpilledPiece(piece) if spill else piece,
                rows_idx[alive] + row0,
                cols_idx[alive],
                g[alive],
                r[alive],
                alpha1[alive],
            )
        )
        advance()
    return kept


def sparse_pass(
    reader: WindowReader,
    blocks: list[tuple[int, int]],
    threads: int,
    group_map: GroupMap,
    state: SparseState,
    mean: np.ndarray,
    out: dict[str, np.ndarray],
    valid_map: np.ndarray,
    *,
    iterations: int,
    spill_bytes: int,
    advance: Callable[..., None],
) -> None:
    """Reweighted-ℓ1 iterations, writing ``out["enhancement"]`` and ``out["uncertainty"]`` (ppm·m) in place.

    Parameters
    ----------
    reader, blocks, threads
        The window bands, their row blocks and the worker threads.
    group_map : GroupMap
        The group of every pixel.
    state : SparseState
        Statistics with the first plume estimate removed (:func:`first_plume_removal`); updated in place.
    mean : ndarray (n_group, n_band)
        The group means the apply pass centred on.
    out : dict of ndarray (n_lines, n_col) float32
        The apply pass's ``enhancement`` (the first, non-negative estimate), ``albedo`` and ``uncertainty``.
    valid_map : ndarray (n_lines, n_col) bool
        The retrieved pixels: their estimate starts at 0, the others stay NaN.
    iterations : int, keyword-only
        Reweighting iterations (≥ 1: the first runs while re-reading the blocks).
    spill_bytes : int, keyword-only
        Active set size (bytes of spectra) above which it is kept in temporary files.
    advance : callable, keyword-only
        Progress: called once per block, then with ``iterations - 1``.
    """
    mean32 = mean.astype(np.float32)
    spill = int(np.count_nonzero(out["enhancement"] > 0)) * reader.n_bands * 4 > spill_bytes
    kept_parts = run_threads(
        threads,
        lambda _w, part: _survivors(reader, group_map, part, out, state, mean32, spill, advance),
        blocks,
    )
    pieces = [p for part in kept_parts for p in part]
    del kept_parts
    out["enhancement"][valid_map] = 0.0
    if pieces:
        # The surviving pixels stay in their per-block pieces (no second, concatenated copy).
        rows_act = np.concatenate([p[1] for p in pieces])
        cols_act = np.concatenate([p[2] for p in pieces])
        g_act = np.concatenate([p[3] for p in pieces])
        alb_act = np.concatenate([p[4] for p in pieces])
        alpha_act = np.concatenate([p[5] for p in pieces])
        spectra = [p[0] for p in pieces]
        del pieces
        alpha = sparse_iterations(spectra, g_act, alb_act, alpha_act, state, iterations=iterations - 1)
        out["enhancement"][rows_act, cols_act] = alpha
    sigma32 = state.sigma().astype(np.float32)
    uncertainty = np.full(valid_map.shape, np.nan, dtype=np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        uncertainty[valid_map] = sigma32[group_map.groups(0, valid_map.shape[0], valid_map)] / out["albedo"][valid_map]
    out["uncertainty"] = uncertainty
    advance(iterations - 1)
