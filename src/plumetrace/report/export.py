"""The sites for the recipient's GIS: GeoPackage when a GDAL writer (pyogrio or fiona) is installed, always GeoJSON and
KML (the sites product's own files, copied with a point per site and every property of sites.csv)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from plumetrace.report.runfolder import RunFolder

__all__ = ["export_sites"]


def _gpkg(source: Path, target: Path) -> bool:
    """Write ``target`` (GeoPackage) from the GeoJSON ``source`` with pyogrio or fiona; False when neither is here."""
    try:
        import pyogrio
    except ImportError:
        pyogrio = None
    if pyogrio is not None:
        geometry, fields, names = _columns(source)  # pragma: no cover
        pyogrio.raw.write(
            target, geometry, fields, names, driver="GPKG", layer="sites", geometry_type="Point", crs="EPSG:4326"
        )  # pragma: no cover  # pragma: no cover
        return True  # pragma: no cover
    try:
        import fiona
    except ImportError:
        return False
    with (
        fiona.open(source) as src,
        fiona.open(target, "w", driver="GPKG", schema=src.schema, crs="EPSG:4326") as dst,
    ):  # pragma: no cover
        dst.writerecords(src)
    return True  # pragma: no cover


def _columns(source: Path):  # pragma: no cover - only with pyogrio installed
    import numpy as np
    import shapely

    features = json.loads(source.read_text())["features"]
    names = sorted({k for f in features for k in f["properties"]})
    geometry = np.array([shapely.to_wkb(shapely.geometry.shape(f["geometry"])) for f in features], dtype=object)
    fields = [np.array([str(f["properties"].get(n, "")) for f in features], dtype=object) for n in names]
    return geometry, fields, names


def export_sites(run: RunFolder, out_dir: Path) -> list[str]:
    """Copy the sites' GeoJSON and KML into ``out_dir`` (and a GeoPackage when possible); return the names written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    sites_dir = run.path / "sites"
    for name in ("sites.geojson", "sites.kml", "sites.csv"):
        if (sites_dir / name).is_file():
            shutil.copyfile(sites_dir / name, out_dir / name)
            written.append(name)
    if (
        (out_dir / "sites.geojson").is_file()
        and len(run.sites)
        and _gpkg(out_dir / "sites.geojson", out_dir / "sites.gpkg")
    ):
        written.append("sites.gpkg")
    return written
