"""`plumetrace run` → `plumetrace report` → `plumetrace verify` on a real run folder (a scene and a drone log)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.report.htmlcheck import check_html

pytestmark = pytest.mark.slow


def test_report_of_a_real_run(products_dir, tmp_path, run_cli):
    run = tmp_path / "run"
    code, _, err = run_cli(
        "run", products_dir / "simulate" / "scene_rdn.hdr", products_dir / "drone.csv", "--wind-speed", "3",
        "--wind-dir", "270", "--scheduler", "synchronous", "--out", run,
    )  # fmt: skip
    assert code == 0, err
    package = tmp_path / "package"
    code, out, err = run_cli("report", run, "--lang", "es", "--no-pdf", "--out", package)
    assert code == 0, err
    sites = pd.read_csv(run / "sites" / "sites.csv")
    assert len(sites) >= 1 and f"{len(sites)} site(s)" in out
    page = (package / "report.html").read_text(encoding="utf-8")
    parsed = check_html(page)
    assert parsed.problems == [] and parsed.lang == "es"
    assert set(sites["site_id"]) <= parsed.ids  # a section per site
    for item in json.loads((run / "run.json").read_text())["inputs"]:
        assert item["sha256"] in page
    code, out, _ = run_cli("verify", package)
    assert code == 0 and "intact" in out
