"""Detection engine: streaming two-pass retrieval of a gas column enhancement over a Scene.

``detect_scene`` reads only the bands of the spectral window, one block of lines at a time
(:mod:`plumetrace.detect.reader`), so memory does not grow with flight-line length:

0. *pilot* and 1. *statistics* (:mod:`plumetrace.detect.statistics_pass`): each column's reference spectrum and
   brightness from a few lines, then the shifted sums of the valid pixels block by block, the statistics mode
   (column / group / scene) and each group's mean and covariance; the shrunk covariances are factored once per group;
2. *apply*: the matched filter on every block (:mod:`plumetrace.detect.matched_filter`), ACE on top of it
   (:mod:`plumetrace.detect.ace`), or — for ``method="sparse"`` — the initial albedo-corrected estimate, keeping
   only pixels with a positive estimate for the reweighted-ℓ1 iterations (:mod:`plumetrace.detect.sparse`).

Blocks are processed by a pool of threads (:mod:`plumetrace.detect.workers`). Invalid pixels — non-finite, fill
(a -9999-like value in any window band, or the file's ``data ignore value``), all-zero, saturated (any window band
≥ ``saturation_value``) or flare (window brightness above ``flare_factor`` × the column's reference) — are excluded
from the statistics and come out as NaN.
"""

from __future__ import annotations

import math
import os
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from plumetrace.backend import get_backend
from plumetrace.detect.ace import ace_score, whitening_matrices
from plumetrace.detect.covariance import GroupStatistics
from plumetrace.detect.matched_filter import (
    FilterWeights,
    ROWS_PER_BAND,
    STATS_CHOICES,
    apply_filter,
    filter_weights,
)
from plumetrace.detect.robust import (
    plume_estimate_sums,
    plume_estimate_terms,
    plume_free_statistics,
    plume_mask,
    reapply_needed,
)
from plumetrace.detect.reader import ArrayWindowReader, WindowReader, band_axis, block_buffer, centre_in_place, columns_first, pixels
from plumetrace.detect.sparse import REFINE_SIGMA, SparseState, SpilledPiece, reweight, sparse_iterations
from plumetrace.detect.statistics_pass import merge_columns_stats, pilot, statistics_pass, validity
from plumetrace.detect.workers import column_chunks, row_blocks, run_threads
from plumetrace.errors import InvalidFileError, InvalidInputError
from plumetrace.progress import progress_bar
from plumetrace.spectra.target import Target, resolve_target

if TYPE_CHECKING:  # xarray and the Scene helpers load only with detect_scene: the file-to-file path never needs them
    import xarray as xr

__all__ = ["METHODS", "DEFAULT_WINDOW_NM", "SENSITIVITY_REFERENCE_PPM_M", "select_window", "detect_window", "detect_scene"]

METHODS = ("mf", "sparse", "ace")
DEFAULT_WINDOW_NM = (2122.0, 2488.0)
#: ``sensitivity`` is the signal-to-noise ratio of an enhancement of this size at the pixel (unitless).
SENSITIVITY_REFERENCE_PPM_M = 1000.0
#: Active-set size (bytes of spectra) above which the sparse filter keeps it in temporary files.
SPILL_BYTES = 256 * 2**20
_STRIPE_WINDOW = 15  # columns: striping in the pooled significance is what a median over this many misses


def select_window(wavelength_nm: np.ndarray, window_nm: tuple[float, float]) -> tuple[int, int]:
    """Band range ``band0:band1`` whose centres lie inside ``window_nm``.

    Raises
    ------
    InvalidInputError
        Malformed window, or fewer than 3 bands of the sensor inside it.
    """
    try:
        lo, hi = (float(v) for v in window_nm)
    except (TypeError, ValueError):
        raise InvalidInputError("window_nm", f"{window_nm!r}; expected two numbers, e.g. 2122,2488") from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi:
        raise InvalidInputError("window_nm", f"{lo:g}-{hi:g}: the start must be below the end")
    wl = np.asarray(wavelength_nm, dtype=np.float64)
    band0, band1 = int(np.searchsorted(wl, lo, side="left")), int(np.searchsorted(wl, hi, side="right"))
    if band1 - band0 < 3:
        raise InvalidInputError(
            "window_nm",
            f"{lo:g}-{hi:g} nm holds {max(band1 - band0, 0)} band(s); the sensor covers {wl.min():.0f}-{wl.max():.0f} nm "
            "and the window needs at least 3",
        )
    return band0, band1


_TARGET_CACHE: dict[tuple[str, bytes, bytes, float], Target] = {}
_TARGET_CACHE_SIZE = 8


def _target(gas: str, wavelength_nm: np.ndarray, fwhm_nm: np.ndarray, airmass_factor: float) -> Target:
    """:func:`resolve_target`, remembered for bundled gases (the band convolution of the LUT costs ~5-10 ms a scene).

    User target files are read every time (they may change between calls). Cached targets are read-only.
    """
    from plumetrace.spectra.target import BUNDLED_GASES

    name = gas.strip().lower() if isinstance(gas, str) else gas
    if name not in BUNDLED_GASES:
        return resolve_target(gas, wavelength_nm, fwhm_nm, airmass_factor=airmass_factor)
    key = (name, np.ascontiguousarray(wavelength_nm).tobytes(), np.ascontiguousarray(fwhm_nm).tobytes(), float(airmass_factor))
    target = _TARGET_CACHE.get(key)
    if target is None:
        target = resolve_target(gas, wavelength_nm, fwhm_nm, airmass_factor=airmass_factor)
        for value in vars(target).values():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False
        if len(_TARGET_CACHE) >= _TARGET_CACHE_SIZE:
            _TARGET_CACHE.pop(next(iter(_TARGET_CACHE)))
        _TARGET_CACHE[key] = target
    return target


def _scene_airmass(scene: xr.Dataset) -> float:
    from plumetrace.scene import airmass_factor

    amf = airmass_factor(scene, default_solar_zenith_deg=0.0)
    return float(np.nanmean(np.asarray(amf))) if not isinstance(amf, float) else amf


_MALLOC_TUNED = False


def _return_freed_memory_promptly() -> None:
    """Make glibc serve allocations ≥ 1 MiB with mmap (returned to the OS on free).

    Worker threads allocate and free many block-sized arrays; with glibc's adaptive threshold they end up in
    per-thread heaps that are never given back, which inflates peak RSS by ~20 %. A fixed threshold disables that
    adaptation. No effect (and no error) on other C libraries.
    """
    global _MALLOC_TUNED
    if _MALLOC_TUNED:
        return
    _MALLOC_TUNED = True
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass


def _sum_by_group(per_column: np.ndarray, groups: np.ndarray, n_group: int) -> np.ndarray:
    out = np.zeros((n_group,) + per_column.shape[1:])
    np.add.at(out, groups, per_column)
    return out


#: Columns per task of the in-memory apply pass (its per-column state is small: wider pieces, fewer calls).
_APPLY_COLUMN_CHUNK = 256


def _masked_sums(
    reader: WindowReader,
    blocks: list[tuple[int, int]],
    mask: np.ndarray,
    mean_col: np.ndarray,
    groups: np.ndarray,
    n_group: int,
    gain: np.ndarray,
    alpha_offset: np.ndarray,
    stats_offset: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Per-group sums over the pixels marked in ``mask`` (n_lines, n_col), for the robust round.

    With ``d = x - b`` (``b = mean_col``, the first pass's group means as float32), returns count, ``Σ d``,
    ``Σ d dᵀ`` and the plume-estimate sums ``A``, ``P``, ``Q`` of :func:`plumetrace.detect.robust.
    plume_estimate_sums` (``gain``, ``alpha_offset``, ``stats_offset`` from ``plume_estimate_terms``) — what
    :func:`plumetrace.detect.robust.plume_free_statistics` and :func:`plumetrace.detect.robust.reapply_needed` take.
    """
    n_band = mean_col.shape[1]
    count = np.zeros(n_group, dtype=np.int64)
    sum_d = np.zeros((n_group, n_band))
    sum_dd = np.zeros((n_group, n_band, n_band))
    sum_a = np.zeros(n_group)
    sum_ad = np.zeros((n_group, n_band))
    sum_a2 = np.zeros(n_group)
    for row0, row1 in blocks:
        marked = mask[row0:row1]
        block = reader.read(row0, row1)
        centred = centre_in_place(block, mean_col, reader.layout)
        d = pixels(centred, marked, reader.layout)  # (n, band), row-major order
        del block, centred
        g = groups[np.nonzero(marked)[1]]
        order = np.argsort(g, kind="stable")
        g, d = g[order], d[order]
        bounds = np.flatnonzero(np.diff(g)) + 1
        starts = np.concatenate([[0], bounds])
        stops = np.concatenate([bounds, [g.size]])
        for start, stop in zip(starts, stops):
            piece = d[start:stop].astype(np.float64)
            group = int(g[start])
            count[group] += stop - start
            sum_d[group] += piece.sum(axis=0)
            sum_dd[group] += piece.T @ piece
            a, ad, a2 = plume_estimate_sums(piece, gain[group], alpha_offset[group], stats_offset[group])
            sum_a[group] += a
            sum_ad[group] += ad
            sum_a2[group] += a2
    return count, sum_d, sum_dd, sum_a, sum_ad, sum_a2


@contextmanager
def _closing(reader: WindowReader) -> Iterator[WindowReader]:
    """Close the reader (its file) however the retrieval ends, errors included."""
    try:
        yield reader
    finally:
        if hasattr(reader, "close"):
            reader.close()


def _sensitivity(uncertainty_ppm_m: np.ndarray) -> np.ndarray:
    """Signal-to-noise ratio of a ``SENSITIVITY_REFERENCE_PPM_M`` enhancement (float32, NaN where masked)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return (SENSITIVITY_REFERENCE_PPM_M / uncertainty_ppm_m).astype(np.float32)


def _first_plume_removal(
    group_stats: GroupStatistics,
    weights: FilterWeights,
    k: np.ndarray,
    plume_sums: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    groups: np.ndarray,
    n_group: int,
) -> SparseState:
    """Background statistics with the apply pass's first plume estimate removed (``sparse`` and ``refine``).

    ``plume_sums`` are the workers' per-column ``Σc``, ``Σc²`` and ``Σc(x - μ)`` of the plume part ``c``.
    """
    state = SparseState(group_stats, weights, k)
    state.update(
        np.bincount(groups, weights=sum(p[0] for p in plume_sums), minlength=n_group),
        np.bincount(groups, weights=sum(p[1] for p in plume_sums), minlength=n_group),
        _sum_by_group(sum(p[2] for p in plume_sums), groups, n_group),
    )
    return state


@contextmanager
def _naming_scene(source: str | None) -> Iterator[None]:
    """Errors about the scene's pixels (field ``scene``) name the scene file instead."""
    try:
        yield
    except InvalidInputError as exc:
        if exc.field != "scene":
            raise
        raise InvalidFileError(source or "scene", "radiance", exc.problem) from None


def _check_retrieved(out: dict[str, np.ndarray], source: str | None) -> None:
    """An all-NaN product is never a result: refuse it, naming the scene."""
    if not np.isfinite(out["enhancement"]).any():
        raise InvalidFileError(
            source or "scene", "radiance",
            "no pixel could be retrieved (no valid pixel, or no usable variation between pixels, in the window)",
        )


def _check_options(
    *,
    method: str,
    stats: str,
    iterations: int,
    chunk_rows: int,
    group_columns: int | None,
    flare_factor: float,
    albedo_correct: bool | None,
    refine: bool,
    clusters: int | None,
    cluster_features: str,
    device: str,
    exclude: np.ndarray | None,
    n_threads: int | None = None,
) -> bool:
    """Check :func:`detect_window`'s options (one-line errors naming the option); returns ``albedo_correct`` resolved
    (default: on for ``sparse`` only)."""
    if refine and method != "mf":
        raise InvalidInputError("refine", f"applies to method 'mf' only (the sparse filter always refines), not {method!r}")
    if albedo_correct is None:
        albedo_correct = method == "sparse"
    elif method == "sparse" and not albedo_correct:
        raise InvalidInputError("albedo_correct", "the sparse filter is always albedo-corrected")
    if method not in METHODS:
        raise InvalidInputError("method", f"{method!r}; expected one of {', '.join(METHODS)}")
    if stats not in STATS_CHOICES:
        raise InvalidInputError("stats", f"{stats!r}; expected one of {', '.join(STATS_CHOICES)}")
    if not isinstance(iterations, (int, np.integer)) or iterations < 0:
        raise InvalidInputError("iterations", f"{iterations!r}; expected a whole number ≥ 0")
    if not isinstance(chunk_rows, (int, np.integer)) or chunk_rows < 1:
        raise InvalidInputError("chunk_rows", f"{chunk_rows!r}; expected a whole number ≥ 1")
    if group_columns is not None and (not isinstance(group_columns, (int, np.integer)) or group_columns < 1):
        raise InvalidInputError("group_columns", f"{group_columns!r}; expected a whole number ≥ 1")
    if group_columns is not None and stats != "group":
        raise InvalidInputError("group_columns", f"applies to stats 'group' only, not {stats!r}")
    if n_threads is not None and (not isinstance(n_threads, (int, np.integer)) or n_threads < 1):
        raise InvalidInputError("n_threads", f"{n_threads!r}; expected a whole number ≥ 1 (leave it out for all cores)")
    if not flare_factor > 1:
        raise InvalidInputError("flare_factor", f"{flare_factor!r}; expected a number above 1 (inf disables)")
    if stats != "cluster" and (clusters is not None or cluster_features != "shape"):
        raise InvalidInputError("clusters", f"applies to stats 'cluster' only, not {stats!r}")
    if stats == "cluster":
        from plumetrace.detect.clusters import FEATURES, check_clusters

        if clusters is not None:
            check_clusters(clusters, 2**62, 1)  # the type and sign; the pixel count is checked once it is known
        if cluster_features not in FEATURES:
            raise InvalidInputError("cluster_features", f"{cluster_features!r}; expected one of {', '.join(FEATURES)}")
        if device != "cpu":
            raise InvalidInputError("device", f"{device!r}: stats 'cluster' runs on the CPU only")
    if exclude is not None and (method == "sparse" or stats == "cluster"):
        raise InvalidInputError("exclude", "applies to methods mf and ace with column, group or scene statistics")
    return bool(albedo_correct)


def detect_window(
    open_reader: Callable[[int, int], WindowReader],
    wavelength_nm: np.ndarray,
    fwhm_nm: np.ndarray,
    *,
    airmass_factor: float,
    gas: str = "ch4",
    method: str = "mf",
    stats: str = "auto",
    window_nm: tuple[float, float] = DEFAULT_WINDOW_NM,
    iterations: int = 30,
    chunk_rows: int = 64,
    device: str = "cpu",
    group_columns: int | None = None,
    shrinkage: float | str = "loading",
    flare_factor: float = 4.0,
    saturation_value: float | None = None,
    n_threads: int | None = None,
    progress: bool | None = None,
    albedo_correct: bool | None = None,
    refine: bool = False,
    robust: bool = True,
    robust_rounds: int = 1,
    spill_bytes: int = SPILL_BYTES,
    clusters: int | None = None,
    cluster_features: str = "shape",
    exclude: np.ndarray | None = None,
    source: str | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Plain-NumPy core of :func:`detect_scene`: retrieve the enhancement from a window reader (no xarray).

    Parameters
    ----------
    open_reader : callable (band0, band1) -> WindowReader
        Opens a reader of the window bands ``band0:band1`` (:mod:`plumetrace.detect.reader`).
    wavelength_nm, fwhm_nm : ndarray (n_band_total,)
        Band centres and widths of the whole sensor, nm.
    airmass_factor : float, keyword-only
        Two-way air-mass factor of the scene (scales the target).
    gas, method, stats, … : keyword-only
        As for :func:`detect_scene`.
    source : str, optional, keyword-only
        The scene file, named in the errors about its pixels (too few valid, no variation, nothing retrieved).

    Returns
    -------
    (arrays, attrs)
        ``arrays``: ``enhancement``, ``uncertainty``, ``albedo``, ``sensitivity`` (and ``ace_score``), float32
        (y, x) with NaN where masked; ``attrs``: the detection attributes of :func:`detect_scene` (gas, method,
        stats, window, target, air-mass factor, …) without the Scene's own.
    """
    albedo_correct = _check_options(
        method=method, stats=stats, iterations=iterations, chunk_rows=chunk_rows, group_columns=group_columns,
        flare_factor=flare_factor, albedo_correct=albedo_correct, refine=refine, clusters=clusters,
        cluster_features=cluster_features, device=device, exclude=exclude, n_threads=n_threads,
    )
    backend = get_backend(device)
    _return_freed_memory_promptly()

    wavelength = np.asarray(wavelength_nm, dtype=np.float64)
    fwhm = np.asarray(fwhm_nm, dtype=np.float64)
    band0, band1 = select_window(wavelength, window_nm)
    amf = float(airmass_factor)
    target = _target(gas, wavelength[band0:band1], fwhm[band0:band1], amf)
    k = target.unit_absorption
    n_band = band1 - band0

    reader = open_reader(band0, band1)
    n_lines, n_col = reader.n_lines, reader.n_samples
    blocks = row_blocks(n_lines, int(chunk_rows))
    threads = n_threads or min(os.cpu_count() or 1, 8)
    threads = max(1, min(int(threads), len(blocks))) if backend.name == "numpy" else 1

    if stats == "cluster":
        with _naming_scene(source):
            out, attrs = _detect_clusters(
                reader, target, method=method, clusters=clusters, cluster_features=cluster_features, blocks=blocks,
                threads=threads, shrinkage=shrinkage, flare_factor=flare_factor, saturation_value=saturation_value,
                albedo_correct=albedo_correct, refine=bool(refine), robust=bool(robust), robust_rounds=robust_rounds,
                iterations=int(iterations), spill_bytes=spill_bytes, progress=progress, amf=amf, window_nm=window_nm,
                window=(float(wavelength[band0]), float(wavelength[band1 - 1])),
            )
        _check_retrieved(out, source)
        return out, attrs

    with _closing(reader), progress_bar(disable=None if progress is None else not progress) as bar:
        if exclude is not None:
            exclude = np.asarray(exclude)
            if exclude.shape != (n_lines, n_col) or exclude.dtype != bool:
                raise InvalidInputError(
                    "exclude", f"expected a boolean map of the scene's {n_lines} × {n_col} pixels, got {exclude.dtype} {exclude.shape}"
                )
        total_steps = 2 * len(blocks) + ((len(blocks) + int(iterations) - 1) if method == "sparse" and iterations else 0)
        total_steps += len(blocks) if refine and method != "sparse" else 0
        task = bar.add_task(f"detect {target.gas} ({method})", total=total_steps)
        lock = threading.Lock()

        def advance(n: int = 1) -> None:
            with lock:
                bar.advance(task, n)

        # Pass 0 + 1: statistics.
        shift, ref_brightness = pilot(reader, saturation_value)
        mode, width, groups, n_group, group_stats, valid_map = statistics_pass(
            reader, blocks, threads, backend, stats=stats, group_columns=group_columns, shift=shift,
            ref_brightness=ref_brightness, flare_factor=flare_factor, saturation_value=saturation_value, advance=advance,
            exclude=exclude, source=source,
        )
        weights = filter_weights(group_stats, k, shrinkage=shrinkage)
        do_robust = bool(robust) and method in ("mf", "ace") and not refine and int(robust_rounds) > 0
        whitening = whitening_matrices(weights)[groups] if method == "ace" else None

        by_columns = backend.name == "numpy" and isinstance(reader, ArrayWindowReader) and reader.in_memory and method != "ace"
        # The apply pass writes every pixel of these (NaN where invalid): no fill needed.
        out = {name: np.empty((n_lines, n_col), dtype=np.float32) for name in ("enhancement", "uncertainty", "albedo")}
        if method == "ace":
            out["ace_score"] = np.full((n_lines, n_col), np.nan, dtype=np.float32)
        mean_col = weights.mean[groups].astype(np.float32)

        layout = reader.layout
        axis = band_axis(layout)

        pooled: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        z_pooled: np.ndarray | None = None
        if do_robust and n_group > 1:
            # A plume running along a column is nearly invisible to that column's own filter (it is in its mean);
            # under statistics pooled over the scene it stands out, so the first mask also looks there.
            scene_weights = filter_weights(merge_columns_stats(group_stats), k, shrinkage=shrinkage)
            q_s = scene_weights.q[0]
            offset = (weights.mean[groups] - scene_weights.mean[0]) @ q_s  # (x-μ_s)·q = (x-μ_col)·q + (μ_col-μ_s)·q
            scale = 1.0 / (scene_weights.normalizer[0] * scene_weights.sigma[0])
            pooled = (q_s.astype(np.float32), offset.astype(np.float32)[None, :], np.float32(scale))
            z_pooled = np.full((n_lines, n_col), np.nan, dtype=np.float32)

        def apply_block(
            row0: int, row1: int, col0: int, col1: int, read_buffer: np.ndarray, buffer: np.ndarray | None,
            plume: tuple[np.ndarray, np.ndarray, np.ndarray],
        ) -> np.ndarray | None:
            """Filter rows ``row0:row1`` × columns ``col0:col1`` into ``out``; returns the reused ACE buffer."""
            cols = slice(col0, col1)
            g = groups[cols]
            if col0 == 0 and col1 == n_col:
                block = reader.read(row0, row1, out=read_buffer)
            else:
                block = reader.read(row0, row1, out=read_buffer[: row1 - row0, : col1 - col0], col0=col0, col1=col1)
            if valid_map is not None:
                valid = valid_map[row0:row1, cols]
            else:
                valid = validity(block, ref_brightness[cols], flare_factor, saturation_value, axis)  # (n_row, n_c)
            if method == "ace":  # the whitening needs per-column matrix products: columns first
                buffer = centred = columns_first(block, mean_col[cols], buffer, layout)
                enh, unc, alb, score = apply_filter(centred, valid.T, weights, g, layout="crb", albedo_correct=albedo_correct)
                ace = ace_score(centred, score, whitening[cols], weights.normalizer[g]).T
                ace[~valid] = np.nan
                out["ace_score"][row0:row1, cols] = ace
                enh, unc, alb = enh.T, unc.T, alb.T
            else:  # dot products only: stay in the block's own layout
                centred = centre_in_place(block, mean_col[cols], layout)
                enh, unc, alb, score = apply_filter(centred, valid, weights, g, layout=layout, albedo_correct=albedo_correct)
            if pooled is not None:  # first pass of the robust mode: significance under pooled statistics
                q_pooled, offset_pooled, scale_pooled = pooled
                if method == "ace":
                    z = np.einsum("crb,b->cr", centred, q_pooled).T
                else:
                    z = np.einsum("rbc,b->rc" if layout == "rbc" else "rcb,b->rc", centred, q_pooled)
                z += offset_pooled[:, cols]
                z *= scale_pooled
                z[~valid] = np.nan
                z_pooled[row0:row1, cols] = z
            if method == "sparse" or refine:
                if method == "sparse":
                    enh = np.where(valid, np.maximum(enh, 0), np.float32(np.nan))
                    c = np.where(enh > 0, alb * enh, np.float32(0))
                else:  # plume part r·α of clearly enhanced pixels (the MF amplitude itself carries r when uncorrected)
                    amplitude = alb * enh if albedo_correct else enh
                    c = np.where(enh > REFINE_SIGMA * unc, amplitude, np.float32(0))
                    if exclude is not None:  # not in the statistics: nothing to remove from them
                        c[exclude[row0:row1, cols]] = 0
                plume_c, plume_cc, plume_cd = plume
                plume_c[cols] += c.sum(axis=0, dtype=np.float64)
                plume_cc[cols] += (c.astype(np.float64) ** 2).sum(axis=0)
                plume_cd[cols] += np.einsum("rbc,rc->cb" if layout == "rbc" else "rcb,rc->cb", centred, c)
            out["enhancement"][row0:row1, cols] = enh
            out["uncertainty"][row0:row1, cols] = unc
            out["albedo"][row0:row1, cols] = alb
            return buffer

        def plume_accumulators() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            # sparse / refine: first plume-removal sums Σc, Σc², Σc(x-μ) per column
            return np.zeros(n_col), np.zeros(n_col), np.zeros((n_col, n_band))

        def apply(_w: int, part: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            plume = plume_accumulators()
            buffer: np.ndarray | None = None
            read_buffer = block_buffer(reader, max((r1 - r0 for r0, r1 in part), default=0))
            for row0, row1 in part:
                buffer = apply_block(row0, row1, 0, n_col, read_buffer, buffer, plume)
                advance()
            return plume

        def apply_columns(_w: int, part: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            # In memory: whole column ranges through all blocks, so each piece stays in cache while it is read,
            # checked, centred and filtered (~30 % less time than whole-width blocks).
            plume = plume_accumulators()
            width = max((c1 - c0 for c0, c1 in part), default=0)
            read_buffer = np.empty((max(r1 - r0 for r0, r1 in blocks), width, n_band), dtype=np.float32)
            for col0, col1 in part:
                for row0, row1 in blocks:
                    apply_block(row0, row1, col0, col1, read_buffer, None, plume)
                advance(len(blocks) * (col1 - col0) / n_col)
            return plume

        def apply_pass() -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
            if by_columns:
                return run_threads(threads, apply_columns, column_chunks(n_col, threads, _APPLY_COLUMN_CHUNK))
            return run_threads(threads, apply, blocks)

        plume_sums = apply_pass()

        robust_done: tuple[int, int] | None = None
        if do_robust:
            # Plume-free statistics: mark the plume, downdate the statistics of all pixels, apply again.
            base_mean_col = mean_col
            base_mean = weights.mean.astype(np.float32)  # per group: what ``_masked_sums`` centres on
            pooled = None
            pooled_mask = None
            if z_pooled is not None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    medians = np.nan_to_num(np.nanmedian(z_pooled[:: max(1, n_lines // 256)], axis=0))
                from scipy import ndimage  # lazy: start-up time

                # Column-to-column striping is not a plume; a plume is smooth across columns (and may fill most of
                # some columns), so only the high-pass part of the column medians is removed.
                z_pooled -= (medians - ndimage.median_filter(medians, size=_STRIPE_WINDOW, mode="nearest"))[None, :]
                pooled_mask = plume_mask(z_pooled)
                del z_pooled
            for round_index in range(int(robust_rounds)):
                with np.errstate(divide="ignore", invalid="ignore"):
                    mask = plume_mask(out["enhancement"] / out["uncertainty"])
                if pooled_mask is not None:
                    mask |= pooled_mask
                if exclude is not None:  # already out of the statistics
                    mask &= ~exclude
                if not mask.any():
                    break
                marked = [(r0, r1) for r0, r1 in blocks if mask[r0:r1].any()]
                # The marked pixels stay in the statistics with their estimated plume taken out (x - α s, α ≥ 0):
                # excluding them instead also removed target-like clutter from the background, which then stood out
                # (half the AUPRC on procedural AVIRIS-NG; docs/design/spy_gap.md).
                gain, alpha_offset, stats_offset = plume_estimate_terms(weights, base_mean, group_stats.mean)
                gathered = run_threads(
                    threads,
                    lambda _w, part: _masked_sums(reader, part, mask, base_mean_col, groups, n_group, gain, alpha_offset, stats_offset),
                    marked,
                )
                m_count, m_sum, m_outer, m_alpha, m_alpha_d, m_alpha2 = (sum(g[i] for g in gathered) for i in range(6))
                del gathered
                robust_stats = plume_free_statistics(
                    group_stats, np.nan_to_num(group_stats.mean) * k, m_count, m_sum, m_outer, m_alpha, m_alpha_d,
                    m_alpha2, min_pixels=ROWS_PER_BAND * n_band * width,
                )
                robust_weights = filter_weights(robust_stats, k, shrinkage=shrinkage)
                # Re-apply only when the downdated filter moves the marked pixels' estimate (mean and covariance
                # both count: a plume's signature t∘x varies over cluttered ground); see plumetrace.detect.robust.
                if not reapply_needed(m_count, m_sum, base_mean, weights, robust_weights):
                    break
                weights = robust_weights
                whitening = whitening_matrices(weights)[groups] if method == "ace" else None
                mean_col = weights.mean[groups].astype(np.float32)
                bar.update(task, total=bar.tasks[task].total + len(blocks))
                apply_pass()
                robust_done = (round_index + 1, int(mask.sum()))

        if refine and method != "sparse":
            # Background statistics with the first estimate of the plume removed (rank-2 update), then one more read.
            state = _first_plume_removal(group_stats, weights, k, plume_sums, groups, n_group)
            q1 = state.q[groups]  # (n_col, n_band)
            q_layout = np.ascontiguousarray(q1.T) if layout == "rbc" else q1
            subscripts = "rbc,bc->rc" if layout == "rbc" else "rcb,cb->rc"
            offset1 = state.offset[groups][None, :]
            norm1 = state.normalizer[groups][None, :]

            def refined(_w: int, part: list[tuple[int, int]]) -> None:
                for row0, row1 in part:
                    block = reader.read(row0, row1)
                    centred = centre_in_place(block, mean_col, layout)
                    enh = (np.einsum(subscripts, centred, q_layout) - offset1) / norm1
                    if albedo_correct:
                        with np.errstate(divide="ignore", invalid="ignore"):
                            enh /= out["albedo"][row0:row1]
                    enh[~np.isfinite(out["enhancement"][row0:row1])] = np.nan
                    out["enhancement"][row0:row1] = enh
                    advance()

            run_threads(threads, refined, blocks)
            sigma_col = state.sigma()[groups].astype(np.float32)[None, :]
            with np.errstate(divide="ignore", invalid="ignore"):
                scale = out["albedo"] if albedo_correct else np.float32(1.0)
                out["uncertainty"] = np.where(np.isfinite(out["enhancement"]), sigma_col / scale, np.nan).astype(np.float32)

        if method == "sparse" and iterations > 0:
            # First reweighting: statistics from the sums of pass 2, then a third read keeps only the pixels that
            # survive it — the only spectra ever held in memory.
            state = _first_plume_removal(group_stats, weights, k, plume_sums, groups, n_group)
            q1, offset1, norm1 = state.q[groups], state.offset[groups], state.normalizer[groups]

            def survivors(_w: int, part: list[tuple[int, int]]) -> list[tuple[np.ndarray, ...]]:
                kept: list[tuple[np.ndarray, ...]] = []
                for row0, row1 in part:
                    alpha0 = out["enhancement"][row0:row1]
                    positive = alpha0 > 0  # NaN (invalid) compares False
                    if not positive.any():
                        continue
                    block = reader.read(row0, row1)
                    centred = centre_in_place(block, mean_col, layout)
                    rows_idx, cols_idx = np.nonzero(positive)
                    d = pixels(centred, positive, layout)
                    del block, centred
                    r = out["albedo"][row0:row1][positive]
                    score = np.einsum("nb,nb->n", d, q1[cols_idx]) - offset1[cols_idx]
                    alpha1 = reweight(score, r, alpha0[positive], norm1[cols_idx])
                    alive = alpha1 > 0
                    piece = d[alive]
                    del d
                    kept.append((SpilledPiece(piece) if spill else piece, rows_idx[alive] + row0, cols_idx[alive],
                                 r[alive], alpha1[alive]))
                    advance()
                return kept

            # A long flight line can leave more active spectra than memory should hold: then each block's piece goes
            # to a temporary file (page cache, not resident memory) and is read back at each iteration.
            spill = int(np.count_nonzero(out["enhancement"] > 0)) * n_band * 4 > spill_bytes
            kept_parts = run_threads(threads, survivors, blocks)
            pieces = [p for part in kept_parts for p in part]
            del kept_parts
            valid_map = np.isfinite(out["enhancement"])
            out["enhancement"][valid_map] = 0.0
            if pieces:
                # The surviving pixels stay in their per-block pieces (no second, concatenated copy).
                rows_act = np.concatenate([p[1] for p in pieces])
                cols_act = np.concatenate([p[2] for p in pieces])
                alb_act = np.concatenate([p[3] for p in pieces])
                alpha_act = np.concatenate([p[4] for p in pieces])
                spectra = [p[0] for p in pieces]
                del pieces
                alpha = sparse_iterations(spectra, groups[cols_act], alb_act, alpha_act, state, iterations=int(iterations) - 1)
                out["enhancement"][rows_act, cols_act] = alpha
            with np.errstate(divide="ignore", invalid="ignore"):
                sigma_col = state.sigma()[groups].astype(np.float32)
                out["uncertainty"] = np.where(valid_map, sigma_col[None, :] / out["albedo"], np.nan).astype(np.float32)
            advance(int(iterations) - 1)

    if robust_done is not None:
        out_attrs_extra = {"robust_rounds": robust_done[0], "robust_masked_pixels": robust_done[1]}
    else:
        out_attrs_extra = {"robust_rounds": 0, "robust_masked_pixels": 0}
    _check_retrieved(out, source)
    out["sensitivity"] = _sensitivity(out["uncertainty"])
    attrs = _result_attrs(target, method=method, mode=mode, width=width, amf=amf,
                          window=(float(wavelength[band0]), float(wavelength[band1 - 1])), window_nm=window_nm,
                          iterations=int(iterations), shrinkage=shrinkage, n_band=n_band,
                          albedo_correct=albedo_correct, refine=bool(refine) and method != "sparse",
                          robust_attrs=out_attrs_extra, excluded_pixels=0 if exclude is None else int(exclude.sum()))
    return out, attrs


def _detect_clusters(
    reader: WindowReader,
    target: Target,
    *,
    method: str,
    clusters: int | None,
    cluster_features: str,
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
    progress: bool | None,
    amf: float,
    window_nm: tuple[float, float],
    window: tuple[float, float],
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """``stats="cluster"``: class-wise statistics (:mod:`plumetrace.detect.cluster_engine`), products and attributes."""
    from plumetrace.detect.cluster_engine import cluster_retrieval

    with _closing(reader), progress_bar(disable=None if progress is None else not progress) as bar:
        out, extra = cluster_retrieval(
            reader, target.unit_absorption, method=method, clusters=clusters, features=cluster_features,
            blocks=blocks, threads=threads, shrinkage=shrinkage, flare_factor=flare_factor,
            saturation_value=saturation_value, albedo_correct=albedo_correct, refine=refine and method != "sparse",
            robust=robust, robust_rounds=robust_rounds, iterations=iterations, spill_bytes=spill_bytes, bar=bar,
            description=f"detect {target.gas} ({method})",
        )
    out["sensitivity"] = _sensitivity(out["uncertainty"])
    robust_attrs = {"robust_rounds": extra.pop("robust_rounds"), "robust_masked_pixels": extra.pop("robust_masked_pixels")}
    attrs = _result_attrs(target, method=method, mode="cluster", width=0, amf=amf, window=window, window_nm=window_nm,
                          iterations=iterations, shrinkage=shrinkage, n_band=int(target.unit_absorption.size),
                          albedo_correct=albedo_correct, refine=refine and method != "sparse", robust_attrs=robust_attrs)
    attrs.update(extra)
    return out, attrs


def detect_scene(
    scene: xr.Dataset,
    *,
    gas: str = "ch4",
    method: str = "mf",
    stats: str = "auto",
    window_nm: tuple[float, float] = DEFAULT_WINDOW_NM,
    iterations: int = 30,
    chunk_rows: int = 64,
    device: str = "cpu",
    group_columns: int | None = None,
    shrinkage: float | str = "loading",
    flare_factor: float = 4.0,
    saturation_value: float | None = None,
    n_threads: int | None = None,
    direct_read: bool = True,
    progress: bool | None = None,
    albedo_correct: bool | None = None,
    refine: bool = False,
    robust: bool = True,
    robust_rounds: int = 1,
    spill_bytes: int = SPILL_BYTES,
    clusters: int | None = None,
    cluster_features: str = "shape",
    exclude: np.ndarray | None = None,
) -> xr.Dataset:
    """Retrieve the gas column enhancement of every pixel.

    Parameters
    ----------
    scene : xarray.Dataset
        A Scene (:mod:`plumetrace.scene`); radiance may be lazy. When ``attrs["source"]`` is an ENVI file it is read
        directly, window bands only.
    gas : str, keyword-only
        ``ch4`` or a user target file / ``.npz`` LUT (:func:`plumetrace.spectra.target.resolve_target`).
    method : {"mf", "sparse", "ace"}, keyword-only
        Classic matched filter; albedo-corrected reweighted-ℓ1 sparse filter (mag1c class, non-negative); or ACE
        (enhancement = matched-filter amplitude, plus ``ace_score``).
    stats : {"auto", "column", "group", "scene", "cluster"}, keyword-only
        Which pixels share background statistics; ``auto`` chooses from valid rows vs window bands (among column,
        group and scene). ``cluster``: pixels of the same spectral class (k-means on the shape of the window
        spectrum, :mod:`plumetrace.detect.clusters`), each filtered with its class's mean and covariance; the
        ``uncertainty`` and ``sensitivity`` of a pixel are its class's. CPU only.
    window_nm : (float, float), keyword-only
        Spectral window, nm.
    iterations : int, keyword-only
        Reweighting iterations of the sparse filter.
    chunk_rows : int, keyword-only
        Lines per block.
    device : {"cpu", "cuda"}, keyword-only
        Where the block products run (:mod:`plumetrace.backend`).
    group_columns : int, optional, keyword-only
        Columns per group for ``stats="group"`` (default: from the valid rows).
    shrinkage : "loading", "oas" or float, keyword-only
        Covariance regularisation: diagonal loading at the noise floor (default), OAS or a fixed fraction toward the
        diagonal (:func:`plumetrace.detect.covariance.regularize_covariance`).
    flare_factor : float, keyword-only
        Pixels brighter than this × their column's reference brightness are masked as flare (``inf`` disables).
    saturation_value : float, optional, keyword-only
        Pixels with any window band at or above this value (file units) are masked as saturated.
    n_threads : int, optional, keyword-only
        Worker threads (default: CPU count, at most 8).
    direct_read : bool, keyword-only
        Read ENVI files directly (False: through the Scene's array).
    progress : bool, optional, keyword-only
        Show a progress bar (default: when stderr is a terminal).
    albedo_correct : bool, optional, keyword-only
        Divide estimate and uncertainty by the albedo factor ``r = xᵀμ/μᵀμ``: a dark pixel carries a weaker
        absolute absorption signal, so the plain matched filter underestimates it by ``r``. Default: on for
        ``sparse`` (always, as in mag1c), off for ``mf`` and ``ace``.
    refine : bool, keyword-only
        ``mf`` only: remove the first estimate of the plume (pixels above 2σ) from the background mean and
        covariance (a rank-2 update) and apply the updated filter in one more read of the scene. A plume in the
        statistics biases the matched filter low (the filter partly nulls the target direction); this removes most
        of that bias at the cost of a third pass. Replaces ``robust``.
    robust : bool, keyword-only
        ``mf`` and ``ace``: take the significant plume pixels (:func:`plumetrace.detect.robust.plume_mask`) out of
        the background statistics and apply the filter again (:mod:`plumetrace.detect.robust`). Each round costs a
        re-read of the blocks holding marked pixels; the filter is re-applied (one more pass) unless the downdated
        statistics change the marked pixels' summed estimate by less than 1 %
        (:func:`plumetrace.detect.robust.reapply_needed`).
    robust_rounds : int, keyword-only
        Rounds of mask → exclusion → re-application (each mask from the previous round's estimate).
    spill_bytes : int, keyword-only
        ``sparse``: when the pixels with a positive first estimate would hold more spectra than this (bytes), the
        active set is kept in temporary files and read back at each iteration, so memory does not grow with the
        flight-line length (default 256 MiB).
    clusters : int, optional, keyword-only
        ``stats="cluster"``: spectral classes to fit. Default: up to
        :data:`~plumetrace.detect.clusters.DEFAULT_MAX_CLUSTERS` (4), fewer when the scene has fewer than 5 ×
        :func:`~plumetrace.detect.clusters.min_class_pixels` (4 × window bands) valid pixels per class. A class left
        with fewer than that minimum is merged into the nearest adequate class.
    cluster_features : {"shape", "radiance"}, keyword-only
        ``stats="cluster"``: cluster the log-radiance shape with the target direction projected out (default; a
        plume never moves a pixel to another class) or the raw window radiance.
    exclude : ndarray (y, x) bool, optional, keyword-only
        Pixels kept out of the background statistics (still retrieved): a region the analyst knows or suspects
        holds plume, such as the downwind side of a known source. The statistics then come from the rest of the
        scene, so the plume's faint tail inside the region no longer biases the estimate low; the region's ground
        is then measured against the rest of the scene's background, an offset wherever the two differ
        (docs/detect.md, "Leaving a region out of the statistics"). ``mf`` and ``ace`` with column, group or scene
        statistics; ``plumetrace detect --exclude`` builds it from polygons
        (:func:`plumetrace.detect.exclusion.exclusion_map`).

    Returns
    -------
    xarray.Dataset
        ``enhancement(y, x)`` ppm·m, ``uncertainty(y, x)`` noise-propagated 1σ ppm·m, ``albedo(y, x)`` (albedo
        factor ``xᵀμ/μᵀμ``, unitless), ``sensitivity(y, x)`` (signal-to-noise ratio of a 1000 ppm·m enhancement,
        unitless), all float32 with NaN where masked; ``ace_score`` for ACE. Attributes record gas, method, stats,
        window, target, air-mass factor and the Scene's sensor, time and georeferencing.

    Raises
    ------
    InvalidInputError
        Unknown gas/method/stats/device, a bundled target without overlap, a window outside the sensor's range,
        ``n_threads``/``chunk_rows``/``group_columns`` below 1, ``group_columns`` without ``stats="group"``, too few
        valid pixels per column for ``stats``, or ``clusters`` below 1 or more than the valid pixels can give
        statistics.
    InvalidFileError
        Naming the scene file (``attrs["source"]``): too few valid pixels in the window, no variation between them
        (a constant cube), or no pixel retrieved at all; a user target file without overlap.
    """
    from plumetrace.detect.reader import window_reader
    from plumetrace.scene import validate_scene

    validate_scene(scene)
    arrays, attrs = detect_window(
        lambda band0, band1: window_reader(scene, band0, band1, direct=direct_read),
        np.asarray(scene["wavelength"].values, dtype=np.float64),
        np.asarray(scene["fwhm"].values, dtype=np.float64),
        airmass_factor=_scene_airmass(scene),
        gas=gas, method=method, stats=stats, window_nm=window_nm, iterations=iterations, chunk_rows=chunk_rows,
        device=device, group_columns=group_columns, shrinkage=shrinkage, flare_factor=flare_factor,
        saturation_value=saturation_value, n_threads=n_threads, progress=progress, albedo_correct=albedo_correct,
        refine=refine, robust=robust, robust_rounds=robust_rounds, spill_bytes=spill_bytes, clusters=clusters,
        cluster_features=cluster_features, exclude=exclude, source=str(scene.attrs.get("source") or "scene"),
    )
    return _as_dataset(scene, arrays, attrs)


def _result_attrs(
    target: Target,
    *,
    method: str,
    mode: str,
    width: int,
    amf: float,
    window: tuple[float, float],
    window_nm: tuple[float, float],
    iterations: int,
    shrinkage: float | str,
    n_band: int,
    albedo_correct: bool,
    refine: bool,
    robust_attrs: dict[str, int],
    excluded_pixels: int = 0,
) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "gas": target.gas,
        "method": method,
        "stats": mode,
        "columns_per_group": int(width),
        "window_nm": [float(window_nm[0]), float(window_nm[1])],
        "window_band_centres_nm": [window[0], window[1]],
        "window_bands": int(n_band),
        "target_source": target.source,
        "airmass_factor": float(amf),
        "shrinkage": str(shrinkage),
        "albedo_correct": bool(albedo_correct),
        "refine": bool(refine),
        **robust_attrs,
        "background_excluded_pixels": int(excluded_pixels),
    }
    if method == "sparse":
        attrs["iterations"] = iterations
    return attrs


#: Scene attributes carried into the detection result.
SCENE_ATTRS = ("acquisition_time", "crs", "transform", "glt_crs", "glt_transform")


def result_variables(arrays: dict[str, np.ndarray], gas: str) -> dict[str, tuple[np.ndarray, dict[str, str]]]:
    """Product arrays of :func:`detect_window` with their units and long names (variable → (array, attrs))."""
    variables = {
        "enhancement": (arrays["enhancement"], {"units": "ppm m", "long_name": f"{gas} column enhancement"}),
        "uncertainty": (arrays["uncertainty"], {"units": "ppm m", "long_name": "noise-propagated 1-sigma uncertainty"}),
        "albedo": (arrays["albedo"], {"units": "1", "long_name": "albedo factor x.mu / mu.mu"}),
        "sensitivity": (
            arrays["sensitivity"],
            {"units": "1", "long_name": f"signal-to-noise ratio of a {SENSITIVITY_REFERENCE_PPM_M:g} ppm m enhancement"},
        ),
    }
    if "ace_score" in arrays:
        variables["ace_score"] = (arrays["ace_score"], {"units": "1", "long_name": "signed ACE score (cosine squared)"})
    return variables


def _as_dataset(scene: xr.Dataset, arrays: dict[str, np.ndarray], attrs: dict[str, Any]) -> xr.Dataset:
    import xarray as xr

    from plumetrace.scene import pixel_size_m

    dims = ("y", "x")
    data_vars: dict[str, Any] = {
        name: (dims, values, var_attrs) for name, (values, var_attrs) in result_variables(arrays, attrs["gas"]).items()
    }
    attrs = dict(attrs)
    attrs["sensor"] = scene.attrs.get("sensor", "generic")
    attrs["source"] = str(scene.attrs.get("source", ""))
    for key in SCENE_ATTRS:
        if key in scene.attrs:
            attrs[key] = scene.attrs[key]
    try:
        attrs["pixel_size_m"] = float(pixel_size_m(scene))
    except Exception:
        pass
    coords: dict[str, Any] = {}
    for name in ("lat", "lon"):
        if name in scene.coords:
            coords[name] = scene.coords[name]
    ds = xr.Dataset(data_vars, coords=coords, attrs=attrs)
    for name in ("glt_row", "glt_col"):
        if name in scene:
            ds[name] = scene[name]
    return ds
