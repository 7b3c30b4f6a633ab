"""The simulated campaign: its truth agrees with the files it writes, plumes only where a covered site is on."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import xarray as xr
import yaml

from plumetrace.errors import InvalidInputError
from plumetrace.simulate.campaign import DEMO_CAMPAIGN, CampaignOptions, plan_campaign, site_pixel, write_campaign
from plumetrace.simulate.multisource import PointSource, simulate_multisource_scene
from plumetrace.simulate.wind_grid import read_wind_grid


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    folder = tmp_path_factory.mktemp("campaign")
    truth = write_campaign(folder, DEMO_CAMPAIGN, progress=False)
    return folder, truth


def _site(truth, site_id):
    return next(s for s in truth["sites"] if s["site_id"] == site_id)


def test_truth_json_and_config_name_the_files_written(campaign):
    folder, truth = campaign
    assert json.loads((folder / "truth.json").read_text()) == json.loads(json.dumps(truth))
    config = yaml.safe_load((folder / "campaign.yaml").read_text())
    assert config["wind"]["file"] == "wind.nc"
    assert len(config["inputs"]) == len(truth["scenes"]) + len(truth["logs"])
    for name in config["inputs"]:
        assert (folder / name).is_file(), name


def test_scene_files_carry_the_planned_sensor_time_and_grid(campaign):
    from plumetrace.io.envi import read_envi

    folder, truth = campaign
    sensors = set()
    for scene in truth["scenes"]:
        data = read_envi(folder / "scenes" / scene["scene_id"])
        assert (data.sizes["y"], data.sizes["x"]) == tuple(scene["shape"])
        assert data.attrs["sensor"].lower().replace("-", "") == scene["sensor"].replace("-", "")
        assert data.attrs["acquisition_time"] == scene["time"]
        sensors.add(scene["sensor"])
        for entry in scene["sites"]:
            site = _site(truth, entry["site_id"])
            row, col = site_pixel(scene, site["lat"], site["lon"])
            assert (row, col) == pytest.approx((entry["row"], entry["col"]), abs=1e-6)
            inside = min(row + 0.5, scene["shape"][0] - 0.5 - row, col + 0.5, scene["shape"][1] - 0.5 - col)
            assert entry["covered"] == (inside >= DEMO_CAMPAIGN.edge_margin_px)
            assert entry["on"] == (scene["date"] in site["on_dates"])
            assert entry["plume"] == (entry["covered"] and entry["on"])
    assert sensors == {"emit", "aviris-ng"}


def test_layout_has_overlaps_gaps_an_intermittent_site_and_a_false_alarm_scene(campaign):
    _, truth = campaign
    covered = {s["site_id"]: 0 for s in truth["sites"]}
    missed = 0
    for scene in truth["scenes"]:
        for entry in scene["sites"]:
            covered[entry["site_id"]] += entry["covered"]
            missed += not entry["covered"]
    assert min(covered.values()) >= 2  # every site seen more than once: overlapping footprints
    assert missed > 0  # and some scenes miss some sites
    kinds = {s["kind"] for s in truth["sites"]}
    assert kinds == {"persistent", "intermittent"}
    intermittent = [s for s in truth["sites"] if s["kind"] == "intermittent"]
    for site in intermittent:
        assert len(site["on_dates"]) == round(site["on_fraction"] * DEMO_CAMPAIGN.n_dates)
    false_alarm = [s for s in truth["scenes"] if s["false_alarm_surface"]]
    assert len(false_alarm) == 1 and not any(e["covered"] for e in false_alarm[0]["sites"])
    assert any(e["covered"] and not e["on"] for s in truth["scenes"] for e in s["sites"])  # a site seen off


@pytest.mark.slow
def test_plumes_only_where_a_covered_site_is_on(campaign):
    """Against a plume-free twin (same seeds): the CH4 band is darker at each emitting site, identical elsewhere."""
    from plumetrace.io.envi import read_envi

    folder, truth = campaign
    for scene in truth["scenes"]:
        data = read_envi(folder / "scenes" / scene["scene_id"])
        band = int(np.argmin(np.abs(data["wavelength"].values - 2300.0)))
        radiance = np.asarray(data["radiance"].isel(band=band).values)
        twin, _ = simulate_multisource_scene(
            sensor=scene["sensor"],
            shape=tuple(scene["shape"]),
            wind_speed_m_s=scene["wind_speed_m_s"],
            wind_dir_deg=scene["wind_dir_deg"],
            seed=scene["seed"],
            lat=scene["lat"],
            lon=scene["lon"],
            acquisition_time=scene["time"],
            materials=None if scene["materials"] is None else tuple(scene["materials"]),
            n_roads=scene["n_roads"],
        )
        absorbed = np.asarray(twin["radiance"].isel(band=band).values) - radiance  # > 0 where CH4 absorbs
        emitting = [e for e in scene["sites"] if e["plume"]]
        if not emitting:
            assert np.array_equal(absorbed, np.zeros_like(absorbed)), scene["scene_id"]
        for entry in emitting:
            r, c = round(entry["row"]), round(entry["col"])
            near = absorbed[max(r - 2, 0) : r + 3, max(c - 2, 0) : c + 3]
            # noise and surface are identical in the twins: any plume shows; 400 kg/h at 60 m absorbs ~0.7 %
            assert near.max() > 1e-3 * np.asarray(twin["radiance"].isel(band=band).values).mean(), scene["scene_id"]
        sources = json.loads(data.attrs["sim_sources"]) if "sim_sources" in data.attrs else None
        if sources is not None:
            assert len(sources) == len(emitting)


def test_wind_file_gives_each_scene_and_log_its_simulated_wind(campaign):
    folder, truth = campaign
    with xr.open_dataset(folder / "wind.nc", engine="h5netcdf") as ds:
        assert ds["u10"].dims == ("time", "latitude", "longitude")
        assert ds["v10"].attrs["units"] == "m s**-1"
        assert np.all(np.diff(ds["latitude"].values) < 0)  # ERA5: north first
        assert ds.sizes["time"] == 24 * ((DEMO_CAMPAIGN.n_dates - 1) * DEMO_CAMPAIGN.date_step_days + 1)
        for item in truth["scenes"] + truth["logs"]:  # at every site and scene centre, linear interpolation
            places = [(item["lat"], item["lon"])] if "lat" in item else []
            places += [(s["lat"], s["lon"]) for s in truth["sites"]]
            lat = xr.DataArray([p[0] for p in places], dims="point")
            lon = xr.DataArray([p[1] for p in places], dims="point")
            when = np.datetime64(item["time"].rstrip("Z"))
            at = ds[["u10", "v10"]].interp(time=when, latitude=lat, longitude=lon)
            speed = np.hypot(at["u10"].values, at["v10"].values)
            direction = np.rad2deg(np.arctan2(-at["u10"].values, -at["v10"].values)) % 360
            np.testing.assert_allclose(speed, item["wind_speed_m_s"], atol=1e-5)
            np.testing.assert_allclose(direction, item["wind_dir_deg"], atol=1e-4)
    scene = truth["scenes"][0]
    speed, direction = read_wind_grid(folder / "wind.nc", scene["time"], scene["lat"], scene["lon"])
    assert (speed, direction) == pytest.approx((scene["wind_speed_m_s"], scene["wind_dir_deg"]), abs=1e-4)


def test_drone_log_is_a_valid_log_flown_around_its_site(campaign):
    from plumetrace.io.observations import read_observations

    folder, truth = campaign
    (log,) = truth["logs"]
    site = _site(truth, log["site_id"])
    assert log["time"][:10] in site["on_dates"]
    table = read_observations(folder / log["file"], origin=(site["lat"], site["lon"]), gas="ch4")
    distance = np.hypot(table["x_m"], table["y_m"])
    assert 40.0 < float(distance.min()) and float(distance.max()) < 350.0
    peak = table.loc[table["concentration_mg_m3"].idxmax()]
    to_deg = np.rad2deg(np.arctan2(peak["x_m"], peak["y_m"])) % 360  # bearing of the peak from the source
    assert abs((to_deg - (log["wind_dir_deg"] + 180.0) + 180.0) % 360 - 180.0) < 30.0  # downwind


def test_one_source_renders_exactly_as_the_scene_simulator():
    from plumetrace.simulate.scene import simulate_scene

    options = dict(sensor="emit", shape=(32, 40), wind_speed_m_s=3.0, wind_dir_deg=270.0, seed=5)
    single, truth = simulate_scene(rate_kg_h=2000.0, source_yx=(16.0, 10.0), **options)
    multi, enhancement = simulate_multisource_scene(sources=[PointSource(16.0, 10.0, 2000.0, 5)], **options)
    np.testing.assert_array_equal(enhancement, truth.enhancement_ppm_m)
    np.testing.assert_array_equal(np.asarray(multi["radiance"].values), np.asarray(single["radiance"].values))


def test_plan_is_reproducible_and_rates_span_the_range():
    options = CampaignOptions(n_sites=8, n_dates=5, seed=3)
    first, again = plan_campaign(options), plan_campaign(options)
    assert first == again
    rates = [s["rate_kg_h"] for s in first["sites"]]
    assert min(rates) >= 300.0 and max(rates) <= 6000.0 and max(rates) / min(rates) > 3
    other = plan_campaign(dataclasses.replace(options, seed=4))
    assert [s["rate_kg_h"] for s in other["sites"]] != rates


@pytest.mark.parametrize(
    ("field", "value"),
    [("n_sites", 1), ("rates_kg_h", (100.0, -1.0, 5.0)), ("on_fractions", (1.0, 0.0, 0.5)), ("emit_shape", (8, 8))],
)
def test_bad_options_name_the_field(field, value):
    with pytest.raises(InvalidInputError, match=field):
        dataclasses.replace(DEMO_CAMPAIGN, **{field: value})


def _truth_for_scoring():
    scene = {
        "scene_id": "a",
        "sites": [
            {"site_id": "S1", "covered": True, "on": True},
            {"site_id": "S2", "covered": True, "on": False},
        ],
    }
    later = {
        "scene_id": "b",
        "sites": [
            {"site_id": "S1", "covered": True, "on": True},
            {"site_id": "S2", "covered": True, "on": True},
        ],
    }
    sites = [
        {"site_id": "S1", "lat": 31.9, "lon": -102.3, "rate_kg_h": 1000.0, "on_fraction": 1.0, "kind": "persistent"},
        {"site_id": "S2", "lat": 31.91, "lon": -102.3, "rate_kg_h": 100.0, "on_fraction": 0.5, "kind": "intermittent"},
    ]
    return {"sites": sites, "scenes": [scene, later], "logs": []}


def test_score_matches_sites_and_counts_only_qualifying_overpasses():
    from plumetrace.simulate.campaign_score import score_sites

    truth = _truth_for_scoring()
    found = [
        {"site_id": "site-001", "lat": 31.9 + 40 / 110885, "lon": -102.3, "mean_rate_kg_h": 1400, "persistence": 1.0},
        {"site_id": "site-002", "lat": 31.95, "lon": -102.3, "mean_rate_kg_h": 50, "persistence": 1.0},
    ]
    # scene b's detection limit (500 kg/h) is above S2's rate: S2 was never detectable there; at a it was off
    score = score_sites(truth, found, detection_limits={"a": 50.0, "b": 500.0})
    s1, s2 = score["sites"]
    assert s1["found_id"] == "site-001" and s1["position_error_m"] == pytest.approx(40.0, abs=0.5)
    assert s1["rate_ratio"] == pytest.approx(1.4) and s1["true_persistence"] == 1.0
    assert s2["found_id"] is None and s2["true_persistence"] == 0.0 and not s2["detectable"]
    assert score["false_sites"] == ["site-002"]  # 4.4 km from S2: no match
    assert score["site_recall"] == 1.0 and score["site_precision"] == 0.5
    assert score["site_rate_within_50pct"] == 1.0
    # with no limits both overpasses count: S2 on at one of two
    assert score_sites(truth, found)["sites"][1]["true_persistence"] == 0.5


def test_score_leaves_out_sites_below_the_confidence_threshold():
    from plumetrace.simulate.campaign_score import score_sites

    truth = _truth_for_scoring()
    found = [
        {"site_id": "site-001", "lat": 31.9, "lon": -102.3, "mean_rate_kg_h": 900, "persistence": 1, "confidence": 0.8},
        {"site_id": "site-002", "lat": 31.95, "lon": -102.3, "mean_rate_kg_h": 50, "persistence": 1, "confidence": 0.0},
    ]
    kept = score_sites(truth, found, detection_limits={"a": 50.0, "b": 500.0}, min_confidence=0.2)
    assert kept["n_found"] == 1 and kept["n_below_confidence"] == 1
    assert kept["false_sites"] == [] and kept["site_precision"] == 1.0
    weak = [dict(found[0], confidence=0.1)]
    assert score_sites(truth, weak, min_confidence=0.2)["site_recall"] == 0.0  # a true site below the bar is missed
