"""The detect step of ``make demo``: its rows compare the retrieval with the simulator's truth map."""

from __future__ import annotations

import numpy as np
import rasterio

from plumetrace.demo import DemoContext
from plumetrace.demo.detect import demo_step
from plumetrace.simulate.products import write_simulation


def test_detect_demo_rows_report_the_faint_pixel_bias_against_the_truth_map(tmp_path):
    written = write_simulation(
        tmp_path / "sim",
        sensor="emit",
        shape=(96, 96),
        rate_kg_h=3000.0,
        wind_speed_m_s=3.0,
        wind_dir_deg=270.0,
        seed=4,
    )
    ctx = DemoContext(out_dir=tmp_path, seed=4)
    ctx.products.update(scene_path=written["scene_path"], truth_path=written["truth_path"], truth=written["truth"])
    rows = {quantity: result for stage, quantity, result, _ in demo_step(ctx) if stage == "detect"}
    faint = next(value for quantity, value in rows.items() if quantity.startswith("faint plume pixels ("))
    excluded = next(value for quantity, value in rows.items() if "left out of the statistics" in quantity)
    # The plume's region out of the statistics: its faint tail no longer pulls the background toward the target.
    assert float(excluded.split()[0]) > float(faint.split()[0])
    mf_bias, sparse_bias = (float(part.split()[0]) for part in faint.split(" / "))

    # The row's albedo-corrected figure is the product's own summed bias over 100 ≤ truth < 2000 ppm·m.
    with rasterio.open(written["truth_path"]) as src:
        truth = src.read(1).astype(np.float64)
    with rasterio.open(ctx.products["enhancement_path"]) as src:
        retrieved = src.read(1).astype(np.float64)
    pixels = np.isfinite(retrieved) & (truth >= 100.0) & (truth < 2000.0)
    expected = 100.0 * (retrieved[pixels].sum() - truth[pixels].sum()) / truth[pixels].sum()
    assert mf_bias == round(expected, 1)
    # Physics against truth: the linear, albedo-corrected filter keeps the faint pixels' mass within a few tens of
    # percent on this small scene (the plume holds a large share of its statistics), while the non-negative sparse
    # filter zeroes most faint pixels (below its ~2σ activation) and loses far more.
    assert abs(mf_bias) < 35.0
    assert sparse_bias < -30.0 and sparse_bias < mf_bias - 20.0
