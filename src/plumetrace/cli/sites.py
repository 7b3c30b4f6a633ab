"""`plumetrace sites`: detections from many plumes and invert products fused into candidate emission sites."""

from __future__ import annotations

from pathlib import Path

import typer

from plumetrace.cli._app import app, check_out, command, console, naming_options, out_option, overwrite_option

#: Library parameter names (as the errors name them) -> the option a user typed.
_OPTIONS = {"gate_probability": "--gate", "floor_pixels": "--floor-pixels", "seed": "--seed"}


@app.command(cls=command())
def sites(
    products: list[Path] = typer.Argument(
        ...,
        metavar="PRODUCT_DIR",
        help="`plumetrace plumes` or `plumetrace invert` output folders, or `plumetrace run` folders.",
    ),
    out: Path = out_option(),
    overwrite: bool = overwrite_option(),
    gate: float = typer.Option(
        0.95, "--gate", help="Association gate: chi-square (2 dof) probability of the position agreement (0.5-1)."
    ),
    floor_pixels: float = typer.Option(
        1.0, "--floor-pixels", help="Floor of each source's position 1-sigma, pixels of its product."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the Monte Carlo rate and persistence intervals."),
) -> None:
    """Fuse plume sources and in-situ sources into sites: position, persistence, rates and confidence."""
    check_out(out, overwrite)
    from rich.table import Table

    from plumetrace.io.staging import staged_output
    from plumetrace.products.sites import write_sites
    from plumetrace.sites import SiteOptions

    with naming_options(_OPTIONS):
        options = SiteOptions(gate_probability=gate, floor_pixels=floor_pixels, seed=seed)
    with staged_output(out, overwrite=overwrite) as stage:
        summary = write_sites(products, stage, options=options, final_dir=out)
    console.print(
        f"{summary.n_sites} site(s) from {summary.n_detections} detection(s) in {summary.n_overpasses} overpass(es)"
        f" / log(s) of {summary.n_products} product(s) written to [bold]{out}[/]",
        highlight=False,
    )
    if summary.n_without_footprint:
        console.print(
            f"  {summary.n_without_footprint} plumes product(s) without footprint.geojson: their non-detections"
            " are not counted",
            highlight=False,
        )
    if not summary.n_sites:
        return
    table = Table(title="sites, by persistence-weighted rate (68 % intervals)")
    table.add_column("site", no_wrap=True)
    for name in ("lat, lon", "±1σ m", "gas", "D/M", "Q̄ kg/h", "P·Q̄ kg/h", "conf."):
        table.add_column(name, justify="left" if name in ("lat, lon", "gas") else "right")
    for _, s in summary.sites.head(20).iterrows():
        table.add_row(
            s["site_id"],
            f"{s['lat']:.5f}\n{s['lon']:.5f}",
            f"{s['position_sigma_m']:.0f}",
            s["gases"].replace(";", " "),
            f"{s['n_detections']}/{s['n_overpasses']}",
            f"{s['mean_rate_kg_h']:.0f}\n{s['mean_rate_p16_kg_h']:.0f}-{s['mean_rate_p84_kg_h']:.0f}",
            f"{s['pw_rate_kg_h']:.0f}\n{s['pw_rate_p16_kg_h']:.0f}-{s['pw_rate_p84_kg_h']:.0f}",
            f"{s['confidence']:.2f}",
        )
    console.print(table)
    if summary.n_sites > 20:
        console.print(f"  … {summary.n_sites - 20} more in sites.csv", highlight=False)
