"""Helper for flight-planning tests: an independent metric frame (azimuthal equidistant) for checks."""

from __future__ import annotations

import numpy as np
from pyproj import CRS, Transformer
from shapely import transform
from shapely.geometry.base import BaseGeometry


class AEQD:
    """Azimuthal equidistant projection centred on (lon, lat): an independent metric frame for checks."""

    def __init__(self, lon: float, lat: float):
        crs = CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m")
        self.fwd = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        self.inv = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)

    def to_lonlat(self, geom: BaseGeometry) -> BaseGeometry:
        return transform(geom, lambda c: np.column_stack(self.inv.transform(c[:, 0], c[:, 1])))

    def to_m(self, geom: BaseGeometry) -> BaseGeometry:
        return transform(geom, lambda c: np.column_stack(self.fwd.transform(c[:, 0], c[:, 1])))
