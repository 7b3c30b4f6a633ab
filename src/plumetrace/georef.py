"""Georeferencing helpers: ENVI ``map info`` ⇄ affine transform, GLT orthorectification, map grid of a Scene.

Affine transforms use rasterio's ``Affine`` order ``(a, b, c, d, e, f)``::

    x_map = a * col + b * row + c
    y_map = d * col + e * row + f

with ``(col, row) = (0, 0)`` the upper-left corner of the upper-left pixel. A rotated AVIRIS-NG grid has
``b`` and ``d`` non-zero. ENVI's ``map info`` stores a tie point, the pixel size along each axis and an
optional ``rotation=DEG`` (counter-clockwise angle of the pixel grid from north-up, GDAL's reading):
``a = sx·cosθ, b = sy·sinθ, d = sx·sinθ, e = -sy·cosθ``.

A geographic lookup table (GLT) maps each cell ``(gy, gx)`` of a north-up map grid to the raw-grid pixel
``(glt_row, glt_col)`` that fills it (0-based; -1 = no data). :func:`orthorectify` applies it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from plumetrace.errors import InvalidFileError, InvalidInputError

if TYPE_CHECKING:  # xarray is slow to import; the lean detection path uses this module without it
    import xarray as xr

__all__ = [
    "MapInfo",
    "parse_map_info",
    "affine_from_map_info",
    "crs_from_map_info",
    "map_info_from_affine",
    "rotation_deg",
    "orthorectify",
    "scene_map_grid",
    "glt_from_envi",
    "glt_to_envi",
    "glt_from_affine",
    "lonlat_to_local",
    "local_to_lonlat",
    "metres_per_degree",
]

MapInfo = dict[str, Any]

_DATUMS = {"wgs-84": "WGS84", "wgs84": "WGS84", "nad-83": "NAD83", "nad83": "NAD83"}


def parse_map_info(map_info: str | Sequence[str], *, source: str = "map info") -> MapInfo:
    """Split an ENVI ``map info`` value into named parts.

    Parameters
    ----------
    map_info : str or sequence of str
        ``"{UTM, 1, 1, 581226.7, 7916192.6, 5.2, 5.2, 4, North, WGS-84, units=Meters, rotation=42}"`` or the
        list of its comma-separated items.
    source : str
        File named in errors.

    Returns
    -------
    dict
        ``projection`` (str), ``ref_x``, ``ref_y`` (1-based file coordinates of the tie point), ``easting``,
        ``northing``, ``pixel_x``, ``pixel_y`` (map units), ``zone`` (int or None), ``hemisphere``
        (``"North"``/``"South"``/None), ``datum`` (str or None), ``units`` (str or None), ``rotation_deg`` (float).
    """
    if isinstance(map_info, str):
        items = [item.strip() for item in map_info.strip().strip("{}").split(",")]
    else:
        items = [str(item).strip() for item in map_info]
    keyed = {}
    plain = []
    for item in items:
        if "=" in item:
            key, _, value = item.partition("=")
            keyed[key.strip().lower()] = value.strip()
        elif item:
            plain.append(item)
    if len(plain) < 7:
        raise InvalidFileError(source, "map info", f"needs at least 7 items, got {len(plain)}")
    try:
        numbers = [float(v) for v in plain[1:7]]
    except ValueError as exc:
        raise InvalidFileError(source, "map info", f"tie point / pixel size not numeric ({exc})") from None
    info: MapInfo = {
        "projection": plain[0],
        "ref_x": numbers[0],
        "ref_y": numbers[1],
        "easting": numbers[2],
        "northing": numbers[3],
        "pixel_x": numbers[4],
        "pixel_y": numbers[5],
        "zone": None,
        "hemisphere": None,
        "datum": None,
        "units": keyed.get("units"),
        "rotation_deg": 0.0,
    }
    rest = plain[7:]
    if plain[0].strip().lower() == "utm" and len(rest) >= 2:
        try:
            info["zone"] = int(float(rest[0]))
        except ValueError:
            raise InvalidFileError(source, "map info", f"UTM zone {rest[0]!r} is not a number") from None
        info["hemisphere"] = rest[1].capitalize()
        rest = rest[2:]
    if rest:
        info["datum"] = rest[0]
    if "rotation" in keyed:
        try:
            info["rotation_deg"] = float(keyed["rotation"])
        except ValueError:
            raise InvalidFileError(source, "map info", f"rotation {keyed['rotation']!r} is not a number") from None
    if info["pixel_x"] <= 0 or info["pixel_y"] <= 0:
        raise InvalidFileError(source, "map info", "pixel size must be positive")
    return info


def affine_from_map_info(map_info: str | Sequence[str] | MapInfo, *, source: str = "map info") -> tuple[float, ...]:
    """Affine transform ``(a, b, c, d, e, f)`` of the pixel grid described by an ENVI ``map info``.

    The tie point ``(ref_x, ref_y)`` is in 1-based file coordinates: ``(1, 1)`` is the upper-left corner of the
    upper-left pixel. ``rotation=θ`` gives ``a = sx·cosθ, b = sy·sinθ, d = sx·sinθ, e = -sy·cosθ`` (as GDAL).
    """
    info = map_info if isinstance(map_info, dict) else parse_map_info(map_info, source=source)
    theta = math.radians(info["rotation_deg"])
    sx, sy = info["pixel_x"], info["pixel_y"]
    a, b = sx * math.cos(theta), sy * math.sin(theta)
    d, e = sx * math.sin(theta), -sy * math.cos(theta)
    dx, dy = info["ref_x"] - 1.0, info["ref_y"] - 1.0
    c = info["easting"] - (a * dx + b * dy)
    f = info["northing"] - (d * dx + e * dy)
    return (a, b, c, d, e, f)


def rotation_deg(transform: Sequence[float]) -> float:
    """Rotation angle (degrees) of a pixel grid, the inverse of :func:`affine_from_map_info`; 0 for north-up."""
    a, b, _, d, e, _ = (float(v) for v in transform[:6])
    angle = math.degrees(math.atan2(d, a))
    return 0.0 if abs(angle) < 1e-12 else angle


def crs_from_map_info(info: MapInfo, *, source: str = "map info") -> str | None:
    """WKT of the CRS named by a parsed ``map info`` (UTM or geographic), or None if it cannot be told."""
    from pyproj import CRS

    projection = info["projection"].strip().lower()
    datum = _DATUMS.get(str(info.get("datum") or "WGS-84").strip().lower(), "WGS84")
    if projection == "utm":
        if info["zone"] is None or info["hemisphere"] not in ("North", "South"):
            raise InvalidFileError(source, "map info", "UTM needs a zone and North/South")
        south = info["hemisphere"] == "South"
        if datum == "WGS84":
            return CRS.from_epsg((32700 if south else 32600) + info["zone"]).to_wkt()
        return CRS.from_dict({"proj": "utm", "zone": info["zone"], "south": south, "datum": datum}).to_wkt()
    if projection.startswith("geographic"):
        return CRS.from_epsg(4326 if datum == "WGS84" else 4269).to_wkt()
    return None


def map_info_from_affine(transform: Sequence[float], crs_wkt: str) -> str:
    """ENVI ``map info`` string for an affine transform and CRS (inverse of :func:`affine_from_map_info`).

    Raises
    ------
    InvalidInputError
        The transform shears or flips the grid (not expressible as ENVI pixel sizes plus a rotation).
    """
    from pyproj import CRS

    a, b, c, d, e, f = (float(v) for v in transform[:6])
    sx, sy = math.hypot(a, d), math.hypot(b, e)
    theta = math.atan2(d, a)
    expected = (sy * math.sin(theta), -sy * math.cos(theta))
    if sx == 0 or sy == 0 or not np.allclose((b, e), expected, rtol=1e-9, atol=1e-9 * max(sx, sy)):
        raise InvalidInputError("transform", "shear or flip cannot be written as an ENVI map info")
    crs = CRS.from_user_input(crs_wkt)
    utm = crs.utm_zone if crs.is_projected else None
    if utm:
        zone, hemisphere = int(utm[:-1]), "North" if utm[-1].upper() == "N" else "South"
        head = f"UTM, 1, 1, {c!r}, {f!r}, {sx!r}, {sy!r}, {zone}, {hemisphere}, WGS-84, units=Meters"
    elif crs.is_geographic:
        head = f"Geographic Lat/Lon, 1, 1, {c!r}, {f!r}, {sx!r}, {sy!r}, WGS-84, units=Degrees"
    else:
        head = f"Arbitrary, 1, 1, {c!r}, {f!r}, {sx!r}, {sy!r}, units=Meters"
    degrees = math.degrees(theta)
    if abs(degrees) > 1e-12:
        head += f", rotation={degrees!r}"
    return "{" + head + "}"


def glt_from_envi(sample_1based: Any, line_1based: Any) -> tuple[Any, Any]:
    """Convert AVIRIS-NG / EMIT GLT values (1-based, 0 = no data, negative = filled neighbour) to 0-based rows/cols.

    Returns ``(glt_row, glt_col)`` int32 with -1 where there is no data. Works on NumPy or dask arrays.
    """
    xp_abs = np.abs
    col = xp_abs(sample_1based).astype(np.int32) - 1
    row = xp_abs(line_1based).astype(np.int32) - 1
    invalid = (col < 0) | (row < 0)
    return _where(invalid, -1, row), _where(invalid, -1, col)


def glt_to_envi(glt_row: Any, glt_col: Any) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`glt_from_envi`: 0-based (-1 = none) → 1-based (0 = none), as ``(sample, line)``."""
    row = np.asarray(glt_row, dtype=np.int32)
    col = np.asarray(glt_col, dtype=np.int32)
    invalid = (row < 0) | (col < 0)
    return np.where(invalid, 0, col + 1).astype(np.int32), np.where(invalid, 0, row + 1).astype(np.int32)


def _where(condition: Any, a: Any, b: Any) -> Any:
    if hasattr(b, "dask") or type(b).__module__.startswith("dask"):
        import dask.array as da

        return da.where(condition, a, b).astype(np.int32)
    return np.where(condition, a, b).astype(np.int32)


def orthorectify(array: Any, glt_row: Any, glt_col: Any, *, fill: float = np.nan) -> Any:
    """Resample a raw-grid product onto the map grid of a GLT (nearest pixel, vectorised).

    Parameters
    ----------
    array : array (y, x) or (y, x, band)
        Raw-grid values (NumPy, dask or xarray).
    glt_row, glt_col : int array (gy, gx)
        0-based raw-grid row and column for each map cell; -1 (or any negative) = no data.
    fill : float, keyword-only
        Value of map cells without data.

    Returns
    -------
    array (gy, gx) or (gy, gx, band)
        NumPy input gives NumPy; dask input gives a lazy dask array with the GLT's chunks along (gy, gx).
    """
    if hasattr(array, "dims") and hasattr(array, "data"):  # an xarray.DataArray
        array = array.data
    if np.ndim(array) not in (2, 3):
        raise InvalidInputError("array", f"must be (y, x) or (y, x, band), got {np.ndim(array)} dims")
    glt_row_np = np.asarray(glt_row)
    glt_col_np = np.asarray(glt_col)
    if glt_row_np.shape != glt_col_np.shape or glt_row_np.ndim != 2:
        raise InvalidInputError("glt", f"glt_row {glt_row_np.shape} and glt_col {glt_col_np.shape} must be equal 2-D")
    lines, samples = array.shape[:2]
    valid = (glt_row_np >= 0) & (glt_col_np >= 0)
    if np.any(glt_row_np[valid] >= lines) or np.any(glt_col_np[valid] >= samples):
        raise InvalidInputError("glt", f"indices exceed the raw grid {lines} x {samples}")
    flat_index = np.where(valid, glt_row_np.astype(np.int64) * samples + glt_col_np, 0).ravel()
    tail = array.shape[2:]
    out_dtype = np.result_type(array.dtype, np.asarray(fill).dtype)
    if type(array).__module__.startswith("dask"):
        import dask.array as da

        flat = array.reshape((lines * samples,) + tail)
        picked = flat[flat_index]
        mask = da.from_array(valid.ravel(), chunks=picked.chunks[0])
        if tail:
            mask = mask[:, None]
        result = da.where(mask, picked.astype(out_dtype), fill)
        return result.reshape(glt_row_np.shape + tail)
    flat = np.asarray(array).reshape((lines * samples,) + tail)
    result = flat[flat_index].astype(out_dtype, copy=False)
    result[~valid.ravel()] = fill
    return result.reshape(glt_row_np.shape + tail)


def glt_from_affine(
    transform: Sequence[float], shape: tuple[int, int], *, pixel_size: float | None = None
) -> tuple[np.ndarray, np.ndarray, tuple[float, ...]]:
    """Build a north-up GLT for a (possibly rotated) raw grid with a known affine.

    Parameters
    ----------
    transform : six floats
        Affine ``(a, b, c, d, e, f)`` of the raw grid.
    shape : (lines, samples)
        Raw-grid size.
    pixel_size : float, keyword-only
        Map-grid cell size in CRS units (default: the smaller raw pixel side).

    Returns
    -------
    glt_row, glt_col : int32 array (gy, gx)
        0-based raw pixel whose footprint contains each map-cell centre; -1 outside the raw grid.
    map_transform : six floats
        North-up affine of the map grid covering the raw grid's footprint.
    """
    a, b, c, d, e, f = (float(v) for v in transform[:6])
    lines, samples = (int(n) for n in shape)
    det = a * e - b * d
    if det == 0 or lines <= 0 or samples <= 0:
        raise InvalidInputError("transform", "singular affine or empty grid")
    size = float(pixel_size) if pixel_size else min(math.hypot(a, d), math.hypot(b, e))
    corners_col = np.array([0.0, samples, 0.0, samples])
    corners_row = np.array([0.0, 0.0, lines, lines])
    xs, ys = a * corners_col + b * corners_row + c, d * corners_col + e * corners_row + f
    x0, y1 = xs.min(), ys.max()
    width = max(1, int(math.ceil((xs.max() - x0) / size - 1e-9)))
    height = max(1, int(math.ceil((y1 - ys.min()) / size - 1e-9)))
    gx, gy = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
    x, y = x0 + gx * size - c, y1 - gy * size - f
    col = (e * x - b * y) / det
    row = (-d * x + a * y) / det
    inside = (col >= 0) & (col < samples) & (row >= 0) & (row < lines)
    glt_row = np.where(inside, np.floor(row), -1).astype(np.int32)
    glt_col = np.where(inside, np.floor(col), -1).astype(np.int32)
    return glt_row, glt_col, (size, 0.0, float(x0), 0.0, -size, float(y1))


def scene_map_grid(scene: xr.Dataset) -> tuple[str, tuple[float, ...], tuple[int, int]] | None:
    """The map grid a Scene's products are written on: ``(crs_wkt, transform, (height, width))``.

    Uses the GLT grid (``glt_crs``/``glt_transform``, shape of ``glt_row``) when the scene has one, else the
    raw grid's ``crs``/``transform`` (possibly rotated). Returns None when the scene has no georeferencing.
    """
    if "glt_row" in scene and "glt_crs" in scene.attrs and "glt_transform" in scene.attrs:
        shape = tuple(int(n) for n in scene["glt_row"].shape)
        return str(scene.attrs["glt_crs"]), tuple(float(v) for v in scene.attrs["glt_transform"][:6]), shape
    if "crs" in scene.attrs and "transform" in scene.attrs:
        shape = (int(scene.sizes["y"]), int(scene.sizes["x"]))
        return str(scene.attrs["crs"]), tuple(float(v) for v in scene.attrs["transform"][:6]), shape
    return None


@lru_cache(maxsize=16)
def _local_transformer(origin_lon_deg: float, origin_lat_deg: float) -> Any:
    from pyproj import Transformer  # imported here: pyproj is slow to import and most callers never need it

    aeqd = f"+proj=aeqd +lat_0={origin_lat_deg} +lon_0={origin_lon_deg} +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
    return Transformer.from_crs("EPSG:4326", aeqd, always_xy=True)


def lonlat_to_local(
    lon_deg: Any, lat_deg: Any, *, origin_lon_deg: float, origin_lat_deg: float
) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 longitude/latitude → local east/north metres around an origin.

    The local frame is the azimuthal equidistant projection on the WGS84 ellipsoid centred on the origin: exact
    distances and azimuths from the origin, the frame of in-situ surveys (``x_m``, ``y_m`` of an observation table).

    Parameters
    ----------
    lon_deg, lat_deg : array_like
        WGS84 longitude and latitude (degrees), broadcastable to one shape.
    origin_lon_deg, origin_lat_deg : float
        Longitude and latitude of the origin (degrees).

    Returns
    -------
    (east_m, north_m) : tuple of ndarray
        Metres east and north of the origin.
    """
    east, north = _local_transformer(float(origin_lon_deg), float(origin_lat_deg)).transform(
        np.asarray(lon_deg, float), np.asarray(lat_deg, float)
    )
    return np.asarray(east, float), np.asarray(north, float)


def local_to_lonlat(
    east_m: Any, north_m: Any, *, origin_lon_deg: float, origin_lat_deg: float
) -> tuple[np.ndarray, np.ndarray]:
    """Local east/north metres around an origin → WGS84 longitude/latitude; the inverse of :func:`lonlat_to_local`.

    Parameters
    ----------
    east_m, north_m : array_like
        Metres east and north of the origin.
    origin_lon_deg, origin_lat_deg : float
        Longitude and latitude of the origin (degrees).

    Returns
    -------
    (lon_deg, lat_deg) : tuple of ndarray
        WGS84 longitude and latitude (degrees).
    """
    lon, lat = _local_transformer(float(origin_lon_deg), float(origin_lat_deg)).transform(
        np.asarray(east_m, float), np.asarray(north_m, float), direction="INVERSE"
    )
    return np.asarray(lon, float), np.asarray(lat, float)


def metres_per_degree(lat_deg: Any) -> tuple[Any, Any]:
    """Ground length of one degree of longitude and of latitude at a latitude, on the WGS84 ellipsoid.

    The local scale of a geographic (lon/lat) grid: ``π/180 · N cos φ`` east and ``π/180 · M`` north, with N and M
    the prime-vertical and meridional radii of curvature of the ellipsoid (pyproj's WGS84 ``Geod``), so a pixel of
    ``dlon × dlat`` degrees is ``dlon · east × dlat · north`` metres. At 31.9° N: 94 596 m and 110 885 m (a sphere
    of 111 320 m per degree gives 94 508 m and 111 320 m).

    Parameters
    ----------
    lat_deg : float or array_like
        Geodetic latitude, degrees.

    Returns
    -------
    (east_m, north_m) : tuple of float or ndarray
        Metres per degree of longitude and per degree of latitude (floats for a scalar latitude).
    """
    from pyproj import Geod  # imported here: pyproj is slow to import and most callers never need it

    geod = Geod(ellps="WGS84")
    phi = np.deg2rad(np.asarray(lat_deg, dtype=np.float64))
    w = np.sqrt(1.0 - geod.es * np.sin(phi) ** 2)
    east = np.deg2rad(1.0) * geod.a / w * np.cos(phi)
    north = np.deg2rad(1.0) * geod.a * (1.0 - geod.es) / w**3
    if np.ndim(east) == 0:
        return float(east), float(north)
    return east, north
