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
from scipy.sparse import csr_matrix, issparse
from scipy.special import log_ndtr, logsumexp, ndtr, ndtri
from shapely.geometry import Point, Polygon, box
from shapely.ops import unary_union

from plumetrace.errors import InvalidInputError
from plumetrace.insitu.background import Background, estimate_background
from plumetrace.insitu.dispersion import Meteorology, _pair_terms, beam_coupling, plume_coupling

__all__ = ["InversionResult", "invert_source", "validate_inversion_inputs", "coupling_matrix", "meteorology_from_table", "residual_temper",
           "MODEL_ERROR_LOG_SD", "SIGMA_Y_LOG_SD"]

# Common (whole-survey) multiplicative model error, ln units: a Gaussian plume driven by on-site wind and
# turbulence data is taken to be good to a factor of 2 at 95 % for a crosswind-integrated quantity
# (ln 2 / 1.96): the FAC2 criterion of Chang & Hanna (2004) read as a 95 % bound. Not fitted to any data set.
MODEL_ERROR_LOG_SD = float(np.log(2.0) / 1.96)
# Prior σ of ln k for the factor k on the lateral spread σy: σy from σθ (Draxler/Irwin) or from a stability class
# is uncertain by about a factor of 1.5 (one sigma); the data then estimate k.
SIGMA_Y_LOG_SD = float(np.log(1.5))


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


def meteorology_from_table(obs: pd.DataFrame, *, wind_height_m: float, roughness_length_m: float,
                           wind_average_s: float = 0.0) -> Meteorology:
    """Per-row :class:`Meteorology` from a validated observation table.

    ``wind_average_s`` > 0 replaces each row's wind by the vector mean over a centred window of that length: a plume
    sampled at a point was carried there by the wind of the last minute or so, not by the 1-s anemometer reading,
    whose noise would otherwise jitter the model plume by x·δθ (most at the farthest candidate sources).
    """
    speed = obs["wind_speed_m_s"].to_numpy(float)
    wdir = obs["wind_dir_deg"].to_numpy(float)
    if wind_average_s > 0 and len(obs) > 1:
        t = pd.DatetimeIndex(pd.to_datetime(obs["time"], utc=True))
        rad = np.deg2rad(wdir)
        comp = pd.DataFrame({"u": -speed * np.sin(rad), "v": -speed * np.cos(rad), "s": speed}, index=t)
        mean = comp.rolling(pd.Timedelta(seconds=wind_average_s), center=True, min_periods=1).mean()
        wdir = np.mod(np.rad2deg(np.arctan2(-mean["u"].to_numpy(), -mean["v"].to_numpy())), 360.0)
        speed = mean["s"].to_numpy()  # scalar mean speed (the transport speed)
    st = obs["stability"].to_numpy(dtype=object) if "stability" in obs else None
    return Meteorology(
        wind_speed_m_s=speed, wind_dir_deg=wdir,
        stability=None if st is None else np.where(st == "", None, st),
        obukhov_length_m=obs["obukhov_length_m"].to_numpy(float) if "obukhov_length_m" in obs else None,
        sigma_theta_deg=obs["sigma_theta_deg"].to_numpy(float) if "sigma_theta_deg" in obs else None,
        wind_height_m=wind_height_m, roughness_length_m=roughness_length_m,
    )


def coupling_matrix(obs: pd.DataFrame, sources_xyz_m: NDArray, met: Meteorology, *,
                    wind_dir_offset_deg: float = 0.0, sigma_y_scale: float | NDArray = 1.0,
                    sparse: bool = False) -> NDArray | list[csr_matrix]:
    """Coupling (G, N), mg m⁻³ per g s⁻¹, of G candidate sources to the N rows (points and beams) of ``obs``.

    With an array ``sigma_y_scale`` (S,) the result is (S, G, N): one matrix per lateral-spread scale.
    ``sparse=True`` returns a list (one per scale) of CSR matrices instead: most source-receptor pairs are
    upwind or far off the plume axis, and the inversion only needs the non-zeros.
    """
    src = np.atleast_2d(np.asarray(sources_xyz_m, dtype=float))
    scales = np.asarray(sigma_y_scale, dtype=float)
    if sparse and not (obs["kind"] == "beam").any():
        sc = np.atleast_1d(scales)
        rec = obs[["x_m", "y_m", "z_m"]].to_numpy(float)
        gi, ri, base, y, sy = _pair_terms(rec, src, met, wind_dir_offset_deg, 1.0, lateral_cut=6.5 * float(sc.max()))
        u2 = -0.5 * (y / sy) ** 2
        norm = base / (np.sqrt(2 * np.pi) * sy)
        shape = (src.shape[0], len(obs))
        out = []
        for k in sc:
            near = u2 > -21.0 * k**2  # exp(-21) ≈ 1e-9 of the axis value: drop
            out.append(csr_matrix((norm[near] * np.exp(u2[near] / k**2) / k, (gi[near], ri[near])), shape=shape))
        return out
    if sparse:
        dense = coupling_matrix(obs, src, met, wind_dir_offset_deg=wind_dir_offset_deg,
                                sigma_y_scale=np.atleast_1d(scales))
        return [csr_matrix(d) for d in dense]
    lead = (scales.size,) if scales.ndim == 1 else ()
    out = np.zeros(lead + (src.shape[0], len(obs)))
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
        out[..., rows] = plume_coupling(rec, src, sub(rows), wind_dir_offset_deg=wind_dir_offset_deg,
                                        sigma_y_scale=scales)
    brows = np.flatnonzero(beam)
    if brows.size:
        a = obs[["x0_m", "y0_m", "z0_m"]].to_numpy(float)[brows]
        b = obs[["x1_m", "y1_m", "z1_m"]].to_numpy(float)[brows]
        out[..., brows] = beam_coupling(a, b, src, sub(brows), wind_dir_offset_deg=wind_dir_offset_deg,
                                        sigma_y_scale=scales)
    return out


def _solve(M: NDArray, c: NDArray, sigma0: float, r: float, n_iter: int = 3,
           temper: float = 1.0) -> tuple[NDArray, ...]:
    """Closed-form Q ≥ 0, β per row of M (G, N); returns q, q_sd, beta, log marginal (G,).

    Weights: first pass 1/(σ0² + (r c⁺)²) from the data, then 1/(σ0² + (r q m)²) from the model (iteratively
    reweighted). ``temper`` (0, 1] multiplies every weight (a power likelihood: variances inflated by 1/temper).
    M is mostly zeros (upwind and off-plume pairs, where the model weight is the constant λ/σ0²), so the sums are
    taken over its non-zero entries only (CSR) plus closed-form totals for the zeros.
    """
    s0sq = sigma0**2
    sb2 = s0sq
    n = c.size
    G = M.shape[0]
    if issparse(M):
        Ms = M.tocsr()
        Ms.sum_duplicates()
    else:
        Ms = csr_matrix(np.where(np.abs(M) > 1e-12 * max(float(np.abs(M).max()), 1e-300), M, 0.0))
    rows = np.repeat(np.arange(G), np.diff(Ms.indptr))
    m = Ms.data
    cc = c[Ms.indices]
    nnz_row = np.diff(Ms.indptr)

    starts = np.minimum(Ms.indptr[:-1], max(m.size - 1, 0))
    empty = nnz_row == 0

    def rowsum(v: NDArray) -> NDArray:  # sum over each row's non-zeros (CSR segments)
        if v.size == 0:
            return np.zeros(G)
        out = np.add.reduceat(v, starts)
        out[empty] = 0.0
        return out

    w_data = temper / (s0sq + (r * np.maximum(c, 0.0)) ** 2)  # (N,) first pass
    w0 = temper / s0sq
    sum_c, sum_c2 = float(c.sum()), float(c @ c)
    W = w_data[Ms.indices]
    a = rowsum(W * m * m)
    bm = rowsum(W * m)
    e = rowsum(W * m * cc)
    d = np.full(G, w_data.sum() + 1.0 / sb2)
    f = np.full(G, float(w_data @ c))
    model_w = False
    for it in range(n_iter):
        det = a * d - bm * bm
        q = np.where(det > 0, (e * d - bm * f) / np.where(det > 0, det, 1.0), 0.0)
        beta = (f - bm * q) / d
        neg = q < 0
        q = np.where(neg, 0.0, q)
        beta = np.where(neg, f / d, beta)
        if it < n_iter - 1:
            W = temper / (s0sq + (r * q[rows] * m) ** 2)
            model_w = True
            a = rowsum(W * m * m)
            bm = rowsum(W * m)
            e = rowsum(W * m * cc)
            d = (n - nnz_row) * w0 + rowsum(W) + 1.0 / sb2
            f = w0 * (sum_c - rowsum(cc)) + rowsum(W * cc)
    # chi2 and the log normalisation with the weights of the last pass
    resid_nz = cc - q[rows] * m - beta[rows]
    if model_w:
        zeros_c2 = sum_c2 - rowsum(cc * cc)
        zeros_c = sum_c - rowsum(cc)
        n0 = n - nnz_row
        chi2 = (w0 * (zeros_c2 - 2 * beta * zeros_c + n0 * beta**2) + rowsum(W * resid_nz**2))
        logw = n0 * np.log(w0 / temper) + rowsum(np.log(W / temper))
    else:  # data weights on every sample
        wc2 = float(w_data @ (c * c))
        Wd = w_data[Ms.indices]
        tot = wc2 - 2 * beta * f + beta**2 * (d - 1.0 / sb2)  # Σ w (c - β)²
        chi2 = tot + rowsum(Wd * ((cc - q[rows] * m - beta[rows]) ** 2 - (cc - beta[rows]) ** 2))
        logw = np.full(G, np.log(w_data / temper).sum())
    chi2 = chi2 + beta**2 / sb2
    det = a * d - bm * bm
    with np.errstate(over="ignore", divide="ignore"):
        var_q = np.where(det > 0, d / np.where(det > 0, det, 1.0), np.inf)
    q_sd = np.sqrt(var_q)
    q_un = np.where(det > 0, (e * d - bm * f) / np.where(det > 0, det, 1.0), 0.0)
    # tempered normalisation: λ/2 Σ ln(w/λ); the Gaussian integrals over Q and β use the tempered weights
    logml = (-0.5 * chi2 + 0.5 * temper * logw - 0.5 * np.log(np.maximum(det, 1e-300))
             + log_ndtr(np.where(np.isfinite(q_sd), q_un / q_sd, 0.0)))
    return q, q_sd, beta, logml


def _default_box(obs: pd.DataFrame) -> tuple[float, float, float, float]:
    x, y = obs["x_m"].to_numpy(), obs["y_m"].to_numpy()
    pad = max(100.0, 0.5 * max(np.ptp(x), np.ptp(y)))
    return float(x.min() - pad), float(x.max() + pad), float(y.min() - pad), float(y.max() + pad)


def residual_temper(resid: NDArray, var: NDArray, plume: NDArray) -> tuple[float, float, float]:
    """Power-likelihood factor λ for correlated, over-dispersed residuals.

    ``resid`` (N,) residuals at the best fit in row (time / along-track) order, ``var`` (N,) their model variance,
    ``plume`` (N,) a mask of the in-plume samples. Over the in-plume samples: ρ = lag-1 autocorrelation of the
    standardised residuals (consecutive in-plume pairs) and κ = their mean square. An AR(1) sequence of n
    samples carries n (1 − ρ)/(1 + ρ) independent ones, and κ > 1 inflates the assumed variance to the one seen
    (κ < 1 is not used to sharpen: on Prairie Grass that cut the 95 % region's coverage from 0.91 to 0.60), so
    λ = (1 − ρ)/(1 + ρ) / max(1, κ), clipped to [0.01, 1]. Returns ``(λ, ρ, κ)``.
    """
    z = resid / np.sqrt(var)
    zi = z[plume]
    if zi.size < 4:
        return 1.0, 0.0, 1.0
    kappa = float(np.mean(zi**2))
    pairs = plume[1:] & plume[:-1]
    if pairs.sum() >= 3:
        a, b = z[1:][pairs], z[:-1][pairs]
        rho = float(np.clip(np.sum(a * b) / np.sqrt(np.sum(a * a) * np.sum(b * b)), 0.0, 0.98))
    else:
        rho = 0.0
    lam = (1.0 - rho) / (1.0 + rho) / max(1.0, kappa)
    return float(np.clip(lam, 0.01, 1.0)), rho, kappa


#: Highest wind measurement accepted (m): a tall tower; the log-profile conversion is meaningless above.
MAX_WIND_HEIGHT_M = 500.0
#: Roughness lengths z0 (m) above WARN are unusual (a city centre is ~1-2 m); above the wind height impossible.
WARN_ROUGHNESS_M = 3.0


def validate_inversion_inputs(obs: pd.DataFrame | None = None, *, source_known: Sequence[float] | None = None,
                              prior_box: Sequence[float] | None = None, grid_step_m: float | None = None,
                              source_heights_m: Sequence[float] = (0.5,), wind_height_m: float = 10.0,
                              roughness_length_m: float = 0.03, wind_average_s: float = 60.0, seed: int = 0) -> None:
    """The input checks of :func:`invert_source` (run first by it; callable alone to refuse bad options early).

    Raises
    ------
    InvalidFileError
        ``obs`` (read from ``obs.attrs["source"]``) has fewer than 2 samples.
    InvalidInputError
        Naming the parameter: a non-finite value; ``wind_height_m`` outside (0, 500] m; ``roughness_length_m`` not
        in (0, ``wind_height_m``) (a log wind profile needs z > z0 > 0); a negative source height; ``source_known``
        outside ``prior_box``; ``prior_box`` with xmin >= xmax or ymin >= ymax; negative ``wind_average_s``,
        ``grid_step_m`` <= 0 or a negative ``seed``. A roughness above 3 m is only warned about.
    """
    def finite(name: str, value: object) -> float:
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise InvalidInputError(name, f"must be a number, got {value!r}") from None
        if not np.isfinite(number):
            raise InvalidInputError(name, f"must be a finite number, got {value!r}")
        return number

    z = finite("wind_height_m", wind_height_m)
    if not 0 < z <= MAX_WIND_HEIGHT_M:
        raise InvalidInputError("wind_height_m", f"must lie in (0, {MAX_WIND_HEIGHT_M:g}] m, got {z:g}")
    z0 = finite("roughness_length_m", roughness_length_m)
    if not 0 < z0 < z:
        raise InvalidInputError("roughness_length_m", f"must be > 0 m and below the wind height {z:g} m, got {z0:g}")
    if z0 > WARN_ROUGHNESS_M:
        from plumetrace.errors import warn_input

        warn_input(None, "roughness_length_m", f"{z0:g} m is unusually rough (a city centre is about 1-2 m)")
    heights = np.asarray([finite("source_heights_m", h) for h in np.atleast_1d(source_heights_m).tolist()], dtype=float)
    if heights.size == 0 or (heights < 0).any():
        raise InvalidInputError("source_heights_m", f"need one or more heights >= 0 m, got {[float(h) for h in heights]}")
    average = finite("wind_average_s", wind_average_s)
    if average < 0:
        raise InvalidInputError("wind_average_s", f"must be >= 0 s, got {average:g}")
    if grid_step_m is not None and not finite("grid_step_m", grid_step_m) > 0:
        raise InvalidInputError("grid_step_m", f"must be > 0 m, got {grid_step_m!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidInputError("seed", f"must be an integer >= 0, got {seed!r}")
    if prior_box is not None:
        if len(prior_box) != 4:
            raise InvalidInputError("prior_box", f"need XMIN,XMAX,YMIN,YMAX, got {len(prior_box)} numbers")
        xmin, xmax, ymin, ymax = (finite("prior_box", v) for v in prior_box)
        if not (xmax > xmin and ymax > ymin):
            raise InvalidInputError("prior_box", f"need xmin < xmax and ymin < ymax, got {xmin:g},{xmax:g},{ymin:g},{ymax:g}")
    if source_known is not None:
        if len(source_known) != 2:
            raise InvalidInputError("source_known", f"need X,Y, got {len(source_known)} numbers")
        x, y = (finite("source_known", v) for v in source_known)
        if prior_box is not None and not (xmin <= x <= xmax and ymin <= y <= ymax):
            raise InvalidInputError("source_known", f"({x:g}, {y:g}) lies outside the prior box "
                                    f"{xmin:g}..{xmax:g} x {ymin:g}..{ymax:g} m")
    if obs is not None and len(obs) < 2:
        where = obs.attrs.get("source")
        problem = f"need at least 2 samples, got {len(obs)}"
        if where:
            from plumetrace.errors import InvalidFileError

            raise InvalidFileError(where, "rows", problem)
        raise InvalidInputError("observations", problem)


def invert_source(obs: pd.DataFrame, *, source_known: tuple[float, float] | None = None,
                  prior_box: tuple[float, float, float, float] | None = None, grid_step_m: float | None = None,
                  source_heights_m: Sequence[float] = (0.5,), wind_height_m: float = 10.0,
                  roughness_length_m: float = 0.03, background: Background | None = None,
                  model_error_fraction: float = 0.5, model_error_log_sd: float = MODEL_ERROR_LOG_SD,
                  noise_floor_fraction: float = 0.01, wind_dir_sd_deg: float = 5.0, n_wind_offsets: int = 7,
                  sigma_y_log_sd: float = SIGMA_Y_LOG_SD, n_sigma_y: int = 5, temper: bool = True,
                  wind_average_s: float = 60.0, n_samples: int = 400, seed: int = 0) -> InversionResult:
    """Estimate source position, height and emission rate from a validated observation table.

    Parameters
    ----------
    obs : canonical table from :func:`plumetrace.io.observations.validate_observations`.
    source_known : (x, y) of a known source (m); only Q, β and the nuisances are then estimated.
    prior_box : (xmin, xmax, ymin, ymax) uniform prior on the position (m); default: the sampled area padded by
        max(100 m, half its size).
    grid_step_m : grid spacing (m); default: box size / 40.
    source_heights_m : candidate release heights (m); more than one adds a height dimension to the grid.
    wind_height_m, roughness_length_m : wind measurement height and surface roughness z0 (m).
    background : per-row background and noise; default: :func:`estimate_background` (10 % quantile).
    model_error_fraction : r, the per-sample multiplicative error (one sigma) in the likelihood.
    model_error_log_sd : τ0, the common (whole-survey) multiplicative model error, ln units: Q's posterior is
        convolved with a log-normal of this width (the data constrain only Q times a common model factor).
    noise_floor_fraction : lower bound of the noise σ0 as a fraction of the largest enhancement.
    wind_dir_sd_deg : prior σ of the wind-direction offset δ; 0 turns the nuisance off.
    n_wind_offsets : grid points of δ across ±2.5 σ.
    sigma_y_log_sd : prior σ of ln(k), k a factor on the lateral spread σy; 0 turns the nuisance off.
    n_sigma_y : grid points of ln k across ±2 σ.
    temper : temper the likelihood for correlated / over-dispersed residuals (:func:`residual_temper`).
    wind_average_s : vector-average the logged wind over this centred window (s); 0 uses each row's own reading.
    n_samples : importance samples for the refinement.
    seed : random seed of the sampler.
    """
    validate_inversion_inputs(obs, source_known=source_known, prior_box=prior_box, grid_step_m=grid_step_m,
                              source_heights_m=source_heights_m, wind_height_m=wind_height_m,
                              roughness_length_m=roughness_length_m, wind_average_s=wind_average_s, seed=seed)
    if not 0 < model_error_fraction < 5:
        raise InvalidInputError("model_error_fraction", "must lie in (0, 5)")
    if not 0 <= model_error_log_sd < 3:
        raise InvalidInputError("model_error_log_sd", "must lie in [0, 3)")
    if not 0 <= sigma_y_log_sd < 2:
        raise InvalidInputError("sigma_y_log_sd", "must lie in [0, 2)")
    heights = np.atleast_1d(np.asarray(source_heights_m, dtype=float))
    rng = np.random.default_rng(seed)
    conc = obs["concentration_mg_m3"].to_numpy(float)
    bg = background or estimate_background(conc, time=obs["time"])
    c = conc - bg.level_mg_m3
    sigma0 = max(bg.noise_mg_m3, noise_floor_fraction * max(float(c.max()), 0.0), 1e-12)
    met = meteorology_from_table(obs, wind_height_m=wind_height_m, roughness_length_m=roughness_length_m,
                                 wind_average_s=wind_average_s)
    if wind_dir_sd_deg > 0 and n_wind_offsets > 1:
        offsets = np.linspace(-2.5, 2.5, n_wind_offsets) * wind_dir_sd_deg
        log_prior_d = -0.5 * (offsets / wind_dir_sd_deg) ** 2
    else:
        offsets, log_prior_d = np.zeros(1), np.zeros(1)
    if sigma_y_log_sd > 0 and n_sigma_y > 1:
        ln_k = np.linspace(-2.0, 2.0, n_sigma_y) * sigma_y_log_sd
        scales = np.exp(ln_k)
        log_prior_k = -0.5 * (ln_k / sigma_y_log_sd) ** 2
    else:
        scales, log_prior_k = np.ones(1), np.zeros(1)
    # nuisance combinations (δ, k), flattened: index = i_offset * n_scales + i_scale
    log_prior_nu = (log_prior_d[:, None] + log_prior_k[None, :]).ravel()
    n_sc = scales.size

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

    def evaluate(gx: NDArray, gy: NDArray, lam: float) -> tuple[NDArray, ...]:
        HH, YY, XX = np.meshgrid(heights, gy, gx, indexing="ij")
        sources = np.column_stack([XX.ravel(), YY.ravel(), HH.ravel()])
        shape = (offsets.size * n_sc, sources.shape[0])
        logp, qs, qsd, beta = np.empty(shape), np.empty(shape), np.empty(shape), np.empty(shape)
        for k, off in enumerate(offsets):
            M = coupling_matrix(obs, sources, met, wind_dir_offset_deg=float(off), sigma_y_scale=scales, sparse=True)
            for j in range(n_sc):
                q, q_sd, b, lml = _solve(M[j], c, sigma0, model_error_fraction, temper=lam)
                i = k * n_sc + j
                logp[i] = lml + log_prior_nu[i]
                qs[i], qsd[i], beta[i] = q, q_sd, b
        return sources, logp, qs, qsd, beta

    def fit_temper(sources: NDArray, logp: NDArray, qs: NDArray, beta: NDArray) -> tuple[float, float, float]:
        i, g = np.unravel_index(int(np.argmax(logp)), logp.shape)
        k, j = divmod(int(i), n_sc)
        m = coupling_matrix(obs, sources[g], met, wind_dir_offset_deg=float(offsets[k]),
                            sigma_y_scale=float(scales[j]))[0]
        model = qs[i, g] * m
        var = sigma0**2 + (model_error_fraction * model) ** 2
        plume = (model > 3 * sigma0) | (c > 3 * sigma0)
        resid = c - model - beta[i, g]
        return residual_temper(resid[order], var[order], plume[order])

    # residual order for the autocorrelation: the table order (time / along-track), except for fixed sensors
    # (few distinct positions), whose rows interleave: then each sensor's own time series, one after another
    pos = obs[["x_m", "y_m", "z_m"]].round(1).to_numpy()
    _, loc = np.unique(pos, axis=0, return_inverse=True)
    order = np.lexsort((np.arange(len(obs)), loc.ravel())) if loc.max() + 1 < len(obs) / 2 else np.arange(len(obs))

    lam, rho, kappa = 1.0, 0.0, 1.0
    sources, logp, qs, qsd, beta = evaluate(gx, gy, 1.0)
    if temper:
        lam, rho, kappa = fit_temper(sources, logp, qs, beta)
        if step == 0.0 and lam < 1.0:
            sources, logp, qs, qsd, beta = evaluate(gx, gy, lam)
        elif lam < 1.0:
            logp = lam * (logp - log_prior_nu[:, None]) + log_prior_nu[:, None]  # approximate, coarse grid only
    coarse = (gx, gy, step, logp)
    if step > 0:  # zoom once onto the cells holding 99.9 % of the mass (plus one cell around them)
        cell = np.exp(logsumexp(logp, axis=0) - logsumexp(logp)).reshape(heights.size, gy.size, gx.size).sum(0)
        order = np.argsort(cell.ravel())[::-1]
        n_keep = int(np.searchsorted(np.cumsum(cell.ravel()[order]), 0.999) + 1)
        iy, ix = np.unravel_index(order[:n_keep], cell.shape)
        x0, x1 = gx[ix.min()] - 1.5 * step, gx[ix.max()] + 1.5 * step
        y0, y1 = gy[iy.min()] - 1.5 * step, gy[iy.max()] + 1.5 * step
        fine = max(step / 4.0, max(x1 - x0, y1 - y0) / 40.0)
        if fine < step:
            gx = np.arange(x0 + fine / 2, x1, fine)
            gy = np.arange(y0 + fine / 2, y1, fine)
            step = fine
        sources, logp, qs, qsd, beta = evaluate(gx, gy, lam)
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
    s_logp = np.empty(n_samples)
    s_q = np.empty(n_samples)
    s_qsd = np.empty(n_samples)
    if step > 0:
        for k in np.unique(kd // n_sc):  # evaluate exactly at the continuous positions, batched per offset
            idx = np.flatnonzero(kd // n_sc == k)
            Ms = coupling_matrix(obs, samp[idx], met, wind_dir_offset_deg=float(offsets[k]), sigma_y_scale=scales,
                                 sparse=True)
            for j in np.unique(kd[idx] % n_sc):
                sel = idx[kd[idx] % n_sc == j]
                q, q_sd, _, lml = _solve(Ms[j][np.searchsorted(idx, sel)], c, sigma0, model_error_fraction,
                                         temper=lam)
                s_logp[sel] = lml + log_prior_nu[k * n_sc + j]
                s_q[sel], s_qsd[sel] = q, q_sd
        logw = s_logp - np.log(flat[pick] + 1e-300)
    else:  # a single position: the grid values are exact
        s_logp, s_q, s_qsd = logp.ravel()[pick], qs.ravel()[pick], qsd.ravel()[pick]
        logw = np.zeros(n_samples)
    wts = np.exp(logw - logw.max())
    wts /= wts.sum()
    # Q | position, nuisances ~ N(q, sd) truncated at 0, times a common log-normal model factor
    u = rng.uniform(size=n_samples)
    lo = ndtr(-np.where(np.isfinite(s_qsd), s_q / s_qsd, 0.0))
    z = ndtri(np.clip(lo + u * (1 - lo), 1e-12, 1 - 1e-12))
    qdraw = np.where(np.isfinite(s_qsd), np.maximum(s_q + z * s_qsd, 0.0), s_q)
    best = int(np.argmax(s_logp))
    mx = float(np.sum(wts * samp[:, 0]))
    my = float(np.sum(wts * samp[:, 1]))
    sdx = float(np.sqrt(np.sum(wts * (samp[:, 0] - mx) ** 2)))
    sdy = float(np.sqrt(np.sum(wts * (samp[:, 1] - my) ** 2)))
    k_best, j_best = divmod(int(kd[best]), n_sc)
    M_best = coupling_matrix(obs, samp[best], met, wind_dir_offset_deg=float(offsets[k_best]),
                             sigma_y_scale=float(scales[j_best]))
    # common model error: pooled from the a-priori value and the scatter of the plume crossings' own scales
    tau, tau_data, n_groups = _common_model_error(c, M_best[0] * s_q[best], sigma0, prior_log_sd=model_error_log_sd)
    # the log-normal model factor on stratified quantiles (deterministic, no extra sampling noise)
    eps = ndtri((np.arange(16) + 0.5) / 16) * tau
    qq = _weighted_quantiles((qdraw[:, None] * np.exp(eps)[None, :]).ravel(), np.repeat(wts / 16, 16),
                             [0.5, 0.16, 0.84, 0.025, 0.975, 0.95])

    # significance with noise-only weights at the best position
    q0, q0sd, _, _ = _solve(M_best, c, sigma0, 0.0, n_iter=1)
    signif = float(q0[0] / q0sd[0]) if np.isfinite(q0sd[0]) and q0sd[0] > 0 else 0.0
    n_hits = int((c > 3 * sigma0).sum())
    detected = signif >= 3.0 and n_hits >= 2

    region = _credible_region(post_map, gx, gy, step, level=0.95) if step > 0 else Point(gx[0], gy[0]).buffer(0.5)
    if detected:
        q_upper = float(qq[5])
    else:
        q_upper = _upper_limit(sources, obs, met, c, sigma0, offsets)
    return InversionResult(
        detected=detected, q_g_s=float(qq[0]), q_68_g_s=(float(qq[1]), float(qq[2])),
        q_95_g_s=(float(qq[3]), float(qq[4])), q_upper_95_g_s=q_upper,
        x_m=float(samp[best, 0]), y_m=float(samp[best, 1]), height_m=float(samp[best, 2]), position_sd_m=(sdx, sdy),
        credible_region=region, grid_x_m=coarse[0], grid_y_m=coarse[1],
        posterior=np.exp(logsumexp(coarse[3], axis=0) - logsumexp(coarse[3])).reshape(
            heights.size, coarse[1].size, coarse[0].size).sum(0),
        background_mg_m3=float(np.median(bg.level_mg_m3)), noise_mg_m3=float(sigma0),
        wind_dir_offset_deg=float(offsets[k_best]), significance_sigma=signif, n_obs=len(obs),
        source_known=source_known is not None,
        extra={"effective_sample_size": float(1.0 / np.sum(wts**2)), "grid_step_m": float(step),
               "sigma_y_scale": float(scales[j_best]), "likelihood_temper": lam, "residual_lag1_corr": rho,
               "residual_overdispersion": kappa, "model_error_log_sd": tau, "crossing_scale_log_sd": tau_data,
               "n_crossings": n_groups},
    )


def _common_model_error(c: NDArray, model: NDArray, sigma0: float, *, prior_log_sd: float,
                        prior_weight: float = 2.0, min_size: int = 3) -> tuple[float, float, int]:
    """Log-sd τ of the model factor common to a whole survey, from the survey's own residuals.

    In-plume samples (data or best-fit model above 3 σ0) are split into crossings: runs of consecutive rows (an
    arc, a transect, a beam sweep). Each crossing's own least-squares scale s_g = Σ c m / Σ m² against the best-fit
    model gives ln s_g; their spread s is how far the model's shape is off from one crossing to the next. The
    common factor is taken to be as uncertain as one crossing's (the errors of the crossings of one survey share
    their cause: σ from the same wind and stability), pooled with the a-priori value τ_prior as a prior worth
    ``prior_weight`` crossings: τ² = (ν0 τ_prior² + (G − 1) s²) / (ν0 + G − 1). Returns ``(τ, s, G)``.
    """
    plume = (c > 3 * sigma0) | (model > 3 * sigma0)
    idx = np.flatnonzero(plume)
    if idx.size == 0 or prior_log_sd == 0.0:
        return float(prior_log_sd), float("nan"), 0
    breaks = np.flatnonzero(np.diff(idx) > 1) + 1
    logs = []
    for g in np.split(idx, breaks):
        mm = model[g]
        if g.size >= min_size and np.sum(mm * mm) > 0:
            scale = float(np.sum(c[g] * mm) / np.sum(mm * mm))
            if scale > 0:
                logs.append(np.log(scale))
    G = len(logs)
    if G < 2:
        return float(prior_log_sd), float("nan"), G
    s = float(np.std(logs, ddof=1))
    tau2 = (prior_weight * prior_log_sd**2 + (G - 1) * s**2) / (prior_weight + G - 1)
    return float(np.sqrt(tau2)), s, G


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


def _upper_limit(sources, obs, met, c, sigma0, offsets) -> float:
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
