"""Simulated scenes with known truth: procedural (or given) surface + CH4 plume + forward model + instrument noise.

:func:`simulate_scene` returns a Scene (see :mod:`plumetrace.scene`) and the plume truth. The radiance is rendered
row block by row block from small per-pixel inputs (material abundances and the enhancement map), so the same
recipe serves a 200×200 in-memory scene in about a second and a 1280×1242 flight line streamed to ENVI
(:func:`write_simulated_envi`) without ever holding the cube.

Rendering: the forward model (:class:`plumetrace.simulate.radiance.ForwardModel`) computes the exact band radiance
of every material at a grid of enhancement levels (plume absorbed on the 0.02-0.06 nm grid, then convolved); each
pixel interpolates its mixture's radiance linearly between the two bracketing levels. With the default
200 ppm·m level step the interpolation error is below 0.1 % of the radiance (tests/simulate/test_radiance.py);
rendering runs in float32.
Noise is drawn per row from a generator seeded by ``(seed, row)``, so eager, lazy and any chunking agree exactly.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import dask
import dask.array as da
import numpy as np
import xarray as xr

from plumetrace.errors import InvalidInputError
from plumetrace.scene import make_scene
from plumetrace.simulate.background import procedural_abundances
from plumetrace.simulate.columns import ColumnModel, column_model
from plumetrace.simulate.gaussian_plume import simulate_gaussian_plume
from plumetrace.simulate.plumes import PlumeTruth, simulate_plume
from plumetrace.simulate.radiance import ForwardModel, reflectance_to_grid
from plumetrace.simulate.sensors import ColumnEffects, SensorPreset, get_sensor
from plumetrace.spectra.reflectance import BACKGROUND_MATERIALS, library_spectrum, load_library
from plumetrace.spectra.solar import solar_zenith_deg as _solar_zenith

__all__ = [
    "simulate_scene",
    "write_simulated_envi",
    "interpolate_levels",
    "enhancement_levels",
    "utm_georeference",
    "DEFAULT_LOCATION",
    "DEFAULT_TIME",
]

DEFAULT_LOCATION = (31.9, -102.3)  # Permian Basin, Texas (lat, lon)
DEFAULT_TIME = "2026-06-21T18:30:00Z"
DEFAULT_LEVEL_STEP_PPM_M = 200.0
_CHUNK_BYTES = 32 * 2**20


def enhancement_levels(max_ppm_m: float, *, step_ppm_m: float = DEFAULT_LEVEL_STEP_PPM_M) -> np.ndarray:
    """Uniform enhancement levels 0, step, … covering ``max_ppm_m`` (at most 801 levels; step grows beyond)."""
    max_ppm_m = float(max(max_ppm_m, 0.0))
    step = max(step_ppm_m, max_ppm_m / 800.0)
    n = int(math.ceil(max_ppm_m / step)) + 1
    return np.arange(max(n, 2)) * step


def interpolate_levels(
    table: np.ndarray, levels_ppm_m: np.ndarray, weights: np.ndarray, enhancement_ppm_m: np.ndarray
) -> np.ndarray:
    """Radiance of mixtures at arbitrary enhancements from a level table (linear interpolation between levels).

    Between two levels 200 ppm·m apart the strongest CH4 band changes by < 0.5 %, so linear interpolation of
    the (exponential-like) radiance is accurate to ~1e-5 relative; tests bound it below 0.1 %.

    Parameters
    ----------
    table : (k, m, n_band) band radiance of k spectra at m levels (``ForwardModel.level_table``).
    levels_ppm_m : (m,) increasing, first 0.
    weights : (n, k) mixture weights (abundances) per pixel.
    enhancement_ppm_m : (n,) ≥ 0 and ≤ the last level.

    Returns
    -------
    (n, n_band) radiance, in the dtype of ``table``.
    """
    enh = np.asarray(enhancement_ppm_m)
    weights = np.asarray(weights, dtype=table.dtype)
    out = _mix(weights, table[:, 0, :])
    hot = np.flatnonzero(enh > 0)
    if hot.size == 0:
        return out
    idx = np.clip(np.searchsorted(levels_ppm_m, enh[hot], side="right") - 1, 0, levels_ppm_m.size - 2)
    frac = ((enh[hot] - levels_ppm_m[idx]) / (levels_ppm_m[idx + 1] - levels_ppm_m[idx])).astype(table.dtype)
    order = np.argsort(idx, kind="stable")
    bounds = np.flatnonzero(np.diff(idx[order])) + 1
    for group in np.split(order, bounds):
        level = idx[group[0]]
        pix = hot[group]
        lo = _mix(weights[pix], table[:, level, :])
        step = _mix(weights[pix], table[:, level + 1, :] - table[:, level, :])
        out[pix] = lo + frac[group][:, None] * step
    return out


def _mix(weights: np.ndarray, spectra: np.ndarray) -> np.ndarray:
    """``weights @ spectra`` for (n, k) × (k, band), bit-identical for any n and on any CPU.

    A BLAS matrix product sums the k terms in an order (and with FMA or not) that depends on the number of rows
    and on the CPU's kernel, so the same pixel could differ by 1 ULP between chunkings or machines. Element-wise
    multiply and add, term by term in a fixed order, round the same way everywhere: eager, lazy, streamed and
    any ``chunk_rows`` give the same radiance bit for bit. k (materials) is small, so this costs little.
    """
    out = weights[:, 0, None] * spectra[0]
    for j in range(1, spectra.shape[0]):
        out += weights[:, j, None] * spectra[j]
    return out


def utm_georeference(
    lat_deg: float, lon_deg: float, shape: tuple[int, int], pixel_size_m: float
) -> tuple[str, tuple[float, ...]]:
    """North-up UTM grid centred on (lat, lon): (CRS WKT, affine a, b, c, d, e, f)."""
    from pyproj import CRS, Transformer

    if not (-80.0 <= lat_deg <= 84.0):
        raise InvalidInputError("lat", f"{lat_deg} is outside the UTM range -80..84 degrees")
    if not (-180.0 <= lon_deg <= 180.0):
        raise InvalidInputError("lon", f"{lon_deg} is outside -180..180 degrees")
    zone = int((lon_deg + 180.0) // 6.0) % 60 + 1
    epsg = (32600 if lat_deg >= 0 else 32700) + zone
    crs = CRS.from_epsg(epsg)
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon_deg, lat_deg)
    ny, nx = shape
    x0 = x - 0.5 * nx * pixel_size_m
    y0 = y + 0.5 * ny * pixel_size_m
    return crs.to_wkt(), (float(pixel_size_m), 0.0, float(x0), 0.0, -float(pixel_size_m), float(y0))


@dataclass
class _Renderer:
    """Everything needed to render any row block of the radiance cube."""

    model: ForwardModel
    sensor: SensorPreset
    table: np.ndarray  # (k, m, band)
    levels: np.ndarray
    weights: np.ndarray  # (y, x, k) abundances, or (y, x, band) band reflectance when band_reflectance
    enhancement: np.ndarray  # (y, x)
    band_reflectance: bool
    noise: bool
    seed: int | None
    columns: ColumnModel | None = None
    node_tables: np.ndarray | None = None  # (n_node, k, m, band) level tables at the smile nodes

    def _render(self, table: np.ndarray, w: np.ndarray, enh: np.ndarray) -> np.ndarray:
        if self.band_reflectance:
            unit = interpolate_levels(table, self.levels, np.ones((enh.size, 1), dtype=np.float32), enh)
            return w * unit
        return interpolate_levels(table, self.levels, w, enh)

    def _render_smile(self, w: np.ndarray, enh: np.ndarray, n_rows: int, nx: int) -> np.ndarray:
        """Each column rendered with its own shifted responses: linear between its two bracketing node tables."""
        cols = self.columns
        tables = self.node_tables.astype(np.float32)
        w3 = w.reshape(n_rows, nx, -1)
        e2 = enh.reshape(n_rows, nx)
        out = np.empty((n_rows, nx, tables.shape[-1]), dtype=np.float32)
        for j in np.unique(cols.node_index):
            sel = np.flatnonzero(cols.node_index == j)
            ws, es = w3[:, sel].reshape(-1, w3.shape[-1]), e2[:, sel].reshape(-1)
            below = self._render(tables[j], ws, es).reshape(n_rows, sel.size, -1)
            if tables.shape[0] > 1:
                above = self._render(tables[j + 1], ws, es).reshape(n_rows, sel.size, -1)
                frac = cols.node_frac[sel][None, :, None]
                below = below + frac * (above - below)
            out[:, sel] = below
        return out

    def rows(self, start: int, stop: int) -> np.ndarray:
        ny, nx = self.enhancement.shape
        enh = self.enhancement[start:stop].reshape(-1)
        w = self.weights[start:stop].reshape(-1, self.weights.shape[-1]).astype(np.float32, copy=False)
        if self.columns is not None:
            radiance = self._render_smile(w, enh, stop - start, nx)
        else:
            radiance = self._render(self.table.astype(np.float32), w, enh)
        radiance = radiance.reshape(stop - start, nx, -1)
        if self.noise:
            a, b, c = (v.astype(np.float32) for v in (self.sensor.noise.a, self.sensor.noise.b, self.sensor.noise.c))
            scale = np.float32(1.0 / np.sqrt(self.sensor.noise.integrations))
            for i, row in enumerate(range(start, stop)):
                rng = np.random.default_rng([0 if self.seed is None else int(self.seed), 1, row])
                sigma = np.abs(a * np.sqrt(np.maximum(b + radiance[i], np.float32(1e-5))) + c) * scale
                radiance[i] += sigma * rng.standard_normal(sigma.shape, dtype=np.float32)
        if self.columns is not None:
            radiance *= self.columns.gain[None]  # flat-field residual multiplies everything the detector recorded
        return radiance


def _validate_shape(shape: Any) -> tuple[int, int]:
    try:
        ny, nx = (int(v) for v in shape)
    except (TypeError, ValueError):
        raise InvalidInputError("shape", f"{shape!r} must be (rows, cols)") from None
    if ny < 16 or nx < 16:
        raise InvalidInputError("shape", f"{ny}x{nx} is too small; at least 16x16 pixels")
    if ny * nx > 50_000_000:
        raise InvalidInputError("shape", f"{ny}x{nx} is too large (at most 5e7 pixels)")
    return ny, nx


MAX_RATE_KG_H = 1e7  # ten times the largest releases ever measured (e.g. Nord Stream 2022, ~1e6 kg/h)
PLAUSIBLE_RATE_KG_H = 2e5  # above the largest single-facility super-emitters seen from orbit


def _finite(name: str, value: Any, lo: float, hi: float, unit: str, *, hi_open: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(name, f"{value!r} is not a number") from None
    if not (math.isfinite(v) and lo <= v and (v < hi if hi_open else v <= hi)):
        bracket = ")" if hi_open else "]"
        raise InvalidInputError(name, f"{value!r} must lie in [{lo:g}, {hi:g}{bracket} {unit}".rstrip())
    return v


def _validate_options(
    *,
    shape: Any,
    rate_kg_h: Any,
    wind_speed_m_s: Any,
    wind_dir_deg: Any,
    source_yx: Any,
    seed: Any,
    pixel_size_m: Any,
    solar_zenith_deg: Any,
    view_zenith_deg: Any,
    lat: Any,
    lon: Any,
    acquisition_time: Any,
) -> datetime:
    """Check every scalar option at once, before any work (one message naming the parameter); return the time."""
    if shape is not None:
        ny, nx = _validate_shape(shape)
    rate = _finite("rate_kg_h", rate_kg_h, 0.0, MAX_RATE_KG_H, "kg/h")
    if rate > PLAUSIBLE_RATE_KG_H:
        from plumetrace.errors import warn_input

        warn_input(
            None,
            "rate_kg_h",
            f"{rate:g} kg/h is larger than any single-facility release measured from "
            "orbit; the plume will saturate the CH4 bands",
        )
    _finite("wind_speed_m_s", wind_speed_m_s, 0.5, 30.0, "m/s")
    _finite("wind_dir_deg", wind_dir_deg, 0.0, 360.0, "degrees")
    if pixel_size_m is not None:
        _finite("pixel_size_m", pixel_size_m, 0.1, 1000.0, "m")
    if solar_zenith_deg is not None:
        _finite(
            "solar_zenith_deg", solar_zenith_deg, 0.0, 85.0, "degrees (the sun must be 5° or more up)", hi_open=True
        )
    _finite("view_zenith_deg", view_zenith_deg, 0.0, 85.0, "degrees", hi_open=True)
    _finite("lat", lat, -80.0, 84.0, "degrees (the UTM range)")
    _finite("lon", lon, -180.0, 180.0, "degrees")
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**63
    ):
        raise InvalidInputError("seed", f"{seed!r} must be a whole number in [0, 2**63)")
    if source_yx is not None:
        try:
            sy, sx = (float(v) for v in source_yx)
        except (TypeError, ValueError):
            raise InvalidInputError("source_yx", f"{source_yx!r} must be (row, col) in pixels") from None
        if shape is not None and not (-0.5 <= sy <= ny - 0.5 and -0.5 <= sx <= nx - 0.5):
            raise InvalidInputError(
                "source_yx", f"({sy:g}, {sx:g}) lies outside the {ny}x{nx} scene (rows 0-{ny - 1}, columns 0-{nx - 1})"
            )
    if not isinstance(acquisition_time, str):
        raise InvalidInputError("acquisition_time", f"{acquisition_time!r} is not an ISO 8601 string")
    try:
        when = datetime.fromisoformat(acquisition_time.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(
            "acquisition_time", f"{acquisition_time!r} is not ISO 8601 (e.g. 2026-06-21T18:30:00Z)"
        ) from None
    if when.tzinfo is None:
        from datetime import timezone

        when = when.replace(tzinfo=timezone.utc)  # documented as UTC
    return when


def _band_reflectance(reflectance: xr.DataArray, wavelength_nm: np.ndarray) -> np.ndarray:
    """User cube (y, x, b_in) → sensor bands (y, x, b) by linear interpolation in wavelength (held at the ends)."""
    wl_in = np.asarray(reflectance["wavelength"].values, dtype=np.float64)
    idx = np.clip(np.searchsorted(wl_in, wavelength_nm) - 1, 0, wl_in.size - 2)
    frac = np.clip((wavelength_nm - wl_in[idx]) / (wl_in[idx + 1] - wl_in[idx]), 0.0, 1.0)
    cube = np.asarray(reflectance.values, dtype=np.float32)
    return (cube[..., idx] * (1 - frac) + cube[..., idx + 1] * frac).astype(np.float32)


def _build(
    *,
    sensor: str | SensorPreset,
    shape: tuple[int, int] | None,
    rate_kg_h: float,
    wind_speed_m_s: float,
    wind_dir_deg: float,
    source_yx: tuple[float, float] | None,
    seed: int | None,
    pixel_size_m: float | None,
    solar_zenith_deg: float | None,
    view_zenith_deg: float,
    lat: float,
    lon: float,
    acquisition_time: str,
    reflectance: xr.DataArray | None,
    materials: tuple[str, ...] | None,
    noise: bool,
    level_step_ppm_m: float,
    plume_options: dict[str, Any] | None,
    column_effects: bool | ColumnEffects = False,
) -> tuple[_Renderer, PlumeTruth, dict[str, Any]]:
    preset = sensor if isinstance(sensor, SensorPreset) else get_sensor(sensor, pixel_size_m=pixel_size_m)
    if reflectance is not None:
        if reflectance.ndim != 3:
            raise InvalidInputError("reflectance", "must be a (y, x, band) DataArray from reflectance_cube()")
        shape = (int(reflectance.shape[0]), int(reflectance.shape[1]))
    shape = shape if shape is not None else (200, 200)
    when = _validate_options(
        shape=shape,
        rate_kg_h=rate_kg_h,
        wind_speed_m_s=wind_speed_m_s,
        wind_dir_deg=wind_dir_deg,
        source_yx=source_yx,
        seed=seed,
        pixel_size_m=pixel_size_m,
        solar_zenith_deg=solar_zenith_deg,
        view_zenith_deg=view_zenith_deg,
        lat=lat,
        lon=lon,
        acquisition_time=acquisition_time,
    )
    effects = _column_effects(column_effects, preset)
    p = float(preset.pixel_size_m if pixel_size_m is None else pixel_size_m)
    ny, nx = _validate_shape(shape)
    if solar_zenith_deg is None:
        solar_zenith_deg = _solar_zenith(when, lat, lon)
        if solar_zenith_deg >= 80:
            raise InvalidInputError(
                "acquisition_time", f"sun is {90 - solar_zenith_deg:.0f}° high at {lat}, {lon}; give solar_zenith_deg"
            )
    model = ForwardModel(
        preset.wavelength_nm,
        preset.fwhm_nm,
        solar_zenith_deg=float(solar_zenith_deg),
        view_zenith_deg=float(view_zenith_deg),
        day_of_year=when.timetuple().tm_yday,
    )
    options = dict(plume_options or {})
    family = options.pop("family", "puff")
    if family not in ("puff", "gaussian"):
        raise InvalidInputError("plume_options.family", f"{family!r}; expected puff or gaussian")
    plume_model = simulate_gaussian_plume if family == "gaussian" else simulate_plume
    truth = plume_model(rate_kg_h, wind_speed_m_s, wind_dir_deg, p, (ny, nx), source_yx, seed, **options)
    levels = enhancement_levels(float(truth.enhancement_ppm_m.max()) * 1.0001, step_ppm_m=level_step_ppm_m)
    info: dict[str, Any] = {}
    if reflectance is None:
        weights, names = procedural_abundances((ny, nx), pixel_size_m=p, seed=seed, materials=materials)
        lib = load_library()
        spectra = np.stack([library_spectrum(BACKGROUND_MATERIALS[m][0]) * BACKGROUND_MATERIALS[m][1] for m in names])
        spectra_hr = reflectance_to_grid(lib.wavelength_nm, spectra, model.grid_nm)
        info["materials"] = names
        band_refl = False
    else:
        weights = _band_reflectance(reflectance, preset.wavelength_nm)
        spectra_hr = np.ones((1, model.grid_nm.size))
        band_refl = True
    table = model.level_table(spectra_hr, levels)
    columns = node_tables = None
    if effects is not None:
        columns = column_model(nx, preset.n_bands, effects, seed=seed)
        node_tables = np.stack([model.shifted(float(d)).level_table(spectra_hr, levels) for d in columns.nodes_nm])
    crs, transform = utm_georeference(lat, lon, (ny, nx), p)
    info.update(
        crs=crs,
        transform=transform,
        pixel_size_m=p,
        solar_zenith_deg=float(solar_zenith_deg),
        view_zenith_deg=float(view_zenith_deg),
        acquisition_time=when.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    renderer = _Renderer(
        model, preset, table, levels, weights, truth.enhancement_ppm_m, band_refl, noise, seed, columns, node_tables
    )
    return renderer, truth, info


def _presets_with_column_effects() -> list[str]:
    from plumetrace.simulate.sensors import SENSOR_NAMES, get_sensor

    return [name for name in SENSOR_NAMES if get_sensor(name).column_effects is not None]


def _column_effects(option: bool | ColumnEffects | None, preset: SensorPreset) -> ColumnEffects | None:
    """The column effects asked for: None (off), the preset's (True) or the given :class:`ColumnEffects`."""
    if option is None or option is False:
        return None
    if option is True:
        if preset.column_effects is None:
            raise InvalidInputError(
                "column_effects",
                f"the {preset.name} preset has no characterised column effects (presets that have them: "
                f"{', '.join(_presets_with_column_effects())}; from Python, pass a ColumnEffects)",
            )
        return preset.column_effects
    if isinstance(option, ColumnEffects):
        return option
    raise InvalidInputError("column_effects", f"{option!r}; expected True, False or a ColumnEffects")


def simulate_scene(
    *,
    sensor: str | SensorPreset = "emit",
    shape: tuple[int, int] | None = (200, 200),
    rate_kg_h: float = 1000.0,
    wind_speed_m_s: float = 3.0,
    wind_dir_deg: float = 270.0,
    source_yx: tuple[float, float] | None = None,
    seed: int | None = 0,
    pixel_size_m: float | None = None,
    solar_zenith_deg: float | None = None,
    view_zenith_deg: float = 0.0,
    lat: float = DEFAULT_LOCATION[0],
    lon: float = DEFAULT_LOCATION[1],
    acquisition_time: str = DEFAULT_TIME,
    reflectance: xr.DataArray | None = None,
    materials: tuple[str, ...] | None = None,
    noise: bool = True,
    lazy: bool = False,
    chunk_rows: int | None = None,
    level_step_ppm_m: float = DEFAULT_LEVEL_STEP_PPM_M,
    plume_options: dict[str, Any] | None = None,
    column_effects: bool | ColumnEffects = False,
) -> tuple[xr.Dataset, PlumeTruth]:
    """Simulate an imaging-spectrometer scene with a CH4 point-source plume and known truth.

    Parameters
    ----------
    sensor : preset name (``emit``, ``aviris-ng``, ``prisma``, ``enmap``) or a :class:`SensorPreset`.
    shape : (rows, cols), at least 16×16 (ignored when ``reflectance`` is given).
    rate_kg_h : emission rate, kg/h (0: no plume).
    wind_speed_m_s, wind_dir_deg : mean wind (direction it blows from, degrees clockwise from north).
    source_yx : source (row, col); default a quarter of the scene upwind of the centre.
    seed : seed of background, turbulence and noise.
    pixel_size_m : override the sensor's ground sampling distance, m.
    solar_zenith_deg : default: computed from ``acquisition_time`` at (lat, lon).
    view_zenith_deg : degrees (0 = nadir).
    lat, lon : scene centre (degrees) for the UTM georeferencing and the sun position.
    acquisition_time : ISO 8601 UTC.
    reflectance : optional user reflectance cube from :func:`plumetrace.spectra.reflectance.reflectance_cube`
        (y, x, band) with a ``wavelength`` coordinate; replaces the procedural background. Its reflectance is
        interpolated to the sensor bands and multiplies the band-convolved unit-reflectance radiance (accurate for
        reflectance smooth within a band).
    materials : procedural background materials (default: all of ``BACKGROUND_MATERIALS``).
    noise : add instrument noise from the sensor's noise model.
    lazy : return a dask-backed radiance generated row block by row block on demand.
    chunk_rows : rows per dask block (default ≈ 32 MiB blocks).
    level_step_ppm_m : enhancement level spacing of the rendering table.
    plume_options : extra keyword options of :func:`plumetrace.simulate.plumes.simulate_plume`; with
        ``"family": "gaussian"`` those of :func:`plumetrace.simulate.gaussian_plume.simulate_gaussian_plume` (the
        steady Gaussian plume) instead.
    column_effects : push-broom column effects (:mod:`plumetrace.simulate.columns`): False (default, the ideal
        instrument, bit-identical to scenes simulated before the option existed), True (the preset's published
        magnitudes, :attr:`SensorPreset.column_effects`) or a :class:`~plumetrace.simulate.sensors.ColumnEffects`.
        The scene's columns are taken to span the instrument's whole swath (smile edge to edge). The effects are
        recorded in attrs ``sim_smile_nm``, ``sim_gain_random_sigma``, ``sim_gain_smooth_sigma``; the per-column
        values are :func:`plumetrace.simulate.columns.column_model` ``(n_col, n_band, effects, seed=seed)``.

    Returns
    -------
    scene : xarray.Dataset
        A valid Scene: ``radiance(y, x, band)`` float32 in µW cm⁻² sr⁻¹ nm⁻¹, attrs sensor, crs (UTM WKT),
        transform, pixel_size_m, solar_zenith_deg, view_zenith_deg, acquisition_time and ``sim_*`` truth values.
    truth : PlumeTruth
        ``enhancement_ppm_m`` (y, x), source position, rate, wind, masses.
    """
    renderer, truth, info = _build(
        sensor=sensor,
        shape=shape,
        rate_kg_h=rate_kg_h,
        wind_speed_m_s=wind_speed_m_s,
        wind_dir_deg=wind_dir_deg,
        source_yx=source_yx,
        seed=seed,
        pixel_size_m=pixel_size_m,
        solar_zenith_deg=solar_zenith_deg,
        view_zenith_deg=view_zenith_deg,
        lat=lat,
        lon=lon,
        acquisition_time=acquisition_time,
        reflectance=reflectance,
        materials=materials,
        noise=noise,
        level_step_ppm_m=level_step_ppm_m,
        plume_options=plume_options,
        column_effects=column_effects,
    )
    ny, nx = truth.enhancement_ppm_m.shape
    nb = renderer.sensor.n_bands
    if chunk_rows is None:
        chunk_rows = max(1, min(ny, _CHUNK_BYTES // (nx * nb * 4)))
    if chunk_rows < 1:
        raise InvalidInputError("chunk_rows", f"{chunk_rows} must be at least 1")
    if lazy:
        blocks = []
        token = uuid.uuid4().hex  # naming the blocks avoids hashing the renderer's arrays
        for start in range(0, ny, chunk_rows):
            stop = min(ny, start + chunk_rows)
            delayed = dask.delayed(renderer.rows, pure=False)(
                start, stop, dask_key_name=f"simulate-rows-{token}-{start}"
            )
            blocks.append(da.from_delayed(delayed, shape=(stop - start, nx, nb), dtype=np.float32))
        radiance: Any = da.concatenate(blocks, axis=0)
    else:
        radiance = np.empty((ny, nx, nb), dtype=np.float32)
        for start in range(0, ny, chunk_rows):
            stop = min(ny, start + chunk_rows)
            radiance[start:stop] = renderer.rows(start, stop)
    extra = {
        "pixel_size_m": info["pixel_size_m"],
        "sim_rate_kg_h": float(truth.rate_kg_h),
        "sim_wind_speed_m_s": float(truth.wind_speed_m_s),
        "sim_wind_dir_deg": float(truth.wind_dir_deg),
        "sim_source_row": float(truth.source_yx[0]),
        "sim_source_col": float(truth.source_yx[1]),
        "sim_seed": -1 if seed is None else int(seed),
        "sim_noise": int(bool(noise)),
        "sim_background": "reflectance cube"
        if reflectance is not None
        else "procedural: " + ", ".join(info["materials"]),
    }
    if renderer.columns is not None:
        effects = renderer.columns.effects
        extra.update(
            sim_smile_nm=float(effects.smile_nm),
            sim_gain_random_sigma=float(effects.gain_random_sigma),
            sim_gain_smooth_sigma=float(effects.gain_smooth_sigma),
        )
    return simulated_scene(radiance, renderer, info, extra), truth


def simulated_scene(radiance: Any, renderer: Any, info: dict[str, Any], extra: dict[str, Any]) -> xr.Dataset:
    """The Scene of a rendered radiance cube (y, x, band): the renderer's sensor, the geometry of ``info`` (as the
    scene set-up returns it) and the ``sim_*`` attributes ``extra``."""
    return make_scene(
        radiance,
        renderer.sensor.wavelength_nm,
        renderer.sensor.fwhm_nm,
        sensor=renderer.sensor.name,
        solar_zenith_deg=info["solar_zenith_deg"],
        view_zenith_deg=info["view_zenith_deg"],
        crs=info["crs"],
        transform=info["transform"],
        acquisition_time=info["acquisition_time"],
        source="simulated",
        extra_attrs=extra,
    )


def write_simulated_envi(path: str | Path, **options: Any) -> tuple[Path, xr.Dataset, PlumeTruth]:
    """Simulate a scene and stream it to an ENVI file block by block (the cube is never held in memory).

    ``options`` are those of :func:`simulate_scene` (``lazy`` is forced on). Returns (data path, lazy Scene, truth).
    """
    from plumetrace.io.envi import CHUNK_BYTES, write_envi

    options = dict(options)
    options["lazy"] = True
    if options.get("chunk_rows") is None:
        # Align the generator's blocks with the writer's row chunks so no block is rendered twice.
        sensor = options.get("sensor", "emit")
        nb = (sensor if isinstance(sensor, SensorPreset) else get_sensor(sensor)).n_bands
        shape = options.get("shape") or (200, 200)
        nx = int(shape[1]) if options.get("reflectance") is None else int(options["reflectance"].shape[1])
        options["chunk_rows"] = int(max(1, min(4096, CHUNK_BYTES // max(1, nx * nb * 4))))
    scene, truth = simulate_scene(**options)
    with dask.config.set(scheduler="synchronous"):
        written = write_envi(scene, Path(path))
    return written, scene, truth
