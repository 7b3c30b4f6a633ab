"""Background statistics that never break: streamed sums, shrinkage covariance and stable SPD solves.

The detectors only need, for each group of pixels (a cross-track column, a group of columns or the whole scene),
the mean spectrum and the covariance. They are accumulated in one pass as sums of *shifted* spectra,
``Σ (x - k)`` and ``Σ (x - k)(x - k)ᵀ`` with a per-column shift ``k`` close to the mean, so float32 products do
not cancel catastrophically; the shifted sums are merged in float64.

Regularisation, by default, is *diagonal loading at the noise floor* (Carlson 1988, IEEE TAES 24:397): add
``δ I`` with ``δ = (p / n)² × σ²_floor`` when ``n < 3p`` (and a token ``1e-6 σ²_floor`` otherwise), where
``σ²_floor`` is the mean of the smallest quarter of the non-zero sample eigenvalues (the sensor-noise level once the
few clutter directions are excluded), ``p`` the number of bands and ``n`` of pixels. It keeps the matrix positive
definite when a group has fewer pixels than bands and leaves well-sampled groups alone: a fixed loading caps the
whitening gain the sparse filter gets from removing the plume and biased it low. Shrinkage toward the diagonal (Oracle Approximating
Shrinkage, Chen et al. 2010, IEEE TSP 58:5016, applied to the correlation matrix, or a fixed intensity) is offered
too, but on high-SNR scenes whose clutter variance dwarfs the noise it lifts the noise floor by orders of magnitude
and degrades the matched filter (tests/detect/test_covariance.py shows it). Solves use a Cholesky factor; a matrix
that is still not numerically positive definite is repaired by flooring its eigenvalues.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from plumetrace.errors import InvalidInputError

__all__ = [
    "ShiftedSums",
    "GroupStatistics",
    "merge_columns",
    "oas_shrinkage",
    "shrink_covariance",
    "noise_floor",
    "regularize_covariance",
    "stable_cholesky",
    "cholesky_solve",
]


@dataclass
class ShiftedSums:
    """Per-column sums of shifted spectra.

    Attributes
    ----------
    shift : ndarray (n_col, n_band) float64
        The shift ``k`` subtracted before summing (radiance units).
    count : ndarray (n_col,) int64
        Valid pixels per column.
    sum1 : ndarray (n_col, n_band) float64
        ``Σ (x - k)``.
    sum2 : ndarray (n_col, n_band, n_band) float64
        ``Σ (x - k)(x - k)ᵀ``.
    """

    shift: np.ndarray
    count: np.ndarray
    sum1: np.ndarray
    sum2: np.ndarray

    @classmethod
    def zeros(cls, shift: np.ndarray) -> ShiftedSums:
        n_col, n_band = shift.shape
        return cls(
            shift=np.asarray(shift, dtype=np.float64),
            count=np.zeros(n_col, dtype=np.int64),
            sum1=np.zeros((n_col, n_band)),
            sum2=np.zeros((n_col, n_band, n_band)),
        )

    def add(self, other: ShiftedSums) -> None:
        """Add the sums of another accumulator with the same shift (in place)."""
        self.count += other.count
        self.sum1 += other.sum1
        self.sum2 += other.sum2


@dataclass
class GroupStatistics:
    """Mean and covariance of each group of columns.

    Attributes
    ----------
    count : ndarray (n_group,) int64
    mean : ndarray (n_group, n_band) float64, radiance units
    cov : ndarray (n_group, n_band, n_band) float64, sample covariance ``Σ (x - mean)(x - mean)ᵀ / (n - 1)``
    """

    count: np.ndarray
    mean: np.ndarray
    cov: np.ndarray


def merge_columns(
    sums: ShiftedSums, group_of_column: np.ndarray, n_group: int, *, overwrite: bool = False
) -> GroupStatistics:
    """Mean and covariance of each group of columns from per-column shifted sums.

    Parameters
    ----------
    sums : ShiftedSums
        Per-column sums (n_col columns).
    group_of_column : ndarray (n_col,) int
        Group index (0 … n_group-1) of every column.
    n_group : int
    overwrite : bool, keyword-only
        Re-centre ``sums.sum2`` in place (no copy of the n_col × n_band² array); ``sums`` is unusable afterwards.

    Returns
    -------
    GroupStatistics
        Groups without valid pixels get count 0 and NaN mean/covariance.
    """
    group_of_column = np.asarray(group_of_column)
    n_band = sums.shift.shape[1]
    count = np.bincount(group_of_column, weights=sums.count, minlength=n_group).astype(np.int64)
    raw1 = np.zeros((n_group, n_band))
    np.add.at(raw1, group_of_column, sums.sum1 + sums.count[:, None] * sums.shift)  # Σ x per group
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = raw1 / count[:, None]
    # Re-centre each column's shifted sums on its group mean: with d = k - m and w = s1 + n d / 2,
    # Σ(x-m)(x-m)ᵀ = Σ(x-k)(x-k)ᵀ + d s1ᵀ + s1 dᵀ + n d dᵀ = Σ(x-k)(x-k)ᵀ + w dᵀ + d wᵀ. The result is symmetrised
    # below, and sym(S + w dᵀ + d wᵀ) = sym(S + 2 w dᵀ): one contiguous update here, one transposed pass there.
    d = sums.shift - np.nan_to_num(mean)[group_of_column]
    w = sums.sum1 + 0.5 * sums.count[:, None] * d
    if n_group == group_of_column.size and np.array_equal(group_of_column, np.arange(n_group)):
        cov = _recentred_columns(sums.sum2, w, 2.0 * d, 0.5 / np.maximum(count - 1, 1))
        cov[count < 2] = np.nan
        return GroupStatistics(count=count, mean=mean, cov=cov)
    per_column = sums.sum2 if overwrite else sums.sum2.copy()
    outer = np.multiply(w[:, :, None], 2.0 * d[:, None, :])
    per_column += outer
    if np.all(np.diff(group_of_column) >= 0):  # contiguous groups: one segmented sum
        starts = np.searchsorted(group_of_column, np.arange(n_group))
        scatter = np.add.reduceat(per_column, starts, axis=0)
        scatter[np.bincount(group_of_column, minlength=n_group) == 0] = 0.0
    else:
        scatter = np.zeros((n_group, n_band, n_band))
        np.add.at(scatter, group_of_column, per_column)
    # Symmetrise into a free (n_group, n_band, n_band) buffer (``outer`` when the shapes agree): no extra copy.
    cov = outer if outer.shape == scatter.shape else np.empty_like(scatter)
    del per_column, outer
    np.add(scatter, scatter.transpose(0, 2, 1), out=cov)
    del scatter
    cov *= (0.5 / np.maximum(count - 1, 1))[:, None, None]
    cov[count < 2] = np.nan
    return GroupStatistics(count=count, mean=mean, cov=cov)


_RECENTRE_CHUNK = 32  # columns per step: a 32 × 50² float64 temporary stays in L2


def _recentred_columns(sum2: np.ndarray, w: np.ndarray, d2: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """``factor × sym(S + w d2ᵀ)`` per column with ``sym(A) = A + Aᵀ``, into a new array; ``sum2`` is left alone.

    Computed a few columns at a time (the temporaries stay in cache) and split over threads for wide scenes:
    the same operations, element by element, as the whole-array form.
    """
    n_col = sum2.shape[0]
    cov = np.empty_like(sum2)

    def part(bounds: tuple[int, int]) -> None:
        for c0 in range(bounds[0], bounds[1], _RECENTRE_CHUNK):
            c1 = min(c0 + _RECENTRE_CHUNK, bounds[1])
            tmp = np.multiply(w[c0:c1, :, None], d2[c0:c1, None, :])
            tmp += sum2[c0:c1]
            np.add(tmp, tmp.transpose(0, 2, 1), out=cov[c0:c1])
            cov[c0:c1] *= factor[c0:c1, None, None]

    n_threads = min(os.cpu_count() or 1, 8, n_col // 256)
    if n_threads <= 1:
        part((0, n_col))
    else:
        edges = np.linspace(0, n_col, n_threads + 1).astype(int)
        with ThreadPoolExecutor(n_threads) as pool:
            list(pool.map(part, zip(edges[:-1], edges[1:])))
    return cov


def oas_shrinkage(corr: np.ndarray, n_samples: np.ndarray) -> np.ndarray:
    """OAS shrinkage intensity toward the identity for correlation matrices.

    Parameters
    ----------
    corr : ndarray (..., p, p)
        Sample correlation matrices (unit diagonal).
    n_samples : ndarray (...)
        Number of samples behind each matrix.

    Returns
    -------
    ndarray (...) in [0, 1].
    """
    p = corr.shape[-1]
    mu = np.trace(corr, axis1=-2, axis2=-1) / p
    alpha = np.mean(corr**2, axis=(-2, -1))
    num = alpha + mu**2
    den = (np.asarray(n_samples, dtype=np.float64) + 1.0) * (alpha - mu**2 / p)
    with np.errstate(invalid="ignore", divide="ignore"):
        shrinkage = np.where(den > 0, num / den, 1.0)
    return np.clip(shrinkage, 0.0, 1.0)


def shrink_covariance(cov: np.ndarray, n_samples: np.ndarray, *, shrinkage: float | str = "oas") -> np.ndarray:
    """Shrink covariance matrices toward their diagonal (OAS on the correlation matrix, or a fixed intensity).

    Parameters
    ----------
    cov : ndarray (..., p, p)
        Sample covariances.
    n_samples : ndarray (...)
        Samples behind each.
    shrinkage : "oas" or float in [0, 1], keyword-only
        ``"oas"`` estimates the intensity from the data; a float fixes it (0 = none).

    Returns
    -------
    ndarray (..., p, p), symmetric positive definite whenever the diagonal is positive.
    """
    cov = np.asarray(cov, dtype=np.float64)
    diag = np.diagonal(cov, axis1=-2, axis2=-1)
    # Floor the variances: a constant band (variance 0) must not produce a singular matrix.
    floor = np.maximum(np.nanmax(diag, axis=-1, keepdims=True), np.finfo(np.float64).tiny) * 1e-10
    var = np.maximum(diag, floor)
    scale = np.sqrt(var)
    corr = cov / (scale[..., :, None] * scale[..., None, :])
    idx = np.arange(cov.shape[-1])
    corr[..., idx, idx] = 1.0
    if isinstance(shrinkage, str):
        if shrinkage != "oas":
            raise InvalidInputError("shrinkage", f"{shrinkage!r}; expected 'loading', 'oas' or a number in [0, 1]")
        rho = oas_shrinkage(corr, n_samples)
    else:
        if not 0.0 <= float(shrinkage) <= 1.0:
            raise InvalidInputError("shrinkage", f"{shrinkage} is outside [0, 1]")
        rho = np.full(cov.shape[:-2], float(shrinkage))
    shrunk = (1.0 - rho)[..., None, None] * corr
    shrunk[..., idx, idx] = 1.0
    return shrunk * (scale[..., :, None] * scale[..., None, :])


def stable_cholesky(cov: np.ndarray) -> np.ndarray:
    """Lower Cholesky factors of (batched) symmetric matrices, repairing any that are not positive definite.

    Matrices that fail are replaced by their eigen-decomposition with eigenvalues floored at 1e-10 × the largest
    (per matrix), which is the nearest well-conditioned SPD matrix in the Frobenius sense up to that floor.
    """
    cov = np.asarray(cov, dtype=np.float64)
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        pass
    batch = cov.reshape(-1, *cov.shape[-2:])
    out = np.empty_like(batch)
    for i, matrix in enumerate(batch):
        try:
            out[i] = np.linalg.cholesky(matrix)
        except np.linalg.LinAlgError:
            sym = 0.5 * (matrix + matrix.T)
            values, vectors = np.linalg.eigh(np.nan_to_num(sym))
            top = max(float(values.max()), np.finfo(np.float64).tiny)
            values = np.maximum(values, top * 1e-10)
            out[i] = np.linalg.cholesky((vectors * values) @ vectors.T)
    return out.reshape(cov.shape)


def cholesky_solve(chol: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve ``A x = b`` given the lower Cholesky factor of ``A``.

    Parameters
    ----------
    chol : ndarray (..., p, p)
        Lower-triangular factors.
    rhs : ndarray (..., p)
        Right-hand sides.

    Returns
    -------
    ndarray (..., p)
    """
    y = np.linalg.solve(chol, rhs[..., None])
    return np.linalg.solve(np.swapaxes(chol, -1, -2), y)[..., 0]


def noise_floor(cov: np.ndarray, n_samples: np.ndarray, *, max_groups: int = 64) -> np.ndarray:
    """Noise-floor variance of each covariance: mean of the smallest quarter of its non-zero eigenvalues.

    Parameters
    ----------
    cov : ndarray (n_group, p, p)
    n_samples : ndarray (n_group,)
    max_groups : int, keyword-only
        Eigen-decompose at most this many evenly spaced groups and interpolate the rest (neighbouring columns of a
        push-broom sensor have similar noise), which keeps the cost flat for wide scenes.

    Returns
    -------
    ndarray (n_group,), radiance² units, positive.
    """
    cov = np.asarray(cov, dtype=np.float64)
    n_group, p = cov.shape[0], cov.shape[-1]
    picks = np.unique(np.linspace(0, n_group - 1, min(n_group, max_groups)).round().astype(int))
    values = _eigvalsh_threads(np.nan_to_num(cov[picks]))[:, ::-1]  # descending
    floors = np.empty(picks.size)
    tiny = np.finfo(np.float64).tiny
    for i, (vals, n) in enumerate(zip(values, np.asarray(n_samples)[picks])):
        rank = int(max(1, min(int(n) - 1, p)))
        low = vals[max(0, rank - max(1, rank // 4)) : rank]
        floors[i] = max(float(np.mean(low)), float(vals[0]) * 1e-12, tiny)
    if picks.size == n_group:
        return floors
    return np.interp(np.arange(n_group), picks, floors)


def _eigvalsh_threads(matrices: np.ndarray) -> np.ndarray:
    """``np.linalg.eigvalsh`` of a stack, split over two threads when it is large (NumPy releases the GIL)."""
    n = matrices.shape[0]
    if n < 32 or (os.cpu_count() or 1) < 2:
        return np.linalg.eigvalsh(matrices)
    half = n // 2
    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(np.linalg.eigvalsh, (matrices[:half], matrices[half:]))
    return np.concatenate([first, second])


def regularize_covariance(
    cov: np.ndarray, n_samples: np.ndarray, *, shrinkage: float | str = "loading"
) -> tuple[np.ndarray, np.ndarray | None]:
    """Regularised covariance for the detectors.

    Parameters
    ----------
    cov : ndarray (n_group, p, p)
        Sample covariances.
    n_samples : ndarray (n_group,)
    shrinkage : "loading", "oas" or float in [0, 1], keyword-only
        Diagonal loading at the noise floor (default), OAS toward the diagonal, or a fixed fraction toward it.

    Returns
    -------
    (regularised, loading)
        ``loading`` (n_group,) is the ``δ`` added to the diagonal for ``"loading"``, else None.
    """
    cov = np.asarray(cov, dtype=np.float64)
    if isinstance(shrinkage, str) and shrinkage == "loading":
        p = cov.shape[-1]
        n = np.maximum(np.asarray(n_samples, dtype=np.float64), 1.0)
        ratio = p / n
        # Needed only when pixels are scarce: with n ≥ 3p the sample covariance is well conditioned, and loading
        # would cap the whitening gain the sparse filter gets from removing the plume (it biased it low by 20-60 %).
        delta = np.where(ratio > 1.0 / 3.0, ratio**2, 1e-6) * noise_floor(cov, n)
        out = cov.copy()
        idx = np.arange(p)
        out[:, idx, idx] += delta[:, None]
        return out, delta
    return shrink_covariance(cov, n_samples, shrinkage=shrinkage), None
