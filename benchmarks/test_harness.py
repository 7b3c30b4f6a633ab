"""Checks of the benchmark harness itself (``pytest benchmarks/``; ``make test`` collects them too).

Each check compares against a known answer: a published average-precision example, exact truth, a known allocation.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from ._common import median_run, run_child
from ._scenes import ForwardModel, plume_field, sensor_bands, write_envi_bil
from .detect_skill import average_precision, mirrored_tile, skill_metrics


def test_average_precision_matches_published_example() -> None:
    # scikit-learn's average_precision_score docstring example: 0.8333…
    score = np.array([0.1, 0.4, 0.35, 0.8])
    label = np.array([0, 0, 1, 1], dtype=bool)
    assert average_precision(score, label) == pytest.approx(5 / 6)


def test_average_precision_perfect_and_nan_last() -> None:
    label = np.array([1, 1, 0, 0, 0], dtype=bool)
    assert average_precision(np.array([5.0, 4.0, 3.0, 2.0, 1.0]), label) == pytest.approx(1.0)
    # A masked (NaN) positive ranks last: precision at its recall step is 2/5.
    assert average_precision(np.array([5.0, np.nan, 3.0, 2.0, 1.0]), label) == pytest.approx((1.0 + 2 / 5) / 2)


def test_skill_metrics_exact_retrieval() -> None:
    rng = np.random.default_rng(0)
    truth = plume_field((64, 64), [300.0, 3000.0], rng=rng)
    m = skill_metrics(truth.copy(), truth)
    assert m["auprc"] == pytest.approx(1.0)
    assert m["bias_pct_below_2000"] == pytest.approx(0.0, abs=1e-9)
    assert m["rmse_ppm_m"] == pytest.approx(0.0, abs=1e-9)
    assert m["far_500"] == 0.0


def test_skill_metrics_known_bias() -> None:
    rng = np.random.default_rng(1)
    truth = plume_field((64, 64), [800.0], rng=rng)
    m = skill_metrics(0.9 * truth, truth)
    assert m["bias_pct_below_2000"] == pytest.approx(-10.0)


def test_mirrored_tile_is_continuous() -> None:
    cube = np.arange(2 * 3 * 1, dtype=float).reshape(2, 3, 1)
    tiled = mirrored_tile(cube, 2)
    assert tiled.shape == (4, 6, 1)
    np.testing.assert_array_equal(tiled[1], tiled[2])  # the mirror seam repeats the edge row
    np.testing.assert_array_equal(tiled[:, 2], tiled[:, 3])


def test_forward_model_reproduces_lut_levels() -> None:
    model = ForwardModel(sensor_bands("emit"))
    for i, level in enumerate(model.levels_ppm_m):
        np.testing.assert_allclose(model.log_transmittance(np.array([level]))[0], model.log_ratio[i], atol=1e-12)
    window = (model.bands.wavelength_nm > 2200) & (model.bands.wavelength_nm < 2400)
    assert np.all(model.unit_absorption_per_ppm_m[window] <= 0)  # CH4 only absorbs


def test_envi_writer_layout(tmp_path: Path) -> None:
    bands = sensor_bands("emit")
    cube = np.random.default_rng(2).random((3, 4, bands.wavelength_nm.size)).astype(np.float32)
    path = write_envi_bil(tmp_path / "x.img", cube, bands)
    raw = np.fromfile(path, dtype="<f4").reshape(3, bands.wavelength_nm.size, 4)  # BIL: line, band, sample
    np.testing.assert_array_equal(np.transpose(raw, (0, 2, 1)), cube)
    assert "interleave = bil" in Path(f"{path}.hdr").read_text()


def test_child_peak_rss_is_the_childs_own() -> None:
    ballast = np.ones(40_000_000)  # 320 MB in the parent must not show up in the child's figure
    small = run_child("small", [sys.executable, "-c", "pass"]).check()
    big = run_child("big", [sys.executable, "-c", "import numpy as np; a = np.ones(50_000_000); a += 1"]).check()
    assert small.peak_rss_gb < 0.1
    assert 0.4 <= big.peak_rss_gb < 0.5  # 400 MB array + interpreter
    assert ballast.sum() > 0
    assert median_run([small, big, small]).wall_s == pytest.approx(small.wall_s)


def test_average_precision_ties_form_one_threshold() -> None:
    # Two tied scores, one positive: precision at that threshold is 1/2 whatever the pixel order.
    label = np.array([0, 1], dtype=bool)
    assert average_precision(np.array([0.0, 0.0]), label) == pytest.approx(0.5)
    assert average_precision(np.array([0.0, 0.0]), label[::-1]) == pytest.approx(0.5)
