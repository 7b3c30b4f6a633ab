"""Read a run folder (docs/run.md) and its sites product (docs/sites.md) into plain tables for the report.

Only reads; every problem a user can cause (a folder that is not a run, a run from an incompatible version, a
missing or unreadable product) is an error naming the file and the field.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from plumetrace.errors import InvalidFileError, MissingFileError

__all__ = ["RUN_LAYOUT", "LogProducts", "RunFolder", "SceneProducts", "check_version", "read_run"]

#: Layout of the run folder this version reads (run.json may state it as ``layout``; absent means 1).
RUN_LAYOUT = 1
_RUN_KEYS = ("plumetrace_version", "inputs")
_INPUT_KEYS = ("id", "kind", "status")


@dataclass(frozen=True)
class SceneProducts:
    """The detect and plumes products of one scene of the run.

    Attributes
    ----------
    input_id : str
    detect_dir, plumes_dir : Path or None
    footprint : dict or None
        The GeoJSON Feature of ``footprint.geojson`` (lon/lat geometry, docs/run.md properties).
    plumes : DataFrame
        ``plumes.csv`` (one row per plume; empty when none was found).
    outlines : dict
        plume_id -> GeoJSON geometry (lon/lat) of the plume's outline from ``plumes.geojson``.
    """

    input_id: str
    detect_dir: Path | None
    plumes_dir: Path | None
    footprint: dict[str, Any] | None
    plumes: pd.DataFrame
    outlines: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def enhancement_tif(self) -> Path | None:
        """The enhancement map of the scene (``detect/enhancement.tif``) when present."""
        path = None if self.detect_dir is None else self.detect_dir / "enhancement.tif"
        return path if path is not None and path.is_file() else None


@dataclass(frozen=True)
class LogProducts:
    """The invert product of one sensor log: ``summary.json`` and the posterior map PNG when present."""

    input_id: str
    invert_dir: Path
    summary: dict[str, Any]
    posterior_png: Path | None


@dataclass(frozen=True)
class RunFolder:
    """Everything the report reads from a run folder.

    Attributes
    ----------
    path : Path
    run : dict
        ``run.json``.
    config_text : str or None
        ``campaign.yaml`` as written by the run.
    scenes, logs : list
        Products of the inputs that were processed.
    sites : DataFrame
        ``sites/sites.csv`` (may be empty).
    detections : DataFrame
        ``sites/detections.csv`` (may be empty).
    timeseries : dict
        site_id -> ``sites/timeseries/site-NNN.csv``.
    """

    path: Path
    run: dict[str, Any]
    config_text: str | None
    scenes: list[SceneProducts]
    logs: list[LogProducts]
    sites: pd.DataFrame
    detections: pd.DataFrame
    timeseries: dict[str, pd.DataFrame]

    @property
    def inputs(self) -> list[dict[str, Any]]:
        """The run's inputs as run.json lists them."""
        return list(self.run.get("inputs") or [])

    @property
    def failed(self) -> list[dict[str, Any]]:
        """Inputs that failed or were skipped, with their one-line error."""
        return [i for i in self.inputs if i.get("status") != "done"]


def _version_tuple(text: str) -> tuple[int, ...] | None:
    parts = []
    for piece in str(text).split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts) if len(parts) >= 2 else None


def check_version(run_json: Path, written_by: str, reader: str) -> None:
    """Refuse a run written by an incompatible plumetrace: another major version (another minor one before 1.0)."""
    theirs, ours = _version_tuple(written_by), _version_tuple(reader)
    if theirs is None:
        raise InvalidFileError(run_json, "plumetrace_version", f"{written_by!r} is not a version number")
    if ours is None:  # a development build without a version: read what it can
        return
    same = theirs[0] == ours[0] and (ours[0] > 0 or theirs[1] == ours[1])
    if not same:
        series = f"{ours[0]}.x" if ours[0] > 0 else f"{ours[0]}.{ours[1]}.x"
        raise InvalidFileError(
            run_json,
            "plumetrace_version",
            f"run folder written by plumetrace {written_by}; this plumetrace ({reader}) reads run folders of "
            f"{series}: report it with the plumetrace that wrote it, or run the campaign again",
        )


def _read_json(path: Path, what: str) -> Any:
    if not path.is_file():
        raise MissingFileError(path, what)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidFileError(path, what, f"not valid JSON ({exc})") from None


def _read_csv(path: Path, what: str, required: tuple[str, ...] = ()) -> pd.DataFrame:
    if not path.is_file():
        raise MissingFileError(path, what)
    try:
        table = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        table = pd.DataFrame(columns=list(required))
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InvalidFileError(path, what, f"not a readable CSV table ({' '.join(str(exc).split())})") from None
    missing = [name for name in required if name not in table.columns]
    if missing:
        raise InvalidFileError(path, missing[0], f"column missing ({what} needs {', '.join(required)})")
    return table


def _check_run_json(path: Path, run: Any) -> dict[str, Any]:
    from plumetrace import __version__

    if not isinstance(run, dict):
        raise InvalidFileError(path, "run.json", "is not a JSON object")
    layout = run.get("layout", RUN_LAYOUT)
    if layout != RUN_LAYOUT:
        raise InvalidFileError(
            path, "layout", f"run folder layout {layout!r}; this plumetrace reads layout {RUN_LAYOUT} (docs/run.md)"
        )
    for key in _RUN_KEYS:
        if key not in run:
            raise InvalidFileError(path, key, "missing: not a run.json written by `plumetrace run` (docs/run.md)")
    check_version(path, str(run["plumetrace_version"]), __version__)
    if not isinstance(run["inputs"], list):
        raise InvalidFileError(path, "inputs", "is not a list")
    for k, item in enumerate(run["inputs"]):
        if not isinstance(item, dict) or any(key not in item for key in _INPUT_KEYS):
            raise InvalidFileError(path, f"inputs[{k}]", f"needs {', '.join(_INPUT_KEYS)}")
        if item["kind"] not in ("scene", "log"):
            raise InvalidFileError(path, f"inputs[{k}].kind", f"{item['kind']!r} is neither 'scene' nor 'log'")
    return run


def _outlines(path: Path) -> dict[int, dict[str, Any]]:
    """plume_id -> outline geometry from ``plumes.geojson`` (its polygon features)."""
    if not path.is_file():
        return {}
    data = _read_json(path, "plumes.geojson")
    out: dict[int, dict[str, Any]] = {}
    for feature in data.get("features") or []:
        geometry = feature.get("geometry") or {}
        plume_id = (feature.get("properties") or {}).get("plume_id")
        if plume_id is not None and geometry.get("type") in ("Polygon", "MultiPolygon"):
            out[int(plume_id)] = geometry
    return out


def _scene(root: Path, input_id: str) -> SceneProducts:
    base = root / "scenes" / input_id
    detect_dir = base / "detect"
    plumes_dir = base / "plumes"
    if not plumes_dir.is_dir():
        raise MissingFileError(plumes_dir, f"plumes product of scene {input_id} (run.json says it is done)")
    footprint_path = plumes_dir / "footprint.geojson"
    footprint = _read_json(footprint_path, "footprint.geojson") if footprint_path.is_file() else None
    plumes = _read_csv(plumes_dir / "plumes.csv", "plumes.csv")
    return SceneProducts(
        input_id=input_id,
        detect_dir=detect_dir if detect_dir.is_dir() else None,
        plumes_dir=plumes_dir,
        footprint=footprint,
        plumes=plumes,
        outlines=_outlines(plumes_dir / "plumes.geojson"),
    )


def _log(root: Path, input_id: str) -> LogProducts:
    base = root / "logs" / input_id / "invert"
    summary = _read_json(base / "summary.json", f"invert summary of sensor log {input_id}")
    posterior = base / "posterior.png"
    return LogProducts(input_id, base, summary, posterior if posterior.is_file() else None)


def _timeseries(sites_dir: Path, site_ids: list[str]) -> dict[str, pd.DataFrame]:
    out = {}
    for site_id in site_ids:
        path = sites_dir / "timeseries" / f"{site_id}.csv"
        if path.is_file():
            out[site_id] = _read_csv(path, "site time series", ("time",))
    return out


def read_run(run_dir: str | Path) -> RunFolder:
    """Read the run folder ``run_dir``: run.json, campaign.yaml, each processed input's products and the sites.

    Raises
    ------
    MissingFileError
        ``run_dir`` is not a folder, or a product that run.json says was written is missing.
    InvalidFileError
        ``run_dir`` is not a run folder (no run.json), or one written by an incompatible version or layout, or a
        product cannot be read.
    """
    root = Path(run_dir)
    if not root.is_dir():
        raise MissingFileError(root, "run folder (the --out folder of `plumetrace run`)")
    run_json = root / "run.json"
    if not run_json.is_file():
        raise InvalidFileError(
            root, "run.json", "missing: not a run folder; give the --out folder of `plumetrace run` (docs/run.md)"
        )
    run = _check_run_json(run_json, _read_json(run_json, "run.json"))
    config = root / "campaign.yaml"
    scenes, logs = [], []
    for item in run["inputs"]:
        if item["status"] != "done":
            continue
        if item["kind"] == "scene":
            scenes.append(_scene(root, str(item["id"])))
        else:
            logs.append(_log(root, str(item["id"])))
    sites_dir = root / "sites"
    if not sites_dir.is_dir():
        raise MissingFileError(sites_dir, "sites product of the run (run `plumetrace sites` on the run folder)")
    sites = _read_csv(sites_dir / "sites.csv", "sites.csv", ("site_id", "lat", "lon"))
    for column in ("lat", "lon"):
        bad = ~pd.to_numeric(sites[column], errors="coerce").between(-180 if column == "lon" else -90, 180)
        if len(sites) and bad.any():
            raise InvalidFileError(sites_dir / "sites.csv", column, f"not a coordinate in row {int(bad.idxmax()) + 2}")
    detections_path = sites_dir / "detections.csv"
    detections = _read_csv(detections_path, "detections.csv") if detections_path.is_file() else pd.DataFrame()
    return RunFolder(
        path=root,
        run=run,
        config_text=config.read_text(encoding="utf-8", errors="replace") if config.is_file() else None,
        scenes=scenes,
        logs=logs,
        sites=sites,
        detections=detections,
        timeseries=_timeseries(sites_dir, [str(s) for s in sites["site_id"]]),
    )


def finite(value: Any) -> float | None:
    """``value`` as a float when it is a finite number, else None (CSV cells may be empty)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
