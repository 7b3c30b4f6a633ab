"""`plumetrace run`: a campaign that cannot run as given is refused in one line, exit 2, before anything is written."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.badinput.harness import Case, check_rejected, ids, write_text

WIND = ["--wind-speed", "3", "--wind-dir", "270"]


def _map(inputs, tmp: Path, name: str, *, tags=None, units=None, scale=1.0) -> Path:
    """A copy of the valid enhancement map with file tags replaced (and its bands' units, values scaled)."""
    import rasterio

    path = tmp / name
    with rasterio.open(inputs.enhancement_tif) as src:
        profile, data = src.profile.copy(), src.read()
        file_tags = {**src.tags(), **(tags or {})}
        band_tags = [src.tags(i) for i in range(1, src.count + 1)]
        names = list(src.descriptions)
    data[:2] = data[:2] * np.float32(scale)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
        for index, band in enumerate(band_tags):
            if units is not None and index < 2:
                band = {**band, "units": units}
                dst.set_band_unit(index + 1, units)
            dst.update_tags(index + 1, **band)
            dst.set_band_description(index + 1, names[index])
        if units is not None:
            file_tags["units"] = units
        dst.update_tags(**file_tags)
    return path


def _scene_copy(inputs, tmp: Path, name: str) -> Path:
    header = Path(inputs.scene_hdr)
    shutil.copy(header, tmp / f"{name}.hdr")
    shutil.copy(header.with_suffix(""), tmp / name)
    return tmp / f"{name}.hdr"


def _as_netcdf(inputs, tmp: Path) -> Path:
    """The valid scene written again as an EMIT-like NetCDF: the same overpass in another format."""
    from plumetrace.io.emit import write_emit_netcdf
    from plumetrace.io.envi import read_envi

    return write_emit_netcdf(read_envi(inputs.scene_hdr), tmp / "scene.nc")


def _era5(tmp: Path, *, lat0: float) -> Path:
    import pandas as pd
    import xarray as xr

    times = pd.date_range("2026-06-21T12:00", "2026-06-22T00:00", freq="1h").to_numpy()
    lats, lons = np.array([lat0 + 1.0, lat0]), np.array([257.0, 258.0])
    u = np.full((len(times), 2, 2), 3.0)
    ds = xr.Dataset(
        {"u10": (("valid_time", "latitude", "longitude"), u), "v10": (("valid_time", "latitude", "longitude"), 0 * u)},
        coords={"valid_time": times, "latitude": lats, "longitude": lons},
    )
    ds.to_netcdf(tmp / "era5.nc", engine="h5netcdf")
    return tmp / "era5.nc"


def _yaml(tmp: Path, text: str) -> Path:
    return write_text(tmp, "campaign.yaml", text)


CASES = [
    Case(
        "gases-mixed-unsaid",
        lambda i, t: ["run", i.enhancement_tif, _map(i, t, "co2.tif", tags={"gas": "co2"}), *WIND],
        ("{tmp}/co2.tif", "gas", "allow_mixed_gases"),
    ),
    Case(
        "units-mixed-unsaid",
        lambda i, t: [
            "run",
            i.enhancement_tif,
            _map(
                i, t, "molar.tif", tags={"acquisition_time": "2026-06-22T18:30:00Z"}, units="mol m-2", scale=1 / 2.0e4
            ),
            *WIND,
        ],
        ("{tmp}/molar.tif", "units", "allow_mixed_units"),
    ),
    Case(
        "wind-file-misses-the-time",
        lambda i, t: [
            "run",
            i.scene_hdr,
            "--wind-file",
            write_text(
                t,
                "wind.csv",
                "time,wind_speed_m_s,wind_dir_deg\n2026-07-01T00:00:00Z,3,270\n2026-07-01T06:00:00Z,3,270\n",
            ),
        ],
        ("{tmp}/wind.csv", "time"),
    ),
    Case(
        "wind-grid-misses-the-place",
        lambda i, t: ["run", i.scene_hdr, "--wind-file", _era5(t, lat0=40.0)],
        ("{tmp}/era5.nc", "latitude", "outside the grid"),
    ),
    Case("same-file-twice", lambda i, t: ["run", i.scene_hdr, i.scene_hdr, *WIND], ("{scene_hdr}", "given twice")),
    Case(
        "same-file-by-header-and-data",
        lambda i, t: ["run", i.scene_hdr, Path(i.scene_hdr).with_suffix(""), *WIND],
        ("{scene_hdr}", "given twice"),
    ),
    Case(
        "same-content-twice",
        lambda i, t: ["run", i.scene_hdr, _scene_copy(i, t, "again"), *WIND],
        ("{tmp}/again.hdr", "same content as"),
    ),
    Case(
        "same-scene-in-two-formats",
        lambda i, t: ["run", i.scene_hdr, _as_netcdf(i, t), *WIND],
        ("{tmp}/scene.nc", "the same overpass as", "{scene_hdr}"),
    ),
    Case(
        "empty-input-folder",
        lambda i, t: ["run", (t / "flights").mkdir() or t / "flights", *WIND],
        ("{tmp}/flights", "looked for", "*.hdr"),
    ),
    Case(
        "folder-of-other-files",
        lambda i, t: ["run", (t / "docs").mkdir() or write_text(t, "docs/notes.txt", "hello").parent, *WIND],
        ("{tmp}/docs", "no scene or sensor log"),
    ),
    Case(
        "config-names-a-missing-wind-file",
        lambda i, t: ["run", _yaml(t, f"inputs: [{i.scene_hdr}]\nwind:\n  file: era5_missing.nc\n")],
        ("{tmp}/campaign.yaml", "wind.file", "era5_missing.nc does not exist"),
    ),
    Case(
        "config-names-a-missing-input",
        lambda i, t: ["run", _yaml(t, "inputs: [flight_07.hdr]\nwind: {speed_m_s: 3, direction_deg: 270}\n")],
        ("{tmp}/campaign.yaml", "inputs[0]", "flight_07.hdr does not exist"),
    ),
    Case(
        "config-unknown-key",
        lambda i, t: ["run", _yaml(t, f"inputs: [{i.scene_hdr}]\ndetect:\n  methd: sparse\n")],
        ("{tmp}/campaign.yaml", "detect.methd", "unknown key"),
    ),
    Case(
        "config-unknown-section",
        lambda i, t: ["run", _yaml(t, f"inputs: [{i.scene_hdr}]\nwinds: {{speed_m_s: 3}}\n")],
        ("{tmp}/campaign.yaml", "winds", "unknown key"),
    ),
    Case(
        "config-wrong-type",
        lambda i, t: ["run", _yaml(t, f"inputs: [{i.scene_hdr}]\nwind: {{speed_m_s: fast, direction_deg: 270}}\n")],
        ("{tmp}/campaign.yaml", "wind.speed_m_s", "fast"),
    ),
    Case(
        "config-bad-value",
        lambda i, t: [
            "run",
            _yaml(
                t, f"inputs: [{i.scene_hdr}]\nwind: {{speed_m_s: 3, direction_deg: 270}}\ndetect: {{method: magic}}\n"
            ),
        ],
        ("{tmp}/campaign.yaml", "detect.method", "magic"),
    ),
    Case(
        "config-override-of-no-input",
        lambda i, t: [
            "run",
            _yaml(
                t,
                f"inputs: [{i.scene_hdr}]\nwind: {{speed_m_s: 3, direction_deg: 270}}\n"
                "overrides: {flight_99: {plumes: {high_sigma: 5}}}\n",
            ),
        ],
        ("{tmp}/campaign.yaml", "overrides.flight_99", "names no input"),
    ),
    Case(
        "config-override-wrong-type",
        lambda i, t: [
            "run",
            _yaml(
                t,
                f"inputs: [{i.scene_hdr}]\nwind: {{speed_m_s: 3, direction_deg: 270}}\n"
                "overrides: {scene_rdn: {wind: {speed_m_s: [3, 4]}}}\n",
            ),
        ],
        ("{tmp}/campaign.yaml", "overrides.scene_rdn.wind.speed_m_s"),
    ),
    Case(
        "config-not-yaml",
        lambda i, t: ["run", _yaml(t, "inputs: [a, b\nwind: {\n")],
        ("{tmp}/campaign.yaml", "yaml"),
    ),
    Case("no-wind-for-scenes", lambda i, t: ["run", i.scene_hdr], ("--wind-speed/--wind-dir/--wind-file", "no wind")),
    Case(
        "wind-series-given-as-input",
        lambda i, t: ["run", i.scene_hdr, i.wind_csv, *WIND],
        ("{wind_csv}", "wind series, not a sensor log"),
    ),
    Case(
        "set-unknown-key",
        lambda i, t: ["run", i.scene_hdr, *WIND, "--set", "plumes.high_sigmaa=5"],
        ("plumes.high_sigmaa", "unknown key"),
    ),
    Case(
        "override-bad-value",
        lambda i, t: ["run", i.scene_hdr, *WIND, "--set", "overrides.scene_rdn.plumes.low_sigma=-1"],
        ("overrides.scene_rdn.plumes", "low_sigma"),
    ),
    Case("no-inputs", lambda i, t: ["run", *WIND], ("INPUT", "missing")),
    Case(
        "out-holds-user-files",
        lambda i, t: ["run", i.scene_hdr, *WIND],
        ("{tmp}/out", "--out", "did not write"),
        prepare_out=lambda out: (out.mkdir(), (out / "notes.txt").write_text("mine")),
    ),
    Case(
        "out-is-a-file",
        lambda i, t: ["run", i.scene_hdr, *WIND],
        ("{tmp}/out", "--out", "is a file"),
        prepare_out=lambda out: out.write_text("mine"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_run_input_refused(run_cli, inputs, tmp_path, case):
    print(case.id, "->", check_rejected(run_cli, case, inputs, tmp_path))
