"""Every STAC Item and Collection written by detect, plumes and invert validates offline, with its extensions.

The extension schemas come from tests/data/stac-schemas/ (see tests/stac_validation.py); nothing is fetched.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from plumetrace.products.detection import write_detection_products
from tests.stac_validation import offline_validator, validate_folder

pytest.importorskip("jsonschema")

UTM_11N = "EPSG:32611"
TRANSFORM = [30.0, 0.0, 500000.0, 0.0, -30.0, 4000000.0]


def _detection(georeferenced: bool = True, shape: tuple[int, int] = (80, 120)):
    import xarray as xr

    rng = np.random.default_rng(0)
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    plume = 1500.0 * np.exp(-((rows - 40) ** 2) / 30.0 - (cols - 50) ** 2 / 400.0) * (cols > 20)
    values = {
        "enhancement": plume + rng.normal(0.0, 30.0, shape),
        "uncertainty": np.full(shape, 30.0),
        "albedo": np.ones(shape),
        "sensitivity": np.ones(shape),
    }
    attrs = {"gas": "ch4", "method": "mf", "stats": "column", "sensor": "emit", "source": "scene.img"}
    if georeferenced:
        attrs.update(crs=UTM_11N, transform=TRANSFORM, acquisition_time="2026-06-01T18:00:00Z")
    return xr.Dataset({k: (("y", "x"), v.astype(np.float32)) for k, v in values.items()}, attrs=attrs)


@pytest.fixture
def detect_dir(tmp_path):
    out = tmp_path / "detect"
    out.mkdir()
    write_detection_products(_detection(), out)
    return out


def test_detect_item_declares_and_fills_projection_and_raster(detect_dir):
    (item,) = validate_folder(detect_dir)
    data = json.loads((detect_dir / "item.json").read_text())
    assert "https://stac-extensions.github.io/projection/v2.0.0/schema.json" in data["stac_extensions"]
    assert "https://stac-extensions.github.io/raster/v1.1.0/schema.json" in data["stac_extensions"]
    props = data["properties"]
    assert props["proj:code"] == "EPSG:32611"
    assert props["proj:wkt2"].startswith("PROJCRS[") and "WGS 84 / UTM zone 11N" in props["proj:wkt2"]
    assert props["proj:shape"] == [80, 120] and props["proj:transform"] == TRANSFORM
    bands = data["assets"]["enhancement"]["raster:bands"]
    assert [b["data_type"] for b in bands] == ["float32"] * 4
    assert all(b["nodata"] == "nan" for b in bands)  # the raster extension's spelling of NaN
    assert bands[0]["unit"] == bands[1]["unit"] and "ppm" in bands[0]["unit"]
    assert bands[0]["spatial_resolution"] == 30.0
    assert data["assets"]["enhancement"]["href"] == "enhancement.tif"
    assert item.get_self_href().endswith("item.json")
    collection = json.loads((detect_dir / "collection.json").read_text())
    west, south, east, north = collection["extent"]["spatial"]["bbox"][0]
    assert [west, south, east, north] == pytest.approx(data["bbox"])
    assert collection["extent"]["temporal"]["interval"][0][0].startswith("2026-06-01T18:00:00")


def test_detect_without_georeferencing_validates_without_projection(tmp_path):
    out = tmp_path / "raw"
    out.mkdir()
    write_detection_products(_detection(georeferenced=False, shape=(30, 8)), out)
    validate_folder(out)
    data = json.loads((out / "item.json").read_text())
    assert data["geometry"] is None and not any("proj:" in k for k in data["properties"])
    assert data["stac_extensions"] == ["https://stac-extensions.github.io/raster/v1.1.0/schema.json"]


def test_a_moved_folder_stays_valid(detect_dir, tmp_path):
    moved = tmp_path / "elsewhere" / "detect"
    shutil.copytree(detect_dir, moved)
    shutil.rmtree(detect_dir)
    assert len(validate_folder(moved)) == 1


def test_plumes_items_link_the_enhancement_relative_to_the_item(run_cli, detect_dir, tmp_path):
    out = tmp_path / "plumes"
    code, _, stderr = run_cli(
        "plumes", detect_dir / "enhancement.tif", "--wind-speed", "4", "--wind-dir", "270", "--out", out
    )
    assert code == 0, stderr
    items = validate_folder(out)
    assert len(items) >= 1
    data = json.loads(next((out / "items").glob("*.json")).read_text())
    assert data["assets"]["enhancement"]["href"] == "../../detect/enhancement.tif"
    assert data["assets"]["plumes"]["href"] == "../plumes.geojson"
    collection = json.loads((out / "collection.json").read_text())
    assert sorted(link["href"] for link in collection["links"] if link["rel"] == "item") == sorted(
        f"./items/{p.name}" for p in (out / "items").glob("*.json")
    )


def test_invert_item_and_collection_validate(run_cli, tmp_path):
    from plumetrace.simulate.observations import simulate_survey

    raw, _ = simulate_survey(kind="drone", emission_rate_g_s=5.0, source_xyz_m=(10.0, -20.0, 2.0), seed=5)
    path = tmp_path / "drone.csv"
    raw.to_csv(path, index=False)
    out = tmp_path / "invert"
    code, _, stderr = run_cli("invert", path, "--out", out, "--origin", "40,-100", "--source-height", "2")
    assert code == 0, stderr
    (item,) = validate_folder(out)
    assert item.collection_id == json.loads((out / "collection.json").read_text())["id"]


def test_an_undeclared_extension_field_fails_validation(detect_dir):
    """The validator is not a rubber stamp: a wrong raster:bands value is refused by the vendored schema."""
    import pystac

    item = pystac.Item.from_file(str(detect_dir / "item.json"))
    item.assets["enhancement"].extra_fields["raster:bands"][0]["nodata"] = "missing"
    with pytest.raises(pystac.errors.STACValidationError):
        item.validate(validator=offline_validator())
