"""`plumetrace sites` and write_sites on product folders: tables, maps, time series, STAC, run folders."""

from __future__ import annotations

import json
import shutil
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

from plumetrace.errors import InputWarning
from plumetrace.products.sites import write_sites
from tests.sites.builders import plumes_row, write_invert_product, write_plumes_product
from tests.stac_validation import validate_folder

A = (0.0, 0.0)
B = (3_000.0, 1_000.0)


def _campaign(root: Path) -> list[Path]:
    """Four EMIT scenes and a drone log. Site A: detected in s1 and s2, covered (no detection) by s3, drone sees it;
    s4 covers A with a detection limit far above its rate. Site B: detected in s1 only, covered by s2 and s3."""
    return [
        write_plumes_product(
            root / "s1", [plumes_row(1, *A, rate=1000.0), plumes_row(2, *B, rate=400.0)], time="2026-06-01T18:00:00Z"
        ),
        write_plumes_product(
            root / "s2",
            [plumes_row(1, A[0] + 40, A[1] - 30, rate=1400.0, time="2026-06-05T18:00:00Z")],
            time="2026-06-05T18:00:00Z",
        ),
        write_plumes_product(root / "s3", [], time="2026-06-09T18:00:00Z"),
        write_plumes_product(root / "s4", [], time="2026-06-12T18:00:00Z", limit=50_000.0),
        write_invert_product(root / "drone", 5.0, -3.0, rate_g_s=330.0),
    ]


def _stage(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.mkdir(parents=True)
    return out


def test_write_sites_on_a_small_campaign(tmp_path):
    out = _stage(tmp_path)
    summary = write_sites(_campaign(tmp_path / "in"), out, progress=False)
    assert (summary.n_sites, summary.n_detections, summary.n_overpasses, summary.n_products) == (2, 4, 5, 5)
    sites = pd.read_csv(out / "sites.csv").set_index("site_id")
    a, b = sites.loc["site-001"], sites.loc["site-002"]  # A has the larger P·Q̄
    assert (a["n_detections"], a["n_overpasses"]) == (3, 4)  # s1, s2, drone detected; s3 covered; s4 above limit
    assert a["persistence"] == pytest.approx(0.75)
    assert a["mean_rate_kg_h"] == pytest.approx((1000 + 1400 + 330 * 3.6) / 3)
    assert a["kinds"] == "imaging;in-situ" and a["sensors"] == "drone;emit"
    assert (b["n_detections"], b["n_overpasses"], b["persistence"]) == (1, 3, pytest.approx(1 / 3))
    assert a["first_seen"] == "2026-06-01T18:00:00Z" and a["last_seen"] == "2026-06-05T18:00:00Z"
    assert a["confidence"] > b["confidence"]
    assert set(json.loads(a["confidence_reasons"])) >= {"detections", "significance", "sensors", "agreement"}

    geo = json.loads((out / "sites.geojson").read_text())
    assert [f["properties"]["site_id"] for f in geo["features"]] == ["site-001", "site-002"]
    assert geo["features"][0]["geometry"]["type"] == "Point"
    assert isinstance(geo["features"][0]["properties"]["confidence_reasons"], dict)
    placemarks = ET.parse(out / "sites.kml").getroot().findall(".//{http://www.opengis.net/kml/2.2}Placemark")
    assert len(placemarks) == 2

    det = pd.read_csv(out / "detections.csv", keep_default_na=False)
    misses = det[det["detected"].astype(str) == "False"]
    assert sorted(zip(misses["site_id"], misses["overpass_id"])) == [
        ("site-001", "s3"),
        ("site-002", "s2"),
        ("site-002", "s3"),
    ]
    series = pd.read_csv(out / "timeseries" / "site-001.csv")
    assert list(series["overpass_id"]) == ["s1", "drone", "s2", "s3", "s4"]
    assert list(series["counted"]) == [True, True, True, True, False]
    assert (out / "timeseries" / "site-001.png").stat().st_size > 10_000

    items = validate_folder(out)
    assert sorted(item.id for item in items) == ["site-001", "site-002"]
    item = json.loads((out / "items" / "site-001.json").read_text())
    derived = [link["href"] for link in item["links"] if link["rel"] == "derived_from"]
    assert len(derived) == 3 and all(not Path(h).is_absolute() for h in derived)
    assert all((out / "items" / h).resolve().is_file() for h in derived)
    related = [link["href"] for link in item["links"] if link["rel"] == "related"]
    assert [Path(h).parent.name for h in related] == ["s3"]


def test_run_folder_gives_the_same_sites_as_its_product_folders(tmp_path):
    products = _campaign(tmp_path / "in")
    run = tmp_path / "run"
    for p in products:
        kind = "invert" if (p / "summary.json").exists() else "plumes"
        parent = run / ("logs" if kind == "invert" else "scenes") / p.name
        parent.mkdir(parents=True)
        shutil.copytree(p, parent / kind)
    (run / "scenes" / "failed-scene").mkdir()  # an input that failed: no product folder
    direct = write_sites(products, _stage(tmp_path), progress=False).sites
    from_run = write_sites([run], _stage(tmp_path / "r"), progress=False).sites
    cols = ["n_detections", "n_overpasses", "persistence", "mean_rate_kg_h", "pw_rate_kg_h", "lat", "lon"]
    pd.testing.assert_frame_equal(direct[cols], from_run[cols])


def test_plumes_folder_without_footprint_counts_only_its_detections(tmp_path):
    s1 = write_plumes_product(tmp_path / "s1", [plumes_row(1, *A)], footprint_half_m=None)
    s2 = write_plumes_product(tmp_path / "s2", [], time="2026-06-05T18:00:00Z")  # covers A, no detection
    with pytest.warns(InputWarning, match="footprint.geojson"):
        summary = write_sites([s1, s2], _stage(tmp_path), progress=False)
    assert summary.n_without_footprint == 1
    site = summary.sites.iloc[0]
    assert (site["n_detections"], site["n_overpasses"]) == (1, 2)  # its own scene + s2 that covered it


@pytest.mark.slow  # about 6 s: a real inversion
def test_invert_summary_written_by_invert_carries_time_and_sensor(tmp_path):
    import numpy as np

    from plumetrace.insitu.inversion import invert_source
    from plumetrace.io.observations import read_observations
    from plumetrace.products.insitu import write_inversion_products
    from plumetrace.simulate.observations import simulate_survey

    raw, _ = simulate_survey(kind="drone", emission_rate_g_s=5.0, source_xyz_m=(10.0, -20.0, 2.0), seed=5)
    raw.to_csv(tmp_path / "drone.csv", index=False)
    obs = read_observations(tmp_path / "drone.csv", origin=(40.0, -100.0))
    result = invert_source(obs, source_heights_m=(2.0,), seed=0)
    (tmp_path / "inv").mkdir()
    write_inversion_products(tmp_path / "inv", result, obs)
    summary = json.loads((tmp_path / "inv" / "summary.json").read_text())
    median = pd.to_datetime(raw["time"], utc=True).median()
    assert pd.Timestamp(summary["time"]) == median.floor("s")
    assert summary["sensor"] == "in-situ"
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputWarning)  # the real product reads without a warning
        out = write_sites([tmp_path / "inv"], _stage(tmp_path), progress=False)
    assert out.n_sites == int(bool(summary["detected"]))
    assert np.isfinite(out.sites["mean_rate_kg_h"]).all()


def test_cli_sites_writes_the_folder_and_prints_the_table(run_cli, tmp_path):
    products = _campaign(tmp_path / "in")
    out = tmp_path / "sites"
    code, stdout, stderr = run_cli("sites", *products, "--out", out)
    assert code == 0, stderr
    assert "2 site(s) from 4 detection(s)" in " ".join(stdout.split())
    assert "site-001" in stdout
    assert (out / ".plumetrace").exists() and (out / "collection.json").exists()
    # a second run replaces the folder whole (it is plumetrace's)
    code, _, stderr = run_cli("sites", products[0], "--out", out)
    assert code == 0, stderr
    assert len(pd.read_csv(out / "sites.csv")) == 2 and not (out / "timeseries" / "site-003.csv").exists()


def test_the_footprint_fields_sites_read_are_the_ones_plumes_writes():
    from plumetrace.io.detections import FOOTPRINT_REQUIRED, PLUMES_REQUIRED
    from plumetrace.plumes.footprint import FOOTPRINT_FIELDS
    from tests.sites.builders import PLUMES_HEADER

    assert set(FOOTPRINT_REQUIRED) <= set(FOOTPRINT_FIELDS)
    assert set(PLUMES_REQUIRED) <= set(PLUMES_HEADER)


def test_a_campaign_that_found_nothing_writes_empty_products(tmp_path):
    clear = write_plumes_product(tmp_path / "clear", [])
    quiet = write_invert_product(tmp_path / "quiet", 0.0, 0.0, detected=False)
    out = _stage(tmp_path)
    summary = write_sites([clear, quiet], out, progress=False)
    assert (summary.n_sites, summary.n_detections, summary.n_overpasses) == (0, 0, 2)
    assert pd.read_csv(out / "sites.csv").empty
    assert json.loads((out / "sites.geojson").read_text())["features"] == []
    det = pd.read_csv(out / "detections.csv", keep_default_na=False)
    assert list(det["overpass_id"]) == [
        "drone"
    ]  # the log's input stem and det["upper_limit_kg_h"][0] == pytest.approx(250 * 1.8 * 3.6)
    assert validate_folder(out) == []


def test_invert_summary_without_time_is_read_with_a_warning(tmp_path):
    log = write_invert_product(tmp_path / "old-log", 0.0, 0.0, time=None)
    out = _stage(tmp_path)
    with pytest.warns(InputWarning, match="time"):
        summary = write_sites([log], out, progress=False)
    site = summary.sites.iloc[0]
    assert site["first_seen"] == "" and site["kinds"] == "in-situ"
    item = validate_folder(out)[0]
    assert item.properties["datetime_unknown"] is True
