"""Worker threads for the detection passes: row blocks, column ranges, a pool that holds BLAS to one thread while it
runs, and the progress of a pass.

NumPy and BLAS release the GIL, so a pass over blocks runs on threads; while a pool runs, BLAS is held to one thread
so the workers do not oversubscribe the cores (the previous limits are restored when the pool ends).
"""

from __future__ import annotations

import functools
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

__all__ = ["TaskProgress", "column_chunks", "row_blocks", "run_threads"]


@functools.cache
def _blas_controller() -> Any:
    """A ``threadpoolctl.ThreadpoolController``, made once: finding the loaded BLAS libraries (reading the
    process's maps) costs ~2 ms, which ``threadpool_limits`` would pay on every pass."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def run_threads(n_threads: int, func: Any, items: list[Any]) -> list[Any]:
    """Run ``func(worker_index, items_of_worker)`` on ``n_threads`` workers (round-robin split); return their results."""
    parts = [items[i::n_threads] for i in range(n_threads)]
    parts = [p for p in parts if p]
    if len(parts) <= 1:
        return [func(0, parts[0] if parts else [])]
    with _blas_controller().limit(limits=1, user_api="blas"), ThreadPoolExecutor(len(parts)) as pool:
        return list(pool.map(func, range(len(parts)), parts))


def row_blocks(n_lines: int, chunk_rows: int) -> list[tuple[int, int]]:
    return [(r, min(r + chunk_rows, n_lines)) for r in range(0, n_lines, chunk_rows)]


#: Columns per task of the in-memory statistics pass: a task's float64 sums (128 × 50² × 8 B = 2.6 MB at 50 bands)
#: and block pieces stay in cache across all its blocks.
_COLUMN_CHUNK = 128


def column_chunks(n_col: int, n_threads: int, max_width: int = _COLUMN_CHUNK) -> list[tuple[int, int]]:
    """Column ranges for the in-memory passes: at most ``max_width`` wide, at least two per thread."""
    width = max(16, min(max_width, -(-n_col // (2 * max(n_threads, 1)))))
    return [(c, min(c + width, n_col)) for c in range(0, n_col, width)]


class TaskProgress:
    """One task of a rich progress bar, advanced from worker threads (``advance``) and extended by passes that the
    run decides on as it goes (``extend``)."""

    def __init__(self, bar: Any, description: str, total: float) -> None:
        self._bar = bar
        self._task = bar.add_task(description, total=total)
        self._lock = threading.Lock()

    def advance(self, n: float = 1) -> None:
        with self._lock:
            self._bar.advance(self._task, n)

    def extend(self, n: float) -> None:
        with self._lock:
            self._bar.update(self._task, total=self._bar.tasks[self._task].total + n)
