"""`plumetrace demo`: run every capability on a bundled example and compare with the known truth."""

from __future__ import annotations

from pathlib import Path

import typer

from plumetrace.cli._app import app, console


@app.command()
def demo(
    out: Path = typer.Option(Path("demo-output"), "--out", "-o", help="Output folder.", file_okay=False),
    seed: int = typer.Option(7, help="Random seed of the simulated example."),
) -> None:
    """Simulate an example, run each stage on it, and show results against the truth."""
    from plumetrace.demo import run_demo

    rows = run_demo(out, seed=seed)
    from rich.table import Table

    table = Table(title="plumetrace demo: result vs known truth")
    for column in ("stage", "quantity", "result", "truth"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table)
    console.print(f"Outputs are in [bold]{out.resolve()}[/]")
