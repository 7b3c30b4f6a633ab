"""Small synthetic LWIR scenes with known truth for the detection tests (no simulator, no shared data).

Gases are sums of Gaussian bands (natural-log α per ppm·m); the ground is a patchwork of grey and reststrahlen-like
surfaces at varying temperature; the plume follows the exact single-layer model.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from plumetrace.spectra.gas_library import SensorGasLibrary
from plumetrace.spectra.thermal import planck_radiance

WAVELENGTH_NM = np.linspace(7600.0, 12000.0, 96)
FWHM_NM = np.full(WAVELENGTH_NM.size, 50.0)

#: name → (centre nm, width nm, peak α per ppm·m) of each band.
GASES = {
    "alpha": [(8200.0, 90.0, 8e-4), (9100.0, 60.0, 3e-4)],
    "beta": [(9600.0, 120.0, 6e-4)],
    "gamma": [(10600.0, 80.0, 5e-4), (11400.0, 70.0, 4e-4)],
    "delta": [(8700.0, 70.0, 7e-4), (11000.0, 100.0, 2e-4)],
    "twin": [(9610.0, 121.0, 6e-4)],  # indistinguishable from beta
}


def library(names=("alpha", "beta", "gamma", "delta")) -> SensorGasLibrary:
    rows = []
    for name in names:
        a = np.zeros(WAVELENGTH_NM.size)
        for centre, width, peak in GASES[name]:
            a += peak * np.exp(-0.5 * ((WAVELENGTH_NM - centre) / width) ** 2)
        rows.append(a)
    return SensorGasLibrary(
        names=tuple(names), centers_nm=WAVELENGTH_NM.copy(), fwhm_nm=FWHM_NM.copy(), absorption_per_ppm_m=np.array(rows)
    )


def scene(
    lib: SensorGasLibrary,
    columns: dict[str, float],
    *,
    seed: int = 0,
    size: int = 64,
    ground_k: float = 305.0,
    plume_k: float = 297.0,
    noise_k: float = 0.1,
    blind_half: bool = False,
) -> tuple[xr.Dataset, dict[str, np.ndarray]]:
    """Scene with one Gaussian plume of the given peak columns at the centre; truth maps per gas."""
    rng = np.random.default_rng(seed)
    wl = WAVELENGTH_NM
    yy, xx = np.mgrid[0:size, 0:size]
    # Surfaces: 4 patches (grey 0.97, grey 0.93, a quartz-like dip near 8.6-9.2 µm, a carbonate-like one at 11.2 µm).
    patch = ((yy // (size // 2)) * 2 + (xx // (size // 2))).astype(int)
    base = np.ones((4, wl.size))
    base[0] *= 0.97
    base[1] *= 0.93
    base[2] = 0.95 - 0.15 * np.exp(-0.5 * ((wl - 8900.0) / 300.0) ** 2)
    base[3] = 0.96 - 0.05 * np.exp(-0.5 * ((wl - 11250.0) / 150.0) ** 2)
    eps = base[patch] * (1.0 + 0.01 * rng.standard_normal((size, size, 1)))
    eps = np.clip(eps + 0.003 * rng.standard_normal((size, size, wl.size)) * 0, 0.5, 0.995)
    t_ground = ground_k + 1.5 * rng.standard_normal((size, size))
    if blind_half:
        t_ground[:, : size // 2] = plume_k  # left half: blackbody-ish at the plume temperature
        eps[:, : size // 2] = 0.995
    sky = 0.4 * planck_radiance(wl, 280.0)
    surface = eps * planck_radiance(wl, t_ground[..., None]) + (1 - eps) * sky
    shape = np.exp(-0.5 * (((yy - size / 2) / (size / 16)) ** 2 + ((xx - size / 2) / (size / 12)) ** 2))
    truth = {g: columns.get(g, 0.0) * shape for g in lib.names}
    k = sum(truth[g][..., None] * lib.absorption_per_ppm_m[i] for i, g in enumerate(lib.names))
    t = np.exp(-k)
    radiance = surface * t + planck_radiance(wl, plume_k) * (1 - t)
    nesr = noise_k * (planck_radiance(wl, 300.5) - planck_radiance(wl, 299.5))
    radiance = radiance + nesr * rng.standard_normal(radiance.shape)
    ds = xr.Dataset(
        {"radiance": (("y", "x", "band"), radiance.astype(np.float32))},
        coords={"wavelength": ("band", wl), "fwhm": ("band", FWHM_NM)},
        attrs={"sensor": "generic", "source": "synthetic-lwir"},
    )
    truth["mask"] = shape > 0.1
    return ds, truth
