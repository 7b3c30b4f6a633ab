"""Bayesian source-term estimation from in-situ samples: position, release rate Q and background offset.

Model: ``c_i − b_i = Q · m_i(x, y, h, δ) + β + ε_i`` with

* ``m_i`` the plume coupling (:mod:`plumetrace.insitu.dispersion`, mg m⁻³ per g s⁻¹) for a source at (x, y, h)
  under the measured wind rotated by a nuisance offset δ (prior N(0, ``wind_dir_sd_deg``²): the error of a
  measured mean wind direction);
* ``b_i`` the estimated background (:mod:`plumetrace.insitu.background`), β a residual offset with prior
  N(0, σ0²);
* ``ε_i ~ N(0, σ0² + (r Q m_i)²)``: sensor noise σ0 plus a multiplicative model error r (``model_error_fraction``;
  a Gaussian plume is good to about a factor of two for a single 10-min sample), with the variance set from
  the current estimate and refined twice (iteratively reweighted least squares).

For every (x, y, h, δ) on a grid, Q ≥ 0 and β are solved in closed form and integrated out analytically
(Laplace/Gaussian integral with the Q ≥ 0 truncation), giving the marginal posterior over the grid under a
uniform prior in the box. The grid is then refined by importance sampling: continuous positions drawn
from the grid posterior are re-evaluated exactly, and Q is drawn from its conditional (truncated normal)
posterior at each, giving Q's median, 68 % and 95 % intervals and the most probable position. The 95 %
credible region is the union of the highest-posterior grid cells holding 95 % of the mass (a shapely polygon).
When the source term is not significant (Q̂ below 3 σ with noise-only weights) the result is "no detectable
source" with a 95 % upper limit on Q for sources that the samples would have seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import log_ndtr, logsumexp, ndtr, ndtri
from shapely.geometry import Point, Polygon, box
from shapely.ops import unary_union

from plumetrace.errors import InvalidInputError
from plumetrace.insitu.background import Background, estimate_background
from plumetrace.insitu.dispersion import Meteorology, beam_coupling, plume_coupling

__all__ = ["InversionResult", "invert_source", "coupling_matrix", "meteorology_from_table"]


@dataclass
class InversionResult:
    """Outcome of :func:`invert_source` (local east/north metres; rates in g s⁻¹).

    ``q_g_s`` is the posterior median; ``q_68_g_s`` / ``q_95_g_s`` the central intervals; ``q_upper_95_g_s`` the
    one-sided 95 % upper limit (the headline number when ``detected`` is False). ``posterior`` (ny, nx) is the grid
    posterior marginalised over height and wind-direction offset, on cell centres ``grid_x_m`` (nx,), ``grid_y_m`` (ny,).
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
    extra: dict = field(default_factory=dict)

    @property
    def q_kg_h(self) -> float:
        return self.q_g_s * 3.6

    def summary(self) -> dict:
        """Flat JSON-serialisable summary."""
        return {
            "detected": bool(self.detected),
            "emission_rate_g_s": self.q_g_s, "emission_rate_kg_h": self.q_g_s * 3.6,
            "emission_rate_68_g_s": list(self.q_68_g_s), "emission_rate_95_g_s": list(self.q_95_g_s),
            "emission_rate_upper_95_g_s": self.q_upper_95_g_s,
            "source_x_m": self.x_m, "source_y_m": self.y_m, "source_height_m": self.height_m,
            "source_sd_x_m": self.position_sd_m[0], "source_sd_y_m": self.position_sd_m[1],
            "credible_region_area_m2": float(self.credible_region.area),
            "background_mg_m3": self.background_mg_m3, "noise_mg_m3": self.noise_mg_m3,
            "wind_dir_offset_deg": self.wind_dir_offset_deg, "significance_sigma": self.significance_sigma,
            "n_obs": self.n_obs, "source_known": self.source_known, **self.extra,
        }


def meteorology_from_table(obs: pd.DataFrame, *, wind_height_m: float, roughness_length_m: float) -> Meteorology:
    """Per-row :class:`Meteorology` from a validated observation table."""
    st = obs["stability"].to_numpy(dtype=object) if "stability" in obs else None
    return Meteorology(
        wind_speed_m_s=obs["wind_speed_m_s"].to_numpy(float), wind_dir_deg=obs["wind_dir_deg"].to_numpy(float),
        stability=None if st is None else np.where(st == "", None, st),
        obukhov_length_m=obs["obukhov_length_m"].to_numpy(float) if "obukhov_length_m" in obs else None,
        sigma_theta_deg=obs["sigma_theta_deg"].to_numpy(float) if "sigma_theta_deg" in obs else None,
        wind_height_m=wind_height_m, roughness_length_m=roughness_length_m,
    )


def coupling_matrix(obs: pd.DataFrame, sources_xyz_m: NDArray, met: Meteorology, *,
                    wind_dir_offset_deg: float = 0.0) -> NDArray:
    """Coupling (G, N), mg m⁻³ per g s⁻¹, of G candidate sources to the N rows (points and beams) of ``obs``."""
    src = np.atleast_2d(np.asarray(sources_xyz_m, dtype=float))
    out = np.zeros((src.shape[0], len(obs)))
    beam = (obs["kind"] == "beam").to_numpy()
    rows = np.flatnonzero(~beam)

    def sub(idx: NDArray) -> Meteorology:
        def pick(v):
            return None if v is None else np.broadcast_to(np.asarray(v), (len(obs),))[idx]
        return Meteorology(pick(met.wind_speed_m_s), pick(met.wind_dir_deg), pick(met.stability),
                           pick(met.obukhov_length_m), pick(met.sigma_theta_deg), met.wind_height_m,
                           met.roughness_length_m)

    if rows.size:
        rec = obs[["x_m", "y_m", "z_m"]].to_numpy(float)[rows]
        out[:, rows] = plume_coupling(rec, src, sub(rows), wind_dir_offset_deg=wind_dir_offset_deg)
    brows = np.flatnonzero(beam)
    if brows.size:
        a = obs[["x0_m", "y0_m", "z0_m"]].to_numpy(float)[brows]
        b = obs[["x1_m", "y1_m", "z1_m"]].to_numpy(float)[brows]
        out[:, brows] = beam_coupling(a, b, src, sub(brows), wind_dir_offset_deg=wind_dir_offset_deg)
    return out


def _solve(M: NDArray, c: NDArray, sigma0: float, r: float, n_iter: int = 3) -> tuple[NDArray, ...]:
    """Closed-form Q ≥ 0, β per row of M (G, N); returns q, q_sd, beta, log marginal (G,)."""
    s0sq = sigma0**2
    sb2 = s0sq
    w = 1.0 / (s0sq + (r * np.maximum(c, 0.0)) ** 2)[None, :] * np.ones_like(M)
    for it in range(n_iter):
        a = (w * M * M).sum(1)
        bm = (w * M).sum(1)
        d = w.sum(1) + 1.0 / sb2
        e = (w * M * c).sum(1)
        f = (w * c).sum(1)
        det = a * d - bm * bm
        q = np.where(det > 0, (e * d - bm * f) / np.where(det > 0, det, 1.0), 0.0)
        beta = (f - bm * q) / d
        neg = q < 0
        q = np.where(neg, 0.0, q)
        beta = np.where(neg, f / d, beta)
        if it < n_iter - 1:
            w = 1.0 / (s0sq + (r * q[:, None] * M) ** 2)
    resid = c[None, :] - q[:, None] * M - beta[:, None]
    chi2 = (w * resid * resid).sum(1) + beta**2 / sb2
    with np.errstate(over="ignore", divide="ignore"):
        var_q = np.where(det > 0, d / np.where(det > 0, det, 1.0), np.inf)
    q_sd = np.sqrt(var_q)
    # unconstrained optimum for the truncation term
    q_un = np.where(det > 0, (e * d - bm * f) / np.where(det > 0, det, 1.0), 0.0)
    logml = (-0.5 * chi2 + 0.5 * np.log(w).sum(1) - 0.5 * np.log(np.maximum(det, 1e-300))
             + log_ndtr(np.where(np.isfinite(q_sd), q_un / q_sd, 0.0)))
    return q, q_sd, beta, logml


def _default_box(obs: pd.DataFrame) -> tuple[float, float, float, float]:
    x, y = obs["x_m"].to_numpy(), obs["y_m"].to_numpy()
    pad = max(100.0, 0.5 * max(np.ptp(x), np.ptp(y)))
    return float(x.min() - pad), float(x.max() + pad), float(y.min() - pad), float(y.max() + pad)


def invert_source(obs: pd.DataFrame, *, source_known: tuple[float, float] | None = None,
                  prior_box: tuple[float, float, float, float] | None = None, grid_step_m: float | None = None,
                  source_heights_m: Sequence[float] = (0.5,), wind_height_m: float = 10.0,
                  roughness_length_m: float = 0.03, background: Background | None = None,
                  model_error_fraction: float = 0.5, noise_floor_fraction: float = 0.01,
                  wind_dir_sd_deg: float = 5.0, n_wind_offsets: int = 9, n_samples: int = 600,
                  seed: int = 0) -> InversionResult:
    """Estimate source position, height and emission rate from a validated observation table.

    Parameters
    ----------
    obs : canonical table from :func:`plumetrace.io.observations.validate_observations`.
    source_known : (x, y) of a known source (m); only Q, β and δ are then estimated.
    prior_box : (xmin, xmax, ymin, ymax) uniform prior on the position (m); default: the sampled area padded by
        max(100 m, half its size).
    grid_step_m : grid spacing (m); default: box size / 40.
    source_heights_m : candidate release heights (m); more than one adds a height dimension to the grid.
    wind_height_m, roughness_length_m : wind measurement height and surface roughness z0 (m).
    background : per-row background and noise; default: :func:`estimate_background` (10 % quantile).
    model_error_fraction : r, the multiplicative model error (one sigma).
    noise_floor_fraction : lower bound of the noise σ0 as a fraction of the largest enhancement.
    wind_dir_sd_deg : prior σ of the wind-direction offset δ; 0 turns the nuisance off.
    n_wind_offsets : grid points of δ across ±2.5 σ.
    n_samples : importance samples for the refinement.
    seed : random seed of the sampler.
    """
    if len(obs) < 2:
        raise InvalidInputError("observations", "need at least 2 samples")
    if not 0 < model_error_fraction < 5:
        raise InvalidInputError("model_error_fraction", "must lie in (0, 5)")
    heights = np.atleast_1d(np.asarray(source_heights_m, dtype=float))
    if heights.size == 0 or (heights < 0).any():
        raise InvalidInputError("source_heights_m", "need one or more heights >= 0 m")
    rng = np.random.default_rng(seed)
    conc = obs["concentration_mg_m3"].to_numpy(float)
    bg = background or estimate_background(conc, time=obs["time"])
    c = conc - bg.level_mg_m3
    sigma0 = max(bg.noise_mg_m3, noise_floor_fraction * max(float(c.max()), 0.0), 1e-12)
    met = meteorology_from_table(obs, wind_height_m=wind_height_m, roughness_length_m=roughness_length_m)
    if wind_dir_sd_deg > 0 and n_wind_offsets > 1:
        offsets = np.linspace(-2.5, 2.5, n_wind_offsets) * wind_dir_sd_deg
        log_prior_d = -0.5 * (offsets / wind_dir_sd_deg) ** 2
    else:
        offsets, log_prior_d = np.zeros(1), np.zeros(1)
    d_step = offsets[1] - offsets[0] if offsets.size > 1 else 0.0

    if source_known is not None:
        gx = np.array([float(source_known[0])])
        gy = np.array([float(source_known[1])])
        step = 0.0
    else:
        xmin, xmax, ymin, ymax = prior_box or _default_box(obs)
        if not (xmax > xmin and ymax > ymin):
            raise InvalidInputError("prior_box", "need xmin < xmax and ymin < ymax")
        step = grid_step_m or max(xmax - xmin, ymax - ymin) / 40.0
        gx = np.arange(xmin + step / 2, xmax, step)
        gy = np.arange(ymin + step / 2, ymax, step)
    def evaluate(gx: NDArray, gy: NDArray) -> tuple[NDArray, NDArray, NDArray, NDArray]:
        HH, YY, XX = np.meshgrid(heights, gy, gx, indexing="ij")
        sources = np.column_stack([XX.ravel(), YY.ravel(), HH.ravel()])
        logp = np.empty((offsets.size, sources.shape[0]))
        qs = np.empty_like(logp)
        qsd = np.empty_like(logp)
        for k, off in enumerate(offsets):
            M = coupling_matrix(obs, sources, met, wind_dir_offset_deg=float(off))
            q, q_sd, _, lml = _solve(M, c, sigma0, model_error_fraction)
            logp[k] = lml + log_prior_d[k]
            qs[k], qsd[k] = q, q_sd
        return sources, logp, qs, qsd

    sources, logp, qs, qsd = evaluate(gx, gy)
    coarse = (gx, gy, step, logp)
    if step > 0:  # zoom once onto the cells holding 99.9 % of the mass (plus one cell around them)
        cell = np.exp(logsumexp(logp, axis=0) - logsumexp(logp)).reshape(heights.size, gy.size, gx.size).sum(0)
        order = np.argsort(cell.ravel())[::-1]
        n_keep = int(np.searchsorted(np.cumsum(cell.ravel()[order]), 0.999) + 1)
        iy, ix = np.unravel_index(order[:n_keep], cell.shape)
        x0, x1 = gx[ix.min()] - 1.5 * step, gx[ix.max()] + 1.5 * step
        y0, y1 = gy[iy.min()] - 1.5 * step, gy[iy.max()] + 1.5 * step
        fine = max(step / 5.0, max(x1 - x0, y1 - y0) / 60.0)
        if fine < step:
            gx = np.arange(x0 + fine / 2, x1, fine)
            gy = np.arange(y0 + fine / 2, y1, fine)
            step = fine
            sources, logp, qs, qsd = evaluate(gx, gy)
    norm = logsumexp(logp)
    post_cells = np.exp(logsumexp(logp, axis=0) - norm)  # over sources (h, y, x)
    post_map = post_cells.reshape(heights.size, gy.size, gx.size).sum(0)

    # importance-sampling refinement ------------------------------------------------------------
    flat = np.exp(logp - norm).ravel()
    pick = rng.choice(flat.size, size=n_samples, p=flat / flat.sum())
    kd, gi = np.unravel_index(pick, logp.shape)
    samp = sources[gi].copy()
    if step > 0:
        samp[:, :2] += rng.uniform(-step / 2, step / 2, size=(n_samples, 2))
    samp_off = offsets[kd]
    s_logp = np.empty(n_samples)
    s_q = np.empty(n_samples)
    s_qsd = np.empty(n_samples)
    for k in np.unique(kd):  # evaluate exactly at the continuous positions, batched per offset
        idx = np.flatnonzero(kd == k)
        Ms = coupling_matrix(obs, samp[idx], met, wind_dir_offset_deg=float(offsets[k]))
        q, q_sd, _, lml = _solve(Ms, c, sigma0, model_error_fraction)
        s_logp[idx] = lml + log_prior_d[k]
        s_q[idx], s_qsd[idx] = q, q_sd
    logw = s_logp - np.log(flat[pick] + 1e-300)
    wts = np.exp(logw - logw.max())
    wts /= wts.sum()
    # Q | position ~ N(q, sd) truncated at 0
    u = rng.uniform(size=n_samples)
    lo = ndtr(-np.where(np.isfinite(s_qsd), s_q / s_qsd, 0.0))
    z = ndtri(np.clip(lo + u * (1 - lo), 1e-12, 1 - 1e-12))
    qdraw = np.where(np.isfinite(s_qsd), np.maximum(s_q + z * s_qsd, 0.0), s_q)
    qq = _weighted_quantiles(qdraw, wts, [0.5, 0.16, 0.84, 0.025, 0.975, 0.95])
    best = int(np.argmax(s_logp))
    mx = float(np.sum(wts * samp[:, 0]))
    my = float(np.sum(wts * samp[:, 1]))
    sdx = float(np.sqrt(np.sum(wts * (samp[:, 0] - mx) ** 2)))
    sdy = float(np.sqrt(np.sum(wts * (samp[:, 1] - my) ** 2)))

    # significance with noise-only weights at the best position
    M_best = coupling_matrix(obs, samp[best], met, wind_dir_offset_deg=float(samp_off[best]))
    q0, q0sd, _, _ = _solve(M_best, c, sigma0, 0.0, n_iter=1)
    signif = float(q0[0] / q0sd[0]) if np.isfinite(q0sd[0]) and q0sd[0] > 0 else 0.0
    n_hits = int((c > 3 * sigma0).sum())
    detected = signif >= 3.0 and n_hits >= 2

    region = _credible_region(post_map, gx, gy, step, level=0.95) if step > 0 else Point(gx[0], gy[0]).buffer(0.5)
    if detected:
        q_upper = float(qq[5])
    else:
        q_upper = _upper_limit(qs, qsd, logp, sources, obs, met, c, sigma0, offsets)
    return InversionResult(
        detected=detected, q_g_s=float(qq[0]), q_68_g_s=(float(qq[1]), float(qq[2])),
        q_95_g_s=(float(qq[3]), float(qq[4])), q_upper_95_g_s=q_upper,
        x_m=float(samp[best, 0]), y_m=float(samp[best, 1]), height_m=float(samp[best, 2]), position_sd_m=(sdx, sdy),
        credible_region=region, grid_x_m=coarse[0], grid_y_m=coarse[1],
        posterior=np.exp(logsumexp(coarse[3], axis=0) - logsumexp(coarse[3])).reshape(
            heights.size, coarse[1].size, coarse[0].size).sum(0),
        background_mg_m3=float(np.median(bg.level_mg_m3)), noise_mg_m3=float(sigma0),
        wind_dir_offset_deg=float(samp_off[best]), significance_sigma=signif, n_obs=len(obs),
        source_known=source_known is not None,
        extra={"effective_sample_size": float(1.0 / np.sum(wts**2)), "grid_step_m": float(step)},
    )


def _weighted_quantiles(values: NDArray, weights: NDArray, probs: Sequence[float]) -> NDArray:
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cw = np.cumsum(w) - 0.5 * w
    cw /= w.sum()
    return np.interp(probs, cw, v)


def _credible_region(post: NDArray, gx: NDArray, gy: NDArray, step: float, *, level: float) -> Polygon:
    """Union of the highest-posterior cells holding ``level`` of the mass."""
    flat = post.ravel()
    order = np.argsort(flat)[::-1]
    cum = np.cumsum(flat[order])
    n = int(np.searchsorted(cum, level * cum[-1]) + 1)
    iy, ix = np.unravel_index(order[:n], post.shape)
    cells = [box(gx[i] - step / 2, gy[j] - step / 2, gx[i] + step / 2, gy[j] + step / 2) for j, i in zip(iy, ix)]
    return unary_union(cells)


def _upper_limit(qs, qsd, logp, sources, obs, met, c, sigma0, offsets) -> float:
    """95 % upper limit on Q for sources the samples would have seen (noise-only weights, no wind offset)."""
    k0 = int(np.argmin(np.abs(offsets)))
    M = coupling_matrix(obs, sources, met, wind_dir_offset_deg=float(offsets[k0]))
    q, q_sd, _, _ = _solve(M, c, sigma0, 0.0, n_iter=1)
    sens = np.sqrt((M**2).sum(1))
    seen = sens >= 0.1 * sens.max() if sens.max() > 0 else np.ones_like(sens, dtype=bool)
    # 95 % quantile of N(q, sd) truncated at 0, per position; report the median over positions seen
    lo = ndtr(-q[seen] / q_sd[seen])
    up = q[seen] + q_sd[seen] * ndtri(lo + 0.95 * (1 - lo))
    return float(np.median(np.maximum(up, 0.0)))
