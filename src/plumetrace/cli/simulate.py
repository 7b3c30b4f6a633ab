"""`plumetrace simulate`: a physics-based scene with a CH4 plume and its truth map."""

from __future__ import annotations

import shutil
from pathlib import Path

import typer

from plumetrace.cli._app import app, check_out, command, console, naming_options, out_option, overwrite_option
from plumetrace.errors import InvalidInputError, OutputFolderError

# The library names its parameters; errors about one are re-raised naming the option that sets it.
_OPTIONS = {
    "shape": "--size",
    "rate_kg_h": "--rate-kg-h",
    "wind_speed_m_s": "--wind-speed",
    "wind_dir_deg": "--wind-dir",
    "source_yx": "--source-pixel",
    "pixel_size_m": "--pixel-size",
    "solar_zenith_deg": "--sza",
    "view_zenith_deg": "--vza",
    "lat": "--lat",
    "lon": "--lon",
    "acquisition_time": "--time",
    "sensor": "--sensor",
    "seed": "--seed",
    "column_effects": "--column-effects",
}


def _pair(text: str, field: str, sep: str, kind: type = int) -> tuple:
    parts = text.lower().replace(" ", "").split(sep)
    try:
        if len(parts) != 2:
            raise ValueError
        return tuple(kind(p) for p in parts)
    except ValueError:
        raise InvalidInputError(field, f"{text!r}; expected two numbers like 200{sep}200") from None


def _check_disk(out: Path, n_bytes: int) -> None:
    """Refuse before rendering when the folder that will hold --out has not room for the scene."""
    folder = out.absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    if n_bytes > free:
        raise OutputFolderError(out, f"the scene needs {n_bytes / 1e9:.1f} GB but only {free / 1e9:.1f} GB are free")


@app.command(
    cls=command(
        deprecated={"--wind": "--wind-speed", "--source": "--source-pixel"},
        required={"--gases": "with --band lwir", "--library": "with --band lwir"},
    )
)
def simulate(
    out: Path = out_option(),
    overwrite: bool = overwrite_option(),
    sensor: str = typer.Option(
        None,
        metavar="NAME",
        help="Sensor preset: emit, aviris-ng, prisma, enmap (default emit); hytes with --band lwir.",
    ),
    band: str = typer.Option(
        "swir", "--band", metavar="NAME", help="swir (CH4 plume) or lwir (thermal chemical plume)."
    ),
    gases: str = typer.Option(None, "--gases", metavar="NAMES", help="LWIR: the plume's gases, as named in --library."),
    library: Path = typer.Option(None, "--library", metavar="DIR", help="LWIR: folder of JCAMP-DX gas spectra."),
    columns: str = typer.Option(
        None, "--columns", metavar="NUMBERS", help="LWIR: column of each gas, ppm·m (default random in 10-500)."
    ),
    contrast_k: float = typer.Option(5.0, "--contrast-k", help="LWIR: plume minus background temperature, K."),
    sensor_file: Path = typer.Option(
        None, "--sensor-file", metavar="FILE", help="LWIR: channels from a CSV (center_nm, fwhm_nm[, nedt_k])."
    ),
    rate_kg_h: float = typer.Option(1000.0, "--rate-kg-h", help="CH4 emission rate, kg/h (0: no plume)."),
    wind_speed: float = typer.Option(3.0, "--wind-speed", help="Mean wind speed, m/s (0.5-30)."),
    wind_dir: float = typer.Option(270.0, "--wind-dir", help="Direction the wind blows from, degrees from north."),
    size: str = typer.Option("200x200", "--size", metavar="ROWSxCOLS", help="Scene size ROWSxCOLS (at least 16x16)."),
    source_pixel: str = typer.Option(
        None, "--source-pixel", metavar="ROW,COL", help="Source pixel ROW,COL (default: upwind of centre)."
    ),
    pixel_size: float = typer.Option(None, "--pixel-size", help="Override the sensor's pixel size, m."),
    sza: float = typer.Option(None, "--sza", help="Solar zenith, degrees (default: from --time at --lat/--lon)."),
    vza: float = typer.Option(0.0, "--vza", help="View zenith, degrees."),
    lat: float = typer.Option(31.9, "--lat", help="Scene centre latitude, degrees."),
    lon: float = typer.Option(-102.3, "--lon", help="Scene centre longitude, degrees."),
    time: str = typer.Option("2026-06-21T18:30:00Z", "--time", metavar="TIME", help="Acquisition time, ISO 8601 UTC."),
    seed: int = typer.Option(0, help="Random seed (background, turbulence, noise)."),
    noise: bool = typer.Option(True, "--noise/--no-noise", help="Add instrument noise."),
    netcdf: bool = typer.Option(False, "--netcdf", help="Also write an EMIT-like L1B NetCDF."),
    column_effects: bool = typer.Option(
        False,
        "--column-effects",
        help="Push-broom column effects: spectral smile and per-column gain error at the preset's published magnitudes.",
    ),
) -> None:
    """Simulate a scene with a methane plume (or, with --band lwir, a chemical plume in the thermal infrared)."""
    check_out(out, overwrite)  # before any work: a refused --out costs nothing
    if str(band).strip().lower() not in ("swir", "lwir"):
        raise InvalidInputError("--band", f"{band!r}; expected swir or lwir")
    if str(band).strip().lower() == "lwir":
        from plumetrace.cli.simulate_lwir import simulate_lwir

        rows, cols = _pair(size, "--size", "x")
        with naming_options({"shape": "--size"}):
            from plumetrace.simulate.scene import _validate_shape

            _validate_shape((rows, cols))
        simulate_lwir(
            out, overwrite, shape=(rows, cols), sensor=sensor, sensor_file=sensor_file, gases=gases, library=library,
            columns_ppm_m=columns, contrast_k=contrast_k, pixel_size=pixel_size, vza=vza, lat=lat, lon=lon,
            time=time, seed=seed, noise=noise,
        )  # fmt: skip
        return
    sensor = sensor or "emit"
    from plumetrace.io.staging import staged_output
    from plumetrace.simulate.products import write_simulation

    rows, cols = _pair(size, "--size", "x")
    source_yx = _pair(source_pixel, "--source-pixel", ",", float) if source_pixel else None
    with naming_options(_OPTIONS):
        from plumetrace.simulate.scene import _validate_shape
        from plumetrace.simulate.sensors import get_sensor

        _validate_shape((rows, cols))
        n_bands = get_sensor(sensor).n_bands
    # The ENVI cube, plus as much again for the NetCDF copy.
    n_bytes = rows * cols * n_bands * 4 * (2 if netcdf else 1)
    _check_disk(out, n_bytes)
    if n_bytes > 4e9:
        from plumetrace.errors import warn_input

        warn_input(
            None,
            "--size",
            f"{rows}x{cols} x {n_bands} bands writes {n_bytes / 1e9:.0f} GB and takes a long "
            "time; a few hundred pixels a side is enough for most tests",
        )
    options = dict(
        sensor=sensor,
        shape=(rows, cols),
        rate_kg_h=rate_kg_h,
        wind_speed_m_s=wind_speed,
        wind_dir_deg=wind_dir,
        source_yx=source_yx,
        seed=seed,
        pixel_size_m=pixel_size,
        solar_zenith_deg=sza,
        view_zenith_deg=vza,
        lat=lat,
        lon=lon,
        acquisition_time=time,
        noise=noise,
        column_effects=column_effects,
    )
    with naming_options(_OPTIONS), staged_output(out, overwrite=overwrite) as stage:
        result = write_simulation(stage, netcdf=netcdf, **options)
    truth = result["truth"]
    console.print(
        f"simulated {truth['sensor']} scene {truth['shape'][0]}x{truth['shape'][1]}x{truth['shape'][2]}: "
        f"Q = {truth['rate_kg_h']:g} kg/h, wind {truth['wind_speed_m_s']:g} m/s from {truth['wind_dir_deg']:g}°, "
        f"peak {truth['peak_enhancement_ppm_m']:.0f} ppm·m"
    )
    console.print(f"Outputs are in [bold]{out.resolve()}[/]")
