"""All-or-nothing output: commands write into a staging folder that is moved into place only on success."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["staged_output"]


@contextmanager
def staged_output(out_dir: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty staging folder beside ``out_dir``; on success move its files into ``out_dir``.

    If the block raises, the staging folder is removed and ``out_dir`` is left exactly as it was
    (not created if it did not exist), so a failed command leaves nothing half-written.
    """
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    out_dir.mkdir(parents=True, exist_ok=True)
    for item in staging.iterdir():
        target = out_dir / item.name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        os.replace(item, target)
    staging.rmdir()
