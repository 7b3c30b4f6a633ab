"""`plumetrace plan` CLI: writes every export; bad input gives exit 2, one line, and no output folder."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from shapely.geometry import box

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plan"))
from plan_frames import AEQD  # noqa: E402

from plumetrace.io.vector import write_geojson  # noqa: E402

FRAME = AEQD(-102.0, 31.8)
HOME = "31.79,-102.02"  # lat,lon


@pytest.fixture
def files(tmp_path):
    aoi = write_geojson(tmp_path / "aoi.geojson", [(FRAME.to_lonlat(box(0, 0, 5000, 3000)), {"name": "field"})])
    nofly = write_geojson(
        tmp_path / "nofly.geojson", [(FRAME.to_lonlat(box(2000, 1000, 2600, 1600)), {"name": "airstrip"})]
    )
    return tmp_path, aoi, nofly


def test_plan_writes_all_outputs_and_check_passes(run_cli, files):
    tmp, aoi, nofly = files
    out = tmp / "out"
    code, stdout, stderr = run_cli(
        "plan",
        aoi,
        "--altitude",
        800,
        "--speed",
        50,
        "--home",
        HOME,
        "--no-fly",
        nofly,
        "--buffer",
        100,
        "--endurance-min",
        15,
        "--turn-radius",
        200,
        "--out",
        out,
    )
    assert code == 0, stderr
    assert "legs in no-fly zones" in stdout
    names = {p.name for p in out.iterdir()}
    assert {"plan.geojson", "plan.kml", "waypoints.csv", "report.json", "plan.png", "sortie_01.plan"} <= names
    report = json.loads((out / "report.json").read_text())
    assert report["coverage_fraction"] >= 0.99 and report["excluded_by"] == ["airstrip"]
    code, stdout, _ = run_cli("plan", "--check", out / "sortie_01.plan")
    assert code == 0 and "comply" in stdout
    code, stdout, _ = run_cli("plan", "--check", out / "plan.geojson", "--no-fly", nofly, "--buffer", 50)
    assert code == 0
    # a much wider buffer than planned: the re-check names the zone and exits 1
    code, stdout, _ = run_cli("plan", "--check", out / "plan.geojson", "--no-fly", nofly, "--buffer", 600)
    assert code == 1 and "airstrip" in stdout


def test_transects_mode(run_cli, files):
    tmp, _, _ = files
    out = tmp / "tr"
    code, _, stderr = run_cli(
        "plan",
        "--mode",
        "curtain",
        "--source",
        "31.8,-102.0",
        "--wind-dir",
        270,
        "--distances",
        "200,500",
        "--altitudes",
        "20,40,60",
        "--speed",
        12,
        "--home",
        "31.799,-102.002",
        "--out",
        out,
    )
    assert code == 0, stderr
    report = json.loads((out / "report.json").read_text())
    assert report["mode"] == "curtain" and report["n_lines"] == 6


def _bowtie(tmp):
    path = tmp / "bow.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "Polygon",
                "coordinates": [[[-102, 31.8], [-101.9, 31.9], [-101.9, 31.8], [-102, 31.9], [-102, 31.8]]],
            }
        )
    )
    return path


@pytest.mark.parametrize(
    "case,expected",
    [
        ("bowtie", "invalid polygon: Self-intersection"),
        ("inside_nofly", "big.geojson: no_fly: no-fly zone 'everything' covers the whole area of interest"),
        ("altitude", "--altitude: 0.5 m is out of range"),
        ("speed", "--speed: 900 m/s is out of range"),
        ("swath", "is larger than the area"),
        ("home", "--home: expected LAT,LON"),
    ],
)
def test_bad_input_exit_2_one_line_nothing_written(run_cli, files, case, expected):
    tmp, aoi, nofly = files
    out = tmp / "bad"
    args = ["plan", aoi, "--altitude", 800, "--home", HOME, "--out", out]
    if case == "bowtie":
        args[1] = _bowtie(tmp)
    elif case == "inside_nofly":
        big = write_geojson(
            tmp / "big.geojson", [(FRAME.to_lonlat(box(-500, -500, 5500, 3500)), {"name": "everything"})]
        )
        args += ["--no-fly", big]
    elif case == "altitude":
        args[3] = 0.5
    elif case == "speed":
        args += ["--speed", 900]
    elif case == "swath":
        args += ["--pixel-size", 10, "--pixels", 1000]
    elif case == "home":
        args[5] = "somewhere"
    code, stdout, stderr = run_cli(*args)
    assert code == 2
    assert expected in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert not out.exists()
    assert not any(p.name.startswith(".bad") for p in tmp.iterdir())


def test_transects_default_to_a_drone(run_cli, tmp_path):
    """Without --altitude/--speed, transects fly at the drone defaults, not the imaging survey's 1000 m and 60 m/s."""
    from plumetrace.plan.transects import TRANSECT_ALTITUDE_M, TRANSECT_SPEED_M_S

    out = tmp_path / "tr"
    code, _, stderr = run_cli(
        "plan", "--mode", "transects", "--source", "31.8,-102.0", "--wind-dir", 270, "--distances", "200,500",
        "--home", "31.799,-102.002", "--out", out,
    )  # fmt: skip
    assert code == 0, stderr
    report = json.loads((out / "report.json").read_text())
    assert report["altitudes_m"] == [TRANSECT_ALTITUDE_M] and report["speed_m_s"] == TRANSECT_SPEED_M_S
    assert TRANSECT_ALTITUDE_M <= 120 and TRANSECT_SPEED_M_S <= 15
    assert (out / "plan.png").stat().st_size > 0


def test_transect_map_marks_source_and_wind():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from plumetrace.plan.transects import draw_source_and_wind

    fig, ax = plt.subplots()
    draw_source_and_wind(ax, (-102.0, 31.8), 270.0, 100.0, reference_lon_deg=-102.0)
    labels = ax.get_legend_handles_labels()[1]
    assert "source" in labels and "wind from 270°" in labels
    (arrow,) = ax.texts
    (x1, y1), (x0, y0) = arrow.xy, arrow.xyann
    assert x1 > x0 and abs(y1 - y0) < 1e-6  # wind from the west: the arrow points east, downwind
    plt.close(fig)


def test_plan_takes_the_scene_contract_sensor_names(run_cli, files):
    tmp, aoi, _ = files
    code, _, stderr = run_cli(
        "plan", aoi, "--sensor", "aviris-classic", "--home", HOME, "--no-png", "--out", tmp / "classic"
    )
    assert code == 0, stderr
    code, _, stderr = run_cli("plan", aoi, "--sensor", "landsat", "--home", HOME, "--out", tmp / "never")
    assert code == 2 and "--sensor" in stderr and "aviris-classic" in stderr
