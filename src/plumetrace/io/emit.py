"""NASA EMIT L1B radiance NetCDF: lazy reader and an EMIT-like writer.

Layout (EMIT L1B RAD, as distributed by the LP DAAC and read by NASA's EMIT-Data-Resources ``emit_tools``):

* root ``radiance(downtrack, crosstrack, bands)`` float32, µW cm⁻² sr⁻¹ nm⁻¹ (``units = "uW/cm^2/SR/nm"``),
  ``_FillValue = -9999``;
* group ``sensor_band_parameters``: ``wavelengths(bands)``, ``fwhm(bands)`` in nm;
* group ``location``: ``lat``, ``lon``, ``elev`` (downtrack, crosstrack) and the GLT ``glt_x``, ``glt_y``
  (ortho_y, ortho_x) int32, 1-based crosstrack / downtrack indices, 0 = no data;
* root attributes ``geotransform`` (GDAL order, of the GLT grid), ``spatial_ref`` (WKT), ``time_coverage_start``.

A sibling ``EMIT_L1B_OBS_…nc`` (same granule name with ``OBS`` for ``RAD``) supplies per-pixel solar and view
zenith when present (``obs(downtrack, crosstrack, bands)``, AVIRIS-NG OBS band order).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr

from plumetrace.errors import InvalidFileError, InvalidInputError, MissingFileError
from plumetrace.georef import glt_from_affine, glt_from_envi, glt_to_envi
from plumetrace.scene import RADIANCE_UNITS, radiance_unit_scale, validate_scene
from plumetrace.scene_checks import check_acquisition_time, check_crs, check_spectral, check_transform

__all__ = ["read_emit_l1b", "write_emit_netcdf", "is_emit_netcdf", "EMIT_RADIANCE_UNITS"]

EMIT_RADIANCE_UNITS = "uW/cm^2/SR/nm"
_FILL = -9999.0
_ROW_CHUNK_BYTES = 32 * 2**20
_OBS_FIELDS = {"view_azimuth_deg": 1, "view_zenith_deg": 2, "solar_azimuth_deg": 3, "solar_zenith_deg": 4}
_SIMPLE_ATTR = re.compile(r"[A-Za-z0-9_]+")


def _open(path: Path, group: str | None = None, *, chunks: dict[str, int] | None = None) -> xr.Dataset:
    try:
        return xr.open_dataset(path, engine="h5netcdf", group=group, chunks=chunks, mask_and_scale=True)
    except OSError as exc:
        if group is not None and "not found" in str(exc).lower():
            raise InvalidFileError(path, group, "group missing") from None
        raise InvalidFileError(path, "format", f"not a readable NetCDF-4/HDF5 file ({exc})") from None
    except (KeyError, ValueError) as exc:
        raise InvalidFileError(path, group or "format", f"unreadable ({exc})") from None


def is_emit_netcdf(path: str | Path) -> bool:
    """True if ``path`` is an HDF5/NetCDF-4 file with a root ``radiance`` and a ``sensor_band_parameters`` group."""
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            return "radiance" in handle and "sensor_band_parameters" in handle
    except OSError:
        return False


def _iso_time(text: str) -> str:
    text = str(text).strip()
    match = re.match(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]00:?00)?$", text)
    if match:
        return f"{match.group(1)}T{match.group(2)}Z"
    return text


def _group_vars(path: Path, group: str, names: tuple[str, ...]) -> dict[str, xr.DataArray]:
    import h5py

    with h5py.File(path, "r") as handle:
        if group not in handle:
            return {}
    ds = _open(path, group, chunks={})
    return {name: ds[name] for name in names if name in ds}


def _check_band_parameters(path: Path, wavelength_nm: np.ndarray, fwhm_nm: np.ndarray) -> None:
    """Check the band centres and widths (nm) of ``sensor_band_parameters``, naming its fields in errors."""
    check_spectral(
        path,
        wavelength_nm,
        fwhm_nm,
        wavelength_field="sensor_band_parameters/wavelengths",
        fwhm_field="sensor_band_parameters/fwhm",
    )


def read_emit_l1b(path: str | Path) -> xr.Dataset:
    """Open an EMIT L1B RAD NetCDF as a lazy Scene.

    Parameters
    ----------
    path : path
        ``EMIT_L1B_RAD_001_YYYYMMDDTHHMMSS_ORBIT_SCENE.nc`` (or a file written by :func:`write_emit_netcdf`).

    Returns
    -------
    xarray.Dataset
        Scene: ``radiance(y, x, band)`` float32 (dask, chunked by rows, bands whole; fill → NaN) in
        µW cm⁻² sr⁻¹ nm⁻¹; ``wavelength``/``fwhm`` (nm); ``lat``/``lon`` coords and ``elevation_m``;
        ``glt_row``/``glt_col`` (0-based, -1 = none) with ``glt_crs``/``glt_transform`` from ``spatial_ref`` and
        ``geotransform``; ``acquisition_time`` from ``time_coverage_start``; per-pixel zeniths from a sibling OBS file.

    Raises
    ------
    MissingFileError, InvalidFileError
        Not NetCDF/HDF5, missing ``radiance``, wavelengths or fwhm, bad units, non-monotonic wavelengths,
        GLT indices outside the swath, all-fill radiance.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path)
    root = _open(path)
    if "radiance" not in root:
        raise InvalidFileError(path, "radiance", "missing (not an EMIT L1B RAD file)")
    dims = root["radiance"].dims
    if len(dims) != 3:
        raise InvalidFileError(path, "radiance", f"dims {dims}, expected (downtrack, crosstrack, bands)")
    lines, samples, bands = root["radiance"].shape
    rows = int(max(1, min(4096, _ROW_CHUNK_BYTES // max(1, samples * bands * 4))))
    root = _open(path, chunks={dims[0]: rows, dims[1]: -1, dims[2]: -1})
    radiance = root["radiance"]
    units = radiance.attrs.get("units", EMIT_RADIANCE_UNITS)
    try:
        scale = radiance_unit_scale(str(units))
    except InvalidInputError as exc:
        raise InvalidFileError(path, "radiance units", exc.problem) from None
    data = radiance.data.astype(np.float32)
    if scale != 1.0:
        data = data * np.float32(scale)

    band_params = _group_vars(path, "sensor_band_parameters", ("wavelengths", "fwhm"))
    for name in ("wavelengths", "fwhm"):
        if name not in band_params:
            raise InvalidFileError(path, f"sensor_band_parameters/{name}", "missing")
    wavelength = np.asarray(band_params["wavelengths"].values, dtype=np.float64)
    fwhm = np.asarray(band_params["fwhm"].values, dtype=np.float64)
    for name, values in (("wavelengths", wavelength), ("fwhm", fwhm)):
        if values.shape != (bands,):
            raise InvalidFileError(path, f"sensor_band_parameters/{name}", f"{values.size} values for {bands} bands")
    if wavelength.size > 1 and not np.all(np.diff(wavelength) > 0):
        raise InvalidFileError(path, "sensor_band_parameters/wavelengths", "not strictly increasing")
    if not np.all(np.isfinite(wavelength)):
        _check_band_parameters(path, wavelength, fwhm)
    if wavelength.max() < 30.0:  # micrometres
        wavelength, fwhm = wavelength * 1000.0, fwhm * 1000.0
    _check_band_parameters(path, wavelength, fwhm)

    attrs: dict[str, Any] = {"sensor": str(root.attrs.get("plumetrace_sensor", "emit")), "source": str(path)}
    start = root.attrs.get("time_coverage_start")
    if start:
        attrs["acquisition_time"] = check_acquisition_time(path, "time_coverage_start", _iso_time(start))
    for key, value in root.attrs.items():
        if key.startswith("plumetrace_") and key != "plumetrace_sensor":
            attrs[key[len("plumetrace_") :]] = value.item() if isinstance(value, np.generic) else value

    data_vars: dict[str, Any] = {
        "radiance": (("y", "x", "band"), data, {"units": RADIANCE_UNITS, "long_name": "at-sensor radiance"})
    }
    coords: dict[str, Any] = {
        "wavelength": ("band", wavelength, {"units": "nm"}),
        "fwhm": ("band", fwhm, {"units": "nm"}),
    }
    location = _group_vars(path, "location", ("lat", "lon", "elev", "glt_x", "glt_y"))
    for name, target in (("lat", "lat"), ("lon", "lon")):
        if name in location:
            coords[target] = (
                ("y", "x"),
                location[name].data,
                {"units": f"degrees_{'north' if name == 'lat' else 'east'}"},
            )
    if "elev" in location:
        data_vars["elevation_m"] = (("y", "x"), location["elev"].data.astype(np.float32), {"units": "m"})
    if "glt_x" in location and "glt_y" in location:
        glt_x = np.asarray(np.nan_to_num(location["glt_x"].values, nan=0.0)).astype(np.int32)
        glt_y = np.asarray(np.nan_to_num(location["glt_y"].values, nan=0.0)).astype(np.int32)
        glt_row, glt_col = glt_from_envi(glt_x, glt_y)
        if np.any(glt_row >= lines) or np.any(glt_col >= samples):
            raise InvalidFileError(path, "location/glt_x", f"indices beyond the {lines} x {samples} swath")
        data_vars["glt_row"] = (("gy", "gx"), glt_row, {"long_name": "raw-grid row of each map cell (-1 = none)"})
        data_vars["glt_col"] = (("gy", "gx"), glt_col, {"long_name": "raw-grid column of each map cell (-1 = none)"})
        geotransform = root.attrs.get("geotransform")
        if geotransform is not None and len(np.ravel(geotransform)) == 6:
            try:
                gt = [float(v) for v in np.ravel(geotransform)]
            except (TypeError, ValueError):
                raise InvalidFileError(path, "geotransform", f"{geotransform!r} is not six numbers") from None
            attrs["glt_transform"] = [gt[1], gt[2], gt[0], gt[4], gt[5], gt[3]]
            check_transform(path, "geotransform", attrs["glt_transform"])
            attrs["glt_crs"] = str(root.attrs.get("spatial_ref", "EPSG:4326"))
            check_crs(path, "spatial_ref", attrs["glt_crs"])
    _add_obs(path, (lines, samples), data_vars, attrs)

    scene = xr.Dataset(data_vars, coords=coords, attrs=attrs)
    validate_scene(scene, source=str(path))
    probe_rows = np.unique(np.linspace(0, lines - 1, min(lines, 9)).astype(int))
    if not np.any(np.isfinite(np.asarray(data[probe_rows].compute(scheduler="synchronous")))):
        raise InvalidFileError(path, "radiance", "every pixel is fill (_FillValue / NaN)")
    return scene


def _add_obs(path: Path, shape: tuple[int, int], data_vars: dict[str, Any], attrs: dict[str, Any]) -> None:
    if "_L1B_RAD_" not in path.name:
        return
    obs_path = path.with_name(path.name.replace("_L1B_RAD_", "_L1B_OBS_"))
    if not obs_path.is_file():
        return
    obs = _open(obs_path, chunks={})
    if "obs" not in obs or obs["obs"].shape[:2] != shape:
        raise InvalidFileError(obs_path, "obs", f"missing or not on the {shape} radiance grid")
    for name, index in _OBS_FIELDS.items():
        if index < obs["obs"].shape[2]:
            data_vars[name] = (("y", "x"), obs["obs"].data[:, :, index].astype(np.float32), {"units": "degree"})
            attrs.pop(name, None)


def _identity_glt(lines: int, samples: int) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.meshgrid(np.arange(lines, dtype=np.int32), np.arange(samples, dtype=np.int32), indexing="ij")
    return rows, cols


def _lonlat_from_transform(scene: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    from pyproj import CRS, Transformer

    a, b, c, d, e, f = (float(v) for v in scene.attrs["transform"][:6])
    rows, cols = np.meshgrid(np.arange(scene.sizes["y"]) + 0.5, np.arange(scene.sizes["x"]) + 0.5, indexing="ij")
    x, y = a * cols + b * rows + c, d * cols + e * rows + f
    to_lonlat = Transformer.from_crs(CRS.from_user_input(scene.attrs["crs"]), CRS.from_epsg(4326), always_xy=True)
    lon, lat = to_lonlat.transform(x, y)
    return np.asarray(lon), np.asarray(lat)


def write_emit_netcdf(scene: xr.Dataset, path: str | Path) -> Path:
    """Write a Scene in the EMIT L1B RAD NetCDF layout (readable by :func:`read_emit_l1b` and EMIT tools).

    Radiance is written chunk by chunk (dask) with ``_FillValue = -9999``. The GLT comes from the Scene's
    ``glt_row``/``glt_col`` (+ ``glt_crs``/``glt_transform``); a north-up ``crs``/``transform`` scene gets an
    identity GLT on its own grid, a rotated one a north-up GLT over its footprint. ``lat``/``lon`` come from the
    Scene, or from ``crs``/``transform``.

    Parameters
    ----------
    scene : xarray.Dataset
        A valid Scene.
    path : path
        The ``.nc`` file to write.

    Returns
    -------
    Path
    """
    validate_scene(scene)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines, samples = int(scene.sizes["y"]), int(scene.sizes["x"])
    rows = int(max(1, min(4096, _ROW_CHUNK_BYTES // max(1, samples * scene.sizes["band"] * 4))))
    radiance = da.asarray(scene["radiance"].data).astype(np.float32).rechunk((rows, -1, -1))
    root_attrs: dict[str, Any] = {
        "title": "EMIT-like L1B at-sensor radiance written by plumetrace",
        "instrument": "EMIT" if scene.attrs.get("sensor") == "emit" else str(scene.attrs.get("sensor", "generic")),
        "plumetrace_sensor": str(scene.attrs.get("sensor", "generic")),
    }
    if scene.attrs.get("acquisition_time"):
        root_attrs["time_coverage_start"] = str(scene.attrs["acquisition_time"])
    skip = {"sensor", "source", "acquisition_time", "glt_crs", "glt_transform", "crs", "transform"}
    for key, value in scene.attrs.items():
        if key in skip or not _SIMPLE_ATTR.fullmatch(key):
            continue
        if isinstance(value, (int, float, str, np.integer, np.floating)) and not isinstance(value, bool):
            root_attrs[f"plumetrace_{key}"] = value
    glt_row = glt_col = None
    if "glt_row" in scene and "glt_col" in scene:
        glt_row, glt_col = np.asarray(scene["glt_row"].values), np.asarray(scene["glt_col"].values)
        if "glt_crs" in scene.attrs and "glt_transform" in scene.attrs:
            a, b, c, d, e, f = (float(v) for v in scene.attrs["glt_transform"][:6])
            root_attrs["geotransform"] = np.array([c, a, b, f, d, e])
            root_attrs["spatial_ref"] = str(scene.attrs["glt_crs"])
    elif "crs" in scene.attrs and "transform" in scene.attrs:
        a, b, c, d, e, f = (float(v) for v in scene.attrs["transform"][:6])
        if b == 0.0 and d == 0.0:
            glt_row, glt_col = _identity_glt(lines, samples)
        else:  # rotated raw grid: a north-up GLT over its footprint
            glt_row, glt_col, (a, b, c, d, e, f) = glt_from_affine(scene.attrs["transform"], (lines, samples))
        root_attrs["geotransform"] = np.array([c, a, b, f, d, e])
        root_attrs["spatial_ref"] = str(scene.attrs["crs"])

    root = xr.Dataset(
        {
            "radiance": (
                ("downtrack", "crosstrack", "bands"),
                radiance,
                {"units": EMIT_RADIANCE_UNITS, "long_name": "Radiance Data"},
            )
        },
        attrs=root_attrs,
    )
    root.to_netcdf(
        path,
        engine="h5netcdf",
        mode="w",
        encoding={
            "radiance": {
                "_FillValue": np.float32(_FILL),
                "dtype": "float32",
                "chunksizes": (min(rows, lines), samples, int(scene.sizes["band"])),
            }
        },
    )
    bands = xr.Dataset(
        {
            "wavelengths": (("bands",), scene["wavelength"].values.astype(np.float32), {"units": "nm"}),
            "fwhm": (("bands",), scene["fwhm"].values.astype(np.float32), {"units": "nm"}),
        }
    )
    bands.to_netcdf(path, engine="h5netcdf", mode="a", group="sensor_band_parameters")
    location: dict[str, Any] = {}
    if "lat" in scene.coords and "lon" in scene.coords:
        lon, lat = scene["lon"].values, scene["lat"].values
    elif "crs" in scene.attrs and "transform" in scene.attrs:
        lon, lat = _lonlat_from_transform(scene)
    else:
        lon = lat = None
    if lat is not None:
        location["lat"] = (("downtrack", "crosstrack"), np.asarray(lat, dtype=np.float64), {"units": "degrees_north"})
        location["lon"] = (("downtrack", "crosstrack"), np.asarray(lon, dtype=np.float64), {"units": "degrees_east"})
    if "elevation_m" in scene:
        location["elev"] = (("downtrack", "crosstrack"), scene["elevation_m"].values.astype(np.float64), {"units": "m"})
    if glt_row is not None:
        glt_x, glt_y = glt_to_envi(glt_row, glt_col)
        location["glt_x"] = (("ortho_y", "ortho_x"), glt_x, {"long_name": "GLT Sample Lookup (1-based, 0 = none)"})
        location["glt_y"] = (("ortho_y", "ortho_x"), glt_y, {"long_name": "GLT Line Lookup (1-based, 0 = none)"})
    if location:
        xr.Dataset(location).to_netcdf(path, engine="h5netcdf", mode="a", group="location")
    return path
