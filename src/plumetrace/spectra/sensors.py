"""Sensor presets: band centres, widths, pixel size, swath and noise of the imaging spectrometers we simulate.

Sources
-------
* EMIT: 285 band centres from the bundled EMIT CH4 target file (NASA EMIT-Data-Resources); FWHM 8.5 nm nominal
  (EMIT spectral response ~8.5 nm at 7.4 nm sampling, Green et al. 2023); 60 m pixels; 1242 cross-track pixels;
  ISOFIT ``emit_noise.txt`` noise model.
* AVIRIS-NG: 425 centres and FWHM from the bundled 2017-02-28 spectral calibration (ISOFIT Pasadena example, µm → nm);
  pixel size 1-8 m with altitude (default 5 m); 598 cross-track pixels; ISOFIT ``avirisng_noise.txt``.
* PRISMA (ASI): VNIR 66 bands 400-1010 nm and SWIR 173 bands 920-2505 nm, FWHM ≤ 12 nm, 30 m, 30 km swath
  (1000 px); SNR 200 (VNIR, 600 at 650 nm), 200 in 1.0-1.75 µm (400 at 1.55 µm), 100 in 1.95-2.35 µm (200 at
  2.1 µm) — eoPortal "PRISMA (Hyperspectral)" and the ASI mission specifications. Bands are placed uniformly in each
  range (nominal, not a flight calibration); the overlap bands of both spectrometers are kept, sorted by wavelength.
* EnMAP (DLR/GFZ): VNIR 91 bands 418-993 nm (6.5 nm sampling) and SWIR 133 bands 902-2445 nm (~10 nm sampling),
  224 in total as in L1B products; FWHM 6.5 nm (VNIR) and 10 nm (SWIR); 30 m; 30 km swath (1000 px); SNR 500 at
  495 nm and 150 at 2200 nm (mission requirements, GFZ "EnMAP technical outline"). Nominal, uniform band placement.

SNR-specified sensors use :func:`plumetrace.spectra.noise.snr_noise_model` with the reference radiance of a 30 %
reflectance surface at 30° solar zenith (the usual specification condition), floored at 2 % of its maximum so deep
absorption bands keep a non-zero noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from plumetrace.errors import InvalidInputError
from plumetrace.spectra import bundled_path
from plumetrace.spectra.noise import NoiseModel, load_noise_table, snr_noise_model

__all__ = ["SensorPreset", "SENSOR_NAMES", "get_sensor"]

SENSOR_NAMES = ("emit", "aviris-ng", "prisma", "enmap")


@dataclass(frozen=True)
class SensorPreset:
    """An imaging spectrometer's nominal characteristics.

    name : Scene ``sensor`` attribute; wavelength_nm, fwhm_nm : (n_band,) nm; pixel_size_m : ground sampling
    distance, m; swath_pixels : cross-track pixels; noise : per-band parametric noise model; source : provenance.
    """

    name: str
    wavelength_nm: np.ndarray
    fwhm_nm: np.ndarray
    pixel_size_m: float
    swath_pixels: int
    noise: NoiseModel
    source: str

    @property
    def n_bands(self) -> int:
        return int(self.wavelength_nm.size)


def _emit() -> tuple[np.ndarray, np.ndarray]:
    wl = np.loadtxt(bundled_path("emit_ch4_target.txt"))[:, 1]
    return wl, np.full(wl.size, 8.5)


def _aviris_ng() -> tuple[np.ndarray, np.ndarray]:
    table = np.loadtxt(bundled_path("avirisng_wavelength_fit.txt"))
    return table[:, 1] * 1000.0, table[:, 2] * 1000.0


def _two_spectrometers(vnir: tuple[float, float, int, float], swir: tuple[float, float, int, float]):
    wl = np.concatenate([np.linspace(vnir[0], vnir[1], vnir[2]), np.linspace(swir[0], swir[1], swir[2])])
    fwhm = np.concatenate([np.full(vnir[2], vnir[3]), np.full(swir[2], swir[3])])
    order = np.argsort(wl, kind="stable")
    wl, fwhm = wl[order], fwhm[order]
    # Keep wavelengths strictly increasing where a VNIR and a SWIR centre coincide.
    for i in range(1, wl.size):
        if wl[i] <= wl[i - 1]:
            wl[i] = wl[i - 1] + 0.01
    return wl, fwhm


def _snr_model(wavelength_nm, fwhm_nm, snr_points: list[tuple[float, float]], source: str) -> NoiseModel:
    from plumetrace.simulate.radiance import ForwardModel  # local: avoids an import cycle

    model = ForwardModel(wavelength_nm, fwhm_nm, solar_zenith_deg=30.0)
    reference = 0.3 * model.unit_radiance
    reference = np.maximum(reference, 0.02 * reference.max())
    x, y = zip(*snr_points)
    snr = np.interp(wavelength_nm, x, y)
    return snr_noise_model(snr, reference, source=source)


@lru_cache(maxsize=8)
def _preset(name: str) -> SensorPreset:
    if name == "emit":
        wl, fwhm = _emit()
        return SensorPreset("emit", wl, fwhm, 60.0, 1242, load_noise_table("emit", wl), "EMIT target file; ISOFIT noise")
    if name == "aviris-ng":
        wl, fwhm = _aviris_ng()
        return SensorPreset(
            "aviris-ng", wl, fwhm, 5.0, 598, load_noise_table("aviris-ng", wl), "ang20170228 wavelength fit; ISOFIT noise"
        )
    if name == "prisma":
        wl, fwhm = _two_spectrometers((400.0, 1010.0, 66, 12.0), (920.0, 2505.0, 173, 12.0))
        snr = [(400, 200), (650, 600), (1000, 200), (1550, 400), (1750, 200), (1950, 100), (2100, 200), (2350, 100), (2505, 100)]
        return SensorPreset("prisma", wl, fwhm, 30.0, 1000, _snr_model(wl, fwhm, snr, "PRISMA SNR spec"), "ASI nominal")
    if name == "enmap":
        wl, fwhm = _two_spectrometers((418.0, 993.0, 91, 6.5), (902.0, 2445.0, 133, 10.0))
        snr = [(418, 400), (495, 500), (1000, 300), (1650, 250), (2200, 150), (2445, 120)]
        return SensorPreset("enmap", wl, fwhm, 30.0, 1000, _snr_model(wl, fwhm, snr, "EnMAP SNR requirement"), "DLR/GFZ nominal")
    raise InvalidInputError("sensor", f"unknown sensor {name!r}; expected one of {', '.join(SENSOR_NAMES)}")


def get_sensor(name: str, *, pixel_size_m: float | None = None) -> SensorPreset:
    """The preset for ``name`` (``emit``, ``aviris-ng``, ``prisma``, ``enmap``; case-insensitive, ``avng`` accepted).

    ``pixel_size_m`` overrides the nominal ground sampling distance (e.g. AVIRIS-NG flown higher or lower).
    """
    key = str(name).strip().lower().replace("_", "-")
    key = {"avng": "aviris-ng", "avirisng": "aviris-ng", "ang": "aviris-ng"}.get(key, key)
    preset = _preset(key)
    if pixel_size_m is not None:
        if not (np.isfinite(pixel_size_m) and 0.1 <= pixel_size_m <= 1000.0):
            raise InvalidInputError("pixel_size_m", f"{pixel_size_m} must lie in 0.1-1000 m")
        from dataclasses import replace

        preset = replace(preset, pixel_size_m=float(pixel_size_m))
    return preset
