"""Puff plume model: mass conservation against analytic masses, geometry, validation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from plumetrace.errors import InvalidInputError
from plumetrace.simulate.plumes import DEFAULT_BOUNDARY_LAYER, KG_M2_PER_PPM_M, column_mass_kg, simulate_plume


def test_ppm_m_conversion_constant():
    # 1 ppm·m CH4 at 101325 Pa, 288.15 K: 1e-6 * p/(R T) * M = 1e-6 * 42.29 mol/m3 * 0.016043 kg/mol.
    assert KG_M2_PER_PPM_M == pytest.approx(1e-6 * 101325 / (8.314462618 * 288.15) * 0.016043, rel=1e-12)
    assert KG_M2_PER_PPM_M == pytest.approx(6.785e-7, rel=1e-3)


def test_straight_plume_mass_equals_rate_times_residence_time():
    # Wind from the west, source at column 30 of 200 (30 m pixels): released mass still in the scene is
    # Q × (distance to the east edge) / U once the plume has crossed the scene.
    rate, u, p = 500.0, 4.0, 30.0
    # (growth="taylor": no centroid meander, so puffs leave the east edge exactly at travel time distance / U)
    truth = simulate_plume(
        rate,
        u,
        270.0,
        p,
        (120, 200),
        source_yx=(60.0, 30.0),
        seed=0,
        growth="taylor",
        direction_std_deg=0.0,
        speed_std_frac=0.0,
        turbulent_jitter=0.0,
    )
    distance_m = (200 - (30 + 0.5)) * p
    analytic = rate / 3600.0 * distance_m / u
    assert column_mass_kg(truth.enhancement_ppm_m, p) == pytest.approx(analytic, rel=0.01)
    assert truth.residence_time_s == pytest.approx(distance_m / u, rel=0.01)


def test_all_mass_inside_a_large_scene_is_released_mass():
    rate, u, p = 1200.0, 2.0, 20.0
    duration = 600.0  # travels ~1200 m = 60 px from the centre of a 300 px scene
    truth = simulate_plume(rate, u, 45.0, p, (300, 300), source_yx=(150.0, 150.0), seed=4, duration_s=duration)
    assert truth.released_mass_kg == pytest.approx(rate / 3600 * duration)
    assert column_mass_kg(truth.enhancement_ppm_m, p) == pytest.approx(truth.released_mass_kg, rel=1e-4)


def test_plume_goes_downwind():
    # Wind from the north (0°) blows toward the south = increasing rows.
    truth = simulate_plume(1000.0, 3.0, 0.0, 30.0, (100, 100), source_yx=(20.0, 50.0), seed=1)
    rows, cols = np.nonzero(truth.enhancement_ppm_m > 0.05 * truth.enhancement_ppm_m.max())
    weights = truth.enhancement_ppm_m[rows, cols]
    assert np.average(rows, weights=weights) > 30
    assert abs(np.average(cols, weights=weights) - 50) < 10


def test_meander_changes_shape_not_mass():
    # 900 s at 3 m/s: ≤ 2.7 km of travel inside a 4 km × 6 km scene, so every puff stays in.
    kwargs = dict(source_yx=(200.0, 20.0), duration_s=900.0)
    a = simulate_plume(800.0, 3.0, 270.0, 10.0, (400, 600), seed=1, **kwargs)
    b = simulate_plume(800.0, 3.0, 270.0, 10.0, (400, 600), seed=2, **kwargs)
    assert not np.allclose(a.enhancement_ppm_m, b.enhancement_ppm_m)
    assert a.mass_in_scene_kg == pytest.approx(a.released_mass_kg, rel=2e-3)
    assert b.mass_in_scene_kg == pytest.approx(b.released_mass_kg, rel=2e-3)


def test_peak_scales_linearly_with_rate():
    a = simulate_plume(100.0, 3.0, 270.0, 30.0, (64, 64), seed=3)
    b = simulate_plume(300.0, 3.0, 270.0, 30.0, (64, 64), seed=3)
    # (values below 1e-3 ppm·m are zeroed, hence the absolute tolerance)
    np.testing.assert_allclose(b.enhancement_ppm_m, 3 * a.enhancement_ppm_m, rtol=1e-5, atol=3.1e-3)


def test_zero_rate_gives_empty_field():
    truth = simulate_plume(0.0, 3.0, 270.0, 30.0, (32, 32), seed=0)
    assert truth.enhancement_ppm_m.max() == 0 and truth.mass_in_scene_kg == 0


def test_truth_dict_is_json_ready():
    import json

    d = simulate_plume(100.0, 3.0, 90.0, 30.0, (32, 32), seed=0).to_dict()
    text = json.dumps(d)
    assert "rate_kg_h" in text and math.isfinite(d["peak_enhancement_ppm_m"])


@pytest.mark.parametrize(
    "args, field",
    [
        ((-1.0, 3.0, 270.0, 30.0, (32, 32)), "rate_kg_h"),
        ((100.0, 0.1, 270.0, 30.0, (32, 32)), "wind_speed_m_s"),
        ((100.0, 3.0, 400.0, 30.0, (32, 32)), "wind_dir_deg"),
        ((100.0, 3.0, 270.0, 0.0, (32, 32)), "pixel_size_m"),
        ((100.0, 3.0, 270.0, 30.0, (4, 32)), "shape"),
    ],
)
def test_bad_input_rejected(args, field):
    with pytest.raises(InvalidInputError, match=field):
        simulate_plume(*args)


def test_source_outside_grid_rejected():
    with pytest.raises(InvalidInputError, match="source_yx"):
        simulate_plume(100.0, 3.0, 270.0, 30.0, (32, 32), source_yx=(40.0, 5.0))


# --- puff growth with travel time (Taylor) in a stated boundary layer -------------------------------------------


def test_taylor_sigma_has_its_two_limits():
    from plumetrace.simulate.plumes import taylor_sigma_m

    sigma_v, t_l = 0.9, 150.0
    short = np.array([0.01, 0.1, 1.0])
    np.testing.assert_allclose(taylor_sigma_m(short, sigma_v, t_l), sigma_v * short, rtol=4e-3)
    long = np.array([1e5, 1e6])
    np.testing.assert_allclose(taylor_sigma_m(long, sigma_v, t_l), np.sqrt(2 * sigma_v**2 * t_l * long), rtol=2e-3)
    # exact middle value: t = T_L gives 2 σ² T_L² e^-1
    assert taylor_sigma_m(t_l, sigma_v, t_l) == pytest.approx(
        math.sqrt(2 * sigma_v**2 * t_l**2 * math.exp(-1)), rel=1e-9
    )


def test_turbulence_follows_the_stated_parameterisation():
    from plumetrace.simulate.plumes import BoundaryLayer, boundary_layer_turbulence

    bl = BoundaryLayer(convective_velocity_m_s=2.0, mixing_height_m=1200.0, friction_velocity_m_s=0.3)
    turb = boundary_layer_turbulence(bl, 4.0)
    assert turb.sigma_v_m_s == pytest.approx(math.sqrt(0.35 * 4.0 + 3.6 * 0.09))  # AERMOD σv² = 0.35 w*² + 3.6 u*²
    assert turb.sigma_w_m_s == pytest.approx(math.hypot(0.6 * 2.0, 1.3 * 0.3))
    assert turb.lagrangian_time_v_s == pytest.approx(0.15 * 1200.0 / turb.sigma_v_m_s)  # Hanna (1982)
    # u* from the neutral log law when not stated: 0.4 U / ln(10 / z0)
    neutral = boundary_layer_turbulence(BoundaryLayer(convective_velocity_m_s=0.0, roughness_length_m=0.1), 5.0)
    assert neutral.friction_velocity_m_s == pytest.approx(0.4 * 5.0 / math.log(100.0))
    assert neutral.sigma_v_m_s == pytest.approx(1.897 * neutral.friction_velocity_m_s, rel=1e-3)


def _puff_sigma_at(truth, distance_m: float, speed: float) -> float:
    age = truth.puffs["age_s"]
    return float(np.interp(distance_m / speed, age[::-1], truth.puffs["sigma_m"][::-1]))


def test_low_wind_plumes_spread_more_per_metre_of_travel():
    # Taylor: at the same distance downwind a plume in 1 m/s wind has had 8x longer to spread than in 8 m/s wind.
    kwargs = dict(direction_std_deg=0.0, speed_std_frac=0.0, turbulent_jitter=0.0, duration_s=3000.0)
    slow = simulate_plume(500.0, 1.0, 270.0, 30.0, (64, 128), **kwargs)
    fast = simulate_plume(500.0, 8.0, 270.0, 30.0, (64, 128), **kwargs)
    assert _puff_sigma_at(slow, 1000.0, 1.0) > 2.0 * _puff_sigma_at(fast, 1000.0, 8.0)
    # Briggs (the first model) grows with distance only: the same size whatever the wind
    b_slow = simulate_plume(500.0, 1.0, 270.0, 30.0, (64, 128), growth="briggs", **kwargs)
    b_fast = simulate_plume(500.0, 8.0, 270.0, 30.0, (64, 128), growth="briggs", **kwargs)
    assert _puff_sigma_at(b_slow, 1000.0, 1.0) == pytest.approx(_puff_sigma_at(b_fast, 1000.0, 8.0), rel=0.02)


def test_puff_sizes_are_the_taylor_law_and_vertical_spread_is_capped():
    from plumetrace.simulate.plumes import BoundaryLayer, boundary_layer_turbulence, taylor_sigma_m

    bl = BoundaryLayer(mixing_height_m=600.0)
    truth = simulate_plume(
        300.0, 3.0, 90.0, 30.0, (32, 32), boundary_layer=bl, initial_sigma_m=5.0, duration_s=4000.0, growth="taylor"
    )
    turb = boundary_layer_turbulence(bl, 3.0)
    age = truth.puffs["age_s"]
    expected = np.sqrt(25.0 + taylor_sigma_m(age, turb.sigma_v_m_s, turb.lagrangian_time_v_s) ** 2)
    np.testing.assert_allclose(truth.puffs["sigma_m"], expected, rtol=1e-12)
    assert truth.puffs["sigma_z_m"].max() == pytest.approx(600.0 / math.sqrt(3.0))
    assert truth.turbulence["sigma_v_m_s"] == pytest.approx(turb.sigma_v_m_s)


def test_meander_is_wider_at_low_wind():
    from plumetrace.simulate.plumes import DEFAULT_BOUNDARY_LAYER

    slow = simulate_plume(100.0, 1.0, 270.0, 30.0, (32, 32), seed=0)
    fast = simulate_plume(100.0, 8.0, 270.0, 30.0, (32, 32), seed=0)
    sigma_m = DEFAULT_BOUNDARY_LAYER.meander_velocity_m_s
    assert slow.turbulence["direction_std_deg"] == pytest.approx(math.degrees(math.atan(sigma_m / 1.0)))
    assert fast.turbulence["direction_std_deg"] == pytest.approx(math.degrees(math.atan(sigma_m / 8.0)))


# --- relative dispersion + centroid meander (Gifford 1982) ---------------------------------------------------------


def test_relative_sigma_is_richardson_obukhov_then_capped():
    from plumetrace.simulate.plumes import RICHARDSON_CONSTANT, relative_sigma_m

    eps = 2e-3
    t = np.array([1.0, 10.0, 100.0])
    big = np.full(3, 1e9)
    sig = relative_sigma_m(t, eps, big)
    # t^3/2 law: sigma ratio over a decade of time is 10^1.5
    np.testing.assert_allclose(sig[1:] / sig[:-1], 10**1.5, rtol=1e-12)
    assert sig[2] == pytest.approx(math.sqrt(RICHARDSON_CONSTANT * eps * 1e6 / 6.0))
    # never wider than the absolute (ensemble) spread
    np.testing.assert_allclose(relative_sigma_m(t, eps, np.ones(3)), np.minimum(sig, 1.0))
    assert relative_sigma_m(100.0, eps, 1.0) == 1.0


def test_relative_sigma_integrates_a_varying_dissipation_rate():
    from plumetrace.simulate.plumes import RICHARDSON_CONSTANT, relative_sigma_m

    t = np.linspace(0.5, 200.0, 400)
    big = np.full(t.size, 1e9)
    # constant ε as an array: the integral is the closed form g ε t³ / 6
    const = relative_sigma_m(t, np.full(t.size, 3e-3), big)
    np.testing.assert_allclose(const[-1], math.sqrt(RICHARDSON_CONSTANT * 3e-3 * 200.0**3 / 6.0), rtol=1e-4)
    # ε ∝ 1/t (a puff rising through the surface layer): ∫ (g/2) (c/t) t² dt = g c t² / 4
    c = 0.1
    varying = relative_sigma_m(t, c / t, big)
    np.testing.assert_allclose(varying[-1], math.sqrt(RICHARDSON_CONSTANT * c * 200.0**2 / 4.0), rtol=2e-3)


def test_dissipation_rate_follows_surface_layer_similarity():
    from plumetrace.simulate.plumes import BoundaryLayer, boundary_layer_turbulence, dissipation_rate_m2_s3

    # neutral: ε = u*³ / (κ z)
    neutral = BoundaryLayer(convective_velocity_m_s=0.0, mixing_height_m=500.0, friction_velocity_m_s=0.4)
    turb = boundary_layer_turbulence(neutral, 3.0)
    np.testing.assert_allclose(
        dissipation_rate_m2_s3(neutral, turb, np.array([5.0, 20.0])), 0.064 / (0.4 * np.array([5.0, 20.0]))
    )
    # unstable: u*³/(κz) (1 + 0.5 |z/L|^(2/3))^(3/2) with -L = u*³ z_i / (κ w*³)
    bl = BoundaryLayer(convective_velocity_m_s=1.5, mixing_height_m=1000.0, friction_velocity_m_s=0.3)
    turb = boundary_layer_turbulence(bl, 3.0)
    minus_l = 0.3**3 * 1000.0 / (0.4 * 1.5**3)
    z = 20.0
    expected = 0.3**3 / (0.4 * z) * (1.0 + 0.5 * (z / minus_l) ** (2.0 / 3.0)) ** 1.5
    assert dissipation_rate_m2_s3(bl, turb, z) == pytest.approx(expected, rel=1e-12)
    # free convection (u* = 0): the mixed-layer floor 0.4 w*³ / z_i (the similarity law gives 0.35 w*³ / z_i)
    free = BoundaryLayer(convective_velocity_m_s=2.0, mixing_height_m=1000.0, friction_velocity_m_s=0.0)
    assert dissipation_rate_m2_s3(free, boundary_layer_turbulence(free, 3.0), 300.0) == pytest.approx(
        0.4 * 8.0 / 1000.0
    )


@pytest.mark.parametrize("growth", ["inertial", "gifford"])
def test_gifford_puffs_are_narrower_and_split_the_taylor_variance_exactly(growth):
    from plumetrace.simulate.plumes import boundary_layer_turbulence, taylor_sigma_m

    kwargs = dict(
        direction_std_deg=0.0, speed_std_frac=0.0, turbulent_jitter=0.0, duration_s=600.0, initial_sigma_m=2.0
    )
    truth = simulate_plume(50.0, 3.0, 270.0, 10.0, (32, 96), seed=3, growth=growth, **kwargs)
    turb = boundary_layer_turbulence(DEFAULT_BOUNDARY_LAYER, 3.0)
    age = truth.puffs["age_s"]
    sigma_t2 = taylor_sigma_m(age, turb.sigma_v_m_s, turb.lagrangian_time_v_s) ** 2
    # relative + centroid variance = ensemble (Taylor) variance: the mean plume is unchanged
    np.testing.assert_allclose(
        truth.puffs["sigma_m"] ** 2 + truth.puffs["centroid_sigma_m"] ** 2, 4.0 + sigma_t2, rtol=1e-10
    )
    # near the source (age 60 s) a puff is far narrower than the ensemble plume
    young = np.argmin(np.abs(age - 60.0))
    assert truth.puffs["sigma_m"][young] < 0.3 * math.sqrt(4.0 + sigma_t2[young])
    # straight mean wind: the centroid offsets are the only lateral displacement
    lateral = truth.puffs["y_m"] - (truth.source_yx[0] + 0.5) * 10.0
    np.testing.assert_allclose(lateral, truth.puffs["centroid_dy_m"], atol=1e-9)


@pytest.mark.parametrize("growth", ["inertial", "gifford"])
def test_gifford_centroid_offsets_have_the_stated_spread_over_seeds(growth):
    # across realisations, offsets of old puffs scatter with σ_c (ensemble consistency of the meander)
    kwargs = dict(direction_std_deg=0.0, speed_std_frac=0.0, turbulent_jitter=0.0, duration_s=300.0, growth=growth)
    offsets, sigma_c = [], None
    for seed in range(300):
        truth = simulate_plume(10.0, 4.0, 270.0, 30.0, (8, 64), seed=seed, **kwargs)
        offsets.append(truth.puffs["centroid_dy_m"][0])
        sigma_c = truth.puffs["centroid_sigma_m"][0]
    z = np.asarray(offsets) / sigma_c
    assert abs(z.mean()) < 0.2  # 0.2 ≈ 3.5 standard errors of the mean for 300 draws
    assert 0.85 < z.std() < 1.15


def test_gifford_conserves_mass_with_meander():
    kwargs = dict(duration_s=400.0)
    truth = simulate_plume(200.0, 2.0, 300.0, 20.0, (200, 200), seed=5, **kwargs)
    assert truth.growth == "inertial"
    # 200 x 200 x 20 m: every puff (at most ~800 m of travel plus a few σ_c) stays well inside the 4 km scene
    assert truth.mass_in_scene_kg == pytest.approx(truth.released_mass_kg, rel=1e-4)
    assert column_mass_kg(truth.enhancement_ppm_m, 20.0) == pytest.approx(truth.mass_in_scene_kg, rel=1e-5)


@pytest.mark.parametrize(
    "options, field",
    [
        ({"growth": "gaussian"}, "growth"),
        ({"boundary_layer": "BL"}, "mixing_height_m"),
        ({"meander_time_s": 0.0}, "meander_time_s"),
        ({"direction_std_deg": -1.0}, "direction_std_deg"),
    ],
)
def test_bad_turbulence_options_rejected(options, field):
    from plumetrace.simulate.plumes import BoundaryLayer

    if options.get("boundary_layer") == "BL":
        options = {"boundary_layer": BoundaryLayer(mixing_height_m=-5.0)}
    with pytest.raises(InvalidInputError, match=field):
        simulate_plume(100.0, 3.0, 270.0, 30.0, (32, 32), **options)


# --- multi-scale (inertial-range) centroid process: growth="inertial" -------------------------------------------


def test_inertial_time_scales_are_octaves_with_kolmogorov_weights():
    from plumetrace.simulate.plumes import inertial_time_scales

    tau, weights = inertial_time_scales(0.5, 160.0)
    assert tau[-1] == pytest.approx(160.0) and tau[0] <= 0.5 < 2 * tau[0]
    np.testing.assert_allclose(tau[1:] / tau[:-1], 2.0)
    assert weights.sum() == pytest.approx(1.0, rel=1e-12)
    # w ∝ τ^(2/3): each octave up carries 2^(2/3) times the variance
    np.testing.assert_allclose(weights[1:] / weights[:-1], 2 ** (2 / 3), rtol=1e-12)
    # T_L no longer than the release interval: a single OU component (the Gifford process)
    tau1, w1 = inertial_time_scales(200.0, 160.0)
    assert tau1.tolist() == [160.0] and w1.tolist() == [1.0]


def test_inertial_structure_function_follows_the_two_thirds_law():
    from plumetrace.simulate.plumes import centroid_structure_function, inertial_time_scales

    t_l = 160.0
    tau, weights = inertial_time_scales(0.01, t_l)  # a wide range: the law holds away from both ends
    lags = np.logspace(-1, 0.5, 8)  # 0.1 - 3 s, deep inside 0.01 s - 160 s
    d = centroid_structure_function(lags, tau, weights)
    slope = np.polyfit(np.log(lags), np.log(d), 1)[0]
    assert slope == pytest.approx(2 / 3, abs=0.03)
    # variance 1: D → 2 far beyond T_L; at short lags far above the OU's linear 2Δ/T_L
    assert centroid_structure_function(50 * t_l, tau, weights) == pytest.approx(2.0, abs=1e-6)
    assert centroid_structure_function(1.0, tau, weights) > 10 * (2 * 1.0 / t_l)


def test_inertial_centroid_process_has_the_stated_structure_over_seeds():
    # the offsets drawn by simulate_plume: unit variance (mean plume unchanged) and the analytic D(Δ) between puffs
    from plumetrace.simulate.plumes import (
        boundary_layer_turbulence,
        centroid_structure_function,
        inertial_time_scales,
    )

    kwargs = dict(direction_std_deg=0.0, speed_std_frac=0.0, turbulent_jitter=0.0, duration_s=300.0)
    etas = []
    for seed in range(200):
        truth = simulate_plume(10.0, 4.0, 270.0, 30.0, (8, 64), seed=seed, **kwargs)
        sigma_c = truth.puffs["centroid_sigma_m"]
        good = sigma_c > 0
        etas.append(truth.puffs["centroid_dy_m"][good] / sigma_c[good])
    eta = np.asarray(etas)
    dt = 300.0 / truth.puffs["age_s"].size
    tau, weights = inertial_time_scales(dt, boundary_layer_turbulence(DEFAULT_BOUNDARY_LAYER, 4.0).lagrangian_time_v_s)
    assert 0.85 < eta.var() < 1.15
    for lag in (1, 4, 16):
        measured = float(np.mean((eta[:, lag:] - eta[:, :-lag]) ** 2))
        assert measured == pytest.approx(float(centroid_structure_function(lag * dt, tau, weights)), rel=0.15)
    # the round-3 process (one OU of time scale T_L) is far smoother between neighbouring puffs
    gifford = simulate_plume(10.0, 4.0, 270.0, 30.0, (8, 64), seed=0, growth="gifford", **kwargs)
    g = gifford.puffs["centroid_dy_m"][1:] / gifford.puffs["centroid_sigma_m"][1:]
    assert np.mean(np.diff(g) ** 2) < 0.3 * np.mean((eta[:, 1:] - eta[:, :-1]) ** 2)


@pytest.mark.parametrize("bad", [(0.0, 10.0, 2.0), (1.0, -1.0, 2.0), (1.0, 10.0, 1.0)])
def test_inertial_time_scales_reject_bad_input(bad):
    from plumetrace.simulate.plumes import inertial_time_scales

    with pytest.raises(InvalidInputError):
        inertial_time_scales(bad[0], bad[1], ratio=bad[2])
