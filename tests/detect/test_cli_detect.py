"""`plumetrace detect` end to end on an ENVI file: products, metadata, bad input leaves nothing."""

from __future__ import annotations

import json

import numpy as np
import pytest
from _detect_synthetic import georeferenced_disc_scene, synthetic_scene

WINDOW = "2100,2480"


@pytest.fixture(scope="module")
def envi_scene(tmp_path_factory):
    from plumetrace.io.envi import write_envi

    scene, truth = georeferenced_disc_scene(31)
    path = write_envi(scene, tmp_path_factory.mktemp("envi") / "scene.img")
    return path, truth


@pytest.mark.parametrize("method", ["mf", "sparse"])
def test_detect_writes_products(run_cli, tmp_path, envi_scene, method):
    path, truth = envi_scene
    out = tmp_path / "out"
    code, stdout, stderr = run_cli(
        "detect", path, "--out", out, "--method", method, "--window", WINDOW, "--iterations", "10"
    )
    assert code == 0, stderr
    assert sorted(p.name for p in out.iterdir()) == [
        ".plumetrace",
        "collection.json",
        "enhancement.tif",
        "item.json",
        "quicklook.png",
    ]

    import rasterio

    from plumetrace.io.cog import read_enhancement

    with rasterio.open(out / "enhancement.tif") as src:
        assert src.count == 4 and src.dtypes[0] == "float32" and np.isnan(src.nodata)
        assert src.descriptions == ("enhancement_ppm_m", "uncertainty_ppm_m", "albedo", "sensitivity")
        tags = src.tags()
        assert tags["units"] == "ppm m" and tags["gas"] == "ch4" and tags["method"] == method
        assert src.crs.to_epsg() == 32613
        assert src.profile["tiled"] and src.profile["compress"].lower() == "zstd"
    result = read_enhancement(out / "enhancement.tif")
    assert result.attrs["pixel_size_m"] == pytest.approx(60.0)
    enhancement = result.enhancement.values
    inside = truth > 1000
    assert np.mean(enhancement[inside]) > 0.7 * np.mean(truth[inside])

    item = json.loads((out / "item.json").read_text())
    assert item["type"] == "Feature" and item["properties"]["datetime"].startswith("2026-06-21T18:30:00")
    assert item["properties"]["plumetrace:method"] == method
    assert item["assets"]["enhancement"]["href"] == "enhancement.tif"
    west, south, east, north = item["bbox"]
    assert -106 < west < east < -102 and 31 < south < north < 32.5  # UTM 13N around (700 km E, 3500 km N)


def test_detect_without_georeferencing_writes_raw_grid(run_cli, tmp_path):
    from plumetrace.io.envi import write_envi

    scene, _, _ = synthetic_scene(rows=100, cols=6, seed=32)
    path = write_envi(scene, tmp_path / "raw.img")
    out = tmp_path / "out"
    code, _, stderr = run_cli("detect", path, "--out", out, "--window", WINDOW)
    assert code == 0, stderr
    import rasterio

    with rasterio.open(out / "enhancement.tif") as src:
        assert src.crs is None and (src.height, src.width) == (100, 6)
    item = json.loads((out / "item.json").read_text())
    assert item["geometry"] is None and "bbox" not in item or item.get("bbox") is None


@pytest.mark.parametrize(
    "args, message",
    [
        (["--gas", "xenon"], "gas: unknown gas"),
        (["--window", "1000,1200"], "--window"),
        (["--window", "abc"], "window"),
        (["--method", "magic"], "method"),
        (["--stats", "column", "--window", "2100,2480", "--chunk-rows", "16"], None),
    ],
)
def test_bad_input_exit_2_and_nothing_written(run_cli, tmp_path, envi_scene, args, message):
    path, _ = envi_scene
    out = tmp_path / "out"
    code, stdout, stderr = run_cli("detect", path, "--out", out, *args)
    if message is None:  # a valid call, as a control for the cases around it
        assert code == 0, stderr
        return
    assert code == 2
    assert message in stderr and len(stderr.strip().splitlines()) == 1
    assert not out.exists()
    assert not list(tmp_path.glob(".out.partial-*"))


def test_target_without_overlap_exit_2(run_cli, tmp_path, envi_scene):
    path, _ = envi_scene
    target = tmp_path / "vis.txt"
    target.write_text("1 500.0 -1.0\n2 510.0 -2.0\n3 520.0 -1.0\n")
    out = tmp_path / "out"
    code, _, stderr = run_cli("detect", path, "--out", out, "--gas", target, "--window", WINDOW)
    assert code == 2 and "no overlap" in stderr and not out.exists()


def test_too_few_valid_pixels_per_column_exit_2(run_cli, tmp_path):
    from plumetrace.io.envi import write_envi

    scene, _, _ = synthetic_scene(rows=40, cols=4, seed=33)
    scene["radiance"].values[4:, 1, :] = -9999.0
    path = write_envi(scene, tmp_path / "holes.img")
    out = tmp_path / "out"
    code, _, stderr = run_cli("detect", path, "--out", out, "--stats", "column", "--window", WINDOW)
    assert code == 2 and "too few valid pixels per column" in stderr and not out.exists()


def test_missing_scene_exit_2(run_cli, tmp_path):
    out = tmp_path / "out"
    code, _, stderr = run_cli("detect", tmp_path / "nope.img", "--out", out)
    assert code == 2 and "nope.img" in stderr and not out.exists()
