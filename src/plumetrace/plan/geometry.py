"""A local metric projection for planning: UTM of the area's centroid, polar stereographic near the poles.

Planning happens in metres on a conformal projection centred on the area, then waypoints go back to
WGS84 longitude / latitude. Two places need care:

* **The antimeridian.** An area spanning 180° has longitudes like 179.9 and -179.9; the centroid is found
  after *unwrapping* longitudes around the first vertex, so it lands near 180°, not near 0°. pyproj wraps
  longitudes itself when projecting, so coordinates on either side of the line map continuously.
* **High latitude.** UTM is defined only up to 84° N / 80° S and its scale error grows with distance
  from the central meridian; above 84° (below -80°) the projection is a polar stereographic with true
  scale at the centroid latitude.

Both choices keep the scale error under about 0.1 % within ±150 km of the centroid.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import shapely
from pyproj import CRS, Geod, Transformer
from shapely.geometry.base import BaseGeometry

__all__ = [
    "LocalProjection",
    "local_projection",
    "unwrap_longitudes",
    "unwrap_geometry",
    "geodesic_length_m",
    "WGS84",
]

WGS84 = CRS.from_epsg(4326)
_GEOD = Geod(ellps="WGS84")


def unwrap_longitudes(lon_deg: np.ndarray, *, reference_deg: float | None = None) -> np.ndarray:
    """Shift longitudes by multiples of 360° into ``[reference - 180, reference + 180)``.

    Parameters
    ----------
    lon_deg
        Longitudes, degrees, any shape.
    reference_deg
        Longitude to unwrap around; the first element when omitted.

    Returns
    -------
    numpy.ndarray
        Same shape; continuous across the antimeridian when the points span less than 180°.
    """
    lon = np.asarray(lon_deg, dtype=float)
    if lon.size == 0:
        return lon
    ref = float(lon.flat[0]) if reference_deg is None else float(reference_deg)
    return ref + (lon - ref + 180.0) % 360.0 - 180.0


def unwrap_geometry(geom: BaseGeometry, *, reference_deg: float) -> BaseGeometry:
    """The geometry with every longitude shifted into ``[reference - 180, reference + 180)``.

    A polygon drawn across the antimeridian with longitudes wrapped to [-180, 180] (179.9 … -179.9)
    is self-intersecting in planar lon/lat; unwrapped (179.9 … 180.1) it is the intended shape.
    """

    def _shift(coords: np.ndarray) -> np.ndarray:
        out = coords.copy()
        out[:, 0] = unwrap_longitudes(coords[:, 0], reference_deg=reference_deg)
        return out

    return shapely.transform(geom, _shift)


@dataclass(frozen=True)
class LocalProjection:
    """A conformal metric projection around one area.

    Attributes
    ----------
    crs
        The projected CRS (metres, x east, y north at the centre).
    center_lon_deg, center_lat_deg
        Centre of the area the projection was chosen for.
    """

    crs: CRS
    center_lon_deg: float
    center_lat_deg: float

    @cached_property
    def _forward(self) -> Transformer:
        return Transformer.from_crs(WGS84, self.crs, always_xy=True)

    @cached_property
    def _inverse(self) -> Transformer:
        return Transformer.from_crs(self.crs, WGS84, always_xy=True)

    def to_local(self, geom: BaseGeometry) -> BaseGeometry:
        """Project a lon/lat geometry (degrees) to local metres (z, if any, is kept)."""
        return shapely.transform(geom, self._fwd_xy, include_z=False)

    def to_lonlat(self, geom: BaseGeometry) -> BaseGeometry:
        """Project a local-metre geometry back to lon/lat degrees (longitudes in [-180, 180])."""
        return shapely.transform(geom, self._inv_xy, include_z=False)

    def xy(self, lon_deg: np.ndarray, lat_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Arrays of lon/lat degrees → arrays of x, y metres."""
        return self._forward.transform(np.asarray(lon_deg, float), np.asarray(lat_deg, float))

    def lonlat(self, x_m: np.ndarray, y_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Arrays of x, y metres → arrays of lon/lat degrees."""
        return self._inverse.transform(np.asarray(x_m, float), np.asarray(y_m, float))

    def _fwd_xy(self, coords: np.ndarray) -> np.ndarray:
        x, y = self._forward.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    def _inv_xy(self, coords: np.ndarray) -> np.ndarray:
        lon, lat = self._inverse.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])


def local_projection(geoms: Iterable[BaseGeometry] | BaseGeometry) -> LocalProjection:
    """Choose the local projection for geometries given in lon/lat degrees.

    Parameters
    ----------
    geoms
        One geometry or several (area of interest, zones, home point); their vertices decide the centre.

    Returns
    -------
    LocalProjection
        UTM zone of the centroid (WGS84 datum) for -80° ≤ lat ≤ 84°; otherwise a polar stereographic
        centred on the pole with true scale at the centroid latitude and the centroid's meridian up.
    """
    if isinstance(geoms, BaseGeometry):
        geoms = [geoms]
    coords = np.concatenate([shapely.get_coordinates(g) for g in geoms])
    lon = unwrap_longitudes(coords[:, 0])
    lat = coords[:, 1]
    lon_c = float((np.min(lon) + np.max(lon)) / 2.0)
    lat_c = float((np.min(lat) + np.max(lat)) / 2.0)
    lon_c = (lon_c + 180.0) % 360.0 - 180.0
    if -80.0 <= lat_c <= 84.0:
        zone = int(np.floor((lon_c + 180.0) / 6.0)) % 60 + 1
        epsg = (32600 if lat_c >= 0 else 32700) + zone
        crs = CRS.from_epsg(epsg)
    else:
        lat_0 = 90.0 if lat_c > 0 else -90.0
        crs = CRS.from_proj4(
            f"+proj=stere +lat_0={lat_0} +lat_ts={lat_c:.6f} +lon_0={lon_c:.6f} +datum=WGS84 +units=m +no_defs"
        )
    return LocalProjection(crs=crs, center_lon_deg=lon_c, center_lat_deg=lat_c)


def geodesic_length_m(lonlat: np.ndarray) -> float:
    """Length along the WGS84 ellipsoid of a polyline of (lon, lat) degrees, shape (n, 2), in metres."""
    lonlat = np.asarray(lonlat, dtype=float)
    if len(lonlat) < 2:
        return 0.0
    _, _, dist = _GEOD.inv(lonlat[:-1, 0], lonlat[:-1, 1], lonlat[1:, 0], lonlat[1:, 1])
    return float(np.sum(dist))
