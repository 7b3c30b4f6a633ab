"""`plumetrace plumes`: plume masks, sources and emission rates from a detection enhancement map."""

from __future__ import annotations

from pathlib import Path

import typer

from plumetrace.cli._app import app, check_out, command, console, naming_options, out_option, overwrite_option


@app.command(cls=command())
def plumes(
    enhancement: Path = typer.Argument(
        ...,
        metavar="ENHANCEMENT",
        help="Enhancement map: the COG of `plumetrace detect`, a one-band GeoTIFF (ppm·m) or an EMIT L2B CH4ENH file.",
    ),
    out: Path = out_option(),
    overwrite: bool = overwrite_option(),
    wind_speed: float | None = typer.Option(None, "--wind-speed", help="10 m wind speed U10, m/s (0.1-30)."),
    wind_dir: float | None = typer.Option(
        None, "--wind-dir", help="Direction the wind blows FROM, degrees from north."
    ),
    wind_sigma: float | None = typer.Option(
        None, "--wind-sigma", help="1-sigma error of the wind speed, m/s (default 30 % of the speed)."
    ),
    wind_dir_sigma: float = typer.Option(
        20.0, "--wind-dir-sigma", help="1-sigma error of the wind direction, degrees (drawn by the CSF Monte Carlo)."
    ),
    wind_file: Path | None = typer.Option(
        None, "--wind-file", help="Wind time series (CSV or NetCDF) sampled at the plume time and place."
    ),
    pixel_size: float | None = typer.Option(
        None, "--pixel-size", help="Pixel size, m (required when the map has no georeferencing)."
    ),
    sensor: str | None = typer.Option(
        None, "--sensor", metavar="NAME", help="Override the map's sensor (selects the U_eff calibration)."
    ),
    ueff: str | None = typer.Option(
        None,
        "--ueff",
        metavar="A,B",
        help="Own U_eff calibration 'A,B' (U_eff = A*U10 + B) instead of the sensor's literature row.",
    ),
    high_sigma: float = typer.Option(4.0, "--high-sigma", help="Hysteresis seed threshold, background sigmas."),
    low_sigma: float = typer.Option(2.0, "--low-sigma", help="Hysteresis growth threshold, background sigmas."),
    min_pixels: int = typer.Option(5, "--min-pixels", help="Smallest plume kept, pixels."),
    min_peak_sigma: float = typer.Option(5.0, "--min-peak-sigma", help="Smallest plume peak, background sigmas."),
    max_albedo_darkening: float = typer.Option(
        0.0,
        "--max-albedo-darkening",
        help="Drop plumes whose albedo is this fraction below their surroundings (surface features; 0: off).",
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the Monte Carlo uncertainty."),
    units: str | None = typer.Option(
        None,
        "--units",
        metavar="UNITS",
        help="Units of the map when the file does not state them: 'ppm m' (ppm·m, ppm-m, ppmm); 'ppb m' and "
        "'mol m-2' are converted to ppm·m.",
    ),
) -> None:
    """Segment plumes, locate their sources and estimate emission rates (IME, with CSF as a second estimate)."""
    check_out(out, overwrite)  # before any work: a refused --out costs nothing
    from plumetrace.errors import InvalidInputError, MissingFileError
    from plumetrace.io.staging import staged_output
    from plumetrace.plumes.pipeline import analyze_plumes, check_plume_options
    from plumetrace.plumes.segment import SegmentParams
    from plumetrace.plumes.wind import wind_from_options, wind_sampler
    from plumetrace.products.plumes import write_plume_outputs

    with naming_options(_OPTIONS):  # every option checked before the map is read
        if wind_file is not None and (wind_speed is not None or wind_dir is not None or wind_sigma is not None):
            raise InvalidInputError(
                "--wind-file", "give either --wind-speed/--wind-dir (/--wind-sigma) or --wind-file, not both"
            )
        if wind_file is None:
            wind = wind_from_options(
                wind_speed, wind_dir, speed_sigma_m_s=wind_sigma, direction_sigma_deg=wind_dir_sigma
            )
        elif not (0 <= wind_dir_sigma <= 180):
            raise InvalidInputError("--wind-dir-sigma", f"{wind_dir_sigma:g} must lie in 0-180 degrees")
        params = SegmentParams(
            high_sigma=high_sigma,
            low_sigma=low_sigma,
            min_pixels=min_pixels,
            min_peak_sigma=min_peak_sigma,
            max_albedo_darkening=max_albedo_darkening,
        ).validated()
        check_plume_options(seed=seed, pixel_size_m=pixel_size, sensor=sensor)
        calibration = None if ueff is None else _parse_ueff(ueff, sensor)
        if units is not None:
            from plumetrace.io.map_units import UNITS_HELP, ppm_m_factor

            if ppm_m_factor(units) is None:
                raise InvalidInputError("--units", f"{units!r} is not a column enhancement unit; use {UNITS_HELP}")
    if not enhancement.exists():
        raise MissingFileError(enhancement, "enhancement map")
    if wind_file is not None:
        wind = wind_sampler(wind_file, map_source=enhancement)

    from plumetrace.io.cog import read_enhancement  # any enhancement map: plumetrace's, one-band, EMIT L2B

    data = read_enhancement(enhancement, units=units)
    with naming_options(_OPTIONS):
        result = analyze_plumes(
            data, wind=wind, pixel_size_m=pixel_size, sensor=sensor, params=params, seed=seed, calibration=calibration
        )
    with staged_output(out, overwrite=overwrite) as stage:
        write_plume_outputs(stage, data, result, enhancement=enhancement, final_dir=out, wind=wind, sensor=sensor)
    n_components = int(result.labels.attrs.get("n_components", len(result.records)))
    console.print(
        f"{len(result.records)} plume(s) ({n_components} component(s) of the segmentation) written to [bold]{out}[/]"
    )
    for record in result.records:
        console.print(
            f"  plume {record['plume_id']}: {record['emission_rate_kg_h']:.0f} ± {record['emission_rate_sigma_kg_h']:.0f} (random)"
            f" ± {record['emission_rate_sigma_systematic_kg_h']:.0f} (systematic) kg/h"
            f" (IME; CSF {record['emission_rate_csf_kg_h']:.0f} kg/h), source "
            + (
                f"{record['source_lat']:.5f}, {record['source_lon']:.5f}"
                if record["source_lat"] is not None
                else f"row {record['source_row']:.0f}, col {record['source_col']:.0f}"
            )
            + (
                f"; {record['n_components']} components over {record['extent_along_wind_m']:.0f} m along the wind"
                if record.get("n_components", 1) > 1
                else ""
            )
            + (
                f"; near the detection limit (peak {record['peak_significance_sigma']:.1f} sigma):"
                f" interval lower ends divided by {record['selection_bias_factor']:.2f}"
                if record.get("near_detection_limit")
                else ""
            ),
            highlight=False,
        )


#: Library parameter names (as the errors name them) -> the option a user typed.
_OPTIONS = {
    "wind speed": "--wind-speed",
    "wind direction": "--wind-dir",
    "wind sigma": "--wind-sigma",
    "wind direction sigma": "--wind-dir-sigma",
    "wind speed sigma": "--wind-sigma",
    "pixel size": "--pixel-size",
    "pixel_size_m": "--pixel-size",
    "speed_m_s": "--wind-speed",
    "direction_deg": "--wind-dir",
    "sensor_name": "--sensor",
    "sensor": "--sensor",
    "high_sigma": "--high-sigma",
    "low_sigma": "--low-sigma",
    "min_pixels": "--min-pixels",
    "min_peak_sigma": "--min-peak-sigma",
    "max_albedo_darkening": "--max-albedo-darkening",
    "seed": "--seed",
}


def _parse_ueff(text: str, sensor: str | None):
    """'A,B' -> the sensor's (or generic) U_eff row with a and b replaced."""
    import dataclasses

    from plumetrace.errors import InvalidInputError
    from plumetrace.plumes.calibration import ueff_calibration

    try:
        a, b = (float(part) for part in text.split(","))
    except ValueError as exc:
        raise InvalidInputError("--ueff", f"{text!r} is not 'A,B' (two numbers)") from exc
    if not (0 < a <= 2 and -2 <= b <= 5):
        raise InvalidInputError("--ueff", f"A={a:g}, B={b:g} out of range (0 < A <= 2, -2 <= B <= 5)")
    base = ueff_calibration(sensor or "generic")
    return dataclasses.replace(base, a=a, b=b, reference=f"user --ueff {a:g},{b:g}")
