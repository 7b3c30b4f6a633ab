"""The confidence score of a site, in [0, 1], built from ingredients a reader can check.

score = clip(Σ weightᵢ · valueᵢ − 0.20 · near-limit fraction, 0, 1), with

==================  ======  ===============================================================================
ingredient          weight  value in [0, 1]
==================  ======  ===============================================================================
``detections``      0.30    1 − 0.5^(D − 1): 0 for one detection, 0.5 for two, 0.75 for three, ...
``significance``    0.25    (max significance − 3σ)/(10σ − 3σ), clipped: the strongest detection's peak
``sensors``         0.15    0 for one sensor, 1 for two or more
``agreement``       0.15    exp(−z²/8) with z the imaging and in-situ mean log-rates' difference over its
                            combined σ (1 at z = 0, 0.61 at z = 2); 0 when only one kind saw the site
``persistence``     0.15    P = D/M
``near_limit``      −0.20   fraction of the detections flagged near the detection limit (a penalty)
==================  ======  ===============================================================================

Each ingredient is returned with its value, weight and contribution (weight · value), so ``confidence_reasons``
shows why a site scored what it did.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["WEIGHTS", "NEAR_LIMIT_PENALTY", "site_confidence"]

WEIGHTS = {"detections": 0.30, "significance": 0.25, "sensors": 0.15, "agreement": 0.15, "persistence": 0.15}
NEAR_LIMIT_PENALTY = 0.20
_SIG_LOW, _SIG_HIGH = 3.0, 10.0


def _agreement(rates: np.ndarray, log_sigmas: np.ndarray, kinds: np.ndarray) -> tuple[float, float | None]:
    """(value, z) of the imaging / in-situ agreement; (0, None) when only one kind is present."""
    parts = []
    for kind in ("imaging", "in-situ"):
        sel = kinds == kind
        if not sel.any():
            return 0.0, None
        logs = np.log(np.maximum(rates[sel], 1e-9))
        n = int(sel.sum())
        spread = float(np.var(logs, ddof=1)) if n > 1 else 0.0
        parts.append((float(logs.mean()), (float(np.mean(log_sigmas[sel] ** 2)) + spread) / n))
    (m1, v1), (m2, v2) = parts
    z = abs(m1 - m2) / math.sqrt(max(v1 + v2, 1e-12))
    return math.exp(-z * z / 8.0), z


def site_confidence(
    *,
    n_detections: int,
    n_sensors: int,
    max_significance_sigma: float,
    persistence: float,
    near_limit_fraction: float,
    rates_kg_h: np.ndarray,
    log_sigmas: np.ndarray,
    kinds: np.ndarray,
) -> tuple[float, dict[str, Any]]:
    """Confidence score of a site and its reasons (module docstring).

    Parameters
    ----------
    n_detections : int
        D.
    n_sensors : int
        Distinct sensors with a detection.
    max_significance_sigma : float
        Largest detection significance, σ.
    persistence : float
        P = D/M.
    near_limit_fraction : float
        Fraction of the detections flagged near the detection limit.
    rates_kg_h, log_sigmas, kinds : arrays (D,)
        Each detection's rate (kg/h), log-normal σ and kind (``imaging`` / ``in-situ``), for the agreement.

    Returns
    -------
    (score, reasons) : float, dict
        ``reasons[name] = {"value", "weight", "contribution"}`` (plus ``z`` for the agreement), and ``total``.
    """
    agreement, z = _agreement(np.asarray(rates_kg_h, float), np.asarray(log_sigmas, float), np.asarray(kinds))
    values = {
        "detections": 1.0 - 0.5 ** max(n_detections - 1, 0),
        "significance": min(max((max_significance_sigma - _SIG_LOW) / (_SIG_HIGH - _SIG_LOW), 0.0), 1.0),
        "sensors": 1.0 if n_sensors >= 2 else 0.0,
        "agreement": agreement,
        "persistence": min(max(persistence, 0.0), 1.0),
    }
    reasons: dict[str, Any] = {}
    total = 0.0
    for name, weight in WEIGHTS.items():
        contribution = weight * values[name]
        total += contribution
        reasons[name] = {"value": round(values[name], 4), "weight": weight, "contribution": round(contribution, 4)}
    reasons["detections"]["count"] = int(n_detections)
    reasons["sensors"]["count"] = int(n_sensors)
    reasons["significance"]["max_sigma"] = round(float(max_significance_sigma), 2)
    if z is not None:
        reasons["agreement"]["z"] = round(z, 3)
    penalty = NEAR_LIMIT_PENALTY * min(max(near_limit_fraction, 0.0), 1.0)
    reasons["near_limit"] = {
        "value": round(near_limit_fraction, 4),
        "weight": -NEAR_LIMIT_PENALTY,
        "contribution": round(-penalty, 4) if penalty else 0.0,
    }
    score = min(max(total - penalty, 0.0), 1.0)
    reasons["total"] = round(score, 4)
    return score, reasons
