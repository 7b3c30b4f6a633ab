"""`plumetrace plan`: survey flight plans, downwind transects, and compliance re-checks."""

from __future__ import annotations

import math
from pathlib import Path

import typer

from plumetrace.cli._app import app, check_out, console, naming_options, out_option, overwrite_option
from plumetrace.errors import InvalidInputError

__all__ = ["plan"]

# The library names its parameters; the user typed options. Errors about a parameter are re-raised naming
# the option that sets it.
_OPTIONS = {
    "altitude": "--altitude",
    "altitude_agl_m": "--altitude",
    "speed": "--speed",
    "overlap": "--overlap",
    "heading_deg": "--heading",
    "turn_radius": "--turn-radius",
    "buffer": "--buffer-m",
    "buffer_m": "--buffer-m",
    "endurance": "--endurance-min",
    "endurance_min": "--endurance-min",
    "fov_deg": "--fov-deg",
    "pixel_m": "--pixel-m",
    "pixels": "--pixels",
    "sensor": "--sensor",
    "mode": "--mode",
    "home": "--home",
    "source": "--source",
    "wind_dir": "--wind-dir",
    "distances": "--distances",
    "altitudes": "--altitudes",
    "transect_width_m": "--transect-width-m",
    "no_fly": "--no-fly",
    "permitted": "--permitted",
    "zones": "--permitted/--no-fly",
    "swath": "swath (--altitude, --sensor, --fov-deg)",
}


def _latlon(text: str | None, field: str) -> tuple[float, float] | None:
    """'LAT,LON' → (lon, lat), checked to be degrees in range."""
    if text is None:
        return None
    try:
        lat, lon = (float(v) for v in text.split(","))
    except ValueError:
        raise InvalidInputError(field, f"expected LAT,LON in degrees, got {text!r}") from None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise InvalidInputError(
            field, f"{text!r}: latitude must lie in [-90, 90] and longitude in [-180, 180] degrees (LAT,LON order)"
        )
    return lon, lat


def _floats(text: str | None, field: str) -> list[float]:
    if not text:
        return []
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InvalidInputError(field, f"expected comma-separated numbers, got {text!r}") from None
    if not all(math.isfinite(v) for v in values):
        raise InvalidInputError(field, f"expected finite numbers, got {text!r}")
    return values


@app.command()
def plan(
    aoi: Path | None = typer.Argument(None, help="Area of interest: GeoJSON or KML polygon(s), holes allowed."),
    out: Path | None = out_option(None),
    overwrite: bool = overwrite_option(),
    mode: str = typer.Option("survey", help="survey (imaging lines), transects or curtain (in-situ, downwind)."),
    sensor: str = typer.Option("aviris-ng", help="Swath preset: aviris-ng, aviris-3, aviris, prism, hytes, emit."),
    fov_deg: float | None = typer.Option(None, help="Cross-track field of view, degrees (overrides --sensor)."),
    pixel_m: float | None = typer.Option(None, help="Ground pixel size, m (with --pixels: swath = pixel × pixels)."),
    pixels: int | None = typer.Option(None, help="Cross-track pixels (with --pixel-m)."),
    altitude: float = typer.Option(1000.0, help="Altitude above ground, m."),
    speed: float = typer.Option(60.0, help="Ground speed, m/s."),
    overlap: float = typer.Option(0.2, help="Side overlap between swaths, 0-0.9."),
    heading: float | None = typer.Option(None, help="Line heading, ° from grid north (default: fewest turns)."),
    turn_radius: float = typer.Option(0.0, help="Minimum turn radius, m."),
    home: str | None = typer.Option(None, help="Take-off / landing point LAT,LON (degrees)."),
    permitted: list[Path] = typer.Option([], help="Permitted-airspace polygons (stay inside); repeatable."),
    no_fly: list[Path] = typer.Option([], help="No-fly polygons (stay outside); repeatable."),
    buffer_m: float = typer.Option(0.0, help="Safety buffer around no-fly zones, m."),
    endurance_min: float | None = typer.Option(None, help="Endurance per sortie, minutes."),
    source: str | None = typer.Option(None, help="Transects: suspected source LAT,LON."),
    wind_dir: float | None = typer.Option(None, help="Transects: wind direction (from), ° clockwise from north."),
    distances: str | None = typer.Option(None, help="Transects: downwind distances, m, e.g. 200,500,1000."),
    altitudes: str | None = typer.Option(None, help="Curtain: altitudes above ground, m, e.g. 20,40,60."),
    transect_width_m: float | None = typer.Option(None, help="Transect length across the wind, m."),
    check: Path | None = typer.Option(None, help="Re-check an existing .plan / GeoJSON route against the zones."),
    png: bool = typer.Option(True, help="Also draw plan.png."),
) -> None:
    """Plan survey flights (coverage, airspace limits, sorties) and export QGC .plan, KML, GeoJSON, CSV, PNG."""
    check_out(out, overwrite)  # before any work: a refused --out costs nothing
    from plumetrace.plan.airspace import read_zones

    mode = mode.strip().lower()
    if check is None and mode not in ("survey", "transects", "curtain"):
        raise InvalidInputError("--mode", f"unknown mode {mode!r}; choose survey, transects or curtain")
    zones = [z for p in permitted for z in read_zones(p, "permitted", what="--permitted file")]
    zones += [z for p in no_fly for z in read_zones(p, "no_fly", what="--no-fly file")]

    if check is not None:
        with naming_options(_OPTIONS):
            _run_check(check, zones, buffer_m)
        return

    if out is None:
        raise InvalidInputError("--out", "give --out DIR for the plan files")
    home_lonlat = _latlon(home, "--home")
    if home_lonlat is None:
        raise InvalidInputError("--home", "give the take-off point with --home LAT,LON")
    if mode == "survey":
        with naming_options(_OPTIONS):
            fp = _plan_survey(
                aoi,
                sensor=sensor,
                fov_deg=fov_deg,
                pixel_m=pixel_m,
                pixels=pixels,
                altitude=altitude,
                speed=speed,
                overlap=overlap,
                heading=heading,
                turn_radius=turn_radius,
                home_lonlat=home_lonlat,
                zones=zones,
                buffer_m=buffer_m,
                endurance_min=endurance_min,
            )
    else:
        from plumetrace.plan.survey import plan_transects

        src = _latlon(source, "--source")
        missing = [
            name
            for name, v in (("--source", src), ("--wind-dir", wind_dir), ("--distances", distances))
            if v is None or v == ""
        ]
        if missing:
            raise InvalidInputError(missing[0], f"--mode {mode} needs --source LAT,LON, --wind-dir and --distances")
        alts = _floats(altitudes, "--altitudes") if mode == "curtain" else [altitude]
        if mode == "curtain" and len(alts) < 2:
            raise InvalidInputError("--altitudes", "a curtain needs two or more --altitudes, e.g. 20,40,60")
        # In a curtain, each altitude comes from --altitudes.
        options = {**_OPTIONS, "altitude": "--altitudes"} if mode == "curtain" else _OPTIONS
        with naming_options(options):
            fp = plan_transects(
                src,
                wind_from_deg=wind_dir,
                distances_m=_floats(distances, "--distances"),
                altitudes_m=alts,
                speed_m_s=speed,
                home_lonlat=home_lonlat,
                width_m=transect_width_m,
                turn_radius_m=turn_radius,
                zones=zones,
                buffer_m=buffer_m,
                endurance_min=endurance_min,
            )

    from plumetrace.io.staging import staged_output
    from plumetrace.plan.export import write_plan_outputs

    with staged_output(out, overwrite=overwrite) as stage:
        written = write_plan_outputs(stage, fp, png=png)
    _print_summary(fp.summary)
    console.print(f"Wrote {len(written)} files to [bold]{out.resolve()}[/]")


def _plan_survey(
    aoi: Path | None,
    *,
    sensor: str,
    fov_deg: float | None,
    pixel_m: float | None,
    pixels: int | None,
    altitude: float,
    **kwargs,
):
    from plumetrace.io.vector import read_polygons
    from plumetrace.plan.sensors import sensor_optics, swath_width_m
    from plumetrace.plan.survey import ALTITUDE_RANGE_M, plan_survey

    if aoi is None:
        raise InvalidInputError("AOI", "give the area of interest (GeoJSON or KML file)")
    if (pixel_m is None) != (pixels is None):
        raise InvalidInputError("--pixel-m" if pixels is None else "--pixels", "give --pixel-m and --pixels together")
    optics = sensor_optics(sensor)  # an unknown --sensor is refused even when --fov-deg overrides it
    lo, hi = ALTITUDE_RANGE_M
    if not (math.isfinite(altitude) and lo <= altitude <= hi):  # before the swath is computed from it
        raise InvalidInputError("--altitude", f"{altitude:g} m is out of range [{lo:g}, {hi:g}] m")
    if pixel_m is not None and pixels is not None:
        if not (math.isfinite(pixel_m) and 0.0 < pixel_m <= 1000.0):
            raise InvalidInputError("--pixel-m", f"must lie in (0, 1000] m, got {pixel_m}")
        if not 0 < pixels <= 100_000:
            raise InvalidInputError("--pixels", f"must lie in [1, 100000], got {pixels}")
        swath = pixel_m * pixels
    elif fov_deg is not None:
        swath = swath_width_m(altitude_agl_m=altitude, fov_deg=fov_deg)
    else:
        swath = optics.swath_m(altitude)
    polygons = read_polygons(aoi, what="AOI file")
    return plan_survey(
        polygons,
        swath_m=swath,
        altitude_agl_m=altitude,
        speed_m_s=kwargs.pop("speed"),
        home_lonlat=kwargs.pop("home_lonlat"),
        heading_deg=kwargs.pop("heading"),
        turn_radius_m=kwargs.pop("turn_radius"),
        aoi_path=aoi,
        **kwargs,
    )


def _print_summary(summary: dict) -> None:
    from rich.table import Table

    table = Table(title=f"plumetrace plan ({summary.get('mode')})")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    rows = [
        ("coverage of coverable area", "coverage_fraction", lambda v: f"{100 * v:.2f} %"),
        ("area of interest", "aoi_area_km2", lambda v: f"{v:.2f} km²"),
        ("excluded (no-fly + buffer)", "excluded_area_km2", lambda v: f"{v:.2f} km²"),
        ("swath / line spacing", "swath_m", lambda v: f"{v:.0f} m / {summary.get('line_spacing_m', 0):.0f} m"),
        ("heading (grid)", "heading_deg", lambda v: f"{v:.1f}°"),
        ("lines", "n_lines", str),
        ("path length", "path_length_km", lambda v: f"{v:.1f} km"),
        ("flight time", "flight_time_min", lambda v: f"{v:.1f} min"),
        ("sorties", "n_sorties", str),
        ("legs in no-fly zones", "legs_in_no_fly", str),
    ]
    for label, key, fmt in rows:
        if key in summary:
            table.add_row(label, fmt(summary[key]))
    console.print(table)


def _run_check(path: Path, zones, buffer_m: float) -> None:
    from plumetrace.plan.check import check_route

    result = check_route(path, zones=zones, buffer_m=buffer_m, what="--check file")
    if result.complies:
        console.print(f"{path}: {len(result.legs_lonlat)} legs comply with {len(result.zones)} zones")
        return
    for v in result.violations:
        console.print(f"{path}: {v.message()}", highlight=False)
    console.print(f"{path}: {len(result.violations)} violation(s) in {len(result.legs_lonlat)} legs")
    raise typer.Exit(code=1)
