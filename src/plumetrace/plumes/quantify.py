"""Emission rates from a plume mask: integrated mass enhancement (IME) and cross-sectional flux (CSF).

The public names of the quantification modules, gathered so ``from plumetrace.plumes.quantify import ...`` reaches
all of them:

* :mod:`~plumetrace.plumes.calibration`: the effective-wind table ``U_eff = a · U10 + b`` (IME) and ``c · U10``
  (CSF) per sensor with its random and systematic 1σ, and :func:`fit_ueff`;
* :mod:`~plumetrace.plumes.ime`: ppm·m → kg m⁻², the integrated mass enhancement, ``L = sqrt(area)`` and
  ``Q = 3600 · U_eff · IME / L`` (Varon et al. 2018, AMT 11, 5673);
* :mod:`~plumetrace.plumes.csf`: the cross-sectional flux over transects perpendicular to the wind and its Monte
  Carlo (wind speed and direction, median-transect sampling, structural and systematic factors);
* :mod:`~plumetrace.plumes.montecarlo`: the IME's Monte Carlo uncertainty, random and systematic parts apart, and
  the wind-speed posterior both estimators draw from;
* :mod:`~plumetrace.plumes.conformal`: split-conformal calibration of the random structural σ of either estimate.
"""

from __future__ import annotations

from plumetrace.plumes.calibration import (
    AIRBORNE_SYSTEMATIC_REL_SIGMA,
    CALIBRATED_CSF_RANDOM_REL_SIGMA,
    CALIBRATED_RANDOM_REL_SIGMA,
    CSF_C_SIGMA,
    SIMULATOR_UEFF,
    UEFF_TABLE,
    UeffCalibration,
    fit_ueff,
    ueff_calibration,
)
from plumetrace.plumes.conformal import (
    SigmaCalibration,
    calibrate_random_sigma,
    calibrate_sigma_from_draws,
)
from plumetrace.plumes.csf import (
    CsfDraws,
    FluxEstimate,
    cross_sectional_flux_kg_h,
    csf_draws,
    monte_carlo_csf,
)
from plumetrace.plumes.ime import (
    AIR_MOLAR_DENSITY_MOL_M3,
    GAS_MOLAR_MASS_KG_MOL,
    ime_emission_rate_kg_h,
    integrated_mass_enhancement_kg,
    plume_length_m,
    ppm_m_to_kg_m2,
)
from plumetrace.plumes.montecarlo import RateEstimate, draw_wind_speed, monte_carlo_rate

__all__ = [
    "AIRBORNE_SYSTEMATIC_REL_SIGMA",
    "AIR_MOLAR_DENSITY_MOL_M3",
    "CALIBRATED_CSF_RANDOM_REL_SIGMA",
    "CALIBRATED_RANDOM_REL_SIGMA",
    "CSF_C_SIGMA",
    "GAS_MOLAR_MASS_KG_MOL",
    "SIMULATOR_UEFF",
    "UEFF_TABLE",
    "CsfDraws",
    "FluxEstimate",
    "RateEstimate",
    "SigmaCalibration",
    "UeffCalibration",
    "calibrate_random_sigma",
    "calibrate_sigma_from_draws",
    "cross_sectional_flux_kg_h",
    "csf_draws",
    "draw_wind_speed",
    "fit_ueff",
    "ime_emission_rate_kg_h",
    "integrated_mass_enhancement_kg",
    "monte_carlo_csf",
    "monte_carlo_rate",
    "plume_length_m",
    "ppm_m_to_kg_m2",
    "ueff_calibration",
]
