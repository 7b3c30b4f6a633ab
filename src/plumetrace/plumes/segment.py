"""Plume masks from an enhancement map: robust background, hysteresis thresholding, connected components.

The enhancement map (ppm·m) is turned into a significance map ``z = (E - median) / sigma`` where the median and
``sigma = 1.4826 · MAD`` come from the map itself (per column when the map was retrieved column by column, as a
push-broom matched filter does), after clipping bright outliers so that the plume does not inflate its own
background. The significance map is lightly smoothed (a Gaussian of ``smooth_px`` pixels, which raises the
signal-to-noise ratio of plumes a few pixels across and suppresses single-pixel noise) and re-normalised, then:

1. hysteresis: pixels above ``high_sigma`` seed plumes, connected pixels above ``low_sigma`` grow them;
2. morphological clean-up: a closing with a disk of ``closing_radius_px`` bridges one-pixel gaps, holes are filled;
3. connected components (8-connectivity) become candidate plumes;
4. candidates with fewer than ``min_pixels`` pixels, or whose peak significance is below ``min_peak_sigma``, or
   whose peak enhancement is below ``min_peak_ppm_m``, are dropped;
5. optionally (``max_albedo_darkening`` > 0, with the retrieval's ``albedo`` map), candidates whose median albedo
   lies more than that fraction below the median albedo of the 3-pixel ring around them are dropped as surface
   features: a gas plume does not follow the outline of a darker surface patch, whereas a matched filter run with
   scene-wide statistics reads some minority surfaces (e.g. dry shrubs, with lignin/cellulose absorption near
   2100 and 2300 nm) as an enhancement (see docs/benchmarks.md, quantify_skill).

Defaults (:data:`DEFAULT_SEGMENT_PARAMS`) were chosen on simulated plume-free EMIT scenes to keep false plumes
below one per 100 km² (see docs/benchmarks.md, quantify_skill) while keeping ~1000 kg/h plumes at 3 m/s detectable.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import xarray as xr
from scipy import ndimage

from plumetrace.errors import InvalidInputError

__all__ = [
    "SegmentParams",
    "DEFAULT_SEGMENT_PARAMS",
    "robust_background",
    "significance_map",
    "pixel_noise_ppm_m",
    "segment_plumes",
]

MAD_TO_SIGMA = 1.4826  # sigma of a normal distribution = 1.4826 x its median absolute deviation


@dataclass(frozen=True)
class SegmentParams:
    """Settings of :func:`segment_plumes` (all thresholds in units of the robust background sigma).

    Attributes
    ----------
    high_sigma : float
        Seed threshold of the hysteresis (default 4).
    low_sigma : float
        Growth threshold of the hysteresis (default 2).
    min_pixels : int
        Smallest plume kept, in pixels (default 5).
    min_peak_sigma : float
        Smallest peak significance a plume must reach (default 5).
    min_peak_ppm_m : float
        Smallest peak enhancement a plume must reach, ppm·m (default 0: no absolute criterion).
    smooth_px : float
        Standard deviation of the Gaussian applied to the significance map, pixels (default 1; 0 disables).
    closing_radius_px : int
        Radius of the disk used to close one-pixel gaps (default 1; 0 disables).
    column_wise : bool or None
        Background per column (True), per scene (False) or per column only when the map says it was retrieved
        column-wise (``attrs["stats"] == "column"``), is still on the raw sensor grid (not
        ``attrs["orthorectified"]``) and has at least ``min_column_pixels`` rows (None, default).
    min_column_pixels : int
        Fewest valid pixels for a per-column statistic; sparser columns use the scene statistic (default 100).
    max_albedo_darkening : float
        Drop candidates whose median albedo is more than this fraction below that of the 3-pixel ring around them
        (needs the ``albedo`` map; default 0: off).
    """

    high_sigma: float = 4.0
    low_sigma: float = 2.0
    min_pixels: int = 5
    min_peak_sigma: float = 5.0
    min_peak_ppm_m: float = 0.0
    smooth_px: float = 1.0
    closing_radius_px: int = 1
    column_wise: bool | None = None
    min_column_pixels: int = 100
    max_albedo_darkening: float = 0.0

    def validated(self) -> SegmentParams:
        """Return self after checking every field; raise :class:`InvalidInputError` naming the first bad one."""
        for name in ("high_sigma", "low_sigma", "min_peak_sigma"):
            value = getattr(self, name)
            if not np.isfinite(value) or value <= 0:
                raise InvalidInputError(name, f"must be a positive number, got {value!r}")
        if self.low_sigma > self.high_sigma:
            raise InvalidInputError("low_sigma", f"{self.low_sigma} is above high_sigma {self.high_sigma}")
        if int(self.min_pixels) < 1:
            raise InvalidInputError("min_pixels", f"must be at least 1, got {self.min_pixels!r}")
        if not np.isfinite(self.min_peak_ppm_m) or self.min_peak_ppm_m < 0:
            raise InvalidInputError("min_peak_ppm_m", f"must be >= 0, got {self.min_peak_ppm_m!r}")
        if not np.isfinite(self.smooth_px) or self.smooth_px < 0:
            raise InvalidInputError("smooth_px", f"must be >= 0, got {self.smooth_px!r}")
        if not (np.isfinite(self.max_albedo_darkening) and 0.0 <= self.max_albedo_darkening < 1.0):
            raise InvalidInputError("max_albedo_darkening", f"must lie in [0, 1), got {self.max_albedo_darkening!r}")
        if int(self.closing_radius_px) < 0:
            raise InvalidInputError("closing_radius_px", f"must be >= 0, got {self.closing_radius_px!r}")
        return self

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


DEFAULT_SEGMENT_PARAMS = SegmentParams()


def _as_array(enhancement: Any) -> np.ndarray:
    values = enhancement.values if isinstance(enhancement, xr.DataArray) else enhancement
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2:
        raise InvalidInputError("enhancement", f"must be a 2-D (y, x) map, got {array.ndim} dimensions")
    if array.size == 0 or not np.isfinite(array).any():
        raise InvalidInputError("enhancement", "map is empty (no finite pixels)")
    return array


def _median_sigma(values: np.ndarray) -> tuple[float, float]:
    """Median and MAD-sigma of the finite values, after one 3-sigma clip of bright outliers (the plume).

    The clip slightly truncates the noise itself (0.13 % of a normal lies above +3 sigma), which lowers sigma by
    well under 1 %.
    """
    values = values[np.isfinite(values)]
    median = float(np.median(values))
    sigma = MAD_TO_SIGMA * float(np.median(np.abs(values - median)))
    if sigma > 0:
        kept = values[values < median + 3.0 * sigma]
        if kept.size >= 10:
            median = float(np.median(kept))
            sigma = MAD_TO_SIGMA * float(np.median(np.abs(kept - median)))
    return median, sigma


def _column_nanmedian(array: np.ndarray) -> np.ndarray:
    """Median of each column ignoring NaN, vectorised (one sort); NaN for empty columns. Returns shape (1, x)."""
    ordered = np.sort(array, axis=0)  # NaN sort last
    count = np.count_nonzero(np.isfinite(array), axis=0)
    low = np.clip((count - 1) // 2, 0, None)
    high = np.clip(count // 2, 0, array.shape[0] - 1)
    median = 0.5 * (np.take_along_axis(ordered, low[None, :], 0) + np.take_along_axis(ordered, high[None, :], 0))
    return np.where(count[None, :] > 0, median, np.nan)


def _clipped_stats(array: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column :func:`_median_sigma` (median, MAD-sigma after a 3-sigma clip), each of shape (1, x)."""
    median = _column_nanmedian(array)
    sigma = MAD_TO_SIGMA * _column_nanmedian(np.abs(array - median))
    with np.errstate(invalid="ignore"):
        clipped = np.where(array < median + 3.0 * sigma, array, np.nan)
    median = _column_nanmedian(clipped)
    sigma = MAD_TO_SIGMA * _column_nanmedian(np.abs(clipped - median))
    return median, sigma


def robust_background(
    enhancement: Any, *, column_wise: bool = False, min_column_pixels: int = 100
) -> tuple[np.ndarray, np.ndarray]:
    """Background level and noise of an enhancement map, robust to the plumes it contains.

    Parameters
    ----------
    enhancement : array or DataArray (y, x)
        Enhancement, ppm·m; NaN marks no data.
    column_wise : bool
        One statistic per column (x) instead of one for the scene.
    min_column_pixels : int
        Columns with fewer valid pixels fall back to the scene statistic.

    Returns
    -------
    median, sigma : ndarray (1, x) or (1, 1)
        Background median and robust standard deviation (1.4826·MAD after a 3-sigma clip of the bright tail),
        ppm·m, shaped to broadcast against the map.
    """
    array = _as_array(enhancement)
    scene_median, scene_sigma = _median_sigma(array)
    if scene_sigma <= 0:
        raise InvalidInputError("enhancement", "map has no variation (robust sigma is 0); is it empty?")
    if not column_wise:
        return np.full((1, 1), scene_median), np.full((1, 1), scene_sigma)
    medians, sigmas = _clipped_stats(array)
    sparse = (np.count_nonzero(np.isfinite(array), axis=0)[None, :] < min_column_pixels) | ~(sigmas > 0)
    medians = np.where(sparse, scene_median, medians)
    sigmas = np.where(sparse, scene_sigma, sigmas)
    return medians, sigmas


def _resolve_column_wise(enhancement: Any, params: SegmentParams, n_rows: int) -> bool:
    if params.column_wise is not None:
        return bool(params.column_wise)
    attrs = enhancement.attrs if isinstance(enhancement, (xr.DataArray, xr.Dataset)) else {}
    # an orthorectified map's columns are not the detector's columns: use scene statistics there
    raw_grid = not bool(attrs.get("orthorectified", False))
    return attrs.get("stats") == "column" and raw_grid and n_rows >= params.min_column_pixels


def _usable_uncertainty(uncertainty: Any, shape: tuple[int, ...]) -> np.ndarray | None:
    if uncertainty is None:
        return None
    values = uncertainty.values if isinstance(uncertainty, xr.DataArray) else uncertainty
    values = np.asarray(values, dtype=np.float64)
    if values.shape != shape:
        raise InvalidInputError("uncertainty", f"shape {values.shape} does not match the map {shape}")
    positive = np.isfinite(values) & (values > 0)
    if positive.mean() < 0.5:
        return None  # mostly missing: fall back to the map's own statistics
    return np.where(positive, values, np.nan)


def pixel_noise_ppm_m(
    enhancement: Any, *, uncertainty: Any = None, column_wise: bool = False, min_column_pixels: int = 100
) -> np.ndarray:
    """Noise 1σ of every pixel (y, x), ppm·m, as the significance map sees it.

    With the retrieval's per-pixel ``uncertainty``: ``k · uncertainty`` where ``k`` is the robust sigma of
    ``(E − median) / uncertainty`` over the map (the retrieval gives the pixel-to-pixel shape, the map the level,
    clutter included; k ≈ 1 when the propagated noise is all there is). Without it (or where it is missing): the
    robust background sigma (per column when ``column_wise``).
    """
    array = _as_array(enhancement)
    median, sigma = robust_background(array, column_wise=column_wise, min_column_pixels=min_column_pixels)
    fallback = np.broadcast_to(sigma, array.shape).astype(np.float64)
    noise = _usable_uncertainty(uncertainty, array.shape)
    if noise is None:
        return fallback.copy()
    _, k = _median_sigma((array - median) / noise)
    if not (np.isfinite(k) and k > 0):
        return fallback.copy()
    return np.where(np.isfinite(noise), k * noise, fallback)


def significance_map(
    enhancement: Any, *, uncertainty: Any = None, params: SegmentParams = DEFAULT_SEGMENT_PARAMS
) -> np.ndarray:
    """Significance ``z`` (y, x) of each pixel against the robust background, after optional smoothing.

    Without ``uncertainty``, ``z = (E - median) / sigma`` with the robust background statistics. With the retrieval's
    per-pixel 1σ ``uncertainty`` (ppm·m, e.g. larger over dark pixels after albedo correction), ``z = (E - median) /
    uncertainty`` re-scaled by its own robust median and sigma: the per-pixel noise shape comes from the retrieval,
    the overall level (clutter included) from the map. ``z`` is in units of the background sigma of the (smoothed)
    map, so thresholds keep their meaning whatever the smoothing. NaN pixels stay NaN.
    """
    params = params.validated()
    array = _as_array(enhancement)
    column_wise = _resolve_column_wise(enhancement, params, array.shape[0])
    median, sigma = robust_background(array, column_wise=column_wise, min_column_pixels=params.min_column_pixels)
    noise = _usable_uncertainty(uncertainty, array.shape)
    if noise is None:
        z = (array - median) / sigma
    else:
        z = (array - median) / noise
        z_median, z_sigma = _median_sigma(z)
        if z_sigma > 0:
            z = (z - z_median) / z_sigma
    valid = np.isfinite(z)
    if params.smooth_px > 0:
        filled = np.where(valid, z, 0.0)
        weight = ndimage.gaussian_filter(valid.astype(np.float64), params.smooth_px, mode="nearest")
        smoothed = ndimage.gaussian_filter(filled, params.smooth_px, mode="nearest")
        with np.errstate(invalid="ignore", divide="ignore"):
            z = np.where(valid, smoothed / np.maximum(weight, 1e-6), np.nan)
        z_median, z_sigma = _median_sigma(z)
        if z_sigma > 0:
            z = (z - z_median) / z_sigma
    return z


def _albedo_darkening(labels: np.ndarray, n: int, albedo: np.ndarray) -> np.ndarray:
    """1 − median albedo inside / median albedo of the 3-pixel ring, per label 1..n (index 0 unused; NaN: unknown)."""
    out = np.full(n + 1, np.nan)
    objects = ndimage.find_objects(labels)
    for label, box in enumerate(objects, start=1):
        if box is None:
            continue
        sl = tuple(slice(max(b.start - 4, 0), b.stop + 4) for b in box)
        inside = labels[sl] == label
        ring = ndimage.binary_dilation(inside, iterations=3) & ~inside & (labels[sl] == 0)
        a_in, a_ring = albedo[sl][inside], albedo[sl][ring]
        a_in, a_ring = a_in[np.isfinite(a_in)], a_ring[np.isfinite(a_ring)]
        if a_in.size and a_ring.size >= 5 and np.median(a_ring) > 0:
            out[label] = 1.0 - float(np.median(a_in)) / float(np.median(a_ring))
    return out


def segment_plumes(
    enhancement: Any, *, uncertainty: Any = None, albedo: Any = None, params: SegmentParams = DEFAULT_SEGMENT_PARAMS
) -> xr.DataArray:
    """Label the plumes of an enhancement map.

    Parameters
    ----------
    enhancement : DataArray or array (y, x)
        Enhancement, ppm·m (NaN = no data). A DataArray keeps its coordinates and attributes in the result; its
        ``attrs["stats"]`` decides per-column statistics when ``params.column_wise`` is None.
    uncertainty : DataArray or array (y, x), optional
        The retrieval's per-pixel 1σ (ppm·m); shapes the significance where the noise varies from pixel to pixel
        (see :func:`significance_map`). Ignored when mostly missing.
    albedo : DataArray or array (y, x), optional
        The retrieval's albedo map, for the surface criterion ``params.max_albedo_darkening``.
    params : SegmentParams
        Thresholds and clean-up settings (see :class:`SegmentParams` for the defaults).

    Returns
    -------
    DataArray (y, x) int32
        0 for background, 1..n for plumes, numbered by decreasing peak significance. ``attrs`` carry
        ``n_plumes``, ``background_sigma_ppm_m`` (median robust sigma of the unsmoothed map) and the parameters.

    Raises
    ------
    InvalidInputError
        The map is not 2-D, has no finite pixel or no variation, or a parameter is out of range.
    """
    params = params.validated()
    array = _as_array(enhancement)
    column_wise = _resolve_column_wise(enhancement, params, array.shape[0])
    z = significance_map(enhancement, uncertainty=uncertainty, params=params)
    _, raw_sigma = robust_background(array, column_wise=column_wise, min_column_pixels=params.min_column_pixels)
    z_filled = np.where(np.isfinite(z), z, -np.inf)

    seeds = z_filled > params.high_sigma
    grown = z_filled > params.low_sigma
    grown_labels, _ = ndimage.label(grown, structure=np.ones((3, 3), dtype=bool))
    keep = np.unique(grown_labels[seeds])
    mask = np.isin(grown_labels, keep[keep > 0])
    if params.closing_radius_px > 0 and mask.any():
        radius = int(params.closing_radius_px)
        yy, xx = np.mgrid[-radius : radius + 1, -radius : radius + 1]
        disk = (yy**2 + xx**2) <= radius**2
        mask = ndimage.binary_closing(np.pad(mask, radius), structure=disk)[radius:-radius, radius:-radius]
        mask &= np.isfinite(array)
    mask = ndimage.binary_fill_holes(mask)

    labels, n = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    kept: list[tuple[float, int]] = []
    if n:
        inside = labels > 0
        which = labels[inside]
        sizes = np.bincount(which, minlength=n + 1)[1:]
        peaks_z = np.full(n + 1, -np.inf)
        np.maximum.at(peaks_z, which, z_filled[inside])
        peaks_e = np.full(n + 1, -np.inf)
        np.maximum.at(peaks_e, which, np.where(np.isfinite(array), array, -np.inf)[inside])
        darkening = np.full(n + 1, np.nan)
        if params.max_albedo_darkening > 0 and albedo is not None:
            albedo_values = np.asarray(albedo.values if isinstance(albedo, xr.DataArray) else albedo, dtype=np.float64)
            if albedo_values.shape != array.shape:
                raise InvalidInputError("albedo", f"shape {albedo_values.shape} does not match the map {array.shape}")
            darkening = _albedo_darkening(labels, n, albedo_values)
        for label, size, peak_z, peak_e in zip(range(1, n + 1), sizes, peaks_z[1:], peaks_e[1:]):
            surface = params.max_albedo_darkening > 0 and darkening[label] > params.max_albedo_darkening
            if (
                size >= params.min_pixels
                and peak_z >= params.min_peak_sigma
                and peak_e >= params.min_peak_ppm_m
                and not surface
            ):
                kept.append((float(peak_z), int(label)))
    kept.sort(key=lambda item: -item[0])
    lookup = np.zeros(n + 1, dtype=np.int32)
    for new, (_, old) in enumerate(kept, start=1):
        lookup[old] = new
    result = lookup[labels]

    attrs = {
        "long_name": "plume label",
        "n_plumes": len(kept),
        "background_sigma_ppm_m": float(np.median(raw_sigma)),
        "column_wise": int(column_wise),
        **{f"segment_{key}": (-1 if value is None else value) for key, value in params.as_dict().items()},
    }
    if isinstance(enhancement, xr.DataArray):
        return xr.DataArray(result, dims=enhancement.dims, coords=enhancement.coords, attrs=attrs, name="plume_label")
    return xr.DataArray(result, dims=("y", "x"), attrs=attrs, name="plume_label")
