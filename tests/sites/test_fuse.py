"""Site fusion: persistence from real overpasses only, P·Q̄ and its interval, confidence ordering."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from plumetrace.sites import SiteOptions, fuse_sites
from plumetrace.sites.rates import site_rates
from tests.sites.builders import detection, overpass, square, tables

A = (0.0, 0.0)
B = (20_000.0, 0.0)  # 20 km east


def _site(result, east_m=None):
    """The one site of the result (or the one nearest a local east position)."""
    sites = result.sites
    if east_m is None:
        assert len(sites) == 1
        return sites.iloc[0]
    from plumetrace.georef import lonlat_to_local

    east, _ = lonlat_to_local(sites["lon"], sites["lat"], origin_lon_deg=-102.3, origin_lat_deg=31.9)
    return sites.iloc[int(np.argmin(np.abs(east - east_m)))]


def test_site_never_covered_again_has_persistence_from_its_real_overpasses_only():
    """A: detected in s1, no other scene covers it. B: covered by s1-s5, detected in s1 and s3."""
    cover_a_b = square(10_000, 0, 15_000)
    cover_b = square(B[0], 0, 3_000)
    ovps = [overpass("s1", cover_a_b, n_detections=2)]
    ovps += [overpass(f"s{i}", cover_b, time=f"2026-06-0{i}T18:00:00Z") for i in range(2, 6)]
    dets = [
        detection("s1", *A, rate=2000.0, n=1),
        detection("s1", *B, rate=800.0, n=2),
        detection("s3", B[0] + 30, 20, rate=1200.0, time="2026-06-03T18:00:00Z"),
    ]
    result = fuse_sites(*tables(dets, ovps))
    assert len(result.sites) == 2
    a, b = _site(result, A[0]), _site(result, B[0])
    assert (a["n_detections"], a["n_overpasses"], a["persistence"]) == (1, 1, 1.0)
    assert (b["n_detections"], b["n_overpasses"]) == (2, 5)
    assert b["persistence"] == pytest.approx(0.4)
    series = result.timeseries[b["site_id"]]
    assert list(series["overpass_id"]) == ["s1", "s2", "s3", "s4", "s5"]  # time order
    assert list(series["detected"]) == [True, False, True, False, False]
    assert b["first_seen"] == "2026-06-01T18:00:00Z" and b["last_seen"] == "2026-06-03T18:00:00Z"


def test_overpass_with_detection_limit_above_the_typical_rate_or_another_gas_is_not_counted():
    cover = square(0, 0, 5_000)
    ovps = [
        overpass("s1", cover, limit=300.0),
        overpass("s2", cover, limit=300.0, time="2026-06-02T18:00:00Z"),
        overpass("high-limit", cover, limit=5_000.0, time="2026-06-03T18:00:00Z"),
        overpass("co2-scene", cover, limit=100.0, gas="co2", time="2026-06-04T18:00:00Z"),
        overpass("unknown-limit", cover, limit=math.nan, time="2026-06-05T18:00:00Z"),
    ]
    dets = [detection("s1", 0, 0, rate=1000.0)]
    result = fuse_sites(*tables(dets, ovps))
    site = _site(result)
    assert site["n_overpasses"] == 3  # s1 (own), s2, unknown-limit
    assert site["persistence"] == pytest.approx(1 / 3)
    series = result.timeseries[site["site_id"]].set_index("overpass_id")
    assert not series.loc["high-limit", "counted"] and series.loc["s2", "counted"]
    assert "co2-scene" not in series.index  # another gas: not an overpass of this site at all


def test_footprint_not_covering_the_site_is_not_counted():
    ovps = [overpass("s1", square(0, 0, 2_000)), overpass("s2", square(10_000, 0, 2_000))]
    result = fuse_sites(*tables([detection("s1", 0, 0)], ovps))
    assert _site(result)["n_overpasses"] == 1


def test_mean_rate_persistence_and_persistence_weighted_rate():
    cover = square(0, 0, 5_000)
    ovps = [overpass(f"s{i}", cover, time=f"2026-06-0{i}T18:00:00Z") for i in range(1, 5)]
    dets = [
        detection("s1", 0, 0, rate=1000.0, rel=0.2, time="2026-06-01T18:00:00Z"),
        detection("s3", 10, -10, rate=2000.0, rel=0.2, time="2026-06-03T18:00:00Z"),
    ]
    options = SiteOptions(n_draws=40_000, seed=1)
    site = _site(fuse_sites(*tables(dets, ovps), options=options))
    assert site["mean_rate_kg_h"] == pytest.approx(1500.0)
    assert site["persistence"] == pytest.approx(0.5)
    assert site["pw_rate_kg_h"] == pytest.approx(750.0)
    # P interval: the Jeffreys Beta(D + 1/2, M - D + 1/2) posterior's 16th-84th percentiles (Monte Carlo, ±0.01)
    lo, hi = stats.beta(2.5, 2.5).ppf([0.16, 0.84])
    assert site["persistence_p16"] == pytest.approx(lo, abs=0.01)
    assert site["persistence_p84"] == pytest.approx(hi, abs=0.01)
    assert site["mean_rate_p16_kg_h"] < 1500.0 < site["mean_rate_p84_kg_h"]
    assert site["pw_rate_p16_kg_h"] < 750.0 < site["pw_rate_p84_kg_h"]
    # the persistence-weighted interval is wider (relatively) than the mean rate's: P's uncertainty adds
    rel_q = site["mean_rate_p84_kg_h"] / site["mean_rate_p16_kg_h"]
    rel_pq = site["pw_rate_p84_kg_h"] / site["pw_rate_p16_kg_h"]
    assert rel_pq > rel_q


def test_one_detection_keeps_its_own_68_percent_interval():
    rng = np.random.default_rng(0)
    rates = site_rates(np.array([1000.0]), np.array([750.0]), np.array([1350.0]), 1, n_draws=40_000, rng=rng)
    assert rates.mean_rate_p16_kg_h == pytest.approx(750.0, rel=0.02)
    assert rates.mean_rate_p84_kg_h == pytest.approx(1350.0, rel=0.02)
    assert rates.persistence == 1.0 and rates.persistence_p84 == 1.0


def test_rate_interval_narrows_with_more_detections_of_a_steady_source():
    rng = np.random.default_rng(0)
    one = site_rates(np.array([1000.0]), np.array([740.0]), np.array([1350.0]), 1, rng=rng)
    n = 9
    many = site_rates(np.full(n, 1000.0), np.full(n, 740.0), np.full(n, 1350.0), n, rng=rng)
    width = lambda r: math.log(r.mean_rate_p84_kg_h / r.mean_rate_p16_kg_h)  # noqa: E731
    assert width(many) == pytest.approx(width(one) / 3, rel=0.15)  # 1/√9


def test_position_is_the_inverse_variance_mean():
    from plumetrace.georef import lonlat_to_local

    dets = [
        detection("emit-1", 40.0, -30.0, sigma_m=88.0),
        detection("drone-1", 0.0, 0.0, sigma_m=12.0, sigma_north_m=2.0, kind="in-situ", sensor="drone", pixel_m=2.0),
    ]
    site = _site(fuse_sites(*tables(dets, [overpass("emit-1"), overpass("drone-1", kind="in-situ")])))
    east, north = lonlat_to_local([site["lon"]], [site["lat"]], origin_lon_deg=-102.3, origin_lat_deg=31.9)
    w_emit, w_e, w_n = 1 / 88.0**2, 1 / 12.0**2, 1 / 2.0**2
    assert east[0] == pytest.approx(40.0 * w_emit / (w_emit + w_e), abs=0.05)
    assert north[0] == pytest.approx(-30.0 * w_emit / (w_emit + w_n), abs=0.05)
    assert site["position_sigma_east_m"] == pytest.approx((w_emit + w_e) ** -0.5, rel=1e-6)
    assert site["kinds"] == "imaging;in-situ" and site["sensors"] == "drone;emit"


def _confidence(dets, ovps):
    site = _site(fuse_sites(*tables(dets, ovps)))
    reasons = json.loads(site["confidence_reasons"])
    parts = sum(v["contribution"] for k, v in reasons.items() if k != "total")
    assert reasons["total"] == pytest.approx(min(max(parts, 0.0), 1.0), abs=1e-3)
    assert 0.0 <= site["confidence"] <= 1.0
    return site["confidence"], reasons


def test_confidence_orders_sites_by_their_evidence():
    cover = square(0, 0, 5_000)
    ovps = [overpass(f"s{i}", cover, time=f"2026-06-0{i}T18:00:00Z") for i in range(1, 7)]
    ovps.append(overpass("drone", kind="in-situ", sensor="drone"))
    weak, _ = _confidence([detection("s1", 0, 0, significance=5.0, near=True)], ovps)
    single, _ = _confidence([detection("s1", 0, 0, significance=12.0)], ovps)
    repeated, _ = _confidence(
        [detection(f"s{i}", 10 * i, 0, significance=12.0, time=f"2026-06-0{i}T18:00:00Z") for i in (1, 2, 3, 4)],
        ovps,
    )
    drone = detection("drone", 0, 0, sigma_m=10, kind="in-situ", sensor="drone", rate=1100.0, pixel_m=2.0)
    corroborated, reasons = _confidence(
        [detection(f"s{i}", 10 * i, 0, significance=12.0, time=f"2026-06-0{i}T18:00:00Z") for i in (1, 2, 3, 4)]
        + [drone],
        ovps,
    )
    assert weak < single < repeated < corroborated
    assert reasons["agreement"]["value"] > 0.9 and reasons["sensors"]["count"] == 2
    # in-situ rate far from the imaging rate: agreement drops
    far = {**drone, "rate_kg_h": 100.0, "rate_p16_kg_h": 80.0, "rate_p84_kg_h": 125.0}
    _, far_reasons = _confidence(
        [detection(f"s{i}", 10 * i, 0, significance=12.0, time=f"2026-06-0{i}T18:00:00Z") for i in (1, 2, 3, 4)]
        + [far],
        ovps,
    )
    assert far_reasons["agreement"]["value"] < 0.1


def test_sites_are_ordered_by_persistence_weighted_rate():
    ovps = [overpass("s1", square(0, 0, 30_000), n_detections=2), overpass("s2", square(0, 0, 30_000))]
    dets = [
        detection("s1", 0, 0, rate=500.0, n=1),
        detection("s1", 10_000, 0, rate=3000.0, n=2),
        detection("s2", 10_000, 20, rate=3000.0),
    ]
    sites = fuse_sites(*tables(dets, ovps)).sites
    assert list(sites["site_id"]) == ["site-001", "site-002"]
    assert list(sites["pw_rate_kg_h"]) == pytest.approx([3000.0, 250.0])


def test_no_detections_give_no_sites():
    det, ovp = tables([detection("s1", 0, 0)], [overpass("s1")])
    result = fuse_sites(det.iloc[:0], ovp)
    assert result.sites.empty and result.timeseries == {}


def test_mixed_gases_at_one_place_are_one_site_listing_both():
    cover = square(0, 0, 5_000)
    ovps = [overpass("s1", cover), overpass("s2", cover, gas="co2", time="2026-06-02T18:00:00Z")]
    dets = [detection("s1", 0, 0), detection("s2", 20, 0, gas="co2", time="2026-06-02T18:00:00Z")]
    site = _site(fuse_sites(*tables(dets, ovps)))
    assert site["gases"] == "ch4;co2" and site["n_overpasses"] == 2


def test_site_of_a_thermal_chemical_states_its_best_identification_confidence():
    cover = square(0, 0, 5_000)
    ovps = [
        overpass("t1", cover),
        overpass("t2", cover, time="2026-06-02T18:00:00Z"),
        overpass("m1", square(B[0], 0, 5_000)),
    ]
    acetone = {"gas": "acetone", "sensor": "hytes", "pixel_m": 3.0, "sigma_m": 5.0}
    dets = [
        {**detection("t1", 0, 0, **acetone), "identification_confidence": 0.7},
        {**detection("t2", 2, 1, time="2026-06-02T18:00:00Z", **acetone), "identification_confidence": 0.95},
        detection("m1", *B),  # methane: no identification
    ]
    result = fuse_sites(*tables(dets, ovps))
    chemical, methane = _site(result, 0.0), _site(result, B[0])
    assert chemical["gases"] == "acetone" and chemical["identification_confidence"] == pytest.approx(0.95)
    assert math.isnan(methane["identification_confidence"])
