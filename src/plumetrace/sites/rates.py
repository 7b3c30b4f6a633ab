"""A site's mean rate Q̄, its persistence P = D/M and the persistence-weighted rate P·Q̄, each with a 68 % interval.

Monte Carlo (``n_draws`` draws, seeded):

* each detection's rate is the log-normal that reproduces its reported 68 % interval (random and systematic
  parts, as plumes and invert give it): median √(p16·p84), log-σ s = (ln p84 − ln p16)/2 (median the reported rate
  and s = 0 when the interval is degenerate);
* each draw of Q̄ resamples the site's D detections with replacement (bootstrap: the rate of an intermittent
  source varies between overpasses, and D detections sample that variation) and averages their log-normal draws;
* each draw of P is from the Jeffreys Beta posterior Beta(D + ½, M − D + ½) of a binomial proportion;
* P·Q̄ is the product of the two draws.

The point values are the plain mean of the reported rates, D/M and their product; the intervals are the 16th and
84th percentiles of the draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["RateStats", "log_sigma", "site_rates"]


@dataclass(frozen=True)
class RateStats:
    """Rates of one site (kg/h) and its persistence, each with a 68 % interval."""

    mean_rate_kg_h: float
    mean_rate_p16_kg_h: float
    mean_rate_p84_kg_h: float
    persistence: float
    persistence_p16: float
    persistence_p84: float
    pw_rate_kg_h: float
    pw_rate_p16_kg_h: float
    pw_rate_p84_kg_h: float


def log_sigma(rate_p16_kg_h: np.ndarray, rate_p84_kg_h: np.ndarray) -> np.ndarray:
    """Log-normal σ of rates from their 68 % intervals: (ln p84 − ln p16)/2 (0 where the interval is degenerate)."""
    lo = np.asarray(rate_p16_kg_h, float)
    hi = np.asarray(rate_p84_kg_h, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = 0.5 * (np.log(hi) - np.log(lo))
    return np.where(np.isfinite(s) & (s > 0), s, 0.0)


def site_rates(
    rate_kg_h: np.ndarray,
    rate_p16_kg_h: np.ndarray,
    rate_p84_kg_h: np.ndarray,
    n_overpasses: int,
    *,
    n_draws: int = 4000,
    rng: np.random.Generator,
) -> RateStats:
    """Q̄, P and P·Q̄ of one site with their 68 % intervals (module docstring).

    Parameters
    ----------
    rate_kg_h, rate_p16_kg_h, rate_p84_kg_h : array (D,)
        The site's detected rates and their 68 % intervals, kg/h (D ≥ 1).
    n_overpasses : int
        M, the overpasses that could have detected the site (M ≥ D).
    n_draws : int
    rng : numpy Generator

    Returns
    -------
    RateStats
    """
    rate = np.asarray(rate_kg_h, float)
    d = rate.size
    m = max(int(n_overpasses), d)
    s = log_sigma(rate_p16_kg_h, rate_p84_kg_h)
    lo = np.asarray(rate_p16_kg_h, float)
    hi = np.asarray(rate_p84_kg_h, float)
    with np.errstate(invalid="ignore"):
        median = np.where(s > 0, np.sqrt(lo * hi), np.maximum(rate, 1e-9))
    pick = rng.integers(0, d, size=(n_draws, d)) if d > 1 else np.zeros((n_draws, 1), dtype=np.int64)
    draws = median[pick] * np.exp(s[pick] * rng.standard_normal((n_draws, d)))
    q_draws = draws.mean(axis=1)
    p_draws = rng.beta(d + 0.5, m - d + 0.5, size=n_draws)
    pq_draws = p_draws * q_draws
    q = float(rate.mean())
    p = d / m
    q16, q84 = np.percentile(q_draws, [16, 84])
    p16, p84 = np.percentile(p_draws, [16, 84])
    pq16, pq84 = np.percentile(pq_draws, [16, 84])
    return RateStats(
        mean_rate_kg_h=q,
        mean_rate_p16_kg_h=float(min(q16, q)),
        mean_rate_p84_kg_h=float(max(q84, q)),
        persistence=p,
        persistence_p16=float(min(p16, p)),
        persistence_p84=float(max(p84, p)),
        pw_rate_kg_h=p * q,
        pw_rate_p16_kg_h=float(min(pq16, p * q)),
        pw_rate_p84_kg_h=float(max(pq84, p * q)),
    )
