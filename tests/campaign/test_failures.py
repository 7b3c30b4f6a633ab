"""One bad input among good ones: it fails alone with its one-line error, the others are done, exit status 1."""

from __future__ import annotations

import json
import shutil


def test_a_corrupt_scene_fails_alone(campaign, tmp_path, run_cli):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for header in campaign.headers[:2]:
        shutil.copy(header, inputs / header.name)
        shutil.copy(header.with_suffix(""), inputs / header.stem)
    bad = inputs / "broken.hdr"  # a third pass whose data file is cut to a tenth of the size its header declares
    shutil.copy(campaign.headers[2], bad)
    data = campaign.headers[2].with_suffix("").read_bytes()
    (inputs / "broken").write_bytes(data[: len(data) // 10])
    out = tmp_path / "run"
    code, stdout, stderr = run_cli(
        "run", inputs, "--wind-speed", "3", "--wind-dir", "270", "--scheduler", "synchronous", "--out", out
    )
    assert code == 1, stderr
    run = json.loads((out / "run.json").read_text())
    status = {entry["id"]: entry for entry in run["inputs"]}
    assert status["broken"]["status"] == "failed"
    error = status["broken"]["error"]
    assert "broken" in error and "\n" not in error
    assert status["pass0"]["status"] == status["pass1"]["status"] == "done"
    for scene in ("pass0", "pass1"):
        assert (out / "scenes" / scene / "plumes" / "footprint.geojson").is_file()
    assert not (out / "scenes" / "broken" / "plumes").exists()
    assert "broken" in stdout and "failed" in stdout  # the summary table names it
    log = [json.loads(line) for line in (out / "run.log.jsonl").read_text().splitlines()]
    assert any(line.get("input") == "broken" and line["event"] == "failed" for line in log)
    # the failure is not remembered as done: a rerun tries the broken scene again and keeps the others
    code, stdout, _ = run_cli(
        "run", inputs, "--wind-speed", "3", "--wind-dir", "270", "--scheduler", "synchronous", "--out", out
    )
    assert code == 1 and "nothing to do" not in stdout
    run = json.loads((out / "run.json").read_text())
    assert {e["id"]: e["status"] for e in run["inputs"]} == {"broken": "failed", "pass0": "done", "pass1": "done"}


def test_a_bad_sensor_log_fails_alone(campaign, tmp_path, run_cli):
    log = tmp_path / "bad_log.csv"
    log.write_text(
        "time,lat,lon,concentration_ppm,wind_speed_m_s,wind_dir_deg\n2026-06-21T18:00:00Z,31.9,-102.3,2.1,3,270\n"
    )
    out = tmp_path / "run"
    code, _, stderr = run_cli(
        "run",
        campaign.headers[0],
        log,
        "--wind-speed",
        "3",
        "--wind-dir",
        "270",
        "--scheduler",
        "synchronous",
        "--out",
        out,
    )
    assert code == 1, stderr
    run = json.loads((out / "run.json").read_text())
    status = {entry["id"]: entry for entry in run["inputs"]}
    assert status["bad_log"]["status"] == "failed" and "bad_log.csv" in status["bad_log"]["error"]
    assert status["pass0"]["status"] == "done"


def test_ctrl_c_leaves_finished_stages_and_an_honest_run_json(campaign, tmp_path, monkeypatch):
    import pytest

    from plumetrace.campaign import config_from_inputs, run_campaign, stages
    from tests.campaign.outputs import leftovers

    def interrupted(task, stage):
        (stage / "half.txt").write_text("half-written")
        raise KeyboardInterrupt

    config = config_from_inputs(list(campaign.headers[:2]), {"wind": {"speed_m_s": 3.0, "direction_deg": 270.0}})
    out = tmp_path / "run"
    monkeypatch.setitem(stages._RUNNERS, "plumes", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_campaign(config, out, scheduler="synchronous", progress=False)
    run = json.loads((out / "run.json").read_text())
    assert [(e["id"], e["status"]) for e in run["inputs"]] == [("pass0", "skipped"), ("pass1", "skipped")]
    assert (out / "scenes" / "pass0" / "detect" / "task.json").is_file()
    assert not (out / "scenes" / "pass0" / "plumes").exists() and not leftovers(out)
    monkeypatch.undo()
    summary = run_campaign(config, out, scheduler="synchronous", progress=False)
    assert (summary.reused["detect"], summary.ran["detect"], summary.ran["plumes"]) == (1, 1, 2)
