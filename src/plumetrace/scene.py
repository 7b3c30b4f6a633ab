"""The Scene contract: one in-memory form for every imaging spectrometer.

A Scene is an :class:`xarray.Dataset` with

* ``radiance(y, x, band)`` float32, lazy (dask or memory-mapped), in µW cm⁻² sr⁻¹ nm⁻¹
  (``attrs["units"]``; readers convert on the fly with :func:`radiance_unit_scale`);
* coordinates ``wavelength(band)`` and ``fwhm(band)`` in nm, wavelength strictly increasing;
* optional ``lat(y, x)``, ``lon(y, x)`` (degrees), ``elevation_m(y, x)``;
* optional geometry: scene-mean ``attrs["solar_zenith_deg"]``, ``attrs["view_zenith_deg"]`` or the per-pixel data
  variables of the same names (from an OBS file);
* optional georeferencing of the raw grid: ``attrs["crs"]`` (WKT) and ``attrs["transform"]`` (six floats in
  rasterio ``Affine`` order a, b, c, d, e, f; rotation allowed), or a geographic lookup table ``glt_row(gy, gx)``,
  ``glt_col(gy, gx)`` (int32, 0-based raw-grid indices, -1 = no data) with ``attrs["glt_crs"]`` and
  ``attrs["glt_transform"]`` describing the map grid;
* on a map grid (``crs`` + ``transform``): the CF grid mapping ``spatial_ref`` (scalar coordinate with ``crs_wkt``,
  ``spatial_ref`` and ``GeoTransform``, as rioxarray writes it) and, for a north-up grid, ``x(x)``/``y(y)`` pixel-centre
  coordinates in CRS units (:func:`map_coords`), so ``scene["radiance"].rio.crs`` and ``.rio.transform()`` work;
* ``attrs["sensor"]`` (``emit``, ``aviris-ng``, ``aviris-3``, ``prisma``, ``enmap``, ``hytes``, ``generic``),
  ``attrs["acquisition_time"]`` (ISO 8601, UTC), ``attrs["source"]`` (path or description).

See docs/scene.md for the full contract.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from plumetrace.errors import InvalidFileError, InvalidInputError
from plumetrace.georef import metres_per_degree
from plumetrace.scene_checks import check_acquisition_time, check_crs, check_spectral, check_transform, check_zenith

__all__ = [
    "RADIANCE_UNITS",
    "SENSORS",
    "radiance_unit_scale",
    "make_scene",
    "map_coords",
    "with_map_coords",
    "validate_scene",
    "airmass_factor",
    "pixel_size_m",
]

RADIANCE_UNITS = "uW cm-2 sr-1 nm-1"
SENSORS = ("emit", "aviris-ng", "aviris-3", "aviris-classic", "prisma", "enmap", "hytes", "generic")

# Factor that turns a value in the named unit into µW cm⁻² sr⁻¹ nm⁻¹.
# 1 W m⁻² sr⁻¹ µm⁻¹ = 1e6 µW / 1e4 cm² / 1e3 nm = 0.1 µW cm⁻² sr⁻¹ nm⁻¹.
_UNIT_SCALES = {
    "uwcm-2sr-1nm-1": 1.0,
    "uwattspersquarecentimeterpersteradianpernanometer": 1.0,
    "uw/cm2/sr/nm": 1.0,
    "uw/(cm2srnm)": 1.0,
    "mwcm-2sr-1um-1": 1.0,
    "mw/cm2/sr/um": 1.0,
    "wm-2sr-1um-1": 0.1,
    "w/m2/sr/um": 0.1,
    "w/(m2srum)": 0.1,
    "wm-2sr-1nm-1": 100.0,
    "w/m2/sr/nm": 100.0,
    "w/(m2srnm)": 100.0,
    "mwm-2sr-1nm-1": 0.1,
    "mw/m2/sr/nm": 0.1,
    "nwcm-2sr-1nm-1": 1e-3,
}


def _normalise_unit(units: str) -> str:
    text = units.strip().lower().replace("µ", "u").replace("μ", "u").replace("micro", "u")
    text = text.replace("^", "").replace("*", "").replace("·", "").replace(" ", "")
    text = text.replace("microns", "um").replace("micron", "um")
    return re.sub(r"[\[\]]", "", text)


def radiance_unit_scale(units: str) -> float:
    """Factor that converts radiance in ``units`` to µW cm⁻² sr⁻¹ nm⁻¹.

    Raises
    ------
    InvalidInputError
        The unit string is not one plumetrace knows.
    """
    key = _normalise_unit(units)
    if key in _UNIT_SCALES:
        return _UNIT_SCALES[key]
    raise InvalidInputError("radiance units", f"unknown unit {units!r}; expected e.g. {RADIANCE_UNITS!r}")


def make_scene(
    radiance: Any,
    wavelength_nm: Any,
    fwhm_nm: Any,
    *,
    sensor: str = "generic",
    lat: Any = None,
    lon: Any = None,
    solar_zenith_deg: float | Any | None = None,
    view_zenith_deg: float | Any | None = None,
    crs: str | None = None,
    transform: tuple[float, ...] | None = None,
    acquisition_time: str | None = None,
    source: str = "memory",
    extra_attrs: Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """Assemble and validate a Scene from arrays.

    Parameters
    ----------
    radiance : array (y, x, band)
        At-sensor radiance in µW cm⁻² sr⁻¹ nm⁻¹ (NumPy or dask; kept lazy).
    wavelength_nm, fwhm_nm : array (band,)
        Band centres and full widths at half maximum, nm.
    solar_zenith_deg, view_zenith_deg : float or array (y, x), optional
        Scalars become attributes, arrays become data variables.
    """
    wavelength_nm = np.asarray(wavelength_nm, dtype=np.float64)
    fwhm_nm = np.asarray(fwhm_nm, dtype=np.float64)
    data_vars: dict[str, Any] = {
        "radiance": (("y", "x", "band"), radiance, {"units": RADIANCE_UNITS, "long_name": "at-sensor radiance"})
    }
    coords: dict[str, Any] = {
        "wavelength": ("band", wavelength_nm, {"units": "nm"}),
        "fwhm": ("band", fwhm_nm, {"units": "nm"}),
    }
    if lat is not None:
        coords["lat"] = (("y", "x"), np.asarray(lat), {"units": "degrees_north"})
    if lon is not None:
        coords["lon"] = (("y", "x"), np.asarray(lon), {"units": "degrees_east"})
    attrs: dict[str, Any] = {"sensor": sensor, "source": source}
    for name, value in (("solar_zenith_deg", solar_zenith_deg), ("view_zenith_deg", view_zenith_deg)):
        if value is None:
            continue
        if np.ndim(value) == 0:
            attrs[name] = float(value)
        else:
            data_vars[name] = (("y", "x"), np.asarray(value, dtype=np.float32), {"units": "degree"})
    if crs is not None:
        attrs["crs"] = crs
    if transform is not None:
        attrs["transform"] = [float(v) for v in transform]
    if acquisition_time is not None:
        attrs["acquisition_time"] = acquisition_time
    if extra_attrs:
        attrs.update(extra_attrs)
    scene = xr.Dataset(data_vars, coords=coords, attrs=attrs)
    validate_scene(scene, source=source)  # before the coordinates: a bad CRS is named as the field it came from
    return with_map_coords(scene)


#: Name of the CF grid-mapping coordinate (rioxarray's default).
GRID_MAPPING = "spatial_ref"


def map_coords(crs: str, transform: Any, shape: tuple[int, int]) -> dict[str, xr.Variable]:
    """Coordinates that place a (y, x) grid on the map, in the CF conventions rioxarray reads and writes.

    Parameters
    ----------
    crs : str
        CRS of the grid (WKT, ``EPSG:<code>`` or anything pyproj accepts).
    transform : sequence of 6 floats
        Affine of the grid in rasterio order ``(a, b, c, d, e, f)``, CRS units (m or degrees) per pixel; ``(0, 0)``
        is the upper-left corner of the upper-left pixel.
    shape : (rows, cols)
        Size of the grid, pixels.

    Returns
    -------
    dict
        ``spatial_ref``: scalar grid mapping with the CF attributes of the CRS (``grid_mapping_name`` …),
        ``crs_wkt`` and ``spatial_ref`` (WKT) and ``GeoTransform`` (GDAL order ``c a b f d e``); for a north-up grid
        (``b = d = 0``) also ``x(x)`` and ``y(y)``, the pixel centres in CRS units. A rotated grid has no 1-D
        coordinates: rioxarray then takes the transform from ``GeoTransform``.
    """
    import warnings

    from pyproj import CRS  # local import: pyproj is slow to import

    parsed = CRS.from_user_input(crs)
    a, b, c, d, e, f = (float(v) for v in list(transform)[:6])
    wkt = parsed.to_wkt()
    attrs: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyproj warns about CRSs that CF cannot describe fully
        try:
            attrs.update(parsed.to_cf())
        except Exception:  # the WKT below is enough for GDAL and rioxarray
            pass
    attrs.pop("crs_wkt", None)
    attrs["crs_wkt"] = wkt
    attrs["spatial_ref"] = wkt
    attrs["GeoTransform"] = " ".join(repr(v) for v in (c, a, b, f, d, e))
    coords: dict[str, xr.Variable] = {GRID_MAPPING: xr.Variable((), np.int64(0), attrs)}
    if b == 0.0 and d == 0.0:
        rows, cols = int(shape[0]), int(shape[1])
        if parsed.is_geographic:
            x_attrs = {"standard_name": "longitude", "long_name": "longitude", "units": "degrees_east", "axis": "X"}
            y_attrs = {"standard_name": "latitude", "long_name": "latitude", "units": "degrees_north", "axis": "Y"}
        else:
            unit = parsed.axis_info[0].unit_name if parsed.axis_info else "metre"
            unit = {"metre": "m", "meter": "m"}.get(unit, unit)
            x_attrs = {"standard_name": "projection_x_coordinate", "long_name": "x coordinate of projection"}
            y_attrs = {"standard_name": "projection_y_coordinate", "long_name": "y coordinate of projection"}
            x_attrs.update(units=unit, axis="X")
            y_attrs.update(units=unit, axis="Y")
        coords["x"] = xr.Variable("x", c + a * (np.arange(cols, dtype=np.float64) + 0.5), x_attrs)
        coords["y"] = xr.Variable("y", f + e * (np.arange(rows, dtype=np.float64) + 0.5), y_attrs)
    return coords


def with_map_coords(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` with the :func:`map_coords` of its ``attrs["crs"]``/``attrs["transform"]`` (the raw grid) added.

    A Dataset without both attributes, or without ``y``/``x`` dimensions, is returned unchanged; the attributes
    stay. Every (y, x) data variable gets ``encoding["grid_mapping"] = "spatial_ref"`` (written as the CF
    ``grid_mapping`` attribute by ``to_netcdf``).
    """
    if not ds.attrs.get("crs") or "transform" not in ds.attrs or "y" not in ds.dims or "x" not in ds.dims:
        return ds
    ds = ds.assign_coords(map_coords(ds.attrs["crs"], ds.attrs["transform"], (ds.sizes["y"], ds.sizes["x"])))
    for variable in ds.data_vars.values():
        if variable.dims[:2] == ("y", "x"):
            variable.encoding["grid_mapping"] = GRID_MAPPING
    return ds


def validate_scene(scene: xr.Dataset, *, source: str | None = None) -> xr.Dataset:
    """Check a Dataset against the Scene contract; return it unchanged.

    The value checks (bands, geometry, time, georeferencing) are those of :mod:`plumetrace.scene_checks`, which the
    readers also run on their own fields, so every command refuses the same scenes.

    Raises :class:`InvalidFileError` naming ``source`` (or ``attrs["source"]``) and the field at fault.
    """
    where = source or scene.attrs.get("source", "scene")
    if "radiance" not in scene:
        raise InvalidFileError(where, "radiance", "missing")
    if scene["radiance"].dims != ("y", "x", "band"):
        raise InvalidFileError(where, "radiance", f"dims {scene['radiance'].dims}, expected ('y', 'x', 'band')")
    if min(scene["radiance"].shape) < 1:
        raise InvalidFileError(where, "radiance", f"empty: shape {tuple(scene['radiance'].shape)}")
    for name in ("wavelength", "fwhm"):
        if name not in scene.coords:
            raise InvalidFileError(where, name, "missing")
        values = np.asarray(scene[name].values, dtype=np.float64)
        if values.shape != (scene.sizes["band"],):
            raise InvalidFileError(where, name, f"{values.size} values for {scene.sizes['band']} bands")
    check_spectral(where, scene["wavelength"].values, scene["fwhm"].values)
    units = scene["radiance"].attrs.get("units")
    if units != RADIANCE_UNITS:
        raise InvalidFileError(where, "radiance units", f"{units!r}, expected {RADIANCE_UNITS!r}")
    sensor = scene.attrs.get("sensor")
    if sensor not in SENSORS:
        raise InvalidFileError(where, "sensor", f"{sensor!r}, expected one of {', '.join(SENSORS)}")
    for name, what in (("solar_zenith_deg", "sun"), ("view_zenith_deg", "view")):
        if name in scene.attrs:
            check_zenith(where, name, scene.attrs[name], what=what)
    if scene.attrs.get("acquisition_time"):
        check_acquisition_time(where, "acquisition_time", scene.attrs["acquisition_time"])
    for crs_key, transform_key in (("crs", "transform"), ("glt_crs", "glt_transform")):
        if transform_key in scene.attrs:
            check_transform(where, transform_key, scene.attrs[transform_key])
        if scene.attrs.get(crs_key):
            check_crs(where, crs_key, scene.attrs[crs_key])
    return scene


def _geometry(scene: xr.Dataset, name: str) -> Any:
    if name in scene.data_vars:
        return scene[name]
    if name in scene.attrs:
        return float(scene.attrs[name])
    return None


def airmass_factor(scene: xr.Dataset, *, default_solar_zenith_deg: float = 0.0) -> Any:
    """Two-way air-mass factor 1/cos(SZA) + 1/cos(VZA).

    Returns a float for scene-mean geometry or a DataArray (y, x) for per-pixel geometry. A missing view zenith is
    taken as nadir (0°); a missing solar zenith uses ``default_solar_zenith_deg``.
    """
    sza = _geometry(scene, "solar_zenith_deg")
    vza = _geometry(scene, "view_zenith_deg")
    sza = default_solar_zenith_deg if sza is None else sza
    vza = 0.0 if vza is None else vza
    for name, value in (("solar_zenith_deg", sza), ("view_zenith_deg", vza)):
        if np.nanmax(np.asarray(value)) >= 85:
            raise InvalidInputError(name, "must be below 85 degrees for a plane-parallel air-mass factor")
    if isinstance(sza, float) and isinstance(vza, float):
        return 1.0 / math.cos(math.radians(sza)) + 1.0 / math.cos(math.radians(vza))
    return 1.0 / np.cos(np.deg2rad(sza)) + 1.0 / np.cos(np.deg2rad(vza))


def pixel_size_m(scene: xr.Dataset) -> float:
    """Ground sampling distance in metres (mean of the two axes).

    Uses, in order: ``attrs["pixel_size_m"]``; a projected ``crs`` + ``transform``; a projected GLT grid;
    the spacing of ``lat``/``lon``. Raises :class:`InvalidInputError` when none is present.
    """
    if "pixel_size_m" in scene.attrs:
        return float(scene.attrs["pixel_size_m"])
    from pyproj import CRS  # local import: pyproj is slow to import and only needed here

    for crs_key, transform_key in (("crs", "transform"), ("glt_crs", "glt_transform")):
        if crs_key in scene.attrs and transform_key in scene.attrs:
            crs = CRS.from_user_input(scene.attrs[crs_key])
            a, b, _, d, e, _ = scene.attrs[transform_key][:6]
            size_x, size_y = math.hypot(a, d), math.hypot(b, e)
            if crs.is_projected:
                return 0.5 * (size_x + size_y)
            if "lat" not in scene.coords:
                east_m, north_m = metres_per_degree(scene.attrs[transform_key][5])  # at the first row
                return 0.5 * (size_x * east_m + size_y * north_m)
    if "lat" in scene.coords and "lon" in scene.coords:
        lat = np.asarray(scene["lat"].values, dtype=np.float64)
        lon = np.asarray(scene["lon"].values, dtype=np.float64)
        east_m, north_m = metres_per_degree(float(np.nanmean(lat)))
        step_x = np.hypot(np.diff(lat, axis=1) * north_m, np.diff(lon, axis=1) * east_m)
        step_y = np.hypot(np.diff(lat, axis=0) * north_m, np.diff(lon, axis=0) * east_m)
        return float(0.5 * (np.nanmedian(step_x) + np.nanmedian(step_y)))
    raise InvalidInputError("pixel size", "scene has no georeferencing: give its pixel size in metres (pixel_size_m)")
