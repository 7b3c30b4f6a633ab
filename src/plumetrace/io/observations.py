"""In-situ sensor logs (drone, vehicle, fixed point, open-path beam) → one validated observation table.

The file layout is documented in ``docs/observations.md``. :func:`read_observations` reads CSV or Parquet;
:func:`validate_observations` turns any ``pandas.DataFrame`` in that layout into the canonical table:

========================  =======================================================================
column                    meaning
========================  =======================================================================
``time``                  ``datetime64[ns, UTC]``
``kind``                  ``"point"`` or ``"beam"``
``x_m, y_m, z_m``         east/north/up (m) relative to the origin (beam: the beam midpoint)
``x0_m … z1_m``           beam endpoints (m); NaN for points
``concentration_mg_m3``   mass concentration (point value, or path average for beams)
``wind_speed_m_s``        mean wind speed
``wind_dir_deg``          direction the wind blows FROM, degrees clockwise from north
``stability``             Pasquill class A–F or ``""``
``obukhov_length_m``      NaN when not given
``sigma_theta_deg``       NaN when not given
========================  =======================================================================

and ``table.attrs`` holds ``gas``, ``molar_mass_g_mol``, ``origin_lat``, ``origin_lon``, ``source`` (file path).
"""

from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd

from plumetrace.errors import InvalidFileError, InvalidInputError, check_input_file, warn_input
from plumetrace.georef import lonlat_to_local

__all__ = [
    "CANONICAL_COLUMNS",
    "MOLAR_MASS_G_MOL",
    "negative_allowance_mg_m3",
    "parse_origin",
    "ppm_to_mg_m3",
    "read_observations",
    "validate_observations",
]

MOLAR_MASS_G_MOL = {
    "ch4": 16.043,
    "co2": 44.009,
    "so2": 64.064,
    "nh3": 17.031,
    "h2s": 34.08,
    "n2o": 44.013,
    "co": 28.010,
    "c2h6": 30.069,
    "sf6": 146.06,
    "no2": 46.006,
    "c3h8": 44.097,
}
CANONICAL_COLUMNS = (
    "time",
    "kind",
    "x_m",
    "y_m",
    "z_m",
    "x0_m",
    "y0_m",
    "z0_m",
    "x1_m",
    "y1_m",
    "z1_m",
    "concentration_mg_m3",
    "wind_speed_m_s",
    "wind_dir_deg",
    "stability",
    "obukhov_length_m",
    "sigma_theta_deg",
)
_R = 8.314462618  # J mol-1 K-1
#: Wind speeds (m/s): at most MIN a Gaussian plume has no advection; above MAX not a surface wind (refused);
#: above WARN a storm (warned).
MIN_WIND_M_S, WARN_WIND_M_S, MAX_WIND_M_S = 0.1, 40.0, 100.0
#: Farthest position from the origin accepted, m (a quarter of the Earth's circumference).
MAX_DISTANCE_M = 1e7
#: Smallest allowance for negative concentrations (mg m⁻³): about 1 ppb of the heaviest common gas.
NEGATIVE_FLOOR_MG_M3 = 1e-3
_BEAM = ("x0_m", "y0_m", "z0_m", "x1_m", "y1_m", "z1_m")
_KNOWN = set(CANONICAL_COLUMNS) | {
    "lat",
    "lon",
    "alt_m",
    "concentration_ppm",
    "wind_u_m_s",
    "wind_v_m_s",
    "sensor",
    "temperature_k",
    "pressure_pa",
}


def negative_allowance_mg_m3(concentration_mg_m3: np.ndarray) -> float:
    """How far below zero a logged mass concentration may lie and still be read as instrument noise (mg m⁻³).

    Five times the sample-to-sample noise of the log itself (1.4826 · MAD of successive differences / √2, robust
    to plumes), and at least :data:`NEGATIVE_FLOOR_MG_M3`. A gas whose ambient level is near zero (H2S, SO2, NH3)
    is logged with small negative readings around the instrument's zero; anything further below is a sign or
    unit error.
    """
    c = np.asarray(concentration_mg_m3, dtype=float)
    c = c[np.isfinite(c)]
    noise = 0.0
    if c.size >= 3:
        noise = 1.4826 * float(np.median(np.abs(np.diff(c)))) / np.sqrt(2.0)
    return max(5.0 * noise, NEGATIVE_FLOOR_MG_M3)


def ppm_to_mg_m3(
    ppm: np.ndarray,
    *,
    molar_mass_g_mol: float,
    temperature_k: float | np.ndarray = 293.15,
    pressure_pa: float | np.ndarray = 101325.0,
) -> np.ndarray:
    """Mole fraction (µmol/mol) → mass concentration (mg m⁻³) by the ideal-gas law."""
    return (
        np.asarray(ppm, dtype=float)
        * molar_mass_g_mol
        * np.asarray(pressure_pa)
        / (_R * np.asarray(temperature_k))
        * 1e-3
    )


def parse_origin(text: str | None) -> tuple[float, float] | None:
    """Parse ``"LAT,LON"`` (degrees) into a tuple; None passes through."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    try:
        lat, lon = (float(v) for v in str(text).split(","))
    except ValueError:
        raise InvalidInputError("origin", f"expected LAT,LON in degrees, got {text!r}") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidInputError("origin", f"LAT,LON out of range: {text!r}")
    return lat, lon


def read_observations(
    path: str | os.PathLike, *, origin: tuple[float, float] | None = None, gas: str | None = None
) -> pd.DataFrame:
    """Read a CSV or Parquet sensor log and return the validated canonical table (see module docstring).

    Parameters
    ----------
    path : CSV (``.csv``, ``.txt``) or Parquet (``.parquet``, ``.pq``) file.
    origin : (lat, lon) in degrees, the origin of local ``x_m, y_m`` coordinates; required when the file uses
        local coordinates, optional with ``lat, lon`` (default: the mean position).
    gas : gas name (``ch4``, ``so2`` …) for the molar mass; required for ``concentration_ppm``.
    """
    path = check_input_file(
        path,
        "observation file",
        field="file",
        directory="is a directory, not an observation file",
        empty="is empty (0 bytes)",
    )
    parquet = path.suffix.lower() in (".parquet", ".pq")
    if not parquet:
        with path.open("rb") as handle:
            head = handle.read(65536)
        if b"\x00" in head:
            raise InvalidFileError(path, "file", "is not a text CSV (binary content)")
    try:
        if parquet:
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(path, comment="#")
    except Exception as exc:  # noqa: BLE001 - any parser failure is a malformed file
        what = "Parquet" if parquet else "CSV"
        first = " ".join(str(exc).split()).replace(str(path), "the file").split(". ")[0][:160] or type(exc).__name__
        raise InvalidFileError(path, "file", f"cannot be parsed as {what}: {first}") from None
    return validate_observations(df, origin=origin, gas=gas, source=path)


def validate_observations(
    df: pd.DataFrame,
    *,
    origin: tuple[float, float] | None = None,
    gas: str | None = None,
    source: str | os.PathLike = "<table>",
) -> pd.DataFrame:
    """Validate a table in the documented layout and return the canonical table (see module docstring)."""
    src = str(source)

    def bad(field: str, problem: str) -> InvalidFileError:
        return InvalidFileError(src, field, problem)

    df = df.copy()
    df.columns = [str(c).strip() for c in df.columns]
    names = list(df.columns)
    for name in names:  # a repeated header: pandas keeps both, renaming the second 'name.1'
        base = re.fullmatch(r"(.+)\.\d+", name)
        if names.count(name) > 1 or (base is not None and base.group(1) in names):
            raise bad(name if names.count(name) > 1 else base.group(1), "column appears more than once in the header")
    if len(df) == 0:
        raise bad("rows", "no observations (a header and no data rows)")
    unknown = [c for c in df.columns if c not in _KNOWN]
    conc_like = [c for c in unknown if c.startswith("concentration_")]
    if conc_like:
        raise bad(conc_like[0], "unknown concentration unit; use concentration_ppm or concentration_mg_m3")
    out = pd.DataFrame(index=pd.RangeIndex(len(df)))

    # time -----------------------------------------------------------------
    if "time" not in df:
        raise bad("time", "column missing (ISO 8601 timestamps)")
    try:
        t = pd.to_datetime(df["time"], utc=True, format="ISO8601")
    except (ValueError, TypeError):
        for row, value in enumerate(df["time"]):
            try:
                pd.to_datetime(value, utc=True, format="ISO8601")
            except (ValueError, TypeError):
                raise bad("time", f"{value!r} at row {row + 2} is not an ISO 8601 timestamp") from None
        raise bad("time", "not ISO 8601 timestamps") from None
    if t.isna().any():
        raise bad("time", f"missing or unparsable at row {int(np.flatnonzero(t.isna())[0]) + 2}")
    back = (t.diff() < pd.Timedelta(0)).to_numpy()
    if back.any():
        raise bad("time", f"rows out of time order (row {int(np.flatnonzero(back)[0]) + 2})")
    out["time"] = t.to_numpy()

    # positions ------------------------------------------------------------
    has_geo = {"lat", "lon"} <= set(df.columns)
    has_xy = {"x_m", "y_m"} <= set(df.columns)
    has_beam = set(_BEAM) <= set(df.columns)
    partial_beam = [c for c in _BEAM if c in df.columns]
    if partial_beam and not has_beam:
        missing = [c for c in _BEAM if c not in df.columns]
        raise bad(missing[0], "beam endpoints need all of x0_m,y0_m,z0_m,x1_m,y1_m,z1_m")
    if ("lat" in df.columns) != ("lon" in df.columns):
        raise bad("lon" if "lat" in df.columns else "lat", "column missing (positions need both lat and lon)")
    if not (has_geo or has_xy or has_beam):
        raise bad("position", "need lat,lon,alt_m or x_m,y_m,z_m (with an origin) or beam endpoints x0_m..z1_m")
    if (has_xy or has_beam) and not has_geo and origin is None:
        raise bad("x_m", "local coordinates need an origin (origin_lat_lon)")

    def num(col: str) -> np.ndarray:
        try:
            return pd.to_numeric(df[col], errors="raise").to_numpy(dtype=float)
        except (ValueError, TypeError):
            raise bad(col, "not numeric") from None

    kind = np.full(len(df), "point", dtype=object)
    xyz = np.full((len(df), 3), np.nan)
    ends = np.full((len(df), 6), np.nan)
    if has_beam:
        ends = np.column_stack([num(c) for c in _BEAM])
        kind[np.isfinite(ends).all(axis=1)] = "beam"
    if has_geo:
        lat, lon = num("lat"), num("lon")
        for name, values, limit in (("lat", lat, 90.0), ("lon", lon, 180.0)):
            off = np.isfinite(values) & (np.abs(values) > limit)
            if off.any():
                row = int(np.flatnonzero(off)[0])
                raise bad(name, f"{values[row]:g} at row {row + 2} is outside -{limit:g}..{limit:g} degrees")
        alt = num("alt_m") if "alt_m" in df else np.zeros(len(df))
        if origin is None:
            ok = np.isfinite(lat) & np.isfinite(lon)
            if not ok.any():
                raise bad("lat", "no valid positions")
            origin = (float(np.mean(lat[ok])), float(np.mean(lon[ok])))
        gx, gy = lonlat_to_local(lon, lat, origin_lon_deg=origin[1], origin_lat_deg=origin[0])
        xyz[:, 0], xyz[:, 1], xyz[:, 2] = gx, gy, alt
    if has_xy:
        lx, ly = num("x_m"), num("y_m")
        lz = num("z_m") if "z_m" in df else np.zeros(len(df))
        take = ~np.isfinite(xyz[:, 0])
        xyz[take, 0], xyz[take, 1], xyz[take, 2] = lx[take], ly[take], lz[take]
    for j, col in enumerate(_BEAM):  # far beyond any survey: a unit or column mix-up (and overflow below)
        far = np.isfinite(ends[:, j]) & (np.abs(ends[:, j]) > MAX_DISTANCE_M)
        if far.any():
            row = int(np.flatnonzero(far)[0])
            raise bad(col, f"{ends[row, j]:g} m at row {row + 2} is more than {MAX_DISTANCE_M:g} m from the origin")
    beam = kind == "beam"
    xyz[beam] = 0.5 * (ends[beam, :3] + ends[beam, 3:])
    for j, col in enumerate(("x_m", "y_m", "z_m")):
        far = np.isfinite(xyz[:, j]) & (np.abs(xyz[:, j]) > MAX_DISTANCE_M)
        if far.any():
            row = int(np.flatnonzero(far)[0])
            name = {"x_m": "lon/x_m", "y_m": "lat/y_m", "z_m": "alt_m/z_m"}[col]
            raise bad(name, f"{xyz[row, j]:g} m at row {row + 2} is more than {MAX_DISTANCE_M:g} m from the origin")
    for j, col in enumerate(("x_m", "y_m", "z_m")):
        badrow = ~np.isfinite(xyz[:, j])
        if badrow.any():
            name = {"x_m": "lon/x_m", "y_m": "lat/y_m", "z_m": "alt_m/z_m"}[col]
            raise bad(name, f"missing or NaN position at row {int(np.flatnonzero(badrow)[0]) + 2}")
    if beam.any():
        length = np.linalg.norm(ends[beam, 3:] - ends[beam, :3], axis=1)
        if (length < 1e-6).any():
            row = int(np.flatnonzero(beam)[np.flatnonzero(length < 1e-6)[0]]) + 2
            raise bad("x1_m", f"beam of zero length at row {row}")
    if (xyz[:, 2] < 0).any():
        raise bad("z_m", f"height below ground at row {int(np.flatnonzero(xyz[:, 2] < 0)[0]) + 2}")
    out["kind"] = kind
    out["x_m"], out["y_m"], out["z_m"] = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    for j, col in enumerate(_BEAM):
        out[col] = ends[:, j]

    # concentration ----------------------------------------------------------
    gas_key = None if gas is None else gas.strip().lower()
    if gas_key is not None and gas_key not in MOLAR_MASS_G_MOL:
        raise InvalidInputError("gas", f"unknown gas {gas!r}; known: {', '.join(sorted(MOLAR_MASS_G_MOL))}")
    if "concentration_mg_m3" in df and "concentration_ppm" in df:
        raise bad("concentration", "give concentration_ppm or concentration_mg_m3, not both")
    if "concentration_mg_m3" in df:
        conc = num("concentration_mg_m3")
    elif "concentration_ppm" in df:
        if gas_key is None:
            raise bad("concentration_ppm", "needs the gas (gas_name) for the molar mass")
        tk = num("temperature_k") if "temperature_k" in df else 293.15
        pp = num("pressure_pa") if "pressure_pa" in df else 101325.0
        for name, values, low, high in (("temperature_k", tk, 150.0, 400.0), ("pressure_pa", pp, 1e3, 2e5)):
            off = ~((np.asarray(values) >= low) & (np.asarray(values) <= high))
            if np.ndim(values) and off.any():
                row = int(np.flatnonzero(off)[0])
                raise bad(name, f"{values[row]:g} at row {row + 2} is outside {low:g}-{high:g} (air near the ground)")
        conc = ppm_to_mg_m3(
            num("concentration_ppm"), molar_mass_g_mol=MOLAR_MASS_G_MOL[gas_key], temperature_k=tk, pressure_pa=pp
        )
    else:
        raise bad("concentration", "column missing: concentration_ppm or concentration_mg_m3")
    cname = "concentration_mg_m3" if "concentration_mg_m3" in df else "concentration_ppm"
    if not np.isfinite(conc).all():
        raise bad(cname, f"missing, NaN or infinite at row {int(np.flatnonzero(~np.isfinite(conc))[0]) + 2}")
    allowance = negative_allowance_mg_m3(conc)
    below = conc < -allowance
    if below.any():
        row = int(np.flatnonzero(below)[0])
        raise bad(
            cname,
            f"negative concentration {conc[row]:.4g} mg/m³ at row {row + 2}, beyond the instrument noise "
            f"(values down to -{allowance:.2g} mg/m³ are accepted; see docs/observations.md)",
        )
    out["concentration_mg_m3"] = conc

    # wind -----------------------------------------------------------------
    if {"wind_u_m_s", "wind_v_m_s"} <= set(df.columns):
        wu, wv = num("wind_u_m_s"), num("wind_v_m_s")
        speed = np.hypot(wu, wv)
        direction = np.mod(np.rad2deg(np.arctan2(-wu, -wv)), 360.0)  # FROM direction
        wname = dname = "wind_u_m_s"
    elif {"wind_speed_m_s", "wind_dir_deg"} <= set(df.columns):
        speed, direction = num("wind_speed_m_s"), num("wind_dir_deg")
        wname, dname = "wind_speed_m_s", "wind_dir_deg"
        off = np.isfinite(direction) & ((direction < 0) | (direction > 360))
        if off.any():
            row = int(np.flatnonzero(off)[0])
            raise bad(dname, f"{direction[row]:g} at row {row + 2} is outside 0-360 degrees")
        direction = np.mod(direction, 360.0)
    else:
        raise bad("wind", "missing: give wind_u_m_s,wind_v_m_s or wind_speed_m_s,wind_dir_deg")
    for name, values in ((wname, speed), (dname, direction)):
        if not np.isfinite(values).all():
            raise bad(name, f"missing or NaN at row {int(np.flatnonzero(~np.isfinite(values))[0]) + 2}")
    if (speed <= MIN_WIND_M_S).any():
        row = int(np.flatnonzero(speed <= MIN_WIND_M_S)[0])
        raise bad(
            wname,
            f"wind speed {speed[row]:g} m/s at row {row + 2}: must exceed {MIN_WIND_M_S:g} m/s "
            "(a Gaussian plume needs advection; speeds are never negative)",
        )
    if (speed > MAX_WIND_M_S).any():
        row = int(np.flatnonzero(speed > MAX_WIND_M_S)[0])
        raise bad(
            wname,
            f"wind speed {speed[row]:g} m/s at row {row + 2} is not a surface wind "
            f"(must be at most {MAX_WIND_M_S:g} m/s)",
        )
    if (speed > WARN_WIND_M_S).any():
        row = int(np.flatnonzero(speed > WARN_WIND_M_S)[0])
        warn_input(
            src,
            wname,
            f"wind speed {speed[row]:g} m/s at row {row + 2} is above {WARN_WIND_M_S:g} m/s "
            "(a storm: is the unit m/s?)",
        )
    out["wind_speed_m_s"], out["wind_dir_deg"] = speed, direction

    # stability ---------------------------------------------------------------
    if "stability" in df:
        st = df["stability"].fillna("").astype(str).str.strip().str.upper()
        badst = ~st.isin(["", "A", "B", "C", "D", "E", "F"])
        if badst.any():
            raise bad("stability", f"unknown Pasquill class {st[badst].iloc[0]!r} (expected A-F)")
        out["stability"] = st.to_numpy(dtype=object)
    else:
        out["stability"] = np.full(len(df), "", dtype=object)
    for col in ("obukhov_length_m", "sigma_theta_deg"):
        out[col] = num(col) if col in df else np.nan
    sth = out["sigma_theta_deg"].to_numpy()
    if (np.isfinite(sth) & ((sth <= 0) | (sth > 90))).any():
        raise bad("sigma_theta_deg", "must lie in (0, 90] degrees")
    if "sensor" in df:
        out["sensor"] = df["sensor"].astype(str).to_numpy()

    out.attrs.update(
        gas=gas_key or "",
        molar_mass_g_mol=MOLAR_MASS_G_MOL.get(gas_key or "", float("nan")),
        origin_lat=None if origin is None else float(origin[0]),
        origin_lon=None if origin is None else float(origin[1]),
        source=src,
    )
    return out
