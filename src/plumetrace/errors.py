"""Exception and warning types users can meet.

One root exception, :class:`PlumetraceError`; each subclass also inherits the matching builtin so callers
can catch either. Messages are one line and name the file and the field at fault; the CLI prints them and
exits with status 2, without a traceback.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

__all__ = [
    "PlumetraceError",
    "InvalidInputError",
    "InvalidFileError",
    "MissingFileError",
    "OutputFolderError",
    "PlumetraceWarning",
    "InputWarning",
    "warn_input",
    "check_input_file",
]


class PlumetraceError(Exception):
    """Root of every error plumetrace raises on purpose."""


class InvalidInputError(PlumetraceError, ValueError):
    """A parameter or option value is out of range or inconsistent.

    ``InvalidInputError("window_nm", "must lie inside 2000-2500 nm")`` reads ``window_nm: must lie ...``.
    """

    def __init__(self, field: str, problem: str):
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class InvalidFileError(PlumetraceError, ValueError):
    """A file is malformed: truncated, inconsistent header, bad values.

    Reads ``FILE: FIELD: PROBLEM``.
    """

    def __init__(self, path: str | PathLike, field: str, problem: str):
        self.path = str(path)
        self.field = field
        self.problem = problem
        super().__init__(f"{self.path}: {field}: {problem}")


class MissingFileError(PlumetraceError, FileNotFoundError):
    """A file the user named, or a companion file it needs, does not exist."""

    def __init__(self, path: str | PathLike, what: str = "file"):
        self.path = str(path)
        super().__init__(f"{self.path}: {what} not found")


class OutputFolderError(PlumetraceError, OSError):
    """The ``--out`` folder cannot be used or written (a file, a system folder, someone else's files, a full disk).

    Reads ``FOLDER: --out: PROBLEM``.
    """

    def __init__(self, path: str | PathLike, problem: str):
        self.path = str(path)
        self.field = "--out"
        self.problem = problem
        super().__init__(f"{self.path}: --out: {problem}")


class PlumetraceWarning(UserWarning):
    """Something was suspicious but the result is still usable.

    The CLI prints each one as a single ``warning: MESSAGE`` line; messages name the file and the field, as
    :func:`warn_input` writes them.
    """


class InputWarning(PlumetraceWarning):
    """An input file or value is suspicious (``FILE: FIELD: PROBLEM``), but the result is still usable."""


def warn_input(path: str | PathLike | None, field: str, problem: str, *, stacklevel: int = 2) -> None:
    """Warn about an input as one line ``FILE: FIELD: PROBLEM`` (``FIELD: PROBLEM`` when there is no file)."""
    import warnings

    message = f"{field}: {problem}" if path is None else f"{path}: {field}: {problem}"
    warnings.warn(message, InputWarning, stacklevel=stacklevel + 1)


def check_input_file(path: str | PathLike, what: str, *, field: str, directory: str, empty: str) -> Path:
    """Check that ``path`` names an existing, non-empty regular file; return it as a :class:`~pathlib.Path`.

    Parameters
    ----------
    path
        The file the user named.
    what
        How the file is called in the not-found message (``FILE: WHAT not found``).
    field
        The field the folder and empty-file messages name (``FILE: FIELD: PROBLEM``).
    directory
        The problem reported when ``path`` is a folder.
    empty
        The problem reported when the file has 0 bytes.

    Raises
    ------
    InvalidFileError
        ``path`` is a folder or an empty file.
    MissingFileError
        ``path`` does not exist (or is not a regular file).
    """
    path = Path(path)
    if path.is_dir():
        raise InvalidFileError(path, field, directory)
    if not path.is_file():
        raise MissingFileError(path, what)
    if path.stat().st_size == 0:
        raise InvalidFileError(path, field, empty)
    return path
