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

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from plumetrace.errors import InvalidFileError, InvalidInputError, MissingFileError
from plumetrace.pixel_geometry import downwind_unit_vector

__all__ = [
    "Wind",
    "DEFAULT_SPEED_REL_SIGMA",
    "MAX_SPEED_M_S",
    "MIN_SPEED_M_S",
    "wind_from_options",
    "read_wind_series",
    "sample_wind",
    "wind_from_file",
    "wind_sampler",
    "check_wind_coverage",
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
    if speed_m_s is None:
        raise InvalidInputError(field, "missing; give speed_m_s and direction_deg, or a wind file")
    if not np.isfinite(speed_m_s):
        raise InvalidInputError(
            field, f"must be a finite number of m/s ({MIN_SPEED_M_S:g}-{MAX_SPEED_M_S:g}), got {speed_m_s!r}"
        )
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
        raise InvalidInputError("wind speed", "missing; give speed_m_s and direction_deg, or a wind file")
    speed = _check_speed(speed_m_s, "wind speed")
    if direction_deg is None:
        raise InvalidInputError("wind direction", "missing; give direction_deg (degrees the wind blows from)")
    if not np.isfinite(direction_deg):
        raise InvalidInputError("wind direction", f"must be a finite number of degrees (0-360), got {direction_deg!r}")
    if not 0.0 <= direction_deg <= 360.0:
        raise InvalidInputError("wind direction", f"{direction_deg:g} is out of range 0-360 degrees")
    if speed_sigma_m_s is None:
        speed_sigma_m_s = DEFAULT_SPEED_REL_SIGMA * speed
    if not np.isfinite(speed_sigma_m_s) or speed_sigma_m_s < 0 or speed_sigma_m_s > 2 * speed:
        raise InvalidInputError(
            "wind sigma", f"{speed_sigma_m_s:g} m/s must lie in 0-{2 * speed:g} m/s (twice the speed)"
        )
    if not np.isfinite(direction_sigma_deg) or not 0 <= direction_sigma_deg <= 180:
        raise InvalidInputError("wind direction sigma", f"{direction_sigma_deg:g} must lie in 0-180 degrees")
    return Wind(float(speed), float(direction_deg) % 360.0, float(speed_sigma_m_s), float(direction_sigma_deg))


def _parse_time(value: object, where: str, field: str = "time") -> np.datetime64:
    """An ISO 8601 time (a zone offset is converted to UTC; no zone means UTC) as naive UTC datetime64[s]."""
    import pandas as pd

    try:
        stamp = pd.to_datetime(str(value).strip(), format="ISO8601")
    except (ValueError, TypeError, OverflowError):
        stamp = pd.NaT
    if stamp is pd.NaT or pd.isna(stamp):
        raise InvalidFileError(where, field, f"cannot parse {value!r} as an ISO 8601 time")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return np.datetime64(stamp.to_datetime64(), "s")


#: Fastest wind accepted in a wind file, m/s: above it a record is not a surface wind (the record gust is 113 m/s).
MAX_FILE_SPEED_M_S = 100.0


def read_wind_series(path: str | PathLike) -> dict[str, np.ndarray]:
    """Read a wind time series into arrays ``time`` (datetime64[s]), ``u_m_s``, ``v_m_s`` and optional ``lat``, ``lon``.

    CSV: a header with ``time`` and either ``wind_speed_m_s`` + ``wind_dir_deg`` (direction blown from) or
    ``u10_m_s`` + ``v10_m_s`` (eastward, northward components); optional ``lat``, ``lon``,
    ``wind_speed_sigma_m_s``. NetCDF: variables ``u10``/``v10`` (or ``wind_speed``/``wind_dir``) over ``time`` (or
    ERA5's ``valid_time``) and optionally ``latitude``/``lat`` and ``longitude``/``lon`` grid axes (ERA5 layout,
    either latitude order, longitudes -180..180 or 0..360; length-1 extra dimensions such as ``number`` or
    ``expver`` are dropped). A gridded file gives ``grid_lat``, ``grid_lon`` and ``grid_names`` too.

    Raises
    ------
    MissingFileError
        The file does not exist.
    InvalidFileError
        Naming the file and the column: not text / not NetCDF, a required column missing or repeated, a value that
        is not a number or is NaN, a negative speed (a direction goes in ``wind_dir_deg``), a speed above
        100 m/s, a direction outside 0-360°, a negative sigma, a position off the globe, an unparseable time, or
        one time (per station) given twice with different values (identical repeats are dropped).
    """
    path = Path(path)
    if path.is_dir():
        raise InvalidFileError(path, "file", "is a directory, not a wind file")
    if not path.exists():
        raise MissingFileError(path, "wind file")
    suffix = path.suffix.lower()
    if suffix in (".nc", ".nc4", ".netcdf", ".h5"):
        series = _read_wind_netcdf(path)
    elif suffix in (".csv", ".txt"):
        series = _read_wind_csv(path)
    else:
        raise InvalidFileError(path, "format", f"unknown wind file type {suffix!r}; expected .csv or .nc")
    return _deduplicate(path, series)


def _read_wind_csv(path: Path) -> dict[str, np.ndarray]:
    import csv
    import io

    if path.stat().st_size == 0:
        raise InvalidFileError(path, "file", "is empty (0 bytes)")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = "\x00"
    if "\x00" in text:
        raise InvalidFileError(path, "file", "is not a text CSV (binary content)")
    try:
        header = next(csv.reader(io.StringIO(text)), [])
        rows = list(csv.DictReader(io.StringIO(text)))
    except csv.Error as exc:
        raise InvalidFileError(path, "file", f"is not a readable CSV ({exc})") from None
    names = [name.strip().lower() for name in header]
    repeated = sorted({name for name in names if name and names.count(name) > 1})
    if repeated:
        raise InvalidFileError(path, repeated[0], "column appears more than once in the header")
    if not rows:
        raise InvalidFileError(path, "rows", "no data rows")
    columns = {name.strip().lower(): name for name in rows[0].keys() if name}
    if "time" not in columns:
        raise InvalidFileError(path, "time", "column missing")

    def column(name: str) -> np.ndarray:
        values = np.empty(len(rows))
        for i, row in enumerate(rows):
            try:
                values[i] = float(row[columns[name]])
            except (TypeError, ValueError):
                raise InvalidFileError(path, name, f"{row[columns[name]]!r} at row {i + 2} is not a number") from None
            if not np.isfinite(values[i]):
                raise InvalidFileError(path, name, f"missing or NaN at row {i + 2}")
        return values

    def check(name: str, values: np.ndarray, low: float, high: float, what: str) -> None:
        bad = (values < low) | (values > high)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InvalidFileError(path, name, f"{values[i]:g} at row {i + 2} {what}")

    times = np.array([_parse_time(row[columns["time"]], str(path)) for row in rows], dtype="datetime64[s]")
    if {"u10_m_s", "v10_m_s"} <= columns.keys():
        u, v = column("u10_m_s"), column("v10_m_s")
        check(
            "u10_m_s",
            np.hypot(u, v),
            0.0,
            MAX_FILE_SPEED_M_S,
            f"(wind speed hypot(u, v)) is above {MAX_FILE_SPEED_M_S:g} m/s, not a surface wind",
        )
    elif {"wind_speed_m_s", "wind_dir_deg"} <= columns.keys():
        speed, direction = column("wind_speed_m_s"), column("wind_dir_deg")
        check(
            "wind_speed_m_s",
            speed,
            0.0,
            np.inf,
            "is negative; speeds are >= 0 m/s (the direction goes in wind_dir_deg)",
        )
        check(
            "wind_speed_m_s", speed, 0.0, MAX_FILE_SPEED_M_S, f"is above {MAX_FILE_SPEED_M_S:g} m/s, not a surface wind"
        )
        check("wind_dir_deg", direction, 0.0, 360.0, "is outside 0-360 degrees")
        u, v = _components(speed, direction)
    else:
        raise InvalidFileError(path, "wind columns", "need wind_speed_m_s + wind_dir_deg or u10_m_s + v10_m_s")
    series = {"time": times, "u_m_s": u, "v_m_s": v}
    limits = {
        "lat": (-90.0, 90.0, "is outside -90..90 degrees"),
        "lon": (-180.0, 360.0, "is outside -180..360 degrees"),
        "wind_speed_sigma_m_s": (0.0, MAX_FILE_SPEED_M_S, f"is outside 0-{MAX_FILE_SPEED_M_S:g} m/s (a 1σ is >= 0)"),
    }
    for name, (low, high, what) in limits.items():
        if name in columns:
            series[name] = column(name)
            check(name, series[name], low, high, what)
    if ("lat" in series) != ("lon" in series):
        raise InvalidFileError(path, "lon" if "lat" in series else "lat", "column missing (stations need lat and lon)")
    return series


def _deduplicate(path: Path, series: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Drop exact repeats of a record; refuse one time (at one station) given twice with different values."""
    times = series["time"]
    if times.size == 0:
        raise InvalidFileError(path, "time", "no records")
    keys = [times.astype("int64")]
    if "lat" in series and "lon" in series:
        keys += [series["lat"], series["lon"]]
    order = np.lexsort(keys[::-1])
    same = np.ones(times.size - 1, dtype=bool)
    for key in keys:
        same &= key[order][1:] == key[order][:-1]
    if not same.any():
        return series
    per_record = [
        name
        for name, values in series.items()
        if values.shape[:1] == times.shape and name != "time" and not name.startswith("grid_")
    ]
    drop = np.zeros(times.size, dtype=bool)
    for i in np.flatnonzero(same):
        a, b = order[i], order[i + 1]
        for name in per_record:
            va, vb = np.asarray(series[name][a]), np.asarray(series[name][b])
            if not np.array_equal(va, vb, equal_nan=True):
                raise InvalidFileError(
                    path,
                    "time",
                    f"{times[a]} appears twice with different wind values; "
                    "keep one record per time" + (" and station" if len(keys) > 1 else ""),
                )
        drop[b] = True
    return {
        name: (values if name.startswith("grid_") or values.shape[:1] != times.shape else values[~drop])
        for name, values in series.items()
    }


def _read_wind_netcdf(path: Path) -> dict[str, np.ndarray]:
    import xarray as xr

    try:
        ds = xr.open_dataset(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a malformed file for the user
        raise InvalidFileError(path, "file", f"is not a readable NetCDF file ({type(exc).__name__})") from exc
    with ds:
        names = {name.lower(): name for name in list(ds.variables)}
        time_name = names.get("time") or names.get("valid_time")
        if time_name is None:
            raise InvalidFileError(path, "time", "variable missing")
        if "u10" in names and "v10" in names:
            u, v = ds[names["u10"]], ds[names["v10"]]
            field = "u10"
        elif "wind_speed" in names and "wind_dir" in names:
            speed = np.asarray(ds[names["wind_speed"]].values, dtype=np.float64)
            direction = np.asarray(ds[names["wind_dir"]].values, dtype=np.float64)
            with np.errstate(invalid="ignore"):
                if (speed < 0).any():
                    raise InvalidFileError(path, "wind_speed", "negative speed; speeds are >= 0 m/s")
                if ((direction < 0) | (direction > 360)).any():
                    raise InvalidFileError(path, "wind_dir", "direction outside 0-360 degrees")
            u_arr, v_arr = _components(speed, direction)
            u = ds[names["wind_speed"]].copy(data=u_arr)
            v = ds[names["wind_speed"]].copy(data=v_arr)
            field = "wind_speed"
        else:
            raise InvalidFileError(path, "wind variables", "need u10 + v10 or wind_speed + wind_dir")
        if time_name not in u.dims:
            raise InvalidFileError(path, field, f"does not vary over {time_name!r}")
        try:
            times = ds[time_name].values.astype("datetime64[s]")
        except (TypeError, ValueError):
            raise InvalidFileError(path, time_name, "not decodable as times (units 'hours since ...')") from None
        if np.isnat(times).any():
            raise InvalidFileError(path, time_name, "missing (NaT) times")
        series: dict[str, np.ndarray] = {"time": times}
        lat_name = names.get("latitude") or names.get("lat")
        lon_name = names.get("longitude") or names.get("lon")
        grid = lat_name in u.dims and lon_name in u.dims if lat_name and lon_name else False
        u, v = (
            _squeeze_extra(u, time_name, lat_name, lon_name, path, field),
            _squeeze_extra(v, time_name, lat_name, lon_name, path, field),
        )
        order = (time_name, lat_name, lon_name) if grid else (time_name, ...)
        series["u_m_s"] = np.asarray(u.transpose(*order).values, dtype=np.float64)
        series["v_m_s"] = np.asarray(v.transpose(*order).values, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            if (np.hypot(series["u_m_s"], series["v_m_s"]) > MAX_FILE_SPEED_M_S).any():
                raise InvalidFileError(path, field, f"wind speed above {MAX_FILE_SPEED_M_S:g} m/s, not a surface wind")
        if grid:
            series["grid_lat"] = np.asarray(ds[lat_name].values, dtype=np.float64)
            series["grid_lon"] = np.asarray(ds[lon_name].values, dtype=np.float64)
            series["grid_names"] = np.array([time_name, lat_name, lon_name])
            for name in (lat_name, lon_name):
                axis = series["grid_lat" if name == lat_name else "grid_lon"]
                if (
                    axis.ndim != 1
                    or not np.isfinite(axis).all()
                    or (axis.size > 1 and len(set(np.sign(np.diff(axis)))) != 1)
                ):
                    raise InvalidFileError(path, name, "must be a 1-D monotonic grid axis without NaN")
    return series


def _squeeze_extra(
    array: Any, time_name: str, lat_name: str | None, lon_name: str | None, path: Path, field: str
) -> Any:
    """Drop length-1 dimensions other than time/latitude/longitude (ERA5's ``number``, ``expver``, ``pressure_level``)."""
    extra = [dim for dim in array.dims if dim not in (time_name, lat_name, lon_name)]
    longer = [dim for dim in extra if array.sizes[dim] > 1]
    if longer and array.ndim > 1 and (lat_name in array.dims or len(longer) > 1):
        raise InvalidFileError(
            path, field, f"has extra dimension {longer[0]!r} of length {array.sizes[longer[0]]}; keep one level"
        )
    return array.squeeze([dim for dim in extra if array.sizes[dim] == 1])


def _grid_weights(axis: np.ndarray, value: float, *, periodic: bool) -> tuple[int, int, float] | None:
    """Indices (i0, i1) and the weight of i1 for linear interpolation of ``value`` on a 1-D ``axis``.

    None when ``value`` lies outside the axis by more than half a grid step (a single-point axis covers ±0.5°).
    Longitudes are compared modulo 360 (``periodic``), so a 0-360 grid serves -180..180 scenes.
    """
    n = axis.size
    step = float(np.median(np.abs(np.diff(axis)))) if n > 1 else 1.0
    if periodic:
        value = float(axis.min() + ((value - axis.min()) % 360.0))
        if value > axis.max() + step / 2 and value - 360.0 >= axis.min() - step / 2:
            value -= 360.0
    if n == 1:
        return (0, 0, 0.0) if abs(value - axis[0]) <= step / 2 else None
    if not (axis.min() - step / 2 <= value <= axis.max() + step / 2):
        return None
    ascending = axis[-1] > axis[0]
    ax = axis if ascending else axis[::-1]
    j = int(np.clip(np.searchsorted(ax, value) - 1, 0, n - 2))
    w = float(np.clip((value - ax[j]) / (ax[j + 1] - ax[j]), 0.0, 1.0))
    i0, i1 = (j, j + 1) if ascending else (n - 1 - j, n - 2 - j)
    return i0, i1, w


def _grid_series(series: dict[str, np.ndarray], lat: float, lon: float) -> tuple[np.ndarray, np.ndarray]:
    """The u, v time series of a gridded file interpolated bilinearly to (lat, lon).

    Raises
    ------
    InvalidInputError
        (lat, lon) lies outside the grid (naming the file's latitude or longitude variable).
    """
    names = [str(n) for n in series.get("grid_names", ["time", "latitude", "longitude"])]
    glat, glon = series["grid_lat"], series["grid_lon"]
    wy = _grid_weights(glat, lat, periodic=False)
    if wy is None:
        raise InvalidInputError(
            names[1], f"{lat:.4f} lies outside the grid ({glat.min():g} to {glat.max():g} degrees north)"
        )
    wx = _grid_weights(glon, lon, periodic=True)
    if wx is None:
        raise InvalidInputError(
            names[2], f"{lon:.4f} lies outside the grid ({glon.min():g} to {glon.max():g} degrees east)"
        )
    (y0, y1, fy), (x0, x1, fx) = wy, wx
    out = []
    for grid in (series["u_m_s"], series["v_m_s"]):
        out.append(
            (1 - fy) * ((1 - fx) * grid[:, y0, x0] + fx * grid[:, y0, x1])
            + fy * ((1 - fx) * grid[:, y1, x0] + fx * grid[:, y1, x1])
        )
    return out[0], out[1]


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

    Components are interpolated linearly in time; in space bilinearly on a gridded file (a place more than half a
    grid step outside the grid is refused, naming its latitude or longitude variable) and from the nearest station
    of a CSV series. The speed sigma
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
        u, v = _grid_series(series, float(lat), float(lon))
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
            raise InvalidInputError(
                "wind stations", f"{len(stations)} stations but the plume has no location (map not georeferenced)"
            )
    times, u, v = times[subset], u[subset], v[subset]
    order = np.argsort(times)
    times, u, v = times[order], u[order], v[order]
    hours = (times - when).astype(np.float64) / 3600.0
    if hours.min() > max_gap_hours or hours.max() < -max_gap_hours:
        raise InvalidInputError(
            str(series.get("grid_names", ["time"])[0]),
            f"plume time {when} is more than {max_gap_hours:g} h outside the wind series ({times[0]} to {times[-1]})",
        )
    if hours.min() > 0 or hours.max() < 0:
        from plumetrace.errors import warn_input

        gap = hours.min() if hours.min() > 0 else -hours.max()
        warn_input(
            source,
            "time",
            f"plume time {when} lies {gap:.1f} h {'before the first' if hours.min() > 0 else 'after the last'}"
            " wind record; using that record",
        )
    u_at = float(np.interp(0.0, hours, u))
    v_at = float(np.interp(0.0, hours, v))
    if not (np.isfinite(u_at) and np.isfinite(v_at)):
        raise InvalidInputError("u10/v10", f"no valid wind (NaN) at the plume time {when} and place")
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
    return _sample_file(read_wind_series(path), path, time=time, lat=lat, lon=lon)


def _sample_file(
    series: dict[str, np.ndarray], path: str | PathLike, *, time: Any, lat: float | None, lon: float | None
) -> Wind:
    """:func:`sample_wind` on the series of the file ``path``, its errors naming that file."""
    try:
        wind = sample_wind(series, time=time, lat=lat, lon=lon, source=str(path))  # warnings name the whole path
        # products record the file's name, not its path: they stay the same wherever the inputs lie
        return dataclasses.replace(wind, source=Path(path).name)
    except InvalidInputError as exc:
        raise InvalidFileError(path, exc.field, exc.problem) from None


def wind_sampler(
    path: str | PathLike, *, map_source: str | PathLike = "enhancement map"
) -> Callable[[float | None, float | None, str | None], Wind]:
    """Read a wind file once; return ``wind(lat, lon, time) -> Wind`` for :func:`plumetrace.plumes.pipeline.analyze_plumes`.

    Errors name the wind file for a sampling problem, and ``map_source`` (the map whose plumes are sampled) for a
    missing or unreadable plume time.
    """
    series = read_wind_series(path)

    def wind(lat: float | None, lon: float | None, time: str | None) -> Wind:
        if time is None:
            raise InvalidFileError(
                map_source,
                "acquisition_time",
                f"missing: no time to sample {path} at; give the wind speed and direction instead",
            )
        when = _parse_time(time, str(map_source), "acquisition_time")
        return _sample_file(series, path, time=when, lat=lat, lon=lon)

    return wind


def check_wind_coverage(
    series: dict[str, np.ndarray],
    path: str | PathLike,
    *,
    time: str | np.datetime64 | datetime,
    points_lat_lon: list[tuple[float, float]] | None = None,
) -> None:
    """Refuse a wind series that does not cover a scene: its time, and each of ``points_lat_lon`` (e.g. the
    scene's centre and corners) on a gridded file.

    Raises
    ------
    InvalidFileError
        Naming ``path`` and the field: the time variable (``time`` / ``valid_time``) when the scene time lies more
        than the allowed gap outside the series, the latitude or longitude variable when a point is off the grid.
    """
    for lat, lon in points_lat_lon or [(None, None)]:
        if "grid_lat" not in series and lat is not None and "lat" not in series:
            lat = lon = None
        try:
            _sample_file(series, path, time=time, lat=lat, lon=lon)
        except InvalidFileError as exc:
            if exc.field != "wind speed":  # calm or strong wind at a corner is the plumes stage's business
                raise
