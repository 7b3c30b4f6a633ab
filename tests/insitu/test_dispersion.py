"""Forward model: analytic mass conservation, profile normalisation, beam quadrature."""

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import gamma

from plumetrace.errors import InvalidInputError
from plumetrace.insitu.dispersion import (
    Meteorology,
    beam_coupling,
    briggs_sigmas,
    mean_plume_height,
    plume_coupling,
    psi_m,
    shape_parameter,
    wind_profile,
)


@pytest.mark.parametrize("cls", ["B", "D", "F"])
def test_briggs_plume_carries_q_through_a_downwind_plane(cls):
    # wind from the west (270): plume travels east; flux through x = 300 m must equal Q (ground reflection)
    u = 5.0
    y = np.linspace(-300, 300, 1201)
    z = np.linspace(0, 200, 801)
    Y, Z = np.meshgrid(y, z)
    rec = np.column_stack([np.full(Y.size, 300.0), Y.ravel(), Z.ravel()])
    met = Meteorology(u, 270.0, cls, wind_height_m=10.0, roughness_length_m=0.03)
    c = plume_coupling(rec, [0.0, 0.0, 10.0], met).reshape(Y.shape)  # mg/m3 per g/s
    flux_g_s = np.trapezoid(np.trapezoid(c * u, z, axis=0), y) / 1000.0
    assert flux_g_s == pytest.approx(1.0, rel=0.02)


def test_briggs_sigma_table_values():
    # Briggs (1973) open country, D at 1 km: sy = 0.08*1000/sqrt(1.1), sz = 0.06*1000/sqrt(2.5)
    sy, sz = briggs_sigmas(1000.0, "D")
    assert sy == pytest.approx(76.28, rel=1e-3)
    assert sz == pytest.approx(37.95, rel=1e-3)


def test_unknown_class_is_rejected():
    with pytest.raises(InvalidInputError, match="stability"):
        briggs_sigmas(100.0, "G")


@pytest.mark.parametrize("s", [1.0, 1.5, 2.0])
def test_van_ulden_profile_is_normalised_with_mean_height_zbar(s):
    zbar = 3.0
    A, B = s * gamma(2 / s) / gamma(1 / s) ** 2, gamma(2 / s) / gamma(1 / s)
    f = lambda z: A / zbar * np.exp(-((B * z / zbar) ** s))  # noqa: E731
    assert quad(f, 0, np.inf)[0] == pytest.approx(1.0, rel=1e-6)
    assert quad(lambda z: z * f(z), 0, np.inf)[0] == pytest.approx(zbar, rel=1e-6)


def test_stability_functions_and_plume_growth_order():
    assert psi_m(0.0) == pytest.approx(0.0)
    assert psi_m(0.2) == pytest.approx(-1.0)  # Dyer: -5 zeta
    x = np.array([100.0, 400.0])
    z_unstable = mean_plume_height(x, obukhov_length_m=-20, roughness_length_m=0.01)
    z_neutral = mean_plume_height(x, obukhov_length_m=1e9, roughness_length_m=0.01)
    z_stable = mean_plume_height(x, obukhov_length_m=20, roughness_length_m=0.01)
    assert np.all(z_unstable > z_neutral) and np.all(z_neutral > z_stable)
    assert np.all(np.diff(z_neutral) > 0)
    assert shape_parameter(np.array([2.0]), obukhov_length_m=50, roughness_length_m=0.01)[0] == 1.5


def test_beam_average_matches_dense_point_average():
    met = Meteorology(4.0, 180.0, None, -30.0, 10.0, wind_height_m=2.0, roughness_length_m=0.01)
    a, b = np.array([[-60.0, 150.0, 1.5]]), np.array([[60.0, 150.0, 1.5]])
    beam = beam_coupling(a, b, [0, 0, 0.5], met, n_nodes=24)
    t = np.linspace(0, 1, 4001)
    pts = a + t[:, None] * (b - a)
    metn = Meteorology(
        4.0, 180.0, None, np.full(t.size, -30.0), np.full(t.size, 10.0), wind_height_m=2.0, roughness_length_m=0.01
    )
    dense = np.trapezoid(plume_coupling(pts, [0, 0, 0.5], metn), t)
    assert beam[0] == pytest.approx(dense, rel=1e-3)


def test_upwind_receptors_see_nothing():
    met = Meteorology(4.0, 270.0, "D", wind_height_m=10.0, roughness_length_m=0.03)
    c = plume_coupling([[-100.0, 0.0, 2.0], [100.0, 0.0, 2.0]], [0, 0, 2.0], met)
    assert c[0] == 0.0 and c[1] > 0


@pytest.mark.parametrize("L", [-12.0, -150.0, 1e9, 40.0])
def test_tabulated_similarity_plume_matches_the_published_formulas(L):
    # direct evaluation of van Ulden z̄(x), shape s, A, B and ū = u(0.6 z̄) at receptors straight downwind
    z0, h, zr, u2, sth = 0.006, 0.46, 1.5, 5.0, 12.0
    x = np.array([20.0, 55.0, 140.0, 390.0, 790.0])
    zbar = mean_plume_height(x, obukhov_length_m=L, roughness_length_m=z0, source_height_m=h)
    s = shape_parameter(zbar, obukhov_length_m=L, roughness_length_m=z0)
    A, B = s * gamma(2 / s) / gamma(1 / s) ** 2, gamma(2 / s) / gamma(1 / s)
    ubar = wind_profile(0.6 * zbar, wind_speed_m_s=u2, wind_height_m=2.0, obukhov_length_m=L, roughness_length_m=z0)
    sy = np.deg2rad(sth) * x / (1 + 0.9 * np.sqrt(x / ubar / 1000.0))
    expected = 1000.0 * A / zbar * np.exp(-((B * zr / zbar) ** s)) / (np.sqrt(2 * np.pi) * sy * ubar)
    met = Meteorology(u2, 270.0, None, L, sth, wind_height_m=2.0, roughness_length_m=z0)
    got = plume_coupling(np.column_stack([x, np.zeros(5), np.full(5, zr)]), [0.0, 0.0, h], met)
    np.testing.assert_allclose(got, expected, rtol=1e-3)


def test_sigma_y_scale_keeps_mass_and_widens_the_plume():
    met = Meteorology(4.0, 270.0, "D", wind_height_m=10.0, roughness_length_m=0.03)
    y = np.linspace(-400, 400, 4001)
    rec = np.column_stack([np.full(y.size, 300.0), y, np.full(y.size, 2.0)])
    c = plume_coupling(rec, [0.0, 0.0, 2.0], met, sigma_y_scale=[1.0, 2.0])
    assert c.shape == (2, y.size)
    # crosswind integral unchanged, peak halved (Gaussian lateral profile)
    assert np.trapezoid(c[1], y) == pytest.approx(np.trapezoid(c[0], y), rel=1e-4)
    assert c[1].max() == pytest.approx(0.5 * c[0].max(), rel=1e-3)
    with pytest.raises(InvalidInputError, match="sigma_y_scale"):
        plume_coupling(rec, [0.0, 0.0, 2.0], met, sigma_y_scale=0.0)


def test_mean_plume_height_matches_prairie_grass_towers_in_neutral_and_stable_air():
    # independent real data: Barad Table 5.3 vertical profiles at 100 m; z̄ from van Ulden (1978) with the run's L
    from pathlib import Path

    from plumetrace.insitu.prairie_grass import (
        ROUGHNESS_LENGTH_M,
        load_prairie_grass,
        load_tower_profiles,
        tower_mean_height,
    )

    pg = Path(__file__).resolve().parents[1] / "data" / "prairie_grass"
    runs = {r.run: r for r in load_prairie_grass(pg) if r.has_meteorology}
    ratios = []
    for run, prof in load_tower_profiles(pg).items():
        r = runs.get(run)
        zobs = tower_mean_height(prof)
        if r is None or not np.isfinite(zobs) or not 0 < r.obukhov_length_m < 500:  # stable and near-neutral
            continue
        zmod = mean_plume_height(
            100.0,
            obukhov_length_m=r.obukhov_length_m,
            roughness_length_m=ROUGHNESS_LENGTH_M,
            source_height_m=r.source_height_m,
        )
        ratios.append(float(zmod) / zobs)
    assert len(ratios) >= 8
    assert 0.8 <= np.median(ratios) <= 1.25
