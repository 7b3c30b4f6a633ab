"""ISOFIT-convention noise model: formula, interpolation and SNR-specified models."""

from __future__ import annotations

import numpy as np
import pytest

from plumetrace.errors import InvalidInputError
from plumetrace.spectra import bundled_path
from plumetrace.spectra.noise import (
    NoiseModel,
    add_noise,
    load_noise_table,
    noise_equivalent_radiance,
    snr_noise_model,
)


def test_isofit_formula_at_tabulated_wavelengths():
    table = np.loadtxt(bundled_path("avirisng_noise.txt"), comments="#")
    model = load_noise_table("aviris-ng", table[:, 0])
    radiance = np.linspace(0.5, 10.0, table.shape[0])
    # NEdL = |a sqrt(b + L) + c| (ISOFIT instrument.py, one integration), written out by hand.
    expected = np.abs(table[:, 1] * np.sqrt(table[:, 2] + radiance) + table[:, 3])
    np.testing.assert_allclose(noise_equivalent_radiance(model, radiance), expected, rtol=1e-12)


def test_interpolates_between_table_rows():
    table = np.loadtxt(bundled_path("emit_noise.txt"), comments="#")
    mid = 0.5 * (table[100, 0] + table[101, 0])
    model = load_noise_table("emit", np.array([mid]))
    np.testing.assert_allclose(model.a[0], 0.5 * (table[100, 1] + table[101, 1]), rtol=1e-9)


def test_integrations_reduce_noise_by_sqrt():
    base = NoiseModel(np.array([0.01]), np.array([2.0]), np.array([0.0]))
    four = NoiseModel(np.array([0.01]), np.array([2.0]), np.array([0.0]), integrations=4)
    ratio = noise_equivalent_radiance(base, np.array([5.0])) / noise_equivalent_radiance(four, np.array([5.0]))
    assert ratio[0] == pytest.approx(2.0)


def test_negative_radiance_is_clipped_like_isofit():
    model = NoiseModel(np.array([0.02]), np.array([1.0]), np.array([0.0]))
    assert noise_equivalent_radiance(model, np.array([-5.0]))[0] == pytest.approx(0.02 * np.sqrt(1e-5))


def test_snr_model_gives_snr_at_reference():
    reference = np.array([2.0, 0.5])
    model = snr_noise_model(np.array([400.0, 100.0]), reference)
    np.testing.assert_allclose(reference / noise_equivalent_radiance(model, reference), [400.0, 100.0])
    # shot-noise scaling: 4x the signal, 2x the noise
    np.testing.assert_allclose(noise_equivalent_radiance(model, 4 * reference), 2 * reference / [400.0, 100.0])


def test_added_noise_has_model_std():
    model = load_noise_table("emit", np.array([1000.0, 2200.0]))
    radiance = np.tile(np.array([5.0, 0.8], dtype=np.float32), (20000, 1))
    noisy = add_noise(model, radiance, np.random.default_rng(1))
    measured = (noisy - radiance).std(axis=0)
    np.testing.assert_allclose(measured, noise_equivalent_radiance(model, radiance[0]), rtol=0.03)


def test_unknown_table_rejected():
    with pytest.raises(InvalidInputError, match="noise model"):
        load_noise_table("hyperion", np.array([1000.0]))


def test_band_count_mismatch_rejected():
    model = load_noise_table("emit", np.array([1000.0, 2000.0]))
    with pytest.raises(InvalidInputError, match="radiance"):
        noise_equivalent_radiance(model, np.ones(3))


def test_non_positive_snr_rejected():
    with pytest.raises(InvalidInputError, match="snr"):
        snr_noise_model(np.array([0.0]), np.array([1.0]))
