"""Thermal-infrared imaging spectrometers for the LWIR simulator: the HyTES-like preset and sensor files.

HyTES preset
------------
NASA/JPL's Hyperspectral Thermal Emission Spectrometer: 256 channels from 7.5 to 12 µm (17.6 nm sampling), 512
cross-track pixels over a 50° field of view (1.7 mrad IFOV, so 3.4 m pixels from 2 km above ground), NEdT about
0.2 K at 300 K (Johnson et al. 2011, "HyTES: Thermal imaging spectrometer development", IEEE Aerospace Conf.;
Hook et al. 2013, "The Hyperspectral Thermal Emission Spectrometer (HyTES)", HyspIRI Symposium; Hulley et al. 2016,
Atmos. Meas. Tech. 9, 2393). The preset uses a Gaussian response with FWHM equal to the sampling (nominal, not a
flight calibration) and NEdT 0.15 K at 300 K per channel, white and independent between channels and pixels.

Sensor file
-----------
A CSV with one row per channel: a centre column (``center_nm``, ``centre_nm``, ``wavelength_nm``; or ``…_um`` in
micrometres) and a ``fwhm_nm`` (or ``fwhm_um``) column; an optional ``nedt_k`` column gives a per-channel NEdT.
Centres must increase strictly and lie within 3-20 µm.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from plumetrace.errors import InvalidFileError, InvalidInputError, MissingFileError

__all__ = ["LwirSensor", "LWIR_SENSOR_NAMES", "hytes_preset", "read_sensor_file", "get_lwir_sensor"]

LWIR_SENSOR_NAMES = ("hytes",)
_CENTRE_COLUMNS = {"center_nm": 1.0, "centre_nm": 1.0, "wavelength_nm": 1.0, "center_um": 1e3, "centre_um": 1e3}
_CENTRE_COLUMNS["wavelength_um"] = 1e3
_FWHM_COLUMNS = {"fwhm_nm": 1.0, "fwhm_um": 1e3}


@dataclass(frozen=True, eq=False)  # holds arrays: compared and hashed by identity
class LwirSensor:
    """A thermal imaging spectrometer.

    name : Scene ``sensor`` attribute (``hytes`` or ``generic``); wavelength_nm, fwhm_nm : (band,) nm, Gaussian
    response; nedt_k : (band,) noise-equivalent temperature difference at 300 K, K; pixel_size_m : m;
    source : provenance.
    """

    name: str
    wavelength_nm: np.ndarray
    fwhm_nm: np.ndarray
    nedt_k: np.ndarray
    pixel_size_m: float
    source: str

    @property
    def n_bands(self) -> int:
        return int(self.wavelength_nm.size)


def hytes_preset(*, n_channels: int = 256, nedt_k: float = 0.15, pixel_size_m: float = 3.4) -> LwirSensor:
    """The HyTES-like preset (module docstring); ``n_channels`` 128-256 spread evenly over 7.5-12 µm."""
    if not (128 <= int(n_channels) <= 512):
        raise InvalidInputError("n_channels", f"{n_channels} must lie in 128-512")
    if not (np.isfinite(nedt_k) and 0.0 <= nedt_k <= 5.0):
        raise InvalidInputError("nedt_k", f"{nedt_k} must lie in 0-5 K")
    if not (np.isfinite(pixel_size_m) and 0.1 <= pixel_size_m <= 1000.0):
        raise InvalidInputError("pixel_size_m", f"{pixel_size_m} must lie in 0.1-1000 m")
    wl = np.linspace(7500.0, 12000.0, int(n_channels))
    fwhm = np.full(wl.size, wl[1] - wl[0])
    return LwirSensor("hytes", wl, fwhm, np.full(wl.size, float(nedt_k)), float(pixel_size_m), "HyTES-like nominal")


def read_sensor_file(path: str | Path, *, nedt_k: float = 0.15, pixel_size_m: float = 3.4) -> LwirSensor:
    """Channels from a CSV sensor file (module docstring); ``nedt_k`` applies when the file has no ``nedt_k``."""
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path, "sensor file")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InvalidFileError(path, "sensor file", f"not a readable CSV ({exc})") from None
    if not rows:
        raise InvalidFileError(path, "sensor file", "no channel rows")
    columns = {str(k).strip().lower(): k for k in rows[0] if k is not None}
    centre_key = next((c for c in _CENTRE_COLUMNS if c in columns), None)
    fwhm_key = next((c for c in _FWHM_COLUMNS if c in columns), None)
    if centre_key is None:
        raise InvalidFileError(
            path, "center_nm", f"no channel-centre column; expected one of {', '.join(_CENTRE_COLUMNS)}"
        )
    if fwhm_key is None:
        raise InvalidFileError(path, "fwhm_nm", "no FWHM column; expected fwhm_nm or fwhm_um")

    def column(key: str, scale: float) -> np.ndarray:
        try:
            values = np.array([float(row[columns[key]]) for row in rows]) * scale
        except (TypeError, ValueError):
            raise InvalidFileError(path, key, "a value is not a number") from None
        if not np.all(np.isfinite(values)):
            raise InvalidFileError(path, key, "values must be finite")
        return values

    wl = column(centre_key, _CENTRE_COLUMNS[centre_key])
    fwhm = column(fwhm_key, _FWHM_COLUMNS[fwhm_key])
    if np.any(np.diff(wl) <= 0):
        raise InvalidFileError(path, centre_key, "channel centres must increase strictly")
    if wl[0] < 3000.0 or wl[-1] > 20000.0:
        raise InvalidFileError(path, centre_key, f"{wl[0]:.0f}-{wl[-1]:.0f} nm is not a thermal range (3-20 µm)")
    if np.any(fwhm <= 0) or np.any(fwhm >= 0.5 * wl):
        raise InvalidFileError(path, fwhm_key, "FWHM must be positive and narrower than half the channel centre")
    nedt = column("nedt_k", 1.0) if "nedt_k" in columns else np.full(wl.size, float(nedt_k))
    if np.any(nedt < 0):
        raise InvalidFileError(path, "nedt_k", "must not be negative")
    return LwirSensor("generic", wl, fwhm, nedt, float(pixel_size_m), str(path))


def get_lwir_sensor(
    name: str = "hytes", *, sensor_file: str | Path | None = None, pixel_size_m: float | None = None
) -> LwirSensor:
    """The ``hytes`` preset, or the channels of ``sensor_file``; ``pixel_size_m`` overrides the pixel size."""
    if sensor_file is not None:
        sensor = read_sensor_file(sensor_file)
    else:
        key = str(name).strip().lower()
        if key not in LWIR_SENSOR_NAMES:
            raise InvalidInputError("sensor", f"{name!r} is not a thermal sensor; expected hytes or a sensor file")
        sensor = hytes_preset()
    if pixel_size_m is not None:
        if not (np.isfinite(pixel_size_m) and 0.1 <= pixel_size_m <= 1000.0):
            raise InvalidInputError("pixel_size_m", f"{pixel_size_m} must lie in 0.1-1000 m")
        sensor = replace(sensor, pixel_size_m=float(pixel_size_m))
    return sensor
