"""Steady Gaussian-plume forward model with ground reflection, for point samples and open-path beams.

Two dispersion schemes, chosen per observation row:

``"briggs"``
    Pasquill stability class A–F with the Briggs (1973) open-country curves for σy(x), σz(x)
    (as tabulated in Hanna, Briggs & Hosker 1982, *Handbook on Atmospheric Diffusion*, Table 4.5) and a
    reflected Gaussian vertical profile. Used when only a stability class is known.
``"similarity"``
    Surface-layer similarity theory, used when the Obukhov length *L* and the standard deviation of the
    wind direction σθ are measured:

    * vertical: the van Ulden (1978) / Gryning, van Ulden & Larsen (1983, *Q. J. R. Meteorol. Soc.* 109, 355)
      solution for a near-ground release. The mean plume height z̄ obeys
      ``dz̄/dx = k² / [(ln(c z̄/z0) − ψm(c z̄/L)) · φh(p z̄/L)]`` with c = 0.6, p = 1.55, and the
      crosswind-integrated concentration has the shape ``A/(ū z̄) · exp(−(B z/z̄)^s)`` with
      A = s Γ(2/s)/Γ(1/s)², B = Γ(2/s)/Γ(1/s). The plume is advected at ū = u(c z̄) from a
      diabatic log wind profile anchored on the measured wind speed. s = 1.5 in neutral and stable air
      (van Ulden 1978); in unstable air s follows the change of Horst's (1979) power-law exponent
      s = 2 + m − n with stability (m, n the local wind and eddy-diffusivity exponents), anchored at 1.5.
      Flux–profile relations: Businger–Dyer (Dyer 1974) with Paulson's (1970) integrated ψm.
    * lateral: σy = σθ · x · fy, fy = 1 / (1 + 0.9 √(t / 1000 s)), t = x/ū (Draxler 1976, with the
      single time scale recommended by Irwin 1983, *J. Clim. Appl. Meteorol.* 22, 92).

Concentrations are returned per unit emission rate: mg m⁻³ per g s⁻¹.
Wind directions are meteorological (the direction the wind blows FROM, degrees clockwise from north).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.special import gamma

from plumetrace.errors import InvalidInputError

__all__ = [
    "KARMAN",
    "STABILITY_CLASSES",
    "Meteorology",
    "beam_coupling",
    "briggs_sigmas",
    "class_from_obukhov",
    "mean_plume_height",
    "obukhov_from_class",
    "phi_h",
    "plume_coupling",
    "plume_pair_terms",
    "psi_m",
    "shape_parameter",
    "similarity_table",
    "wind_profile",
]

KARMAN = 0.4
STABILITY_CLASSES = ("A", "B", "C", "D", "E", "F")
_C_ADVECTION = 0.6  # ū = u(c z̄), Gryning et al. 1983
_P_PHI = 1.55  # φh evaluated at p z̄, Gryning et al. 1983
_TI_S = 1000.0  # Irwin (1983) lateral time scale

# Briggs (1973) open-country curves: sigma_y = ay x (1 + 1e-4 x)^-1/2 ; sigma_z = az x (1 + bz x)^cz
_BRIGGS = {
    "A": (0.22, 0.20, 0.0, 0.0),
    "B": (0.16, 0.12, 0.0, 0.0),
    "C": (0.11, 0.08, 0.0002, -0.5),
    "D": (0.08, 0.06, 0.0015, -0.5),
    "E": (0.06, 0.03, 0.0003, -1.0),
    "F": (0.04, 0.016, 0.0003, -1.0),
}
# Golder (1972) as fitted in Seinfeld & Pandis (2006), Table 18.2: 1/L = a + b log10(z0)
_GOLDER = {
    "A": (-0.096, 0.029),
    "B": (-0.037, 0.029),
    "C": (-0.002, 0.018),
    "D": (0.0, 0.0),
    "E": (0.004, -0.018),
    "F": (0.035, -0.036),
}


@dataclass(frozen=True)
class Meteorology:
    """Meteorology of one observation (or broadcast over many), SI units.

    Attributes
    ----------
    wind_speed_m_s, wind_dir_deg : float or ndarray (N,)
        Mean wind speed at ``wind_height_m`` and direction it blows FROM (degrees clockwise from north).
    stability : str or ndarray of str (N,) or None
        Pasquill class A–F (used by the Briggs scheme, or to derive L when only σθ is given).
    obukhov_length_m, sigma_theta_deg : float or ndarray (N,) or None
        Obukhov length (m, negative unstable) and σ of the wind direction (degrees). Both given → similarity scheme.
    wind_height_m : float
        Height of the wind measurement (m).
    roughness_length_m : float
        Aerodynamic roughness length z0 (m).
    """

    wind_speed_m_s: ArrayLike
    wind_dir_deg: ArrayLike
    stability: ArrayLike | None = None
    obukhov_length_m: ArrayLike | None = None
    sigma_theta_deg: ArrayLike | None = None
    wind_height_m: float = 10.0
    roughness_length_m: float = 0.03


def briggs_sigmas(x_m: ArrayLike, stability: str) -> tuple[NDArray, NDArray]:
    """Briggs (1973) open-country σy, σz (m) at downwind distance ``x_m`` (m) for Pasquill class A–F."""
    key = str(stability).strip().upper()
    if key not in _BRIGGS:
        raise InvalidInputError("stability", f"unknown Pasquill class {stability!r}; expected one of A-F")
    ay, az, bz, cz = _BRIGGS[key]
    x = np.maximum(np.asarray(x_m, dtype=float), 0.0)
    sy = ay * x / np.sqrt(1.0 + 1e-4 * x)
    sz = az * x * (1.0 + bz * x) ** cz if bz else az * x
    return sy, sz


def psi_m(zeta: ArrayLike) -> NDArray:
    """Integrated stability function for momentum ψm(z/L): Paulson (1970) unstable, Dyer (1974) −5ζ stable."""
    z = np.asarray(zeta, dtype=float)
    out = np.where(z > 0, -5.0 * np.minimum(z, 1.0) - (z > 1.0) * 5.0 * np.log(np.maximum(z, 1.0)), 0.0)
    xu = (1.0 - 16.0 * np.minimum(z, 0.0)) ** 0.25
    unstable = 2 * np.log((1 + xu) / 2) + np.log((1 + xu**2) / 2) - 2 * np.arctan(xu) + np.pi / 2
    return np.where(z < 0, unstable, out)


def phi_h(zeta: ArrayLike) -> NDArray:
    """Dimensionless temperature (scalar) gradient φh(z/L), Businger–Dyer (Dyer 1974); capped at ζ = 1 when stable."""
    z = np.asarray(zeta, dtype=float)
    return np.where(z < 0, (1.0 - 16.0 * np.minimum(z, 0.0)) ** -0.5, 1.0 + 5.0 * np.clip(z, 0.0, 1.0))


def _phi_m(zeta: NDArray) -> NDArray:
    return np.where(zeta < 0, (1.0 - 16.0 * np.minimum(zeta, 0.0)) ** -0.25, 1.0 + 5.0 * np.clip(zeta, 0.0, 1.0))


def obukhov_from_class(stability: str, *, roughness_length_m: float) -> float:
    """Representative Obukhov length (m) for a Pasquill class: Golder (1972), 1/L = a + b log10(z0)."""
    key = str(stability).strip().upper()
    if key not in _GOLDER:
        raise InvalidInputError("stability", f"unknown Pasquill class {stability!r}; expected one of A-F")
    a, b = _GOLDER[key]
    inv = a + b * np.log10(roughness_length_m)
    return float(np.inf) if inv == 0 else float(1.0 / inv)


def class_from_obukhov(obukhov_length_m: float, *, roughness_length_m: float) -> str:
    """Pasquill class whose Golder (1972) 1/L is nearest to 1/``obukhov_length_m``."""
    inv = 0.0 if not np.isfinite(obukhov_length_m) else 1.0 / obukhov_length_m
    best = min(_GOLDER, key=lambda k: abs(_GOLDER[k][0] + _GOLDER[k][1] * np.log10(roughness_length_m) - inv))
    return best


def wind_profile(
    z_m: ArrayLike,
    *,
    wind_speed_m_s: ArrayLike,
    wind_height_m: float,
    obukhov_length_m: ArrayLike,
    roughness_length_m: float,
) -> NDArray:
    """Diabatic log wind profile u(z) = u*/k (ln(z/z0) − ψm(z/L)) anchored on the measured speed at ``wind_height_m``."""
    z0 = roughness_length_m
    L = np.asarray(obukhov_length_m, dtype=float)
    z = np.maximum(np.asarray(z_m, dtype=float), 2 * z0)
    num = np.log(z / z0) - psi_m(z / L)
    den = np.log(wind_height_m / z0) - psi_m(wind_height_m / L)
    return np.asarray(wind_speed_m_s, dtype=float) * np.maximum(num, 0.1) / den


def mean_plume_height(
    x_m: ArrayLike, *, obukhov_length_m: float, roughness_length_m: float, source_height_m: float = 0.0
) -> NDArray:
    """Mean plume height z̄ (m) at downwind distance ``x_m`` from the van Ulden (1978) equation.

    Integrates dx/dz̄ = [ln(c z̄/z0) − ψm(c z̄/L)] φh(p z̄/L) / k² on a log-spaced z̄ grid starting at
    z̄ = max(source height, 10 z0) and interpolates z̄(x). Shape of ``x_m`` is preserved.
    """
    z0 = roughness_length_m
    L = float(obukhov_length_m)
    zbar0 = max(source_height_m, 10 * z0)
    zb = np.geomspace(zbar0, 5000.0, 1200)
    integrand = (
        np.maximum(np.log(_C_ADVECTION * zb / z0) - psi_m(_C_ADVECTION * zb / L), 0.5)
        * phi_h(_P_PHI * zb / L)
        / KARMAN**2
    )
    xs = np.concatenate([[0.0], np.cumsum(0.5 * (integrand[1:] + integrand[:-1]) * np.diff(zb))])
    x = np.maximum(np.asarray(x_m, dtype=float), 0.0)
    return np.interp(x, xs, zb)


def shape_parameter(zbar_m: ArrayLike, *, obukhov_length_m: float, roughness_length_m: float) -> NDArray:
    """Vertical profile shape s: 1.5 neutral/stable (van Ulden 1978); unstable: 1.5 + Δ(2 + m − n) (Horst 1979)."""
    zb = np.asarray(zbar_m, dtype=float)
    L = float(obukhov_length_m)
    if not (np.isfinite(L) and L < 0):
        return np.full_like(zb, 1.5)
    z = _C_ADVECTION * zb
    zeta = z / L

    def horst(zt: NDArray) -> NDArray:
        m = _phi_m(zt) / np.maximum(np.log(z / roughness_length_m) - psi_m(zt), 0.5)
        n = 1.0 + 8.0 * (-zt) / (1.0 - 16.0 * zt)  # 1 − dln φh / dln z for φh = (1 − 16ζ)^-1/2
        return 2.0 + m - n

    return np.clip(1.5 + horst(zeta) - horst(np.zeros_like(zeta)), 1.0, 2.0)


def _rotate(dx: NDArray, dy: NDArray, wind_dir_deg: NDArray) -> tuple[NDArray, NDArray]:
    """Downwind and crosswind distance (m) for east/north offsets and a FROM direction."""
    to = np.deg2rad(np.asarray(wind_dir_deg, dtype=float) + 180.0)
    ex, ey = np.sin(to), np.cos(to)
    return dx * ex + dy * ey, -dx * ey + dy * ex


def similarity_table(
    *,
    obukhov_length_m: float,
    roughness_length_m: float,
    source_height_m: float,
    wind_height_m: float,
    x_max_m: float = 1.0e5,
    n: int = 240,
) -> tuple[NDArray, ...]:
    """Tabulate the similarity-scheme plume against downwind distance, for fast interpolation.

    Returns ``(log_x, zbar_m, s, log_u_ratio)`` on ``n`` log-spaced distances from 0.1 m to ``x_max_m``:
    mean plume height z̄(x) (m), profile shape s(x) and ln(ū/u_ref), the advection speed ū = u(c z̄) over the
    measured wind at ``wind_height_m``. z̄, s and ū/u_ref depend on x only (for given L, z0 and release height),
    so the plume is evaluated by 1-D interpolation instead of the stability functions at every receptor.
    """
    x = np.geomspace(0.1, max(x_max_m, 1.0), n)
    zbar = mean_plume_height(
        x, obukhov_length_m=obukhov_length_m, roughness_length_m=roughness_length_m, source_height_m=source_height_m
    )
    s = shape_parameter(zbar, obukhov_length_m=obukhov_length_m, roughness_length_m=roughness_length_m)
    ratio = wind_profile(
        _C_ADVECTION * zbar,
        wind_speed_m_s=1.0,
        wind_height_m=wind_height_m,
        obukhov_length_m=obukhov_length_m,
        roughness_length_m=roughness_length_m,
    )
    return np.log(x), zbar, s, np.log(ratio)


def plume_pair_terms(
    rec: NDArray,
    src: NDArray,
    met: Meteorology,
    wind_dir_offset_deg: float,
    min_distance_m: float,
    lateral_cut: float = 6.5,
) -> tuple[NDArray, NDArray, NDArray, NDArray, NDArray]:
    """Downwind (source, receptor) pairs and their plume terms.

    Pairs more than ``lateral_cut`` σy off the plume axis (relative value < 1e-9) are left out (zero).

    Returns ``gi, ri`` (pair indices into sources and receptors), ``base`` (mg m⁻³ per g s⁻¹ per m⁻¹ of lateral
    density: 1000 · vertical profile / ū), crosswind offset ``y`` (m) and ``sy`` (m) for every pair.
    """
    n = rec.shape[0]
    u = np.broadcast_to(np.asarray(met.wind_speed_m_s, dtype=float), (n,))
    wd = np.broadcast_to(np.asarray(met.wind_dir_deg, dtype=float), (n,)) + wind_dir_offset_deg
    dx = rec[None, :, 0] - src[:, None, 0]
    dy = rec[None, :, 1] - src[:, None, 1]
    xd, yc = _rotate(dx, dy, wd[None, :])
    z0 = met.roughness_length_m
    parts: list[tuple[NDArray, ...]] = []
    for key, idx in _schemes(met, n).items():
        sub_x = xd[:, idx]
        gi, rj = np.nonzero(sub_x > min_distance_m)
        if gi.size == 0:
            continue
        ri = idx[rj]
        x = sub_x[gi, rj]
        y = yc[gi, ri]
        zr = rec[ri, 2]
        h = src[gi, 2]
        if key[0] == "similarity":
            L, sth = key[1], np.deg2rad(key[2])
            zbar = np.empty_like(x)
            s = np.empty_like(x)
            ubar = np.empty_like(x)
            lx = np.log(x)
            keep = np.zeros(x.size, dtype=bool)
            for hval in np.unique(h):  # release heights are few: one table each
                sel = np.flatnonzero(h == hval)
                tx, tz, ts, tu = similarity_table(
                    obukhov_length_m=L,
                    roughness_length_m=z0,
                    source_height_m=hval,
                    wind_height_m=met.wind_height_m,
                    x_max_m=float(x[sel].max()) * 1.01,
                )
                ubar[sel] = u[ri[sel]] * np.exp(np.interp(lx[sel], tx, tu))
                sy_h = sth * x[sel] / (1.0 + 0.9 * np.sqrt(x[sel] / ubar[sel] / _TI_S))
                near = sel[np.abs(y[sel]) <= lateral_cut * sy_h]  # the rest is < 1e-9 of the axis value: skip
                keep[near] = True
                zbar[near] = np.exp(np.interp(lx[near], tx, np.log(tz)))
                s[near] = np.interp(lx[near], tx, ts)
            gi, ri, x, y, zr, zbar, s, ubar = (v[keep] for v in (gi, ri, x, y, zr, zbar, s, ubar))
            g1, g2 = gamma(1 / s), gamma(2 / s)
            A, B = s * g2 / g1**2, g2 / g1
            sy = sth * x / (1.0 + 0.9 * np.sqrt(x / ubar / _TI_S))
            vert = A / zbar * np.exp(-((B * zr / zbar) ** s))
        else:
            sy, sz = briggs_sigmas(x, key[1])
            keep = np.abs(y) <= lateral_cut * sy
            gi, ri, x, y, zr, h, sy, sz = (v[keep] for v in (gi, ri, x, y, zr, h, sy, sz))
            L = obukhov_from_class(key[1], roughness_length_m=z0)
            hu, inv = np.unique(np.maximum(h, 2.0), return_inverse=True)  # u(h)/u_ref for the few release heights
            ratio = wind_profile(
                hu, wind_speed_m_s=1.0, wind_height_m=met.wind_height_m, obukhov_length_m=L, roughness_length_m=z0
            )
            ubar = u[ri] * ratio[inv]
            vert = (np.exp(-0.5 * ((zr - h) / sz) ** 2) + np.exp(-0.5 * ((zr + h) / sz) ** 2)) / (
                np.sqrt(2 * np.pi) * sz
            )
        parts.append((gi, ri, 1000.0 * vert / ubar, y, sy))  # g/m3 -> mg/m3
    if not parts:
        e = np.empty(0)
        return np.empty(0, dtype=int), np.empty(0, dtype=int), e, e, e
    return tuple(np.concatenate(p) for p in zip(*parts))  # type: ignore[return-value]


def plume_coupling(
    receptor_xyz_m: ArrayLike,
    source_xyz_m: ArrayLike,
    met: Meteorology,
    *,
    wind_dir_offset_deg: float = 0.0,
    sigma_y_scale: float | ArrayLike = 1.0,
    min_distance_m: float = 1.0,
) -> NDArray:
    """Concentration per unit emission rate at receptors, mg m⁻³ per g s⁻¹.

    Parameters
    ----------
    receptor_xyz_m : array (N, 3)
        Receptor east, north, up positions (m).
    source_xyz_m : array (G, 3) or (3,)
        Candidate source positions (m); the third column is the release height above ground.
    met : Meteorology
        Scalars or arrays of length N (one value per receptor row).
    wind_dir_offset_deg : float
        Added to every wind direction (a nuisance parameter of the inversion).
    sigma_y_scale : float or array (S,)
        Multiplies the lateral spread σy (a nuisance parameter of the inversion). An array adds a leading axis.
    min_distance_m : float
        Receptors closer than this downwind are treated as upwind (zero).

    Returns
    -------
    ndarray (G, N), or (N,) for a single source; with an array ``sigma_y_scale``, (S, G, N) or (S, N).
    """
    rec = np.atleast_2d(np.asarray(receptor_xyz_m, dtype=float))
    src = np.asarray(source_xyz_m, dtype=float)
    single = src.ndim == 1
    src = np.atleast_2d(src)
    scales = np.asarray(sigma_y_scale, dtype=float)
    many = scales.ndim == 1
    scales = np.atleast_1d(scales)
    if (scales <= 0).any() or not np.isfinite(scales).all():
        raise InvalidInputError("sigma_y_scale", "must be finite and > 0")
    gi, ri, base, y, sy = plume_pair_terms(
        rec, src, met, wind_dir_offset_deg, min_distance_m, lateral_cut=6.5 * float(scales.max())
    )
    out = np.zeros((scales.size, src.shape[0], rec.shape[0]))
    u2 = -0.5 * (y / sy) ** 2
    for k, sc in enumerate(scales):
        out[k, gi, ri] = base * np.exp(u2 / sc**2) / (np.sqrt(2 * np.pi) * sy * sc)
    if single:
        out = out[:, 0]
    return out if many else out[0]


def _schemes(met: Meteorology, n: int) -> dict[tuple, NDArray]:
    """Group receptor rows by dispersion scheme and parameters (so z̄(x) is tabulated once per group)."""
    L = None if met.obukhov_length_m is None else np.broadcast_to(np.asarray(met.obukhov_length_m, dtype=float), (n,))
    st = None if met.sigma_theta_deg is None else np.broadcast_to(np.asarray(met.sigma_theta_deg, dtype=float), (n,))
    cls = None if met.stability is None else np.broadcast_to(np.asarray(met.stability, dtype=object), (n,))
    z0 = met.roughness_length_m
    Lv = np.full(n, np.nan) if L is None else L.astype(float)
    sv = np.full(n, np.nan) if st is None else st.astype(float)
    cv = (
        np.full(n, "", dtype=object)
        if cls is None
        else np.array(
            [
                ""
                if v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip().lower() in ("", "nan", "none")
                else str(v).strip().upper()
                for v in cls
            ],
            dtype=object,
        )
    )
    sim = np.isfinite(sv) & (sv > 0) & (np.isfinite(Lv) | (cv != ""))
    groups: dict[tuple, NDArray] = {}
    table = pd.DataFrame({"L": Lv, "s": sv, "c": cv, "sim": sim})
    for (L_i, s_i, c_i, sim_i), idx in table.groupby(["L", "s", "c", "sim"], dropna=False).indices.items():
        if sim_i:
            L_use = L_i if np.isfinite(L_i) else obukhov_from_class(c_i, roughness_length_m=z0)
            key: tuple = ("similarity", float(L_use), float(s_i))
        else:
            if c_i == "":
                c_i = "D" if not np.isfinite(L_i) else class_from_obukhov(L_i, roughness_length_m=z0)
            key = ("briggs", c_i)
        groups[key] = np.concatenate([groups[key], idx]) if key in groups else np.asarray(idx)
    return groups


def beam_coupling(
    start_xyz_m: ArrayLike,
    end_xyz_m: ArrayLike,
    source_xyz_m: ArrayLike,
    met: Meteorology,
    *,
    wind_dir_offset_deg: float = 0.0,
    sigma_y_scale: float | ArrayLike = 1.0,
    n_nodes: int = 12,
) -> NDArray:
    """Path-averaged concentration per unit rate along open-path beams (mg m⁻³ per g s⁻¹).

    The plume model is integrated along each beam with ``n_nodes``-point Gauss–Legendre quadrature and
    divided by the path length.

    Parameters
    ----------
    start_xyz_m, end_xyz_m : array (N, 3)
        Beam endpoints (m); zero-length beams must be rejected before calling.
    source_xyz_m : array (G, 3) or (3,)
    met : Meteorology with per-beam values (N,)

    sigma_y_scale : float or array (S,), as in :func:`plume_coupling` (an array adds a leading axis).

    Returns
    -------
    ndarray (G, N) or (N,); (S, G, N) or (S, N) with an array ``sigma_y_scale``.
    """
    a = np.atleast_2d(np.asarray(start_xyz_m, dtype=float))
    b = np.atleast_2d(np.asarray(end_xyz_m, dtype=float))
    nodes, weights = np.polynomial.legendre.leggauss(n_nodes)
    t = 0.5 * (nodes + 1.0)
    pts = a[:, None, :] + t[None, :, None] * (b - a)[:, None, :]  # (N, K, 3)
    n = a.shape[0]

    def rep(v):
        return None if v is None else np.repeat(np.broadcast_to(np.asarray(v), (n,)), n_nodes)

    met_k = Meteorology(
        rep(met.wind_speed_m_s),
        rep(met.wind_dir_deg),
        rep(met.stability),
        rep(met.obukhov_length_m),
        rep(met.sigma_theta_deg),
        met.wind_height_m,
        met.roughness_length_m,
    )
    c = plume_coupling(
        pts.reshape(-1, 3), source_xyz_m, met_k, wind_dir_offset_deg=wind_dir_offset_deg, sigma_y_scale=sigma_y_scale
    )
    c = c.reshape(c.shape[:-1] + (n, n_nodes))
    return 0.5 * np.tensordot(c, weights, axes=([-1], [0]))
