"""Classic matched filter: filter weights from background statistics, and their application to blocks of pixels.

For a group of pixels (a column, a group of columns or the whole scene) with mean ``μ`` and covariance ``C``, the
target signature of a column enhancement ``ΔX`` (ppm·m) is ``s = μ ⊙ k`` with ``k`` the unit absorption
(per ppm·m, :mod:`plumetrace.spectra.target`), since ``L(ΔX) ≈ μ (1 + k ΔX)``. The maximum-likelihood estimate of
``ΔX`` under Gaussian clutter ``N(μ, C)`` is

``ΔX = (x - μ)ᵀ C⁻¹ s / (sᵀ C⁻¹ s)``,

with noise-propagated standard deviation ``σ = 1 / √(sᵀ C⁻¹ s)`` (ppm·m). The albedo-corrected variant divides by
the pixel's albedo factor ``r = xᵀμ / μᵀμ`` (brighter pixels carry a stronger absolute absorption signal), giving
``ΔX / r`` and ``σ / r``.

Which pixels form a group is chosen from the number of valid rows against the number of bands (:func:`choose_stats`):
a push-broom detector's columns differ, so per-column statistics are best when each column has enough rows
(``AUTO_ROWS_PER_BAND``, set from measurement on scenes with simulated smile and flat-field residuals);
short scenes starve them (the sample-covariance matched filter keeps a fraction ``(n - p + 2)/(n + 1)`` of its SNR,
Reed, Mallett & Brennan 1974), so columns are pooled into groups, or the whole scene.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from plumetrace.detect.covariance import GroupStatistics, cholesky_solve, regularize_covariance, stable_cholesky
from plumetrace.errors import InvalidInputError

__all__ = [
    "STATS_CHOICES",
    "ROWS_PER_BAND",
    "AUTO_ROWS_PER_BAND",
    "MIN_GROUP_PIXELS",
    "FilterWeights",
    "choose_stats",
    "group_width",
    "column_groups",
    "filter_weights",
    "apply_filter",
]

STATS_CHOICES = ("auto", "column", "group", "scene", "cluster")
#: Fewest valid pixels per window band that a group's statistics are trusted with (robust re-estimation keeps at
#: least this many; the sample-covariance filter keeps (n - p)/n of its SNR, Reed, Mallett & Brennan 1974).
ROWS_PER_BAND = 4
#: Valid rows per window band a column needs for ``stats="auto"`` to give it its own statistics (else groups of
#: columns reaching this many pixels, else the scene). Evidence (docs/design/stats_choice.md): on simulated
#: push-broom scenes *with* column effects at the instruments' specified magnitudes (smile 0.25-0.37 nm, 0.2 % +
#: 0.5 % flat-field residual), per-column statistics buy ~8 % lower noise
#: than scene-wide ones only when the columns are long, and below ~25 rows per band their estimation error (heavy
#: tails and column striping from starved covariances: the matched filter's score variance grows like n/(n - p))
#: costs far more than the column-to-column differences they capture. EMIT (50 window bands): 3 false plumes per
#: 100 km² at 12.8 rows per band (640 rows) against 0 scene-wide, 0.3 at 25.6 (1280 rows); the old 4 rows per band
#: gave 11 per 100 km² at 200 rows. Physics: smile and gain residuals change each column's *mean* by a few tenths of a
#: per cent, which is small against the sensor noise per pixel, so pooling the columns loses little. Below the
#: threshold ``auto`` pools the whole scene (groups of columns did worse than the scene on every short scene measured).
AUTO_ROWS_PER_BAND = 25
#: Fewest valid pixels a non-empty group may have.
MIN_GROUP_PIXELS = 10


@dataclass
class FilterWeights:
    """Matched-filter weights of each group.

    Attributes
    ----------
    mean : ndarray (n_group, n_band) float64, radiance units
    target : ndarray (n_group, n_band) float64, ``s = mean ⊙ k`` (radiance per ppm·m)
    q : ndarray (n_group, n_band) float64, ``C̃⁻¹ s`` with ``C̃`` the regularised covariance
    normalizer : ndarray (n_group,) float64, ``sᵀ C̃⁻¹ s`` (ppm·m)⁻²
    sigma : ndarray (n_group,) float64, noise-propagated 1σ of the estimate, ppm·m: ``√(qᵀ C q) / (sᵀ q)`` with the
        sample covariance ``C`` (equals ``1/√(sᵀC⁻¹s)`` without regularisation)
    cov : ndarray (n_group, n_band, n_band) float64, regularised covariance ``C̃``
    loading : ndarray (n_group,) or None, diagonal loading ``δ`` (for ``shrinkage="loading"``)
    count : ndarray (n_group,) int64, valid pixels behind the statistics
    """

    mean: np.ndarray
    target: np.ndarray
    q: np.ndarray
    normalizer: np.ndarray
    sigma: np.ndarray
    cov: np.ndarray
    loading: np.ndarray | None
    count: np.ndarray

    @property
    def chol(self) -> np.ndarray:
        """Lower Cholesky factors of the regularised covariances."""
        return stable_cholesky(self.cov)


def choose_stats(valid_rows: int, n_band: int, n_col: int) -> tuple[str, int]:
    """Statistics mode of ``stats="auto"`` from the valid rows per column.

    Parameters
    ----------
    valid_rows : int
        Typical (median) number of valid pixels per column.
    n_band : int
        Bands in the spectral window.
    n_col : int
        Columns in the scene.

    Returns
    -------
    (mode, columns_per_group)
        ``("column", 1)`` when ``valid_rows ≥ AUTO_ROWS_PER_BAND × n_band``, otherwise ``("scene", n_col)``.

    Notes
    -----
    Groups of columns are not chosen automatically: on simulated push-broom scenes (docs/design/stats_choice.md)
    groups reaching ``AUTO_ROWS_PER_BAND × n_band`` pixels gave 1-6 false plumes per 100 km² on EMIT where
    scene-wide statistics gave none, and 2-5× scene-wide's on AVIRIS-NG, for at most ~8 % lower background noise.
    ``stats="group"`` remains available (width from :func:`group_width`).
    """
    if valid_rows >= AUTO_ROWS_PER_BAND * n_band:
        return "column", 1
    return "scene", n_col


def group_width(valid_rows: int, n_band: int, n_col: int) -> int:
    """Narrowest group of columns holding ``AUTO_ROWS_PER_BAND × n_band`` valid pixels (at least 2, at most n_col)."""
    need = AUTO_ROWS_PER_BAND * n_band
    return int(min(max(math.ceil(need / max(valid_rows, 1)), 2), max(n_col, 1)))


def column_groups(n_col: int, mode: str, columns_per_group: int = 1) -> tuple[np.ndarray, int]:
    """Group index of every column.

    Returns
    -------
    (group_of_column (n_col,) int64, n_group)
    """
    if mode == "scene":
        return np.zeros(n_col, dtype=np.int64), 1
    width = 1 if mode == "column" else max(1, int(columns_per_group))
    groups = np.arange(n_col, dtype=np.int64) // width
    n_group = int(groups[-1]) + 1
    # Fold a narrow last group into its neighbour so no group is much smaller than the others.
    last = n_col - (n_group - 1) * width
    if n_group > 1 and last * 2 < width:
        groups[groups == n_group - 1] = n_group - 2
        n_group -= 1
    return groups, n_group


def _solve_batched(matrices: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """``np.linalg.solve`` of a stack (n, p, p) against (n, p), split over threads when the stack is large.

    NumPy's batched solve releases the GIL but runs one matrix after another; a thousand 50 × 50 solves (one per
    column) take ~20 ms on one core. Each matrix is solved by the same LAPACK call either way (identical results).
    """
    n = matrices.shape[0]
    n_threads = min(os.cpu_count() or 1, 8, n // 256)
    if n_threads <= 1:
        return np.linalg.solve(matrices, rhs[..., None])[..., 0]
    out = np.empty(rhs.shape, dtype=np.result_type(matrices, rhs))
    bounds = np.linspace(0, n, n_threads + 1).astype(int)

    def part(i: int) -> None:
        lo, hi = bounds[i], bounds[i + 1]
        out[lo:hi] = np.linalg.solve(matrices[lo:hi], rhs[lo:hi, :, None])[..., 0]

    with ThreadPoolExecutor(n_threads) as pool:
        list(pool.map(part, range(n_threads)))
    return out


def filter_weights(
    stats: GroupStatistics, unit_absorption: np.ndarray, *, shrinkage: float | str = "loading"
) -> FilterWeights:
    """Matched-filter weights from group statistics.

    Parameters
    ----------
    stats : GroupStatistics
        Mean and covariance of each group (groups with fewer than 2 pixels get NaN weights).
    unit_absorption : ndarray (n_band,)
        Target unit absorption per ppm·m.
    shrinkage : "loading", "oas" or float, keyword-only
        Covariance regularisation (see :func:`plumetrace.detect.covariance.regularize_covariance`).
    """
    k = np.asarray(unit_absorption, dtype=np.float64)
    if k.shape != (stats.mean.shape[1],):
        raise InvalidInputError("unit_absorption", f"{k.size} values for {stats.mean.shape[1]} bands")
    good = stats.count >= 2
    n_group, n_band = stats.mean.shape
    mean = np.where(good[:, None], stats.mean, 0.0)
    # No copy when every group is usable (the usual case: the covariances are n_group × n_band² float64).
    sample = stats.cov if good.all() else np.where(good[:, None, None], stats.cov, np.eye(n_band))
    cov, loading = regularize_covariance(sample, np.maximum(stats.count, 1), shrinkage=shrinkage)
    target = mean * k
    try:
        q = _solve_batched(cov, target)
    except np.linalg.LinAlgError:
        q = cholesky_solve(stable_cholesky(cov), target)
    normalizer = np.einsum("gb,gb->g", target, q)
    quad = np.einsum("gb,gb->g", q, np.matmul(sample, q[..., None])[..., 0])  # qᵀ C q (a 3-operand einsum is 5× slower)
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = np.sqrt(np.maximum(quad, 0)) / normalizer
    bad = ~good | ~(normalizer > 0)
    q[bad] = np.nan
    normalizer[bad] = np.nan
    sigma[bad] = np.nan
    return FilterWeights(
        mean=np.where(good[:, None], mean, np.nan),
        target=target,
        q=q,
        normalizer=normalizer,
        sigma=sigma,
        cov=cov,
        loading=loading,
        count=stats.count,
    )


_LAYOUTS = {"crb": ("crb,cb->cr", False), "rcb": ("rcb,cb->rc", False), "rbc": ("rbc,bc->rc", True)}


def apply_filter(
    centred: np.ndarray,
    valid: np.ndarray,
    weights: FilterWeights,
    group_of_column: np.ndarray,
    *,
    layout: str = "crb",
    albedo_correct: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Matched-filter estimate for a block of pixels.

    Parameters
    ----------
    centred : ndarray float32, axes in ``layout`` order
        Radiance in the window minus the mean of each column's group (``weights.mean[group_of_column]``).
    valid : ndarray bool, the block's (column, row) axes in ``layout`` order without the band axis
    weights : FilterWeights
    group_of_column : ndarray (n_col,) int
    layout : {"crb", "rcb", "rbc"}, keyword-only
        Axis order of ``centred``: c = column, r = row, b = band (``rbc`` is the BIL file layout).
    albedo_correct : bool, keyword-only
        Divide estimate and uncertainty by the albedo factor ``r`` (mag1c convention).

    Returns
    -------
    enhancement, uncertainty, albedo, centred_score : float32 ndarrays shaped like ``valid``
        Enhancement and 1σ in ppm·m, albedo factor ``r`` (unitless), and ``(x - μ)ᵀ C̃⁻¹ s`` (the numerator).
        Invalid pixels are NaN.
    """
    if layout not in _LAYOUTS:
        raise InvalidInputError("layout", f"{layout!r}; expected one of {', '.join(_LAYOUTS)}")
    subscripts, bands_first = _LAYOUTS[layout]
    mean64 = weights.mean[group_of_column]
    mean_dir = (mean64 / np.einsum("cb,cb->c", mean64, mean64)[:, None]).astype(np.float32)
    q = weights.q[group_of_column].astype(np.float32)
    if bands_first:
        q, mean_dir = np.ascontiguousarray(q.T), np.ascontiguousarray(mean_dir.T)
    if not bands_first:  # one small GEMM per column gives both products (2-3× faster than two einsums)
        by_column = centred if layout == "crb" else centred.transpose(1, 0, 2)  # BLAS takes the row stride
        both = np.matmul(by_column, np.stack([q, mean_dir], axis=-1))  # (col, row, 2)
        score, albedo = (both[..., i] if layout == "crb" else both[..., i].T for i in (0, 1))
        score, albedo = np.ascontiguousarray(score), np.ascontiguousarray(albedo)
    else:
        score = np.einsum(subscripts, centred, q)
        albedo = np.einsum(subscripts, centred, mean_dir)
    albedo += np.float32(1.0)
    column_axis = 0 if layout == "crb" else 1
    shape = [1, 1]
    shape[column_axis] = -1
    norm = weights.normalizer[group_of_column].astype(np.float32).reshape(shape)
    sigma = weights.sigma[group_of_column].astype(np.float32).reshape(shape)
    enhancement = score / norm
    uncertainty = np.broadcast_to(sigma, score.shape).astype(np.float32)
    if albedo_correct:
        with np.errstate(divide="ignore", invalid="ignore"):
            safe = np.where(albedo > 0, albedo, np.float32(np.nan))
            enhancement /= safe
            uncertainty /= safe
    if not valid.all():
        for arr in (enhancement, uncertainty, albedo, score):
            arr[~valid] = np.nan
    return enhancement, uncertainty, albedo, score
