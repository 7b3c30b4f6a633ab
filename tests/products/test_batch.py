"""Scene-level parallel detection (plumetrace.parallel, plumetrace.products.batch)."""

from __future__ import annotations

import numpy as np
import pytest

from plumetrace.errors import InvalidInputError
from plumetrace.parallel import client, map_scenes
from plumetrace.products.batch import detect_files


def _square(x: int) -> int:
    return x * x


def test_map_scenes_keeps_order_synchronously():
    assert map_scenes(_square, [3, 1, 2], scheduler="synchronous") == [9, 1, 4]


def test_bad_scheduler_address_is_rejected():
    with pytest.raises(InvalidInputError, match="scheduler"):
        with client("not an address"):
            pass


def test_detect_files_writes_one_folder_per_scene_matching_detect_scene(tmp_path):
    from plumetrace.detect.engine import detect_scene
    from plumetrace.io.cog import read_enhancement
    from plumetrace.io.envi import write_envi
    from tests.detect._detect_synthetic import disc_plume, synthetic_scene

    paths = []
    for i in range(2):
        scene, _, _ = synthetic_scene(rows=60, cols=12, seed=i, plume_ppm_m=disc_plume(60, 12, 2000.0, radius=4))
        paths.append(write_envi(scene, tmp_path / f"line{i}.img"))
    outs = detect_files(paths, tmp_path / "out", scheduler="synchronous", window_nm=(2100.0, 2450.0))
    assert [o.name for o in outs] == ["line0", "line1"]
    from plumetrace.io.open_scene import open_scene

    direct = detect_scene(open_scene(paths[1]), window_nm=(2100.0, 2450.0), progress=False)
    written = read_enhancement(outs[1] / "enhancement.tif")
    np.testing.assert_allclose(written["enhancement"].values, direct["enhancement"].values, rtol=1e-5, atol=1e-3)


def test_detect_files_rejects_colliding_names(tmp_path):
    with pytest.raises(InvalidInputError, match="stem"):
        detect_files([tmp_path / "a" / "x.img", tmp_path / "b" / "x.img"], tmp_path / "out", scheduler="synchronous")
