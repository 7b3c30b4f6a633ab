"""Passes 0 and 1 of the detection engine: which pixels are valid, and the background statistics of every group.

0. *pilot* (:func:`pilot`): a few evenly spaced lines give each column a reference spectrum (the shift for
   numerically safe sums) and a reference brightness (for flare masking);
1. *statistics* (:func:`statistics_pass`): per-column (or scene-wide) shifted sums ``Σ(x-k)`` and
   ``Σ(x-k)(x-k)ᵀ`` of the valid pixels, one float32 matrix product per block merged in float64
   (:mod:`plumetrace.detect.covariance`); then the statistics mode (column / group / scene) is resolved and the
   sums are merged into each group's mean and covariance.

Invalid pixels (:func:`validity`) — non-finite, fill, all-zero, saturated or flare — are left out of the sums.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from plumetrace.backend import Backend
from plumetrace.detect.covariance import GroupStatistics, ShiftedSums, merge_columns
from plumetrace.detect.matched_filter import MIN_GROUP_PIXELS, choose_stats, column_groups, group_width
from plumetrace.detect.reader import (
    ArrayWindowReader,
    WindowReader,
    band_axis,
    block_buffer,
    centre_in_place,
    columns_first,
)
from plumetrace.detect.workers import column_chunks, run_threads
from plumetrace.errors import InvalidFileError, InvalidInputError

__all__ = [
    "validity",
    "pilot",
    "accumulate_blocks",
    "accumulate_columns",
    "accumulate_scene",
    "merge_columns_stats",
    "resolve_stats",
    "statistics_pass",
]

#: Lines read by the pilot pass.
PILOT_LINES = 24


def validity(
    block: np.ndarray,
    ref_brightness: np.ndarray | None,
    flare_factor: float,
    saturation_value: float | None,
    axis: int = 1,
) -> np.ndarray:
    """Valid-pixel mask (n_row, n_col) of a block whose bands lie along ``axis``.

    One reduction over the bands: the window sum is non-finite for NaN/inf, ≤ 0 for all-zero spectra and for any
    band at a fill value (≤ -9990, far below minus the sum of the other bands), and above ``flare_factor`` × the
    column's reference brightness for flare. The maximum is taken only when a saturation value is given.
    """
    if axis == block.ndim - 1:  # bands contiguous: a matrix-vector product is several times faster than .sum
        total = block @ np.ones(block.shape[axis], dtype=block.dtype)  # NaN/inf propagate
    else:
        total = block.sum(axis=axis)
    valid = np.isfinite(total) & (total > 0)
    if saturation_value is not None:
        valid &= block.max(axis=axis) < saturation_value
    if ref_brightness is not None and np.isfinite(flare_factor):
        valid &= total < flare_factor * ref_brightness[None, :]
    return valid


def pilot(reader: WindowReader, saturation_value: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Per-column shift spectra (n_col, n_band) and reference window brightness (sum over bands, n_col)."""
    n_lines = reader.n_lines
    rows = np.unique(np.linspace(0, n_lines - 1, min(PILOT_LINES, n_lines)).astype(int))
    lines = block_buffer(reader, rows.size)  # one buffer, filled line by line
    for i, r in enumerate(rows):
        line = reader.read(int(r), int(r) + 1, out=lines[i : i + 1])
        if not np.may_share_memory(line, lines):  # a reader may return its own array instead
            lines[i : i + 1] = line
    valid = validity(lines, None, np.inf, saturation_value, band_axis(reader.layout)).T  # (n_col, n_pilot)
    samples = lines.transpose(2, 0, 1) if reader.layout == "rbc" else lines.transpose(1, 0, 2)  # (col, pilot, band)
    # Means of the valid pixels as sums over a zero-filled copy (what nanmean does, without its extra copies).
    zeroed = np.where(valid[..., None], samples, np.float32(0))
    count = valid.sum(axis=1)
    column_sum = zeroed.sum(axis=1)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        # Any spectrum near the mean will do for the shift (NaN: no valid pixel); float32, so that the shift the
        # blocks are centred with (float32) is exactly the one the sums are corrected with (float64).
        shift = (column_sum / count[:, None]).astype(np.float32)
        scene_shift = np.nan_to_num(column_sum.sum(axis=0) / count.sum())
        totals = np.where(valid, zeroed.sum(axis=2), np.nan)
        brightness = np.nanmedian(totals, axis=1)  # robust against a flare in the pilot lines
    missing = ~np.all(np.isfinite(shift), axis=1)
    shift[missing] = scene_shift
    brightness = np.where(np.isfinite(brightness) & (brightness > 0), brightness, np.inf)
    return shift, brightness


def _in_statistics(valid: np.ndarray, exclude: np.ndarray | None, row0: int, col0: int = 0) -> np.ndarray:
    """The valid pixels (n_row, n_c) of the block at (``row0``, ``col0``) that enter the statistics."""
    if exclude is None:
        return valid
    n_row, n_c = valid.shape
    return valid & ~exclude[row0 : row0 + n_row, col0 : col0 + n_c]


def accumulate_blocks(
    reader: WindowReader,
    blocks: list[tuple[int, int]],
    shift: np.ndarray,
    ref_brightness: np.ndarray,
    flare_factor: float,
    saturation_value: float | None,
    backend: Backend,
    advance: Any,
    *,
    exclude: np.ndarray | None = None,
) -> ShiftedSums:
    """Per-column shifted sums of the valid pixels, block by block (``exclude`` (n_lines, n_col): pixels left out)."""
    sums = ShiftedSums.zeros(shift)
    shift32 = shift.astype(np.float32)
    xp = backend
    acc2 = None
    buffer: np.ndarray | None = None
    axis = band_axis(reader.layout)
    on_cpu = backend.name == "numpy"
    n_col, n_band = shift.shape
    # Cross-products of centred data: one float32 GEMM per column and block into a reused ``prod``, summed in
    # float64. (Summing a few blocks in float32 first halves the cost of the adds, but on high-SNR scenes — clutter
    # variance ≫ noise — it moved robust-mode estimates by 0.1σ: tests/detect/test_engine.py.)
    prod = np.empty((n_col, n_band, n_band), dtype=np.float32) if on_cpu else None
    read_buffer = block_buffer(reader, max((r1 - r0 for r0, r1 in blocks), default=0))
    for row0, row1 in blocks:
        if reader.layout == "rcb" and on_cpu:
            # Band-last block: centre it in place and multiply each column's (rows × bands) slice where it lies
            # (BLAS takes the row stride), with no reordering copy.
            block = reader.read(row0, row1, out=read_buffer)
            valid = _in_statistics(validity(block, ref_brightness, flare_factor, saturation_value, axis), exclude, row0)
            centred = centre_in_place(block, shift32, "rcb")
            if not valid.all():
                centred[~valid] = 0.0
            sums.sum1 += centred.sum(axis=0)
            sums.count += valid.sum(axis=0)
            by_column = centred.transpose(1, 0, 2)
            np.matmul(by_column.transpose(0, 2, 1), by_column, out=prod)
        else:
            block = reader.read(row0, row1, writable=False, out=read_buffer)
            valid = validity(block, ref_brightness, flare_factor, saturation_value, axis)
            valid = _in_statistics(valid, exclude, row0).T  # (n_col, n_row)
            buffer = centred = columns_first(block, shift32, buffer, reader.layout)
            if valid.all():  # Σ (x - k) from the block's own layout: a contiguous reduction over rows
                row_sum = block.sum(axis=0, dtype=np.float64)
                sums.sum1 += (row_sum.T if reader.layout == "rbc" else row_sum) - (row1 - row0) * shift
            else:
                centred[~valid] = 0.0
                sums.sum1 += centred.sum(axis=1, dtype=np.float64)
            del block
            sums.count += valid.sum(axis=1)
            if on_cpu:
                np.matmul(np.swapaxes(centred, -1, -2), centred, out=prod)
            else:  # the running sum stays on the device: float32 product, float64 sum (as on the CPU)
                acc2 = xp.add_gram(acc2, xp.asarray(centred))
        if on_cpu:
            sums.sum2 += prod
        advance()
    if acc2 is not None:
        sums.sum2 += backend.to_numpy(acc2)
    return sums


def accumulate_columns(
    reader: ArrayWindowReader,
    blocks: list[tuple[int, int]],
    chunks: list[tuple[int, int]],
    sums: ShiftedSums,
    ref_brightness: np.ndarray,
    flare_factor: float,
    saturation_value: float | None,
    advance: Any,
    valid_out: np.ndarray | None = None,
    *,
    exclude: np.ndarray | None = None,
) -> None:
    """Per-column shifted sums of an in-memory (band-last) Scene, written into ``sums`` for the given column ranges
    (and the valid-pixel mask into ``valid_out`` (n_lines, n_col), for the apply pass to reuse); pixels marked in
    ``exclude`` (n_lines, n_col) stay valid but out of the sums.

    Column-range outer, row-block inner: each range's float64 sums stay in cache while every block is added to
    them in order, so each column sees the same float32 block products (``chunk_rows`` rows) summed in the same
    order as the row-block pass with one thread — 25-30 % less work than streaming the whole-width sums through
    memory once per block, and no merge of per-thread sums.
    """
    n_band = sums.shift.shape[1]
    width = max((c1 - c0 for c0, c1 in chunks), default=0)
    rows = max((r1 - r0 for r0, r1 in blocks), default=0)
    buffer = np.empty((rows, width, n_band), dtype=np.float32)
    prod = np.empty((width, n_band, n_band), dtype=np.float32)
    for col0, col1 in chunks:
        n = col1 - col0
        shift32 = sums.shift[col0:col1].astype(np.float32)
        brightness = ref_brightness[col0:col1]
        sum1, sum2, count = sums.sum1[col0:col1], sums.sum2[col0:col1], sums.count[col0:col1]
        out = prod[:n]
        for row0, row1 in blocks:
            block = reader.read(row0, row1, out=buffer[: row1 - row0, :n], col0=col0, col1=col1)
            valid = validity(block, brightness, flare_factor, saturation_value, 2)  # (n_row, n)
            if valid_out is not None:
                valid_out[row0:row1, col0:col1] = valid
            valid = _in_statistics(valid, exclude, row0, col0)
            centred = centre_in_place(block, shift32, "rcb")
            if not valid.all():
                centred[~valid] = 0.0
            sum1 += centred.sum(axis=0)
            count += valid.sum(axis=0)
            by_column = centred.transpose(1, 0, 2)
            np.matmul(by_column.transpose(0, 2, 1), by_column, out=out)
            sum2 += out
        advance(n)


def accumulate_scene(
    reader: WindowReader,
    blocks: list[tuple[int, int]],
    shift: np.ndarray,
    ref_brightness: np.ndarray,
    flare_factor: float,
    saturation_value: float | None,
    advance: Any,
    *,
    exclude: np.ndarray | None = None,
) -> tuple[ShiftedSums, np.ndarray]:
    """Scene-wide shifted sums (one pseudo-column) and the valid count of each column.

    The block is centred in place and multiplied in its own layout: one (bands × pixels)(pixels × bands) product
    per block for band-last blocks, one per line for BIL blocks (each line is a contiguous bands × samples matrix).
    """
    sums = ShiftedSums.zeros(shift)
    count = np.zeros(reader.n_samples, dtype=np.int64)
    axis = band_axis(reader.layout)
    k = shift[0].astype(np.float32)
    read_buffer = block_buffer(reader, max((r1 - r0 for r0, r1 in blocks), default=0))
    for row0, row1 in blocks:
        block = reader.read(row0, row1, out=read_buffer)  # centred in place
        valid = _in_statistics(validity(block, ref_brightness, flare_factor, saturation_value, axis), exclude, row0)
        count += valid.sum(axis=0)
        if reader.layout == "rbc":
            block -= k[None, :, None]
            if not valid.all():
                block.transpose(0, 2, 1)[~valid] = 0.0
            sums.sum1[0] += block.sum(axis=(0, 2), dtype=np.float64)
            acc = np.zeros((block.shape[1], block.shape[1]))
            for line in block:  # (bands, samples), contiguous; float32 product, float64 running sum
                acc += line @ line.T
        else:
            block -= k[None, None, :]
            if not valid.all():
                block[~valid] = 0.0
            flat = block.reshape(-1, block.shape[2])
            sums.sum1[0] += flat.sum(axis=0, dtype=np.float64)
            acc = flat.T @ flat
        sums.sum2[0] += acc
        advance()
    sums.count[0] = int(count.sum())
    return sums, count


def merge_columns_stats(stats: GroupStatistics) -> GroupStatistics:
    """Statistics of all groups pooled into one (exact: counts, means and scatters combined)."""
    good = stats.count > 0
    n = stats.count[good].astype(np.float64)
    total = float(n.sum())
    mean = (n[:, None] * stats.mean[good]).sum(axis=0) / total
    dev = stats.mean[good] - mean
    scatter = np.einsum("g,gbc->bc", np.maximum(n - 1.0, 0.0), np.nan_to_num(stats.cov[good]))
    scatter += np.einsum("g,gb,gc->bc", n, dev, dev)
    return GroupStatistics(
        count=np.array([int(total)]), mean=mean[None, :], cov=(scatter / max(total - 1.0, 1.0))[None]
    )


def resolve_stats(
    stats: str, sums: ShiftedSums, n_band: int, group_columns: int | None, *, source: str | None = None
) -> tuple[str, int, np.ndarray, int]:
    """The statistics mode, columns per group, group of each column and number of groups.

    Raises
    ------
    InvalidFileError
        Too few valid pixels in the window (naming ``source``, the scene file).
    InvalidInputError
        ``group_columns`` wider than the scene, or a column (group) with too few valid pixels for ``stats``.
    """
    n_col = sums.count.size
    total = int(sums.count.sum())
    where = source or "scene"
    if total < MIN_GROUP_PIXELS:
        raise InvalidFileError(
            where,
            "radiance",
            f"only {total} valid pixels in the spectral window (fill, NaN, zero or negative elsewhere); need at least "
            f"{MIN_GROUP_PIXELS}",
        )
    if group_columns is not None and stats == "group" and group_columns > n_col:
        raise InvalidInputError(
            "group_columns", f"{group_columns} is wider than the scene ({n_col} columns in {where})"
        )
    nonempty = sums.count[sums.count > 0]
    if stats == "auto":
        mode, width = choose_stats(int(np.median(nonempty)), n_band, n_col)
    elif stats == "group":
        mode = "group"
        width = int(group_columns) if group_columns else group_width(int(np.median(nonempty)), n_band, n_col)
        width = max(width, 2)
    elif stats == "column":
        mode, width = "column", 1
    else:
        mode, width = "scene", n_col
    groups, n_group = column_groups(n_col, mode, width)
    counts = np.bincount(groups, weights=sums.count, minlength=n_group)
    starved = (counts > 0) & (counts < MIN_GROUP_PIXELS)
    if np.any(starved):
        if stats == "auto":
            mode, width = "scene", n_col
            groups, n_group = column_groups(n_col, mode, width)
        else:
            first = int(np.flatnonzero(starved)[0])
            unit = "column" if mode == "column" else "column group"
            raise InvalidInputError(
                "stats",
                f"{stats!r}: {unit} {first} of {where} has only {int(counts[first])} valid pixels (need at least "
                f"{MIN_GROUP_PIXELS}); too few valid pixels per column: use group or scene statistics",
            )
    return mode, width, groups, n_group


def statistics_pass(
    reader: WindowReader,
    blocks: list[tuple[int, int]],
    threads: int,
    backend: Backend,
    *,
    stats: str,
    group_columns: int | None,
    shift: np.ndarray,
    ref_brightness: np.ndarray,
    flare_factor: float,
    saturation_value: float | None,
    advance: Callable[..., None],
    exclude: np.ndarray | None = None,
    source: str | None = None,
) -> tuple[str, int, np.ndarray, int, GroupStatistics, np.ndarray | None]:
    """Pass 1: the valid pixels' sums, then the statistics mode and the statistics of every group.

    ``exclude`` (n_lines, n_col) bool marks pixels kept out of the statistics (they are still valid and retrieved).
    ``source`` (the scene file) is named in the errors about its pixels: too few valid ones, or no variation
    between them.

    Returns
    -------
    (mode, columns_per_group, group_of_column (n_col,), n_group, group statistics, valid-pixel map (n_lines, n_col)
    or None when the pass does not keep it)
    """
    n_lines, n_col = reader.n_lines, reader.n_samples
    n_band = shift.shape[1]
    scene_wide = stats == "scene" and backend.name == "numpy"
    valid_map: np.ndarray | None = None  # validity of every pixel, when the statistics pass keeps it
    if scene_wide:  # one pseudo-column: no per-column products, hence no reordering of the blocks
        scene_shift = np.nanmean(shift, axis=0, keepdims=True)
        partials = run_threads(
            threads,
            lambda _w, part: accumulate_scene(
                reader, part, scene_shift, ref_brightness, flare_factor, saturation_value, advance, exclude=exclude
            ),
            blocks,
        )
    elif backend.name == "numpy" and isinstance(reader, ArrayWindowReader) and reader.in_memory:
        # In memory: each worker takes whole column ranges through all blocks (cache-resident sums, no merge).
        column_sums = ShiftedSums.zeros(shift)
        chunks = column_chunks(n_col, threads)
        valid_map = np.empty((n_lines, n_col), dtype=bool)
        run_threads(
            threads,
            lambda _w, part: accumulate_columns(
                reader,
                blocks,
                part,
                column_sums,
                ref_brightness,
                flare_factor,
                saturation_value,
                lambda n: advance(len(blocks) * n / n_col),
                valid_map,
                exclude=exclude,
            ),
            chunks,
        )
        partials = [column_sums]
    else:
        partials = run_threads(
            threads,
            lambda _w, part: accumulate_blocks(
                reader, part, shift, ref_brightness, flare_factor, saturation_value, backend, advance, exclude=exclude
            ),
            blocks,
        )
    sums, column_count = partials[0] if scene_wide else (partials[0], None)
    for other in partials[1:]:
        if scene_wide:
            sums.add(other[0])
            column_count += other[1]
        else:
            sums.add(other)
    del partials
    if scene_wide:
        per_column = ShiftedSums(shift=shift, count=column_count, sum1=np.zeros_like(shift), sum2=np.zeros((0,)))
        mode, width, groups, n_group = resolve_stats(stats, per_column, n_band, group_columns, source=source)
        group_stats = merge_columns(sums, np.zeros(1, dtype=np.int64), 1)
    else:
        mode, width, groups, n_group = resolve_stats(stats, sums, n_band, group_columns, source=source)
        group_stats = merge_columns(sums, groups, n_group, overwrite=True)
    _check_variation(group_stats, source)
    return mode, width, groups, n_group, group_stats, valid_map


def _check_variation(stats: GroupStatistics, source: str | None) -> None:
    """Refuse statistics without any variation between the valid pixels (a constant cube): every filter would be
    0/0, and the product all NaN."""
    used = stats.count > 1
    with np.errstate(all="ignore"):
        spread = np.trace(np.nan_to_num(stats.cov[used]), axis1=1, axis2=2)
        level = np.einsum("gb,gb->g", np.nan_to_num(stats.mean[used]), np.nan_to_num(stats.mean[used]))
    if used.any() and np.all(spread <= 1e-12 * np.maximum(level, np.finfo(np.float64).tiny)):
        raise InvalidFileError(
            source or "scene",
            "radiance",
            "no variation between the valid pixels in the spectral window (every pixel has the same spectrum): "
            "no background to measure a plume against",
        )
