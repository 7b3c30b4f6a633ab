"""Turbulent puff plume model: emission rate and wind → CH4 column enhancement (ppm·m) on a pixel grid.

The plume is an ensemble of Gaussian puffs released every ``dt`` seconds from the source and carried by the mean
wind plus a low-frequency **meander** of its direction and speed (Ornstein-Uhlenbeck processes). Every puff moves
with the wind of each instant after its release, so the plume snakes; each puff also takes its own random
turbulent displacement (``turbulent_jitter`` × its size).

Ensemble puff growth (``growth="taylor"``; the absolute spread of ``growth="inertial"`` and ``"gifford"``) follows Taylor's (1921)
theory **with travel time** t, driven by the turbulence of a stated convective boundary layer (:class:`BoundaryLayer`)::

    σ_y²(t) = σ0² + 2 σ_v² T_L² (t/T_L − 1 + exp(−t/T_L))      (→ σ_v t for t ≪ T_L, √(2 σ_v² T_L t) for t ≫ T_L)

with the lateral and vertical turbulence of AERMOD's boundary-layer parameterisation (Cimorelli et al. 2005, J. Appl.
Meteor. 44, 682, eqs. for σ_v and σ_w at the surface layer / mixed layer)::

    σ_v² = 0.35 w*² + 3.6 u*²          σ_w² = (0.6 w*)² + (1.3 u*)²

and the Lagrangian time scales of the convective boundary layer of Hanna (1982, in *Atmospheric Turbulence and Air
Pollution Modelling*, Reidel, pp. 275-310): T_L,v = 0.15 z_i / σ_v, T_L,w = 0.15 z_i / σ_w. The friction velocity comes
from the neutral log law, u* = κ U10 / ln(10 m / z0) (κ = 0.4), unless given. Convective eddies (σ_v ≈ 0.6 w*, of the
order of 1 m/s at midday) therefore spread the plume with *time* and dominate at low wind, as in large-eddy
simulations (Varon et al. 2018), instead of growing with travel distance regardless of wind speed. Vertical spread
follows the same law with σ_w and is capped by the mixing height (σ_z ≤ z_i/√3, the RMS height of a layer mixed from
the ground to z_i); it is recorded per puff but does not change the column. The defaults of
:class:`BoundaryLayer` (w* = 1.5 m/s, z_i = 1000 m, z0 = 0.1 m) are typical of the midday convective boundary layer
over land that sun-synchronous and ISS overpasses (10:00-14:00 local time) see (Stull 1988, *An Introduction to
Boundary Layer Meteorology*, ch. 1 and 4: w* ≈ 1-2 m/s, z_i ≈ 1-2 km).

Meander: sub-mesoscale motions move the whole plume with a velocity of standard deviation σ_m that hardly depends on
the mean wind (Mahrt 2009, Boundary-Layer Meteorol. 130, 1-14; Anfossi et al. 2005, Boundary-Layer Meteorol. 114,
179-203: 0.2-0.5 m/s, time scales of many minutes). The direction therefore meanders by σ_θ = atan(σ_m / U) (large at
low wind, a few degrees at high wind) and the speed by σ_m / U of itself, both with time scale ``meander_time_s``.

Relative dispersion and centroid meander (``growth="gifford"`` and the default ``growth="inertial"``): a snapshot sees one *realisation*, not the
ensemble average. Following Gifford's (1982) fluctuating-plume model (Atmos. Environ. 16, 107-120; also Sykes et al.
1986 / SCIPUFF, and Seinfeld & Pandis, *Atmospheric Chemistry and Physics*, ch. 18) the ensemble (Taylor) variance
is split into the growth of each puff about its own centre (relative dispersion) and the wandering of that centre
(meander by eddies larger than the puff)::

    σ_r²(t) = σ0² + min(S(t), σ_T²(t))     S(t) = ∫₀ᵗ (g/2) ε(t') t'² dt'     σ_c²(t) = σ_T²(t) − min(S(t), σ_T²(t))

so σ_r² + σ_c² = σ0² + σ_T² (the ensemble-mean plume is Taylor's, unchanged). The puff term is Richardson-Obukhov
relative dispersion in the inertial range, ⟨|r|²⟩ = g ε t³ for particle pairs with Richardson's constant g = 0.5
(Sawford 2001, Annu. Rev. Fluid Mech. 33, 289; Ott & Mann 2000, J. Fluid Mech. 422, 207); the per-axis variance of a
cloud about its centroid is ⟨|r|²⟩/6, i.e. S = g ε t³/6 at constant ε. A ground-level plume rises through the
surface layer as it ages, so ε is taken at the puff's mean height z̄ = √(2/π) σ_z(t) (a Gaussian reflected at the
ground; at least 2 m) from the unstable surface-layer similarity law of Wyngaard & Coté (1971) as given by Kaimal &
Finnigan (1994, *Atmospheric Boundary Layer Flows*, ch. 1), ε = u*³/(κ z) (1 + 0.5 |z/L|^(2/3))^(3/2) with
−L = u*³ z_i / (κ w*³), and no less than the mixed-layer value 0.4 w*³/z_i (Caughey & Palmer 1979, Q. J. R.
Meteorol. Soc. 105, 811); S integrates the growth rate g ε t²/2 along the puff's life. The centre offset of a puff is
σ_c(age) times a unit random process η in release time, independently along x and y:

* ``growth="gifford"``: η is one Ornstein-Uhlenbeck process with the Lagrangian time scale T_L,v, so
  puffs released within T_L of each other are moved by the same eddy; its structure function
  ⟨(η(t+Δ) − η(t))²⟩ = 2 (1 − e^(−Δ/T_L)) is linear in Δ, and the near-field plume moves almost rigidly.
* ``growth="inertial"`` (default): η is a sum of independent unit OU processes with time scales spaced by
  octaves from the puff release interval up to T_L,v and variance weights ∝ τ^(2/3) (:func:`inertial_time_scales`),
  so that its variance is still exactly 1 (the ensemble-mean plume is unchanged) while its structure function grows
  as Δ^(2/3) below T_L: with the puffs strung out at r = U Δ (Taylor's frozen turbulence) this is Kolmogorov's
  inertial-range r^(2/3) law (Kolmogorov 1941; Monin & Yaglom 1975, vol. 2, §21), so eddies of 10-100 m
  decorrelate neighbouring puffs instead of moving the whole near field together. The sum of exponentials with
  geometrically spaced rates is the usual Markov approximation of a power-law correlation (Carmona & Coutin 1998;
  Harms & Stefanovits 2019). The only choice is the octave spacing (a finer one changes the log-slope ripple, not
  the law).

No constant was tuned to any benchmark target.

``growth="taylor"`` is the simpler model (each puff grows at the full ensemble rate σ_T, no centroid meander).

``growth="briggs"`` keeps the first model for comparison: σ = sqrt(σ0² + (0.5 · a · d / sqrt(1 + 0.0001 d))²) with
the travel distance d and Briggs' (1973) rural σ_y coefficient ``a`` for the Pasquill class ``stability_class``.

Column mass is conserved exactly: a puff of mass ``m = Q·dt`` contributes ``m`` times its pixel-integrated Gaussian
weight (differences of normal CDFs), so the field's integrated mass equals the released mass that is still inside
the scene. Conversion: 1 ppm·m of CH4 = 1e-6 · n_air · M_CH4 kg m⁻² with n_air = p/(R T) at 101,325 Pa and
288.15 K (42.29 mol m⁻³) and M_CH4 = 16.043 g mol⁻¹, i.e. 6.785e-7 kg m⁻².

Wind direction is meteorological: the direction the wind blows FROM, degrees clockwise from north. Rows (y) grow
southward, columns (x) eastward (north-up image).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy.special import ndtr

from plumetrace.errors import InvalidInputError
from plumetrace.simulate.turbulence import (
    DEFAULT_BOUNDARY_LAYER,
    RICHARDSON_CONSTANT,
    BoundaryLayer,
    Turbulence,
    boundary_layer_turbulence,
    dissipation_rate_m2_s3,
    relative_sigma_m,
    taylor_sigma_m,
)

__all__ = [
    "BoundaryLayer",
    "DEFAULT_BOUNDARY_LAYER",
    "PlumeTruth",
    "Turbulence",
    "boundary_layer_turbulence",
    "taylor_sigma_m",
    "relative_sigma_m",
    "dissipation_rate_m2_s3",
    "RICHARDSON_CONSTANT",
    "INERTIAL_SCALE_RATIO",
    "inertial_time_scales",
    "centroid_structure_function",
    "simulate_plume",
    "KG_M2_PER_PPM_M",
    "column_mass_kg",
    "BRIGGS_RURAL_SIGMA_Y",
]

_R = 8.314462618
_P_SURFACE_PA = 101_325.0
_T_SURFACE_K = 288.15
_M_CH4_KG_MOL = 0.016043
AIR_MOLAR_DENSITY_MOL_M3 = _P_SURFACE_PA / (_R * _T_SURFACE_K)
KG_M2_PER_PPM_M = 1e-6 * AIR_MOLAR_DENSITY_MOL_M3 * _M_CH4_KG_MOL
BRIGGS_RURAL_SIGMA_Y = {"A": 0.22, "B": 0.16, "C": 0.11, "D": 0.08, "E": 0.06, "F": 0.04}
_PUFF_FRACTION = 0.5
_TAIL_PPM_M = 1e-3
_GROWTH_LAWS = ("inertial", "gifford", "taylor", "briggs")
INERTIAL_SCALE_RATIO = 2.0  # one OU component per octave of time scale (growth="inertial")


def column_mass_kg(enhancement_ppm_m: np.ndarray, pixel_size_m: float) -> float:
    """Total CH4 mass (kg) of a column-enhancement field (ppm·m) with square pixels of ``pixel_size_m``."""
    return float(np.nansum(enhancement_ppm_m, dtype=np.float64) * KG_M2_PER_PPM_M * pixel_size_m**2)


@dataclass
class PlumeTruth:
    """Ground truth of a simulated plume.

    enhancement_ppm_m : (y, x) float32 column enhancement, ppm·m.
    source_yx : (row, col) of the source in pixel coordinates (pixel centres at integers).
    rate_kg_h, wind_speed_m_s, wind_dir_deg (from, clockwise from north), pixel_size_m, duration_s : inputs.
    released_mass_kg : Q × duration; mass_in_scene_kg : mass of the puffs inside the grid (= field integral).
    residence_time_s : mass_in_scene_kg / Q.
    growth : puff growth law ("inertial", "gifford", "taylor" or "briggs"); turbulence : the σ_v, σ_w, T_L and meander actually used.
    """

    enhancement_ppm_m: np.ndarray
    source_yx: tuple[float, float]
    rate_kg_h: float
    wind_speed_m_s: float
    wind_dir_deg: float
    pixel_size_m: float
    duration_s: float
    released_mass_kg: float
    mass_in_scene_kg: float
    stability_class: str
    seed: int | None
    puffs: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    growth: str = "inertial"
    turbulence: dict[str, float] = field(default_factory=dict)

    @property
    def residence_time_s(self) -> float:
        return self.mass_in_scene_kg / (self.rate_kg_h / 3600.0) if self.rate_kg_h > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready scalar description (no arrays)."""
        out = {k: v for k, v in asdict(self).items() if k not in ("enhancement_ppm_m", "puffs")}
        out["source_yx"] = [float(v) for v in self.source_yx]
        out["residence_time_s"] = self.residence_time_s
        out["peak_enhancement_ppm_m"] = float(np.max(self.enhancement_ppm_m)) if self.enhancement_ppm_m.size else 0.0
        return out


def _ou_series(n: int, dt: float, tau: float, std: float, rng: np.random.Generator) -> np.ndarray:
    """Stationary Ornstein-Uhlenbeck series of n samples (zero mean, standard deviation ``std``)."""
    out = np.empty(n)
    if std == 0:
        out[:] = 0.0
        return out
    phi = math.exp(-dt / tau)
    innovation = std * math.sqrt(1.0 - phi * phi)
    noise = rng.standard_normal(n)
    out[0] = std * noise[0]
    for i in range(1, n):
        out[i] = phi * out[i - 1] + innovation * noise[i]
    return out


def inertial_time_scales(
    shortest_s: float, longest_s: float, *, ratio: float = INERTIAL_SCALE_RATIO
) -> tuple[np.ndarray, np.ndarray]:
    """Time scales and variance weights of a unit multi-scale Ornstein-Uhlenbeck process with a Kolmogorov structure.

    The process is Σ_k √w_k · η_k(t) with independent unit OU components η_k of time scale τ_k, spaced
    geometrically (factor ``ratio``) down from ``longest_s`` until one is no longer than ``shortest_s``, and
    weights w_k ∝ τ_k^(2/3), Σ w_k = 1. Its correlation is ρ(Δ) = Σ w_k exp(−Δ/τ_k), so its variance is exactly 1
    and its structure function D(Δ) = 2 (1 − ρ(Δ)) grows as Δ^(2/3) between the shortest and the longest scale
    (each component contributes w_k for τ_k ≪ Δ and w_k Δ/τ_k for τ_k ≫ Δ; with w_k ∝ τ_k^(2/3) both geometric sums
    scale as Δ^(2/3)): the frequency spectrum is the sum of Lorentzians ∝ ω^(−5/3), the inertial range. Sums of
    exponentials with geometrically spaced rates are the standard Markov approximation of power-law correlations
    (Carmona & Coutin 1998, Electron. Commun. Probab. 3, 95-107; Harms & Stefanovits 2019, Stoch. Proc. Appl.
    129, 1185-1228).

    Parameters
    ----------
    shortest_s, longest_s : float
        The smallest resolved lag (the puff release interval) and the largest time scale (T_L), s; 0 < shortest.
    ratio : float
        Factor between successive time scales (> 1; default 2, one component per octave).

    Returns
    -------
    tau_s : (n,) ascending time scales, s (the last is ``longest_s``).
    weights : (n,) variance weights, summing to 1.
    """
    if not (np.isfinite(shortest_s) and np.isfinite(longest_s) and 0 < shortest_s and 0 < longest_s):
        raise InvalidInputError("time scales", f"({shortest_s!r}, {longest_s!r}) must be positive")
    if not (np.isfinite(ratio) and ratio > 1):
        raise InvalidInputError("ratio", f"{ratio!r} must be greater than 1")
    n = 1 if longest_s <= shortest_s else int(math.ceil(math.log(longest_s / shortest_s) / math.log(ratio))) + 1
    tau = longest_s * ratio ** -np.arange(n - 1, -1, -1, dtype=np.float64)
    weights = tau ** (2.0 / 3.0)
    return tau, weights / weights.sum()


def centroid_structure_function(lag_s: Any, tau_s: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Structure function D(Δ) = ⟨(η(t+Δ) − η(t))²⟩ = 2 (1 − Σ w_k e^(−Δ/τ_k)) of the unit multi-scale OU process."""
    lag = np.abs(np.asarray(lag_s, dtype=np.float64))
    rho = np.exp(-lag[..., None] / np.asarray(tau_s)) @ np.asarray(weights)
    return 2.0 * (1.0 - rho)


def _multiscale_ou_series(
    n: int, dt: float, tau_s: np.ndarray, weights: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Unit-variance sum of independent stationary OU series (n samples at step dt), one per (τ_k, w_k)."""
    from scipy.signal import lfilter

    out = np.zeros(n)
    for tau, weight in zip(tau_s, weights):
        phi = math.exp(-dt / float(tau))
        drive = math.sqrt(1.0 - phi * phi) * rng.standard_normal(n)
        drive[0] = rng.standard_normal()  # stationary start: unit variance
        out += math.sqrt(float(weight)) * lfilter([1.0], [1.0, -phi], drive)
    return out


def check_plume_inputs(
    rate_kg_h: float, wind_speed_m_s: float, wind_dir_deg: float, pixel_size_m: float, shape: tuple[int, int]
) -> None:
    """Rate, wind, pixel size and grid shape that every plume generator accepts (each raises naming the field)."""
    if not (np.isfinite(rate_kg_h) and rate_kg_h >= 0):
        raise InvalidInputError("rate_kg_h", f"{rate_kg_h} must be a non-negative number")
    if not (np.isfinite(wind_speed_m_s) and 0.5 <= wind_speed_m_s <= 30.0):
        raise InvalidInputError("wind_speed_m_s", f"{wind_speed_m_s} must lie in 0.5-30 m/s")
    if not (np.isfinite(wind_dir_deg) and 0.0 <= wind_dir_deg <= 360.0):
        raise InvalidInputError("wind_dir_deg", f"{wind_dir_deg} must lie in 0-360 degrees")
    if not (np.isfinite(pixel_size_m) and pixel_size_m > 0):
        raise InvalidInputError("pixel_size_m", f"{pixel_size_m} must be positive")
    if len(shape) != 2 or min(shape) < 8:
        raise InvalidInputError("shape", f"{tuple(shape)} must be (rows, cols) with at least 8 of each")


def _validate(rate_kg_h, wind_speed_m_s, wind_dir_deg, pixel_size_m, shape, stability_class, growth) -> None:
    check_plume_inputs(rate_kg_h, wind_speed_m_s, wind_dir_deg, pixel_size_m, shape)
    if stability_class not in BRIGGS_RURAL_SIGMA_Y:
        raise InvalidInputError("stability_class", f"{stability_class!r}; expected one of A-F")
    if growth not in _GROWTH_LAWS:
        raise InvalidInputError("growth", f"{growth!r}; expected one of {', '.join(_GROWTH_LAWS)}")


def simulate_plume(
    rate_kg_h: float,
    wind_speed_m_s: float,
    wind_dir_deg: float,
    pixel_size_m: float,
    shape: tuple[int, int],
    source_yx: tuple[float, float] | None = None,
    seed: int | None = 0,
    *,
    duration_s: float | None = None,
    puff_interval_s: float | None = None,
    boundary_layer: BoundaryLayer = DEFAULT_BOUNDARY_LAYER,
    growth: str = "inertial",
    direction_std_deg: float | None = None,
    speed_std_frac: float | None = None,
    meander_time_s: float | None = None,
    initial_sigma_m: float | None = None,
    stability_class: str = "D",
    turbulent_jitter: float = 0.3,
) -> PlumeTruth:
    """Column enhancement (ppm·m) of a CH4 point source seen in a snapshot.

    Parameters
    ----------
    rate_kg_h : emission rate Q, kg/h (0 gives an empty field).
    wind_speed_m_s : mean 10 m wind speed, 0.5-30 m/s.
    wind_dir_deg : mean direction the wind blows from, degrees clockwise from north.
    pixel_size_m : square pixel size, m.
    shape : (rows, cols) of the grid.
    source_yx : source (row, col) in pixel coordinates; default: the centre row, a quarter of the way in from the
        upwind side.
    seed : seed of the turbulence (wind meander and puff jitter).
    duration_s : time since the source started (default: the time the mean wind takes to cross 1.5 grid diagonals,
        so the plume fills the scene).
    puff_interval_s : release interval (default: puffs 0.4 pixel apart, at most 6000 puffs).
    boundary_layer : the boundary-layer state (:class:`BoundaryLayer`) behind the puff growth and the meander.
    growth : ``"inertial"`` (default: puffs grow by relative dispersion and their centres wander so that the
        ensemble spread is Taylor's, with a multi-scale centroid process whose structure between puffs follows the
        inertial-range 2/3 law), ``"gifford"`` (the same split with one OU centroid process of time scale
        T_L), ``"taylor"`` (every puff grows at the ensemble rate with travel time) or
        ``"briggs"`` (the first model: growth with travel distance, Briggs rural σ_y of ``stability_class``).
    direction_std_deg, speed_std_frac : meander statistics; None (default) derives them from the boundary layer's
        meander velocity σ_m: atan(σ_m / U) and σ_m / U (at most 0.5). 0, 0: a straight plume.
    meander_time_s : meander time scale, s (default: the boundary layer's).
    initial_sigma_m : puff size at release (default 0.3 pixel, at least 1 m).
    stability_class : Pasquill class A-F, used by ``growth="briggs"`` only.
    turbulent_jitter : per-puff random displacement as a fraction of the puff's size.

    Returns
    -------
    PlumeTruth with ``enhancement_ppm_m`` (rows, cols) float32 and the truth parameters; ``puffs`` holds per puff
    ``x_m``, ``y_m``, ``sigma_m`` (the puff's own spread), ``sigma_z_m``, ``age_s``, ``mass_kg`` and, for
    ``growth="inertial"`` and ``"gifford"``, ``centroid_sigma_m`` (σ_c), ``centroid_dx_m``, ``centroid_dy_m`` (the offsets drawn) and
    ``dissipation_m2_s3`` (ε at the puff's mean height).
    """
    _validate(rate_kg_h, wind_speed_m_s, wind_dir_deg, pixel_size_m, shape, stability_class, growth)
    turb = boundary_layer_turbulence(boundary_layer, wind_speed_m_s)
    bl = boundary_layer
    if direction_std_deg is None:
        direction_std_deg = math.degrees(math.atan2(bl.meander_velocity_m_s, wind_speed_m_s))
    if speed_std_frac is None:
        speed_std_frac = min(bl.meander_velocity_m_s / wind_speed_m_s, 0.5)
    if meander_time_s is None:
        meander_time_s = bl.meander_time_s
    for name, value in (
        ("direction_std_deg", direction_std_deg),
        ("speed_std_frac", speed_std_frac),
        ("turbulent_jitter", turbulent_jitter),
    ):
        if not (np.isfinite(value) and value >= 0):
            raise InvalidInputError(name, f"{value!r} must be a non-negative number")
    if not (np.isfinite(meander_time_s) and meander_time_s > 0):
        raise InvalidInputError("meander_time_s", f"{meander_time_s!r} must be positive")
    ny, nx = int(shape[0]), int(shape[1])
    p = float(pixel_size_m)
    # Unit vector the wind blows TOWARD, in image axes (x east, y south).
    theta0 = math.radians(wind_dir_deg)
    to_x, to_y = -math.sin(theta0), math.cos(theta0)
    if source_yx is None:
        cy, cx = (ny - 1) / 2.0, (nx - 1) / 2.0
        source_yx = (cy - to_y * ny / 4.0, cx - to_x * nx / 4.0)
    sy, sx = float(source_yx[0]), float(source_yx[1])
    if not (-0.5 <= sy <= ny - 0.5 and -0.5 <= sx <= nx - 0.5):
        raise InvalidInputError("source_yx", f"({sy}, {sx}) lies outside the {ny}x{nx} grid")
    if duration_s is None:
        duration_s = 1.5 * math.hypot(ny, nx) * p / wind_speed_m_s
    if not (np.isfinite(duration_s) and duration_s > 0):
        raise InvalidInputError("duration_s", f"{duration_s} must be positive")
    if puff_interval_s is None:
        puff_interval_s = max(0.4 * p / wind_speed_m_s, duration_s / 6000.0)
    n_puffs = max(1, int(math.ceil(duration_s / puff_interval_s)))
    dt = duration_s / n_puffs
    rate_kg_s = rate_kg_h / 3600.0
    field_ppm = np.zeros((ny, nx), dtype=np.float32)
    released = rate_kg_s * duration_s
    turbulence = {
        "friction_velocity_m_s": turb.friction_velocity_m_s,
        "sigma_v_m_s": turb.sigma_v_m_s,
        "sigma_w_m_s": turb.sigma_w_m_s,
        "lagrangian_time_v_s": turb.lagrangian_time_v_s,
        "lagrangian_time_w_s": turb.lagrangian_time_w_s,
        "direction_std_deg": float(direction_std_deg),
        "speed_std_frac": float(speed_std_frac),
        "meander_time_s": float(meander_time_s),
        **{f"boundary_layer_{k}": (-1.0 if v is None else float(v)) for k, v in asdict(bl).items()},
    }
    if rate_kg_s == 0:
        return PlumeTruth(
            field_ppm,
            (sy, sx),
            0.0,
            wind_speed_m_s,
            wind_dir_deg,
            p,
            duration_s,
            0.0,
            0.0,
            stability_class,
            seed,
            growth=growth,
            turbulence=turbulence,
        )

    rng = np.random.default_rng(seed)
    # Wind time series at the release times t_i = i·dt (i = 0 oldest); observation at t = duration.
    angle = theta0 + np.deg2rad(_ou_series(n_puffs, dt, meander_time_s, direction_std_deg, rng))
    speed = wind_speed_m_s * np.maximum(0.1, 1.0 + _ou_series(n_puffs, dt, meander_time_s, speed_std_frac, rng))
    step_x = -np.sin(angle) * speed * dt  # metres moved during each interval
    step_y = np.cos(angle) * speed * dt
    # Puff i (released at the start of interval i) has moved through intervals i..n-1.
    disp_x = np.cumsum(step_x[::-1])[::-1]
    disp_y = np.cumsum(step_y[::-1])[::-1]
    age = dt * (n_puffs - np.arange(n_puffs))
    sigma0 = max(1.0, 0.3 * p) if initial_sigma_m is None else float(initial_sigma_m)
    centroid = np.zeros((2, n_puffs))
    extra: dict[str, np.ndarray] = {}
    if growth in ("taylor", "gifford", "inertial"):
        sigma_abs = taylor_sigma_m(age, turb.sigma_v_m_s, turb.lagrangian_time_v_s)
        sigma = np.sqrt(sigma0**2 + sigma_abs**2)
    if growth in ("gifford", "inertial"):
        # ages ascend along [::-1]; ε at the puff's mean height above ground (reflected Gaussian, at least 2 m)
        sigma_z_free = taylor_sigma_m(age[::-1], turb.sigma_w_m_s, turb.lagrangian_time_w_s)
        mean_height = np.clip(math.sqrt(2.0 / math.pi) * sigma_z_free, 2.0, bl.mixing_height_m / 2.0)
        epsilon = dissipation_rate_m2_s3(bl, turb, mean_height)
        sigma_rel = relative_sigma_m(age[::-1], epsilon, sigma_abs[::-1])[::-1]
        extra_eps = epsilon[::-1]
        sigma = np.sqrt(sigma0**2 + sigma_rel**2)
        sigma_c = np.sqrt(np.maximum(sigma_abs**2 - sigma_rel**2, 0.0))
        if growth == "gifford":
            # Unit OU process in release time (time scale T_L,v), one per axis: the eddy that moves a puff's centre.
            eddy = np.stack([_ou_series(n_puffs, dt, turb.lagrangian_time_v_s, 1.0, rng) for _ in range(2)])
        else:
            # Unit multi-scale OU process (octaves from the release interval to T_L,v, weights ∝ τ^(2/3)): puffs
            # released Δ apart differ as Δ^(2/3), i.e. as r^(2/3) at r = U Δ (inertial range, frozen turbulence).
            tau, weights = inertial_time_scales(dt, turb.lagrangian_time_v_s)
            eddy = np.stack([_multiscale_ou_series(n_puffs, dt, tau, weights, rng) for _ in range(2)])
        centroid = sigma_c * eddy
        extra = {
            "centroid_sigma_m": sigma_c,
            "centroid_dx_m": centroid[0],
            "centroid_dy_m": centroid[1],
            "dissipation_m2_s3": extra_eps,
        }
    elif growth == "briggs":
        travel = np.cumsum((speed * dt)[::-1])[::-1]
        a = BRIGGS_RURAL_SIGMA_Y[stability_class]
        sigma = np.sqrt(sigma0**2 + (_PUFF_FRACTION * a * travel / np.sqrt(1.0 + 1e-4 * travel)) ** 2)
    sigma_z = np.minimum(
        taylor_sigma_m(age, turb.sigma_w_m_s, turb.lagrangian_time_w_s), bl.mixing_height_m / math.sqrt(3.0)
    )
    jitter = turbulent_jitter * sigma * rng.standard_normal((2, n_puffs))
    px = (sx + 0.5) * p + disp_x + centroid[0] + jitter[0]
    py = (sy + 0.5) * p + disp_y + centroid[1] + jitter[1]
    mass = np.full(n_puffs, rate_kg_s * dt)

    # Pixel-integrated Gaussian weights (exact mass per pixel), separable in x and y; puffs in batches to bound memory.
    edges_x = np.arange(nx + 1) * p
    edges_y = np.arange(ny + 1) * p
    mass_kg = np.zeros((ny, nx))
    for lo in range(0, n_puffs, 1000):
        sl = slice(lo, min(n_puffs, lo + 1000))
        wx = np.diff(ndtr((edges_x[None, :] - px[sl, None]) / sigma[sl, None]), axis=1)  # (batch, nx)
        wy = np.diff(ndtr((edges_y[None, :] - py[sl, None]) / sigma[sl, None]), axis=1)  # (batch, ny)
        keep = (wx.sum(axis=1) > 1e-12) & (wy.sum(axis=1) > 1e-12)
        mass_kg += (wy[keep] * mass[sl][keep, None]).T @ wx[keep]  # kg per pixel
    # Gaussian tails below 1e-3 ppm·m (radiance effect < 1e-8) are set to exactly zero so that renderers can skip
    # plume-free pixels; the mass bookkeeping uses the field as returned.
    mass_kg[mass_kg < _TAIL_PPM_M * KG_M2_PER_PPM_M * p * p] = 0.0
    field_ppm = (mass_kg / (p * p) / KG_M2_PER_PPM_M).astype(np.float32)
    in_scene = float(mass_kg.sum())
    puffs = {"x_m": px, "y_m": py, "sigma_m": sigma, "sigma_z_m": sigma_z, "age_s": age, "mass_kg": mass, **extra}
    return PlumeTruth(
        field_ppm,
        (sy, sx),
        float(rate_kg_h),
        float(wind_speed_m_s),
        float(wind_dir_deg),
        p,
        float(duration_s),
        float(released),
        in_scene,
        stability_class,
        seed,
        puffs,
        growth,
        turbulence,
    )
