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

Thermal-infrared sensors (the HyTES-like preset and CSV sensor files) are in :mod:`plumetrace.simulate.lwir_sensors`.

Column (push-broom) instrument effects
--------------------------------------
Each detector column of a push-broom imaging spectrometer is its own spectrometer: band centres shift a little across
the swath (spectral *smile*, the curvature of the slit image on the detector) and the flat field leaves a small
column-to-column radiometric residual. :class:`ColumnEffects` holds the magnitudes the simulator uses when asked
(``simulate_scene(..., column_effects=True)``):

* Smile: JPL's Offner (AVIRIS-NG) and Dyson (EMIT) spectrometers are specified to ≥ 95 % cross-track spectral
  uniformity, i.e. a band centre may move by at most 5 % of the spectral sampling across the swath (Mouroulis, Green
  & Chrien 2000, Appl. Opt. 39, 2210; Mouroulis & Green 2018, "Review of high fidelity imaging spectrometer design
  for remote sensing", Opt. Eng. 57, 040901; AVIRIS-NG: Hamlin et al. 2011, IEEE Aerospace Conf.; Chapman et al.
  2019, Remote Sens. 11, 2129, which fits a per-column spectral calibration; EMIT: Bradley et al. 2020, SPIE 11504,
  "Optical design of the EMIT imaging spectrometer"; Green et al. 2020, IEEE Aerospace Conf.). We use that bound as
  the edge-to-centre smile: EMIT 0.37 nm (5 % of 7.4 nm sampling), AVIRIS-NG 0.25 nm (5 % of 5 nm). As-built
  instruments are typically within it, so these values are an upper-realistic case.
* Radiometric column residual: after flat-fielding, AVIRIS-NG radiance still shows column stripes that Chapman et al.
  (2019) remove with a Markov-random-field destriping; we model the residual as 0.2 % random per (column, band) plus a
  0.5 % RMS smooth (cross-track × spectral) pattern for both instruments. These figures are our assumption at the
  order of magnitude of published flat-field uncertainties (a few tenths of a per cent), not a measured value.
PRISMA and EnMAP carry no column-effect values here (None): their L1 processors correct smile from per-column
calibration tables that we have not characterised.

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

__all__ = ["ColumnEffects", "SensorPreset", "SENSOR_NAMES", "get_sensor"]

SENSOR_NAMES = ("emit", "aviris-ng", "prisma", "enmap")


@dataclass(frozen=True)
class ColumnEffects:
    """Magnitudes of a push-broom instrument's column-dependent effects (see the module docstring for sources).

    smile_nm : band-centre shift of the swath edges relative to its centre, nm (parabolic across the swath).
    gain_random_sigma : relative 1σ of the independent per-(column, band) radiometric gain error (0.002 = 0.2 %).
    gain_smooth_sigma : relative RMS of the smooth cross-track × spectral gain pattern.
    source : provenance.
    """

    smile_nm: float
    gain_random_sigma: float
    gain_smooth_sigma: float
    source: str


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
    column_effects: ColumnEffects | None = None

    @property
    def n_bands(self) -> int:
        return int(self.wavelength_nm.size)


#: ≥ 95 % cross-track spectral uniformity bound (5 % of the 7.4 nm sampling) and an assumed flat-field residual.
_EMIT_COLUMNS = ColumnEffects(0.37, 0.002, 0.005, "smile: 95 % uniformity spec (Bradley et al. 2020); gain: assumed")
#: ≥ 95 % cross-track spectral uniformity bound (5 % of the 5 nm sampling) and an assumed flat-field residual.
_AVIRIS_NG_COLUMNS = ColumnEffects(
    0.25, 0.002, 0.005, "smile: 95 % uniformity spec (Hamlin et al. 2011; Chapman et al. 2019); gain: assumed"
)


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
    from plumetrace.simulate.radiance import ForwardModel  # local: radiance imports this module

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
        return SensorPreset(
            "emit",
            wl,
            fwhm,
            60.0,
            1242,
            load_noise_table("emit", wl),
            "EMIT target file; ISOFIT noise",
            column_effects=_EMIT_COLUMNS,
        )
    if name == "aviris-ng":
        wl, fwhm = _aviris_ng()
        return SensorPreset(
            "aviris-ng",
            wl,
            fwhm,
            5.0,
            598,
            load_noise_table("aviris-ng", wl),
            "ang20170228 wavelength fit; ISOFIT noise",
            column_effects=_AVIRIS_NG_COLUMNS,
        )
    if name == "prisma":
        wl, fwhm = _two_spectrometers((400.0, 1010.0, 66, 12.0), (920.0, 2505.0, 173, 12.0))
        snr = [
            (400, 200),
            (650, 600),
            (1000, 200),
            (1550, 400),
            (1750, 200),
            (1950, 100),
            (2100, 200),
            (2350, 100),
            (2505, 100),
        ]
        return SensorPreset("prisma", wl, fwhm, 30.0, 1000, _snr_model(wl, fwhm, snr, "PRISMA SNR spec"), "ASI nominal")
    if name == "enmap":
        wl, fwhm = _two_spectrometers((418.0, 993.0, 91, 6.5), (902.0, 2445.0, 133, 10.0))
        snr = [(418, 400), (495, 500), (1000, 300), (1650, 250), (2200, 150), (2445, 120)]
        return SensorPreset(
            "enmap", wl, fwhm, 30.0, 1000, _snr_model(wl, fwhm, snr, "EnMAP SNR requirement"), "DLR/GFZ nominal"
        )
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
