"""Gas absorption libraries: JCAMP-DX folders → α per ppm·m on one wavenumber grid → sensor channels.

A :class:`GasLibrary` holds, for each gas, the natural-log absorption coefficient α (per ppm·m, columns at 1 atm)
on one shared wavenumber grid, so that the transmittance of a plume column ``c`` is ``exp(-α c)``. It is built
from a folder of JCAMP-DX files by :func:`load_gas_library` (unit conversion in
:mod:`plumetrace.spectra.jcamp_library`); each spectrum is resampled onto the grid by averaging over the grid cell
(the cumulative integral is interpolated, so finer spectra are binned and coarser ones interpolated without changing
the band area), and is NaN outside the range its file covers.

:func:`convolve_to_channels` band-averages α with each channel's Gaussian response (FWHM in wavelength) into a
:class:`SensorGasLibrary`. Averaging α rather than ``exp(-α c)`` is the thin-plume (linear) limit; the simulator
convolves the transmittance itself when given the high-resolution library. A channel whose response (±2 FWHM)
reaches outside a gas's spectrum is refused, naming the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from plumetrace.errors import InvalidFileError, InvalidInputError, MissingFileError, warn_input
from plumetrace.spectra.jcamp_library import JcampSpectrum, normalise_gas_name, read_jcamp_spectrum, read_jcamp_title

__all__ = [
    "GasLibrary",
    "SensorGasLibrary",
    "load_gas_library",
    "library_from_spectra",
    "convolve_to_channels",
    "convolve_with_response",
    "NON_QUANTITATIVE_CHOICES",
]

#: How :func:`load_gas_library` treats a spectrum with no path length or amount.
NON_QUANTITATIVE_CHOICES = ("error", "skip", "shape")
_SUFFIXES = (".jdx", ".dx", ".jcamp")
_COVERAGE_FWHM = 2.0


def _select(names: tuple[str, ...], wanted: tuple[str, ...] | list[str], what: str) -> list[int]:
    index = {n: i for i, n in enumerate(names)}
    out = []
    for gas in wanted:
        key = normalise_gas_name(gas)
        if key not in index:
            raise InvalidInputError("gases", f"{gas!r} is not in the {what}; it holds {', '.join(names)}")
        out.append(index[key])
    return out


@dataclass(frozen=True, eq=False)  # holds arrays: compared and hashed by identity
class GasLibrary:
    """Absorption spectra of several gases on one wavenumber grid.

    Attributes
    ----------
    names : tuple of str
        Normalised gas names (lower case, from each file's ``##TITLE``).
    wavenumber_cm1 : ndarray (n,)
        Increasing, uniform grid, cm⁻¹.
    absorption_per_ppm_m : ndarray (n_gas, n)
        Natural-log absorption coefficient per ppm·m (NaN outside a file's range).
    sources : tuple of str
        The file each gas came from.
    quantitative : tuple of bool
        False for a shape-only spectrum (a file with no amount, accepted on request).
    """

    names: tuple[str, ...]
    wavenumber_cm1: np.ndarray
    absorption_per_ppm_m: np.ndarray
    sources: tuple[str, ...]
    quantitative: tuple[bool, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.quantitative:
            object.__setattr__(self, "quantitative", (True,) * len(self.names))

    @property
    def wavelength_nm(self) -> np.ndarray:
        """Grid as wavelength, nm (decreasing, like the wavenumber grid increases)."""
        return 1e7 / self.wavenumber_cm1

    def select(self, gases: tuple[str, ...] | list[str]) -> GasLibrary:
        """The library restricted to ``gases`` (names as in ``names``; case-insensitive), in that order."""
        return _subset(self, _select(self.names, gases, "gas library"))

    def convolve_to_channels(self, centers_nm: np.ndarray, fwhm_nm: np.ndarray) -> SensorGasLibrary:
        """See :func:`convolve_to_channels`."""
        return convolve_to_channels(self, centers_nm, fwhm_nm)


@dataclass(frozen=True, eq=False)  # holds arrays: compared and hashed by identity
class SensorGasLibrary:
    """A gas library band-averaged to a sensor's channels.

    names : gas names; centers_nm, fwhm_nm : (n_channels,) nm; absorption_per_ppm_m : (n_gas, n_channels)
    natural-log absorption coefficient per ppm·m; sources : file per gas; quantitative : per gas.
    """

    names: tuple[str, ...]
    centers_nm: np.ndarray
    fwhm_nm: np.ndarray
    absorption_per_ppm_m: np.ndarray
    sources: tuple[str, ...] = field(default=())
    quantitative: tuple[bool, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.sources:
            object.__setattr__(self, "sources", ("",) * len(self.names))
        if not self.quantitative:
            object.__setattr__(self, "quantitative", (True,) * len(self.names))

    def select(self, gases: tuple[str, ...] | list[str]) -> SensorGasLibrary:
        """The library restricted to ``gases``, in that order."""
        return _subset(self, _select(self.names, gases, "gas library"))


def _subset(library: Any, idx: list[int]) -> Any:
    """A (Sensor)GasLibrary with only the gases ``idx``, in that order."""
    return replace(
        library,
        names=tuple(library.names[i] for i in idx),
        absorption_per_ppm_m=library.absorption_per_ppm_m[idx],
        sources=tuple(library.sources[i] for i in idx),
        quantitative=tuple(library.quantitative[i] for i in idx),
    )


def _resample(spectrum: JcampSpectrum, grid: np.ndarray, step: float) -> np.ndarray:
    """Cell averages of α over ``grid`` cells (NaN where a cell is not inside the spectrum's range)."""
    x, y = spectrum.wavenumber_cm1, spectrum.absorption_per_ppm_m
    cumulative = np.concatenate([[0.0], np.cumsum(0.5 * (y[1:] + y[:-1]) * np.diff(x))])
    lo, hi = grid - 0.5 * step, grid + 0.5 * step
    out = (np.interp(hi, x, cumulative) - np.interp(lo, x, cumulative)) / step
    out[(lo < x[0]) | (hi > x[-1])] = np.nan
    return out


def library_from_spectra(
    spectra: list[JcampSpectrum],
    *,
    step_cm1: float = 0.25,
    wavenumber_range_cm1: tuple[float, float] | None = None,
) -> GasLibrary:
    """Put converted spectra on one uniform grid (``step_cm1``, the union of their ranges or the range given)."""
    if not spectra:
        raise InvalidInputError("library", "no spectra to build a gas library from")
    if not (np.isfinite(step_cm1) and 0.01 <= step_cm1 <= 10.0):
        raise InvalidInputError("step_cm1", f"{step_cm1} must lie in 0.01-10 cm-1")
    if wavenumber_range_cm1 is None:
        lo = min(float(s.wavenumber_cm1[0]) for s in spectra)
        hi = max(float(s.wavenumber_cm1[-1]) for s in spectra)
    else:
        lo, hi = (float(v) for v in wavenumber_range_cm1)
        if not (0 < lo < hi):
            raise InvalidInputError("wavenumber_range_cm1", f"{wavenumber_range_cm1}: expected 0 < low < high cm-1")
    grid = np.arange(np.ceil(lo / step_cm1) * step_cm1, hi + 0.5 * step_cm1, step_cm1)
    alpha = np.vstack([_resample(s, grid, step_cm1) for s in spectra])
    return GasLibrary(
        names=tuple(s.name for s in spectra),
        wavenumber_cm1=grid,
        absorption_per_ppm_m=alpha,
        sources=tuple(str(s.path) for s in spectra),
        quantitative=tuple(s.quantitative for s in spectra),
    )


def load_gas_library(
    directory: str | Path,
    *,
    gases: tuple[str, ...] | list[str] | None = None,
    non_quantitative: str = "error",
    step_cm1: float = 0.25,
    wavenumber_range_cm1: tuple[float, float] | None = None,
) -> GasLibrary:
    """Read every JCAMP-DX file (``.jdx``, ``.dx``, ``.jcamp``) of ``directory`` into a :class:`GasLibrary`.

    Parameters
    ----------
    directory : path
        Folder of gas spectra, one gas per file; the gas name is the file's ``##TITLE`` (normalised).
    gases : sequence of str, optional
        Load only these gases (matched, case-insensitively, against the title or the file name without suffix);
        the other files are not read beyond their title. The library keeps this order.
    non_quantitative : {"error", "skip", "shape"}
        A spectrum with no path length or amount: refuse it (one line naming the file and field), leave it out
        with a warning, or keep it as a shape-only spectrum (``quantitative`` False; peak α = 1 per unit column).
        ``skip`` also leaves out, with a warning, files that have no ``##TITLE``.
    step_cm1 : float
        Grid step, cm⁻¹.
    wavenumber_range_cm1 : (low, high), optional
        Restrict the grid (e.g. ``(750, 1400)`` for 7.1-13.3 µm) to save memory.

    Raises
    ------
    MissingFileError
        The folder does not exist.
    InvalidInputError
        No JCAMP-DX file in the folder, a requested gas not found, an unknown ``non_quantitative``.
    InvalidFileError
        A file with unknown units, missing quantities or a malformed header; two files with the same gas name.
    """
    if non_quantitative not in NON_QUANTITATIVE_CHOICES:
        raise InvalidInputError("non_quantitative", f"{non_quantitative!r}; expected one of error, skip, shape")
    directory = Path(directory)
    if not directory.is_dir():
        raise MissingFileError(directory, "gas library folder")
    files = sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in _SUFFIXES)
    if not files:
        raise InvalidInputError("library", f"{directory}: no JCAMP-DX files (.jdx, .dx) in the folder")
    if gases is not None:
        wanted = [normalise_gas_name(g) for g in gases]
        if not wanted:
            raise InvalidInputError("gases", "no gas named")
        twice = sorted({g for g in wanted if wanted.count(g) > 1})
        if twice:
            raise InvalidInputError("gases", f"{', '.join(twice)} named more than once")
        chosen: dict[str, Path] = {}
        for path in files:
            keys = {read_jcamp_title(path), normalise_gas_name(path.stem)}
            for gas in wanted:
                if gas in keys and chosen.get(gas) != path:
                    if gas in chosen:
                        raise InvalidFileError(
                            path,
                            "##TITLE",
                            f"gas {gas!r} is also in {chosen[gas]} (by title or file name); ask for one by its title",
                        )
                    chosen[gas] = path
        missing = [g for g in wanted if g not in chosen]
        if missing:
            raise InvalidInputError("gases", f"{', '.join(missing)} not found in {directory}")
        files = [chosen[g] for g in wanted]
    spectra: list[JcampSpectrum] = []
    seen: dict[str, Path] = {}
    for path in files:
        try:
            spectrum = read_jcamp_spectrum(path, allow_non_quantitative=non_quantitative == "shape")
        except InvalidFileError as exc:
            skippable = exc.field in ("##PATH LENGTH", "##PARTIAL_PRESSURE", "##TITLE")
            if non_quantitative == "skip" and skippable and gases is None:
                warn_input(path, exc.field, f"{exc.problem}; left out of the library")
                continue
            raise
        if spectrum.name in seen:
            raise InvalidFileError(path, "##TITLE", f"gas {spectrum.name!r} is also in {seen[spectrum.name]}")
        seen[spectrum.name] = path
        spectra.append(spectrum)
    if gases is not None:  # the requested name, not the title, names the gas (e.g. "2-butanone" for MEK)
        spectra = [replace(s, name=normalise_gas_name(g)) for s, g in zip(spectra, gases)]
    if not spectra:
        raise InvalidInputError("library", f"{directory}: no quantitative gas spectrum in the folder")
    return library_from_spectra(spectra, step_cm1=step_cm1, wavenumber_range_cm1=wavenumber_range_cm1)


def convolve_to_channels(library: GasLibrary, centers_nm: np.ndarray, fwhm_nm: np.ndarray) -> SensorGasLibrary:
    """Band-average each gas's α with Gaussian channel responses (centre and FWHM in wavelength, nm).

    The response is Gaussian in wavelength, integrated on the library grid (trapezoid weights in wavelength).

    Raises
    ------
    InvalidInputError
        Centres and FWHM of different lengths, non-positive FWHM.
    InvalidFileError
        A channel's response (centre ± 2 FWHM) reaches outside a gas's spectrum: names the file and the range.
    """
    from plumetrace.spectra.response import gaussian_response_matrix

    centers = np.atleast_1d(np.asarray(centers_nm, dtype=np.float64))
    fwhm = np.atleast_1d(np.asarray(fwhm_nm, dtype=np.float64))
    if centers.shape != fwhm.shape or centers.ndim != 1:
        raise InvalidInputError("fwhm", f"{fwhm.size} values for {centers.size} channel centres")
    if not (np.all(np.isfinite(fwhm)) and np.all(fwhm > 0) and np.all(np.isfinite(centers)) and np.all(centers > 0)):
        raise InvalidInputError("fwhm", "channel centres and FWHM must be finite and positive")
    wavelength = library.wavelength_nm[::-1]  # increasing
    alpha = library.absorption_per_ppm_m[:, ::-1]
    need_lo, need_hi = centers - _COVERAGE_FWHM * fwhm, centers + _COVERAGE_FWHM * fwhm
    inside = (wavelength >= need_lo.min()) & (wavelength <= need_hi.max())
    for i, source in enumerate(library.sources):
        valid = wavelength[np.isfinite(alpha[i])]
        if valid.size == 0 or valid[0] > need_lo.min() or valid[-1] < need_hi.max() or np.isnan(alpha[i, inside]).any():
            covered = f"{valid[0]:.0f}-{valid[-1]:.0f} nm" if valid.size else "nothing"
            raise InvalidFileError(
                source or library.names[i],
                "##XYDATA",
                f"spectrum of {library.names[i]!r} covers {covered}, but the sensor's channels need "
                f"{need_lo.min():.0f}-{need_hi.max():.0f} nm",
            )
    # Only the grid points under the channels matter: keeps the response matrix small.
    lo, hi = np.searchsorted(wavelength, [need_lo.min() - 1.0, need_hi.max() + 1.0])
    lo, hi = max(lo - 1, 0), min(hi + 1, wavelength.size)
    matrix = gaussian_response_matrix(wavelength[lo:hi], centers, fwhm)
    if np.any(matrix.sum(axis=1) == 0):
        raise InvalidInputError("fwhm", "a channel is narrower than the library grid; use a finer step_cm1")
    sub = np.nan_to_num(alpha[:, lo:hi])
    return SensorGasLibrary(
        names=library.names,
        centers_nm=centers.copy(),
        fwhm_nm=fwhm.copy(),
        absorption_per_ppm_m=sub @ matrix.T,
        sources=library.sources,
        quantitative=library.quantitative,
    )


def convolve_with_response(
    library: GasLibrary, response_wavelength_nm: np.ndarray, response: np.ndarray
) -> SensorGasLibrary:
    """Band-average α with tabulated channel responses instead of Gaussians.

    Parameters
    ----------
    library : GasLibrary
    response_wavelength_nm : (n,) increasing, nm
        Wavelengths the responses are tabulated at.
    response : (n_channels, n)
        Relative spectral response of each channel (any scale, ≥ 0); interpolated linearly onto the library grid
        and normalised to unit area there.

    Returns
    -------
    SensorGasLibrary
        ``centers_nm`` the response-weighted mean wavelength, ``fwhm_nm`` the Gaussian-equivalent width
        (2.3548 × the response's standard deviation).

    Raises
    ------
    InvalidInputError
        Shapes that do not match, negative or all-zero responses, wavelengths not increasing.
    InvalidFileError
        A gas's spectrum does not cover where a response exceeds 0.1 % of its peak (names the file).
    """
    grid_in = np.asarray(response_wavelength_nm, dtype=np.float64)
    table = np.atleast_2d(np.asarray(response, dtype=np.float64))
    if grid_in.ndim != 1 or table.shape[1] != grid_in.size or grid_in.size < 2:
        raise InvalidInputError("response", f"shape {table.shape} does not match {grid_in.size} wavelengths")
    if np.any(np.diff(grid_in) <= 0):
        raise InvalidInputError("response_wavelength_nm", "must increase strictly")
    if not np.all(np.isfinite(table)) or np.any(table < 0) or np.any(table.max(axis=1) <= 0):
        raise InvalidInputError("response", "responses must be finite, non-negative and not all zero")
    wavelength = library.wavelength_nm[::-1]
    alpha = library.absorption_per_ppm_m[:, ::-1]
    weights = np.vstack([np.interp(wavelength, grid_in, row, left=0.0, right=0.0) for row in table])
    dw = np.gradient(wavelength)
    weights = weights * dw
    area = weights.sum(axis=1)
    if np.any(area <= 0):
        raise InvalidInputError("response", "a channel's response lies outside the library's wavelengths")
    weights /= area[:, None]
    needed = (weights / weights.max(axis=1, keepdims=True)).max(axis=0) > 1e-3
    for i, source in enumerate(library.sources):
        if np.isnan(alpha[i, needed]).any():
            raise InvalidFileError(
                source or library.names[i],
                "##XYDATA",
                f"spectrum of {library.names[i]!r} does not cover the channels' responses "
                f"({wavelength[needed].min():.0f}-{wavelength[needed].max():.0f} nm)",
            )
    centres = weights @ wavelength
    sigma = np.sqrt(np.maximum(weights @ wavelength**2 - centres**2, 0.0))
    return SensorGasLibrary(
        names=library.names,
        centers_nm=centres,
        fwhm_nm=2.0 * np.sqrt(2.0 * np.log(2.0)) * sigma,
        absorption_per_ppm_m=np.nan_to_num(alpha) @ weights.T,
        sources=library.sources,
        quantitative=library.quantitative,
    )
