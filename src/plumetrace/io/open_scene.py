"""Open any supported scene file by sniffing its format, and summarise a Scene for ``plumetrace info``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from plumetrace.errors import InvalidFileError, InvalidInputError, MissingFileError

__all__ = ["FORMATS", "describe_scene", "detect_format", "open_scene"]

FORMATS = ("envi", "emit", "prisma", "enmap")
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _is_hdf5(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            for offset in (0, 512, 1024, 2048):  # HDF5 allows a user block before the superblock
                handle.seek(offset)
                if handle.read(8) == _HDF5_SIGNATURE:
                    return True
    except OSError:
        return False
    return False


def _check_readable_hdf5(path: Path) -> None:
    """An HDF5 signature is not enough: a truncated or damaged file must be named as such, not as another format."""
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            list(handle.keys())
    except (OSError, RuntimeError, KeyError, ValueError) as exc:
        reason = " ".join(str(exc).split())
        reason = reason if len(reason) <= 100 else reason[:97] + "..."
        raise InvalidFileError(
            path, "format", f"HDF5/NetCDF file cannot be read (truncated or damaged? {reason})"
        ) from None


def detect_format(path: str | Path) -> str:
    """Name the format of ``path``: ``"envi"``, ``"emit"``, ``"prisma"`` or ``"enmap"``.

    Raises
    ------
    MissingFileError
        Nothing at ``path``.
    InvalidFileError
        The file is none of the supported formats.
    """
    path = Path(path)
    if not path.exists():
        raise MissingFileError(path)
    if path.is_dir() or path.name.upper().endswith("METADATA.XML"):
        from plumetrace.io.enmap import find_enmap_metadata

        if find_enmap_metadata(path) is not None:
            return "enmap"
        raise InvalidFileError(path, "format", "a folder is read only as an EnMAP product (no *METADATA.XML)")
    if _is_hdf5(path):
        from plumetrace.io.emit import is_emit_netcdf
        from plumetrace.io.prisma import is_prisma_he5

        _check_readable_hdf5(path)
        if is_prisma_he5(path):
            return "prisma"
        if is_emit_netcdf(path):
            return "emit"
        raise InvalidFileError(path, "format", "HDF5/NetCDF file is neither EMIT L1B RAD nor PRISMA L1")
    if path.suffix.lower() == ".hdr" or any(
        candidate.is_file() for candidate in (path.with_name(path.name + ".hdr"), path.with_suffix(".hdr"))
    ):
        return "envi"
    if path.suffix.lower() in (".nc", ".nc4", ".h5", ".he5"):
        raise InvalidFileError(path, "format", "not a readable NetCDF-4/HDF5 file (truncated?)")
    raise InvalidFileError(
        path, "format", "not a recognised scene (ENVI with .hdr, EMIT L1B NetCDF, PRISMA L1 HE5, EnMAP L1B folder)"
    )


def open_scene(path: str | Path) -> xr.Dataset:
    """Open a scene of any supported format as a lazy Scene (see :mod:`plumetrace.scene`).

    Parameters
    ----------
    path : path
        ENVI data file or header, EMIT L1B RAD ``.nc``, PRISMA L1 ``.he5``, or EnMAP L1B folder / METADATA.XML.

    Raises
    ------
    MissingFileError, InvalidFileError
    """
    kind = detect_format(path)
    if kind == "envi":
        from plumetrace.io.envi import read_envi

        return read_envi(path)
    if kind == "emit":
        from plumetrace.io.emit import read_emit_l1b

        return read_emit_l1b(path)
    if kind == "prisma":
        from plumetrace.io.prisma import read_prisma_l1

        return read_prisma_l1(path)
    from plumetrace.io.enmap import read_enmap_l1b

    return read_enmap_l1b(path)


def _crs_summary(wkt: str) -> dict[str, Any]:
    from pyproj import CRS

    crs = CRS.from_user_input(wkt)
    return {"name": crs.name, "epsg": crs.to_epsg(), "projected": bool(crs.is_projected)}


def _grid_summary(wkt: str, transform: Any, shape: tuple[int, int]) -> dict[str, Any]:
    from plumetrace.georef import rotation_deg

    a, b, c, d, e, f = (float(v) for v in list(transform)[:6])
    return {
        "crs": _crs_summary(wkt),
        "transform": [a, b, c, d, e, f],
        "pixel_size": [math.hypot(a, d), math.hypot(b, e)],
        "rotation_deg": rotation_deg((a, b, c, d, e, f)),
        "shape": list(shape),
    }


def _geometry(scene: xr.Dataset, name: str) -> float | str | None:
    if name in scene.attrs:
        return float(scene.attrs[name])
    if name in scene.data_vars:
        return "per-pixel"
    return None


def describe_scene(scene: xr.Dataset) -> dict[str, Any]:
    """A JSON-ready summary of a Scene: sensor, shape, spectral range, georeferencing, time, units.

    Reads only metadata (and the small GLT / lat-lon arrays when present), never the radiance cube.

    Returns
    -------
    dict
        ``source``, ``sensor``, ``lines``, ``samples``, ``bands``, ``wavelength_min_nm``, ``wavelength_max_nm``,
        ``fwhm_mean_nm``, ``radiance_units``, ``acquisition_time``, ``solar_zenith_deg``, ``view_zenith_deg``,
        ``georeferencing`` (``raw_grid``: CRS, transform, pixel size, rotation; ``glt``: map grid of the GLT;
        ``lat_lon``: bounds), ``pixel_size_m``.
    """
    from plumetrace.scene import pixel_size_m

    wavelength = np.asarray(scene["wavelength"].values, dtype=np.float64)
    fwhm = np.asarray(scene["fwhm"].values, dtype=np.float64)
    georef: dict[str, Any] = {}
    if "crs" in scene.attrs and "transform" in scene.attrs:
        georef["raw_grid"] = _grid_summary(
            scene.attrs["crs"], scene.attrs["transform"], (int(scene.sizes["y"]), int(scene.sizes["x"]))
        )
    if "glt_row" in scene:
        glt: dict[str, Any] = {"shape": [int(n) for n in scene["glt_row"].shape]}
        if "glt_crs" in scene.attrs and "glt_transform" in scene.attrs:
            glt = _grid_summary(scene.attrs["glt_crs"], scene.attrs["glt_transform"], tuple(glt["shape"]))
        valid = np.asarray(scene["glt_row"].values) >= 0
        glt["valid_fraction"] = float(valid.mean()) if valid.size else 0.0
        georef["glt"] = glt
    if "lat" in scene.coords and "lon" in scene.coords:
        lat = np.asarray(scene["lat"].values, dtype=np.float64)
        lon = np.asarray(scene["lon"].values, dtype=np.float64)
        if np.any(np.isfinite(lat)):
            georef["lat_lon"] = {
                "lat_min": float(np.nanmin(lat)),
                "lat_max": float(np.nanmax(lat)),
                "lon_min": float(np.nanmin(lon)),
                "lon_max": float(np.nanmax(lon)),
            }
    try:
        size_m: float | None = float(pixel_size_m(scene))
    except (InvalidInputError, ValueError):
        size_m = None
    return {
        "source": str(scene.attrs.get("source", "")),
        "sensor": str(scene.attrs.get("sensor", "generic")),
        "lines": int(scene.sizes["y"]),
        "samples": int(scene.sizes["x"]),
        "bands": int(scene.sizes["band"]),
        "wavelength_min_nm": float(wavelength.min()),
        "wavelength_max_nm": float(wavelength.max()),
        "fwhm_mean_nm": float(fwhm.mean()),
        "radiance_units": str(scene["radiance"].attrs.get("units", "")),
        "acquisition_time": scene.attrs.get("acquisition_time"),
        "solar_zenith_deg": _geometry(scene, "solar_zenith_deg"),
        "view_zenith_deg": _geometry(scene, "view_zenith_deg"),
        "pixel_size_m": size_m,
        "georeferencing": georef,
    }
