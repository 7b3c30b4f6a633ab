"""Checks of detect_skill's error bars and bias predictions (run ``pytest benchmarks/test_detect_skill.py``).

Each check compares against a known answer: the direct pooled computation, the multinomial's sum, a Monte Carlo of
the estimator the formula describes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from detect_skill import average_precision, bootstrap_replicates, predicted_sum, seed_weights, skill_metrics  # noqa: E402


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


@pytest.mark.parametrize("kind", ["clamped", "relaxed", "shrunk"])
def test_predicted_sum_matches_monte_carlo(kind: str) -> None:
    rng = np.random.default_rng(0)
    mu = np.array([100.0, 400.0, 900.0, 1900.0])
    sigma = np.array([300.0, 1000.0, 500.0, 250.0])
    a = mu[:, None] + sigma[:, None] * rng.standard_normal((4, 400_000))
    thr = 2.0 * sigma[:, None]
    if kind == "clamped":
        g = np.maximum(a, 0)
    elif kind == "relaxed":
        g = np.where(a > thr, a, 0)
    else:
        g = np.where(a > thr, 0.5 * (a + np.sqrt(np.clip(a * a - thr**2, 0, None))), 0)
    expected = g.mean(axis=1).sum()
    assert predicted_sum(mu, sigma, kind=kind) == pytest.approx(expected, rel=0.01)
