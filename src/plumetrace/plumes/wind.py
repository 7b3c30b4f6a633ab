"""Wind at the plume: from command-line values or sampled from a CSV / NetCDF time series.

Conventions
-----------
* ``speed_m_s`` is the 10 m wind speed U10 (m/s) that the effective-wind calibrations of
  :mod:`plumetrace.plumes.quantify` expect.
* ``direction_deg`` is the meteorological direction the wind blows FROM, degrees clockwise from north
  (270 = westerly wind, the plume extends to the east).
* ``speed_sigma_m_s`` is the 1-sigma error of the speed; when it is not given it defaults to
  :data:`DEFAULT_SPEED_REL_SIGMA` x speed (30 %, typical of reanalysis 10 m winds at plume scale).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from os import PathLike
from pathlib import Path

import numpy as np

from plumetrace.errors import InvalidFileError, InvalidInputError, MissingFileError

__all__ = [
    "Wind",
    "DEFAULT_SPEED_REL_SIGMA",
    "MAX_SPEED_M_S",
    "MIN_SPEED_M_S",
    "wind_from_options",
    "read_wind_series",
    "sample_wind",
    "wind_from_file",
    "downwind_unit_vector",
]

DEFAULT_SPEED_REL_SIGMA = 0.3
DEFAULT_DIRECTION_SIGMA_DEG = 20.0
MIN_SPEED_M_S = 0.1
MAX_SPEED_M_S = 30.0


@dataclass(frozen=True)
class Wind:
    """Wind at a plume: 10 m speed, direction it blows from, and their 1-sigma errors."""

    speed_m_s: float
    direction_deg: float
    speed_sigma_m_s: float
    direction_sigma_deg: float = DEFAULT_DIRECTION_SIGMA_DEG
    source: str = "command line"


def _check_speed(speed_m_s: float, field: str) -> float:
    if speed_m_s is None or not np.isfinite(speed_m_s):
        raise InvalidInputError(field, "missing; give --wind-speed and --wind-dir, or --wind-file")
    if not MIN_SPEED_M_S <= speed_m_s <= MAX_SPEED_M_S:
        raise InvalidInputError(field, f"{speed_m_s:g} m/s is out of range {MIN_SPEED_M_S:g}-{MAX_SPEED_M_S:g} m/s")
    return float(speed_m_s)


def wind_from_options(
    speed_m_s: float | None,
    direction_deg: float | None,
    *,
    speed_sigma_m_s: float | None = None,
    direction_sigma_deg: float = DEFAULT_DIRECTION_SIGMA_DEG,
) -> Wind:
    """Validate wind given on the command line.

    Raises
    ------
    InvalidInputError
        Speed or direction missing, speed outside 0.1-30 m/s, direction outside 0-360°, negative sigma.
    """
    if speed_m_s is None:
        raise InvalidInputError("wind speed", "missing; give --wind-speed and --wind-dir, or --wind-file")
    speed = _check_speed(speed_m_s, "wind speed")
    if direction_deg is None or not np.isfinite(direction_deg):
        raise InvalidInputError("wind direction", "missing; give --wind-dir (degrees the wind blows from)")
    if not 0.0 <= direction_deg <= 360.0:
        raise InvalidInputError("wind direction", f"{direction_deg:g} is out of range 0-360 degrees")
    if speed_sigma_m_s is None:
        speed_sigma_m_s = DEFAULT_SPEED_REL_SIGMA * speed
    if not np.isfinite(speed_sigma_m_s) or speed_sigma_m_s < 0 or speed_sigma_m_s > 2 * speed:
        raise InvalidInputError("wind sigma", f"{speed_sigma_m_s:g} m/s must lie in 0-{2 * speed:g} m/s (twice the speed)")
    if not np.isfinite(direction_sigma_deg) or not 0 <= direction_sigma_deg <= 180:
        raise InvalidInputError("wind direction sigma", f"{direction_sigma_deg:g} must lie in 0-180 degrees")
    return Wind(float(speed), float(direction_deg) % 360.0, float(speed_sigma_m_s), float(direction_sigma_deg))


def _parse_time(value: object, where: str) -> np.datetime64:
    try:
        text = str(value).strip().replace("Z", "")
        stamp = np.datetime64(text, "s")
    except ValueError as exc:
        raise InvalidFileError(where, "time", f"cannot parse {value!r} as an ISO 8601 time") from exc
    if np.isnat(stamp):
        raise InvalidFileError(where, "time", f"cannot parse {value!r} as an ISO 8601 time")
    return stamp


def read_wind_series(path: str | PathLike) -> dict[str, np.ndarray]:
    """Read a wind time series into arrays ``time`` (datetime64[s]), ``u_m_s``, ``v_m_s`` and optional ``lat``, ``lon``.

    CSV: a header with ``time`` and either ``wind_speed_m_s`` + ``wind_dir_deg`` (direction blown from) or
    ``u10_m_s`` + ``v10_m_s`` (eastward, northward components); optional ``lat``, ``lon``,
    ``wind_speed_sigma_m_s``. NetCDF: variables ``u10``/``v10`` (or ``wind_speed``/``wind_dir``) over ``time`` and
    optionally ``latitude``/``lat`` and ``longitude``/``lon`` grid axes (ERA5 style).
    """
    path = Path(path)
    if not path.exists():
        raise MissingFileError(path, "wind file")
    suffix = path.suffix.lower()
    if suffix in (".nc", ".nc4", ".netcdf", ".h5"):
        return _read_wind_netcdf(path)
    if suffix in (".csv", ".txt"):
        return _read_wind_csv(path)
    raise InvalidFileError(path, "format", f"unknown wind file type {suffix!r}; expected .csv or .nc")


def _read_wind_csv(path: Path) -> dict[str, np.ndarray]:
    import csv

    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise InvalidFileError(path, "rows", "no data rows")
    columns = {name.strip().lower(): name for name in rows[0].keys() if name}
    if "time" not in columns:
        raise InvalidFileError(path, "time", "column missing")

    def column(name: str) -> np.ndarray:
        try:
            return np.array([float(row[columns[name]]) for row in rows])
        except (TypeError, ValueError) as exc:
            raise InvalidFileError(path, name, "contains a value that is not a number") from exc

    times = np.array([_parse_time(row[columns["time"]], str(path)) for row in rows])
    if {"u10_m_s", "v10_m_s"} <= columns.keys():
        u, v = column("u10_m_s"), column("v10_m_s")
    elif {"wind_speed_m_s", "wind_dir_deg"} <= columns.keys():
        u, v = _components(column("wind_speed_m_s"), column("wind_dir_deg"))
    else:
        raise InvalidFileError(path, "wind columns", "need wind_speed_m_s + wind_dir_deg or u10_m_s + v10_m_s")
    series = {"time": times, "u_m_s": u, "v_m_s": v}
    for name in ("lat", "lon", "wind_speed_sigma_m_s"):
        if name in columns:
            series[name] = column(name)
    return series


def _read_wind_netcdf(path: Path) -> dict[str, np.ndarray]:
    import xarray as xr

    try:
        ds = xr.open_dataset(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a malformed file for the user
        raise InvalidFileError(path, "netcdf", f"cannot read: {exc}") from exc
    with ds:
        names = {name.lower(): name for name in list(ds.variables)}
        time_name = names.get("time") or names.get("valid_time")
        if time_name is None:
            raise InvalidFileError(path, "time", "variable missing")
        if "u10" in names and "v10" in names:
            u, v = ds[names["u10"]], ds[names["v10"]]
        elif "wind_speed" in names and "wind_dir" in names:
            u_arr, v_arr = _components(ds[names["wind_speed"]].values, ds[names["wind_dir"]].values)
            u = ds[names["wind_speed"]].copy(data=u_arr)
            v = ds[names["wind_speed"]].copy(data=v_arr)
        else:
            raise InvalidFileError(path, "wind variables", "need u10 + v10 or wind_speed + wind_dir")
        series: dict[str, np.ndarray] = {"time": ds[time_name].values.astype("datetime64[s]")}
        lat_name = names.get("latitude") or names.get("lat")
        lon_name = names.get("longitude") or names.get("lon")
        series["u_m_s"] = np.asarray(u.transpose(time_name, ...).values, dtype=np.float64)
        series["v_m_s"] = np.asarray(v.transpose(time_name, ...).values, dtype=np.float64)
        if lat_name and lon_name and series["u_m_s"].ndim == 3:
            series["grid_lat"] = np.asarray(ds[lat_name].values, dtype=np.float64)
            series["grid_lon"] = np.asarray(ds[lon_name].values, dtype=np.float64)
    return series


def _components(speed: np.ndarray, direction_from_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eastward and northward components of a wind blowing FROM ``direction_from_deg``."""
    rad = np.deg2rad(direction_from_deg)
    return -speed * np.sin(rad), -speed * np.cos(rad)


def _speed_direction(u: float, v: float) -> tuple[float, float]:
    speed = math.hypot(u, v)
    direction = (math.degrees(math.atan2(-u, -v))) % 360.0
    return speed, direction


def sample_wind(
    series: dict[str, np.ndarray],
    *,
    time: str | np.datetime64 | datetime,
    lat: float | None = None,
    lon: float | None = None,
    max_gap_hours: float = 3.0,
    source: str = "wind file",
) -> Wind:
    """Wind at the plume time and place from a series read by :func:`read_wind_series`.

    Components are interpolated linearly in time (nearest grid point / nearest station in space). The speed sigma
    is the larger of the file's ``wind_speed_sigma_m_s`` (when given), the spread of the speed within ±1 h of the
    plume time and :data:`DEFAULT_SPEED_REL_SIGMA` x speed; the direction sigma is the larger of the circular
    standard deviation of the direction within ±1 h (sqrt(-2 ln R), R the mean resultant length of the unit
    vectors) and ``DEFAULT_DIRECTION_SIGMA_DEG``.

    Raises
    ------
    InvalidInputError
        The plume time lies outside the series by more than ``max_gap_hours``, or the sampled speed is out of range.
    """
    if isinstance(time, datetime):
        time = time.astimezone(timezone.utc).replace(tzinfo=None).isoformat() if time.tzinfo else time.isoformat()
    when = _parse_time(time, source) if not isinstance(time, np.datetime64) else time.astype("datetime64[s]")
    times = series["time"].astype("datetime64[s]")
    u, v = series["u_m_s"], series["v_m_s"]
    if "grid_lat" in series and lat is not None and lon is not None:
        iy = int(np.argmin(np.abs(series["grid_lat"] - lat)))
        ix = int(np.argmin(np.abs(((series["grid_lon"] - lon + 180) % 360) - 180)))
        u, v = u[:, iy, ix], v[:, iy, ix]
    elif u.ndim > 1:
        u = u.reshape(u.shape[0], -1)[:, 0]
        v = v.reshape(v.shape[0], -1)[:, 0]
    subset = np.ones(times.shape, dtype=bool)
    if "lat" in series and "lon" in series:
        stations = {(float(a), float(b)) for a, b in zip(series["lat"], series["lon"])}
        if lat is not None and lon is not None:
            distance = np.hypot(series["lat"] - lat, (series["lon"] - lon) * math.cos(math.radians(lat)))
            subset = np.isclose(distance, distance.min())
        elif len(stations) > 1:
            raise InvalidInputError("wind stations", f"{len(stations)} stations but the plume has no location (map not georeferenced)")
    times, u, v = times[subset], u[subset], v[subset]
    order = np.argsort(times)
    times, u, v = times[order], u[order], v[order]
    hours = (times - when).astype(np.float64) / 3600.0
    if hours.min() > max_gap_hours or hours.max() < -max_gap_hours:
        raise InvalidInputError("wind time", f"plume time {when} is more than {max_gap_hours:g} h outside the wind series")
    u_at = float(np.interp(0.0, hours, u))
    v_at = float(np.interp(0.0, hours, v))
    speed, direction = _speed_direction(u_at, v_at)
    speed = _check_speed(speed, "wind speed")
    near = np.abs(hours) <= 1.0
    spread = float(np.std(np.hypot(u[near], v[near]))) if near.sum() >= 2 else 0.0
    sigma = max(spread, DEFAULT_SPEED_REL_SIGMA * speed)
    if "wind_speed_sigma_m_s" in series:
        file_sigma = series["wind_speed_sigma_m_s"][subset][order]
        sigma = max(sigma, float(np.interp(0.0, hours, file_sigma)))
    direction_sigma = DEFAULT_DIRECTION_SIGMA_DEG
    moving = near & (np.hypot(u, v) > 0)
    if moving.sum() >= 2:
        unit = (u[moving] + 1j * v[moving]) / np.hypot(u[moving], v[moving])
        resultant = float(np.clip(abs(unit.mean()), 1e-12, 1.0))
        direction_sigma = min(max(direction_sigma, math.degrees(math.sqrt(-2.0 * math.log(resultant)))), 180.0)
    return Wind(speed, direction, sigma, direction_sigma, source=source)


def wind_from_file(
    path: str | PathLike, *, time: str | np.datetime64 | datetime, lat: float | None = None, lon: float | None = None
) -> Wind:
    """Read a wind file and sample it at the plume time and place (see :func:`sample_wind`)."""
    series = read_wind_series(path)
    try:
        return sample_wind(series, time=time, lat=lat, lon=lon, source=str(path))
    except InvalidInputError as exc:
        raise InvalidFileError(path, exc.field, exc.problem) from exc


def downwind_unit_vector(direction_deg: float) -> tuple[float, float]:
    """Unit vector (east, north) pointing downwind for a wind blowing FROM ``direction_deg``."""
    rad = math.radians(direction_deg)
    return -math.sin(rad), -math.cos(rad)
