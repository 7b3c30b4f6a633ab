"""`plumetrace demo`: run every capability on a bundled example and compare with the known truth."""

from __future__ import annotations

from pathlib import Path

import typer

from plumetrace.cli._app import app, check_out, command, console, out_option, overwrite_option


@app.command(cls=command())
def demo(
    out: Path = out_option(Path("demo-output")),
    overwrite: bool = overwrite_option(),
    seed: int = typer.Option(7, help="Random seed of the simulated example."),
) -> None:
    """Simulate an example, run each stage on it, and show results against the truth."""
    check_out(out, overwrite)  # before any work: a refused --out costs nothing
    from plumetrace.demo import run_demo

    rows = run_demo(out, seed=seed, overwrite=overwrite)
    from rich.table import Table

    table = Table(title="plumetrace demo: result vs known truth")
    for column in ("stage", "quantity", "result", "truth"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table)
    console.print(f"Outputs are in [bold]{out.resolve()}[/]")
    report = out / "report" / "report.html"
    if report.is_file():
        console.print(f"Evidence report of the demo campaign: [bold]{report.resolve()}[/]")
