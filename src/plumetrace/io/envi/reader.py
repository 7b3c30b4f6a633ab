"""ENVI radiance cubes (AVIRIS-NG, AVIRIS-3, generic) as lazy Scenes.

:func:`read_envi` returns a Scene whose ``radiance`` is a dask array chunked by rows with the bands whole; each
chunk is read from a memory map of :class:`~plumetrace.io.envi.cube.EnviCube` only when computed, so multi-GB files
open at once and stream with bounded memory. BIL, BIP and BSQ interleaves, either byte order, ENVI data types 1, 2,
3, 4, 5, 12 (and 13, 14, 15), ``header offset``, ``data ignore value`` (→ NaN), ``map info`` with ``rotation=``, and
the AVIRIS-NG companion files ``<stem>_glt``, ``<stem>_loc``, ``<stem>_igm``, ``<stem>_obs`` are understood.

:func:`scene_window_reader` hands the detectors the same raw cube for direct band-window reads.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from plumetrace.errors import InvalidFileError, InvalidInputError, PlumetraceWarning
from plumetrace.io.envi.cube import EnviCube, dask_array, open_envi_cube
from plumetrace.io.envi.header import (
    OBS_FIELDS,
    band_index,
    companion_path,
    envi_layout,
    find_envi_files,
    header_floats,
    header_integer,
    header_number,
    read_envi_header,
)
from plumetrace.scene import RADIANCE_UNITS

__all__ = [
    "check_envi_values",
    "envi_companions",
    "envi_metadata",
    "envi_radiance_scale",
    "lazy_variable",
    "read_envi",
    "scene_window_reader",
]

_WAVELENGTH_SCALE = {
    "nanometers": 1.0,
    "nanometer": 1.0,
    "nm": 1.0,
    "micrometers": 1000.0,
    "micrometer": 1000.0,
    "microns": 1000.0,
    "micron": 1000.0,
    "um": 1000.0,
    "µm": 1000.0,
}
_SENSOR_NAMES = {
    "aviris-ng": "aviris-ng",
    "avirisng": "aviris-ng",
    "aviris ng": "aviris-ng",
    "ang": "aviris-ng",
    "aviris-3": "aviris-3",
    "aviris3": "aviris-3",
    "av3": "aviris-3",
    "aviris": "aviris-classic",
    "aviris-classic": "aviris-classic",
    "aviris-c": "aviris-classic",
    "emit": "emit",
    "hytes": "hytes",
    "prisma": "prisma",
    "enmap": "enmap",
    "generic": "generic",
}
_FILENAME_PATTERNS = (
    (re.compile(r"^ang(\d{8})t(\d{6})", re.IGNORECASE), "aviris-ng"),
    (re.compile(r"^av3(\d{8})t(\d{6})", re.IGNORECASE), "aviris-3"),
    (re.compile(r"^emit(\d{8})t(\d{6})", re.IGNORECASE), "emit"),
    (re.compile(r"^f(\d{6})t\d{2}p\d{2}r\d{2}", re.IGNORECASE), "aviris-classic"),
)
_PROBE_ROWS = 9  # whole lines probed for fill, byte order and plausible values
_CUBE = "envi_cube"  # radiance encoding key: the raw cube the Scene was opened from


# --------------------------------------------------------------------------------------------------- lazy arrays


def lazy_variable(cube: EnviCube, dims: tuple[str, str, str], attrs: dict[str, Any] | None = None) -> xr.Variable:
    """An xarray Variable over the cube as a dask array chunked by rows (about
    :data:`~plumetrace.io.envi.cube.CHUNK_BYTES`) with the bands whole: nothing is read until computed."""
    return xr.Variable(dims, dask_array(cube), attrs)


def scene_window_reader(scene: xr.Dataset, band0: int, band1: int) -> EnviCube | None:
    """An open direct reader of bands ``band0:band1`` when the Scene's radiance is an ENVI cube as :func:`read_envi`
    opened it; None otherwise (then read the Scene's array).

    The reader returns the file's units (:meth:`EnviCube.read`); close it when done.
    """
    if "radiance" not in scene:
        return None
    radiance = scene["radiance"]
    cube = radiance.encoding.get(_CUBE)
    if not isinstance(cube, EnviCube) or tuple(radiance.shape) != cube.shape or radiance.dims != ("y", "x", "band"):
        return None
    return cube.window(band0, band1)


# --------------------------------------------------------------------------------------------------- metadata


def _wavelength_scale(header: dict[str, Any], wavelength: np.ndarray, source: Path) -> float:
    units = header.get("wavelength units")
    if units is None:
        return 1000.0 if np.nanmax(wavelength) < 30.0 else 1.0
    key = str(units).strip().lower()
    if key not in _WAVELENGTH_SCALE:
        raise InvalidFileError(source, "wavelength units", f"{units!r} is not nanometers or micrometers")
    return _WAVELENGTH_SCALE[key]


def _sensor_and_time(header: dict[str, Any], data_path: Path) -> tuple[str, str | None]:
    sensor = None
    for key in ("sensor type", "sensor"):
        if key in header:
            sensor = _SENSOR_NAMES.get(str(header[key]).strip().lower())
            if sensor:
                break
    acquisition_time = header.get("acquisition time")
    for pattern, name in _FILENAME_PATTERNS:
        match = pattern.match(data_path.name)
        if match:
            sensor = sensor or name
            if acquisition_time is None and len(match.groups()) == 2:
                d, t = match.group(1), match.group(2)
                acquisition_time = f"{d[:4]}-{d[4:6]}-{d[6:8]}T{t[:2]}:{t[2:4]}:{t[4:6]}Z"
            break
    return sensor or "generic", acquisition_time


def _radiance_scale(header: dict[str, Any], sensor: str, source: Path) -> float:
    units = header.get("data units") or header.get("radiance units")
    if isinstance(units, list):
        units = ",".join(units)
    if not units:
        if sensor not in ("aviris-ng", "aviris-3", "emit"):
            warnings.warn(f"{source}: data units: missing; assuming {RADIANCE_UNITS}", PlumetraceWarning, stacklevel=3)
        return 1.0
    if str(units).strip() == RADIANCE_UNITS:  # plumetrace's own unit: no conversion
        return 1.0
    from plumetrace.scene import radiance_unit_scale

    try:
        return radiance_unit_scale(str(units))
    except InvalidInputError as exc:  # name the file
        raise InvalidFileError(source, "data units", exc.problem) from None


def envi_radiance_scale(header: dict[str, Any], header_path: str | Path) -> float:
    """Factor from the cube's ``data units`` to µW cm⁻² sr⁻¹ nm⁻¹ (1 when they are missing; no warning)."""
    header_path = Path(header_path)
    sensor, _ = _sensor_and_time(header, header_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PlumetraceWarning)
        return _radiance_scale(header, sensor, header_path)


def _georef(header: dict[str, Any], source: Path) -> tuple[str | None, tuple[float, ...] | None]:
    if "map info" not in header:
        return None, None
    from plumetrace.georef import (
        affine_from_map_info,
        crs_from_map_info,
        parse_map_info,
    )
    from plumetrace.scene_checks import check_crs, check_transform

    info = parse_map_info(header["map info"], source=str(source))
    transform = affine_from_map_info(info)
    check_transform(source, "map info", transform)
    crs = header.get("coordinate system string")
    if crs:
        check_crs(source, "coordinate system string", crs)
    else:
        crs = crs_from_map_info(info, source=str(source))
        if crs:
            check_crs(source, "map info", crs)
    return crs, transform


def check_envi_values(data_path: str | Path, header: dict[str, Any], header_path: str | Path, *, scale: float) -> None:
    """Check a sparse probe of an ENVI cube's values (up to 9 whole lines, every band) before any retrieval.

    Raises
    ------
    InvalidFileError
        Every probed pixel is fill; the values look byte-swapped (``byte order`` of the header); or they are not
        at-sensor radiance in any unit (:func:`plumetrace.scene_checks.check_radiance_sample`).
    """
    from plumetrace.scene_checks import check_radiance_sample

    data_path, header_path = Path(data_path), Path(header_path)
    layout = envi_layout(header, header_path, data_path)
    raw_cube = EnviCube(data_path, layout, apply_ignore=False, out_dtype=layout.dtype)
    rows = np.unique(np.linspace(0, layout.lines - 1, min(_PROBE_ROWS, layout.lines)).astype(int))
    sample = np.stack([raw_cube[int(row)] for row in rows])
    check_radiance_sample(data_path, sample, scale=scale, fill_value=layout.ignore_value, byte_order_where=header_path)


def envi_metadata(
    path: str | Path, *, header: dict[str, Any] | None = None, header_path: Path | None = None, check_units: bool = True
) -> tuple[Path, Path, dict[str, Any], np.ndarray, np.ndarray, dict[str, Any]]:
    """Header-only metadata of an ENVI radiance cube (no data read).

    Parameters
    ----------
    path : path
        The data file or its header.
    header, header_path : optional, keyword-only
        An already parsed header and its path (skips parsing again).
    check_units : bool, keyword-only
        Check the radiance units (False when the caller already has).

    Returns
    -------
    (data_path, header_path, header, wavelength_nm, fwhm_nm, attrs)
        ``wavelength_nm``/``fwhm_nm`` (bands,) float64 in nm; ``attrs``: the Scene attributes :func:`read_envi` sets
        from the header (sensor, source, acquisition_time, crs/transform, solar/view zenith, ``plumetrace …`` keys).

    Raises
    ------
    MissingFileError, InvalidFileError
        Missing header/data, missing or inconsistent wavelength or fwhm, non-monotonic wavelengths, unknown units.
    """
    from plumetrace.scene_checks import (
        check_acquisition_time,
        check_spectral,
        check_sun_elevation,
        check_zenith,
    )

    if header is None or header_path is None:
        data_path, header_path = find_envi_files(path)
        header = read_envi_header(header_path)
    else:
        data_path = Path(path)
    sensor, acquisition_time = _sensor_and_time(header, data_path)
    if check_units:
        _radiance_scale(header, sensor, header_path)  # unknown units are an error here too
    nbands = header_integer(header, "bands", header_path)
    wavelength = header_floats(header, "wavelength", header_path, nbands)
    if wavelength is None:
        raise InvalidFileError(header_path, "wavelength", "missing")
    fwhm = header_floats(header, "fwhm", header_path, nbands)
    if fwhm is None:
        raise InvalidFileError(header_path, "fwhm", "missing")
    if not (np.all(np.isfinite(wavelength)) and np.all(np.isfinite(fwhm))):  # before the units guess uses them
        check_spectral(header_path, wavelength, fwhm)
    wavelength_scale = _wavelength_scale(header, wavelength, header_path)
    wavelength, fwhm = wavelength * wavelength_scale, fwhm * wavelength_scale
    units = header.get("wavelength units")
    check_spectral(
        header_path,
        wavelength,
        fwhm,
        hint=f" (check `wavelength units`, {units!r})" if units else " (`wavelength units` missing)",
    )

    attrs: dict[str, Any] = {"sensor": sensor, "source": str(data_path)}
    if acquisition_time:
        field = "acquisition time" if "acquisition time" in header else "file name (acquisition time)"
        attrs["acquisition_time"] = check_acquisition_time(header_path, field, acquisition_time)
    crs, transform = _georef(header, header_path)
    if transform is not None:
        attrs["transform"] = list(transform)
        if crs:
            attrs["crs"] = crs
    for key, attr, what in (("solar zenith", "solar_zenith_deg", "sun"), ("view zenith", "view_zenith_deg", "view")):
        if key in header:
            attrs[attr] = check_zenith(header_path, key, header_number(header, key, header_path), what=what)
    if "solar_zenith_deg" not in attrs and "sun elevation" in header:
        attrs["solar_zenith_deg"] = 90.0 - check_sun_elevation(
            header_path, "sun elevation", header_number(header, "sun elevation", header_path)
        )
    for key, value in header.items():
        if key.startswith("plumetrace "):
            try:
                attrs[key[len("plumetrace ") :].replace(" ", "_")] = json.loads(
                    value if isinstance(value, str) else ",".join(value)
                )
            except json.JSONDecodeError:
                pass
    return data_path, header_path, header, wavelength, fwhm, attrs


def envi_companions(data_path: str | Path) -> list[str]:
    """Kinds of companion files (``loc``, ``igm``, ``obs``, ``glt``) found beside an ENVI data file."""
    return [kind for kind in ("loc", "igm", "obs", "glt") if companion_path(Path(data_path), kind) is not None]


# --------------------------------------------------------------------------------------------------- Scene


def read_envi(path: str | Path) -> xr.Dataset:
    """Open an ENVI radiance cube as a lazy Scene.

    Parameters
    ----------
    path : path
        The data file (``ang…_rdn_v2p9_img``, ``scene.img``) or its header.

    Returns
    -------
    xarray.Dataset
        Scene (see :mod:`plumetrace.scene`): ``radiance(y, x, band)`` float32 dask array in µW cm⁻² sr⁻¹ nm⁻¹,
        chunked by rows with bands whole; ``wavelength``/``fwhm`` in nm; ``crs``/``transform`` from ``map info``
        with the ``spatial_ref`` (and, north-up, ``x``/``y``) coordinates of :func:`plumetrace.scene.map_coords`;
        ``lat``/``lon``/``elevation_m`` from ``_loc``; per-pixel ``solar_zenith_deg``, ``view_zenith_deg`` (and
        azimuths) from ``_obs``; ``glt_row``/``glt_col`` (0-based, -1 = none) with ``glt_crs``/``glt_transform``
        from ``_glt``; ``map_x``/``map_y`` from ``_igm``. ``radiance.encoding["envi_cube"]`` is the raw cube
        (:func:`scene_window_reader`).

    Raises
    ------
    MissingFileError, InvalidFileError
        Missing header/data, truncated data, header/data size mismatch, missing or inconsistent wavelength or
        fwhm, non-monotonic wavelengths, unknown units, unsupported interleave or data type, all-fill data.
    """
    from plumetrace.scene import validate_scene, with_map_coords

    data_path, header_path = find_envi_files(path)
    header = read_envi_header(header_path)
    sensor, _ = _sensor_and_time(header, data_path)
    cube, header, data_path, header_path = open_envi_cube(data_path, scale=_radiance_scale(header, sensor, header_path))
    _, _, _, wavelength, fwhm, attrs = envi_metadata(
        data_path, header=header, header_path=header_path, check_units=False
    )
    radiance = lazy_variable(cube, ("y", "x", "band"), {"units": RADIANCE_UNITS, "long_name": "at-sensor radiance"})
    radiance.encoding[_CUBE] = cube
    data_vars: dict[str, Any] = {"radiance": radiance}
    coords: dict[str, Any] = {
        "wavelength": ("band", wavelength, {"units": "nm"}),
        "fwhm": ("band", fwhm, {"units": "nm"}),
    }
    _add_companions(data_path, cube.shape[:2], data_vars, coords, attrs)
    scene = with_map_coords(xr.Dataset(data_vars, coords=coords, attrs=attrs))
    validate_scene(scene, source=str(header_path))
    check_envi_values(data_path, header, header_path, scale=envi_radiance_scale(header, header_path))
    return scene


def _companion(
    path: Path, shape: tuple[int, int], kind: str, *, out_dtype: Any = np.float32
) -> tuple[xr.Variable, dict[str, Any]]:
    cube, header, _, _ = open_envi_cube(path, out_dtype=out_dtype)
    if cube.shape[:2] != shape:
        raise InvalidFileError(path, "samples/lines", f"{kind} grid {cube.shape[:2]} differs from radiance {shape}")
    return lazy_variable(cube, ("y", "x", "layer")), header


def _add_companions(
    data_path: Path, shape: tuple[int, int], data_vars: dict[str, Any], coords: dict[str, Any], attrs: dict[str, Any]
) -> None:
    loc_path = companion_path(data_path, "loc")
    if loc_path is not None:
        loc, _ = _companion(loc_path, shape, "loc", out_dtype=np.float64)
        coords["lon"] = _layer(loc, 0, {"units": "degrees_east"})
        coords["lat"] = _layer(loc, 1, {"units": "degrees_north"})
        if loc.shape[2] > 2:
            loc32, _ = _companion(loc_path, shape, "loc")  # float32 values of the float64 file
            data_vars["elevation_m"] = _layer(loc32, 2, {"units": "m"})
    igm_path = companion_path(data_path, "igm")
    if igm_path is not None:
        igm, _ = _companion(igm_path, shape, "igm", out_dtype=np.float64)
        coords["map_x"] = _layer(igm, 0, {"units": "m", "long_name": "map easting (igm)"})
        coords["map_y"] = _layer(igm, 1, {"units": "m", "long_name": "map northing (igm)"})
        if igm.shape[2] > 2 and "elevation_m" not in data_vars:
            igm32, _ = _companion(igm_path, shape, "igm")
            data_vars["elevation_m"] = _layer(igm32, 2, {"units": "m"})
    obs_path = companion_path(data_path, "obs")
    if obs_path is not None:
        obs, obs_header = _companion(obs_path, shape, "obs")
        for name, (fragment, default) in OBS_FIELDS.items():
            index = band_index(obs_header, fragment, default, obs.shape[2])
            if index is not None:
                data_vars[name] = _layer(obs, index, {"units": "degree"})
                attrs.pop(name, None)
    glt_path = companion_path(data_path, "glt")
    if glt_path is not None:
        _add_glt(glt_path, data_vars, attrs)


def _layer(variable: xr.Variable, index: int, attrs: dict[str, Any]) -> xr.Variable:
    layer = variable[:, :, index]
    layer.attrs = dict(attrs)
    return layer


def _add_glt(glt_path: Path, data_vars: dict[str, Any], attrs: dict[str, Any]) -> None:
    from plumetrace.georef import glt_from_envi

    cube, glt_header, _, _ = open_envi_cube(glt_path, out_dtype=np.int32, apply_ignore=False)
    if cube.shape[2] < 2:
        raise InvalidFileError(glt_path, "bands", "a GLT needs 2 bands (sample, line)")
    glt = dask_array(cube)
    sample_band = band_index(glt_header, "sample", 0, 2)
    line_band = band_index(glt_header, "line", 1, 2)
    glt_row, glt_col = glt_from_envi(glt[:, :, sample_band], glt[:, :, line_band])
    data_vars["glt_row"] = (("gy", "gx"), glt_row, {"long_name": "raw-grid row of each map cell (-1 = none)"})
    data_vars["glt_col"] = (("gy", "gx"), glt_col, {"long_name": "raw-grid column of each map cell (-1 = none)"})
    glt_crs, glt_transform = _georef(glt_header, glt_path)
    if glt_transform is not None:
        attrs["glt_transform"] = list(glt_transform)
        if glt_crs:
            attrs["glt_crs"] = glt_crs
