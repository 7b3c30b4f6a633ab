"""Covariance from streamed sums, regularisation that never breaks."""

from __future__ import annotations

import numpy as np
import pytest

from plumetrace.detect.covariance import (
    ShiftedSums,
    merge_columns,
    noise_floor,
    regularize_covariance,
    shrink_covariance,
    stable_cholesky,
)
from plumetrace.errors import InvalidInputError


def _sums(x: np.ndarray, shift: np.ndarray) -> ShiftedSums:
    """Per-column shifted sums of x (n_col, n_row, n_band)."""
    sums = ShiftedSums.zeros(shift)
    d = x - shift[:, None, :]
    sums.count += x.shape[1]
    sums.sum1 += d.sum(axis=1)
    sums.sum2 += np.einsum("crb,crd->cbd", d, d)
    return sums


def test_merged_statistics_equal_numpy():
    rng = np.random.default_rng(0)
    x = rng.normal(5.0, 1.0, size=(6, 50, 4)) + np.arange(6)[:, None, None]
    shift = x[:, 0, :] + 0.3  # any shift gives the same answer
    sums = _sums(x, shift)
    groups = np.array([0, 0, 1, 1, 1, 2])
    stats = merge_columns(sums, groups, 3)
    for g in range(3):
        pixels = x[groups == g].reshape(-1, 4)
        np.testing.assert_allclose(stats.mean[g], pixels.mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(stats.cov[g], np.cov(pixels, rowvar=False), rtol=1e-10)
        assert stats.count[g] == pixels.shape[0]


def test_shifted_sums_avoid_cancellation():
    """Radiance ~1e4 with noise 1e-2: float32-style naive E[xx]-μμ loses it all, shifted sums keep it."""
    rng = np.random.default_rng(1)
    x = (1e4 + 1e-2 * rng.standard_normal((1, 2000, 3))).astype(np.float32).astype(np.float64)
    stats = merge_columns(_sums(x, x[:, 0, :]), np.array([0]), 1)
    np.testing.assert_allclose(np.diag(stats.cov[0]), np.var(x[0], axis=0, ddof=1), rtol=1e-6)


@pytest.mark.parametrize("shrinkage", ["loading", "oas", 0.1])
def test_regularised_covariance_is_spd_when_singular(shrinkage):
    rng = np.random.default_rng(2)
    p, n = 20, 5  # fewer pixels than bands: rank 4
    x = rng.standard_normal((n, p))
    cov = np.cov(x, rowvar=False)[None]
    reg, _ = regularize_covariance(cov, np.array([n]), shrinkage=shrinkage)
    assert np.linalg.eigvalsh(reg[0]).min() > 0
    np.linalg.cholesky(reg)


def test_constant_band_and_zero_matrix_survive():
    cov = np.zeros((2, 4, 4))
    cov[1] = np.diag([1.0, 0.0, 2.0, 3.0])
    for shrinkage in ("loading", "oas"):
        reg, _ = regularize_covariance(cov, np.array([10, 10]), shrinkage=shrinkage)
        chol = stable_cholesky(reg)
        assert np.all(np.isfinite(chol))


def test_stable_cholesky_repairs_indefinite():
    bad = np.array([[[1.0, 2.0], [2.0, 1.0]]])  # eigenvalues 3, -1
    chol = stable_cholesky(bad)
    assert np.all(np.isfinite(chol))
    rebuilt = chol[0] @ chol[0].T
    assert np.linalg.eigvalsh(rebuilt).min() > 0


def test_noise_floor_finds_sensor_noise():
    """Rank-3 clutter (variance ~1) plus white noise 1e-4: the floor is the noise variance, not the clutter."""
    rng = np.random.default_rng(3)
    p, n = 30, 3000
    clutter = rng.standard_normal((n, 3)) @ rng.standard_normal((3, p))
    x = clutter + 1e-2 * rng.standard_normal((n, p))
    cov = np.cov(x, rowvar=False)[None]
    assert noise_floor(cov, np.array([n]))[0] == pytest.approx(1e-4, rel=0.3)


def test_oas_lifts_noise_floor_loading_does_not():
    """Why loading is the default: OAS toward the diagonal adds a fraction of the clutter variance to every band."""
    rng = np.random.default_rng(4)
    p, n = 30, 1000
    clutter = rng.standard_normal((n, 3)) @ rng.standard_normal((3, p))
    x = clutter + 1e-2 * rng.standard_normal((n, p))
    cov = np.cov(x, rowvar=False)[None]
    loaded, _ = regularize_covariance(cov, np.array([n]), shrinkage="loading")
    oas, _ = regularize_covariance(cov, np.array([n]), shrinkage="oas")
    assert np.linalg.eigvalsh(loaded[0]).min() < 2e-4
    assert np.linalg.eigvalsh(oas[0]).min() > 1e-3


def test_bad_shrinkage_rejected():
    with pytest.raises(InvalidInputError, match="shrinkage"):
        shrink_covariance(np.eye(3)[None], np.array([10]), shrinkage="ledoit")
    with pytest.raises(InvalidInputError, match="shrinkage"):
        shrink_covariance(np.eye(3)[None], np.array([10]), shrinkage=1.5)
