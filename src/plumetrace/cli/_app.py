"""The Typer application and the options every command shares (defined once here)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from typer.core import TyperCommand, TyperGroup

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
    "PIPELINE",
    "PLACEHOLDERS",
    "Command",
    "command",
]

#: The commands in pipeline order: ``plumetrace --help`` lists them so (README's table follows it).
PIPELINE = ("plan", "simulate", "info", "detect", "plumes", "invert", "sites", "run", "report", "verify", "demo")

#: Every placeholder an option or argument shows in ``--help`` (docs/cli.md explains each). Options without one of
#: their own get FILE, DIR, N, NUMBER or TEXT from their type; flags show none.
PLACEHOLDERS = frozenset(
    {
        "FILE",
        "DIR",
        "N",
        "NUMBER",
        "NUMBERS",
        "NAME",
        "NAMES",
        "TEXT",
        "TIME",
        "LAT,LON",
        "ROW,COL",
        "X,Y",
        "XMIN,XMAX,YMIN,YMAX",
        "ROWSxCOLS",
        "START,END",
        "A,B",
        "UNITS",
    }
)


def _flag_help_option(option):  # noqa: ANN001, ANN202
    """--help takes no value: no placeholder."""
    if option is not None:
        option.metavar = ""
    return option


class _PipelineGroup(TyperGroup):
    """Lists the commands in :data:`PIPELINE` order instead of alphabetically."""

    def list_commands(self, ctx) -> list[str]:  # noqa: ANN001
        rank = {name: i for i, name in enumerate(PIPELINE)}
        return sorted(self.commands, key=lambda name: (rank.get(name, len(PIPELINE)), name))

    def get_help_option(self, ctx):  # noqa: ANN001, ANN201
        return _flag_help_option(super().get_help_option(ctx))


def _placeholder(param) -> str:  # noqa: ANN001
    """The placeholder of a parameter that names none itself, from its type."""
    if getattr(param, "is_flag", False):
        return ""  # a flag takes no value
    annotation = param.type_descriptor.annotation
    info = param.type_descriptor.parameter_info
    if annotation is Path or str(annotation) == "list[pathlib.Path]":
        return "DIR" if getattr(info, "file_okay", True) is False else "FILE"
    return {int: "N", float: "NUMBER"}.get(annotation, "TEXT")


class Command(TyperCommand):
    """A command with uniform placeholders, marked conditional requirements and deprecated option spellings.

    Attributes
    ----------
    old_spellings
        Old option spelling -> the current one. The old spelling still works for one release: it is hidden from
        ``--help`` and each use prints one ``warning:`` line naming the current option.
    required_when
        Option -> the condition under which it is not needed (``{"--home": "unless --check"}``): ``--help`` marks
        it ``[required unless --check]``. Options required always are declared with no default (``...``).
    """

    old_spellings: Mapping[str, str] = {}
    required_when: Mapping[str, str] = {}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from rich.markup import escape

        for param in self.params:
            if param.param_type_name == "argument":
                # An argument's name is its placeholder (SCENE, AOI): no type column beside it.
                param.display_type_rich = lambda ctx: None
            elif param.metavar is None:
                param.metavar = _placeholder(param)
            condition = next((self.required_when[o] for o in param.opts if o in self.required_when), None)
            if condition is not None:
                marker = f"[required {condition}]"
                marker = escape(marker) if self.rich_markup_mode == "rich" else marker
                param.help = f"{param.help or ''} {marker}".strip()

    def get_help_option(self, ctx):  # noqa: ANN001, ANN201
        return _flag_help_option(super().get_help_option(ctx))

    def parse_args(self, ctx, args: list[str]) -> list[str]:  # noqa: ANN001
        return super().parse_args(ctx, _current_spellings(args, self.old_spellings))


def _current_spellings(args: list[str], deprecated: Mapping[str, str]) -> list[str]:
    """``args`` with each deprecated option spelling replaced by the current one (one warning line per use)."""
    if not deprecated:
        return args
    from plumetrace.errors import warn_input

    out = []
    for i, arg in enumerate(args):
        if arg == "--":  # everything after it is an argument, not an option
            return out + list(args[i:])
        name, eq, value = arg.partition("=")
        new = deprecated.get(name) if name.startswith("--") else None
        if new is not None:
            warn_input(None, name, f"deprecated option name; use {new} (the old name goes in the next release)")
            arg = new + eq + value
        out.append(arg)
    return out


def command(*, deprecated: Mapping[str, str] | None = None, required: Mapping[str, str] | None = None) -> type[Command]:
    """A :class:`Command` class for ``app.command(cls=...)`` with these deprecated spellings and conditions."""
    return type("Command", (Command,), {"old_spellings": dict(deprecated or {}), "required_when": dict(required or {})})


app = typer.Typer(
    name="plumetrace",
    cls=_PipelineGroup,
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


def _print_version(value: bool) -> None:
    if value:
        from plumetrace import __version__

        typer.echo(f"plumetrace {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit.", metavar=""
    ),
) -> None:
    """Find gas plumes in imaging-spectrometer scenes and sensor logs, and trace them to their sources."""


def out_option(default: Path | None = ...):  # type: ignore[assignment]
    """The --out option (required unless a default folder is given)."""
    return typer.Option(default, "--out", "-o", help=OUT_HELP, file_okay=False, metavar="DIR")


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
