from __future__ import annotations

import math

import numpy as np
import pytest

from plumetrace.errors import InvalidInputError
from plumetrace.plumes.quantify import (
    UEFF_TABLE,
    UeffCalibration,
    cross_sectional_flux_kg_h,
    ime_emission_rate_kg_h,
    integrated_mass_enhancement_kg,
    monte_carlo_rate,
    plume_length_m,
    ppm_m_to_kg_m2,
    ueff_calibration,
)

EXACT = UeffCalibration(1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 30.0, "test: U_eff = U10")


def test_ppm_m_conversion_matches_the_molar_volume_at_15_c():
    # 1 ppm·m of CH4 = 1e-6 m3 of gas per m2; at 15 °C and 1 atm a mole fills 23.645 L
    assert ppm_m_to_kg_m2("ch4") == pytest.approx(1e-3 / 23.645 * 0.016043, rel=1e-3)
    assert ppm_m_to_kg_m2("ch4", air_molar_density_mol_m3=1 / 0.022414) == pytest.approx(
        1e-3 / 22.414 * 0.016043, rel=1e-4
    )


def test_ppm_m_conversion_agrees_with_the_simulator():
    from plumetrace.simulate.plumes import KG_M2_PER_PPM_M

    assert ppm_m_to_kg_m2("ch4") == pytest.approx(KG_M2_PER_PPM_M, rel=1e-6)
    assert ppm_m_to_kg_m2("co2") / ppm_m_to_kg_m2("ch4") == pytest.approx(44.01 / 16.04, rel=1e-3)


def test_ime_of_a_uniform_block():
    enhancement = np.zeros((20, 20))
    enhancement[5:15, 5:15] = 1000.0
    mask = enhancement > 0
    ime = integrated_mass_enhancement_kg(enhancement, mask, pixel_size_m=30.0)
    assert ime == pytest.approx(1000.0 * ppm_m_to_kg_m2("ch4") * 900.0 * 100, rel=1e-9)
    assert plume_length_m(mask, pixel_size_m=30.0) == pytest.approx(300.0)


def test_ime_of_an_analytic_plume_is_rate_times_transit_time(analytic_plume):
    # a steady plume holds Q * (length / U) kilograms in its first `length` metres
    pixel, rate, speed = 20.0, 1000.0, 3.0
    truth = analytic_plume((200, 400), source_rc=(100, 0), rate_kg_h=rate, wind_speed_m_s=speed, pixel_size_m=pixel)
    mask = np.zeros(truth.shape, dtype=bool)
    mask[:, :250] = True
    ime = integrated_mass_enhancement_kg(truth, mask, pixel_size_m=pixel)
    assert ime == pytest.approx(rate / 3600.0 * 250 * pixel / speed, rel=0.02)


def test_ime_rate_formula_uses_the_sensor_table():
    cal = UEFF_TABLE["emit"]
    assert ime_emission_rate_kg_h(100.0, 500.0, 5.0, sensor="emit") == pytest.approx(
        3600 * (cal.a * 5 + cal.b) * 100 / 500
    )


def test_csf_recovers_the_rate_of_an_analytic_plume(analytic_plume):
    pixel, rate, speed = 30.0, 2500.0, 5.0
    truth = analytic_plume((120, 160), source_rc=(60, 10), rate_kg_h=rate, wind_speed_m_s=speed, pixel_size_m=pixel)
    mask = truth > 0.002 * truth.max()
    estimate, sigma, n = cross_sectional_flux_kg_h(
        truth, mask, source_rc=(60, 10), downwind_rc=(0, 1), pixel_size_m=pixel, wind_speed_m_s=speed, calibration=EXACT
    )
    assert n > 20
    assert estimate == pytest.approx(rate, rel=0.05)


def test_csf_follows_the_wind_direction(analytic_plume):
    pixel, rate, speed = 30.0, 800.0, 2.0
    d = (math.sqrt(0.5), -math.sqrt(0.5))  # downwind towards the upper right
    truth = analytic_plume(
        (150, 150), source_rc=(120, 30), rate_kg_h=rate, wind_speed_m_s=speed, pixel_size_m=pixel, downwind_rc=d
    )
    mask = truth > 0.002 * truth.max()
    estimate, _, _ = cross_sectional_flux_kg_h(
        truth, mask, source_rc=(120, 30), downwind_rc=d, pixel_size_m=pixel, wind_speed_m_s=speed, calibration=EXACT
    )
    assert estimate == pytest.approx(rate, rel=0.07)


def test_monte_carlo_wind_interval_is_the_posterior_of_a_relative_speed_error():
    # given = U (1 + r ε)  =>  U = given / (1 + r z): the 68 % interval of U is exactly given/(1 + r) .. given/(1 - r),
    # and Q is linear in U, so the rate interval follows analytically
    cal = UeffCalibration(0.4, 0.5, 0.0, 0.0, 1.0, 0.0, 30.0, "test")
    ime, length, speed, rel = 200.0, 600.0, 5.0, 0.2
    est = monte_carlo_rate(
        ime,
        length,
        100,
        wind_speed_m_s=speed,
        wind_speed_sigma_m_s=rel * speed,
        background_sigma_ppm_m=0.0,
        pixel_size_m=30.0,
        calibration=cal,
        n_samples=40000,
    )
    assert est.emission_rate_kg_h == pytest.approx(3600 * (0.4 * speed + 0.5) * ime / length)
    low, high = est.interval68_kg_h
    assert low == pytest.approx(3600 * (0.4 * speed / (1 + rel) + 0.5) * ime / length, rel=0.01)
    assert high == pytest.approx(3600 * (0.4 * speed / (1 - rel) + 0.5) * ime / length, rel=0.01)
    # small errors: the 1σ is the linear propagation σ_Q = a σ_U IME / L to first order
    small = monte_carlo_rate(
        ime,
        length,
        100,
        wind_speed_m_s=speed,
        wind_speed_sigma_m_s=0.02 * speed,
        background_sigma_ppm_m=0.0,
        pixel_size_m=30.0,
        calibration=cal,
        n_samples=20000,
    )
    assert small.emission_rate_sigma_kg_h == pytest.approx(3600 * 0.4 * 0.02 * speed * ime / length, rel=0.03)


def test_wind_draws_cover_the_true_speed_68_percent_of_the_time():
    # the benchmark's error model: the given speed is the true one times (1 + 0.3 ε); the draws' 16-84 % interval
    # must hold the true speed in 68 % of cases, missing equally often above and below
    from plumetrace.plumes.quantify import draw_wind_speed

    rng = np.random.default_rng(3)
    true = rng.uniform(1.0, 8.0, 2000)
    given = true * (1.0 + 0.3 * rng.standard_normal(true.size))
    keep = given > 0.2
    above = below = 0
    for u, g in zip(true[keep], given[keep]):
        low, high = np.percentile(draw_wind_speed(rng, g, 0.3 * g, 400), [15.865, 84.135])
        above += u > high
        below += u < low
    n = int(keep.sum())
    assert abs(above / n - 0.16) < 0.03 and abs(below / n - 0.16) < 0.03


def test_monte_carlo_ime_noise_term():
    cal = UeffCalibration(0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 30.0, "test")  # U_eff = 1 m/s exactly
    est = monte_carlo_rate(
        100.0,
        300.0,
        400,
        wind_speed_m_s=3.0,
        wind_speed_sigma_m_s=0.0,
        background_sigma_ppm_m=50.0,
        pixel_size_m=30.0,
        calibration=cal,
        n_samples=20000,
    )
    ime_sigma = ppm_m_to_kg_m2("ch4") * 50.0 * math.sqrt(400) * 900.0
    assert est.ime_sigma_kg == pytest.approx(ime_sigma)
    assert est.emission_rate_sigma_kg_h == pytest.approx(3600 * ime_sigma / 300.0, rel=0.03)


def test_every_table_row_has_a_reference_and_sane_coefficients():
    for sensor, row in UEFF_TABLE.items():
        assert row.reference
        assert 0.2 <= row.a <= 0.5 and 0.3 <= row.b <= 0.8, sensor
        assert 1.0 <= row.csf_c <= 1.3


def test_rejects_unknown_sensor():
    with pytest.raises(InvalidInputError, match="sensor"):
        ueff_calibration("landsat-99")


def test_rejects_unknown_gas():
    with pytest.raises(InvalidInputError, match="gas"):
        ppm_m_to_kg_m2("xenon")


def test_rejects_bad_pixel_size():
    with pytest.raises(InvalidInputError, match="pixel size"):
        integrated_mass_enhancement_kg(np.ones((3, 3)), np.ones((3, 3), bool), pixel_size_m=0.0)


def test_rejects_empty_mask():
    with pytest.raises(InvalidInputError, match="empty"):
        integrated_mass_enhancement_kg(np.ones((3, 3)), np.zeros((3, 3), bool), pixel_size_m=30.0)


def test_rejects_too_few_samples():
    with pytest.raises(InvalidInputError, match="n_samples"):
        monte_carlo_rate(
            1.0,
            1.0,
            1,
            wind_speed_m_s=1,
            wind_speed_sigma_m_s=0,
            background_sigma_ppm_m=0,
            pixel_size_m=1,
            n_samples=10,
        )


def test_fit_ueff_recovers_a_known_line():
    from plumetrace.plumes.quantify import fit_ueff

    rng = np.random.default_rng(0)
    u = rng.uniform(1, 8, 200)
    length = rng.uniform(300, 3000, 200)
    rate = 10 ** rng.uniform(2, 4, 200)
    ueff = (0.3 * u + 0.6) * np.exp(rng.normal(0, 0.1, 200))
    ime = rate * length / (3600 * ueff)
    cal = fit_ueff(u, ime, length, rate)
    assert cal.a == pytest.approx(0.3, abs=3 * cal.sigma_a + 0.01)
    assert cal.b == pytest.approx(0.6, abs=3 * cal.sigma_b + 0.02)
    assert cal.model_rel_sigma == pytest.approx(0.1, abs=0.03)


def test_fit_ueff_needs_three_plumes():
    from plumetrace.plumes.quantify import fit_ueff

    with pytest.raises(InvalidInputError, match="calibration plumes"):
        fit_ueff([1, 2], [1, 1], [1, 1], [1, 1])


def test_monte_carlo_ime_noise_from_per_pixel_sigma():
    # the IME noise is the quadrature sum of each pixel's own 1σ, not one background σ for all
    cal = UeffCalibration(0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 30.0, "test")
    per_pixel = np.r_[np.full(300, 40.0), np.full(100, 160.0)]
    est = monte_carlo_rate(
        100.0,
        300.0,
        per_pixel.size,
        wind_speed_m_s=3.0,
        wind_speed_sigma_m_s=0.0,
        background_sigma_ppm_m=40.0,
        pixel_size_m=30.0,
        calibration=cal,
        n_samples=20000,
        pixel_sigma_ppm_m=per_pixel,
    )
    expected = ppm_m_to_kg_m2("ch4") * math.sqrt(300 * 40.0**2 + 100 * 160.0**2) * 900.0
    assert est.ime_sigma_kg == pytest.approx(expected)
    assert est.emission_rate_sigma_kg_h == pytest.approx(3600 * expected / 300.0, rel=0.03)


def test_monte_carlo_ime_rejects_bad_pixel_sigma():
    with pytest.raises(InvalidInputError, match="pixel_sigma_ppm_m"):
        monte_carlo_rate(
            1.0,
            1.0,
            2,
            wind_speed_m_s=1,
            wind_speed_sigma_m_s=0,
            background_sigma_ppm_m=0,
            pixel_size_m=30.0,
            pixel_sigma_ppm_m=np.array([1.0, np.nan]),
        )


def _east(direction_deg: float) -> tuple[float, float]:
    # north-up map: wind from `direction_deg` blows toward (row, col) = (cos θ, -sin θ)
    theta = math.radians(direction_deg)
    return (math.cos(theta), -math.sin(theta))


def test_csf_monte_carlo_speed_error_interval(analytic_plume):
    from plumetrace.plumes.quantify import monte_carlo_csf

    truth = analytic_plume((60, 100), source_rc=(30, 10), rate_kg_h=1500.0, wind_speed_m_s=4.0, pixel_size_m=30.0)
    mask = truth > 0.002 * truth.max()
    est = monte_carlo_csf(
        truth,
        mask,
        source_rc=(30, 10),
        wind_dir_deg=270.0,
        wind_dir_sigma_deg=0.0,
        wind_speed_m_s=4.0,
        wind_speed_sigma_m_s=0.8,
        downwind_rc=_east,
        pixel_size_m=30.0,
        calibration=EXACT,
        n_samples=400,
    )
    assert est.emission_rate_kg_h == pytest.approx(1500.0, rel=0.05)
    # Q ∝ U and U = given / (1 + 0.2 z): the 68 % interval is Q/1.2 .. Q/0.8 (the transect scatter of a noiseless
    # analytic plume is small)
    low, high = est.interval68_kg_h
    assert low / est.emission_rate_kg_h == pytest.approx(1 / 1.2, rel=0.04)
    assert high / est.emission_rate_kg_h == pytest.approx(1 / 0.8, rel=0.04)


def test_csf_monte_carlo_samples_the_wind_direction_error(analytic_plume):
    from plumetrace.plumes.quantify import monte_carlo_csf

    truth = analytic_plume((60, 100), source_rc=(30, 10), rate_kg_h=1500.0, wind_speed_m_s=4.0, pixel_size_m=30.0)
    mask = truth > 0.002 * truth.max()
    common = dict(
        source_rc=(30, 10),
        wind_speed_m_s=4.0,
        wind_speed_sigma_m_s=0.0,
        downwind_rc=_east,
        pixel_size_m=30.0,
        calibration=EXACT,
        n_samples=120,
    )
    exact = monte_carlo_csf(truth, mask, wind_dir_deg=270.0, wind_dir_sigma_deg=0.0, **common)
    tilted = monte_carlo_csf(truth, mask, wind_dir_deg=270.0, wind_dir_sigma_deg=25.0, **common)
    # tilted transects cross the plume obliquely (a 1/cos θ longer path): the direction error must widen the
    # interval and push it upward
    assert (tilted.interval68_kg_h[1] - tilted.interval68_kg_h[0]) > 3 * (
        exact.interval68_kg_h[1] - exact.interval68_kg_h[0]
    )
    assert tilted.interval68_kg_h[1] > 1500.0 * 1.03
    # a wrong given direction (20° off) is caught by its interval when its σ says so
    wrong = monte_carlo_csf(truth, mask, wind_dir_deg=250.0, wind_dir_sigma_deg=20.0, **common)
    assert wrong.interval68_kg_h[0] <= 1500.0 * 1.05


@pytest.mark.parametrize(
    "options, field",
    [
        ({"wind_dir_sigma_deg": -1.0}, "direction sigma"),
        ({"wind_speed_sigma_m_s": np.nan}, "speed sigma"),
        ({"n_samples": 5}, "n_samples"),
    ],
)
def test_csf_monte_carlo_rejects_bad_options(analytic_plume, options, field):
    from plumetrace.plumes.quantify import monte_carlo_csf

    truth = analytic_plume((30, 40), source_rc=(15, 5), rate_kg_h=500.0, wind_speed_m_s=3.0, pixel_size_m=30.0)
    kwargs = dict(
        source_rc=(15, 5),
        wind_dir_deg=270.0,
        wind_dir_sigma_deg=10.0,
        wind_speed_m_s=3.0,
        wind_speed_sigma_m_s=0.5,
        downwind_rc=_east,
        pixel_size_m=30.0,
        calibration=EXACT,
    )
    kwargs.update(options)
    with pytest.raises(InvalidInputError, match=field):
        monte_carlo_csf(truth, truth > 0, **kwargs)
