"""Integrated mass enhancement (IME) of a plume and its emission rate (Varon et al. 2018, AMT 11, 5673).

::

    IME [kg]   = sum over plume pixels of  E [ppm·m] · 1e-6 · n_air [mol m-3] · M_gas [kg mol-1] · A_pixel [m2]
    L [m]      = sqrt(plume area)
    U_eff      = a · U10 + b          (per sensor, :data:`plumetrace.plumes.calibration.UEFF_TABLE`)
    Q [kg/h]   = 3600 · U_eff · IME / L

``n_air`` is the molar density of air that turns the retrieval's ppm·m into a column: 42.29 mol m⁻³ at
288.15 K and 1013.25 hPa, the same convention as the plumetrace simulator (:mod:`plumetrace.simulate.plumes`),
so masses close end to end. Papers that use the STP molar volume (22.4 L/mol, 273.15 K; e.g. Guanter et al. 2021)
get 5.5 % more mass from the same ppm·m map; pass ``air_molar_density_mol_m3`` to reproduce them.
The Monte Carlo uncertainty of the rate is :func:`plumetrace.plumes.montecarlo.monte_carlo_rate`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from plumetrace.errors import InvalidInputError
from plumetrace.plumes.calibration import UeffCalibration, ueff_calibration
from plumetrace.spectra.molar_mass import molar_mass_kg_mol

__all__ = [
    "AIR_MOLAR_DENSITY_MOL_M3",
    "GAS_MOLAR_MASS_KG_MOL",
    "check_pixel_size",
    "check_plume_mask",
    "ime_emission_rate_kg_h",
    "integrated_mass_enhancement_kg",
    "plume_length_m",
    "ppm_m_to_kg_m2",
]

GAS_MOLAR_MASS_KG_MOL: dict[str, float] = {"ch4": 0.016043, "co2": 0.044009, "n2o": 0.044013, "nh3": 0.017031}
AIR_MOLAR_DENSITY_MOL_M3 = 101325.0 / (8.314462618 * 288.15)  # 42.29 mol m-3 at 15 °C, 1 atm


def _molar_mass(gas: str) -> float:
    key = str(gas).lower()
    if key in GAS_MOLAR_MASS_KG_MOL:
        return GAS_MOLAR_MASS_KG_MOL[key]
    return molar_mass_kg_mol(key)  # the LWIR chemicals of the gas libraries


def ppm_m_to_kg_m2(gas: str = "ch4", *, air_molar_density_mol_m3: float = AIR_MOLAR_DENSITY_MOL_M3) -> float:
    """Factor turning an enhancement in ppm·m into a column mass in kg m⁻² (6.785e-7 for CH4)."""
    return 1e-6 * air_molar_density_mol_m3 * _molar_mass(gas)


def check_pixel_size(pixel_size_m: float) -> float:
    """``pixel_size_m`` as a float, m; InvalidInputError ("pixel size") unless positive and finite."""
    if pixel_size_m is None or not np.isfinite(pixel_size_m) or pixel_size_m <= 0:
        raise InvalidInputError("pixel size", f"must be a positive number of metres, got {pixel_size_m!r}")
    return float(pixel_size_m)


def check_plume_mask(enhancement: Any, mask: Any) -> tuple[np.ndarray, np.ndarray]:
    """The map (float64, (y, x)) and the plume mask (bool, same shape); InvalidInputError ("plume mask") when the
    shapes differ or the mask is empty."""
    enhancement = np.asarray(enhancement, dtype=np.float64)
    mask = np.asarray(mask, dtype=bool)
    if enhancement.ndim != 2 or enhancement.shape != mask.shape:
        raise InvalidInputError("plume mask", f"shape {mask.shape} does not match the map {enhancement.shape}")
    if not mask.any():
        raise InvalidInputError("plume mask", "is empty")
    return enhancement, mask


def integrated_mass_enhancement_kg(
    enhancement_ppm_m: Any, mask: Any, *, pixel_size_m: float, gas: str = "ch4", background_ppm_m: float = 0.0
) -> float:
    """Integrated mass enhancement (kg) of the masked pixels.

    Parameters
    ----------
    enhancement_ppm_m : array (y, x)
        Enhancement, ppm·m (NaN pixels count as zero).
    mask : bool array (y, x)
        Plume pixels.
    pixel_size_m : float
        Ground sampling distance, m (square pixels).
    background_ppm_m : float
        Background level subtracted from every pixel first (the map's robust median).
    """
    enhancement, mask = check_plume_mask(enhancement_ppm_m, mask)
    pixel = check_pixel_size(pixel_size_m)
    values = np.nan_to_num(enhancement[mask] - background_ppm_m, nan=0.0)
    return float(values.sum() * ppm_m_to_kg_m2(gas) * pixel**2)


def plume_length_m(mask: Any, *, pixel_size_m: float) -> float:
    """Plume length scale L = sqrt(area), m."""
    mask = np.asarray(mask, dtype=bool)
    return float(math.sqrt(mask.sum()) * check_pixel_size(pixel_size_m))


def ime_emission_rate_kg_h(
    ime_kg: float,
    length_m: float,
    wind_speed_m_s: float,
    *,
    sensor: str = "generic",
    calibration: UeffCalibration | None = None,
) -> float:
    """Q = 3600 · (a·U10 + b) · IME / L, kg/h, with the sensor's :data:`UEFF_TABLE` row (or ``calibration``)."""
    cal = calibration or ueff_calibration(sensor)
    if length_m <= 0:
        raise InvalidInputError("length_m", "must be positive")
    return float(3600.0 * (cal.a * wind_speed_m_s + cal.b) * ime_kg / length_m)
