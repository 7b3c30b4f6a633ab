"""Cloud-Optimized GeoTIFF of the detection products, its reader, and the PNG quicklook.

Layout of ``enhancement.tif`` (float32, nodata NaN, ZSTD level 1, 256-pixel tiles, internal overviews when larger
than 2048 pixels):

====  =====================  ======================================================
band  description            meaning
====  =====================  ======================================================
1     ``enhancement_ppm_m``  gas column enhancement, ppm·m
2     ``uncertainty_ppm_m``  noise-propagated 1σ, ppm·m
3     ``albedo``             albedo factor xᵀμ/μᵀμ (unitless)
4     ``sensitivity``        SNR of a 1000 ppm·m enhancement (unitless)
====  =====================  ======================================================

Each band carries its description, its GDAL unit type (``ppm m`` for bands 1-2, ``1`` for bands 3-4; also a
``units`` band tag) and nodata NaN; the values are stored unscaled (scale 1, offset 0). Dataset tags: ``units=ppm m``, ``gas``, ``method``, ``stats``, ``sensor``, ``acquisition_time`` and the rest of the
detection attributes. Products are orthorectified onto the map grid when the Scene has a GLT
(:func:`plumetrace.georef.orthorectify`), written on the raw grid with its (possibly rotated) affine when it has map
info, and on the bare raw grid without a CRS otherwise.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from plumetrace.errors import InvalidFileError, check_input_file
from plumetrace.georef import metres_per_degree

if TYPE_CHECKING:  # writing takes any result with ``result[name].values``, ``name in result`` and ``.attrs``
    import xarray as xr

__all__ = [
    "BANDS",
    "BAND_UNITS",
    "OPTIONAL_BANDS",
    "product_grid",
    "read_enhancement",
    "write_enhancement",
    "write_quicklook",
]

#: (data variable, band description) in band order.
BANDS = (
    ("enhancement", "enhancement_ppm_m"),
    ("uncertainty", "uncertainty_ppm_m"),
    ("albedo", "albedo"),
    ("sensitivity", "sensitivity"),
)
#: Bands written only when the result holds them: ``gas_probability``, the posterior probability that the map's gas
#: is present at the pixel (thermal-infrared identification; NaN outside identified plumes).
OPTIONAL_BANDS = (("gas_probability", "gas_probability"),)
#: GDAL unit type (and ``units`` band tag) of each band: ppm·m, or ``1`` for the unitless ratios.
BAND_UNITS = {"enhancement": "ppm m", "uncertainty": "ppm m", "albedo": "1", "sensitivity": "1", "gas_probability": "1"}
_QUICKLOOK_MAX_PIXELS = 800
_OVERVIEW_MIN_PIXELS = 2048
_TAG_KEYS = (
    "gas",
    "method",
    "stats",
    "sensor",
    "acquisition_time",
    "target_source",
    "airmass_factor",
    "window_nm",
    "columns_per_group",
    "iterations",
    "shrinkage",
    "albedo_correct",
    "source",
)


def _bands(result: xr.Dataset) -> tuple[tuple[str, str], ...]:
    return BANDS + tuple(band for band in OPTIONAL_BANDS if band[0] in result)


def product_grid(result: xr.Dataset) -> tuple[dict[str, np.ndarray], str | None, tuple[float, ...] | None, bool]:
    """The product arrays on the output grid.

    Returns
    -------
    (arrays, crs_wkt, transform, orthorectified)
        ``arrays`` maps each variable of :data:`BANDS` (and of :data:`OPTIONAL_BANDS` the result holds) to a
        float32 (rows, cols) array.
    """
    arrays = {name: np.asarray(result[name].values, dtype=np.float32) for name, _ in _bands(result)}
    attrs = result.attrs
    if "glt_row" in result and "glt_col" in result and "glt_transform" in attrs:
        from plumetrace.georef import orthorectify

        glt_row, glt_col = np.asarray(result["glt_row"].values), np.asarray(result["glt_col"].values)
        arrays = {name: orthorectify(values, glt_row, glt_col).astype(np.float32) for name, values in arrays.items()}
        return arrays, attrs.get("glt_crs"), tuple(float(v) for v in attrs["glt_transform"][:6]), True
    if "transform" in attrs:
        return arrays, attrs.get("crs"), tuple(float(v) for v in attrs["transform"][:6]), False
    return arrays, None, None, False


def write_enhancement(result: xr.Dataset, path: str | Path) -> dict[str, Any]:
    """Write the detection products as a 4-band Cloud-Optimized GeoTIFF.

    Parameters
    ----------
    result : xarray.Dataset
        Output of :func:`plumetrace.detect.engine.detect_scene`.
    path : path
        Destination ``.tif``.

    Returns
    -------
    dict
        ``crs`` (WKT or None), ``transform`` (six floats or None), ``shape`` (rows, cols), ``orthorectified``.
    """
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning
    from rasterio.transform import Affine

    arrays, crs, transform, ortho = product_grid(result)
    height, width = next(iter(arrays.values())).shape
    profile: dict[str, Any] = {
        "driver": "COG",
        "width": width,
        "height": height,
        "count": len(arrays),
        "dtype": "float32",
        "nodata": float("nan"),
        "compress": "ZSTD",  # level 1: ~4x faster than DEFLATE on float32 at a similar size
        "level": 1,
        "blocksize": 256,
        "overview_resampling": "average",
        # Internal overviews only for large maps: on an EMIT-size product they triple the writing time (GDAL re-reads
        # and re-compresses the tiles) and a 1280-pixel map needs none to display quickly.
        "overviews": "AUTO" if max(width, height) > _OVERVIEW_MIN_PIXELS else "NONE",
        "BIGTIFF": "IF_SAFER",
    }
    if transform is not None:
        profile["transform"] = Affine(*transform)
    if crs:
        profile["crs"] = crs
    tags = {"units": "ppm m"}
    for key in _TAG_KEYS:
        if key in result.attrs:
            value = result.attrs[key]
            tags[key] = value if isinstance(value, str) else json.dumps(value)
    tags["orthorectified"] = json.dumps(bool(ortho))
    with rasterio.Env(GDAL_NUM_THREADS="ALL_CPUS"), warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # the raw grid of a scene without map info
        with rasterio.open(path, "w", **profile) as dst:
            for index, (name, description) in enumerate(_bands(result), start=1):
                dst.write(arrays[name], index)
                dst.set_band_description(index, description)
                dst.set_band_unit(index, BAND_UNITS[name])  # the GDAL unit type QGIS and gdalinfo show
                dst.update_tags(index, units=BAND_UNITS[name])
            dst.update_tags(**tags)
    return {"crs": crs, "transform": transform, "shape": (height, width), "orthorectified": ortho}


#: Working memory of ``plumetrace plumes`` per map pixel (float32 bands read, float64 copies of the map, labels,
#: significance and noise maps), bytes; used to refuse a map that cannot fit before any pixel is read.
_BYTES_PER_PIXEL = 96


#: Start of some files users mistake for the enhancement map, to say what they gave instead.
_SIGNATURES = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x89HDF", "an HDF5/NetCDF-4 file"),
    (b"CDF", "a NetCDF file"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"%PDF", "a PDF document"),
)


def _available_memory_bytes() -> int:
    """Memory available to this process now (``MemAvailable`` of /proc/meminfo, else the physical memory)."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import os

        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (OSError, ValueError, AttributeError):  # pragma: no cover - non-POSIX
        return 16 * 1024**3


def _first_bad(mask: np.ndarray) -> str:
    row, col = np.unravel_index(int(np.flatnonzero(mask)[0]), mask.shape)
    return f"row {row}, col {col}"


def read_enhancement(path: str | Path, *, units: str | None = None) -> xr.Dataset:
    """Read an enhancement map as a Dataset with the variables and attributes of the detection result.

    Reads ``enhancement.tif`` of ``plumetrace detect``, any georeferenced one-band enhancement GeoTIFF, and the
    EMIT L2B CH4ENH/CO2ENH product (COG or NetCDF, :mod:`plumetrace.io.emit_l2b`). The units come from the band's
    unit type or ``units`` tags, else from ``units`` (:mod:`plumetrace.io.map_units`: ppm·m, or ppb·m and mol m⁻²
    converted to ppm·m).

    ``attrs["pixel_size_m"]`` is set from the transform when the file is georeferenced (projected CRS: the mean
    of the two pixel sides; geographic: converted at the grid's latitude); ``encoding["source"]`` is the path.

    In plumetrace's layout only the ``enhancement_ppm_m`` band is required; ``uncertainty_ppm_m``, ``albedo`` and
    ``sensitivity`` are read when present (a missing units tag is warned about and read as ppm·m). A one-band file
    is the enhancement; an EMIT L2B COG also takes its sibling ``…CH4UNCERT…`` COG as the uncertainty and its
    acquisition time from the granule name. Pixels equal to a band's declared nodata value become NaN.

    Parameters
    ----------
    path : path
        The map (GeoTIFF/COG, or an EMIT L2B NetCDF).
    units : str, optional
        The map's units when the file states none (``--units``); a file stating other units is refused.

    Raises
    ------
    MissingFileError
        The file does not exist.
    InvalidFileError
        Not a GeoTIFF (a directory, an empty, text or PNG file), truncated or corrupt, larger than the memory
        available (``width``/``height`` checked before any pixel is read), several bands but none described
        ``enhancement_ppm_m``, units that are not a column unit (or none stated in a foreign map without ``units``),
        no finite pixel, ±inf pixels, or a negative 1σ in ``uncertainty_ppm_m``.
    """
    import rasterio
    import xarray as xr
    from rasterio.errors import RasterioError

    path = check_input_file(
        path,
        "enhancement GeoTIFF",
        field="file",
        directory="is a directory, not an enhancement GeoTIFF",
        empty="is empty (0 bytes), not an enhancement GeoTIFF",
    )
    with path.open("rb") as handle:
        magic = handle.read(8)
    if magic.startswith((b"\x89HDF", b"CDF")):  # NetCDF-4 / NetCDF classic: the EMIT L2B NetCDF layout
        from plumetrace.io.emit_l2b import read_emit_l2b_netcdf

        return read_emit_l2b_netcdf(path, units=units)
    if magic[:4] not in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):  # TIFF and BigTIFF signatures
        kind = next((name for sig, name in _SIGNATURES if magic.startswith(sig)), None)
        raise InvalidFileError(
            path, "file", f"is {kind}, not a GeoTIFF" if kind else "is not a GeoTIFF (no TIFF signature at its start)"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # NotGeoreferencedWarning and GDAL's complaints about odd files
            src = rasterio.open(path)
    except (RasterioError, OSError) as exc:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "not recognized as" in problem or "not recognised as" in problem:
            problem = "not a GeoTIFF (format not recognised)"
        raise InvalidFileError(path, "file", problem.replace(str(path), "").strip(" :") or "cannot be opened") from None
    with src:
        if src.driver != "GTiff":
            raise InvalidFileError(path, "file", f"is a {src.driver} file, not a GeoTIFF")
        if src.width < 1 or src.height < 1:
            raise InvalidFileError(path, "width/height", f"{src.width} x {src.height} pixels: the map is empty")
        need = src.width * src.height * _BYTES_PER_PIXEL
        available = _available_memory_bytes()
        if need > available:
            raise InvalidFileError(
                path,
                "width/height",
                f"declares {src.width} x {src.height} pixels, about {need / 1024**3:.3g} GiB to process, more than the "
                f"{available / 1024**3:.3g} GiB of memory available; cut the map into tiles",
            )
        from plumetrace.io.emit_l2b import emit_l2b_cog, read_sibling_band
        from plumetrace.io.map_units import resolve_units, stated_units

        descriptions = list(src.descriptions)
        own = "enhancement_ppm_m" in descriptions  # plumetrace's layout (any band order)
        emit = None if own else emit_l2b_cog(path, descriptions, src.tags())
        if not own and src.count != 1:
            named = ", ".join(repr(d) for d in descriptions if d) or "none named"
            raise InvalidFileError(
                path,
                "band enhancement_ppm_m",
                f"missing (band description); the file has {src.count} band(s): {named}; a map of another tool "
                "must have a single band",
            )
        layout = dict(BANDS + OPTIONAL_BANDS) if own else {"enhancement": descriptions[0] or "band 1"}
        band_index = {name: descriptions.index(d) + 1 for name, d in layout.items() if d in descriptions}
        band_index.setdefault("enhancement", 1)
        factor, read_units = resolve_units(path, stated_units(src, band_index["enhancement"]), units, assume_ppm_m=own)
        data_vars: dict[str, Any] = {}
        for name, index in band_index.items():
            description = layout[name]
            try:
                values = src.read(index).astype(np.float32)
            except (RasterioError, OSError):
                raise InvalidFileError(
                    path, f"band {description}", "cannot be read: the file is truncated or corrupt"
                ) from None
            nodata = src.nodatavals[index - 1]
            if nodata is not None and np.isfinite(nodata):
                values[values == np.float32(nodata)] = np.nan
            if name in ("enhancement", "uncertainty") and factor != 1.0:
                values *= np.float32(factor)
            data_vars[name] = (
                ("y", "x"),
                values,
                {"units": "ppm m" if name in ("enhancement", "uncertainty") else "1"},
            )
        if emit is not None and emit["uncertainty"] is not None:
            sigma, sigma_units = read_sibling_band(path, emit["uncertainty"], (src.height, src.width), src.transform)
            scale, _ = resolve_units(emit["uncertainty"], [(sigma_units, "band 1")] if sigma_units else [], read_units)
            data_vars["uncertainty"] = (("y", "x"), sigma * np.float32(scale), {"units": "ppm m"})
        band_name = f"band {layout['enhancement']}" if own else f"band {band_index['enhancement']}"
        enhancement = data_vars["enhancement"][1]
        if not np.isfinite(enhancement).any():
            raise InvalidFileError(path, band_name, "map is empty: no finite pixel (all NaN or nodata)")
        if np.isinf(enhancement).any():
            raise InvalidFileError(
                path,
                band_name,
                f"infinite value at {_first_bad(np.isinf(enhancement))}; use NaN for no data",
            )
        if "uncertainty" in data_vars:
            sigma = data_vars["uncertainty"][1]
            with np.errstate(invalid="ignore"):
                negative = np.isfinite(sigma) & (sigma < 0)
            if negative.any():
                raise InvalidFileError(
                    emit["uncertainty"] if emit is not None and emit["uncertainty"] is not None else path,
                    "band uncertainty_ppm_m" if own else "band 1",
                    f"negative 1σ ({float(sigma[negative][0]):g} ppm·m at {_first_bad(negative)}); a 1σ must be >= 0",
                )
        tags = src.tags()
        attrs: dict[str, Any] = {}
        for key, value in tags.items():
            if key in ("AREA_OR_POINT",):
                continue
            try:
                attrs[key] = (
                    json.loads(value)
                    if key
                    not in (
                        "gas",
                        "method",
                        "stats",
                        "sensor",
                        "units",
                        "acquisition_time",
                        "target_source",
                        "shrinkage",
                        "source",
                    )
                    else value
                )
            except json.JSONDecodeError:
                attrs[key] = value
        attrs["units"] = "ppm m"
        if factor != 1.0:
            attrs["source_units"] = read_units
        if not own:
            if "time_coverage_start" in tags and "acquisition_time" not in attrs:
                attrs["acquisition_time"] = tags["time_coverage_start"]
            attrs.update(emit["attrs"] if emit is not None else {})
        if src.crs is not None:
            attrs["crs"] = src.crs.to_wkt()
        if src.transform is not None and not src.transform.is_identity:
            t = src.transform
            attrs["transform"] = [t.a, t.b, t.c, t.d, t.e, t.f]
            size_x, size_y = math.hypot(t.a, t.d), math.hypot(t.b, t.e)
            if src.crs is not None and src.crs.is_projected:
                attrs["pixel_size_m"] = 0.5 * (size_x + size_y)
            elif src.crs is not None:
                lat = t.f + t.e * src.height / 2
                east_m, north_m = metres_per_degree(lat)
                attrs["pixel_size_m"] = 0.5 * (size_x * east_m + size_y * north_m)
    ds = xr.Dataset(data_vars, attrs=attrs)
    ds.encoding["source"] = str(path)
    return ds


def write_quicklook(
    enhancement: np.ndarray,
    path: str | Path,
    *,
    title: str = "",
    units: str = "ppm m",
    crs: Any = None,
    transform: Any = None,
) -> Path:
    """PNG quicklook of an enhancement map on map axes, with a labelled colour bar, scale bar and north arrow.

    Parameters
    ----------
    enhancement : array (rows, cols)
        The map on its product grid (ppm·m).
    path : path
        Destination ``.png`` (900 × 700 pixels).
    title : str
        Title above the map.
    units : str
        Colour-bar label.
    crs, transform : optional
        CRS (anything pyproj reads) and affine transform (six floats, rasterio order) of the grid: the map is then
        drawn in km of easting / northing (degrees for a geographic CRS) with equal ground scale in x and y;
        without them, in pixels.

    Notes
    -----
    Colours ("inferno") run from min(0, 2nd percentile) to the 99.5th percentile; NaN is light grey. Maps larger
    than 800 pixels are decimated before drawing. Layout: :mod:`plumetrace.io.mapplot`.
    """
    from plumetrace.io.mapplot import grid_frame, map_page, save_page

    data = np.asarray(enhancement, dtype=np.float32)
    frame = grid_frame(data.shape, crs, transform)
    step = max(1, math.ceil(max(data.shape) / _QUICKLOOK_MAX_PIXELS))
    data = data[::step, ::step]  # a quicklook: decimate large maps before drawing
    finite = data[np.isfinite(data)]
    vmax = float(np.percentile(finite, 99.5)) if finite.size else 1.0
    vmin = min(0.0, float(np.percentile(finite, 2))) if finite.size else 0.0
    if vmax <= vmin:
        vmax = vmin + 1.0
    fig, ax, cax = map_page(title)
    ax.set_facecolor((215 / 255, 215 / 255, 215 / 255))  # NaN pixels are left undrawn: light grey
    image = ax.imshow(
        np.ma.masked_invalid(data),
        cmap="inferno",
        vmin=vmin,
        vmax=vmax,
        interpolation="nearest",
        extent=frame.extent,
    )
    fig.colorbar(image, cax=cax, label=units)
    if frame.metres_per_unit is None:
        fig.text(0.09, 0.04, "not georeferenced: pixel rows and columns", fontsize=9, color="0.3")
    save_page(fig, ax, frame, path, cax=cax)
    return Path(path)
