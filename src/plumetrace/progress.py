"""One progress-bar style for every long-running step (rich, to stderr, silent when not a terminal)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

__all__ = ["progress_bar", "track"]

T = TypeVar("T")
_console = Console(stderr=True)


def progress_bar(*, disable: bool | None = None) -> Progress:
    """A rich Progress with the project's columns; disabled automatically when stderr is not a terminal."""
    if disable is None:
        disable = not _console.is_terminal
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=_console,
        disable=disable,
        transient=False,
    )


def track(
    items: Iterable[T], description: str, *, total: int | None = None, disable: bool | None = None
) -> Iterator[T]:
    """Iterate with a progress bar."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with progress_bar(disable=disable) as bar:
        task = bar.add_task(description, total=total)
        for item in items:
            yield item
            bar.advance(task)
