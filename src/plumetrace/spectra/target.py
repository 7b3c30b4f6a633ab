"""Gas target signatures: unit-absorption spectra at a sensor's bands.

The matched filter looks for the radiance change a small column enhancement causes. For a gas with Beer–Lambert
absorption, ``L(ΔX) ≈ L₀ · exp(k · ΔX)`` per band, so the target is the *unit absorption* ``k = d ln L / d ΔX``
(per ppm·m; negative where the gas absorbs). It is built exactly as mag1c and the EMIT operational pipeline do:

1. convolve each level of a high-resolution radiance LUT with every band's Gaussian response (centre, FWHM);
2. regress the log band radiance on the column enhancement (least squares with intercept) over the levels up to
   ``WEAK_PLUME_MAX_PPM_M`` (0, 500, 1000, 2000 ppm·m for the bundled LUT);
3. the slope is ``k`` for the LUT's geometry; a scene with two-way air-mass factor ``A`` (1/cos SZA + 1/cos VZA)
   sees the optical depth scaled by ``A / REFERENCE_AIRMASS_FACTOR``.

Why the regression stops at 2000 ppm·m: band-averaged ``ln L`` is convex in ``ΔX`` (a band mixes lines of different
strength, and ``ln Σ wᵢ exp(-τᵢ ΔX)`` flattens as the strong lines saturate), so the slope over all seven levels
(0-16,000 ppm·m, what mag1c and NASA's operational EMIT target use) is ~11 % weaker than the slope at the
enhancements a linear filter is mostly asked about. With that full-range target a perfectly estimated linear matched
filter over-reads a 500 ppm·m plume by +12 % (EMIT and AVIRIS-NG alike, any geometry;
docs/design/mf_bias.md). Regressing over 0-2000 ppm·m leaves +1.9 % at 100, +1.4 % at 500, -1 % at 2000 and
-5 % at 5000 ppm·m.
``max_enhancement_ppm_m=None`` gives the full-range (mag1c / EMIT) convention, e.g. to compare with their targets.

Files use the mag1c / EMIT convention: plain text, three columns ``band  wavelength_nm  value`` with ``value`` in
units of 1e-5 (ppm·m)⁻¹ (so the EMIT CH4 target is about -1.45 at 2345 nm). In memory, targets are per ppm·m.

User LUTs are ``.npz`` files in the bundled CH4 layout: ``wavelength_nm (n_hr,)``, ``radiance (n_level, n_hr)``,
``enhancement_ppm_m (n_level,)`` (first level 0), optional ``gas`` and ``reference_airmass_factor``.
"""

from __future__ import annotations

import functools
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from plumetrace.errors import InvalidFileError, InvalidInputError, MissingFileError
from plumetrace.spectra.ch4_lut import (
    REFERENCE_AIRMASS_FACTOR,
    HighResLUT,
    load_ch4_lut,
)
from plumetrace.spectra.response import gaussian_response_matrix

__all__ = [
    "BUNDLED_GASES",
    "FILE_SCALE",
    "WEAK_PLUME_MAX_PPM_M",
    "Target",
    "cached_target",
    "ch4_target",
    "read_lut_file",
    "read_target_file",
    "resolve_target",
    "unit_absorption_from_lut",
    "write_target_file",
]

#: Text target files store unit absorption × 1e5 (mag1c / EMIT convention: 1e-5 (ppm·m)⁻¹).
FILE_SCALE = 1e5
#: Gases with a bundled high-resolution LUT.
BUNDLED_GASES = ("ch4",)
#: Highest LUT level (ppm·m) the log-radiance regression uses by default: the weak-plume range (module docstring).
WEAK_PLUME_MAX_PPM_M = 2000.0


@dataclass(frozen=True)
class Target:
    """A unit-absorption target at a sensor's bands.

    Attributes
    ----------
    gas : str
        Gas name (``ch4``, or the stem of a user file).
    wavelength_nm : ndarray (n_band,)
        Band centres, nm.
    unit_absorption : ndarray (n_band,)
        ``d ln L / d ΔX`` per ppm·m (negative = absorption); 0 where the source has no data.
    source : str
        Where it came from (``bundled:ch4``, a file path).
    airmass_factor : float or None
        Air-mass factor the target was scaled to (None when taken as given from a file).
    """

    gas: str
    wavelength_nm: np.ndarray
    unit_absorption: np.ndarray
    source: str
    airmass_factor: float | None = None


def unit_absorption_from_lut(
    lut: HighResLUT,
    wavelength_nm: np.ndarray,
    fwhm_nm: np.ndarray,
    *,
    airmass_factor: float | None = None,
    reference_airmass_factor: float = REFERENCE_AIRMASS_FACTOR,
    max_enhancement_ppm_m: float | None = WEAK_PLUME_MAX_PPM_M,
) -> np.ndarray:
    """Unit absorption of the LUT's gas at Gaussian bands.

    Parameters
    ----------
    lut : HighResLUT
        High-resolution radiance for several column enhancements (the first is 0).
    wavelength_nm, fwhm_nm : array (n_band,)
        Band centres and widths, nm.
    airmass_factor : float, optional
        Scene two-way air-mass factor; None keeps the LUT's own geometry.
    reference_airmass_factor : float
        Air-mass factor the LUT's levels refer to.
    max_enhancement_ppm_m : float or None
        Regress over the levels up to this enhancement, ppm·m (at least the two lowest levels are always used);
        None: all levels (the mag1c / EMIT operational convention, ~11 % weaker for CH4; see the module docstring).

    Returns
    -------
    ndarray (n_band,)
        ``d ln L / d ΔX`` per ppm·m; 0 for bands outside the LUT's wavelength range.
    """
    wavelength_nm = np.asarray(wavelength_nm, dtype=np.float64)
    fwhm_nm = np.asarray(fwhm_nm, dtype=np.float64)
    if wavelength_nm.shape != fwhm_nm.shape or wavelength_nm.ndim != 1:
        raise InvalidInputError("fwhm", f"{fwhm_nm.size} values for {wavelength_nm.size} band centres")
    if airmass_factor is not None and not (np.isfinite(airmass_factor) and airmass_factor > 0):
        raise InvalidInputError("airmass_factor", f"must be positive, got {airmass_factor!r}")
    if max_enhancement_ppm_m is not None and not (np.isfinite(max_enhancement_ppm_m) and max_enhancement_ppm_m > 0):
        raise InvalidInputError("max_enhancement_ppm_m", f"must be positive or None, got {max_enhancement_ppm_m!r}")
    levels = np.asarray(lut.enhancement_ppm_m, dtype=np.float64)
    use = np.ones(levels.size, dtype=bool)
    if max_enhancement_ppm_m is not None:
        use = levels <= max_enhancement_ppm_m
        if np.unique(levels[use]).size < 2:  # a coarse user LUT: its two lowest distinct levels
            use = levels <= np.unique(levels)[1]
    response = gaussian_response_matrix(lut.wavelength_nm, wavelength_nm, fwhm_nm)  # (n_band, n_hr)
    # (response @ radianceᵀ)ᵀ rather than radiance @ responseᵀ: OpenBLAS is ~100× slower on the latter shape
    # (7 × 31,800 @ 31,800 × n_band).
    band_radiance = (response @ np.asarray(lut.radiance, dtype=np.float64)[use].T).T  # (n_used, n_band)
    band_radiance[:, response.sum(axis=1) == 0] = np.nan
    inside = np.all(np.isfinite(band_radiance) & (band_radiance > 0), axis=0)
    # Bands whose Gaussian response is truncated by the LUT's edges are biased: keep only bands whose centre
    # lies a full FWHM inside the LUT.
    inside &= (wavelength_nm - fwhm_nm >= lut.wavelength_nm[0]) & (wavelength_nm + fwhm_nm <= lut.wavelength_nm[-1])
    log_radiance = np.zeros_like(band_radiance)
    np.log(band_radiance, out=log_radiance, where=band_radiance > 0)
    design = np.stack([np.ones(int(use.sum())), levels[use]], axis=1)
    coef, *_ = np.linalg.lstsq(design, log_radiance, rcond=None)
    slope = np.where(inside, coef[1], 0.0)
    if airmass_factor is not None:
        slope = slope * (float(airmass_factor) / reference_airmass_factor)
    return slope


def ch4_target(
    wavelength_nm: np.ndarray,
    fwhm_nm: np.ndarray,
    *,
    airmass_factor: float | None = None,
    max_enhancement_ppm_m: float | None = WEAK_PLUME_MAX_PPM_M,
) -> np.ndarray:
    """CH4 unit absorption (per ppm·m) at Gaussian bands from the bundled mag1c LUT; see :func:`unit_absorption_from_lut`."""
    return unit_absorption_from_lut(
        load_ch4_lut(),
        wavelength_nm,
        fwhm_nm,
        airmass_factor=airmass_factor,
        max_enhancement_ppm_m=max_enhancement_ppm_m,
    )


def read_target_file(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a text target (``band  wavelength_nm  value``, value in 1e-5 (ppm·m)⁻¹).

    Returns
    -------
    wavelength_nm : ndarray (n,), increasing
    unit_absorption : ndarray (n,), per ppm·m
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path, "target file")
    try:
        with path.open("rb") as handle:
            head = handle.read(65536)
    except OSError as exc:
        raise InvalidFileError(path, "target table", f"cannot be read ({exc.strerror or exc})") from None
    if _is_binary(head, complete=len(head) < 65536):
        raise InvalidFileError(
            path,
            "target table",
            "a binary file, not a text table of band, wavelength nm, value (a LUT must end in .npz)",
        )
    try:
        table = np.loadtxt(path, ndmin=2, comments="#", delimiter=None)
    except ValueError as exc:
        reason = " ".join(str(exc).split())
        reason = reason if len(reason) <= 120 else reason[:117] + "..."
        raise InvalidFileError(path, "target table", f"not numeric columns ({reason})") from None
    if table.shape[1] != 3 or table.shape[0] < 2:
        raise InvalidFileError(
            path, "target table", f"expected rows of 3 columns (band, wavelength nm, value), got shape {table.shape}"
        )
    wavelength, value = table[:, 1], table[:, 2]
    if not (np.all(np.isfinite(wavelength)) and np.all(np.isfinite(value))):
        raise InvalidFileError(path, "target table", "contains non-finite values")
    order = np.argsort(wavelength)
    wavelength, value = wavelength[order], value[order]
    if np.any(np.diff(wavelength) <= 0):
        raise InvalidFileError(path, "wavelength", "repeated wavelengths")
    if wavelength[0] < 200 or wavelength[-1] > 20000:
        raise InvalidFileError(path, "wavelength", f"range {wavelength[0]:g}-{wavelength[-1]:g} is not in nm")
    return wavelength, value / FILE_SCALE


def _is_binary(head: bytes, *, complete: bool) -> bool:
    """True when the first bytes of a file are not UTF-8 text (a NUL byte, or an invalid sequence not cut by the end
    of the sample)."""
    if b"\0" in head:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return complete or exc.start < len(head) - 4
    return False


def write_target_file(path: str | Path, wavelength_nm: np.ndarray, unit_absorption: np.ndarray) -> None:
    """Write a target in the mag1c / EMIT text convention (band, wavelength nm, value × 1e5)."""
    wavelength_nm = np.asarray(wavelength_nm, dtype=np.float64)
    table = np.column_stack(
        [np.arange(1, wavelength_nm.size + 1), wavelength_nm, np.asarray(unit_absorption) * FILE_SCALE]
    )
    np.savetxt(path, table, fmt=("%03d", "%10.3f", "%.18f"))


def read_lut_file(path: str | Path) -> tuple[HighResLUT, float]:
    """Read a user high-resolution LUT (``.npz``, bundled layout); returns the LUT and its reference air-mass factor."""
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path, "LUT file")
    try:
        data = np.load(path, allow_pickle=False)
        if not hasattr(data, "files"):  # a plain .npy array saved under an .npz name
            raise ValueError("a single array, not an .npz archive of named arrays")
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise InvalidFileError(path, "npz", f"cannot be read ({' '.join(str(exc).split())[:160]})") from None
    try:
        return _lut_from_npz(path, data)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, TypeError) as exc:
        if isinstance(exc, InvalidFileError):
            raise
        raise InvalidFileError(path, "npz", f"cannot be read ({' '.join(str(exc).split())[:160]})") from None


def _lut_from_npz(path: Path, data: Any) -> tuple[HighResLUT, float]:
    with data:
        for key in ("wavelength_nm", "radiance"):
            if key not in data:
                raise InvalidFileError(path, key, "missing")
        levels_key = (
            "enhancement_ppm_m"
            if "enhancement_ppm_m" in data
            else next((k for k in data.files if k.endswith("_ppm_m")), None)
        )
        if levels_key is None:
            raise InvalidFileError(path, "enhancement_ppm_m", "missing")
        wavelength = np.asarray(data["wavelength_nm"], dtype=np.float64)
        radiance = np.asarray(data["radiance"], dtype=np.float64)
        levels = np.asarray(data[levels_key], dtype=np.float64)
        gas = str(data["gas"]) if "gas" in data else path.stem
        reference = (
            float(data["reference_airmass_factor"]) if "reference_airmass_factor" in data else REFERENCE_AIRMASS_FACTOR
        )
    if (
        wavelength.ndim != 1
        or wavelength.size < 2
        or not np.all(np.isfinite(wavelength))
        or np.any(np.diff(wavelength) <= 0)
    ):
        raise InvalidFileError(path, "wavelength_nm", "must be 1-D, finite and strictly increasing")
    if levels.ndim != 1 or not np.all(np.isfinite(levels)) or np.any(levels < 0):
        raise InvalidFileError(path, levels_key, "must be 1-D, finite and non-negative (ppm m)")
    if not (np.isfinite(reference) and reference > 0):
        raise InvalidFileError(path, "reference_airmass_factor", f"{reference!r}; must be a positive number")
    if radiance.shape != (levels.size, wavelength.size):
        raise InvalidFileError(path, "radiance", f"shape {radiance.shape}, expected ({levels.size}, {wavelength.size})")
    if levels.size < 2 or np.unique(levels).size < 2:
        raise InvalidFileError(path, levels_key, "needs at least two distinct enhancement levels")
    if not np.all(np.isfinite(radiance)) or np.any(radiance <= 0):
        raise InvalidFileError(path, "radiance", "must be finite and positive")
    return HighResLUT(wavelength_nm=wavelength, radiance=radiance, enhancement_ppm_m=levels, gas=gas), reference


def _interpolate_to_bands(source: str, wl_src: np.ndarray, value: np.ndarray, wavelength_nm: np.ndarray) -> np.ndarray:
    """Values of a tabulated target at the band centres: exact matches (±0.5 nm) first, else linear interpolation."""
    out = np.interp(wavelength_nm, wl_src, value, left=np.nan, right=np.nan)
    nearest = np.clip(np.searchsorted(wl_src, wavelength_nm), 1, wl_src.size - 1)
    nearest = np.where(
        np.abs(wl_src[nearest - 1] - wavelength_nm) < np.abs(wl_src[nearest] - wavelength_nm), nearest - 1, nearest
    )
    exact = np.abs(wl_src[nearest] - wavelength_nm) <= 0.5
    out[exact] = value[nearest[exact]]
    return np.nan_to_num(out, nan=0.0)


def resolve_target(
    gas: str,
    wavelength_nm: np.ndarray,
    fwhm_nm: np.ndarray,
    *,
    airmass_factor: float | None = None,
    max_enhancement_ppm_m: float | None = WEAK_PLUME_MAX_PPM_M,
) -> Target:
    """The target a ``--gas`` value names: a bundled gas, a text target file or a ``.npz`` LUT.

    Parameters
    ----------
    gas : str
        ``ch4`` (bundled LUT), or a path to a text target (band, wavelength nm, value in 1e-5 (ppm·m)⁻¹) or to a
        high-resolution ``.npz`` LUT in the bundled layout.
    wavelength_nm, fwhm_nm : array (n_band,)
        The scene's band centres and widths, nm.
    airmass_factor : float, optional
        Scene air-mass factor; LUT-based targets are scaled to it. Text targets are used as given.
    max_enhancement_ppm_m : float or None
        LUT-based targets: highest level of the log-radiance regression (:func:`unit_absorption_from_lut`).

    Raises
    ------
    InvalidInputError
        Unknown gas name, or a target that is zero at every scene band (no overlap).
    """
    wavelength_nm = np.asarray(wavelength_nm, dtype=np.float64)
    fwhm_nm = np.asarray(fwhm_nm, dtype=np.float64)
    key = gas.strip().lower()
    if key in BUNDLED_GASES:
        values = ch4_target(
            wavelength_nm, fwhm_nm, airmass_factor=airmass_factor, max_enhancement_ppm_m=max_enhancement_ppm_m
        )
        target = Target(key, wavelength_nm, values, f"bundled:{key}", airmass_factor)
    else:
        path = Path(gas).expanduser()
        if path.is_dir():
            raise InvalidInputError(
                "gas", f"{gas!r} is a folder; expected {', '.join(BUNDLED_GASES)} or a target file / .npz LUT"
            )
        if not path.is_file():
            if path.suffix or "/" in gas or "\\" in gas:  # meant as a file
                raise MissingFileError(path, "gas target file")
            raise InvalidInputError(
                "gas", f"unknown gas {gas!r}; use one of {', '.join(BUNDLED_GASES)} or a target file / .npz LUT path"
            )
        if path.suffix.lower() == ".npz":
            lut, reference = read_lut_file(path)
            values = unit_absorption_from_lut(
                lut,
                wavelength_nm,
                fwhm_nm,
                airmass_factor=airmass_factor,
                reference_airmass_factor=reference,
                max_enhancement_ppm_m=max_enhancement_ppm_m,
            )
            target = Target(lut.gas, wavelength_nm, values, str(path), airmass_factor)
        else:
            wl_src, value = read_target_file(path)
            values = _interpolate_to_bands(str(path), wl_src, value, wavelength_nm)
            target = Target(path.stem, wavelength_nm, values, str(path), None)
    if not np.any(target.unit_absorption != 0):
        if target.source != f"bundled:{key}":
            raise InvalidFileError(
                target.source,
                "wavelength",
                f"the target has no absorption at the scene's bands ({wavelength_nm.min():.0f}-"
                f"{wavelength_nm.max():.0f} nm): no overlap",
            )
        raise InvalidInputError(
            "gas",
            f"target {target.source} has no absorption at the scene's bands "
            f"({wavelength_nm.min():.0f}-{wavelength_nm.max():.0f} nm): no overlap",
        )
    return target


def cached_target(gas: str, wavelength_nm: np.ndarray, fwhm_nm: np.ndarray, *, airmass_factor: float) -> Target:
    """:func:`resolve_target`, remembered for bundled gases (the band convolution of the LUT costs ~5-10 ms a scene).

    The last few bundled targets are kept by :func:`functools.lru_cache` (``cached_target.cache_clear()`` empties
    it); their arrays are read-only. User target files are read every time (they may change between calls).
    """
    name = gas.strip().lower() if isinstance(gas, str) else gas
    if name not in BUNDLED_GASES:
        return resolve_target(gas, wavelength_nm, fwhm_nm, airmass_factor=airmass_factor)
    return _bundled_target(name, _as_key(wavelength_nm), _as_key(fwhm_nm), float(airmass_factor))


def _as_key(values: np.ndarray) -> tuple[float, ...]:
    return tuple(np.asarray(values, dtype=np.float64).tolist())


@functools.lru_cache(maxsize=8)
def _bundled_target(
    name: str, wavelength_nm: tuple[float, ...], fwhm_nm: tuple[float, ...], airmass_factor: float
) -> Target:
    target = resolve_target(name, np.array(wavelength_nm), np.array(fwhm_nm), airmass_factor=airmass_factor)
    for value in vars(target).values():
        if isinstance(value, np.ndarray):
            value.flags.writeable = False
    return target


cached_target.cache_clear = _bundled_target.cache_clear  # type: ignore[attr-defined]
