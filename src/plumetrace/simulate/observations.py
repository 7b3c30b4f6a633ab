"""Simulated in-situ logs from a known source: drone transects, vehicle drives, fixed sensors, open-path
beams and drone curtain flights, for tests, the demo and the mass-balance benchmark.

Concentrations come from the Gaussian plume of :mod:`plumetrace.insitu.dispersion` (Briggs σ by stability
class, ground reflection) evaluated for a meandering wind: the direction of each sample is the mean plus an
AR(1) meander (``meander_sd_deg``, correlation time ``meander_time_s``; small by default because the
Briggs σy already describes the time-averaged spread), and the plume value is multiplied by
a unit-mean log-normal turbulence factor (``turbulence_sd``, log-space σ) with the same correlation. Sensor
noise (Gaussian, ``noise_mg_m3``) is added on top of a constant background. Reported wind: the mean wind
plus anemometer noise. Returns the raw table in the documented layout (local ``x_m, y_m, z_m``) and the truth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from plumetrace.errors import InvalidInputError
from plumetrace.insitu.dispersion import Meteorology, beam_coupling, plume_coupling

__all__ = ["simulate_survey", "simulate_curtain", "SURVEY_KINDS"]

SURVEY_KINDS = ("drone", "vehicle", "fixed", "beam")


def _ar1(rng: np.random.Generator, n: int, dt_s: float, tau_s: float) -> np.ndarray:
    phi = np.exp(-dt_s / max(tau_s, 1e-9))
    e = rng.standard_normal(n)
    out = np.empty(n)
    out[0] = e[0]
    for i in range(1, n):
        out[i] = phi * out[i - 1] + np.sqrt(1 - phi**2) * e[i]
    return out


def _frame(wind_dir_deg: float) -> tuple[np.ndarray, np.ndarray]:
    to = np.deg2rad(wind_dir_deg + 180.0)
    down = np.array([np.sin(to), np.cos(to)])
    cross = np.array([-down[1], down[0]])
    return down, cross


def _sample(
    points: np.ndarray,
    source: np.ndarray,
    q: float,
    *,
    wind_speed_m_s: float,
    wind_dir_deg: float,
    stability: str,
    rng: np.random.Generator,
    dt_s: float,
    meander_sd_deg: float,
    meander_time_s: float,
    turbulence_sd: float,
    ends: np.ndarray | None = None,
) -> np.ndarray:
    n = points.shape[0] if ends is None else ends.shape[0]
    wd = wind_dir_deg + meander_sd_deg * _ar1(rng, n, dt_s, meander_time_s)
    met = Meteorology(
        np.full(n, wind_speed_m_s), wd, np.full(n, stability, dtype=object), wind_height_m=10.0, roughness_length_m=0.03
    )
    if ends is None:
        m = plume_coupling(points, source, met)
    else:
        m = beam_coupling(ends[:, :3], ends[:, 3:], source, met)
    turb = np.exp(turbulence_sd * _ar1(rng, n, dt_s, meander_time_s) - 0.5 * turbulence_sd**2)
    return q * m * turb


def simulate_survey(
    *,
    kind: str = "drone",
    emission_rate_g_s: float = 5.0,
    source_xyz_m: tuple[float, float, float] = (0.0, 0.0, 2.0),
    wind_speed_m_s: float = 4.0,
    wind_dir_deg: float = 270.0,
    stability: str = "D",
    background_mg_m3: float = 1.3,
    noise_mg_m3: float = 0.005,
    meander_sd_deg: float = 1.0,
    meander_time_s: float = 30.0,
    turbulence_sd: float = 0.4,
    wind_noise_m_s: float = 0.3,
    wind_dir_noise_deg: float = 3.0,
    seed: int = 0,
) -> tuple[pd.DataFrame, dict]:
    """Simulated log of one survey around a source.

    ``drone``: crosswind transects at 60–240 m downwind, 2–8 m above ground, 1 Hz;
    ``vehicle``: a straight crosswind road 150 m downwind at 2.5 m, driven twice;
    ``fixed``: 8 sensors on a 100 m ring logging each minute for an hour (wind direction drifting);
    ``beam``: 6 open-path beams 200 m long, crosswind at 50–300 m downwind, plus one 50 m upwind for the
    background, 1.5 m high, every 10 s for 20 rounds.

    Returns
    -------
    (table, truth) : the raw observation table (local coordinates; background ``background_mg_m3``) and
    ``{"x_m", "y_m", "z_m", "emission_rate_g_s", "background_mg_m3"}``.
    """
    if kind not in SURVEY_KINDS:
        raise InvalidInputError("kind", f"unknown survey kind {kind!r}; use one of {', '.join(SURVEY_KINDS)}")
    if emission_rate_g_s < 0:
        raise InvalidInputError("emission_rate_g_s", "must be >= 0")
    rng = np.random.default_rng(seed)
    src = np.asarray(source_xyz_m, dtype=float)
    down, cross = _frame(wind_dir_deg)
    ends = None
    if kind == "drone":
        pts = []
        for i, d in enumerate(np.linspace(60, 240, 7)):
            for z in (2.0, 5.0, 8.0):
                half = 0.25 * d + 30
                sgn = 1 if i % 2 == 0 else -1
                c = np.arange(-half, half, 3.0)[::sgn]
                p = src[:2] + d * down + c[:, None] * cross
                pts.append(np.column_stack([p, np.full(c.size, z)]))
        pts = np.vstack(pts)
        dt = 1.0
    elif kind == "vehicle":
        c = np.arange(-200, 200, 4.0)
        p = src[:2] + 150 * down + np.concatenate([c, c[::-1]])[:, None] * cross
        pts = np.column_stack([p, np.full(p.shape[0], 2.5)])
        dt = 1.0
    elif kind == "fixed":
        ang = np.deg2rad(np.arange(0, 360, 45))
        ring = src[:2] + 100 * np.column_stack([np.sin(ang), np.cos(ang)])
        pts = np.vstack([np.column_stack([ring, np.full(8, 3.0)])] * 60)
        dt = 60.0 / 8
    else:
        # an upwind reference beam (as in real open-path deployments) gives the background
        mids = [src[:2] + d * down for d in np.r_[-50.0, np.linspace(50, 300, 6)]]
        e = np.array([np.r_[m - 100 * cross, 1.5, m + 100 * cross, 1.5] for m in mids])
        ends = np.vstack([e] * 20)
        pts = 0.5 * (ends[:, :3] + ends[:, 3:])
        dt = 10.0
    conc = _sample(
        pts,
        src,
        emission_rate_g_s,
        wind_speed_m_s=wind_speed_m_s,
        wind_dir_deg=wind_dir_deg,
        stability=stability,
        rng=rng,
        dt_s=dt,
        meander_sd_deg=meander_sd_deg,
        meander_time_s=meander_time_s,
        turbulence_sd=turbulence_sd,
        ends=ends,
    )
    n = pts.shape[0]
    conc = background_mg_m3 + conc + noise_mg_m3 * rng.standard_normal(n)
    t = pd.Timestamp("2026-06-01T10:00:00Z") + pd.to_timedelta(np.arange(n) * dt, unit="s")
    df = pd.DataFrame({"time": t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")})
    if ends is None:
        df["x_m"], df["y_m"], df["z_m"] = pts[:, 0], pts[:, 1], pts[:, 2]
    else:
        for j, col in enumerate(("x0_m", "y0_m", "z0_m", "x1_m", "y1_m", "z1_m")):
            df[col] = ends[:, j]
    df["concentration_mg_m3"] = conc
    df["wind_speed_m_s"] = np.maximum(wind_speed_m_s + wind_noise_m_s * rng.standard_normal(n), 0.2)
    df["wind_dir_deg"] = np.mod(wind_dir_deg + wind_dir_noise_deg * rng.standard_normal(n), 360)
    df["stability"] = stability
    truth = {
        "x_m": float(src[0]),
        "y_m": float(src[1]),
        "z_m": float(src[2]),
        "emission_rate_g_s": float(emission_rate_g_s),
        "background_mg_m3": float(background_mg_m3),
    }
    return df, truth


def simulate_curtain(
    *,
    emission_rate_g_s: float = 5.0,
    distance_m: float = 200.0,
    wind_speed_m_s: float = 4.0,
    wind_dir_deg: float = 270.0,
    stability: str = "D",
    source_height_m: float = 2.0,
    background_mg_m3: float = 1.3,
    noise_mg_m3: float = 0.003,
    leg_spacing_m: float = 3.0,
    sample_spacing_m: float = 2.0,
    meander_sd_deg: float = 2.0,
    turbulence_sd: float = 0.3,
    wind_noise_m_s: float = 0.3,
    seed: int = 0,
) -> tuple[pd.DataFrame, dict]:
    """A drone curtain flight: horizontal legs on a vertical plane ``distance_m`` downwind of a source at the origin.

    Legs run from 3 m above ground to the plume top (3 σz + source height, Briggs) every ``leg_spacing_m``, each
    spanning ±3.5 σy; samples every ``sample_spacing_m`` at 5 m/s. The Gaussian plume with a uniform wind carries
    exactly Q through the plane, so the truth is ``emission_rate_g_s``.

    Returns
    -------
    (table, truth) as :func:`simulate_survey`.
    """
    from plumetrace.insitu.dispersion import briggs_sigmas

    rng = np.random.default_rng(seed)
    sy, sz = briggs_sigmas(distance_m, stability)
    down, cross = _frame(wind_dir_deg)
    top = float(source_height_m + 3.0 * sz)
    levels = np.arange(3.0, max(top, 6.0) + 1e-9, leg_spacing_m)
    half = 3.5 * float(sy) + 10.0
    c = np.arange(-half, half + 1e-9, sample_spacing_m)
    pts = []
    for i, z in enumerate(levels):
        cc = c if i % 2 == 0 else c[::-1]
        p = distance_m * down + cc[:, None] * cross
        pts.append(np.column_stack([p, np.full(cc.size, z)]))
    pts = np.vstack(pts)
    n = pts.shape[0]
    src = np.array([0.0, 0.0, source_height_m])
    # uniform wind: evaluate the Briggs plume with wind at the measurement height equal to the transport wind
    wd = wind_dir_deg + meander_sd_deg * _ar1(rng, n, sample_spacing_m / 5.0, 20.0)
    met = Meteorology(
        np.full(n, wind_speed_m_s),
        wd,
        np.full(n, stability, dtype=object),
        wind_height_m=max(source_height_m, 2.0),
        roughness_length_m=0.03,
    )
    m = plume_coupling(pts, src, met)
    turb = np.exp(turbulence_sd * _ar1(rng, n, sample_spacing_m / 5.0, 10.0) - 0.5 * turbulence_sd**2)
    conc = background_mg_m3 + emission_rate_g_s * m * turb + noise_mg_m3 * rng.standard_normal(n)
    t = pd.Timestamp("2026-06-01T11:00:00Z") + pd.to_timedelta(np.arange(n) * sample_spacing_m / 5.0, unit="s")
    df = pd.DataFrame(
        {
            "time": t.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "x_m": pts[:, 0],
            "y_m": pts[:, 1],
            "z_m": pts[:, 2],
            "concentration_mg_m3": conc,
            "wind_speed_m_s": np.maximum(wind_speed_m_s + wind_noise_m_s * rng.standard_normal(n), 0.2),
            "wind_dir_deg": np.mod(wind_dir_deg + 3.0 * rng.standard_normal(n), 360),
            "stability": stability,
        }
    )
    truth = {
        "x_m": 0.0,
        "y_m": 0.0,
        "z_m": float(source_height_m),
        "emission_rate_g_s": float(emission_rate_g_s),
        "background_mg_m3": float(background_mg_m3),
        "distance_m": float(distance_m),
    }
    return df, truth
