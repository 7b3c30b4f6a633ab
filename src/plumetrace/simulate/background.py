"""Procedural surface backgrounds: abundance maps of library materials with realistic spatial texture.

A background is a set of per-pixel abundances ``(y, x, k)`` of named materials (see
:data:`plumetrace.spectra.reflectance.BACKGROUND_MATERIALS`). Texture comes from:

* Gaussian random fields with a power-law spectrum (fractal, ``P(k) ∝ k^-beta``) and an outer scale in metres, so a
  60 m EMIT scene and a 5 m AVIRIS-NG scene each look like land cover at their own scale;
* land cover: each material's preference is a random field; a sharpened softmax turns them into mostly-pure patches
  with mixed edges;
* agricultural fields: rectangular parcels of one crop/soil material;
* roads: straight lines of a concrete/asphalt proxy with sub-pixel width handled as an area fraction;
* illumination: a smooth ±10 % brightness field (topographic shading), applied as a factor on all abundances.

Abundances sum to the brightness factor (≈ 1) in each pixel: areal linear mixing, which the forward model then
renders exactly (:meth:`plumetrace.simulate.radiance.ForwardModel.level_table`).
"""

from __future__ import annotations

import math

import numpy as np

from plumetrace.errors import InvalidInputError
from plumetrace.spectra.reflectance import BACKGROUND_MATERIALS

__all__ = ["gaussian_random_field", "procedural_abundances"]

# Prior weight of each default material in the land-cover softmax (higher = more common).
_PRIOR = {
    "vegetation": 0.3,
    "dry_grass": 0.6,
    "shrubs": 0.2,
    "soil": 0.5,
    "bright_soil": 0.0,
    "road": -2.0,
    "water": -2.5,
}


def gaussian_random_field(
    shape: tuple[int, int], *, pixel_size_m: float, outer_scale_m: float, beta: float = 3.5, rng: np.random.Generator
) -> np.ndarray:
    """Zero-mean, unit-variance Gaussian random field with a power-law spectrum.

    Parameters
    ----------
    shape : (rows, cols).
    pixel_size_m : pixel size, m.
    outer_scale_m : largest structure size, m (the spectrum flattens below wavenumber 1/outer_scale).
    beta : spectral slope of the power spectrum (3-4 ≈ natural land cover).
    rng : NumPy random generator.

    Returns
    -------
    (rows, cols) float64.
    """
    ny, nx = shape
    ky = np.fft.fftfreq(ny, d=pixel_size_m)[:, None]
    kx = np.fft.rfftfreq(nx, d=pixel_size_m)[None, :]
    k2 = kx**2 + ky**2 + (1.0 / outer_scale_m) ** 2
    amplitude = k2 ** (-beta / 4.0)
    noise = rng.standard_normal((ny, nx))
    field = np.fft.irfft2(np.fft.rfft2(noise) * amplitude, s=(ny, nx))
    field -= field.mean()
    std = field.std()
    return field / std if std > 0 else field


def _fields_mask(shape, pixel_size_m, rng, materials) -> tuple[np.ndarray, np.ndarray]:
    """Rectangular parcels: (rows, cols) material index (-1 outside parcels) and parcel weight."""
    ny, nx = shape
    label = -np.ones(shape, dtype=np.int64)
    crops = [m for m in ("vegetation", "dry_grass", "soil", "bright_soil") if m in materials]
    if not crops:
        return label, np.zeros(shape)
    n_fields = rng.integers(2, 7)
    for _ in range(n_fields):
        size_m = rng.uniform(200.0, 900.0, size=2)
        h = max(2, int(size_m[0] / pixel_size_m))
        w = max(2, int(size_m[1] / pixel_size_m))
        if h >= ny or w >= nx:
            h, w = min(h, ny // 3 + 1), min(w, nx // 3 + 1)
        y0 = int(rng.integers(0, max(1, ny - h)))
        x0 = int(rng.integers(0, max(1, nx - w)))
        label[y0 : y0 + h, x0 : x0 + w] = materials.index(crops[int(rng.integers(len(crops)))])
    return label, (label >= 0).astype(np.float64)


def _roads(shape, pixel_size_m, rng, n_roads: int, width_m: float) -> np.ndarray:
    """Area fraction (0-1) of road in each pixel for ``n_roads`` straight roads."""
    ny, nx = shape
    yy, xx = np.mgrid[0:ny, 0:nx].astype(np.float64)
    fraction = np.zeros(shape)
    for _ in range(n_roads):
        angle = rng.uniform(0, math.pi)
        cy, cx = rng.uniform(0, ny), rng.uniform(0, nx)
        distance_px = np.abs((xx - cx) * math.sin(angle) - (yy - cy) * math.cos(angle))
        half_width_px = 0.5 * width_m / pixel_size_m
        # Area fraction of a band of half-width hw over a unit pixel at distance d (box approximation); a road
        # narrower than a pixel covers at most width/pixel of it.
        cover = np.minimum(np.clip(half_width_px + 0.5 - distance_px, 0.0, 1.0), min(1.0, 2.0 * half_width_px))
        fraction = np.maximum(fraction, cover)
    return fraction


def procedural_abundances(
    shape: tuple[int, int],
    *,
    pixel_size_m: float,
    seed: int | None = 0,
    materials: tuple[str, ...] | None = None,
    outer_scale_m: float | None = None,
    sharpness: float = 3.0,
    n_roads: int | None = None,
    road_width_m: float = 12.0,
    fields: bool = True,
    brightness_std: float = 0.08,
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Abundance maps of a procedural landscape.

    Parameters
    ----------
    shape : (rows, cols), each ≥ 8.
    pixel_size_m : pixel size, m.
    seed : random seed.
    materials : names from ``BACKGROUND_MATERIALS`` (default: all of them).
    outer_scale_m : largest land-cover structure (default: 40 pixels, at least 400 m).
    sharpness : softmax sharpening; larger gives purer patches.
    n_roads : number of straight roads (default 2 when the road material is used).
    road_width_m : road width, m.
    fields : add rectangular agricultural parcels.
    brightness_std : standard deviation of the smooth illumination factor.

    Returns
    -------
    abundances : (rows, cols, k) float32, summing per pixel to the illumination factor (≈ 1).
    materials : (k,) material names in the order of the last axis.
    """
    if len(shape) != 2 or min(shape) < 8:
        raise InvalidInputError("shape", f"{tuple(shape)} must be (rows, cols) with at least 8 of each")
    if not pixel_size_m > 0:
        raise InvalidInputError("pixel_size_m", f"{pixel_size_m} must be positive")
    materials = tuple(BACKGROUND_MATERIALS) if materials is None else tuple(materials)
    unknown = [m for m in materials if m not in BACKGROUND_MATERIALS]
    if unknown or not materials:
        raise InvalidInputError(
            "materials", f"unknown {unknown}; expected names from {', '.join(BACKGROUND_MATERIALS)}"
        )
    rng = np.random.default_rng(seed)
    if outer_scale_m is None:
        outer_scale_m = max(400.0, 40.0 * pixel_size_m)
    logits = np.stack(
        [
            sharpness * gaussian_random_field(shape, pixel_size_m=pixel_size_m, outer_scale_m=outer_scale_m, rng=rng)
            + sharpness * _PRIOR.get(m, 0.0)
            for m in materials
        ],
        axis=-1,
    )
    logits -= logits.max(axis=-1, keepdims=True)
    abundances = np.exp(logits)
    abundances /= abundances.sum(axis=-1, keepdims=True)
    if fields:
        label, inside = _fields_mask(shape, pixel_size_m, rng, list(materials))
        # Parcels: 85 % the crop, 15 % the underlying texture (weeds, bare patches).
        crop = np.zeros_like(abundances)
        ok = label >= 0
        crop[ok, label[ok]] = 1.0
        abundances = np.where(ok[..., None], 0.85 * crop + 0.15 * abundances, abundances)
    if "road" in materials:
        n = 2 if n_roads is None else int(n_roads)
        if n > 0:
            road = _roads(shape, pixel_size_m, rng, n, road_width_m)
            abundances *= (1.0 - road)[..., None]
            abundances[..., materials.index("road")] += road
    if brightness_std > 0:
        shade = 1.0 + brightness_std * gaussian_random_field(
            shape, pixel_size_m=pixel_size_m, outer_scale_m=outer_scale_m / 2, rng=rng
        )
        abundances *= np.clip(shade, 0.6, 1.4)[..., None]
    return abundances.astype(np.float32), materials
