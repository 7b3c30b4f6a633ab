"""Where a plume starts: the wind-aware source point and its position uncertainty.

The source of a point-source plume is at its upwind end. For each plume pixel the along-wind coordinate ``s``
(metres, positive downwind) is computed from the pixel geometry; the upwind band is the set of plume pixels with
``s <= s_min + max(3 pixels, 25 % of the plume's along-wind extent)``. Inside that band the lightly smoothed
enhancement is highest where the gas has not yet spread; since the column of a point source stays nearly flat
along the first pixels (the plume is narrower than a pixel there), every band pixel within 2 noise sigmas of the
maximum, or above half of it, is a candidate, and the source is the most upwind candidate.

The position uncertainty combines, in quadrature, the distance from the chosen point to the upwind edge of the
mask, the lateral spread of the candidates within 3 pixels of it and the pixel quantisation (pixel/√12 per axis).

The pixel geometry (pixel ⇄ metres ⇄ lon/lat) is :mod:`plumetrace.pixel_geometry`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage

from plumetrace.errors import InvalidInputError
from plumetrace.pixel_geometry import PixelGeometry, downwind_unit_vector

__all__ = ["SourceEstimate", "locate_source"]

_SMOOTH_PX = 0.7
_SMOOTH_NOISE_FACTOR = 1.0 / (2.0 * math.sqrt(math.pi) * _SMOOTH_PX)  # white-noise sigma after the Gaussian filter


@dataclass(frozen=True)
class SourceEstimate:
    """Source point of one plume in pixel coordinates, with its 1σ position uncertainty (m)."""

    row: float
    col: float
    sigma_m: float
    upwind_pixels: int


def locate_source(
    enhancement_ppm_m: Any,
    mask: Any,
    *,
    geometry: PixelGeometry,
    direction_deg: float,
    band_fraction: float = 0.25,
    min_band_px: float = 3.0,
    noise_sigma_ppm_m: float | None = None,
) -> SourceEstimate:
    """Wind-aware source point of one plume.

    Parameters
    ----------
    enhancement_ppm_m : array (y, x)
        Enhancement, ppm·m.
    mask : bool array (y, x)
        Pixels of this plume.
    geometry : PixelGeometry
        From :func:`pixel_geometry`.
    direction_deg : float
        Direction the wind blows from, degrees clockwise from north.
    band_fraction, min_band_px : float
        Depth of the upwind band searched for the maximum: max(min_band_px pixels, band_fraction x extent).
    noise_sigma_ppm_m : float, optional
        1σ noise of the map; estimated from the pixels outside the mask (MAD) when not given.

    Returns
    -------
    SourceEstimate
    """
    enhancement = np.asarray(enhancement_ppm_m, dtype=np.float64)
    mask = np.asarray(mask, dtype=bool)
    if enhancement.shape != mask.shape or enhancement.ndim != 2:
        raise InvalidInputError("plume mask", f"shape {mask.shape} does not match the map {enhancement.shape}")
    if not mask.any():
        raise InvalidInputError("plume mask", "is empty")
    rows, cols = np.nonzero(mask)
    east, north = geometry.to_metres(rows, cols)
    dw_e, dw_n = downwind_unit_vector(direction_deg)
    along = east * dw_e + north * dw_n
    across = -east * dw_n + north * dw_e
    pixel = geometry.pixel_size_m
    depth = max(min_band_px * pixel, band_fraction * float(along.max() - along.min()))
    band = along <= along.min() + depth

    filled = np.where(mask & np.isfinite(enhancement), enhancement, 0.0)
    smoothed = ndimage.gaussian_filter(filled, _SMOOTH_PX, mode="constant")
    weights_all = smoothed[rows, cols]
    # Near a point source the column stays roughly flat along the first pixels (the plume is narrower than a pixel
    # there) while turbulence and noise make it lumpy, so every band pixel within half the band maximum (or within
    # 2 noise sigmas of it, whichever admits more) is a candidate and the source is the most upwind candidate.
    if noise_sigma_ppm_m is None:
        outside = enhancement[~mask & np.isfinite(enhancement)]
        noise_sigma_ppm_m = (
            1.4826 * float(np.median(np.abs(outside - np.median(outside)))) if outside.size > 10 else 0.0
        )
    smoothed_noise = noise_sigma_ppm_m * _SMOOTH_NOISE_FACTOR
    candidates = np.flatnonzero(band)
    peak = float(weights_all[candidates].max())
    threshold = min(peak - 2.0 * smoothed_noise, 0.5 * peak)
    near = candidates[weights_all[candidates] >= threshold]
    best = near[int(np.argmin(along[near]))]
    row, col = float(rows[best]), float(cols[best])
    # uncertainty: how far upwind the mask still reaches (the source may lie anywhere in that gap), the lateral
    # spread of the candidates within 3 pixels downwind of the choice, and pixel quantisation
    gap = float(along[best] - along.min())
    close = near[(along[near] - along[best]) <= 3.0 * pixel]
    lateral = math.sqrt(float(np.mean((across[close] - across[best]) ** 2)))
    quantisation = pixel / math.sqrt(12.0)
    sigma = math.sqrt(gap**2 + lateral**2 + 2 * quantisation**2)
    return SourceEstimate(row=row, col=col, sigma_m=float(sigma), upwind_pixels=int(band.sum()))
