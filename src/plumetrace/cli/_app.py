"""The Typer application and the options every command shares (defined once here)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console

__all__ = [
    "app",
    "console",
    "err_console",
    "OUT_HELP",
    "OVERWRITE_HELP",
    "out_option",
    "overwrite_option",
    "check_out",
    "naming_options",
]

app = typer.Typer(
    name="plumetrace",
    help="Find gas plumes in imaging-spectrometer scenes and sensor logs, and trace them to their sources.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)

OUT_HELP = (
    "Output folder, written all-or-nothing. A folder plumetrace wrote before is replaced whole; "
    "any other non-empty folder is refused unless --overwrite."
)
OVERWRITE_HELP = "Replace an existing --out folder whole even if plumetrace did not write it."


@app.callback()
def _root() -> None:
    """Find gas plumes in imaging-spectrometer scenes and sensor logs, and trace them to their sources."""


def out_option(default: Path | None = ...):  # type: ignore[assignment]
    """The --out option (required unless a default folder is given)."""
    return typer.Option(default, "--out", "-o", help=OUT_HELP, file_okay=False)


def overwrite_option():
    """The --overwrite flag that goes with --out."""
    return typer.Option(False, "--overwrite", help=OVERWRITE_HELP)


def check_out(out: Path | None, overwrite: bool) -> None:
    """Refuse an unusable --out before any work is done (the same check runs again when the products are moved)."""
    if out is None:
        return
    from plumetrace.io.staging import prepare_output

    prepare_output(out, overwrite=overwrite)


@contextmanager
def naming_options(options: Mapping[str, str]) -> Iterator[None]:
    """Re-raise a library error about a parameter (``roughness_length_m: …``) naming the option typed (``--roughness: …``).

    ``options`` maps the library's parameter names, as its errors name them, to the command's options. A parameter
    named inside a message (``give its pixel size (pixel_size_m)``) is renamed too.
    """
    import re

    from plumetrace.errors import InvalidFileError, InvalidInputError

    names = [name for name in options if re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)+", name)]
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b") if names else None

    def rename(text: str) -> str:
        return pattern.sub(lambda m: options[m.group(1)], text) if pattern else text

    try:
        yield
    except InvalidFileError as exc:
        problem = rename(exc.problem)
        if problem == exc.problem:
            raise
        raise InvalidFileError(exc.path, exc.field, problem) from None
    except InvalidInputError as exc:
        option = options.get(exc.field)
        problem = rename(exc.problem)
        if option is None and problem == exc.problem:
            raise
        raise InvalidInputError(option or exc.field, problem) from None
