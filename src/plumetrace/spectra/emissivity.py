"""Stated land-surface emissivity models for 7.5-12.5 µm scenes, and spatial maps of surface classes.

The shared reflectance libraries stop at 2.5 µm, so LWIR scenes use these parametric spectra: a grey level minus
Gaussian reststrahlen features at their published band positions::

    ε(λ) = ε_grey − s · Σ_i d_i exp(−½ ((λ − λ_i)/σ_i)²)

with ``s`` a per-pixel feature strength (mixing with grey material; 1 = the class's nominal spectrum).

Classes and sources
-------------------
* ``vegetation`` — grey 0.98: green leaves and canopies are 0.97-0.99 across 8-14 µm with no strong feature
  (Salisbury & D'Aria 1992, "Emissivity of terrestrial materials in the 8-14 µm atmospheric window", Remote Sens.
  Environ. 42, 83-106; ASTER spectral library, Baldridge et al. 2009, Remote Sens. Environ. 113, 711-715).
* ``water`` — grey 0.99 (0.98-0.99 at near-nadir view; Masuda, Takashima & Takayama 1988, Remote Sens. Environ. 24,
  313-329).
* ``built`` — grey 0.935 (concrete, asphalt and roofing 0.92-0.95; ASTER library man-made materials) with a weak
  quartz doublet (depth 0.02) from the sand in concrete.
* ``silicate`` — quartz-rich soil / sand: grey 0.965 with the quartz Si-O stretching reststrahlen doublet, emissivity
  minima at 8.25 µm and 9.15 µm (depths 0.16 and 0.14, σ 0.20 and 0.22 µm; pure quartz sand reaches 0.70-0.75, soils
  0.80-0.85: Salisbury & D'Aria 1992; Hook et al. 1992, Remote Sens. Environ. 42, 123-135).
* ``carbonate`` — limestone / calcite soil: grey 0.965 with the carbonate ν₂ out-of-plane bending feature at
  11.25 µm (depth 0.06, σ 0.10 µm; Hunt & Salisbury 1975, Mid-infrared spectral behavior of sedimentary rocks,
  AFCRL-TR-75-0356; Salisbury & D'Aria 1992).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from plumetrace.errors import InvalidInputError

__all__ = [
    "EmissivityModel",
    "SURFACE_CLASSES",
    "CLASS_NAMES",
    "emissivity_spectrum",
    "emissivity_cube",
    "random_class_map",
]


@dataclass(frozen=True)
class EmissivityModel:
    """A grey level minus Gaussian features: ``features`` are (centre µm, depth, σ µm) triples; source: citation."""

    name: str
    grey: float
    features: tuple[tuple[float, float, float], ...]
    source: str

    def spectrum(self, wavelength_nm: np.ndarray, feature_scale: np.ndarray | float = 1.0) -> np.ndarray:
        """ε at ``wavelength_nm`` (band,); ``feature_scale`` (...) broadcasts to (..., band)."""
        um = np.asarray(wavelength_nm, dtype=np.float64) / 1000.0
        depth = np.zeros_like(um)
        for centre, d, sigma in self.features:
            depth += d * np.exp(-0.5 * ((um - centre) / sigma) ** 2)
        scale = np.asarray(feature_scale, dtype=np.float64)[..., None]
        return self.grey - scale * depth


_QUARTZ = ((8.25, 0.16, 0.20), (9.15, 0.14, 0.22))
SURFACE_CLASSES: dict[str, EmissivityModel] = {
    "vegetation": EmissivityModel("vegetation", 0.98, (), "Salisbury & D'Aria 1992; Baldridge et al. 2009"),
    "water": EmissivityModel("water", 0.99, (), "Masuda et al. 1988"),
    "built": EmissivityModel(
        "built", 0.935, tuple((c, 0.02, s) for c, _, s in _QUARTZ), "ASTER library man-made materials"
    ),
    "silicate": EmissivityModel("silicate", 0.965, _QUARTZ, "Salisbury & D'Aria 1992; Hook et al. 1992"),
    "carbonate": EmissivityModel(
        "carbonate", 0.965, ((11.25, 0.06, 0.10),), "Hunt & Salisbury 1975; Salisbury & D'Aria 1992"
    ),
}
#: Class codes of a class map are indices into this tuple.
CLASS_NAMES: tuple[str, ...] = tuple(SURFACE_CLASSES)


def emissivity_spectrum(name: str, wavelength_nm: np.ndarray, feature_scale: float = 1.0) -> np.ndarray:
    """The nominal emissivity spectrum of surface class ``name`` (one of :data:`CLASS_NAMES`)."""
    if name not in SURFACE_CLASSES:
        raise InvalidInputError("surface_class", f"{name!r}; expected one of {', '.join(CLASS_NAMES)}")
    return SURFACE_CLASSES[name].spectrum(wavelength_nm, feature_scale)


def random_class_map(
    shape: tuple[int, int],
    rng: np.random.Generator,
    *,
    fractions: dict[str, float] | None = None,
    patch_px: float = 6.0,
) -> np.ndarray:
    """(y, x) int8 map of class codes (indices into :data:`CLASS_NAMES`) in smooth patches of ~``patch_px`` pixels.

    Each class gets a smoothed white-noise field weighted by its fraction (default: vegetation 0.3, silicate 0.25,
    built 0.2, carbonate 0.15, water 0.1); each pixel takes the class of the largest field.
    """
    from scipy.ndimage import gaussian_filter

    weights = fractions or {"vegetation": 0.3, "water": 0.1, "built": 0.2, "silicate": 0.25, "carbonate": 0.15}
    unknown = set(weights) - set(CLASS_NAMES)
    if unknown:
        raise InvalidInputError("fractions", f"unknown classes {sorted(unknown)}; expected {', '.join(CLASS_NAMES)}")
    fields = np.full((len(CLASS_NAMES), *shape), -np.inf)
    for code, name in enumerate(CLASS_NAMES):
        w = float(weights.get(name, 0.0))
        if w <= 0:
            continue
        noise = gaussian_filter(rng.standard_normal(shape), patch_px, mode="wrap")
        noise /= noise.std() or 1.0
        fields[code] = noise + 2.0 * np.log(w)
    return np.argmax(fields, axis=0).astype(np.int8)


def emissivity_cube(
    class_map: np.ndarray,
    wavelength_nm: np.ndarray,
    rng: np.random.Generator,
    *,
    feature_scale_range: tuple[float, float] = (0.6, 1.3),
    grey_sigma: float = 0.004,
) -> np.ndarray:
    """(y, x, band) emissivity: each pixel its class spectrum with a random feature strength and grey offset.

    ``feature_scale_range``: uniform range of ``s``; ``grey_sigma``: 1σ of a Gaussian offset of the grey level.
    Values are clipped to 0.5-0.995.
    """
    class_map = np.asarray(class_map)
    scale = rng.uniform(*feature_scale_range, size=class_map.shape)
    offset = rng.normal(0.0, grey_sigma, size=class_map.shape)
    out = np.empty((*class_map.shape, np.size(wavelength_nm)))
    for code, name in enumerate(CLASS_NAMES):
        where = class_map == code
        if where.any():
            out[where] = SURFACE_CLASSES[name].spectrum(wavelength_nm, scale[where]) + offset[where][:, None]
    return np.clip(out, 0.5, 0.995)
