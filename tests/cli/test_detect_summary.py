"""`plumetrace detect` reports robust figures of the map, not its single largest pixel."""

from __future__ import annotations

import numpy as np

from plumetrace.cli.detect import MIN_COMPONENT_PIXELS, detection_figures


def _noise_map(seed=0, shape=(100, 100), sigma=100.0):
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, sigma, shape), np.full(shape, sigma)


def test_a_single_hot_pixel_moves_no_figure():
    enhancement, sigma = _noise_map()
    before = detection_figures(enhancement, sigma)
    enhancement[10, 10] = 6310.0  # a false positive, far above anything else
    after = detection_figures(enhancement, sigma)
    assert after["p999_ppm_m"] < 1000.0
    assert after["n_components"] == before["n_components"] == 0
    assert after["n_above_3sigma"] == before["n_above_3sigma"] + 1
    assert after["sigma_median_ppm_m"] == 100.0


def test_a_plume_is_counted_once():
    enhancement, sigma = _noise_map(seed=1)
    enhancement[40:46, 60:70] = 1500.0  # 60 connected pixels at 15 σ
    enhancement[5, 5] = 1500.0  # a lone pixel: not plume-like
    figures = detection_figures(enhancement, sigma)
    assert figures["n_components"] == 1 and MIN_COMPONENT_PIXELS > 1
    assert figures["n_above_3sigma"] >= 61
    assert figures["p999_ppm_m"] == 1500.0  # 61 of 10,000 pixels: the 99.9th percentile lies inside the plume
    assert 0.006 <= figures["fraction_above_3sigma"] <= 0.01


def test_no_valid_pixel():
    figures = detection_figures(np.full((4, 4), np.nan), np.full((4, 4), np.nan))
    assert figures["n_above_3sigma"] == 0 and np.isnan(figures["p999_ppm_m"])


def test_detect_prints_the_robust_figures(run_cli, tmp_path):
    code, _, err = run_cli("simulate", "--size", "48x48", "--rate-kg-h", "3000", "--seed", "2", "--out", tmp_path / "s")
    assert code == 0, err
    code, out, err = run_cli("detect", tmp_path / "s" / "scene_rdn.hdr", "--out", tmp_path / "d")
    assert code == 0, err
    assert "detection limit: median 1σ" in out and "99.9th percentile" in out and "above 3σ" in out
    assert "plume-like" in out and "max " not in out
