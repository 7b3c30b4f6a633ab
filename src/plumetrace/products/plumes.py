"""Write the plume products: GeoJSON, KML, CSV and one STAC Item per plume.

Every plume gives two features in ``plumes.geojson`` / ``plumes.kml``: a Point at the source and a Polygon outline
of its mask, both with the same properties, named exactly as :data:`plumetrace.plumes.pipeline.RECORD_FIELDS`
(``plume_id, gas, sensor, time, source_lat, source_lon, max_enhancement_ppm_m, ime_kg, length_m,
wind_speed_m_s, emission_rate_kg_h, emission_rate_sigma_kg_h, method``) followed by the extras (68 % interval of
the random part, systematic and total uncertainty, CSF estimate, source uncertainty, the complex's components and
extent ...). A plume is a complex: the components of the segmentation along the wind from one source
(:mod:`plumetrace.plumes.complexes`); its outline is their union (a MultiPolygon when they are apart) and its STAC
Item lists them in ``plumetrace:components``. ``plumes.csv`` holds one row per plume with every field.

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
from plumetrace.io.stac import make_item, relative_href, write_collection
from plumetrace.io.vector import KmlStyle, write_csv, write_geojson, write_kml
from plumetrace.plumes.pipeline import RECORD_FIELDS

__all__ = [
    "PRODUCT_FILES",
    "enhancement_href",
    "scene_id_of",
    "write_footprint",
    "write_plume_outputs",
    "write_plume_products",
    "write_plume_quicklook",
]

PRODUCT_FILES = (
    "plumes.geojson",
    "plumes.kml",
    "plumes.csv",
    "plumes.png",
    "footprint.geojson",
    "items/",
    "collection.json",
)


def scene_id_of(enhancement: str | os.PathLike) -> str:
    """The id of the scene behind an enhancement map: the STAC Item id of a ``plumetrace detect`` product
    (``item.json`` beside the map), else the file's stem."""
    path = Path(enhancement)
    item = path.with_name("item.json")
    if item.is_file():
        try:
            return str(json.loads(item.read_text(encoding="utf-8"))["id"])
        except (ValueError, KeyError, OSError):
            pass
    return path.name.split(".")[0]


def write_footprint(out_dir: str | os.PathLike, footprint: dict[str, Any]) -> Path:
    """Write ``footprint.geojson``: the Feature of :func:`plumetrace.plumes.footprint.scene_footprint` (NaN as
    null)."""
    path = Path(out_dir) / "footprint.geojson"
    path.write_text(json.dumps(to_jsonable(footprint), indent=1, allow_nan=False), encoding="utf-8")
    return path


def enhancement_href(enhancement: str | os.PathLike, out_dir: str | os.PathLike) -> str:
    """Href of the enhancement map as a plume Item in ``out_dir/items/`` links it: relative to that folder.

    ``out_dir`` is the final output folder (it need not exist yet); moving the detection and plume folders together
    keeps the link valid.
    """
    return relative_href(enhancement, Path(out_dir) / "items")


#: KML styles of the plume features (by their ``feature`` property): orange outline with a light fill, the source as
#: a yellow star.
KML_STYLES = {
    "outline": KmlStyle(line="#ff7f0e", width=2.5, fill="#ff7f0e", fill_opacity=0.2),
    "source": KmlStyle(line="#ffd700", icon="star.png", icon_colour="#ffd700", icon_scale=1.2),
}


def _features(records: Sequence[dict[str, Any]], outlines: Sequence[Any]) -> list[tuple[Any, dict[str, Any]]]:
    features = []
    for record, outline in zip(records, outlines):
        props = {"name": f"plume {record['plume_id']}", **record}
        features.append((Point(record["source_lon"], record["source_lat"]), {**props, "feature": "source"}))
        features.append((outline, {**props, "feature": "outline"}))
    return features


def _components(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The components of a plume complex as a list of {id, n_pixels, mass_fraction} (from the ``;``-separated
    record fields ``component_ids``, ``component_pixels``, ``component_mass_fractions``)."""
    ids = str(record["component_ids"]).split(";")
    pixels = str(record.get("component_pixels", "")).split(";")
    fractions = str(record.get("component_mass_fractions", "")).split(";")
    return [
        {"id": int(i), "n_pixels": int(n), "mass_fraction": float(f)}
        for i, n, f in zip(ids, pixels, fractions, strict=True)
    ]


def _write_items(
    directory: Path,
    records: Sequence[dict[str, Any]],
    outlines: Sequence[Any],
    *,
    assets: dict[str, Any],
    georeferenced: bool,
) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    items = []
    for record, outline in zip(records, outlines):
        item_id = f"plume-{record['plume_id']:03d}"
        properties = {f"plumetrace:{k}": v for k, v in record.items() if k != "time"}
        if record.get("component_ids"):
            properties["plumetrace:components"] = _components(record)
        item = make_item(
            item_id,
            geometry=mapping(outline) if georeferenced else None,
            bbox=list(outline.bounds) if georeferenced else None,
            datetime=record.get("time"),
            properties=properties,
            assets=assets,
        )
        items.append((item, f"{directory.name}/{item_id}.json"))
    gases = sorted({str(r.get("gas") or "gas") for r in records}) or ["gas"]
    return write_collection(
        directory.parent,
        items,
        collection_id=f"plumes-{'-'.join(gases)}",
        description=f"plumetrace plumes: {len(items)} plume(s), each with its source, outline and emission rate",
        title="plumetrace plumes",
    )


def write_plume_products(
    out_dir: str | os.PathLike,
    records: Sequence[dict[str, Any]],
    outlines: Sequence[Any],
    *,
    georeferenced: bool,
    extra_assets: dict[str, tuple[str, str, Sequence[str], str]] | None = None,
) -> list[Path]:
    """Write ``plumes.geojson``, ``plumes.kml`` (georeferenced maps only), ``plumes.csv``, ``items/*.json`` (one
    STAC Item per plume) and ``collection.json`` (their STAC Collection; every href relative).

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
        More STAC assets {key: (href, media_type, roles, title)}, e.g. the enhancement COG; an href is relative to
        ``out_dir/items/`` (see :func:`enhancement_href`).

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
        written.append(
            write_kml(out / "plumes.kml", features, name="plumetrace plumes", styles=KML_STYLES, style_by="feature")
        )
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
    path: str | os.PathLike,
    enhancement_ppm_m: Any,
    labels: Any,
    records: Sequence[dict[str, Any]],
    *,
    title: str = "",
    crs: Any = None,
    transform: Sequence[float] | None = None,
) -> Path:
    """PNG map of the enhancement (ppm·m, colour bar) with each plume's outline and source; rates listed below.

    Parameters
    ----------
    path : path
        Destination ``.png`` (900 × 700 pixels).
    enhancement_ppm_m : array (y, x)
        Enhancement, ppm·m.
    labels : int array (y, x)
        Plume labels (0 = background) from :func:`plumetrace.plumes.segment.segment_plumes`.
    records : plume records (``plume_id``, ``source_row``, ``source_col``, rates in kg/h).
    title : str
        Title above the map (default: the plume count and legend).
    crs, transform : optional
        CRS and affine transform (six floats) of the map: drawn in km (or degrees) with a scale bar and north arrow;
        without them, in pixels.
    """
    import numpy as np

    from plumetrace.io.mapplot import grid_frame, map_page, save_page

    values = np.asarray(enhancement_ppm_m, dtype=np.float64)
    frame = grid_frame(values.shape, crs, transform)
    finite = values[np.isfinite(values)]
    vmin = float(np.median(finite)) if finite.size else 0.0  # the background level is dark
    vmax = float(np.percentile(finite, 99.5)) if finite.size else 1.0
    fig, ax, cax = map_page(
        title or f"{len(records)} plume(s): outline (cyan), source (x), IME rate ± 1σ (random part)"
    )
    image = ax.imshow(
        np.ma.masked_invalid(values),
        cmap="inferno",
        vmin=vmin,
        vmax=max(vmax, vmin + 1.0),
        interpolation="nearest",
        extent=frame.extent,
    )
    fig.colorbar(image, cax=cax, label="enhancement (ppm·m)")
    label_values = np.asarray(labels)
    if label_values.any():
        xs = frame.to_plot(0.0, np.arange(values.shape[1]) + 0.5)[0]
        ys = frame.to_plot(np.arange(values.shape[0]) + 0.5, 0.0)[1]
        ax.contour(xs, ys, (label_values > 0).astype(float), levels=[0.5], colors="cyan", linewidths=0.9)
    lines = []
    for record in records:
        x, y = frame.to_plot(record["source_row"] + 0.5, record["source_col"] + 0.5)
        ax.plot(x, y, marker="x", color="lime", markersize=9, mew=2)
        ax.annotate(
            str(record["plume_id"]), (x, y), xytext=(5, 5), textcoords="offset points", color="lime", fontsize=9
        )
        lines.append(
            f"{record['plume_id']}: {record['emission_rate_kg_h']:.0f} ± {record['emission_rate_sigma_kg_h']:.0f} kg/h"
        )
    if lines:  # the rates go below the map, not over it
        shown = lines[:4] + ([f"… {len(lines) - 4} more in plumes.csv"] if len(lines) > 4 else [])
        fig.text(0.36, 0.105, "\n".join(shown), ha="left", va="top", fontsize=9, family="monospace")
    if frame.metres_per_unit is None:
        fig.text(0.09, 0.04, "not georeferenced: pixel rows and columns", fontsize=9, color="0.3")
    path = Path(path)
    save_page(fig, ax, frame, path, cax=cax)
    return path


def write_plume_outputs(
    stage: str | os.PathLike,
    data: Any,
    result: Any,
    *,
    enhancement: str | os.PathLike,
    final_dir: str | os.PathLike,
    wind: Any,
    sensor: str | None = None,
) -> None:
    """Every product of ``plumetrace plumes`` (footprint, plumes GeoJSON/KML/CSV, STAC, quicklook) into ``stage``.

    Parameters
    ----------
    stage : path
        Existing, empty folder (the staging folder of :func:`plumetrace.io.staging.staged_output`).
    data : Dataset
        The enhancement map as :func:`plumetrace.io.cog.read_enhancement` read it.
    result : PlumeResult
        :func:`plumetrace.plumes.pipeline.analyze_plumes` of ``data``.
    enhancement : path
        The map's file (the plume Items link it; its ``item.json`` gives the scene id).
    final_dir : path
        Where ``stage`` will be moved (for the relative links).
    wind : Wind or callable
        The wind given to ``analyze_plumes`` (the footprint's detection limit is computed at it).
    sensor : str, optional
        Override of the map's sensor, as given to ``analyze_plumes``.
    """
    from plumetrace.plumes.footprint import scene_footprint

    stage = Path(stage)
    footprint = scene_footprint(
        data, result.geometry, wind, scene_id=scene_id_of(enhancement), n_plumes=len(result.records), sensor=sensor
    )
    write_footprint(stage, footprint)
    write_plume_products(
        stage,
        result.records,
        result.outlines,
        georeferenced=result.geometry is not None and result.geometry.georeferenced,
        extra_assets={
            "enhancement": (
                enhancement_href(enhancement, final_dir),
                "image/tiff; application=geotiff; profile=cloud-optimized",
                ("data",),
                "Enhancement map (ppm m)",
            )
        },
    )
    write_plume_quicklook(
        stage / "plumes.png",
        data["enhancement"].values,
        result.labels.values,
        result.records,
        crs=data.attrs.get("crs"),
        transform=data.attrs.get("transform"),
    )
