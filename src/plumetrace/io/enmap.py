"""EnMAP L1B (DLR format): VNIR and SWIR GeoTIFF cubes + METADATA.XML, read as one lazy Scene.

Layout (EnMAP L1B product, as read by GFZ's EnPT and the EnMAP-Box importer):

* ``ENMAP01-…-SPECTRAL_IMAGE_VNIR.TIF`` and ``…_SWIR.TIF``: DN cubes, one TIFF band per spectral band, in sensor
  geometry; file names in ``product/image/vnir/name`` and ``product/image/swir/name`` of the metadata;
* ``…-METADATA.XML``: ``specific/bandCharacterisation/bandID`` (VNIR bands first, then SWIR) with
  ``wavelengthCenterOfBand`` and ``FWHMOfBand`` (nm), ``GainOfBand`` and ``OffsetOfBand``:
  radiance = DN × gain + offset in mW m⁻² sr⁻¹ nm⁻¹; ``base/temporalCoverage/startTime``;
  ``specific/sunElevationAngle/center`` (degrees).

VNIR and SWIR overlap near 900–1000 nm: both are kept and the merged bands sorted by wavelength (bands closer than
0.01 nm keep the VNIR one).
"""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr

from plumetrace.errors import InvalidFileError, MissingFileError
from plumetrace.io._blocks import block_request
from plumetrace.scene import RADIANCE_UNITS, radiance_unit_scale, validate_scene

__all__ = ["read_enmap_l1b", "find_enmap_metadata", "ENMAP_RADIANCE_UNITS"]

ENMAP_RADIANCE_UNITS = "mW m-2 sr-1 nm-1"
_CHUNK_BYTES = 32 * 2**20


def find_enmap_metadata(path: str | Path) -> Path | None:
    """The ``*METADATA.XML`` of an EnMAP product folder (or the file itself); None if there is none."""
    path = Path(path)
    if path.is_file() and path.name.upper().endswith("METADATA.XML"):
        return path
    if path.is_dir():
        matches = sorted(p for p in path.iterdir() if p.name.upper().endswith("METADATA.XML"))
        return matches[0] if matches else None
    return None


def _text(root: ElementTree.Element, xpath: str) -> str | None:
    node = root.find(xpath)
    return None if node is None or node.text is None else node.text.strip()


def _band_table(root: ElementTree.Element, xml_path: Path) -> dict[str, np.ndarray]:
    bands = root.findall(".//bandCharacterisation/bandID")
    if not bands:
        raise InvalidFileError(xml_path, "bandCharacterisation", "missing")
    table: dict[str, list[float]] = {
        k: [] for k in ("wavelengthCenterOfBand", "FWHMOfBand", "GainOfBand", "OffsetOfBand")
    }
    for number, band in enumerate(bands, start=1):
        for key, values in table.items():
            text = _text(band, key)
            if text is None:
                raise InvalidFileError(xml_path, key, f"missing for band {band.get('number', number)}")
            try:
                values.append(float(text))
            except ValueError:
                raise InvalidFileError(xml_path, key, f"{text!r} is not a number") from None
    return {k: np.asarray(v, dtype=np.float64) for k, v in table.items()}


@contextmanager
def _quiet() -> Iterator[None]:
    """L1B cubes are in sensor geometry: silence rasterio's NotGeoreferencedWarning."""
    from rasterio.errors import NotGeoreferencedWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        yield


class _TifCube:
    """Lazy (line, sample, band) view of a band-per-layer GeoTIFF; picklable (opens the file per block)."""

    def __init__(self, path: Path, lines: int, samples: int, bands: int, dtype: Any) -> None:
        self.path = path
        self.shape = (lines, samples, bands)
        self.dtype = np.dtype(dtype)
        self.ndim = 3

    def __getitem__(self, key: Any) -> np.ndarray:
        import rasterio
        from rasterio.windows import Window

        request = block_request(key, self.shape)
        (row0, row1), (col0, col1) = request.rows, request.cols
        with _quiet(), rasterio.open(self.path) as src:
            block = src.read(window=Window(col0, row0, col1 - col0, row1 - row0))  # (band, rows, cols)
        return request.finish(block.transpose(1, 2, 0))


def _open_tif(path: Path, bands: int) -> tuple[da.Array, float | None]:
    import rasterio

    try:
        with _quiet(), rasterio.open(path) as src:
            count, lines, samples, dtype, nodata = src.count, src.height, src.width, src.dtypes[0], src.nodata
    except rasterio.errors.RasterioError as exc:
        raise InvalidFileError(path, "format", f"not a readable GeoTIFF ({exc})") from None
    if count != bands:
        raise InvalidFileError(path, "bands", f"{count} in the TIFF, metadata lists {bands}")
    rows = int(max(1, min(4096, _CHUNK_BYTES // max(1, samples * bands * 4))))
    cube = _TifCube(path, lines, samples, bands, dtype)
    name = f"enmap-{da.core.tokenize(str(path.resolve()), path.stat().st_mtime_ns)}"
    data = da.from_array(cube, chunks=(rows, samples, bands), asarray=False, lock=False, inline_array=True, name=name)
    return data, (None if nodata is None else float(nodata))


def read_enmap_l1b(path: str | Path) -> xr.Dataset:
    """Open an EnMAP L1B product (folder or its METADATA.XML) as a lazy Scene.

    Returns
    -------
    xarray.Dataset
        Scene: ``radiance(y, x, band)`` float32 dask (rows chunked, bands whole) in µW cm⁻² sr⁻¹ nm⁻¹, VNIR and
        SWIR merged by ascending wavelength; ``acquisition_time``; ``solar_zenith_deg`` = 90° − sun elevation.

    Raises
    ------
    MissingFileError, InvalidFileError
        No metadata or cube, malformed XML, missing band characterisation, band count mismatch, all-fill data.
    """
    path = Path(path)
    if not path.exists():
        raise MissingFileError(path)
    xml_path = find_enmap_metadata(path)
    if xml_path is None:
        raise MissingFileError(path / "*METADATA.XML", "EnMAP metadata")
    try:
        root = ElementTree.parse(xml_path).getroot()
    except ElementTree.ParseError as exc:
        raise InvalidFileError(xml_path, "XML", str(exc)) from None
    table = _band_table(root, xml_path)
    unit_scale = radiance_unit_scale(ENMAP_RADIANCE_UNITS)
    start = 0
    parts: list[tuple[da.Array, slice]] = []
    for detector in ("vnir", "swir"):
        name = _text(root, f".//product/image/{detector}/name")
        channels = _text(root, f".//product/image/{detector}/channels")
        if name is None:
            candidates = sorted(xml_path.parent.glob(f"*SPECTRAL_IMAGE_{detector.upper()}*.TIF"))
            if not candidates:
                continue
            tif = candidates[0]
        else:
            tif = xml_path.parent / name
        if not tif.is_file():
            raise MissingFileError(tif, f"EnMAP {detector.upper()} cube")
        count = int(channels) if channels else None
        if count is None:
            import rasterio

            with _quiet(), rasterio.open(tif) as src:
                count = src.count
        if start + count > table["wavelengthCenterOfBand"].size:
            raise InvalidFileError(
                xml_path,
                "bandCharacterisation",
                f"{table['wavelengthCenterOfBand'].size} bands listed, cubes need {start + count}",
            )
        dn, nodata = _open_tif(tif, count)
        band_slice = slice(start, start + count)
        gain = (table["GainOfBand"][band_slice] * unit_scale).astype(np.float32)
        offset = (table["OffsetOfBand"][band_slice] * unit_scale).astype(np.float32)
        radiance = dn.astype(np.float32) * gain + offset
        if nodata is not None:
            radiance = da.where(dn == nodata, np.float32(np.nan), radiance)
        parts.append((radiance, band_slice))
        start += count
    if not parts:
        raise MissingFileError(xml_path.parent / "*SPECTRAL_IMAGE_*.TIF", "EnMAP spectral cube")
    shapes = {p[0].shape[:2] for p in parts}
    if len(shapes) != 1:
        raise InvalidFileError(xml_path.parent, "SPECTRAL_IMAGE", f"VNIR and SWIR cubes differ in size: {shapes}")
    radiance = da.concatenate([p[0] for p in parts], axis=2)
    index = np.concatenate([np.arange(p[1].start, p[1].stop) for p in parts])
    wavelength = table["wavelengthCenterOfBand"][index]
    fwhm = table["FWHMOfBand"][index]
    order = np.argsort(wavelength, kind="stable")
    keep = np.concatenate([[True], np.diff(wavelength[order]) > 0.01])
    order = order[keep]
    if not np.array_equal(order, np.arange(radiance.shape[2])):
        radiance = radiance[:, :, order]
    radiance = radiance.rechunk({2: -1})

    attrs: dict[str, Any] = {"sensor": "enmap", "source": str(xml_path.parent)}
    start_time = _text(root, ".//base/temporalCoverage/startTime")
    if start_time:
        attrs["acquisition_time"] = start_time if start_time.endswith("Z") else start_time + "Z"
    elevation = _text(root, ".//specific/sunElevationAngle/center")
    if elevation:
        attrs["solar_zenith_deg"] = 90.0 - float(elevation)
    scene = xr.Dataset(
        {"radiance": (("y", "x", "band"), radiance, {"units": RADIANCE_UNITS, "long_name": "at-sensor radiance"})},
        coords={
            "wavelength": ("band", wavelength[order], {"units": "nm"}),
            "fwhm": ("band", fwhm[order], {"units": "nm"}),
        },
        attrs=attrs,
    )
    validate_scene(scene, source=str(xml_path))
    lines = radiance.shape[0]
    probe = np.unique(np.linspace(0, lines - 1, min(lines, 9)).astype(int))
    if not np.any(np.isfinite(np.asarray(radiance[probe].compute(scheduler="synchronous")))):
        raise InvalidFileError(xml_path.parent, "SPECTRAL_IMAGE", "every pixel is fill (nodata)")
    return scene
