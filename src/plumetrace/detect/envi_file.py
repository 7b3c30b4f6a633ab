"""File-to-file detection on an ENVI cube without xarray, dask or pandas (the lean path of ``plumetrace detect``).

``plumetrace detect`` on an EMIT-size ENVI file computes in well under a second, so the start-up cost of
xarray + dask + pandas (~0.8 s) would dominate it. :func:`detect_envi_file` parses the header
(:func:`plumetrace.io.envi.envi_metadata`), reads the window bands directly (:class:`~plumetrace.detect.reader.EnviWindowReader`)
and runs the same plain-NumPy core as :func:`plumetrace.detect.engine.detect_scene`
(:func:`~plumetrace.detect.engine.detect_window`), returning a :class:`~plumetrace.detect.products.PlainResult` that
:func:`~plumetrace.detect.products.write_detection_products` writes like a Dataset.

It applies to a plain ENVI cube: no companion files (``_loc``, ``_igm``, ``_obs``, ``_glt``: per-pixel geometry and
orthorectification go through the Scene) and a data file of exactly the size the header describes. Its header and
values pass the same checks as the Scene reader's (:func:`plumetrace.io.envi.envi_metadata`,
:func:`plumetrace.io.envi.check_envi_values`). Anything else returns None and the caller opens the Scene as usual —
which also reports any problem with the file in the usual words.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from plumetrace.detect.engine import SCENE_ATTRS, detect_window, result_variables
from plumetrace.detect.products import PlainResult
from plumetrace.detect.reader import EnviWindowReader, envi_window_reader
from plumetrace.errors import InvalidInputError, PlumetraceError

__all__ = ["detect_envi_file", "airmass_from_angles"]

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_MAX_ZENITH_DEG = 85.0


def airmass_from_angles(solar_zenith_deg: float | None, view_zenith_deg: float | None) -> float:
    """Two-way plane-parallel air-mass factor ``1/cos(SZA) + 1/cos(VZA)`` of scalar angles (missing: 0°).

    Same convention and limits as :func:`plumetrace.scene.airmass_factor` with ``default_solar_zenith_deg=0``.

    Raises
    ------
    InvalidInputError
        An angle at or above 85°.
    """
    sza = 0.0 if solar_zenith_deg is None else float(solar_zenith_deg)
    vza = 0.0 if view_zenith_deg is None else float(view_zenith_deg)
    for name, value in (("solar_zenith_deg", sza), ("view_zenith_deg", vza)):
        if value >= _MAX_ZENITH_DEG:
            raise InvalidInputError(name, "must be below 85 degrees for a plane-parallel air-mass factor")
    return 1.0 / math.cos(math.radians(sza)) + 1.0 / math.cos(math.radians(vza))


def _is_plain_envi(path: Path) -> bool:
    if not path.is_file() and path.suffix.lower() != ".hdr":
        return False
    if path.is_file():
        with path.open("rb") as handle:
            if handle.read(8) == _HDF5_MAGIC:
                return False
    return path.suffix.lower() == ".hdr" or any(
        candidate.is_file() for candidate in (path.with_name(path.name + ".hdr"), path.with_suffix(".hdr"))
    )


def detect_envi_file(path: str | Path, **options: Any) -> PlainResult | None:
    """Detection products of a plain ENVI cube, or None when the file needs the full Scene reader.

    Parameters
    ----------
    path : path
        ENVI data file or its header.
    **options
        Keyword options of :func:`plumetrace.detect.engine.detect_scene` (``gas``, ``method``, ``stats``,
        ``window_nm``, …; not ``direct_read``).

    Returns
    -------
    PlainResult or None
        ``enhancement``, ``uncertainty``, ``albedo``, ``sensitivity`` (and ``ace_score``) float32 (lines, samples),
        with the attributes :func:`detect_scene` sets (less ``pixel_size_m``, which no product file records).

    Raises
    ------
    PlumetraceError
        Bad options or a scene the detectors cannot use, as :func:`detect_scene`.
    """
    from plumetrace.io.envi import check_envi_values, envi_companions, envi_metadata, envi_radiance_scale

    path = Path(path)
    if not _is_plain_envi(path):
        return None
    try:
        data_path, _header_path, header, wavelength, fwhm, scene_attrs = envi_metadata(path)
    except PlumetraceError:
        return None  # the Scene reader reports it
    if envi_companions(data_path) or scene_attrs.get("sensor") not in _SENSORS:
        return None
    if not (np.all(np.isfinite(wavelength)) and np.all(np.isfinite(fwhm)) and np.all(fwhm > 0)):
        return None
    if wavelength.size and (wavelength.min() < 200 or wavelength.max() > 20000):
        return None
    probe = envi_window_reader(data_path, header, 0, int(wavelength.size))
    if probe is None:
        return None
    probe.close()
    # The same probe of the values as the Scene reader (fill, byte order, plausible radiance): both paths refuse
    # the same files, in the same words.
    check_envi_values(data_path, header, _header_path, scale=envi_radiance_scale(header, _header_path))
    amf = airmass_from_angles(scene_attrs.get("solar_zenith_deg"), scene_attrs.get("view_zenith_deg"))

    def open_reader(band0: int, band1: int) -> EnviWindowReader:
        reader = envi_window_reader(data_path, header, band0, band1)
        assert reader is not None  # the probe above opened the same file
        return reader

    arrays, attrs = detect_window(open_reader, wavelength, fwhm, airmass_factor=amf, source=str(data_path), **options)
    attrs["sensor"] = scene_attrs.get("sensor", "generic")
    attrs["source"] = str(scene_attrs.get("source", ""))
    for key in SCENE_ATTRS:
        if key in scene_attrs:
            attrs[key] = scene_attrs[key]
    return PlainResult(result_variables(arrays, attrs["gas"]), attrs)


# plumetrace.scene.SENSORS (tests/detect/test_envi_file.py checks they agree): an unknown sensor is the Scene's error.
_SENSORS = ("emit", "aviris-ng", "aviris-3", "aviris-classic", "prisma", "enmap", "generic")
