"""Plume-free statistics (robust mode): mask, exact downdate, and the bias bound on simulated plumes."""

from __future__ import annotations

import numpy as np
import pytest

from plumetrace.detect.covariance import GroupStatistics
from plumetrace.detect.engine import detect_scene
from plumetrace.detect.robust import exclude_pixels, plume_mask
from plumetrace.errors import InvalidInputError


def _stats(x: np.ndarray) -> GroupStatistics:
    return GroupStatistics(count=np.array([x.shape[0]]), mean=x.mean(axis=0)[None], cov=np.cov(x, rowvar=False)[None])


def test_exclude_pixels_equals_statistics_of_the_rest():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 6)) @ rng.normal(size=(6, 6))
    drop = rng.random(300) < 0.2
    full = _stats(x)
    d = x[drop] - full.mean[0]
    out = exclude_pixels(full, np.array([drop.sum()]), d.sum(axis=0)[None], (d.T @ d)[None])
    rest = _stats(x[~drop])
    assert out.count[0] == (~drop).sum()
    np.testing.assert_allclose(out.mean, rest.mean, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(out.cov, rest.cov, rtol=1e-9, atol=1e-10)


def test_exclude_pixels_pools_covariance_where_few_remain():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(200, 4)), rng.normal(size=(200, 4)) * 3.0
    stats = GroupStatistics(
        count=np.array([200, 200]),
        mean=np.stack([a.mean(0), b.mean(0)]),
        cov=np.stack([np.cov(a, rowvar=False), np.cov(b, rowvar=False)]),
    )
    d = b[:150] - b.mean(0)
    out = exclude_pixels(
        stats,
        np.array([0, 150]),
        np.stack([np.zeros(4), d.sum(0)]),
        np.stack([np.zeros((4, 4)), d.T @ d]),
        min_pixels=100,
    )
    np.testing.assert_allclose(out.mean[1], b[150:].mean(0), atol=1e-10)  # own mean
    # Covariance pooled over the groups that kept enough pixels (here only the first).
    np.testing.assert_allclose(out.cov[1], np.cov(a, rowvar=False), rtol=1e-9)
    np.testing.assert_allclose(out.cov[0], stats.cov[0])


def test_plume_mask_finds_a_faint_broad_plume_and_few_noise_pixels():
    rng = np.random.default_rng(2)
    z = rng.standard_normal((200, 200)).astype(np.float32)
    z[60:140, 80:120] += 0.8  # 0.8 sigma per pixel: invisible pixel by pixel
    mask = plume_mask(z)
    plume = np.zeros_like(mask)
    plume[60:140, 80:120] = True
    assert mask[plume].mean() > 0.8
    assert mask[~plume].mean() < 0.05  # the grown fringe around the plume, and hardly any noise


def test_plume_mask_ignores_nan_and_rejects_bad_windows():
    z = np.full((20, 20), np.nan, dtype=np.float32)
    assert not plume_mask(z).any()
    with pytest.raises(InvalidInputError, match="window"):
        plume_mask(np.zeros((5, 5)), window=4)
    with pytest.raises(InvalidInputError, match="significance"):
        plume_mask(np.zeros(5))


@pytest.fixture(scope="module")
def simulated_plumes():
    simulate = pytest.importorskip("plumetrace.simulate.scene")
    scenes = {}
    for wind_dir_deg, name in ((0.0, "along columns"), (270.0, "across columns")):
        scene, truth = simulate.simulate_scene(
            shape=(200, 200), rate_kg_h=5000.0, wind_speed_m_s=3.0, wind_dir_deg=wind_dir_deg, seed=0
        )
        scenes[name] = (scene, truth.enhancement_ppm_m)
    return scenes


def _bias_below_2000(scene, truth, **options) -> float:
    e = detect_scene(scene, progress=False, **options)["enhancement"].values
    low = (truth >= 100) & (truth < 2000) & np.isfinite(e)
    return 100.0 * (e[low].sum() - truth[low].sum()) / truth[low].sum()


@pytest.mark.parametrize("orientation", ["along columns", "across columns"])
def test_robust_scene_wide_mf_is_unbiased_for_faint_plume_pixels(simulated_plumes, orientation):
    """Simulator truth: a 5000 kg/h plume covering ~14 % of the scene, mostly 100-2000 ppm·m (below 1σ per pixel)."""
    scene, truth = simulated_plumes[orientation]
    assert abs(_bias_below_2000(scene, truth, stats="scene")) <= 10.0


@pytest.mark.parametrize("orientation", ["along columns", "across columns"])
def test_robust_column_mf_removes_most_of_the_contamination_bias(simulated_plumes, orientation):
    """Per-column statistics: the plume fills up to 75 % of some columns; without the mask the MF loses 45-80 %."""
    scene, truth = simulated_plumes[orientation]
    naive = _bias_below_2000(scene, truth, stats="column", robust=False)
    robust = _bias_below_2000(scene, truth, stats="column")
    assert naive < -40.0
    assert abs(robust) < 0.5 * abs(naive)
    assert abs(robust) <= 25.0
