"""The detection result: product arrays with units, the run's attributes, and the xarray Dataset that holds both."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import numpy as np

from plumetrace.detect.options import DetectOptions
from plumetrace.spectra.target import Target

if TYPE_CHECKING:  # xarray loads only when a Dataset is built
    import xarray as xr

__all__ = [
    "SCENE_ATTRS",
    "SENSITIVITY_REFERENCE_PPM_M",
    "as_dataset",
    "on_map_grid",
    "result_attrs",
    "result_variables",
    "sensitivity",
]

#: ``sensitivity`` is the signal-to-noise ratio of an enhancement of this size at the pixel (unitless).
SENSITIVITY_REFERENCE_PPM_M = 1000.0
#: Scene attributes carried into the detection result.
SCENE_ATTRS = ("acquisition_time", "crs", "transform", "glt_crs", "glt_transform")


def sensitivity(uncertainty_ppm_m: np.ndarray) -> np.ndarray:
    """Signal-to-noise ratio of a ``SENSITIVITY_REFERENCE_PPM_M`` enhancement (float32, NaN where masked)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return (SENSITIVITY_REFERENCE_PPM_M / uncertainty_ppm_m).astype(np.float32)


def result_attrs(
    target: Target,
    options: DetectOptions,
    *,
    mode: str,
    width: int,
    amf: float,
    window: tuple[float, float],
    n_band: int,
    robust_rounds: int,
    robust_masked_pixels: int,
    excluded_pixels: int = 0,
) -> dict[str, Any]:
    """Attributes of a detection: gas, method, statistics mode (``mode``) and columns per group (``width``), window
    (asked, ``window_nm``, and its first and last band centres, ``window``, nm), target, air-mass factor, shrinkage,
    albedo correction, robust rounds and masked pixels, pixels left out of the statistics, sparse iterations."""
    attrs: dict[str, Any] = {
        "gas": target.gas,
        "method": options.method,
        "stats": mode,
        "columns_per_group": int(width),
        "window_nm": [float(options.window_nm[0]), float(options.window_nm[1])],
        "window_band_centres_nm": [window[0], window[1]],
        "window_bands": int(n_band),
        "target_source": target.source,
        "airmass_factor": float(amf),
        "shrinkage": str(options.shrinkage),
        "albedo_correct": options.albedo_corrected,
        "robust_rounds": int(robust_rounds),
        "robust_masked_pixels": int(robust_masked_pixels),
        "background_excluded_pixels": int(excluded_pixels),
    }
    if options.method == "sparse":
        attrs["iterations"] = int(options.iterations)
    return attrs


def result_variables(arrays: dict[str, np.ndarray], gas: str) -> dict[str, tuple[np.ndarray, dict[str, str]]]:
    """Product arrays of :func:`plumetrace.detect.engine.detect_window` with their units and long names
    (variable → (array, attrs))."""
    variables = {
        "enhancement": (
            arrays["enhancement"],
            {"units": "ppm m", "long_name": f"{gas} column enhancement"},
        ),
        "uncertainty": (
            arrays["uncertainty"],
            {"units": "ppm m", "long_name": "noise-propagated 1-sigma uncertainty"},
        ),
        "albedo": (
            arrays["albedo"],
            {"units": "1", "long_name": "albedo factor x.mu / mu.mu"},
        ),
        "sensitivity": (
            arrays["sensitivity"],
            {
                "units": "1",
                "long_name": f"signal-to-noise ratio of a {SENSITIVITY_REFERENCE_PPM_M:g} ppm m enhancement",
            },
        ),
    }
    if "ace_score" in arrays:
        variables["ace_score"] = (
            arrays["ace_score"],
            {"units": "1", "long_name": "signed ACE score (cosine squared)"},
        )
    return variables


def as_dataset(scene: xr.Dataset, arrays: dict[str, np.ndarray], attrs: dict[str, Any]) -> xr.Dataset:
    """The products as a Dataset on the Scene's grid, with its sensor, source, time, georeferencing and pixel size.

    The Scene's ``lat``/``lon`` coordinates are carried over, and on a map grid (``crs`` + ``transform``) its
    ``spatial_ref`` and ``x``/``y`` coordinates (:func:`plumetrace.scene.map_coords`), so that
    ``result["enhancement"].rio.crs``, ``.rio.transform()`` and ``.rio.to_raster()`` work.
    """
    import xarray as xr

    from plumetrace.scene import GRID_MAPPING, pixel_size_m, with_map_coords

    dims = ("y", "x")
    data_vars: dict[str, Any] = {
        name: (dims, values, var_attrs) for name, (values, var_attrs) in result_variables(arrays, attrs["gas"]).items()
    }
    attrs = dict(attrs)
    attrs["sensor"] = scene.attrs.get("sensor", "generic")
    attrs["source"] = str(scene.attrs.get("source", ""))
    for key in SCENE_ATTRS:
        if key in scene.attrs:
            attrs[key] = scene.attrs[key]
    with contextlib.suppress(Exception):  # a scene without georeferencing has no pixel size
        attrs["pixel_size_m"] = float(pixel_size_m(scene))
    coords: dict[str, Any] = {}
    for name in ("lat", "lon", "x", "y", GRID_MAPPING):
        if name in scene.coords:
            coords[name] = scene.coords[name].variable
    ds = xr.Dataset(data_vars, coords=coords, attrs=attrs)
    if GRID_MAPPING in ds.coords:
        for name in ds.data_vars:
            ds[name].encoding["grid_mapping"] = GRID_MAPPING
    else:  # a Scene assembled without the coordinates: derive them from its attributes
        ds = with_map_coords(ds)
    for name in ("glt_row", "glt_col"):
        if name in scene:
            ds[name] = scene[name].variable
    return ds


def on_map_grid(result: xr.Dataset) -> xr.Dataset:
    """The product variables on the map grid ``enhancement.tif`` is written on, ready for rioxarray.

    A result with a geographic lookup table (``glt_row``/``glt_col`` + ``glt_crs``/``glt_transform``, e.g. EMIT) is
    orthorectified by nearest pixel (:func:`plumetrace.georef.orthorectify`, NaN where no pixel maps) onto the GLT
    grid, which becomes its ``y``/``x`` grid with ``crs``/``transform`` = ``glt_crs``/``glt_transform`` and the
    coordinates of :func:`plumetrace.scene.map_coords`; the raw grid's ``lat``/``lon`` are dropped. Any other result
    is returned as it is (on a map grid it already carries ``spatial_ref``).

    Parameters
    ----------
    result : xarray.Dataset
        Output of :func:`plumetrace.detect.engine.detect_scene`.

    Returns
    -------
    xarray.Dataset
        Products (``enhancement`` and ``uncertainty`` in ppm m, ``albedo``, ``sensitivity`` unitless, …) on the map
        grid, float32.
    """
    import xarray as xr

    from plumetrace.georef import orthorectify
    from plumetrace.scene import with_map_coords

    attrs = dict(result.attrs)
    if not ("glt_row" in result and "glt_col" in result and "glt_transform" in attrs):
        return result
    glt_row, glt_col = np.asarray(result["glt_row"].values), np.asarray(result["glt_col"].values)
    data_vars = {
        name: (("y", "x"), orthorectify(np.asarray(var.values), glt_row, glt_col).astype(np.float32), dict(var.attrs))
        for name, var in result.data_vars.items()
        if var.dims == ("y", "x")
    }
    for key in ("crs", "transform", "glt_crs", "glt_transform"):
        attrs.pop(key, None)
    attrs["transform"] = [float(v) for v in result.attrs["glt_transform"][:6]]
    if result.attrs.get("glt_crs"):
        attrs["crs"] = result.attrs["glt_crs"]
    attrs["orthorectified"] = True
    return with_map_coords(xr.Dataset(data_vars, attrs=attrs))
