"""Checks of scene metadata values, shared by every reader and by :func:`plumetrace.scene.validate_scene`.

One validation per kind of value, so that every reader (and so ``plumetrace info`` and ``plumetrace detect``)
accepts and refuses the same files. Each check takes the file and the field name as the user knows it (``solar
zenith`` in an ENVI header, ``solar_zenith_deg`` in a Scene) and raises :class:`~plumetrace.errors.InvalidFileError`
naming both. NumPy only (pyproj loads only to check a CRS).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from os import PathLike
from typing import Any

import numpy as np

from plumetrace.errors import InvalidFileError

__all__ = [
    "MAX_WAVELENGTH_NM",
    "MAX_ZENITH_DEG",
    "MIN_WAVELENGTH_NM",
    "check_acquisition_time",
    "check_crs",
    "check_radiance_sample",
    "check_spectral",
    "check_sun_elevation",
    "check_transform",
    "check_zenith",
]

MIN_WAVELENGTH_NM = 200.0
MAX_WAVELENGTH_NM = 20000.0
#: Solar and view zenith angles must lie in [0, MAX_ZENITH_DEG): the plane-parallel air-mass factor of every
#: retrieval diverges toward the horizon.
MAX_ZENITH_DEG = 85.0
#: Median |radiance| (µW cm⁻² sr⁻¹ nm⁻¹) outside this range is not an at-sensor radiance in any unit plumetrace
#: converts from (raw DN included): the data type, byte order or units are wrong.
PLAUSIBLE_RADIANCE = (1e-6, 1e6)

_SAMPLE_VALUES = 200_000  # values of the probe that the plausibility statistics use at most

Where = str | PathLike


def check_spectral(
    where: Where,
    wavelength_nm: Any,
    fwhm_nm: Any,
    *,
    wavelength_field: str = "wavelength",
    fwhm_field: str = "fwhm",
    hint: str = "",
) -> None:
    """Band centres and widths (nm): finite, one per band, centres strictly increasing inside 200-20000 nm, widths
    positive and narrower than half their band's centre. ``hint`` is appended to a range error (e.g. which field
    sets the units)."""
    wavelength = np.asarray(wavelength_nm, dtype=np.float64)
    fwhm = np.asarray(fwhm_nm, dtype=np.float64)
    if wavelength.ndim != 1 or wavelength.size == 0:
        raise InvalidFileError(where, wavelength_field, "no band centres")
    if fwhm.shape != wavelength.shape:
        raise InvalidFileError(where, fwhm_field, f"{fwhm.size} values for {wavelength.size} bands")
    for field, values in ((wavelength_field, wavelength), (fwhm_field, fwhm)):
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise InvalidFileError(
                where, field, f"band {bad[0] + 1} is {float(values[bad[0]]):g}: every value must be finite"
            )
    if wavelength.size > 1 and not np.all(np.diff(wavelength) > 0):
        k = int(np.flatnonzero(np.diff(wavelength) <= 0)[0])
        raise InvalidFileError(
            where,
            wavelength_field,
            f"not strictly increasing (band {k + 1}: {wavelength[k]:g} nm, band {k + 2}: {wavelength[k + 1]:g} nm)",
        )
    if wavelength.min() < MIN_WAVELENGTH_NM or wavelength.max() > MAX_WAVELENGTH_NM:
        raise InvalidFileError(
            where,
            wavelength_field,
            f"range {wavelength.min():g}-{wavelength.max():g} nm is not in nm (expected within "
            f"{MIN_WAVELENGTH_NM:g}-{MAX_WAVELENGTH_NM:g} nm){hint}",
        )
    if np.any(fwhm <= 0):
        k = int(np.flatnonzero(fwhm <= 0)[0])
        raise InvalidFileError(where, fwhm_field, f"band {k + 1} is {fwhm[k]:g} nm: widths must be positive")
    too_wide = fwhm >= 0.5 * wavelength
    if np.any(too_wide):
        k = int(np.flatnonzero(too_wide)[0])
        raise InvalidFileError(
            where,
            fwhm_field,
            f"band {k + 1} is {fwhm[k]:g} nm wide at {wavelength[k]:g} nm: not a band width in nm (must be below "
            f"half the band centre){hint}",
        )


def _finite_number(where: Where, field: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidFileError(where, field, f"{value!r} is not a number") from None
    if not math.isfinite(number):
        raise InvalidFileError(where, field, f"{value!r} is not a finite number")
    return number


def _below_horizon_limit(where: Where, field: str, number: float, allowed: str, what: str) -> InvalidFileError:
    """The error for an angle outside ``allowed`` (degrees): the ``what`` sits too low above the horizon."""
    return InvalidFileError(
        where,
        field,
        f"{number:g} degrees is outside {allowed} (the {what} must be at least "
        f"{90 - MAX_ZENITH_DEG:g} degrees above the horizon for a retrieval)",
    )


def check_zenith(where: Where, field: str, value: Any, *, what: str = "sun") -> float:
    """A scene-mean zenith angle in degrees, 0 ≤ value < 85; returns it as a float."""
    number = _finite_number(where, field, value)
    if not 0.0 <= number < MAX_ZENITH_DEG:
        raise _below_horizon_limit(where, field, number, f"0-{MAX_ZENITH_DEG:g}", what)
    return number


def check_sun_elevation(where: Where, field: str, value: Any) -> float:
    """A sun elevation in degrees, 5 < value ≤ 90 (the solar zenith 90 - value passes :func:`check_zenith`)."""
    number = _finite_number(where, field, value)
    if not 90.0 - MAX_ZENITH_DEG < number <= 90.0:
        raise _below_horizon_limit(where, field, number, f"{90 - MAX_ZENITH_DEG:g}-90", "sun")
    return number


def check_acquisition_time(where: Where, field: str, value: Any) -> str:
    """An ISO 8601 date-time (``2026-06-21T18:30:00Z``); returns the text unchanged."""
    text = str(value).strip()
    try:
        dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidFileError(
            where, field, f"{text!r} is not an ISO 8601 date-time (e.g. 2026-06-21T18:30:00Z)"
        ) from None
    return text


def check_crs(where: Where, field: str, crs: Any) -> None:
    """A coordinate reference system pyproj understands (WKT, ``EPSG:n``, PROJ string)."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        CRS.from_user_input(str(crs))
    except CRSError:
        text = " ".join(str(crs).split())
        shown = text if len(text) <= 60 else text[:57] + "..."
        raise InvalidFileError(
            where, field, f"{shown!r} is not a coordinate reference system (WKT or EPSG:n)"
        ) from None


def check_transform(where: Where, field: str, transform: Sequence[Any]) -> None:
    """Six finite affine coefficients (a, b, c, d, e, f) of a non-singular grid."""
    try:
        values = [float(v) for v in list(transform)[:6]]
    except (TypeError, ValueError):
        raise InvalidFileError(where, field, f"{transform!r} is not six numbers") from None
    if len(values) != 6 or not all(math.isfinite(v) for v in values):
        raise InvalidFileError(where, field, f"{transform!r}: expected six finite numbers (a, b, c, d, e, f)")
    a, b, _, d, e, _ = values
    if a * e - b * d == 0:
        raise InvalidFileError(where, field, "the pixel grid is singular (zero pixel size)")


def check_radiance_sample(
    where: Where,
    raw: np.ndarray,
    *,
    scale: float = 1.0,
    fill_value: float | None = None,
    byte_order_where: Where | None = None,
    units_field: str = "data units",
) -> None:
    """Check a sample of a scene's values (a few whole lines) for what makes every retrieval meaningless.

    Parameters
    ----------
    where
        The data file (named in the error).
    raw : ndarray
        Values as stored in the file (its own dtype and byte order), any shape.
    scale : float
        Factor to µW cm⁻² sr⁻¹ nm⁻¹.
    fill_value : float, optional
        The file's fill value (left out).
    byte_order_where
        The file whose ``byte order`` field is at fault when the values are byte-swapped (the ENVI header); None
        when the format records its byte order itself.

    Raises
    ------
    InvalidFileError
        ``radiance``: no finite value; ``byte order``: values absurd as stored but plausible with their bytes
        swapped; ``radiance``: mostly negative values, or a median magnitude no radiance unit explains.
    """
    raw = np.asarray(raw).ravel()
    floating = np.issubdtype(raw.dtype, np.floating)

    def data(values: np.ndarray) -> np.ndarray:
        """Which values are data: finite, not the fill value (nor -9999-like for floats)."""
        keep = np.isfinite(values)
        if fill_value is not None:
            keep &= values != fill_value
        if floating:
            keep &= values > -9990.0
        return keep

    with np.errstate(all="ignore"):
        full = raw
        if raw.size > _SAMPLE_VALUES:  # a strided subset is as telling, and keeps the lean detection path fast
            raw = raw[:: raw.size // _SAMPLE_VALUES + 1]
        values = raw.astype(np.float64)
        keep = data(values)
        if not keep.any() and raw is not full:  # a scene mostly of fill: look at every value
            raw = full
            values = raw.astype(np.float64)
            keep = data(values)
        if not keep.any():
            raise InvalidFileError(where, "radiance", "every pixel is fill (data ignore value / NaN)")
        keep &= values != 0  # zeros (an empty, pre-allocated cube) are no evidence either way
        if not keep.any():
            return
        as_read = values[keep] * scale
        problem = _implausible(as_read)
        negative = float(np.mean(as_read < 0))
        if byte_order_where is not None and raw.dtype.itemsize > 1 and (problem is not None or negative > 0.2):
            # Swapped bytes make float radiance absurd in magnitude and integers half negative; the right order
            # gives plausible, nearly all positive values.
            swapped = raw.byteswap().astype(np.float64)
            swapped = swapped[data(swapped) & (swapped != 0)] * scale
            if swapped.size and _implausible(swapped) is None and np.mean(swapped < 0) < 0.05:
                why = problem or f"{100 * negative:.0f}% of the values are negative"
                raise InvalidFileError(
                    byte_order_where,
                    "byte order",
                    f"the values of {where} look byte-swapped ({why} as read, plausible swapped): check `byte order`",
                )
    if problem is not None:
        raise InvalidFileError(
            where, "radiance", f"{problem}: not at-sensor radiance; check `{units_field}` and `data type`"
        )


def _implausible(values: np.ndarray) -> str | None:
    """Why these radiances (µW cm⁻² sr⁻¹ nm⁻¹) cannot be at-sensor radiance, or None."""
    negative = float(np.mean(values < 0))
    if negative > 0.5:
        return f"{100 * negative:.0f}% of the values are negative"
    magnitude = float(np.median(np.abs(values)))
    lo, hi = PLAUSIBLE_RADIANCE
    if not lo <= magnitude <= hi:
        return f"median |value| {magnitude:.3g} uW cm-2 sr-1 nm-1 is outside {lo:g}-{hi:g}"
    return None
