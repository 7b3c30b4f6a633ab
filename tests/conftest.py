"""Shared fixtures. Tests write their own data; real third-party data come from ../shared/data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

from plumetrace.shared_data import shared_data_dir  # noqa: E402


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared validation data folder; skips the test with a reason when it is absent."""
    path = shared_data_dir()
    if path is None:
        pytest.skip("../shared/data not found (set PLUMETRACE_SHARED_DATA to run tests on the real datasets)")
    return path


@pytest.fixture
def run_cli(capsys):
    """Run the plumetrace CLI in-process; return (exit_code, stdout, stderr)."""
    from plumetrace.cli import main

    def _run(*args: str) -> tuple[int, str, str]:
        try:
            main(list(map(str, args)))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out, err = capsys.readouterr()
        return code, out, err

    return _run
