"""Swath presets: cross-track field of view and pixel count of imaging spectrometers.

Approximate published values; the planner only needs the full cross-track field of view (FOV) to turn an
altitude above ground into a swath width, ``swath = 2 h tan(FOV / 2)``. Override with ``--fov`` or give
``--pixel-size`` and ``--pixels`` when the installation differs.

========== ======== ========= ====================================================================
sensor      FOV (°)  pixels    source
========== ======== ========= ====================================================================
aviris-ng    34.0      598    JPL AVIRIS-NG instrument description; Chapman et al. (2019) Remote
                              Sens. 11, 2129 (1 mrad IFOV, ~600 cross-track samples)
aviris-3     39.5     1240    JPL AVIRIS-3 instrument description (0.56 mrad IFOV)
aviris       30.0      677    Green et al. (1998) Remote Sens. Environ. 65, 227 (1 mrad IFOV)
prism        30.7      608    Mouroulis et al. (2014) Appl. Opt. 53, 1363 (0.97 mrad IFOV)
hytes        50.0      512    Johnson et al. (2011) HyTES, Proc. SPIE 8154 (1.44 mrad IFOV)
emit         11.0     1242    Green et al. (2023) EMIT, ISS altitude ~400 km, ~60 m pixels
========== ======== ========= ====================================================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from plumetrace.errors import InvalidInputError

__all__ = ["SensorOptics", "SENSORS", "sensor_optics", "swath_width_m"]


@dataclass(frozen=True)
class SensorOptics:
    """Cross-track optics of a pushbroom imaging spectrometer."""

    name: str
    fov_deg: float
    cross_track_pixels: int

    def swath_m(self, altitude_agl_m: float) -> float:
        """Swath width on flat ground, metres, at ``altitude_agl_m`` above ground."""
        return swath_width_m(altitude_agl_m=altitude_agl_m, fov_deg=self.fov_deg)

    def pixel_m(self, altitude_agl_m: float) -> float:
        """Mean cross-track ground sample distance, metres."""
        return self.swath_m(altitude_agl_m) / self.cross_track_pixels


SENSORS: dict[str, SensorOptics] = {
    s.name: s
    for s in (
        SensorOptics("aviris-ng", 34.0, 598),
        SensorOptics("aviris-3", 39.5, 1240),
        SensorOptics("aviris", 30.0, 677),
        SensorOptics("prism", 30.7, 608),
        SensorOptics("hytes", 50.0, 512),
        SensorOptics("emit", 11.0, 1242),
    )
}


def sensor_optics(name: str) -> SensorOptics:
    """The preset called ``name`` (case-insensitive); InvalidInputError naming the choices otherwise."""
    key = name.strip().lower()
    if key not in SENSORS:
        raise InvalidInputError("sensor", f"unknown sensor {name!r}; choose one of {', '.join(SENSORS)}")
    return SENSORS[key]


def swath_width_m(*, altitude_agl_m: float, fov_deg: float) -> float:
    """Swath width on flat ground, metres: ``2 h tan(FOV / 2)``.

    Parameters
    ----------
    altitude_agl_m
        Height above ground, metres (> 0).
    fov_deg
        Full cross-track field of view, degrees, in (0, 170).
    """
    if not (0.0 < fov_deg < 170.0):
        raise InvalidInputError("fov_deg", f"must lie in (0, 170) degrees, got {fov_deg}")
    if not altitude_agl_m > 0.0:
        raise InvalidInputError("altitude_agl_m", f"must be positive, got {altitude_agl_m}")
    return 2.0 * altitude_agl_m * math.tan(math.radians(fov_deg) / 2.0)
