"""The cross-sectional flux's uncertainty: a random structural term, systematic and total parts apart, and the
calibration of its random σ by the same conformal rule as the IME's."""

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
    calibrate_sigma_from_draws,
    csf_draws,
    monte_carlo_csf,
    monte_carlo_rate,
)

Q = 1500.0
NO_ERROR = UeffCalibration(0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 30.0, "test: c = 1, no error")


def _east(direction_deg: float) -> tuple[float, float]:
    theta = math.radians(direction_deg)
    return (math.cos(theta), -math.sin(theta))


@pytest.fixture
def plume(analytic_plume):
    truth = analytic_plume((60, 100), source_rc=(30, 10), rate_kg_h=Q, wind_speed_m_s=4.0, pixel_size_m=30.0)
    return truth, truth > 0.002 * truth.max()


def _csf(plume, cal: UeffCalibration, **options):
    truth, mask = plume
    kwargs = dict(
        source_rc=(30, 10),
        wind_dir_deg=270.0,
        wind_dir_sigma_deg=0.0,
        wind_speed_m_s=4.0,
        wind_speed_sigma_m_s=0.0,
        downwind_rc=_east,
        pixel_size_m=30.0,
        calibration=cal,
        n_samples=400,
    )
    kwargs.update(options)
    return monte_carlo_csf(truth, mask, **kwargs)


def test_random_structural_term_is_a_log_normal_factor(plume):
    # wind exact, noiseless analytic plume (its transects scatter by < 1 %): the random interval is Q · exp(±s)
    s = 0.3
    est = _csf(plume, replace(NO_ERROR, csf_rel_sigma=s), n_samples=1000)
    q = est.emission_rate_kg_h
    assert q == pytest.approx(Q, rel=0.05)
    assert est.interval68_kg_h[0] == pytest.approx(q * math.exp(-s), rel=0.03)
    assert est.interval68_kg_h[1] == pytest.approx(q * math.exp(s), rel=0.03)
    # nothing systematic: the total is the random part
    assert est.emission_rate_sigma_systematic_kg_h == 0.0
    assert est.interval68_total_kg_h == pytest.approx(est.interval68_kg_h, rel=1e-12)


def test_c_spread_and_transfer_are_systematic(plume):
    # c ~ N(1.12, 0.15) and a 35 % transfer factor change the systematic and total parts, never the random one
    base = replace(NO_ERROR, csf_c=1.12, csf_rel_sigma=0.2)
    spread = replace(base, sigma_c=0.15, systematic_rel_sigma=0.35)
    options = dict(wind_speed_sigma_m_s=1.2, wind_dir_sigma_deg=10.0, n_samples=800)
    a, b = _csf(plume, base, **options), _csf(plume, spread, **options)
    assert b.interval68_kg_h == pytest.approx(a.interval68_kg_h, rel=1e-12)
    q = b.emission_rate_kg_h
    # systematic alone: the product of c'/c (normal, σ 0.15/1.12) and exp(N(0, 0.35)); half its 16-84 % width
    rng = np.random.default_rng(1)
    factor = (1.0 + 0.15 / 1.12 * rng.standard_normal(200_000)) * np.exp(0.35 * rng.standard_normal(200_000))
    expected = 0.5 * float(np.diff(np.percentile(factor, [15.865, 84.135]))[0])
    assert b.emission_rate_sigma_systematic_kg_h / q == pytest.approx(expected, rel=0.1)
    # independent parts: the total is wider than either and close to their quadrature sum
    assert b.interval68_total_kg_h[0] < b.interval68_kg_h[0] and b.interval68_total_kg_h[1] > b.interval68_kg_h[1]
    quadrature = math.hypot(b.emission_rate_sigma_kg_h, b.emission_rate_sigma_systematic_kg_h)
    assert b.emission_rate_sigma_total_kg_h == pytest.approx(quadrature, rel=0.2)


def test_table_rows_carry_csf_random_and_systematic_parts(plume):
    for name, row in UEFF_TABLE.items():
        assert 0.0 < row.csf_rel_sigma < 1.0, name
        assert 0.0 < row.sigma_c < 0.5 * row.csf_c, name
    # the airborne transfer factor applies to c as well: 35 % ⊕ σ_c / c, against σ_c / c alone for EMIT
    airborne = _csf(plume, UEFF_TABLE["aviris-ng"], n_samples=1000)
    satellite = _csf(plume, UEFF_TABLE["emit"], n_samples=1000)
    rel_air = airborne.emission_rate_sigma_systematic_kg_h / airborne.emission_rate_kg_h
    rel_sat = satellite.emission_rate_sigma_systematic_kg_h / satellite.emission_rate_kg_h
    assert rel_sat == pytest.approx(UEFF_TABLE["emit"].sigma_c / UEFF_TABLE["emit"].csf_c, rel=0.12)
    assert rel_air > math.hypot(0.3, UEFF_TABLE["aviris-ng"].sigma_c / 1.12)


def test_csf_draws_give_exactly_the_monte_carlo_interval(plume):
    truth, mask = plume
    cal = replace(UEFF_TABLE["emit"], csf_rel_sigma=0.25)
    options = dict(
        source_rc=(30, 10),
        wind_dir_deg=265.0,
        wind_dir_sigma_deg=15.0,
        wind_speed_m_s=3.5,
        wind_speed_sigma_m_s=1.05,
        downwind_rc=_east,
        pixel_size_m=30.0,
        n_samples=150,
        seed=7,
    )
    parts = csf_draws(truth, mask, csf_c=cal.csf_c, **options)
    est = monte_carlo_csf(truth, mask, calibration=cal, **options)
    low, high = np.percentile(parts.wind_draws_kg_h * np.exp(0.25 * parts.random_normals), [15.865, 84.135])
    assert est.interval68_kg_h == (low, high)
    assert est.emission_rate_kg_h == parts.emission_rate_kg_h


def _rows(n: int, sigma_true: float, seed: int) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """Synthetic CSF calibration rows: the map's flux departs from the truth by a log-normal factor of σ_true, the
    wind is given at ±30 % (the benchmark's error model) and the draws are the posterior of the true speed."""
    rng = np.random.default_rng(seed)
    q_true = 10 ** rng.uniform(1, 4, n)
    u = rng.uniform(1.0, 8.0, n)
    given = np.maximum(u * (1 + 0.3 * rng.standard_normal(n)), 0.2)
    flux_per_speed = q_true / u * np.exp(sigma_true * rng.standard_normal(n))  # what the map's transects say
    bases, normals = [], []
    for i in range(n):
        speed = given[i] / np.maximum(1 + 0.3 * rng.standard_normal(500), 0.25)
        bases.append(flux_per_speed[i] * speed)
        normals.append(rng.standard_normal(500))
    return bases, normals, q_true


def test_calibration_from_draws_recovers_a_known_sigma_and_covers_fresh_rows():
    sigma_true = 0.35
    result = calibrate_sigma_from_draws(*_rows(300, sigma_true, 1), tolerance=2e-3)
    assert result.sigma == pytest.approx(sigma_true, abs=0.07)
    assert 0.68 <= result.coverage <= 0.68 + 2 / 301
    bases, normals, q = _rows(400, sigma_true, 2)
    above = below = 0
    for base, z, truth in zip(bases, normals, q):
        low, high = np.percentile(base * np.exp(result.sigma * z), [15.865, 84.135])
        above += truth > high
        below += truth < low
    assert 1 - (above + below) / 400 == pytest.approx(0.68, abs=0.09)
    assert abs(above - below) / 400 < 0.08


def test_score_is_the_smallest_sigma_at_which_monte_carlo_csf_holds_the_truth(plume):
    # the conformal score on csf_draws is the σ at which monte_carlo_csf's own interval starts to hold the truth
    truth_map, mask = plume
    options = dict(
        source_rc=(30, 10),
        wind_dir_sigma_deg=15.0,
        wind_speed_sigma_m_s=0.9,
        downwind_rc=_east,
        pixel_size_m=30.0,
        n_samples=60,
    )
    cal = UEFF_TABLE["emit"]
    rows = [(255.0, 3.0, 11), (280.0, 5.5, 12), (270.0, 2.4, 13), (262.0, 4.8, 14), (275.0, 3.9, 15)]
    truths = [Q * 2.0, Q * 0.4, Q * 2.5, Q * 0.45, Q * 1.9]  # outside every σ = 0 interval
    bases, normals = [], []
    for direction, speed, seed in rows:
        d = csf_draws(
            truth_map, mask, wind_dir_deg=direction, wind_speed_m_s=speed, csf_c=cal.csf_c, seed=seed, **options
        )
        bases.append(d.wind_draws_kg_h)
        normals.append(d.random_normals)
    result = calibrate_sigma_from_draws(bases, normals, truths, tolerance=1e-3)
    for (direction, speed, seed), q, needed in zip(rows, truths, result.sigma_needed):
        assert 0.0 < needed < 2.0

        def interval(sigma: float) -> tuple[float, float]:
            return monte_carlo_csf(
                truth_map,
                mask,
                wind_dir_deg=direction,
                wind_speed_m_s=speed,
                seed=seed,
                calibration=replace(cal, csf_rel_sigma=sigma),
                **options,
            ).interval68_kg_h

        low, high = interval(needed)
        assert low <= q <= high
        low, high = interval(needed - 2e-3)
        assert not low <= q <= high


def test_ime_calibration_scores_monte_carlo_rate_intervals():
    # calibrate_random_sigma runs on the same core: at each plume's score, monte_carlo_rate holds the truth, just
    # below it does not
    cal = UEFF_TABLE["aviris-ng"]
    ime = np.array([1.0, 2.0, 0.5, 3.0, 1.5, 0.8])
    length = np.array([100.0, 150.0, 80.0, 200.0, 120.0, 90.0])
    given = np.array([3.0, 5.0, 2.0, 6.0, 4.0, 2.5])
    central = 3600.0 * (cal.a * given + cal.b) * ime / length
    truths = central * np.array([2.2, 0.35, 2.6, 0.4, 1.9, 0.3])
    kwargs = dict(calibration=cal, n_samples=500, seeds=np.arange(6) + 40, tolerance=1e-3)
    result = calibrate_random_sigma(ime, 0.02 * ime, length, given, 0.3 * given, truths, **kwargs)
    for i in range(6):

        def interval(sigma: float) -> tuple[float, float]:
            return monte_carlo_rate(
                ime[i],
                length[i],
                1,
                wind_speed_m_s=given[i],
                wind_speed_sigma_m_s=0.3 * given[i],
                background_sigma_ppm_m=0.0,
                pixel_size_m=1.0,
                n_samples=500,
                seed=40 + i,
                calibration=replace(cal, model_rel_sigma=sigma),
                ime_sigma_kg=0.02 * ime[i],
            ).interval68_kg_h

        needed = result.sigma_needed[i]
        assert 0.0 < needed < 2.0
        low, high = interval(needed)
        assert low <= truths[i] <= high
        low, high = interval(needed - 2e-3)
        assert not low <= truths[i] <= high


def test_calibration_from_draws_rejects_sequences_of_different_lengths():
    bases, normals, q = _rows(6, 0.2, 3)
    with pytest.raises(InvalidInputError, match="differ in length"):
        calibrate_sigma_from_draws(bases, normals[:5], q)


def test_calibration_from_draws_rejects_a_row_whose_draws_and_normals_differ():
    bases, normals, q = _rows(6, 0.2, 3)
    normals[2] = normals[2][:-1]
    with pytest.raises(InvalidInputError, match="a row's draws"):
        calibrate_sigma_from_draws(bases, normals, q)


def test_calibration_from_draws_rejects_too_few_usable_rows():
    bases, normals, q = _rows(6, 0.2, 3)
    q[:3] = np.nan  # rows without a truth are not usable
    with pytest.raises(InvalidInputError, match="at least 5"):
        calibrate_sigma_from_draws(bases, normals, q)


def test_calibration_from_draws_rejects_a_target_outside_0_1():
    with pytest.raises(InvalidInputError, match="target_coverage"):
        calibrate_sigma_from_draws(*_rows(6, 0.2, 3), target_coverage=0.0)


def test_monte_carlo_csf_rejects_a_negative_csf_sigma(plume):
    with pytest.raises(InvalidInputError, match="calibration"):
        _csf(plume, replace(NO_ERROR, csf_rel_sigma=-0.1))


def test_plume_records_carry_the_csf_parts_and_plume_crop_reproduces_them(plume_map):
    from plumetrace.plumes.pipeline import analyze_plumes, plume_crop
    from plumetrace.plumes.wind import Wind

    ds, _ = plume_map(rate_kg_h=Q, wind_speed_m_s=4.0, noise_ppm_m=30.0)
    row = replace(UEFF_TABLE["aviris-ng"], pixel_size_m=30.0)
    wind = Wind(4.0, 270.0, 1.2, direction_sigma_deg=10.0)
    result = analyze_plumes(ds, wind=wind, calibration=row, n_samples=400, csf_samples=100, seed=3)
    rec = result.records[0]
    q = rec["emission_rate_csf_kg_h"]
    assert rec["emission_rate_csf_total_p16_kg_h"] < rec["emission_rate_csf_p16_kg_h"] < q
    assert q < rec["emission_rate_csf_p84_kg_h"] < rec["emission_rate_csf_total_p84_kg_h"]
    assert rec["emission_rate_csf_sigma_systematic_kg_h"] / q > 0.35
    # the pipeline's CSF inputs, rebuilt from the result: the same interval to the last digit
    crop = plume_crop(result.labels.values, rec["plume_id"])
    again = monte_carlo_csf(
        result.anomaly[crop],
        result.labels.values[crop] == rec["plume_id"],
        source_rc=(rec["source_row"] - crop[0].start, rec["source_col"] - crop[1].start),
        wind_dir_deg=270.0,
        wind_dir_sigma_deg=10.0,
        wind_speed_m_s=4.0,
        wind_speed_sigma_m_s=1.2,
        downwind_rc=result.geometry.downwind_rc,
        pixel_size_m=30.0,
        calibration=row,
        n_samples=100,
        seed=3 + rec["plume_id"],
    )
    assert again.interval68_kg_h == (rec["emission_rate_csf_p16_kg_h"], rec["emission_rate_csf_p84_kg_h"])
    assert again.interval68_total_kg_h == (
        rec["emission_rate_csf_total_p16_kg_h"],
        rec["emission_rate_csf_total_p84_kg_h"],
    )


def test_plume_crop_rejects_a_missing_plume():
    from plumetrace.plumes.pipeline import plume_crop

    with pytest.raises(InvalidInputError, match="plume_id"):
        plume_crop(np.zeros((5, 5), dtype=int), 1)
