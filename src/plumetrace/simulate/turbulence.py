"""The boundary layer and its turbulence, as the puff simulator (:mod:`plumetrace.simulate.plumes`) sees them.

Velocity variances, Lagrangian time scales and the dissipation rate of a convective or neutral surface layer give
the absolute dispersion of a puff (Taylor's law) and its relative (Richardson) growth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from plumetrace.errors import InvalidInputError

__all__ = [
    "BoundaryLayer",
    "DEFAULT_BOUNDARY_LAYER",
    "Turbulence",
    "boundary_layer_turbulence",
    "taylor_sigma_m",
    "dissipation_rate_m2_s3",
    "relative_sigma_m",
    "RICHARDSON_CONSTANT",
]

_KARMAN = 0.4
RICHARDSON_CONSTANT = 0.5  # g in <|r|^2> = g ε t^3 (Sawford 2001; Ott & Mann 2000)


@dataclass(frozen=True)
class BoundaryLayer:
    """State of the atmospheric boundary layer that drives the puff growth and the meander.

    Attributes
    ----------
    convective_velocity_m_s : float
        Deardorff convective velocity scale w*, m/s (default 1.5: midday over land; 0 for a neutral layer).
    mixing_height_m : float
        Mixing-layer depth z_i, m (default 1000).
    roughness_length_m : float
        Surface roughness length z0, m (default 0.1: grass, crops, scattered low buildings).
    friction_velocity_m_s : float or None
        u*, m/s; None (default): κ U10 / ln(10 / z0) from the wind speed.
    meander_velocity_m_s : float
        Standard deviation σ_m of the sub-mesoscale velocity that moves the whole plume, m/s (default 0.3).
    meander_time_s : float
        Time scale of the meander, s (default 600).
    """

    convective_velocity_m_s: float = 1.5
    mixing_height_m: float = 1000.0
    roughness_length_m: float = 0.1
    friction_velocity_m_s: float | None = None
    meander_velocity_m_s: float = 0.3
    meander_time_s: float = 600.0

    def validated(self) -> BoundaryLayer:
        """Return self after checking every field; raise :class:`InvalidInputError` naming the first bad one."""
        checks = {
            "convective_velocity_m_s": (self.convective_velocity_m_s, 0.0, 5.0),
            "mixing_height_m": (self.mixing_height_m, 50.0, 5000.0),
            "roughness_length_m": (self.roughness_length_m, 1e-5, 2.0),
            "meander_velocity_m_s": (self.meander_velocity_m_s, 0.0, 3.0),
            "meander_time_s": (self.meander_time_s, 1.0, 1e5),
        }
        if self.friction_velocity_m_s is not None:
            checks["friction_velocity_m_s"] = (self.friction_velocity_m_s, 0.0, 3.0)
        for name, (value, low, high) in checks.items():
            if not (np.isfinite(value) and low <= value <= high):
                raise InvalidInputError(f"boundary_layer.{name}", f"{value!r} must lie in {low:g}-{high:g}")
        return self


DEFAULT_BOUNDARY_LAYER = BoundaryLayer()


@dataclass(frozen=True)
class Turbulence:
    """Turbulence statistics of a boundary layer at a given wind (m/s and s)."""

    friction_velocity_m_s: float
    sigma_v_m_s: float
    sigma_w_m_s: float
    lagrangian_time_v_s: float
    lagrangian_time_w_s: float


def boundary_layer_turbulence(boundary_layer: BoundaryLayer, wind_speed_m_s: float) -> Turbulence:
    """σ_v, σ_w (AERMOD, Cimorelli et al. 2005) and the Lagrangian time scales (Hanna 1982) of a boundary layer.

    Parameters
    ----------
    boundary_layer : BoundaryLayer
    wind_speed_m_s : float
        10 m wind speed U10, m/s (gives u* by the neutral log law unless the layer states u*).
    """
    bl = boundary_layer.validated()
    u_star = bl.friction_velocity_m_s
    if u_star is None:
        u_star = _KARMAN * wind_speed_m_s / math.log(10.0 / bl.roughness_length_m)
    w_star = bl.convective_velocity_m_s
    sigma_v = math.sqrt(0.35 * w_star**2 + 3.6 * u_star**2)
    sigma_w = math.sqrt((0.6 * w_star) ** 2 + (1.3 * u_star) ** 2)
    sigma_v, sigma_w = max(sigma_v, 1e-3), max(sigma_w, 1e-3)
    return Turbulence(
        friction_velocity_m_s=float(u_star),
        sigma_v_m_s=sigma_v,
        sigma_w_m_s=sigma_w,
        lagrangian_time_v_s=0.15 * bl.mixing_height_m / sigma_v,
        lagrangian_time_w_s=0.15 * bl.mixing_height_m / sigma_w,
    )


def taylor_sigma_m(time_s: Any, sigma_velocity_m_s: float, lagrangian_time_s: float) -> np.ndarray:
    """Taylor (1921) dispersion σ(t) = sqrt(2 σ² T_L² (t/T_L − 1 + e^(−t/T_L))) for an exponential autocorrelation, m.

    Tends to ``σ t`` for t ≪ T_L and to ``sqrt(2 σ² T_L t)`` for t ≫ T_L.
    """
    x = np.asarray(time_s, dtype=np.float64) / lagrangian_time_s
    # x - 1 + exp(-x) loses precision for small x: use its series there
    small = x < 1e-3
    core = np.where(small, x * x / 2 - x**3 / 6, x - 1.0 + np.exp(-np.where(small, 0.0, x)))
    return np.sqrt(2.0 * sigma_velocity_m_s**2 * lagrangian_time_s**2 * np.maximum(core, 0.0))


def dissipation_rate_m2_s3(boundary_layer: BoundaryLayer, turbulence: Turbulence, height_m: Any) -> np.ndarray:
    """Turbulent kinetic energy dissipation rate ε(z), m² s⁻³, of an unstable or neutral boundary layer.

    ε = u*³/(κ z) (1 + 0.5 |z/L|^(2/3))^(3/2) with −L = u*³ z_i / (κ w*³) (Wyngaard & Coté 1971; Kaimal & Finnigan
    1994), written as (u*² + 0.5 (κ z w*³ / z_i)^(2/3))^(3/2) / (κ z) so that it holds for u* = 0 (free convection,
    → 0.35 w*³/z_i), and never less than the mixed-layer value 0.4 w*³/z_i (Caughey & Palmer 1979).

    Parameters
    ----------
    height_m : float or array, height above ground z > 0, m.
    """
    z = np.maximum(np.asarray(height_m, dtype=np.float64), 1e-3)
    w3_over_zi = boundary_layer.convective_velocity_m_s**3 / boundary_layer.mixing_height_m
    u2 = turbulence.friction_velocity_m_s**2
    surface = (u2 + 0.5 * (_KARMAN * z * w3_over_zi) ** (2.0 / 3.0)) ** 1.5 / (_KARMAN * z)
    return np.maximum(surface, 0.4 * w3_over_zi)


def relative_sigma_m(time_s: Any, dissipation_m2_s3: Any, absolute_sigma_m: Any) -> np.ndarray:
    """Puff spread about its own centre (Richardson-Obukhov), per axis, capped by the absolute spread, m.

    Parameters
    ----------
    time_s : (n,) puff ages, s; ascending when ``dissipation_m2_s3`` is an array.
    dissipation_m2_s3 : scalar ε (then σ_r² = g ε t³ / 6 exactly) or (n,) ε at each age (then σ_r² is the
        trapezoidal integral of g ε t² / 2 from t = 0, with ε at t = 0 taken as at the first age).
    absolute_sigma_m : absolute (ensemble) spread that caps σ_r, broadcastable to ``time_s``.
    """
    t = np.asarray(time_s, dtype=np.float64)
    eps = np.asarray(dissipation_m2_s3, dtype=np.float64)
    if eps.ndim == 0:
        variance = RICHARDSON_CONSTANT * float(eps) * t**3 / 6.0
    else:
        tt = np.concatenate([[0.0], t])
        rate = 0.5 * RICHARDSON_CONSTANT * np.concatenate([eps[:1], eps]) * tt**2
        variance = np.cumsum(0.5 * (rate[1:] + rate[:-1]) * np.diff(tt))
    return np.minimum(np.sqrt(variance), np.asarray(absolute_sigma_m, dtype=np.float64))
