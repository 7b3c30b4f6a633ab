"""STAC Items describing plumetrace products (pystac).

``make_item`` builds a :class:`pystac.Item` from plain values; ``write_item`` saves it as JSON with asset hrefs
relative to the item's folder, so an output directory can be moved or uploaded as a unit.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pystac

from plumetrace.errors import InvalidInputError

__all__ = ["make_item", "write_item", "footprint_wgs84"]

AssetSpec = tuple[str, str, Sequence[str], str]


def _parse_datetime(value: str | dt.datetime | None) -> dt.datetime:
    if value is None or value == "":
        return dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError("datetime", f"{value!r} is not ISO 8601") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except TypeError:
        if hasattr(value, "tolist"):
            return value.tolist()
        return str(value)


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
        Acquisition time (UTC assumed when naive); None gives the Unix epoch and ``properties["datetime_unknown"]``.
    properties : mapping, optional
        Extra properties (values made JSON-safe).
    assets : mapping key → (href, media_type, roles, title), optional

    Returns
    -------
    pystac.Item
    """
    if not item_id:
        raise InvalidInputError("item_id", "must not be empty")
    if (geometry is None) != (bbox is None):
        raise InvalidInputError("bbox", "geometry and bbox must both be given or both be None")
    props = {key: _jsonable(value) for key, value in (properties or {}).items()}
    if datetime in (None, ""):
        props["datetime_unknown"] = True
    item = pystac.Item(
        id=item_id,
        geometry=dict(geometry) if geometry is not None else None,
        bbox=[float(v) for v in bbox] if bbox is not None else None,
        datetime=_parse_datetime(datetime),
        properties=props,
    )
    for key, (href, media_type, roles, title) in (assets or {}).items():
        item.add_asset(key, pystac.Asset(href=href, media_type=media_type, roles=list(roles), title=title))
    return item


def write_item(item: pystac.Item, path: str | Path) -> Path:
    """Write the Item as JSON at ``path`` (asset hrefs kept as given, typically relative file names)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = item.to_dict(include_self_link=False, transform_hrefs=False)
    path.write_text(json.dumps(data, indent=2))
    return path


def footprint_wgs84(crs_wkt: str, transform: Sequence[float], shape: tuple[int, int]) -> tuple[dict[str, Any], list[float]]:
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
