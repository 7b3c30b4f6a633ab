"""Scenes with several CH4 sources: the scene simulator's forward model over the sum of several plumes.

:func:`plumetrace.simulate.scene.simulate_scene` renders one point source. A campaign scene covers several
facilities at once, each on or off, under one wind: :func:`simulate_multisource_scene` draws each source's plume
with :func:`plumetrace.simulate.plumes.simulate_plume` (its own turbulence seed, the scene's wind), sums the column
enhancements (columns add: Beer-Lambert absorption depends only on the total column), and renders the radiance with
the same forward model, procedural background and instrument noise as ``simulate_scene``. With one source and the
same seeds the radiance equals ``simulate_scene``'s (tests/simulate/test_campaign.py).

``n_roads`` raises the number of straight calcite (carbonate, 2.34 µm feature) roads of the procedural background:
the classic matched-filter confuser for methane, for false-alarm-prone scenes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr

from plumetrace.errors import InvalidInputError
from plumetrace.simulate.background import procedural_abundances
from plumetrace.simulate.plumes import simulate_plume
from plumetrace.simulate.radiance import reflectance_to_grid
from plumetrace.simulate.scene import DEFAULT_TIME, _build, enhancement_levels, simulated_scene
from plumetrace.spectra.reflectance import BACKGROUND_MATERIALS, library_spectrum, load_library

__all__ = ["PointSource", "simulate_multisource_scene"]


@dataclass(frozen=True)
class PointSource:
    """One CH4 point source of a scene.

    Attributes
    ----------
    row, col : source position in pixel coordinates (the centre of pixel (i, j) is (i, j)).
    rate_kg_h : emission rate, kg/h (> 0).
    seed : seed of the plume's turbulence.
    """

    row: float
    col: float
    rate_kg_h: float
    seed: int

    def __post_init__(self) -> None:
        if not (np.isfinite(self.rate_kg_h) and self.rate_kg_h > 0):
            raise InvalidInputError("rate_kg_h", f"{self.rate_kg_h!r} must be a positive number of kg/h")


def _spectra_hr(materials: tuple[str, ...], grid_nm: np.ndarray) -> np.ndarray:
    lib = load_library()
    spectra = np.stack([library_spectrum(BACKGROUND_MATERIALS[m][0]) * BACKGROUND_MATERIALS[m][1] for m in materials])
    return reflectance_to_grid(lib.wavelength_nm, spectra, grid_nm)


def simulate_multisource_scene(
    *,
    sensor: str = "emit",
    shape: tuple[int, int] = (64, 64),
    sources: Sequence[PointSource] = (),
    wind_speed_m_s: float = 3.0,
    wind_dir_deg: float = 270.0,
    seed: int = 0,
    pixel_size_m: float | None = None,
    lat: float = 31.9,
    lon: float = -102.3,
    acquisition_time: str = DEFAULT_TIME,
    materials: tuple[str, ...] | None = None,
    n_roads: int | None = None,
    noise: bool = True,
) -> tuple[xr.Dataset, np.ndarray]:
    """Simulate a scene holding the plumes of several point sources under one wind.

    Parameters
    ----------
    sensor : preset name (``emit``, ``aviris-ng``, ``prisma``, ``enmap``).
    shape : (rows, cols), at least 16×16.
    sources : the sources emitting in this scene (none: a plume-free scene).
    wind_speed_m_s, wind_dir_deg : the 10 m wind, m/s and the direction it blows from (degrees from north).
    seed : seed of the background and the noise.
    pixel_size_m : override the sensor's ground sampling distance, m.
    lat, lon : scene centre, degrees (north-up UTM grid centred there).
    acquisition_time : ISO 8601 UTC (sets the sun position).
    materials : procedural background materials (default: all).
    n_roads : number of calcite roads (default: the background's own, 2 when ``road`` is a material).
    noise : add instrument noise.

    Returns
    -------
    scene : a valid Scene (radiance float32, µW cm⁻² sr⁻¹ nm⁻¹), attrs ``sim_sources`` (JSON list of the sources).
    enhancement_ppm_m : (rows, cols) float32, the true total CH4 column enhancement, ppm·m.
    """
    renderer, _, info = _build(
        sensor=sensor,
        shape=shape,
        rate_kg_h=0.0,
        wind_speed_m_s=wind_speed_m_s,
        wind_dir_deg=wind_dir_deg,
        source_yx=None,
        seed=seed,
        pixel_size_m=pixel_size_m,
        solar_zenith_deg=None,
        view_zenith_deg=0.0,
        lat=lat,
        lon=lon,
        acquisition_time=acquisition_time,
        reflectance=None,
        materials=materials,
        noise=noise,
        level_step_ppm_m=200.0,
        plume_options=None,
    )
    ny, nx = renderer.enhancement.shape
    p = float(info["pixel_size_m"])
    names = tuple(info["materials"])
    if n_roads is not None:
        if n_roads < 0:
            raise InvalidInputError("n_roads", f"{n_roads} must be >= 0")
        if "road" not in names:
            raise InvalidInputError("n_roads", "needs 'road' among the materials")
        renderer.weights, _ = procedural_abundances(
            (ny, nx), pixel_size_m=p, seed=seed, materials=names, n_roads=n_roads
        )
    total = np.zeros((ny, nx), dtype=np.float32)
    for src in sources:
        if not (-0.5 <= src.row <= ny - 0.5 and -0.5 <= src.col <= nx - 0.5):
            raise InvalidInputError("sources", f"source at ({src.row:g}, {src.col:g}) lies outside the {ny}x{nx} scene")
        plume = simulate_plume(src.rate_kg_h, wind_speed_m_s, wind_dir_deg, p, (ny, nx), (src.row, src.col), src.seed)
        total += plume.enhancement_ppm_m
    if sources:
        levels = enhancement_levels(float(total.max()) * 1.0001)
        renderer.table = renderer.model.level_table(_spectra_hr(names, renderer.model.grid_nm), levels)
        renderer.levels = levels
        renderer.enhancement = total
    radiance = renderer.rows(0, ny)
    extra = {
        "pixel_size_m": p,
        "sim_wind_speed_m_s": float(wind_speed_m_s),
        "sim_wind_dir_deg": float(wind_dir_deg),
        "sim_seed": int(seed),
        "sim_noise": int(bool(noise)),
        "sim_background": "procedural: " + ", ".join(names),
        "sim_sources": json.dumps(
            [{"row": s.row, "col": s.col, "rate_kg_h": s.rate_kg_h, "seed": s.seed} for s in sources]
        ),
    }
    return simulated_scene(radiance, renderer, info, extra), total
