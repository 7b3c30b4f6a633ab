"""ENVI headers and file names: the one header parser, the data layout a header describes, companion file names.

:func:`read_envi_header` parses ``key = value`` lines (``{a, b, ...}`` lists); :func:`envi_layout` turns the layout
keys into an :class:`EnviLayout` checked against the data file's size; :func:`find_envi_files` pairs a data file
with its header; :func:`companion_path` finds the AVIRIS-NG companions (``_loc``, ``_igm``, ``_obs``, ``_glt``).
NumPy only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from plumetrace.errors import InvalidFileError, MissingFileError

__all__ = [
    "DATA_SUFFIXES",
    "ENVI_DTYPES",
    "FILL_VALUE",
    "OBS_BANDS",
    "OBS_FIELDS",
    "EnviLayout",
    "band_index",
    "companion_path",
    "data_stem",
    "envi_layout",
    "find_envi_files",
    "header_floats",
    "header_integer",
    "header_number",
    "read_envi_header",
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
#: Suffixes of an ENVI data file beside its header (none, or one of these).
DATA_SUFFIXES = ("", ".img", ".dat", ".raw", ".bil", ".bip", ".bsq", ".bin")
#: ``data ignore value`` plumetrace writes.
FILL_VALUE = -9999.0
#: Band names of an AVIRIS-NG ``_obs`` file, in order.
OBS_BANDS = (
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
#: Scene data variable ← (``_obs`` band-name fragment, default band index).
OBS_FIELDS = {
    "view_azimuth_deg": ("to-sensor azimuth", 1),
    "view_zenith_deg": ("to-sensor zenith", 2),
    "solar_azimuth_deg": ("to-sun azimuth", 3),
    "solar_zenith_deg": ("to-sun zenith", 4),
}
_RAW_TEXT_KEYS = ("map info", "description", "coordinate system string", "projection info")


def read_envi_header(hdr_path: str | Path) -> dict[str, Any]:
    """Parse an ENVI header into a dict of lower-case keys → str (or list of str for ``{a, b, ...}`` values).

    ``map info``, ``description``, ``coordinate system string`` and ``projection info`` keep their raw text (braces
    stripped).

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
            if key in _RAW_TEXT_KEYS:
                header[key] = " ".join(inner.split())
            else:
                header[key] = [item.strip() for item in inner.replace("\n", " ").split(",")] if inner else []
        else:
            header[key] = value
    return header


def header_number(header: dict[str, Any], key: str, source: Path, *, default: float | None = None) -> float:
    """The number a header key holds (the first item of a list), or ``default`` when it is missing.

    Raises
    ------
    InvalidFileError
        Missing without a default, or not a number (naming ``source`` and ``key``).
    """
    value = header.get(key)
    if value is None or value == "":
        if default is None:
            raise InvalidFileError(source, key, "missing")
        return default
    try:
        return float(value if isinstance(value, str) else value[0])
    except (ValueError, IndexError):
        raise InvalidFileError(source, key, f"{value!r} is not a number") from None


def header_integer(header: dict[str, Any], key: str, source: Path, *, default: int | None = None) -> int:
    """A non-negative whole number from the header (see :func:`header_number`)."""
    number = header_number(header, key, source, default=None if default is None else float(default))
    if not np.isfinite(number) or number != int(number) or number < 0:
        raise InvalidFileError(source, key, f"{number:g} is not a non-negative integer")
    return int(number)


def header_floats(header: dict[str, Any], key: str, source: Path, count: int) -> np.ndarray | None:
    """``count`` numbers of a ``{a, b, ...}`` key as float64, or None when the key is missing.

    Raises
    ------
    InvalidFileError
        A value that is not a number, or not ``count`` of them.
    """
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


def find_envi_files(path: str | Path) -> tuple[Path, Path]:
    """Return ``(data_path, header_path)`` for a path naming either the data file or its header.

    Looks for ``<data>.hdr`` (AVIRIS-NG style) then ``<data stem>.hdr``; given a header, for the data file with no
    suffix or one of ``.img .dat .raw .bil .bip .bsq .bin``.

    Raises
    ------
    MissingFileError
        No data file or no header.
    """
    path = Path(path)
    if path.suffix.lower() == ".hdr":
        header = path
        if not header.is_file():
            raise MissingFileError(header, "ENVI header")
        base = path.with_suffix("")
        for suffix in DATA_SUFFIXES:
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


@dataclass(frozen=True)
class EnviLayout:
    """Where the values of an ENVI cube lie in its data file.

    Attributes
    ----------
    lines, samples, bands : int
        Cube dimensions.
    offset : int
        ``header offset``, bytes before the first value.
    dtype : numpy.dtype
        Value type with its byte order.
    interleave : {"bil", "bip", "bsq"}
    ignore_value : float or None
        ``data ignore value``.
    """

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
    samples = header_integer(header, "samples", header_path)
    lines = header_integer(header, "lines", header_path)
    bands = header_integer(header, "bands", header_path)
    for key, value in (("samples", samples), ("lines", lines), ("bands", bands)):
        if value == 0:
            raise InvalidFileError(header_path, key, "0; must be a positive whole number")
    offset = header_integer(header, "header offset", header_path, default=0)
    code = header_integer(header, "data type", header_path)
    if code not in ENVI_DTYPES:
        raise InvalidFileError(header_path, "data type", f"{code} is not supported (use 1, 2, 3, 4, 5, 12-15)")
    byte_order = header_integer(header, "byte order", header_path, default=0)
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
    ignore_value = header_number(header, "data ignore value", header_path) if ignore not in (None, "") else None
    return EnviLayout(lines, samples, bands, offset, dtype, interleave, ignore_value)


def data_stem(data_path: Path) -> Path:
    """The data file's path without its data suffix and a trailing ``_img`` / ``_rdn`` (companions' common stem)."""
    name = data_path.name
    if data_path.suffix.lower() in DATA_SUFFIXES[1:]:
        name = data_path.stem
    for tail in ("_img", "_rdn"):
        if name.lower().endswith(tail):
            name = name[: -len(tail)]
            break
    return data_path.with_name(name)


def companion_path(data_path: Path, kind: str) -> Path | None:
    """``<stem>_<kind>`` beside the data file, with a header (AVIRIS-NG names ``ang…_rdn_v2p9_img`` →
    ``ang…_rdn_v2p9_<kind>``), or None."""
    candidates = []
    for stem in (data_stem(data_path), data_path.with_suffix(""), data_path):
        for suffix in ("", ".img", ".dat"):
            candidates.append(stem.with_name(f"{stem.name}_{kind}{suffix}"))
    for candidate in candidates:
        if candidate.is_file() and (
            candidate.with_name(candidate.name + ".hdr").is_file() or candidate.with_suffix(".hdr").is_file()
        ):
            return candidate
    return None


def band_index(header: dict[str, Any], fragment: str, default: int, nbands: int) -> int | None:
    """Index of the first band whose ``band names`` entry contains ``fragment``; else ``default`` if it exists."""
    names = header.get("band names")
    if isinstance(names, list):
        for i, name in enumerate(names):
            if fragment in name.lower():
                return i
    return default if default < nbands else None
