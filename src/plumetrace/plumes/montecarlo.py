"""Monte Carlo uncertainty of the IME emission rate, random and systematic parts apart.

* **random** (differs from plume to plume, so a 68 % interval over many plumes can be checked and calibrated): the
  wind speed error, the retrieval noise of the IME (the per-pixel 1σ of the plume pixels, independent pixels) and
  the random structural error of one snapshot (turbulence, mask cut-off; ``model_rel_sigma``, a log-normal factor,
  calibrated on simulated plumes by :func:`plumetrace.plumes.conformal.calibrate_random_sigma`). Reported as
  ``emission_rate_sigma_kg_h`` and the 16-84 % interval.
* **systematic** (common to every plume of a sensor, so it does not average down over plumes and no benchmark on one
  simulator can calibrate it): the U_eff coefficients a and b (``sigma_a``, ``sigma_b``: the spread between
  independent published calibrations) and the calibration-transfer error (``systematic_rel_sigma``, e.g. a 20 m LES
  calibration applied to 5 m airborne pixels).
* **total**: both together, for an absolute rate of one plume.

The wind speed is drawn as ``U = U_given / (1 + r·z)`` with ``r = σ_U / U_given``, z ~ N(0, 1): the posterior of the
true speed when the given speed has a relative error proportional to the TRUE speed, ``U_given = U·(1 + r·ε)``,
under a scale-invariant prior (see :func:`draw_wind_speed`). The CSF draws the speed the same way
(:mod:`plumetrace.plumes.csf`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from plumetrace.errors import InvalidInputError
from plumetrace.plumes.calibration import UeffCalibration, ueff_calibration
from plumetrace.plumes.ime import check_pixel_size, ppm_m_to_kg_m2

__all__ = ["RateEstimate", "draw_wind_speed", "ime_random_draws", "monte_carlo_rate", "spread68"]


def draw_wind_speed(
    rng: np.random.Generator, wind_speed_m_s: float, wind_speed_sigma_m_s: float, n_samples: int
) -> np.ndarray:
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


def spread68(draws: np.ndarray) -> tuple[float, tuple[float, float]]:
    """1σ (half the 16-84 % width: robust to the wind posterior's long upper tail) and the 16-84 % interval."""
    low, high = np.percentile(draws, [15.865, 84.135])
    return 0.5 * float(high - low), (float(low), float(high))


def ime_random_draws(
    rng: np.random.Generator,
    ime_kg: float,
    ime_sigma_kg: float,
    scale: float,
    wind_speed_m_s: float,
    wind_speed_sigma_m_s: float,
    cal: UeffCalibration,
    n_samples: int,
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
    pixel = check_pixel_size(pixel_size_m)
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
    speed, ime, wind_noise_draws, random_normals = ime_random_draws(
        rng, ime_kg, ime_sigma, scale, wind_speed_m_s, wind_speed_sigma_m_s, cal, n_samples
    )
    random_factor = np.exp(cal.model_rel_sigma * random_normals)
    a = rng.normal(cal.a, cal.sigma_a, n_samples)
    b = rng.normal(cal.b, cal.sigma_b, n_samples)
    systematic_factor = np.exp(cal.systematic_rel_sigma * rng.standard_normal(n_samples))
    random_draws = wind_noise_draws * random_factor
    systematic_draws = scale * np.maximum(a * wind_speed_m_s + b, 0.05) * ime_kg * systematic_factor
    total_draws = scale * np.maximum(a * speed + b, 0.05) * ime * random_factor * systematic_factor
    central_ueff = cal.a * wind_speed_m_s + cal.b
    central = scale * central_ueff * ime_kg
    sigma, interval = spread68(random_draws)
    sigma_total, interval_total = spread68(total_draws)
    return RateEstimate(
        emission_rate_kg_h=float(central),
        emission_rate_sigma_kg_h=sigma,
        interval68_kg_h=interval,
        ime_kg=float(ime_kg),
        ime_sigma_kg=float(ime_sigma),
        length_m=float(length_m),
        ueff_m_s=float(central_ueff),
        emission_rate_sigma_systematic_kg_h=spread68(systematic_draws)[0],
        emission_rate_sigma_total_kg_h=sigma_total,
        interval68_total_kg_h=interval_total,
    )
