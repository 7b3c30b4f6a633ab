"""The bundled high-resolution CH4 radiance look-up table (mag1c, BSD-3; see data/SOURCE.md)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from plumetrace.spectra import bundled_path

__all__ = ["HighResLUT", "load_ch4_lut", "REFERENCE_AIRMASS_FACTOR"]

# Two-way air-mass factor (1/cos SZA + 1/cos VZA) that the LUT's ppm·m levels refer to: a scene with air-mass factor
# A sees the LUT's optical depth scaled by A / REFERENCE_AIRMASS_FACTOR. mag1c generated the LUT for overhead sun
# (zenith 0) and a sensor above the atmosphere, i.e. a vertical path down and up: A = 2. Cross-checked against the
# independent marshsi AMF-resolved CH4 transmittance LUT (tests/spectra/test_target.py::test_reference_airmass_factor_
# matches_marshsi): converting marshsi's column mixing ratio (ppb) to ppm·m with the standard-atmosphere scale height
# (8.43 km) gives the air-mass factor at which its unit absorption equals the mag1c LUT's as 1.8-1.9, i.e. 2.0 within
# the ~10% uncertainty of that conversion (near-surface layer density vs the column mean). See docs/detect.md.
REFERENCE_AIRMASS_FACTOR = 2.0


@dataclass(frozen=True)
class HighResLUT:
    """At-sensor radiance on a high-resolution grid for several gas column enhancements.

    wavelength_nm : (n_hr,) nm, increasing.
    radiance : (n_level, n_hr), arbitrary radiance units (only ratios are physical).
    enhancement_ppm_m : (n_level,) column enhancement of each row, ppm·m; the first is 0 (background).
    gas : gas name.
    """

    wavelength_nm: np.ndarray
    radiance: np.ndarray
    enhancement_ppm_m: np.ndarray
    gas: str


@lru_cache(maxsize=1)
def load_ch4_lut() -> HighResLUT:
    """The mag1c CH4 LUT: 7 levels (0-16000 ppm·m) × 31,800 wavelengths, 1399.6-2522.0 nm."""
    with np.load(bundled_path("ch4_mag1c_lut.npz"), allow_pickle=False) as data:
        lut = HighResLUT(
            wavelength_nm=data["wavelength_nm"].copy(),
            radiance=data["radiance"].copy(),
            enhancement_ppm_m=data["ch4_ppm_m"].copy(),
            gas="ch4",
        )
    for arr in (lut.wavelength_nm, lut.radiance, lut.enhancement_ppm_m):
        arr.setflags(write=False)
    return lut
