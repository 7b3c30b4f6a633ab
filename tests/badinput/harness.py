"""The bad-input contract, checked one case at a time.

A case is a command line that must be refused: exit status 2, exactly one line on stderr that starts with
``error:`` and names the file (or option) and the field at fault, nothing on stdout that claims success, and
the ``--out`` folder (and the folder around it) exactly as it was before. Each test module of this package
holds a table of :class:`Case` rows for one command and runs them through :func:`check_rejected`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Case", "Inputs", "check_rejected", "snapshot", "write_text", "write_bytes", "edit_header", "ids"]


@dataclass(frozen=True)
class Inputs:
    """Small valid inputs (built once per test session) that the cases corrupt or misuse."""

    root: Path
    scene_hdr: Path  # ENVI radiance header of a small simulated EMIT scene (with its data file beside it)
    enhancement_tif: Path  # `plumetrace detect` product of that scene
    observations_csv: Path  # drone survey, lat/lon positions, concentration_ppm, needs --gas ch4
    local_observations_csv: Path  # the same survey in local x_m/y_m, needs --origin LAT,LON
    wind_csv: Path  # wind time series covering the scene's acquisition time
    aoi_geojson: Path  # a 5 × 3 km survey area
    home: str  # LAT,LON take-off point near the area


@dataclass(frozen=True)
class Case:
    """One bad command line.

    ``argv(inputs, tmp)`` returns the arguments after ``plumetrace`` (``tmp`` is an empty folder of the case's own,
    where it may write bad files); ``names`` are the substrings the error line must contain, each formatted with
    ``tmp=`` and the inputs' fields (e.g. ``"{tmp}/bad.hdr"`` or ``"wind_speed"``). Output goes to ``tmp / "out"``
    unless the argv says otherwise (then ``out`` names it, relative to ``tmp``).
    """

    id: str
    argv: Callable[[Inputs, Path], Sequence[object]]
    names: tuple[str, ...]
    out: str = "out"
    prepare_out: Callable[[Path], None] | None = None  # e.g. fill --out with a user's files beforehand
    no_out: bool = False  # a command without --out (``info``): nothing is appended


def ids(cases: Sequence[Case]) -> list[str]:
    return [case.id for case in cases]


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``folder`` with its size and modification time (ns)."""
    state: dict[str, tuple[int, int]] = {}
    for base, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(base) / name
            stat = path.lstat()
            state[str(path.relative_to(folder))] = (stat.st_size if name in files else -1, stat.st_mtime_ns)
    return state


def check_rejected(run_cli, case: Case, inputs: Inputs, tmp: Path) -> str:
    """Run ``case`` and assert the contract; return the error line."""
    out = tmp / case.out
    if case.prepare_out is not None:
        case.prepare_out(out)
    argv = [str(a) for a in case.argv(inputs, tmp)]
    if not case.no_out and "--out" not in argv and "-o" not in argv and "--check" not in argv:
        argv += ["--out", str(out)]
    before = snapshot(tmp)
    code, stdout, stderr = run_cli(*argv)
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert code == 2, f"exit {code} for {argv}\nstdout: {stdout}\nstderr: {stderr}"
    assert len(lines) == 1, f"{len(lines)} lines on stderr for {argv}:\n{stderr}"
    line = lines[0]
    assert line.startswith("error: "), line
    assert "Traceback" not in stderr
    fields = {"tmp": str(tmp), **{k: str(v) for k, v in vars(inputs).items()}}
    for name in case.names:
        expected = name.format(**fields)
        assert expected in line, f"{expected!r} not named in: {line}"
    assert snapshot(tmp) == before, f"{argv} changed files under {tmp}"
    return line


def write_text(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text)
    return path


def write_bytes(tmp: Path, name: str, data: bytes) -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path


def edit_header(hdr: Path, tmp: Path, changes: dict[str, str | None], *, name: str = "bad.hdr") -> Path:
    """Copy an ENVI header (and link its data file) into ``tmp`` with ``changes`` (None deletes the field).

    Returns the new header's path; its data file is ``tmp / Path(name).stem`` (a symbolic link to the original).
    """
    text = hdr.read_text()
    lines = _header_fields(text)
    for key, value in changes.items():
        lines = [(k, v) for k, v in lines if k.lower() != key.lower()]
        if value is not None:
            lines.append((key, value))
    body = "ENVI\n" + "".join(f"{k} = {v}\n" for k, v in lines)
    path = tmp / name
    path.write_text(body)
    data = hdr.with_suffix("")
    link = tmp / Path(name).stem
    if not link.exists():
        os.symlink(data, link)
    return path


def _header_fields(text: str) -> list[tuple[str, str]]:
    """``key = value`` pairs of an ENVI header, braces spanning lines joined."""
    fields: list[tuple[str, str]] = []
    body = text.split("\n", 1)[1] if text.startswith("ENVI") else text
    buffer = ""
    for raw in body.splitlines():
        buffer = f"{buffer} {raw}".strip() if buffer else raw.strip()
        if not buffer or buffer.count("{") > buffer.count("}"):
            continue
        if "=" in buffer:
            key, value = buffer.split("=", 1)
            fields.append((key.strip(), value.strip()))
        buffer = ""
    return fields
