"""`plumetrace report` and `plumetrace verify`: the evidence package of a run, and its integrity check."""

from __future__ import annotations

from pathlib import Path

import typer

from plumetrace.cli._app import app, check_out, command, console, out_option, overwrite_option


@app.command(cls=command())
def report(
    run_dir: Path = typer.Argument(..., metavar="RUN_DIR", help="Run folder: the --out folder of `plumetrace run`."),
    out: Path = out_option(),
    overwrite: bool = overwrite_option(),
    lang: str = typer.Option("en", "--lang", metavar="NAME", help="Language of the report: en or es."),
    sign: Path | None = typer.Option(
        None, "--sign", help="Ed25519 private key (PEM): sign manifest.json into manifest.sig."
    ),
    no_pdf: bool = typer.Option(False, "--no-pdf", help="Write report.html only (no Chromium needed)."),
) -> None:
    """Evidence package: offline report (HTML and PDF, en or es), GIS sites, provenance and a SHA-256 manifest."""
    from plumetrace.errors import MissingFileError
    from plumetrace.report.build import ReportOptions, build_report
    from plumetrace.report.manifest import load_private_key

    options = ReportOptions(lang=lang, pdf=not no_pdf, sign_key=sign).validated()  # before any work
    if sign is not None:
        load_private_key(sign)
    if not run_dir.is_dir():
        raise MissingFileError(run_dir, "run folder (the --out folder of `plumetrace run`)")
    check_out(out, overwrite)
    from plumetrace.io.staging import staged_output

    with staged_output(out, overwrite=overwrite) as stage:
        result = build_report(run_dir, stage, options)
    found = f"{result.n_sites} site(s)" if result.n_sites else "no site found"
    failed = f"; {result.n_failed} input(s) not processed (listed in the report)" if result.n_failed else ""
    console.print(f"evidence package ({options.lang}, {found}{failed}) written to [bold]{out}[/]", highlight=False)
    for name in ("report.html", "report.pdf"):
        if name in result.files:
            console.print(f"  {out / name}", highlight=False)
    console.print(f"  check it with: plumetrace verify {out}", highlight=False)


@app.command(cls=command())
def verify(
    package: Path = typer.Argument(..., metavar="PACKAGE_DIR", help="Evidence package of `plumetrace report`."),
    public_key: Path | None = typer.Option(
        None, "--public-key", help="Ed25519 public key (PEM) of the issuer: check manifest.sig too."
    ),
) -> None:
    """Check an evidence package against its manifest: names every file added, missing or altered (exit 1)."""
    from plumetrace.report.manifest import load_public_key, verify_package

    key = load_public_key(public_key) if public_key is not None else None
    result = verify_package(package, public_key=key)
    for label, names in (("altered", result.altered), ("missing", result.missing), ("added", result.added)):
        for name in names:
            console.print(f"[red]{label}:[/] {name}", highlight=False)
    if key is not None:
        style = "green" if result.signature == "valid" else "red"
        console.print(f"signature: [{style}]{result.signature}[/]", highlight=False)
    if not result.intact:
        console.print(f"[red]NOT INTACT[/]: {package}", highlight=False)
        raise typer.Exit(1)
    console.print(f"intact: {result.n_files} file(s) as listed in manifest.json", highlight=False)
