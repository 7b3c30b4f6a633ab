"""Where a campaign's stages run: in this process, on a local Dask cluster, or on an existing Dask scheduler.

Each input is a chain of stage tasks (a scene's detect then plumes; a log's invert). On Dask every stage is one task
whose argument is the previous stage's result, so a scene's plumes stage waits for its detect stage and everything
else runs in parallel. A local cluster gets :func:`default_workers` processes of one Dask thread each; a detect
stage then spreads its row blocks over the cores left to it (``threads_per_task``), so a few large scenes still use
every core.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from plumetrace.campaign.stages import StageTask

__all__ = ["default_workers", "executor", "MEMORY_PER_WORKER_BYTES"]

#: Memory a worker is given at least (a scene's detect stage streams blocks; its maps are held whole).
MEMORY_PER_WORKER_BYTES = 2 * 1024**3

Done = Callable[[StageTask, dict[str, Any]], None]


def default_workers(n_tasks: int | None = None) -> int:
    """Workers of a local cluster: the cores, at most one per :data:`MEMORY_PER_WORKER_BYTES` of memory, at most
    ``n_tasks``, at least 1."""
    cores = os.cpu_count() or 1
    try:
        import psutil

        memory = int(psutil.virtual_memory().total)
    except ImportError:  # pragma: no cover - distributed depends on psutil
        memory = cores * MEMORY_PER_WORKER_BYTES
    workers = max(1, min(cores, memory // MEMORY_PER_WORKER_BYTES))
    return max(1, min(workers, n_tasks)) if n_tasks else workers


def _failed(task: StageTask, exc: BaseException) -> dict[str, Any]:
    return {
        "stage": task.stage,
        "id": task.input_id,
        "status": "failed",
        "error": f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}",
        "seconds": 0.0,
        "warnings": [],
    }


class _InProcess:
    """Every stage in this process, one after another (``--scheduler synchronous``)."""

    name = "synchronous"

    def threads_per_task(self, n_scene_chains: int) -> int | None:
        return None  # the detect stage's default: all cores, at most 8

    def run_chains(
        self, chains: Sequence[Sequence[StageTask]], run: Any, after: Any, done: Done, *, threads: int | None
    ) -> None:
        for chain in chains:
            upstream = None
            for task in chain:
                task = dataclasses.replace(task, threads=threads)
                result = run(task) if upstream is None else after(task, upstream)
                done(task, result)
                upstream = result


class _OnDask:
    """Stages as Dask tasks on ``client`` (a local cluster of ``local_workers``, or a remote scheduler)."""

    def __init__(self, client: Any, local_workers: int | None) -> None:
        self.client = client
        self.local_workers = local_workers
        self.name = "local cluster" if local_workers else str(client.scheduler.address)

    def threads_per_task(self, n_scene_chains: int) -> int:
        if self.local_workers:
            cores = os.cpu_count() or 1
            return max(1, cores // max(1, min(self.local_workers, n_scene_chains)))
        info = self.client.scheduler_info().get("workers", {})
        threads = [w.get("nthreads", 1) for w in info.values()]
        return max(1, min(threads)) if threads else 1

    def run_chains(
        self, chains: Sequence[Sequence[StageTask]], run: Any, after: Any, done: Done, *, threads: int | None
    ) -> None:
        from distributed import as_completed

        tasks: dict[Any, StageTask] = {}
        for chain in chains:
            previous = None
            for task in chain:
                task = dataclasses.replace(task, threads=threads)
                key = f"{task.stage}-{task.input_id}-{task.params_sha256[:12]}"
                if previous is None:
                    future = self.client.submit(run, task, key=key, pure=False)
                else:
                    future = self.client.submit(after, task, previous, key=key, pure=False)
                tasks[future] = task
                previous = future
        for future in as_completed(list(tasks)):
            task = tasks[future]
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker fails its task, not the campaign
                result = _failed(task, exc)
            done(task, result)


@contextmanager
def executor(scheduler: str | None, *, n_workers: int | None = None, n_tasks: int = 0) -> Iterator[Any]:
    """The place the stages run: ``"synchronous"`` (or one task and no scheduler named) in this process; None a
    local cluster of ``n_workers`` (default :func:`default_workers`); an address an existing scheduler."""
    from plumetrace.errors import InvalidInputError

    if n_workers is not None and (isinstance(n_workers, bool) or n_workers < 1):
        raise InvalidInputError("--workers", f"{n_workers!r}; expected a whole number >= 1")
    scheduler = scheduler or os.environ.get("PLUMETRACE_SCHEDULER") or None
    if scheduler == "synchronous" or (scheduler is None and n_tasks <= 1):
        yield _InProcess()
        return
    if scheduler is not None:
        from plumetrace.parallel import client

        with client(scheduler) as dask_client:
            yield _OnDask(dask_client, None)
        return
    import logging
    import warnings

    from distributed import Client, LocalCluster

    local = n_workers or default_workers(n_tasks)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Port .* is already in use")  # another cluster's status page
        cluster = LocalCluster(
            n_workers=local,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,  # worker start/stop notices are not the user's business
        )
    with cluster, Client(cluster) as dask_client:
        yield _OnDask(dask_client, local)
