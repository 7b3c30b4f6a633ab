"""STAC Items describing plumetrace products (pystac).

``make_item`` builds a :class:`pystac.Item` from plain values; ``write_item`` saves it as strict JSON (NaN and
infinity become null) with asset hrefs relative to the item's folder, so an output directory can be moved or
uploaded as a unit.

An Item whose acquisition time is unknown (a map without ``acquisition_time``) is not given a made-up date: STAC
then requires ``datetime: null`` with a ``start_datetime`` / ``end_datetime`` range, and the range is the widest
true statement, from :data:`UNKNOWN_START` (the earliest time RFC 3339 writes, standing for an open start) to the
processing time, which is also the Item's ``created``; ``datetime_unknown: true`` says so explicitly.

Every Item declares the extensions whose fields it uses: the projection extension (``proj:code`` when the CRS has
an authority code, ``proj:wkt2`` in WKT2_2019, ``proj:shape``, ``proj:transform``; :func:`add_projection`) and the
raster extension (``raster:bands`` of a GeoTIFF asset, read back from the written file: data type, nodata, unit,
scale and offset; :func:`add_raster_bands`). :func:`write_collection` writes the Items of one output folder with a
``collection.json``: every Item gets relative ``self``, ``root``, ``parent`` and ``collection`` links and the
Collection an ``item`` link to each, so the folder is a self-contained static catalogue that can be moved as a unit.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pystac

from plumetrace.errors import InvalidInputError
from plumetrace.io.jsonable import to_jsonable

__all__ = [
    "PROJECTION_SCHEMA",
    "RASTER_SCHEMA",
    "UNKNOWN_START",
    "add_projection",
    "add_raster_bands",
    "footprint_wgs84",
    "make_item",
    "relative_href",
    "write_collection",
    "write_item",
]

AssetSpec = tuple[str, str, Sequence[str], str]

#: ``start_datetime`` of an Item whose acquisition time is unknown: an open start (STAC needs a date-time there).
UNKNOWN_START = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
#: Schema of the STAC projection extension used (``proj:code``, ``proj:wkt2``, ``proj:shape``, ``proj:transform``).
PROJECTION_SCHEMA = "https://stac-extensions.github.io/projection/v2.0.0/schema.json"
#: Schema of the STAC raster extension used (``raster:bands``).
RASTER_SCHEMA = "https://stac-extensions.github.io/raster/v1.1.0/schema.json"


def _parse_datetime(value: str | dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise InvalidInputError("datetime", f"{value!r} is not ISO 8601") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def make_item(
    item_id: str,
    *,
    geometry: Mapping[str, Any] | None,
    bbox: Sequence[float] | None,
    datetime: str | dt.datetime | None,
    properties: Mapping[str, Any] | None = None,
    assets: Mapping[str, AssetSpec] | None = None,
) -> pystac.Item:
    """A STAC Item.

    Parameters
    ----------
    item_id : str
    geometry : GeoJSON geometry dict (WGS84) or None
        None for products without georeferencing (STAC allows a null geometry; bbox must then be None).
    bbox : four floats (west, south, east, north) or None
    datetime : ISO 8601 string or datetime, or None
        Acquisition time (UTC assumed when naive). None (unknown) gives ``datetime: null``, the range
        :data:`UNKNOWN_START` to the processing time (``start_datetime`` / ``end_datetime``), ``created`` at the
        processing time and ``properties["datetime_unknown"] = True``.
    properties : mapping, optional
        Extra properties (made JSON-safe: NumPy values become plain ones, NaN and infinity null).
    assets : mapping key → (href, media_type, roles, title), optional

    Returns
    -------
    pystac.Item
    """
    if not item_id:
        raise InvalidInputError("item_id", "must not be empty")
    if (geometry is None) != (bbox is None):
        raise InvalidInputError("bbox", "geometry and bbox must both be given or both be None")
    props = to_jsonable(dict(properties or {}))
    unknown = datetime is None or datetime == ""
    processed = dt.datetime.now(dt.UTC).replace(microsecond=0)
    if unknown:
        props["datetime_unknown"] = True
    item = pystac.Item(
        id=item_id,
        geometry=to_jsonable(dict(geometry)) if geometry is not None else None,
        bbox=[float(v) for v in bbox] if bbox is not None else None,
        datetime=None if unknown else _parse_datetime(datetime),
        properties=props,
        start_datetime=UNKNOWN_START if unknown else None,
        end_datetime=processed if unknown else None,
    )
    if unknown:
        item.common_metadata.created = processed
    for key, (href, media_type, roles, title) in (assets or {}).items():
        item.add_asset(key, pystac.Asset(href=href, media_type=media_type, roles=list(roles), title=title))
    return item


def write_item(item: pystac.Item, path: str | Path) -> Path:
    """Write the Item as strict JSON at ``path`` (asset hrefs kept as given, typically relative file names)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = to_jsonable(item.to_dict(include_self_link=False, transform_hrefs=False))
    path.write_text(json.dumps(data, indent=2, allow_nan=False))
    return path


def footprint_wgs84(
    crs_wkt: str, transform: Sequence[float], shape: tuple[int, int]
) -> tuple[dict[str, Any], list[float]]:
    """GeoJSON polygon (WGS84) and bbox of a raster grid's outline.

    Parameters
    ----------
    crs_wkt : str
    transform : six floats (rasterio Affine order)
    shape : (height, width)
    """
    from pyproj import CRS, Transformer

    a, b, c, d, e, f = (float(v) for v in transform[:6])
    height, width = shape
    cols = [0, width, width, 0, 0]
    rows = [0, 0, height, height, 0]
    xs = [a * col + b * row + c for col, row in zip(cols, rows)]
    ys = [d * col + e * row + f for col, row in zip(cols, rows)]
    to_wgs84 = Transformer.from_crs(CRS.from_user_input(crs_wkt), CRS.from_epsg(4326), always_xy=True)
    lon, lat = to_wgs84.transform(xs, ys)
    ring = [[float(x), float(y)] for x, y in zip(lon, lat)]
    bbox = [min(lon), min(lat), max(lon), max(lat)]
    return {"type": "Polygon", "coordinates": [ring]}, [float(v) for v in bbox]


def _declare(item: pystac.Item, schema: str) -> None:
    if schema not in item.stac_extensions:
        item.stac_extensions.append(schema)


def add_projection(
    item: pystac.Item, crs: str, transform: Sequence[float], shape: tuple[int, int], *, asset: str | None = None
) -> None:
    """Fill the projection extension of ``item`` (or of one of its assets) and declare it.

    Parameters
    ----------
    item : pystac.Item
    crs : str
        Any CRS pyproj reads (WKT1, WKT2, ``EPSG:32611`` ...).
    transform : six floats
        Affine transform of the grid (rasterio order: a, b, c, d, e, f; map units per pixel).
    shape : (rows, cols)
        Grid size, pixels.
    asset : str, optional
        Asset key to hold the fields (default: the Item's properties).

    Notes
    -----
    ``proj:code`` is the authority code (``EPSG:32611``) when pyproj finds one, else null; ``proj:wkt2`` always
    holds the CRS in WKT2_2019.
    """
    from pyproj import CRS

    parsed = CRS.from_user_input(crs)
    authority = parsed.to_authority(min_confidence=90)
    fields = {
        "proj:code": f"{authority[0]}:{authority[1]}" if authority else None,
        "proj:wkt2": parsed.to_wkt("WKT2_2019"),
        "proj:shape": [int(v) for v in shape],
        "proj:transform": [float(v) for v in transform[:6]],
    }
    (item.properties if asset is None else item.assets[asset].extra_fields).update(fields)
    _declare(item, PROJECTION_SCHEMA)


def _number(value: float) -> float | str:
    """A raster:bands number: NaN and infinities as the strings the raster extension defines."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return float(value)


def add_raster_bands(item: pystac.Item, asset: str, path: str | Path) -> list[dict[str, Any]]:
    """Describe the bands of a GeoTIFF asset with ``raster:bands``, read from the file itself, and declare the extension.

    Parameters
    ----------
    item : pystac.Item
    asset : str
        Key of the asset (its file is ``path``).
    path : path
        The GeoTIFF written.

    Returns
    -------
    list of dict
        One entry per band: ``data_type``, ``nodata`` (``"nan"`` for NaN), ``unit`` (the band's GDAL unit type, else
        its ``units`` tag), ``scale`` / ``offset`` when not 1 / 0, ``spatial_resolution`` (CRS units per pixel) on
        a north-up georeferenced grid, and the band ``description``.
    """
    import warnings

    import rasterio
    from rasterio.errors import NotGeoreferencedWarning

    bands: list[dict[str, Any]] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # the raw grid of a scene without map info
        src = rasterio.open(path)
    with src:
        a, b, _, d, e, _ = tuple(src.transform)[:6]
        resolution = abs(a) if src.crs and b == 0 and d == 0 and abs(a) == abs(e) else None
        for index in range(1, src.count + 1):
            band: dict[str, Any] = {"data_type": src.dtypes[index - 1]}
            if src.nodatavals[index - 1] is not None:
                band["nodata"] = _number(src.nodatavals[index - 1])
            unit = src.units[index - 1] or src.tags(index).get("units")
            if unit:
                band["unit"] = unit
            scale, offset = src.scales[index - 1], src.offsets[index - 1]
            if scale not in (None, 1.0):
                band["scale"] = float(scale)
            if offset not in (None, 0.0):
                band["offset"] = float(offset)
            if resolution:
                band["spatial_resolution"] = float(resolution)
            if src.descriptions[index - 1]:
                band["description"] = src.descriptions[index - 1]
            bands.append(band)
    item.assets[asset].extra_fields["raster:bands"] = bands
    _declare(item, RASTER_SCHEMA)
    return bands


def relative_href(target: str | Path, start: str | Path) -> str:
    """Href of ``target`` relative to the folder ``start`` (POSIX separators); absolute when no relative path exists.

    Both paths are made absolute first, so ``start`` need not exist yet (e.g. the final ``--out`` folder).
    """
    target_abs, start_abs = Path(os.path.abspath(target)), Path(os.path.abspath(start))
    try:
        return Path(os.path.relpath(target_abs, start_abs)).as_posix()
    except ValueError:  # another drive on Windows
        return target_abs.as_posix()


def _interval(items: Sequence[pystac.Item]) -> list[str | None]:
    starts, ends = [], []
    for item in items:
        props = item.to_dict(include_self_link=False, transform_hrefs=False)["properties"]
        start = props.get("start_datetime") or props.get("datetime")
        end = props.get("end_datetime") or props.get("datetime")
        if start and not props.get("datetime_unknown"):
            starts.append(start)
        if end:
            ends.append(end)
    return [min(starts) if starts else None, max(ends) if ends else None]


def _item_dict(item: pystac.Item) -> dict[str, Any]:
    item_dict = item.to_dict(include_self_link=False, transform_hrefs=False)
    item_dict["links"] = [link for link in item_dict.get("links", []) if link.get("rel") not in _CATALOG_RELS]
    return item_dict


_CATALOG_RELS = frozenset({"self", "root", "parent", "collection"})


def write_collection(
    out_dir: str | Path,
    items: Sequence[tuple[pystac.Item, str]],
    *,
    collection_id: str,
    description: str,
    title: str | None = None,
) -> list[Path]:
    """Write the Items of one output folder and its ``collection.json``, linked to each other by relative hrefs.

    Parameters
    ----------
    out_dir : path
        The output folder (its ``collection.json`` is written there).
    items : sequence of (pystac.Item, str)
        Each Item with its file path relative to ``out_dir`` (``item.json``, ``items/plume-001.json``); asset hrefs
        must already be relative to that file.
    collection_id, description : str
    title : str, optional

    Returns
    -------
    list of Path
        The Item files, then ``collection.json``.

    Notes
    -----
    Each Item gets the ``collection`` field and ``self`` (its own file name), ``root``, ``parent`` and
    ``collection`` links (to ``collection.json``). The Collection's spatial extent is the union of the Items'
    bboxes (the whole globe when none is georeferenced), its temporal extent their first to last time (an open
    start when no time is known); its licence is ``other`` (the data's terms are those of the input scene).
    """
    out = Path(out_dir)
    written = []
    item_links = []
    for item, rel in items:
        rel_posix = Path(rel).as_posix()
        to_collection = relative_href(out / "collection.json", (out / rel_posix).parent)
        if not to_collection.startswith("."):
            to_collection = f"./{to_collection}"
        data = _item_dict(item)
        data["collection"] = collection_id
        data["links"] = [
            {"rel": "self", "href": f"./{Path(rel_posix).name}", "type": "application/geo+json"},
            {"rel": "root", "href": to_collection, "type": "application/json", "title": title or collection_id},
            {"rel": "parent", "href": to_collection, "type": "application/json"},
            {"rel": "collection", "href": to_collection, "type": "application/json"},
            *data["links"],
        ]
        path = out / rel_posix
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(to_jsonable(data), indent=2, allow_nan=False))
        written.append(path)
        item_links.append({"rel": "item", "href": f"./{rel_posix}", "type": "application/geo+json"})
    boxes = [item.bbox for item, _ in items if item.bbox]
    bbox = (
        [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]
        if boxes
        else [-180.0, -90.0, 180.0, 90.0]
    )
    interval = _interval([item for item, _ in items])
    if interval == [None, None]:
        interval = [None, dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")]
    collection = {
        "type": "Collection",
        "stac_version": pystac.get_stac_version(),
        "stac_extensions": [],
        "id": collection_id,
        **({"title": title} if title else {}),
        "description": description,
        "license": "other",
        "extent": {"spatial": {"bbox": [[float(v) for v in bbox]]}, "temporal": {"interval": [interval]}},
        "links": [
            {"rel": "self", "href": "./collection.json", "type": "application/json"},
            {"rel": "root", "href": "./collection.json", "type": "application/json"},
            *item_links,
        ],
    }
    path = out / "collection.json"
    path.write_text(json.dumps(to_jsonable(collection), indent=2, allow_nan=False))
    written.append(path)
    return written
