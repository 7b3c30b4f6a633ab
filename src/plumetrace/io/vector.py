"""Vector files: read polygons from GeoJSON / KML, write GeoJSON, KML and CSV.

Geometries are shapely objects in WGS84 longitude / latitude degrees (GeoJSON and KML axis order).
A *feature* is a ``(geometry, properties)`` pair, ``properties`` a JSON-serialisable dict.

Readers validate what they return: a polygon that is self-intersecting, has fewer than three distinct
corners, or lies outside the lon/lat range is refused with a one-line
:class:`~plumetrace.errors.InvalidFileError` naming the file and the field (``features[2].geometry``,
``Placemark[0].Polygon``).
"""

from __future__ import annotations

import csv
import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import shapely
from shapely.geometry import (
    GeometryCollection,
    LinearRing,
    LineString,
    MultiLineString,
    MultiPoint,
    MultiPolygon,
    Point,
    Polygon,
    mapping,
    shape,
)
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from plumetrace.errors import InvalidFileError, check_input_file
from plumetrace.io.jsonable import to_jsonable

__all__ = [
    "Feature",
    "KmlStyle",
    "read_features",
    "read_polygons",
    "write_geojson",
    "write_kml",
    "write_csv",
]

Feature = tuple[BaseGeometry, dict[str, Any]]

_KML_NS = "http://www.opengis.net/kml/2.2"
#: Google Earth's stock icons (Google Earth and QGIS show them; a viewer without network falls back to a pin).
KML_ICONS = "http://maps.google.com/mapfiles/kml/shapes/"


@dataclass(frozen=True)
class KmlStyle:
    """How a KML viewer draws a feature (written as a shared ``<Style>`` the Placemarks refer to by ``styleUrl``).

    Parameters
    ----------
    line : str
        Line and outline colour, ``#rrggbb``.
    width : float
        Line width, pixels.
    fill : str or None
        Polygon fill colour ``#rrggbb``; None draws the outline only.
    fill_opacity : float
        Opacity of the fill, 0-1.
    icon : str or None
        Point icon file name under :data:`KML_ICONS` (or a full URL); None keeps the viewer's pin.
    icon_colour : str
        Tint of the icon, ``#rrggbb``.
    icon_scale : float
        Icon size relative to the viewer's default.
    """

    line: str = "#ffffff"
    width: float = 2.0
    fill: str | None = None
    fill_opacity: float = 0.25
    icon: str | None = None
    icon_colour: str = "#ffffff"
    icon_scale: float = 1.0

    def kml(self, style_id: str) -> str:
        """The ``<Style>`` element with ``id=style_id``."""
        icon = ""
        if self.icon:
            href = self.icon if "://" in self.icon else KML_ICONS + self.icon
            icon = (
                f"<IconStyle><color>{_kml_colour(self.icon_colour)}</color><scale>{self.icon_scale:g}</scale>"
                f"<Icon><href>{escape(href)}</href></Icon></IconStyle>"
            )
        poly = (
            f"<PolyStyle><color>{_kml_colour(self.fill, self.fill_opacity)}</color><fill>1</fill><outline>1</outline>"
            "</PolyStyle>"
            if self.fill
            else "<PolyStyle><fill>0</fill><outline>1</outline></PolyStyle>"
        )
        line = f"<LineStyle><color>{_kml_colour(self.line)}</color><width>{self.width:g}</width></LineStyle>"
        return f'<Style id="{escape(style_id)}">{icon}{line}{poly}</Style>'


def _kml_colour(rgb: str, opacity: float = 1.0) -> str:
    """``#rrggbb`` and an opacity as KML's ``aabbggrr``."""
    value = rgb.lstrip("#")
    if len(value) != 6:
        raise ValueError(f"colour {rgb!r} is not #rrggbb")
    alpha = round(255 * min(max(opacity, 0.0), 1.0))
    return f"{alpha:02x}{value[4:6]}{value[2:4]}{value[0:2]}".lower()


# ----------------------------------------------------------------------------------------------- reading
def read_features(path: str | os.PathLike, *, what: str = "vector file") -> list[Feature]:
    """Read every geometry of a GeoJSON or KML file with its properties.

    Parameters
    ----------
    path
        ``.geojson`` / ``.json`` (FeatureCollection, Feature or bare geometry) or ``.kml``
        (every ``Placemark``; ``name`` and ``ExtendedData`` become properties).
    what
        How messages call the file (``"AOI file"``, ``"--no-fly file"``): ``PATH: AOI file not found``.

    Returns
    -------
    list of (geometry, properties)
        Shapely geometries in lon/lat degrees. Polygons are validated (see module docstring);
        multi-part geometries are kept whole.

    Raises
    ------
    MissingFileError
        ``path`` does not exist.
    InvalidFileError
        Unreadable syntax, an unknown geometry, bad coordinates or an invalid polygon.
    """
    path = check_input_file(
        path, what, field=what, directory="is a folder; give a GeoJSON or KML file", empty="file is empty"
    )
    suffix = path.suffix.lower()
    if suffix == ".kml":
        return _read_kml(path)
    if suffix in (".geojson", ".json"):
        return _read_geojson(path)
    raise InvalidFileError(path, "suffix", f"unsupported vector format {suffix!r} (use .geojson, .json or .kml)")


def read_polygons(path: str | os.PathLike, *, what: str = "vector file") -> list[Polygon]:
    """Read the polygons of a GeoJSON or KML file (multi-polygons are split into their parts).

    Parameters
    ----------
    path
        GeoJSON or KML file holding polygon geometries (holes allowed).
    what
        How messages call the file (see :func:`read_features`).

    Returns
    -------
    list of shapely.Polygon
        Valid polygons in lon/lat degrees, in file order.

    Raises
    ------
    MissingFileError, InvalidFileError
        Missing file; unreadable file; a geometry that is not a polygon; an invalid (e.g. self-intersecting)
        polygon; or no polygon at all.
    """
    polygons: list[Polygon] = []
    for index, (geom, _props) in enumerate(read_features(path, what=what)):
        parts = _polygon_parts(geom)
        if parts is None:
            raise InvalidFileError(path, f"features[{index}].geometry", f"expected a Polygon, got {geom.geom_type}")
        polygons.extend(parts)
    if not polygons:
        raise InvalidFileError(path, "features", "no polygon found")
    return polygons


def _polygon_parts(geom: BaseGeometry) -> list[Polygon] | None:
    if isinstance(geom, Polygon):
        return [geom]
    if isinstance(geom, MultiPolygon):
        return list(geom.geoms)
    if isinstance(geom, GeometryCollection):
        parts: list[Polygon] = []
        for g in geom.geoms:
            sub = _polygon_parts(g)
            if sub is None:
                return None
            parts.extend(sub)
        return parts
    return None


def _read_geojson(path: Path) -> list[Feature]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidFileError(path, "json", f"not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or "type" not in doc:
        raise InvalidFileError(path, "type", "not a GeoJSON object")
    kind = doc["type"]
    if kind == "FeatureCollection":
        items = doc.get("features")
        if not isinstance(items, list):
            raise InvalidFileError(path, "features", "must be a list")
        raw = [(f"features[{i}]", item) for i, item in enumerate(items)]
    elif kind == "Feature":
        raw = [("feature", doc)]
    else:
        raw = [("geometry", {"type": "Feature", "geometry": doc, "properties": {}})]
    features: list[Feature] = []
    for field, item in raw:
        if not isinstance(item, dict) or item.get("type") != "Feature":
            raise InvalidFileError(path, field, "not a GeoJSON Feature")
        gfield = f"{field}.geometry" if field != "geometry" else field
        gj = item.get("geometry")
        if gj is None:
            continue  # GeoJSON allows null geometries; they carry nothing to plan with
        try:
            geom = _unwrap_antimeridian(shape(gj))
        except Exception as exc:  # shapely raises several types for malformed GeoJSON
            raise InvalidFileError(path, gfield, f"malformed geometry ({exc})") from None
        _check_geometry(path, gfield, geom)
        props = item.get("properties") or {}
        if not isinstance(props, dict):
            raise InvalidFileError(path, f"{field}.properties", "must be an object")
        features.append((geom, dict(props)))
    return features


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(elem: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in elem if _local(c.tag) == name]


def _descendants(elem: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in elem.iter() if _local(c.tag) == name and c is not elem]


def _kml_coords(path: Path, field: str, elem: ET.Element | None) -> list[tuple[float, ...]]:
    if elem is None or elem.text is None:
        raise InvalidFileError(path, field, "missing <coordinates>")
    coords: list[tuple[float, ...]] = []
    for token in elem.text.split():
        try:
            values = tuple(float(v) for v in token.split(","))
        except ValueError:
            raise InvalidFileError(path, field, f"bad coordinate {token!r}") from None
        if len(values) not in (2, 3):
            raise InvalidFileError(path, field, f"bad coordinate {token!r} (want lon,lat[,alt])")
        coords.append(values)
    return coords


def _ring(path: Path, field: str, boundary: ET.Element) -> list[tuple[float, ...]]:
    rings = _descendants(boundary, "LinearRing")
    if not rings:
        raise InvalidFileError(path, field, "missing <LinearRing>")
    coords_el = _descendants(rings[0], "coordinates")
    return _kml_coords(path, field, coords_el[0] if coords_el else None)


def _kml_geometry(path: Path, field: str, elem: ET.Element) -> BaseGeometry | None:
    kind = _local(elem.tag)
    if kind == "Polygon":
        outer = _children(elem, "outerBoundaryIs")
        if not outer:
            raise InvalidFileError(path, f"{field}.Polygon", "missing <outerBoundaryIs>")
        shell = _ring(path, f"{field}.Polygon.outerBoundaryIs", outer[0])
        holes = [
            _ring(path, f"{field}.Polygon.innerBoundaryIs[{i}]", inner)
            for i, inner in enumerate(_children(elem, "innerBoundaryIs"))
        ]
        try:
            return Polygon(shell, holes)
        except (ValueError, shapely.errors.GEOSException) as exc:
            raise InvalidFileError(path, f"{field}.Polygon", f"malformed polygon ({exc})") from None
    if kind == "LineString":
        coords_el = _children(elem, "coordinates")
        return LineString(_kml_coords(path, f"{field}.LineString", coords_el[0] if coords_el else None))
    if kind == "Point":
        coords_el = _children(elem, "coordinates")
        return Point(_kml_coords(path, f"{field}.Point", coords_el[0] if coords_el else None)[0])
    if kind == "MultiGeometry":
        parts = [
            g
            for i, child in enumerate(elem)
            if (g := _kml_geometry(path, f"{field}.MultiGeometry[{i}]", child)) is not None
        ]
        if parts and all(isinstance(p, Polygon) for p in parts):
            return MultiPolygon(parts)
        return GeometryCollection(parts)
    return None


def _read_kml(path: Path) -> list[Feature]:
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise InvalidFileError(path, "xml", f"not valid XML ({exc})") from None
    features: list[Feature] = []
    placemarks = [e for e in root.iter() if _local(e.tag) == "Placemark"]
    for index, pm in enumerate(placemarks):
        field = f"Placemark[{index}]"
        geom = None
        for child in pm:
            geom = _kml_geometry(path, field, child)
            if geom is not None:
                break
        if geom is None:
            continue
        geom = _unwrap_antimeridian(geom)
        _check_geometry(path, f"{field}.{geom.geom_type}", geom)
        props: dict[str, Any] = {}
        names = _children(pm, "name")
        if names and names[0].text:
            props["name"] = names[0].text.strip()
        for data in _descendants(pm, "Data"):
            value = _children(data, "value")
            props[data.get("name", "")] = value[0].text if value else None
        features.append((geom, props))
    return features


def _unwrap_antimeridian(geom: BaseGeometry) -> BaseGeometry:
    """Make each polygon that jumps across ±180° continuous (179.9 … 180.1), as it was drawn.

    A polygon whose edge spans more than 180° of longitude is read as crossing the antimeridian; its
    longitudes are shifted into [first - 180, first + 180). Other geometries are returned unchanged.
    """

    def fix(poly: Polygon) -> Polygon:
        lon = shapely.get_coordinates(poly)[:, 0]
        rings = [poly.exterior, *poly.interiors]
        if not any(np.any(np.abs(np.diff(np.asarray(r.coords)[:, 0])) > 180.0) for r in rings):
            return poly
        ref = float(lon[0])

        def shift(coords: np.ndarray) -> np.ndarray:
            out = coords.copy()
            out[:, 0] = ref + (coords[:, 0] - ref + 180.0) % 360.0 - 180.0
            return out

        return shapely.transform(poly, shift)

    if isinstance(geom, Polygon):
        return fix(geom)
    if isinstance(geom, MultiPolygon):
        return MultiPolygon([fix(p) for p in geom.geoms])
    return geom


def _check_geometry(path: str | os.PathLike, field: str, geom: BaseGeometry) -> None:
    if geom.is_empty:
        raise InvalidFileError(path, field, "empty geometry")
    coords = shapely.get_coordinates(geom)
    if not np.all(np.isfinite(coords)):
        raise InvalidFileError(path, field, "non-finite coordinate")
    if np.any(np.abs(coords[:, 1]) > 90.0) or np.any(np.abs(coords[:, 0]) > 360.0):
        raise InvalidFileError(
            path, field, "coordinates are not lon/lat degrees (|latitude| > 90 or |longitude| > 360)"
        )
    # Longitudes past ±180 are accepted only where a polygon is drawn continuously across the antimeridian
    # (179.9 … 180.1): at least one of its vertices then lies within [-180, 180].
    if np.any(np.abs(coords[:, 0]) > 180.0) and np.min(np.abs(coords[:, 0])) > 180.0:
        worst = float(coords[np.argmax(np.abs(coords[:, 0])), 0])
        raise InvalidFileError(path, field, f"longitude {worst:g} is outside [-180, 180] degrees (lon, lat order?)")
    for part in _polygon_parts(geom) or []:
        if len(set(map(tuple, shapely.get_coordinates(part.exterior)))) < 3:
            raise InvalidFileError(path, field, "polygon needs at least three distinct corners")
        if part.convex_hull.area == 0.0:
            raise InvalidFileError(path, field, "polygon has zero area (its corners lie on one line)")
        if not part.is_valid:
            raise InvalidFileError(path, field, f"invalid polygon: {explain_validity(part)}")


# ----------------------------------------------------------------------------------------------- writing


def write_geojson(path: str | os.PathLike, features: Iterable[Feature]) -> Path:
    """Write features as a GeoJSON FeatureCollection (RFC 7946, lon/lat WGS84).

    Parameters
    ----------
    path
        Output file.
    features
        ``(geometry, properties)`` pairs; NumPy scalars in properties are converted, NaN becomes null.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    doc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": to_jsonable(mapping(geom)), "properties": to_jsonable(dict(props))}
            for geom, props in features
        ],
    }
    path.write_text(json.dumps(doc, indent=1, allow_nan=False), encoding="utf-8")
    return path


def _kml_coord_text(coords: Sequence[Sequence[float]]) -> str:
    return " ".join(",".join(f"{c:.8f}".rstrip("0").rstrip(".") for c in xy) for xy in coords)


def _kml_geom(geom: BaseGeometry) -> str:
    if isinstance(geom, Point):
        return f"<Point><coordinates>{_kml_coord_text(geom.coords)}</coordinates></Point>"
    if isinstance(geom, (LineString, LinearRing)):
        mode = "<altitudeMode>relativeToGround</altitudeMode>" if geom.has_z else ""
        return f"<LineString>{mode}<coordinates>{_kml_coord_text(geom.coords)}</coordinates></LineString>"
    if isinstance(geom, Polygon):
        inner = "".join(
            f"<innerBoundaryIs><LinearRing><coordinates>{_kml_coord_text(r.coords)}</coordinates></LinearRing>"
            "</innerBoundaryIs>"
            for r in geom.interiors
        )
        return (
            "<Polygon><outerBoundaryIs><LinearRing><coordinates>"
            f"{_kml_coord_text(geom.exterior.coords)}</coordinates></LinearRing></outerBoundaryIs>{inner}</Polygon>"
        )
    if isinstance(geom, (MultiPoint, MultiLineString, MultiPolygon, GeometryCollection)):
        return "<MultiGeometry>" + "".join(_kml_geom(g) for g in geom.geoms) + "</MultiGeometry>"
    raise TypeError(f"cannot write {geom.geom_type} to KML")


def write_kml(
    path: str | os.PathLike,
    features: Iterable[Feature],
    *,
    name: str = "plumetrace",
    styles: Mapping[str, KmlStyle] | None = None,
    style_by: str | None = None,
) -> Path:
    """Write features as a KML 2.2 document of Placemarks, each drawn with a shared ``<Style>``.

    Parameters
    ----------
    path
        Output file.
    features
        ``(geometry, properties)`` pairs in lon/lat degrees (3-D coordinates are written as altitude
        relative to ground). ``properties["name"]`` names the Placemark; every property is also written as
        ``ExtendedData``.
    name
        Document name.
    styles
        Style per value of the property ``style_by`` (the key becomes the style id). A feature whose value has no
        style, and every feature when ``styles`` is None, gets the ``default`` style (white lines, 2 px).
    style_by
        Property that picks a feature's style (e.g. ``role``).

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    table = {"default": KmlStyle(), **(styles or {})}
    style_xml = "\n".join(style.kml(key) for key, style in table.items())
    placemarks = []
    for index, (geom, props) in enumerate(features):
        label = escape(str(props.get("name", f"feature {index}")))
        data = "".join(
            f'<Data name="{escape(str(k), {chr(34): "&quot;"})}"><value>{escape(str(to_jsonable(v)))}</value></Data>'
            for k, v in props.items()
        )
        extended = f"<ExtendedData>{data}</ExtendedData>" if data else ""
        key = str(props.get(style_by)) if style_by else "default"
        url = f"<styleUrl>#{escape(key if key in table else 'default')}</styleUrl>"
        placemarks.append(f"<Placemark><name>{label}</name>{url}{extended}{_kml_geom(geom)}</Placemark>")
    body = "\n".join(placemarks)
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<kml xmlns="{_KML_NS}"><Document><name>{escape(name)}</name>\n{style_xml}\n{body}\n</Document></kml>\n'
    )
    path.write_text(text, encoding="utf-8")
    return path


def write_csv(path: str | os.PathLike, rows: Sequence[Mapping[str, Any]]) -> Path:
    """Write rows of dicts as CSV; columns are the union of keys in order of first appearance.

    Parameters
    ----------
    path
        Output file.
    rows
        One dict per row; missing keys are written as empty cells.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    columns: dict[str, None] = {}
    for row in rows:
        for key in row:
            columns.setdefault(str(key), None)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns), restval="")
        writer.writeheader()
        for row in rows:
            writer.writerow({str(k): to_jsonable(v) for k, v in row.items()})
    return path
