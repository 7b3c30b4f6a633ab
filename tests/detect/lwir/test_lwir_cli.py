"""`plumetrace detect --band lwir` end to end on a simulated scene (NIST spectra from the shared data)."""

from __future__ import annotations

import json
import shutil

import pytest

from plumetrace.shared_data import shared_data_dir

_JDX = None if shared_data_dir() is None else shared_data_dir() / "lwir-gas-spectra-nist" / "jdx"


@pytest.mark.slow
@pytest.mark.shared_data
@pytest.mark.skipif(_JDX is None or not _JDX.is_dir(), reason="needs ../shared/data/lwir-gas-spectra-nist")
def test_detect_lwir_identifies_the_simulated_gas(run_cli, tmp_path):
    library = tmp_path / "library"
    library.mkdir()
    for gas in ("acetone", "methanol", "chloroform"):
        shutil.copy(_JDX / f"{gas}.jdx", library / f"{gas}.jdx")
    sim = tmp_path / "sim"
    code, out, err = run_cli(
        "simulate", "--band", "lwir", "--library", library, "--gases", "methanol", "--columns", "200",
        "--contrast-k", "-6", "--size", "128x128", "--seed", "3", "--out", sim,
    )  # fmt: skip
    assert code == 0, err
    det = tmp_path / "det"
    code, out, err = run_cli(
        "detect", sim / "scene_rdn.hdr", "--band", "lwir", "--library", library, "--contrast-k", "-6",
        "--atmosphere", sim / "truth.nc", "--out", det,
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads((det / "identification.json").read_text())
    assert summary["plumes"], out
    biggest = max(summary["plumes"], key=lambda p: p["n_pixels"])
    assert biggest["gases"] == ["methanol"]
    assert biggest["columns_ppm_m"]["methanol"] == pytest.approx(200.0, rel=0.2)
    for name in ("enhancement_methanol.tif", "enhancement_acetone.tif", "labels.tif", "item.json"):
        assert (det / name).is_file()
