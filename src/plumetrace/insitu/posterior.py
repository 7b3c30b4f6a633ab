"""Posterior of the in-situ inversion: on a source grid, at importance samples, and the rate's draws.

The pieces the inversion assembles: a dispersion model (:class:`~plumetrace.insitu.plume_model.DispersionModel`),
a likelihood (:class:`~plumetrace.insitu.likelihood.GaussianLikelihood`), the nuisance nodes
(:class:`~plumetrace.insitu.plume_model.NuisanceGrid`) and a source map
(:class:`~plumetrace.insitu.source_map.SourceGrid`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import logsumexp, ndtr, ndtri

from plumetrace.insitu.likelihood import GaussianLikelihood
from plumetrace.insitu.plume_model import DispersionModel, NuisanceGrid
from plumetrace.insitu.source_map import SourceGrid

__all__ = ["GridPosterior", "PosteriorSamples", "draw_rates", "evaluate_grid", "sample_posterior", "upper_limit"]


@dataclass(frozen=True)
class GridPosterior:
    """Log posterior and the closed-form source term at every (nuisance, source) node of a grid.

    Arrays are (K, G): K nuisance combinations (:class:`NuisanceGrid` order) by G sources of ``grid``
    (:meth:`SourceGrid.sources_xyz_m` order).
    """

    grid: SourceGrid
    sources_xyz_m: NDArray
    log_posterior: NDArray
    rate_g_s: NDArray
    rate_sd_g_s: NDArray
    offset_mg_m3: NDArray

    def best(self) -> tuple[int, int]:
        """``(nuisance index, source index)`` of the highest posterior node."""
        k, g = np.unravel_index(int(np.argmax(self.log_posterior)), self.log_posterior.shape)
        return int(k), int(g)


@dataclass(frozen=True)
class PosteriorSamples:
    """Importance samples of the source position and nuisances.

    Attributes
    ----------
    sources_xyz_m : ndarray (n, 3)
        Continuous positions (east, north, height; m).
    nuisance_index : ndarray (n,)
        Flattened :class:`NuisanceGrid` index of each sample.
    log_posterior : ndarray (n,)
        Exact log posterior at each sample.
    rate_g_s, rate_sd_g_s : ndarray (n,)
        Conditional rate (Q ≥ 0) and its σ at each sample (g s⁻¹).
    weights : ndarray (n,)
        Normalised importance weights.
    """

    sources_xyz_m: NDArray
    nuisance_index: NDArray
    log_posterior: NDArray
    rate_g_s: NDArray
    rate_sd_g_s: NDArray
    weights: NDArray

    def best(self) -> int:
        """Index of the most probable sample."""
        return int(np.argmax(self.log_posterior))

    @property
    def effective_sample_size(self) -> float:
        """Kish effective sample size of the weights."""
        return float(1.0 / np.sum(self.weights**2))


def evaluate_grid(
    model: DispersionModel, likelihood: GaussianLikelihood, nuisances: NuisanceGrid, grid: SourceGrid
) -> GridPosterior:
    """Log posterior (uniform prior over ``grid``) at every nuisance combination and source of ``grid``."""
    sources = grid.sources_xyz_m()
    n_scales = nuisances.sigma_y_scales.size
    shape = (nuisances.size, sources.shape[0])
    log_post, rate, rate_sd, offset = np.empty(shape), np.empty(shape), np.empty(shape), np.empty(shape)
    for i_offset, wind_offset in enumerate(nuisances.wind_dir_offsets_deg):
        couplings = model.sparse_coupling(
            sources, wind_dir_offset_deg=float(wind_offset), sigma_y_scales=nuisances.sigma_y_scales
        )
        for i_scale in range(n_scales):
            fit = likelihood.solve(couplings[i_scale])
            i = i_offset * n_scales + i_scale
            log_post[i] = fit.log_marginal + nuisances.log_prior[i]
            rate[i], rate_sd[i], offset[i] = fit.rate_g_s, fit.rate_sd_g_s, fit.offset_mg_m3
    return GridPosterior(grid, sources, log_post, rate, rate_sd, offset)


def sample_posterior(
    posterior: GridPosterior,
    model: DispersionModel,
    likelihood: GaussianLikelihood,
    nuisances: NuisanceGrid,
    *,
    n_samples: int,
    rng: np.random.Generator,
) -> PosteriorSamples:
    """Importance samples: grid nodes drawn by posterior mass, jittered within their cell and re-evaluated exactly.

    On a single known position the grid values are exact and the weights uniform.
    """
    log_post = posterior.log_posterior
    step = posterior.grid.step_m
    mass = np.exp(log_post - logsumexp(log_post)).ravel()
    pick = rng.choice(mass.size, size=n_samples, p=mass / mass.sum())
    nuisance_index, source_index = np.unravel_index(pick, log_post.shape)
    sources = posterior.sources_xyz_m[source_index].copy()
    if step <= 0:
        return PosteriorSamples(
            sources,
            nuisance_index,
            log_post.ravel()[pick],
            posterior.rate_g_s.ravel()[pick],
            posterior.rate_sd_g_s.ravel()[pick],
            np.full(n_samples, 1.0 / n_samples),
        )
    sources[:, :2] += rng.uniform(-step / 2, step / 2, size=(n_samples, 2))
    sample_log_post = np.empty(n_samples)
    sample_rate = np.empty(n_samples)
    sample_rate_sd = np.empty(n_samples)
    n_scales = nuisances.sigma_y_scales.size
    for i_offset in np.unique(nuisance_index // n_scales):  # exact values at the continuous positions, per offset
        idx = np.flatnonzero(nuisance_index // n_scales == i_offset)
        wind_offset = float(nuisances.wind_dir_offsets_deg[i_offset])
        couplings = model.sparse_coupling(
            sources[idx], wind_dir_offset_deg=wind_offset, sigma_y_scales=nuisances.sigma_y_scales
        )
        for i_scale in np.unique(nuisance_index[idx] % n_scales):
            sel = idx[nuisance_index[idx] % n_scales == i_scale]
            fit = likelihood.solve(couplings[i_scale][np.searchsorted(idx, sel)])
            sample_log_post[sel] = fit.log_marginal + nuisances.log_prior[i_offset * n_scales + i_scale]
            sample_rate[sel], sample_rate_sd[sel] = fit.rate_g_s, fit.rate_sd_g_s
    log_weights = sample_log_post - np.log(mass[pick] + 1e-300)
    weights = np.exp(log_weights - log_weights.max())
    weights /= weights.sum()
    return PosteriorSamples(sources, nuisance_index, sample_log_post, sample_rate, sample_rate_sd, weights)


def draw_rates(samples: PosteriorSamples, *, rng: np.random.Generator) -> NDArray:
    """One rate per sample (g s⁻¹) from its conditional posterior: N(rate, σ) truncated at 0."""
    rate, rate_sd = samples.rate_g_s, samples.rate_sd_g_s
    u = rng.uniform(size=rate.size)
    finite = np.isfinite(rate_sd)
    below_zero = ndtr(-np.where(finite, rate / rate_sd, 0.0))
    z = ndtri(np.clip(below_zero + u * (1 - below_zero), 1e-12, 1 - 1e-12))
    return np.where(finite, np.maximum(rate + z * rate_sd, 0.0), rate)


def upper_limit(
    model: DispersionModel, likelihood: GaussianLikelihood, nuisances: NuisanceGrid, sources_xyz_m: NDArray
) -> float:
    """95 % upper limit on the rate (g s⁻¹) for sources the samples would have seen.

    Noise-only weights, the wind offset nearest zero; a source is seen when its coupling norm is at least 10 % of
    the largest. Per position, the 95 % quantile of N(Q, σ) truncated at 0; the median over the positions seen.
    """
    offset = nuisances.wind_dir_offsets_deg[int(np.argmin(np.abs(nuisances.wind_dir_offsets_deg)))]
    coupling = model.coupling(sources_xyz_m, wind_dir_offset_deg=float(offset))
    fit = likelihood.noise_only().solve(coupling, n_iter=1)
    sensitivity = np.sqrt((coupling**2).sum(1))
    if sensitivity.max() > 0:
        seen = sensitivity >= 0.1 * sensitivity.max()
    else:
        seen = np.ones_like(sensitivity, dtype=bool)
    rate, rate_sd = fit.rate_g_s[seen], fit.rate_sd_g_s[seen]
    below_zero = ndtr(-rate / rate_sd)
    upper = rate + rate_sd * ndtri(below_zero + 0.95 * (1 - below_zero))
    return float(np.median(np.maximum(upper, 0.0)))
