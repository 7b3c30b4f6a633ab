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

Uncertainty: :func:`monte_carlo_rate` draws the wind speed, the U_eff coefficients, the retrieval noise of the
IME (the per-pixel 1σ of the plume pixels, independent pixels) and the structural error of the U_eff model
(``model_rel_sigma``, a log-normal factor) and reports the 1σ spread and the 16-84 % interval.
:func:`monte_carlo_csf` draws the wind speed and the wind DIRECTION (which tilts the transects) and the sampling
error of the median transect.
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
    "ueff_calibration",
    "ppm_m_to_kg_m2",
    "integrated_mass_enhancement_kg",
    "plume_length_m",
    "ime_emission_rate_kg_h",
    "cross_sectional_flux_kg_h",
    "RateEstimate",
    "monte_carlo_rate",
    "FluxEstimate",
    "monte_carlo_csf",
    "fit_ueff",
]

GAS_MOLAR_MASS_KG_MOL: dict[str, float] = {"ch4": 0.016043, "co2": 0.044009, "n2o": 0.044013, "nh3": 0.017031}
AIR_MOLAR_DENSITY_MOL_M3 = 101325.0 / (8.314462618 * 288.15)  # 42.29 mol m-3 at 15 °C, 1 atm


@dataclass(frozen=True)
class UeffCalibration:
    """Effective wind ``U_eff = a · U10 + b`` (IME) and ``c · U10`` (CSF) for one sensor, with their 1σ errors.

    ``model_rel_sigma`` is the relative structural error of one IME estimate from one plume snapshot (turbulence,
    mask cut-off) once the wind is known; ``reference`` names the literature source of ``a`` and ``b``.
    """

    a: float
    b: float
    sigma_a: float
    sigma_b: float
    csf_c: float
    model_rel_sigma: float
    pixel_size_m: float
    reference: str


# Structural (log-normal, 1σ) error of one airborne snapshot estimate with a U_eff calibrated on 20 m LES: the 20 %
# per-snapshot scatter of the satellite rows and ~35 % for transferring the calibration to 3-10 m pixels, in
# quadrature. The 35 % is half the log-distance between the two simulator models that bracket the near-field
# physics at 5 m (round 2: 0.76x, round 3: 1.39x the truth, ln(1.39/0.76)/2 = 0.30) rounded up to the ±40 % the
# round-3 analysis concluded (docs/benchmarks.md, issue 4); fixed before the round-4 runs, not fitted to them.
AIRBORNE_MODEL_REL_SIGMA = 0.40

# One row per sensor. sigma_a / sigma_b: spread between the independent published calibrations for that class of
# sensor (e.g. EMIT 0.36 U10 + 0.43 in HyperGas vs 0.36 U10 + 0.66 in IMEO's georeader), not the fit error alone.
UEFF_TABLE: dict[str, UeffCalibration] = {
    "emit": UeffCalibration(
        0.36, 0.43, 0.03, 0.12, 1.12, 0.15, 60.0,
        "HyperGas (SRON) ime_calibration ch4 point-source EMIT, WRF-LES at 60 m: 0.36 U10 + 0.43; "
        "CSF c = 1.12 (same file); IMEO georeader uses 0.36 U10 + 0.66",
    ),
    "prisma": UeffCalibration(
        0.34, 0.44, 0.03, 0.10, 1.12, 0.15, 30.0,
        "Guanter et al. 2021, RSE 265, 112671 (PRISMA, 30 m): 0.34 U10 + 0.44; HyperGas: 0.32 U10 + 0.43, CSF c = 1.12",
    ),
    "enmap": UeffCalibration(
        0.34, 0.44, 0.03, 0.10, 1.15, 0.15, 30.0,
        "Roger et al. 2024, IEEE TGRS 62, 5501612 (EnMAP, 30 m): 0.34 U10 + 0.44; HyperGas: 0.33 U10 + 0.44, CSF c = 1.15",
    ),
    "aviris-ng": UeffCalibration(
        0.33, 0.45, 0.05, 0.15, 1.12, AIRBORNE_MODEL_REL_SIGMA, 5.0,
        "Varon et al. 2021, AMT 14, 2771 linear form 0.33 U10 + 0.45 (LES, 20 m) applied to 3-8 m airborne pixels; "
        "no linear AVIRIS-NG calibration with L = sqrt(area) was found (Jongaramrungruang et al. 2019, AMT 12, 6667, "
        "5 m LES, relate IME to Q non-linearly with the wind from the plume's angular width), hence the wider "
        "sigmas and a 40 % structural error (resolution transfer; docs/benchmarks.md, issue 4)",
    ),
    "aviris-3": UeffCalibration(
        0.33, 0.45, 0.05, 0.15, 1.12, AIRBORNE_MODEL_REL_SIGMA, 5.0,
        "as aviris-ng (Varon et al. 2021 linear form, 40 % structural error)",
    ),
    "aviris-classic": UeffCalibration(
        0.33, 0.45, 0.05, 0.15, 1.12, AIRBORNE_MODEL_REL_SIGMA, 10.0,
        "as aviris-ng (Varon et al. 2021 linear form, 40 % structural error)",
    ),
    "generic": UeffCalibration(
        0.34, 0.44, 0.05, 0.15, 1.12, 0.20, 30.0, "Guanter et al. 2021 form with wider sigmas (sensor unknown)",
    ),
}


# U_eff fitted by benchmarks/quantify_skill.py (fit_ueff) on plumes of the default plumetrace puff model (round 4,
# growth="inertial": relative dispersion + a multi-scale centroid process with an inertial-range structure), rendered,
# retrieved by the matched filter and segmented with the defaults (calibration seeds 50000+, disjoint from the
# validation seeds; 40 EMIT and 50 AVIRIS-NG detected plumes of 60 each). For SIMULATED data only. The EMIT fit
# (0.38 U + 0.39) agrees with the published EMIT rows (0.36 U + 0.43 / 0.66) within its errors; the AVIRIS-NG fit has
# half the literature slope and a larger intercept (0.19 U + 0.81). Earlier simulators gave other fits (round 2,
# Taylor: EMIT 0.35 U + 0.62, AVIRIS-NG 0.52 U + 0.88; round 3, Gifford: EMIT 0.64 U - 0.56, AVIRIS-NG 0.18 U + 0.58)
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
    """A cross-sectional-flux emission rate with its Monte Carlo uncertainty (kg/h)."""

    emission_rate_kg_h: float
    emission_rate_sigma_kg_h: float
    interval68_kg_h: tuple[float, float]
    n_transects: int


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
    """Cross-sectional flux with its uncertainty by Monte Carlo over the wind speed AND direction.

    The transects are perpendicular to the wind, so a direction error tilts them: each draw takes a direction
    θ ~ N(θ, σ_θ), recomputes the transects' median line density, and multiplies it by c · U with
    U ~ N(U, σ_U) (truncated at 0.1 m/s) and by the sampling error of the median over the transects
    (1.2533 · std / sqrt(n), normal). The central value is :func:`cross_sectional_flux_kg_h` at the given wind.

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
        NaN rate when no transect crosses the plume.
    """
    if n_samples < 20:
        raise InvalidInputError("n_samples", f"must be at least 20, got {n_samples}")
    if not (np.isfinite(wind_dir_sigma_deg) and wind_dir_sigma_deg >= 0):
        raise InvalidInputError("wind direction sigma", f"must be >= 0, got {wind_dir_sigma_deg!r}")
    if not (np.isfinite(wind_speed_sigma_m_s) and wind_speed_sigma_m_s >= 0):
        raise InvalidInputError("wind speed sigma", f"must be >= 0, got {wind_speed_sigma_m_s!r}")
    enhancement, mask = _check_mask(enhancement_ppm_m, mask)
    pixel = _check_pixel_size(pixel_size_m)
    cal = calibration or ueff_calibration(sensor)
    values = np.nan_to_num(enhancement - background_ppm_m, nan=0.0)
    central = _transect_line_densities_kg_m(values, mask, source_rc, downwind_rc(wind_dir_deg), pixel, gas, spacing_px)
    if central.size == 0:
        return FluxEstimate(float("nan"), float("nan"), (float("nan"), float("nan")), 0)
    rate = 3600.0 * cal.csf_c * wind_speed_m_s * float(np.median(central))
    rng = np.random.default_rng(seed)
    directions = wind_dir_deg + wind_dir_sigma_deg * rng.standard_normal(n_samples)
    speeds = np.maximum(rng.normal(wind_speed_m_s, wind_speed_sigma_m_s, n_samples), 0.1)
    draws = np.full(n_samples, np.nan)
    for i, direction in enumerate(directions):
        flux = _transect_line_densities_kg_m(values, mask, source_rc, downwind_rc(float(direction) % 360.0), pixel, gas,
                                             spacing_px)
        if flux.size == 0:
            continue
        spread = 1.2533 * float(np.std(flux)) / math.sqrt(flux.size) if flux.size > 1 else abs(float(np.median(flux)))
        draws[i] = 3600.0 * cal.csf_c * speeds[i] * (float(np.median(flux)) + spread * rng.standard_normal())
    draws = draws[np.isfinite(draws)]
    if draws.size < 10:
        return FluxEstimate(rate, abs(rate), (float("nan"), float("nan")), int(central.size))
    low, high = np.percentile(draws, [15.865, 84.135])
    return FluxEstimate(rate, float(np.std(draws)), (float(low), float(high)), int(central.size))


@dataclass(frozen=True)
class RateEstimate:
    """An IME emission rate with its Monte Carlo uncertainty (kg/h)."""

    emission_rate_kg_h: float
    emission_rate_sigma_kg_h: float
    interval68_kg_h: tuple[float, float]
    ime_kg: float
    ime_sigma_kg: float
    length_m: float
    ueff_m_s: float


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
) -> RateEstimate:
    """IME emission rate and its uncertainty by Monte Carlo.

    Each draw takes U10 ~ N(U, σ_U) (truncated at 0.1 m/s), a ~ N(a, σ_a), b ~ N(b, σ_b),
    IME ~ N(IME, σ_IME) and a log-normal structural factor exp(N(0, model_rel_sigma)); the central value is the
    deterministic estimate. With ``pixel_sigma_ppm_m`` (the 1σ of each plume pixel, e.g. the retrieval's per-pixel
    uncertainty) σ_IME = conv · A_pixel · sqrt(Σ σ_i²); without it σ_IME = conv · σ_bg · sqrt(n_pixels) · A_pixel
    (independent pixels, one background σ).

    Returns
    -------
    RateEstimate
        ``emission_rate_sigma_kg_h`` is the standard deviation of the draws and ``interval68_kg_h`` their 16th and
        84th percentiles.
    """
    if n_samples < 100:
        raise InvalidInputError("n_samples", f"must be at least 100, got {n_samples}")
    if wind_speed_sigma_m_s < 0 or background_sigma_ppm_m < 0:
        raise InvalidInputError("uncertainty", "wind and background sigmas must be >= 0")
    cal = calibration or ueff_calibration(sensor)
    pixel = _check_pixel_size(pixel_size_m)
    rng = np.random.default_rng(seed)
    if pixel_sigma_ppm_m is not None:
        per_pixel = np.asarray(pixel_sigma_ppm_m, dtype=np.float64).ravel()
        if per_pixel.size == 0 or not np.all(np.isfinite(per_pixel)) or np.any(per_pixel < 0):
            raise InvalidInputError("pixel_sigma_ppm_m", "must be finite, non-negative and not empty")
        ime_sigma = ppm_m_to_kg_m2(gas) * float(np.sqrt(np.sum(per_pixel**2))) * pixel**2
    else:
        ime_sigma = ppm_m_to_kg_m2(gas) * background_sigma_ppm_m * math.sqrt(max(n_pixels, 1)) * pixel**2
    speed = np.maximum(rng.normal(wind_speed_m_s, wind_speed_sigma_m_s, n_samples), 0.1)
    ueff = speed * rng.normal(cal.a, cal.sigma_a, n_samples) + rng.normal(cal.b, cal.sigma_b, n_samples)
    ueff = np.maximum(ueff, 0.05)
    ime = rng.normal(ime_kg, ime_sigma, n_samples)
    structural = np.exp(rng.normal(0.0, cal.model_rel_sigma, n_samples))
    draws = 3600.0 * ueff * ime / length_m * structural
    central_ueff = cal.a * wind_speed_m_s + cal.b
    central = 3600.0 * central_ueff * ime_kg / length_m
    low, high = np.percentile(draws, [15.865, 84.135])
    return RateEstimate(
        emission_rate_kg_h=float(central),
        emission_rate_sigma_kg_h=float(np.std(draws)),
        interval68_kg_h=(float(low), float(high)),
        ime_kg=float(ime_kg),
        ime_sigma_kg=float(ime_sigma),
        length_m=float(length_m),
        ueff_m_s=float(central_ueff),
    )


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
    own) removed in quadrature. ``csf_c`` and ``pixel_size_m`` are copied from ``base`` (default: the generic row).

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
    )
