"""NASA EMIT L2B greenhouse-gas enhancement products (CH4ENH, CO2ENH) as enhancement maps.

**COG, as distributed by the LP DAAC** (EMITL2BCH4ENH / EMITL2BCO2ENH; written by JPL's ``emit-ghg``): one
orthorectified single-band float32 GeoTIFF per granule, EPSG:4326 (WGS84 lon/lat, about 60 m pixels), nodata
``-9999``, band description ``EMIT_L2B_CH4ENH``, band tag ``UNITS = ppm m``, dataset tags ``sensor`` ("EMIT (Earth
Surface Mineral Dust Source Investigation)"), ``description`` ("Methane Enhancement Values"), ``product_version`` …
The acquisition time is in the granule name only: ``EMIT_L2B_CH4ENH_002_20230805T195459_2321713_002.tif`` (product,
version, start time UTC, orbit, scene). Version 2 granules ship the per-pixel 1σ as a sibling COG of the same name
with ``CH4UNCERT`` (``EMIT_L2B_CH4UNCERT_…``, ppm m), read as the map's uncertainty when it sits beside it on the
same grid.

**NetCDF**: the EMIT L1B/L2A NetCDF-4 convention applied to the enhancement swath: root ``ch4_enhancement``
(``co2_enhancement``) (downtrack, crosstrack) float32 with ``units`` and ``_FillValue = -9999``, optional
``ch4_uncertainty`` (same units) and ``ch4_sensitivity``; group ``location`` with ``lat``, ``lon`` and the GLT
``glt_x``, ``glt_y`` (ortho_y, ortho_x; 1-based, 0 = none); root attributes ``geotransform`` (GDAL order, of the
GLT grid), ``spatial_ref`` (WKT) and ``time_coverage_start``. The swath is orthorectified onto the GLT grid, as
plumetrace's own detection products are; without a GLT the ``location`` lat/lon place the raw grid.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from plumetrace.errors import InvalidFileError, warn_input

__all__ = ["EMIT_FILL", "EMIT_SENSOR_TAG", "emit_l2b_cog", "read_emit_l2b_netcdf", "read_sibling_band"]

EMIT_FILL = -9999.0
#: The ``sensor`` tag of the distributed COGs.
EMIT_SENSOR_TAG = "EMIT (Earth Surface Mineral Dust Source Investigation)"
_NAME = re.compile(r"EMIT_L2B_(CH4|CO2)(ENH|UNCERT|SENS)_(\d{3})_(\d{8})T(\d{6})_(\d{7})_(\d{3})", re.IGNORECASE)
_DESCRIPTION = re.compile(r"EMIT_L2B_(CH4|CO2)ENH", re.IGNORECASE)


def _time_from_name(date: str, time: str) -> str:
    return f"{date[:4]}-{date[4:6]}-{date[6:]}T{time[:2]}:{time[2:4]}:{time[4:]}Z"


def emit_l2b_cog(path: Path, descriptions: list[str | None], tags: dict[str, str]) -> dict[str, Any] | None:
    """What an EMIT L2B enhancement COG says about itself, or None when ``path`` is not one.

    Recognised by the band description ``EMIT_L2B_CH4ENH`` / ``EMIT_L2B_CO2ENH`` or by the granule name.

    Returns
    -------
    dict or None
        ``attrs`` (sensor ``emit``, gas ``ch4``/``co2``, ``acquisition_time`` from the granule name when it has
        one, ``product``) and ``uncertainty`` (the sibling ``…UNCERT…`` COG, or None when absent).
    """
    name = _NAME.search(path.name)
    described = next((m for d in descriptions if d and (m := _DESCRIPTION.fullmatch(d.strip()))), None)
    if name is not None and name.group(2).upper() != "ENH":
        return None  # the uncertainty or sensitivity COG given in place of the enhancement
    if name is None and described is None:
        return None
    gas = (name.group(1) if name else described.group(1)).lower()  # type: ignore[union-attr]
    attrs: dict[str, Any] = {"sensor": "emit", "gas": gas, "product": f"EMIT_L2B_{gas.upper()}ENH"}
    if tags.get("sensor") and tags["sensor"] != EMIT_SENSOR_TAG:
        attrs["sensor_tag"] = tags["sensor"]
    uncertainty = None
    if name is not None:
        attrs["acquisition_time"] = _time_from_name(name.group(4), name.group(5))
        sibling = path.with_name(path.name[: name.start(2)] + "UNCERT" + path.name[name.end(2) :])
        uncertainty = sibling if sibling.is_file() else None
    return {"attrs": attrs, "uncertainty": uncertainty}


def read_sibling_band(path: Path, sibling: Path, shape: tuple[int, int], transform: Any) -> tuple[np.ndarray, str]:
    """Band 1 of the sibling uncertainty COG (nodata → NaN) and its stated units; refuses another grid."""
    import rasterio
    from rasterio.errors import RasterioError

    from plumetrace.io.map_units import stated_units

    try:
        with rasterio.open(sibling) as src:
            if (src.height, src.width) != shape or (transform is not None and src.transform != transform):
                raise InvalidFileError(
                    sibling, "grid", f"{src.height} x {src.width} pixels not on the grid of {path.name}"
                )
            values = src.read(1).astype(np.float32)
            nodata = src.nodatavals[0]
            stated = stated_units(src, 1)
    except (RasterioError, OSError) as exc:
        raise InvalidFileError(sibling, "file", f"cannot be read ({str(exc).splitlines()[0]})") from None
    if nodata is not None and np.isfinite(nodata):
        values[values == np.float32(nodata)] = np.nan
    return values, stated[0][0] if stated else ""


def _first_2d(path: Path, ds: Any, names: tuple[str, ...]) -> str | None:
    found = next((name for name in names if name in ds.data_vars), None)
    if found is not None and ds[found].ndim != 2:
        raise InvalidFileError(path, found, f"must be 2-D (downtrack, crosstrack), has dims {ds[found].dims}")
    return found


def _values(var: Any, factor: float) -> np.ndarray:
    """A variable's values as float32 (``_FillValue`` already NaN; a bare -9999 too), times ``factor``."""
    values = np.asarray(var.values, dtype=np.float32)
    values[values == np.float32(EMIT_FILL)] = np.nan
    return values * np.float32(factor)


def read_emit_l2b_netcdf(path: str | Path, *, units: str | None = None) -> Any:
    """Read an EMIT L2B enhancement NetCDF (layout in the module docstring) as an enhancement Dataset.

    Parameters
    ----------
    path : path
        The NetCDF-4 file.
    units : str, optional
        Units of the enhancement when its variable states none (see :mod:`plumetrace.io.map_units`).

    Returns
    -------
    xarray.Dataset
        ``enhancement`` (y, x) ppm·m and, when present, ``uncertainty`` (ppm·m) and ``sensitivity``; attrs
        ``sensor`` (``emit``), ``gas``, ``acquisition_time``, ``crs``/``transform``/``pixel_size_m`` of the GLT grid
        (or ``lat``/``lon`` coordinates); ``encoding["source"]`` is the path.

    Raises
    ------
    InvalidFileError
        Not a readable NetCDF-4, no ``ch4_enhancement``/``co2_enhancement`` variable, a variable that is not 2-D,
        units that are not a column unit, a GLT pointing outside the swath, a bad ``geotransform``/``spatial_ref``/
        ``time_coverage_start``, no finite pixel, ±inf pixels, a negative 1σ.
    """
    import xarray as xr

    from plumetrace.io.cog import _BYTES_PER_PIXEL, _available_memory_bytes
    from plumetrace.io.map_units import resolve_units

    path = Path(path)
    try:
        root = xr.open_dataset(path, engine="h5netcdf", mask_and_scale=True)
    except (OSError, ValueError, KeyError) as exc:
        raise InvalidFileError(
            path, "file", f"not a readable NetCDF-4/HDF5 file ({str(exc).splitlines()[0]})"
        ) from None
    with root:
        enh_name = _first_2d(path, root, ("ch4_enhancement", "co2_enhancement"))
        if enh_name is None:
            have = ", ".join(map(str, root.data_vars)) or "none"
            raise InvalidFileError(
                path,
                "variable ch4_enhancement",
                f"missing: not an EMIT L2B enhancement NetCDF nor a GeoTIFF (variables: {have})",
            )
        gas = enh_name.split("_")[0]
        rows, cols = root[enh_name].shape
        if rows * cols * _BYTES_PER_PIXEL > _available_memory_bytes():
            raise InvalidFileError(path, enh_name, f"{rows} x {cols} pixels do not fit in the memory available")
        declared = root[enh_name].attrs.get("units")
        factor, read_units = resolve_units(path, [(str(declared), f"{enh_name} units")] if declared else [], units)
        arrays = {"enhancement": _values(root[enh_name], factor)}
        for name, var in (("uncertainty", f"{gas}_uncertainty"), ("sensitivity", f"{gas}_sensitivity")):
            if _first_2d(path, root, (var,)) is None:
                continue
            if root[var].shape != (rows, cols):
                raise InvalidFileError(path, var, f"shape {root[var].shape} differs from {enh_name} {(rows, cols)}")
            scale = 1.0 if name == "sensitivity" else factor
            if name == "uncertainty" and root[var].attrs.get("units"):
                scale, _ = resolve_units(path, [(str(root[var].attrs["units"]), f"{var} units")], None)
            arrays[name] = _values(root[var], scale)
        root_attrs = dict(root.attrs)
    sigma = arrays.get("uncertainty")
    if sigma is not None and (np.nan_to_num(sigma, nan=0.0) < 0).any():
        raise InvalidFileError(path, f"{gas}_uncertainty", "negative 1σ; a 1σ must be >= 0")
    attrs: dict[str, Any] = {"sensor": "emit", "gas": gas, "product": f"EMIT_L2B_{gas.upper()}ENH", "units": "ppm m"}
    if factor != 1.0:
        attrs["source_units"] = read_units
    if root_attrs.get("time_coverage_start"):
        from plumetrace.io.emit import _iso_time
        from plumetrace.scene_checks import check_acquisition_time

        attrs["acquisition_time"] = check_acquisition_time(
            path, "time_coverage_start", _iso_time(str(root_attrs["time_coverage_start"]))
        )
    arrays, coords = _georeference(path, arrays, root_attrs, attrs, (rows, cols))
    enhancement = arrays["enhancement"]
    if not np.isfinite(enhancement).any():
        raise InvalidFileError(path, enh_name, "map is empty: no finite pixel (all NaN or fill value)")
    if np.isinf(enhancement).any():
        raise InvalidFileError(path, enh_name, "infinite value; use the fill value for no data")
    data_vars = {
        name: (("y", "x"), values, {"units": "1" if name == "sensitivity" else "ppm m"})
        for name, values in arrays.items()
    }
    ds = xr.Dataset(data_vars, coords=coords, attrs=attrs)
    ds.encoding["source"] = str(path)
    return ds


def _georeference(
    path: Path, arrays: dict[str, np.ndarray], root_attrs: dict[str, Any], attrs: dict[str, Any], shape: tuple[int, int]
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Orthorectify the swath onto the GLT grid (setting crs/transform/pixel_size_m in ``attrs``), or return the
    ``location`` lat/lon as coordinates of the raw grid."""
    from plumetrace.georef import glt_from_envi, metres_per_degree, orthorectify
    from plumetrace.scene_checks import check_crs, check_transform

    location = _location(path)
    if "glt_x" in location and "glt_y" in location:
        glt_row, glt_col = glt_from_envi(
            np.nan_to_num(location["glt_x"], nan=0.0).astype(np.int32),
            np.nan_to_num(location["glt_y"], nan=0.0).astype(np.int32),
        )
        if np.any(glt_row >= shape[0]) or np.any(glt_col >= shape[1]):
            raise InvalidFileError(path, "location/glt_x", f"indices beyond the {shape[0]} x {shape[1]} swath")
        geotransform = root_attrs.get("geotransform")
        if geotransform is None or len(np.ravel(geotransform)) != 6:
            raise InvalidFileError(path, "geotransform", "missing or not six numbers (the GLT grid needs it)")
        gt = [float(v) for v in np.ravel(geotransform)]
        attrs["transform"] = [gt[1], gt[2], gt[0], gt[4], gt[5], gt[3]]
        check_transform(path, "geotransform", attrs["transform"])
        attrs["crs"] = str(root_attrs.get("spatial_ref", "EPSG:4326"))
        check_crs(path, "spatial_ref", attrs["crs"])
        from pyproj import CRS

        arrays = {name: orthorectify(values, glt_row, glt_col).astype(np.float32) for name, values in arrays.items()}
        a, b, _, d, e, f = attrs["transform"]
        size_x, size_y = float(np.hypot(a, d)), float(np.hypot(b, e))
        if CRS.from_user_input(attrs["crs"]).is_projected:
            attrs["pixel_size_m"] = 0.5 * (size_x + size_y)
        else:
            east_m, north_m = metres_per_degree(f + e * glt_row.shape[0] / 2)
            attrs["pixel_size_m"] = 0.5 * (size_x * east_m + size_y * north_m)
        return arrays, {}
    if "lat" in location and "lon" in location:
        return arrays, {"lat": (("y", "x"), location["lat"]), "lon": (("y", "x"), location["lon"])}
    warn_input(path, "location", "no GLT and no lat/lon: the map is not georeferenced", stacklevel=3)
    return arrays, {}


def _location(path: Path) -> dict[str, np.ndarray]:
    """The ``location`` group's lat, lon, glt_x, glt_y that are present (an empty dict without the group)."""
    import h5py

    out: dict[str, np.ndarray] = {}
    with h5py.File(path, "r") as handle:
        group = handle.get("location")
        if group is None:
            return out
        for name in ("lat", "lon", "glt_x", "glt_y"):
            if name in group:
                out[name] = np.asarray(group[name][()], dtype=np.float64)
    for name in ("lat", "lon"):
        if name in out:
            out[name][out[name] == EMIT_FILL] = np.nan
    return out
