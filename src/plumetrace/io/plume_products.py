"""Write the plume products: GeoJSON, KML, CSV and one STAC Item per plume.

Every plume gives two features in ``plumes.geojson`` / ``plumes.kml``: a Point at the source and a Polygon outline
of its mask, both with the same properties, named exactly as :data:`plumetrace.plumes.pipeline.RECORD_FIELDS`
(``plume_id, gas, sensor, time, source_lat, source_lon, max_enhancement_ppm_m, ime_kg, length_m,
wind_speed_m_s, emission_rate_kg_h, emission_rate_sigma_kg_h, method``) followed by the extras (CSF estimate,
68 % interval, source uncertainty ...). ``plumes.csv`` holds one row per plume with every field.

A map without georeferencing (rates from ``--pixel-size``) cannot be placed on Earth: its GeoJSON features have
``"geometry": null`` and keep the source pixel in ``source_row`` / ``source_col``; no KML is written.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shapely.geometry import Point, mapping

from plumetrace.io.vector import write_csv, write_geojson, write_kml

__all__ = ["write_plume_products", "PRODUCT_FILES"]

PRODUCT_FILES = ("plumes.geojson", "plumes.kml", "plumes.csv", "items/")


def _jsonable(value: Any) -> Any:
    import math

    import numpy as np

    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _features(records: Sequence[dict[str, Any]], outlines: Sequence[Any]) -> list[tuple[Any, dict[str, Any]]]:
    features = []
    for record, outline in zip(records, outlines):
        props = {"name": f"plume {record['plume_id']}", **record}
        features.append((Point(record["source_lon"], record["source_lat"]), {**props, "feature": "source"}))
        features.append((outline, {**props, "feature": "outline"}))
    return features


def _write_items(
    directory: Path, records: Sequence[dict[str, Any]], outlines: Sequence[Any], *, assets: dict[str, Any], georeferenced: bool
) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for record, outline in zip(records, outlines):
        item_id = f"plume-{record['plume_id']:03d}"
        geometry = mapping(outline) if georeferenced else None
        bbox = list(outline.bounds) if georeferenced else None
        when = record.get("time")
        properties = {f"plumetrace:{k}": v for k, v in record.items() if k not in ("time",)}
        item_path = directory / f"{item_id}.json"
        try:
            from plumetrace.io.stac import make_item, write_item  # the detection helper's STAC module
        except ImportError:  # pragma: no cover - until plumetrace.io.stac exists
            make_item = write_item = None
        if make_item is not None and georeferenced:
            item = make_item(item_id, geometry=geometry, bbox=bbox, datetime=when, properties=_jsonable(properties),
                             assets=assets)
            write_item(item, item_path)
        else:
            item_path.write_text(json.dumps(_stac_dict(item_id, geometry, bbox, when, properties, assets), indent=1))
        paths.append(item_path)
    return paths


def _stac_dict(item_id: str, geometry: Any, bbox: Any, when: str | None, properties: dict[str, Any], assets: dict[str, Any]) -> dict[str, Any]:
    """A minimal STAC 1.0 Item as a dict (used without georeferencing, where pystac needs a geometry)."""
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": item_id,
        "geometry": _jsonable(geometry),
        **({"bbox": _jsonable(bbox)} if bbox else {}),
        "properties": {"datetime": when, **_jsonable(properties)},
        "links": [],
        "assets": {
            key: {"href": href, "type": media_type, "roles": list(roles), "title": title}
            for key, (href, media_type, roles, title) in assets.items()
        },
    }


def write_plume_products(
    out_dir: str | os.PathLike,
    records: Sequence[dict[str, Any]],
    outlines: Sequence[Any],
    *,
    georeferenced: bool,
    extra_assets: dict[str, tuple[str, str, Sequence[str], str]] | None = None,
) -> list[Path]:
    """Write ``plumes.geojson``, ``plumes.kml`` (georeferenced maps only), ``plumes.csv`` and ``items/*.json``.

    Parameters
    ----------
    out_dir : path
        Folder to write into (the CLI passes its staging folder).
    records : list of dict
        One dict per plume, from :func:`plumetrace.plumes.pipeline.analyze_plumes`.
    outlines : list of shapely geometries
        Plume outlines in lon/lat degrees (pixel units when not georeferenced).
    georeferenced : bool
        Whether the outlines and source coordinates are on Earth.
    extra_assets : dict, optional
        More STAC assets {key: (href, media_type, roles, title)}, e.g. the enhancement COG.

    Returns
    -------
    list of Path
        The files written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    geojson_path = out / "plumes.geojson"
    if georeferenced:
        features = _features(records, outlines)
        written.append(write_geojson(geojson_path, features))
        written.append(write_kml(out / "plumes.kml", features, name="plumetrace plumes"))
    else:
        doc = {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "geometry": None, "properties": _jsonable({"name": f"plume {r['plume_id']}", **r})}
                for r in records
            ],
        }
        geojson_path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
        written.append(geojson_path)
    if records:
        written.append(write_csv(out / "plumes.csv", list(records)))
    else:
        from plumetrace.plumes.pipeline import RECORD_FIELDS

        (out / "plumes.csv").write_text(",".join(RECORD_FIELDS) + "\n", encoding="utf-8")
        written.append(out / "plumes.csv")
    assets = {
        "plumes": ("../plumes.geojson", "application/geo+json", ("data",), "Plume sources and outlines"),
        "table": ("../plumes.csv", "text/csv", ("metadata",), "Plume table"),
        **(extra_assets or {}),
    }
    written.extend(_write_items(out / "items", records, outlines, assets=assets, georeferenced=georeferenced))
    return written
