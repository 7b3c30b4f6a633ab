"""Write a simulated scene and its truth as files: ENVI scene, optional EMIT-like NetCDF, truth map, quicklook, JSON.

This is the one function behind ``plumetrace simulate`` and the demo's simulation step. The radiance is streamed to
ENVI block by block (:func:`plumetrace.simulate.scene.write_simulated_envi`); the NetCDF and the quicklook read
the ENVI file back lazily, so the cube is never held in memory.

Files written into ``stage`` (a folder, normally the staging folder of :func:`plumetrace.io.staging.staged_output`):

* ``scene_rdn`` + ``scene_rdn.hdr`` — ENVI BIL float32 radiance, µW cm⁻² sr⁻¹ nm⁻¹, UTM ``map info``;
* ``scene_rdn.nc`` — EMIT L1B-like NetCDF (when ``netcdf=True``);
* ``truth_enhancement.tif`` — GeoTIFF float32, band 1 ``enhancement_ppm_m`` (tag ``units=ppm m``), same grid;
* ``quicklook.png`` — true colour (640/550/460 nm radiance over solar irradiance, one shared stretch);
* ``truth.json`` — source position (pixel and map coordinates), rate, wind, masses, sensor, geometry.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from plumetrace.simulate.plumes import PlumeTruth
from plumetrace.simulate.scene import write_simulated_envi

__all__ = ["write_simulation", "true_colour", "SCENE_NAME"]

SCENE_NAME = "scene_rdn"


def true_colour(scene: xr.Dataset, *, max_pixels: int = 1_000_000) -> np.ndarray:
    """(y', x', 3) uint8 true-colour image from the 640, 550 and 460 nm bands.

    Radiance is divided by the (8.5 nm smoothed) Kurucz solar irradiance of each band, so the colours are those of
    apparent reflectance, then all three channels share one 1-99 % stretch. Large scenes are subsampled to at most
    ``max_pixels`` pixels.
    """
    from plumetrace.spectra.solar import solar_irradiance

    wl = np.asarray(scene["wavelength"].values)
    bands = [int(np.argmin(np.abs(wl - w))) for w in (640.0, 550.0, 460.0)]
    ny, nx = scene.sizes["y"], scene.sizes["x"]
    step = max(1, int(np.ceil(np.sqrt(ny * nx / max_pixels))))
    rgb = scene["radiance"].isel(band=bands).data[::step, ::step]
    if hasattr(rgb, "compute"):
        rgb = rgb.compute()
    rgb = np.asarray(rgb, dtype=np.float64) / solar_irradiance(wl[bands], smoothing_nm=8.5)
    finite = np.isfinite(rgb)
    out = np.zeros(rgb.shape, dtype=np.uint8)
    if finite.any():
        lo, hi = np.percentile(rgb[finite], [1, 99])
        scaled = np.clip((rgb - lo) / max(hi - lo, 1e-12), 0, 1) ** (1 / 1.6)
        out = np.where(finite, scaled * 255, 0).astype(np.uint8)
    return out


def _write_truth_geotiff(truth: PlumeTruth, path: Path, crs: str, transform: list[float]) -> None:
    import rasterio
    from rasterio.transform import Affine

    data = truth.enhancement_ppm_m.astype(np.float32)
    profile = {
        "driver": "GTiff",
        "height": data.shape[0],
        "width": data.shape[1],
        "count": 1,
        "dtype": "float32",
        "crs": crs,
        "transform": Affine(*transform[:6]),
        "nodata": float("nan"),
        "compress": "deflate",
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    if data.shape[0] < 256 or data.shape[1] < 256:
        profile.pop("tiled"), profile.pop("blockxsize"), profile.pop("blockysize")
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
        dst.set_band_description(1, "enhancement_ppm_m")
        dst.update_tags(
            units="ppm m",
            gas="ch4",
            quantity="true CH4 column enhancement",
            rate_kg_h=str(truth.rate_kg_h),
            wind_speed_m_s=str(truth.wind_speed_m_s),
            wind_dir_deg=str(truth.wind_dir_deg),
        )


def _write_quicklook(scene: xr.Dataset, path: Path, truth: PlumeTruth) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rgb = true_colour(scene)
    step = scene.sizes["y"] / rgb.shape[0]
    fig, ax = plt.subplots(figsize=(6, 6 * rgb.shape[0] / max(rgb.shape[1], 1) + 0.4), dpi=100)
    ax.imshow(rgb, interpolation="nearest")
    sy, sx = truth.source_yx
    if truth.rate_kg_h > 0:
        ax.plot([sx / step], [sy / step], marker="+", color="red", markersize=12, mew=2)
    ax.set_title(f"{scene.attrs.get('sensor', '')} simulated scene, true colour (+ = CH4 source)", fontsize=9)
    ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_simulation(stage: str | Path, *, netcdf: bool = False, **options: Any) -> dict[str, Any]:
    """Simulate (``options`` as :func:`plumetrace.simulate.scene.simulate_scene`) and write all products.

    Returns a dict: ``scene_path``, ``truth_path``, ``quicklook_path``, ``truth_json_path``, ``netcdf_path``
    (or None), ``truth`` (JSON-ready dict) and ``plume`` (the :class:`PlumeTruth`). Paths point into ``stage``.
    """
    from plumetrace.io.envi import read_envi

    stage = Path(stage)
    stage.mkdir(parents=True, exist_ok=True)
    scene_path, lazy_scene, truth = write_simulated_envi(stage / SCENE_NAME, **options)
    written = read_envi(scene_path)
    netcdf_path = None
    if netcdf:
        from plumetrace.io.emit import write_emit_netcdf

        netcdf_path = write_emit_netcdf(written, stage / f"{SCENE_NAME}.nc")
    crs, transform = lazy_scene.attrs["crs"], list(lazy_scene.attrs["transform"])
    truth_path = stage / "truth_enhancement.tif"
    _write_truth_geotiff(truth, truth_path, crs, transform)
    quicklook_path = stage / "quicklook.png"
    _write_quicklook(written, quicklook_path, truth)
    sy, sx = truth.source_yx
    a, b, c, d, e, f = transform[:6]
    info = truth.to_dict()
    info.update(
        sensor=lazy_scene.attrs["sensor"],
        shape=[int(lazy_scene.sizes["y"]), int(lazy_scene.sizes["x"]), int(lazy_scene.sizes["band"])],
        source_map_xy=[a * (sx + 0.5) + b * (sy + 0.5) + c, d * (sx + 0.5) + e * (sy + 0.5) + f],
        crs=crs,
        transform=transform,
        solar_zenith_deg=lazy_scene.attrs["solar_zenith_deg"],
        view_zenith_deg=lazy_scene.attrs["view_zenith_deg"],
        acquisition_time=lazy_scene.attrs["acquisition_time"],
        background=lazy_scene.attrs["sim_background"],
        noise=bool(lazy_scene.attrs["sim_noise"]),
        files={
            "scene": scene_path.name,
            "truth": truth_path.name,
            "quicklook": quicklook_path.name,
            "netcdf": netcdf_path.name if netcdf_path else None,
        },
    )
    truth_json_path = stage / "truth.json"
    truth_json_path.write_text(json.dumps(info, indent=2) + "\n")
    return {
        "scene_path": scene_path,
        "truth_path": truth_path,
        "quicklook_path": quicklook_path,
        "truth_json_path": truth_json_path,
        "netcdf_path": netcdf_path,
        "truth": info,
        "plume": truth,
    }
