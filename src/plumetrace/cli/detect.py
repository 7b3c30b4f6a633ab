"""`plumetrace detect`: gas column enhancement map of a scene (matched filter, sparse mag1c-class filter, or ACE)."""

from __future__ import annotations

from pathlib import Path

import typer

from plumetrace.cli._app import app, check_out, command, console, naming_options, out_option, overwrite_option
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
    "band": "--band",
    "library": "--library",
}


def _window(text: str) -> tuple[float, float]:
    parts = text.replace(" ", "").split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        return float(parts[0]), float(parts[1])
    except ValueError:
        raise InvalidInputError("--window", f"{text!r}; expected two wavelengths in nm like 2122,2488") from None


@app.command(cls=command())
def detect(
    scene_path: Path = typer.Argument(..., metavar="SCENE", help="Scene file: ENVI, EMIT L1B NetCDF, PRISMA, EnMAP."),
    out: Path = out_option(),
    overwrite: bool = overwrite_option(),
    gas: str = typer.Option(
        "ch4", "--gas", metavar="NAME", help="ch4, or a target file (band, wavelength nm, value) or .npz LUT."
    ),
    method: str = typer.Option(
        "mf", "--method", metavar="NAME", help="mf (matched filter), sparse (mag1c class) or ace."
    ),
    stats: str = typer.Option(
        "auto",
        "--stats",
        metavar="NAME",
        help="Background statistics: auto, column, group, scene or cluster (per spectral class).",
    ),
    clusters: int = typer.Option(
        None, "--clusters", help="Spectral classes for --stats cluster (default: up to 4, fewer on small scenes)."
    ),
    window: str = typer.Option("2122,2488", "--window", metavar="START,END", help="Spectral window START,END in nm."),
    iterations: int = typer.Option(30, "--iterations", help="Reweighting iterations of the sparse filter."),
    chunk_rows: int = typer.Option(64, "--chunk-rows", help="Lines per block read (memory ~ 2 × threads × block)."),
    device: str = typer.Option("cpu", "--device", metavar="NAME", help="cpu or cuda."),
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
    band: str = typer.Option(
        "swir", "--band", metavar="NAME", help="swir (gas enhancement) or lwir (identify --library gases, 7.5-13 µm)."
    ),
    library: Path = typer.Option(
        None, "--library", file_okay=False, help="lwir: folder of JCAMP-DX gas spectra (docs/lwir.md)."
    ),
    gases: str = typer.Option(None, "--gases", metavar="NAMES", help="lwir: library gases to use, comma-separated."),
    atmosphere: Path = typer.Option(
        None, "--atmosphere", dir_okay=False, help="lwir: NetCDF with transmittance(band), path_radiance(band)."
    ),
    contrast: float = typer.Option(
        None, "--contrast-k", help="lwir: plume minus background brightness temperature, K (default: estimated)."
    ),
    plume_temperature: float = typer.Option(
        None, "--plume-temperature-k", help="lwir: plume temperature, K (default: estimated from the scene)."
    ),
) -> None:
    """Retrieve the gas enhancement (ppm·m) of every pixel: enhancement.tif (COG), quicklook.png, item.json (STAC)."""
    check_out(out, overwrite)  # before any work: a refused --out costs nothing
    if band not in ("swir", "lwir"):
        raise InvalidInputError("--band", f"{band!r}; expected swir or lwir")
    if band == "lwir":
        from plumetrace.cli.detect_lwir import run_lwir

        return run_lwir(
            scene_path,
            out,
            overwrite,
            library=library,
            gases=gases,
            atmosphere=atmosphere,
            contrast=contrast,
            plume_temperature=plume_temperature,
            stats=stats,
            clusters=clusters,
        )
    if library is not None:
        raise InvalidInputError("--library", "is used with --band lwir only")
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
    figures = detection_figures(result["enhancement"].values, result["uncertainty"].values)
    console.print(
        f"{result.attrs['gas']} {result.attrs['method']} ({result.attrs['stats']} statistics) → {out}\n"
        f"  detection limit: median 1σ {figures['sigma_median_ppm_m']:.0f} ppm·m\n"
        f"  99.9th percentile of the enhancement: {figures['p999_ppm_m']:.0f} ppm·m\n"
        f"  above 3σ: {figures['n_above_3sigma']} pixels ({100 * figures['fraction_above_3sigma']:.2f} %), "
        f"{figures['n_components']} plume-like group(s) of ≥ {MIN_COMPONENT_PIXELS} connected pixels",
        highlight=False,
    )


#: Smallest group of connected above-3σ pixels counted as plume-like (single hot pixels are noise or clutter).
MIN_COMPONENT_PIXELS = 5


def detection_figures(enhancement, sigma) -> dict:  # noqa: ANN001 - numpy arrays, kept out of the module import
    """Robust summary figures of an enhancement map (no single pixel decides them).

    Parameters
    ----------
    enhancement
        Enhancement map, ppm·m (NaN where there is no data).
    sigma
        Per-pixel 1σ uncertainty of the enhancement, ppm·m.

    Returns
    -------
    dict
        ``sigma_median_ppm_m``: median 1σ, ppm·m (the detection limit achieved, 1σ); ``p999_ppm_m``: 99.9th
        percentile of the enhancement, ppm·m; ``n_above_3sigma``: pixels whose enhancement exceeds 3 times their
        own σ; ``fraction_above_3sigma``: that count over the valid pixels; ``n_components``: groups of at least
        :data:`MIN_COMPONENT_PIXELS` such pixels connected by edges or corners.
    """
    import numpy as np
    from scipy import ndimage

    enhancement = np.asarray(enhancement, dtype=float)
    sigma = np.asarray(sigma, dtype=float)
    valid = np.isfinite(enhancement) & np.isfinite(sigma)
    n_valid = int(valid.sum())
    if n_valid == 0:
        nan = float("nan")
        return dict(sigma_median_ppm_m=nan, p999_ppm_m=nan, n_above_3sigma=0, fraction_above_3sigma=0.0, n_components=0)
    above = np.zeros(enhancement.shape, dtype=bool)
    above[valid] = enhancement[valid] > 3.0 * sigma[valid]
    labels, n = ndimage.label(above, structure=np.ones((3, 3), dtype=bool))
    sizes = np.bincount(labels.ravel(), minlength=n + 1)[1:]
    return dict(
        sigma_median_ppm_m=float(np.median(sigma[valid])),
        p999_ppm_m=float(np.percentile(enhancement[valid], 99.9)),
        n_above_3sigma=int(above.sum()),
        fraction_above_3sigma=int(above.sum()) / n_valid,
        n_components=int((sizes >= MIN_COMPONENT_PIXELS).sum()),
    )
