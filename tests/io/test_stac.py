"""STAC Items: construction, validation of arguments, strict JSON written with relative hrefs, unknown times, footprints."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from plumetrace.errors import InvalidInputError
from plumetrace.io.stac import UNKNOWN_START, footprint_wgs84, make_item, write_item


def test_item_round_trip(tmp_path):
    geometry, bbox = footprint_wgs84("EPSG:32611", [30.0, 0.0, 500000.0, 0.0, -30.0, 4000000.0], (100, 200))
    item = make_item(
        "scene_ch4_mf",
        geometry=geometry,
        bbox=bbox,
        datetime="2026-06-21T18:30:00Z",
        properties={"plumetrace:gas": "ch4"},
        assets={"enhancement": ("enhancement.tif", "image/tiff", ["data"], "CH4")},
    )
    path = write_item(item, tmp_path / "item.json")
    data = json.loads(path.read_text())
    assert data["id"] == "scene_ch4_mf" and data["properties"]["datetime"] == "2026-06-21T18:30:00Z"
    assert data["assets"]["enhancement"]["href"] == "enhancement.tif"
    assert data["assets"]["enhancement"]["roles"] == ["data"]
    # UTM 11N, 500 km E is the central meridian -117°; 4000 km N is about 36.1°N; 6 km × 3 km footprint.
    west, south, east, north = data["bbox"]
    assert west == pytest.approx(-117.0, abs=1e-6)
    assert north == pytest.approx(36.14, abs=0.01)
    assert (east - west) * 111.32 * 0.808 == pytest.approx(6.0, rel=0.01)
    assert (north - south) * 110.96 == pytest.approx(3.0, rel=0.01)


def test_null_geometry_and_unknown_time(tmp_path):
    item = make_item("x", geometry=None, bbox=None, datetime=None)
    assert item.geometry is None and item.properties["datetime_unknown"] is True
    data = json.loads(write_item(item, tmp_path / "x.json").read_text())
    props = data["properties"]
    # no made-up acquisition date: null datetime, an open start and the processing time as end and created
    assert props["datetime"] is None and "1970" not in json.dumps(data)
    assert props["start_datetime"] == UNKNOWN_START.isoformat().replace("+00:00", "Z")
    assert props["end_datetime"] == props["created"]
    created = dt.datetime.fromisoformat(props["created"])
    assert abs((dt.datetime.now(dt.UTC) - created).total_seconds()) < 60


def test_known_time_has_no_range_and_no_unknown_flag():
    props = make_item("x", geometry=None, bbox=None, datetime="2026-06-21T18:30:00").to_dict()["properties"]
    assert props["datetime"] == "2026-06-21T18:30:00Z"
    assert not {"start_datetime", "end_datetime", "created", "datetime_unknown"} & set(props)


def test_non_finite_and_numpy_properties_are_written_as_strict_json(tmp_path):
    props = {"a": float("nan"), "b": np.float32(2.5), "c": np.arange(3), "d": {"e": -np.inf}, "f": (1, np.int64(2))}
    item = make_item("x", geometry=None, bbox=None, datetime=None, properties=props)
    text = write_item(item, tmp_path / "x.json").read_text()
    data = json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in STAC JSON"))
    assert {k: data["properties"][k] for k in props} == {
        "a": None,
        "b": 2.5,
        "c": [0, 1, 2],
        "d": {"e": None},
        "f": [1, 2],
    }


@pytest.mark.parametrize("datetime", [None, "2026-06-21T18:30:00Z"])
def test_items_validate_against_the_stac_schema(datetime):
    pytest.importorskip("jsonschema")
    geometry, bbox = footprint_wgs84("EPSG:32611", [30.0, 0.0, 500000.0, 0.0, -30.0, 4000000.0], (10, 20))
    for geom, box in ((geometry, bbox), (None, None)):
        item = make_item("x", geometry=geom, bbox=box, datetime=datetime, properties={"v": float("nan")})
        assert item.validate()


def test_geometry_without_bbox_rejected():
    with pytest.raises(InvalidInputError, match="bbox"):
        make_item("x", geometry={"type": "Point", "coordinates": [0, 0]}, bbox=None, datetime=None)


def test_bad_datetime_rejected():
    with pytest.raises(InvalidInputError, match="datetime"):
        make_item("x", geometry=None, bbox=None, datetime="yesterday")


def test_empty_id_rejected():
    with pytest.raises(InvalidInputError, match="item_id"):
        make_item("", geometry=None, bbox=None, datetime=None)
