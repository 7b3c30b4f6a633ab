"""Read one gas-phase infrared spectrum from a JCAMP-DX file as a natural-log absorption coefficient per ppm·m.

The file is parsed with the maintained `jcamp <https://pypi.org/project/jcamp/>`_ reader (``jcamp.readfile``:
``##XYDATA`` in the compressed AFFN/ASDF forms, ``##XFACTOR``/``##YFACTOR`` applied); this module checks the units
and converts the ordinate to α, the natural-log absorption coefficient per ppm·m, so that the transmittance of a
column ``c`` (ppm·m) is ``exp(-α c)``. Columns are referred to 1 atm total pressure (ppm = µmol/mol of an air
sample at 1 atm), the convention of the NIST Quantitative Infrared Database.

Accepted ordinates
------------------
* **QUANT-IR** (NIST SRD 123; ``##YUNITS=(micromol/mol)-1m-1 (base 10)``): a decadic absorption coefficient per
  ppm·m, so ``α = y · ln 10``.
* **Transmittance** with ``##PATH LENGTH`` and ``##PARTIAL_PRESSURE`` (Coblentz Society / Dow spectra): a cell of
  length ``L`` holding the gas at partial pressure ``p`` is a column ``c = L · 10⁶ · p / (1 atm)`` ppm·m, and
  ``α = −ln(T / T₀) / c``. ``T₀`` is the spectrum's baseline (the upper envelope of ``T``: its running maximum over
  150 cm⁻¹, smoothed over the same width), because digitised hard-copy spectra rarely reach 1 away from bands;
  ratioed ``T`` is clipped to (0, 1]. A partial pressure given as ``PPM`` is a mixing ratio at 1 atm. Saturated band
  cores (``T`` of a few per cent) make α there a lower bound; the sample temperature is taken equal to that of the
  plume (no temperature scaling).
* **Absorbance** (base 10) with ``##PATH LENGTH`` and ``##PARTIAL_PRESSURE`` or ``##CONCENTRATION``: the same
  column, ``α = y · ln 10 / c``.

A transmittance or absorbance spectrum with no path length or no amount is not quantitative: it is refused (one
line naming the file and the missing field) unless the caller asks for shape-only spectra (``quantitative=False``
in the result; α scaled to a peak of 1 per unit column). Unknown ``##XUNITS``/``##YUNITS`` or unparsable amounts are
refused naming the field.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from plumetrace.errors import InvalidFileError

__all__ = ["JcampSpectrum", "read_jcamp_spectrum", "normalise_gas_name", "read_jcamp_title"]

_LN10 = math.log(10.0)
_ATM_PA = 101_325.0
#: Pressure units → Pa.
_PRESSURE_PA = {
    "mmhg": 133.322_368,
    "torr": 133.322_368,
    "atm": _ATM_PA,
    "pa": 1.0,
    "hpa": 100.0,
    "kpa": 1000.0,
    "mbar": 100.0,
    "bar": 100_000.0,
    "psi": 6894.757,
}
#: Length units → m.
_LENGTH_M = {"cm": 0.01, "m": 1.0, "mm": 0.001, "km": 1000.0}
_QUANT_IR_UNITS = re.compile(r"^\(\s*(micromol/mol|umol/mol|ppm)\s*\)\s*-1\s*m\s*-1\s*\(\s*base\s*10\s*\)$")
_WAVENUMBER_UNITS = {"1/cm", "cm-1", "cm^-1", "cm**-1"}
_WAVELENGTH_UNITS = {"micrometers": 1000.0, "um": 1000.0, "microns": 1000.0, "nanometers": 1.0, "nm": 1.0}
_BASELINE_WINDOW_CM1 = 150.0


@dataclass(frozen=True, eq=False)  # holds arrays: compared and hashed by identity
class JcampSpectrum:
    """One gas spectrum converted to α per ppm·m on its own wavenumber grid.

    name : normalised gas name (from ``##TITLE``); path : the file; wavenumber_cm1 : (n,) increasing, cm⁻¹;
    absorption_per_ppm_m : (n,) natural-log absorption coefficient per ppm·m; kind : ``quant-ir``,
    ``transmittance`` or ``absorbance``; quantitative : False for a shape-only spectrum (no amount in the file).
    """

    name: str
    path: Path
    wavenumber_cm1: np.ndarray
    absorption_per_ppm_m: np.ndarray
    kind: str
    quantitative: bool


def normalise_gas_name(text: str) -> str:
    """Lower-case, trimmed, single-spaced gas name (``"  AMMONIA "`` → ``"ammonia"``)."""
    return " ".join(str(text).strip().lower().split())


def read_jcamp_title(path: str | Path) -> str | None:
    """The normalised ``##TITLE`` of a JCAMP-DX file from its header lines only (None when it has none)."""
    with Path(path).open("r", encoding="latin-1") as handle:
        for line in handle:
            if line.upper().startswith("##TITLE="):
                return normalise_gas_name(line.split("=", 1)[1]) or None
            if line.upper().startswith("##XYDATA") or line.upper().startswith("##PEAK"):
                return None
    return None


def _number_and_unit(text: str) -> tuple[float, str] | None:
    match = re.match(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z%]*)", str(text))
    if not match:
        return None
    return float(match.group(1)), match.group(2).lower()


def _path_length_m(path: Path, header: dict) -> float | None:
    raw = header.get("path length")
    if raw is None or str(raw).strip() == "":
        return None
    parsed = _number_and_unit(str(raw))
    if parsed is None or parsed[1] not in _LENGTH_M or not parsed[0] > 0:
        raise InvalidFileError(path, "##PATH LENGTH", f"{raw!r}: expected a positive length in cm, mm or m")
    return parsed[0] * _LENGTH_M[parsed[1]]


def _amount_ppm(path: Path, header: dict) -> float | None:
    """Mixing ratio (ppm at 1 atm total pressure) of the sample from ``##PARTIAL_PRESSURE`` or ``##CONCENTRATION``."""
    for key, field in (("partial_pressure", "##PARTIAL_PRESSURE"), ("partial pressure", "##PARTIAL PRESSURE")):
        raw = header.get(key)
        if raw is None or str(raw).strip() == "":
            continue
        parsed = _number_and_unit(str(raw))
        if parsed is None or not parsed[0] > 0:
            raise InvalidFileError(path, field, f"{raw!r}: expected a positive pressure (mmHg, torr, Pa, kPa, atm)")
        value, unit = parsed
        if unit == "ppm":
            return value
        if unit not in _PRESSURE_PA:
            raise InvalidFileError(path, field, f"{raw!r}: unknown unit {unit!r} (mmHg, torr, Pa, kPa, atm, ppm)")
        return value * _PRESSURE_PA[unit] / _ATM_PA * 1e6
    raw = header.get("concentration") or header.get("concentrations")
    if raw is not None and str(raw).strip():
        parsed = _number_and_unit(str(raw))
        if parsed is None or not parsed[0] > 0 or parsed[1] not in ("ppm", "ppmv", "%"):
            raise InvalidFileError(path, "##CONCENTRATION", f"{raw!r}: expected a mixing ratio in ppm or %")
        return parsed[0] * (1e4 if parsed[1] == "%" else 1.0)
    return None


def _baseline(wavenumber_cm1: np.ndarray, transmittance: np.ndarray) -> np.ndarray:
    from scipy.ndimage import maximum_filter1d, uniform_filter1d

    step = float(np.median(np.diff(wavenumber_cm1)))
    size = max(3, int(round(_BASELINE_WINDOW_CM1 / step)) | 1)
    envelope = maximum_filter1d(transmittance, size=size, mode="nearest")
    smooth = uniform_filter1d(envelope, size=size, mode="nearest")
    return np.maximum(np.maximum(smooth, transmittance), 1e-6)


def read_jcamp_spectrum(path: str | Path, *, allow_non_quantitative: bool = False) -> JcampSpectrum:
    """Read one JCAMP-DX gas spectrum and convert it to α per ppm·m (natural log); see the module docstring.

    Parameters
    ----------
    path : path
        A ``.jdx``/``.dx`` file with one ``##XYDATA`` block.
    allow_non_quantitative : bool, keyword-only
        Accept spectra with no path length or amount as shape-only (peak α = 1 per unit column).

    Raises
    ------
    InvalidFileError
        Unreadable file, no title, unknown ``##XUNITS``/``##YUNITS``, missing or malformed path/amount, no data.
    """
    import jcamp

    path = Path(path)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # the reader prints its own diagnostics
            header = jcamp.readfile(str(path))
    except Exception as exc:  # the reader raises bare ValueError/IndexError on malformed data
        raise InvalidFileError(path, "##XYDATA", f"not readable as JCAMP-DX ({type(exc).__name__}: {exc})") from None
    name = normalise_gas_name(header.get("title", ""))
    if not name or name.startswith("$$"):
        raise InvalidFileError(path, "##TITLE", "missing: the gas name is taken from the title")
    x = np.asarray(header.get("x", []), dtype=np.float64)
    y = np.asarray(header.get("y", []), dtype=np.float64)
    if x.size != y.size:
        raise InvalidFileError(path, "##XYDATA", f"truncated or malformed: {x.size} abscissae for {y.size} ordinates")
    if x.size < 2:
        raise InvalidFileError(path, "##XYDATA", f"{x.size} data points; need at least 2")
    xunits = str(header.get("xunits", "")).strip().lower()
    if xunits in _WAVENUMBER_UNITS:
        wavenumber = x
    elif xunits in _WAVELENGTH_UNITS:
        wavenumber = 1e7 / (x * _WAVELENGTH_UNITS[xunits])
    else:
        raise InvalidFileError(path, "##XUNITS", f"{header.get('xunits')!r}: expected 1/CM, cm-1, micrometers or nm")
    order = np.argsort(wavenumber, kind="stable")
    wavenumber, y = wavenumber[order], y[order]
    keep = np.isfinite(wavenumber) & np.isfinite(y) & (wavenumber > 0)
    keep[1:] &= np.diff(wavenumber) > 0
    wavenumber, y = wavenumber[keep], y[keep]
    if wavenumber.size < 2:
        raise InvalidFileError(path, "##XYDATA", "fewer than 2 finite, distinct points")

    yunits_raw = str(header.get("yunits", "")).strip()
    yunits = " ".join(yunits_raw.lower().split())
    if _QUANT_IR_UNITS.match(yunits):
        return JcampSpectrum(name, path, wavenumber, y * _LN10, "quant-ir", True)
    if yunits not in ("transmittance", "absorbance"):
        raise InvalidFileError(
            path,
            "##YUNITS",
            f"{yunits_raw!r}: expected (micromol/mol)-1m-1 (base 10), TRANSMITTANCE or ABSORBANCE",
        )
    if yunits == "transmittance":
        if np.nanmax(y) > 1.5:  # percent transmittance
            y = y / 100.0
        t = np.clip(y / _baseline(wavenumber, y), 1e-6, 1.0)
        optical_depth = -np.log(t)
    else:
        optical_depth = y * _LN10
    length_m = _path_length_m(path, header)
    amount_ppm = _amount_ppm(path, header)
    if length_m is None or amount_ppm is None:
        missing = "##PATH LENGTH" if length_m is None else "##PARTIAL_PRESSURE"
        if not allow_non_quantitative:
            raise InvalidFileError(
                path,
                missing,
                f"missing: a {yunits} spectrum (##YUNITS={yunits_raw}) needs a path length and a partial pressure "
                "or concentration to be quantitative (opt in to shape-only spectra to use it anyway)",
            )
        peak = float(np.nanmax(optical_depth)) or 1.0
        return JcampSpectrum(name, path, wavenumber, optical_depth / peak, yunits, False)
    return JcampSpectrum(name, path, wavenumber, optical_depth / (length_m * amount_ppm), yunits, True)
