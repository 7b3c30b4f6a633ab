"""Plumes near the detection limit: flag and selection-bias widening of their intervals."""

from __future__ import annotations

import math

import pytest

from plumetrace.plumes import nearlimit
from plumetrace.plumes.nearlimit import NEAR_LIMIT_PEAK_SIGMA, near_limit_fields, widen_for_selection_bias
from plumetrace.plumes.pipeline import analyze_plumes
from plumetrace.plumes.wind import Wind

WIND = Wind(4.0, 270.0, 1.2)
LOWER = nearlimit.WIDENED_FIELDS
UPPER = (
    "emission_rate_p84_kg_h",
    "emission_rate_total_p84_kg_h",
    "emission_rate_csf_p84_kg_h",
    "emission_rate_csf_total_p84_kg_h",
)


def _record(plume_map, rate_kg_h: float):
    ds, _ = plume_map(rate_kg_h=rate_kg_h, seed=0)
    records = analyze_plumes(ds, wind=WIND, n_samples=400, csf_samples=20).records
    assert len(records) == 1
    return ds, records[0]


def test_a_faint_plume_is_flagged_and_a_strong_one_is_not(plume_map):
    _, faint = _record(plume_map, 60.0)
    _, strong = _record(plume_map, 3000.0)
    assert faint["peak_significance_sigma"] < NEAR_LIMIT_PEAK_SIGMA
    assert faint["near_detection_limit"] is True
    assert faint["selection_bias_factor"] == pytest.approx(nearlimit.selection_bias_factor("prisma"))
    assert faint["selection_bias_factor"] > 1.0
    assert strong["peak_significance_sigma"] > 10 * NEAR_LIMIT_PEAK_SIGMA
    assert strong["near_detection_limit"] is False
    assert strong["selection_bias_factor"] == 1.0


def test_the_widened_interval_contains_the_unwidened_one(plume_map, monkeypatch):
    ds, widened = _record(plume_map, 60.0)
    monkeypatch.setattr(nearlimit, "NEAR_LIMIT_PEAK_SIGMA", 0.0)  # nothing is near the limit: no widening
    plain = analyze_plumes(ds, wind=WIND, n_samples=400, csf_samples=20).records[0]
    assert widened["near_detection_limit"] and not plain["near_detection_limit"]
    assert widened["emission_rate_kg_h"] == plain["emission_rate_kg_h"]  # the rate itself is not corrected
    factor = widened["selection_bias_factor"]
    for low, high in zip(LOWER, UPPER, strict=True):
        assert widened[low] < plain[low] <= plain[high] == widened[high]
        assert widened[low] == pytest.approx(plain[low] / factor)


def test_widening_uses_the_measured_bias_of_the_sensor():
    assert nearlimit.selection_bias_factor("emit") == nearlimit.NEAR_LIMIT_BIAS["emit"]
    assert nearlimit.selection_bias_factor("unknown") == nearlimit.NEAR_LIMIT_BIAS_DEFAULT
    record = {name: 100.0 for name in LOWER} | near_limit_fields(5.0, "aviris-ng")
    widen_for_selection_bias(record)
    assert all(math.isclose(record[name], 100.0 / nearlimit.NEAR_LIMIT_BIAS["aviris-ng"]) for name in LOWER)
    strong = {name: 100.0 for name in LOWER} | near_limit_fields(50.0, "aviris-ng")
    assert widen_for_selection_bias(strong)[LOWER[0]] == 100.0
