"""Forward model: analytic mass conservation, profile normalisation, beam quadrature."""

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import gamma

from plumetrace.errors import InvalidInputError
from plumetrace.insitu.dispersion import (
    Meteorology, beam_coupling, briggs_sigmas, mean_plume_height, plume_coupling, psi_m, shape_parameter)


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
    metn = Meteorology(4.0, 180.0, None, np.full(t.size, -30.0), np.full(t.size, 10.0), wind_height_m=2.0,
                       roughness_length_m=0.01)
    dense = np.trapezoid(plume_coupling(pts, [0, 0, 0.5], metn), t)
    assert beam[0] == pytest.approx(dense, rel=1e-3)


def test_upwind_receptors_see_nothing():
    met = Meteorology(4.0, 270.0, "D", wind_height_m=10.0, roughness_length_m=0.03)
    c = plume_coupling([[-100.0, 0.0, 2.0], [100.0, 0.0, 2.0]], [0, 0, 2.0], met)
    assert c[0] == 0.0 and c[1] > 0
