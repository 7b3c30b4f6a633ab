"""A small gridded 10 m wind file in ERA5's layout (u10, v10 over time × latitude × longitude), NetCDF.

ERA5 single-level files (Copernicus Climate Data Store, NetCDF) hold ``u10`` and ``v10`` (m s⁻¹, the eastward and
northward 10 m wind) on ``(time, latitude, longitude)`` with latitude descending (north first) and longitude
ascending, hourly. :func:`write_wind_grid` writes the same layout; the simulated campaign
(:mod:`plumetrace.simulate.campaign`) fills it so that every scene's wind is the grid's value at the scene's hour,
uniform in space, so any interpolation in space returns exactly the wind its plumes were simulated with.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["wind_components", "wind_speed_direction", "write_wind_grid", "read_wind_grid"]


def wind_components(speed_m_s: float | np.ndarray, from_deg: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Speed (m/s) and the direction the wind blows from (degrees clockwise from north) → (u, v), m/s."""
    rad = np.deg2rad(from_deg)
    return -np.asarray(speed_m_s) * np.sin(rad), -np.asarray(speed_m_s) * np.cos(rad)


def wind_speed_direction(u_m_s: float | np.ndarray, v_m_s: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(u, v) in m/s → speed (m/s) and the direction it blows from (degrees clockwise from north, 0–360)."""
    u, v = np.asarray(u_m_s, dtype=float), np.asarray(v_m_s, dtype=float)
    return np.hypot(u, v), np.mod(np.rad2deg(np.arctan2(-u, -v)), 360.0)


def write_wind_grid(
    path: str | Path,
    times: pd.DatetimeIndex,
    speed_m_s: np.ndarray,
    from_deg: np.ndarray,
    *,
    lat_range: tuple[float, float],
    lon_range: tuple[float, float],
    step_deg: float = 0.25,
) -> Path:
    """Write a spatially uniform hourly wind field as an ERA5-layout NetCDF file.

    Parameters
    ----------
    path : output file (``.nc``).
    times : (n,) UTC times (timezone-naive or UTC), increasing.
    speed_m_s, from_deg : (n,) wind speed (m/s) and direction it blows from (degrees) at each time.
    lat_range, lon_range : (min, max) degrees the grid must cover; widened to whole ``step_deg`` cells.
    step_deg : grid spacing, degrees (ERA5: 0.25).

    Returns
    -------
    The path written.
    """
    lat = (
        np.arange(math.floor(lat_range[0] / step_deg) - 1, math.ceil(lat_range[1] / step_deg) + 2, dtype=float)[::-1]
        * step_deg
    )
    lon = (
        np.arange(math.floor(lon_range[0] / step_deg) - 1, math.ceil(lon_range[1] / step_deg) + 2, dtype=float)
        * step_deg
    )
    u, v = wind_components(np.asarray(speed_m_s, float), np.asarray(from_deg, float))
    shape = (len(times), lat.size, lon.size)
    index = pd.DatetimeIndex(times)
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    ds = xr.Dataset(
        {
            "u10": (("time", "latitude", "longitude"), np.broadcast_to(u[:, None, None], shape).astype(np.float32)),
            "v10": (("time", "latitude", "longitude"), np.broadcast_to(v[:, None, None], shape).astype(np.float32)),
        },
        coords={"time": index.values, "latitude": lat, "longitude": lon},
    )
    ds["u10"].attrs = {"units": "m s**-1", "long_name": "10 metre U wind component"}
    ds["v10"].attrs = {"units": "m s**-1", "long_name": "10 metre V wind component"}
    ds["latitude"].attrs = {"units": "degrees_north", "long_name": "latitude"}
    ds["longitude"].attrs = {"units": "degrees_east", "long_name": "longitude"}
    ds.attrs = {"Conventions": "CF-1.6", "source": "plumetrace simulated campaign (ERA5 single-level layout)"}
    path = Path(path)
    ds.to_netcdf(path, engine="h5netcdf", encoding={"time": {"units": "hours since 1900-01-01 00:00:00"}})
    return path


def read_wind_grid(path: str | Path, time: str, lat: float, lon: float) -> tuple[float, float]:
    """Wind speed (m/s) and direction (degrees from) of an ERA5-layout file at a time and place (linear)."""
    when = pd.Timestamp(time)
    if when.tz is not None:
        when = when.tz_convert("UTC").tz_localize(None)
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        point = ds[["u10", "v10"]].interp(time=when, latitude=lat, longitude=lon).load()
    speed, direction = wind_speed_direction(float(point["u10"]), float(point["v10"]))
    return float(speed), float(direction)
