"""TES, clutter whitening, filters and the BIC selection of the LWIR branch, against known answers."""

from __future__ import annotations

import numpy as np
import pytest
from _lwir_synthetic import WAVELENGTH_NM, library

from plumetrace.detect.lwir.background import (
    clutter_statistics,
    estimate_plume_temperature,
    separate_temperature_emissivity,
    whiten,
)
from plumetrace.detect.lwir.filters import filter_gases, whitened_targets
from plumetrace.detect.lwir.identify import ambiguous_groups, fit_pixel_columns, select_gases
from plumetrace.detect.lwir.layer import LayerModel
from plumetrace.detect.lwir.options import LwirOptions
from plumetrace.errors import InvalidInputError
from plumetrace.spectra.thermal import planck_radiance


def test_tes_recovers_temperature_and_emissivity_of_a_grey_body():
    wl = WAVELENGTH_NM
    temps = np.array([290.0, 300.0, 315.0])
    eps = np.full(wl.size, 0.985)
    eps[40:50] = 0.90  # a feature below the maximum
    radiance = eps * planck_radiance(wl, temps[:, None])
    est = separate_temperature_emissivity(radiance, wl, emissivity_max=0.985)
    np.testing.assert_allclose(est.temperature_k, temps, atol=0.01)
    np.testing.assert_allclose(est.emissivity, np.broadcast_to(eps, radiance.shape), atol=1e-3)
    assert estimate_plume_temperature(est, air_offset_k=2.0) == pytest.approx(298.0, abs=0.01)


def test_tes_removes_the_atmosphere():
    wl = WAVELENGTH_NM
    tau, path = np.linspace(0.7, 0.9, wl.size), np.full(wl.size, 0.05)
    surface = 0.985 * planck_radiance(wl, np.array([[305.0]]))
    est = separate_temperature_emissivity(tau * surface + path, wl, transmittance=tau, path_radiance=path)
    assert est.temperature_k[0] == pytest.approx(305.0, abs=0.01)


def test_whitening_turns_the_clutter_into_unit_white_noise():
    rng = np.random.default_rng(0)
    n_band = 12
    rotation, _ = np.linalg.qr(rng.standard_normal((n_band, n_band)))
    mix = rotation * np.logspace(0.0, 1.0, n_band)  # correlated, variances spanning 100x (the ridge stays < 1 %)
    data = 5.0 + rng.standard_normal((20000, n_band)) @ mix.T
    stats = clutter_statistics(data, np.ones_like(data), n_classes=1)
    white = whiten(data - stats.mean[0], stats)
    # Trimming the 0.1 % tail shrinks the variance a little: identity within 5 %.
    np.testing.assert_allclose(np.cov(white.T), np.eye(n_band), atol=0.05)


def test_matched_filter_recovers_a_column_and_ace_is_one_for_a_pure_target():
    lib = library(("alpha", "beta"))
    rng = np.random.default_rng(1)
    n = 4000
    background = rng.standard_normal((n, WAVELENGTH_NM.size)) * 0.01 + 1.0
    stats = clutter_statistics(background, np.ones_like(background), n_classes=1)
    contrast = np.full((3, WAVELENGTH_NM.size), -0.1)
    signal = 150.0 * contrast[0] * lib.absorption_per_ppm_m[0]
    pixels = stats.mean[0] + np.stack([signal, 0 * signal, signal])
    cls = np.zeros(3, dtype=int)
    resid = whiten(pixels - stats.mean[0], stats, cls)
    targets = whitened_targets(contrast, lib.absorption_per_ppm_m, stats, cls)
    column, sigma, ace = filter_gases(resid, targets)
    assert column[0, 0] == pytest.approx(150.0, rel=1e-6)
    assert ace[0, 0] == pytest.approx(1.0, abs=1e-9)
    assert column[1, 0] == 0.0
    assert np.all(sigma > 0)


def test_ambiguous_groups_join_gases_too_alike_to_tell_apart():
    lib = library(("alpha", "beta", "gamma", "twin"))
    groups, corr = ambiguous_groups(lib.absorption_per_ppm_m, lib.names, 0.95)
    assert groups == [("beta", "twin")]
    assert corr[1, 3] > 0.95 > abs(corr[0, 1])


def _plume_pixels(lib, columns, *, noise=1.0, seed=0):
    """Whitened data of a plume whose gases share one dilution map, exact forward model, white noise."""
    rng = np.random.default_rng(seed)
    n_p = 60
    dilution = rng.uniform(0.5, 1.5, n_p)
    contrast = np.full((n_p, WAVELENGTH_NM.size), 1000.0)  # whitened units: a strong contrast
    c = dilution[:, None] * np.asarray(columns)[None, :]
    model = contrast * np.expm1(c @ lib.absorption_per_ppm_m)
    return model + noise * rng.standard_normal(model.shape), contrast, dilution


def test_stepwise_bic_finds_the_exact_gas_set_and_its_columns():
    lib = library()
    truth = [0.0, 60.0, 150.0, 0.0]  # beta and gamma
    data, contrast, dilution = _plume_pixels(lib, truth)
    sel = select_gases(
        data, contrast, LayerModel(lib.absorption_per_ppm_m), lambda v: v, np.ones(len(data)), penalty=3.0
    )
    assert sorted(sel.fit.gases) == [1, 2]
    got = dict(zip(sel.fit.gases, sel.fit.column_ppm_m))
    mean = dilution.mean()
    assert got[1] == pytest.approx(60.0 * mean, rel=0.03)
    assert got[2] == pytest.approx(150.0 * mean, rel=0.03)
    assert sel.confidence > 0.9


def test_pixel_fit_undoes_the_saturation_of_strong_bands():
    lib = library(("alpha",))
    data, contrast, dilution = _plume_pixels(lib, [800.0], noise=1e-6)  # optical depth 0.64 at the band peak
    cols, sigma, rss = fit_pixel_columns(data, contrast, LayerModel(lib.absorption_per_ppm_m), lambda v: v)
    np.testing.assert_allclose(cols[:, 0], 800.0 * dilution, rtol=1e-5)
    assert np.all(rss < 1e-6)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"plume_temperature_k": 20.0}, "--plume-temperature-k"),
        ({"contrast_k": 80.0}, "--contrast-k"),
        ({"contrast_k": 2.0, "plume_temperature_k": 300.0}, "--contrast-k"),
        ({"stats": "column"}, "--stats"),
        ({"min_contrast_k": 0.0}, "min_contrast_k"),
        ({"ambiguity_correlation": 1.0}, "ambiguity_correlation"),
        ({"bic_penalty": -1.0}, "bic_penalty"),
    ],
)
def test_options_name_the_bad_field(change, field):
    with pytest.raises(InvalidInputError) as err:
        LwirOptions(**change).validated()
    assert err.value.field == field


def test_high_resolution_layer_model_matches_the_channel_model_for_flat_bands_and_saturates_lines():
    from scipy.sparse import csr_matrix

    from plumetrace.spectra.response import gaussian_response_matrix

    grid = np.linspace(7500.0, 12100.0, 4601)  # 1 nm
    response = csr_matrix(gaussian_response_matrix(grid, WAVELENGTH_NM, np.full(WAVELENGTH_NM.size, 50.0)))
    flat = np.full((1, grid.size), 2e-4)
    channel = LayerModel(np.full((1, WAVELENGTH_NM.size), 2e-4))
    hires = LayerModel(channel.absorption, flat, response)
    contrast = np.full((2, WAVELENGTH_NM.size), 0.1)
    columns = np.array([[100.0], [900.0]])
    for got, want in zip(hires.evaluate(contrast, columns), channel.evaluate(contrast, columns)):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    # A comb of narrow lines with the same channel-mean α absorbs less at high column (saturation within a channel).
    comb = np.where(np.arange(grid.size) % 10 == 0, 2e-3, 0.0)[None, :]
    lines = LayerModel(channel.absorption, comb, response)
    strong = lines.evaluate(contrast, columns)[0][1]
    assert np.all(strong[5:-5] < channel.evaluate(contrast, columns)[0][1][5:-5])
