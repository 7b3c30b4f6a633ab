"""The steady Gaussian plume family against its known truth: flux, mass, Briggs spread, edge cuts, substitution."""

from __future__ import annotations

import math

import numpy as np
import pytest

from plumetrace.errors import InvalidInputError
from plumetrace.simulate.gaussian_plume import (
    BRIGGS_RURAL,
    briggs_sigma_y_m,
    briggs_sigma_z_m,
    plume_height_wind_m_s,
    simulate_gaussian_plume,
)
from plumetrace.simulate.plumes import KG_M2_PER_PPM_M, column_mass_kg

STRAIGHT = {"meander_std_deg": 0.0, "wind_exponent": 0.0}


def _flux_ratio(truth, col: int, rate_kg_h: float, speed: float) -> float:
    """Column integrated across the wind (a west wind: down a pixel column) over Q/U."""
    p = truth.pixel_size_m
    kg_per_m = float(truth.enhancement_ppm_m[:, col].astype(np.float64).sum()) * KG_M2_PER_PPM_M * p
    return kg_per_m / (rate_kg_h / 3600.0 / speed)


@pytest.mark.parametrize(("cls", "tolerance"), [("A", 0.02), ("D", 0.005), ("F", 0.005)])
def test_cross_wind_integral_is_q_over_u(cls, tolerance):
    # 3.6 km plume from column 20 (60 m pixels), wholly inside a 160-row grid across the wind
    truth = simulate_gaussian_plume(
        1000.0, 3.0, 270.0, 60.0, (160, 120), (80.0, 20.0), stability_class=cls, duration_s=1200.0, **STRAIGHT
    )
    for col in (23, 30, 45, 60):  # more than 2 σ_y before the plume's end at column 80
        assert _flux_ratio(truth, col, 1000.0, 3.0) == pytest.approx(1.0, abs=tolerance)


def test_uncut_plume_mass_is_rate_times_residence_time():
    truth = simulate_gaussian_plume(720.0, 2.0, 270.0, 30.0, (120, 120), (60.0, 20.0), duration_s=1000.0, seed=4)
    assert truth.released_mass_kg == pytest.approx(720.0 / 3600.0 * 1000.0)
    assert truth.mass_in_scene_kg == pytest.approx(truth.released_mass_kg, rel=1e-4)
    assert truth.residence_time_s == pytest.approx(1000.0, rel=1e-4)
    assert column_mass_kg(truth.enhancement_ppm_m, 30.0) == pytest.approx(truth.mass_in_scene_kg, rel=1e-5)


def test_plume_height_wind_sets_the_flux():
    # with the class-D profile the transport speed grows with distance and the cross-wind integral is Q / U(x)
    truth = simulate_gaussian_plume(
        1000.0, 3.0, 270.0, 60.0, (160, 120), (80.0, 20.0), duration_s=1200.0, meander_std_deg=0.0
    )
    for col in (30, 60):
        x = (col - 20) * 60.0
        speed = float(plume_height_wind_m_s(3.0, x, "D"))
        assert speed != pytest.approx(3.0, rel=0.02)
        assert _flux_ratio(truth, col, 1000.0, speed) == pytest.approx(1.0, abs=0.01)


def test_sigma_y_follows_briggs():
    x = np.array([100.0, 1000.0, 10_000.0])
    np.testing.assert_allclose(briggs_sigma_y_m(x, "D"), 0.08 * x / np.sqrt(1 + 1e-4 * x))
    np.testing.assert_allclose(briggs_sigma_z_m(x, "F"), 0.016 * x / (1 + 3e-4 * x))
    widths = [float(briggs_sigma_y_m(1000.0, c)) for c in "ABCDEF"]
    assert widths == sorted(widths, reverse=True)
    # the rendered plume's cross-wind spread at 2.4 km (class B, 30 m pixels) is Briggs' σ_y
    truth = simulate_gaussian_plume(
        500.0, 4.0, 270.0, 30.0, (200, 140), (100.0, 10.0), stability_class="B", duration_s=1000.0, **STRAIGHT
    )
    profile = truth.enhancement_ppm_m[:, 90].astype(np.float64)
    rows = np.arange(profile.size)
    centre = float(np.sum(rows * profile) / profile.sum())
    spread = math.sqrt(float(np.sum((rows - centre) ** 2 * profile) / profile.sum()) - 1 / 12) * 30.0
    expected = math.hypot(float(briggs_sigma_y_m(80 * 30.0, "B")), 9.0)
    assert spread == pytest.approx(expected, rel=0.03)
    assert centre == pytest.approx(100.0, abs=0.05)


def test_edge_cut_and_meander():
    cut = simulate_gaussian_plume(1000.0, 3.0, 270.0, 60.0, (96, 96), (48.0, 80.0), duration_s=3000.0, **STRAIGHT)
    assert cut.mass_in_scene_kg < 0.2 * cut.released_mass_kg  # 15 px to the edge of a 50 km plume
    a = simulate_gaussian_plume(1000.0, 2.0, 270.0, 60.0, (96, 96), seed=1)
    b = simulate_gaussian_plume(1000.0, 2.0, 270.0, 60.0, (96, 96), seed=2)
    assert a.turbulence["direction_std_deg"] == pytest.approx(math.degrees(math.atan(0.3 / 2.0)))
    assert np.abs(a.puffs["direction_offset_deg"]).max() > 1.0
    assert not np.allclose(a.enhancement_ppm_m, b.enhancement_ppm_m)
    assert a.growth == "gaussian" and set(BRIGGS_RURAL) == set("ABCDEF")


def test_bad_input_names_the_field():
    with pytest.raises(InvalidInputError, match="stability_class"):
        simulate_gaussian_plume(10.0, 3.0, 270.0, 60.0, (32, 32), stability_class="G")
    with pytest.raises(InvalidInputError, match="meander_std_deg"):
        simulate_gaussian_plume(10.0, 3.0, 270.0, 60.0, (32, 32), meander_std_deg=-1.0)
    with pytest.raises(InvalidInputError, match="source_yx"):
        simulate_gaussian_plume(10.0, 3.0, 270.0, 60.0, (32, 32), (40.0, 3.0))


def test_substitutes_in_simulate_scene():
    from plumetrace.simulate.scene import simulate_scene

    options = {"family": "gaussian", "stability_class": "C", "meander_std_deg": 0.0}
    scene, truth = simulate_scene(sensor="emit", shape=(32, 32), rate_kg_h=2000.0, seed=3, plume_options=options)
    assert truth.growth == "gaussian" and truth.stability_class == "C"
    assert scene.radiance.shape[:2] == (32, 32)
    with pytest.raises(InvalidInputError, match="family"):
        simulate_scene(sensor="emit", shape=(32, 32), rate_kg_h=10.0, plume_options={"family": "lagrangian"})
