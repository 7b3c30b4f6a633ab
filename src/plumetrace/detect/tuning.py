"""Opt-in tuning of the host process for long detection runs (the ``plumetrace`` command line turns it on).

The library never changes the process it is imported into on its own; a program that runs many detections may call
:func:`tune_process` once, as ``plumetrace detect`` does.
"""

from __future__ import annotations

import ctypes

__all__ = ["tune_process"]

#: glibc's ``mallopt`` parameter number of ``M_MMAP_THRESHOLD``.
_M_MMAP_THRESHOLD = -3
#: Allocations at least this large (bytes) are served by mmap once the process is tuned.
MMAP_THRESHOLD_BYTES = 1 << 20


def tune_process() -> bool:
    """Make glibc serve allocations ≥ 1 MiB with mmap, so freed blocks go back to the OS at once.

    The detection passes' worker threads allocate and free many block-sized arrays; with glibc's adaptive threshold
    they end up in per-thread heaps that are never given back, which inflates peak RSS by ~20 %. A fixed threshold
    disables that adaptation for the whole process (every allocation of the process, not only plumetrace's).

    Returns
    -------
    bool
        Whether the setting took effect (False, and no error, on other C libraries).
    """
    try:
        return bool(ctypes.CDLL("libc.so.6").mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
    except (OSError, AttributeError):
        return False
