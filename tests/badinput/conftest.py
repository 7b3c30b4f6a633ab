"""Valid small inputs, built once per session, for the bad-input cases to corrupt."""

from __future__ import annotations

import pytest
from shapely.geometry import box

from tests.badinput.harness import Inputs


@pytest.fixture(scope="session")
def inputs(tmp_path_factory) -> Inputs:
    import numpy as np
    import pandas as pd

    from plumetrace.cli import main
    from plumetrace.io.vector import write_geojson
    from plumetrace.simulate.observations import simulate_survey

    root = tmp_path_factory.mktemp("valid-inputs")

    def run(*argv: object) -> None:
        try:
            main([str(a) for a in argv])
        except SystemExit as exc:  # pragma: no cover - a broken fixture
            assert exc.code in (0, None), f"fixture command failed: {argv}"

    run("simulate", "--size", "32x32", "--rate-kg-h", "3000", "--seed", "1", "--out", root / "sim")
    run("detect", root / "sim" / "scene_rdn.hdr", "--out", root / "det")

    raw, _ = simulate_survey(kind="drone", emission_rate_g_s=5.0, source_xyz_m=(10.0, -20.0, 2.0), seed=5)
    local = root / "drone_local.csv"
    raw.to_csv(local, index=False)
    from plumetrace.georef import local_to_lonlat

    lon, lat = local_to_lonlat(raw["x_m"].to_numpy(), raw["y_m"].to_numpy(), origin_lon_deg=-100.0, origin_lat_deg=40.0)
    ppm_per_mg_m3 = 0.0240548e6 / (1000 * 16.043)  # CH4 at 293.15 K and 101325 Pa
    latlon = raw.drop(columns=["x_m", "y_m", "z_m", "concentration_mg_m3"]).assign(
        lat=lat, lon=lon, alt_m=raw["z_m"].to_numpy(), concentration_ppm=raw["concentration_mg_m3"] * ppm_per_mg_m3
    )
    lat_csv = root / "drone.csv"
    latlon.to_csv(lat_csv, index=False)

    times = pd.date_range("2026-06-21T16:00:00Z", "2026-06-21T21:00:00Z", freq="30min")
    wind = pd.DataFrame(
        {
            "time": times.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "wind_speed_m_s": np.linspace(2.5, 3.5, len(times)),
            "wind_dir_deg": 270.0,
        }
    )
    wind_csv = root / "wind.csv"
    wind.to_csv(wind_csv, index=False)

    from pyproj import Transformer

    to_lonlat = Transformer.from_crs("+proj=aeqd +lat_0=31.8 +lon_0=-102.0 +units=m", "EPSG:4326", always_xy=True)
    import shapely

    area = shapely.transform(box(0, 0, 5000, 3000), lambda xy: np.column_stack(to_lonlat.transform(xy[:, 0], xy[:, 1])))
    aoi = write_geojson(root / "aoi.geojson", [(area, {"name": "field"})])
    return Inputs(
        root=root,
        scene_hdr=root / "sim" / "scene_rdn.hdr",
        enhancement_tif=root / "det" / "enhancement.tif",
        observations_csv=lat_csv,
        local_observations_csv=local,
        wind_csv=wind_csv,
        aoi_geojson=aoi,
        home="31.79,-102.02",
    )
