"""`plumetrace invert`: source position and emission rate from in-situ sensor logs."""

from __future__ import annotations

from pathlib import Path

import typer

from plumetrace.cli._app import app, check_out, command, console, naming_options, out_option, overwrite_option
from plumetrace.errors import InvalidInputError


def _floats(text: str | None, field: str, n: int) -> tuple[float, ...] | None:
    if text is None:
        return None
    try:
        vals = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise InvalidInputError(field, f"{text!r}: expected {n} comma-separated numbers") from None
    if len(vals) != n:
        raise InvalidInputError(field, f"{text!r}: expected {n} comma-separated numbers")
    return vals


#: Library parameter names (as the errors name them) -> the option a user typed.
_OPTIONS = {
    "origin": "--origin",
    "origin_lat_lon": "--origin LAT,LON",
    "gas": "--gas",
    "gas_name": "--gas",
    "source_known": "--source-xy",
    "prior_box": "--prior-box-xy",
    "source_heights_m": "--source-height",
    "wind_height_m": "--wind-height",
    "roughness_length_m": "--roughness",
    "background_mg_m3": "--background-mg-m3",
    "wind_average_s": "--wind-average",
    "seed": "--seed",
}

#: Old option spellings, still accepted for one release (with a warning naming the new one).
_DEPRECATED = {
    "--source-known": "--source-xy",
    "--prior-box": "--prior-box-xy",
    "--background": "--background-mg-m3",
}


@app.command(cls=command(deprecated=_DEPRECATED))
def invert(
    observations: Path = typer.Argument(
        ..., metavar="OBSERVATIONS", help="Sensor log, CSV or Parquet (layout: docs/observations.md)."
    ),
    out: Path = out_option(),
    overwrite: bool = overwrite_option(),
    origin: str = typer.Option(
        None, "--origin", metavar="LAT,LON", help="LAT,LON of the local x_m/y_m origin (needed for local coordinates)."
    ),
    gas: str = typer.Option(
        None, "--gas", metavar="NAME", help="Gas for ppm → mg/m³ and labels: ch4, co2, so2, nh3, h2s, ..."
    ),
    source_xy: str = typer.Option(
        None,
        "--source-xy",
        metavar="X,Y",
        help="Known source position X,Y, m east and north of the local origin: estimate Q only.",
    ),
    prior_box_xy: str = typer.Option(
        None,
        "--prior-box-xy",
        metavar="XMIN,XMAX,YMIN,YMAX",
        help="Uniform prior box on the source, m east (X) and north (Y) of the local origin.",
    ),
    source_height: str = typer.Option(
        "0.5", "--source-height", metavar="NUMBERS", help="Release height(s) in m, comma-separated for a grid."
    ),
    wind_height: float = typer.Option(10.0, "--wind-height", help="Height of the wind measurement, m."),
    roughness: float = typer.Option(0.03, "--roughness", help="Surface roughness length z0, m."),
    background_mg_m3: float = typer.Option(
        None, "--background-mg-m3", help="Known background concentration, mg/m³ (default: estimated)."
    ),
    wind_average: float = typer.Option(
        60.0, "--wind-average", help="Vector-average the logged wind over this window, s (0: per row)."
    ),
    mass_balance: bool = typer.Option(
        False, "--mass-balance", help="Also compute the curtain-flight mass-balance flux."
    ),
    seed: int = typer.Option(0, help="Random seed of the posterior sampler."),
) -> None:
    """Find the source and its emission rate (Bayesian source-term estimation) from point or open-path samples."""
    check_out(out, overwrite)  # before any work: a refused --out costs nothing
    from plumetrace.insitu.background import estimate_background
    from plumetrace.insitu.inversion import invert_source, validate_inversion_inputs
    from plumetrace.insitu.massbalance import curtain_flux
    from plumetrace.io.observations import parse_origin, read_observations
    from plumetrace.io.staging import staged_output
    from plumetrace.products.insitu import write_inversion_products

    known = _floats(source_xy, "--source-xy", 2)
    box = _floats(prior_box_xy, "--prior-box-xy", 4)
    heights = _floats(source_height, "--source-height", len(source_height.split(",")))
    with naming_options(_OPTIONS):  # every option checked before the log is read
        options = validate_inversion_inputs(
            source_known=known,
            prior_box=box,
            source_heights_m=heights,
            wind_height_m=wind_height,
            roughness_length_m=roughness,
            wind_average_s=wind_average,
            seed=seed,
        )
        if background_mg_m3 is not None:
            estimate_background([0.0], given_mg_m3=background_mg_m3)
        origin_latlon = parse_origin(origin)
        obs = read_observations(observations, origin=origin_latlon, gas=gas)
        bg = estimate_background(obs["concentration_mg_m3"].to_numpy(), time=obs["time"], given_mg_m3=background_mg_m3)
        result = invert_source(obs, options, background=bg)
    flux = curtain_flux(obs, background=bg) if mass_balance else None
    with staged_output(out, overwrite=overwrite) as stage:
        write_inversion_products(stage, result, obs, flux=flux, title=observations.name)
    if result.detected:
        console.print(
            f"source at x={result.x_m:.1f} m, y={result.y_m:.1f} m; Q = {result.q_g_s:.4g} g/s "
            f"(68 %: {result.q_68_g_s[0]:.4g}-{result.q_68_g_s[1]:.4g}; "
            f"95 %: {result.q_95_g_s[0]:.4g}-{result.q_95_g_s[1]:.4g})"
        )
    else:
        console.print(f"no detectable source: Q < {result.q_upper_95_g_s:.4g} g/s (95 % upper limit)")
    if flux is not None:
        console.print(f"mass balance: {flux.flux_g_s:.4g} ± {flux.flux_sd_g_s:.2g} g/s ({flux.n_legs} legs)")
    console.print(f"wrote {out}")
