"""`plumetrace run` resumes: a rerun does nothing, a changed parameter reruns exactly the stages it affects."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from plumetrace.campaign import config_from_inputs, run_campaign
from tests.campaign.outputs import assert_same_products, leftovers

pytestmark = pytest.mark.slow  # the module fixture runs a whole campaign (about 10 s on 2 cores)


def _config(campaign, **sections):
    base = {"wind": {"file": str(campaign.wind_nc)}, "invert": {"gas": "ch4"}}
    for key, value in sections.items():
        base[key] = {**base.get(key, {}), **value}
    return config_from_inputs([campaign.scenes], base)


@pytest.fixture(scope="module")
def reference(campaign, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reference") / "run"
    summary = run_campaign(_config(campaign), out, scheduler="synchronous", progress=False)
    assert summary.n_failed == 0, summary.inputs
    assert _ran(summary) == {"detect": 3, "plumes": 3, "invert": 1, "sites": 1}
    return out


def _ran(summary) -> dict[str, int]:
    """Stages (re)computed; the sites stage counts as run when it was not kept (done or failed)."""
    return {**{k: summary.ran[k] for k in ("detect", "plumes", "invert")}, "sites": int(summary.reused["sites"] == 0)}


def _copy(reference: Path, tmp_path: Path) -> Path:
    out = tmp_path / "run"
    shutil.copytree(reference, out)
    return out


def test_run_folder_follows_the_contract(reference):
    run = json.loads((reference / "run.json").read_text())
    ids = sorted(entry["id"] for entry in run["inputs"])
    assert ids == ["drone", "pass0", "pass1", "pass2"]
    for entry in run["inputs"]:
        assert entry["status"] == "done" and entry["error"] is None
        folder = reference / ("logs" if entry["kind"] == "log" else "scenes") / entry["id"]
        for stage, info in entry["stages"].items():
            task = json.loads((folder / stage / "task.json").read_text())
            assert task["input_sha256"] == entry["sha256"]
            assert task["params_sha256"] == info["params_sha256"]
            assert task["stage"] == stage and task["finished"]
    for scene in ("pass0", "pass1", "pass2"):
        footprint = json.loads((reference / "scenes" / scene / "plumes" / "footprint.geojson").read_text())
        assert footprint["properties"]["detection_limit_kg_h"] > 0  # a non-detection (pass1) is recorded too
    assert json.loads((reference / ".plumetrace").read_text())["command"] == "run"
    lines = [json.loads(line) for line in (reference / "run.log.jsonl").read_text().splitlines()]
    assert lines[0]["event"] == "start" and lines[-1]["event"] == "finish"
    assert not leftovers(reference)


def test_rerun_does_nothing(reference, campaign, tmp_path, run_cli):
    out = _copy(reference, tmp_path)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.parent.name in ("detect", "plumes", "invert")}
    summary = run_campaign(_config(campaign), out, scheduler="synchronous", progress=False)
    assert summary.n_failed == 0 and sum(summary.ran.values()) == 0
    assert {k: summary.reused[k] for k in ("detect", "plumes", "invert")} == {"detect": 3, "plumes": 3, "invert": 1}
    assert {p: p.stat().st_mtime_ns for p in before} == before
    code, stdout, _ = run_cli(
        "run", campaign.scenes, "--wind-file", campaign.wind_nc, "--set", "invert.gas=ch4", "--out", out
    )
    assert "nothing to do" in stdout or json.loads((out / "run.json").read_text())["sites"]["status"] == "failed"


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"detect": {"stats": "column"}}, {"detect": 3, "plumes": 3, "invert": 0, "sites": 1}),
        ({"plumes": {"high_sigma": 4.5}}, {"detect": 0, "plumes": 3, "invert": 0, "sites": 1}),
        ({"wind": {"direction_sigma_deg": 25.0}}, {"detect": 0, "plumes": 3, "invert": 0, "sites": 1}),
        ({"invert": {"seed": 3}}, {"detect": 0, "plumes": 0, "invert": 1, "sites": 1}),
        ({"sites": {"seed": 7}}, {"detect": 0, "plumes": 0, "invert": 0, "sites": 1}),
    ],
    ids=["detect", "plumes", "wind", "invert", "sites"],
)
def test_a_changed_parameter_reruns_exactly_the_stages_it_affects(reference, campaign, tmp_path, change, expected):
    out = _copy(reference, tmp_path)
    summary = run_campaign(_config(campaign, **change), out, scheduler="synchronous", progress=False)
    assert summary.n_failed == 0
    assert _ran(summary) == expected
    assert not leftovers(out)


def test_an_override_reruns_only_its_input(reference, campaign, tmp_path):
    out = _copy(reference, tmp_path)
    config = _config(campaign, overrides={"pass1": {"plumes": {"high_sigma": 4.5}}})
    summary = run_campaign(config, out, scheduler="synchronous", progress=False)
    assert _ran(summary) == {"detect": 0, "plumes": 1, "invert": 0, "sites": 1}
    run = json.loads((out / "run.json").read_text())
    hashes = {e["id"]: e["stages"].get("plumes", {}).get("params_sha256") for e in run["inputs"]}
    assert hashes["pass1"] != hashes["pass0"]


def test_a_deleted_product_is_made_again_identically(reference, campaign, tmp_path):
    out = _copy(reference, tmp_path)
    shutil.rmtree(out / "scenes" / "pass2" / "detect")
    summary = run_campaign(_config(campaign), out, scheduler="synchronous", progress=False)
    # the remade products are identical, so the sites' inputs (product hashes) are too: sites is kept
    assert _ran(summary) == {"detect": 1, "plumes": 1, "invert": 0, "sites": 0}
    assert_same_products(reference, out)


def test_overwrite_starts_over_and_a_user_folder_is_refused(campaign, tmp_path, run_cli):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    code, _, stderr = run_cli("run", campaign.headers[0], "--wind-speed", "3", "--wind-dir", "270", "--out", mine)
    assert code == 2 and "did not write" in stderr
    assert (mine / "notes.txt").read_text() == "mine"
    code, _, _ = run_cli(
        "run", campaign.headers[0], "--wind-speed", "3", "--wind-dir", "270", "--out", mine, "--overwrite"
    )
    assert code == 0
    assert not (mine / "notes.txt").exists() and (mine / "scenes" / "pass0" / "plumes" / "plumes.csv").is_file()


def test_sites_fuse_the_run(reference):
    """pass1 of this campaign is a non-detection (a header-only plumes.csv): its footprint still counts."""
    sites = json.loads((reference / "run.json").read_text())["sites"]
    assert sites["status"] == "done", sites.get("error")
    assert (reference / "sites" / "sites.csv").is_file()


def test_a_changed_scene_file_is_detected_again(campaign, tmp_path):
    import os

    folder = tmp_path / "flight"
    folder.mkdir()
    for source in (campaign.headers[0], campaign.headers[0].with_suffix("")):
        shutil.copy(source, folder / source.name)
    config = config_from_inputs([folder], {"wind": {"speed_m_s": 3.0, "direction_deg": 270.0}})
    out = tmp_path / "run"
    first = run_campaign(config, out, scheduler="synchronous", progress=False)
    assert first.ran["detect"] == 1
    data = folder / "pass0"
    stat = data.stat()
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2] ^= 0x01  # one bit of one radiance value
    data.write_bytes(bytes(raw))
    os.utime(data, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    second = run_campaign(config, out, scheduler="synchronous", progress=False)
    assert (second.ran["detect"], second.ran["plumes"]) == (1, 1)
    run = json.loads((out / "run.json").read_text())
    assert run["inputs"][0]["sha256"] != first.inputs[0]["sha256"]
