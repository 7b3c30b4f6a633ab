"""The campaign configuration: every default printable and read back, paths relative to the campaign file."""

from __future__ import annotations

import yaml

from plumetrace.campaign import CampaignConfig, load_config
from plumetrace.campaign.config import params_sha256
from plumetrace.campaign.workers import MEMORY_PER_WORKER_BYTES, default_workers


def test_print_config_lists_every_default_and_reads_back(run_cli, tmp_path):
    code, stdout, _ = run_cli("run", "--print-config")
    assert code == 0
    data = yaml.safe_load(stdout)
    assert set(data) == {
        "inputs",
        "wind",
        "detect",
        "plumes",
        "invert",
        "sites",
        "overrides",
        "allow_mixed_gases",
        "allow_mixed_units",
    }
    assert data["detect"]["method"] == "mf" and data["plumes"]["high_sigma"] == 4.0
    assert data["detect"]["flare_factor"] == 4.0 and "n_threads" not in data["detect"]
    assert CampaignConfig(**data) == CampaignConfig()
    path = tmp_path / "campaign.yaml"
    path.write_text(stdout)
    assert load_config(path).model_dump() == CampaignConfig().model_dump()


def test_paths_are_relative_to_the_campaign_file(campaign, tmp_path):
    path = campaign.root / "campaign.yaml"
    path.write_text("inputs: [scenes/pass0.hdr, scenes/drone.csv]\nwind:\n  file: era5.nc\n")
    config = load_config(path)
    assert config.inputs == [campaign.headers[0].resolve(), campaign.log.resolve()]
    assert config.wind.file == campaign.wind_nc.resolve()


def test_overrides_apply_to_their_section_only():
    config = CampaignConfig(overrides={"a": {"plumes": {"high_sigma": 5.0}}})
    base, changed = config.section("plumes"), config.section("plumes", config.overrides["a"])
    assert changed["high_sigma"] == 5.0 and base["high_sigma"] == 4.0
    assert {k: v for k, v in changed.items() if k != "high_sigma"} == {
        k: v for k, v in base.items() if k != "high_sigma"
    }
    assert config.section("detect", config.overrides["a"]) == config.section("detect")


def test_parameter_hash_is_canonical():
    assert params_sha256({"a": 1, "b": (1.0, 2.0)}) == params_sha256({"b": [1.0, 2.0], "a": 1})
    assert params_sha256({"a": 1}) != params_sha256({"a": 2})


def test_default_workers_fit_cores_memory_and_tasks():
    import os

    import psutil

    n = default_workers()
    assert 1 <= n <= (os.cpu_count() or 1)
    assert n <= max(1, psutil.virtual_memory().total // MEMORY_PER_WORKER_BYTES)
    assert default_workers(1) == 1


def test_an_override_wind_replaces_the_campaign_wind_kind(tmp_path):
    wind_file = tmp_path / "era5.nc"
    wind_file.write_bytes(b"")
    config = CampaignConfig(
        wind={"file": wind_file},
        overrides={"a": {"wind": {"speed_m_s": 4.5, "direction_deg": 90}}, "b": {"wind": {"direction_sigma_deg": 5}}},
    )
    a = config.section("wind", config.overrides["a"])
    assert a["file"] is None and (a["speed_m_s"], a["direction_deg"]) == (4.5, 90)
    b = config.section("wind", config.overrides["b"])
    assert b["file"] == wind_file and b["direction_sigma_deg"] == 5
    c = CampaignConfig(wind={"speed_m_s": 3, "direction_deg": 270}, overrides={"c": {"wind": {"file": wind_file}}})
    assert c.section("wind", c.overrides["c"])["speed_m_s"] is None


def test_a_gas_stated_per_input_may_differ(campaign, tmp_path):
    import pytest

    from plumetrace.campaign.config import config_from_inputs
    from plumetrace.campaign.plan import plan_campaign
    from plumetrace.errors import InvalidFileError

    wind = {"speed_m_s": 3.0, "direction_deg": 270.0}
    logs = [campaign.headers[0], campaign.log]
    with pytest.raises(InvalidFileError, match="gas: 'co2' differs from 'ch4'"):
        plan_campaign(config_from_inputs(logs, {"wind": wind, "invert": {"gas": "co2"}}), tmp_path / "run")
    stated = {"wind": wind, "overrides": {"drone": {"invert": {"gas": "co2"}}}}
    plan = plan_campaign(config_from_inputs(logs, stated), tmp_path / "run")
    assert plan.inputs[1].tasks[0].params["gas"] == "co2"
    allowed = {"wind": wind, "invert": {"gas": "co2"}, "allow_mixed_gases": True}
    assert plan_campaign(config_from_inputs(logs, allowed), tmp_path / "run").inputs[1].tasks[0].params["gas"] == "co2"
