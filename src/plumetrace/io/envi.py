"""ENVI radiance cubes (AVIRIS-NG, AVIRIS-3, generic): lazy reader and streaming writer.

Reader: :func:`read_envi` returns a lazy Scene whose ``radiance`` is a dask array chunked by rows with the bands
whole; each chunk is read from a memory map only when computed, so multi-GB files open instantly and stream
with bounded memory. BIL, BIP and BSQ interleaves, either byte order, ENVI data types 1, 2, 3, 4, 5, 12 (and 13,
14, 15), ``header offset``, ``data ignore value`` (→ NaN), ``map info`` with ``rotation=``, and the AVIRIS-NG
companion files ``<stem>_glt``, ``<stem>_loc``, ``<stem>_igm``, ``<stem>_obs`` are understood.

Writer: :func:`write_envi` writes float32 with a header beside it (``<path>.hdr``, AVIRIS-NG style), row chunk by
row chunk, and the ``_glt``, ``_loc`` and ``_obs`` companions when the Scene carries them.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from plumetrace.errors import InvalidFileError, InvalidInputError, MissingFileError, PlumetraceWarning

if TYPE_CHECKING:
    import dask.array as da
    import xarray as xr

# dask, xarray, the Scene helpers and georef load inside the functions that need them: the header helpers
# (envi_metadata) serve the file-to-file detection path, whose start-up time they would otherwise double.
RADIANCE_UNITS = "uW cm-2 sr-1 nm-1"  # plumetrace.scene.RADIANCE_UNITS (checked by tests/io/test_envi.py)

__all__ = [
    "ENVI_DTYPES",
    "read_envi_header",
    "find_envi_files",
    "open_envi_raw",
    "envi_metadata",
    "envi_companions",
    "check_envi_values",
    "envi_radiance_scale",
    "read_envi",
    "write_envi_header",
    "write_envi",
    "CHUNK_BYTES",
]

#: ENVI ``data type`` code → NumPy dtype (byte order applied separately).
ENVI_DTYPES: dict[int, str] = {
    1: "u1",
    2: "i2",
    3: "i4",
    4: "f4",
    5: "f8",
    12: "u2",
    13: "u4",
    14: "i8",
    15: "u8",
}
_CODE_OF_DTYPE = {np.dtype(v).str[1:]: k for k, v in ENVI_DTYPES.items()}

#: Target size of one row chunk of float32 radiance, bytes.
CHUNK_BYTES = 32 * 2**20

_DATA_SUFFIXES = ("", ".img", ".dat", ".raw", ".bil", ".bip", ".bsq", ".bin")
_WAVELENGTH_SCALE = {
    "nanometers": 1.0,
    "nanometer": 1.0,
    "nm": 1.0,
    "micrometers": 1000.0,
    "micrometer": 1000.0,
    "microns": 1000.0,
    "micron": 1000.0,
    "um": 1000.0,
    "µm": 1000.0,
}
_SENSOR_NAMES = {
    "aviris-ng": "aviris-ng",
    "avirisng": "aviris-ng",
    "aviris ng": "aviris-ng",
    "ang": "aviris-ng",
    "aviris-3": "aviris-3",
    "aviris3": "aviris-3",
    "av3": "aviris-3",
    "aviris": "aviris-classic",
    "aviris-classic": "aviris-classic",
    "aviris-c": "aviris-classic",
    "emit": "emit",
    "prisma": "prisma",
    "enmap": "enmap",
    "generic": "generic",
}
_FILENAME_PATTERNS = (
    (re.compile(r"^ang(\d{8})t(\d{6})", re.I), "aviris-ng"),
    (re.compile(r"^av3(\d{8})t(\d{6})", re.I), "aviris-3"),
    (re.compile(r"^emit(\d{8})t(\d{6})", re.I), "emit"),
    (re.compile(r"^f(\d{6})t\d{2}p\d{2}r\d{2}", re.I), "aviris-classic"),
)
_OBS_BANDS = (
    "path length (m)",
    "to-sensor azimuth (0 to 360 degrees cw from n)",
    "to-sensor zenith (0 to 90 degrees from zenith)",
    "to-sun azimuth (0 to 360 degrees cw from n)",
    "to-sun zenith (0 to 90 degrees from zenith)",
    "solar phase",
    "slope",
    "aspect",
    "cosine(i)",
    "utc time",
    "earth-sun distance (au)",
)
# Scene data variable ← (OBS band-name fragment, default band index).
_OBS_FIELDS = {
    "view_azimuth_deg": ("to-sensor azimuth", 1),
    "view_zenith_deg": ("to-sensor zenith", 2),
    "solar_azimuth_deg": ("to-sun azimuth", 3),
    "solar_zenith_deg": ("to-sun zenith", 4),
}
_FILL_VALUE = -9999.0
_PROBE_ROWS = 9  # whole lines probed for fill, byte order and plausible values


# --------------------------------------------------------------------------------------------------- header


def read_envi_header(hdr_path: str | Path) -> dict[str, Any]:
    """Parse an ENVI header into a dict of lower-case keys → str (or list of str for ``{a, b, ...}`` values).

    ``map info``, ``description`` and ``coordinate system string`` keep their raw text (braces stripped).

    Raises
    ------
    MissingFileError
        The header does not exist.
    InvalidFileError
        The first line is not ``ENVI`` or a brace is never closed.
    """
    hdr_path = Path(hdr_path)
    if not hdr_path.is_file():
        raise MissingFileError(hdr_path, "ENVI header")
    try:
        text = hdr_path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InvalidFileError(hdr_path, "header", str(exc)) from None
    lines = text.splitlines()
    if not lines or lines[0].strip().upper() != "ENVI":
        raise InvalidFileError(hdr_path, "header", "first line is not 'ENVI'")
    header: dict[str, Any] = {}
    i = 1
    while i < len(lines):
        line = lines[i]
        i += 1
        if "=" not in line or line.lstrip().startswith(";"):
            continue
        key, _, value = line.partition("=")
        key = " ".join(key.strip().lower().split())
        value = value.strip()
        if value.startswith("{"):
            while "}" not in value:
                if i >= len(lines):
                    raise InvalidFileError(hdr_path, key, "'{' is never closed")
                value += "\n" + lines[i]
                i += 1
            inner = value[1 : value.rindex("}")].strip()
            if key in ("map info", "description", "coordinate system string", "projection info"):
                header[key] = " ".join(inner.split())
            else:
                header[key] = [item.strip() for item in inner.replace("\n", " ").split(",")] if inner else []
        else:
            header[key] = value
    return header


def _number(header: dict[str, Any], key: str, source: Path, *, default: float | None = None) -> float:
    value = header.get(key)
    if value is None or value == "":
        if default is None:
            raise InvalidFileError(source, key, "missing")
        return default
    try:
        return float(value if isinstance(value, str) else value[0])
    except (ValueError, IndexError):
        raise InvalidFileError(source, key, f"{value!r} is not a number") from None


def _integer(header: dict[str, Any], key: str, source: Path, *, default: int | None = None) -> int:
    number = _number(header, key, source, default=None if default is None else float(default))
    if not np.isfinite(number) or number != int(number) or number < 0:
        raise InvalidFileError(source, key, f"{number:g} is not a non-negative integer")
    return int(number)


def _floats(header: dict[str, Any], key: str, source: Path, count: int) -> np.ndarray | None:
    value = header.get(key)
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    try:
        array = np.array([float(v) for v in items if v != ""], dtype=np.float64)
    except ValueError as exc:
        raise InvalidFileError(source, key, f"not numeric ({exc})") from None
    if array.size != count:
        raise InvalidFileError(source, key, f"{array.size} values for {count} bands")
    return array


# --------------------------------------------------------------------------------------------------- files


def find_envi_files(path: str | Path) -> tuple[Path, Path]:
    """Return ``(data_path, header_path)`` for a path naming either the data file or its header.

    Looks for ``<data>.hdr`` (AVIRIS-NG style) then ``<data stem>.hdr``; given a header, for the data file with no
    suffix or one of ``.img .dat .raw .bil .bip .bsq .bin``.
    """
    path = Path(path)
    if path.suffix.lower() == ".hdr":
        header = path
        if not header.is_file():
            raise MissingFileError(header, "ENVI header")
        base = path.with_suffix("")
        for suffix in _DATA_SUFFIXES:
            candidate = base.with_name(base.name + suffix)
            if candidate.is_file():
                return candidate, header
        raise MissingFileError(base, "ENVI data file for this header")
    if not path.is_file():
        raise MissingFileError(path)
    for header in (path.with_name(path.name + ".hdr"), path.with_suffix(".hdr")):
        if header.is_file():
            return path, header
    raise MissingFileError(path.with_name(path.name + ".hdr"), "ENVI header")


class _EnviCube:
    """Lazy (line, sample, band) view of an ENVI file, converted to float32 physical values per block.

    Holds no open file, so dask graphs pickle it cheaply; ``__getitem__`` maps the file, copies only the requested
    block and unmaps it again.
    """

    def __init__(
        self,
        path: Path,
        *,
        dtype: np.dtype,
        interleave: str,
        lines: int,
        samples: int,
        bands: int,
        offset: int,
        scale: float = 1.0,
        ignore_value: float | None = None,
        out_dtype: Any = np.float32,
    ) -> None:
        self.path = path
        self.file_dtype = dtype
        self.interleave = interleave
        self.offset = offset
        self.scale = scale
        self.ignore_value = ignore_value
        self.shape = (lines, samples, bands)
        self.dtype = np.dtype(out_dtype)
        self.ndim = 3

    def _view(self) -> tuple[np.memmap, np.ndarray]:
        lines, samples, bands = self.shape
        file_shape = {
            "bil": (lines, bands, samples),
            "bip": (lines, samples, bands),
            "bsq": (bands, lines, samples),
        }[self.interleave]
        raw = np.memmap(self.path, dtype=self.file_dtype, mode="r", offset=self.offset, shape=file_shape)
        axes = {"bil": (0, 2, 1), "bip": (0, 1, 2), "bsq": (1, 2, 0)}[self.interleave]
        return raw, raw.transpose(axes)

    def __getitem__(self, key: Any) -> np.ndarray:
        # Map the file for this block only: pages touched are unmapped again when the block returns, so the
        # resident memory of a long streaming pass stays bounded by the blocks in flight.
        raw, view = self._view()
        try:
            block = np.array(view[key], copy=True)
        finally:
            del view
            mapping = getattr(raw, "_mmap", None)
            del raw
            if mapping is not None:
                mapping.close()
        out = block.astype(self.dtype, copy=False)
        if self.ignore_value is not None and np.issubdtype(self.dtype, np.floating):
            out[block == self.ignore_value] = np.nan
        if self.scale != 1.0:
            out *= self.dtype.type(self.scale)
        return out


def _rows_per_chunk(samples: int, bands: int, itemsize: int = 4) -> int:
    return int(max(1, min(4096, CHUNK_BYTES // max(1, samples * bands * itemsize))))



@dataclass(frozen=True)
class EnviLayout:
    """Where the values of an ENVI cube lie in its data file."""

    lines: int
    samples: int
    bands: int
    offset: int
    dtype: np.dtype
    interleave: str
    ignore_value: float | None


def envi_layout(header: dict[str, Any], header_path: Path, data_path: Path) -> EnviLayout:
    """The data layout a parsed header describes, checked against the data file's size.

    Raises
    ------
    InvalidFileError
        Unknown data type, interleave or byte order, or a file size that does not match the header.
    """
    samples = _integer(header, "samples", header_path)
    lines = _integer(header, "lines", header_path)
    bands = _integer(header, "bands", header_path)
    for key, value in (("samples", samples), ("lines", lines), ("bands", bands)):
        if value == 0:
            raise InvalidFileError(header_path, key, "0; must be a positive whole number")
    offset = _integer(header, "header offset", header_path, default=0)
    code = _integer(header, "data type", header_path)
    if code not in ENVI_DTYPES:
        raise InvalidFileError(header_path, "data type", f"{code} is not supported (use 1, 2, 3, 4, 5, 12-15)")
    byte_order = _integer(header, "byte order", header_path, default=0)
    if byte_order not in (0, 1):
        raise InvalidFileError(header_path, "byte order", f"{byte_order}, expected 0 (little) or 1 (big endian)")
    dtype = np.dtype(("<" if byte_order == 0 else ">") + ENVI_DTYPES[code])
    interleave = str(header.get("interleave", "bsq")).strip().lower()
    if interleave not in ("bil", "bip", "bsq"):
        raise InvalidFileError(header_path, "interleave", f"{interleave!r} is not supported (bil, bip or bsq)")
    expected = offset + lines * samples * bands * dtype.itemsize
    actual = data_path.stat().st_size
    if actual < expected:
        raise InvalidFileError(
            data_path, "data size", f"{actual} bytes but the header implies {expected} (file truncated?)"
        )
    if actual > expected:
        raise InvalidFileError(
            data_path, "data size", f"{actual} bytes but the header implies {expected} (header/data mismatch)"
        )
    ignore = header.get("data ignore value")
    ignore_value = _number(header, "data ignore value", header_path) if ignore not in (None, "") else None
    return EnviLayout(lines, samples, bands, offset, dtype, interleave, ignore_value)

def open_envi_raw(
    path: str | Path, *, out_dtype: Any = np.float32, scale: float = 1.0, apply_ignore: bool = True
) -> tuple[da.Array, dict[str, Any], Path]:
    """Open any ENVI file as a lazy dask array ``(lines, samples, bands)``, chunked by rows with bands whole.

    Parameters
    ----------
    path : path
        Data file (or its header).
    out_dtype : dtype, keyword-only
        Dtype of the returned blocks (float32 by default; pass ``None`` to keep the file's type).
    scale : float, keyword-only
        Factor applied to every value (unit conversion).
    apply_ignore : bool, keyword-only
        Replace ``data ignore value`` with NaN (floating output only).

    Returns
    -------
    (array, header, data_path)

    Raises
    ------
    InvalidFileError
        Unknown data type, interleave or byte order, or a file size that does not match the header.
    """
    data_path, header_path = find_envi_files(path)
    header = read_envi_header(header_path)
    layout = envi_layout(header, header_path, data_path)
    lines, samples, bands, offset = layout.lines, layout.samples, layout.bands, layout.offset
    dtype, interleave, ignore_value = layout.dtype, layout.interleave, layout.ignore_value
    if out_dtype is None:
        out_dtype = dtype.newbyteorder("=")
    cube = _EnviCube(
        data_path,
        dtype=dtype,
        interleave=interleave,
        lines=lines,
        samples=samples,
        bands=bands,
        offset=offset,
        scale=scale,
        ignore_value=ignore_value if apply_ignore else None,
        out_dtype=out_dtype,
    )
    stat = data_path.stat()
    import dask.array as da

    name = f"envi-{da.core.tokenize(str(data_path.resolve()), stat.st_size, stat.st_mtime_ns, scale, str(out_dtype))}"
    rows = _rows_per_chunk(samples, bands, np.dtype(out_dtype).itemsize)
    array = da.from_array(cube, chunks=(rows, samples, bands), name=name, asarray=False, lock=False, inline_array=True)
    return array, header, data_path


# --------------------------------------------------------------------------------------------------- reader


def _wavelength_scale(header: dict[str, Any], wavelength: np.ndarray, source: Path) -> float:
    units = header.get("wavelength units")
    if units is None:
        return 1000.0 if np.nanmax(wavelength) < 30.0 else 1.0
    key = str(units).strip().lower()
    if key not in _WAVELENGTH_SCALE:
        raise InvalidFileError(source, "wavelength units", f"{units!r} is not nanometers or micrometers")
    return _WAVELENGTH_SCALE[key]


def _sensor_and_time(header: dict[str, Any], data_path: Path) -> tuple[str, str | None]:
    sensor = None
    for key in ("sensor type", "sensor"):
        if key in header:
            sensor = _SENSOR_NAMES.get(str(header[key]).strip().lower())
            if sensor:
                break
    acquisition_time = header.get("acquisition time")
    for pattern, name in _FILENAME_PATTERNS:
        match = pattern.match(data_path.name)
        if match:
            sensor = sensor or name
            if acquisition_time is None and len(match.groups()) == 2:
                d, t = match.group(1), match.group(2)
                acquisition_time = f"{d[:4]}-{d[4:6]}-{d[6:8]}T{t[:2]}:{t[2:4]}:{t[4:6]}Z"
            break
    return sensor or "generic", acquisition_time


def _radiance_scale(header: dict[str, Any], sensor: str, source: Path) -> float:
    units = header.get("data units") or header.get("radiance units")
    if isinstance(units, list):
        units = ",".join(units)
    if not units:
        if sensor not in ("aviris-ng", "aviris-3", "emit"):
            warnings.warn(
                f"{source}: data units: missing; assuming {RADIANCE_UNITS}", PlumetraceWarning, stacklevel=3
            )
        return 1.0
    if str(units).strip() == RADIANCE_UNITS:  # plumetrace's own unit: no conversion (and no Scene import)
        return 1.0
    from plumetrace.scene import radiance_unit_scale

    try:
        return radiance_unit_scale(str(units))
    except InvalidInputError as exc:  # name the file
        raise InvalidFileError(source, "data units", exc.problem) from None


def _radiance_scale_quiet(header: dict[str, Any], sensor: str, source: Path) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PlumetraceWarning)
        return _radiance_scale(header, sensor, source)


def _stem(data_path: Path) -> Path:
    name = data_path.name
    if data_path.suffix.lower() in _DATA_SUFFIXES[1:]:
        name = data_path.stem
    for tail in ("_img", "_rdn"):
        if name.lower().endswith(tail):
            name = name[: -len(tail)]
            break
    return data_path.with_name(name)


def _companion(data_path: Path, kind: str) -> Path | None:
    """``<stem>_<kind>`` beside the data file (AVIRIS-NG names ``ang…_rdn_v2p9_img`` → ``ang…_rdn_v2p9_<kind>``)."""
    candidates = []
    for stem in (_stem(data_path), data_path.with_suffix(""), data_path):
        for suffix in ("", ".img", ".dat"):
            candidates.append(stem.with_name(f"{stem.name}_{kind}{suffix}"))
    for candidate in candidates:
        if candidate.is_file() and (
            candidate.with_name(candidate.name + ".hdr").is_file() or candidate.with_suffix(".hdr").is_file()
        ):
            return candidate
    return None


def _band_index(header: dict[str, Any], fragment: str, default: int, nbands: int) -> int | None:
    names = header.get("band names")
    if isinstance(names, list):
        for i, name in enumerate(names):
            if fragment in name.lower():
                return i
    return default if default < nbands else None


def _georef(header: dict[str, Any], source: Path) -> tuple[str | None, tuple[float, ...] | None]:
    if "map info" not in header:
        return None, None
    from plumetrace.georef import affine_from_map_info, crs_from_map_info, parse_map_info

    from plumetrace.scene_checks import check_crs, check_transform

    info = parse_map_info(header["map info"], source=str(source))
    transform = affine_from_map_info(info)
    check_transform(source, "map info", transform)
    crs = header.get("coordinate system string")
    if crs:
        check_crs(source, "coordinate system string", crs)
    else:
        crs = crs_from_map_info(info, source=str(source))
        if crs:
            check_crs(source, "map info", crs)
    return crs, transform


def check_envi_values(data_path: str | Path, header: dict[str, Any], header_path: str | Path, *, scale: float) -> None:
    """Check a sparse probe of an ENVI cube's values (up to 9 whole lines, every band) before any retrieval.

    Shared by :func:`read_envi` (``plumetrace info``, the Scene path of ``detect``) and the lean file-to-file
    detection (:func:`plumetrace.detect.envi_file.detect_envi_file`), so both refuse the same files.

    Raises
    ------
    InvalidFileError
        Every probed pixel is fill; the values look byte-swapped (``byte order`` of the header); or they are not
        at-sensor radiance in any unit (:func:`plumetrace.scene_checks.check_radiance_sample`).
    """
    from plumetrace.scene_checks import check_radiance_sample

    data_path, header_path = Path(data_path), Path(header_path)
    layout = envi_layout(header, header_path, data_path)
    raw_cube = _EnviCube(
        data_path, dtype=layout.dtype, interleave=layout.interleave, lines=layout.lines, samples=layout.samples,
        bands=layout.bands, offset=layout.offset, out_dtype=layout.dtype,
    )
    rows = np.unique(np.linspace(0, layout.lines - 1, min(_PROBE_ROWS, layout.lines)).astype(int))
    sample = np.stack([raw_cube[int(row)] for row in rows])
    check_radiance_sample(data_path, sample, scale=scale, fill_value=layout.ignore_value, byte_order_where=header_path)


def envi_radiance_scale(header: dict[str, Any], header_path: str | Path) -> float:
    """Factor from the cube's ``data units`` to µW cm⁻² sr⁻¹ nm⁻¹ (1 when they are missing; no warning)."""
    header_path = Path(header_path)
    sensor, _ = _sensor_and_time(header, header_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PlumetraceWarning)
        return _radiance_scale(header, sensor, header_path)


def envi_metadata(
    path: str | Path, *, header: dict[str, Any] | None = None, header_path: Path | None = None, check_units: bool = True
) -> tuple[Path, Path, dict[str, Any], np.ndarray, np.ndarray, dict[str, Any]]:
    """Header-only metadata of an ENVI radiance cube (no data read, no xarray).

    Parameters
    ----------
    path : path
        The data file or its header.
    header, header_path : optional, keyword-only
        An already parsed header and its path (skips parsing again).
    check_units : bool, keyword-only
        Check the radiance units (False when the caller already has).

    Returns
    -------
    (data_path, header_path, header, wavelength_nm, fwhm_nm, attrs)
        ``wavelength_nm``/``fwhm_nm`` (bands,) float64 in nm; ``attrs``: the Scene attributes :func:`read_envi` sets
        from the header (sensor, source, acquisition_time, crs/transform, solar/view zenith, ``plumetrace …`` keys).

    Raises
    ------
    MissingFileError, InvalidFileError
        Missing header/data, missing or inconsistent wavelength or fwhm, non-monotonic wavelengths, unknown units.
    """
    from plumetrace.scene_checks import (
        check_acquisition_time,
        check_spectral,
        check_sun_elevation,
        check_zenith,
    )

    if header is None or header_path is None:
        data_path, header_path = find_envi_files(path)
        header = read_envi_header(header_path)
    else:
        data_path = Path(path)
    sensor, acquisition_time = _sensor_and_time(header, data_path)
    if check_units:
        _radiance_scale(header, sensor, header_path)  # unknown units are an error here too
    nbands = _integer(header, "bands", header_path)
    wavelength = _floats(header, "wavelength", header_path, nbands)
    if wavelength is None:
        raise InvalidFileError(header_path, "wavelength", "missing")
    fwhm = _floats(header, "fwhm", header_path, nbands)
    if fwhm is None:
        raise InvalidFileError(header_path, "fwhm", "missing")
    if not (np.all(np.isfinite(wavelength)) and np.all(np.isfinite(fwhm))):  # before the units guess uses them
        check_spectral(header_path, wavelength, fwhm)
    wavelength_scale = _wavelength_scale(header, wavelength, header_path)
    wavelength, fwhm = wavelength * wavelength_scale, fwhm * wavelength_scale
    units = header.get("wavelength units")
    check_spectral(header_path, wavelength, fwhm,
                   hint=f" (check `wavelength units`, {units!r})" if units else " (`wavelength units` missing)")

    attrs: dict[str, Any] = {"sensor": sensor, "source": str(data_path)}
    if acquisition_time:
        field = "acquisition time" if "acquisition time" in header else "file name (acquisition time)"
        attrs["acquisition_time"] = check_acquisition_time(header_path, field, acquisition_time)
    crs, transform = _georef(header, header_path)
    if transform is not None:
        attrs["transform"] = list(transform)
        if crs:
            attrs["crs"] = crs
    for key, attr, what in (("solar zenith", "solar_zenith_deg", "sun"), ("view zenith", "view_zenith_deg", "view")):
        if key in header:
            attrs[attr] = check_zenith(header_path, key, _number(header, key, header_path), what=what)
    if "solar_zenith_deg" not in attrs and "sun elevation" in header:
        attrs["solar_zenith_deg"] = 90.0 - check_sun_elevation(
            header_path, "sun elevation", _number(header, "sun elevation", header_path)
        )
    for key, value in header.items():
        if key.startswith("plumetrace "):
            try:
                attrs[key[len("plumetrace ") :].replace(" ", "_")] = json.loads(
                    value if isinstance(value, str) else ",".join(value)
                )
            except json.JSONDecodeError:
                pass
    return data_path, header_path, header, wavelength, fwhm, attrs


def envi_companions(data_path: str | Path) -> list[str]:
    """Kinds of companion files (``loc``, ``igm``, ``obs``, ``glt``) found beside an ENVI data file."""
    return [kind for kind in ("loc", "igm", "obs", "glt") if _companion(Path(data_path), kind) is not None]


def read_envi(path: str | Path) -> xr.Dataset:
    """Open an ENVI radiance cube as a lazy Scene.

    Parameters
    ----------
    path : path
        The data file (``ang…_rdn_v2p9_img``, ``scene.img``) or its header.

    Returns
    -------
    xarray.Dataset
        Scene (see :mod:`plumetrace.scene`): ``radiance(y, x, band)`` float32 dask array in µW cm⁻² sr⁻¹ nm⁻¹,
        chunked by rows with bands whole; ``wavelength``/``fwhm`` in nm; ``crs``/``transform`` from ``map info``;
        ``lat``/``lon``/``elevation_m`` from ``_loc``; per-pixel ``solar_zenith_deg``, ``view_zenith_deg`` (and
        azimuths) from ``_obs``; ``glt_row``/``glt_col`` (0-based, -1 = none) with ``glt_crs``/``glt_transform``
        from ``_glt``; ``map_x``/``map_y`` from ``_igm``.

    Raises
    ------
    MissingFileError, InvalidFileError
        Missing header/data, truncated data, header/data size mismatch, missing or inconsistent wavelength or
        fwhm, non-monotonic wavelengths, unknown units, unsupported interleave or data type, all-fill data.
    """
    import xarray as xr

    from plumetrace.scene import validate_scene

    data_path, header_path = find_envi_files(path)
    header = read_envi_header(header_path)
    sensor, _ = _sensor_and_time(header, data_path)
    radiance, header, data_path = open_envi_raw(data_path, scale=_radiance_scale(header, sensor, header_path))
    _, _, _, wavelength, fwhm, attrs = envi_metadata(
        data_path, header=header, header_path=header_path, check_units=False
    )

    data_vars: dict[str, Any] = {
        "radiance": (("y", "x", "band"), radiance, {"units": RADIANCE_UNITS, "long_name": "at-sensor radiance"})
    }
    coords: dict[str, Any] = {
        "wavelength": ("band", wavelength, {"units": "nm"}),
        "fwhm": ("band", fwhm, {"units": "nm"}),
    }
    _add_companions(data_path, radiance.shape[:2], data_vars, coords, attrs)
    scene = xr.Dataset(data_vars, coords=coords, attrs=attrs)
    validate_scene(scene, source=str(header_path))
    check_envi_values(data_path, header, header_path, scale=_radiance_scale_quiet(header, sensor, header_path))
    return scene


def _open_companion(path: Path, shape: tuple[int, int], kind: str, *, out_dtype: Any = np.float32) -> tuple[da.Array, dict]:
    array, header, _ = open_envi_raw(path, out_dtype=out_dtype)
    if array.shape[:2] != shape:
        raise InvalidFileError(path, "samples/lines", f"{kind} grid {array.shape[:2]} differs from radiance {shape}")
    return array, header


def _add_companions(
    data_path: Path, shape: tuple[int, int], data_vars: dict[str, Any], coords: dict[str, Any], attrs: dict[str, Any]
) -> None:
    loc_path = _companion(data_path, "loc")
    if loc_path is not None:
        loc, _ = _open_companion(loc_path, shape, "loc", out_dtype=np.float64)
        coords["lon"] = (("y", "x"), loc[:, :, 0], {"units": "degrees_east"})
        coords["lat"] = (("y", "x"), loc[:, :, 1], {"units": "degrees_north"})
        if loc.shape[2] > 2:
            data_vars["elevation_m"] = (("y", "x"), loc[:, :, 2].astype(np.float32), {"units": "m"})
    igm_path = _companion(data_path, "igm")
    if igm_path is not None:
        igm, _ = _open_companion(igm_path, shape, "igm", out_dtype=np.float64)
        coords["map_x"] = (("y", "x"), igm[:, :, 0], {"units": "m", "long_name": "map easting (igm)"})
        coords["map_y"] = (("y", "x"), igm[:, :, 1], {"units": "m", "long_name": "map northing (igm)"})
        if igm.shape[2] > 2 and "elevation_m" not in data_vars:
            data_vars["elevation_m"] = (("y", "x"), igm[:, :, 2].astype(np.float32), {"units": "m"})
    obs_path = _companion(data_path, "obs")
    if obs_path is not None:
        obs, obs_header = _open_companion(obs_path, shape, "obs")
        for name, (fragment, default) in _OBS_FIELDS.items():
            index = _band_index(obs_header, fragment, default, obs.shape[2])
            if index is not None:
                data_vars[name] = (("y", "x"), obs[:, :, index], {"units": "degree"})
                attrs.pop(name, None)
    glt_path = _companion(data_path, "glt")
    if glt_path is not None:
        glt, glt_header, _ = open_envi_raw(glt_path, out_dtype=np.int32, apply_ignore=False)
        if glt.shape[2] < 2:
            raise InvalidFileError(glt_path, "bands", "a GLT needs 2 bands (sample, line)")
        sample_band = _band_index(glt_header, "sample", 0, 2)
        line_band = _band_index(glt_header, "line", 1, 2)
        from plumetrace.georef import glt_from_envi

        glt_row, glt_col = glt_from_envi(glt[:, :, sample_band], glt[:, :, line_band])
        data_vars["glt_row"] = (("gy", "gx"), glt_row, {"long_name": "raw-grid row of each map cell (-1 = none)"})
        data_vars["glt_col"] = (("gy", "gx"), glt_col, {"long_name": "raw-grid column of each map cell (-1 = none)"})
        glt_crs, glt_transform = _georef(glt_header, glt_path)
        if glt_transform is not None:
            attrs["glt_transform"] = list(glt_transform)
            if glt_crs:
                attrs["glt_crs"] = glt_crs


# --------------------------------------------------------------------------------------------------- writer


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
    rows = _rows_per_chunk(samples, bands, dtype.itemsize)
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
    from plumetrace.scene import validate_scene

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
        "data ignore value": f"{_FILL_VALUE:g}",
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
    skip = {"sensor", "source", "crs", "transform", "acquisition_time", "solar_zenith_deg", "view_zenith_deg",
            "glt_crs", "glt_transform"}
    for key, value in scene.attrs.items():
        text = _header_value(value)
        if key not in skip and text is not None and re.fullmatch(r"[A-Za-z0-9_]+", key):
            fields[f"plumetrace {key}"] = text
    write_envi_header(
        path.with_name(path.name + ".hdr"), lines=lines, samples=samples, bands=bands, interleave=interleave,
        fields=fields,
    )
    _write_cube(scene["radiance"].data, path, interleave=interleave, dtype=np.float32, description="writing ENVI",
                fill=_FILL_VALUE)
    _write_companions(scene, path)
    return path


def _one_line_wkt(crs: str) -> str:
    from pyproj import CRS

    return CRS.from_user_input(crs).to_wkt(version="WKT1_GDAL")


def _write_companions(scene: xr.Dataset, path: Path) -> None:
    import dask.array as da

    from plumetrace.georef import glt_to_envi, map_info_from_affine

    stem = _stem(path)
    lines, samples = int(scene.sizes["y"]), int(scene.sizes["x"])
    if "lat" in scene.coords and "lon" in scene.coords:
        elevation = scene["elevation_m"].data if "elevation_m" in scene else da.zeros((lines, samples))
        loc = da.stack([da.asarray(scene["lon"].data), da.asarray(scene["lat"].data), da.asarray(elevation)], axis=2)
        loc_path = stem.with_name(stem.name + "_loc")
        write_envi_header(loc_path.with_name(loc_path.name + ".hdr"), lines=lines, samples=samples, bands=3,
                          data_type=5, fields={
                              "band names": "{Longitude (WGS-84), Latitude (WGS-84), Elevation (m)}",
                              "data ignore value": f"{_FILL_VALUE:g}",
                          })
        _write_cube(loc, loc_path, interleave="bil", dtype=np.float64, description="writing loc", fill=_FILL_VALUE)
    per_pixel = [name for name in _OBS_FIELDS if name in scene.data_vars]
    if per_pixel:
        layers = [da.full((lines, samples), np.nan, dtype=np.float32) for _ in _OBS_BANDS]
        for name in per_pixel:
            layers[_OBS_FIELDS[name][1]] = da.asarray(scene[name].data).astype(np.float32)
        obs = da.stack(layers, axis=2)
        obs_path = stem.with_name(stem.name + "_obs")
        names = ", ".join(n.capitalize() if not n.startswith("to-") else "To-" + n[3:] for n in _OBS_BANDS)
        write_envi_header(obs_path.with_name(obs_path.name + ".hdr"), lines=lines, samples=samples,
                          bands=len(_OBS_BANDS), fields={"band names": "{" + names + "}",
                                                         "data ignore value": f"{_FILL_VALUE:g}"})
        _write_cube(obs, obs_path, interleave="bil", dtype=np.float32, description="writing obs", fill=_FILL_VALUE)
    if "glt_row" in scene and "glt_col" in scene:
        sample, line = glt_to_envi(scene["glt_row"].values, scene["glt_col"].values)
        glt = np.stack([sample, line], axis=2)
        glt_path = stem.with_name(stem.name + "_glt")
        fields = {"band names": "{GLT Sample Lookup, GLT Line Lookup}"}
        if "glt_crs" in scene.attrs and "glt_transform" in scene.attrs:
            fields["map info"] = map_info_from_affine(scene.attrs["glt_transform"], scene.attrs["glt_crs"])
            fields["coordinate system string"] = "{" + _one_line_wkt(scene.attrs["glt_crs"]) + "}"
        write_envi_header(glt_path.with_name(glt_path.name + ".hdr"), lines=glt.shape[0], samples=glt.shape[1],
                          bands=2, data_type=3, fields=fields)
        _write_cube(glt, glt_path, interleave="bil", dtype=np.int32, description="writing glt")
