"""The lean file-to-file path of `plumetrace detect` (no xarray/dask/pandas) gives the products of detect_scene."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from _detect_synthetic import disc_plume, georeferenced_disc_scene, synthetic_scene

WINDOW = (2100.0, 2480.0)


@pytest.fixture(scope="module")
def envi_path(tmp_path_factory):
    from plumetrace.io.envi import write_envi

    scene, _ = georeferenced_disc_scene(5)
    scene.attrs["solar_zenith_deg"] = 35.0
    return write_envi(scene, tmp_path_factory.mktemp("lean") / "scene.img")


def _products(folder):
    import rasterio

    with rasterio.open(folder / "enhancement.tif") as src:
        bands = src.read()
        tags = src.tags()
        crs, transform = src.crs, src.transform
    return bands, tags, crs, transform, json.loads((folder / "item.json").read_text())


@pytest.mark.parametrize(
    "options",
    [
        {"method": "mf", "stats": "column", "robust": False},
        {"method": "mf", "stats": "scene", "robust": False},
        {"method": "mf", "stats": "auto"},
        {"method": "ace", "stats": "group", "group_columns": 3},
        {"method": "sparse", "stats": "column", "iterations": 5},
    ],
    ids=["mf-column", "mf-scene", "mf-robust", "ace-group", "sparse"],
)
def test_lean_path_writes_the_products_of_detect_scene(envi_path, tmp_path, options):
    from plumetrace.detect.engine import detect_scene
    from plumetrace.detect.envi_file import detect_envi_file
    from plumetrace.detect.products import write_detection_products
    from plumetrace.io.envi import read_envi

    lean = detect_envi_file(envi_path, window_nm=WINDOW, progress=False, **options)
    assert lean is not None  # a plain ENVI cube takes the lean path
    full = detect_scene(read_envi(envi_path), window_nm=WINDOW, progress=False, **options)
    for name in ("enhancement", "uncertainty", "albedo", "sensitivity"):
        np.testing.assert_array_equal(lean[name].values, full[name].values)
    assert np.isfinite(lean["enhancement"].values).mean() > 0.9
    for key, value in lean.attrs.items():
        assert full.attrs[key] == value, key
    assert set(full.attrs) - set(lean.attrs) == {"pixel_size_m"}  # recorded in no product file

    for name, result in (("lean", lean), ("full", full)):
        (tmp_path / name).mkdir()
        write_detection_products(result, tmp_path / name, item_id="scene")
    a, b = _products(tmp_path / "lean"), _products(tmp_path / "full")
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1:] == b[1:]


def test_airmass_of_header_angles_matches_the_scene_convention():
    from plumetrace.detect.envi_file import airmass_from_angles
    from plumetrace.errors import InvalidInputError

    assert airmass_from_angles(None, None) == pytest.approx(2.0)
    assert airmass_from_angles(60.0, None) == pytest.approx(3.0)  # 1/cos 60° = 2
    assert airmass_from_angles(35.0, 10.0) == pytest.approx(1 / math.cos(math.radians(35)) + 1 / math.cos(math.radians(10)))
    with pytest.raises(InvalidInputError, match="solar_zenith_deg"):
        airmass_from_angles(86.0, 0.0)


def test_constants_agree_with_the_scene_module():
    from plumetrace.detect import envi_file
    from plumetrace.io import envi
    from plumetrace.scene import RADIANCE_UNITS, SENSORS

    assert envi_file._SENSORS == SENSORS
    assert envi.RADIANCE_UNITS == RADIANCE_UNITS


def test_files_needing_the_scene_reader_are_left_to_it(envi_path, tmp_path):
    import shutil

    from plumetrace.detect.envi_file import detect_envi_file

    copy = tmp_path / "scene.img"
    shutil.copy(envi_path, copy)
    shutil.copy(str(envi_path) + ".hdr", str(copy) + ".hdr")
    obs = tmp_path / "scene_obs"
    obs.write_bytes(b"")
    (tmp_path / "scene_obs.hdr").write_text("ENVI\n")
    assert detect_envi_file(copy, window_nm=WINDOW) is None  # per-pixel geometry: through the Scene

    truncated = tmp_path / "t.img"
    truncated.write_bytes(envi_path.read_bytes()[:-4])
    shutil.copy(str(envi_path) + ".hdr", str(truncated) + ".hdr")
    assert detect_envi_file(truncated, window_nm=WINDOW) is None  # the Scene reader names the problem

    hdf5 = tmp_path / "x.nc"
    hdf5.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(64))
    assert detect_envi_file(hdf5) is None


def test_truncated_file_still_fails_cleanly_through_the_cli(run_cli, envi_path, tmp_path):
    import shutil

    truncated = tmp_path / "t.img"
    truncated.write_bytes(envi_path.read_bytes()[:-4])
    shutil.copy(str(envi_path) + ".hdr", str(truncated) + ".hdr")
    code, _, stderr = run_cli("detect", truncated, "--out", tmp_path / "o")
    assert code == 2 and len(stderr.strip().splitlines()) == 1 and "t.img" in stderr
    assert not (tmp_path / "o").exists()


def test_cli_on_envi_imports_no_xarray_dask_or_pandas(tmp_path):
    # Without map info (like the detect_speed file): plumetrace.georef, which parses map info, still imports xarray.
    from plumetrace.io.envi import write_envi

    scene, _, _ = synthetic_scene(rows=160, cols=12, plume_ppm_m=disc_plume(160, 12, 1500.0, radius=4.0), seed=6)
    envi_path = write_envi(scene, tmp_path / "plain.img")
    code = (
        "import sys\n"
        "from plumetrace.cli import main\n"
        "try:\n"
        f"    main(['detect', {str(envi_path)!r}, '--out', {str(tmp_path / 'o')!r}, '--window', '2100,2480'])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print('LOADED=' + ','.join(m for m in ('xarray', 'dask', 'pandas') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "LOADED="
    assert (tmp_path / "o" / "enhancement.tif").is_file()
