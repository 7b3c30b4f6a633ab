"""`plumetrace info FILE`: what a scene file holds (sensor, shape, spectral range, georeferencing, time)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from plumetrace.cli._app import app, command, console

__all__ = ["info", "format_summary"]


def format_summary(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """Rows ``(field, value)`` for the human-readable view of :func:`plumetrace.io.open_scene.describe_scene`."""
    rows = [
        ("file", summary["source"]),
        ("sensor", summary["sensor"]),
        ("shape", f"{summary['lines']} lines x {summary['samples']} samples x {summary['bands']} bands"),
        (
            "spectral range",
            f"{summary['wavelength_min_nm']:.1f}-{summary['wavelength_max_nm']:.1f} nm "
            f"(mean FWHM {summary['fwhm_mean_nm']:.2f} nm)",
        ),
        ("radiance units", summary["radiance_units"]),
        ("acquisition time", summary["acquisition_time"] or "unknown"),
    ]
    for key, label in (("solar_zenith_deg", "solar zenith"), ("view_zenith_deg", "view zenith")):
        value = summary[key]
        if value is not None:
            rows.append((label, value if isinstance(value, str) else f"{value:.2f} deg"))
    georef = summary["georeferencing"]
    if not georef:
        rows.append(("georeferencing", "none"))
    for key, label in (("raw_grid", "raw grid"), ("glt", "GLT map grid")):
        grid = georef.get(key)
        if not grid:
            continue
        parts = [f"{grid['shape'][0]} x {grid['shape'][1]}"]
        if "crs" in grid:
            epsg = grid["crs"]["epsg"]
            parts.append(f"{grid['crs']['name']}" + (f" (EPSG:{epsg})" if epsg else ""))
            parts.append(f"pixel {grid['pixel_size'][0]:.6g} x {grid['pixel_size'][1]:.6g}")
            parts.append(f"rotation {grid['rotation_deg']:.3f} deg")
        if "valid_fraction" in grid:
            parts.append(f"{100 * grid['valid_fraction']:.1f}% cells filled")
        rows.append((label, ", ".join(parts)))
    if "lat_lon" in georef:
        b = georef["lat_lon"]
        rows.append(
            ("lat/lon", f"lat {b['lat_min']:.5f}..{b['lat_max']:.5f}, lon {b['lon_min']:.5f}..{b['lon_max']:.5f}")
        )
    if summary["pixel_size_m"] is not None:
        rows.append(("pixel size", f"{summary['pixel_size_m']:.2f} m"))
    return rows


@app.command(cls=command())
def info(
    file: Path = typer.Argument(
        ..., metavar="FILE", help="Scene: ENVI data/header, EMIT L1B .nc, PRISMA L1 .he5 or EnMAP L1B folder."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON instead of a table."),
) -> None:
    """Print a scene's sensor, shape, spectral range, georeferencing, acquisition time and radiance units."""
    from plumetrace.io.open_scene import describe_scene, open_scene

    summary = describe_scene(open_scene(file))
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    from rich.table import Table

    table = Table(show_header=False, box=None)
    table.add_column("field", style="bold")
    table.add_column("value")
    for field, value in format_summary(summary):
        table.add_row(field, str(value))
    console.print(table)
