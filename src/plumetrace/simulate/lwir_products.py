"""Write a simulated LWIR scene and its truth as files (behind ``plumetrace simulate --band lwir``).

Files written into ``stage`` (normally the staging folder of :func:`plumetrace.io.staging.staged_output`):

* ``scene_rdn`` + ``scene_rdn.hdr`` — ENVI BIL float32 radiance, µW cm⁻² sr⁻¹ nm⁻¹, wavelength and FWHM in nm,
  ``sensor type = hytes`` (or ``generic`` for a sensor file), UTM ``map info``;
* ``truth.nc`` — the truth Dataset of :func:`plumetrace.simulate.lwir.simulate_lwir_scene` (per-gas columns in
  ppm·m, plume mask and ids, ground temperature, emissivity, plume temperature and contrast, atmosphere terms,
  channel α per ppm·m); dictionaries are stored as JSON text attributes;
* ``truth.json`` — plumes (gases, columns, contrast, centre, pixel count), sensor, shape, NEdT, library files;
* ``quicklook.png`` — brightness temperature at the channel nearest 10.5 µm, plume outlines in red.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from plumetrace.simulate.lwir import LwirSceneOptions, simulate_lwir_scene
from plumetrace.spectra.gas_library import GasLibrary, SensorGasLibrary

__all__ = ["write_lwir_simulation", "read_lwir_truth", "SCENE_NAME"]

SCENE_NAME = "scene_rdn"


def _write_quicklook(scene: xr.Dataset, truth: xr.Dataset, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from plumetrace.spectra.thermal import brightness_temperature

    wl = scene["wavelength"].values
    band = int(np.argmin(np.abs(wl - 10_500.0)))
    bt = brightness_temperature(wl[band], np.asarray(scene["radiance"].isel(band=band).values, dtype=np.float64))
    rows, cols = bt.shape
    fig, ax = plt.subplots(figsize=(6, 6 * rows / max(cols, 1) + 0.5), dpi=100)
    image = ax.imshow(bt, cmap="inferno", interpolation="nearest")
    if truth["plume_mask"].values.any():
        ax.contour(truth["plume_mask"].values.astype(float), levels=[0.5], colors="red", linewidths=1)
    fig.colorbar(image, ax=ax, shrink=0.8, label=f"brightness temperature at {wl[band] / 1000:.2f} µm, K")
    ax.set_title(f"{scene.attrs.get('sensor', '')} simulated LWIR scene (red: plumes)", fontsize=9)
    ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _netcdf_ready(truth: xr.Dataset) -> xr.Dataset:
    out = truth.copy()
    out.attrs = {k: (json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in truth.attrs.items()}
    out.attrs["noise"] = int(bool(truth.attrs.get("noise", False)))
    out["plume_mask"] = out["plume_mask"].astype(np.uint8)
    return out


def read_lwir_truth(path: str | Path) -> xr.Dataset:
    """Read ``truth.nc`` back as the Dataset :func:`simulate_lwir_scene` returned (JSON attributes decoded,
    ``plume_mask`` boolean), loaded into memory."""
    with xr.open_dataset(path) as handle:
        truth = handle.load()
    for key in ("plumes", "surface_classes", "library_sources", "atmosphere"):
        if isinstance(truth.attrs.get(key), str):
            truth.attrs[key] = json.loads(truth.attrs[key])
    truth.attrs["noise"] = bool(truth.attrs.get("noise", 0))
    truth["plume_mask"] = truth["plume_mask"].astype(bool)
    return truth


def write_lwir_simulation(
    stage: str | Path, options: LwirSceneOptions, library: SensorGasLibrary | GasLibrary, *, seed: int = 0
) -> dict[str, Any]:
    """Simulate (:func:`simulate_lwir_scene`) and write the scene, truth and quicklook into ``stage``.

    Returns a dict: ``scene_path``, ``truth_path``, ``truth_json_path``, ``quicklook_path`` and ``truth`` (the
    JSON-ready summary).
    """
    from plumetrace.io.envi import write_envi

    stage = Path(stage)
    stage.mkdir(parents=True, exist_ok=True)
    scene, truth = simulate_lwir_scene(options, library, seed=seed)
    scene_path = write_envi(scene, stage / SCENE_NAME)
    truth_path = stage / "truth.nc"
    _netcdf_ready(truth).to_netcdf(truth_path)
    quicklook_path = stage / "quicklook.png"
    _write_quicklook(scene, truth, quicklook_path)
    info = {
        "band": "lwir",
        "sensor": scene.attrs["sensor"],
        "shape": [int(scene.sizes["y"]), int(scene.sizes["x"]), int(scene.sizes["band"])],
        "wavelength_range_nm": [float(scene["wavelength"][0]), float(scene["wavelength"][-1])],
        "gases": list(truth["gas"].values.tolist()),
        "plumes": truth.attrs["plumes"],
        "nedt_k": truth.attrs["nedt_k"],
        "noise": truth.attrs["noise"],
        "seed": int(seed),
        "atmosphere": truth.attrs["atmosphere"],
        "library_sources": truth.attrs["library_sources"],
        "crs": scene.attrs["crs"],
        "transform": list(scene.attrs["transform"]),
        "acquisition_time": scene.attrs["acquisition_time"],
        "files": {"scene": scene_path.name, "truth": truth_path.name, "quicklook": quicklook_path.name},
    }
    truth_json_path = stage / "truth.json"
    truth_json_path.write_text(json.dumps(info, indent=2) + "\n")
    return {
        "scene_path": scene_path,
        "truth_path": truth_path,
        "truth_json_path": truth_json_path,
        "quicklook_path": quicklook_path,
        "truth": info,
    }
