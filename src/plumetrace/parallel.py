"""Scene-level parallelism with Dask: a client from configuration (local by default, a scheduler address for a cluster).

The detection engine already spreads the blocks of one scene over threads; what scales out is *many scenes* (flight
lines of a campaign). :func:`map_scenes` runs one function per item on a Dask cluster — a local one on this machine
by default (``processes`` workers, one thread each, so every worker's BLAS and block threads have a core), or the
scheduler at ``scheduler`` (``tcp://host:8786``; e.g. started by dask-jobqueue or dask-kubernetes, the ``[cluster]``
extra). ``scheduler="synchronous"`` runs in this process (tests, debugging).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from typing import Any, Iterator, TypeVar

from plumetrace.errors import InvalidInputError

__all__ = ["client", "map_scenes"]

T = TypeVar("T")
R = TypeVar("R")


@contextmanager
def client(scheduler: str | None = None, *, n_workers: int | None = None) -> Iterator[Any]:
    """A ``distributed.Client``: to ``scheduler`` (an address) or to a new local cluster, closed on exit.

    Parameters
    ----------
    scheduler : str, optional
        ``tcp://host:port`` of a running scheduler; None starts a local cluster (the ``PLUMETRACE_SCHEDULER``
        environment variable, when set, is used instead of None).
    n_workers : int, optional, keyword-only
        Workers of the local cluster (default: the CPU count).

    Raises
    ------
    InvalidInputError
        An address that does not look like one, or a scheduler that cannot be reached.
    """
    from distributed import Client, LocalCluster

    scheduler = scheduler or os.environ.get("PLUMETRACE_SCHEDULER") or None
    if scheduler is None:
        workers = int(n_workers or os.cpu_count() or 1)
        if workers < 1:
            raise InvalidInputError("n_workers", f"{n_workers!r}; expected ≥ 1")
        with (
            LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
            Client(cluster) as local,
        ):
            yield local
        return
    if "://" not in scheduler and ":" not in scheduler:
        raise InvalidInputError("scheduler", f"{scheduler!r}; expected an address like tcp://host:8786")
    try:
        remote = Client(scheduler, timeout="10s")
    except (OSError, TimeoutError) as error:
        raise InvalidInputError("scheduler", f"{scheduler}: cannot connect ({error})") from None
    try:
        yield remote
    finally:
        remote.close()


def map_scenes(
    function: Callable[[T], R], items: Iterable[T], *, scheduler: str | None = None, n_workers: int | None = None
) -> list[R]:
    """``[function(item) for item in items]``, one Dask task per item, results in the order of ``items``.

    Parameters
    ----------
    function : callable
        A picklable (module-level) function of one item, e.g. a scene path.
    items : iterable
    scheduler : str, optional, keyword-only
        ``"synchronous"`` (in this process, one after another), an address, or None for a local cluster
        (:func:`client`).
    n_workers : int, optional, keyword-only
        Local cluster size.

    Returns
    -------
    list
        The results; the first exception raised by any task is re-raised.
    """
    items = list(items)
    if scheduler == "synchronous" or len(items) <= 1:
        return [function(item) for item in items]
    with client(scheduler, n_workers=n_workers) as dask_client:
        futures = dask_client.map(function, items, pure=False)
        return dask_client.gather(futures)
