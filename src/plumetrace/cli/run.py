"""`plumetrace run`: a whole campaign (scenes and sensor logs) to candidate sites, resumable, on Dask."""

from __future__ import annotations

from pathlib import Path

import typer

from plumetrace.cli._app import app, command, console, naming_options

#: Configuration keys (as the campaign's errors name them) -> the option a user typed.
_OPTIONS = {
    "wind": "--wind-speed/--wind-dir/--wind-file",
    "wind.speed_m_s": "--wind-speed",
    "wind.direction_deg": "--wind-dir",
    "wind.file": "--wind-file",
    "detect.gas": "--gas",
    "scheduler": "--scheduler",
    "n_workers": "--workers",
}


def _settings(pairs: list[str]) -> dict:
    """``--set detect.method=sparse`` pairs as nested sections (values parsed as YAML)."""
    import yaml

    from plumetrace.errors import InvalidInputError

    out: dict = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError("--set", f"{pair!r}; expected KEY=VALUE like detect.method=sparse")
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            raise InvalidInputError(f"--set {key}", f"{text!r} is not a YAML value") from None
        node = out
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise InvalidInputError(f"--set {key}", "sets a key inside a value")
        node[parts[-1]] = value
    return out


def _absolute_files(settings: dict) -> dict:
    """Paths typed on the command line are relative to the working folder, not to the campaign file."""
    out = {}
    for key, value in settings.items():
        if isinstance(value, dict):
            value = _absolute_files(value)
        elif key == "file" and isinstance(value, str | Path):
            value = str(Path(value).resolve())
        elif key == "inputs" and isinstance(value, list):
            value = [str(Path(v).resolve()) for v in value]
        out[key] = value
    return out


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@app.command(cls=command(required={"--out": "unless --print-config"}))
def run(
    inputs: list[Path] = typer.Argument(
        None,
        metavar="INPUT...",
        help="A campaign file (YAML, see --print-config), or scene files/folders and sensor logs (CSV/Parquet).",
    ),
    out: Path = typer.Option(
        None,
        "--out",
        "-o",
        file_okay=False,
        metavar="DIR",
        help="Run folder. An earlier run's folder is updated in place (only unfinished or changed work is done); "
        "another plumetrace output is replaced; any other non-empty folder is refused unless --overwrite.",
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Use a folder plumetrace did not write (emptying it), or start a run over."
    ),
    wind_speed: float = typer.Option(None, "--wind-speed", help="10 m wind speed of every scene, m/s."),
    wind_dir: float = typer.Option(None, "--wind-dir", help="Direction the wind blows FROM, degrees from north."),
    wind_file: Path = typer.Option(
        None, "--wind-file", help="Wind: CSV time series or gridded NetCDF (u10/v10, ERA5 layout)."
    ),
    gas: str = typer.Option(None, "--gas", metavar="NAME", help="Gas of the detect stage (default ch4)."),
    settings: list[str] = typer.Option(
        None, "--set", metavar="TEXT", help="Any campaign key as KEY=VALUE, e.g. detect.method=sparse (repeatable)."
    ),
    scheduler: str = typer.Option(
        None,
        "--scheduler",
        metavar="TEXT",
        help="'synchronous' (one process), tcp://HOST:PORT (an existing Dask cluster); default a local cluster.",
    ),
    workers: int = typer.Option(
        None, "--workers", help="Workers of the local cluster (default: from cores and memory)."
    ),
    print_config: bool = typer.Option(False, "--print-config", help="Print every campaign key with its default."),
) -> None:
    """Run detect → plumes on every scene, invert on every sensor log, then fuse everything into sites."""
    from plumetrace.campaign.config import config_from_inputs, default_config_yaml, load_config
    from plumetrace.errors import InvalidInputError

    if print_config:
        typer.echo(default_config_yaml(), nl=False)
        return
    with naming_options(_OPTIONS):
        if out is None:
            raise InvalidInputError("--out", "missing; name the run folder (--out DIR)")
        if not inputs:
            raise InvalidInputError("INPUT", "missing; give a campaign file (YAML) or scene files, folders and logs")
        from plumetrace.campaign.runner import prepare_run_folder

        prepare_run_folder(out, overwrite=overwrite, check_only=True)  # before any work
        extra = _absolute_files(_settings(settings or []))
        cli: dict = {}
        if wind_file is not None:  # the command line's wind replaces the campaign file's
            cli["wind"] = {"file": str(wind_file.resolve()), "speed_m_s": None, "direction_deg": None}
            cli["wind"]["speed_sigma_m_s"] = None
        if wind_speed is not None or wind_dir is not None:
            if wind_file is not None:
                raise InvalidInputError("--wind-file", "give either --wind-speed/--wind-dir or --wind-file, not both")
            cli["wind"] = {"speed_m_s": wind_speed, "direction_deg": wind_dir, "file": None}
        if gas is not None:
            cli["detect"] = {"gas": gas}
        yaml_files = [p for p in inputs if p.suffix.lower() in (".yaml", ".yml")]
        if yaml_files:
            if len(inputs) > 1:
                raise InvalidInputError("INPUT", "give one campaign file, or inputs without a campaign file")
            config = load_config(yaml_files[0])
            if cli or extra:
                from plumetrace.campaign.config import config_from_mapping

                data = _merge(config.model_dump(mode="python"), _merge(extra, cli))
                config = config_from_mapping(data, where=str(yaml_files[0]), base_dir=yaml_files[0].resolve().parent)
        else:
            config = config_from_inputs(list(inputs), _merge(extra, cli))
    _run(config, out, overwrite=overwrite, scheduler=scheduler, workers=workers)


def _run(config, out: Path, *, overwrite: bool, scheduler: str | None, workers: int | None) -> None:  # noqa: ANN001
    from plumetrace.campaign.runner import run_campaign

    def announce(plan) -> None:  # noqa: ANN001
        n = {kind: sum(1 for p in plan.inputs if p.input.kind == kind) for kind in ("scene", "map", "log")}
        console.print(
            f"{len(plan.inputs)} input(s): {n['scene']} scene(s), {n['map']} enhancement map(s), {n['log']} log(s)",
            highlight=False,
        )

    with naming_options(_OPTIONS):
        summary = run_campaign(
            config, out, scheduler=scheduler, n_workers=workers, overwrite=overwrite, progress=True, on_plan=announce
        )
    _report(summary)
    if summary.exit_code:
        raise typer.Exit(summary.exit_code)


def _report(summary) -> None:  # noqa: ANN001
    from rich.table import Table

    if summary.nothing_to_do:
        console.print(
            f"nothing to do: every stage of {len(summary.inputs)} input(s) is up to date in [bold]{summary.out}[/]",
            highlight=False,
        )
        return
    table = Table(title=f"campaign run: {summary.out.name}")
    for name in ("input", "kind", "status", "stages", "error"):
        table.add_column(name, overflow="fold")
    for entry in summary.inputs:
        stages = ", ".join(f"{stage} {info['status']}" for stage, info in entry["stages"].items())
        style = {"failed": "red", "skipped": "yellow"}.get(entry["status"], "green")
        table.add_row(entry["id"], entry["kind"], f"[{style}]{entry['status']}[/]", stages, entry["error"] or "")
    console.print(table)
    ran = ", ".join(f"{stage} {n}" for stage, n in summary.ran.items() if n) or "nothing"
    kept = ", ".join(f"{stage} {n}" for stage, n in summary.reused.items() if n) or "nothing"
    sites = summary.sites
    console.print(
        f"ran: {ran}; kept from earlier runs: {kept}; sites: {sites.get('status')}"
        + (f" ({sites.get('n_sites')} site(s))" if sites.get("n_sites") is not None else "")
        + (f" — {sites['error']}" if sites.get("error") else "")
        + f"; {summary.n_failed} input(s) failed; {summary.seconds:.1f} s → [bold]{summary.out}[/]",
        highlight=False,
    )
