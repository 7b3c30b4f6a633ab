import json

import pytest

from plumetrace.simulate.observations import simulate_survey


@pytest.fixture
def drone_csv(tmp_path):
    raw, truth = simulate_survey(kind="drone", emission_rate_g_s=5.0, source_xyz_m=(10.0, -20.0, 2.0), seed=5)
    path = tmp_path / "drone.csv"
    raw.to_csv(path, index=False)
    return path, truth


def test_invert_writes_all_products(run_cli, drone_csv, tmp_path):
    path, truth = drone_csv
    out = tmp_path / "out"
    code, stdout, stderr = run_cli("invert", path, "--out", out, "--origin", "40,-100", "--source-height", "2")
    assert code == 0, stderr
    assert {p.name for p in out.iterdir()} == {
        ".plumetrace",
        "source.geojson",
        "posterior.png",
        "summary.json",
        "summary.csv",
        "item.json",
        "collection.json",
    }
    summary = json.loads((out / "summary.json").read_text())
    assert summary["detected"] and summary["emission_rate_g_s"] == pytest.approx(5.0, rel=0.3)
    geo = json.loads((out / "source.geojson").read_text())
    assert geo["features"][0]["geometry"]["type"] == "Point"
    assert json.loads((out / "item.json").read_text())["type"] == "Feature"


def test_all_background_is_no_detection_with_exit_0(run_cli, tmp_path):
    raw, _ = simulate_survey(kind="drone", emission_rate_g_s=0.0, seed=6)
    path = tmp_path / "clean.csv"
    raw.to_csv(path, index=False)
    code, stdout, _ = run_cli("invert", path, "--out", tmp_path / "o", "--origin", "40,-100")
    assert code == 0 and "no detectable source" in stdout
    assert not json.loads((tmp_path / "o" / "summary.json").read_text())["detected"]


@pytest.mark.parametrize("drop,expect", [("wind_speed_m_s", "wind"), ("time", "time")])
def test_bad_file_exits_2_with_one_line_and_writes_nothing(run_cli, drone_csv, tmp_path, drop, expect):
    import pandas as pd

    path, _ = drone_csv
    bad = tmp_path / "bad.csv"
    pd.read_csv(path).drop(columns=[drop]).to_csv(bad, index=False)
    out = tmp_path / "never"
    code, _, stderr = run_cli("invert", bad, "--out", out, "--origin", "40,-100")
    assert code == 2
    assert len(stderr.strip().splitlines()) == 1 and expect in stderr
    assert not out.exists()
    assert not any(p.name.startswith(".never") for p in tmp_path.iterdir())
