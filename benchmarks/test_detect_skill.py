"""Checks of detect_skill's error bars and response bias (run ``pytest benchmarks/test_detect_skill.py``).

Each check compares against a known answer: the direct pooled computation, the multinomial's sum, a retrieval built
as twin + a known fraction of the truth.
"""

from __future__ import annotations

import numpy as np
import pytest

from .detect_skill import (
    average_precision,
    bias_replicates,
    bootstrap_replicates,
    response_bias_pct_below_2000,
    seed_weights,
    skill_metrics,
)


def _pairs(n_seeds: int = 4) -> list[tuple[np.ndarray, np.ndarray, int]]:
    rng = np.random.default_rng(3)
    pairs = []
    for k in range(n_seeds):
        truth = np.zeros((30, 30))
        truth[10:20, 10:20] = rng.uniform(0.0, 3000.0, (10, 10))
        retrieved = truth + 300.0 * rng.standard_normal(truth.shape)
        retrieved[0, :3] = np.nan
        pairs.append((retrieved, truth, k))
    return pairs


def test_unit_weights_reproduce_the_pooled_metrics() -> None:
    pairs = _pairs()
    reps = bootstrap_replicates(pairs, np.ones((1, 4)))
    retrieved = np.concatenate([r.ravel() for r, _, _ in pairs])
    truth = np.concatenate([t.ravel() for _, t, _ in pairs])
    direct = skill_metrics(retrieved, truth)
    assert reps["bias_pct_below_2000"][0] == pytest.approx(direct["bias_pct_below_2000"], rel=1e-12)
    assert reps["auprc"][0] == pytest.approx(direct["auprc"], rel=1e-12)


def test_weights_are_integer_draws_of_one_seed() -> None:
    pairs = _pairs()
    w = np.zeros((1, 4))
    w[0, 2] = 4.0  # one seed drawn four times: the metrics of that seed alone
    reps = bootstrap_replicates(pairs, w)
    r, t, _ = pairs[2]
    scored = (t >= 250) | (t < 50)
    assert reps["auprc"][0] == pytest.approx(average_precision(r[scored], t[scored] >= 250), rel=1e-12)
    weights = seed_weights(7, replicates=50)
    assert weights.shape == (50, 7) and np.all(weights.sum(axis=1) == 7)


def _twin_triples(n_seeds: int = 4, *, gain: float = 1.0) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, int]]:
    """(retrieved = twin + gain·truth, twin, truth, seed): a twin of strong clutter (σ 800 ppm·m, offset −300)."""
    rng = np.random.default_rng(11)
    out = []
    for k in range(n_seeds):
        truth = np.zeros((30, 30))
        truth[8:22, 8:22] = rng.uniform(0.0, 3000.0, (14, 14))
        twin = -300.0 + 800.0 * rng.standard_normal(truth.shape)
        out.append((twin + gain * truth, twin, truth, k))
    return out


@pytest.mark.parametrize(("gain", "expected_pct"), [(1.0, 0.0), (0.8, -20.0), (1.25, 25.0)])
def test_response_bias_is_the_gain_whatever_the_clutter(gain: float, expected_pct: float) -> None:
    triples = _twin_triples(gain=gain)
    r, tw, t = (np.concatenate([x[i].ravel() for x in triples]) for i in range(3))
    assert response_bias_pct_below_2000(r, tw, t) == pytest.approx(expected_pct, abs=1e-9)
    # the plain bias sees the clutter under the plume: far from the gain's figure
    assert abs(skill_metrics(r, t)["bias_pct_below_2000"] - expected_pct) > 5.0
    # every bootstrap replicate, whichever seeds it draws, sees the same gain
    reps = bias_replicates([(r - tw, t, k) for r, tw, t, k in triples], seed_weights(4, replicates=40))
    np.testing.assert_allclose(reps, expected_pct, atol=1e-9)


def test_unit_weights_reproduce_the_pooled_response_bias() -> None:
    rng = np.random.default_rng(5)
    triples = [(r + 150.0 * rng.standard_normal(r.shape), tw, t, k) for r, tw, t, k in _twin_triples(gain=0.9)]
    r, tw, t = (np.concatenate([x[i].ravel() for x in triples]) for i in range(3))
    reps = bias_replicates([(r - tw, t, k) for r, tw, t, k in triples], np.ones((1, 4)))
    assert reps[0] == pytest.approx(response_bias_pct_below_2000(r, tw, t), rel=1e-12)
    # and by hand: Σ(retrieved − twin − truth)/Σ truth over 100 ≤ truth < 2000
    low = (t >= 100) & (t < 2000)
    assert reps[0] == pytest.approx(100.0 * np.sum(r[low] - tw[low] - t[low]) / np.sum(t[low]), rel=1e-12)


def test_response_bias_leaves_out_nan_in_either_retrieval() -> None:
    truth = np.array([500.0, 1000.0, 1500.0, 50.0, 2500.0])
    twin = np.array([10.0, np.nan, -40.0, 7.0, 3.0])
    retrieved = np.array([np.nan, 5000.0, -40.0 + 0.5 * 1500.0, 900.0, 1.0])
    # only the third pixel counts (first: retrieval NaN; second: twin NaN; fourth, fifth: truth outside 100–2000)
    assert response_bias_pct_below_2000(retrieved, twin, truth) == pytest.approx(-50.0)
    reps = bias_replicates([(retrieved - twin, truth, 0)], np.ones((1, 1)))
    assert reps[0] == pytest.approx(-50.0)
    assert np.isnan(response_bias_pct_below_2000(retrieved[:2], twin[:2], truth[:2]))


def test_a_replicate_of_seeds_without_twins_is_nan() -> None:
    triples = _twin_triples(n_seeds=2, gain=0.8)
    paired = [(r - tw, t, k) for r, tw, t, k in triples[:1]]  # seed 1's twin failed: no pairs
    reps = bias_replicates(paired, np.array([[2.0, 0.0], [0.0, 2.0], [1.0, 1.0]]))
    assert reps[0] == pytest.approx(-20.0) and np.isnan(reps[1]) and reps[2] == pytest.approx(-20.0)
