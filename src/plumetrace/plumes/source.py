"""Where a plume starts: the wind-aware source point and its position uncertainty.

The source of a point-source plume is at its upwind end. For each plume pixel the along-wind coordinate ``s``
(metres, positive downwind) is computed from the pixel geometry; the upwind band is the set of plume pixels with
``s <= s_min + max(3 pixels, 25 % of the plume's along-wind extent)``. Inside that band the lightly smoothed
enhancement is highest where the gas has not yet spread; since the column of a point source stays nearly flat
along the first pixels (the plume is narrower than a pixel there), every band pixel within 2 noise sigmas of the
maximum, or above half of it, is a candidate, and the source is the most upwind candidate.

The position uncertainty combines, in quadrature, the distance from the chosen point to the upwind edge of the
mask, the lateral spread of the candidates within 3 pixels of it and the pixel quantisation (pixel/√12 per axis).

Pixel geometry
--------------
:class:`PixelGeometry` maps (row, col) pixel centres to local east/north metres (and lon/lat when the map is
georeferenced): from ``attrs["crs"]`` + ``attrs["transform"]`` (rasterio affine order), else from ``lat``/``lon``
coordinates, else a north-up grid of ``pixel_size_m`` (row axis pointing south).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from scipy import ndimage

from plumetrace.errors import InvalidInputError
from plumetrace.plumes.wind import downwind_unit_vector

__all__ = ["PixelGeometry", "pixel_geometry", "SourceEstimate", "locate_source"]

_METRES_PER_DEGREE = 111_320.0
_SMOOTH_PX = 0.7
_SMOOTH_NOISE_FACTOR = 1.0 / (2.0 * math.sqrt(math.pi) * _SMOOTH_PX)  # white-noise sigma after the Gaussian filter


@dataclass(frozen=True)
class PixelGeometry:
    """Linear map from pixel (row, col) to local (east, north) metres, plus lon/lat when georeferenced.

    ``jacobian`` is 2x2: ``[east, north] = jacobian @ [row, col]`` (metres per pixel step).
    """

    jacobian: np.ndarray
    pixel_size_m: float
    crs: str | None = None
    transform: tuple[float, ...] | None = None
    lat: np.ndarray | None = None
    lon: np.ndarray | None = None

    @property
    def georeferenced(self) -> bool:
        return (self.crs is not None and self.transform is not None) or self.lat is not None

    def map_xy(self, row: Any, col: Any) -> tuple[np.ndarray, np.ndarray]:
        """Map coordinates (CRS units) of pixel centres; requires ``transform``."""
        if self.transform is None:
            raise InvalidInputError("transform", "map has no affine transform")
        a, b, c, d, e, f = self.transform[:6]
        row = np.asarray(row, dtype=np.float64) + 0.5
        col = np.asarray(col, dtype=np.float64) + 0.5
        return a * col + b * row + c, d * col + e * row + f

    def lonlat(self, row: Any, col: Any) -> tuple[np.ndarray, np.ndarray] | None:
        """Longitude and latitude (degrees, WGS84) of pixel centres, or None without georeferencing."""
        if self.crs is not None and self.transform is not None:
            from pyproj import CRS, Transformer

            x, y = self.map_xy(row, col)
            transformer = Transformer.from_crs(CRS.from_user_input(self.crs), CRS.from_epsg(4326), always_xy=True)
            lon, lat = transformer.transform(x, y)
            return np.asarray(lon), np.asarray(lat)
        if self.lat is not None and self.lon is not None:
            coords = [np.atleast_1d(np.asarray(row, dtype=np.float64)), np.atleast_1d(np.asarray(col, dtype=np.float64))]
            lat = ndimage.map_coordinates(self.lat, coords, order=1, mode="nearest")
            lon = ndimage.map_coordinates(self.lon, coords, order=1, mode="nearest")
            return lon.reshape(np.shape(row)), lat.reshape(np.shape(row))
        return None

    def to_metres(self, row: Any, col: Any) -> tuple[np.ndarray, np.ndarray]:
        """Local (east, north) metres of pixel centres relative to pixel (0, 0)."""
        row = np.asarray(row, dtype=np.float64)
        col = np.asarray(col, dtype=np.float64)
        east = self.jacobian[0, 0] * row + self.jacobian[0, 1] * col
        north = self.jacobian[1, 0] * row + self.jacobian[1, 1] * col
        return east, north

    def downwind_rc(self, direction_deg: float) -> tuple[float, float]:
        """Unit vector (d_row, d_col) pointing downwind in pixel space for a wind blowing FROM ``direction_deg``."""
        east, north = downwind_unit_vector(direction_deg)
        d_row, d_col = np.linalg.solve(self.jacobian, np.array([east, north]))
        norm = math.hypot(d_row, d_col)
        return float(d_row / norm), float(d_col / norm)


def pixel_geometry(enhancement: xr.DataArray | xr.Dataset, *, pixel_size_m: float | None = None) -> PixelGeometry:
    """Pixel geometry of an enhancement map (see the module docstring for the order of sources).

    Raises
    ------
    InvalidInputError
        The map has no georeferencing and no ``pixel_size_m`` was given (rates need the pixel size).
    """
    attrs = enhancement.attrs
    crs, transform = attrs.get("crs"), attrs.get("transform")
    if pixel_size_m is not None and (not np.isfinite(pixel_size_m) or pixel_size_m <= 0):
        raise InvalidInputError("pixel size", f"must be a positive number of metres, got {pixel_size_m!r}")
    if crs and transform is not None and len(transform) >= 6:
        from pyproj import CRS

        a, b, _, d, e, f = (float(v) for v in transform[:6])
        jac = np.array([[b, a], [e, d]], dtype=np.float64)  # [east, north] per (row, col) step
        if not CRS.from_user_input(crs).is_projected:
            lat0 = f
            jac = jac * np.array([[_METRES_PER_DEGREE * math.cos(math.radians(lat0))], [_METRES_PER_DEGREE]])
        size = pixel_size_m or float(0.5 * (np.hypot(*jac[:, 0]) + np.hypot(*jac[:, 1])))
        return PixelGeometry(jac, size, crs=str(crs), transform=tuple(float(v) for v in transform[:6]))
    if "lat" in enhancement.coords and "lon" in enhancement.coords:
        lat = np.asarray(enhancement["lat"].values, dtype=np.float64)
        lon = np.asarray(enhancement["lon"].values, dtype=np.float64)
        coslat = math.cos(math.radians(float(np.nanmean(lat))))
        d_lat_row = float(np.nanmedian(np.diff(lat, axis=0))) if lat.shape[0] > 1 else 0.0
        d_lat_col = float(np.nanmedian(np.diff(lat, axis=1))) if lat.shape[1] > 1 else 0.0
        d_lon_row = float(np.nanmedian(np.diff(lon, axis=0))) if lon.shape[0] > 1 else 0.0
        d_lon_col = float(np.nanmedian(np.diff(lon, axis=1))) if lon.shape[1] > 1 else 0.0
        jac = np.array(
            [[d_lon_row * coslat, d_lon_col * coslat], [d_lat_row, d_lat_col]], dtype=np.float64
        ) * _METRES_PER_DEGREE
        if abs(np.linalg.det(jac)) > 0:
            size = pixel_size_m or float(0.5 * (np.hypot(*jac[:, 0]) + np.hypot(*jac[:, 1])))
            return PixelGeometry(jac, size, lat=lat, lon=lon)
    size = pixel_size_m if pixel_size_m is not None else attrs.get("pixel_size_m")
    if size is None or not np.isfinite(float(size)) or float(size) <= 0:
        raise InvalidInputError("pixel size", "enhancement map has no georeferencing; give --pixel-size (metres)")
    size = float(size)
    return PixelGeometry(np.array([[0.0, size], [-size, 0.0]]), size)


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
        noise_sigma_ppm_m = 1.4826 * float(np.median(np.abs(outside - np.median(outside)))) if outside.size > 10 else 0.0
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
