"""Write the plume products: GeoJSON, KML, CSV and one STAC Item per plume.

Every plume gives two features in ``plumes.geojson`` / ``plumes.kml``: a Point at the source and a Polygon outline
of its mask, both with the same properties, named exactly as :data:`plumetrace.plumes.pipeline.RECORD_FIELDS`
(``plume_id, gas, sensor, time, source_lat, source_lon, max_enhancement_ppm_m, ime_kg, length_m,
wind_speed_m_s, emission_rate_kg_h, emission_rate_sigma_kg_h, method``) followed by the extras (68 % interval of
the random part, systematic and total uncertainty, CSF estimate, source uncertainty ...). ``plumes.csv`` holds one row per plume with every field.

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

from plumetrace.io.jsonable import to_jsonable
from plumetrace.io.stac import make_item, write_item
from plumetrace.io.vector import write_csv, write_geojson, write_kml
from plumetrace.plumes.pipeline import RECORD_FIELDS

__all__ = ["PRODUCT_FILES", "write_plume_products", "write_plume_quicklook"]

PRODUCT_FILES = ("plumes.geojson", "plumes.kml", "plumes.csv", "plumes.png", "items/")


def _features(records: Sequence[dict[str, Any]], outlines: Sequence[Any]) -> list[tuple[Any, dict[str, Any]]]:
    features = []
    for record, outline in zip(records, outlines):
        props = {"name": f"plume {record['plume_id']}", **record}
        features.append((Point(record["source_lon"], record["source_lat"]), {**props, "feature": "source"}))
        features.append((outline, {**props, "feature": "outline"}))
    return features


def _write_items(
    directory: Path,
    records: Sequence[dict[str, Any]],
    outlines: Sequence[Any],
    *,
    assets: dict[str, Any],
    georeferenced: bool,
) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for record, outline in zip(records, outlines):
        item_id = f"plume-{record['plume_id']:03d}"
        properties = {f"plumetrace:{k}": v for k, v in record.items() if k != "time"}
        item = make_item(
            item_id,
            geometry=mapping(outline) if georeferenced else None,
            bbox=list(outline.bounds) if georeferenced else None,
            datetime=record.get("time"),
            properties=properties,
            assets=assets,
        )
        paths.append(write_item(item, directory / f"{item_id}.json"))
    return paths


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
                {
                    "type": "Feature",
                    "geometry": None,
                    "properties": to_jsonable({"name": f"plume {r['plume_id']}", **r}),
                }
                for r in records
            ],
        }
        geojson_path.write_text(json.dumps(doc, indent=1, allow_nan=False), encoding="utf-8")
        written.append(geojson_path)
    if records:
        written.append(write_csv(out / "plumes.csv", list(records)))
    else:
        (out / "plumes.csv").write_text(",".join(RECORD_FIELDS) + "\n", encoding="utf-8")
        written.append(out / "plumes.csv")
    assets = {
        "plumes": ("../plumes.geojson", "application/geo+json", ("data",), "Plume sources and outlines"),
        "table": ("../plumes.csv", "text/csv", ("metadata",), "Plume table"),
        **(extra_assets or {}),
    }
    written.extend(_write_items(out / "items", records, outlines, assets=assets, georeferenced=georeferenced))
    return written


def write_plume_quicklook(
    path: str | os.PathLike, enhancement_ppm_m: Any, labels: Any, records: Sequence[dict[str, Any]], *, title: str = ""
) -> Path:
    """PNG of the enhancement map (ppm·m, colour bar) with each plume's outline, source and rate ± 1σ.

    Parameters
    ----------
    enhancement_ppm_m : array (y, x)
        Enhancement, ppm·m.
    labels : int array (y, x)
        Plume labels (0 = background) from :func:`plumetrace.plumes.segment.segment_plumes`.
    records : plume records (``plume_id``, ``source_row``, ``source_col``, rates).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    values = np.asarray(enhancement_ppm_m, dtype=np.float64)
    finite = values[np.isfinite(values)]
    vmin = float(np.median(finite)) if finite.size else 0.0  # the background level is dark
    vmax = float(np.percentile(finite, 99.5)) if finite.size else 1.0
    fig, ax = plt.subplots(figsize=(7, 6))
    image = ax.imshow(values, cmap="inferno", vmin=vmin, vmax=max(vmax, vmin + 1.0), interpolation="nearest")
    fig.colorbar(image, ax=ax, label="enhancement (ppm·m)", shrink=0.8)
    label_values = np.asarray(labels)
    if label_values.any():
        ax.contour(label_values > 0, levels=[0.5], colors="cyan", linewidths=0.8)
    for record in records:
        ax.plot(record["source_col"], record["source_row"], marker="x", color="lime", markersize=8, mew=2)
        ax.annotate(
            f"{record['plume_id']}: {record['emission_rate_kg_h']:.0f} ± {record['emission_rate_sigma_kg_h']:.0f} kg/h",
            (record["source_col"], record["source_row"]),
            xytext=(6, -6),
            textcoords="offset points",
            color="white",
            fontsize=8,
        )
    ax.set_title(
        title or f"{len(records)} plume(s): outline (cyan), source (x), IME rate ± 1σ (random part)", fontsize=9
    )
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    path = Path(path)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path
