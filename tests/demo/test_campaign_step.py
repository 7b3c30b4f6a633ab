"""The demo's campaign step: `plumetrace run` on the simulated campaign finds its sites, and the rows say so."""

from __future__ import annotations

import json

import pytest

from plumetrace.demo import DemoContext
from plumetrace.demo.campaign import demo_step, read_run_results


@pytest.mark.slow
def test_campaign_step_finds_the_true_sites(tmp_path):
    ctx = DemoContext(out_dir=tmp_path, seed=7)
    rows = demo_step(ctx)
    truth, score, run = ctx.products["campaign_truth"], ctx.products["campaign_score"], ctx.products["campaign_run"]
    # every scene has its footprint with a finite detection limit: a non-detection is data
    _, limits = read_run_results(run)
    assert set(limits) == {s["scene_id"] for s in truth["scenes"]}
    run_json = json.loads((run / "run.json").read_text())
    assert all(entry["status"] == "done" for entry in run_json["inputs"])
    # the three sites are found, where they are, and nothing else (the false-alarm-prone scene included)
    assert score["n_detectable"] == 3
    assert score["site_recall"] == 1.0
    assert score["false_sites"] == []
    for site in score["sites"]:
        assert site["position_error_m"] <= 60.0, site  # one EMIT pixel
        assert 0.5 <= site["rate_ratio"] <= 1.5, site
        assert abs(site["persistence"] - site["true_persistence"]) <= 0.34, site  # one overpass in three
    assert any(q.startswith("S2 intermittent") for _, q, _, _ in rows)
    assert rows[-1][2] == "0"
