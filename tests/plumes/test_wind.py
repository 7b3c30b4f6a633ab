from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from plumetrace.errors import InvalidFileError, InvalidInputError, MissingFileError
from plumetrace.plumes.wind import wind_from_file, wind_from_options


def test_options_default_sigma_is_30_percent():
    wind = wind_from_options(4.0, 270.0)
    assert wind.speed_sigma_m_s == pytest.approx(1.2)
    assert wind.direction_deg == 270.0


@pytest.mark.parametrize(
    "speed, direction, sigma, field",
    [
        (None, 270.0, None, "wind speed"),
        (0.0, 270.0, None, "wind speed"),
        (45.0, 270.0, None, "wind speed"),
        (3.0, None, None, "wind direction"),
        (3.0, 400.0, None, "wind direction"),
        (3.0, 90.0, -1.0, "wind sigma"),
    ],
)
def test_options_reject_missing_or_out_of_range(speed, direction, sigma, field):
    with pytest.raises(InvalidInputError, match=field):
        wind_from_options(speed, direction, speed_sigma_m_s=sigma)


def test_csv_series_interpolates_components_in_time(tmp_path):
    path = tmp_path / "wind.csv"
    path.write_text("time,u10_m_s,v10_m_s\n2026-06-01T17:00:00Z,2.0,0.0\n2026-06-01T18:00:00Z,4.0,0.0\n")
    wind = wind_from_file(path, time="2026-06-01T17:30:00Z")
    assert wind.speed_m_s == pytest.approx(3.0)
    assert wind.direction_deg == pytest.approx(270.0)  # eastward wind blows from the west


def test_csv_speed_direction_and_nearest_station(tmp_path):
    path = tmp_path / "wind.csv"
    path.write_text(
        "time,lat,lon,wind_speed_m_s,wind_dir_deg\n"
        "2026-06-01T17:00:00,35.0,-118.0,5.0,180.0\n"
        "2026-06-01T18:00:00,35.0,-118.0,5.0,180.0\n"
        "2026-06-01T17:00:00,36.0,-117.0,2.0,90.0\n"
        "2026-06-01T18:00:00,36.0,-117.0,2.0,90.0\n"
    )
    wind = wind_from_file(path, time="2026-06-01T17:20:00", lat=35.9, lon=-117.1)
    assert wind.speed_m_s == pytest.approx(2.0)
    assert wind.direction_deg == pytest.approx(90.0)


def test_netcdf_grid_is_sampled_at_a_grid_point(tmp_path):
    times = np.array(["2026-06-01T17:00", "2026-06-01T18:00"], dtype="datetime64[ns]")
    lat = np.array([35.0, 36.0])
    lon = np.array([-118.0, -117.0])
    u = np.zeros((2, 2, 2))
    v = np.zeros((2, 2, 2))
    v[:, 1, 1] = 6.0  # northward wind at (36, -117): blows from the south
    u[:, 0, 0] = 1.0
    ds = xr.Dataset(
        {"u10": (("time", "latitude", "longitude"), u), "v10": (("time", "latitude", "longitude"), v)},
        coords={"time": times, "latitude": lat, "longitude": lon},
    )
    path = tmp_path / "era5.nc"
    ds.to_netcdf(path, engine="h5netcdf")
    wind = wind_from_file(path, time="2026-06-01T17:45:00", lat=36.0, lon=-117.0)
    assert wind.speed_m_s == pytest.approx(6.0)
    assert wind.direction_deg == pytest.approx(180.0)


def test_time_outside_series_is_refused(tmp_path):
    path = tmp_path / "wind.csv"
    path.write_text("time,u10_m_s,v10_m_s\n2026-06-01T17:00:00,2.0,0.0\n2026-06-01T18:00:00,2.0,0.0\n")
    with pytest.raises(InvalidFileError, match="time"):
        wind_from_file(path, time="2026-06-03T17:00:00")


def test_missing_file():
    with pytest.raises(MissingFileError):
        wind_from_file("/nonexistent/wind.csv", time="2026-06-01T17:00:00")


def test_csv_without_wind_columns(tmp_path):
    path = tmp_path / "wind.csv"
    path.write_text("time,temperature\n2026-06-01T17:00:00,20\n")
    with pytest.raises(InvalidFileError, match="wind columns"):
        wind_from_file(path, time="2026-06-01T17:00:00")


def test_csv_with_bad_number(tmp_path):
    path = tmp_path / "wind.csv"
    path.write_text("time,u10_m_s,v10_m_s\n2026-06-01T17:00:00,abc,0\n")
    with pytest.raises(InvalidFileError, match="u10_m_s"):
        wind_from_file(path, time="2026-06-01T17:00:00")


def test_several_stations_need_a_plume_location(tmp_path):
    path = tmp_path / "wind.csv"
    path.write_text(
        "time,lat,lon,wind_speed_m_s,wind_dir_deg\n"
        "2026-06-01T17:00:00,35.0,-118.0,5.0,180.0\n"
        "2026-06-01T17:00:00,36.0,-117.0,2.0,90.0\n"
    )
    with pytest.raises(InvalidFileError, match="wind stations"):
        wind_from_file(path, time="2026-06-01T17:00:00")


def test_direction_sigma_from_a_veering_series(tmp_path):
    # within the hour around the plume the wind veers 200° -> 260° -> 320°: unit vectors at -60°, 0°, +60°
    # have mean resultant length R = (1 + 2 cos 60°) / 3 = 2/3, circular sigma sqrt(-2 ln R) = 51.5°
    path = tmp_path / "wind.csv"
    path.write_text(
        "time,wind_speed_m_s,wind_dir_deg\n"
        "2026-06-01T17:00:00,4.0,200.0\n"
        "2026-06-01T17:30:00,4.0,260.0\n"
        "2026-06-01T18:00:00,4.0,320.0\n"
    )
    wind = wind_from_file(path, time="2026-06-01T17:30:00")
    assert wind.direction_deg == pytest.approx(260.0, abs=0.5)
    assert wind.direction_sigma_deg == pytest.approx(np.degrees(np.sqrt(-2 * np.log(2 / 3))), rel=1e-3)
    steady = tmp_path / "steady.csv"
    steady.write_text(
        "time,wind_speed_m_s,wind_dir_deg\n2026-06-01T17:00:00,4.0,260.0\n2026-06-01T18:00:00,4.0,260.0\n"
    )
    assert wind_from_file(steady, time="2026-06-01T17:30:00").direction_sigma_deg == pytest.approx(20.0)


def test_identical_repeats_are_dropped_conflicting_ones_refused(tmp_path):
    path = tmp_path / "wind.csv"
    path.write_text(
        "time,wind_speed_m_s,wind_dir_deg\n2026-06-01T17:00:00,4,270\n2026-06-01T17:00:00,4,270\n"
        "2026-06-01T18:00:00,4,270\n"
    )
    assert wind_from_file(path, time="2026-06-01T17:30:00").speed_m_s == pytest.approx(4.0)
    path.write_text("time,wind_speed_m_s,wind_dir_deg\n2026-06-01T17:00:00,4,270\n2026-06-01T17:00:00,6,90\n")
    with pytest.raises(InvalidFileError, match="time: 2026-06-01T17:00:00 appears twice"):
        wind_from_file(path, time="2026-06-01T17:00:00")


@pytest.mark.parametrize(
    "row, column",
    [
        ("-4,90", "wind_speed_m_s"),
        ("150,90", "wind_speed_m_s"),
        ("4,-90", "wind_dir_deg"),
        ("nan,90", "wind_speed_m_s"),
    ],
)
def test_impossible_values_name_the_column(tmp_path, row, column):
    path = tmp_path / "wind.csv"
    path.write_text(f"time,wind_speed_m_s,wind_dir_deg\n2026-06-01T17:00:00,{row}\n")
    with pytest.raises(InvalidFileError, match=f"wind.csv: {column}: .*row 2"):
        wind_from_file(path, time="2026-06-01T17:00:00")


def test_zone_offsets_are_converted_to_utc(tmp_path):
    path = tmp_path / "wind.csv"
    path.write_text("time,u10_m_s,v10_m_s\n2026-06-01T19:00:00+02:00,2.0,0.0\n2026-06-01T20:00:00+02:00,4.0,0.0\n")
    assert wind_from_file(path, time="2026-06-01T17:30:00Z").speed_m_s == pytest.approx(3.0)


def test_time_just_outside_the_series_warns(tmp_path):
    from plumetrace.errors import InputWarning

    path = tmp_path / "wind.csv"
    path.write_text("time,u10_m_s,v10_m_s\n2026-06-01T17:00:00,2.0,0.0\n2026-06-01T18:00:00,4.0,0.0\n")
    with pytest.warns(InputWarning, match="wind.csv: time: .* 1.5 h after the last"):
        assert wind_from_file(path, time="2026-06-01T19:30:00").speed_m_s == pytest.approx(4.0)


def test_binary_file_is_refused(tmp_path):
    path = tmp_path / "wind.csv"
    path.write_bytes(bytes(range(256)))
    with pytest.raises(InvalidFileError, match="binary"):
        wind_from_file(path, time="2026-06-01T17:00:00")


@pytest.mark.parametrize("speed, field", [(float("nan"), "finite"), (float("inf"), "finite"), (-3.0, "out of range")])
def test_options_reject_non_finite_or_negative_speed(speed, field):
    with pytest.raises(InvalidInputError, match=f"wind speed: .*{field}"):
        wind_from_options(speed, 270.0)
