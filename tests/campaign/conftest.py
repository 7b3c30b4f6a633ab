"""Small campaigns for the `plumetrace run` tests: three 48×48 EMIT scenes on two dates, one drone log, an ERA5-layout
wind grid; built once per test session."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

#: Scene centre (the simulator's default place) and the scenes' times.
LAT, LON = 31.9, -102.3
TIMES = ("2026-06-21T18:30:00Z", "2026-06-22T18:30:00Z", "2026-06-23T18:30:00Z")


@dataclass(frozen=True)
class Campaign:
    root: Path
    scenes: Path  # folder holding the three scenes (ENVI), one of them in a subfolder
    headers: tuple[Path, ...]
    log: Path  # drone log, lat/lon, concentration_ppm
    wind_nc: Path  # u10/v10 over valid_time × latitude × longitude (ERA5 layout)


def write_era5(path: Path, *, lat=(32.5, 31.5), lon=(257.0, 258.5), times=None, u=3.0, v=0.5) -> Path:
    """An ERA5-layout wind file: descending latitude, 0-360 longitude, ``valid_time``, a length-1 ``number``."""
    import pandas as pd
    import xarray as xr

    times = pd.date_range("2026-06-21T00:00", "2026-06-24T00:00", freq="6h") if times is None else times
    lats = np.linspace(lat[0], lat[1], 5)
    lons = np.linspace(lon[0], lon[1], 7)
    shape = (1, len(times), len(lats), len(lons))
    ds = xr.Dataset(
        {
            "u10": (("number", "valid_time", "latitude", "longitude"), np.full(shape, u, dtype="float32")),
            "v10": (("number", "valid_time", "latitude", "longitude"), np.full(shape, v, dtype="float32")),
        },
        coords={
            "number": [0],
            "valid_time": np.asarray(times, dtype="datetime64[ns]"),
            "latitude": lats,
            "longitude": lons,
        },
    )
    ds.to_netcdf(path, engine="h5netcdf")
    return path


@pytest.fixture(scope="session")
def campaign(tmp_path_factory) -> Campaign:
    from plumetrace.cli import main
    from plumetrace.georef import local_to_lonlat
    from plumetrace.simulate.observations import simulate_survey

    root = tmp_path_factory.mktemp("campaign")

    def run(*argv: object) -> None:
        try:
            main([str(a) for a in argv])
        except SystemExit as exc:  # pragma: no cover - a broken fixture
            assert exc.code in (0, None), f"fixture command failed: {argv}"

    scenes = root / "scenes"
    headers = []
    for i, (when, rate) in enumerate(zip(TIMES, (3000, 0, 2500))):
        sim = root / f"sim{i}"
        run("simulate", "--size", "48x48", "--rate-kg-h", rate, "--seed", i + 1, "--time", when, "--out", sim)
        target = scenes / "late" if i == 2 else scenes
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(sim / "scene_rdn", target / f"pass{i}")
        shutil.copy(sim / "scene_rdn.hdr", target / f"pass{i}.hdr")
        headers.append(target / f"pass{i}.hdr")
    raw, _ = simulate_survey(kind="drone", emission_rate_g_s=5.0, source_xyz_m=(10.0, -20.0, 2.0), seed=5)
    lon, lat = local_to_lonlat(raw["x_m"].to_numpy(), raw["y_m"].to_numpy(), origin_lon_deg=LON, origin_lat_deg=LAT)
    ppm_per_mg_m3 = 0.0240548e6 / (1000 * 16.043)
    log = raw.drop(columns=["x_m", "y_m", "z_m", "concentration_mg_m3"]).assign(
        lat=lat, lon=lon, alt_m=raw["z_m"].to_numpy(), concentration_ppm=raw["concentration_mg_m3"] * ppm_per_mg_m3
    )
    log_path = scenes / "drone.csv"
    log.to_csv(log_path, index=False)
    return Campaign(root, scenes, tuple(headers), log_path, write_era5(root / "era5.nc"))
