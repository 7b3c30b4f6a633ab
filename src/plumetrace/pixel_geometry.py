"""Pixel geometry of a map: pixel (row, col) ⇄ local east/north metres ⇄ lon/lat.

:class:`PixelGeometry` maps (row, col) pixel centres to local east/north metres (and lon/lat when the map is
georeferenced): from ``attrs["crs"]`` + ``attrs["transform"]`` (rasterio affine order), else from ``lat``/``lon``
coordinates, else a north-up grid of ``pixel_size_m`` (row axis pointing south). Detection (placing analyst
polygons on a scene) and plume quantification (distances along the wind) both use it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from plumetrace.errors import InvalidInputError
from plumetrace.georef import metres_per_degree

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["PixelGeometry", "pixel_geometry", "downwind_unit_vector"]


def downwind_unit_vector(direction_deg: float) -> tuple[float, float]:
    """Unit vector (east, north) pointing downwind for a wind blowing FROM ``direction_deg``."""
    rad = math.radians(direction_deg)
    return -math.sin(rad), -math.cos(rad)


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
            coords = [
                np.atleast_1d(np.asarray(row, dtype=np.float64)),
                np.atleast_1d(np.asarray(col, dtype=np.float64)),
            ]
            from scipy import ndimage

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
            east_m, north_m = metres_per_degree(f)  # at the map's first row
            jac = jac * np.array([[east_m], [north_m]])
        size = pixel_size_m or float(0.5 * (np.hypot(*jac[:, 0]) + np.hypot(*jac[:, 1])))
        return PixelGeometry(jac, size, crs=str(crs), transform=tuple(float(v) for v in transform[:6]))
    if "lat" in enhancement.coords and "lon" in enhancement.coords:
        lat = np.asarray(enhancement["lat"].values, dtype=np.float64)
        lon = np.asarray(enhancement["lon"].values, dtype=np.float64)
        east_m, north_m = metres_per_degree(float(np.nanmean(lat)))
        d_lat_row = float(np.nanmedian(np.diff(lat, axis=0))) if lat.shape[0] > 1 else 0.0
        d_lat_col = float(np.nanmedian(np.diff(lat, axis=1))) if lat.shape[1] > 1 else 0.0
        d_lon_row = float(np.nanmedian(np.diff(lon, axis=0))) if lon.shape[0] > 1 else 0.0
        d_lon_col = float(np.nanmedian(np.diff(lon, axis=1))) if lon.shape[1] > 1 else 0.0
        jac = np.array(
            [[d_lon_row * east_m, d_lon_col * east_m], [d_lat_row * north_m, d_lat_col * north_m]], dtype=np.float64
        )
        if abs(np.linalg.det(jac)) > 0:
            size = pixel_size_m or float(0.5 * (np.hypot(*jac[:, 0]) + np.hypot(*jac[:, 1])))
            return PixelGeometry(jac, size, lat=lat, lon=lon)
    size = pixel_size_m if pixel_size_m is not None else attrs.get("pixel_size_m")
    if size is None or not np.isfinite(float(size)) or float(size) <= 0:
        raise InvalidInputError(
            "pixel size", "the map has no georeferencing: give its pixel size in metres (pixel_size_m)"
        )
    size = float(size)
    return PixelGeometry(np.array([[0.0, size], [-size, 0.0]]), size)
