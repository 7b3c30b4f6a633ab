"""Cross-sectional flux (CSF) emission rate of a plume and its Monte Carlo uncertainty.

Transects perpendicular to the wind at 1.5-pixel steps downwind of the source (Varon et al. 2018; Kuhlmann et
al. 2024); along each the enhancement is integrated across the plume (kg/m) and
``Q = 3600 · U_eff,CSF · median(line density)`` with ``U_eff,CSF = c · U10``. :func:`monte_carlo_csf` draws the
wind speed (:func:`plumetrace.plumes.montecarlo.draw_wind_speed`), the wind DIRECTION (which tilts the
transects), the sampling error of the median transect and its own random structural factor (``csf_rel_sigma``,
calibrated by :func:`plumetrace.plumes.conformal.calibrate_sigma_from_draws`) — its random part; c ~ N(c, σ_c) and
the transfer factor are its systematic part, reported apart as for the IME.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage

from plumetrace.errors import InvalidInputError
from plumetrace.plumes.calibration import UeffCalibration, ueff_calibration
from plumetrace.plumes.ime import check_pixel_size, check_plume_mask, ppm_m_to_kg_m2
from plumetrace.plumes.montecarlo import draw_wind_speed, spread68

__all__ = ["CsfDraws", "FluxEstimate", "cross_sectional_flux_kg_h", "csf_draws", "monte_carlo_csf"]


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
    enhancement, mask = check_plume_mask(enhancement_ppm_m, mask)
    pixel = check_pixel_size(pixel_size_m)
    cal = calibration or ueff_calibration(sensor)
    values = np.nan_to_num(enhancement - background_ppm_m, nan=0.0)
    flux = _transect_line_densities_kg_m(values, mask, source_rc, downwind_rc, pixel, gas, spacing_px)
    if flux.size == 0:
        return float("nan"), float("nan"), 0
    ueff = cal.csf_c * wind_speed_m_s
    rate = 3600.0 * ueff * float(np.median(flux))
    sigma = 3600.0 * ueff * 1.2533 * float(np.std(flux)) / math.sqrt(len(flux)) if len(flux) > 1 else abs(rate)
    return rate, sigma, len(flux)


def _nearest_mask(mask: np.ndarray, r: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``mask`` at the nearest pixel of each point (r, c), False outside: exactly what
    ``ndimage.map_coordinates(mask, [r, c], order=0, mode="constant")`` gives (points outside [0, n − 1] take the
    constant; x.5 rounds up), without its per-point overhead."""
    within = (r >= 0) & (r <= mask.shape[0] - 1) & (c >= 0) & (c <= mask.shape[1] - 1)
    rows = np.floor(np.where(within, r, 0.0) + 0.5).astype(np.intp)
    cols = np.floor(np.where(within, c, 0.0) + 0.5).astype(np.intp)
    return within & mask[rows, cols]


def _transect_line_densities_kg_m(
    values: np.ndarray,
    mask: np.ndarray,
    source_rc: tuple[float, float],
    downwind_rc: tuple[float, float],
    pixel: float,
    gas: str,
    spacing_px: float,
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
    inside = _nearest_mask(mask, r, c)
    # the map is sampled only where the transects lie inside the plume (the rest counts 0): on wide plume
    # complexes most of the transect grid lies outside, and sampling it dominated the plumes stage
    samples = np.zeros(r.shape)
    samples[inside] = ndimage.map_coordinates(values, [r[inside], c[inside]], order=1, mode="constant", cval=0.0)
    crossing = inside.sum(axis=1) >= 2
    return (samples.sum(axis=1) * 0.5 * pixel * ppm_m_to_kg_m2(gas))[crossing]


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
    enhancement, mask = check_plume_mask(enhancement_ppm_m, mask)
    pixel = check_pixel_size(pixel_size_m)
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
        flux = _transect_line_densities_kg_m(
            values, mask, source_rc, downwind_rc(float(direction) % 360.0), pixel, gas, spacing_px
        )
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
    parts = csf_draws(
        enhancement_ppm_m,
        mask,
        source_rc=source_rc,
        wind_dir_deg=wind_dir_deg,
        wind_dir_sigma_deg=wind_dir_sigma_deg,
        wind_speed_m_s=wind_speed_m_s,
        wind_speed_sigma_m_s=wind_speed_sigma_m_s,
        downwind_rc=downwind_rc,
        pixel_size_m=pixel_size_m,
        csf_c=cal.csf_c,
        gas=gas,
        background_ppm_m=background_ppm_m,
        spacing_px=spacing_px,
        n_samples=n_samples,
        seed=seed,
    )
    rate, nan2 = parts.emission_rate_kg_h, (float("nan"), float("nan"))
    if parts.n_transects == 0:
        return FluxEstimate(float("nan"), float("nan"), nan2, 0)
    if parts.wind_draws_kg_h.size < 10:
        return FluxEstimate(rate, abs(rate), nan2, parts.n_transects)
    random_draws = parts.wind_draws_kg_h * np.exp(cal.csf_rel_sigma * parts.random_normals)
    systematic_factor = (
        np.maximum(cal.csf_c + cal.sigma_c * parts.c_normals, 0.05)
        / cal.csf_c
        * np.exp(cal.systematic_rel_sigma * parts.systematic_normals)
    )
    sigma, interval = spread68(random_draws)
    sigma_total, interval_total = spread68(random_draws * systematic_factor)
    return FluxEstimate(
        rate,
        sigma,
        interval,
        parts.n_transects,
        emission_rate_sigma_systematic_kg_h=spread68(rate * systematic_factor)[0],
        emission_rate_sigma_total_kg_h=sigma_total,
        interval68_total_kg_h=interval_total,
    )
