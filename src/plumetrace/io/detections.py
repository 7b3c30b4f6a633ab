"""Read `plumetrace plumes` and `plumetrace invert` product folders (or a whole run folder) as plain tables.

:func:`find_products` turns the folders a user named into a list of :class:`Product` (a run folder expands to its
``scenes/*/plumes`` and ``logs/*/invert``); :func:`read_products` reads them into two tables:

* **detections**, one row per located source: the plume sources of ``plumes.csv`` and the source of a
  ``summary.json`` whose ``detected`` is true (columns :data:`DETECTION_COLUMNS`);
* **overpasses**, one row per scene or sensor log: its time, sensor, gas, footprint polygon (lon/lat, from
  ``footprint.geojson``; None when the folder has none or for a log) and detection limit (columns
  :data:`OVERPASS_COLUMNS`). A non-detection is an overpass with no detection.

Readers validate what they return: a missing column, a rate that is not a number in kg/h, a 1σ that is not
positive, a time that is not ISO 8601 is one-line :class:`~plumetrace.errors.InvalidFileError` naming the file and
the field. The data contract is docs/sites.md and docs/run.md.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from plumetrace.errors import InvalidFileError, InvalidInputError, MissingFileError, warn_input

__all__ = [
    "DETECTION_COLUMNS",
    "OVERPASS_COLUMNS",
    "PLUMES_REQUIRED",
    "Product",
    "find_products",
    "read_products",
]

#: Columns of plumes.csv that sites need.
#: The columns every plumes.csv has, also the header-only table of a scene with no plume.
PLUMES_BASE = ("plume_id", "gas", "sensor", "time", "source_lat", "source_lon", "emission_rate_kg_h")
PLUMES_REQUIRED = (
    "plume_id",
    "gas",
    "sensor",
    "time",
    "source_lat",
    "source_lon",
    "source_sigma_m",
    "emission_rate_kg_h",
    "emission_rate_total_p16_kg_h",
    "emission_rate_total_p84_kg_h",
    "peak_significance_sigma",
    "near_detection_limit",
)
#: Fields of an invert summary.json that sites need (``time``, ``sensor``, ``grid_step_m`` are optional).
INVERT_REQUIRED = ("detected", "source_lat", "source_lon", "source_sd_x_m", "source_sd_y_m", "emission_rate_kg_h",
                   "emission_rate_68_g_s", "gas", "significance_sigma")  # fmt: skip
#: Properties of footprint.geojson that sites need.
FOOTPRINT_REQUIRED = ("scene_id", "sensor", "gas", "time", "detection_limit_kg_h")

DETECTION_COLUMNS = (
    "detection_id", "overpass_id", "product_dir", "kind", "sensor", "gas", "time", "lat", "lon", "sigma_east_m",
    "sigma_north_m", "pixel_size_m", "rate_kg_h", "rate_p16_kg_h", "rate_p84_kg_h", "significance_sigma",
    "near_detection_limit", "identification_confidence", "stac_item",
)  # fmt: skip
OVERPASS_COLUMNS = (
    "overpass_id", "product_dir", "kind", "sensor", "gas", "time", "footprint", "detection_limit_kg_h",
    "upper_limit_kg_h", "pixel_size_m", "n_detections", "stac_collection",
)  # fmt: skip

_G_S_TO_KG_H = 3.6
#: In-situ detections below this significance (σ) are flagged near the detection limit.
INSITU_NEAR_LIMIT_SIGMA = 5.0


@dataclass(frozen=True)
class Product:
    """One product folder: ``kind`` is ``"plumes"`` or ``"invert"``; ``path`` absolute."""

    kind: str
    path: Path


def _classify(path: Path) -> str | None:
    if (path / "plumes.csv").is_file():
        return "plumes"
    if (path / "summary.json").is_file():
        return "invert"
    return None


def _run_products(path: Path) -> list[Product]:
    found = []
    for pattern, kind in (("scenes/*/plumes", "plumes"), ("logs/*/invert", "invert")):
        for folder in sorted(path.glob(pattern)):
            if folder.is_dir() and _classify(folder) == kind:
                found.append(Product(kind, folder))
    return found


def find_products(paths: Sequence[str | os.PathLike], *, field: str = "PRODUCT_DIR") -> list[Product]:
    """The product folders named by ``paths``: plumes products, invert products, or run folders (expanded).

    Raises
    ------
    InvalidInputError
        ``paths`` is empty, or the same product folder is named twice (directly or through a run folder).
    MissingFileError
        A path does not exist.
    InvalidFileError
        A path is a file, or a folder that is neither a product nor a run folder, or a run folder holding none.
    """
    if not paths:
        raise InvalidInputError(field, "no product folders given")
    products: list[Product] = []
    seen: dict[Path, Path] = {}
    for raw in paths:
        path = Path(os.path.abspath(os.fspath(raw)))
        if not path.exists():
            raise MissingFileError(path, "product folder")
        if not path.is_dir():
            raise InvalidFileError(path, field, "is a file; give a plumes or invert product folder or a run folder")
        kind = _classify(path)
        if kind is not None:
            found = [Product(kind, path)]
        elif (path / "scenes").is_dir() or (path / "logs").is_dir() or (path / "run.json").is_file():
            found = _run_products(path)
            if not found:
                raise InvalidFileError(
                    path, field, "run folder holds no products (looked for scenes/*/plumes/plumes.csv and "
                    "logs/*/invert/summary.json)"
                )  # fmt: skip
        else:
            raise InvalidFileError(
                path, field, "neither a plumes product (plumes.csv), an invert product (summary.json) nor a run "
                "folder (scenes/, logs/)"
            )  # fmt: skip
        for product in found:
            real = Path(os.path.realpath(product.path))
            if real in seen:
                also = "" if seen[real] == product.path else f" (also as {seen[real]})"
                raise InvalidInputError(field, f"{product.path} given twice{also}")
            seen[real] = product.path
            products.append(product)
    return products


# --- values ------------------------------------------------------------------------------------------------------


def _number(path: Path, field: str, value: Any, *, positive: bool = False, allow_nan: bool = False) -> float:
    try:
        number = float(value) if value is not None and value != "" else math.nan
    except (TypeError, ValueError):
        raise InvalidFileError(path, field, f"{value!r} is not a number") from None
    if math.isnan(number):
        if allow_nan:
            return number
        raise InvalidFileError(path, field, "is empty or not a number")
    if not math.isfinite(number):
        raise InvalidFileError(path, field, f"{value!r} is not finite")
    if positive and number <= 0:
        raise InvalidFileError(path, field, f"{number:g} must be positive")
    if number < 0:
        raise InvalidFileError(path, field, f"{number:g} must not be negative")
    return number


def _time(path: Path, field: str, value: Any) -> pd.Timestamp:
    if value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == "":
        return pd.NaT
    try:
        stamp = pd.Timestamp(str(value))
    except (ValueError, TypeError):
        raise InvalidFileError(path, field, f"{value!r} is not an ISO 8601 time") from None
    if stamp is pd.NaT:
        return pd.NaT
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _lat_lon(path: Path, field: str, lat: Any, lon: Any) -> tuple[float, float]:
    lat_v = _signed(path, f"{field}source_lat", lat)
    lon_v = _signed(path, f"{field}source_lon", lon)
    if not -90 <= lat_v <= 90:
        raise InvalidFileError(path, f"{field}source_lat", f"{lat_v:g} is not a latitude in degrees")
    if not -180 <= lon_v <= 180:
        raise InvalidFileError(path, f"{field}source_lon", f"{lon_v:g} is not a longitude in degrees")
    return lat_v, lon_v


def _signed(path: Path, field: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidFileError(path, field, f"{value!r} is not a number") from None
    if not math.isfinite(number):
        raise InvalidFileError(path, field, "is empty or not finite")
    return number


def _bool(path: Path, field: str, value: Any) -> bool:
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no", "", "nan"):
        return False
    raise InvalidFileError(path, field, f"{value!r} is not true or false")


def _rate_interval(path: Path, field: str, rate: float, p16: float, p84: float) -> None:
    if not p16 <= rate * (1 + 1e-9) or not rate <= p84 * (1 + 1e-9):
        raise InvalidFileError(
            path,
            field,
            f"68 % interval {p16:g}-{p84:g} kg/h does not hold the rate {rate:g} kg/h (units or fields wrong)",
        )


# --- plumes products ---------------------------------------------------------------------------------------------


def _read_footprint(path: Path) -> dict[str, Any]:
    from shapely.geometry import shape

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidFileError(path, "footprint", f"not GeoJSON ({exc})") from None
    if isinstance(doc, dict) and doc.get("type") == "FeatureCollection" and len(doc.get("features") or []) == 1:
        doc = doc["features"][0]
    if not isinstance(doc, dict) or doc.get("type") != "Feature":
        raise InvalidFileError(path, "type", "must be one GeoJSON Feature")
    props = doc.get("properties") or {}
    missing = [key for key in FOOTPRINT_REQUIRED if key not in props]
    if missing:
        raise InvalidFileError(path, f"properties.{missing[0]}", "missing (docs/run.md lists the footprint fields)")
    try:
        geometry = shape(doc["geometry"]) if doc.get("geometry") else None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidFileError(path, "geometry", f"not a GeoJSON geometry ({exc})") from None
    if geometry is not None and geometry.geom_type not in ("Polygon", "MultiPolygon"):
        raise InvalidFileError(path, "geometry", f"must be a Polygon or MultiPolygon, not a {geometry.geom_type}")
    if geometry is not None and not geometry.is_valid:
        from shapely.validation import explain_validity

        raise InvalidFileError(path, "geometry", f"not a valid polygon ({explain_validity(geometry)})")
    if geometry is not None:
        west, south, east, north = geometry.bounds
        if west < -180 or east > 180 or south < -90 or north > 90:
            raise InvalidFileError(path, "geometry", "coordinates are not lon/lat degrees")
    time = _time(path, "properties.time", props["time"])
    if time is pd.NaT:
        raise InvalidFileError(path, "properties.time", "missing: an overpass needs its acquisition time")
    return {
        "overpass_id": str(props["scene_id"]),
        "sensor": str(props["sensor"]),
        "gas": str(props["gas"]).lower(),
        "time": time,
        "footprint": geometry,
        "detection_limit_kg_h": _number(
            path, "properties.detection_limit_kg_h", props["detection_limit_kg_h"], allow_nan=True
        ),
        "pixel_size_m": _number(
            path, "properties.pixel_size_m", props.get("pixel_size_m"), positive=True, allow_nan=True
        ),
    }


def _read_plumes(product: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    csv_path = product / "plumes.csv"
    try:
        table = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InvalidFileError(csv_path, "plumes.csv", f"not a CSV table ({str(exc).splitlines()[0]})") from None
    # a scene with no plume has a table of the base fields only: nothing to read from it but its footprint
    missing = [col for col in (PLUMES_REQUIRED if len(table) else PLUMES_BASE) if col not in table.columns]
    if missing:
        raise InvalidFileError(
            csv_path, missing[0], "column missing (a plumes.csv of `plumetrace plumes`, rates in kg/h)"
        )
    footprint_path = product / "footprint.geojson"
    if footprint_path.is_file():
        overpass = _read_footprint(footprint_path)
    else:
        warn_input(product, "footprint.geojson", "missing: only this scene's detections are counted (no overpass info)")
        first = table.iloc[0] if len(table) else None
        overpass = {
            "overpass_id": product.parent.name if product.name in ("plumes", "invert") else product.name,
            "sensor": str(first["sensor"]) if first is not None else "",
            "gas": str(first["gas"]).lower() if first is not None else "",
            "time": _time(csv_path, "time", first["time"]) if first is not None else pd.NaT,
            "footprint": None,
            "detection_limit_kg_h": math.nan,
            "pixel_size_m": math.nan,
        }
    detections = []
    for i, row in table.iterrows():
        where = f"row {i + 2}: "
        if str(row["source_lat"]).strip() == "" or str(row["source_lon"]).strip() == "":
            warn_input(csv_path, f"{where}source_lat", "empty (map not georeferenced): plume left out of the sites")
            continue
        lat, lon = _lat_lon(csv_path, where, row["source_lat"], row["source_lon"])
        rate = _number(csv_path, f"{where}emission_rate_kg_h", row["emission_rate_kg_h"])
        p16 = _number(csv_path, f"{where}emission_rate_total_p16_kg_h", row["emission_rate_total_p16_kg_h"])
        p84 = _number(csv_path, f"{where}emission_rate_total_p84_kg_h", row["emission_rate_total_p84_kg_h"])
        _rate_interval(csv_path, f"{where}emission_rate_total_p16_kg_h", rate, p16, p84)
        sigma = _number(csv_path, f"{where}source_sigma_m", row["source_sigma_m"], positive=True)
        plume_id = row["plume_id"].strip()
        pixel = row.get("pixel_size_m", "")
        item = (
            product / "items" / (f"plume-{int(plume_id):03d}.json" if plume_id.isdigit() else f"plume-{plume_id}.json")
        )
        detections.append(
            {
                "detection_id": f"{overpass['overpass_id']}/plume-{plume_id}",
                "overpass_id": overpass["overpass_id"],
                "product_dir": str(product),
                "kind": "imaging",
                "sensor": str(row["sensor"]) or overpass["sensor"],
                "gas": str(row["gas"]).lower() or overpass["gas"],
                "time": _time(csv_path, f"{where}time", row["time"]) if row["time"] else overpass["time"],
                "lat": lat,
                "lon": lon,
                "sigma_east_m": sigma,
                "sigma_north_m": sigma,
                "pixel_size_m": _number(csv_path, f"{where}pixel_size_m", pixel, positive=True, allow_nan=True)
                if pixel
                else overpass["pixel_size_m"],
                "rate_kg_h": rate,
                "rate_p16_kg_h": p16,
                "rate_p84_kg_h": p84,
                "significance_sigma": _number(
                    csv_path, f"{where}peak_significance_sigma", row["peak_significance_sigma"]
                ),
                "near_detection_limit": _bool(csv_path, f"{where}near_detection_limit", row["near_detection_limit"]),
                # thermal-infrared gas maps: the posterior probability of the map's gas in this plume
                "identification_confidence": _number(
                    csv_path, f"{where}identification_confidence", row["identification_confidence"], allow_nan=True
                )
                if str(row.get("identification_confidence", "")).strip()
                else math.nan,
                "stac_item": str(item) if item.is_file() else "",
            }
        )
    collection = product / "collection.json"
    overpass.update(
        product_dir=str(product),
        kind="imaging",
        upper_limit_kg_h=math.nan,
        n_detections=len(detections),
        stac_collection=str(collection) if collection.is_file() else "",
    )
    return detections, overpass


# --- invert products ---------------------------------------------------------------------------------------------


def _read_invert(product: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    path = product / "summary.json"
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidFileError(path, "summary.json", f"not JSON ({exc})") from None
    if not isinstance(summary, dict):
        raise InvalidFileError(path, "summary.json", "must be a JSON object")
    missing = [key for key in INVERT_REQUIRED if key not in summary]
    if missing:
        raise InvalidFileError(path, missing[0], "missing (a summary.json of `plumetrace invert`)")
    time = _time(path, "time", summary.get("time"))
    if time is pd.NaT:
        warn_input(path, "time", "missing: the log's detection has no time (first/last seen leave it out)")
    overpass_id = str(summary.get("input") or "") or product.parent.name
    overpass_id = Path(overpass_id).stem if overpass_id else product.name
    sensor = str(summary.get("sensor") or "in-situ")
    gas = str(summary["gas"]).lower()
    interval = summary["emission_rate_68_g_s"]
    if not isinstance(interval, list) or len(interval) != 2:
        raise InvalidFileError(path, "emission_rate_68_g_s", "must be a pair [low, high] in g/s")
    upper = summary.get("emission_rate_upper_95_g_s")
    detections = []
    if summary["detected"] is True:
        lat, lon = _lat_lon(path, "", summary["source_lat"], summary["source_lon"])
        rate = _number(path, "emission_rate_kg_h", summary["emission_rate_kg_h"])
        p16 = _number(path, "emission_rate_68_g_s[0]", interval[0]) * _G_S_TO_KG_H
        p84 = _number(path, "emission_rate_68_g_s[1]", interval[1]) * _G_S_TO_KG_H
        _rate_interval(path, "emission_rate_68_g_s", rate, p16, p84)
        significance = _number(path, "significance_sigma", summary["significance_sigma"])
        step = _number(path, "grid_step_m", summary.get("grid_step_m"), positive=True, allow_nan=True)
        item = product / "item.json"
        detections.append(
            {
                "detection_id": f"{overpass_id}/source",
                "overpass_id": overpass_id,
                "product_dir": str(product),
                "kind": "in-situ",
                "sensor": sensor,
                "gas": gas,
                "time": time,
                "lat": lat,
                "lon": lon,
                "sigma_east_m": _number(path, "source_sd_x_m", summary["source_sd_x_m"], positive=True),
                "sigma_north_m": _number(path, "source_sd_y_m", summary["source_sd_y_m"], positive=True),
                "pixel_size_m": step,
                "rate_kg_h": rate,
                "rate_p16_kg_h": p16,
                "rate_p84_kg_h": p84,
                "significance_sigma": significance,
                "near_detection_limit": significance < INSITU_NEAR_LIMIT_SIGMA,
                "stac_item": str(item) if item.is_file() else "",
            }
        )
    elif summary["detected"] is not False:
        raise InvalidFileError(path, "detected", f"{summary['detected']!r} is not true or false")
    collection = product / "collection.json"
    overpass = {
        "overpass_id": overpass_id,
        "product_dir": str(product),
        "kind": "in-situ",
        "sensor": sensor,
        "gas": gas,
        "time": time,
        "footprint": None,
        "detection_limit_kg_h": math.nan,
        "upper_limit_kg_h": _number(path, "emission_rate_upper_95_g_s", upper, allow_nan=True) * _G_S_TO_KG_H,
        "pixel_size_m": math.nan,
        "n_detections": len(detections),
        "stac_collection": str(collection) if collection.is_file() else "",
    }
    return detections, overpass


def _same_place(a: Any, b: Any) -> bool:
    """Two footprints of one scene id and time are the same scene when they cover the same ground (or have none)."""
    if a is None or b is None:
        return a is None and b is None
    union = a.union(b).area
    return union == 0 or a.intersection(b).area / union > 0.99


def read_products(products: Sequence[Product], *, progress: bool | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read product folders into the detections and overpasses tables (see the module docstring).

    Parameters
    ----------
    products : sequence of Product
        From :func:`find_products`.
    progress : bool, optional
        Show a progress bar (default: when stderr is a terminal).

    Returns
    -------
    (detections, overpasses) : tuple of DataFrame
        Columns :data:`DETECTION_COLUMNS` and :data:`OVERPASS_COLUMNS`; ``time`` is UTC (NaT when unknown),
        ``footprint`` a shapely polygon in lon/lat or None. Overpass ids are made unique (``-2``, ``-3``, ...).

    Raises
    ------
    InvalidFileError
        A malformed product, or the same scene (``scene_id`` and time of its footprint) read from two folders.
    """
    from plumetrace.progress import track

    detections: list[dict[str, Any]] = []
    overpasses: list[dict[str, Any]] = []
    scenes: dict[tuple[str, str], tuple[str, Any]] = {}
    used: set[str] = set()
    for product in track(products, "reading products", disable=None if progress is None else not progress):
        rows, overpass = (_read_plumes if product.kind == "plumes" else _read_invert)(product.path)
        when = overpass["time"]
        key = (overpass["overpass_id"], "unknown time" if pd.isna(when) else when.strftime("%Y-%m-%dT%H:%M:%SZ"))
        if overpass["footprint"] is not None or (overpass["kind"] == "in-situ" and not pd.isna(when)):
            if key in scenes and _same_place(scenes[key][1], overpass["footprint"]):
                raise InvalidFileError(
                    product.path, "scene_id" if overpass["kind"] == "imaging" else "input",
                    f"{key[0]} at {key[1]} already read from {scenes[key][0]} (the same input twice)",
                )  # fmt: skip
            scenes[key] = (str(product.path), overpass["footprint"])
        unique, n = overpass["overpass_id"], 1
        while unique in used:
            n += 1
            unique = f"{overpass['overpass_id']}-{n}"
        used.add(unique)
        if unique != overpass["overpass_id"]:
            for row in rows:
                row["detection_id"] = row["detection_id"].replace(overpass["overpass_id"], unique, 1)
                row["overpass_id"] = unique
            overpass["overpass_id"] = unique
        detections.extend(rows)
        overpasses.append(overpass)
    det = pd.DataFrame(detections, columns=list(DETECTION_COLUMNS))
    det["time"] = pd.to_datetime(det["time"], utc=True)
    for col in ("lat", "lon", "sigma_east_m", "sigma_north_m", "pixel_size_m", "rate_kg_h", "rate_p16_kg_h",
                "rate_p84_kg_h", "significance_sigma"):  # fmt: skip
        det[col] = det[col].astype(np.float64)
    det["near_detection_limit"] = det["near_detection_limit"].astype(bool)
    ovp = pd.DataFrame(overpasses, columns=list(OVERPASS_COLUMNS))
    ovp["time"] = pd.to_datetime(ovp["time"], utc=True)
    return det, ovp
