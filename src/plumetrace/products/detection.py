"""Write a detection result as files: ``enhancement.tif`` (COG), ``quicklook.png``, ``item.json`` (STAC Item) and
``collection.json`` (the STAC Collection of the folder).

The Item declares the projection extension (``proj:code``, ``proj:wkt2`` in WKT2, ``proj:shape``,
``proj:transform``) when the map has a CRS, and the raster extension on the ``enhancement`` asset (``raster:bands``
read from the COG: data type, nodata, unit per band).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from plumetrace.io.cog import write_enhancement, write_quicklook
from plumetrace.io.stac import add_projection, add_raster_bands, footprint_wgs84, make_item, write_collection

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["PRODUCT_FILES", "write_detection_products"]

PRODUCT_FILES = ("enhancement.tif", "quicklook.png", "item.json", "collection.json")


def write_detection_products(result: xr.Dataset, out_dir: str | Path, *, item_id: str | None = None) -> dict[str, Path]:
    """Write the products of :func:`plumetrace.detect.engine.detect_scene` into ``out_dir``.

    Parameters
    ----------
    result : xarray.Dataset
        Detection result: ``enhancement``, ``uncertainty``, ``albedo``, ``sensitivity`` (y, x) and their attributes.
    out_dir : path
        Existing folder (normally the staging folder of :func:`plumetrace.io.staging.staged_output`).
    item_id : str, optional
        STAC Item id (default: the scene file's stem + ``_<gas>_<method>``).

    Returns
    -------
    dict
        File name → path.
    """
    out_dir = Path(out_dir)
    gas, method = result.attrs.get("gas", "gas"), result.attrs.get("method", "mf")
    tif = out_dir / "enhancement.tif"
    png = out_dir / "quicklook.png"
    when = result.attrs.get("acquisition_time")
    title = f"{gas.upper()} enhancement ({method}, {result.attrs.get('stats', '')} statistics)" + (
        f" {when}" if when else ""
    )
    grid = write_enhancement(result, tif)
    write_quicklook(_grid_enhancement(result, grid), png, title=title, crs=grid["crs"], transform=grid["transform"])
    geometry: dict[str, Any] | None = None
    bbox: list[float] | None = None
    if grid["crs"] and grid["transform"] is not None:
        geometry, bbox = footprint_wgs84(grid["crs"], grid["transform"], grid["shape"])
    stem = Path(str(result.attrs.get("source") or "scene")).name.split(".")[0] or "scene"
    properties = {
        f"plumetrace:{key}": result.attrs[key]
        for key in (
            "gas",
            "method",
            "stats",
            "window_nm",
            "airmass_factor",
            "target_source",
            "columns_per_group",
            "iterations",
            "background_excluded_pixels",
        )
        if key in result.attrs
    }
    properties["plumetrace:units"] = "ppm m"
    properties["plumetrace:orthorectified"] = bool(grid["orthorectified"])
    if result.attrs.get("sensor"):
        properties["instruments"] = [str(result.attrs["sensor"])]
    item = make_item(
        item_id or f"{stem}_{gas}_{method}",
        geometry=geometry,
        bbox=bbox,
        datetime=when,
        properties=properties,
        assets={
            "enhancement": (
                "enhancement.tif",
                "image/tiff; application=geotiff; profile=cloud-optimized",
                ["data"],
                f"{gas.upper()} enhancement (ppm m), uncertainty (ppm m), albedo, sensitivity",
            ),
            "quicklook": ("quicklook.png", "image/png", ["overview", "visual"], "Quicklook with colour bar"),
        },
    )
    if grid["crs"] and grid["transform"] is not None:
        add_projection(item, grid["crs"], grid["transform"], grid["shape"])
    add_raster_bands(item, "enhancement", tif)
    item_path, collection_path = write_collection(
        out_dir,
        [(item, "item.json")],
        collection_id=f"{item.id}-detection",
        description=f"plumetrace detect: {title}",
        title=f"{gas.upper()} detection",
    )
    return {"enhancement.tif": tif, "quicklook.png": png, "item.json": item_path, "collection.json": collection_path}


def _grid_enhancement(result: xr.Dataset, grid: dict[str, Any]) -> Any:
    if grid["orthorectified"]:
        from plumetrace.io.cog import product_grid

        return product_grid(result)[0]["enhancement"]
    return result["enhancement"].values
