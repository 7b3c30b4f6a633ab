from __future__ import annotations

import csv
import json

import pytest

from plumetrace.io.vector import read_features
from plumetrace.plumes.pipeline import RECORD_FIELDS, analyze_plumes
from plumetrace.plumes.wind import wind_from_options
from plumetrace.products.plumes import write_plume_products

UTM_11N = "EPSG:32611"


@pytest.fixture
def result(plume_map_factory):
    ds = plume_map_factory()
    ds.attrs.update(
        crs=UTM_11N, transform=[30.0, 0.0, 500000.0, 0.0, -30.0, 4000000.0], acquisition_time="2026-06-01T18:00:00Z"
    )
    return analyze_plumes(ds, wind=wind_from_options(4.0, 270.0))


@pytest.fixture
def plume_map_factory():
    import numpy as np
    import xarray as xr

    def _make():
        rng = np.random.default_rng(0)
        values = rng.normal(0.0, 30.0, (60, 60))
        values[25:35, 10:40] += 600.0
        return xr.Dataset({"enhancement": (("y", "x"), values)}, attrs={"sensor": "emit", "gas": "ch4"})

    return _make


def test_geojson_has_a_point_and_a_polygon_per_plume_with_the_named_properties(tmp_path, result):
    write_plume_products(tmp_path, result.records, result.outlines, georeferenced=True)
    features = read_features(tmp_path / "plumes.geojson")
    assert len(features) == 2 * len(result.records) == 2
    kinds = {geom.geom_type for geom, _ in features}
    assert kinds == {"Point", "Polygon"}
    for _geom, props in features:
        for name in RECORD_FIELDS:
            assert name in props
        assert props["time"] == "2026-06-01T18:00:00Z"
    point = next(geom for geom, _ in features if geom.geom_type == "Point")
    polygon = next(geom for geom, _ in features if geom.geom_type == "Polygon")
    assert polygon.contains(point)
    assert -118 < point.x < -116 and 35 < point.y < 37


def test_kml_csv_and_stac_items(tmp_path, result):
    write_plume_products(tmp_path, result.records, result.outlines, georeferenced=True)
    kml = read_features(tmp_path / "plumes.kml")
    assert len(kml) == 2
    with (tmp_path / "plumes.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 1
    assert float(rows[0]["emission_rate_kg_h"]) == pytest.approx(result.records[0]["emission_rate_kg_h"])
    items = sorted((tmp_path / "items").glob("*.json"))
    assert len(items) == 1
    item = json.loads(items[0].read_text())
    assert item["type"] == "Feature" and item["geometry"]["type"] == "Polygon"
    assert item["properties"]["datetime"].startswith("2026-06-01T18:00:00")


def test_without_georeferencing_geometry_is_null_and_no_kml(tmp_path, plume_map_factory):
    result = analyze_plumes(plume_map_factory(), wind=wind_from_options(4.0, 270.0), pixel_size_m=30.0)
    write_plume_products(tmp_path, result.records, result.outlines, georeferenced=False)
    doc = json.loads((tmp_path / "plumes.geojson").read_text())
    assert doc["features"][0]["geometry"] is None
    assert doc["features"][0]["properties"]["source_row"] >= 0
    assert not (tmp_path / "plumes.kml").exists()
    item = json.loads(next((tmp_path / "items").glob("*.json")).read_text())
    assert item["geometry"] is None and "bbox" not in item


def test_no_plume_still_writes_header_only_csv(tmp_path):
    write_plume_products(tmp_path, [], [], georeferenced=True)
    assert (tmp_path / "plumes.csv").read_text().startswith("plume_id,gas,sensor")
    assert json.loads((tmp_path / "plumes.geojson").read_text())["features"] == []


def test_items_are_strict_json_and_valid_stac_even_without_a_time(tmp_path, plume_map_factory):
    pytest.importorskip("jsonschema")
    import pystac

    result = analyze_plumes(plume_map_factory(), wind=wind_from_options(4.0, 270.0), pixel_size_m=30.0)
    records = [{**r, "time": None, "emission_rate_csf_kg_h": float("nan")} for r in result.records]
    write_plume_products(tmp_path, records, result.outlines, georeferenced=False)

    def refuse(name):
        pytest.fail(f"{name} in strict JSON")

    for path in [tmp_path / "plumes.geojson", *(tmp_path / "items").glob("*.json")]:
        data = json.loads(path.read_text(), parse_constant=refuse)
        if path.suffix == ".json":
            assert data["properties"]["datetime"] is None and data["properties"]["datetime_unknown"] is True
            assert data["properties"]["plumetrace:emission_rate_csf_kg_h"] is None
            assert pystac.Item.from_file(str(path)).validate()  # relative links resolve from the file


def test_a_fragmented_plume_is_one_complex_with_a_multipolygon_and_its_components(tmp_path):
    import numpy as np
    import xarray as xr

    rng = np.random.default_rng(0)
    values = rng.normal(0.0, 30.0, (60, 80))
    values[28:33, 8:30] += 600.0  # the plume near its source
    values[27:34, 36:50] += 300.0  # a fragment 6 pixels further downwind
    ds = xr.Dataset(
        {"enhancement": (("y", "x"), values)},
        attrs={
            "sensor": "emit",
            "gas": "ch4",
            "crs": UTM_11N,
            "transform": [30.0, 0.0, 500000.0, 0.0, -30.0, 4000000.0],
            "acquisition_time": "2026-06-01T18:00:00Z",
        },
    )
    result = analyze_plumes(ds, wind=wind_from_options(4.0, 270.0))
    assert result.labels.attrs["n_components"] == 2 and len(result.records) == 1
    write_plume_products(tmp_path, result.records, result.outlines, georeferenced=True)
    outline = next(
        f for f in json.loads((tmp_path / "plumes.geojson").read_text())["features"] if f["geometry"]["type"] != "Point"
    )
    assert outline["geometry"]["type"] == "MultiPolygon" and outline["properties"]["n_components"] == 2
    item = json.loads((tmp_path / "items" / "plume-001.json").read_text())
    components = item["properties"]["plumetrace:components"]
    assert [c["id"] for c in components] == [1, 2] and components[0]["mass_fraction"] > components[1]["mass_fraction"]
    row = next(csv.DictReader((tmp_path / "plumes.csv").open()))
    assert row["component_ids"] == "1;2" and float(row["extent_along_wind_m"]) >= 42 * 30.0


def test_the_near_limit_flag_is_in_every_output(tmp_path, result):
    record = result.records[0]
    assert record["near_detection_limit"] is False  # a 20-sigma plume
    write_plume_products(tmp_path, result.records, result.outlines, georeferenced=True)
    for _geom, props in read_features(tmp_path / "plumes.geojson"):
        assert props["near_detection_limit"] is False
        assert props["peak_significance_sigma"] == pytest.approx(record["peak_significance_sigma"])
    with (tmp_path / "plumes.csv").open() as fh:
        row = next(csv.DictReader(fh))
    assert row["near_detection_limit"] == "False" and float(row["selection_bias_factor"]) == 1.0
    item = json.loads(next((tmp_path / "items").glob("*.json")).read_text())
    assert item["properties"]["plumetrace:near_detection_limit"] is False
