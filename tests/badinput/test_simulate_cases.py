"""`plumetrace simulate`: bad scene size, plume, geometry, place and time options (one row each)."""

from __future__ import annotations

import time

import pytest

from tests.badinput.harness import Case, check_rejected, ids


def _sim(*extra):
    return ["simulate", "--size", "16x16", *extra]


CASES = [
    # ------------------------------------------------------------------ --size
    Case("size-too-small", lambda i, t: ["simulate", "--size", "8x8"], ("--size", "16x16")),
    Case("size-huge", lambda i, t: ["simulate", "--size", "100000x100000"], ("--size", "too large")),
    Case("size-garbage", lambda i, t: ["simulate", "--size", "big"], ("--size",)),
    Case("size-three-numbers", lambda i, t: ["simulate", "--size", "20x20x3"], ("--size",)),
    Case("size-negative", lambda i, t: ["simulate", "--size", "-20x20"], ("--size",)),
    Case("size-fraction", lambda i, t: ["simulate", "--size", "20.5x20"], ("--size",)),
    # ------------------------------------------------------------------ the plume
    Case("rate-negative", lambda i, t: _sim("--rate-kg-h", -5), ("--rate-kg-h",)),
    Case("rate-nan", lambda i, t: _sim("--rate-kg-h", "nan"), ("--rate-kg-h",)),
    Case("rate-infinite", lambda i, t: _sim("--rate-kg-h", "inf"), ("--rate-kg-h",)),
    Case("rate-impossible", lambda i, t: _sim("--rate-kg-h", 1e12), ("--rate-kg-h", "kg/h")),
    Case("rate-not-a-number", lambda i, t: _sim("--rate-kg-h", "lots"), ("--rate-kg-h",)),
    Case("wind-zero", lambda i, t: _sim("--wind-speed", 0), ("--wind-speed", "0.5")),
    Case("wind-negative", lambda i, t: _sim("--wind-speed", -3), ("--wind-speed",)),
    Case("wind-above-30", lambda i, t: _sim("--wind-speed", 31), ("--wind-speed", "30")),
    Case("wind-nan", lambda i, t: _sim("--wind-speed", "nan"), ("--wind-speed",)),
    Case("wind-dir-nan", lambda i, t: _sim("--wind-dir", "nan"), ("--wind-dir",)),
    Case("wind-dir-beyond-360", lambda i, t: _sim("--wind-dir", 400), ("--wind-dir", "360")),
    Case("source-outside-scene", lambda i, t: _sim("--source-pixel", "500,500"), ("--source-pixel", "16x16")),
    Case("source-negative", lambda i, t: _sim("--source-pixel", "-3,5"), ("--source-pixel",)),
    Case("source-nan", lambda i, t: _sim("--source-pixel", "nan,5"), ("--source-pixel",)),
    Case("source-garbage", lambda i, t: _sim("--source-pixel", "middle"), ("--source-pixel",)),
    Case("seed-negative", lambda i, t: _sim("--seed", -1), ("--seed",)),
    # ------------------------------------------------------------------ sensor and viewing geometry
    Case("sensor-unknown", lambda i, t: _sim("--sensor", "modis"), ("--sensor", "emit")),
    Case(
        "column-effects-without-model",
        lambda i, t: _sim("--sensor", "enmap", "--column-effects"),
        ("--column-effects", "enmap"),
    ),
    Case("pixel-size-zero", lambda i, t: _sim("--pixel-size", 0), ("--pixel-size",)),
    Case("pixel-size-huge", lambda i, t: _sim("--pixel-size", 1e6), ("--pixel-size", "1000")),
    Case("pixel-size-nan", lambda i, t: _sim("--pixel-size", "nan"), ("--pixel-size",)),
    Case("sza-negative", lambda i, t: _sim("--sza", -5), ("--sza",)),
    Case("sza-sun-below-horizon", lambda i, t: _sim("--sza", 95), ("--sza",)),
    Case("sza-grazing", lambda i, t: _sim("--sza", 85), ("--sza", "85")),
    Case("vza-negative", lambda i, t: _sim("--vza", -1), ("--vza",)),
    Case("vza-beyond-90", lambda i, t: _sim("--vza", 95), ("--vza",)),
    # ------------------------------------------------------------------ place and time
    Case("lat-beyond-90", lambda i, t: _sim("--lat", 95), ("--lat",)),
    Case("lat-polar-outside-utm", lambda i, t: _sim("--lat", 86), ("--lat", "84")),
    Case("lat-nan", lambda i, t: _sim("--lat", "nan"), ("--lat",)),
    Case("lon-beyond-180", lambda i, t: _sim("--lon", 200), ("--lon", "180")),
    Case("time-garbage", lambda i, t: _sim("--time", "yesterday"), ("--time", "ISO 8601")),
    Case("time-impossible-date", lambda i, t: _sim("--time", "2026-13-45T00:00:00Z"), ("--time",)),
    Case("time-at-night", lambda i, t: _sim("--time", "2026-06-21T05:00:00Z"), ("--time", "--sza")),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_simulate_refused(run_cli, inputs, tmp_path, case):
    check_rejected(run_cli, case, inputs, tmp_path)


def test_huge_size_refused_before_allocating(run_cli, inputs, tmp_path):
    case = next(c for c in CASES if c.id == "size-huge")
    start = time.perf_counter()
    check_rejected(run_cli, case, inputs, tmp_path)
    assert time.perf_counter() - start < 2.0
