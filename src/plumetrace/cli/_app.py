"""The Typer application and the options every command shares (defined once here)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

__all__ = ["app", "console", "err_console", "OutDir"]

app = typer.Typer(
    name="plumetrace",
    help="Find gas plumes in imaging-spectrometer scenes and sensor logs, and trace them to their sources.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)


@app.callback()
def _root() -> None:
    """Find gas plumes in imaging-spectrometer scenes and sensor logs, and trace them to their sources."""

OutDir = typer.Option(..., "--out", "-o", help="Output folder (created; written all-or-nothing).", file_okay=False)


def out_dir_option(default: Path | None = None):  # pragma: no cover - thin helper
    """An --out option with a default folder."""
    return typer.Option(default, "--out", "-o", help="Output folder (created; written all-or-nothing).", file_okay=False)
