"""Emission rates from a plume mask: integrated mass enhancement (IME) and cross-sectional flux (CSF).

IME method (Varon et al. 2018, AMT 11, 5673)::

    IME [kg]   = sum over plume pixels of  E [ppm·m] · 1e-6 · n_air [mol m-3] · M_gas [kg mol-1] · A_pixel [m2]
    L [m]      = sqrt(plume area)
    U_eff      = a · U10 + b          (per sensor, :data:`UEFF_TABLE`)
    Q [kg/h]   = 3600 · U_eff · IME / L

``n_air`` is the molar density of air that turns the retrieval's ppm·m into a column: 42.29 mol m⁻³ at
288.15 K and 1013.25 hPa, the same convention as the plumetrace simulator (:mod:`plumetrace.simulate.plumes`),
so masses close end to end. Papers that use the STP molar volume (22.4 L/mol, 273.15 K; e.g. Guanter et al. 2021)
get 5.5 % more mass from the same ppm·m map; pass ``air_molar_density_mol_m3`` to reproduce them.

CSF method (Varon et al. 2018; Kuhlmann et al. 2024): transects perpendicular to the wind at 1.5-pixel steps
downwind of the source; along each the enhancement is integrated across the plume (kg/m) and
``Q = 3600 · U_eff,CSF · median(line density)`` with ``U_eff,CSF = c · U10``.

Uncertainty, split the way physics reports stat ⊕ syst (:func:`monte_carlo_rate`):

* **random** (differs from plume to plume, so a 68 % interval over many plumes can be checked and calibrated): the
  wind speed error, the retrieval noise of the IME (the per-pixel 1σ of the plume pixels, independent pixels) and
  the random structural error of one snapshot (turbulence, mask cut-off; ``model_rel_sigma``, a log-normal factor,
  calibrated on simulated plumes by :func:`calibrate_random_sigma`). Reported as ``emission_rate_sigma_kg_h`` and
  the 16-84 % interval.
* **systematic** (common to every plume of a sensor, so it does not average down over plumes and no benchmark on one
  simulator can calibrate it): the U_eff coefficients a and b (``sigma_a``, ``sigma_b``: the spread between
  independent published calibrations) and the calibration-transfer error (``systematic_rel_sigma``, e.g. a 20 m LES
  calibration applied to 5 m airborne pixels).
* **total**: both together, for an absolute rate of one plume.

The wind speed is drawn as ``U = U_given / (1 + r·z)`` with ``r = σ_U / U_given``, z ~ N(0, 1): the posterior of the
true speed when the given speed has a relative error proportional to the TRUE speed, ``U_given = U·(1 + r·ε)``,
under a scale-invariant prior (see :func:`draw_wind_speed`).
:func:`monte_carlo_csf` draws the wind speed the same way, the wind DIRECTION (which tilts the transects), the
sampling error of the median transect and its own random structural factor (``csf_rel_sigma``, calibrated by the
same conformal rule, :func:`calibrate_sigma_from_draws`) — its random part; c ~ N(c, σ_c) and the transfer factor
are its systematic part, reported apart as for the IME.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage

from plumetrace.errors import InvalidInputError

__all__ = [
    "GAS_MOLAR_MASS_KG_MOL",
    "AIR_MOLAR_DENSITY_MOL_M3",
    "UeffCalibration",
    "UEFF_TABLE",
    "SIMULATOR_UEFF",
    "AIRBORNE_SYSTEMATIC_REL_SIGMA",
    "CALIBRATED_RANDOM_REL_SIGMA",
    "ueff_calibration",
    "ppm_m_to_kg_m2",
    "integrated_mass_enhancement_kg",
    "plume_length_m",
    "ime_emission_rate_kg_h",
    "cross_sectional_flux_kg_h",
    "RateEstimate",
    "monte_carlo_rate",
    "FluxEstimate",
    "CsfDraws",
    "csf_draws",
    "monte_carlo_csf",
    "fit_ueff",
    "draw_wind_speed",
    "SigmaCalibration",
    "calibrate_sigma_from_draws",
    "calibrate_random_sigma",
    "CALIBRATED_CSF_RANDOM_REL_SIGMA",
    "CSF_C_SIGMA",
]

GAS_MOLAR_MASS_KG_MOL: dict[str, float] = {"ch4": 0.016043, "co2": 0.044009, "n2o": 0.044013, "nh3": 0.017031}
AIR_MOLAR_DENSITY_MOL_M3 = 101325.0 / (8.314462618 * 288.15)  # 42.29 mol m-3 at 15 °C, 1 atm


@dataclass(frozen=True)
class UeffCalibration:
    """Effective wind ``U_eff = a · U10 + b`` (IME) and ``c · U10`` (CSF) for one sensor, with their 1σ errors.

    ``model_rel_sigma`` is the RANDOM relative structural error of one IME estimate from one plume snapshot
    (turbulence, mask cut-off: it varies from plume to plume) once the wind is known, 1σ of a log-normal factor.
    ``sigma_a``, ``sigma_b`` and ``systematic_rel_sigma`` are SYSTEMATIC: common to every plume quantified with this
    row (the spread between published calibrations; the error of transferring the calibration to another pixel size
    or plume regime, 1σ of a log-normal factor). ``reference`` names the literature source of ``a`` and ``b``.

    The cross-sectional flux (CSF) has its own pair: ``csf_rel_sigma``, the RANDOM structural error of one CSF
    estimate (which transects the snapshot offers, how far the median line density sits from the mean flux; 1σ of a
    log-normal factor, calibrated like ``model_rel_sigma``), and ``sigma_c``, the SYSTEMATIC 1σ of ``csf_c``. The
    transfer factor ``systematic_rel_sigma`` applies to ``c`` as well (see :data:`CSF_C_SIGMA`).
    """

    a: float
    b: float
    sigma_a: float
    sigma_b: float
    csf_c: float
    model_rel_sigma: float
    pixel_size_m: float
    reference: str
    systematic_rel_sigma: float = 0.0
    csf_rel_sigma: float = 0.0
    sigma_c: float = 0.0


# Structural error of the airborne rows, split into a systematic and a random part:
# * SYSTEMATIC (common to every airborne plume): transferring a U_eff calibrated on 20 m LES to 3-10 m pixels. The
#   whole airborne structural error is taken as ±40 %, i.e. 20 % per-snapshot scatter ⊕ ~35 % transfer
#   (sqrt(0.40² - 0.20²) = 0.35; the 35 % is half the log-distance between the simulators that bracket the 5 m
#   near-field physics, ln(1.39/0.76)/2 = 0.30, rounded up). Fixed before validation, not fitted; a benchmark on
#   one simulator cannot calibrate it (docs/design/quantify_intervals.md).
# * RANDOM (plume to plume): calibrated on simulated plumes, see CALIBRATED_RANDOM_REL_SIGMA.
AIRBORNE_SYSTEMATIC_REL_SIGMA = 0.35

# Random structural σ (1σ of a log-normal factor) per preset, calibrated by calibrate_random_sigma (split-conformal
# style: the smallest σ at which the 68 % random interval holds the truth for ceil(0.68 (N + 1)) of N calibration
# rows) with `python -m benchmarks.quantify_skill --calibrate-sigma --calibration-cases 60 --json
# benchmarks/results/quantify_sigma_calibration.json` on CALIBRATION seeds only (50000-50059, Q log-uniform over the
# upper half of each preset's range, disjoint from the validation seeds 1000-1199): each detected plume with 20 wind
# errors drawn as in validation (given U·(1 + 0.3 ε), σ_U = 30 % of the given speed), 2026-11-21, detection engine
# with the robust round's target removal, simulator growth="inertial", a and b at the literature row; fixed before
# the validation run. For the other rows (prisma, enmap, generic) no simulator preset was calibrated.
CALIBRATED_RANDOM_REL_SIGMA: dict[str, float] = {
    "emit": 0.204,  # 40 detected plumes of 60 x 20 wind draws = 800 rows, rank 545 (single-draw conformal: 0.217)
    "aviris-ng": 0.280,  # 50 detected plumes of 60 x 20 wind draws = 1000 rows, rank 681 (single-draw: 0.373)
}
AIRBORNE_MODEL_REL_SIGMA = CALIBRATED_RANDOM_REL_SIGMA["aviris-ng"]  # random part of the airborne rows

# Random structural σ of the CROSS-SECTIONAL FLUX (1σ of a log-normal factor) per preset, calibrated the same way
# (calibrate_sigma_from_draws on the CSF's own Monte Carlo draws) by the same command, `python -m
# benchmarks.quantify_skill --calibrate-sigma`, on the same calibration plumes and seeds: each detected plume
# with 20 winds drawn as in validation (speed U·(1 + 0.3 ε), σ_U = 30 % of the given speed; direction θ + 15° ε',
# σ_θ = 15°), 200 CSF draws each, c at the table value; 2026-11-21, the same run as the IME's σ above, fixed
# before the validation run. prisma and enmap take the EMIT value, generic the larger one.
CALIBRATED_CSF_RANDOM_REL_SIGMA: dict[str, float] = {
    "emit": 0.243,  # 40 detected plumes of 60 x 20 winds = 800 rows, rank 545 (single-draw conformal: 0.251)
    "aviris-ng": 0.391,  # 50 detected plumes of 60 x 20 winds = 1000 rows, rank 681 (single-draw: 0.461)
}
AIRBORNE_CSF_REL_SIGMA = CALIBRATED_CSF_RANDOM_REL_SIGMA["aviris-ng"]

# Systematic 1σ of the CSF coefficient c (U_eff,CSF = c · U10), a judgement: the published c (HyperGas: 1.12 for
# EMIT and PRISMA, 1.15 for EnMAP) come from one group's LES, so their spread (0.03) understates it; we give c the
# relative spread the IME slope has between independent calibrations (σ_a / a ≈ 8 % satellite, 15 % airborne).
# The airborne calibration-TRANSFER factor (systematic_rel_sigma) applies to c as well: c relates the transport
# speed of a plume mixed through the boundary layer (LES, 20-60 m pixels, transects kilometres downwind) to U10; at
# 3-10 m pixels the transects lie tens to hundreds of metres from the source, where the plume is still in the
# surface layer and moves slower (log profile, z0 = 0.1 m: 0.65-0.85 U10 at 2-5 m height, against c = 1.12;
# ln(1.12/0.8) ≈ 0.34). That is the same size as the IME's 35 % for another reason, so the same factor is used;
# the CSF is spared the IME's mask/L = sqrt(area) part of the transfer, not its transport part.
CSF_C_SIGMA: dict[str, float] = {"satellite": 0.10, "airborne": 0.15}

# One row per sensor. sigma_a / sigma_b: spread between the independent published calibrations for that class of
# sensor (e.g. EMIT 0.36 U10 + 0.43 in HyperGas vs 0.36 U10 + 0.66 in IMEO's georeader), not the fit error alone.
UEFF_TABLE: dict[str, UeffCalibration] = {
    "emit": UeffCalibration(
        0.36, 0.43, 0.03, 0.12, 1.12, CALIBRATED_RANDOM_REL_SIGMA["emit"], 60.0,
        "HyperGas (SRON) ime_calibration ch4 point-source EMIT, WRF-LES at 60 m: 0.36 U10 + 0.43; "
        "CSF c = 1.12 (same file); IMEO georeader uses 0.36 U10 + 0.66",
        0.0, csf_rel_sigma=CALIBRATED_CSF_RANDOM_REL_SIGMA["emit"], sigma_c=CSF_C_SIGMA["satellite"],
    ),
    "prisma": UeffCalibration(
        0.34, 0.44, 0.03, 0.10, 1.12, 0.15, 30.0,
        "Guanter et al. 2021, RSE 265, 112671 (PRISMA, 30 m): 0.34 U10 + 0.44; HyperGas: 0.32 U10 + 0.43, CSF c = 1.12; "
        "random structural 15 % not calibrated (no PRISMA preset in the benchmark); CSF random structural σ as EMIT",
        0.0, csf_rel_sigma=CALIBRATED_CSF_RANDOM_REL_SIGMA["emit"], sigma_c=CSF_C_SIGMA["satellite"],
    ),
    "enmap": UeffCalibration(
        0.34, 0.44, 0.03, 0.10, 1.15, 0.15, 30.0,
        "Roger et al. 2024, IEEE TGRS 62, 5501612 (EnMAP, 30 m): 0.34 U10 + 0.44; HyperGas: 0.33 U10 + 0.44, CSF c = 1.15; "
        "random structural 15 % not calibrated (no EnMAP preset in the benchmark); CSF random structural σ as EMIT",
        0.0, csf_rel_sigma=CALIBRATED_CSF_RANDOM_REL_SIGMA["emit"], sigma_c=CSF_C_SIGMA["satellite"],
    ),
    "aviris-ng": UeffCalibration(
        0.33, 0.45, 0.05, 0.15, 1.12, AIRBORNE_MODEL_REL_SIGMA, 5.0,
        "Varon et al. 2021, AMT 14, 2771 linear form 0.33 U10 + 0.45 (LES, 20 m) applied to 3-8 m airborne pixels; "
        "no linear AVIRIS-NG calibration with L = sqrt(area) was found (Jongaramrungruang et al. 2019, AMT 12, 6667, "
        "5 m LES, relate IME to Q non-linearly with the wind from the plume's angular width), hence the wider "
        "sigmas and a 35 % systematic resolution-transfer error; random structural error calibrated on simulated "
        "plumes (docs/benchmarks.md, issue 4)",
        AIRBORNE_SYSTEMATIC_REL_SIGMA, csf_rel_sigma=AIRBORNE_CSF_REL_SIGMA, sigma_c=CSF_C_SIGMA["airborne"],
    ),
    "aviris-3": UeffCalibration(
        0.33, 0.45, 0.05, 0.15, 1.12, AIRBORNE_MODEL_REL_SIGMA, 5.0,
        "as aviris-ng (Varon et al. 2021 linear form, 35 % systematic transfer error, random part as aviris-ng)",
        AIRBORNE_SYSTEMATIC_REL_SIGMA, csf_rel_sigma=AIRBORNE_CSF_REL_SIGMA, sigma_c=CSF_C_SIGMA["airborne"],
    ),
    "aviris-classic": UeffCalibration(
        0.33, 0.45, 0.05, 0.15, 1.12, AIRBORNE_MODEL_REL_SIGMA, 10.0,
        "as aviris-ng (Varon et al. 2021 linear form, 35 % systematic transfer error, random part as aviris-ng)",
        AIRBORNE_SYSTEMATIC_REL_SIGMA, csf_rel_sigma=AIRBORNE_CSF_REL_SIGMA, sigma_c=CSF_C_SIGMA["airborne"],
    ),
    "generic": UeffCalibration(
        0.34, 0.44, 0.05, 0.15, 1.12, 0.20, 30.0, "Guanter et al. 2021 form with wider sigmas (sensor unknown)", 0.0,
        csf_rel_sigma=max(CALIBRATED_CSF_RANDOM_REL_SIGMA.values()), sigma_c=CSF_C_SIGMA["airborne"],
    ),
}


# U_eff fitted by benchmarks/quantify_skill.py (fit_ueff) on plumes of the default plumetrace puff model
# (growth="inertial": relative dispersion + a multi-scale centroid process with an inertial-range structure), rendered,
# retrieved by the matched filter and segmented with the defaults (calibration seeds 50000+, disjoint from the
# validation seeds; 40 EMIT and 50 AVIRIS-NG detected plumes of 60 each). For SIMULATED data only. The EMIT fit
# (0.38 U + 0.39) agrees with the published EMIT rows (0.36 U + 0.43 / 0.66) within its errors; the AVIRIS-NG fit has
# half the literature slope and a larger intercept (0.19 U + 0.81). Other puff models give other fits (growth="taylor":
# EMIT 0.35 U + 0.62, AVIRIS-NG 0.52 U + 0.88; growth="gifford": EMIT 0.64 U - 0.56, AVIRIS-NG 0.18 U + 0.58)
# and refits on other seeds scatter (EMIT 0.69 U - 0.33 on 60 Taylor plumes), so these rows illustrate the simulator
# rather than calibrate it. Real data: use UEFF_TABLE.
SIMULATOR_UEFF: dict[str, UeffCalibration] = {
    "emit": UeffCalibration(
        0.378, 0.388, 0.053, 0.210, 1.12, 0.18, 60.0,
        "fitted on 40 simulated EMIT puff-model plumes (inertial growth), end to end (benchmarks/quantify_skill.py, "
        "2026-11-21)",
    ),
    "aviris-ng": UeffCalibration(
        0.193, 0.813, 0.055, 0.242, 1.12, 0.27, 5.0,
        "fitted on 50 simulated AVIRIS-NG puff-model plumes (inertial growth), end to end "
        "(benchmarks/quantify_skill.py, 2026-11-21)",
    ),
}


def ueff_calibration(sensor: str) -> UeffCalibration:
    """The :data:`UEFF_TABLE` row of ``sensor`` (case-insensitive); unknown sensors raise InvalidInputError."""
    key = str(sensor).lower()
    if key not in UEFF_TABLE:
        raise InvalidInputError("sensor", f"no effective-wind calibration for {sensor!r}; known: {', '.join(UEFF_TABLE)}")
    return UEFF_TABLE[key]


def _molar_mass(gas: str) -> float:
    key = str(gas).lower()
    if key not in GAS_MOLAR_MASS_KG_MOL:
        raise InvalidInputError("gas", f"unknown gas {gas!r}; known: {', '.join(GAS_MOLAR_MASS_KG_MOL)}")
    return GAS_MOLAR_MASS_KG_MOL[key]


def ppm_m_to_kg_m2(gas: str = "ch4", *, air_molar_density_mol_m3: float = AIR_MOLAR_DENSITY_MOL_M3) -> float:
    """Factor turning an enhancement in ppm·m into a column mass in kg m⁻² (6.785e-7 for CH4)."""
    return 1e-6 * air_molar_density_mol_m3 * _molar_mass(gas)


def _check_pixel_size(pixel_size_m: float) -> float:
    if pixel_size_m is None or not np.isfinite(pixel_size_m) or pixel_size_m <= 0:
        raise InvalidInputError("pixel size", f"must be a positive number of metres, got {pixel_size_m!r}")
    return float(pixel_size_m)


def _check_mask(enhancement: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
    enhancement, mask = _check_mask(enhancement_ppm_m, mask)
    pixel = _check_pixel_size(pixel_size_m)
    values = np.nan_to_num(enhancement[mask] - background_ppm_m, nan=0.0)
    return float(values.sum() * ppm_m_to_kg_m2(gas) * pixel**2)


def plume_length_m(mask: Any, *, pixel_size_m: float) -> float:
    """Plume length scale L = sqrt(area), m."""
    mask = np.asarray(mask, dtype=bool)
    return float(math.sqrt(mask.sum()) * _check_pixel_size(pixel_size_m))


def ime_emission_rate_kg_h(
    ime_kg: float, length_m: float, wind_speed_m_s: float, *, sensor: str = "generic",
    calibration: UeffCalibration | None = None,
) -> float:
    """Q = 3600 · (a·U10 + b) · IME / L, kg/h, with the sensor's :data:`UEFF_TABLE` row (or ``calibration``)."""
    cal = calibration or ueff_calibration(sensor)
    if length_m <= 0:
        raise InvalidInputError("length_m", "must be positive")
    return float(3600.0 * (cal.a * wind_speed_m_s + cal.b) * ime_kg / length_m)


def cross_sectional_flux_kg_h(
    enhancement_ppm_m: Any,
    mask: Any,
    *,
    source_rc: tuple[float, float],
    downwind_rc: tuple[float, float],
    pixel_size_m: float,
    wind_speed_m_s: float,
    sensor: str = "generic",
    gas: str = "ch4",
    background_ppm_m: float = 0.0,
    spacing_px: float = 1.5,
    calibration: UeffCalibration | None = None,
) -> tuple[float, float, int]:
    """Cross-sectional flux estimate of the emission rate.

    Parameters
    ----------
    source_rc : (row, col)
        Source position in pixel coordinates.
    downwind_rc : (d_row, d_col)
        Unit vector pointing downwind in pixel coordinates.

    calibration : UeffCalibration, optional
        Overrides the sensor's :data:`UEFF_TABLE` row (``csf_c`` is used).

    Returns
    -------
    rate_kg_h, sigma_kg_h, n_transects
        Median flux over the transects that cross the plume, the standard error of that median from the spread of
        the transects (1.2533 · std / sqrt(n)), and the number of transects. NaN when no transect crosses the plume.
    """
    enhancement, mask = _check_mask(enhancement_ppm_m, mask)
    pixel = _check_pixel_size(pixel_size_m)
    cal = calibration or ueff_calibration(sensor)
    values = np.nan_to_num(enhancement - background_ppm_m, nan=0.0)
    flux = _transect_line_densities_kg_m(values, mask, source_rc, downwind_rc, pixel, gas, spacing_px)
    if flux.size == 0:
        return float("nan"), float("nan"), 0
    ueff = cal.csf_c * wind_speed_m_s
    rate = 3600.0 * ueff * float(np.median(flux))
    sigma = 3600.0 * ueff * 1.2533 * float(np.std(flux)) / math.sqrt(len(flux)) if len(flux) > 1 else abs(rate)
    return rate, sigma, len(flux)


def _transect_line_densities_kg_m(
    values: np.ndarray, mask: np.ndarray, source_rc: tuple[float, float], downwind_rc: tuple[float, float],
    pixel: float, gas: str, spacing_px: float,
) -> np.ndarray:
    """Line densities (kg/m) of the transects perpendicular to ``downwind_rc`` that cross the mask (n,)."""
    dr, dc = downwind_rc
    norm = math.hypot(dr, dc)
    if norm == 0:
        raise InvalidInputError("downwind_rc", "must be a non-zero vector")
    dr, dc = dr / norm, dc / norm
    cr, cc = -dc, dr  # cross-wind unit vector
    rows, cols = np.nonzero(mask)
    along = (rows - source_rc[0]) * dr + (cols - source_rc[1]) * dc
    across = (rows - source_rc[0]) * cr + (cols - source_rc[1]) * cc
    half_width = float(np.abs(across).max()) + 2.0
    offsets = np.arange(-half_width, half_width + 0.25, 0.5)
    distances = np.arange(spacing_px, float(along.max()) + 0.5, spacing_px)
    if distances.size == 0:
        return np.zeros(0)
    # every transect at once: sample coordinates (n_transects, n_offsets)
    r = source_rc[0] + distances[:, None] * dr + offsets[None, :] * cr
    c = source_rc[1] + distances[:, None] * dc + offsets[None, :] * cc
    inside = ndimage.map_coordinates(mask.astype(np.float64), [r, c], order=0, mode="constant", cval=0.0) > 0.5
    samples = ndimage.map_coordinates(values, [r, c], order=1, mode="constant", cval=0.0)
    crossing = inside.sum(axis=1) >= 2
    return (np.where(inside, samples, 0.0).sum(axis=1) * 0.5 * pixel * ppm_m_to_kg_m2(gas))[crossing]


@dataclass(frozen=True)
class FluxEstimate:
    """A cross-sectional-flux emission rate with its Monte Carlo uncertainty (kg/h), random and systematic apart.

    ``emission_rate_sigma_kg_h`` / ``interval68_kg_h``: the RANDOM part (wind speed and direction, the sampling
    error of the median transect, the random structural factor ``csf_rel_sigma``).
    ``emission_rate_sigma_systematic_kg_h``: the SYSTEMATIC part alone (c ~ N(c, σ_c) and the transfer factor
    ``systematic_rel_sigma``). ``emission_rate_sigma_total_kg_h`` / ``interval68_total_kg_h``: both together. Named
    as :class:`RateEstimate`.
    """

    emission_rate_kg_h: float
    emission_rate_sigma_kg_h: float
    interval68_kg_h: tuple[float, float]
    n_transects: int
    emission_rate_sigma_systematic_kg_h: float = float("nan")
    emission_rate_sigma_total_kg_h: float = float("nan")
    interval68_total_kg_h: tuple[float, float] = (float("nan"), float("nan"))


@dataclass(frozen=True)
class CsfDraws:
    """The Monte Carlo draws of one CSF estimate, each factor apart (:func:`csf_draws`).

    ``wind_draws_kg_h`` (m,): the rate for each wind speed and direction draw with the median transect's sampling
    error, c at its table value and no structural factor; ``random_normals``, ``c_normals``, ``systematic_normals``
    (m,): the standard normals of the random structural factor, of c and of the transfer factor, drawn with them.
    m ≤ n_samples: draws whose tilted transects miss the plume are dropped (with their normals).
    """

    emission_rate_kg_h: float
    wind_draws_kg_h: np.ndarray
    random_normals: np.ndarray
    c_normals: np.ndarray
    systematic_normals: np.ndarray
    n_transects: int


def csf_draws(
    enhancement_ppm_m: Any,
    mask: Any,
    *,
    source_rc: tuple[float, float],
    wind_dir_deg: float,
    wind_dir_sigma_deg: float,
    wind_speed_m_s: float,
    wind_speed_sigma_m_s: float,
    downwind_rc: Callable[[float], tuple[float, float]],
    pixel_size_m: float,
    csf_c: float,
    gas: str = "ch4",
    background_ppm_m: float = 0.0,
    spacing_px: float = 1.5,
    n_samples: int = 200,
    seed: int | None = 0,
) -> CsfDraws:
    """The Monte Carlo draws behind :func:`monte_carlo_csf`, before the structural and systematic factors.

    Each draw takes a direction θ ~ N(θ, σ_θ), recomputes the transects' median line density, adds its sampling
    error (1.2533 · std / sqrt(n) · N(0, 1)) and multiplies by ``csf_c`` · U with U from :func:`draw_wind_speed`.
    The normals of the structural, c and transfer factors come from the same generator afterwards, so a calibration
    can rescale the structural factor with the wind draws held fixed (:func:`calibrate_sigma_from_draws`).
    Arguments as :func:`monte_carlo_csf`; ``csf_c`` is the CSF coefficient c.

    Returns
    -------
    CsfDraws
        NaN rate and empty draws when no transect crosses the plume.
    """
    if n_samples < 20:
        raise InvalidInputError("n_samples", f"must be at least 20, got {n_samples}")
    if not (np.isfinite(wind_dir_sigma_deg) and wind_dir_sigma_deg >= 0):
        raise InvalidInputError("wind direction sigma", f"must be >= 0, got {wind_dir_sigma_deg!r}")
    if not (np.isfinite(wind_speed_sigma_m_s) and wind_speed_sigma_m_s >= 0):
        raise InvalidInputError("wind speed sigma", f"must be >= 0, got {wind_speed_sigma_m_s!r}")
    enhancement, mask = _check_mask(enhancement_ppm_m, mask)
    pixel = _check_pixel_size(pixel_size_m)
    values = np.nan_to_num(enhancement - background_ppm_m, nan=0.0)
    central = _transect_line_densities_kg_m(values, mask, source_rc, downwind_rc(wind_dir_deg), pixel, gas, spacing_px)
    empty = np.zeros(0)
    if central.size == 0:
        return CsfDraws(float("nan"), empty, empty, empty, empty, 0)
    rate = 3600.0 * csf_c * wind_speed_m_s * float(np.median(central))
    rng = np.random.default_rng(seed)
    directions = wind_dir_deg + wind_dir_sigma_deg * rng.standard_normal(n_samples)
    speeds = draw_wind_speed(rng, wind_speed_m_s, wind_speed_sigma_m_s, n_samples)
    draws = np.full(n_samples, np.nan)
    for i, direction in enumerate(directions):
        flux = _transect_line_densities_kg_m(values, mask, source_rc, downwind_rc(float(direction) % 360.0), pixel, gas,
                                             spacing_px)
        if flux.size == 0:
            continue
        spread = 1.2533 * float(np.std(flux)) / math.sqrt(flux.size) if flux.size > 1 else abs(float(np.median(flux)))
        draws[i] = 3600.0 * csf_c * speeds[i] * (float(np.median(flux)) + spread * rng.standard_normal())
    normals = rng.standard_normal((3, n_samples))
    keep = np.isfinite(draws)
    return CsfDraws(rate, draws[keep], normals[0][keep], normals[1][keep], normals[2][keep], int(central.size))


def monte_carlo_csf(
    enhancement_ppm_m: Any,
    mask: Any,
    *,
    source_rc: tuple[float, float],
    wind_dir_deg: float,
    wind_dir_sigma_deg: float,
    wind_speed_m_s: float,
    wind_speed_sigma_m_s: float,
    downwind_rc: Callable[[float], tuple[float, float]],
    pixel_size_m: float,
    sensor: str = "generic",
    gas: str = "ch4",
    background_ppm_m: float = 0.0,
    spacing_px: float = 1.5,
    n_samples: int = 200,
    seed: int | None = 0,
    calibration: UeffCalibration | None = None,
) -> FluxEstimate:
    """Cross-sectional flux with its uncertainty by Monte Carlo, random and systematic parts apart.

    The transects are perpendicular to the wind, so a direction error tilts them: each draw takes a direction
    θ ~ N(θ, σ_θ), recomputes the transects' median line density, and multiplies it by c · U with U drawn by
    :func:`draw_wind_speed` (relative error, posterior of the true speed) and by the sampling error of the median
    over the transects (1.2533 · std / sqrt(n), normal) (:func:`csf_draws`). RANDOM part: those draws times the random
    structural factor exp(N(0, ``csf_rel_sigma``)). SYSTEMATIC part: the central rate times c'/c, c' ~ N(c, σ_c), and
    the transfer factor exp(N(0, ``systematic_rel_sigma``)). TOTAL: every factor. The central value is
    :func:`cross_sectional_flux_kg_h` at the given wind.

    Parameters
    ----------
    enhancement_ppm_m, mask : arrays (y, x)
        Background-removed enhancement (ppm·m) and the plume mask.
    source_rc : (row, col)
        Source position, pixels.
    wind_dir_deg, wind_dir_sigma_deg : float
        Direction the wind blows from (degrees clockwise from north) and its 1σ error.
    wind_speed_m_s, wind_speed_sigma_m_s : float
        10 m wind speed and its 1σ error, m/s.
    downwind_rc : callable(direction_deg) -> (d_row, d_col)
        The map's downwind unit vector for a wind direction (``PixelGeometry.downwind_rc``).
    n_samples : int
        Direction/speed draws (each recomputes the transects; 200 by default).

    Returns
    -------
    FluxEstimate
        The 16-84 % intervals of the draws and each 1σ, half its interval's width (as :func:`monte_carlo_rate`).
        NaN rate when no transect crosses the plume.
    """
    cal = calibration or ueff_calibration(sensor)
    if cal.csf_rel_sigma < 0 or cal.sigma_c < 0 or cal.systematic_rel_sigma < 0:
        raise InvalidInputError("calibration", "CSF sigmas must be >= 0")
    parts = csf_draws(enhancement_ppm_m, mask, source_rc=source_rc, wind_dir_deg=wind_dir_deg,
                      wind_dir_sigma_deg=wind_dir_sigma_deg, wind_speed_m_s=wind_speed_m_s,
                      wind_speed_sigma_m_s=wind_speed_sigma_m_s, downwind_rc=downwind_rc, pixel_size_m=pixel_size_m,
                      csf_c=cal.csf_c, gas=gas, background_ppm_m=background_ppm_m, spacing_px=spacing_px,
                      n_samples=n_samples, seed=seed)
    rate, nan2 = parts.emission_rate_kg_h, (float("nan"), float("nan"))
    if parts.n_transects == 0:
        return FluxEstimate(float("nan"), float("nan"), nan2, 0)
    if parts.wind_draws_kg_h.size < 10:
        return FluxEstimate(rate, abs(rate), nan2, parts.n_transects)
    random_draws = parts.wind_draws_kg_h * np.exp(cal.csf_rel_sigma * parts.random_normals)
    systematic_factor = (np.maximum(cal.csf_c + cal.sigma_c * parts.c_normals, 0.05) / cal.csf_c
                         * np.exp(cal.systematic_rel_sigma * parts.systematic_normals))
    sigma, interval = _spread68(random_draws)
    sigma_total, interval_total = _spread68(random_draws * systematic_factor)
    return FluxEstimate(
        rate, sigma, interval, parts.n_transects,
        emission_rate_sigma_systematic_kg_h=_spread68(rate * systematic_factor)[0],
        emission_rate_sigma_total_kg_h=sigma_total,
        interval68_total_kg_h=interval_total,
    )


def draw_wind_speed(rng: np.random.Generator, wind_speed_m_s: float, wind_speed_sigma_m_s: float,
                    n_samples: int) -> np.ndarray:
    """Draws of the TRUE 10 m wind speed given a speed with a relative error, m/s (n_samples,).

    A wind product's speed error is stated relative to the true speed: ``U_given = U · (1 + r · ε)``, ε ~ N(0, 1),
    r = σ_U / U_given. Under the scale-invariant prior p(U) ∝ 1/U the posterior of the true speed is then exactly
    ``U = U_given / (1 + r · z)``, z ~ N(0, 1) (with w = U_given / U, p(w) ∝ φ((w − 1)/r)): median U_given, skewed
    upward (r = 0.3: 16-84 % of U / U_given is 0.77-1.43, not the 0.70-1.30 of N(U_given, σ_U), which assumed the
    error proportional to the GIVEN speed and left the truth above the interval 3 times as often as below). The
    denominator is floored at 0.25 (U ≤ 4 · U_given; only reached for r > 0.3 beyond 2.5 σ) and speeds at 0.1 m/s.
    """
    if wind_speed_sigma_m_s <= 0:
        return np.full(n_samples, float(wind_speed_m_s))
    rel = wind_speed_sigma_m_s / max(wind_speed_m_s, 1e-6)
    return np.maximum(wind_speed_m_s / np.maximum(1.0 + rel * rng.standard_normal(n_samples), 0.25), 0.1)


def _spread68(draws: np.ndarray) -> tuple[float, tuple[float, float]]:
    """1σ (half the 16-84 % width: robust to the wind posterior's long upper tail) and the 16-84 % interval."""
    low, high = np.percentile(draws, [15.865, 84.135])
    return 0.5 * float(high - low), (float(low), float(high))


def _ime_random_parts(
    rng: np.random.Generator, ime_kg: float, ime_sigma_kg: float, scale: float, wind_speed_m_s: float,
    wind_speed_sigma_m_s: float, cal: UeffCalibration, n_samples: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The random draws of :func:`monte_carlo_rate` before the structural factor, in its generator's order:
    wind speeds, IMEs, the rates they give (a, b at the table values; ``scale`` = 3600 / L) and the normals of the
    random structural factor, each (n_samples,)."""
    speed = draw_wind_speed(rng, wind_speed_m_s, wind_speed_sigma_m_s, n_samples)
    ime = rng.normal(ime_kg, ime_sigma_kg, n_samples)
    random_normals = rng.standard_normal(n_samples)
    return speed, ime, scale * np.maximum(cal.a * speed + cal.b, 0.05) * ime, random_normals


@dataclass(frozen=True)
class RateEstimate:
    """An IME emission rate with its Monte Carlo uncertainty (kg/h), random and systematic parts apart.

    ``emission_rate_sigma_kg_h`` / ``interval68_kg_h``: the RANDOM part (wind speed, retrieval noise, random
    structural error), the one a coverage test over many plumes calibrates. ``emission_rate_sigma_systematic_kg_h``:
    the SYSTEMATIC part alone (U_eff coefficients a, b and the calibration-transfer factor; common to every plume of
    the sensor). ``emission_rate_sigma_total_kg_h`` / ``interval68_total_kg_h``: both together.
    """

    emission_rate_kg_h: float
    emission_rate_sigma_kg_h: float
    interval68_kg_h: tuple[float, float]
    ime_kg: float
    ime_sigma_kg: float
    length_m: float
    ueff_m_s: float
    emission_rate_sigma_systematic_kg_h: float = float("nan")
    emission_rate_sigma_total_kg_h: float = float("nan")
    interval68_total_kg_h: tuple[float, float] = (float("nan"), float("nan"))


def monte_carlo_rate(
    ime_kg: float,
    length_m: float,
    n_pixels: int,
    *,
    wind_speed_m_s: float,
    wind_speed_sigma_m_s: float,
    background_sigma_ppm_m: float,
    pixel_size_m: float,
    sensor: str = "generic",
    gas: str = "ch4",
    n_samples: int = 4000,
    seed: int | None = 0,
    calibration: UeffCalibration | None = None,
    pixel_sigma_ppm_m: Any = None,
    ime_sigma_kg: float | None = None,
) -> RateEstimate:
    """IME emission rate and its uncertainty by Monte Carlo, random and systematic parts apart.

    One set of draws: the true wind speed (:func:`draw_wind_speed`), IME ~ N(IME, σ_IME), the random structural
    factor exp(N(0, model_rel_sigma)) — the RANDOM part; a ~ N(a, σ_a), b ~ N(b, σ_b) and the transfer factor
    exp(N(0, systematic_rel_sigma)) — the SYSTEMATIC part. The random draws hold a and b at their table values, the
    systematic draws hold the wind and the IME at the given values, the total draws vary everything. The central
    value is the deterministic estimate. With ``pixel_sigma_ppm_m`` (the 1σ of each plume pixel, e.g. the
    retrieval's per-pixel uncertainty) σ_IME = conv · A_pixel · sqrt(Σ σ_i²); without it
    σ_IME = conv · σ_bg · sqrt(n_pixels) · A_pixel (independent pixels, one background σ); ``ime_sigma_kg`` gives
    σ_IME directly (re-computing the intervals of stored plume records).

    Returns
    -------
    RateEstimate
        The 16th / 84th percentiles of the draws and the 1σ, HALF their distance (the standard deviation for normal
        draws; robust here, where the wind posterior's long upper tail — floored at 4 × the given speed — would make
        the standard deviation depend on that floor): ``emission_rate_sigma_kg_h`` and ``interval68_kg_h`` for the
        random part, ``emission_rate_sigma_systematic_kg_h`` for the systematic part,
        ``emission_rate_sigma_total_kg_h`` and ``interval68_total_kg_h`` for both.
    """
    if n_samples < 100:
        raise InvalidInputError("n_samples", f"must be at least 100, got {n_samples}")
    if wind_speed_sigma_m_s < 0 or background_sigma_ppm_m < 0:
        raise InvalidInputError("uncertainty", "wind and background sigmas must be >= 0")
    cal = calibration or ueff_calibration(sensor)
    if cal.model_rel_sigma < 0 or cal.systematic_rel_sigma < 0:
        raise InvalidInputError("calibration", "structural sigmas must be >= 0")
    pixel = _check_pixel_size(pixel_size_m)
    rng = np.random.default_rng(seed)
    if ime_sigma_kg is not None:
        if not (np.isfinite(ime_sigma_kg) and ime_sigma_kg >= 0):
            raise InvalidInputError("ime_sigma_kg", f"must be finite and >= 0, got {ime_sigma_kg!r}")
        ime_sigma = float(ime_sigma_kg)
    elif pixel_sigma_ppm_m is not None:
        per_pixel = np.asarray(pixel_sigma_ppm_m, dtype=np.float64).ravel()
        if per_pixel.size == 0 or not np.all(np.isfinite(per_pixel)) or np.any(per_pixel < 0):
            raise InvalidInputError("pixel_sigma_ppm_m", "must be finite, non-negative and not empty")
        ime_sigma = ppm_m_to_kg_m2(gas) * float(np.sqrt(np.sum(per_pixel**2))) * pixel**2
    else:
        ime_sigma = ppm_m_to_kg_m2(gas) * background_sigma_ppm_m * math.sqrt(max(n_pixels, 1)) * pixel**2
    scale = 3600.0 / length_m
    speed, ime, wind_noise_draws, random_normals = _ime_random_parts(
        rng, ime_kg, ime_sigma, scale, wind_speed_m_s, wind_speed_sigma_m_s, cal, n_samples)
    random_factor = np.exp(cal.model_rel_sigma * random_normals)
    a = rng.normal(cal.a, cal.sigma_a, n_samples)
    b = rng.normal(cal.b, cal.sigma_b, n_samples)
    systematic_factor = np.exp(cal.systematic_rel_sigma * rng.standard_normal(n_samples))
    random_draws = wind_noise_draws * random_factor
    systematic_draws = scale * np.maximum(a * wind_speed_m_s + b, 0.05) * ime_kg * systematic_factor
    total_draws = scale * np.maximum(a * speed + b, 0.05) * ime * random_factor * systematic_factor
    central_ueff = cal.a * wind_speed_m_s + cal.b
    central = scale * central_ueff * ime_kg
    sigma, interval = _spread68(random_draws)
    sigma_total, interval_total = _spread68(total_draws)
    return RateEstimate(
        emission_rate_kg_h=float(central),
        emission_rate_sigma_kg_h=sigma,
        interval68_kg_h=interval,
        ime_kg=float(ime_kg),
        ime_sigma_kg=float(ime_sigma),
        length_m=float(length_m),
        ueff_m_s=float(central_ueff),
        emission_rate_sigma_systematic_kg_h=_spread68(systematic_draws)[0],
        emission_rate_sigma_total_kg_h=sigma_total,
        interval68_total_kg_h=interval_total,
    )


@dataclass(frozen=True)
class SigmaCalibration:
    """Result of :func:`calibrate_random_sigma`.

    ``sigma`` is the calibrated random structural σ; ``sigma_needed`` the smallest σ at which each calibration
    plume's interval holds its truth (inf when none up to ``max_sigma`` does), (n,); ``coverage`` the fraction of
    the calibration plumes covered at ``sigma``; ``rank`` the order statistic used (1-based); ``truth_above`` /
    ``truth_below`` the fractions of calibration plumes whose truth lies above / below their interval at ``sigma``.
    """

    sigma: float
    n: int
    rank: int
    coverage: float
    sigma_needed: np.ndarray
    truth_above: float
    truth_below: float


def calibrate_sigma_from_draws(
    base_draws_kg_h: Any,
    structural_normals: Any,
    true_rate_kg_h: Any,
    *,
    target_coverage: float = 0.68,
    max_sigma: float = 2.0,
    tolerance: float = 1e-3,
) -> SigmaCalibration:
    """Calibrate a random structural σ so that 68 % intervals hold 68 % of the truths — for any estimate.

    Split-conformal style (Vovk et al. 2005; Angelopoulos & Bates 2021). Row i's random 68 % interval at σ is the
    16-84 % range of ``base_draws_kg_h[i] · exp(σ · structural_normals[i])`` — its Monte Carlo draws without the
    structural factor (wind, retrieval noise, transect sampling; held fixed) and that factor's normals. Its score is
    the smallest σ at which the interval holds the truth (bisection); the calibrated σ is the ⌈target (n + 1)⌉-th
    smallest score, which gives a new plume from the same population coverage ≥ target in expectation (and
    < target + 1/(n + 1) without ties). The IME (:func:`calibrate_random_sigma`) and the CSF (draws from
    :func:`csf_draws`) both use it.

    Parameters
    ----------
    base_draws_kg_h, structural_normals : sequences of n arrays (m_i,)
        Per calibration row: the draws and the structural normals, pairwise of equal length.
    true_rate_kg_h : array (n,)
        The true rate of each row, kg/h. Rows with a non-finite or non-positive truth, fewer than 10 finite draws,
        or non-finite draws are not used.
    target_coverage : float
        In (0, 1).
    max_sigma : float
        Largest σ searched; rows not covered at it score inf.

    Raises
    ------
    InvalidInputError
        Fewer than 5 usable rows, sequences of different lengths, a target outside (0, 1), or a target the
        calibration set is too small to certify (⌈target (n + 1)⌉ > n).
    """
    truth = np.asarray(true_rate_kg_h, dtype=np.float64).ravel()
    if not (len(base_draws_kg_h) == len(structural_normals) == truth.size):
        raise InvalidInputError("calibration plumes", "the per-row draws, normals and truths differ in length")
    if not 0.0 < target_coverage < 1.0:
        raise InvalidInputError("target_coverage", f"must lie in (0, 1), got {target_coverage!r}")
    rows = []
    for base, normals, q in zip(base_draws_kg_h, structural_normals, truth):
        base, normals = np.asarray(base, dtype=np.float64).ravel(), np.asarray(normals, dtype=np.float64).ravel()
        if base.shape != normals.shape:
            raise InvalidInputError("calibration plumes", "a row's draws and normals differ in length")
        if np.isfinite(q) and q > 0 and base.size >= 10 and np.all(np.isfinite(base)) and np.all(np.isfinite(normals)):
            rows.append((base, normals, float(q)))
    n = len(rows)
    if n < 5:
        raise InvalidInputError("calibration plumes", f"need at least 5 usable plumes, got {n}")
    rank = math.ceil(target_coverage * (n + 1))
    if rank > n:
        raise InvalidInputError("calibration plumes", f"{n} plumes cannot certify {target_coverage:.0%} coverage")

    def interval(k: int, sigma: float) -> tuple[float, float]:
        base, normals, _ = rows[k]
        return _spread68(base * np.exp(sigma * normals))[1]

    needed = np.full(n, np.inf)
    for k, (_, _, q) in enumerate(rows):
        low, high = interval(k, 0.0)
        if low <= q <= high:
            needed[k] = 0.0
            continue
        low, high = interval(k, max_sigma)
        if not low <= q <= high:
            continue
        lo_s, hi_s = 0.0, max_sigma
        while hi_s - lo_s > tolerance:
            mid = 0.5 * (lo_s + hi_s)
            low, high = interval(k, mid)
            if low <= q <= high:
                hi_s = mid
            else:
                lo_s = mid
        needed[k] = hi_s
    sigma = float(np.sort(needed)[rank - 1])
    if not np.isfinite(sigma):
        raise InvalidInputError("calibration plumes", f"fewer than {rank} plumes are covered even at σ = {max_sigma:g}")
    above = below = 0
    for k, (_, _, q) in enumerate(rows):  # how the calibrated intervals miss
        low, high = interval(k, sigma)
        above += q > high
        below += q < low
    return SigmaCalibration(sigma=sigma, n=n, rank=rank, coverage=float(np.mean(needed <= sigma)),
                            sigma_needed=needed, truth_above=above / n, truth_below=below / n)


def calibrate_random_sigma(
    ime_kg: Any,
    ime_sigma_kg: Any,
    length_m: Any,
    wind_speed_m_s: Any,
    wind_speed_sigma_m_s: Any,
    true_rate_kg_h: Any,
    *,
    calibration: UeffCalibration,
    target_coverage: float = 0.68,
    n_samples: int = 2000,
    seeds: Any = None,
    max_sigma: float = 2.0,
    tolerance: float = 1e-3,
) -> SigmaCalibration:
    """Calibrate the IME's random structural σ (``model_rel_sigma``) so that 68 % intervals hold 68 % of the truths.

    For each calibration plume of known rate the random draws of :func:`monte_carlo_rate` (the plume's IME, σ_IME, L
    and GIVEN wind; a and b at their table values; its seed) are scored by :func:`calibrate_sigma_from_draws`: the
    smallest σ at which the random 68 % interval holds the truth, with the plume's draws fixed; the calibrated σ is
    the ⌈target (n + 1)⌉-th smallest score. The intervals are exactly those :func:`monte_carlo_rate` reports.

    Parameters
    ----------
    ime_kg, ime_sigma_kg, length_m, wind_speed_m_s, wind_speed_sigma_m_s, true_rate_kg_h : arrays (n,)
        Per calibration plume: its measured IME and noise σ (kg), length (m), the wind GIVEN to the quantification
        and its 1σ (m/s; the same error model as the data it will be used on), and its true rate (kg/h).
    calibration : UeffCalibration
        The row being calibrated (its ``model_rel_sigma`` is ignored).
    target_coverage : float
        In (0, 1).
    seeds : array (n,) of int, optional
        Monte Carlo seed per plume (default 0, 1, ...).
    max_sigma : float
        Largest σ searched; plumes not covered at it score inf.

    Raises
    ------
    InvalidInputError
        Fewer than 5 usable plumes, arrays of different lengths, a target outside (0, 1), or a target the
        calibration set is too small to certify (⌈target (n + 1)⌉ > n).
    """
    arrays = [np.asarray(v, dtype=np.float64).ravel() for v in
              (ime_kg, ime_sigma_kg, length_m, wind_speed_m_s, wind_speed_sigma_m_s, true_rate_kg_h)]
    if len({a.size for a in arrays}) != 1:
        raise InvalidInputError("calibration plumes", "the per-plume arrays differ in length")
    if not 0.0 < target_coverage < 1.0:
        raise InvalidInputError("target_coverage", f"must lie in (0, 1), got {target_coverage!r}")
    if n_samples < 100:
        raise InvalidInputError("n_samples", f"must be at least 100, got {n_samples}")
    ime, ime_sig, length, speed, speed_sig, truth = arrays
    good = (np.isfinite(ime) & np.isfinite(ime_sig) & np.isfinite(length) & np.isfinite(speed) & np.isfinite(speed_sig)
            & np.isfinite(truth) & (length > 0) & (speed > 0) & (truth > 0) & (ime_sig >= 0) & (speed_sig >= 0))
    seed_list = np.arange(ime.size) if seeds is None else np.asarray(seeds, dtype=np.int64).ravel()
    bases, normals = [], []
    for i in np.flatnonzero(good):
        rng = np.random.default_rng(int(seed_list[i]))
        _, _, base, z = _ime_random_parts(rng, ime[i], ime_sig[i], 3600.0 / length[i], speed[i], speed_sig[i],
                                          calibration, n_samples)
        bases.append(base)
        normals.append(z)
    if len(bases) < 5:
        raise InvalidInputError("calibration plumes", f"need at least 5 usable plumes, got {len(bases)}")
    return calibrate_sigma_from_draws(bases, normals, truth[good], target_coverage=target_coverage,
                                      max_sigma=max_sigma, tolerance=tolerance)


def fit_ueff(
    wind_speed_m_s: Any,
    ime_kg: Any,
    length_m: Any,
    rate_kg_h: Any,
    *,
    ime_sigma_kg: Any = None,
    reference: str = "fitted",
    base: UeffCalibration | None = None,
) -> UeffCalibration:
    """Fit ``U_eff = a · U10 + b`` to plumes of known rate, the way Varon et al. (2018) calibrate against LES.

    Each plume gives ``U_eff,i = Q_i · L_i / (3600 · IME_i)``; ``a`` and ``b`` come from an ordinary least-squares
    line through (U10_i, U_eff,i). Their standard errors become ``sigma_a`` / ``sigma_b``. ``model_rel_sigma`` is the
    robust relative scatter of the points around the line (1.4826 x median |relative residual|, so a few broken plumes
    do not inflate it) with the retrieval-noise part (``ime_sigma_kg / ime_kg``, which the Monte Carlo adds on its
    own) removed in quadrature. ``csf_c``, ``csf_rel_sigma``, ``sigma_c`` and ``pixel_size_m`` are copied from
    ``base`` (default: the generic row).

    Parameters
    ----------
    wind_speed_m_s, ime_kg, length_m, rate_kg_h : arrays (n,)
        Per plume: the wind, its measured IME and L, and its true rate. Needs at least 3 plumes.
    ime_sigma_kg : array (n,), optional
        Noise sigma of each IME (the ``ime_sigma_kg`` of a plume record).
    """
    u = np.asarray(wind_speed_m_s, dtype=np.float64)
    ime = np.asarray(ime_kg, dtype=np.float64)
    length = np.asarray(length_m, dtype=np.float64)
    rate = np.asarray(rate_kg_h, dtype=np.float64)
    good = np.isfinite(u) & np.isfinite(ime) & np.isfinite(length) & np.isfinite(rate) & (ime > 0) & (length > 0)
    if good.sum() < 3:
        raise InvalidInputError("calibration plumes", f"need at least 3 usable plumes, got {int(good.sum())}")
    noise_rel = np.zeros(int(good.sum()))
    if ime_sigma_kg is not None:
        noise_rel = np.nan_to_num(np.asarray(ime_sigma_kg, dtype=np.float64)[good] / ime[good])
    u, ueff = u[good], rate[good] * length[good] / (3600.0 * ime[good])
    design = np.column_stack([u, np.ones_like(u)])
    coef, *_ = np.linalg.lstsq(design, ueff, rcond=None)
    residual = ueff - design @ coef
    dof = max(len(u) - 2, 1)
    cov = np.linalg.inv(design.T @ design) * float(residual @ residual) / dof
    robust = 1.4826 * float(np.median(np.abs(residual / (design @ coef))))
    rel = float(np.sqrt(max(robust**2 - float(np.median(noise_rel)) ** 2, 0.0)))
    base = base or UEFF_TABLE["generic"]
    return UeffCalibration(
        a=float(coef[0]), b=float(coef[1]), sigma_a=float(np.sqrt(cov[0, 0])), sigma_b=float(np.sqrt(cov[1, 1])),
        csf_c=base.csf_c, model_rel_sigma=rel, pixel_size_m=base.pixel_size_m, reference=reference,
        csf_rel_sigma=base.csf_rel_sigma, sigma_c=base.sigma_c,
    )
