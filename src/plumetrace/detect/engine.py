"""Detection engine: streaming retrieval of a gas column enhancement over a Scene, pass by pass.

``detect_scene`` reads only the bands of the spectral window, one block of lines at a time
(:mod:`plumetrace.detect.reader`), so memory does not grow with flight-line length. The passes run over a group map
(:mod:`plumetrace.detect.group_map`: which background statistics each pixel is filtered with):

0. *pilot* and 1. *statistics*: each column's reference spectrum and brightness from a few lines, then the shifted
   sums of the valid pixels block by block and each group's mean and covariance — per column, group of columns or
   scene (:mod:`plumetrace.detect.statistics_pass`), or per spectral class (:mod:`plumetrace.detect.cluster_engine`);
2. *apply*: the matched filter on every block (:mod:`plumetrace.detect.apply_pass`,
   :mod:`plumetrace.detect.matched_filter`), ACE on top of it (:mod:`plumetrace.detect.ace`);
3. ``mf``/``ace``: the *robust round* (:mod:`plumetrace.detect.robust_round`): the plume taken out of the
   statistics and the filter applied again; ``sparse``: the *reweighted-ℓ1 iterations*
   (:mod:`plumetrace.detect.sparse_pass`).

Blocks are processed by a pool of threads (:mod:`plumetrace.detect.workers`). Invalid pixels — non-finite, fill
(a -9999-like value in any window band, or the file's ``data ignore value``), all-zero, saturated (any window band
≥ ``saturation_value``) or flare (window brightness above ``flare_factor`` × the column's reference) — are excluded
from the statistics and come out as NaN. The options of a run are one :class:`~plumetrace.detect.options.
DetectOptions`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from plumetrace.backend import Backend, get_backend
from plumetrace.detect.apply_pass import ColumnFilter, apply_pass, pooled_terms
from plumetrace.detect.group_map import GroupMap
from plumetrace.detect.matched_filter import (
    ROWS_PER_BAND,
    FilterWeights,
    filter_weights,
)
from plumetrace.detect.options import (
    DEFAULT_WINDOW_NM,
    METHODS,
    DetectOptions,
    resolve_options,
    window_bounds,
)
from plumetrace.detect.reader import ArrayWindowReader, WindowReader
from plumetrace.detect.result import (
    SCENE_ATTRS,
    SENSITIVITY_REFERENCE_PPM_M,
    as_dataset,
    result_attrs,
    result_variables,
    sensitivity,
)
from plumetrace.detect.robust_round import pooled_plume_mask, robust_rounds
from plumetrace.detect.sparse_pass import first_plume_removal, sparse_pass
from plumetrace.detect.statistics_pass import pilot, statistics_pass
from plumetrace.detect.workers import TaskProgress, row_blocks
from plumetrace.errors import InvalidFileError, InvalidInputError
from plumetrace.progress import progress_bar
from plumetrace.spectra.target import cached_target

if TYPE_CHECKING:  # xarray and the Scene helpers load only with detect_scene
    import xarray as xr

__all__ = [
    "DEFAULT_WINDOW_NM",
    "METHODS",
    "SCENE_ATTRS",
    "SENSITIVITY_REFERENCE_PPM_M",
    "DetectOptions",
    "detect_scene",
    "detect_window",
    "result_variables",
    "select_window",
]


def select_window(wavelength_nm: np.ndarray, window_nm: tuple[float, float]) -> tuple[int, int]:
    """Band range ``band0:band1`` whose centres lie inside ``window_nm``.

    Raises
    ------
    InvalidInputError
        Malformed window, or fewer than 3 bands of the sensor inside it.
    """
    lo, hi = window_bounds(window_nm)
    wl = np.asarray(wavelength_nm, dtype=np.float64)
    band0, band1 = (
        int(np.searchsorted(wl, lo, side="left")),
        int(np.searchsorted(wl, hi, side="right")),
    )
    if band1 - band0 < 3:
        raise InvalidInputError(
            "window_nm",
            f"{lo:g}-{hi:g} nm holds {max(band1 - band0, 0)} band(s); the sensor covers {wl.min():.0f}-{wl.max():.0f} nm "
            "and the window needs at least 3",
        )
    return band0, band1


def _scene_airmass(scene: xr.Dataset) -> float:
    from plumetrace.scene import airmass_factor

    amf = airmass_factor(scene, default_solar_zenith_deg=0.0)
    return float(np.nanmean(np.asarray(amf))) if not isinstance(amf, float) else amf


@contextmanager
def _closing(reader: WindowReader) -> Iterator[WindowReader]:
    """Close the reader (its file) however the retrieval ends, errors included."""
    try:
        yield reader
    finally:
        if hasattr(reader, "close"):
            reader.close()


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
            source or "scene",
            "radiance",
            "no pixel could be retrieved (no valid pixel, or no usable variation between pixels, in the window)",
        )


def _column_retrieval(
    reader: WindowReader,
    k: np.ndarray,
    options: DetectOptions,
    *,
    blocks: list[tuple[int, int]],
    threads: int,
    backend: Backend,
    progress: Callable[[float], TaskProgress],
    exclude: np.ndarray | None,
    source: str | None,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Retrieval with column, group or scene statistics: statistics, apply, then the robust round or the sparse
    iterations. Returns the product maps and the mode's attributes."""
    n_lines, n_col, n_band = reader.n_lines, reader.n_samples, reader.n_bands
    method, iterations = options.method, options.iterations
    if exclude is not None:
        exclude = np.asarray(exclude)
        if exclude.shape != (n_lines, n_col) or exclude.dtype != bool:
            raise InvalidInputError(
                "exclude",
                f"expected a boolean map of the scene's {n_lines} × {n_col} pixels, got {exclude.dtype} {exclude.shape}",
            )
    task = progress(2 * len(blocks) + ((len(blocks) + iterations - 1) if method == "sparse" and iterations else 0))

    shift, ref_brightness = pilot(reader, options.saturation_value)
    mode, width, groups, n_group, group_stats, valid_map = statistics_pass(
        reader,
        blocks,
        threads,
        backend,
        stats=options.stats,
        group_columns=options.group_columns,
        shift=shift,
        ref_brightness=ref_brightness,
        flare_factor=options.flare_factor,
        saturation_value=options.saturation_value,
        advance=task.advance,
        exclude=exclude,
        source=source,
    )
    weights = filter_weights(group_stats, k, shrinkage=options.shrinkage)
    # The apply pass writes every pixel of these (NaN where invalid): no fill needed.
    out = {name: np.empty((n_lines, n_col), dtype=np.float32) for name in ("enhancement", "uncertainty", "albedo")}
    if method == "ace":
        out["ace_score"] = np.full((n_lines, n_col), np.nan, dtype=np.float32)
    by_columns = (
        backend.name == "numpy" and isinstance(reader, ArrayWindowReader) and reader.in_memory and method != "ace"
    )

    def apply(weights: FilterWeights, **pooled: Any) -> Any:
        return apply_pass(
            reader,
            blocks,
            threads,
            ColumnFilter.of(weights, groups, method),
            out,
            method=method,
            albedo_correct=options.albedo_corrected,
            by_columns=by_columns,
            valid_map=valid_map,
            ref_brightness=ref_brightness,
            flare_factor=options.flare_factor,
            saturation_value=options.saturation_value,
            advance=task.advance,
            collect=method == "sparse",
            **pooled,
        )

    z_pooled = None
    if options.robust_active and n_group > 1:
        # A plume running along a column is nearly invisible to that column's own filter (it is in its mean); under
        # statistics pooled over the scene it stands out, so the first mask also looks there.
        z_pooled = np.full((n_lines, n_col), np.nan, dtype=np.float32)
        plume = apply(
            weights,
            pooled=pooled_terms(group_stats, weights, groups, k, options.shrinkage),
            z_pooled=z_pooled,
        )
    else:
        plume = apply(weights)

    group_map = GroupMap.columns(groups, n_group)
    rounds_done, masked = 0, 0
    if options.robust_active:

        def reapply(new_weights: FilterWeights) -> None:
            task.extend(len(blocks))
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
            min_pixels=ROWS_PER_BAND * n_band * width,
            base_mean32=weights.mean.astype(np.float32),
            reapply=reapply,
            extra_mask=None if z_pooled is None else pooled_plume_mask(z_pooled),
            exclude=exclude,
        )
    if method == "sparse" and iterations > 0:
        state = first_plume_removal(group_stats, weights, k, *plume)
        sparse_pass(
            reader,
            blocks,
            threads,
            group_map,
            state,
            weights.mean,
            out,
            np.isfinite(out["enhancement"]),
            iterations=iterations,
            spill_bytes=options.spill_bytes,
            advance=task.advance,
        )
    return out, {
        "mode": mode,
        "width": width,
        "robust_rounds": rounds_done,
        "robust_masked_pixels": masked,
    }


def detect_window(
    open_reader: Callable[[int, int], WindowReader],
    wavelength_nm: np.ndarray,
    fwhm_nm: np.ndarray,
    options: DetectOptions | None = None,
    *,
    airmass_factor: float,
    exclude: np.ndarray | None = None,
    source: str | None = None,
    **overrides: Any,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Plain-NumPy core of :func:`detect_scene`: retrieve the enhancement from a window reader (no xarray).

    Parameters
    ----------
    open_reader : callable (band0, band1) -> WindowReader
        Opens a reader of the window bands ``band0:band1`` (:mod:`plumetrace.detect.reader`).
    wavelength_nm, fwhm_nm : ndarray (n_band_total,)
        Band centres and widths of the whole sensor, nm.
    options : DetectOptions, optional
        The run's options (default: :class:`~plumetrace.detect.options.DetectOptions`).
    airmass_factor : float, keyword-only
        Two-way air-mass factor of the scene (scales the target).
    exclude : ndarray (y, x) bool, optional, keyword-only
        As for :func:`detect_scene`.
    source : str, optional, keyword-only
        The scene file, named in the errors about its pixels (too few valid, no variation, nothing retrieved).
    **overrides
        Fields of :class:`~plumetrace.detect.options.DetectOptions` replacing those of ``options``.

    Returns
    -------
    (arrays, attrs)
        ``arrays``: ``enhancement``, ``uncertainty``, ``albedo``, ``sensitivity`` (and ``ace_score``), float32
        (y, x) with NaN where masked; ``attrs``: the detection attributes of :func:`detect_scene` (gas, method,
        stats, window, target, air-mass factor, …) without the Scene's own.
    """
    options = resolve_options(options, **overrides)
    if exclude is not None and (options.method == "sparse" or options.stats == "cluster"):
        raise InvalidInputError(
            "exclude",
            "applies to methods mf and ace with column, group or scene statistics",
        )
    backend = get_backend(options.device)
    wavelength = np.asarray(wavelength_nm, dtype=np.float64)
    fwhm = np.asarray(fwhm_nm, dtype=np.float64)
    band0, band1 = select_window(wavelength, options.window_nm)
    amf = float(airmass_factor)
    target = cached_target(options.gas, wavelength[band0:band1], fwhm[band0:band1], airmass_factor=amf)

    reader = open_reader(band0, band1)
    blocks = row_blocks(reader.n_lines, int(options.chunk_rows))
    threads = options.n_threads or min(os.cpu_count() or 1, 8)
    threads = max(1, min(int(threads), len(blocks))) if backend.name == "numpy" else 1
    description = f"detect {target.gas} ({options.method})"
    with (
        _closing(reader),
        progress_bar(disable=None if options.progress is None else not options.progress) as bar,
    ):
        if options.stats == "cluster":
            from plumetrace.detect.cluster_engine import cluster_retrieval

            with _naming_scene(source):
                out, extra = cluster_retrieval(
                    reader,
                    target.unit_absorption,
                    options,
                    blocks=blocks,
                    threads=threads,
                    bar=bar,
                    description=description,
                )
            extra.update(mode="cluster", width=0)
        else:
            out, extra = _column_retrieval(
                reader,
                target.unit_absorption,
                options,
                blocks=blocks,
                threads=threads,
                backend=backend,
                progress=lambda total: TaskProgress(bar, description, total),
                exclude=exclude,
                source=source,
            )
    _check_retrieved(out, source)
    out["sensitivity"] = sensitivity(out["uncertainty"])
    attrs = result_attrs(
        target,
        options,
        mode=extra.pop("mode"),
        width=extra.pop("width"),
        amf=amf,
        window=(float(wavelength[band0]), float(wavelength[band1 - 1])),
        n_band=band1 - band0,
        robust_rounds=extra.pop("robust_rounds"),
        robust_masked_pixels=extra.pop("robust_masked_pixels"),
        excluded_pixels=0 if exclude is None else int(np.asarray(exclude).sum()),
    )
    attrs.update(extra)
    return out, attrs


def detect_scene(
    scene: xr.Dataset,
    options: DetectOptions | None = None,
    *,
    exclude: np.ndarray | None = None,
    **overrides: Any,
) -> xr.Dataset:
    """Retrieve the gas column enhancement of every pixel.

    Parameters
    ----------
    scene : xarray.Dataset
        A Scene (:mod:`plumetrace.scene`); radiance may be lazy. When ``attrs["source"]`` is an ENVI file it is read
        directly, window bands only (unless ``direct_read=False``).
    options : DetectOptions, optional
        Gas, method, statistics, window and the other settings of the run (default:
        :class:`~plumetrace.detect.options.DetectOptions`, whose docstring lists them with their units).
    exclude : ndarray (y, x) bool, optional, keyword-only
        Pixels kept out of the background statistics (still retrieved): a region the analyst knows or suspects
        holds plume, such as the downwind side of a known source. The statistics then come from the rest of the
        scene, so the plume's faint tail inside the region no longer biases the estimate low; the region's ground
        is then measured against the rest of the scene's background, an offset wherever the two differ
        (docs/detect.md, "Leaving a region out of the statistics"). ``mf`` and ``ace`` with column, group or scene
        statistics; ``plumetrace detect --exclude`` builds it from polygons
        (:func:`plumetrace.detect.exclusion.exclusion_map`).
    **overrides
        Fields of :class:`~plumetrace.detect.options.DetectOptions` replacing those of ``options``
        (``detect_scene(scene, method="sparse")``); the result is validated as a whole.

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
        A bad option (naming it: unknown gas/method/stats/device, ``n_threads``/``chunk_rows``/``group_columns``
        below 1, ``group_columns`` without ``stats="group"``, ``clusters`` below 1, …), a bundled target without
        overlap, a window outside the sensor's range, too few valid pixels per column for ``stats``, or
        ``clusters`` more than the valid pixels can give statistics.
    InvalidFileError
        Naming the scene file (``attrs["source"]``): too few valid pixels in the window, no variation between them
        (a constant cube), or no pixel retrieved at all; a user target file without overlap.
    TypeError
        An override that is not a field of :class:`~plumetrace.detect.options.DetectOptions`.
    """
    from plumetrace.detect.reader import window_reader
    from plumetrace.scene import validate_scene

    validate_scene(scene)
    options = resolve_options(options, **overrides)
    arrays, attrs = detect_window(
        lambda band0, band1: window_reader(scene, band0, band1, direct=options.direct_read),
        np.asarray(scene["wavelength"].values, dtype=np.float64),
        np.asarray(scene["fwhm"].values, dtype=np.float64),
        options,
        airmass_factor=_scene_airmass(scene),
        exclude=exclude,
        source=str(scene.attrs.get("source") or "scene"),
    )
    return as_dataset(scene, arrays, attrs)
