"""Conformal calibration of the random structural σ of an emission-rate estimate (IME or CSF).

Split-conformal style (Vovk et al. 2005; Angelopoulos & Bates 2021): each calibration plume of known rate scores the
smallest σ at which its random 68 % interval holds its truth; the calibrated σ is the ⌈target (n + 1)⌉-th smallest
score. :func:`calibrate_sigma_from_draws` works on any estimate's Monte Carlo draws,
:func:`calibrate_random_sigma` on the IME's (:func:`plumetrace.plumes.montecarlo.monte_carlo_rate`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from plumetrace.errors import InvalidInputError
from plumetrace.plumes.calibration import UeffCalibration
from plumetrace.plumes.montecarlo import ime_random_draws, spread68

__all__ = ["SigmaCalibration", "calibrate_random_sigma", "calibrate_sigma_from_draws"]


@dataclass(frozen=True)
class SigmaCalibration:
    """Result of :func:`calibrate_random_sigma`.

    ``sigma`` is the calibrated random structural σ; ``sigma_needed`` the smallest σ at which each calibration
    plume's interval holds its truth (inf when none up to ``max_sigma`` does), (n,); ``coverage`` the fraction of
    the calibration plumes covered at ``sigma``; ``rank`` the order statistic used (1-based); ``truth_above`` /
    ``truth_below`` the fractions of calibration plumes whose truth lies above / below their interval at ``sigma``.
    """

    sigma: float
    n: int
    rank: int
    coverage: float
    sigma_needed: np.ndarray
    truth_above: float
    truth_below: float


def calibrate_sigma_from_draws(
    base_draws_kg_h: Any,
    structural_normals: Any,
    true_rate_kg_h: Any,
    *,
    target_coverage: float = 0.68,
    max_sigma: float = 2.0,
    tolerance: float = 1e-3,
) -> SigmaCalibration:
    """Calibrate a random structural σ so that 68 % intervals hold 68 % of the truths — for any estimate.

    Split-conformal style (Vovk et al. 2005; Angelopoulos & Bates 2021). Row i's random 68 % interval at σ is the
    16-84 % range of ``base_draws_kg_h[i] · exp(σ · structural_normals[i])`` — its Monte Carlo draws without the
    structural factor (wind, retrieval noise, transect sampling; held fixed) and that factor's normals. Its score is
    the smallest σ at which the interval holds the truth (bisection); the calibrated σ is the ⌈target (n + 1)⌉-th
    smallest score, which gives a new plume from the same population coverage ≥ target in expectation (and
    < target + 1/(n + 1) without ties). The IME (:func:`calibrate_random_sigma`) and the CSF (draws from
    :func:`csf_draws`) both use it.

    Parameters
    ----------
    base_draws_kg_h, structural_normals : sequences of n arrays (m_i,)
        Per calibration row: the draws and the structural normals, pairwise of equal length.
    true_rate_kg_h : array (n,)
        The true rate of each row, kg/h. Rows with a non-finite or non-positive truth, fewer than 10 finite draws,
        or non-finite draws are not used.
    target_coverage : float
        In (0, 1).
    max_sigma : float
        Largest σ searched; rows not covered at it score inf.

    Raises
    ------
    InvalidInputError
        Fewer than 5 usable rows, sequences of different lengths, a target outside (0, 1), or a target the
        calibration set is too small to certify (⌈target (n + 1)⌉ > n).
    """
    truth = np.asarray(true_rate_kg_h, dtype=np.float64).ravel()
    if not (len(base_draws_kg_h) == len(structural_normals) == truth.size):
        raise InvalidInputError("calibration plumes", "the per-row draws, normals and truths differ in length")
    if not 0.0 < target_coverage < 1.0:
        raise InvalidInputError("target_coverage", f"must lie in (0, 1), got {target_coverage!r}")
    rows = []
    for base, normals, q in zip(base_draws_kg_h, structural_normals, truth):
        base, normals = np.asarray(base, dtype=np.float64).ravel(), np.asarray(normals, dtype=np.float64).ravel()
        if base.shape != normals.shape:
            raise InvalidInputError("calibration plumes", "a row's draws and normals differ in length")
        if np.isfinite(q) and q > 0 and base.size >= 10 and np.all(np.isfinite(base)) and np.all(np.isfinite(normals)):
            rows.append((base, normals, float(q)))
    n = len(rows)
    if n < 5:
        raise InvalidInputError("calibration plumes", f"need at least 5 usable plumes, got {n}")
    rank = math.ceil(target_coverage * (n + 1))
    if rank > n:
        raise InvalidInputError("calibration plumes", f"{n} plumes cannot certify {target_coverage:.0%} coverage")

    def interval(k: int, sigma: float) -> tuple[float, float]:
        base, normals, _ = rows[k]
        return spread68(base * np.exp(sigma * normals))[1]

    needed = np.full(n, np.inf)
    for k, (_, _, q) in enumerate(rows):
        low, high = interval(k, 0.0)
        if low <= q <= high:
            needed[k] = 0.0
            continue
        low, high = interval(k, max_sigma)
        if not low <= q <= high:
            continue
        lo_s, hi_s = 0.0, max_sigma
        while hi_s - lo_s > tolerance:
            mid = 0.5 * (lo_s + hi_s)
            low, high = interval(k, mid)
            if low <= q <= high:
                hi_s = mid
            else:
                lo_s = mid
        needed[k] = hi_s
    sigma = float(np.sort(needed)[rank - 1])
    if not np.isfinite(sigma):
        raise InvalidInputError("calibration plumes", f"fewer than {rank} plumes are covered even at σ = {max_sigma:g}")
    above = below = 0
    for k, (_, _, q) in enumerate(rows):  # how the calibrated intervals miss
        low, high = interval(k, sigma)
        above += q > high
        below += q < low
    return SigmaCalibration(
        sigma=sigma,
        n=n,
        rank=rank,
        coverage=float(np.mean(needed <= sigma)),
        sigma_needed=needed,
        truth_above=above / n,
        truth_below=below / n,
    )


def calibrate_random_sigma(
    ime_kg: Any,
    ime_sigma_kg: Any,
    length_m: Any,
    wind_speed_m_s: Any,
    wind_speed_sigma_m_s: Any,
    true_rate_kg_h: Any,
    *,
    calibration: UeffCalibration,
    target_coverage: float = 0.68,
    n_samples: int = 2000,
    seeds: Any = None,
    max_sigma: float = 2.0,
    tolerance: float = 1e-3,
) -> SigmaCalibration:
    """Calibrate the IME's random structural σ (``model_rel_sigma``) so that 68 % intervals hold 68 % of the truths.

    For each calibration plume of known rate the random draws of :func:`monte_carlo_rate` (the plume's IME, σ_IME, L
    and GIVEN wind; a and b at their table values; its seed) are scored by :func:`calibrate_sigma_from_draws`: the
    smallest σ at which the random 68 % interval holds the truth, with the plume's draws fixed; the calibrated σ is
    the ⌈target (n + 1)⌉-th smallest score. The intervals are exactly those :func:`monte_carlo_rate` reports.

    Parameters
    ----------
    ime_kg, ime_sigma_kg, length_m, wind_speed_m_s, wind_speed_sigma_m_s, true_rate_kg_h : arrays (n,)
        Per calibration plume: its measured IME and noise σ (kg), length (m), the wind GIVEN to the quantification
        and its 1σ (m/s; the same error model as the data it will be used on), and its true rate (kg/h).
    calibration : UeffCalibration
        The row being calibrated (its ``model_rel_sigma`` is ignored).
    target_coverage : float
        In (0, 1).
    seeds : array (n,) of int, optional
        Monte Carlo seed per plume (default 0, 1, ...).
    max_sigma : float
        Largest σ searched; plumes not covered at it score inf.

    Raises
    ------
    InvalidInputError
        Per-plume arrays of different lengths, fewer than 100 samples, or any rejection of
        :func:`calibrate_sigma_from_draws` (fewer than 5 usable plumes, a target it cannot certify).
    """
    arrays = [
        np.asarray(v, dtype=np.float64).ravel()
        for v in (ime_kg, ime_sigma_kg, length_m, wind_speed_m_s, wind_speed_sigma_m_s, true_rate_kg_h)
    ]
    if len({a.size for a in arrays}) != 1:
        raise InvalidInputError("calibration plumes", "the per-plume arrays differ in length")
    if not 0.0 < target_coverage < 1.0:
        raise InvalidInputError("target_coverage", f"must lie in (0, 1), got {target_coverage!r}")
    if n_samples < 100:
        raise InvalidInputError("n_samples", f"must be at least 100, got {n_samples}")
    ime, ime_sig, length, speed, speed_sig, truth = arrays
    good = (
        np.isfinite(ime)
        & np.isfinite(ime_sig)
        & np.isfinite(length)
        & np.isfinite(speed)
        & np.isfinite(speed_sig)
        & np.isfinite(truth)
        & (length > 0)
        & (speed > 0)
        & (truth > 0)
        & (ime_sig >= 0)
        & (speed_sig >= 0)
    )
    seed_list = np.arange(ime.size) if seeds is None else np.asarray(seeds, dtype=np.int64).ravel()
    bases, normals = [], []
    for i in np.flatnonzero(good):
        rng = np.random.default_rng(int(seed_list[i]))
        _, _, base, z = ime_random_draws(
            rng, ime[i], ime_sig[i], 3600.0 / length[i], speed[i], speed_sig[i], calibration, n_samples
        )
        bases.append(base)
        normals.append(z)
    if len(bases) < 5:
        raise InvalidInputError("calibration plumes", f"need at least 5 usable plumes, got {len(bases)}")
    return calibrate_sigma_from_draws(
        bases, normals, truth[good], target_coverage=target_coverage, max_sigma=max_sigma, tolerance=tolerance
    )
