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
    """The products as a Dataset on the Scene's grid, with its sensor, source, time, georeferencing and pixel size."""
    import xarray as xr

    from plumetrace.scene import pixel_size_m

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
    for name in ("lat", "lon"):
        if name in scene.coords:
            coords[name] = scene.coords[name]
    ds = xr.Dataset(data_vars, coords=coords, attrs=attrs)
    for name in ("glt_row", "glt_col"):
        if name in scene:
            ds[name] = scene[name]
    return ds
