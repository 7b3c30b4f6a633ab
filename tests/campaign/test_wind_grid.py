"""Gridded reanalysis wind (ERA5 layout): interpolated to the scene's time and place; a file that does not cover
them is refused naming the file and the field."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from plumetrace.errors import InvalidFileError
from plumetrace.plumes.wind import check_wind_coverage, read_wind_series, wind_from_file
from tests.campaign.conftest import write_era5


def _linear_grid(path):
    """u10 = longitude - 257 (m/s), v10 = 0; two times 6 h apart with u doubling: bilinear truth is analytic."""
    times = np.array(["2026-06-21T12:00", "2026-06-21T18:00"], dtype="datetime64[ns]")
    lats = np.array([33.0, 32.0, 31.0])  # ERA5: latitude descending
    lons = np.array([257.0, 258.0, 259.0])  # ERA5: 0-360 longitudes
    u = np.stack([np.broadcast_to(lons - 257.0 + 1.0, (3, 3)) * k for k in (1.0, 2.0)])
    ds = xr.Dataset(
        {"u10": (("valid_time", "latitude", "longitude"), u), "v10": (("valid_time", "latitude", "longitude"), 0 * u)},
        coords={"valid_time": times, "latitude": lats, "longitude": lons},
    )
    ds.to_netcdf(path, engine="h5netcdf")
    return path


def test_bilinear_in_space_linear_in_time(tmp_path):
    path = _linear_grid(tmp_path / "era5.nc")
    # lon -102.25 = 257.75 -> u = 1.75 at 12:00 and 3.5 at 18:00; 15:00 is halfway: 2.625 m/s from the west
    wind = wind_from_file(path, time="2026-06-21T15:00:00Z", lat=31.6, lon=-102.25)
    assert wind.speed_m_s == pytest.approx(2.625, rel=1e-9)
    assert wind.direction_deg == pytest.approx(270.0)


def test_era5_layout_with_extra_length_one_dimension(tmp_path):
    path = write_era5(tmp_path / "era5.nc", u=3.0, v=0.0)
    series = read_wind_series(path)
    assert series["u_m_s"].ndim == 3 and list(series["grid_names"]) == ["valid_time", "latitude", "longitude"]
    wind = wind_from_file(path, time="2026-06-22T10:00:00Z", lat=31.9, lon=-102.3)
    assert wind.speed_m_s == pytest.approx(3.0) and wind.direction_deg == pytest.approx(270.0)


@pytest.mark.parametrize(
    "lat, lon, time, field",
    [
        (35.0, -102.3, "2026-06-22T10:00:00Z", "latitude"),
        (31.9, -110.0, "2026-06-22T10:00:00Z", "longitude"),
        (31.9, -102.3, "2026-07-01T10:00:00Z", "valid_time"),
    ],
    ids=["north-of-grid", "west-of-grid", "after-the-series"],
)
def test_a_place_or_time_outside_the_file_names_file_and_field(tmp_path, lat, lon, time, field):
    path = write_era5(tmp_path / "era5.nc")
    series = read_wind_series(path)
    with pytest.raises(InvalidFileError) as caught:
        check_wind_coverage(series, path, time=time, points_lat_lon=[(lat, lon)])
    assert caught.value.path == str(path) and caught.value.field == field


def test_half_a_grid_step_beyond_the_edge_is_covered(tmp_path):
    path = write_era5(tmp_path / "era5.nc", lat=(32.5, 31.5))  # 0.25° steps
    series = read_wind_series(path)
    check_wind_coverage(
        series, path, time=pd.Timestamp("2026-06-22T10:00Z").isoformat(), points_lat_lon=[(32.6, -102.3)]
    )
    with pytest.raises(InvalidFileError):
        check_wind_coverage(series, path, time="2026-06-22T10:00:00Z", points_lat_lon=[(32.7, -102.3)])
