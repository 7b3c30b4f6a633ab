"""`plumetrace detect`: gas column enhancement map of a scene (matched filter, sparse mag1c-class filter, or ACE)."""

from __future__ import annotations

from pathlib import Path

import typer

from plumetrace.cli._app import app, check_out, console, naming_options, out_option, overwrite_option
from plumetrace.errors import InvalidInputError

#: Library parameter → the option a user typed (errors name the option).
_OPTIONS = {
    "gas": "--gas",
    "method": "--method",
    "stats": "--stats",
    "window_nm": "--window",
    "window": "--window",
    "iterations": "--iterations",
    "chunk_rows": "--chunk-rows",
    "device": "--device",
    "group_columns": "--group-columns",
    "n_threads": "--threads",
    "albedo_correct": "--no-albedo-correct",
    "robust": "--robust",
    "clusters": "--clusters",
    "cluster_features": "--stats",
    "exclude": "--exclude",
}


def _window(text: str) -> tuple[float, float]:
    parts = text.replace(" ", "").split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        return float(parts[0]), float(parts[1])
    except ValueError:
        raise InvalidInputError("--window", f"{text!r}; expected two wavelengths in nm like 2122,2488") from None


@app.command()
def detect(
    scene_path: Path = typer.Argument(..., metavar="SCENE", help="Scene file: ENVI, EMIT L1B NetCDF, PRISMA, EnMAP."),
    out: Path = out_option(),
    overwrite: bool = overwrite_option(),
    gas: str = typer.Option("ch4", "--gas", help="ch4, or a target file (band, wavelength nm, value) or .npz LUT."),
    method: str = typer.Option("mf", "--method", help="mf (matched filter), sparse (mag1c class) or ace."),
    stats: str = typer.Option(
        "auto", "--stats", help="Background statistics: auto, column, group, scene or cluster (per spectral class)."
    ),
    clusters: int = typer.Option(
        None, "--clusters", help="Spectral classes for --stats cluster (default: up to 4, fewer on small scenes)."
    ),
    window: str = typer.Option("2122,2488", "--window", help="Spectral window START,END in nm."),
    iterations: int = typer.Option(30, "--iterations", help="Reweighting iterations of the sparse filter."),
    chunk_rows: int = typer.Option(64, "--chunk-rows", help="Lines per block read (memory ~ 2 × threads × block)."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
    group_columns: int = typer.Option(None, "--group-columns", help="Columns per group for --stats group."),
    threads: int = typer.Option(None, "--threads", help="Worker threads (default: all cores, at most 8)."),
    albedo_correct: bool = typer.Option(
        None, "--albedo-correct/--no-albedo-correct", help="Divide by the albedo factor (default: on for sparse only)."
    ),
    robust: bool = typer.Option(
        True,
        "--robust/--no-robust",
        help="mf/ace: take the significant plume pixels out of the background statistics and apply again (default on).",
    ),
    exclude: Path = typer.Option(
        None,
        "--exclude",
        dir_okay=False,
        help="GeoJSON/KML polygons (lon/lat) whose pixels stay out of the background statistics: where you know the "
        "plume lies (mf/ace).",
    ),
) -> None:
    """Retrieve the gas enhancement (ppm·m) of every pixel: enhancement.tif (COG), quicklook.png, item.json (STAC)."""
    check_out(out, overwrite)  # before any work: a refused --out costs nothing
    with naming_options(_OPTIONS):
        _detect(
            scene_path,
            out,
            overwrite,
            exclude=exclude,
            gas=gas,
            method=method,
            stats=stats,
            window=window,
            iterations=iterations,
            chunk_rows=chunk_rows,
            device=device,
            group_columns=group_columns,
            threads=threads,
            albedo_correct=albedo_correct,
            robust=robust,
            clusters=clusters,
        )


def _detect(
    scene_path: Path,
    out: Path,
    overwrite: bool,
    *,
    exclude: Path | None,
    gas: str,
    method: str,
    stats: str,
    window: str,
    iterations: int,
    chunk_rows: int,
    device: str,
    group_columns: int | None,
    threads: int | None,
    albedo_correct: bool | None,
    robust: bool,
    clusters: int | None,
) -> None:
    from plumetrace.detect import tune_process
    from plumetrace.detect.engine import detect_scene
    from plumetrace.detect.options import DetectOptions
    from plumetrace.io.open_scene import open_scene
    from plumetrace.io.staging import staged_output
    from plumetrace.products.detection import write_detection_products

    tune_process()  # a command owns its process: freed blocks go back to the OS at once
    options = DetectOptions(  # validated by detect_scene, after the scene file's own checks
        gas=gas,
        method=method,
        stats=stats,
        window_nm=_window(window),
        iterations=iterations,
        chunk_rows=chunk_rows,
        device=device,
        group_columns=group_columns,
        n_threads=threads,
        albedo_correct=albedo_correct,
        robust=robust,
        clusters=clusters,
    )
    exclude_map = None
    scene = open_scene(scene_path)
    if exclude is not None:
        from plumetrace.detect.exclusion import exclusion_map

        exclude_map = exclusion_map(exclude, scene)
    with staged_output(out, overwrite=overwrite) as stage:
        result = detect_scene(scene, options, exclude=exclude_map)
        write_detection_products(result, stage)
    enhancement = result["enhancement"].values
    sigma = float(_nanmedian(result["uncertainty"].values))
    console.print(
        f"{result.attrs['gas']} {result.attrs['method']} ({result.attrs['stats']} statistics): "
        f"max {float(_nanmax(enhancement)):.0f} ppm·m, median 1σ {sigma:.0f} ppm·m → {out}"
    )


def _nanmax(values):  # tiny helpers keep numpy out of the module import
    import numpy as np

    return np.nanmax(values) if np.isfinite(values).any() else float("nan")


def _nanmedian(values):
    import numpy as np

    return np.nanmedian(values) if np.isfinite(values).any() else float("nan")
