"""`plumetrace plan`: survey flight plans, downwind transects, and compliance re-checks."""

from __future__ import annotations

import math
from pathlib import Path

import typer

from plumetrace.cli._app import app, check_out, command, console, naming_options, out_option, overwrite_option
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
    "buffer": "--buffer",
    "buffer_m": "--buffer",
    "endurance": "--endurance-min",
    "endurance_min": "--endurance-min",
    "fov_deg": "--fov",
    "pixel_m": "--pixel-size",
    "pixels": "--pixels",
    "sensor": "--sensor",
    "mode": "--mode",
    "home": "--home",
    "source": "--source",
    "wind_dir": "--wind-dir",
    "distances": "--distances",
    "altitudes": "--altitudes",
    "transect_width_m": "--transect-width",
    "no_fly": "--no-fly",
    "permitted": "--permitted",
    "zones": "--permitted/--no-fly",
    "swath": "swath (--altitude, --sensor, --fov)",
}

#: Old option spellings, still accepted for one release (with a warning naming the new one).
_DEPRECATED = {
    "--fov-deg": "--fov",
    "--pixel-m": "--pixel-size",
    "--buffer-m": "--buffer",
    "--transect-width-m": "--transect-width",
}

#: Sensor names of the Scene contract (docs/scene.md) that the swath presets know under another name.
_SCENE_SENSOR_NAMES = {"aviris-classic": "aviris"}


def _mode_defaults(mode: str) -> tuple[float, float]:
    """Default (altitude above ground m, ground speed m/s) of a mode: an aircraft imaging, or a drone sampling."""
    if mode == "survey":
        from plumetrace.plan.survey import SURVEY_ALTITUDE_M, SURVEY_SPEED_M_S

        return SURVEY_ALTITUDE_M, SURVEY_SPEED_M_S
    from plumetrace.plan.transects import TRANSECT_ALTITUDE_M, TRANSECT_SPEED_M_S

    return TRANSECT_ALTITUDE_M, TRANSECT_SPEED_M_S


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


@app.command(cls=command(deprecated=_DEPRECATED, required={"--out": "unless --check", "--home": "unless --check"}))
def plan(
    aoi: Path | None = typer.Argument(
        None, metavar="AOI", help="Area of interest: GeoJSON or KML polygon(s), holes allowed (survey mode)."
    ),
    out: Path | None = out_option(None),
    overwrite: bool = overwrite_option(),
    mode: str = typer.Option(
        "survey", metavar="NAME", help="survey (imaging lines), transects or curtain (in-situ, downwind)."
    ),
    sensor: str = typer.Option(
        "aviris-ng",
        metavar="NAME",
        help="Swath preset: aviris-ng, aviris-3, aviris-classic, prism, hytes, emit (survey mode).",
    ),
    fov: float | None = typer.Option(None, "--fov", help="Cross-track field of view, degrees (overrides --sensor)."),
    pixel_size: float | None = typer.Option(
        None, "--pixel-size", help="Ground pixel size, m (with --pixels: swath = pixel size × pixels)."
    ),
    pixels: int | None = typer.Option(None, help="Cross-track pixels (with --pixel-size)."),
    altitude: float | None = typer.Option(
        None, help="Altitude above ground, m (default: 1000 for survey, 30 for transects: a drone)."
    ),
    speed: float | None = typer.Option(
        None, help="Ground speed, m/s (default: 60 for survey, 8 for transects and curtain: a drone)."
    ),
    overlap: float = typer.Option(0.2, help="Side overlap between swaths, 0-0.9."),
    heading: float | None = typer.Option(None, help="Line heading, ° from grid north (default: fewest turns)."),
    turn_radius: float = typer.Option(0.0, help="Minimum turn radius, m."),
    home: str | None = typer.Option(None, metavar="LAT,LON", help="Take-off / landing point LAT,LON (degrees)."),
    permitted: list[Path] = typer.Option([], help="Permitted-airspace polygons (stay inside); repeatable."),
    no_fly: list[Path] = typer.Option([], help="No-fly polygons (stay outside); repeatable."),
    buffer: float = typer.Option(0.0, "--buffer", help="Safety buffer around no-fly zones, m."),
    endurance_min: float | None = typer.Option(None, help="Endurance per sortie, minutes."),
    source: str | None = typer.Option(None, metavar="LAT,LON", help="Transects: suspected source LAT,LON."),
    wind_dir: float | None = typer.Option(None, help="Transects: wind direction (from), ° clockwise from north."),
    distances: str | None = typer.Option(
        None, metavar="NUMBERS", help="Transects: downwind distances, m, e.g. 200,500,1000."
    ),
    altitudes: str | None = typer.Option(
        None, metavar="NUMBERS", help="Curtain: altitudes above ground, m, e.g. 20,40,60."
    ),
    transect_width: float | None = typer.Option(
        None, "--transect-width", help="Transect length across the wind, m (default grows with distance)."
    ),
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
            _run_check(check, zones, buffer)
        return

    if out is None:
        raise InvalidInputError("--out", "give --out DIR for the plan files")
    home_lonlat = _latlon(home, "--home")
    if home_lonlat is None:
        raise InvalidInputError("--home", "give the take-off point with --home LAT,LON")
    default_altitude, default_speed = _mode_defaults(mode)
    altitude = default_altitude if altitude is None else altitude
    speed = default_speed if speed is None else speed
    if mode == "survey":
        with naming_options(_OPTIONS):
            fp = _plan_survey(
                aoi,
                sensor=sensor,
                fov_deg=fov,
                pixel_m=pixel_size,
                pixels=pixels,
                altitude=altitude,
                speed=speed,
                overlap=overlap,
                heading=heading,
                turn_radius=turn_radius,
                home_lonlat=home_lonlat,
                zones=zones,
                buffer_m=buffer,
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
                width_m=transect_width,
                turn_radius_m=turn_radius,
                zones=zones,
                buffer_m=buffer,
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
        raise InvalidInputError(
            "--pixel-size" if pixels is None else "--pixels", "give --pixel-size and --pixels together"
        )
    try:  # an unknown --sensor is refused even when --fov overrides it
        optics = sensor_optics(_SCENE_SENSOR_NAMES.get(sensor.strip().lower(), sensor))
    except InvalidInputError as exc:
        raise InvalidInputError(exc.field, exc.problem.replace("aviris,", "aviris-classic,")) from None
    lo, hi = ALTITUDE_RANGE_M
    if not (math.isfinite(altitude) and lo <= altitude <= hi):  # before the swath is computed from it
        raise InvalidInputError("--altitude", f"{altitude:g} m is out of range [{lo:g}, {hi:g}] m")
    if pixel_m is not None and pixels is not None:
        if not (math.isfinite(pixel_m) and 0.0 < pixel_m <= 1000.0):
            raise InvalidInputError("--pixel-size", f"must lie in (0, 1000] m, got {pixel_m}")
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
