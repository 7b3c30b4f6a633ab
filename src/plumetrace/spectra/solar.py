"""Top-of-atmosphere solar irradiance (bundled Kurucz 1992, 0.1 nm; see data/SOURCE.md)."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from functools import lru_cache

import numpy as np

from plumetrace.errors import InvalidInputError
from plumetrace.spectra import bundled_path

__all__ = ["load_solar_irradiance", "solar_irradiance", "earth_sun_distance_au", "solar_zenith_deg"]

# 1 mW m⁻² nm⁻¹ = 1e3 µW / 1e4 cm² per nm = 0.1 µW cm⁻² nm⁻¹.
_MW_M2_TO_UW_CM2 = 0.1


@lru_cache(maxsize=1)
def load_solar_irradiance() -> tuple[np.ndarray, np.ndarray]:
    """Kurucz solar irradiance at 1 AU.

    Returns
    -------
    wavelength_nm : (22501,) 350-2600 nm, 0.1 nm steps.
    irradiance : (22501,) µW cm⁻² nm⁻¹.
    """
    with np.load(bundled_path("kurucz_solar_irradiance.npz"), allow_pickle=False) as data:
        wavelength = data["wavelength_nm"].astype(np.float64)
        irradiance = data["irradiance_mW_m2_nm"].astype(np.float64) * _MW_M2_TO_UW_CM2
    wavelength.setflags(write=False)
    irradiance.setflags(write=False)
    return wavelength, irradiance


def solar_irradiance(wavelength_nm: np.ndarray, *, smoothing_nm: float = 0.0) -> np.ndarray:
    """Kurucz irradiance (µW cm⁻² nm⁻¹ at 1 AU) interpolated to ``wavelength_nm`` (..., nm).

    ``smoothing_nm`` > 0 first applies a boxcar of that width (to compare with coarser spectra).
    """
    wl, irr = load_solar_irradiance()
    wavelength_nm = np.asarray(wavelength_nm, dtype=np.float64)
    if np.nanmin(wavelength_nm) < wl[0] or np.nanmax(wavelength_nm) > wl[-1]:
        raise InvalidInputError("wavelength_nm", f"solar irradiance is tabulated for {wl[0]:g}-{wl[-1]:g} nm only")
    if smoothing_nm > 0:
        n = max(1, int(round(smoothing_nm / 0.1)))
        irr = np.convolve(irr, np.ones(n) / n, mode="same")
    return np.interp(wavelength_nm, wl, irr)


def earth_sun_distance_au(day_of_year: int) -> float:
    """Earth-Sun distance in astronomical units (Spencer 1971 series, better than 1e-4 AU)."""
    gamma = 2.0 * math.pi * (day_of_year - 1) / 365.0
    inverse_square = (
        1.000110
        + 0.034221 * math.cos(gamma)
        + 0.001280 * math.sin(gamma)
        + 0.000719 * math.cos(2 * gamma)
        + 0.000077 * math.sin(2 * gamma)
    )
    return 1.0 / math.sqrt(inverse_square)


def solar_zenith_deg(when: datetime, lat_deg: float, lon_deg: float) -> float:
    """Solar zenith angle (degrees) from the NOAA low-precision formulas (Spencer 1971; error < 0.5°).

    ``when`` is converted to UTC (a naive datetime is taken as UTC).
    """
    if not -90 <= lat_deg <= 90:
        raise InvalidInputError("lat", f"{lat_deg} is outside -90..90 degrees")
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    when = when.astimezone(timezone.utc)
    day = when.timetuple().tm_yday
    hour = when.hour + when.minute / 60.0 + when.second / 3600.0
    gamma = 2.0 * math.pi / 365.0 * (day - 1 + (hour - 12) / 24.0)
    eqtime_min = 229.18 * (
        0.000075
        + 0.001868 * math.cos(gamma)
        - 0.032077 * math.sin(gamma)
        - 0.014615 * math.cos(2 * gamma)
        - 0.040849 * math.sin(2 * gamma)
    )
    decl = (
        0.006918
        - 0.399912 * math.cos(gamma)
        + 0.070257 * math.sin(gamma)
        - 0.006758 * math.cos(2 * gamma)
        + 0.000907 * math.sin(2 * gamma)
        - 0.002697 * math.cos(3 * gamma)
        + 0.00148 * math.sin(3 * gamma)
    )
    true_solar_min = hour * 60.0 + eqtime_min + 4.0 * lon_deg
    hour_angle = math.radians(true_solar_min / 4.0 - 180.0)
    lat = math.radians(lat_deg)
    cos_zenith = math.sin(lat) * math.sin(decl) + math.cos(lat) * math.cos(decl) * math.cos(hour_angle)
    return math.degrees(math.acos(max(-1.0, min(1.0, cos_zenith))))
