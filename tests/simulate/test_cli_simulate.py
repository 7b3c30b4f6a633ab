"""`plumetrace simulate`: products on disk, truth consistency, and bad input → exit 2 with nothing written."""

from __future__ import annotations

import json

import numpy as np
import pytest


def test_simulate_writes_all_products(tmp_path, run_cli):
    out = tmp_path / "sim"
    code, stdout, stderr = run_cli(
        "simulate",
        "--sensor",
        "emit",
        "--rate-kg-h",
        "1500",
        "--wind-speed",
        "4",
        "--wind-dir",
        "225",
        "--size",
        "32x40",
        "--seed",
        "5",
        "--netcdf",
        "--out",
        out,
    )
    assert code == 0, stderr
    names = {p.name for p in out.iterdir()}
    assert {
        "scene_rdn",
        "scene_rdn.hdr",
        "scene_rdn.nc",
        "truth_enhancement.tif",
        "quicklook.png",
        "truth.json",
    } <= names

    import rasterio

    from plumetrace.io.emit import read_emit_l1b
    from plumetrace.io.envi import read_envi
    from plumetrace.simulate.plumes import column_mass_kg

    truth = json.loads((out / "truth.json").read_text())
    assert truth["rate_kg_h"] == 1500.0 and truth["wind_dir_deg"] == 225.0 and truth["shape"] == [32, 40, 285]
    with rasterio.open(out / "truth_enhancement.tif") as src:
        field = src.read(1)
        assert src.tags()["units"] == "ppm m"
        assert src.res == (60.0, 60.0)
    assert float(field.max()) == pytest.approx(truth["peak_enhancement_ppm_m"], rel=1e-6)
    assert column_mass_kg(field, 60.0) == pytest.approx(truth["mass_in_scene_kg"], rel=1e-4)
    scene = read_envi(out / "scene_rdn")
    assert scene.sizes["y"] == 32 and scene.attrs["sensor"] == "emit"
    nc = read_emit_l1b(out / "scene_rdn.nc")
    np.testing.assert_allclose(nc["radiance"].values, scene["radiance"].values, rtol=1e-6)


@pytest.mark.parametrize(
    "args, field",
    [
        (("--rate-kg-h", "-10"), "--rate-kg-h"),
        (("--wind-speed", "0.1"), "--wind-speed"),
        (("--wind-speed", "60"), "--wind-speed"),
        (("--wind-dir", "400"), "--wind-dir"),
        (("--sensor", "landsat"), "--sensor"),
        (("--size", "8x8"), "--size"),
        (("--size", "big"), "--size"),
    ],
)
def test_bad_input_exit_2_nothing_written(tmp_path, run_cli, args, field):
    out = tmp_path / "sim"
    code, stdout, stderr = run_cli("simulate", "--size", "20x20", *args, "--out", out)
    assert code == 2
    message = stderr.strip()
    assert "\n" not in message and field in message and "Traceback" not in message
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []
