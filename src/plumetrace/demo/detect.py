"""Demo step: detect the simulated plume and compare the retrieved enhancement with the simulator's truth map."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["demo_step"]

_IN_PLUME_PPM_M = 500.0
_BACKGROUND_PPM_M = 10.0
#: Faint plume pixels, the range of detect_skill's weak-plume bias target (±10 %).
_FAINT_PPM_M = (100.0, 2000.0)


def demo_step(ctx: Any) -> list[tuple[str, str, str, str]]:
    """Run ``detect`` on ``ctx.products["scene_path"]``: the albedo-corrected, robust matched filter (the product:
    closest to unbiased for the mass estimate downstream), the sparse filter (for its false-alarm rate) and the
    matched filter with cluster-tuned (class-wise) statistics.

    Writes ``<out>/detect/`` (enhancement.tif, quicklook.png, item.json) and puts ``enhancement_path`` in
    ``ctx.products``. Rows compare with ``ctx.products["truth_path"]``: bias inside the plume, false alarms outside.
    """
    import rasterio

    from plumetrace.detect.engine import detect_scene
    from plumetrace.io.open_scene import open_scene
    from plumetrace.io.staging import staged_output
    from plumetrace.products.detection import write_detection_products

    out = Path(ctx.out_dir) / "detect"
    scene = open_scene(ctx.products["scene_path"])
    with staged_output(out) as stage:
        result = detect_scene(scene, gas="ch4", method="mf", albedo_correct=True, progress=False)
        write_detection_products(result, stage)
    sparse = detect_scene(scene, gas="ch4", method="sparse", iterations=30, progress=False)["enhancement"].values
    clustered = detect_scene(scene, gas="ch4", method="mf", stats="cluster", albedo_correct=True, progress=False)
    ctx.products["enhancement_path"] = out / "enhancement.tif"
    retrieved = result["enhancement"].values.astype(np.float64)
    with rasterio.open(ctx.products["truth_path"]) as src:
        truth = src.read(1).astype(np.float64)
    rows: list[tuple[str, str, str, str]] = []
    if truth.shape != retrieved.shape:  # truth on a map grid: compare through the products' own grid
        from plumetrace.io.cog import read_enhancement

        retrieved = read_enhancement(out / "enhancement.tif")["enhancement"].values.astype(np.float64)
    ok = np.isfinite(retrieved) & np.isfinite(truth)
    inside = ok & (truth > _IN_PLUME_PPM_M)
    outside = ok & (truth < _BACKGROUND_PPM_M)
    sigma = float(np.nanmedian(result["uncertainty"].values))
    if inside.any():
        bias = 100.0 * (retrieved[inside].mean() - truth[inside].mean()) / truth[inside].mean()
        rows.append(
            (
                "detect",
                f"CH4 enhancement inside plume (truth > {_IN_PLUME_PPM_M:.0f} ppm·m): bias",
                f"{bias:+.1f} %",
                "0 %",
            )
        )
        rows.append(
            (
                "detect",
                "mean CH4 enhancement inside plume",
                f"{retrieved[inside].mean():.0f} ppm·m",
                f"{truth[inside].mean():.0f} ppm·m",
            )
        )
    faint = ok & (truth >= _FAINT_PPM_M[0]) & (truth < _FAINT_PPM_M[1])
    if faint.any():
        biases = [_summed_bias(retrieved, truth, faint)]
        if sparse.shape == truth.shape:
            biases.append(_summed_bias(np.asarray(sparse, dtype=np.float64), truth, faint & np.isfinite(sparse)))
        rows.append(
            (
                "detect",
                f"faint plume pixels ({_FAINT_PPM_M[0]:.0f}-{_FAINT_PPM_M[1]:.0f} ppm·m): bias of the "
                "sum, albedo-corrected MF / sparse",
                " / ".join(f"{b:+.1f} %" for b in biases),
                "0 % (target ±10 %)",
            )
        )
    threshold = max(_IN_PLUME_PPM_M, 3 * sigma)
    false_alarms = float(np.mean(retrieved[outside] > threshold)) if outside.any() else float("nan")
    rows.append(
        (
            "detect",
            f"false alarms outside plume (> {threshold:.0f} ppm·m)",
            f"{100 * false_alarms:.2f} % of pixels",
            "0 %",
        )
    )
    if sparse.shape == truth.shape:
        fa_sparse = float(np.mean(sparse[outside] > threshold)) if outside.any() else float("nan")
        zero = float(np.mean(sparse[outside] == 0)) if outside.any() else float("nan")
        rows.append(
            (
                "detect",
                "sparse filter: false alarms / exact zeros outside plume",
                f"{100 * fa_sparse:.2f} % / {100 * zero:.0f} %",
                "0 % / 100 %",
            )
        )
    if clustered["enhancement"].shape == truth.shape:
        values = clustered["enhancement"].values.astype(np.float64)
        bias_c = (
            100.0 * (values[inside].mean() - truth[inside].mean()) / truth[inside].mean()
            if inside.any()
            else float("nan")
        )
        fa_c = float(np.mean(values[outside] > threshold)) if outside.any() else float("nan")
        rows.append(
            (
                "detect",
                f"cluster-tuned statistics ({clustered.attrs.get('clusters', '?')} classes): bias inside / false alarms",
                f"{bias_c:+.1f} % / {100 * fa_c:.2f} %",
                "0 % / 0 %",
            )
        )
    plume_truth = ctx.products.get("truth")  # the simulator's truth.json: source pixel and wind
    if faint.any() and plume_truth is not None and retrieved.shape == scene["radiance"].shape[:2]:
        # What knowing the plume's region buys: the analyst's downwind sector kept out of the statistics (--exclude).
        from plumetrace.detect.exclusion import downwind_sector

        region = downwind_sector(retrieved.shape, tuple(plume_truth["source_yx"]), float(plume_truth["wind_dir_deg"]))
        excluded = detect_scene(scene, gas="ch4", method="mf", albedo_correct=True, exclude=region, progress=False)
        values = excluded["enhancement"].values.astype(np.float64)
        rows.append(
            (
                "detect",
                "faint plume pixels, downwind sector (±30°) left out of the statistics (--exclude): bias of the sum",
                f"{_summed_bias(values, truth, faint & np.isfinite(values)):+.1f} %",
                "0 % (target ±10 %)",
            )
        )
    rows.append(
        (
            "detect",
            "statistics, median 1σ (albedo-corrected, robust MF)",
            f"{result.attrs['stats']}, {sigma:.0f} ppm·m",
            "-",
        )
    )
    return rows


def _summed_bias(retrieved: np.ndarray, truth: np.ndarray, pixels: np.ndarray) -> float:
    """100·(Σ retrieved − Σ truth)/Σ truth (%) over ``pixels``: detect_skill's ``bias_pct_below_2000`` on one scene."""
    return float(100.0 * (retrieved[pixels].sum() - truth[pixels].sum()) / truth[pixels].sum())
