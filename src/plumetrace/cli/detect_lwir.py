"""The LWIR branch of ``plumetrace detect`` (``--band lwir --library DIR``): gas columns, labels, identification."""

from __future__ import annotations

from pathlib import Path

from plumetrace.cli._app import console
from plumetrace.errors import InvalidInputError

__all__ = ["run_lwir"]


def _gas_list(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise InvalidInputError("--gases", f"{text!r}; expected gas names separated by commas, e.g. acetone,toluene")
    return names


def _with_atmosphere(scene, path: Path | None):  # noqa: ANN001, ANN202 - xarray, kept out of the module import
    """The scene with ``transmittance`` and ``path_radiance`` (band) from a NetCDF file (e.g. a radiative-transfer
    model's output, or the simulator's ``truth.nc``)."""
    if path is None:
        return scene
    import numpy as np
    import xarray as xr

    from plumetrace.errors import InvalidFileError, check_input_file

    path = check_input_file(
        path, "atmosphere file", field="file", directory="is a directory, not a NetCDF file", empty="is empty"
    )
    try:
        atm = xr.open_dataset(path)
    except (OSError, ValueError) as exc:
        raise InvalidFileError(path, "file", f"not a readable NetCDF file ({type(exc).__name__})") from None
    with atm:
        values = {}
        for name in ("transmittance", "path_radiance"):
            if name not in atm.variables:
                raise InvalidFileError(
                    path, name, "missing: the file needs transmittance(band) and path_radiance(band)"
                )
            data = np.asarray(atm[name].values, dtype=float)
            if data.shape != (scene.sizes["band"],) or not np.all(np.isfinite(data)):
                raise InvalidFileError(
                    path,
                    name,
                    f"{data.size} values (finite: {np.isfinite(data).all()}); the scene has "
                    f"{scene.sizes['band']} channels",
                )
            values[name] = ("band", data)
    if np.any(values["transmittance"][1] <= 0) or np.any(values["transmittance"][1] > 1):
        raise InvalidFileError(path, "transmittance", "values must lie in (0, 1]")
    return scene.assign(values)


def run_lwir(
    scene_path: Path,
    out: Path,
    overwrite: bool,
    *,
    library: Path | None,
    gases: str | None,
    atmosphere: Path | None,
    contrast: float | None,
    plume_temperature: float | None,
    stats: str,
    clusters: int | None,
) -> None:
    """Open the scene, check its 7.5-13 µm channels, load the library, detect and identify, write the products."""
    import numpy as np

    from plumetrace.detect.lwir.engine import detect_lwir, lwir_channels
    from plumetrace.detect.lwir.options import LwirOptions
    from plumetrace.io.open_scene import open_scene
    from plumetrace.io.staging import staged_output
    from plumetrace.products.lwir import write_lwir_products
    from plumetrace.spectra.gas_library import load_gas_library

    if library is None:
        raise InvalidInputError("--library", "required with --band lwir: a folder of JCAMP-DX gas spectra")
    options = LwirOptions(
        plume_temperature_k=plume_temperature,
        contrast_k=contrast,
        stats={"auto": "scene", "cluster": "class"}.get(stats, stats),
        n_classes=4 if clusters is None else clusters,
    ).validated()
    scene = _with_atmosphere(open_scene(scene_path), atmosphere)
    bands = lwir_channels(
        scene, path=str(scene_path)
    )  # a scene with no thermal channels is refused before the library is read
    wl = np.asarray(scene["wavelength"].values, dtype=float)[bands]
    margin_cm1 = 20.0
    lib = load_gas_library(
        library,
        gases=_gas_list(gases),
        wavenumber_range_cm1=(1e7 / wl.max() - margin_cm1, 1e7 / wl.min() + margin_cm1),
    )
    with staged_output(out, overwrite=overwrite) as stage:
        result = detect_lwir(scene, lib, options)
        write_lwir_products(result, stage)
    plumes = result.attrs["identification"]
    lines = [
        f"lwir identification ({len(result.attrs['gases'])} library gases, {result.attrs['channels']} channels, "
        f"plume temperature {result.attrs['plume_temperature_source']}) → {out}",
        f"  blind pixels (|contrast| < {options.min_contrast_k:g} K): {result.attrs['blind_pixels']}",
        f"  plumes: {len(plumes)}",
    ]
    for record in plumes:
        amounts = ", ".join(
            f"{g} {record['columns_ppm_m'][g]:.0f} ± {record['sigma_ppm_m'][g]:.0f} ppm·m" for g in record["gases"]
        )
        ambiguous = (
            " (cannot be told apart: " + "; ".join("/".join(g) for g in record["ambiguous_groups"]) + ")"
            if record["ambiguous_groups"]
            else ""
        )
        lines.append(
            f"  plume {record['plume_id']}: {amounts}; confidence {record['confidence']:.2f}, "
            f"{record['n_pixels']} px{ambiguous}"
        )
    console.print("\n".join(lines), highlight=False)
