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

Dataset tags: ``units=ppm m``, ``gas``, ``method``, ``stats``, ``sensor``, ``acquisition_time`` and the rest of the
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

from plumetrace.errors import InvalidFileError, MissingFileError

if TYPE_CHECKING:  # writing takes any result with ``result[name].values``, ``name in result`` and ``.attrs``
    import xarray as xr

__all__ = ["BANDS", "product_grid", "write_enhancement", "read_enhancement", "write_quicklook"]

#: (data variable, band description) in band order.
BANDS = (
    ("enhancement", "enhancement_ppm_m"),
    ("uncertainty", "uncertainty_ppm_m"),
    ("albedo", "albedo"),
    ("sensitivity", "sensitivity"),
)
_QUICKLOOK_MAX_PIXELS = 800
_OVERVIEW_MIN_PIXELS = 2048
_TAG_KEYS = ("gas", "method", "stats", "sensor", "acquisition_time", "target_source", "airmass_factor", "window_nm",
             "columns_per_group", "iterations", "shrinkage", "albedo_correct", "source")


def product_grid(result: xr.Dataset) -> tuple[dict[str, np.ndarray], str | None, tuple[float, ...] | None, bool]:
    """The product arrays on the output grid.

    Returns
    -------
    (arrays, crs_wkt, transform, orthorectified)
        ``arrays`` maps each variable of :data:`BANDS` to a float32 (rows, cols) array.
    """
    arrays = {name: np.asarray(result[name].values, dtype=np.float32) for name, _ in BANDS}
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
        "count": len(BANDS),
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
            for index, (name, description) in enumerate(BANDS, start=1):
                dst.write(arrays[name], index)
                dst.set_band_description(index, description)
                units = "ppm m" if name in ("enhancement", "uncertainty") else "1"
                dst.update_tags(index, units=units)
            dst.update_tags(**tags)
    return {"crs": crs, "transform": transform, "shape": (height, width), "orthorectified": ortho}


def read_enhancement(path: str | Path) -> xr.Dataset:
    """Read ``enhancement.tif`` back as a Dataset with the variables and attributes of the detection result.

    ``attrs["pixel_size_m"]`` is set from the transform when the file is georeferenced (projected CRS: the mean
    of the two pixel sides; geographic: converted at the grid's latitude).

    Raises
    ------
    MissingFileError, InvalidFileError
    """
    import rasterio
    import xarray as xr
    from rasterio.errors import NotGeoreferencedWarning

    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path, "enhancement GeoTIFF")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            src = rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise InvalidFileError(path, "GeoTIFF", str(exc).splitlines()[0]) from None
    with src:
        descriptions = list(src.descriptions)
        data_vars: dict[str, Any] = {}
        for name, description in BANDS:
            if description not in descriptions:
                raise InvalidFileError(path, "band description", f"no band named {description!r}")
            values = src.read(descriptions.index(description) + 1).astype(np.float32)
            units = "ppm m" if name in ("enhancement", "uncertainty") else "1"
            data_vars[name] = (("y", "x"), values, {"units": units})
        tags = src.tags()
        attrs: dict[str, Any] = {}
        for key, value in tags.items():
            if key in ("AREA_OR_POINT",):
                continue
            try:
                attrs[key] = json.loads(value) if key not in ("gas", "method", "stats", "sensor", "units",
                                                               "acquisition_time", "target_source", "shrinkage",
                                                               "source") else value
            except json.JSONDecodeError:
                attrs[key] = value
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
                attrs["pixel_size_m"] = 0.5 * (size_x * 111_320.0 * math.cos(math.radians(lat)) + size_y * 111_320.0)
    return xr.Dataset(data_vars, attrs=attrs)


# Anchors of matplotlib's "inferno" colour map (perceptually uniform), interpolated to 256 colours.
_INFERNO = np.array(
    [[0, 0, 4], [40, 11, 84], [101, 21, 110], [159, 42, 99], [212, 72, 66], [245, 125, 21], [250, 193, 39], [252, 255, 164]],
    dtype=np.float64,
)


def _colour_table() -> np.ndarray:
    x = np.linspace(0.0, 1.0, _INFERNO.shape[0])
    t = np.linspace(0.0, 1.0, 256)
    return np.stack([np.interp(t, x, _INFERNO[:, i]) for i in range(3)], axis=1).round().astype(np.uint8)


def write_quicklook(enhancement: np.ndarray, path: str | Path, *, title: str = "", units: str = "ppm m") -> Path:
    """PNG quicklook of an enhancement map with a labelled colour bar.

    The range runs from min(0, 2nd percentile) to the 99.5th percentile; NaN is light grey. Maps larger than
    800 pixels are decimated. Drawn with Pillow (a tenth of matplotlib's start-up time).
    """
    from PIL import Image, ImageDraw, ImageFont

    data = np.asarray(enhancement, dtype=np.float32)
    step = max(1, int(math.ceil(max(data.shape) / _QUICKLOOK_MAX_PIXELS)))
    data = data[::step, ::step]  # a quicklook: decimate large maps before drawing
    finite = data[np.isfinite(data)]
    vmax = float(np.percentile(finite, 99.5)) if finite.size else 1.0
    vmin = min(0.0, float(np.percentile(finite, 2))) if finite.size else 0.0
    if vmax <= vmin:
        vmax = vmin + 1.0
    table = _colour_table()
    with np.errstate(invalid="ignore"):
        index = np.clip((data - vmin) / (vmax - vmin) * 255.0, 0, 255)
    rgb = table[np.nan_to_num(index).astype(np.uint8)]
    rgb[~np.isfinite(data)] = (215, 215, 215)
    height, width = data.shape
    scale = max(1, int(300 // max(min(height, width), 1)))  # small maps are enlarged for legibility
    image = Image.fromarray(rgb, "RGB").resize((width * scale, height * scale), Image.NEAREST)
    font = ImageFont.load_default()
    top, right = 24, 110
    canvas = Image.new("RGB", (image.width + right, image.height + top + 8), "white")
    canvas.paste(image, (0, top))
    draw = ImageDraw.Draw(canvas)
    if title:
        draw.text((4, 4), title, fill="black", font=font)
    bar_x, bar_w = image.width + 12, 18
    bar_h = image.height
    ramp = table[np.linspace(255, 0, bar_h).astype(np.uint8)]
    canvas.paste(Image.fromarray(np.repeat(ramp[:, None, :], bar_w, axis=1), "RGB"), (bar_x, top))
    draw.rectangle((bar_x, top, bar_x + bar_w - 1, top + bar_h - 1), outline="black")
    for value in np.linspace(vmin, vmax, 5):
        y = top + (bar_h - 1) * (1 - (value - vmin) / (vmax - vmin))
        draw.line((bar_x + bar_w, y, bar_x + bar_w + 4, y), fill="black")
        draw.text((bar_x + bar_w + 7, y - 6), f"{value:.0f}", fill="black", font=font)
    draw.text((bar_x, top - 13), units, fill="black", font=font)
    canvas.save(path, format="PNG", optimize=False)
    return Path(path)
