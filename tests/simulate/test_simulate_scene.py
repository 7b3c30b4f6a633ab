"""simulate_scene: Scene contract, noise statistics, plume signal, streaming ENVI path, real reflectance cube."""

from __future__ import annotations

import numpy as np
import pytest

from plumetrace.errors import InvalidInputError
from plumetrace.scene import airmass_factor, pixel_size_m, validate_scene
from plumetrace.simulate.radiance import ForwardModel
from plumetrace.simulate.scene import simulate_scene, write_simulated_envi
from plumetrace.simulate.sensors import get_sensor
from plumetrace.spectra.noise import noise_equivalent_radiance

SMALL = dict(shape=(40, 48), rate_kg_h=2000.0, wind_speed_m_s=3.0, wind_dir_deg=270.0, seed=3, solar_zenith_deg=30.0)


@pytest.fixture(scope="module")
def clean_pair():
    with_plume, truth = simulate_scene(**SMALL, noise=False)
    without, _ = simulate_scene(**{**SMALL, "rate_kg_h": 0.0}, noise=False)
    return with_plume, without, truth


def test_scene_contract_and_georeference(clean_pair):
    scene, _, truth = clean_pair
    validate_scene(scene)
    assert scene["radiance"].dtype == np.float32
    assert scene.sizes["band"] == 285 and scene.attrs["sensor"] == "emit"
    assert pixel_size_m(scene) == pytest.approx(60.0)
    assert "UTM zone 13N" in scene.attrs["crs"]
    assert airmass_factor(scene) == pytest.approx(1 / np.cos(np.radians(30)) + 1)
    assert truth.enhancement_ppm_m.shape == (40, 48)
    assert scene.attrs["sim_rate_kg_h"] == 2000.0


def test_plume_pixels_match_forward_model_ratio(clean_pair):
    with_plume, without, truth = clean_pair
    y, x = np.unravel_index(np.argmax(truth.enhancement_ppm_m), truth.enhancement_ppm_m.shape)
    ratio = with_plume["radiance"].values[y, x] / without["radiance"].values[y, x]
    s = get_sensor("emit")
    model = ForwardModel(s.wavelength_nm, s.fwhm_nm, solar_zenith_deg=30.0, day_of_year=172)
    flat = np.full(model.grid_nm.size, 0.3)
    expected = model.band_radiance(flat, float(truth.enhancement_ppm_m[y, x])) / model.band_radiance(flat)
    usable = (s.wavelength_nm > 2100) & (without["radiance"].values[y, x] > 0.05)
    # Reflectance varies little within a band, so the mixture's ratio equals the flat-surface ratio closely.
    np.testing.assert_allclose(ratio[usable], expected[usable], atol=2e-3)
    assert ratio[usable].min() < 0.97
    far = truth.enhancement_ppm_m == 0
    np.testing.assert_array_equal(with_plume["radiance"].values[far], without["radiance"].values[far])


def test_noise_std_matches_model(clean_pair):
    clean = clean_pair[0]
    noisy, _ = simulate_scene(**SMALL, noise=True)
    diff = (noisy["radiance"].values - clean["radiance"].values).reshape(-1, 285)
    sigma = noise_equivalent_radiance(get_sensor("emit").noise, clean["radiance"].values).reshape(-1, 285)
    z = diff / sigma
    assert z.std() == pytest.approx(1.0, abs=0.01)
    per_band = z.std(axis=0)
    assert np.all(np.abs(per_band - 1) < 0.1)  # 1920 samples per band: ±5 σ of the sample std


def test_lazy_equals_eager():
    eager, _ = simulate_scene(**SMALL, chunk_rows=40)
    lazy, _ = simulate_scene(**SMALL, lazy=True, chunk_rows=7)
    assert hasattr(lazy["radiance"].data, "dask")
    # Exact by design on any CPU: rendering mixes materials with element-wise float32 multiply-adds in a fixed
    # order (scene._mix), never a BLAS product whose rounding depends on the block's row count or the CPU kernel.
    np.testing.assert_array_equal(lazy["radiance"].values, eager["radiance"].values)


def test_mixing_is_row_count_invariant_and_matches_matmul():
    from plumetrace.simulate.scene import _mix

    rng = np.random.default_rng(0)
    weights = rng.random((37, 5), dtype=np.float32)
    spectra = rng.random((5, 285), dtype=np.float32)
    whole = _mix(weights, spectra)
    rows = np.concatenate([_mix(weights[i : i + 1], spectra) for i in range(37)])
    np.testing.assert_array_equal(rows, whole)  # element-wise: no dependence on how many rows at once
    np.testing.assert_allclose(whole, weights @ spectra, rtol=1e-6)


def test_streaming_envi_round_trip(tmp_path):
    from plumetrace.io.envi import read_envi

    path, _, truth = write_simulated_envi(tmp_path / "scene_rdn", **SMALL, chunk_rows=9)
    eager, _ = simulate_scene(**SMALL)
    back = read_envi(path)
    # Exact by design (see test_lazy_equals_eager): 9-row blocks render the same bits as the default blocks.
    np.testing.assert_array_equal(back["radiance"].values, eager["radiance"].values)
    np.testing.assert_allclose(back["wavelength"].values, eager["wavelength"].values, rtol=1e-6)
    assert back.attrs["sensor"] == "emit"


@pytest.mark.parametrize("sensor", ["aviris-ng", "prisma", "enmap"])
def test_other_sensors(sensor):
    scene, truth = simulate_scene(sensor=sensor, shape=(16, 20), seed=1, solar_zenith_deg=40.0)
    assert scene.sizes["band"] == get_sensor(sensor).n_bands
    assert np.all(np.isfinite(scene["radiance"].values))


def test_unknown_sensor_rejected():
    with pytest.raises(InvalidInputError, match="sensor"):
        simulate_scene(sensor="modis", shape=(20, 20))


def test_small_shape_rejected():
    with pytest.raises(InvalidInputError, match="shape"):
        simulate_scene(shape=(8, 8))


def test_bad_time_rejected():
    with pytest.raises(InvalidInputError, match="acquisition_time"):
        simulate_scene(shape=(20, 20), acquisition_time="yesterday")


def _jasper_ridge(root):
    from scipy.io import loadmat

    mat = loadmat(root / "swir-scenes" / "jasper-ridge" / "jasperRidge2_R198.mat")
    cube = np.reshape(mat["Y"].T, (100, 100, 198), order="F").astype(np.float32)
    channels = np.asarray(mat["SlectBands"]).ravel().astype(int)
    spc = np.loadtxt(root / "swir-scenes" / "indian-pines-bands" / "92AV3C.spc", skiprows=2)
    # Band centres by AVIRIS channel number; the few channels the 92AV3C table lacks are interpolated.
    return cube, np.interp(channels, spc[:, 4], spc[:, 0])


@pytest.mark.shared_data
def test_real_reflectance_cube_jasper_ridge(shared_data):
    from plumetrace.spectra.reflectance import reflectance_cube

    cube, wavelength = _jasper_ridge(shared_data)
    refl = reflectance_cube(cube, wavelength, scale=1e-4, source="jasperRidge2_R198.mat")
    assert np.all(np.diff(refl["wavelength"].values) > 0)
    wavelength = refl["wavelength"].values
    scene, truth = simulate_scene(
        sensor="aviris-ng",
        reflectance=refl,
        rate_kg_h=300.0,
        seed=2,
        solar_zenith_deg=35.0,
        pixel_size_m=20.0,
        noise=False,
    )
    assert scene.sizes["y"] == 100 and scene.sizes["band"] == 425
    # Radiance is linear in the real reflectance in a clear band (860 nm): correlation ~1 across the scene.
    band = int(np.argmin(abs(scene["wavelength"].values - 860)))
    src = int(np.argmin(abs(wavelength - 860)))  # index into the sorted cube
    corr = np.corrcoef(scene["radiance"].values[..., band].ravel(), refl.values[..., src].ravel())[0, 1]
    assert corr > 0.99
    hot = truth.enhancement_ppm_m > 500
    assert hot.any()
    clean, _ = simulate_scene(
        sensor="aviris-ng",
        reflectance=refl,
        rate_kg_h=0.0,
        seed=2,
        solar_zenith_deg=35.0,
        pixel_size_m=20.0,
        noise=False,
    )
    b2300 = int(np.argmin(abs(scene["wavelength"].values - 2300)))
    ratio = scene["radiance"].values[hot, b2300] / clean["radiance"].values[hot, b2300]
    assert np.all(ratio < 1.0)


def test_reflectance_cube_sorts_bands_and_rejects_repeats():
    from plumetrace.spectra.reflectance import reflectance_cube

    cube = np.stack([np.full((4, 5), 0.1), np.full((4, 5), 0.2), np.full((4, 5), 0.3)], axis=-1)
    refl = reflectance_cube(cube, [700.0, 500.0, 900.0])
    np.testing.assert_allclose(refl["wavelength"].values, [500.0, 700.0, 900.0])
    np.testing.assert_allclose(refl.values[0, 0], [0.2, 0.1, 0.3])
    with pytest.raises(InvalidInputError, match="wavelength_nm"):
        reflectance_cube(cube, [500.0, 500.0, 900.0])


def test_reflectance_cube_rejects_wrong_rank():
    from plumetrace.spectra.reflectance import reflectance_cube

    with pytest.raises(InvalidInputError, match="reflectance"):
        reflectance_cube(np.ones((4, 5)), [500.0])
