"""Steady-state Gaussian plume: emission rate and wind → CH4 column enhancement (ppm·m), a second plume family.

A dispersion model structurally different from the puff model of :mod:`plumetrace.simulate.plumes`: no puffs, no
travel-time growth, no relative dispersion. The plume is the **ensemble-mean** steady-state Gaussian plume of a
continuous point source (Pasquill 1961; Gifford 1961; Seinfeld & Pandis 2016, *Atmospheric Chemistry and Physics*,
3rd ed., §18.6), with the spread a function of the downwind **distance** x and the Pasquill stability class A-F:

    c(x, y, z) = Q / (2π U σ_y σ_z) · exp(−y²/2σ_y²) · [exp(−(z−h)²/2σ_z²) + exp(−(z+h)²/2σ_z²)]

Its vertical integral from the ground (total reflection, no deposition) is the column

    Ω(x, y) = ∫₀^∞ c dz = Q / (√(2π) U(x) σ_y(x)) · exp(−y²/2σ_y(x)²)       (kg m⁻², then ppm·m)

whatever σ_z and the release height h, so that the column integrated across the wind at any distance is the mass
flux divided by the transport speed, ∫ Ω dy = Q / U(x), and an uncut plume of length L holds Q ∫₀^L dx / U(x) kg.

Spread (Briggs 1973, "Diffusion estimation for small emissions", ATDL 79, NOAA; the open-country formulas as
tabulated by Hanna, Briggs & Hosker 1982, *Handbook on Atmospheric Diffusion*, DOE/TIC-11223, Table 4.4, and Seinfeld
& Pandis 2016, Table 18.3; valid 100 m < x < 10 km, used from the source on)::

    class  σ_y (m)                       σ_z (m)
    A      0.22 x (1 + 0.0001 x)^-1/2    0.20 x
    B      0.16 x (1 + 0.0001 x)^-1/2    0.12 x
    C      0.11 x (1 + 0.0001 x)^-1/2    0.08 x (1 + 0.0002 x)^-1/2
    D      0.08 x (1 + 0.0001 x)^-1/2    0.06 x (1 + 0.0015 x)^-1/2
    E      0.06 x (1 + 0.0001 x)^-1/2    0.03 x (1 + 0.0003 x)^-1
    F      0.04 x (1 + 0.0001 x)^-1/2    0.016 x (1 + 0.0003 x)^-1

σ_y is combined in quadrature with an initial size σ0 (default 0.3 pixel, at least 1 m); σ_z is capped by the
mixing height (σ_z ≤ z_i/√3, as in the puff model).

Transport speed: the wind **at plume height**. The mass at distance x travels at the wind of its mean height
z̄(x) = h + √(2/π) σ_z(x) (the mean of a ground-reflected Gaussian; clipped to 2 m-z_i/2), from the 10 m wind by the
power law U(z) = U10 (z/10 m)^p with the rural exponents of the EPA's ISC3 model (Irwin 1979, Atmos. Environ. 13,
191-194; EPA-454/B-95-003b, 1995): p = 0.07, 0.07, 0.10, 0.15, 0.35, 0.55 for A-F (``wind_exponent`` overrides; 0
gives U = U10 everywhere). The given ``wind_speed_m_s`` stays the 10 m wind, the one a user hands to
``plumetrace plumes``.

Meander (optional): the centreline is a curve whose direction does a low-frequency random walk with distance, an
Ornstein-Uhlenbeck process in arc length s with standard deviation σ_θ and length scale U10·T_m: a frozen snapshot of
a plume whose direction wanders over periods longer than the 3-10 min averages behind the Briggs curves. The defaults
take σ_θ = atan(σ_m/U10) and T_m from :data:`~plumetrace.simulate.turbulence.DEFAULT_BOUNDARY_LAYER` (σ_m = 0.3 m/s,
T_m = 600 s), as the puff model's; ``meander_std_deg=0`` gives a straight plume.

Rendering: the plume is cut into slices ``ds`` long (0.25 pixel) along the centreline; a slice at arc length s holds
the mass Q ds / U(s) and is spread as an isotropic Gaussian of σ_y(s) about its centreline point, integrated exactly
over each pixel (differences of normal CDFs). The field's integral is therefore exactly the slices' mass inside the
grid (nothing is lost between pixels); the along-wind spreading by σ_y that the slicing adds moves mass by a few
per cent of the distance travelled and does not change the cross-wind integral away from the plume's two ends.
The plume starts at the source and ends where its travel time reaches ``duration_s`` (default: the 10 m wind's time
to cross 1.5 grid diagonals, so that the plume runs out of the scene); a source near an edge, or a plume turning out
of the grid, is cut by the edge.

Conversion: 1 ppm·m of CH4 = :data:`~plumetrace.simulate.plumes.KG_M2_PER_PPM_M` kg m⁻² (101,325 Pa, 288.15 K).

Wind direction is meteorological (the direction the wind blows FROM, degrees clockwise from north); rows grow
southward, columns eastward (north-up image). The result is a :class:`~plumetrace.simulate.plumes.PlumeTruth` with
``growth="gaussian"``, so it can replace :func:`~plumetrace.simulate.plumes.simulate_plume` wherever a plume truth is
used (``simulate_scene(plume_options={"family": "gaussian", ...})``).
"""

from __future__ import annotations

import math
from dataclasses import asdict

import numpy as np
from scipy.special import ndtr

from plumetrace.errors import InvalidInputError
from plumetrace.simulate.plumes import KG_M2_PER_PPM_M, PlumeTruth, check_plume_inputs
from plumetrace.simulate.turbulence import DEFAULT_BOUNDARY_LAYER, BoundaryLayer

__all__ = [
    "BRIGGS_RURAL",
    "WIND_PROFILE_EXPONENT",
    "briggs_sigma_y_m",
    "briggs_sigma_z_m",
    "plume_height_wind_m_s",
    "simulate_gaussian_plume",
]

# Briggs (1973) open-country coefficients: σ_y = a x (1 + b x)^-1/2; σ_z = c x (1 + d x)^e.
BRIGGS_RURAL: dict[str, tuple[float, float, float, float, float]] = {
    "A": (0.22, 1e-4, 0.20, 0.0, 0.0),
    "B": (0.16, 1e-4, 0.12, 0.0, 0.0),
    "C": (0.11, 1e-4, 0.08, 2e-4, -0.5),
    "D": (0.08, 1e-4, 0.06, 1.5e-3, -0.5),
    "E": (0.06, 1e-4, 0.03, 3e-4, -1.0),
    "F": (0.04, 1e-4, 0.016, 3e-4, -1.0),
}
# Rural wind-profile exponents of ISC3 (Irwin 1979): U(z) = U10 (z / 10 m)^p.
WIND_PROFILE_EXPONENT = {"A": 0.07, "B": 0.07, "C": 0.10, "D": 0.15, "E": 0.35, "F": 0.55}
_MIN_TRANSPORT_HEIGHT_M = 2.0
_SLICE_PX = 0.25
_MAX_SLICES = 20_000
_TAIL_PPM_M = 1e-3
_NODES = 6  # cross-wind nodes each side of a slice's centre


def _check_class(stability_class: str) -> tuple[float, float, float, float, float]:
    if stability_class not in BRIGGS_RURAL:
        raise InvalidInputError("stability_class", f"{stability_class!r}; expected one of A-F")
    return BRIGGS_RURAL[stability_class]


def briggs_sigma_y_m(distance_m: np.ndarray | float, stability_class: str) -> np.ndarray:
    """Briggs (1973) rural cross-wind spread σ_y (m) at downwind distance ``distance_m`` (m) for class A-F."""
    a, b, _, _, _ = _check_class(stability_class)
    x = np.maximum(np.asarray(distance_m, dtype=np.float64), 0.0)
    return a * x / np.sqrt(1.0 + b * x)


def briggs_sigma_z_m(distance_m: np.ndarray | float, stability_class: str) -> np.ndarray:
    """Briggs (1973) rural vertical spread σ_z (m) at downwind distance ``distance_m`` (m) for class A-F (uncapped)."""
    _, _, c, d, e = _check_class(stability_class)
    x = np.maximum(np.asarray(distance_m, dtype=np.float64), 0.0)
    return c * x * (1.0 + d * x) ** e


def plume_height_wind_m_s(
    wind_speed_m_s: float,
    distance_m: np.ndarray | float,
    stability_class: str,
    *,
    wind_exponent: float | None = None,
    source_height_m: float = 0.0,
    mixing_height_m: float = DEFAULT_BOUNDARY_LAYER.mixing_height_m,
) -> np.ndarray:
    """Transport speed (m/s) of the plume at ``distance_m``: the power-law wind at its mean height.

    z̄ = h + √(2/π) σ_z(x) with σ_z ≤ z_i/√3, clipped to [2 m, z_i/2]; U = U10 (z̄ / 10 m)^p, p from
    :data:`WIND_PROFILE_EXPONENT` unless ``wind_exponent`` is given.
    """
    p = WIND_PROFILE_EXPONENT[stability_class] if wind_exponent is None else float(wind_exponent)
    sigma_z = np.minimum(briggs_sigma_z_m(distance_m, stability_class), mixing_height_m / math.sqrt(3.0))
    height = np.clip(source_height_m + math.sqrt(2.0 / math.pi) * sigma_z, _MIN_TRANSPORT_HEIGHT_M, mixing_height_m / 2)
    return wind_speed_m_s * (height / 10.0) ** p


def _validate(rate_kg_h, wind_speed_m_s, wind_dir_deg, pixel_size_m, shape, options: dict[str, float | None]) -> None:
    check_plume_inputs(rate_kg_h, wind_speed_m_s, wind_dir_deg, pixel_size_m, shape)
    for name, value in options.items():
        if value is not None and not (np.isfinite(value) and value >= 0):
            raise InvalidInputError(name, f"{value!r} must be a non-negative number")


def simulate_gaussian_plume(
    rate_kg_h: float,
    wind_speed_m_s: float,
    wind_dir_deg: float,
    pixel_size_m: float,
    shape: tuple[int, int],
    source_yx: tuple[float, float] | None = None,
    seed: int | None = 0,
    *,
    stability_class: str = "D",
    duration_s: float | None = None,
    wind_exponent: float | None = None,
    source_height_m: float = 0.0,
    meander_std_deg: float | None = None,
    meander_time_s: float | None = None,
    initial_sigma_m: float | None = None,
    boundary_layer: BoundaryLayer = DEFAULT_BOUNDARY_LAYER,
) -> PlumeTruth:
    """Column enhancement (ppm·m) of an ensemble-mean steady-state Gaussian plume (Briggs rural σ_y, σ_z).

    Parameters
    ----------
    rate_kg_h : float
        Emission rate Q, kg/h (0 gives an empty field).
    wind_speed_m_s : float
        10 m wind speed U10, 0.5-30 m/s (the transport speed is the wind at plume height, see the module).
    wind_dir_deg : float
        Direction the wind blows from, degrees clockwise from north.
    pixel_size_m : float
        Square pixel size, m.
    shape : (int, int)
        (rows, cols) of the grid, at least 8 × 8.
    source_yx : (float, float), optional
        Source (row, col) in pixel coordinates, anywhere in the grid (a source near an edge gives a plume cut by
        it); default: the centre row, a quarter of the way in from the upwind side (as ``simulate_plume``).
    seed : int or None
        Seed of the meander.
    stability_class : str
        Pasquill class ``"A"``-``"F"`` (σ_y, σ_z and the wind-profile exponent).
    duration_s : float, optional
        Time since the source started, s: the plume ends where its travel time reaches it (default: the 10 m
        wind's time to cross 1.5 grid diagonals).
    wind_exponent : float, optional
        Power-law exponent of the wind profile (default: the class's rural ISC3 value; 0: U = U10).
    source_height_m : float
        Release height h, m (shifts the transport height only; the column does not depend on it).
    meander_std_deg : float, optional
        Standard deviation of the centreline direction, degrees (default atan(σ_m/U10) of ``boundary_layer``;
        0: a straight plume).
    meander_time_s : float, optional
        Meander time scale T_m, s; the direction decorrelates over U10·T_m metres (default: ``boundary_layer``'s).
    initial_sigma_m : float, optional
        Source size σ0, m, added to σ_y in quadrature (default 0.3 pixel, at least 1 m).
    boundary_layer : BoundaryLayer
        Mixing height (σ_z cap, transport-height cap) and meander defaults.

    Returns
    -------
    PlumeTruth
        ``enhancement_ppm_m`` (rows, cols) float32; ``growth="gaussian"``; ``puffs`` holds per slice ``x_m``,
        ``y_m`` (centreline point, m from the grid's top-left corner), ``distance_m`` (arc length), ``sigma_m``
        (σ_y), ``sigma_z_m``, ``wind_m_s`` (transport speed), ``age_s`` (travel time) and ``mass_kg``;
        ``turbulence`` records the class, exponent and meander used; ``mass_in_scene_kg`` is the field's integral.
    """
    _validate(
        rate_kg_h,
        wind_speed_m_s,
        wind_dir_deg,
        pixel_size_m,
        shape,
        {
            "duration_s": duration_s,
            "wind_exponent": wind_exponent,
            "source_height_m": source_height_m,
            "meander_std_deg": meander_std_deg,
            "meander_time_s": meander_time_s,
            "initial_sigma_m": initial_sigma_m,
        },
    )
    _check_class(stability_class)
    bl = boundary_layer
    ny, nx = int(shape[0]), int(shape[1])
    p = float(pixel_size_m)
    u10 = float(wind_speed_m_s)
    theta0 = math.radians(wind_dir_deg)
    to_x, to_y = -math.sin(theta0), math.cos(theta0)  # unit vector the wind blows TOWARD (x east, y south)
    if source_yx is None:
        cy, cx = (ny - 1) / 2.0, (nx - 1) / 2.0
        source_yx = (cy - to_y * ny / 4.0, cx - to_x * nx / 4.0)
    sy, sx = float(source_yx[0]), float(source_yx[1])
    if not (-0.5 <= sy <= ny - 0.5 and -0.5 <= sx <= nx - 0.5):
        raise InvalidInputError("source_yx", f"({sy}, {sx}) lies outside the {ny}x{nx} grid")
    if duration_s is None:
        duration_s = 1.5 * math.hypot(ny, nx) * p / u10
    if not duration_s > 0:
        raise InvalidInputError("duration_s", f"{duration_s} must be positive")
    if meander_std_deg is None:
        meander_std_deg = math.degrees(math.atan2(bl.meander_velocity_m_s, u10))
    if meander_time_s is None:
        meander_time_s = bl.meander_time_s
    if not meander_time_s > 0:
        raise InvalidInputError("meander_time_s", f"{meander_time_s!r} must be positive")
    sigma0 = max(1.0, 0.3 * p) if initial_sigma_m is None else float(initial_sigma_m)
    exponent = WIND_PROFILE_EXPONENT[stability_class] if wind_exponent is None else float(wind_exponent)
    turbulence = {
        "wind_exponent": exponent,
        "source_height_m": float(source_height_m),
        "mixing_height_m": float(bl.mixing_height_m),
        "direction_std_deg": float(meander_std_deg),
        "meander_time_s": float(meander_time_s),
        "meander_length_m": float(u10 * meander_time_s),
        "initial_sigma_m": sigma0,
        **{f"boundary_layer_{k}": (-1.0 if v is None else float(v)) for k, v in asdict(bl).items()},
    }

    # Slices along the centreline until the travel time reaches the duration (U(s) ≥ 0.2 U10 keeps this bounded).
    ds = _SLICE_PX * p
    max_len = 1.2 * u10 * duration_s * max(1.0, (bl.mixing_height_m / 20.0) ** exponent)
    n = int(min(_MAX_SLICES, math.ceil(max_len / ds)))
    ds = max(ds, max_len / n)
    s_mid = (np.arange(n) + 0.5) * ds
    wind = plume_height_wind_m_s(
        u10,
        s_mid,
        stability_class,
        wind_exponent=exponent,
        source_height_m=float(source_height_m),
        mixing_height_m=bl.mixing_height_m,
    )
    travel = np.cumsum(ds / wind)  # travel time to each slice's downwind end
    keep = travel - ds / wind < duration_s
    # The last slice is shortened so that the plume holds exactly Q · duration when nothing leaves the grid.
    length = np.where(travel <= duration_s, ds, (duration_s - (travel - ds / wind)) * wind)[keep]
    n = int(keep.sum())
    s_start = np.arange(n) * ds
    s_mid = s_start + 0.5 * length
    wind = wind[:n]
    age = np.concatenate([[0.0], travel[: n - 1]]) + 0.5 * length / wind
    rng = np.random.default_rng(seed)
    if meander_std_deg > 0 and n > 1:
        phi = math.exp(-ds / (u10 * meander_time_s))
        noise = rng.standard_normal(n)
        delta = np.empty(n)
        delta[0] = 0.0  # the plume leaves the source along the mean wind of the instant of observation
        innov = meander_std_deg * math.sqrt(1.0 - phi * phi)
        for i in range(1, n):
            delta[i] = phi * delta[i - 1] + innov * noise[i]
    else:
        delta = np.zeros(n)
    angle = theta0 + np.deg2rad(delta)
    step_x, step_y = -np.sin(angle) * length, np.cos(angle) * length
    # centre of slice i: the path up to its start plus half of its own step
    cx_m = (sx + 0.5) * p + np.cumsum(step_x) - 0.5 * step_x
    cy_m = (sy + 0.5) * p + np.cumsum(step_y) - 0.5 * step_y
    sigma_y = np.sqrt(sigma0**2 + briggs_sigma_y_m(s_mid, stability_class) ** 2)
    sigma_z = np.minimum(briggs_sigma_z_m(s_mid, stability_class), bl.mixing_height_m / math.sqrt(3.0))
    rate_kg_s = float(rate_kg_h) / 3600.0
    mass = rate_kg_s * length / wind  # Q ds / U(s): mass per slice, kg

    mass_px = np.zeros((ny, nx))
    if rate_kg_s > 0:
        # Each slice: _NODES isotropic Gaussians of σ_y/2 spaced σ_y/2 across the local wind with discrete-normal
        # weights of variance 3 (σ_y²/4 + 3 σ_y²/4 = σ_y² across, σ_y/2 along the wind).
        k = np.arange(-_NODES, _NODES + 1, dtype=np.float64)
        weight = np.exp(-(k**2) / 6.0)
        weight /= weight.sum()
        sub = 0.5 * sigma_y
        ex = (cx_m[:, None] + np.cos(angle)[:, None] * k[None, :] * sub[:, None]).ravel()
        ey = (cy_m[:, None] + np.sin(angle)[:, None] * k[None, :] * sub[:, None]).ravel()
        esig = np.repeat(sub, k.size)
        emass = (mass[:, None] * weight[None, :]).ravel()
        edges_x = np.arange(nx + 1) * p
        edges_y = np.arange(ny + 1) * p
        for lo in range(0, emass.size, 2000):
            sl = slice(lo, min(emass.size, lo + 2000))
            wx = np.diff(ndtr((edges_x[None, :] - ex[sl, None]) / esig[sl, None]), axis=1)
            wy = np.diff(ndtr((edges_y[None, :] - ey[sl, None]) / esig[sl, None]), axis=1)
            inside = (wx.sum(axis=1) > 1e-12) & (wy.sum(axis=1) > 1e-12)
            mass_px += (wy[inside] * emass[sl][inside, None]).T @ wx[inside]
        mass_px[mass_px < _TAIL_PPM_M * KG_M2_PER_PPM_M * p * p] = 0.0
    field_ppm = (mass_px / (p * p) / KG_M2_PER_PPM_M).astype(np.float32)
    slices = {
        "x_m": cx_m,
        "y_m": cy_m,
        "distance_m": s_mid,
        "sigma_m": sigma_y,
        "sigma_z_m": sigma_z,
        "wind_m_s": wind,
        "age_s": age,
        "mass_kg": mass,
        "direction_offset_deg": delta,
    }
    return PlumeTruth(
        field_ppm,
        (sy, sx),
        float(rate_kg_h),
        u10,
        float(wind_dir_deg),
        p,
        float(duration_s),
        rate_kg_s * float(duration_s),
        float(mass_px.sum()),
        stability_class,
        seed,
        slices,
        "gaussian",
        turbulence,
    )
