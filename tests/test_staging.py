import errno
import os
import subprocess
import sys

import pytest

from plumetrace.errors import OutputFolderError
from plumetrace.io import staging
from plumetrace.io.staging import MARKER, prepare_output, remove_leftovers, staged_output


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_staged_output_moves_files_on_success(tmp_path):
    out = tmp_path / "out"
    with staged_output(out) as stage:
        (stage / "a.txt").write_text("x")
        assert not out.exists()
    assert (out / "a.txt").read_text() == "x"
    assert _names(out) == [MARKER, "a.txt"]
    assert _names(tmp_path) == ["out"]


def test_staged_output_leaves_nothing_on_failure(tmp_path):
    out = tmp_path / "deeper" / "out"
    with pytest.raises(RuntimeError):
        with staged_output(out) as stage:
            (stage / "a.txt").write_text("x")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == [], "parent folders made for the output must go too"


@pytest.mark.parametrize("atomic_swap", [True, False])
def test_earlier_output_is_replaced_whole(tmp_path, monkeypatch, atomic_swap):
    if not atomic_swap:
        monkeypatch.setattr(staging, "_exchange", lambda a, b: False)
    out = tmp_path / "out"
    with staged_output(out) as stage:
        (stage / "sortie_03.plan").write_text("old")
        (stage / "report.json").write_text("old")
    with staged_output(out) as stage:
        (stage / "report.json").write_text("new")
    assert _names(out) == [MARKER, "report.json"]
    assert (out / "report.json").read_text() == "new"
    assert _names(tmp_path) == ["out"]


def test_failure_keeps_the_earlier_output(tmp_path):
    out = tmp_path / "out"
    with staged_output(out) as stage:
        (stage / "a.txt").write_text("old")
    with pytest.raises(ValueError):
        with staged_output(out) as stage:
            (stage / "a.txt").write_text("new")
            raise ValueError("bad input found late")
    assert (out / "a.txt").read_text() == "old"


def test_users_folder_is_refused_unless_overwrite(tmp_path):
    out = tmp_path / "out"
    (out / "plumes").mkdir(parents=True)
    (out / "plumes" / "mine.txt").write_text("keep")
    with pytest.raises(OutputFolderError, match="--out: already holds files plumetrace did not write"):
        with staged_output(out):
            pytest.fail("the check must come before the work")
    assert (out / "plumes" / "mine.txt").read_text() == "keep"
    with staged_output(out, overwrite=True) as stage:
        (stage / "plumes.csv").write_text("x")
    assert _names(out) == [MARKER, "plumes.csv"]


def test_empty_existing_folder_is_used(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    with staged_output(out) as stage:
        (stage / "a").write_text("x")
    assert _names(out) == [MARKER, "a"]


@pytest.mark.parametrize(
    "make, expect",
    [
        (lambda t: (t / "out").write_text("x"), "exists and is not a folder"),
        (lambda t: (t / "f").write_text("x"), "is a file, not a folder"),
    ],
)
def test_file_in_the_way_is_refused(tmp_path, make, expect):
    make(tmp_path)
    target = tmp_path / "out" if (tmp_path / "out").exists() else tmp_path / "f" / "out"
    with pytest.raises(OutputFolderError, match=expect):
        prepare_output(target)


@pytest.mark.parametrize("path", ["/proc/plumetrace", "/sys/plumetrace/x"])
def test_system_folders_are_refused(path):
    with pytest.raises(OutputFolderError, match="--out"):
        prepare_output(path)


def test_leftovers_of_dead_runs_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    left = tmp_path / f".out.partial-{dead_pid}-abc"
    (left / "big").mkdir(parents=True)
    (left / "big" / "chunk").write_bytes(b"0" * 1000)
    live = tmp_path / f".out.partial-{os.getpid()}-xyz"
    live.mkdir()
    other = tmp_path / f".other.partial-{dead_pid}-abc"
    other.mkdir()
    removed = remove_leftovers(tmp_path / "out")
    assert removed == [left]
    assert live.exists() and other.exists(), "a live run's staging and another folder's must stay"


def test_full_disk_is_one_line_naming_the_folder(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(OutputFolderError, match=r"out: --out: could not be written: No space left on device"):
        with staged_output(out) as stage:
            (stage / "a").write_text("x")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert list(tmp_path.iterdir()) == []


def test_input_errors_are_not_blamed_on_the_output(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(PermissionError):
        with staged_output(out):
            raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "input.hdr"))
