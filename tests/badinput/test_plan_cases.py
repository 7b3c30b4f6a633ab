"""`plumetrace plan`: bad options, bad area / zone / route files, plans that cannot be flown (one row each)."""

from __future__ import annotations

import json
import time

import pytest

from tests.badinput.harness import Case, check_rejected, ids, write_bytes, write_text

SOURCE = ["--source", "31.81,-101.98", "--wind-dir", "270"]


def _plan(inputs, *extra):
    return ["plan", inputs.aoi_geojson, "--home", inputs.home, *extra]


def _transects(inputs, *extra, mode="transects"):
    return ["plan", "--mode", mode, "--home", inputs.home, *extra]


def _polygon(ring, name="zone"):
    return json.dumps(
        {"type": "Feature", "properties": {"name": name}, "geometry": {"type": "Polygon", "coordinates": [ring]}}
    )


def _box(lon0, lat0, lon1, lat1, name="zone"):
    return _polygon([[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]], name)


BOWTIE = _polygon([[-102.0, 31.8], [-101.95, 31.85], [-102.0, 31.85], [-101.95, 31.8], [-102.0, 31.8]])
POINTS = json.dumps(
    {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [-101.97, 31.81]}}
        ],
    }
)
NO_FEATURES = json.dumps({"type": "FeatureCollection", "features": []})
KML_BAD_COORDS = (
    '<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><Polygon><outerBoundaryIs>'
    "<LinearRing><coordinates>a,b c,d e,f</coordinates></LinearRing></outerBoundaryIs></Polygon>"
    "</Placemark></Document></kml>"
)


def _qgc(home=(31.79, -102.02, 0), fence=None, items=None):
    items = (
        items
        if items is not None
        else [
            {"type": "SimpleItem", "command": 22, "params": [0, 0, 0, None, 31.80, -101.99, 100]},
            {"type": "SimpleItem", "command": 16, "params": [0, 0, 0, None, 31.81, -101.98, 100]},
            {"type": "SimpleItem", "command": 20, "params": [0, 0, 0, 0, 0, 0, 0]},
        ]
    )
    doc = {
        "fileType": "Plan",
        "version": 1,
        "mission": {"items": items, "plannedHomePosition": list(home)},
        "geoFence": fence if fence is not None else {"polygons": []},
    }
    return json.dumps(doc)


CASES = [
    # ------------------------------------------------------------------ options: values out of range
    Case("altitude-zero", lambda i, t: _plan(i, "--altitude", 0), ("--altitude",)),
    Case("altitude-nan", lambda i, t: _plan(i, "--altitude", "nan"), ("--altitude",)),
    Case("altitude-above-20-km", lambda i, t: _plan(i, "--altitude", 30000), ("--altitude", "20000")),
    Case("altitude-not-a-number", lambda i, t: _plan(i, "--altitude", "high"), ("--altitude",)),
    Case("speed-zero", lambda i, t: _plan(i, "--speed", 0), ("--speed",)),
    Case("speed-supersonic", lambda i, t: _plan(i, "--speed", 900), ("--speed", "300")),
    Case("overlap-above-0.9", lambda i, t: _plan(i, "--overlap", 0.95), ("--overlap", "0.9")),
    Case("overlap-negative", lambda i, t: _plan(i, "--overlap", -0.1), ("--overlap",)),
    Case("heading-nan", lambda i, t: _plan(i, "--heading", "nan"), ("--heading",)),
    Case("turn-radius-negative", lambda i, t: _plan(i, "--turn-radius", -10), ("--turn-radius",)),
    Case("buffer-negative", lambda i, t: _plan(i, "--buffer", -5), ("--buffer",)),
    Case("endurance-zero", lambda i, t: _plan(i, "--endurance-min", 0), ("--endurance-min",)),
    Case("endurance-nan", lambda i, t: _plan(i, "--endurance-min", "nan"), ("--endurance-min",)),
    Case("fov-zero", lambda i, t: _plan(i, "--fov", 0), ("--fov",)),
    Case("fov-180", lambda i, t: _plan(i, "--fov", 180), ("--fov",)),
    Case("pixel-m-negative", lambda i, t: _plan(i, "--pixel-size", -1, "--pixels", 600), ("--pixel-size",)),
    Case("pixels-zero", lambda i, t: _plan(i, "--pixel-size", 1, "--pixels", 0), ("--pixels",)),
    Case("pixel-m-without-pixels", lambda i, t: _plan(i, "--pixel-size", 1), ("--pixel-size", "--pixels")),
    Case("sensor-unknown", lambda i, t: _plan(i, "--sensor", "modis"), ("--sensor", "aviris-ng")),
    Case("mode-unknown", lambda i, t: _plan(i, "--mode", "spiral"), ("--mode", "survey")),
    Case("swath-wider-than-area", lambda i, t: _plan(i, "--pixel-size", 10, "--pixels", 1000), ("swath",)),
    # ------------------------------------------------------------------ --home
    Case("home-missing", lambda i, t: ["plan", i.aoi_geojson], ("--home",)),
    Case("home-garbage", lambda i, t: ["plan", i.aoi_geojson, "--home", "the hangar"], ("--home",)),
    Case("home-one-number", lambda i, t: ["plan", i.aoi_geojson, "--home", "31.79"], ("--home",)),
    Case("home-latitude-beyond-90", lambda i, t: ["plan", i.aoi_geojson, "--home", "95,-102"], ("--home",)),
    Case("home-longitude-beyond-180", lambda i, t: ["plan", i.aoi_geojson, "--home", "31,200"], ("--home",)),
    Case("home-other-continent", lambda i, t: ["plan", i.aoi_geojson, "--home", "48.1,11.6"], ("--home", "km")),
    Case(
        "home-beyond-endurance",
        lambda i, t: ["plan", i.aoi_geojson, "--home", "31.5,-102.0", "--endurance-min", 10],
        ("--home", "endurance"),
    ),
    Case(
        "home-inside-no-fly",
        lambda i, t: _plan(i, "--no-fly", write_text(t, "nf.geojson", _box(-102.03, 31.78, -102.01, 31.795))),
        ("--home", "no-fly"),
    ),
    # ------------------------------------------------------------------ transects and curtains
    Case(
        "transects-without-source",
        lambda i, t: _transects(i, "--wind-dir", 270, "--distances", "200,500"),
        ("--source",),
    ),
    Case(
        "transects-without-wind",
        lambda i, t: _transects(i, "--source", "31.81,-101.98", "--distances", 200),
        ("--wind-dir",),
    ),
    Case("transects-without-distances", lambda i, t: _transects(i, *SOURCE), ("--distances",)),
    Case("distances-negative", lambda i, t: _transects(i, *SOURCE, "--distances", "-100,200"), ("--distances",)),
    Case("distances-garbage", lambda i, t: _transects(i, *SOURCE, "--distances", "near,far"), ("--distances",)),
    Case("distances-nan", lambda i, t: _transects(i, *SOURCE, "--distances", "nan"), ("--distances",)),
    Case("distances-beyond-100-km", lambda i, t: _transects(i, *SOURCE, "--distances", "1e9"), ("--distances",)),
    Case(
        "wind-dir-nan",
        lambda i, t: _transects(i, "--source", "31.81,-101.98", "--wind-dir", "nan", "--distances", 200),
        ("--wind-dir",),
    ),
    Case(
        "source-latitude-beyond-90",
        lambda i, t: _transects(i, "--source", "100,0", "--wind-dir", 270, "--distances", 200),
        ("--source",),
    ),
    Case(
        "transect-width-negative",
        lambda i, t: _transects(i, *SOURCE, "--distances", 200, "--transect-width", -5),
        ("--transect-width",),
    ),
    Case(
        "transects-home-far-away",
        lambda i, t: ["plan", "--mode", "transects", "--home", "-33.9,151.2", *SOURCE, "--distances", 200],
        ("--home", "km"),
    ),
    Case(
        "curtain-one-altitude",
        lambda i, t: _transects(i, *SOURCE, "--distances", 200, "--altitudes", 20, mode="curtain"),
        ("--altitudes",),
    ),
    Case(
        "curtain-negative-altitude",
        lambda i, t: _transects(i, *SOURCE, "--distances", 200, "--altitudes", "-5,20", mode="curtain"),
        ("--altitudes",),
    ),
    Case(
        "curtain-altitudes-garbage",
        lambda i, t: _transects(i, *SOURCE, "--distances", 200, "--altitudes", "low,high", mode="curtain"),
        ("--altitudes",),
    ),
    # ------------------------------------------------------------------ the area-of-interest file
    Case("aoi-not-given", lambda i, t: ["plan", "--home", i.home], ("AOI",)),
    Case(
        "aoi-missing", lambda i, t: ["plan", t / "nope.geojson", "--home", i.home], ("{tmp}/nope.geojson", "AOI file")
    ),
    Case("aoi-folder", lambda i, t: ["plan", t, "--home", i.home], ("{tmp}", "AOI file", "folder")),
    Case(
        "aoi-empty-file",
        lambda i, t: ["plan", write_text(t, "aoi.geojson", ""), "--home", i.home],
        ("{tmp}/aoi.geojson", "empty"),
    ),
    Case(
        "aoi-truncated-json",
        lambda i, t: [
            "plan",
            write_text(t, "aoi.geojson", '{"type": "FeatureCollection", "features": ['),
            "--home",
            i.home,
        ],
        ("{tmp}/aoi.geojson", "json"),
    ),
    Case(
        "aoi-binary",
        lambda i, t: ["plan", write_bytes(t, "aoi.geojson", b"\xff\xfe\x00\x01"), "--home", i.home],
        ("{tmp}/aoi.geojson", "json"),
    ),
    Case(
        "aoi-json-not-geojson",
        lambda i, t: ["plan", write_text(t, "aoi.json", "[1, 2, 3]"), "--home", i.home],
        ("{tmp}/aoi.json", "type"),
    ),
    Case(
        "aoi-unsupported-format",
        lambda i, t: ["plan", write_text(t, "aoi.csv", "lat,lon\n31,-102\n"), "--home", i.home],
        ("{tmp}/aoi.csv", "suffix"),
    ),
    Case(
        "aoi-no-features",
        lambda i, t: ["plan", write_text(t, "aoi.geojson", NO_FEATURES), "--home", i.home],
        ("{tmp}/aoi.geojson", "features"),
    ),
    Case(
        "aoi-only-points",
        lambda i, t: ["plan", write_text(t, "aoi.geojson", POINTS), "--home", i.home],
        ("{tmp}/aoi.geojson", "features[0].geometry", "Point"),
    ),
    Case(
        "aoi-self-intersecting",
        lambda i, t: ["plan", write_text(t, "aoi.geojson", BOWTIE), "--home", i.home],
        ("{tmp}/aoi.geojson", "feature.geometry", "Self-intersection"),
    ),
    Case(
        "aoi-zero-area",
        lambda i, t: [
            "plan",
            write_text(t, "aoi.geojson", _polygon([[-102, 31.8], [-101.98, 31.8], [-101.96, 31.8], [-102, 31.8]])),
            "--home",
            i.home,
        ],
        ("{tmp}/aoi.geojson", "feature.geometry", "zero area"),
    ),
    Case(
        "aoi-latitude-beyond-90",
        lambda i, t: ["plan", write_text(t, "aoi.geojson", _box(31.8, -102.0, 31.85, -101.95)), "--home", i.home],
        ("{tmp}/aoi.geojson", "feature.geometry", "latitude"),
    ),
    Case(
        "aoi-longitude-beyond-180",
        lambda i, t: ["plan", write_text(t, "aoi.geojson", _box(200.0, 31.8, 200.05, 31.85)), "--home", i.home],
        ("{tmp}/aoi.geojson", "feature.geometry", "longitude"),
    ),
    Case(
        "aoi-nan-coordinate",
        lambda i, t: [
            "plan",
            write_text(
                t, "aoi.geojson", _polygon([[-102, 31.8], [-101.95, 31.8], [-101.95, float("nan")], [-102, 31.8]])
            ),
            "--home",
            i.home,
        ],
        ("{tmp}/aoi.geojson", "non-finite"),
    ),
    Case(
        "aoi-malformed-coordinates",
        lambda i, t: [
            "plan",
            write_text(t, "aoi.geojson", json.dumps({"type": "Polygon", "coordinates": "abc"})),
            "--home",
            i.home,
        ],
        ("{tmp}/aoi.geojson", "geometry"),
    ),
    Case(
        "aoi-kml-not-xml",
        lambda i, t: ["plan", write_text(t, "aoi.kml", "<kml><Document>"), "--home", i.home],
        ("{tmp}/aoi.kml", "xml"),
    ),
    Case(
        "aoi-kml-bad-coordinates",
        lambda i, t: ["plan", write_text(t, "aoi.kml", KML_BAD_COORDS), "--home", i.home],
        ("{tmp}/aoi.kml", "Placemark[0]"),
    ),
    Case(
        "aoi-continent-size",
        lambda i, t: ["plan", write_text(t, "aoi.geojson", _box(-120, 30, -80, 48)), "--home", "39,-100"],
        ("{tmp}/aoi.geojson", "area", "split"),
    ),
    Case(
        "aoi-polygons-far-apart",
        lambda i, t: [
            "plan",
            write_text(
                t,
                "aoi.geojson",
                json.dumps(
                    {
                        "type": "MultiPolygon",
                        "coordinates": [
                            [[[-102, 31.8], [-101.99, 31.8], [-101.99, 31.81], [-102, 31.8]]],
                            [[[-90, 31.8], [-89.99, 31.8], [-89.99, 31.81], [-90, 31.8]]],
                        ],
                    }
                ),
            ),
            "--home",
            i.home,
        ],
        ("{tmp}/aoi.geojson", "area", "span"),
    ),
    Case(
        "aoi-too-many-lines",
        lambda i, t: [
            "plan",
            write_text(t, "aoi.geojson", _box(-102.2, 31.6, -101.8, 31.95)),
            "--home",
            i.home,
            "--altitude",
            60,
        ],
        ("{tmp}/aoi.geojson", "area", "lines"),
    ),
    # ------------------------------------------------------------------ no-fly and permitted zone files
    Case("no-fly-missing", lambda i, t: _plan(i, "--no-fly", t / "nf.geojson"), ("{tmp}/nf.geojson", "--no-fly")),
    Case(
        "no-fly-invalid-json",
        lambda i, t: _plan(i, "--no-fly", write_text(t, "nf.geojson", "{not json")),
        ("{tmp}/nf.geojson", "json"),
    ),
    Case(
        "no-fly-no-polygons",
        lambda i, t: _plan(i, "--no-fly", write_text(t, "nf.geojson", NO_FEATURES)),
        ("{tmp}/nf.geojson", "features"),
    ),
    Case(
        "no-fly-only-points",
        lambda i, t: _plan(i, "--no-fly", write_text(t, "nf.geojson", POINTS)),
        ("{tmp}/nf.geojson", "features[0].geometry"),
    ),
    Case(
        "no-fly-self-intersecting",
        lambda i, t: _plan(i, "--no-fly", write_text(t, "nf.geojson", BOWTIE)),
        ("{tmp}/nf.geojson", "invalid polygon"),
    ),
    Case(
        "no-fly-covers-whole-aoi",
        lambda i, t: [
            "plan",
            i.aoi_geojson,
            "--home",
            "31.6,-102.02",
            "--no-fly",
            write_text(t, "nf.geojson", _box(-102.1, 31.7, -101.8, 31.9, "range")),
        ],
        ("{tmp}/nf.geojson", "no_fly", "range"),
    ),
    Case(
        "permitted-missing", lambda i, t: _plan(i, "--permitted", t / "ok.geojson"), ("{tmp}/ok.geojson", "--permitted")
    ),
    Case(
        "permitted-no-polygons",
        lambda i, t: _plan(i, "--permitted", write_text(t, "ok.geojson", NO_FEATURES)),
        ("{tmp}/ok.geojson", "features"),
    ),
    Case(
        "permitted-kml-not-xml",
        lambda i, t: _plan(i, "--permitted", write_text(t, "ok.kml", "<kml")),
        ("{tmp}/ok.kml", "xml"),
    ),
    Case(
        "permitted-misses-aoi",
        lambda i, t: _plan(i, "--permitted", write_text(t, "ok.geojson", _box(10, 10, 10.1, 10.1, "elsewhere"))),
        ("{tmp}/ok.geojson", "permitted", "elsewhere"),
    ),
    # ------------------------------------------------------------------ --check of an existing route
    Case("check-missing", lambda i, t: ["plan", "--check", t / "nope.plan"], ("{tmp}/nope.plan", "--check")),
    Case(
        "check-garbage",
        lambda i, t: ["plan", "--check", write_text(t, "old.plan", "garbage")],
        ("{tmp}/old.plan", "json"),
    ),
    Case(
        "check-not-a-plan",
        lambda i, t: ["plan", "--check", write_text(t, "old.plan", '{"fileType": "Survey"}')],
        ("{tmp}/old.plan", "fileType"),
    ),
    Case(
        "check-no-mission-items",
        lambda i, t: ["plan", "--check", write_text(t, "old.plan", '{"fileType": "Plan", "mission": {"items": 3}}')],
        ("{tmp}/old.plan", "mission.items"),
    ),
    Case(
        "check-home-out-of-range",
        lambda i, t: ["plan", "--check", write_text(t, "old.plan", _qgc(home=(200, 0, 0)))],
        ("{tmp}/old.plan", "plannedHomePosition"),
    ),
    Case(
        "check-fence-garbage",
        lambda i, t: [
            "plan",
            "--check",
            write_text(
                t,
                "old.plan",
                _qgc(fence={"polygons": [{"inclusion": False, "polygon": [["a", "b"], ["c", "d"], ["e", "f"]]}]}),
            ),
        ],
        ("{tmp}/old.plan", "geoFence.polygons[0].polygon"),
    ),
    Case(
        "check-nothing-to-check-against",
        lambda i, t: ["plan", "--check", write_text(t, "old.plan", _qgc())],
        ("--permitted/--no-fly", "old.plan"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_plan_refused(run_cli, inputs, tmp_path, case):
    check_rejected(run_cli, case, inputs, tmp_path)


def test_continent_size_area_fails_fast(run_cli, inputs, tmp_path):
    """The work is sized before any planning: a continent is refused in well under 2 s."""
    case = next(c for c in CASES if c.id == "aoi-continent-size")
    start = time.perf_counter()
    check_rejected(run_cli, case, inputs, tmp_path)
    assert time.perf_counter() - start < 2.0
