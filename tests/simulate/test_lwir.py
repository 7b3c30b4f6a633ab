"""The LWIR scene simulator: radiance against the plume model, blind pixels, noise level, truth and sensors."""

from __future__ import annotations

import numpy as np
import pytest

from plumetrace.errors import InvalidFileError, InvalidInputError
from plumetrace.scene import validate_scene
from plumetrace.simulate.lwir import LwirPlume, LwirSceneOptions, simulate_lwir_scene
from plumetrace.simulate.lwir_sensors import get_lwir_sensor, hytes_preset, read_sensor_file
from plumetrace.spectra.gas_library import GasLibrary, SensorGasLibrary, convolve_to_channels
from plumetrace.spectra.thermal import (
    brightness_temperature,
    planck_derivative,
    plume_delta_radiance,
    surface_leaving_radiance,
)

HYTES = hytes_preset()


def _band(centre_nm: float, width_nm: float, peak: float) -> np.ndarray:
    return peak * np.exp(-0.5 * ((HYTES.wavelength_nm - centre_nm) / width_nm) ** 2)


#: Two synthetic gases on the HyTES channels: bands at 8.2 µm and 10.4 µm (α per ppm·m).
SENSOR_LIB = SensorGasLibrary(
    names=("gas a", "gas b"),
    centers_nm=HYTES.wavelength_nm,
    fwhm_nm=HYTES.fwhm_nm,
    absorption_per_ppm_m=np.vstack([_band(8200, 80, 8e-4), _band(10400, 120, 1e-3)]),
)


def _background(truth) -> np.ndarray:
    wl = truth["wavelength"].values
    return surface_leaving_radiance(
        wl, truth["emissivity"].values, truth["ground_temperature_k"].values, truth["downwelling_radiance"].values
    )


def _scene(plumes, *, noise=False, seed=4, **kw):
    options = LwirSceneOptions(shape=(40, 48), plumes=tuple(plumes), noise=noise, **kw)
    return simulate_lwir_scene(options, SENSOR_LIB, seed=seed)


def test_scene_contract_and_truth():
    plume = LwirPlume(("gas a", "gas b"), (200.0, 50.0), 5.0, (20.0, 24.0), (9.0, 6.0))
    scene, truth = _scene([plume])
    validate_scene(scene)
    assert scene.attrs["sensor"] == "hytes" and scene["radiance"].attrs["units"] == "uW cm-2 sr-1 nm-1"
    assert scene.sizes == {"y": 40, "x": 48, "band": 256}
    assert scene["wavelength"].values[[0, -1]].tolist() == [7500.0, 12000.0]
    assert np.all(scene["fwhm"].values > 0)
    mask = truth["plume_mask"].values
    # A flat ellipse of semi-axes 9 × 6 px: area π·54 ≈ 170 pixels.
    assert mask.sum() == pytest.approx(np.pi * 54, rel=0.08)
    np.testing.assert_allclose(truth["column_ppm_m"].sel(gas="gas a").values[mask], 200.0)
    np.testing.assert_allclose(truth["column_ppm_m"].sel(gas="gas b").values[mask], 50.0)
    assert np.all(truth["column_ppm_m"].values[:, ~mask] == 0)
    np.testing.assert_allclose(truth["temperature_contrast_k"].values[mask], 5.0)
    assert np.all(np.isnan(truth["temperature_contrast_k"].values[~mask]))
    plume_k = truth["plume_temperature_k"].values[mask]
    np.testing.assert_allclose(plume_k, truth["background_brightness_temperature_k"].values[mask] + 5.0, atol=1e-4)
    assert truth.attrs["plumes"][0]["gases"] == ["gas a", "gas b"]
    # Ground temperature varies (classes + smooth field) and so does emissivity.
    assert truth["ground_temperature_k"].values.std() > 2.0
    assert len(np.unique(truth["surface_class"].values)) >= 3


@pytest.mark.parametrize("contrast_k", [-8.0, -1.0, 3.0, 10.0])
def test_radiance_change_matches_the_plume_model(contrast_k):
    plume = LwirPlume(("gas a", "gas b"), (120.0, 300.0), contrast_k, (20.0, 24.0), (10.0, 8.0))
    scene, truth = _scene([plume])
    no_plume, _ = _scene([])  # same seed: same ground and atmosphere
    wl = scene["wavelength"].values
    mask = truth["plume_mask"].values
    observed = (scene["radiance"].values - no_plume["radiance"].values)[mask]
    background = _background(truth)[mask]
    columns = truth["column_ppm_m"].values[:, mask].T
    expected = plume_delta_radiance(
        wl,
        truth["absorption_per_ppm_m"].values,
        columns,
        truth["plume_temperature_k"].values[mask],
        background,
        truth["transmittance"].values,
    )
    # float32 radiance (~1 µW cm⁻² sr⁻¹ nm⁻¹) rounds at ~6e-8: compare with that absolute tolerance.
    np.testing.assert_allclose(observed, expected, atol=3e-7)
    assert np.sign(observed[:, np.argmax(SENSOR_LIB.absorption_per_ppm_m[1])]).mean() == np.sign(contrast_k)
    # The change is a real signal: at the 10.4 µm band, for 3 K or more, it is several times the noise (NEdT 0.15 K).
    if abs(contrast_k) >= 3.0:
        peak = np.abs(expected).max(axis=1)
        assert np.all(peak > 3 * 0.15 * planck_derivative(10400.0, 300.0))


def test_blind_pixels_zero_contrast_give_no_signal():
    plume = LwirPlume(("gas a", "gas b"), (500.0, 500.0), 0.0, (20.0, 24.0), (10.0, 8.0))
    scene, truth = _scene([plume])
    no_plume, _ = _scene([])
    classes = truth["surface_class"].values
    grey = np.isin(classes, [truth.attrs["surface_classes"].index(c) for c in ("vegetation", "water")])
    hot, _ = _scene([LwirPlume(("gas a", "gas b"), (500.0, 500.0), 5.0, (20.0, 24.0), (10.0, 8.0))])
    for where in (truth["plume_mask"].values & grey,):
        assert where.sum() > 10
        delta = (scene["radiance"].values - no_plume["radiance"].values)[where]
        signal = np.abs((hot["radiance"].values - no_plume["radiance"].values)[where]).max(axis=1)
        # Zero contrast with the background's channel-mean brightness temperature over grey surfaces: what is left
        # comes from the reflected sky's spectral shape ((1 − ε) L_down, ε ≥ 0.98): under 10 % of a 5 K signal.
        assert np.all(np.abs(delta).max(axis=1) < 0.10 * signal)
    # On a blackbody ground (every class grey at ε = 1 is not offered, so check the model directly).
    wl = scene["wavelength"].values
    bb = plume_delta_radiance(wl, SENSOR_LIB.absorption_per_ppm_m, np.array([500.0, 500.0]), 300.0,
                              surface_leaving_radiance(wl, 1.0, 300.0, 0.2), 0.9)  # fmt: skip
    np.testing.assert_allclose(bb, 0.0, atol=1e-12)


def test_noise_matches_nedt():
    scene, truth = _scene([], noise=True, nedt_k=0.2)
    clean, _ = _scene([], noise=False, nedt_k=0.2)
    wl = scene["wavelength"].values
    residual = scene["radiance"].values.astype(np.float64) - clean["radiance"].values
    # 1σ = NEdT × ∂B/∂T(λ, 300 K), within 5 % (1920 pixels per channel, averaged over channels).
    ratio = residual.reshape(-1, wl.size).std(axis=0) / (0.2 * planck_derivative(wl, 300.0))
    assert ratio.mean() == pytest.approx(1.0, abs=0.03)
    bt = brightness_temperature(wl, scene["radiance"].values)
    assert 270.0 < np.nanmedian(bt) < 320.0


def test_random_plumes_follow_the_options():
    options = LwirSceneOptions(
        shape=(64, 64), n_plumes=4, gases_per_plume=(2, 2), column_range_ppm_m=(10.0, 500.0),
        contrast_range_k=(1.0, 10.0), contrast_sign=-1,
    )  # fmt: skip
    _, truth = simulate_lwir_scene(options, SENSOR_LIB, seed=11)
    plumes = truth.attrs["plumes"]
    assert len(plumes) == 4
    for p in plumes:
        assert len(p["gases"]) == 2 and all(10.0 <= c <= 500.0 for c in p["columns_ppm_m"])
        assert -10.0 <= p["contrast_k"] <= -1.0 and p["n_pixels"] > 20
    assert len(np.unique(truth["plume_id"].values)) == 5  # four plumes and "none", no overlap


def test_high_resolution_library_agrees_with_channel_model_for_thin_plumes():
    grid = np.arange(780.0, 1400.0, 0.1)
    lines = 1e-3 * (1 + np.cos(grid * 2.0)) * np.exp(-0.5 * ((grid - 960.0) / 15.0) ** 2)  # a banded gas at 10.4 µm
    hires = GasLibrary(("banded",), grid, lines[None, :], ("memory",))
    plume = LwirPlume(("banded",), (20.0,), 6.0, (20.0, 24.0), (10.0, 8.0))
    options = LwirSceneOptions(shape=(40, 48), plumes=(plume,), noise=False)
    scene, truth = simulate_lwir_scene(options, hires, seed=2)
    no_plume, _ = simulate_lwir_scene(LwirSceneOptions(shape=(40, 48), plumes=(), noise=False), hires, seed=2)
    mask = truth["plume_mask"].values
    observed = (scene["radiance"].values - no_plume["radiance"].values)[mask]
    linear = plume_delta_radiance(
        scene["wavelength"].values, truth["absorption_per_ppm_m"].values, truth["column_ppm_m"].values[:, mask].T,
        truth["plume_temperature_k"].values[mask], _background(truth)[mask], truth["transmittance"].values,
        linear=True,
    )  # fmt: skip
    # Peak optical depth 2e-3 × 20 = 0.04 at line centres: the channel-α linear model is within 3 % at the peak.
    peak = np.argmax(np.abs(linear).mean(axis=0))
    assert observed[:, peak].mean() == pytest.approx(linear[:, peak].mean(), rel=0.03)
    # Stronger columns saturate at line centres: the resolved model gives less than the linear one.
    strong = LwirPlume(("banded",), (2000.0,), 6.0, (20.0, 24.0), (10.0, 8.0))
    big, _ = simulate_lwir_scene(LwirSceneOptions(shape=(40, 48), plumes=(strong,), noise=False), hires, seed=2)
    big_delta = (big["radiance"].values - no_plume["radiance"].values)[mask][:, peak].mean()
    assert big_delta < 100.0 * linear[:, peak].mean() * 0.9


def test_sensor_library_must_match_the_sensor():
    other = convolve_to_channels(
        GasLibrary(("g",), np.arange(700.0, 1500.0, 0.25), np.full((1, 3200), 1e-4), ("m",)),
        np.linspace(7600.0, 11900.0, 150), np.full(150, 30.0),
    )  # fmt: skip
    with pytest.raises(InvalidInputError, match="library"):
        simulate_lwir_scene(LwirSceneOptions(shape=(16, 16)), other, seed=0)
    with pytest.raises(InvalidInputError, match="gases"):
        simulate_lwir_scene(
            LwirSceneOptions(shape=(16, 16), plumes=(LwirPlume(("nope",), (1.0,), 2.0, (8.0, 8.0)),)), SENSOR_LIB
        )


def test_sensor_file_and_preset(tmp_path):
    path = tmp_path / "sensor.csv"
    centres = np.linspace(8.0, 11.5, 140)
    path.write_text("center_um,fwhm_nm,nedt_k\n" + "".join(f"{c:.5f},30,0.1\n" for c in centres))
    sensor = read_sensor_file(path)
    assert sensor.name == "generic" and sensor.n_bands == 140
    np.testing.assert_allclose(sensor.wavelength_nm, centres * 1000.0, atol=0.01)
    np.testing.assert_allclose(sensor.nedt_k, 0.1)
    grid = np.arange(700.0, 1500.0, 0.25)
    lib = GasLibrary(("g",), grid, np.full((1, grid.size), 1e-4), ("m",))
    scene, _ = simulate_lwir_scene(LwirSceneOptions(shape=(16, 16), sensor_file=str(path), n_plumes=1), lib, seed=0)
    assert scene.attrs["sensor"] == "generic" and scene.sizes["band"] == 140
    assert hytes_preset(n_channels=128).n_bands == 128
    assert get_lwir_sensor("HyTES").n_bands == 256
    bad = tmp_path / "bad.csv"
    bad.write_text("center_nm,fwhm_nm\n9000,30\n8000,30\n")
    with pytest.raises(InvalidFileError, match="center_nm: channel centres must increase"):
        read_sensor_file(bad)
    bad.write_text("centre,width\n9000,30\n")
    with pytest.raises(InvalidFileError, match="center_nm"):
        read_sensor_file(bad)
    with pytest.raises(InvalidInputError, match="sensor"):
        get_lwir_sensor("emit")


def test_cli_writes_a_scene_that_info_and_the_reader_open(run_cli, tmp_path):
    import json

    from plumetrace.io.envi import read_envi
    from tests.spectra.jdx_files import write_band_library

    library = write_band_library(tmp_path / "lib", {"acetone": 1217.0, "ammonia": 965.0})
    out = tmp_path / "sim"
    code, stdout, stderr = run_cli(
        "simulate", "--band", "lwir", "--gases", "acetone,ammonia", "--library", library, "--size", "24x32",
        "--columns", "150,60", "--contrast-k", "-4", "--seed", "3", "--out", out,
    )  # fmt: skip
    assert code == 0, stderr
    assert "acetone 150 ppm·m" in stdout
    truth = json.loads((out / "truth.json").read_text())
    assert truth["sensor"] == "hytes" and truth["shape"] == [24, 32, 256]
    assert truth["plumes"][0]["gases"] == ["acetone", "ammonia"] and truth["plumes"][0]["contrast_k"] == -4.0
    scene = read_envi(out / "scene_rdn")
    assert scene.attrs["sensor"] == "hytes" and scene.sizes["band"] == 256
    code, stdout, _ = run_cli("info", out / "scene_rdn")
    assert code == 0 and "hytes" in stdout and "7500.0-12000.0 nm" in stdout
    from plumetrace.simulate.lwir_products import read_lwir_truth

    nc = read_lwir_truth(out / "truth.nc")
    mask = nc["plume_mask"].values
    np.testing.assert_allclose(nc["column_ppm_m"].sel(gas="ammonia").values[mask], 60.0)
    assert mask.sum() == truth["plumes"][0]["n_pixels"] == nc.attrs["plumes"][0]["n_pixels"]
    assert nc.attrs["surface_classes"][0] == "vegetation"


def test_one_temperature_per_plume_lets_the_contrast_follow_the_ground():
    plume = LwirPlume(("gas a", "gas b"), (200.0, 200.0), 1.0, (20.0, 24.0), (12.0, 9.0))
    _, truth = _scene([plume], plume_temperature="plume")
    mask = truth["plume_mask"].values
    plume_k = truth["plume_temperature_k"].values[mask]
    assert np.ptp(plume_k) == 0.0  # one temperature
    contrast = truth["temperature_contrast_k"].values[mask]
    background = truth["background_brightness_temperature_k"].values[mask]
    np.testing.assert_allclose(contrast, plume_k - background, atol=1e-4)
    assert np.median(contrast) == pytest.approx(1.0, abs=1e-3)
    assert contrast.min() < 0 < contrast.max()  # over warmer ground a 1 K plume turns to absorption
    with pytest.raises(InvalidInputError, match="plume_temperature"):
        LwirSceneOptions(plume_temperature="air")


def test_atmosphere_can_travel_with_the_scene():
    scene, truth = _scene([], atmosphere_in_scene=True)
    validate_scene(scene)
    np.testing.assert_array_equal(scene["transmittance"].values, truth["transmittance"].values)
    np.testing.assert_array_equal(scene["path_radiance"].values, truth["path_radiance"].values)
    plain, _ = _scene([])
    assert "transmittance" not in plain
