"""Write a Scene as an ENVI float32 radiance cube with its header and AVIRIS-NG-style companions.

:func:`write_envi` writes ``<path>`` and ``<path>.hdr`` row chunk by row chunk (a lazy Scene is computed one chunk at
a time), then the ``_glt``, ``_loc`` and ``_obs`` companions when the Scene carries them;
:func:`write_envi_header` writes one header.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from plumetrace.errors import InvalidInputError
from plumetrace.io.envi.cube import rows_per_chunk
from plumetrace.io.envi.header import FILL_VALUE, OBS_BANDS, OBS_FIELDS, data_stem

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["write_envi", "write_envi_header"]


def _brace(values: Sequence[float] | np.ndarray, fmt: str = "{:.6f}") -> str:
    return "{" + ", ".join(fmt.format(float(v)) for v in values) + "}"


def write_envi_header(
    hdr_path: str | Path,
    *,
    lines: int,
    samples: int,
    bands: int,
    data_type: int = 4,
    interleave: str = "bil",
    fields: dict[str, str] | None = None,
) -> Path:
    """Write an ENVI header; ``fields`` are extra ``key = value`` lines written verbatim after the layout."""
    hdr_path = Path(hdr_path)
    text = [
        "ENVI",
        "description = {plumetrace}",
        f"samples = {samples}",
        f"lines = {lines}",
        f"bands = {bands}",
        "header offset = 0",
        "file type = ENVI Standard",
        f"data type = {data_type}",
        f"interleave = {interleave}",
        "byte order = 0",
    ]
    for key, value in (fields or {}).items():
        text.append(f"{key} = {value}")
    hdr_path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return hdr_path


def _write_cube(
    array: Any, path: Path, *, interleave: str, dtype: Any, description: str, fill: float | None = None
) -> None:
    """Stream ``array (lines, samples, bands)`` to ``path`` one row chunk at a time (memory bounded by a chunk)."""
    from plumetrace.progress import track

    lines, samples, bands = (int(n) for n in array.shape)
    dtype = np.dtype(dtype).newbyteorder("<")
    rows = rows_per_chunk(samples, bands, dtype.itemsize)
    starts = range(0, lines, rows)
    with path.open("wb") as handle:
        handle.truncate(lines * samples * bands * dtype.itemsize)
        for start in track(starts, description, disable=None if lines * samples * bands > 2**26 else True):
            stop = min(lines, start + rows)
            block = array[start:stop]
            block = np.asarray(block.compute() if hasattr(block, "compute") else block)
            if block.ndim == 2:
                block = block[:, :, None]
            block = block.astype(dtype, copy=False)
            if fill is not None and np.issubdtype(dtype, np.floating):
                block = np.where(np.isfinite(block), block, dtype.type(fill))
            if interleave == "bsq":  # one contiguous run of rows per band
                for band in range(bands):
                    handle.seek((band * lines + start) * samples * dtype.itemsize)
                    handle.write(np.ascontiguousarray(block[:, :, band]).tobytes())
            else:  # rows are contiguous in the file
                ordered = block.transpose(0, 2, 1) if interleave == "bil" else block
                handle.seek(start * samples * bands * dtype.itemsize)
                handle.write(np.ascontiguousarray(ordered).tobytes())


def _header_value(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return json.dumps(float(value) if isinstance(value, (float, np.floating)) else int(value))
    if isinstance(value, str) and not any(ch in value for ch in "{}\n\r="):
        return json.dumps(value)
    return None


def write_envi(scene: xr.Dataset, path: str | Path, *, interleave: str = "bil") -> Path:
    """Write a Scene as an ENVI float32 radiance cube with its header ``<path>.hdr`` and companions.

    Parameters
    ----------
    scene : xarray.Dataset
        A valid Scene (radiance in µW cm⁻² sr⁻¹ nm⁻¹); may be lazy: it is computed one row chunk at a time.
    path : path
        The data file to write (e.g. ``out/scene_rdn_img`` or ``out/scene.img``); the header goes to
        ``<path>.hdr``. Companions ``<stem>_glt`` (if the Scene has ``glt_row``/``glt_col``), ``<stem>_loc`` (if
        ``lat``/``lon``) and ``<stem>_obs`` (if per-pixel ``solar_zenith_deg`` or ``view_zenith_deg``) are
        written beside it, each with its own header.
    interleave : {"bil", "bip", "bsq"}, keyword-only

    Returns
    -------
    Path
        The data file written.

    Raises
    ------
    InvalidInputError
        Unknown interleave, or a transform that cannot be written as ENVI ``map info``.
    InvalidFileError
        The Scene does not satisfy the Scene contract.
    """
    interleave = str(interleave).lower()
    from plumetrace.georef import map_info_from_affine
    from plumetrace.scene import RADIANCE_UNITS, validate_scene

    if interleave not in ("bil", "bip", "bsq"):
        raise InvalidInputError("interleave", f"{interleave!r}, expected bil, bip or bsq")
    validate_scene(scene)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines, samples, bands = (int(scene.sizes[d]) for d in ("y", "x", "band"))
    fields: dict[str, str] = {
        "wavelength units": "Nanometers",
        "wavelength": _brace(scene["wavelength"].values),
        "fwhm": _brace(scene["fwhm"].values),
        "data units": "{" + RADIANCE_UNITS + "}",
        "data ignore value": f"{FILL_VALUE:g}",
        "sensor type": str(scene.attrs.get("sensor", "generic")),
    }
    crs, transform = scene.attrs.get("crs"), scene.attrs.get("transform")
    if crs and transform is not None:
        fields["map info"] = map_info_from_affine(transform, crs)
        fields["coordinate system string"] = "{" + _one_line_wkt(crs) + "}"
    if scene.attrs.get("acquisition_time"):
        fields["acquisition time"] = str(scene.attrs["acquisition_time"])
    for attr, key in (("solar_zenith_deg", "solar zenith"), ("view_zenith_deg", "view zenith")):
        if attr in scene.attrs:
            fields[key] = repr(float(scene.attrs[attr]))
    if "solar_zenith_deg" in scene.attrs:
        fields["sun elevation"] = repr(90.0 - float(scene.attrs["solar_zenith_deg"]))
    skip = {
        "sensor",
        "source",
        "crs",
        "transform",
        "acquisition_time",
        "solar_zenith_deg",
        "view_zenith_deg",
        "glt_crs",
        "glt_transform",
    }
    for key, value in scene.attrs.items():
        text = _header_value(value)
        if key not in skip and text is not None and re.fullmatch(r"[A-Za-z0-9_]+", key):
            fields[f"plumetrace {key}"] = text
    write_envi_header(
        path.with_name(path.name + ".hdr"),
        lines=lines,
        samples=samples,
        bands=bands,
        interleave=interleave,
        fields=fields,
    )
    _write_cube(
        scene["radiance"].data,
        path,
        interleave=interleave,
        dtype=np.float32,
        description="writing ENVI",
        fill=FILL_VALUE,
    )
    _write_companions(scene, path)
    return path


def _one_line_wkt(crs: str) -> str:
    from pyproj import CRS

    return CRS.from_user_input(crs).to_wkt(version="WKT1_GDAL")


def _write_companions(scene: xr.Dataset, path: Path) -> None:
    import dask.array as da

    from plumetrace.georef import glt_to_envi, map_info_from_affine

    stem = data_stem(path)
    lines, samples = int(scene.sizes["y"]), int(scene.sizes["x"])
    if "lat" in scene.coords and "lon" in scene.coords:
        elevation = scene["elevation_m"].data if "elevation_m" in scene else da.zeros((lines, samples))
        loc = da.stack([da.asarray(scene["lon"].data), da.asarray(scene["lat"].data), da.asarray(elevation)], axis=2)
        loc_path = stem.with_name(stem.name + "_loc")
        write_envi_header(
            loc_path.with_name(loc_path.name + ".hdr"),
            lines=lines,
            samples=samples,
            bands=3,
            data_type=5,
            fields={
                "band names": "{Longitude (WGS-84), Latitude (WGS-84), Elevation (m)}",
                "data ignore value": f"{FILL_VALUE:g}",
            },
        )
        _write_cube(loc, loc_path, interleave="bil", dtype=np.float64, description="writing loc", fill=FILL_VALUE)
    per_pixel = [name for name in OBS_FIELDS if name in scene.data_vars]
    if per_pixel:
        layers = [da.full((lines, samples), np.nan, dtype=np.float32) for _ in OBS_BANDS]
        for name in per_pixel:
            layers[OBS_FIELDS[name][1]] = da.asarray(scene[name].data).astype(np.float32)
        obs = da.stack(layers, axis=2)
        obs_path = stem.with_name(stem.name + "_obs")
        names = ", ".join(n.capitalize() if not n.startswith("to-") else "To-" + n[3:] for n in OBS_BANDS)
        write_envi_header(
            obs_path.with_name(obs_path.name + ".hdr"),
            lines=lines,
            samples=samples,
            bands=len(OBS_BANDS),
            fields={"band names": "{" + names + "}", "data ignore value": f"{FILL_VALUE:g}"},
        )
        _write_cube(obs, obs_path, interleave="bil", dtype=np.float32, description="writing obs", fill=FILL_VALUE)
    if "glt_row" in scene and "glt_col" in scene:
        sample, line = glt_to_envi(scene["glt_row"].values, scene["glt_col"].values)
        glt = np.stack([sample, line], axis=2)
        glt_path = stem.with_name(stem.name + "_glt")
        fields = {"band names": "{GLT Sample Lookup, GLT Line Lookup}"}
        if "glt_crs" in scene.attrs and "glt_transform" in scene.attrs:
            fields["map info"] = map_info_from_affine(scene.attrs["glt_transform"], scene.attrs["glt_crs"])
            fields["coordinate system string"] = "{" + _one_line_wkt(scene.attrs["glt_crs"]) + "}"
        write_envi_header(
            glt_path.with_name(glt_path.name + ".hdr"),
            lines=glt.shape[0],
            samples=glt.shape[1],
            bands=2,
            data_type=3,
            fields=fields,
        )
        _write_cube(glt, glt_path, interleave="bil", dtype=np.int32, description="writing glt")
