"""STAC Items: construction, validation of arguments, JSON written with relative hrefs, footprints."""

from __future__ import annotations

import json

import pytest

from plumetrace.errors import InvalidInputError
from plumetrace.io.stac import footprint_wgs84, make_item, write_item


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


def test_null_geometry_and_unknown_time():
    item = make_item("x", geometry=None, bbox=None, datetime=None)
    assert item.geometry is None and item.properties["datetime_unknown"] is True


def test_geometry_without_bbox_rejected():
    with pytest.raises(InvalidInputError, match="bbox"):
        make_item("x", geometry={"type": "Point", "coordinates": [0, 0]}, bbox=None, datetime=None)


def test_bad_datetime_rejected():
    with pytest.raises(InvalidInputError, match="datetime"):
        make_item("x", geometry=None, bbox=None, datetime="yesterday")


def test_empty_id_rejected():
    with pytest.raises(InvalidInputError, match="item_id"):
        make_item("", geometry=None, bbox=None, datetime=None)
