from __future__ import annotations

from plumetrace.demo import DemoContext
from plumetrace.plumes.demo_step import demo_step


def test_demo_step_skips_cleanly_without_a_detection_product(tmp_path):
    rows = demo_step(DemoContext(out_dir=tmp_path, seed=1))
    assert rows == [("plumes", "skipped", "no enhancement map from the detect step", "-")]
