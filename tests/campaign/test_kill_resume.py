"""`kill -9` of `plumetrace run` at several points, then a restart: the same products as a run never interrupted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from plumetrace.campaign import config_from_inputs, run_campaign
from tests.campaign.outputs import assert_same_products, leftovers

pytestmark = pytest.mark.slow


def _argv(campaign, out: Path) -> list[str]:
    return [
        "run",
        str(campaign.headers[0]),  # a plume
        str(campaign.headers[1]),  # none: a non-detection
        str(campaign.log),
        "--wind-file",
        str(campaign.wind_nc),
        "--set",
        "invert.gas=ch4",
        "--scheduler",
        "synchronous",
        "--out",
        str(out),
    ]


def _staging(out: Path) -> bool:
    return any(".partial-" in p.name for p in out.rglob(".*")) if out.is_dir() else False


def _done_lines(out: Path) -> int:
    try:
        text = (out / "run.log.jsonl").read_text()
    except OSError:
        return 0
    return sum(1 for line in text.splitlines() if line.endswith("}") and json.loads(line)["event"] == "done")


#: When to kill: while the first stage is being written, after 2 finished stages, while a later stage is being
#: written (after 4), and while the sites are being written.
POINTS = {
    "first-stage-staging": lambda out: _staging(out),
    "after-2-stages": lambda out: _done_lines(out) >= 2,
    "mid-stage-after-4": lambda out: _done_lines(out) >= 4 and _staging(out),
    "sites-staging": lambda out: any(p.name.startswith(".sites.partial-") for p in out.glob(".*")),
}


@pytest.fixture(scope="module")
def uninterrupted(campaign, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("whole") / "run"
    inputs = [campaign.headers[0], campaign.headers[1], campaign.log]
    config = config_from_inputs(inputs, {"wind": {"file": str(campaign.wind_nc)}, "invert": {"gas": "ch4"}})
    summary = run_campaign(config, out, scheduler="synchronous", progress=False)
    assert summary.n_failed == 0
    return out


@pytest.mark.parametrize("point", list(POINTS))
def test_kill_then_restart_gives_the_uninterrupted_products(campaign, uninterrupted, tmp_path, run_cli, point):
    out = tmp_path / "run"
    code = "import sys; from plumetrace.cli import main; main(sys.argv[1:])"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    process = subprocess.Popen(
        [sys.executable, "-c", code, *_argv(campaign, out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    deadline = time.monotonic() + 60
    killed = False
    while process.poll() is None and time.monotonic() < deadline:
        if POINTS[point](out):
            os.kill(process.pid, signal.SIGKILL)
            killed = True
            break
        time.sleep(0.002)
    process.wait()
    # a sites stage that fails at once may come and go between two looks; every other point is always caught
    assert killed or point == "sites-staging", f"the run ended before the kill point {point}"
    code, stdout, stderr = run_cli(*_argv(campaign, out))
    assert code in (0, 1), stderr
    run = json.loads((out / "run.json").read_text())
    assert all(entry["status"] == "done" for entry in run["inputs"])
    assert not leftovers(out), leftovers(out)
    assert_same_products(uninterrupted, out)
    code, stdout, _ = run_cli(*_argv(campaign, out))  # and then nothing is left to do
    assert "nothing to do" in stdout or run["sites"]["status"] == "failed"
