"""Units of an enhancement map: the spellings plumetrace reads and their conversion to ppm·m.

A gas column enhancement is read in ppm·m (``ppm m``, ``ppm·m``, ``ppm*m``, ``ppm-m``, ``ppm_m``, ``ppmm``, case and
spaces ignored). Two other column units convert exactly:

* ``ppb m`` (ppb·m): × 10⁻³;
* ``mol m-2`` (``mol/m2``, ``mol/m²``, ``mol m^-2``; also ``mmol m-2``): ppm·m = column / (10⁻⁶ · n_air) with
  n_air = 101325 / (R · 288.15 K) = 42.29 mol m⁻³, the molar density of air :mod:`plumetrace.plumes.ime` turns
  ppm·m back into mass with, so the mass (and the rate) of a map in mol m⁻² is exactly the one its column holds.

Anything else (``ppm`` or ``ppb``: a column-averaged mole fraction needs the column height; ``kg m-2``: needs the gas)
is refused, naming the unit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from plumetrace.errors import InvalidFileError, InvalidInputError, warn_input

__all__ = ["AIR_MOLAR_DENSITY_MOL_M3", "UNITS_HELP", "ppm_m_factor", "resolve_units", "stated_units"]

#: Molar density of air, mol m⁻³ (1013.25 hPa, 15 °C): the value ``plumetrace.plumes.ime`` converts ppm·m with.
AIR_MOLAR_DENSITY_MOL_M3 = 101325.0 / (8.314462618 * 288.15)
#: What the refusals say is accepted.
UNITS_HELP = "ppm·m ('ppm m', 'ppm-m', 'ppmm'), ppb·m ('ppb m') or mol/m² ('mol m-2')"

_PPM_M = 1.0
_PATTERNS = (
    (re.compile(r"ppm ?[-x]? ?m"), _PPM_M),
    (re.compile(r"ppb ?[-x]? ?m"), 1e-3),
    (re.compile(r"mol ?(/ ?m ?2|m ?-2)"), 1.0 / (1e-6 * AIR_MOLAR_DENSITY_MOL_M3)),
    (re.compile(r"mmol ?(/ ?m ?2|m ?-2)"), 1e-3 / (1e-6 * AIR_MOLAR_DENSITY_MOL_M3)),
)


def _normalised(units: str) -> str:
    text = units.strip().lower().replace("⁻²", "-2").replace("²", "2").replace("^", "").replace("**", "")
    text = re.sub(r"[·⋅*._\s]+", " ", text)
    return text.strip()


def ppm_m_factor(units: str) -> float | None:
    """The factor turning a map in ``units`` into ppm·m, or None when ``units`` is not a column unit read here."""
    text = _normalised(str(units))
    for pattern, factor in _PATTERNS:
        if pattern.fullmatch(text):
            return factor
    return None


def stated_units(src: Any, index: int) -> list[tuple[str, str]]:
    """Every statement of the units of band ``index`` (1-based) of an open rasterio dataset, as (units, where):
    the band's GDAL unit type, then its ``units`` tag, then the dataset's ``units`` tag (keys case-insensitive)."""
    found: list[tuple[str, str]] = []
    unit_types = tuple(getattr(src, "units", ()) or ())
    if index - 1 < len(unit_types) and unit_types[index - 1] and unit_types[index - 1].strip():
        found.append((unit_types[index - 1], f"band {index} unit type"))
    for tags, where in ((src.tags(index), f"band {index} tag"), (src.tags(), "tag")):
        for key, value in tags.items():
            if key.lower() in ("units", "unit") and str(value).strip():
                found.append((str(value), f"{where} {key}"))
    return found


def resolve_units(
    path: str | Path, stated: Sequence[tuple[str, str]], given: str | None, *, assume_ppm_m: bool = False
) -> tuple[float, str]:
    """The factor to ppm·m of a map and the units it was read in.

    Parameters
    ----------
    path : path
        The map's file, named in errors.
    stated : sequence of (units, where)
        The file's own statements (:func:`stated_units`).
    given : str, optional
        Units given by the user (``--units``), used when the file states none.
    assume_ppm_m : bool
        With neither: warn and read ppm·m (plumetrace's own product) instead of refusing.

    Raises
    ------
    InvalidFileError
        A stated unit that is not a column unit, statements that disagree (with each other or with ``given``), or
        no units at all (without ``assume_ppm_m``).
    InvalidInputError
        ``given`` is not a column unit.
    """
    factors = []
    for units, where in stated:
        factor = ppm_m_factor(units)
        if factor is None:
            raise InvalidFileError(
                path, "units", f"{units!r} ({where}) is not a column enhancement unit; plumetrace reads {UNITS_HELP}"
            )
        factors.append((factor, units, where))
    given_factor = None
    if given is not None:
        given_factor = ppm_m_factor(given)
        if given_factor is None:
            raise InvalidInputError(
                "units", f"{given!r} is not a column enhancement unit; plumetrace reads {UNITS_HELP}"
            )
    if factors:
        factor, units, where = factors[0]
        for other, other_units, other_where in factors[1:]:
            if abs(other - factor) > 1e-9 * factor:
                raise InvalidFileError(
                    path, "units", f"{units!r} ({where}) and {other_units!r} ({other_where}) disagree"
                )
        if given_factor is not None and abs(given_factor - factor) > 1e-9 * factor:
            raise InvalidFileError(path, "units", f"the file states {units!r} ({where}) but {given!r} was given")
        return factor, units
    if given_factor is not None and given is not None:
        return given_factor, given
    if assume_ppm_m:
        warn_input(path, "units", "tag missing; assuming ppm·m", stacklevel=3)
        return _PPM_M, "ppm m"
    raise InvalidFileError(
        path,
        "units",
        "not stated (no band unit type, no 'units' tag): give the map's units with --units (read_enhancement: "
        "units=), e.g. 'ppm m'",
    )
