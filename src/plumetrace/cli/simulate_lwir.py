"""`plumetrace simulate --band lwir`: a thermal-infrared scene with a chemical plume of library gases."""

from __future__ import annotations

from pathlib import Path

from plumetrace.cli._app import console, naming_options
from plumetrace.errors import InvalidInputError

__all__ = ["simulate_lwir"]

_OPTIONS = {
    "shape": "--size",
    "gases": "--gases",
    "library": "--library",
    "columns_ppm_m": "--columns",
    "contrast_k": "--contrast-k",
    "pixel_size_m": "--pixel-size",
    "sensor": "--sensor",
    "view_zenith_deg": "--vza",
    "lat": "--lat",
    "lon": "--lon",
    "semi_axes_px": "--size",
}


def _numbers(text: str, field: str) -> list[float]:
    try:
        values = [float(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise InvalidInputError(field, f"{text!r}; expected numbers separated by commas, like 200,80") from None
    if not values:
        raise InvalidInputError(field, "no value given")
    return values


def simulate_lwir(
    out: Path,
    overwrite: bool,
    *,
    shape: tuple[int, int],
    sensor: str | None,
    sensor_file: Path | None,
    gases: str | None,
    library: Path | None,
    columns_ppm_m: str | None,
    contrast_k: float,
    pixel_size: float | None,
    vza: float,
    lat: float,
    lon: float,
    time: str,
    seed: int,
    noise: bool,
) -> None:
    """Load the gas library, simulate one plume of ``gases`` at the scene centre and write it all-or-nothing."""
    import numpy as np

    from plumetrace.io.staging import staged_output
    from plumetrace.simulate.lwir import LwirPlume, LwirSceneOptions
    from plumetrace.simulate.lwir_products import write_lwir_simulation
    from plumetrace.spectra.gas_library import load_gas_library
    from plumetrace.spectra.lwir_atmosphere import ThermalAtmosphere

    if library is None:
        raise InvalidInputError("--library", "a folder of JCAMP-DX gas spectra is needed with --band lwir")
    if not gases:
        raise InvalidInputError("--gases", "name the plume's gases, e.g. --gases acetone,ammonia")
    names = [g.strip() for g in gases.split(",") if g.strip()]
    if not 1 <= len(names) <= 5:
        raise InvalidInputError("--gases", f"{len(names)} gases; a plume holds 1-5")
    if columns_ppm_m is None:
        rng = np.random.default_rng(seed)
        columns = [float(np.exp(rng.uniform(np.log(10.0), np.log(500.0)))) for _ in names]
    else:
        columns = _numbers(columns_ppm_m, "--columns")
        if len(columns) != len(names):
            raise InvalidInputError("--columns", f"{len(columns)} columns for {len(names)} gases in --gases")
    with naming_options(_OPTIONS):
        lib = load_gas_library(library, gases=names, wavenumber_range_cm1=(700.0, 1600.0))
        rows, cols = shape
        plume = LwirPlume(
            tuple(lib.names),
            tuple(columns),
            float(contrast_k),
            (rows / 2.0, cols / 2.0),
            (max(2.0, min(rows, cols) / 5.0), max(1.5, min(rows, cols) / 8.0)),
            30.0,
        )
        options = LwirSceneOptions(
            shape=(rows, cols),
            sensor=sensor or "hytes",
            sensor_file=str(sensor_file) if sensor_file else None,
            pixel_size_m=pixel_size,
            plumes=(plume,),
            atmosphere=ThermalAtmosphere(view_zenith_deg=vza),
            noise=noise,
            lat=lat,
            lon=lon,
            acquisition_time=time,
        )
    with naming_options(_OPTIONS), staged_output(out, overwrite=overwrite) as stage:
        result = write_lwir_simulation(stage, options, lib, seed=seed)
    truth = result["truth"]
    amounts = ", ".join(f"{g} {c:.0f} ppm·m" for g, c in zip(lib.names, columns))
    console.print(
        f"simulated {truth['sensor']} LWIR scene {truth['shape'][0]}x{truth['shape'][1]}x{truth['shape'][2]}: "
        f"plume of {amounts}, thermal contrast {contrast_k:+g} K"
    )
    console.print(f"Outputs are in [bold]{out.resolve()}[/]")
