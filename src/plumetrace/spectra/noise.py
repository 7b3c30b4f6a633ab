"""Instrument noise models in ISOFIT's parametric convention.

Noise-equivalent radiance of a band at radiance ``L`` (µW cm⁻² sr⁻¹ nm⁻¹), as in ISOFIT
``isofit/core/instrument.py`` ``Instrument.Sy`` (parametric model)::

    NEdL = |a · sqrt(b + L) + c| / sqrt(integrations),   with b + L clipped to ≥ 1e-5

where a, b, c are read per wavelength from a ``wvl a b c rmse`` table and interpolated linearly (extrapolated at the
ends) to the band centres. Bundled tables: EMIT and AVIRIS-NG (ISOFIT ``data/*_noise.txt``, Apache-2.0). Sensors
without a table (PRISMA, EnMAP) get the same form from a published signal-to-noise ratio at a reference radiance:
a = sqrt(L_ref) / SNR, b = c = 0, so NEdL(L_ref) = L_ref / SNR and noise grows as the square root of the signal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from plumetrace.errors import InvalidInputError
from plumetrace.spectra import bundled_path

__all__ = ["NoiseModel", "load_noise_table", "snr_noise_model", "noise_equivalent_radiance", "add_noise"]

_NOISE_FILES = {"emit": "emit_noise.txt", "aviris-ng": "avirisng_noise.txt"}


@dataclass(frozen=True)
class NoiseModel:
    """Per-band parametric noise coefficients (ISOFIT convention).

    a, b, c : (n_band,) arrays at the sensor's band centres; ``L`` and the NEdL are in µW cm⁻² sr⁻¹ nm⁻¹.
    integrations : number of averaged frames (noise falls as 1/sqrt).
    source : where the coefficients came from.
    """

    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    integrations: int = 1
    source: str = ""


def load_noise_table(name: str, wavelength_nm: np.ndarray) -> NoiseModel:
    """Bundled ISOFIT noise table ``name`` (``emit`` or ``aviris-ng``) interpolated to ``wavelength_nm`` (n_band,)."""
    if name not in _NOISE_FILES:
        raise InvalidInputError("noise model", f"no bundled table {name!r}; expected one of {', '.join(_NOISE_FILES)}")
    table = np.loadtxt(bundled_path(_NOISE_FILES[name]), comments="#")
    wl = np.asarray(wavelength_nm, dtype=np.float64)
    coeffs = []
    for col in (1, 2, 3):
        # Linear interpolation with linear extrapolation, as scipy interp1d(fill_value="extrapolate") in ISOFIT.
        x, y = table[:, 0], table[:, col]
        values = np.interp(wl, x, y)
        lo, hi = wl < x[0], wl > x[-1]
        values[lo] = y[0] + (wl[lo] - x[0]) * (y[1] - y[0]) / (x[1] - x[0])
        values[hi] = y[-1] + (wl[hi] - x[-1]) * (y[-1] - y[-2]) / (x[-1] - x[-2])
        coeffs.append(values)
    return NoiseModel(*coeffs, source=f"ISOFIT {_NOISE_FILES[name]}")


def snr_noise_model(snr: np.ndarray, reference_radiance: np.ndarray, *, source: str = "") -> NoiseModel:
    """Photon-noise-like model with NEdL(L_ref) = L_ref / SNR per band (a = sqrt(L_ref)/SNR, b = c = 0).

    snr, reference_radiance : (n_band,); reference radiance in µW cm⁻² sr⁻¹ nm⁻¹ (must be > 0).
    """
    snr = np.asarray(snr, dtype=np.float64)
    reference_radiance = np.asarray(reference_radiance, dtype=np.float64)
    if snr.shape != reference_radiance.shape:
        raise InvalidInputError("snr", f"{snr.size} values for {reference_radiance.size} bands")
    if np.any(snr <= 0) or np.any(reference_radiance <= 0):
        raise InvalidInputError("snr", "SNR and reference radiance must be positive")
    return NoiseModel(np.sqrt(reference_radiance) / snr, np.zeros_like(snr), np.zeros_like(snr), source=source)


def noise_equivalent_radiance(model: NoiseModel, radiance: np.ndarray) -> np.ndarray:
    """1σ noise (µW cm⁻² sr⁻¹ nm⁻¹) for ``radiance`` (..., n_band), ISOFIT parametric formula."""
    radiance = np.asarray(radiance)
    if radiance.shape[-1] != model.a.size:
        raise InvalidInputError("radiance", f"last axis has {radiance.shape[-1]} bands, noise model {model.a.size}")
    plus = np.maximum(model.b + radiance, 1e-5)
    return np.abs(model.a * np.sqrt(plus) + model.c) / np.sqrt(model.integrations)


def add_noise(model: NoiseModel, radiance: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``radiance`` (..., n_band) plus independent Gaussian noise with the model's NEdL; same dtype."""
    sigma = noise_equivalent_radiance(model, radiance)
    noisy = radiance + sigma * rng.standard_normal(
        radiance.shape, dtype=np.float32 if radiance.dtype == np.float32 else np.float64
    )
    return noisy.astype(radiance.dtype, copy=False)
