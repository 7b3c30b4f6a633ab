"""Checks of quantify_skill's cross-family path (``pytest benchmarks/``): a tiny run, its keys and value ranges."""

from __future__ import annotations

import json
import math

import pytest

from . import quantify_skill
from .quantify_skill import false_sources, gaussian_case


def test_gaussian_case_draws_daytime_classes_and_inner_sources() -> None:
    classes = {gaussian_case(seed, 1.5, (96, 96))[0] for seed in range(40)}
    assert classes <= {"A", "B"} and len(classes) == 2  # below 2 m/s: A, A-B or B
    assert {gaussian_case(seed, 7.0, (96, 96))[0] for seed in range(40)} == {"C", "D"}
    for seed in range(20):
        _, (row, col) = gaussian_case(seed, 3.0, (96, 96))
        assert 0.15 * 95 <= row <= 0.85 * 95 and 0.15 * 95 <= col <= 0.85 * 95
    assert gaussian_case(5, 3.0, (96, 96)) == gaussian_case(5, 3.0, (96, 96))


def test_false_sources_counts_records_beyond_the_stated_distance() -> None:
    class Truth:
        source_yx = (10.0, 10.0)

    records = [{"source_row": 10.0, "source_col": 13.0}, {"source_row": 10.0, "source_col": 16.0}]
    assert quantify_skill.FALSE_SOURCE_PX == 5.0
    assert false_sources(records, Truth()) == 1


def test_cross_family_rows_on_a_tiny_run(tmp_path) -> None:
    out = tmp_path / "cross.json"
    argv = ["--cross-family-only", "--presets", "emit", "--cross-cases", "4", "--cross-calibration-cases", "5"]
    assert quantify_skill.main([*argv, "--json", str(out)]) == 0
    saved = json.loads(out.read_text())
    rows = saved["cross_family"]
    assert {(r["calibrated_on"], r["validated_on"]) for r in rows} == {("puff", "gaussian"), ("gaussian", "puff")}
    assert {(r["calibrated_on"], r["validated_on"]) for r in saved["same_family"]} == {
        ("puff", "puff"),
        ("gaussian", "gaussian"),
    }
    for row in rows:
        assert row["preset"] == "emit" and row["n_plumes"] == 4
        for key in ("median_abs_rel_error", "frac_within_50pct", "interval68_coverage"):
            value = row[key]
            assert math.isnan(value) if row["n_detected"] == 0 else value >= 0
        assert row["frac_within_50pct"] <= 1 and row["interval68_coverage"] <= 1
        assert row["false_sources_per_plume"] >= 0
    cals = saved["cross_family_calibrations"]["emit"]
    assert set(cals) == {"cal_puff", "cal_gaussian"}
    assert all(0 < c["a"] and 0 <= c["random_rel_sigma"] <= 2 for c in cals.values())
    gaussian_rows = saved["cross_family_cases"]["emit/gaussian"]
    assert {r["family"] for r in gaussian_rows} == {"gaussian"}
    assert all(r["stability_class"] in "ABCD" for r in gaussian_rows)


@pytest.mark.parametrize("family", ["puff", "gaussian"])
def test_family_option_is_recorded(family, monkeypatch) -> None:
    monkeypatch.setattr(quantify_skill, "FAMILY", "puff")  # main() sets the global; restored after the test
    parser_args = ["--family", family, "--cross-family-only", "--presets", "emit", "--cross-cases", "1"]
    assert quantify_skill.main([*parser_args, "--cross-calibration-cases", "4"]) == 0
    assert quantify_skill.FAMILY == family
