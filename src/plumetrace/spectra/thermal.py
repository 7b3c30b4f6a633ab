"""Thermal-infrared radiance: Planck's law, brightness temperature and the radiance of a gas plume over the ground.

Units: wavelength in nm, temperature in K, spectral radiance in µW cm⁻² sr⁻¹ nm⁻¹ (the Scene's unit;
1 W m⁻² sr⁻¹ µm⁻¹ = 0.1 µW cm⁻² sr⁻¹ nm⁻¹). Physical constants are CODATA 2018 (exact SI values of h, c, k).

Plume model (three layers: ground, plume, atmosphere above the plume)
---------------------------------------------------------------------
The ground leaves ``L_bg = ε B(T_g) + (1 − ε) L_down`` (emission plus reflected sky, Lambertian). A plume of gases
with columns ``c_g`` (ppm·m) and natural-log absorption coefficients ``α_g`` (per ppm·m), at temperature ``T_p``,
transmits ``t = exp(−Σ_g α_g c_g)`` of it and emits ``(1 − t) B(T_p)`` (Kirchhoff). Through the atmosphere between
the plume and the sensor (transmittance ``τ``, path radiance ``L_path``) the sensor sees

    L = τ [t L_bg + (1 − t) B(T_p)] + L_path,

so the plume changes the at-sensor radiance by

    ΔL = τ (B(T_p) − L_bg) (1 − exp(−Σ_g α_g c_g))  ≈  τ (B(T_p) − L_bg) Σ_g α_g c_g   (thin plume).

The sign follows the thermal contrast: a plume warmer than the ground's brightness shows its bands in emission,
a colder one in absorption, and a plume at the ground's brightness temperature is invisible (a *blind* pixel).
This is the standard three-layer model of passive LWIR gas sensing (e.g. Harig 2004, Appl. Opt. 43, 4603; Flanigan
1996, Appl. Opt. 35, 6090; Young 2002, "Detection and quantification of gases in industrial-stack plumes using
thermal-infrared hyperspectral imaging", Aerospace Report ATR-2002(8407)-1).
"""

from __future__ import annotations

import numpy as np

from plumetrace.errors import InvalidInputError

__all__ = [
    "PLANCK_H",
    "LIGHT_C",
    "BOLTZMANN_K",
    "planck_radiance",
    "planck_derivative",
    "brightness_temperature",
    "surface_leaving_radiance",
    "plume_transmittance",
    "plume_delta_radiance",
    "plume_signature",
    "at_sensor_radiance",
    "nedt_to_nesr",
]

PLANCK_H = 6.626_070_15e-34  # J s
LIGHT_C = 299_792_458.0  # m s-1
BOLTZMANN_K = 1.380_649e-23  # J K-1
#: W m⁻² sr⁻¹ m⁻¹ → µW cm⁻² sr⁻¹ nm⁻¹ (1e6 µW/W × 1e-4 m²/cm² × 1e-9 m/nm).
_SI_TO_SCENE = 1e-7
_C1 = 2.0 * PLANCK_H * LIGHT_C**2  # W m² sr⁻¹
_C2 = PLANCK_H * LIGHT_C / BOLTZMANN_K  # m K


def _wavelength_m(wavelength_nm: np.ndarray | float) -> np.ndarray:
    wl = np.asarray(wavelength_nm, dtype=np.float64)
    if np.any(~np.isfinite(wl)) or np.any(wl <= 0):
        raise InvalidInputError("wavelength_nm", "must be finite and positive")
    return wl * 1e-9


def planck_radiance(wavelength_nm: np.ndarray | float, temperature_k: np.ndarray | float) -> np.ndarray:
    """Blackbody spectral radiance B(λ, T), µW cm⁻² sr⁻¹ nm⁻¹ (broadcasts wavelength against temperature).

    ``B = 2hc²/λ⁵ / (exp(hc/λkT) − 1)``; at 10 µm and 300 K it is 0.9924 µW cm⁻² sr⁻¹ nm⁻¹ (9.924 W m⁻² sr⁻¹ µm⁻¹).
    """
    wl = _wavelength_m(wavelength_nm)
    t = np.asarray(temperature_k, dtype=np.float64)
    with np.errstate(over="ignore", divide="ignore"):
        return _C1 / wl**5 / np.expm1(_C2 / (wl * t)) * _SI_TO_SCENE


def planck_derivative(wavelength_nm: np.ndarray | float, temperature_k: np.ndarray | float) -> np.ndarray:
    """∂B/∂T, µW cm⁻² sr⁻¹ nm⁻¹ K⁻¹: the radiance of a 1 K change, used to turn NEdT into noise radiance."""
    wl = _wavelength_m(wavelength_nm)
    t = np.asarray(temperature_k, dtype=np.float64)
    x = _C2 / (wl * t)
    with np.errstate(over="ignore", invalid="ignore"):
        return _C1 / wl**5 * x * np.exp(x) / (t * np.expm1(x) ** 2) * _SI_TO_SCENE


def brightness_temperature(wavelength_nm: np.ndarray | float, radiance: np.ndarray | float) -> np.ndarray:
    """Temperature of the blackbody with this radiance (µW cm⁻² sr⁻¹ nm⁻¹) at this wavelength, K (inverse Planck).

    Non-positive radiance gives NaN.
    """
    wl = _wavelength_m(wavelength_nm)
    rad = np.asarray(radiance, dtype=np.float64) / _SI_TO_SCENE
    with np.errstate(divide="ignore", invalid="ignore"):
        out = _C2 / (wl * np.log1p(_C1 / (wl**5 * rad)))
    return np.where(rad > 0, out, np.nan)


def nedt_to_nesr(
    wavelength_nm: np.ndarray | float, nedt_k: np.ndarray | float, *, temperature_k: float = 300.0
) -> np.ndarray:
    """Noise-equivalent spectral radiance of a noise-equivalent temperature difference at ``temperature_k``.

    ``NESR = NEdT · ∂B/∂T(λ, T)``, µW cm⁻² sr⁻¹ nm⁻¹ (e.g. NEdT 0.15 K at 300 K, 10 µm: 0.0024).
    """
    return np.asarray(nedt_k, dtype=np.float64) * planck_derivative(wavelength_nm, temperature_k)


def surface_leaving_radiance(
    wavelength_nm: np.ndarray,
    emissivity: np.ndarray | float,
    ground_temperature_k: np.ndarray | float,
    downwelling_radiance: np.ndarray | float,
) -> np.ndarray:
    """``L_bg = ε B(T_g) + (1 − ε) L_down`` for a Lambertian surface, µW cm⁻² sr⁻¹ nm⁻¹.

    Shapes broadcast: ``emissivity`` (..., band), ``ground_temperature_k`` (...) with a trailing axis added,
    ``downwelling_radiance`` (band,).
    """
    t = np.asarray(ground_temperature_k, dtype=np.float64)[..., None]
    eps = np.asarray(emissivity, dtype=np.float64)
    return eps * planck_radiance(wavelength_nm, t) + (1.0 - eps) * np.asarray(downwelling_radiance)


def plume_transmittance(absorption_per_ppm_m: np.ndarray, columns_ppm_m: np.ndarray) -> np.ndarray:
    """``exp(−Σ_g α_g c_g)``: α (n_gas, band), columns (..., n_gas) → (..., band)."""
    alpha = np.asarray(absorption_per_ppm_m, dtype=np.float64)
    columns = np.asarray(columns_ppm_m, dtype=np.float64)
    if alpha.ndim != 2 or columns.shape[-1] != alpha.shape[0]:
        raise InvalidInputError("columns_ppm_m", f"last axis {columns.shape[-1:]} must match {alpha.shape[0]} gases")
    return np.exp(-(columns @ alpha))


def plume_delta_radiance(
    wavelength_nm: np.ndarray,
    absorption_per_ppm_m: np.ndarray,
    columns_ppm_m: np.ndarray,
    plume_temperature_k: np.ndarray | float,
    background_radiance: np.ndarray,
    transmittance: np.ndarray | float = 1.0,
    *,
    linear: bool = False,
) -> np.ndarray:
    """At-sensor radiance change of a plume, µW cm⁻² sr⁻¹ nm⁻¹ (module docstring).

    Parameters
    ----------
    wavelength_nm : (band,) nm
    absorption_per_ppm_m : (n_gas, band)
        Channel α per ppm·m (natural log), e.g. ``SensorGasLibrary.absorption_per_ppm_m``.
    columns_ppm_m : (..., n_gas)
        Gas columns, ppm·m.
    plume_temperature_k : (...) or float
        Plume gas temperature, K.
    background_radiance : (..., band) or (band,)
        Surface-leaving radiance under the plume ``L_bg``.
    transmittance : (band,) or float
        Atmospheric transmittance between plume and sensor ``τ``.
    linear : bool
        Thin-plume form ``τ (B(T_p) − L_bg) Σ α c`` instead of ``… (1 − exp(−Σ α c))``.

    Returns
    -------
    (..., band) ΔL.
    """
    alpha = np.asarray(absorption_per_ppm_m, dtype=np.float64)
    columns = np.asarray(columns_ppm_m, dtype=np.float64)
    if alpha.ndim != 2 or columns.shape[-1] != alpha.shape[0]:
        raise InvalidInputError("columns_ppm_m", f"last axis {columns.shape[-1:]} must match {alpha.shape[0]} gases")
    optical_depth = columns @ alpha
    absorbed = optical_depth if linear else -np.expm1(-optical_depth)
    contrast = planck_radiance(wavelength_nm, np.asarray(plume_temperature_k, dtype=np.float64)[..., None])
    contrast = contrast - np.asarray(background_radiance, dtype=np.float64)
    return np.asarray(transmittance, dtype=np.float64) * contrast * absorbed


def plume_signature(
    wavelength_nm: np.ndarray,
    absorption_per_ppm_m: np.ndarray,
    plume_temperature_k: np.ndarray | float,
    background_radiance: np.ndarray,
    transmittance: np.ndarray | float = 1.0,
) -> np.ndarray:
    """Thin-plume radiance per ppm·m of each gas: ``τ (B(T_p) − L_bg) α_g``, shape (..., n_gas, band).

    The linear target a detector matches against; it scales with the thermal contrast and vanishes for blind pixels.
    """
    alpha = np.asarray(absorption_per_ppm_m, dtype=np.float64)
    contrast = planck_radiance(wavelength_nm, np.asarray(plume_temperature_k, dtype=np.float64)[..., None])
    contrast = (contrast - np.asarray(background_radiance, dtype=np.float64)) * np.asarray(transmittance)
    return contrast[..., None, :] * alpha


def at_sensor_radiance(
    background_radiance: np.ndarray,
    transmittance: np.ndarray | float,
    path_radiance: np.ndarray | float,
    *,
    plume_transmittance_: np.ndarray | float = 1.0,
    plume_radiance: np.ndarray | float = 0.0,
) -> np.ndarray:
    """``L = τ [t L_bg + (1 − t) B(T_p)] + L_path``; ``plume_transmittance_`` is ``t``, ``plume_radiance`` B(T_p)."""
    t = np.asarray(plume_transmittance_, dtype=np.float64)
    inner = t * np.asarray(background_radiance) + (1.0 - t) * np.asarray(plume_radiance)
    return np.asarray(transmittance) * inner + np.asarray(path_radiance)
