"""A stated, simple 7.5-12.5 µm atmosphere: transmittance, path radiance and sky downwelling for LWIR scenes.

This is a smooth band model at imaging-spectrometer resolution (tens of nm), not a line-by-line radiative-transfer
code; it gives the three terms of the thermal radiance equation with realistic magnitudes and spectral shapes so
that simulated scenes carry the atmosphere a detector must cope with. Wavelength λ in µm below.

Water vapour (optical depth per cm of precipitable water, vertical path)::

    κ_w(λ) = 0.10 + 2.0 exp(−(λ − 7.5)/0.25) + 0.08 exp((λ − 12.0)/0.7)

* 0.10 cm⁻¹: the self- and foreign-broadened water-vapour continuum across the 8-12 µm window (Clough, Kneizys &
  Davies 1989, Atmos. Res. 23, 229; Petty 2006, *A First Course in Atmospheric Radiation*, 2nd ed., §9.5, which
  gives window transmittances of 0.6-0.9 for 1-4 cm of water);
* the exponential terms: the wings of the 6.3 µm vibration-rotation band closing the window below 8 µm and of the
  rotational band beyond 12 µm (the window edges in Petty 2006, Fig. 7.6).

Ozone: the ν₃ band at 9.6 µm (1042 cm⁻¹; Petty 2006, §7.4.3) as a Gaussian in λ, centre 9.6 µm, σ 0.18 µm, vertical
peak optical depth ``ozone_optical_depth`` (0.5 by default; stratospheric, so only in the downwelling term).

Geometry: water vapour decays with a 2 km scale height, so a sensor at altitude ``h`` looks through a fraction
``1 − exp(−h/2 km)`` of the column (slant factor 1/cos(view zenith)). The layer below the sensor emits at its
mean temperature (surface air temperature minus 6.5 K/km over half the layer), ``L_path = (1 − τ) B(T_layer)``.
Downwelling sky radiance uses the diffusivity approximation (factor 1.66, Elsasser 1942) for the whole water column
at ``T_air − 8 K`` and the ozone band at 240 K seen through it::

    L_down = (1 − e^{−1.66 W κ_w}) B(T_air − 8 K) + e^{−1.66 W κ_w} (1 − e^{−1.66 τ_O3}) B(240 K)

A plume near the ground is seen through the whole layer below the sensor: its ``τ`` is the ground-to-sensor
transmittance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from plumetrace.errors import InvalidInputError
from plumetrace.spectra.thermal import planck_radiance

__all__ = ["ThermalAtmosphere", "AtmosphereTerms", "atmosphere_terms", "water_vapour_absorption_per_cm"]

_WATER_SCALE_HEIGHT_M = 2000.0
_LAPSE_K_PER_M = 0.0065
_DIFFUSIVITY = 1.66
_SKY_OFFSET_K = 8.0
_OZONE_TEMPERATURE_K = 240.0


@dataclass(frozen=True)
class ThermalAtmosphere:
    """Parameters of the band-model atmosphere (module docstring).

    water_vapour_cm : total precipitable water, cm (0-7); air_temperature_k : surface air temperature, K;
    sensor_altitude_m : sensor height above ground, m; view_zenith_deg : 0-60°; ozone_optical_depth : vertical peak
    optical depth of the 9.6 µm band.
    """

    water_vapour_cm: float = 1.5
    air_temperature_k: float = 295.0
    sensor_altitude_m: float = 2000.0
    view_zenith_deg: float = 0.0
    ozone_optical_depth: float = 0.5

    def __post_init__(self) -> None:
        checks = (
            ("water_vapour_cm", self.water_vapour_cm, 0.0, 7.0),
            ("air_temperature_k", self.air_temperature_k, 200.0, 340.0),
            ("sensor_altitude_m", self.sensor_altitude_m, 0.0, 100_000.0),
            ("view_zenith_deg", self.view_zenith_deg, 0.0, 60.0),
            ("ozone_optical_depth", self.ozone_optical_depth, 0.0, 3.0),
        )
        for name, value, lo, hi in checks:
            if not (np.isfinite(value) and lo <= value <= hi):
                raise InvalidInputError(name, f"{value} must lie in {lo:g}-{hi:g}")


@dataclass(frozen=True, eq=False)  # holds arrays: compared and hashed by identity
class AtmosphereTerms:
    """Per-channel terms of the thermal radiance equation (all (band,)): transmittance ground→sensor,
    path radiance and downwelling sky radiance (µW cm⁻² sr⁻¹ nm⁻¹)."""

    transmittance: np.ndarray
    path_radiance: np.ndarray
    downwelling_radiance: np.ndarray


def water_vapour_absorption_per_cm(wavelength_nm: np.ndarray) -> np.ndarray:
    """κ_w(λ): vertical optical depth per cm of precipitable water (module docstring)."""
    um = np.asarray(wavelength_nm, dtype=np.float64) / 1000.0
    return 0.10 + 2.0 * np.exp(-(um - 7.5) / 0.25) + 0.08 * np.exp((um - 12.0) / 0.7)


def _ozone_optical_depth(wavelength_nm: np.ndarray, peak: float) -> np.ndarray:
    um = np.asarray(wavelength_nm, dtype=np.float64) / 1000.0
    return peak * np.exp(-0.5 * ((um - 9.6) / 0.18) ** 2)


def atmosphere_terms(wavelength_nm: np.ndarray, atmosphere: ThermalAtmosphere | None = None) -> AtmosphereTerms:
    """Transmittance, path radiance and downwelling radiance at the channel centres (module docstring)."""
    atm = atmosphere or ThermalAtmosphere()
    wl = np.asarray(wavelength_nm, dtype=np.float64)
    kappa = water_vapour_absorption_per_cm(wl)
    below = 1.0 - np.exp(-atm.sensor_altitude_m / _WATER_SCALE_HEIGHT_M)
    slant = 1.0 / np.cos(np.radians(atm.view_zenith_deg))
    transmittance = np.exp(-atm.water_vapour_cm * below * kappa * slant)
    layer_k = atm.air_temperature_k - _LAPSE_K_PER_M * 0.5 * min(atm.sensor_altitude_m, 3 * _WATER_SCALE_HEIGHT_M)
    path = (1.0 - transmittance) * planck_radiance(wl, layer_k)
    water_down = np.exp(-_DIFFUSIVITY * atm.water_vapour_cm * kappa)
    ozone_down = np.exp(-_DIFFUSIVITY * _ozone_optical_depth(wl, atm.ozone_optical_depth))
    downwelling = (1.0 - water_down) * planck_radiance(wl, atm.air_temperature_k - _SKY_OFFSET_K) + water_down * (
        1.0 - ozone_down
    ) * planck_radiance(wl, _OZONE_TEMPERATURE_K)
    return AtmosphereTerms(transmittance, path, downwelling)
