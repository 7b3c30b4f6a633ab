"""The detection limit: its scaling, and that simulated plumes above it are found and far below it are not."""

from __future__ import annotations

import math

import numpy as np
import pytest

from plumetrace.errors import InvalidInputError
from plumetrace.plumes.detection_limit import detection_limit_kg_h, probability_of_detection

EMIT = {"sigma_ppm_m": 369.4, "pixel_size_m": 60.0}


def test_limit_is_where_pod_reaches_the_asked_probability():
    limit = detection_limit_kg_h(wind_speed_m_s=3.0, **EMIT)
    assert probability_of_detection(limit, wind_speed_m_s=3.0, **EMIT) == pytest.approx(0.9, abs=1e-9)
    assert probability_of_detection(0.0, wind_speed_m_s=3.0, **EMIT) == 0.0
    half = detection_limit_kg_h(wind_speed_m_s=3.0, pod=0.5, **EMIT)
    assert half < limit


def test_limit_scales_with_wind_noise_and_molar_mass():
    base = detection_limit_kg_h(wind_speed_m_s=3.0, **EMIT)
    assert detection_limit_kg_h(wind_speed_m_s=6.0, **EMIT) == pytest.approx(2 * base, rel=1e-9)
    assert detection_limit_kg_h(wind_speed_m_s=3.0, sigma_ppm_m=2 * 369.4, pixel_size_m=60.0) == pytest.approx(
        2 * base, rel=1e-9
    )
    # the same column detectability is a larger mass rate for a heavier gas (CO2 44 g/mol vs CH4 16 g/mol)
    assert detection_limit_kg_h(wind_speed_m_s=3.0, gas="co2", **EMIT) / base == pytest.approx(44.01 / 16.04, rel=0.01)


def test_emit_limit_agrees_with_published_order_of_magnitude():
    # EMIT's published 90 % detection at 3 m/s is about 1000 kg/h (Thorpe et al. 2023) for a ~300 ppm·m noise level
    limit = detection_limit_kg_h(wind_speed_m_s=3.0, sigma_ppm_m=300.0, pixel_size_m=60.0)
    assert 600 < limit < 2000


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"wind_speed_m_s": 0.0, **EMIT}, "wind_speed_m_s"),
        ({"wind_speed_m_s": 3.0, "sigma_ppm_m": math.nan, "pixel_size_m": 60.0}, "sigma_ppm_m"),
        ({"wind_speed_m_s": 3.0, "sigma_ppm_m": 300.0, "pixel_size_m": -5.0}, "pixel_size_m"),
        ({"wind_speed_m_s": 3.0, "pod": 1.0, **EMIT}, "pod"),
    ],
)
def test_rejects_impossible_inputs(kwargs, field):
    with pytest.raises(InvalidInputError, match=field):
        detection_limit_kg_h(**kwargs)


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["emit", "aviris-ng"])
def test_simulated_plumes_above_the_limit_are_found_and_far_below_are_not(preset):
    """Plumes of 3x the predicted limit of each scene are found (POD model: > 99.9 %), of 0.3x rarely (< 0.3 %)."""
    from plumetrace.detect.engine import detect_scene
    from plumetrace.plumes.pipeline import analyze_plumes
    from plumetrace.plumes.wind import Wind
    from plumetrace.simulate.scene import simulate_scene

    found = {0.3: 0, 3.0: 0}
    for seed in range(6):
        kwargs = {"sensor": preset, "shape": (64, 64), "wind_speed_m_s": 3.0, "wind_dir_deg": 270.0, "seed": seed}
        scene, truth = simulate_scene(rate_kg_h=0.0, **kwargs)
        sigma = float(np.nanmedian(detect_scene(scene, progress=False)["uncertainty"].values))
        limit = detection_limit_kg_h(wind_speed_m_s=3.0, sigma_ppm_m=sigma, pixel_size_m=truth.pixel_size_m)
        for factor in found:
            scene, truth = simulate_scene(rate_kg_h=factor * limit, **kwargs)
            result = analyze_plumes(
                detect_scene(scene, progress=False), wind=Wind(3.0, 270.0, 0.9), n_samples=200, csf_samples=20
            )
            rows, cols = np.nonzero(result.labels.values)
            sy, sx = truth.source_yx
            found[factor] += bool(rows.size) and float(np.min(np.hypot(rows - sy, cols - sx))) <= 3.0
    assert found[3.0] >= 5
    assert found[0.3] <= 1  # a noise component may lie near the source
