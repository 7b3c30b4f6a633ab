"""Write an LWIR detection and identification result as files.

* ``enhancement_<gas>.tif``: one Cloud-Optimized GeoTIFF per library gas in the layout of the SWIR
  ``enhancement.tif`` (:mod:`plumetrace.io.cog`: ``enhancement_ppm_m``, ``uncertainty_ppm_m``, ``albedo``,
  ``sensitivity``; tags ``units=ppm m``, ``gas`` = the chemical), so ``plumetrace plumes`` reads it as it reads a
  methane map. Blind pixels (no thermal contrast) are NaN in both column bands; ``albedo`` is 1 on valid pixels
  (no albedo in the thermal infrared); ``sensitivity`` is the SNR of a 1000 ppm·m column, as in SWIR; a fifth band
  ``gas_probability`` holds the posterior probability of the map's gas in each identified plume (NaN elsewhere).
* ``labels.tif``: int16 COG of the per-pixel gas label: 0 no gas, −1 blind, k ≥ 1 the k-th gas set of the
  ``label_table`` tag (JSON list, e.g. ``["acetone", "acetone+toluene"]``); nodata −9999.
* ``identification.json`` (every plume: gases, plume-mean columns ± 1σ, peak columns, posterior probability of each
  gas, identification confidence, ambiguous groups; the noise-equivalent column per gas; the ambiguous groups of the
  library at the scene's contrast) and ``identification.csv`` (one row per plume and gas).
* ``item.json`` / ``collection.json``: STAC Item with every file as an asset, and its Collection.
"""

from __future__ import annotations

import csv
import json
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from plumetrace.detect.result import SENSITIVITY_REFERENCE_PPM_M
from plumetrace.io.cog import write_enhancement
from plumetrace.io.jsonable import to_jsonable
from plumetrace.io.stac import add_projection, add_raster_bands, footprint_wgs84, make_item, write_collection

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["LABEL_NODATA", "CSV_COLUMNS", "gas_file_name", "write_lwir_products"]

LABEL_NODATA = -9999
CSV_COLUMNS = (
    "plume_id",
    "gas",
    "column_ppm_m",
    "sigma_ppm_m",
    "peak_column_ppm_m",
    "gas_probability",
    "gas_set",
    "confidence",
    "ambiguous_group",
    "n_pixels",
    "row",
    "col",
    "x",
    "y",
    "contrast_k",
)
_CARRIED = ("sensor", "acquisition_time", "source", "crs", "transform", "glt_crs", "glt_transform", "stats")


def gas_file_name(gas: str) -> str:
    """``enhancement_<gas>.tif`` with the gas name made file-safe (``1,1,1-trichloroethane`` →
    ``enhancement_1-1-1-trichloroethane.tif``)."""
    slug = re.sub(r"[^a-z0-9]+", "-", gas.lower()).strip("-") or "gas"
    return f"enhancement_{slug}.tif"


def _gas_probability(result: xr.Dataset, gas: str) -> np.ndarray:
    """Per pixel, the posterior probability that ``gas`` is in the identified plume there (NaN outside plumes):
    ``plumetrace plumes`` reports it with each plume of this gas's map as ``identification_confidence``."""
    plume_ids = np.asarray(result["plume_id"].values)
    probability = np.full(plume_ids.shape, np.nan, dtype=np.float32)
    for record in result.attrs.get("identification", []):
        value = float(record.get("gas_probability", {}).get(gas, 0.0))
        probability[plume_ids == int(record["plume_id"])] = value
    return probability


def _gas_dataset(result: xr.Dataset, index: int) -> xr.Dataset:
    import xarray as xr

    column = result["column_ppm_m"].values[index].astype(np.float32)
    sigma = result["column_sigma_ppm_m"].values[index].astype(np.float32)
    valid = np.isfinite(result["surface_temperature_k"].values)
    with np.errstate(divide="ignore", invalid="ignore"):
        sensitivity = (SENSITIVITY_REFERENCE_PPM_M / sigma).astype(np.float32)
    data = {
        "enhancement": (("y", "x"), column),
        "uncertainty": (("y", "x"), sigma),
        "albedo": (("y", "x"), np.where(valid, 1.0, np.nan).astype(np.float32)),
        "sensitivity": (("y", "x"), sensitivity),
    }
    data["gas_probability"] = (("y", "x"), _gas_probability(result, str(result["gas"].values[index])))
    for name in ("glt_row", "glt_col"):
        if name in result:
            data[name] = (result[name].dims, result[name].values)
    attrs = {key: result.attrs[key] for key in _CARRIED if key in result.attrs}
    attrs.update(gas=str(result["gas"].values[index]), method=str(result.attrs.get("method", "lwir-bic")))
    return xr.Dataset(data, attrs=attrs)


def _write_labels(result: xr.Dataset, path: Path, grid: dict[str, Any]) -> None:
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning
    from rasterio.transform import Affine

    labels = np.asarray(result["label"].values, dtype=np.int16)
    if grid["orthorectified"]:
        from plumetrace.georef import orthorectify

        mapped = orthorectify(labels.astype(np.float32), result["glt_row"].values, result["glt_col"].values)
        labels = np.where(np.isfinite(mapped), mapped, LABEL_NODATA).astype(np.int16)
    height, width = labels.shape
    profile: dict[str, Any] = {
        "driver": "COG",
        "width": width,
        "height": height,
        "count": 1,
        "dtype": "int16",
        "nodata": LABEL_NODATA,
        "compress": "ZSTD",
        "blocksize": 256,
        "overview_resampling": "nearest",
    }
    if grid["transform"] is not None:
        profile["transform"] = Affine(*grid["transform"])
    if grid["crs"]:
        profile["crs"] = grid["crs"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(labels, 1)
            dst.set_band_description(1, "gas_label")
            dst.update_tags(
                label_table=json.dumps(list(result.attrs.get("label_table", []))),
                meaning="0 = no gas, -1 = blind (no thermal contrast), k >= 1 = entry k of label_table",
                gases=json.dumps(list(result.attrs.get("gases", []))),
                band="lwir",
            )


def _csv_rows(records: list[dict[str, Any]], groups: list[list[str]]) -> list[dict[str, Any]]:
    rows = []
    for record in records:
        for gas in record["gases"]:
            group = next((g for g in groups if gas in g), [])
            rows.append(
                {
                    "plume_id": record["plume_id"],
                    "gas": gas,
                    "column_ppm_m": round(record["columns_ppm_m"][gas], 3),
                    "sigma_ppm_m": round(record["sigma_ppm_m"][gas], 3),
                    "peak_column_ppm_m": round(record["peak_column_ppm_m"][gas], 3),
                    "gas_probability": record["gas_probability"].get(gas, ""),
                    "gas_set": "+".join(record["gases"]),
                    "confidence": round(record["confidence"], 4),
                    "ambiguous_group": "+".join(group),
                    "n_pixels": record["n_pixels"],
                    "row": round(record["row"], 2),
                    "col": round(record["col"], 2),
                    "x": round(record["x"], 3) if "x" in record else "",
                    "y": round(record["y"], 3) if "y" in record else "",
                    "contrast_k": round(record["contrast_k"], 3),
                }
            )
    return rows


def write_lwir_products(result: xr.Dataset, out_dir: str | Path, *, item_id: str | None = None) -> dict[str, Path]:
    """Write the products of :func:`plumetrace.detect.lwir.engine.detect_lwir` into ``out_dir``.

    Parameters
    ----------
    result : xarray.Dataset
        The LWIR detection result.
    out_dir : path
        Existing folder (normally the staging folder of :func:`plumetrace.io.staging.staged_output`).
    item_id : str, optional
        STAC Item id (default: the scene file's stem + ``_lwir``).

    Returns
    -------
    dict
        File name → path.
    """
    out_dir = Path(out_dir)
    written: dict[str, Path] = {}
    assets: dict[str, tuple[str, str, list[str], str]] = {}
    grid: dict[str, Any] = {}
    tiff = "image/tiff; application=geotiff; profile=cloud-optimized"
    for index, gas in enumerate(result["gas"].values):
        name = gas_file_name(str(gas))
        grid = write_enhancement(_gas_dataset(result, index), out_dir / name)
        written[name] = out_dir / name
        assets[name.removesuffix(".tif")] = (name, tiff, ["data"], f"{gas} column (ppm m), 1σ (ppm m), sensitivity")
    _write_labels(result, out_dir / "labels.tif", grid)
    written["labels.tif"] = out_dir / "labels.tif"
    assets["labels"] = ("labels.tif", tiff, ["data"], "Gas label per pixel (label_table tag)")
    groups = [list(g) for g in result.attrs.get("ambiguous_groups", [])]
    summary = {
        "band": "lwir",
        "method": result.attrs.get("method"),
        "gases": list(result.attrs.get("gases", [])),
        "label_table": list(result.attrs.get("label_table", [])),
        "ambiguous_groups": groups,
        "ambiguity_correlation": result.attrs.get("ambiguity_correlation"),
        "noise_equivalent_column_ppm_m": result.attrs.get("noise_equivalent_column_ppm_m"),
        "plume_temperature_k": result.attrs.get("plume_temperature_k"),
        "plume_temperature_source": result.attrs.get("plume_temperature_source"),
        "blind_pixels": result.attrs.get("blind_pixels"),
        "bic_penalty": result.attrs.get("bic_penalty"),
        "sensor": result.attrs.get("sensor"),
        "acquisition_time": result.attrs.get("acquisition_time"),
        "source": result.attrs.get("source"),
        "plumes": list(result.attrs.get("identification", [])),
    }
    (out_dir / "identification.json").write_text(json.dumps(to_jsonable(summary), indent=2) + "\n")
    written["identification.json"] = out_dir / "identification.json"
    with open(out_dir / "identification.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(_csv_rows(summary["plumes"], groups))
    written["identification.csv"] = out_dir / "identification.csv"
    assets["identification"] = ("identification.json", "application/json", ["metadata"], "Gases per plume")
    assets["identification-csv"] = ("identification.csv", "text/csv", ["metadata"], "Gases per plume (table)")
    geometry: dict[str, Any] | None = None
    bbox: list[float] | None = None
    if grid.get("crs") and grid.get("transform") is not None:
        geometry, bbox = footprint_wgs84(grid["crs"], grid["transform"], grid["shape"])
    stem = Path(str(result.attrs.get("source") or "scene")).name.split(".")[0] or "scene"
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-") or "scene"
    identified = sorted({g for r in summary["plumes"] for g in r["gases"]})
    properties = {
        "plumetrace:band": "lwir",
        "plumetrace:method": summary["method"],
        "plumetrace:gases": summary["gases"],
        "plumetrace:identified_gases": identified,
        "plumetrace:plumes": len(summary["plumes"]),
        "plumetrace:units": "ppm m",
        "plumetrace:orthorectified": bool(grid.get("orthorectified", False)),
    }
    if result.attrs.get("sensor"):
        properties["instruments"] = [str(result.attrs["sensor"])]
    item = make_item(
        item_id or f"{stem}_lwir",
        geometry=geometry,
        bbox=bbox,
        datetime=result.attrs.get("acquisition_time"),
        properties=properties,
        assets=assets,
    )
    if geometry is not None:
        add_projection(item, grid["crs"], grid["transform"], grid["shape"])
    for name in written:
        if name.endswith(".tif"):
            add_raster_bands(item, name.removesuffix(".tif") if name != "labels.tif" else "labels", out_dir / name)
    item_path, collection_path = write_collection(
        out_dir,
        [(item, "item.json")],
        collection_id=f"{item.id}-detection",
        description="plumetrace detect --band lwir: gas columns, labels and identification",
        title="LWIR gas detection and identification",
    )
    written["item.json"], written["collection.json"] = item_path, collection_path
    return written
