"""STAC Items describing plumetrace products (pystac).

``make_item`` builds a :class:`pystac.Item` from plain values; ``write_item`` saves it as strict JSON (NaN and
infinity become null) with asset hrefs relative to the item's folder, so an output directory can be moved or
uploaded as a unit.

An Item whose acquisition time is unknown (a map without ``acquisition_time``) is not given a made-up date: STAC
then requires ``datetime: null`` with a ``start_datetime`` / ``end_datetime`` range, and the range is the widest
true statement, from :data:`UNKNOWN_START` (the earliest time RFC 3339 writes, standing for an open start) to the
processing time, which is also the Item's ``created``; ``datetime_unknown: true`` says so explicitly.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pystac

from plumetrace.errors import InvalidInputError
from plumetrace.io.jsonable import to_jsonable

__all__ = ["UNKNOWN_START", "footprint_wgs84", "make_item", "write_item"]

AssetSpec = tuple[str, str, Sequence[str], str]

#: ``start_datetime`` of an Item whose acquisition time is unknown: an open start (STAC needs a date-time there).
UNKNOWN_START = dt.datetime(1, 1, 1, tzinfo=dt.UTC)


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
