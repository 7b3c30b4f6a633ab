"""Probability of detection and the detection limit of a scene: the rate found with 90 % probability.

A plume is found when its columns stand out of the map's noise. To first order the column a source of rate Q puts
into the pixels near it is Q / (U · W) (wind speed U, pixel size W), so the rate at a given probability of detection
(POD) scales as U · W · σ (σ: the map's per-pixel 1σ in ppm·m; Jacob et al. 2016, ACP 16, 14371, eq. 1). The
constants are measured, not assumed: ``benchmarks.quantify_skill`` runs simulated plumes (puff family, rates
log-uniform, wind 1-8 m/s, 96 × 96 scenes, default segmentation) through the whole chain and fits a logistic POD in
log10(Q/U) per sensor preset (validation seeds 1000-1199):

============  =====  ===================  ===================  ==========
preset        W (m)  median σ (ppm·m)     log10(Q/U) at 50 %   scale
============  =====  ===================  ===================  ==========
EMIT          60     369                  2.452                0.121
AVIRIS-NG     5      298                  1.207                0.129
============  =====  ===================  ===================  ==========

(Q in kg/h, U in m/s; σ is the median 1σ of those scenes' detect products, seeds 1000-1009.) With Q50 / U ∝ W^b · σ
the two presets give b = 1.07, close to the first-order b = 1; the law is exact at both presets and interpolates
between them for other pixel sizes. On the structurally different Gaussian plume family (the cross-family cases of
the same benchmark) the fitted 90 % rate is 0.74 × (EMIT) and 0.75 × (AVIRIS-NG) this law's: the law is
conservative there (a rate above it is found at least as often as stated).

Other gases: the same column detectability in ppm·m is a mass rate scaled by the molar mass (kg per ppm·m·m²).
"""

from __future__ import annotations

import math

import numpy as np

from plumetrace.errors import InvalidInputError
from plumetrace.plumes.ime import ppm_m_to_kg_m2

__all__ = ["POD_SCALE_LOG10", "detection_limit_kg_h", "probability_of_detection"]

#: log10(Q50 / U) = A + B · log10(W / 1 m) + log10(σ / 1 ppm·m), Q in kg/h of CH4, U in m/s (module docstring).
_EMIT = (60.0, 369.4, 2.4522)
_AVIRIS_NG = (5.0, 297.8, 1.2069)
POD_EXPONENT_PIXEL = ((_EMIT[2] - math.log10(_EMIT[1])) - (_AVIRIS_NG[2] - math.log10(_AVIRIS_NG[1]))) / math.log10(
    _EMIT[0] / _AVIRIS_NG[0]
)
POD_INTERCEPT = _EMIT[2] - math.log10(_EMIT[1]) - POD_EXPONENT_PIXEL * math.log10(_EMIT[0])
#: Width of the logistic POD in log10(Q) (mean of the two presets' fits).
POD_SCALE_LOG10 = 0.125


def _log10_q50(wind_speed_m_s: float, sigma_ppm_m: float, pixel_size_m: float, gas: str) -> float:
    for name, value in (
        ("wind_speed_m_s", wind_speed_m_s),
        ("sigma_ppm_m", sigma_ppm_m),
        ("pixel_size_m", pixel_size_m),
    ):
        if not (np.isfinite(value) and value > 0):
            raise InvalidInputError(name, f"must be a positive number, got {value!r}")
    mass_ratio = ppm_m_to_kg_m2(gas) / ppm_m_to_kg_m2("ch4")
    return (
        POD_INTERCEPT
        + POD_EXPONENT_PIXEL * math.log10(pixel_size_m)
        + math.log10(sigma_ppm_m)
        + math.log10(wind_speed_m_s)
        + math.log10(mass_ratio)
    )


def probability_of_detection(
    rate_kg_h: float | np.ndarray, *, wind_speed_m_s: float, sigma_ppm_m: float, pixel_size_m: float, gas: str = "ch4"
) -> np.ndarray:
    """Probability that a source of ``rate_kg_h`` is found in a map with this noise, pixel size and wind.

    Parameters
    ----------
    rate_kg_h : float or array
        Emission rates, kg/h (≥ 0; 0 gives 0).
    wind_speed_m_s : float, keyword-only
        10 m wind speed, m/s.
    sigma_ppm_m : float, keyword-only
        The map's median per-pixel 1σ, ppm·m.
    pixel_size_m : float, keyword-only
        Ground sampling distance, m.
    gas : str, keyword-only
        The gas of the map (its molar mass converts columns to mass).

    Returns
    -------
    ndarray
        POD in [0, 1], the shape of ``rate_kg_h``.
    """
    log_q50 = _log10_q50(wind_speed_m_s, sigma_ppm_m, pixel_size_m, gas)
    rate = np.asarray(rate_kg_h, dtype=np.float64)
    with np.errstate(divide="ignore"):
        z = (np.log10(rate) - log_q50) / POD_SCALE_LOG10
    return 1.0 / (1.0 + np.exp(-z))


def detection_limit_kg_h(
    *, wind_speed_m_s: float, sigma_ppm_m: float, pixel_size_m: float, gas: str = "ch4", pod: float = 0.9
) -> float:
    """The emission rate (kg/h) found with probability ``pod`` (default 90 %) in such a map.

    Parameters as in :func:`probability_of_detection`; ``pod`` in (0, 1).
    """
    if not 0 < pod < 1:
        raise InvalidInputError("pod", f"must lie strictly between 0 and 1, got {pod!r}")
    log_q50 = _log10_q50(wind_speed_m_s, sigma_ppm_m, pixel_size_m, gas)
    return float(10 ** (log_q50 + POD_SCALE_LOG10 * math.log(pod / (1.0 - pod))))
