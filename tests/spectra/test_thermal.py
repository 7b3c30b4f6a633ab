"""Planck's law, brightness temperature, the plume radiance model, the band-model atmosphere and emissivities."""

from __future__ import annotations

import numpy as np
import pytest

from plumetrace.spectra.emissivity import CLASS_NAMES, emissivity_cube, emissivity_spectrum, random_class_map
from plumetrace.spectra.lwir_atmosphere import ThermalAtmosphere, atmosphere_terms
from plumetrace.spectra.thermal import (
    at_sensor_radiance,
    brightness_temperature,
    nedt_to_nesr,
    planck_derivative,
    planck_radiance,
    plume_delta_radiance,
    plume_signature,
    plume_transmittance,
    surface_leaving_radiance,
)

WL = np.linspace(7500.0, 12000.0, 128)


def test_planck_known_value_10um_300k():
    # Hand value: c1 = 2hc² = 1.191043e-16 W m² sr⁻¹, c2 = hc/k = 1.438777e-2 m K; at λ = 10 µm, T = 300 K:
    # x = c2/(λT) = 4.795923, eˣ − 1 = 120.0160, B = c1 λ⁻⁵ / (eˣ − 1) = 1.191043e9 / 120.0160
    # = 9.92403e6 W m⁻² sr⁻¹ m⁻¹ = 9.92403 W m⁻² sr⁻¹ µm⁻¹ = 0.992403 µW cm⁻² sr⁻¹ nm⁻¹.
    assert planck_radiance(10_000.0, 300.0) == pytest.approx(0.992403, rel=1e-5)
    # Wien's displacement law: the peak of B(λ, 300 K) is at 2897.77 µm K / 300 K = 9.659 µm.
    wl = np.linspace(8000.0, 11000.0, 30001)
    assert wl[np.argmax(planck_radiance(wl, 300.0))] == pytest.approx(9659.2, abs=0.5)


def test_brightness_temperature_round_trip_and_derivative():
    temperatures = np.array([250.0, 290.0, 300.0, 330.0])[:, None]
    radiance = planck_radiance(WL, temperatures)
    np.testing.assert_allclose(brightness_temperature(WL, radiance), np.broadcast_to(temperatures, radiance.shape),
                               atol=1e-9)  # fmt: skip
    numeric = (planck_radiance(WL, 300.01) - planck_radiance(WL, 299.99)) / 0.02
    np.testing.assert_allclose(planck_derivative(WL, 300.0), numeric, rtol=1e-6)
    assert np.isnan(brightness_temperature(10_000.0, -1.0))
    # NEdT 0.15 K at 300 K, 10 µm: 0.15 × ∂B/∂T = 0.15 × 0.01587 = 0.00238 µW cm⁻² sr⁻¹ nm⁻¹.
    assert nedt_to_nesr(10_000.0, 0.15) == pytest.approx(0.15 * planck_derivative(10_000.0, 300.0))
    assert nedt_to_nesr(10_000.0, 0.15) == pytest.approx(0.00238, rel=0.01)


def test_plume_delta_radiance_against_hand_value():
    alpha = np.array([[2.0e-3], [0.0]])  # two gases, one channel at 10 µm
    columns = np.array([100.0, 50.0])  # ppm·m
    background = planck_radiance(10_000.0, 300.0)
    delta = plume_delta_radiance(np.array([10_000.0]), alpha, columns, 305.0, np.array([background]), 0.9)
    expected = 0.9 * (planck_radiance(10_000.0, 305.0) - background) * (1 - np.exp(-0.2))
    assert delta[0] == pytest.approx(expected, rel=1e-12)
    linear = plume_delta_radiance(np.array([10_000.0]), alpha, columns, 305.0, np.array([background]), 0.9, linear=True)
    assert linear[0] == pytest.approx(expected / (1 - np.exp(-0.2)) * 0.2, rel=1e-12)
    colder = plume_delta_radiance(np.array([10_000.0]), alpha, columns, 295.0, np.array([background]), 0.9)
    assert colder[0] < 0 < delta[0]  # emission when warmer, absorption when colder


def test_blind_pixel_has_no_signal():
    alpha = np.abs(np.sin(WL / 300.0))[None, :] * 1e-3
    background = planck_radiance(WL, 301.5)
    delta = plume_delta_radiance(WL, alpha, np.array([500.0]), 301.5, background, 0.8)
    np.testing.assert_allclose(delta, 0.0, atol=1e-15)
    np.testing.assert_allclose(plume_signature(WL, alpha, 301.5, background, 0.8), 0.0, atol=1e-15)


def test_signature_and_at_sensor_radiance_agree_with_delta():
    rng = np.random.default_rng(0)
    alpha = rng.uniform(0, 1e-3, size=(3, WL.size))
    columns = np.array([[10.0, 0.0, 5.0], [0.0, 20.0, 0.0]])  # two pixels
    background = surface_leaving_radiance(WL, np.full((2, WL.size), 0.96), np.array([300.0, 310.0]), 0.2)
    tau, path = 0.85, 0.1
    t_plume = np.array([304.0, 306.0])
    exact = at_sensor_radiance(
        background, tau, path, plume_transmittance_=plume_transmittance(alpha, columns),
        plume_radiance=planck_radiance(WL, t_plume[:, None]),
    ) - at_sensor_radiance(background, tau, path)  # fmt: skip
    np.testing.assert_allclose(exact, plume_delta_radiance(WL, alpha, columns, t_plume, background, tau), rtol=1e-10)
    linear = np.einsum("pg,pgb->pb", columns, plume_signature(WL, alpha, t_plume, background, tau))
    np.testing.assert_allclose(linear, plume_delta_radiance(WL, alpha, columns, t_plume, background, tau, linear=True))
    # Thin plume: the linear form is within Σαc/2 (relative) of the exact one.
    assert np.max(np.abs(linear - exact) / np.abs(exact).max()) < 0.02


def test_surface_leaving_radiance_blackbody_and_mirror():
    down = np.full(WL.size, 0.3)
    np.testing.assert_allclose(surface_leaving_radiance(WL, 1.0, 300.0, down), planck_radiance(WL, 300.0))
    np.testing.assert_allclose(surface_leaving_radiance(WL, 0.0, 300.0, down), down)


def test_atmosphere_terms_are_physical():
    terms = atmosphere_terms(WL, ThermalAtmosphere(water_vapour_cm=2.0, air_temperature_k=295.0))
    assert np.all((terms.transmittance > 0) & (terms.transmittance <= 1))
    window = (WL > 10_000) & (WL < 11_000)
    assert terms.transmittance[window].min() > 0.8  # the 10-11 µm window with 2 cm of water, 63 % below 2 km
    assert terms.transmittance[0] < terms.transmittance[window].min() - 0.3  # the 6.3 µm band closes it below 8 µm
    # Path radiance and sky radiance are below the blackbody at the air temperature (emissivity < 1).
    assert np.all(terms.path_radiance < planck_radiance(WL, 295.0))
    assert np.all(terms.downwelling_radiance < planck_radiance(WL, 295.0))
    # Ozone at 9.6 µm brightens the clear-sky window.
    o3 = WL[np.argmin(np.abs(WL - 9600))]
    no_o3 = atmosphere_terms(np.array([o3]), ThermalAtmosphere(water_vapour_cm=2.0, ozone_optical_depth=0.0))
    with_o3 = atmosphere_terms(np.array([o3]), ThermalAtmosphere(water_vapour_cm=2.0))
    assert with_o3.downwelling_radiance[0] > no_o3.downwelling_radiance[0]
    dry = atmosphere_terms(WL, ThermalAtmosphere(water_vapour_cm=0.0, ozone_optical_depth=0.0))
    np.testing.assert_allclose(dry.transmittance, 1.0)
    np.testing.assert_allclose(dry.downwelling_radiance, 0.0, atol=1e-15)


def test_emissivity_features_at_published_positions():
    wl = np.linspace(7500.0, 12000.0, 901)
    silicate = emissivity_spectrum("silicate", wl)
    minima = wl[1:-1][(silicate[1:-1] < silicate[:-2]) & (silicate[1:-1] < silicate[2:])]
    # Quartz reststrahlen doublet: 8.25 and 9.15 µm; carbonate ν2 feature 11.25 µm.
    np.testing.assert_allclose(np.sort(minima), [8250.0, 9150.0], atol=60.0)
    carbonate = emissivity_spectrum("carbonate", wl)
    assert wl[np.argmin(carbonate)] == pytest.approx(11_250.0, abs=10.0)
    assert np.ptp(emissivity_spectrum("vegetation", wl)) == 0 and emissivity_spectrum("water", wl)[0] == 0.99
    assert 0.92 <= emissivity_spectrum("built", wl).max() <= 0.95


def test_class_map_and_emissivity_cube():
    rng = np.random.default_rng(3)
    classes = random_class_map((48, 40), rng)
    assert classes.shape == (48, 40) and set(np.unique(classes)) <= set(range(len(CLASS_NAMES)))
    assert len(np.unique(classes)) >= 3
    cube = emissivity_cube(classes, WL, rng)
    assert cube.shape == (48, 40, WL.size) and np.all((cube >= 0.5) & (cube <= 0.995))
    veg = cube[classes == CLASS_NAMES.index("vegetation")]
    assert abs(veg.mean() - 0.98) < 0.005 and np.ptp(veg, axis=1).max() < 1e-12  # grey
