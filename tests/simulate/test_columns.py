"""Push-broom column effects: shifted responses against analytic line convolution, smile rendering against the exact
per-column convolution, gain statistics as specified, and the option off leaves scenes untouched."""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

from plumetrace.errors import InvalidInputError
from plumetrace.simulate.columns import column_gain, column_model, shift_nodes, smile_profile_nm
from plumetrace.simulate.radiance import ForwardModel
from plumetrace.simulate.scene import simulate_scene
from plumetrace.simulate.sensors import ColumnEffects, get_sensor

FWHM_TO_SIGMA = 1.0 / (2.0 * math.sqrt(2.0 * math.log(2.0)))


@pytest.mark.parametrize("shift_nm", [-0.4, 0.0, 0.25, 1.3])
def test_shifted_response_reproduces_analytic_line_shift(shift_nm):
    # A Gaussian line (σ_l) seen through a Gaussian band (σ_r) centred at c + δ: amplitude σ_l/σ·exp(-(c+δ-λ0)²/2σ²)
    # with σ² = σ_l² + σ_r² (convolution of two Gaussians).
    centres = np.linspace(2190.0, 2210.0, 9)
    fwhm = np.full(centres.size, 8.5)
    model = ForwardModel(centres, fwhm, solar_zenith_deg=30.0).shifted(shift_nm)
    line_nm, sigma_line = 2201.3, 2.0
    grid = model.grid_nm
    spectrum = np.exp(-0.5 * ((grid - line_nm) / sigma_line) ** 2)
    band = model.response @ spectrum
    sigma_r = 8.5 * FWHM_TO_SIGMA
    total = math.hypot(sigma_line, sigma_r)
    expected = sigma_line / total * np.exp(-0.5 * ((centres + shift_nm - line_nm) / total) ** 2)
    np.testing.assert_allclose(band, expected, atol=2e-4)
    # The response centroids move by exactly the shift.
    centroid = (model.response @ grid) / np.asarray(model.response.sum(axis=1)).ravel()
    np.testing.assert_allclose(centroid, centres + shift_nm, atol=2e-3)


def test_smile_profile_parabola():
    shift = smile_profile_nm(101, 0.37)
    assert shift.max() - shift.min() == pytest.approx(0.37, rel=1e-12)
    assert shift.mean() == pytest.approx(0.0, abs=1e-12)
    assert shift[0] == pytest.approx(shift[-1]) and np.argmin(shift) == 50


def test_shift_nodes_bracket_each_shift():
    shift = smile_profile_nm(64, 0.37)
    nodes, index, frac = shift_nodes(shift, node_step_nm=0.1)
    assert np.all(np.diff(nodes) <= 0.1 + 1e-12)
    rebuilt = nodes[index] + frac * (nodes[index + 1] - nodes[index])
    np.testing.assert_allclose(rebuilt, shift, atol=1e-6)


def test_gain_statistics_as_specified():
    rng = np.random.default_rng(4)
    only_random = column_gain(600, 200, random_sigma=0.002, smooth_sigma=0.0, rng=rng) - 1.0
    # 120,000 i.i.d. draws: the sample σ is within 1 % of 0.2 % (its standard error is 0.2 %).
    assert only_random.std() == pytest.approx(0.002, rel=0.01)
    assert abs(only_random.mean()) < 5 * 0.002 / math.sqrt(only_random.size)
    only_smooth = column_gain(600, 200, random_sigma=0.0, smooth_sigma=0.005, rng=rng) - 1.0
    assert math.sqrt(np.mean(only_smooth**2)) == pytest.approx(0.005, rel=1e-9)
    # Smooth: neighbouring columns differ far less than the pattern's amplitude.
    assert np.abs(np.diff(only_smooth, axis=0)).max() < 0.1 * np.abs(only_smooth).max()


def test_column_model_is_seeded():
    effects = get_sensor("emit").column_effects
    a = column_model(50, 285, effects, seed=7)
    b = column_model(50, 285, effects, seed=7)
    c = column_model(50, 285, effects, seed=8)
    np.testing.assert_array_equal(a.gain, b.gain)
    assert not np.array_equal(a.gain, c.gain)


def _flat_reflectance(ny: int, nx: int, wavelength_nm: np.ndarray) -> xr.DataArray:
    return xr.DataArray(
        np.ones((ny, nx, wavelength_nm.size), dtype=np.float32),
        dims=("y", "x", "band"),
        coords={"wavelength": ("band", wavelength_nm)},
    )


def test_smile_rendering_matches_exact_per_column_convolution():
    # Reflectance 1 everywhere, no noise, no gain error: column c must carry the unit radiance of the sensor with its
    # band centres shifted by δ(c), computed exactly (no node interpolation).
    sensor = get_sensor("emit")
    effects = ColumnEffects(0.37, 0.0, 0.0, "test")
    nx = 21
    scene, _ = simulate_scene(
        sensor="emit",
        reflectance=_flat_reflectance(16, nx, sensor.wavelength_nm),
        rate_kg_h=0.0,
        noise=False,
        solar_zenith_deg=30.0,
        column_effects=effects,
    )
    radiance = scene.radiance.values.astype(np.float64)
    model = ForwardModel(sensor.wavelength_nm, sensor.fwhm_nm, solar_zenith_deg=30.0, day_of_year=172)
    shift = smile_profile_nm(nx, 0.37)
    bright = model.unit_radiance > 0.05 * model.unit_radiance.max()
    for c in (0, 4, 10, 13, 20):
        exact = model.shifted(float(shift[c])).unit_radiance
        rel = np.abs(radiance[3, c] - exact)[bright] / exact[bright]
        assert rel.max() < 3e-4, (c, rel.max())
    # The smile is really there: an edge column differs from the centre column by much more than the tolerance in the
    # steep flanks of the absorption bands.
    assert np.max(np.abs(radiance[0, 0] - radiance[0, 10])[bright] / radiance[0, 10][bright]) > 5e-3


def test_gain_only_multiplies_and_leaves_other_draws_unchanged():
    effects = ColumnEffects(0.0, 0.003, 0.005, "test")
    off, _ = simulate_scene(sensor="aviris-ng", shape=(24, 20), seed=11, rate_kg_h=5.0)
    on, _ = simulate_scene(sensor="aviris-ng", shape=(24, 20), seed=11, rate_kg_h=5.0, column_effects=effects)
    gain = column_model(20, off.sizes["band"], effects, seed=11).gain
    np.testing.assert_allclose(on.radiance.values, off.radiance.values * gain[None], rtol=2e-6, atol=1e-6)
    assert on.attrs["sim_gain_random_sigma"] == 0.003 and "sim_smile_nm" not in off.attrs


def test_off_is_the_default_and_equal_to_false():
    a, _ = simulate_scene(sensor="emit", shape=(16, 16), seed=2, rate_kg_h=300.0)
    b, _ = simulate_scene(sensor="emit", shape=(16, 16), seed=2, rate_kg_h=300.0, column_effects=False)
    np.testing.assert_array_equal(a.radiance.values, b.radiance.values)


def test_zero_magnitudes_equal_the_ideal_instrument():
    off, _ = simulate_scene(sensor="emit", shape=(16, 18), seed=5, rate_kg_h=800.0)
    zero, _ = simulate_scene(
        sensor="emit", shape=(16, 18), seed=5, rate_kg_h=800.0, column_effects=ColumnEffects(0.0, 0.0, 0.0, "none")
    )
    np.testing.assert_allclose(zero.radiance.values, off.radiance.values, rtol=1e-6, atol=1e-6)


def test_preset_values_are_the_uniformity_bound():
    # ≥ 95 % cross-track spectral uniformity: smile ≤ 5 % of the spectral sampling.
    for name in ("emit", "aviris-ng"):
        preset = get_sensor(name)
        window = (preset.wavelength_nm > 2100) & (preset.wavelength_nm < 2450)
        sampling = float(np.median(np.diff(preset.wavelength_nm[window])))
        assert preset.column_effects.smile_nm == pytest.approx(0.05 * sampling, rel=0.05)


def test_preset_without_column_values_is_refused():
    with pytest.raises(InvalidInputError, match="column_effects"):
        simulate_scene(sensor="prisma", shape=(16, 16), column_effects=True)


def test_bad_column_effects_type_is_refused():
    with pytest.raises(InvalidInputError, match="column_effects"):
        simulate_scene(sensor="emit", shape=(16, 16), column_effects="yes")


def test_negative_smile_is_refused():
    with pytest.raises(InvalidInputError, match="smile_nm"):
        simulate_scene(sensor="emit", shape=(16, 16), column_effects=ColumnEffects(-0.1, 0.0, 0.0, "bad"))


def test_cli_column_effects(tmp_path, run_cli):
    out = tmp_path / "sim"
    code, _, stderr = run_cli(
        "simulate", "--sensor", "aviris-ng", "--size", "16x20", "--rate-kg-h", "0", "--column-effects", "--out", out
    )
    assert code == 0, stderr
    from plumetrace.io.envi import read_envi

    written = read_envi(out / "scene_rdn").radiance.values
    plain, _ = simulate_scene(sensor="aviris-ng", shape=(16, 20), rate_kg_h=0.0, seed=0)
    assert not np.allclose(written, plain.radiance.values)


def test_cli_column_effects_bad_preset_exit_2(tmp_path, run_cli):
    out = tmp_path / "sim"
    code, _, stderr = run_cli("simulate", "--sensor", "enmap", "--size", "16x16", "--column-effects", "--out", out)
    assert code == 2
    message = stderr.strip()
    assert "\n" not in message and "--column-effects" in message
    assert not out.exists()
