"""Fast subset of benchmarks/prairie_grass.py: two real releases, checked against the measured Q and position."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("pg_bench", ROOT / "benchmarks" / "prairie_grass.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_benchmark_subset_meets_the_issue_targets_on_two_runs(bench):
    res = bench.prairie_grass(ROOT / "tests" / "data" / "prairie_grass", runs=(33, 57))
    assert res["n_runs"] == 2
    assert res["fac2_known_position"] == 1.0 and res["fac2_unknown_position"] == 1.0
    assert 0.6 <= res["median_ratio_known_position"] <= 1.6
    assert res["median_position_error_m"] <= 20.0
    for key in ("q68_coverage_known", "credible_region_coverage", "forward_fac2_arc_max", "seconds", "cpu_seconds"):
        assert key in res
    assert set(res["by_stability"]) <= set("ABCDEF")
