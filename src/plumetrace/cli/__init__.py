"""Command-line interface: thin wrappers that call one library function each.

What every command promises (docs/outputs.md): bad input, including a wrong option value, prints one line
``error: …`` naming the file (or option) and the field, and exits with status 2 without a traceback; an
interrupted run exits with 130; warnings reach the user as one ``warning: …`` line each, and warnings from
libraries that the user cannot act on are not shown.
"""

from __future__ import annotations

import sys
import warnings

from rich.markup import escape
from typer import Abort

try:  # newer typer carries its own copy of click
    from typer._click.exceptions import UsageError
except ImportError:  # pragma: no cover - older typer on the real click
    from click.exceptions import UsageError

# Each module registers its command(s) on `app` when imported.
from plumetrace.cli import demo, detect, info, invert, plan, plumes, report, run, simulate, sites  # noqa: E402,F401
from plumetrace.cli._app import app, err_console
from plumetrace.errors import PlumetraceError, PlumetraceWarning

__all__ = ["app", "main"]


def _error(message: str) -> None:
    err_console.print(
        f"[bold red]error:[/] {escape(' '.join(message.split()))}", highlight=False, soft_wrap=True, markup=True
    )


def _usage_error(exc: UsageError) -> str:
    """Click's usage message (wrong option value, unknown option) as one line naming the command."""
    command = exc.ctx.command_path if exc.ctx is not None else "plumetrace"
    return f"{command}: {exc.format_message()} (see '{command} --help')"


class _OneLineWarnings:
    """Show each plumetrace warning once, as one line; drop every other warning."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def show(self, message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
        if not issubclass(category, PlumetraceWarning):
            return
        text = " ".join(str(message).split())
        if text in self.seen:
            return
        self.seen.add(text)
        err_console.print(f"[yellow]warning:[/] {escape(text)}", highlight=False, soft_wrap=True, markup=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``plumetrace`` command."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("always", PlumetraceWarning)
        warnings.showwarning = _OneLineWarnings().show
        try:
            code = app(args=argv, prog_name="plumetrace", standalone_mode=False)
        except PlumetraceError as exc:
            _error(str(exc))
            sys.exit(2)
        except UsageError as exc:
            _error(_usage_error(exc))
            sys.exit(2)
        except (KeyboardInterrupt, Abort):
            err_console.print("interrupted")
            sys.exit(130)
        except OSError as exc:
            if not exc.filename:  # not a file the user named: a bug, keep the traceback
                raise
            _error(f"{exc.filename}: {exc.strerror or exc}")
            sys.exit(2)
        except MemoryError:
            _error("not enough memory for this input; try a smaller scene or --chunk-rows")
            sys.exit(2)
    if isinstance(code, int) and code != 0:
        sys.exit(code)
