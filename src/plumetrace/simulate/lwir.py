"""Simulated thermal-infrared (LWIR) scenes with chemical plumes of known gases, columns and thermal contrast.

Each pixel's at-sensor radiance follows the three-layer model of :mod:`plumetrace.spectra.thermal`::

    L = τ [t L_bg + (1 − t) B(T_p)] + L_path,    L_bg = ε B(T_g) + (1 − ε) L_down,    t = exp(−Σ_g α_g c_g)

* ground: a map of surface classes (:func:`plumetrace.spectra.emissivity.random_class_map`) with per-pixel
  emissivity spectra (grey bodies and quartz / carbonate reststrahlen features) and ground temperature = a scene
  mean + a class offset (vegetation −5 K, water −10 K, built +7 K, silicate +11 K, carbonate +8 K: sunlit daytime
  surfaces, our stated assumption) + a smooth random field (1σ ``ground_temperature_sigma_k``) + 0.3 K pixel noise;
* atmosphere: the band model of :mod:`plumetrace.spectra.lwir_atmosphere` (τ, L_path, L_down per channel);
* plumes: ellipses of 1-3 library gases with given columns (ppm·m; flat inside the ellipse, or a Gaussian profile
  with the column at its centre), at a temperature ``T_p = T_bg + ΔT`` where ``T_bg`` is the pixel's background
  brightness temperature (the channel mean of the brightness temperature of ``L_bg``) and ``ΔT`` the stated
  contrast (positive: plume warmer, bands in emission; negative: colder, bands in absorption); or, with
  ``plume_temperature="plume"``, one temperature per plume (median ``T_bg`` under it + ``ΔT``);
* gas transmittance: with a high-resolution :class:`~plumetrace.spectra.gas_library.GasLibrary` the simulator
  convolves ``exp(−Σ α c)`` itself at the library's resolution (so strong lines saturate as they do); with a
  :class:`~plumetrace.spectra.gas_library.SensorGasLibrary` it uses the channel α (exactly the model a detector fits);
* noise: white Gaussian, 1σ = NEdT · ∂B/∂T(λ, 300 K) per channel (NEdT 0.15 K for the HyTES-like preset).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from plumetrace.errors import InvalidInputError
from plumetrace.simulate.lwir_sensors import LwirSensor, get_lwir_sensor
from plumetrace.spectra.emissivity import CLASS_NAMES, emissivity_cube, random_class_map
from plumetrace.spectra.gas_library import GasLibrary, SensorGasLibrary, convolve_to_channels
from plumetrace.spectra.lwir_atmosphere import ThermalAtmosphere, atmosphere_terms
from plumetrace.spectra.thermal import brightness_temperature, nedt_to_nesr, planck_radiance, surface_leaving_radiance

__all__ = ["LwirPlume", "LwirSceneOptions", "simulate_lwir_scene", "CLASS_TEMPERATURE_OFFSET_K"]

#: Ground temperature offsets of each surface class from the scene mean, K (stated assumption, sunlit daytime).
CLASS_TEMPERATURE_OFFSET_K = {"vegetation": -5.0, "water": -10.0, "built": 7.0, "silicate": 11.0, "carbonate": 8.0}
_PIXEL_TEMPERATURE_SIGMA_K = 0.3
_PIXEL_BLOCK = 2048


@dataclass(frozen=True)
class LwirPlume:
    """One plume: gases and their columns (ppm·m), thermal contrast ΔT (K), ellipse centre (row, col), semi-axes
    (px) and orientation (degrees, counter-clockwise from the x axis); profile ``flat`` or ``gaussian``."""

    gases: tuple[str, ...]
    columns_ppm_m: tuple[float, ...]
    contrast_k: float
    centre_yx: tuple[float, float]
    semi_axes_px: tuple[float, float] = (8.0, 5.0)
    angle_deg: float = 0.0
    profile: str = "flat"

    def __post_init__(self) -> None:
        if len(self.gases) != len(self.columns_ppm_m) or not 1 <= len(self.gases) <= 5:
            raise InvalidInputError("columns_ppm_m", f"{len(self.columns_ppm_m)} columns for {len(self.gases)} gases")
        if any(not (np.isfinite(c) and 0.0 <= c <= 1e5) for c in self.columns_ppm_m):
            raise InvalidInputError("columns_ppm_m", f"{self.columns_ppm_m}: columns must lie in 0-100000 ppm·m")
        if not (np.isfinite(self.contrast_k) and abs(self.contrast_k) <= 50.0):
            raise InvalidInputError("contrast_k", f"{self.contrast_k} must lie in -50..50 K")
        if min(self.semi_axes_px) <= 0:
            raise InvalidInputError("semi_axes_px", "must be positive")
        if self.profile not in ("flat", "gaussian"):
            raise InvalidInputError("profile", f"{self.profile!r}; expected flat or gaussian")

    def footprint(self, shape: tuple[int, int]) -> np.ndarray:
        """(y, x) profile: 1 inside a flat ellipse (0 outside), or ``exp(−2 r²)`` cut at r = 1.5 for ``gaussian``."""
        yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
        dy, dx = yy - self.centre_yx[0], xx - self.centre_yx[1]
        theta = np.radians(self.angle_deg)
        u = dx * np.cos(theta) - dy * np.sin(theta)
        v = dx * np.sin(theta) + dy * np.cos(theta)
        r2 = (u / self.semi_axes_px[0]) ** 2 + (v / self.semi_axes_px[1]) ** 2
        if self.profile == "flat":
            return (r2 <= 1.0).astype(np.float64)
        return np.where(r2 <= 2.25, np.exp(-2.0 * r2), 0.0)


@dataclass(frozen=True)
class LwirSceneOptions:
    """What to simulate.

    shape : (rows, cols) ≥ 16 each; sensor : ``hytes``; sensor_file : CSV of channels (overrides ``sensor``);
    pixel_size_m : override; gases : gases that plumes may contain (default: the whole library); plumes : explicit
    plumes (else ``n_plumes`` random ones with ``gases_per_plume`` gases, columns log-uniform in
    ``column_range_ppm_m``, contrast magnitude uniform in ``contrast_range_k`` with a random sign unless
    ``contrast_sign`` is +1 or −1, semi-axes ``plume_radius_px`` × 0.7 of it, profile ``plume_profile``);
    plume_temperature : ``pixel`` (each plume pixel at its background brightness temperature + the plume's
    contrast: the contrast is exactly the stated one) or ``plume`` (one temperature per plume, the median
    background brightness temperature under it + the contrast: the contrast follows the ground, and some pixels of
    a weak-contrast plume go blind or change sign);
    ground_temperature_k / ground_temperature_sigma_k : scene mean and smooth variability, K; atmosphere;
    nedt_k : override the sensor's NEdT (K at 300 K); noise : add it; atmosphere_in_scene : also put the
    atmosphere's ``transmittance`` and ``path_radiance`` (band) in the Scene, as an atmospheric-correction code
    would supply them (off: radiance only, like an L1 file); lat, lon, acquisition_time : georeferencing.
    """

    shape: tuple[int, int] = (64, 64)
    sensor: str = "hytes"
    sensor_file: str | None = None
    pixel_size_m: float | None = None
    gases: tuple[str, ...] = ()
    plumes: tuple[LwirPlume, ...] | None = None
    n_plumes: int = 1
    gases_per_plume: tuple[int, int] = (1, 3)
    column_range_ppm_m: tuple[float, float] = (10.0, 500.0)
    contrast_range_k: tuple[float, float] = (1.0, 10.0)
    contrast_sign: int = 0
    plume_radius_px: float = 8.0
    plume_profile: str = "flat"
    plume_temperature: str = "pixel"
    ground_temperature_k: float = 305.0
    ground_temperature_sigma_k: float = 1.5
    atmosphere: ThermalAtmosphere = field(default_factory=ThermalAtmosphere)
    nedt_k: float | None = None
    noise: bool = True
    atmosphere_in_scene: bool = False
    lat: float = 31.9
    lon: float = -102.3
    acquisition_time: str = "2026-06-21T18:30:00Z"

    def __post_init__(self) -> None:
        rows, cols = self.shape
        if not (16 <= int(rows) <= 20000 and 16 <= int(cols) <= 20000):
            raise InvalidInputError("shape", f"{rows}x{cols}: each side must lie in 16-20000 pixels")
        lo, hi = self.column_range_ppm_m
        if not (0 < lo <= hi <= 1e5):
            raise InvalidInputError("column_range_ppm_m", f"{self.column_range_ppm_m}: need 0 < low <= high")
        lo, hi = self.contrast_range_k
        if not (0 <= lo <= hi <= 50):
            raise InvalidInputError("contrast_range_k", f"{self.contrast_range_k}: need 0 <= low <= high <= 50 K")
        if self.contrast_sign not in (-1, 0, 1):
            raise InvalidInputError("contrast_sign", f"{self.contrast_sign}; expected -1, 0 or 1")
        if not (0 <= self.n_plumes <= 100):
            raise InvalidInputError("n_plumes", f"{self.n_plumes} must lie in 0-100")
        if not (1 <= self.gases_per_plume[0] <= self.gases_per_plume[1] <= 5):
            raise InvalidInputError("gases_per_plume", f"{self.gases_per_plume}: need 1 <= low <= high <= 5")
        if not (200.0 <= self.ground_temperature_k <= 360.0):
            raise InvalidInputError("ground_temperature_k", f"{self.ground_temperature_k} must lie in 200-360 K")
        if not (0.0 <= self.ground_temperature_sigma_k <= 20.0):
            raise InvalidInputError("ground_temperature_sigma_k", f"{self.ground_temperature_sigma_k}: 0-20 K")
        if self.nedt_k is not None and not (0.0 <= self.nedt_k <= 5.0):
            raise InvalidInputError("nedt_k", f"{self.nedt_k} must lie in 0-5 K")
        if self.plume_profile not in ("flat", "gaussian"):
            raise InvalidInputError("plume_profile", f"{self.plume_profile!r}; expected flat or gaussian")
        if self.plume_temperature not in ("pixel", "plume"):
            raise InvalidInputError("plume_temperature", f"{self.plume_temperature!r}; expected pixel or plume")


def _sensor_library(
    library: SensorGasLibrary | GasLibrary, sensor: LwirSensor
) -> tuple[SensorGasLibrary, GasLibrary | None]:
    if isinstance(library, GasLibrary):
        return convolve_to_channels(library, sensor.wavelength_nm, sensor.fwhm_nm), library
    centres = np.asarray(library.centers_nm, dtype=np.float64)
    if centres.shape != sensor.wavelength_nm.shape or not np.allclose(centres, sensor.wavelength_nm, atol=1e-3):
        raise InvalidInputError("library", f"convolved to {centres.size} channels that are not the sensor's channels")
    return library, None


def _random_plumes(options: LwirSceneOptions, names: tuple[str, ...], rng: np.random.Generator) -> list[LwirPlume]:
    n = options.n_plumes
    if n == 0:
        return []
    rows, cols = options.shape
    per_side = int(np.ceil(np.sqrt(n)))
    cell_y, cell_x = rows / per_side, cols / per_side
    radius = min(options.plume_radius_px, 0.4 * min(cell_y, cell_x))
    cells = rng.permutation(per_side * per_side)[:n]
    plumes = []
    for cell in cells:
        cy = (cell // per_side + 0.5) * cell_y + rng.uniform(-0.1, 0.1) * cell_y
        cx = (cell % per_side + 0.5) * cell_x + rng.uniform(-0.1, 0.1) * cell_x
        k = int(rng.integers(options.gases_per_plume[0], min(options.gases_per_plume[1], len(names)) + 1))
        gases = tuple(names[i] for i in sorted(rng.choice(len(names), size=min(k, len(names)), replace=False)))
        lo, hi = np.log(options.column_range_ppm_m[0]), np.log(options.column_range_ppm_m[1])
        columns = tuple(float(np.exp(rng.uniform(lo, hi))) for _ in gases)
        sign = options.contrast_sign or (1 if rng.random() < 0.5 else -1)
        contrast = sign * float(rng.uniform(*options.contrast_range_k))
        plumes.append(
            LwirPlume(
                gases,
                columns,
                contrast,
                (float(cy), float(cx)),
                (radius, 0.7 * radius),
                float(rng.uniform(0, 180)),
                options.plume_profile,
            )
        )
    return plumes


def _ground(options: LwirSceneOptions, wl: np.ndarray, rng: np.random.Generator):
    from scipy.ndimage import gaussian_filter

    classes = random_class_map(options.shape, rng)
    emissivity = emissivity_cube(classes, wl, rng)
    offsets = np.array([CLASS_TEMPERATURE_OFFSET_K[name] for name in CLASS_NAMES])
    smooth = gaussian_filter(rng.standard_normal(options.shape), 8.0, mode="wrap")
    smooth *= options.ground_temperature_sigma_k / (smooth.std() or 1.0)
    temperature = options.ground_temperature_k + offsets[classes] + smooth
    temperature += rng.normal(0.0, _PIXEL_TEMPERATURE_SIGMA_K, options.shape)
    return classes, emissivity, temperature


def _gas_transmittance(
    columns: np.ndarray, sensor_lib: SensorGasLibrary, hires: GasLibrary | None, sensor: LwirSensor
) -> np.ndarray:
    """exp(−Σ α c) per channel for (npix, n_gas) columns: channel α, or convolved at the library's resolution."""
    if hires is None:
        return np.exp(-(columns @ sensor_lib.absorption_per_ppm_m))
    from plumetrace.spectra.response import gaussian_response_matrix

    wl = hires.wavelength_nm[::-1]
    lo_nm = sensor.wavelength_nm[0] - 3 * sensor.fwhm_nm[0]
    hi_nm = sensor.wavelength_nm[-1] + 3 * sensor.fwhm_nm[-1]
    lo, hi = np.searchsorted(wl, [lo_nm, hi_nm])
    wl = wl[lo:hi]
    alpha = np.nan_to_num(hires.absorption_per_ppm_m[:, ::-1][:, lo:hi])
    matrix = gaussian_response_matrix(wl, sensor.wavelength_nm, sensor.fwhm_nm)
    out = np.empty((columns.shape[0], sensor.n_bands))
    for start in range(0, columns.shape[0], _PIXEL_BLOCK):
        block = columns[start : start + _PIXEL_BLOCK]
        out[start : start + _PIXEL_BLOCK] = np.exp(-(block @ alpha)) @ matrix.T
    return out


def simulate_lwir_scene(
    options: LwirSceneOptions, library: SensorGasLibrary | GasLibrary, *, seed: int | None = 0
) -> tuple[xr.Dataset, xr.Dataset]:
    """Simulate an LWIR scene and its truth (module docstring).

    Parameters
    ----------
    options : LwirSceneOptions
    library : SensorGasLibrary or GasLibrary
        Gas spectra: already convolved to the sensor's channels, or high-resolution (convolved here).
    seed : int, keyword-only
        Random seed (ground, plumes, noise).

    Returns
    -------
    scene : xarray.Dataset
        A Scene (docs/scene.md): ``radiance`` (y, x, band) float32 in µW cm⁻² sr⁻¹ nm⁻¹, ``wavelength``/``fwhm`` nm,
        ``sensor`` ``hytes`` (``generic`` for a sensor file), UTM map grid, ``view_zenith_deg``; attributes
        ``band_region = "lwir"``, ``sim_nedt_k`` and ``sim_noise``.
    truth : xarray.Dataset
        ``column_ppm_m`` (gas, y, x), ``plume_mask`` and ``plume_id`` (y, x; −1 = none), ``surface_class`` (codes
        of ``attrs["surface_classes"]``), ``ground_temperature_k``, ``background_brightness_temperature_k``,
        ``plume_temperature_k`` and ``temperature_contrast_k`` (y, x; NaN off plumes), ``emissivity``
        (y, x, band), ``transmittance``, ``path_radiance``, ``downwelling_radiance`` (band) and
        ``absorption_per_ppm_m`` (gas, band); ``attrs["plumes"]``: one dict per plume (gases, columns, contrast,
        centre, pixels).
    """
    from plumetrace.scene import make_scene
    from plumetrace.simulate.scene import utm_georeference

    rng = np.random.default_rng(seed)
    sensor = get_lwir_sensor(options.sensor, sensor_file=options.sensor_file, pixel_size_m=options.pixel_size_m)
    sensor_lib, hires = _sensor_library(library, sensor)
    if options.gases:
        sensor_lib = sensor_lib.select(options.gases)
        hires = hires.select(options.gases) if hires is not None else None
    names = sensor_lib.names
    wl, fwhm = sensor.wavelength_nm, sensor.fwhm_nm
    shape = (int(options.shape[0]), int(options.shape[1]))

    classes, emissivity, ground_k = _ground(options, wl, rng)
    atm = atmosphere_terms(wl, options.atmosphere)
    background = surface_leaving_radiance(wl, emissivity, ground_k, atm.downwelling_radiance)
    background_bt = brightness_temperature(wl, background).mean(axis=-1)

    plumes = list(options.plumes) if options.plumes is not None else _random_plumes(options, names, rng)
    columns = np.zeros((len(names), *shape))
    plume_id = np.full(shape, -1, dtype=np.int16)
    contrast = np.full(shape, np.nan)
    index = {n: i for i, n in enumerate(names)}
    plume_info: list[dict[str, Any]] = []
    for k, plume in enumerate(plumes):
        footprint = plume.footprint(shape)
        inside = footprint > 0
        for gas, col in zip(plume.gases, plume.columns_ppm_m):
            key = " ".join(gas.strip().lower().split())
            if key not in index:
                raise InvalidInputError("gases", f"plume gas {gas!r} is not in the library ({', '.join(names)})")
            columns[index[key]] += col * footprint
        plume_id[inside] = k
        if options.plume_temperature == "pixel":
            contrast[inside] = plume.contrast_k
        else:  # one temperature for the whole plume: the contrast follows the ground underneath
            level = float(np.median(background_bt[inside])) + plume.contrast_k
            contrast[inside] = level - background_bt[inside]
        plume_info.append(
            {
                "id": k,
                "gases": list(plume.gases),
                "columns_ppm_m": [float(c) for c in plume.columns_ppm_m],
                "contrast_k": float(plume.contrast_k),
                "centre_yx": [float(v) for v in plume.centre_yx],
                "semi_axes_px": [float(v) for v in plume.semi_axes_px],
                "angle_deg": float(plume.angle_deg),
                "profile": plume.profile,
                "n_pixels": int(inside.sum()),
            }
        )
    mask = plume_id >= 0
    plume_k = np.where(mask, background_bt + np.nan_to_num(contrast), np.nan)

    radiance = atm.transmittance * background + atm.path_radiance
    if mask.any():
        t_gas = _gas_transmittance(columns[:, mask].T, sensor_lib, hires, sensor)
        emitted = planck_radiance(wl, plume_k[mask][:, None])
        inner = t_gas * background[mask] + (1.0 - t_gas) * emitted
        radiance[mask] = atm.transmittance * inner + atm.path_radiance
    nedt = np.full(wl.size, options.nedt_k) if options.nedt_k is not None else sensor.nedt_k
    if options.noise:
        radiance = radiance + rng.standard_normal(radiance.shape) * nedt_to_nesr(wl, nedt)

    crs, transform = utm_georeference(options.lat, options.lon, shape, sensor.pixel_size_m)
    scene = make_scene(
        radiance.astype(np.float32),
        wl,
        fwhm,
        sensor=sensor.name,
        view_zenith_deg=options.atmosphere.view_zenith_deg,
        crs=crs,
        transform=transform,
        acquisition_time=options.acquisition_time,
        source="simulated LWIR scene",
        extra_attrs={
            "band_region": "lwir",
            "sim_nedt_k": float(np.mean(nedt)),
            "sim_noise": bool(options.noise),
            "sim_gases": ",".join(names),
        },
    )
    if options.atmosphere_in_scene:
        for name, values in (("transmittance", atm.transmittance), ("path_radiance", atm.path_radiance)):
            units = "1" if name == "transmittance" else "uW cm-2 sr-1 nm-1"
            scene[name] = ("band", values, {"units": units, "long_name": f"model atmosphere {name}, ground to sensor"})
    truth = xr.Dataset(
        {
            "column_ppm_m": (("gas", "y", "x"), columns.astype(np.float32), {"units": "ppm m"}),
            "plume_mask": (("y", "x"), mask),
            "plume_id": (("y", "x"), plume_id, {"fill": -1}),
            "surface_class": (("y", "x"), classes, {"classes": ",".join(CLASS_NAMES)}),
            "ground_temperature_k": (("y", "x"), ground_k.astype(np.float32), {"units": "K"}),
            "background_brightness_temperature_k": (("y", "x"), background_bt.astype(np.float32), {"units": "K"}),
            "plume_temperature_k": (("y", "x"), plume_k.astype(np.float32), {"units": "K"}),
            "temperature_contrast_k": (("y", "x"), contrast.astype(np.float32), {"units": "K"}),
            "emissivity": (("y", "x", "band"), emissivity.astype(np.float32), {"units": "1"}),
            "transmittance": (("band",), atm.transmittance, {"units": "1"}),
            "path_radiance": (("band",), atm.path_radiance, {"units": "uW cm-2 sr-1 nm-1"}),
            "downwelling_radiance": (("band",), atm.downwelling_radiance, {"units": "uW cm-2 sr-1 nm-1"}),
            "absorption_per_ppm_m": (("gas", "band"), sensor_lib.absorption_per_ppm_m, {"units": "(ppm m)-1"}),
        },
        coords={"gas": list(names), "wavelength": ("band", wl, {"units": "nm"}), "fwhm": ("band", fwhm)},
        attrs={
            "plumes": plume_info,
            "surface_classes": list(CLASS_NAMES),
            "sensor": sensor.name,
            "nedt_k": float(np.mean(nedt)),
            "noise": bool(options.noise),
            "seed": -1 if seed is None else int(seed),
            "library_sources": list(sensor_lib.sources),
            "atmosphere": {k: float(v) for k, v in vars(options.atmosphere).items()},
        },
    )
    return scene, truth
