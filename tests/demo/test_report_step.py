"""The demo's report step: a signed package that verifies, and a changed byte that verification names."""

from __future__ import annotations

from pathlib import Path

from plumetrace.demo import DemoContext
from plumetrace.demo.report import demo_step
from tests.report.fixture_run import minimal_run


def test_report_step_signs_and_verifies(tmp_path, monkeypatch):
    import plumetrace.report.render as render

    monkeypatch.setattr(render, "find_chromium", lambda: None)  # HTML only: the browser is tested in tests/report
    ctx = DemoContext(out_dir=tmp_path / "demo", seed=7)
    ctx.out_dir.mkdir()
    ctx.products["campaign_run"] = minimal_run(tmp_path / "run")
    rows = demo_step(ctx)
    results = {quantity: result for _, quantity, result, _ in rows}
    assert Path(ctx.products["report_html"]).is_file()
    assert (
        results["verify: the package as written"].startswith("intact")
        and "signature valid" in results["verify: the package as written"]
    )
    assert results["verify: one byte changed in report.html"].startswith("altered: report.html")
    assert not (ctx.out_dir / "report-tampered-copy").exists()


def test_report_step_without_a_run_is_skipped(tmp_path):
    ctx = DemoContext(out_dir=tmp_path, seed=7)
    (row,) = demo_step(ctx)
    assert row[2] == "skipped"
