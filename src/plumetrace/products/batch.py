"""Detect many scenes (flight lines) in parallel over a Dask cluster: one task per scene (:mod:`plumetrace.parallel`)."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from plumetrace.errors import InvalidInputError

__all__ = ["detect_files"]


def _detect_one(path: Path, *, out_root: Path, options: dict[str, Any]) -> Path:
    from plumetrace.detect.engine import detect_scene
    from plumetrace.io.open_scene import open_scene
    from plumetrace.io.staging import staged_output
    from plumetrace.products.detection import write_detection_products

    out = out_root / Path(path).name.split(".")[0]
    scene = open_scene(path)
    with staged_output(out) as stage:
        write_detection_products(detect_scene(scene, progress=False, **options), stage)
    return out


def detect_files(
    paths: list[str | Path],
    out_root: str | Path,
    *,
    scheduler: str | None = None,
    n_workers: int | None = None,
    **options: Any,
) -> list[Path]:
    """Run :func:`plumetrace.detect.engine.detect_scene` on every scene and write its products.

    Parameters
    ----------
    paths : list of path
        Scene files (any format :func:`plumetrace.io.open_scene.open_scene` reads).
    out_root : path
        Each scene's products go to ``out_root/<file stem>/`` (all-or-nothing per scene).
    scheduler : str, optional, keyword-only
        ``"synchronous"``, a Dask scheduler address, or None for a local cluster (:func:`plumetrace.parallel.client`).
    n_workers : int, optional, keyword-only
        Local cluster size (default: CPU count). Each worker runs one scene with one block thread.
    **options
        Keyword options of ``detect_scene`` (gas, method, stats, window_nm, …).

    Returns
    -------
    list of Path
        The output folders, in the order of ``paths``.

    Raises
    ------
    InvalidInputError
        Two scenes with the same file stem (their outputs would collide).
    """
    from plumetrace.parallel import map_scenes

    paths = [Path(p) for p in paths]
    stems = [p.name.split(".")[0] for p in paths]
    if len(set(stems)) != len(stems):
        raise InvalidInputError("paths", "two scenes share a file name stem; their outputs would collide")
    if scheduler != "synchronous" and len(paths) > 1:
        options.setdefault("n_threads", 1)  # the cluster supplies the parallelism
    return map_scenes(
        partial(_detect_one, out_root=Path(out_root), options=options), paths, scheduler=scheduler, n_workers=n_workers
    )
