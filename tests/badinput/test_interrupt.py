"""kill -9 at several points of each command: --out is never half-written, and the next run cleans up.

Each command runs in a child process that is killed with SIGKILL at one point:

* ``early``: while it reads its inputs and computes (before the staging folder exists);
* ``writing``: as soon as its staging folder holds a file (products half-written);
* ``replacing``: while it writes new products over the finished output of an earlier run.

Afterwards ``--out`` must be absent (or, for ``replacing``, exactly the earlier output), and rerunning the same
command must succeed, leave a complete ``--out`` and remove the staging folder the killed run left behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from plumetrace.io.staging import MARKER
from tests.badinput.harness import snapshot

pytestmark = pytest.mark.slow

_CHILD = "import sys; from plumetrace.cli import main; main(sys.argv[1:])"


def _commands(inputs) -> dict[str, list[str]]:
    return {
        "simulate": ["simulate", "--size", "48x48", "--netcdf"],
        "detect": ["detect", str(inputs.scene_hdr)],
        "plumes": ["plumes", str(inputs.enhancement_tif), "--wind-speed", "3", "--wind-dir", "270"],
        "invert": ["invert", str(inputs.observations_csv), "--gas", "ch4"],
        "plan": ["plan", str(inputs.aoi_geojson), "--home", inputs.home],
        "demo": ["demo"],
    }


def _staging(out: Path) -> list[Path]:
    return [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.partial-")]


def _kill_when(argv: list[str], ready, *, timeout_s: float = 120.0) -> int:
    """Start the command, SIGKILL it as soon as ``ready()`` is true; return its exit status."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, *argv], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + timeout_s
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if ready():
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.001)
        return proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()


def _has_file(out: Path) -> bool:
    return any(any(p.is_file() for p in stage.rglob("*")) for stage in _staging(out))


POINTS = {
    "early": lambda out, started: time.monotonic() - started > 0.4,
    "writing": lambda out, started: _has_file(out),
}


def _complete(out: Path) -> bool:
    return (out / MARKER).is_file() and len([p for p in out.iterdir() if p.name != MARKER]) >= 2


@pytest.mark.parametrize("point", sorted(POINTS))
@pytest.mark.parametrize("command", ["simulate", "detect", "plumes", "invert", "plan", "demo"])
def test_kill_leaves_no_half_written_output(run_cli, inputs, tmp_path, command, point):
    out = tmp_path / "out"
    argv = [*_commands(inputs)[command], "--out", str(out)]
    started = time.monotonic()
    status = _kill_when(argv, lambda: POINTS[point](out, started))
    assert status == -signal.SIGKILL, f"{command} finished before the {point} kill point (exit {status})"
    assert not out.exists(), f"{command} killed while {point} left {sorted(p.name for p in out.iterdir())}"

    code, _, stderr = run_cli(*argv)
    assert code == 0, stderr
    assert _complete(out)
    assert _staging(out) == [], "the rerun did not remove the killed run's staging folder"


@pytest.mark.parametrize("command", ["detect", "plan"])
def test_kill_while_replacing_keeps_the_earlier_output(run_cli, inputs, tmp_path, command):
    out = tmp_path / "out"
    argv = [*_commands(inputs)[command], "--out", str(out)]
    code, _, stderr = run_cli(*argv)
    assert code == 0, stderr
    before = snapshot(out)

    status = _kill_when(argv, lambda: _has_file(out))
    assert status == -signal.SIGKILL
    assert snapshot(out) == before, "the earlier output changed under a killed run"
    code, _, stderr = run_cli(*argv)
    assert code == 0, stderr
    assert _complete(out) and _staging(out) == []
