"""--out: what a command does with an existing folder, a file, a system folder (every command)."""

from __future__ import annotations

import pytest

from tests.badinput.harness import Case, check_rejected, ids


def _users_folder(out):
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "plumes").mkdir()
    (out / "plumes" / "keep.txt").write_text("also mine")


def _file(out):
    out.write_text("a file")


def _commands(inputs, tmp):
    """One valid command line per command (without --out)."""
    return {
        "simulate": ["simulate", "--size", "16x16"],
        "detect": ["detect", inputs.scene_hdr],
        "plumes": ["plumes", inputs.enhancement_tif, "--wind-speed", "3", "--wind-dir", "270"],
        "invert": ["invert", inputs.observations_csv, "--gas", "ch4"],
        "plan": ["plan", inputs.aoi_geojson, "--home", inputs.home],
        "demo": ["demo"],
    }


COMMANDS = ("simulate", "detect", "plumes", "invert", "plan", "demo")

CASES = (
    [
        Case(
            f"{cmd}-users-folder",
            lambda i, t, cmd=cmd: _commands(i, t)[cmd],
            ("{tmp}/out", "--out", "--overwrite"),
            prepare_out=_users_folder,
        )
        for cmd in COMMANDS
    ]
    + [
        Case(
            f"{cmd}-out-is-file", lambda i, t, cmd=cmd: _commands(i, t)[cmd], ("{tmp}/out", "--out"), prepare_out=_file
        )
        for cmd in COMMANDS
    ]
    + [
        Case(
            f"{cmd}-parent-is-file",
            lambda i, t, cmd=cmd: [*_commands(i, t)[cmd], "--out", t / "afile" / "out"],
            ("{tmp}/afile", "--out"),
            prepare_out=lambda out: (out.parent / "afile").write_text("x"),
        )
        for cmd in COMMANDS
    ]
    + [
        Case(
            f"{cmd}-under-proc",
            lambda i, t, cmd=cmd: [*_commands(i, t)[cmd], "--out", "/proc/plumetrace-out"],
            ("/proc/plumetrace-out", "--out"),
        )
        for cmd in COMMANDS
    ]
    + [
        Case(
            f"{cmd}-under-sys",
            lambda i, t, cmd=cmd: [*_commands(i, t)[cmd], "--out", "/sys/kernel/plumetrace"],
            ("/sys/kernel/plumetrace", "--out"),
        )
        for cmd in COMMANDS
    ]
)


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_out_folder_refused(run_cli, inputs, tmp_path, case):
    check_rejected(run_cli, case, inputs, tmp_path)


def test_full_disk_while_writing_is_one_line_and_leaves_nothing(run_cli, tmp_path, monkeypatch):
    """A write that fails with ENOSPC half-way through the products: exit 2, one line naming --out, nothing left."""
    import errno
    import os

    import plumetrace.simulate.products as products

    calls = []

    def full_disk(*args, **kwargs):  # the radiance cube and truth map are written by then
        calls.append(1)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(products, "_write_quicklook", full_disk)
    out = tmp_path / "out"
    code, stdout, stderr = run_cli("simulate", "--size", "16x16", "--out", out)
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert calls and code == 2
    assert lines == [f"error: {out}: --out: could not be written: No space left on device"]
    assert list(tmp_path.iterdir()) == []
