"""The emission-rate uncertainty split into a random and a systematic part, and the calibration of the random part."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from plumetrace.errors import InvalidInputError
from plumetrace.plumes.quantify import (
    UEFF_TABLE,
    UeffCalibration,
    calibrate_random_sigma,
    monte_carlo_rate,
)

COMMON = dict(background_sigma_ppm_m=0.0, pixel_size_m=30.0, n_samples=20000)


def test_without_systematic_error_the_total_equals_the_random_part():
    cal = UeffCalibration(0.36, 0.43, 0.0, 0.0, 1.12, 0.2, 60.0, "test", systematic_rel_sigma=0.0)
    est = monte_carlo_rate(
        300.0,
        900.0,
        50,
        wind_speed_m_s=4.0,
        wind_speed_sigma_m_s=1.2,
        calibration=cal,
        pixel_sigma_ppm_m=np.full(50, 80.0),
        **COMMON,
    )
    assert est.emission_rate_sigma_systematic_kg_h == 0.0
    assert est.emission_rate_sigma_total_kg_h == pytest.approx(est.emission_rate_sigma_kg_h, rel=1e-12)
    assert est.interval68_total_kg_h == pytest.approx(est.interval68_kg_h, rel=1e-12)


def test_without_random_error_the_total_equals_the_systematic_part():
    # wind exact, no retrieval noise, no random structural error: only the transfer factor exp(N(0, s)) is left
    s = 0.35
    cal = UeffCalibration(0.33, 0.45, 0.0, 0.0, 1.12, 0.0, 5.0, "test", systematic_rel_sigma=s)
    est = monte_carlo_rate(2.0, 200.0, 40, wind_speed_m_s=3.0, wind_speed_sigma_m_s=0.0, calibration=cal, **COMMON)
    q = est.emission_rate_kg_h
    assert est.emission_rate_sigma_kg_h == pytest.approx(0.0, abs=1e-9 * q)
    assert est.interval68_kg_h == pytest.approx((q, q))
    # log-normal: 68 % interval Q · exp(±s), so the 1σ (half its width) is Q · sinh(s)
    assert est.emission_rate_sigma_systematic_kg_h == pytest.approx(q * math.sinh(s), rel=0.03)
    assert est.emission_rate_sigma_total_kg_h == pytest.approx(est.emission_rate_sigma_systematic_kg_h, rel=1e-12)
    assert est.interval68_total_kg_h[0] == pytest.approx(q * math.exp(-s), rel=0.02)
    assert est.interval68_total_kg_h[1] == pytest.approx(q * math.exp(s), rel=0.02)


def test_ueff_coefficient_errors_are_systematic():
    # a and b are common to every plume of a sensor: they widen the systematic and total parts, not the random one
    base = UeffCalibration(0.33, 0.45, 0.0, 0.0, 1.12, 0.1, 5.0, "test")
    spread = replace(base, sigma_a=0.05, sigma_b=0.15)
    kwargs = dict(wind_speed_m_s=3.0, wind_speed_sigma_m_s=0.9, **COMMON)
    a = monte_carlo_rate(2.0, 200.0, 40, calibration=base, **kwargs)
    b = monte_carlo_rate(2.0, 200.0, 40, calibration=spread, **kwargs)
    assert b.interval68_kg_h == pytest.approx(a.interval68_kg_h, rel=1e-12)
    # linear propagation of σ_a, σ_b at U = 3 m/s: σ_U_eff / U_eff = sqrt((0.05·3)² + 0.15²) / 1.44
    rel = math.hypot(0.05 * 3.0, 0.15) / (0.33 * 3.0 + 0.45)
    assert b.emission_rate_sigma_systematic_kg_h / b.emission_rate_kg_h == pytest.approx(rel, rel=0.05)
    assert b.emission_rate_sigma_total_kg_h > a.emission_rate_sigma_total_kg_h


def test_airborne_rows_carry_a_systematic_transfer_error_and_satellite_rows_none():
    assert UEFF_TABLE["aviris-ng"].systematic_rel_sigma > 0
    assert UEFF_TABLE["emit"].systematic_rel_sigma == 0.0
    for row in UEFF_TABLE.values():
        assert 0.0 < row.model_rel_sigma < 1.0


def _synthetic_plumes(n: int, sigma_true: float, seed: int, cal: UeffCalibration) -> dict[str, np.ndarray]:
    """Plumes whose true rate departs from the IME estimate with the TRUE wind by a log-normal factor of σ_true,
    quantified with a wind given at ±30 % (the benchmark's error model) and small retrieval noise."""
    rng = np.random.default_rng(seed)
    u = rng.uniform(1.0, 8.0, n)
    ime = rng.uniform(0.5, 50.0, n)
    length = rng.uniform(100.0, 2000.0, n)
    ime_sigma = 0.02 * ime
    q_true = 3600.0 * (cal.a * u + cal.b) * ime / length * np.exp(sigma_true * rng.standard_normal(n))
    given = np.maximum(u * (1.0 + 0.3 * rng.standard_normal(n)), 0.2)
    return {
        "ime": ime,
        "ime_sigma": ime_sigma,
        "length": length,
        "given": given,
        "given_sigma": 0.3 * given,
        "q_true": q_true,
    }


def _calibrate(data: dict[str, np.ndarray], cal: UeffCalibration, seed0: int = 0):
    return calibrate_random_sigma(
        data["ime"],
        data["ime_sigma"],
        data["length"],
        data["given"],
        data["given_sigma"],
        data["q_true"],
        calibration=cal,
        n_samples=1000,
        seeds=seed0 + np.arange(data["ime"].size),
        tolerance=2e-3,
    )


def test_calibration_recovers_a_known_random_sigma():
    cal = UEFF_TABLE["emit"]
    sigma_true = 0.3
    result = _calibrate(_synthetic_plumes(300, sigma_true, 1, cal), cal)
    # sampling error of a 68 % quantile from 300 plumes: sqrt(0.68·0.32/300)/(2φ(1)) ≈ 5.6 % of σ (plus the
    # spread of the ±30 % wind error, which only widens the scores' distribution)
    assert result.sigma == pytest.approx(sigma_true, abs=0.06)
    assert result.rank == math.ceil(0.68 * 301)
    assert 0.68 <= result.coverage <= 0.68 + 2 / 301


def test_calibrated_interval_covers_68_percent_of_fresh_plumes():
    cal = UEFF_TABLE["emit"]
    sigma = _calibrate(_synthetic_plumes(250, 0.25, 2, cal), cal).sigma
    fresh = _synthetic_plumes(400, 0.25, 3, cal)
    row = replace(cal, model_rel_sigma=sigma)
    above = below = 0
    for i in range(fresh["ime"].size):
        est = monte_carlo_rate(
            fresh["ime"][i],
            fresh["length"][i],
            1,
            wind_speed_m_s=fresh["given"][i],
            wind_speed_sigma_m_s=fresh["given_sigma"][i],
            background_sigma_ppm_m=0.0,
            pixel_size_m=1.0,
            calibration=row,
            n_samples=1000,
            seed=10_000 + i,
            ime_sigma_kg=fresh["ime_sigma"][i],
        )
        above += fresh["q_true"][i] > est.interval68_kg_h[1]
        below += fresh["q_true"][i] < est.interval68_kg_h[0]
    n = fresh["ime"].size
    coverage = 1 - (above + below) / n
    # binomial 3σ at n = 400 is ±0.07, plus the calibration's own sampling error
    assert coverage == pytest.approx(0.68, abs=0.09)
    # the wind posterior keeps the misses balanced
    assert abs(above - below) / n < 0.08


def test_calibration_rejects_too_few_plumes():
    with pytest.raises(InvalidInputError, match="at least 5"):
        calibrate_random_sigma(
            [1.0] * 3, [0.1] * 3, [100.0] * 3, [3.0] * 3, [0.9] * 3, [10.0] * 3, calibration=UEFF_TABLE["emit"]
        )


def test_calibration_rejects_arrays_of_different_lengths():
    with pytest.raises(InvalidInputError, match="differ in length"):
        calibrate_random_sigma(
            [1.0] * 6, [0.1] * 6, [100.0] * 6, [3.0] * 6, [0.9] * 6, [10.0] * 5, calibration=UEFF_TABLE["emit"]
        )


def test_calibration_rejects_a_target_outside_0_1():
    with pytest.raises(InvalidInputError, match="target_coverage"):
        calibrate_random_sigma(
            [1.0] * 6,
            [0.1] * 6,
            [100.0] * 6,
            [3.0] * 6,
            [0.9] * 6,
            [10.0] * 6,
            calibration=UEFF_TABLE["emit"],
            target_coverage=1.2,
        )


def test_calibration_rejects_a_target_the_set_cannot_certify():
    # ceil(0.95 · 7) = 7 > 6 plumes
    with pytest.raises(InvalidInputError, match="cannot certify"):
        calibrate_random_sigma(
            [1.0] * 6,
            [0.1] * 6,
            [100.0] * 6,
            [3.0] * 6,
            [0.9] * 6,
            [10.0] * 6,
            calibration=UEFF_TABLE["emit"],
            target_coverage=0.95,
        )


def test_monte_carlo_rejects_a_negative_structural_sigma():
    cal = replace(UEFF_TABLE["emit"], systematic_rel_sigma=-0.1)
    with pytest.raises(InvalidInputError, match="calibration"):
        monte_carlo_rate(
            1.0,
            100.0,
            5,
            wind_speed_m_s=3.0,
            wind_speed_sigma_m_s=0.9,
            background_sigma_ppm_m=1.0,
            pixel_size_m=30.0,
            calibration=cal,
        )


def test_plume_records_carry_the_random_systematic_and_total_parts(plume_map):
    from plumetrace.plumes.pipeline import analyze_plumes
    from plumetrace.plumes.wind import Wind

    ds, _ = plume_map(rate_kg_h=1500.0, wind_speed_m_s=4.0, noise_ppm_m=30.0)
    row = UeffCalibration(0.33, 0.45, 0.05, 0.15, 1.12, 0.2, 30.0, "test", systematic_rel_sigma=0.35)
    rec = analyze_plumes(ds, wind=Wind(4.0, 270.0, 1.2), calibration=row, n_samples=4000).records[0]
    q = rec["emission_rate_kg_h"]
    assert rec["emission_rate_total_p16_kg_h"] < rec["emission_rate_p16_kg_h"] < q
    assert q < rec["emission_rate_p84_kg_h"] < rec["emission_rate_total_p84_kg_h"]
    # independent parts add in quadrature (to Monte Carlo and non-linearity precision)
    quadrature = math.hypot(rec["emission_rate_sigma_kg_h"], rec["emission_rate_sigma_systematic_kg_h"])
    assert rec["emission_rate_sigma_total_kg_h"] == pytest.approx(quadrature, rel=0.15)
    # the systematic part: 35 % transfer ⊕ the a, b spread at 4 m/s
    rel = math.hypot(0.35, math.hypot(0.05 * 4.0, 0.15) / (0.33 * 4.0 + 0.45))
    assert rec["emission_rate_sigma_systematic_kg_h"] / q == pytest.approx(rel, rel=0.15)
