"""Bayesian source-term estimation from in-situ samples: position, release rate Q and background offset.

Model: ``c_i − b_i = Q · m_i(x, y, h, δ, k) + β + ε_i`` with

* ``m_i`` the coupling of a dispersion model (:class:`~plumetrace.insitu.plume_model.GaussianPlume`, mg m⁻³ per
  g s⁻¹) for a source at (x, y, h) under the measured wind rotated by a nuisance offset δ (prior N(0,
  ``wind_dir_sd_deg``²): the error of a measured mean wind direction) and with the lateral spread σy scaled by a
  nuisance factor k (prior ln k ~ N(0, ``sigma_y_log_sd``²));
* ``b_i`` the estimated background (:mod:`plumetrace.insitu.background`), β a residual offset with prior N(0, σ0²);
* ``ε_i ~ N(0, σ0² + (r Q m_i)²)`` (:class:`~plumetrace.insitu.likelihood.GaussianLikelihood`).

For every node of a source grid (:class:`~plumetrace.insitu.source_map.SourceGrid`) and of the nuisances, Q ≥ 0
and β are solved in closed form and integrated out analytically, giving the marginal posterior over the grid
under a uniform prior in the box. The likelihood is tempered for correlated residuals, the grid zoomed once onto
the high-probability cells, and refined by importance sampling: continuous positions drawn from the grid posterior
are re-evaluated exactly, and Q is drawn from its conditional (truncated normal) posterior at each, convolved with
the survey's common model error, giving Q's median, 68 % and 95 % intervals and the most probable position. The
95 % credible region is the union of the highest-posterior grid cells holding 95 % of the mass (a shapely
polygon). When the source term is not significant (Q̂ below 3 σ with noise-only weights) the result is "no
detectable source" with a 95 % upper limit on Q for sources that the samples would have seen.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import ndtri
from shapely.geometry import Point, Polygon

from plumetrace.insitu.background import Background, estimate_background
from plumetrace.insitu.likelihood import GaussianLikelihood, common_model_error, residual_temper, weighted_quantiles
from plumetrace.insitu.observations import Observations
from plumetrace.insitu.options import (
    MODEL_ERROR_LOG_SD,
    SIGMA_Y_LOG_SD,
    InversionOptions,
    check_sample_count,
    validate_inversion_inputs,
)
from plumetrace.insitu.plume_model import GaussianPlume, NuisanceGrid
from plumetrace.insitu.posterior import GridPosterior, draw_rates, evaluate_grid, sample_posterior, upper_limit
from plumetrace.insitu.source_map import SourceGrid, credible_region, default_box

__all__ = [
    "MODEL_ERROR_LOG_SD",
    "SIGMA_Y_LOG_SD",
    "InversionOptions",
    "InversionResult",
    "invert_source",
    "validate_inversion_inputs",
]

#: Quantiles of the rate reported: median, 68 % and 95 % central intervals, one-sided 95 % upper limit.
_RATE_PROBS = (0.5, 0.16, 0.84, 0.025, 0.975, 0.95)
#: Stratified nodes of the common log-normal model factor.
_N_MODEL_FACTOR_NODES = 16
#: Significance (in σ of the noise-only rate) and number of samples above 3 σ0 needed to call a detection.
_DETECTION_SIGMA, _MIN_HITS = 3.0, 2


@dataclass(frozen=True)
class InversionResult:
    """Outcome of :func:`invert_source` (local east/north metres; rates in g s⁻¹).

    Attributes
    ----------
    detected : bool
        The source term is significant (≥ 3 σ with noise-only weights, at least 2 samples above 3 σ0).
    q_g_s : float
        Posterior median of the emission rate (g s⁻¹).
    q_68_g_s, q_95_g_s : (float, float)
        Central 68 % and 95 % intervals of the rate (g s⁻¹).
    q_upper_95_g_s : float
        One-sided 95 % upper limit (g s⁻¹): the headline number when ``detected`` is False.
    x_m, y_m, height_m : float
        Most probable source position (m).
    position_sd_m : (float, float)
        Posterior σ of the position, east and north (m).
    credible_region : shapely Polygon
        95 % credible region of the position (m).
    grid_x_m, grid_y_m : ndarray (nx,), (ny,)
        Cell centres of the coarse grid (m).
    posterior : ndarray (ny, nx)
        Coarse-grid posterior, marginalised over height and the nuisances.
    background_mg_m3, noise_mg_m3 : float
        Median background and the noise σ0 of the likelihood (mg m⁻³).
    wind_dir_offset_deg, sigma_y_scale : float
        Nuisances of the most probable sample: wind-direction offset (degrees) and factor on σy.
    significance_sigma : float
        Noise-only rate over its σ at the most probable position.
    n_obs : int
        Number of samples.
    source_known : bool
        Whether the position was given.
    effective_sample_size : float
        Kish effective size of the importance samples.
    grid_step_m : float
        Cell size of the final (zoomed) grid (m); 0 for a known source.
    likelihood_temper, residual_lag1_corr, residual_overdispersion : float
        Power-likelihood factor λ and the residual ρ and κ it was computed from.
    model_error_log_sd, crossing_scale_log_sd : float
        Common model error τ (ln units) convolved into the rate, and the spread of the crossings' scales.
    n_crossings : int
        Plume crossings used for ``crossing_scale_log_sd``.
    """

    detected: bool
    q_g_s: float
    q_68_g_s: tuple[float, float]
    q_95_g_s: tuple[float, float]
    q_upper_95_g_s: float
    x_m: float
    y_m: float
    height_m: float
    position_sd_m: tuple[float, float]
    credible_region: Polygon
    grid_x_m: NDArray
    grid_y_m: NDArray
    posterior: NDArray
    background_mg_m3: float
    noise_mg_m3: float
    wind_dir_offset_deg: float
    significance_sigma: float
    n_obs: int
    source_known: bool
    effective_sample_size: float
    grid_step_m: float
    sigma_y_scale: float
    likelihood_temper: float
    residual_lag1_corr: float
    residual_overdispersion: float
    model_error_log_sd: float
    crossing_scale_log_sd: float
    n_crossings: int

    @property
    def q_kg_h(self) -> float:
        """Posterior median of the emission rate (kg h⁻¹)."""
        return self.q_g_s * 3.6

    def summary(self) -> dict[str, Any]:
        """Flat JSON-serialisable summary."""
        return {
            "detected": bool(self.detected),
            "emission_rate_g_s": self.q_g_s,
            "emission_rate_kg_h": self.q_g_s * 3.6,
            "emission_rate_68_g_s": list(self.q_68_g_s),
            "emission_rate_95_g_s": list(self.q_95_g_s),
            "emission_rate_upper_95_g_s": self.q_upper_95_g_s,
            "source_x_m": self.x_m,
            "source_y_m": self.y_m,
            "source_height_m": self.height_m,
            "source_sd_x_m": self.position_sd_m[0],
            "source_sd_y_m": self.position_sd_m[1],
            "credible_region_area_m2": float(self.credible_region.area),
            "background_mg_m3": self.background_mg_m3,
            "noise_mg_m3": self.noise_mg_m3,
            "wind_dir_offset_deg": self.wind_dir_offset_deg,
            "significance_sigma": self.significance_sigma,
            "n_obs": self.n_obs,
            "source_known": self.source_known,
            "effective_sample_size": self.effective_sample_size,
            "grid_step_m": self.grid_step_m,
            "sigma_y_scale": self.sigma_y_scale,
            "likelihood_temper": self.likelihood_temper,
            "residual_lag1_corr": self.residual_lag1_corr,
            "residual_overdispersion": self.residual_overdispersion,
            "model_error_log_sd": self.model_error_log_sd,
            "crossing_scale_log_sd": self.crossing_scale_log_sd,
            "n_crossings": self.n_crossings,
        }


def invert_source(
    observations: pd.DataFrame | Observations,
    options: InversionOptions | None = None,
    /,
    *,
    background: Background | None = None,
    **overrides: Any,
) -> InversionResult:
    """Estimate source position, height and emission rate from a validated observation table.

    Parameters
    ----------
    observations : DataFrame or Observations
        Canonical table from :func:`plumetrace.io.observations.validate_observations` (or its typed arrays).
    options : InversionOptions, optional
        Default ``InversionOptions()``.
    background : Background, optional
        Per-row background and noise; default: :func:`estimate_background` (10 % quantile).
    **overrides
        Fields of :class:`InversionOptions` replacing those of ``options`` (``invert_source(table, seed=3)``).

    Returns
    -------
    InversionResult

    Raises
    ------
    InvalidInputError
        An invalid option, naming it.
    InvalidFileError
        Fewer than 2 samples, naming their file.
    """
    options = options or InversionOptions()
    if overrides:
        options = replace(options, **overrides)
    if isinstance(observations, pd.DataFrame):
        observations = Observations.from_table(observations)
    check_sample_count(len(observations), source=observations.source)
    rng = np.random.default_rng(options.seed)
    bg = background or estimate_background(observations.concentration_mg_m3, time=observations.time)
    enhancement = observations.concentration_mg_m3 - bg.level_mg_m3
    noise = max(bg.noise_mg_m3, options.noise_floor_fraction * max(float(enhancement.max()), 0.0), 1e-12)
    likelihood = GaussianLikelihood(enhancement, noise, options.model_error_fraction)
    model = GaussianPlume(
        observations,
        observations.meteorology(
            wind_height_m=options.wind_height_m,
            roughness_length_m=options.roughness_length_m,
            wind_average_s=options.wind_average_s,
        ),
    )
    nuisances = NuisanceGrid.from_priors(
        wind_dir_sd_deg=options.wind_dir_sd_deg,
        n_wind_offsets=options.n_wind_offsets,
        sigma_y_log_sd=options.sigma_y_log_sd,
        n_sigma_y=options.n_sigma_y,
    )
    if options.source_known is not None:
        grid = SourceGrid.known(*options.source_known, heights_m=options.source_heights_m)
    else:
        grid = SourceGrid.from_box(
            options.prior_box or default_box(observations),
            heights_m=options.source_heights_m,
            step_m=options.grid_step_m,
        )

    coarse = evaluate_grid(model, likelihood, nuisances, grid)
    temper, lag1_corr, overdispersion = 1.0, 0.0, 1.0
    if options.temper:
        temper, lag1_corr, overdispersion = _fit_temper(
            coarse, model, likelihood, nuisances, observations.series_order()
        )
        if temper < 1.0:
            likelihood = likelihood.tempered(temper)
            if grid.step_m == 0.0:
                coarse = evaluate_grid(model, likelihood, nuisances, grid)
            else:  # approximate: the coarse grid only maps the posterior and chooses the zoom
                prior = nuisances.log_prior[:, None]
                coarse = replace(coarse, log_posterior=temper * (coarse.log_posterior - prior) + prior)
    final = coarse
    if grid.step_m > 0:
        final = evaluate_grid(model, likelihood, nuisances, grid.zoom(coarse.log_posterior))
    position_map = final.grid.position_map(final.log_posterior)

    samples = sample_posterior(final, model, likelihood, nuisances, n_samples=options.n_samples, rng=rng)
    rate_draws = draw_rates(samples, rng=rng)
    best = samples.best()
    best_source = samples.sources_xyz_m[best]
    weights = samples.weights
    mean_x = float(np.sum(weights * samples.sources_xyz_m[:, 0]))
    mean_y = float(np.sum(weights * samples.sources_xyz_m[:, 1]))
    sd_x = float(np.sqrt(np.sum(weights * (samples.sources_xyz_m[:, 0] - mean_x) ** 2)))
    sd_y = float(np.sqrt(np.sum(weights * (samples.sources_xyz_m[:, 1] - mean_y) ** 2)))
    wind_offset, sigma_y_scale = nuisances.nodes(samples.nuisance_index[best])
    best_coupling = model.coupling(best_source, wind_dir_offset_deg=wind_offset, sigma_y_scale=sigma_y_scale)
    model_error, crossing_spread, n_crossings = common_model_error(
        enhancement, best_coupling[0] * samples.rate_g_s[best], noise, prior_log_sd=options.model_error_log_sd
    )
    # the log-normal model factor on stratified quantiles (deterministic, no extra sampling noise)
    n_nodes = _N_MODEL_FACTOR_NODES
    log_factor = ndtri((np.arange(n_nodes) + 0.5) / n_nodes) * model_error
    rate_q = weighted_quantiles(
        (rate_draws[:, None] * np.exp(log_factor)[None, :]).ravel(), np.repeat(weights / n_nodes, n_nodes), _RATE_PROBS
    )

    noise_fit = likelihood.noise_only().solve(best_coupling, n_iter=1)
    rate0, rate0_sd = noise_fit.rate_g_s[0], noise_fit.rate_sd_g_s[0]
    significance = float(rate0 / rate0_sd) if np.isfinite(rate0_sd) and rate0_sd > 0 else 0.0
    n_hits = int((enhancement > 3 * noise).sum())
    detected = significance >= _DETECTION_SIGMA and n_hits >= _MIN_HITS
    if final.grid.step_m > 0:
        region = credible_region(position_map, final.grid, level=0.95)
    else:
        region = Point(final.grid.east_m[0], final.grid.north_m[0]).buffer(0.5)
    if detected:
        q_upper = float(rate_q[5])
    else:
        q_upper = upper_limit(model, likelihood, nuisances, final.sources_xyz_m)
    return InversionResult(
        detected=detected,
        q_g_s=float(rate_q[0]),
        q_68_g_s=(float(rate_q[1]), float(rate_q[2])),
        q_95_g_s=(float(rate_q[3]), float(rate_q[4])),
        q_upper_95_g_s=q_upper,
        x_m=float(best_source[0]),
        y_m=float(best_source[1]),
        height_m=float(best_source[2]),
        position_sd_m=(sd_x, sd_y),
        credible_region=region,
        grid_x_m=grid.east_m,
        grid_y_m=grid.north_m,
        posterior=grid.position_map(coarse.log_posterior),
        background_mg_m3=float(np.median(bg.level_mg_m3)),
        noise_mg_m3=float(noise),
        wind_dir_offset_deg=wind_offset,
        significance_sigma=significance,
        n_obs=len(observations),
        source_known=options.source_known is not None,
        effective_sample_size=samples.effective_sample_size,
        grid_step_m=float(final.grid.step_m),
        sigma_y_scale=sigma_y_scale,
        likelihood_temper=temper,
        residual_lag1_corr=lag1_corr,
        residual_overdispersion=overdispersion,
        model_error_log_sd=model_error,
        crossing_scale_log_sd=crossing_spread,
        n_crossings=n_crossings,
    )


def _fit_temper(
    posterior: GridPosterior,
    model: GaussianPlume,
    likelihood: GaussianLikelihood,
    nuisances: NuisanceGrid,
    order: NDArray,
) -> tuple[float, float, float]:
    """Power-likelihood factor ``(λ, ρ, κ)`` from the residuals at the best grid node (:func:`residual_temper`)."""
    i_nuisance, i_source = posterior.best()
    wind_offset, sigma_y_scale = nuisances.nodes(i_nuisance)
    coupling = model.coupling(
        posterior.sources_xyz_m[i_source], wind_dir_offset_deg=wind_offset, sigma_y_scale=sigma_y_scale
    )[0]
    c, noise = likelihood.enhancement_mg_m3, likelihood.noise_sd_mg_m3
    fitted = posterior.rate_g_s[i_nuisance, i_source] * coupling
    variance = noise**2 + (likelihood.model_error_fraction * fitted) ** 2
    in_plume = (fitted > 3 * noise) | (c > 3 * noise)
    resid = c - fitted - posterior.offset_mg_m3[i_nuisance, i_source]
    return residual_temper(resid[order], variance[order], in_plume[order])
