"""Command-line interface: thin wrappers that call one library function each.

Errors users can cause (:class:`plumetrace.errors.PlumetraceError`) print one line and exit with status 2.
"""

from __future__ import annotations

import sys

from plumetrace.cli._app import app, err_console
from plumetrace.errors import PlumetraceError

# Each module registers its command(s) on `app` when imported.
from plumetrace.cli import demo, detect, info, invert, plan, plumes, simulate  # noqa: E402,F401

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``plumetrace`` command."""
    try:
        app(args=argv, prog_name="plumetrace")
    except PlumetraceError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
