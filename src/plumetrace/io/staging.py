"""All-or-nothing output folders: what ``--out`` means, and how a command fills it.

The rule every command follows (docs/outputs.md):

* ``--out DIR`` that does not exist, or is empty, is created.
* ``--out DIR`` that plumetrace wrote before (it holds the marker file :data:`MARKER`) is **replaced whole**:
  the new products never mix with old ones.
* Any other existing ``DIR`` (a user's folder, a file) is refused before any work is done, unless the user
  says ``--overwrite``; then it too is replaced whole.
* A command writes into a hidden staging folder beside ``DIR`` (``.DIR.partial-PID-…``) and swaps it into place
  only when everything is written. A failure removes the staging folder and leaves ``DIR`` as it was. A run
  killed with ``kill -9`` leaves its staging folder behind; the next run on the same ``DIR`` removes it.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from plumetrace.errors import OutputFolderError, PlumetraceError

__all__ = ["MARKER", "prepare_output", "staged_output", "remove_leftovers"]

MARKER = ".plumetrace"
"""File written into every output folder; its presence marks the folder as plumetrace's to replace."""

_LEFTOVER_TAGS = (".partial-", ".old-")


def _first_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists() or candidate.is_symlink():
            return candidate
    return Path(path.anchor or ".")


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers(out_dir: str | os.PathLike) -> list[Path]:
    """Remove staging folders that interrupted runs on ``out_dir`` left beside it (their process is gone)."""
    out_dir = Path(out_dir)
    parent = out_dir.parent
    removed: list[Path] = []
    if not parent.is_dir():
        return removed
    prefix = f".{out_dir.name}"
    try:
        entries = list(parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not name.startswith(prefix):
            continue
        rest = name[len(prefix) :]
        tag = next((t for t in _LEFTOVER_TAGS if rest.startswith(t)), None)
        if tag is None:
            continue
        pid_text = rest[len(tag) :].split("-", 1)[0]
        if not pid_text.isdigit() or _pid_alive(int(pid_text)):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


def prepare_output(out_dir: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Check ``--out`` before any work; remove leftovers of interrupted runs; return the absolute path.

    Raises :class:`~plumetrace.errors.OutputFolderError` (one line naming the folder) when ``out_dir`` is a file,
    lies under a file, cannot be written, or holds files plumetrace did not write (unless ``overwrite``).
    """
    out = Path(os.path.abspath(os.fspath(out_dir)))
    if out.exists() and not out.is_dir():
        raise OutputFolderError(out, "exists and is not a folder")
    base = _first_existing(out.parent)
    if not base.is_dir():
        raise OutputFolderError(out, f"{base} is a file, not a folder")
    real = os.path.realpath(base)
    if real == "/proc" or real.startswith(("/proc/", "/sys/")) or real == "/sys":
        raise OutputFolderError(out, f"{base} is a system folder, not one for products")
    if not os.access(base, os.W_OK | os.X_OK):
        raise OutputFolderError(out, f"{base} is not writable")
    if out.is_dir():
        try:
            contents = [p.name for p in out.iterdir()]
        except OSError as exc:
            raise OutputFolderError(out, f"cannot be read ({exc.strerror})") from None
        if contents and MARKER not in contents and not overwrite:
            raise OutputFolderError(
                out,
                f"already holds files plumetrace did not write ({len(contents)} entries); "
                "choose a new or empty folder, or give --overwrite to replace it whole",
            )
    remove_leftovers(out)
    return out


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _write_marker(stage: Path) -> None:
    from plumetrace import __version__

    (stage / MARKER).write_text(json.dumps({"written_by": "plumetrace", "version": __version__}) + "\n")


def _install(stage: Path, out: Path) -> None:
    """Put the finished ``stage`` at ``out``, replacing whatever folder was there as one step."""
    if not out.exists():
        os.rename(stage, out)
        return
    if _exchange(stage, out):
        shutil.rmtree(stage, ignore_errors=True)  # now holds the old products
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-{os.getpid()}-", dir=out.parent))
    os.rename(out, old / "x")
    try:
        os.rename(stage, out)
    except OSError:
        os.rename(old / "x", out)
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _make_parents(path: Path) -> list[Path]:
    made = []
    for parent in reversed(path.parents):
        if not parent.exists():
            parent.mkdir()
            made.append(parent)
    return made


@contextmanager
def staged_output(out_dir: str | os.PathLike, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield an empty staging folder beside ``out_dir``; on success it replaces ``out_dir`` whole.

    If the block raises, the staging folder (and any parent folder made for it) is removed and ``out_dir`` is
    left exactly as it was. Operating-system errors while writing (a full disk, a read-only file system) become
    :class:`~plumetrace.errors.OutputFolderError` naming the folder.
    """
    out = prepare_output(out_dir, overwrite=overwrite)
    made: list[Path] = []
    stage: Path | None = None
    try:
        made = _make_parents(out)
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-{os.getpid()}-", dir=out.parent))
        os.chmod(stage, 0o777 & ~_umask())  # mkdtemp makes it private; the products folder follows the umask
        yield stage
        _write_marker(stage)
        _install(stage, out)
    except BaseException as exc:
        if stage is not None:
            shutil.rmtree(stage, ignore_errors=True)
        for folder in reversed(made):
            try:
                folder.rmdir()
            except OSError:
                break
        if _is_write_failure(exc, stage):
            raise OutputFolderError(out, f"could not be written: {exc.strerror or exc}") from exc
        raise


def _is_write_failure(exc: BaseException, stage: Path | None) -> bool:
    """An operating-system error of the output (full disk, read-only), not of an input file."""
    if not isinstance(exc, OSError) or isinstance(exc, PlumetraceError):
        return False
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG):
        return True
    name = exc.filename if isinstance(exc.filename, str) else None
    return stage is not None and name is not None and os.path.abspath(name).startswith(str(stage))
