"""Plume complexes: fragments of one plume along the wind join under one source; other plumes stay apart."""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

from plumetrace.pixel_geometry import pixel_geometry
from plumetrace.plumes.complexes import MergeRule, cone_half_angle_deg, max_gap_m, merge_components
from plumetrace.plumes.pipeline import analyze_plumes
from plumetrace.plumes.wind import Wind
from plumetrace.simulate.plumes import simulate_plume

PIXEL = 30.0


def _geometry(shape=(60, 120)):
    ds = xr.Dataset({"enhancement": (("y", "x"), np.zeros(shape, np.float32))})
    return pixel_geometry(ds, pixel_size_m=PIXEL)


def _merge(labels, direction=270.0, sigma=10.0):
    """Merge with the wind from ``direction`` (270: blowing east, +col) and each component's source at its most
    upwind pixel."""
    geometry = _geometry(labels.shape)

    def source(cid):
        rows, cols = np.nonzero(labels == cid)
        i = int(np.argmin(cols)) if direction == 270.0 else int(np.argmax(rows))
        return float(rows[i]), float(cols[i])

    return [sorted(c.components) for c in merge_components(labels, geometry, lambda cid: (direction, sigma), source)]


def test_components_in_line_with_the_wind_merge():
    labels = np.zeros((60, 120), np.int32)
    labels[28:32, 10:40] = 1  # the plume near its source (30 px long)
    labels[27:33, 50:70] = 2  # a fragment 10 px further downwind, on the axis
    assert _merge(labels) == [[1, 2]]


def test_components_side_by_side_across_the_wind_stay_apart():
    labels = np.zeros((60, 120), np.int32)
    labels[10:14, 10:60] = 1
    labels[30:34, 12:60] = 2  # 20 px (600 m) across the wind, starting beside the first
    assert _merge(labels) == [[1], [2]]


def test_component_beyond_the_gap_stays_apart():
    labels = np.zeros((60, 120), np.int32)
    labels[28:32, 10:20] = 1  # 10 px long: the gap allowed is max(3 px, 1 x its 9 px length)
    labels[28:32, 45:55] = 2  # 25 px after its end, on the axis
    assert _merge(labels) == [[1], [2]]
    assert max_gap_m(9 * PIXEL, PIXEL) == pytest.approx(9 * PIXEL)


def test_second_source_upwind_and_offset_stays_separate():
    labels = np.zeros((60, 120), np.int32)
    labels[40:44, 30:80] = 1  # the first source's plume
    labels[10:14, 20:70] = 2  # a second source 10 px upwind and 30 px (900 m) to the side: outside the cone
    assert _merge(labels) == [[1], [2]]


def test_fragment_outside_the_direction_cone_stays_apart_and_cone_follows_sigma():
    labels = np.zeros((60, 120), np.int32)
    labels[28:32, 10:40] = 1
    labels[50:54, 45:60] = 2  # downwind, within the gap, but 45 degrees off the axis from the source
    assert _merge(labels, sigma=5.0) == [[1], [2]]
    assert _merge(labels, sigma=30.0) == [[1, 2]]  # a wind known to ±30 degrees admits it
    assert cone_half_angle_deg(20.0) == 40.0
    assert cone_half_angle_deg(0.0, MergeRule()) == 10.0


def test_merge_follows_the_wind_direction():
    labels = np.zeros((120, 60), np.int32)
    labels[80:110, 28:32] = 1  # wind from the south (180): blowing north, towards row 0
    labels[50:70, 27:33] = 2
    assert _merge(labels, direction=180.0) == [[1, 2]]


PRESETS = {  # pixel (m), grid, rate range (kg/h), white noise (ppm m): plumes near the detection limit break up
    "emit": (60.0, (128, 128), (800.0, 4000.0), 150.0),
    "aviris-ng": (5.0, (160, 160), (40.0, 200.0), 150.0),
}
SOURCE_ERROR_BOUND_M = {"emit": 200.0, "aviris-ng": 40.0}  # about 3 EMIT pixels, 8 AVIRIS-NG pixels


def _fragmented_scene(preset, seed):
    pixel, shape, rates, noise = PRESETS[preset]
    rng = np.random.default_rng(seed)
    rate, speed = float(rng.uniform(*rates)), float(rng.uniform(2.0, 5.0))
    truth = simulate_plume(rate, speed, 270.0, pixel, shape, seed=seed, stability_class="BCD"[seed % 3])
    noisy = truth.enhancement_ppm_m + rng.normal(0.0, noise, shape)
    ds = xr.Dataset(
        {"enhancement": (("y", "x"), noisy.astype(np.float32), {"units": "ppm m"})},
        attrs={"pixel_size_m": pixel, "sensor": preset, "gas": "ch4"},
    )
    return ds, truth, Wind(speed, 270.0, 0.3 * speed), noise


def _false_sources(result, truth, noise):
    """Plumes made by the true plume (mean true column in the mask >= 0.5 noise sigma) beyond the first."""
    labels = result.labels.values
    made = [r for r in result.records if truth.enhancement_ppm_m[labels == r["plume_id"]].mean() >= 0.5 * noise]
    return max(len(made) - 1, 0)


@pytest.mark.parametrize("preset", list(PRESETS))
def test_fragmented_plumes_give_no_false_source(preset):
    false_before, false_after, fragmented = 0, 0, 0
    for seed in range(20):
        ds, truth, wind, noise = _fragmented_scene(preset, seed)
        result = analyze_plumes(ds, wind=wind, n_samples=200, csf_samples=20)
        alone = analyze_plumes(ds, wind=wind, n_samples=200, csf_samples=20, merge_rule=None)
        false_before += _false_sources(alone, truth, noise)
        false_after += _false_sources(result, truth, noise)
        fragmented += int(result.labels.attrs["n_components"] > result.labels.attrs["n_plumes"])
        sy, sx = truth.source_yx
        error = min(math.hypot(r["source_row"] - sy, r["source_col"] - sx) for r in result.records) * truth.pixel_size_m
        assert error <= SOURCE_ERROR_BOUND_M[preset], seed
    assert fragmented >= 2 and false_before >= 2  # the scenes do break up, and without complexes give false sources
    assert false_after == 0


def test_complex_rate_uses_every_component():
    ds, truth, wind, _ = _fragmented_scene("aviris-ng", 5)  # a plume in 4 components
    result = analyze_plumes(ds, wind=wind, n_samples=200, csf_samples=20)
    alone = analyze_plumes(ds, wind=wind, n_samples=200, csf_samples=20, merge_rule=None)
    record = max(result.records, key=lambda r: r["n_components"])
    ids = [int(i) for i in record["component_ids"].split(";")]
    assert record["n_components"] == len(ids) >= 2
    pieces = {r["plume_id"]: r for r in alone.records}
    assert record["ime_kg"] == pytest.approx(sum(pieces[i]["ime_kg"] for i in ids), rel=1e-6)
    assert record["n_pixels"] == sum(int(p) for p in record["component_pixels"].split(";"))
    assert sum(float(f) for f in record["component_mass_fractions"].split(";")) == pytest.approx(1.0, abs=0.01)
    assert (record["source_row"], record["source_col"]) == (pieces[ids[0]]["source_row"], pieces[ids[0]]["source_col"])
    assert record["extent_along_wind_m"] >= max(pieces[i]["extent_along_wind_m"] for i in ids)
    assert (result.components.values > 0).sum() == (result.labels.values > 0).sum()
