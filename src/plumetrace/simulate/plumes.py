"""Turbulent puff plume model: emission rate and wind → CH4 column enhancement (ppm·m) on a pixel grid.

The plume is an ensemble of Gaussian puffs released every ``dt`` seconds from the source and carried by a wind that
meanders in time: the wind direction follows an Ornstein-Uhlenbeck process (standard deviation
``direction_std_deg``, Lagrangian time scale ``lagrangian_time_s``) and the speed fluctuates likewise
(``speed_std_frac``). Every puff moves with the wind of each instant after its release, so the plume snakes; each
puff also takes its own small random turbulent displacement. A puff's horizontal size grows with its travel
distance d as ``σ = sqrt(σ0² + (f · a · d / sqrt(1 + 0.0001 d))²)`` with Briggs' (1973) rural σ_y coefficient ``a``
for the Pasquill stability class and ``f = 0.5`` (relative, not meander-inclusive, dispersion: the meander is
explicit here).

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

__all__ = [
    "PlumeTruth",
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


def _validate(rate_kg_h, wind_speed_m_s, wind_dir_deg, pixel_size_m, shape, stability_class) -> None:
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
    if stability_class not in BRIGGS_RURAL_SIGMA_Y:
        raise InvalidInputError("stability_class", f"{stability_class!r}; expected one of A-F")


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
    direction_std_deg: float = 15.0,
    speed_std_frac: float = 0.15,
    lagrangian_time_s: float = 120.0,
    initial_sigma_m: float | None = None,
    stability_class: str = "D",
    turbulent_jitter: float = 0.3,
) -> PlumeTruth:
    """Column enhancement (ppm·m) of a CH4 point source seen in a snapshot.

    Parameters
    ----------
    rate_kg_h : emission rate Q, kg/h (0 gives an empty field).
    wind_speed_m_s : mean wind speed at plume height, 0.5-30 m/s.
    wind_dir_deg : mean direction the wind blows from, degrees clockwise from north.
    pixel_size_m : square pixel size, m.
    shape : (rows, cols) of the grid.
    source_yx : source (row, col) in pixel coordinates; default: the centre row, a quarter of the way in from the
        upwind side.
    seed : seed of the turbulence (wind meander and puff jitter).
    duration_s : time since the source started (default: the time the mean wind takes to cross 1.5 grid diagonals,
        so the plume fills the scene).
    puff_interval_s : release interval (default: puffs 0.4 pixel apart, at most 6000 puffs).
    direction_std_deg, speed_std_frac, lagrangian_time_s : wind meander statistics (0, 0: a straight plume).
    initial_sigma_m : puff size at release (default 0.3 pixel, at least 1 m).
    stability_class : Pasquill class A-F for the puff growth (Briggs rural σ_y).
    turbulent_jitter : per-puff random displacement as a fraction of the puff's size.

    Returns
    -------
    PlumeTruth with ``enhancement_ppm_m`` (rows, cols) float32 and the truth parameters.
    """
    _validate(rate_kg_h, wind_speed_m_s, wind_dir_deg, pixel_size_m, shape, stability_class)
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
    if rate_kg_s == 0:
        return PlumeTruth(field_ppm, (sy, sx), 0.0, wind_speed_m_s, wind_dir_deg, p, duration_s, 0.0, 0.0,
                          stability_class, seed)

    rng = np.random.default_rng(seed)
    # Wind time series at the release times t_i = i·dt (i = 0 oldest); observation at t = duration.
    angle = theta0 + np.deg2rad(_ou_series(n_puffs, dt, lagrangian_time_s, direction_std_deg, rng))
    speed = wind_speed_m_s * np.maximum(0.1, 1.0 + _ou_series(n_puffs, dt, lagrangian_time_s, speed_std_frac, rng))
    step_x = -np.sin(angle) * speed * dt  # metres moved during each interval
    step_y = np.cos(angle) * speed * dt
    # Puff i (released at the start of interval i) has moved through intervals i..n-1.
    disp_x = np.cumsum(step_x[::-1])[::-1]
    disp_y = np.cumsum(step_y[::-1])[::-1]
    travel = np.cumsum((speed * dt)[::-1])[::-1]
    sigma0 = max(1.0, 0.3 * p) if initial_sigma_m is None else float(initial_sigma_m)
    a = BRIGGS_RURAL_SIGMA_Y[stability_class]
    sigma = np.sqrt(sigma0**2 + (_PUFF_FRACTION * a * travel / np.sqrt(1.0 + 1e-4 * travel)) ** 2)
    jitter = turbulent_jitter * sigma * rng.standard_normal((2, n_puffs))
    px = (sx + 0.5) * p + disp_x + jitter[0]
    py = (sy + 0.5) * p + disp_y + jitter[1]
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
    puffs = {"x_m": px, "y_m": py, "sigma_m": sigma, "mass_kg": mass}
    return PlumeTruth(
        field_ppm, (sy, sx), float(rate_kg_h), float(wind_speed_m_s), float(wind_dir_deg), p, float(duration_s),
        float(released), in_scene, stability_class, seed, puffs,
    )
