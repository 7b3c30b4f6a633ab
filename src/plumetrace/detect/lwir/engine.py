"""LWIR detection and identification of a scene: ``detect_lwir(scene, library, options) -> result``.

Steps (docs/lwir.md):

1. the scene's 7.5-13 µm channels; the gas library band-averaged to them;
2. temperature-emissivity separation and each pixel's thermal contrast against the plume temperature (given, or
   the stated assumption of :func:`~plumetrace.detect.lwir.background.estimate_plume_temperature`); pixels with
   |contrast| < ``min_contrast_k`` are BLIND (NaN columns, label −1);
3. clutter statistics per scene or spectral class; per-gas matched filter and ACE with each pixel's own target;
4. candidate pixels (best gas above ``detection_snr`` σ and ACE above ``ace_threshold``), grown to the connected
   pixels above ``pixel_snr`` σ, kept with at least ``min_pixels`` candidates: the plumes; with ``robust`` the plumes
   leave the statistics and steps 3-4 run again;
5. per plume: stepwise BIC selection among the library gases, per-pixel columns with 1σ, identification
   confidence, ambiguous groups (:mod:`plumetrace.detect.lwir.identify`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from plumetrace.detect.lwir.background import (
    ClutterStatistics,
    clutter_statistics,
    estimate_plume_temperature,
    separate_temperature_emissivity,
    whiten,
)
from plumetrace.detect.lwir.filters import filter_gases, whitened_targets
from plumetrace.detect.lwir.identify import ambiguous_groups, fit_pixel_columns, select_gases
from plumetrace.detect.lwir.layer import LayerModel
from plumetrace.detect.lwir.options import LWIR_WINDOW_NM, LwirOptions
from plumetrace.errors import InvalidFileError
from plumetrace.progress import progress_bar
from plumetrace.spectra.gas_library import GasLibrary, SensorGasLibrary, convolve_to_channels
from plumetrace.spectra.thermal import planck_radiance

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["BLIND_LABEL", "MIN_LWIR_CHANNELS", "detect_lwir", "lwir_channels"]

#: Label of a blind pixel in the label map (no thermal contrast: nothing can be seen there).
BLIND_LABEL = -1
#: Fewest 7.5-13 µm channels the LWIR branch works with.
MIN_LWIR_CHANNELS = 8
_CHUNK_PIXELS = 2048
#: Most rounds of taking lit pixels out of the clutter statistics (stops earlier when nothing changes).
ROBUST_ROUNDS = 6
#: Pixels around groups of lit ones also left out of the statistics (plume edges below 3σ).
_DILATION = 3
_SCENE_ATTRS = ("acquisition_time", "crs", "transform", "glt_crs", "glt_transform", "sensor")


def lwir_channels(scene: xr.Dataset, *, path: str | None = None) -> np.ndarray:
    """Indices of the scene's channels within 7.5-13 µm (``path``: the file named in the error, default the
    scene's ``source``).

    Raises
    ------
    InvalidFileError
        Fewer than :data:`MIN_LWIR_CHANNELS` such channels (field ``wavelength``, naming the scene's range).
    """
    wl = np.asarray(scene["wavelength"].values, dtype=np.float64)
    inside = np.flatnonzero((wl >= LWIR_WINDOW_NM[0]) & (wl <= LWIR_WINDOW_NM[1]))
    if inside.size < MIN_LWIR_CHANNELS:
        span = f"{np.nanmin(wl):.0f}-{np.nanmax(wl):.0f} nm" if wl.size else "no channels"
        raise InvalidFileError(
            path or scene.attrs.get("source", "scene"),
            "wavelength",
            f"{inside.size} channel(s) within 7500-13000 nm (the scene covers {span}); --band lwir needs a "
            f"thermal-infrared scene with at least {MIN_LWIR_CHANNELS}",
        )
    return inside


def _atmosphere(scene: xr.Dataset, bands: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Ground-to-sensor transmittance and path radiance per channel when the scene carries them."""
    out = []
    for name in ("transmittance", "path_radiance"):
        if name in scene.variables and scene[name].dims == ("band",):
            out.append(np.asarray(scene[name].values, dtype=np.float64)[bands])
        else:
            out.append(None)
    return out[0], out[1]


def _filter_all(
    radiance: np.ndarray, contrast: np.ndarray, absorption: np.ndarray, stats: ClutterStatistics
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = radiance.shape[0]
    n_gas = absorption.shape[0]
    column, sigma, ace = (np.empty((n, n_gas)) for _ in range(3))
    for start in range(0, n, _CHUNK_PIXELS):
        sl = slice(start, start + _CHUNK_PIXELS)
        cls = stats.classes[sl]
        resid = whiten(radiance[sl] - stats.mean[cls], stats, cls)
        targets = whitened_targets(contrast[sl], absorption, stats, cls)
        column[sl], sigma[sl], ace[sl] = filter_gases(resid, targets)
    return column, sigma, ace


def _plumes(
    column: np.ndarray,
    sigma: np.ndarray,
    ace: np.ndarray,
    usable: np.ndarray,
    shape: tuple[int, int],
    index: np.ndarray,
    options: LwirOptions,
) -> np.ndarray:
    """Plume id per image pixel (0 = none)."""
    from scipy import ndimage

    with np.errstate(invalid="ignore", divide="ignore"):
        snr = np.where(usable[:, None], column / sigma, 0.0)
    core = np.any((snr >= options.detection_snr) & (ace >= options.ace_threshold), axis=1)
    weak = np.any(snr >= options.pixel_snr, axis=1) | core
    core_img, weak_img = np.zeros(shape, bool), np.zeros(shape, bool)
    core_img.flat[index[core]] = True
    weak_img.flat[index[weak]] = True
    # An extended weak plume: the mean SNR over 3 × 3 pixels (a third of a pixel's noise) passes the same σ.
    image_snr = np.zeros((snr.shape[1],) + shape)
    image_snr.reshape(snr.shape[1], -1)[:, index] = snr.T
    smooth = ndimage.uniform_filter(image_snr, size=(1, 3, 3), mode="nearest") * 3.0
    core_img |= np.any(smooth >= options.detection_snr, axis=0) & weak_img
    weak_img |= np.any(smooth >= options.pixel_snr, axis=0)
    weak_img.flat[np.setdiff1d(np.arange(weak_img.size), index)] = False
    labels, n = ndimage.label(weak_img, structure=np.ones((3, 3), dtype=bool))
    counts = np.bincount(labels[core_img], minlength=n + 1)
    keep = np.flatnonzero(counts >= options.min_pixels)
    keep = keep[keep > 0]
    out = np.zeros(shape, dtype=np.int32)
    for new, old in enumerate(keep, start=1):
        out[labels == old] = new
    return out


def detect_lwir(
    scene: xr.Dataset,
    library: GasLibrary | SensorGasLibrary,
    options: LwirOptions | None = None,
    *,
    progress: bool | None = None,
) -> xr.Dataset:
    """Detect and identify library gases in an LWIR scene.

    Parameters
    ----------
    scene : xarray.Dataset
        Scene with ``radiance(y, x, band)`` in µW cm⁻² sr⁻¹ nm⁻¹ and ``wavelength``/``fwhm`` (nm); optional
        ``transmittance(band)`` and ``path_radiance(band)`` of the air below the sensor (default τ = 1, none).
    library : GasLibrary or SensorGasLibrary
        Gas spectra (a :class:`GasLibrary` is band-averaged to the scene's channels).
    options : LwirOptions, optional
        Settings (defaults when omitted).
    progress : bool, optional
        Show a progress bar (default: when stderr is a terminal).

    Returns
    -------
    xarray.Dataset
        ``column_ppm_m``, ``column_sigma_ppm_m``, ``ace`` (gas, y, x); ``label`` (y, x) int16 (0 none, −1 blind,
        k ≥ 1 the k-th entry of ``attrs["label_table"]``); ``plume_id`` (y, x) int32; ``blind`` (y, x) bool;
        ``contrast_k``, ``surface_temperature_k`` (y, x). ``attrs``: ``identification`` (one dict per plume),
        ``ambiguous_groups``, ``noise_equivalent_column_ppm_m`` (median 1σ per gas), ``plume_temperature_k`` and
        its ``plume_temperature_source``, the scene's georeferencing and time.

    Raises
    ------
    InvalidFileError
        The scene has no 7.5-13 µm channels; a library spectrum does not cover them.
    InvalidInputError
        An option out of range.
    """
    import xarray as xr

    options = (options or LwirOptions()).validated()
    bands = lwir_channels(scene)
    wl = np.asarray(scene["wavelength"].values, dtype=np.float64)[bands]
    fwhm = np.asarray(scene["fwhm"].values, dtype=np.float64)[bands] if "fwhm" in scene.variables else None
    hires = None
    if isinstance(library, GasLibrary):
        if fwhm is None:
            fwhm = np.gradient(wl)
        hires = library
        library = convolve_to_channels(library, wl, fwhm)
    elif library.absorption_per_ppm_m.shape[1] != wl.size:
        library = _match_channels(library, wl)
    absorption = np.asarray(library.absorption_per_ppm_m, dtype=np.float64)
    layer = _layer_model(absorption, hires, wl, fwhm)
    names = tuple(library.names)
    cube = np.asarray(scene["radiance"].isel(band=bands).values, dtype=np.float64)
    ny, nx, nb = cube.shape
    flat = cube.reshape(-1, nb)
    valid = np.all(np.isfinite(flat) & (flat > 0), axis=1)
    index = np.flatnonzero(valid)
    radiance = flat[valid]
    if radiance.shape[0] < 2 * nb:
        raise InvalidFileError(
            scene.attrs.get("source", "scene"), "radiance", f"{radiance.shape[0]} valid pixels; need {2 * nb}"
        )
    tau, path = _atmosphere(scene, bands)
    with progress_bar(disable=None if progress is None else not progress) as bar:
        task = bar.add_task("detect lwir", total=5)
        surface = separate_temperature_emissivity(
            radiance, wl, transmittance=tau, path_radiance=path, emissivity_max=options.emissivity_max
        )
        if options.contrast_k is not None:
            t_plume = surface.brightness_k + float(options.contrast_k)
            t_source = f"given contrast {options.contrast_k:+g} K over each pixel's background brightness temperature"
        elif options.plume_temperature_k is not None:
            t_plume, t_source = np.full(radiance.shape[0], float(options.plume_temperature_k)), "given"
        else:
            t_plume = np.full(radiance.shape[0], estimate_plume_temperature(surface, air_offset_k=options.air_offset_k))
            t_source = f"estimated: median TES surface temperature less {options.air_offset_k:g} K"
        tau_v = np.ones(nb) if tau is None else tau
        path_v = np.zeros(nb) if path is None else path
        contrast = tau_v * planck_radiance(wl, t_plume[:, None]) + path_v - radiance  # τ D
        contrast_k = t_plume - surface.brightness_k
        blind = np.abs(contrast_k) < options.min_contrast_k
        usable = ~blind
        bar.advance(task)
        stats = clutter_statistics(radiance, surface.emissivity, n_classes=_n_classes(options))
        column, sigma, ace = _filter_all(radiance, contrast, absorption, stats)
        bar.advance(task)
        excluded = np.zeros(radiance.shape[0], dtype=bool)
        for _ in range(ROBUST_ROUNDS if options.robust else 0):
            # Pixels any gas lights up (plumes and their edges, dilated) leave the statistics: a plume covering a
            # few per cent of the scene otherwise puts its own spectrum into the clutter and hides itself.
            from scipy import ndimage

            with np.errstate(invalid="ignore", divide="ignore"):
                snr = np.where(usable[:, None], np.nan_to_num(column / sigma), 0.0)
            image_snr = np.zeros((snr.shape[1], ny * nx))
            image_snr[:, index] = snr.T
            image_snr = image_snr.reshape(-1, ny, nx)
            # A pixel is lit when a gas passes pixel_snr σ there, or in the mean of its 3 × 3 neighbourhood (whose
            # noise is a third of a pixel's): extended weak plumes light up as a whole.
            smooth = ndimage.uniform_filter(image_snr, size=(1, 3, 3), mode="nearest")
            image_lit = np.any((image_snr >= options.pixel_snr) | (smooth >= options.pixel_snr / 3.0), axis=0)
            image_lit.flat[np.setdiff1d(np.arange(ny * nx), index)] = False
            # Groups of lit pixels (plumes) are widened by their sub-3σ edges; lone noise peaks are not.
            groups, _ = ndimage.label(image_lit, structure=np.ones((3, 3), dtype=bool))
            sizes = np.bincount(groups.ravel())
            sizes[0] = 0
            grown = ndimage.binary_dilation(sizes[groups] >= options.min_pixels, iterations=_DILATION)
            now = (grown | image_lit).flat[index]
            if np.array_equal(now, excluded):
                break
            excluded = now
            stats = clutter_statistics(radiance, surface.emissivity, n_classes=_n_classes(options), exclude=excluded)
            column, sigma, ace = _filter_all(radiance, contrast, absorption, stats)
        plume_img = _plumes(column, sigma, ace, usable, (ny, nx), index, options)
        bar.advance(task)
        # Ambiguity at the scene's median contrast, whitened with the largest class.
        median_target = np.median(contrast[usable] if usable.any() else contrast, axis=0)
        big = int(np.argmax(stats.n_pixels))
        groups, correlation = ambiguous_groups(
            (median_target[None, :] * absorption) @ stats.whitening[big].T, names, options.ambiguity_correlation
        )
        label_table: list[str] = []
        label_px = np.zeros(radiance.shape[0], dtype=np.int16)
        plume_px = plume_img.flat[index]
        records = []
        for pid in range(1, int(plume_img.max()) + 1):
            rows = np.flatnonzero(plume_px == pid)
            record, pixel_cols, pixel_sig, labels = _identify_plume(
                rows, radiance, contrast, layer, stats, column, sigma, names, groups, options
            )
            record.update(_where(rows, index, nx, scene), plume_id=pid, contrast_k=float(np.median(contrast_k[rows])))
            column[rows], sigma[rows] = pixel_cols, pixel_sig
            for k, row in enumerate(rows):
                if labels[k]:
                    if labels[k] not in label_table:
                        label_table.append(labels[k])
                    label_px[row] = label_table.index(labels[k]) + 1
            records.append(record)
        bar.advance(task)
        column[blind], sigma[blind] = np.nan, np.nan
        ace[blind] = np.nan
        label_px[blind] = BLIND_LABEL
        nec = {
            g: float(np.nanmedian(sigma[usable & (plume_px == 0), i])) if usable.any() else float("nan")
            for i, g in enumerate(names)
        }
        bar.advance(task)

    def image(values: np.ndarray, fill: Any, dtype: Any) -> np.ndarray:
        out = np.full((ny * nx,) + values.shape[1:], fill, dtype=dtype)
        out[index] = values
        return out.reshape((ny, nx) + values.shape[1:])

    gas_first = lambda a: np.moveaxis(image(a, np.nan, np.float32), -1, 0)  # noqa: E731
    data_vars: dict[str, Any] = {
        "column_ppm_m": (("gas", "y", "x"), gas_first(column), {"units": "ppm m"}),
        "column_sigma_ppm_m": (("gas", "y", "x"), gas_first(sigma), {"units": "ppm m"}),
        "ace": (("gas", "y", "x"), gas_first(ace), {"units": "1"}),
        "label": (("y", "x"), image(label_px, -9999, np.int16), {"units": "1"}),
        "plume_id": (("y", "x"), plume_img, {"units": "1"}),
        "blind": (("y", "x"), image(blind, False, bool), {"units": "1"}),
        "contrast_k": (("y", "x"), image(contrast_k, np.nan, np.float32), {"units": "K"}),
        "plume_temperature_k": (("y", "x"), image(t_plume, np.nan, np.float32), {"units": "K"}),
        "surface_temperature_k": (("y", "x"), image(surface.temperature_k, np.nan, np.float32), {"units": "K"}),
    }
    for name in ("glt_row", "glt_col"):
        if name in scene.variables:
            data_vars[name] = (scene[name].dims, np.asarray(scene[name].values))
    attrs = {key: scene.attrs[key] for key in _SCENE_ATTRS if key in scene.attrs}
    attrs.update(
        band="lwir",
        method="lwir-bic",
        stats=options.stats,
        source=str(scene.attrs.get("source", "")),
        gases=list(names),
        library_sources=[str(s) for s in library.sources],
        label_table=label_table,
        identification=records,
        ambiguous_groups=[list(g) for g in groups],
        ambiguity_correlation=float(options.ambiguity_correlation),
        target_correlation=correlation.round(4).tolist(),
        noise_equivalent_column_ppm_m=nec,
        plume_temperature_k=float(np.median(t_plume)),
        plume_temperature_source=t_source,
        bic_penalty=options.bic_penalty,
        classes=int(stats.mean.shape[0]),
        channels=int(nb),
        window_nm=[float(wl[0]), float(wl[-1])],
        blind_pixels=int(blind.sum()),
    )
    return xr.Dataset(data_vars, coords={"gas": list(names)}, attrs=attrs)


def _layer_model(
    absorption: np.ndarray, hires: GasLibrary | None, wl: np.ndarray, fwhm: np.ndarray | None
) -> LayerModel:
    """Channel model, or the library's resolution under the channels' Gaussian responses when it is given."""
    if hires is None or fwhm is None:
        return LayerModel(absorption)
    from plumetrace.spectra.response import gaussian_response_matrix

    grid = hires.wavelength_nm[::-1]
    lo, hi = np.searchsorted(grid, [wl.min() - 3.0 * fwhm.max(), wl.max() + 3.0 * fwhm.max()])
    grid = grid[lo:hi]
    alpha = np.nan_to_num(np.asarray(hires.absorption_per_ppm_m, dtype=np.float64)[:, ::-1][:, lo:hi])
    from scipy.sparse import csr_matrix

    return LayerModel(absorption, alpha, csr_matrix(gaussian_response_matrix(grid, wl, fwhm)))


def _n_classes(options: LwirOptions) -> int:
    return options.n_classes if options.stats == "class" else 1


def _match_channels(library: SensorGasLibrary, wl: np.ndarray) -> SensorGasLibrary:
    """A sensor library on the full channel list restricted to the LWIR ones (matched by centre)."""
    centres = np.asarray(library.centers_nm, dtype=np.float64)
    idx = [int(np.argmin(np.abs(centres - w))) for w in wl]
    if not np.allclose(centres[idx], wl, atol=0.5):
        raise InvalidFileError(
            library.sources[0] if library.sources else "library", "channels", "do not match the scene's channels"
        )
    from dataclasses import replace

    return replace(
        library,
        centers_nm=centres[idx],
        fwhm_nm=np.asarray(library.fwhm_nm)[idx],
        absorption_per_ppm_m=library.absorption_per_ppm_m[:, idx],
    )


def _where(rows: np.ndarray, index: np.ndarray, nx: int, scene: xr.Dataset) -> dict[str, Any]:
    flat = index[rows]
    r, c = flat // nx, flat % nx
    out: dict[str, Any] = {"n_pixels": int(rows.size), "row": float(r.mean()), "col": float(c.mean())}
    if "transform" in scene.attrs:
        a, b, x0, d, e, y0 = (float(v) for v in scene.attrs["transform"][:6])
        out["x"] = x0 + a * (out["col"] + 0.5) + b * (out["row"] + 0.5)
        out["y"] = y0 + d * (out["col"] + 0.5) + e * (out["row"] + 0.5)
    return out


def _identify_plume(
    rows: np.ndarray,
    radiance: np.ndarray,
    contrast: np.ndarray,
    layer: LayerModel,
    stats: ClutterStatistics,
    column: np.ndarray,
    sigma: np.ndarray,
    names: tuple[str, ...],
    groups: list[tuple[str, ...]],
    options: LwirOptions,
) -> tuple[dict[str, Any], np.ndarray, np.ndarray, list[str]]:
    """Selection, columns and labels of one plume (``rows``: its pixels among the valid ones)."""
    cls = stats.classes[rows]
    resid = whiten(radiance[rows] - stats.mean[cls], stats, cls)
    cont = contrast[rows]

    def whitener(values: np.ndarray) -> np.ndarray:
        return whiten(values, stats, cls)

    with np.errstate(invalid="ignore", divide="ignore"):
        snr = np.nan_to_num(column[rows] / sigma[rows])
    first = int(np.argmax(np.clip(snr, 0, None).sum(axis=0)))
    start = np.clip(column[rows, first], 0.0, None) + 1e-3 * max(np.nanmax(np.abs(column[rows, first])), 1e-9)
    sel = select_gases(resid, cont, layer, whitener, start, max_gases=options.max_gases, penalty=options.bic_penalty)
    chosen = list(sel.fit.gases)
    init = sel.fit.dilution[:, None] * sel.fit.column_ppm_m[None, :]
    cols, sig, _ = fit_pixel_columns(resid, cont, layer.subset(chosen), whitener, start=init)
    sig = sig * np.sqrt(sel.dispersion)
    out_col, out_sig = column[rows].copy(), sigma[rows].copy()
    # Gases left out: their matched filter on what the chosen gases leave (noise level when truly absent).
    model, _ = layer.subset(chosen).evaluate(cont, cols)
    left = resid - whitener(model)
    others = [g for g in range(len(names)) if g not in chosen]
    if others:
        targets = whitened_targets(cont, layer.absorption[others], stats, cls)
        c_other, s_other, _ = filter_gases(left, targets)
        out_col[:, others], out_sig[:, others] = c_other, s_other
    out_col[:, chosen], out_sig[:, chosen] = cols, sig
    labels = []
    for k in range(rows.size):
        present = [names[g] for j, g in enumerate(chosen) if cols[k, j] >= options.pixel_snr * sig[k, j]]
        labels.append("+".join(present))
    n = rows.size
    chosen_names = [names[g] for g in chosen]
    record: dict[str, Any] = {
        "gases": chosen_names,
        "columns_ppm_m": {names[g]: float(cols[:, j].mean()) for j, g in enumerate(chosen)},
        "sigma_ppm_m": {names[g]: float(np.sqrt(np.sum(sig[:, j] ** 2)) / n) for j, g in enumerate(chosen)},
        "peak_column_ppm_m": {names[g]: float(cols[:, j].max()) for j, g in enumerate(chosen)},
        "plume_mean_column_ppm_m": {names[g]: float(sel.fit.column_ppm_m[j]) for j, g in enumerate(chosen)},
        "plume_mean_sigma_ppm_m": {names[g]: float(sel.fit.sigma_ppm_m[j]) for j, g in enumerate(chosen)},
        "confidence": float(sel.confidence),
        "gas_probability": {names[g]: round(float(p), 4) for g, p in sel.gas_probability.items() if p >= 1e-3},
        "ambiguous_groups": [list(g) for g in groups if set(g) & set(chosen_names)],
        "dispersion": float(sel.dispersion),
    }
    return record, out_col, out_sig, labels
