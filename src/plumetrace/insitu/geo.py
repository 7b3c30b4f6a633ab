"""Local east/north metres ⇄ WGS84 longitude/latitude around an origin (azimuthal equidistant projection)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import Transformer

__all__ = ["lonlat_to_local", "local_to_lonlat"]


@lru_cache(maxsize=16)
def _transformer(lat0: float, lon0: float) -> Transformer:
    aeqd = f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
    return Transformer.from_crs("EPSG:4326", aeqd, always_xy=True)


def lonlat_to_local(lon: ArrayLike, lat: ArrayLike, *, origin: tuple[float, float]) -> tuple[NDArray, NDArray]:
    """WGS84 (lon, lat) degrees → (east, north) metres from ``origin`` = (lat, lon)."""
    x, y = _transformer(float(origin[0]), float(origin[1])).transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x, float), np.asarray(y, float)


def local_to_lonlat(x_m: ArrayLike, y_m: ArrayLike, *, origin: tuple[float, float]) -> tuple[NDArray, NDArray]:
    """(east, north) metres from ``origin`` = (lat, lon) → WGS84 (lon, lat) degrees."""
    lon, lat = _transformer(float(origin[0]), float(origin[1])).transform(
        np.asarray(x_m, float), np.asarray(y_m, float), direction="INVERSE")
    return np.asarray(lon, float), np.asarray(lat, float)
