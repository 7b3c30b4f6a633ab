"""`plumetrace info`: summary of files written here, JSON output, and one-line errors with exit status 2."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pyproj import CRS

from plumetrace.errors import InvalidFileError
from plumetrace.io.emit import write_emit_netcdf
from plumetrace.io.envi import write_envi
from plumetrace.io.open_scene import describe_scene, detect_format, open_scene
from plumetrace.scene import make_scene

WAVELENGTH_NM = np.linspace(2100.0, 2450.0, 6)
TRANSFORM = (3.86435309248245, 3.479479153066063, 581226.666764, 3.479479153066063, -3.86435309248245, 7916192.5)


@pytest.fixture
def envi_scene(tmp_path):
    radiance = np.random.default_rng(0).uniform(1, 5, (8, 5, 6)).astype(np.float32)
    scene = make_scene(
        radiance,
        WAVELENGTH_NM,
        np.full(6, 5.5),
        sensor="aviris-ng",
        crs=CRS.from_epsg(32604).to_wkt(),
        transform=TRANSFORM,
        acquisition_time="2017-07-14T21:37:41Z",
        solar_zenith_deg=48.0,
    )
    return write_envi(scene, tmp_path / "ang20170714t213741_rdn_v2p9_img")


def test_info_json_reports_what_was_written(run_cli, envi_scene):
    code, out, err = run_cli("info", envi_scene, "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["sensor"] == "aviris-ng"
    assert (summary["lines"], summary["samples"], summary["bands"]) == (8, 5, 6)
    assert summary["wavelength_min_nm"] == pytest.approx(2100.0)
    assert summary["wavelength_max_nm"] == pytest.approx(2450.0)
    assert summary["acquisition_time"] == "2017-07-14T21:37:41Z"
    assert summary["solar_zenith_deg"] == 48.0
    grid = summary["georeferencing"]["raw_grid"]
    assert grid["crs"]["epsg"] == 32604
    assert grid["rotation_deg"] == pytest.approx(42.0)
    assert grid["pixel_size"] == pytest.approx([5.2, 5.2])
    assert summary["pixel_size_m"] == pytest.approx(5.2)
    assert summary["radiance_units"] == "uW cm-2 sr-1 nm-1"


def test_info_table(run_cli, envi_scene):
    code, out, _ = run_cli("info", envi_scene)
    assert code == 0
    for text in ("aviris-ng", "8 lines x 5 samples x 6 bands", "2100.0-2450.0 nm", "EPSG:32604", "rotation 42.000"):
        assert text in out


def test_open_scene_dispatches_emit_with_glt(tmp_path):
    radiance = np.ones((4, 3, 6), np.float32)
    scene = make_scene(
        radiance,
        WAVELENGTH_NM,
        np.full(6, 8.0),
        sensor="emit",
        crs=CRS.from_epsg(4326).to_wkt(),
        transform=(0.0005, 0, -118.0, 0, -0.0005, 34.0),
    )
    path = write_emit_netcdf(scene, tmp_path / "e.nc")
    assert detect_format(path) == "emit"
    summary = describe_scene(open_scene(path))
    assert summary["georeferencing"]["glt"]["shape"] == [4, 3]
    assert summary["georeferencing"]["glt"]["valid_fraction"] == 1.0
    assert summary["georeferencing"]["glt"]["crs"]["epsg"] == 4326


@pytest.mark.parametrize(
    ("make_bad", "message"),
    [
        (lambda p: p.write_bytes(p.read_bytes()[:-7]), "data size"),  # truncated
        (
            lambda p: p.with_name(p.name + ".hdr").write_text(
                p.with_name(p.name + ".hdr").read_text().replace("interleave = bil", "interleave = bqq")
            ),
            "interleave",
        ),
        (
            lambda p: p.with_name(p.name + ".hdr").write_text(
                p.with_name(p.name + ".hdr")
                .read_text()
                .replace("wavelength units = Nanometers", "wavelength units = Unknown")
            ),
            "wavelength units",
        ),
    ],
)
def test_bad_file_exits_2_with_one_line(run_cli, envi_scene, tmp_path, make_bad, message):
    make_bad(envi_scene)
    before = sorted(tmp_path.rglob("*"))
    code, out, err = run_cli("info", envi_scene)
    assert code == 2
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err
    assert str(envi_scene.name) in lines[0] and message in lines[0]
    assert sorted(tmp_path.rglob("*")) == before  # nothing written


def test_unknown_format_and_missing_file(run_cli, tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    code, _, err = run_cli("info", tmp_path / "notes.txt")
    assert code == 2 and "format: not a recognised scene" in err and "Traceback" not in err
    code, _, err = run_cli("info", tmp_path / "nothing.img")
    assert code == 2 and "not found" in err


def test_detect_format_rejects_foreign_hdf5(tmp_path):
    import h5py

    with h5py.File(tmp_path / "x.h5", "w") as handle:
        handle.create_dataset("a", data=[1])
    with pytest.raises(InvalidFileError, match="neither EMIT L1B RAD nor PRISMA L1"):
        detect_format(tmp_path / "x.h5")
