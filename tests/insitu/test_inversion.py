"""Bayesian source-term estimation against simulated truth and real Prairie Grass releases."""

from pathlib import Path

import numpy as np
import pytest

from plumetrace.errors import InvalidInputError
from plumetrace.insitu.inversion import invert_source
from plumetrace.insitu.prairie_grass import ROUGHNESS_LENGTH_M, WIND_HEIGHT_M, load_prairie_grass, run_observations
from plumetrace.io.observations import validate_observations
from plumetrace.simulate.observations import simulate_survey

PG = Path(__file__).resolve().parents[1] / "data" / "prairie_grass"
QUIET = dict(meander_sd_deg=0.0, turbulence_sd=0.0, wind_noise_m_s=0.0, wind_dir_noise_deg=0.0)


def _drone(q=5.0, seed=1, **kw):
    raw, truth = simulate_survey(kind="drone", emission_rate_g_s=q, source_xyz_m=(10.0, -20.0, 2.0), seed=seed, **kw)
    raw = raw.iloc[::3].reset_index(drop=True)  # 1-in-3 s keeps the tests fast
    return validate_observations(raw, origin=(40.0, -100.0)), truth


def test_noise_free_drone_survey_recovers_position_and_rate():
    obs, truth = _drone(**QUIET)
    r = invert_source(obs, source_heights_m=(2.0,), model_error_log_sd=0.0)  # the simulator has no model error
    assert r.detected
    assert np.hypot(r.x_m - truth["x_m"], r.y_m - truth["y_m"]) < 5.0
    assert r.q_g_s == pytest.approx(truth["emission_rate_g_s"], rel=0.05)
    assert r.q_95_g_s[0] <= r.q_g_s <= r.q_95_g_s[1]
    assert r.credible_region.area > 0


def test_turbulent_drone_survey_with_known_source_gets_rate_within_25_percent():
    obs, truth = _drone(seed=4)
    r = invert_source(obs, source_known=(10.0, -20.0), source_heights_m=(2.0,))
    assert r.q_g_s == pytest.approx(truth["emission_rate_g_s"], rel=0.25)
    assert r.source_known and (r.x_m, r.y_m) == (10.0, -20.0)


def test_all_background_gives_no_detection_with_an_upper_limit():
    obs, _ = _drone(q=0.0, seed=2)
    r = invert_source(obs, source_heights_m=(2.0,))
    assert not r.detected
    # a 0.1 g/s source 60-240 m upwind of these transects would give > 10 sigma: the limit must be below it
    assert 0.0 < r.q_upper_95_g_s < 0.1


def test_bad_options_are_rejected():
    obs, _ = _drone(**QUIET)
    with pytest.raises(InvalidInputError, match="prior_box"):
        invert_source(obs, prior_box=(10, 0, 0, 10))
    with pytest.raises(InvalidInputError, match="source_heights_m"):
        invert_source(obs, source_heights_m=(-1.0,))


@pytest.mark.parametrize("run_number", [5, 17, 33, 46, 57])
def test_prairie_grass_rate_within_factor_two_with_known_source(run_number):
    run = next(r for r in load_prairie_grass(PG) if r.run == run_number)
    obs = validate_observations(run_observations(run), origin=(42.49, -98.57))
    r = invert_source(
        obs,
        source_known=(0.0, 0.0),
        source_heights_m=(run.source_height_m,),
        wind_height_m=WIND_HEIGHT_M,
        roughness_length_m=ROUGHNESS_LENGTH_M,
        n_samples=200,
    )
    assert 0.5 <= r.q_g_s / run.release_rate_g_s <= 2.0


def test_prairie_grass_loader_geometry_matches_wind_direction():
    runs = {r.run: r for r in load_prairie_grass(PG)}
    assert len(runs) == 68 and sum(r.has_meteorology for r in runs.values()) == 53
    run = runs[23]  # wind from 128 deg: the plume must peak near azimuth 308
    arcs = run.arcs[run.arcs.radius_m == 200]
    peak = arcs.azimuth_deg.to_numpy()[np.argmax(arcs.concentration_mg_m3.to_numpy())]
    assert abs(((peak - (run.wind_dir_deg + 180)) + 180) % 360 - 180) < 10


def test_residual_temper_recovers_ar1_effective_sample_size():
    from plumetrace.insitu.likelihood import residual_temper

    rng = np.random.default_rng(3)
    rho, n = 0.8, 20000
    e = np.empty(n)
    e[0] = rng.standard_normal()
    for i in range(1, n):
        e[i] = rho * e[i - 1] + np.sqrt(1 - rho**2) * rng.standard_normal()
    lam, rho_hat, kappa = residual_temper(e, np.ones(n), np.ones(n, dtype=bool))
    assert rho_hat == pytest.approx(rho, abs=0.02)
    assert lam == pytest.approx((1 - rho) / (1 + rho), rel=0.1)  # AR(1): n_eff / n
    # independent but over-dispersed residuals (sd 2 for a model sd 1): lambda = 1 / 4
    lam, rho_hat, kappa = residual_temper(2.0 * rng.standard_normal(n), np.ones(n), np.ones(n, dtype=bool))
    assert kappa == pytest.approx(4.0, rel=0.05) and lam == pytest.approx(0.25, rel=0.1)


def test_new_options_are_validated():
    obs, _ = _drone(**QUIET)
    with pytest.raises(InvalidInputError, match="model_error_log_sd"):
        invert_source(obs, model_error_log_sd=-0.1)
    with pytest.raises(InvalidInputError, match="sigma_y_log_sd"):
        invert_source(obs, sigma_y_log_sd=5.0)


def test_prairie_grass_loss_factors_multiply_the_reported_concentrations():
    # Barad Table 5.4 "evaporation loss" factors scale the impinger readings down (see prairie_grass docstring)
    raw = {}
    lines = (PG / "PGARCS.txt").read_text().splitlines()
    i = 0
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        head = lines[i].split(",")
        n = int(lines[i + 1].split(",")[0])
        if int(head[0]) == 5 and float(head[4]) == 50.0:
            raw = {float(v.split()[0]): float(v.split()[3]) for v in lines[i + 2 : i + 2 + n]}
        i += 2 + n
    run = next(r for r in load_prairie_grass(PG) if r.run == 5)
    arc = run.arcs[run.arcs.radius_m == 50.0]
    peak = arc.loc[arc.concentration_mg_m3.idxmax()]
    assert peak.concentration_mg_m3 == pytest.approx(raw[peak.azimuth_deg] * 0.93)  # table: run 5, 50 m = 0.93


def test_common_model_error_pools_prior_with_crossing_scatter():
    from plumetrace.insitu.likelihood import common_model_error

    rng = np.random.default_rng(5)
    true_s = 0.3
    model, c = [], []
    for _ in range(40):  # 40 crossings of 10 in-plume samples, each off by its own log-normal factor
        m = np.exp(-0.5 * np.linspace(-2, 2, 10) ** 2)
        model += [m, np.zeros(3)]
        c += [m * np.exp(true_s * rng.standard_normal()), np.zeros(3)]
    tau, s, G = common_model_error(np.concatenate(c), np.concatenate(model), 0.01, prior_log_sd=0.1)
    assert G == 40 and s == pytest.approx(true_s, rel=0.25)
    assert tau == pytest.approx(np.sqrt((2 * 0.1**2 + 39 * s**2) / 41))


@pytest.mark.parametrize(
    "options, field",
    [
        (dict(roughness_length_m=0.0), "roughness_length_m"),
        (dict(roughness_length_m=-1.0), "roughness_length_m"),
        (dict(roughness_length_m=12.0), "roughness_length_m"),
        (dict(wind_height_m=0.0), "wind_height_m"),
        (dict(wind_height_m=float("nan")), "wind_height_m"),
        (dict(source_known=(float("nan"), float("nan"))), "source_known"),
        (dict(source_known=(500.0, 0.0), prior_box=(-100, 100, -100, 100)), "source_known"),
        (dict(prior_box=(0, float("inf"), 0, 1)), "prior_box"),
        (dict(source_heights_m=(1.0, float("nan"))), "source_heights_m"),
        (dict(wind_average_s=float("nan")), "wind_average_s"),
        (dict(seed=-1), "seed"),
    ],
)
def test_input_checks_name_the_parameter(options, field):
    from plumetrace.insitu.inversion import validate_inversion_inputs

    with pytest.raises(InvalidInputError, match=f"^{field}:"):
        validate_inversion_inputs(**options)


def test_one_sample_names_the_file():
    from plumetrace.errors import InvalidFileError

    obs, _ = _drone(**QUIET)
    one = obs.iloc[:1].copy()
    one.attrs["source"] = "log.csv"
    with pytest.raises(InvalidFileError, match="log.csv: rows: need at least 2 samples"):
        invert_source(one)
