"""`plumetrace plumes` end to end on enhancement COGs written here by rasterio to the detection contract."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

UTM_11N = "EPSG:32611"


def _write_cog(path: Path, enhancement: np.ndarray, *, georeferenced: bool = True) -> Path:
    import rasterio
    from rasterio.transform import Affine

    bands = [enhancement, np.full_like(enhancement, 30.0), np.ones_like(enhancement), np.ones_like(enhancement)]
    profile = {
        "driver": "GTiff",
        "width": enhancement.shape[1],
        "height": enhancement.shape[0],
        "count": 4,
        "dtype": "float32",
        "nodata": float("nan"),
    }
    if georeferenced:
        profile.update(crs=UTM_11N, transform=Affine(30.0, 0.0, 500000.0, 0.0, -30.0, 4000000.0))
    with rasterio.open(path, "w", **profile) as dst:
        for index, (band, name) in enumerate(
            zip(bands, ["enhancement_ppm_m", "uncertainty_ppm_m", "albedo", "sensitivity"]), 1
        ):
            dst.write(band.astype(np.float32), index)
            dst.set_band_description(index, name)
        dst.update_tags(
            units="ppm m",
            gas="ch4",
            method="mf",
            stats="scene",
            sensor="prisma",
            acquisition_time="2026-06-01T18:00:00Z",
        )
    return path


def _analytic_plume_ppm_m(shape, *, source_rc, rate_kg_h, wind_speed_m_s, pixel_size_m):
    """Steady Gaussian plume blowing east (+col) whose cross-wind integral is exactly Q/U (see tests/plumes)."""
    from plumetrace.plumes.quantify import ppm_m_to_kg_m2

    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]].astype(float)
    along = (cols - source_rc[1]) * pixel_size_m
    across = (rows - source_rc[0]) * pixel_size_m
    sigma_y = 20.0 + 0.15 * np.clip(along, 0, None)
    column = (
        rate_kg_h / 3600.0 / (wind_speed_m_s * np.sqrt(2 * np.pi) * sigma_y) * np.exp(-0.5 * (across / sigma_y) ** 2)
    )
    column[along < 0] = 0.0
    return column / ppm_m_to_kg_m2("ch4")


@pytest.fixture
def cog(tmp_path):
    rng = np.random.default_rng(0)
    truth = _analytic_plume_ppm_m(
        (80, 120), source_rc=(40, 20), rate_kg_h=1500.0, wind_speed_m_s=4.0, pixel_size_m=30.0
    )
    return _write_cog(tmp_path / "enhancement.tif", truth + rng.normal(0, 30.0, truth.shape))


def test_writes_products(run_cli, cog, tmp_path):
    pytest.importorskip("plumetrace.io.cog")
    out = tmp_path / "plumes"
    code, stdout, stderr = run_cli(
        "plumes", cog, "--wind-speed", "4", "--wind-dir", "270", "--wind-sigma", "0.4", "--out", out
    )
    assert code == 0, stderr
    doc = json.loads((out / "plumes.geojson").read_text())
    kinds = sorted(f["geometry"]["type"] for f in doc["features"])
    assert kinds == ["Point", "Polygon"]
    props = doc["features"][0]["properties"]
    assert props["sensor"] == "prisma" and props["gas"] == "ch4" and props["method"] == "ime"
    assert props["time"].startswith("2026-06-01T18:00:00")
    assert (out / "plumes.kml").exists()
    rows = list(csv.DictReader((out / "plumes.csv").open()))
    # CSF with PRISMA's c = 1.12 on an analytic plume of 1500 kg/h
    assert float(rows[0]["emission_rate_csf_kg_h"]) == pytest.approx(1.12 * 1500.0, rel=0.2)
    assert len(list((out / "items").glob("*.json"))) == 1
    assert (out / "plumes.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_wind_file(run_cli, cog, tmp_path):
    pytest.importorskip("plumetrace.io.cog")
    wind = tmp_path / "wind.csv"
    wind.write_text("time,wind_speed_m_s,wind_dir_deg\n2026-06-01T17:00:00Z,4,270\n2026-06-01T19:00:00Z,4,270\n")
    out = tmp_path / "plumes"
    code, _, stderr = run_cli("plumes", cog, "--wind-file", wind, "--out", out)
    assert code == 0, stderr
    rows = list(csv.DictReader((out / "plumes.csv").open()))
    assert float(rows[0]["wind_speed_m_s"]) == pytest.approx(4.0)


def test_wind_file_ending_before_the_scene_warns_in_one_line(run_cli, cog, tmp_path):
    pytest.importorskip("plumetrace.io.cog")
    wind = tmp_path / "wind.csv"
    wind.write_text(
        "time,wind_speed_m_s,wind_dir_deg\n2026-06-01T15:30:00Z,4,270\n2026-06-01T16:30:00Z,4,270\n"
        "2026-06-01T16:30:00Z,4,270\n"
    )  # an identical repeat is dropped silently
    out = tmp_path / "plumes"
    code, _, stderr = run_cli("plumes", cog, "--wind-file", wind, "--out", out)
    assert code == 0, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines == [
        f"warning: {wind}: time: plume time 2026-06-01T18:00:00 lies 1.5 h after the last wind record; "
        "using that record"
    ]


def _assert_clean_failure(code: int, stderr: str, out: Path, field: str) -> None:
    assert code == 2
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and field in lines[0]
    assert not out.exists()
    assert not list(out.parent.glob(f".{out.name}.partial-*"))


def test_missing_wind(run_cli, cog, tmp_path):
    out = tmp_path / "plumes"
    code, _, stderr = run_cli("plumes", cog, "--out", out)
    _assert_clean_failure(code, stderr, out, "--wind-speed")


def test_wind_out_of_range(run_cli, cog, tmp_path):
    out = tmp_path / "plumes"
    code, _, stderr = run_cli("plumes", cog, "--wind-speed", "60", "--wind-dir", "270", "--out", out)
    _assert_clean_failure(code, stderr, out, "--wind-speed")


def test_missing_map(run_cli, tmp_path):
    out = tmp_path / "plumes"
    code, _, stderr = run_cli("plumes", tmp_path / "nope.tif", "--wind-speed", "3", "--wind-dir", "90", "--out", out)
    _assert_clean_failure(code, stderr, out, "nope.tif")


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_no_georeferencing_needs_pixel_size(run_cli, tmp_path):
    pytest.importorskip("plumetrace.io.cog")
    rng = np.random.default_rng(1)
    path = _write_cog(tmp_path / "raw.tif", rng.normal(0, 30.0, (40, 40)), georeferenced=False)
    out = tmp_path / "plumes"
    code, _, stderr = run_cli("plumes", path, "--wind-speed", "3", "--wind-dir", "90", "--out", out)
    _assert_clean_failure(code, stderr, out, "--pixel-size")
    assert "raw.tif" in stderr
    code, _, stderr = run_cli(
        "plumes", path, "--wind-speed", "3", "--wind-dir", "90", "--pixel-size", "30", "--out", out
    )
    assert code == 0, stderr


def test_empty_map(run_cli, tmp_path):
    pytest.importorskip("plumetrace.io.cog")
    path = _write_cog(tmp_path / "empty.tif", np.full((20, 20), np.nan))
    out = tmp_path / "plumes"
    code, _, stderr = run_cli("plumes", path, "--wind-speed", "3", "--wind-dir", "90", "--out", out)
    _assert_clean_failure(code, stderr, out, "empty")


def test_bad_ueff(run_cli, cog, tmp_path):
    out = tmp_path / "plumes"
    code, _, stderr = run_cli("plumes", cog, "--wind-speed", "3", "--wind-dir", "90", "--ueff", "fast", "--out", out)
    _assert_clean_failure(code, stderr, out, "--ueff")


def test_own_ueff_scales_the_rate(run_cli, cog, tmp_path):
    # U_eff = 1*U + 0 at U = 4 m/s is 4 m/s; U_eff = 0.5*U + 0 is 2 m/s: the IME rate halves exactly
    rates = []
    for text in ("1,0", "0.5,0"):
        out = tmp_path / f"plumes-{text}"
        code, _, stderr = run_cli("plumes", cog, "--wind-speed", "4", "--wind-dir", "270", "--ueff", text, "--out", out)
        assert code == 0, stderr
        rates.append(float(next(csv.DictReader((out / "plumes.csv").open()))["emission_rate_kg_h"]))
    assert rates[1] == pytest.approx(0.5 * rates[0], rel=1e-9)


@pytest.mark.parametrize(
    "option, value, field",
    [("--wind-dir-sigma", "400", "--wind-dir-sigma"), ("--max-albedo-darkening", "1.5", "--max-albedo-darkening")],
)
def test_bad_direction_sigma_or_surface_criterion(run_cli, cog, tmp_path, option, value, field):
    out = tmp_path / "plumes"
    code, _, stderr = run_cli("plumes", cog, "--wind-speed", "3", "--wind-dir", "90", option, value, "--out", out)
    _assert_clean_failure(code, stderr, out, field)
