"""Small synthetic SWIR scenes with known plumes (Beer–Lambert injection, analytic truth) for the detection tests."""

from __future__ import annotations

import numpy as np

from plumetrace.scene import make_scene
from plumetrace.spectra.target import ch4_target


def swir_bands() -> tuple[np.ndarray, np.ndarray]:
    """EMIT-like bands over 2050–2500 nm: 7.4 nm spacing, 8.5 nm FWHM."""
    wavelength = np.arange(2050.0, 2500.0, 7.4)
    return wavelength, np.full_like(wavelength, 8.5)


def synthetic_scene(
    *,
    rows: int = 200,
    cols: int = 24,
    seed: int = 0,
    plume_ppm_m: np.ndarray | None = None,
    snr: float = 300.0,
    column_gain: float = 0.02,
    identical_columns: bool = False,
):
    """A radiance scene: 3 smooth endmembers × random abundances, per-column gain, noise, optional plume.

    Returns (scene, truth_ppm_m (rows, cols), unit_absorption at the bands).
    """
    rng = np.random.default_rng(seed)
    wavelength, fwhm = swir_bands()
    x = (wavelength - 2050.0) / 450.0
    endmembers = np.stack([4.0 - 2.0 * x, 3.0 + 0.5 * np.sin(6 * x), 2.0 + 1.5 * x**2])  # µW cm-2 sr-1 nm-1
    abundance = rng.dirichlet([2.0, 2.0, 2.0], size=(rows, cols))
    brightness = rng.uniform(0.6, 1.4, size=(rows, cols, 1))
    radiance = brightness * np.einsum("yxe,eb->yxb", abundance, endmembers)
    if identical_columns:
        radiance = np.repeat(radiance[:, :1], cols, axis=1)
    gain = 1.0 + column_gain * rng.standard_normal((1, cols, wavelength.size))
    if identical_columns:
        gain = np.ones_like(gain)
    radiance = radiance * gain
    k = ch4_target(wavelength, fwhm)
    truth = np.zeros((rows, cols)) if plume_ppm_m is None else np.asarray(plume_ppm_m, dtype=np.float64)
    radiance = radiance * np.exp(truth[..., None] * k)
    noise = radiance / snr * rng.standard_normal(radiance.shape)
    if identical_columns:
        noise = np.repeat(noise[:, :1], cols, axis=1)
    radiance = (radiance + noise).astype(np.float32)
    scene = make_scene(radiance, wavelength, fwhm, sensor="generic", solar_zenith_deg=0.0, view_zenith_deg=0.0)
    return scene, truth, k


def disc_plume(rows: int, cols: int, peak_ppm_m: float, *, centre=None, radius: float = 6.0) -> np.ndarray:
    cy, cx = centre if centre is not None else (rows / 2, cols / 2)
    yy, xx = np.mgrid[0:rows, 0:cols]
    r2 = ((yy - cy) ** 2 + (xx - cx) ** 2) / radius**2
    return np.where(r2 < 1.0, peak_ppm_m * (1.0 - 0.5 * r2), 0.0)


def georeferenced_disc_scene(seed: int, *, rows: int = 160, cols: int = 12):
    """A :func:`synthetic_scene` with a 1500 ppm·m disc plume (radius 4 px) on a 60 m UTM grid (EPSG:32613), as the
    ENVI-file tests write it. Returns (scene, truth_ppm_m)."""
    scene, truth, _ = synthetic_scene(
        rows=rows, cols=cols, plume_ppm_m=disc_plume(rows, cols, 1500.0, radius=4.0), seed=seed
    )
    scene.attrs["crs"] = "EPSG:32613"
    scene.attrs["transform"] = [60.0, 0.0, 700000.0, 0.0, -60.0, 3500000.0]
    scene.attrs["acquisition_time"] = "2026-06-21T18:30:00Z"
    return scene, truth
