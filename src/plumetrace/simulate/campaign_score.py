"""Sites found in a simulated campaign scored against its truth (:mod:`plumetrace.simulate.campaign`).

Plain functions over plain data: the truth document (``truth.json``), the found sites (rows of ``sites.csv``,
docs/sites.md) and each scene's detection limit (``detection_limit_kg_h`` of its ``footprint.geojson``,
docs/run.md). Used by the demo and by ``benchmarks/campaign_skill.py``.

* A true site is **detectable** when at least one scene that covered it while it was on had a detection limit
  (90 % probability of detection) at or below its rate, or a drone log flew around it while it was on.
* Its **true persistence** is the fraction of its qualifying overpasses (covering scenes whose detection limit is at
  or below its rate, and drone logs) at which it was on: what P = D / M estimates (docs/sites.md).
* Matching: each found site goes to the nearest unmatched true site within ``radius_m``; the rest are false sites
  (including a second site found for one true site). Found sites below ``min_confidence`` are left out first
  (``plumetrace sites`` reports every candidate with its confidence; docs/sites.md keeps those at ≥ 0.2).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from plumetrace.georef import lonlat_to_local

__all__ = ["qualifying_overpasses", "score_sites", "DEFAULT_MATCH_RADIUS_M", "DEFAULT_MIN_CONFIDENCE"]

DEFAULT_MATCH_RADIUS_M = 300.0  # five EMIT pixels; far below the 1.5 km between simulated sites
DEFAULT_MIN_CONFIDENCE = 0.2  # the threshold docs/sites.md validates ("sites kept at confidence >= 0.2")


def qualifying_overpasses(
    truth: Mapping[str, Any], site_id: str, detection_limits: Mapping[str, float] | None = None
) -> list[bool]:
    """On (True) / off at each overpass of a site whose detection limit (kg/h) was at or below its rate.

    ``detection_limits`` maps scene id → detection limit; a scene without one counts when it covered the site.
    Drone logs around the site always count.
    """
    site = next(s for s in truth["sites"] if s["site_id"] == site_id)
    limits = detection_limits or {}
    states = []
    for scene in truth["scenes"]:
        for entry in scene["sites"]:
            if entry["site_id"] != site_id or not entry["covered"]:
                continue
            limit = limits.get(scene["scene_id"])
            if limit is None or not math.isfinite(limit) or limit <= site["rate_kg_h"]:
                states.append(bool(entry["on"]))
    states += [bool(log["on"]) for log in truth["logs"] if log["site_id"] == site_id]
    return states


def _float(row: Mapping[str, Any], key: str) -> float:
    try:
        return float(row[key])
    except (KeyError, TypeError, ValueError):
        return float("nan")


def score_sites(
    truth: Mapping[str, Any],
    found: Sequence[Mapping[str, Any]],
    *,
    detection_limits: Mapping[str, float] | None = None,
    radius_m: float = DEFAULT_MATCH_RADIUS_M,
    min_confidence: float = 0.0,
) -> dict[str, Any]:
    """Match found sites to the true ones and compute the campaign's skill.

    Parameters
    ----------
    truth : the campaign's truth document.
    found : rows of ``sites.csv`` (``site_id``, ``lat``, ``lon``, ``mean_rate_kg_h``, ``persistence``, ...).
    detection_limits : scene id → detection limit, kg/h.
    radius_m : largest distance of a match, m.
    min_confidence : found sites whose ``confidence`` is below this are left out (not found, not false); their
        number is ``n_below_confidence``.

    Returns
    -------
    dict with ``sites`` (one dict per true site: ``site_id``, ``kind``, ``rate_kg_h``, ``detectable``,
    ``true_persistence``, ``found_id``, ``position_error_m``, ``rate_kg_h_found``, ``rate_ratio``, ``persistence``,
    ``persistence_error``), ``false_sites`` (found ids matching no true site), and the metrics ``n_true``,
    ``n_detectable``, ``n_found``, ``site_recall`` (over detectable sites), ``site_precision``,
    ``site_position_error_m`` (median), ``persistence_abs_error`` (median), ``site_rate_within_50pct``.
    """
    candidates = list(found)
    found = [f for f in candidates if not _float(f, "confidence") < min_confidence]
    sites = truth["sites"]
    origin = {
        "origin_lat_deg": float(np.mean([s["lat"] for s in sites])),
        "origin_lon_deg": float(np.mean([s["lon"] for s in sites])),
    }
    tx, ty = lonlat_to_local([s["lon"] for s in sites], [s["lat"] for s in sites], **origin)
    fx, fy = lonlat_to_local([_float(f, "lon") for f in found], [_float(f, "lat") for f in found], **origin)
    pairs = sorted(
        (float(np.hypot(fx[j] - tx[i], fy[j] - ty[i])), i, j) for i in range(len(sites)) for j in range(len(found))
    )
    match: dict[int, tuple[int, float]] = {}
    used: set[int] = set()
    for distance, i, j in pairs:
        if distance > radius_m or i in match or j in used:
            continue
        match[i] = (j, distance)
        used.add(j)
    rows = []
    for i, site in enumerate(sites):
        states = qualifying_overpasses(truth, site["site_id"], detection_limits)
        row: dict[str, Any] = {
            "site_id": site["site_id"],
            "kind": site["kind"],
            "rate_kg_h": site["rate_kg_h"],
            "on_fraction": site["on_fraction"],
            "detectable": any(states),
            "true_persistence": float(np.mean(states)) if states else None,
            "found_id": None,
            "position_error_m": None,
            "rate_kg_h_found": None,
            "rate_ratio": None,
            "persistence": None,
            "persistence_error": None,
        }
        if i in match:
            j, distance = match[i]
            rate = _float(found[j], "mean_rate_kg_h")
            persistence = _float(found[j], "persistence")
            row.update(
                found_id=str(found[j].get("site_id")),
                position_error_m=distance,
                rate_kg_h_found=rate,
                rate_ratio=rate / site["rate_kg_h"],
                persistence=persistence,
                persistence_error=(
                    abs(persistence - row["true_persistence"]) if row["true_persistence"] is not None else None
                ),
            )
        rows.append(row)
    false_sites = [str(found[j].get("site_id")) for j in range(len(found)) if j not in used]
    detectable = [r for r in rows if r["detectable"]]
    matched = [r for r in rows if r["found_id"] is not None]

    def median(values: list[float]) -> float | None:
        values = [v for v in values if v is not None and math.isfinite(v)]
        return float(np.median(values)) if values else None

    ratios = [r["rate_ratio"] for r in matched if r["rate_ratio"] is not None and math.isfinite(r["rate_ratio"])]
    return {
        "sites": rows,
        "false_sites": false_sites,
        "n_true": len(rows),
        "n_detectable": len(detectable),
        "n_found": len(found),
        "n_below_confidence": len(candidates) - len(found),
        "min_confidence": min_confidence,
        "site_recall": sum(r["found_id"] is not None for r in detectable) / len(detectable) if detectable else None,
        "site_precision": len(used) / len(found) if found else None,
        "site_position_error_m": median([r["position_error_m"] for r in matched]),
        "persistence_abs_error": median([r["persistence_error"] for r in matched]),
        "site_rate_within_50pct": (float(np.mean([0.5 <= q <= 1.5 for q in ratios])) if ratios else None),
    }
