"""A simulated imaging campaign with known sites, for the fusion's skill test.

Sites at random places (at least ``spacing_m`` apart), rates log-uniform 100-5000 kg/h, half persistent and half
emitting a random fraction (0.2-0.8) of the time. Each scene covers a random 15 × 15 km square with a detection
limit (90 % probability of detection) of 150-600 kg/h; an emitting, covered site is detected with probability
Φ((ln Q − ln DL)/0.4 + 1.28), at its true position plus N(0, σ) per axis (σ the stated 1σ), with a rate
log-normally scattered by 30 %. Each scene also holds one false alarm: a rate near its detection limit, 4.5σ,
flagged near the detection limit.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.stats import norm

from tests.sites.builders import lonlat, square


def campaign(seed: int, *, n_sites: int = 25, n_scenes: int = 20, sigma_m: float = 90.0, spacing_m: float = 600.0):
    """(detections, overpasses, true positions (east, north m), true rates kg/h, true on-fractions)."""
    rng = np.random.default_rng(seed)
    pos: list[np.ndarray] = []
    while len(pos) < n_sites:
        p = rng.uniform(-12_000, 12_000, 2)
        if all(np.hypot(*(p - q)) > spacing_m for q in pos):
            pos.append(p)
    positions = np.array(pos)
    rate = np.exp(rng.uniform(np.log(100), np.log(5000), n_sites))
    on = np.where(rng.random(n_sites) < 0.5, 1.0, rng.uniform(0.2, 0.8, n_sites))
    dets, ovps = [], []

    def add(oid, t, e, n, q, rel, sig, near, truth):
        lon, lat = lonlat(e, n)
        dets.append(
            dict(detection_id=f"{oid}/{len(dets)}", overpass_id=oid, product_dir="/x", kind="imaging", sensor="emit",
                 gas="ch4", time=t, lat=lat, lon=lon, sigma_east_m=sigma_m, sigma_north_m=sigma_m, pixel_size_m=60.0,
                 rate_kg_h=q, rate_p16_kg_h=q * math.exp(-rel), rate_p84_kg_h=q * math.exp(rel),
                 significance_sigma=sig, near_detection_limit=near, stac_item="", truth=truth)
        )  # fmt: skip

    for j in range(n_scenes):
        centre, half = rng.uniform(-6000, 6000, 2), 7500.0
        limit = rng.uniform(150, 600)
        oid, t = f"s{j:02d}", pd.Timestamp("2026-06-01T18:00Z") + pd.Timedelta(days=j)
        ovps.append(
            dict(overpass_id=oid, product_dir="/x/" + oid, kind="imaging", sensor="emit", gas="ch4", time=t,
                 footprint=square(centre[0], centre[1], half), detection_limit_kg_h=limit, upper_limit_kg_h=np.nan,
                 pixel_size_m=60.0, n_detections=0, stac_collection="")
        )  # fmt: skip
        for k in range(n_sites):
            if np.any(np.abs(positions[k] - centre) > half) or rng.random() > on[k]:
                continue
            if rng.random() > norm.cdf((np.log(rate[k]) - np.log(limit)) / 0.4 + 1.2816):
                continue
            e, n = positions[k] + rng.normal(0, sigma_m, 2)
            q = rate[k] * math.exp(rng.normal(0, 0.3))
            sig = 5 + 5 * min(q / limit, 3)
            add(oid, t, e, n, q, 0.35, sig, sig < 7, k)
        e, n = centre + rng.uniform(-half, half, 2)
        add(oid, t, e, n, limit * rng.uniform(0.8, 1.5), 0.36, 4.5, True, -1)
    det, ovp = pd.DataFrame(dets), pd.DataFrame(ovps)
    det["time"] = pd.to_datetime(det["time"], utc=True)
    ovp["time"] = pd.to_datetime(ovp["time"], utc=True)
    return det, ovp, positions, rate, on


def skill(seed: int, *, min_confidence: float = 0.2, strong_kg_h: float = 600.0, **kw) -> dict[str, float]:
    """Fuse one simulated campaign; score the sites against the truth.

    Returns ``truth_in_one_site`` (fraction of detected true sites whose detections all went to one site),
    ``precision`` (sites with confidence ≥ ``min_confidence`` whose detections are mostly a true site's),
    ``recall`` (true sites above ``strong_kg_h`` detected at least once and kept), ``position_error_m`` (median),
    ``persistence_abs_error`` (median, sites with M ≥ 3) and ``rate_within_50pct``.
    """
    from plumetrace.georef import lonlat_to_local
    from plumetrace.sites import fuse_sites

    det, ovp, pos, rate, on = campaign(seed, **kw)
    result = fuse_sites(det, ovp)
    d = result.detections
    majority = d.groupby("site_id")["truth"].agg(lambda x: x.value_counts().idxmax())
    s = result.sites.assign(truth=lambda t: t["site_id"].map(majority))
    e, n = lonlat_to_local(s["lon"], s["lat"], origin_lon_deg=-102.3, origin_lat_deg=31.9)
    s = s.assign(e=e, n=n)
    kept = s[s["confidence"] >= min_confidence]
    real = kept[kept["truth"] >= 0]
    seen = set(d.loc[d["truth"] >= 0, "truth"])
    strong = [k for k in seen if rate[k] >= strong_kg_h]
    return {
        "truth_in_one_site": float((d[d["truth"] >= 0].groupby("truth")["site_id"].nunique() == 1).mean()),
        "precision": len(real) / max(len(kept), 1),
        "recall": float(np.mean([k in set(real["truth"]) for k in strong])),
        "position_error_m": float(np.median([np.hypot(r.e - pos[r.truth][0], r.n - pos[r.truth][1]) for r in real.itertuples()])),
        "persistence_abs_error": float(np.median([abs(r.persistence - on[r.truth]) for r in real.itertuples() if r.n_overpasses >= 3])),
        "rate_within_50pct": float(np.mean([abs(math.log(r.mean_rate_kg_h / rate[r.truth])) < math.log(1.5) for r in real.itertuples()])),
    }  # fmt: skip
