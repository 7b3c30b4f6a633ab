"""Write a detection result as files: ``enhancement.tif`` (COG), ``quicklook.png`` and ``item.json`` (STAC Item)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from plumetrace.io.cog import write_enhancement, write_quicklook
from plumetrace.io.stac import footprint_wgs84, make_item, write_item

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["PRODUCT_FILES", "write_detection_products"]

PRODUCT_FILES = ("enhancement.tif", "quicklook.png", "item.json")


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
    write_quicklook(_grid_enhancement(result, grid), png, title=title)
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
    if grid["crs"]:
        properties["proj:wkt2"] = str(grid["crs"])
        properties["proj:shape"] = list(grid["shape"])
        properties["proj:transform"] = list(grid["transform"])
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
    item_path = write_item(item, out_dir / "item.json")
    return {"enhancement.tif": tif, "quicklook.png": png, "item.json": item_path}


def _grid_enhancement(result: xr.Dataset, grid: dict[str, Any]) -> Any:
    if grid["orthorectified"]:
        from plumetrace.io.cog import product_grid

        return product_grid(result)[0]["enhancement"]
    return result["enhancement"].values
