"""Vector I/O: polygons with holes round-trip through GeoJSON and KML; bad files give one-line errors."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET

import pytest
from shapely.geometry import LineString, Point, Polygon

from plumetrace.errors import InvalidFileError, MissingFileError
from plumetrace.io.vector import read_features, read_polygons, write_csv, write_geojson, write_kml

SHELL = [(10.0, 50.0), (10.1, 50.0), (10.1, 50.1), (10.0, 50.1), (10.0, 50.0)]
HOLE = [(10.04, 50.04), (10.06, 50.04), (10.06, 50.06), (10.04, 50.06), (10.04, 50.04)]


@pytest.fixture
def donut() -> Polygon:
    return Polygon(SHELL, [HOLE])


@pytest.mark.parametrize("suffix", [".geojson", ".kml"])
def test_polygon_with_hole_round_trips(tmp_path, donut, suffix):
    path = tmp_path / f"aoi{suffix}"
    if suffix == ".kml":
        write_kml(path, [(donut, {"name": "aoi", "kind": "area"})], name="test")
    else:
        write_geojson(path, [(donut, {"name": "aoi"})])
    (poly,) = read_polygons(path)
    assert len(poly.interiors) == 1
    # Area of shell minus hole, exactly as written
    assert poly.area == pytest.approx(0.1 * 0.1 - 0.02 * 0.02, rel=1e-9)
    assert poly.symmetric_difference(donut).area < 1e-12
    ((_, props),) = read_features(path)
    assert props["name"] == "aoi"


def test_geojson_is_rfc7946_lon_lat(tmp_path, donut):
    path = write_geojson(tmp_path / "a.geojson", [(donut, {"n": 1})])
    doc = json.loads(path.read_text())
    assert doc["type"] == "FeatureCollection"
    first = doc["features"][0]["geometry"]["coordinates"][0][0]
    assert first == [10.0, 50.0]  # lon first


def test_kml_has_placemarks_in_kml_namespace(tmp_path):
    path = write_kml(tmp_path / "r.kml", [(LineString([(1, 2, 100), (3, 4, 100)]), {"name": "leg & 1"})], name="r")
    root = ET.parse(path).getroot()
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    assert root.find(".//k:Placemark/k:name", ns).text == "leg & 1"
    assert root.find(".//k:LineString/k:coordinates", ns).text.split()[0] == "1,2,100"


def test_read_features_keeps_lines_and_points(tmp_path):
    path = write_geojson(tmp_path / "r.geojson", [(LineString([(0, 0), (1, 1)]), {}), (Point(2, 3), {"a": 1})])
    geoms = [g.geom_type for g, _ in read_features(path)]
    assert geoms == ["LineString", "Point"]


def test_write_csv_union_of_columns(tmp_path):
    path = write_csv(tmp_path / "w.csv", [{"a": 1, "b": 2.5}, {"a": 3, "c": "x"}])
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["a", "b", "c"]
    assert rows[1] == {"a": "3", "b": "", "c": "x"}


def test_missing_file(tmp_path):
    with pytest.raises(MissingFileError, match="nope.geojson"):
        read_polygons(tmp_path / "nope.geojson")


def test_self_intersecting_polygon_is_refused(tmp_path):
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    path = tmp_path / "bow.geojson"
    path.write_text(
        json.dumps(
            {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": bowtie, "properties": {}}]}
        )
    )
    with pytest.raises(InvalidFileError, match=r"bow.geojson: features\[0\].geometry: invalid polygon: Self-inter"):
        read_polygons(path)


def test_self_intersecting_kml_is_refused(tmp_path):
    path = tmp_path / "bow.kml"
    path.write_text(
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><Polygon><outerBoundaryIs><LinearRing>'
        "<coordinates>0,0 1,1 1,0 0,1 0,0</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark></kml>"
    )
    with pytest.raises(InvalidFileError, match=r"Placemark\[0\].Polygon: invalid polygon"):
        read_polygons(path)


def test_not_json(tmp_path):
    path = tmp_path / "x.geojson"
    path.write_text("{nope")
    with pytest.raises(InvalidFileError, match="x.geojson: json: not valid JSON"):
        read_polygons(path)


def test_not_xml(tmp_path):
    path = tmp_path / "x.kml"
    path.write_text("<kml><Placemark>")
    with pytest.raises(InvalidFileError, match="x.kml: xml"):
        read_polygons(path)


def test_unsupported_suffix(tmp_path):
    path = tmp_path / "x.shp"
    path.write_bytes(b"\0")
    with pytest.raises(InvalidFileError, match="suffix"):
        read_polygons(path)


def test_non_polygon_refused_by_read_polygons(tmp_path):
    path = write_geojson(tmp_path / "l.geojson", [(LineString([(0, 0), (1, 1)]), {})])
    with pytest.raises(InvalidFileError, match=r"features\[0\].geometry: expected a Polygon, got LineString"):
        read_polygons(path)


def test_projected_coordinates_refused(tmp_path):
    path = tmp_path / "utm.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "Polygon",
                "coordinates": [[[500000, 5500000], [501000, 5500000], [501000, 5501000], [500000, 5500000]]],
            }
        )
    )
    with pytest.raises(InvalidFileError, match="not lon/lat degrees"):
        read_polygons(path)


def test_degenerate_polygon_refused(tmp_path):
    path = tmp_path / "deg.geojson"
    path.write_text(json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0], [0, 0]]]}))
    with pytest.raises(InvalidFileError, match="deg.geojson"):
        read_polygons(path)


def test_empty_collection_refused(tmp_path):
    path = tmp_path / "e.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    with pytest.raises(InvalidFileError, match="no polygon found"):
        read_polygons(path)


def test_polygon_drawn_across_antimeridian_is_read_as_crossing_it(tmp_path):
    path = tmp_path / "fiji.geojson"
    ring = [[179.9, -17.0], [-179.9, -17.0], [-179.9, -16.8], [179.9, -16.8], [179.9, -17.0]]
    path.write_text(json.dumps({"type": "Polygon", "coordinates": [ring]}))
    (poly,) = read_polygons(path)
    # 0.2° wide and continuous (179.9 … 180.1), not 359.8° wide
    minx, _, maxx, _ = poly.bounds
    assert (minx, maxx) == pytest.approx((179.9, 180.1))
    assert poly.is_valid


@pytest.mark.parametrize(
    "ring,match",
    [
        ([[-102, 31.8], [-101.98, 31.8], [-101.96, 31.8], [-102, 31.8]], "polygon has zero area"),
        ([[200, 31.8], [200.05, 31.8], [200.05, 31.85], [200, 31.8]], r"longitude 200.05 is outside \[-180, 180\]"),
    ],
)
def test_flat_or_out_of_range_polygon_is_refused(tmp_path, ring, match):
    path = tmp_path / "aoi.geojson"
    path.write_text(json.dumps({"type": "Polygon", "coordinates": [ring]}))
    with pytest.raises(InvalidFileError, match=f"aoi.geojson: geometry: {match}"):
        read_polygons(path)


def test_antimeridian_polygon_past_180_is_kept(tmp_path):
    path = tmp_path / "aoi.geojson"
    path.write_text(
        json.dumps({"type": "Polygon", "coordinates": [[[179.9, 10], [180.1, 10], [180.1, 10.1], [179.9, 10]]]})
    )
    assert read_polygons(path)[0].area > 0


def test_empty_file_and_folder_are_refused_naming_what_they_are(tmp_path):
    empty = tmp_path / "aoi.geojson"
    empty.write_text("")
    with pytest.raises(InvalidFileError, match="aoi.geojson: AOI file: file is empty"):
        read_polygons(empty, what="AOI file")
    with pytest.raises(InvalidFileError, match="AOI file: is a folder"):
        read_polygons(tmp_path, what="AOI file")
    with pytest.raises(MissingFileError, match="nope.geojson: AOI file not found"):
        read_polygons(tmp_path / "nope.geojson", what="AOI file")


def _kml_styles(path):
    """{style id: Style element} and the styleUrl of each Placemark (by name) of a KML file."""
    import xml.etree.ElementTree as ET

    ns = {"k": "http://www.opengis.net/kml/2.2"}
    root = ET.parse(path).getroot()
    styles = {s.get("id"): s for s in root.iterfind(".//k:Document/k:Style", ns)}
    urls = {
        pm.findtext("k:name", namespaces=ns): pm.findtext("k:styleUrl", namespaces=ns)
        for pm in root.iterfind(".//k:Placemark", ns)
    }
    return styles, urls


def test_kml_styles_are_written_and_referenced(tmp_path):
    from shapely.geometry import LineString, Point, box

    from plumetrace.io.vector import KmlStyle, write_kml

    styles = {
        "zone": KmlStyle(line="#d62728", width=3, fill="#d62728", fill_opacity=0.5),
        "site": KmlStyle(icon="star.png", icon_colour="#00ff00"),
    }
    features = [
        (box(0, 0, 1, 1), {"name": "z", "kind": "zone"}),
        (Point(0.5, 0.5), {"name": "s", "kind": "site"}),
        (LineString([(0, 0), (1, 1)]), {"name": "l", "kind": "unknown"}),
    ]
    path = write_kml(tmp_path / "x.kml", features, styles=styles, style_by="kind")
    found, urls = _kml_styles(path)
    assert set(found) == {"default", "zone", "site"}
    assert urls == {"z": "#zone", "s": "#site", "l": "#default"}
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    zone = found["zone"]
    # KML colours are aabbggrr: #d62728 at 50 % -> 80 2827d6
    assert zone.findtext("k:LineStyle/k:color", namespaces=ns) == "ff2827d6"
    assert zone.findtext("k:LineStyle/k:width", namespaces=ns) == "3"
    assert zone.findtext("k:PolyStyle/k:color", namespaces=ns) == "802827d6"
    assert found["site"].findtext("k:IconStyle/k:Icon/k:href", namespaces=ns).endswith("/star.png")
    assert found["site"].findtext("k:IconStyle/k:color", namespaces=ns) == "ff00ff00"
    # styles do not disturb reading back: geometries and properties as written
    back = read_features(path)
    assert [props["name"] for _, props in back] == ["z", "s", "l"] and back[0][0].equals(box(0, 0, 1, 1))


def test_kml_without_styles_uses_the_default_style(tmp_path):
    from shapely.geometry import Point

    from plumetrace.io.vector import write_kml

    found, urls = _kml_styles(write_kml(tmp_path / "x.kml", [(Point(1, 2), {"name": "p"})]))
    assert set(found) == {"default"} and urls == {"p": "#default"}


def test_plume_and_plan_kml_reference_their_styles(tmp_path):
    import numpy as np
    import xarray as xr
    from shapely.geometry import box

    from plumetrace.plan.airspace import Zone
    from plumetrace.plan.export import write_plan_outputs
    from plumetrace.plan.survey import plan_survey
    from plumetrace.plumes.pipeline import analyze_plumes
    from plumetrace.plumes.wind import wind_from_options
    from plumetrace.products.plumes import write_plume_products

    values = np.random.default_rng(0).normal(0.0, 30.0, (60, 60))
    values[25:35, 10:40] += 600.0
    ds = xr.Dataset({"enhancement": (("y", "x"), values)}, attrs={"sensor": "emit", "gas": "ch4"})
    ds.attrs.update(crs="EPSG:32611", transform=[30.0, 0.0, 500000.0, 0.0, -30.0, 4000000.0])
    result = analyze_plumes(ds, wind=wind_from_options(4.0, 270.0))
    write_plume_products(tmp_path / "p", result.records, result.outlines, georeferenced=True)
    found, _ = _kml_styles(tmp_path / "p" / "plumes.kml")
    text = (tmp_path / "p" / "plumes.kml").read_text()
    assert {"outline", "source"} <= set(found)
    assert text.count("<styleUrl>#outline</styleUrl>") == text.count("<styleUrl>#source</styleUrl>") == 1

    area = box(-102.02, 31.78, -101.98, 31.80)
    zone = Zone(name="tower", kind="no_fly", polygon_lonlat=box(-102.005, 31.785, -101.995, 31.79))
    plan = plan_survey(
        [area], swath_m=400, altitude_agl_m=800, speed_m_s=40, home_lonlat=(-102.03, 31.77), zones=[zone], buffer_m=50
    )
    (tmp_path / "plan").mkdir()
    write_plan_outputs(tmp_path / "plan", plan, png=False)
    found, urls = _kml_styles(tmp_path / "plan" / "plan.kml")
    assert set(urls.values()) <= {f"#{key}" for key in found}
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    assert urls["tower"] == "#no_fly"
    assert found["no_fly"].findtext("k:PolyStyle/k:color", namespaces=ns).endswith("2827d6")  # red
    assert "#imaging_line" in urls.values() and "#route" in urls.values() and urls["home"] == "#home"
