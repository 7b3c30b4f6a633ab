"""The inputs of a campaign: scene files and folders, enhancement maps and sensor logs, found, told apart and hashed.

An input is a **scene** (every format ``plumetrace info`` reads: ENVI header or data file, EMIT L1B NetCDF, PRISMA
HE5, EnMAP folder), an **enhancement map** (a GeoTIFF or EMIT L2B file, named explicitly: the campaign starts at
the plumes stage), or a **sensor log** (CSV/Parquet in ``plumetrace invert``'s layout, told apart from a wind CSV by
its concentration column). A folder is searched recursively for scenes and logs. Each input gets an id (its file
stem, made unique with ``-2``, ``-3``, ...) and the SHA-256 of its bytes (all its files: an ENVI header and its
data; every file of an EnMAP folder).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from plumetrace.errors import InvalidFileError, MissingFileError

__all__ = [
    "CampaignInput",
    "cached_sha256",
    "discover_inputs",
    "file_sha256",
    "SCENE_SUFFIXES",
    "LOG_SUFFIXES",
    "MAP_SUFFIXES",
]

SCENE_SUFFIXES = (".hdr", ".nc", ".nc4", ".he5", ".h5")
LOG_SUFFIXES = (".csv", ".txt", ".parquet", ".pq")
MAP_SUFFIXES = (".tif", ".tiff")
_ENVI_DATA_SUFFIXES = ("", ".img", ".dat", ".raw", ".bsq", ".bil", ".bip")
_CONCENTRATION_COLUMNS = ("concentration_ppm", "concentration_mg_m3")
_WIND_COLUMNS = ("wind_speed_m_s", "u10_m_s")

Kind = Literal["scene", "map", "log"]


@dataclass(frozen=True)
class CampaignInput:
    """One input of a campaign.

    Attributes
    ----------
    id : str
        File stem made unique across the campaign (the name of its folder under ``scenes/`` or ``logs/``).
    kind : {"scene", "map", "log"}
    path : Path
        The file (an ENVI header for ENVI scenes) or the EnMAP folder.
    files : tuple of Path
        Every file whose bytes make the input (hashed into ``sha256``).
    sha256 : str
        SHA-256 over ``files`` in order.
    """

    id: str
    kind: Kind
    path: Path
    files: tuple[Path, ...]
    sha256: str


def file_sha256(paths: Sequence[Path], *, block_bytes: int = 1 << 20) -> str:
    """SHA-256 of the bytes of ``paths`` in order (each file's name length-prefixed, so splits cannot collide)."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(os.path.getsize(path)).encode() + b"\0")
        with open(path, "rb") as handle:
            while block := handle.read(block_bytes):
                digest.update(block)
    return digest.hexdigest()


def cached_sha256(paths: Sequence[Path], cache: dict[str, str] | None) -> str:
    """:func:`file_sha256`, looked up first in ``cache`` by the files' paths, sizes and modification times (and
    stored there): a rerun does not read unchanged inputs again."""
    if cache is None:
        return file_sha256(paths)
    key = "|".join(f"{os.path.abspath(p)}:{os.stat(p).st_size}:{os.stat(p).st_mtime_ns}" for p in paths)
    if key not in cache:
        cache[key] = file_sha256(paths)
    return cache[key]


def _envi_files(header: Path) -> tuple[Path, ...]:
    data = [header.with_suffix(s) for s in _ENVI_DATA_SUFFIXES if header.with_suffix(s).is_file()]
    return (header, *data[:1])


def _csv_columns(path: Path) -> set[str] | None:
    """The lower-case header names of a CSV (comment lines skipped), or None when it is not text."""
    try:
        with path.open("r", encoding="utf-8-sig") as handle:
            for line in handle:
                if line.strip() and not line.lstrip().startswith("#"):
                    return {name.strip().strip('"').lower() for name in line.split(",")}
    except (UnicodeDecodeError, OSError):
        return None
    return set()


def _log_kind(path: Path) -> str:
    """``"log"``, ``"wind"`` (a wind series: not an input) or ``"other"``."""
    if path.suffix.lower() in (".parquet", ".pq"):
        return "log"
    columns = _csv_columns(path)
    if columns is None:
        return "other"
    if columns & set(_CONCENTRATION_COLUMNS):
        return "log"
    if "time" in columns and columns & set(_WIND_COLUMNS):
        return "wind"
    return "other"


def _is_enmap(path: Path) -> bool:
    from plumetrace.io.enmap import find_enmap_metadata

    try:
        return find_enmap_metadata(path) is not None
    except (OSError, ValueError):
        return False


def _classify_file(path: Path, key: str) -> tuple[Kind, Path, tuple[Path, ...]]:
    """Kind, main path and files of an input the user named; an unusable file is refused naming ``key``."""
    suffix = path.suffix.lower()
    if suffix in LOG_SUFFIXES:
        kind = _log_kind(path)
        if kind == "log":
            return "log", path, (path,)
        what = (
            "is a wind series, not a sensor log; give it as wind.file (--wind-file)"
            if kind == "wind"
            else "is not a sensor log: no concentration_ppm or concentration_mg_m3 column (docs/observations.md)"
        )
        raise InvalidFileError(path, key, what)
    if suffix in MAP_SUFFIXES:
        return "map", path, (path,)
    if suffix == ".hdr":
        return "scene", path, _envi_files(path)
    if suffix in SCENE_SUFFIXES:
        return ("map" if _is_l2b(path) else "scene"), path, (path,)
    for candidate in (path.with_name(path.name + ".hdr"), path.with_suffix(".hdr")):
        if candidate.is_file():
            return "scene", candidate, _envi_files(candidate)
    raise InvalidFileError(
        path,
        key,
        "not a scene (ENVI .hdr, EMIT .nc, PRISMA .he5, EnMAP folder), enhancement map (.tif) or sensor log (.csv)",
    )


def _is_l2b(path: Path) -> bool:
    """An EMIT L2B enhancement NetCDF (named ``EMIT_L2B_CH4ENH_...``)."""
    return path.name.upper().startswith("EMIT_L2B_")


def _is_run_folder(folder: Path) -> bool:
    """Whether ``folder`` is a ``plumetrace run`` folder (its marker says so)."""
    import json

    try:
        return json.loads((folder / ".plumetrace").read_text()).get("command") == "run"
    except (OSError, ValueError, AttributeError):
        return False


def _scan_folder(folder: Path) -> list[tuple[Kind, Path, tuple[Path, ...]]]:
    """Scenes, EnMAP folders and sensor logs under ``folder`` (recursively, in name order)."""
    found: list[tuple[Kind, Path, tuple[Path, ...]]] = []
    for base, dirs, files in os.walk(folder):
        dirs.sort()
        base_path = Path(base)
        for name in list(dirs):
            sub = base_path / name
            if name.startswith(".") or _is_run_folder(sub):  # a run's own products are not inputs
                dirs.remove(name)
                continue
            if _is_enmap(sub):
                found.append(("scene", sub, tuple(sorted(p for p in sub.rglob("*") if p.is_file()))))
                dirs.remove(name)
        for name in sorted(files):
            path = base_path / name
            suffix = path.suffix.lower()
            if name.startswith(".") or suffix in MAP_SUFFIXES:
                continue  # maps only when named: a folder may hold truth maps or earlier products
            if suffix == ".hdr":
                found.append(("scene", path, _envi_files(path)))
            elif suffix in SCENE_SUFFIXES:
                found.append(("map" if _is_l2b(path) else "scene", path, (path,)))
            elif suffix in LOG_SUFFIXES and _log_kind(path) == "log":
                found.append(("log", path, (path,)))
    return found


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".hdr", *SCENE_SUFFIXES, *LOG_SUFFIXES, *MAP_SUFFIXES):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)] or name
    return name


def discover_inputs(
    paths: Sequence[Path], *, where: str = "inputs", hash_cache: dict[str, str] | None = None
) -> list[CampaignInput]:
    """Every input under ``paths``, with unique ids and content hashes, in the order given.

    Parameters
    ----------
    paths : sequence of Path
        Files and folders (folders are searched recursively).
    where : str
        The key that named them, for errors (``inputs``).
    hash_cache : dict, optional
        Hashes of earlier runs by path, size and modification time (:func:`cached_sha256`); updated in place.

    Raises
    ------
    InvalidInputError, InvalidFileError, MissingFileError
        No inputs at all; a folder without any input (naming the folder and what was looked for); a file that is
        no input kind; the same file given twice, or two files with the same content.
    """
    from plumetrace.errors import InvalidInputError

    if not paths:
        raise InvalidInputError(where, "no inputs given; name scene files, folders or sensor logs")
    found: list[tuple[Kind, Path, tuple[Path, ...], str]] = []
    for i, raw in enumerate(paths):
        path = Path(raw)
        key = f"{where}[{i}]"
        if not path.exists():
            raise MissingFileError(path, "input")
        if path.is_dir() and not _is_enmap(path):
            items = _scan_folder(path)
            if not items:
                raise InvalidFileError(
                    path.resolve(),
                    where,
                    "no scene or sensor log in this folder or its subfolders (looked for *.hdr, *.nc, *.he5, *.h5, "
                    "EnMAP folders with *METADATA.XML, and *.csv / *.parquet logs with a concentration column)",
                )
            found += [(*item, key) for item in items]
        elif path.is_dir():
            found.append(("scene", path, tuple(sorted(p for p in path.rglob("*") if p.is_file())), key))
        else:
            found.append((*_classify_file(path, key), key))
    seen_paths: dict[Path, str] = {}
    for _kind, path, _files, key in found:
        real = path.resolve()
        if real in seen_paths:
            raise InvalidFileError(path, key, f"given twice (also in {seen_paths[real]}); name each input once")
        seen_paths[real] = key
    inputs: list[CampaignInput] = []
    seen_hash: dict[str, Path] = {}
    used: set[str] = set()
    for kind, path, files, key in found:
        for file in files:
            if not file.is_file():
                raise MissingFileError(file, "input file")
        sha = cached_sha256(files, hash_cache)
        if sha in seen_hash:
            raise InvalidFileError(
                path, key, f"same content as {seen_hash[sha]}; a duplicate would count its detections twice"
            )
        seen_hash[sha] = path
        stem = _stem(path)
        ident, n = stem, 1
        while ident in used:
            n += 1
            ident = f"{stem}-{n}"
        used.add(ident)
        inputs.append(CampaignInput(ident, kind, path.resolve(), tuple(f.resolve() for f in files), sha))
    return inputs
