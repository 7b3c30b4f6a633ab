"""PRISMA L1 (HCO) HDF-EOS5 radiance: lazy reader.

Layout (PRISMA Products Specification; as read by ACOLITE, prismaread and the EnMAP-Box importer):

* ``HDFEOS/SWATHS/PRS_L1_HCO/Data Fields/VNIR_Cube`` and ``SWIR_Cube``: uint16 DN stored as
  ``(lines, bands, samples)``, bands in *descending* wavelength;
* root attributes ``List_Cw_Vnir``/``List_Cw_Swir`` and ``List_Fwhm_Vnir``/``List_Fwhm_Swir`` (nm, zeros for
  flagged bands), ``ScaleFactor_Vnir``/``ScaleFactor_Swir`` and ``Offset_Vnir``/``Offset_Swir``:
  radiance = DN / ScaleFactor − Offset in W m⁻² sr⁻¹ µm⁻¹ (the offset is 0 in distributed products);
* ``HDFEOS/SWATHS/PRS_L1_HCO/Geolocation Fields/Latitude_SWIR``, ``Longitude_SWIR`` (lines, samples);
* root attributes ``Product_StartTime`` (ISO 8601) and ``Sun_zenith_angle`` (degrees).

Flagged bands (centre wavelength 0) are dropped; VNIR and SWIR are merged and sorted by ascending wavelength
(where the detectors overlap, bands closer than 0.01 nm keep the VNIR one).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr

from plumetrace.errors import InvalidFileError, InvalidInputError, MissingFileError
from plumetrace.io._blocks import block_request
from plumetrace.scene import RADIANCE_UNITS, radiance_unit_scale, validate_scene

__all__ = ["read_prisma_l1", "is_prisma_he5", "PRISMA_SWATH", "PRISMA_RADIANCE_UNITS"]

PRISMA_SWATH = "HDFEOS/SWATHS/PRS_L1_HCO"
PRISMA_RADIANCE_UNITS = "W m-2 sr-1 um-1"
_CHUNK_BYTES = 32 * 2**20
_DETECTORS = {"vnir": "Vnir", "swir": "Swir"}


def is_prisma_he5(path: str | Path) -> bool:
    """True if ``path`` is an HDF5 file with the PRISMA L1 HCO swath."""
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            return f"{PRISMA_SWATH}/Data Fields" in handle
    except OSError:
        return False


class _PrismaCube:
    """Lazy (line, sample, kept band) view of one PRISMA cube; picklable (opens the file per block)."""

    def __init__(
        self, path: Path, dataset: str, bands: np.ndarray, lines: int, samples: int, *, gain: float, offset: float
    ) -> None:
        self.path = path
        self.dataset = dataset
        self.bands = np.asarray(bands, dtype=np.int64)
        self.gain = gain
        self.offset = offset
        self.shape = (lines, samples, int(self.bands.size))
        self.dtype = np.dtype(np.float32)
        self.ndim = 3

    def __getitem__(self, key: Any) -> np.ndarray:
        import h5py

        request = block_request(key, self.shape)
        (row0, row1), (col0, col1) = request.rows, request.cols
        with h5py.File(self.path, "r") as handle:
            block = handle[self.dataset][row0:row1, :, col0:col1]  # (lines, bands, samples)
        block = block.transpose(0, 2, 1)[:, :, self.bands]
        block = block.astype(np.float32) * np.float32(self.gain) - np.float32(self.offset)
        return request.finish(block)


def _attr(attrs: Any, name: str, path: Path) -> Any:
    if name not in attrs:
        raise InvalidFileError(path, name, "missing")
    value = attrs[name]
    return value.decode() if isinstance(value, bytes) else value


def _detector(handle: Any, path: Path, name: str) -> tuple[da.Array, np.ndarray, np.ndarray] | None:
    suffix = _DETECTORS[name]
    dataset = f"{PRISMA_SWATH}/Data Fields/{name.upper()}_Cube"
    if dataset not in handle:
        return None
    cube = handle[dataset]
    if cube.ndim != 3:
        raise InvalidFileError(path, dataset, f"{cube.ndim} dims, expected (lines, bands, samples)")
    lines, nbands, samples = cube.shape
    centres = np.asarray(_attr(handle.attrs, f"List_Cw_{suffix}", path), dtype=np.float64).ravel()
    fwhm = np.asarray(_attr(handle.attrs, f"List_Fwhm_{suffix}", path), dtype=np.float64).ravel()
    for field, values in ((f"List_Cw_{suffix}", centres), (f"List_Fwhm_{suffix}", fwhm)):
        if values.size != nbands:
            raise InvalidFileError(path, field, f"{values.size} values for {nbands} bands of {name.upper()}_Cube")
    scale = float(_attr(handle.attrs, f"ScaleFactor_{suffix}", path))
    if not np.isfinite(scale) or scale <= 0:
        raise InvalidFileError(path, f"ScaleFactor_{suffix}", f"{scale} must be positive")
    offset = float(handle.attrs.get(f"Offset_{suffix}", 0.0))
    keep = np.flatnonzero((centres > 0) & (fwhm > 0))
    if keep.size == 0:
        return None
    unit_scale = radiance_unit_scale(PRISMA_RADIANCE_UNITS)
    reader = _PrismaCube(path, dataset, keep, lines, samples, gain=unit_scale / scale, offset=unit_scale * offset)
    rows = int(max(1, min(4096, _CHUNK_BYTES // max(1, samples * keep.size * 4))))
    array = da.from_array(
        reader,
        chunks=(rows, samples, keep.size),
        asarray=False,
        lock=False,
        inline_array=True,
        name=f"prisma-{name}-{da.core.tokenize(str(path.resolve()), path.stat().st_mtime_ns)}",
    )
    return array, centres[keep], fwhm[keep]


def read_prisma_l1(path: str | Path, *, detectors: tuple[str, ...] = ("vnir", "swir")) -> xr.Dataset:
    """Open a PRISMA L1 HE5 file as a lazy Scene.

    Parameters
    ----------
    path : path
        ``PRS_L1_STD_OFFL_…he5``.
    detectors : tuple of {"vnir", "swir"}, keyword-only
        Which cubes to merge (``("swir",)`` for SWIR-only gas work).

    Returns
    -------
    xarray.Dataset
        Scene: ``radiance(y, x, band)`` float32 dask in µW cm⁻² sr⁻¹ nm⁻¹ (bands ascending, flagged bands dropped),
        ``lat``/``lon`` from the SWIR geolocation fields, ``acquisition_time``, ``solar_zenith_deg``.

    Raises
    ------
    MissingFileError, InvalidFileError, InvalidInputError
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path)
    unknown = [d for d in detectors if d not in _DETECTORS]
    if unknown or not detectors:
        raise InvalidInputError("detectors", f"{detectors!r}; choose from 'vnir', 'swir'")
    try:
        handle = h5py.File(path, "r")
    except OSError as exc:
        raise InvalidFileError(path, "format", f"not a readable HDF5 file ({exc})") from None
    with handle:
        if f"{PRISMA_SWATH}/Data Fields" not in handle:
            raise InvalidFileError(path, PRISMA_SWATH, "missing (not a PRISMA L1 HCO product)")
        parts = [part for part in (_detector(handle, path, d) for d in detectors) if part is not None]
        if not parts:
            raise InvalidFileError(path, "List_Cw_Swir", "no valid bands in the requested detectors")
        shapes = {part[0].shape[:2] for part in parts}
        if len(shapes) != 1:
            raise InvalidFileError(path, "Data Fields", f"VNIR and SWIR cubes differ in size: {sorted(shapes)}")
        geo = f"{PRISMA_SWATH}/Geolocation Fields"
        lat = handle[f"{geo}/Latitude_SWIR"][()] if f"{geo}/Latitude_SWIR" in handle else None
        lon = handle[f"{geo}/Longitude_SWIR"][()] if f"{geo}/Longitude_SWIR" in handle else None
        start = handle.attrs.get("Product_StartTime")
        sza = handle.attrs.get("Sun_zenith_angle")

    radiance = da.concatenate([part[0] for part in parts], axis=2)
    wavelength = np.concatenate([part[1] for part in parts])
    fwhm = np.concatenate([part[2] for part in parts])
    order = np.argsort(wavelength, kind="stable")
    wavelength, fwhm = wavelength[order], fwhm[order]
    keep = np.concatenate([[True], np.diff(wavelength) > 0.01])
    order, wavelength, fwhm = order[keep], wavelength[keep], fwhm[keep]
    if not np.array_equal(order, np.arange(radiance.shape[2])):
        radiance = radiance[:, :, order]
    radiance = radiance.rechunk({2: -1})

    attrs: dict[str, Any] = {"sensor": "prisma", "source": str(path)}
    if start is not None:
        text = start.decode() if isinstance(start, bytes) else str(start)
        attrs["acquisition_time"] = text.rstrip("Z").split("+")[0] + "Z"
    if sza is not None:
        attrs["solar_zenith_deg"] = float(np.asarray(sza).ravel()[0])
    coords: dict[str, Any] = {
        "wavelength": ("band", wavelength, {"units": "nm"}),
        "fwhm": ("band", fwhm, {"units": "nm"}),
    }
    if lat is not None and lon is not None and lat.shape == radiance.shape[:2] == lon.shape:
        coords["lat"] = (("y", "x"), np.asarray(lat, dtype=np.float64), {"units": "degrees_north"})
        coords["lon"] = (("y", "x"), np.asarray(lon, dtype=np.float64), {"units": "degrees_east"})
    scene = xr.Dataset(
        {"radiance": (("y", "x", "band"), radiance, {"units": RADIANCE_UNITS, "long_name": "at-sensor radiance"})},
        coords=coords,
        attrs=attrs,
    )
    validate_scene(scene, source=str(path))
    lines = radiance.shape[0]
    probe = np.unique(np.linspace(0, lines - 1, min(lines, 9)).astype(int))
    sample = np.asarray(radiance[probe].compute(scheduler="synchronous"))
    if not np.any(sample > 0):
        raise InvalidFileError(path, "Data Fields", "every pixel is fill (DN 0)")
    return scene
