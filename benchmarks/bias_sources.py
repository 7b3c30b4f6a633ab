"""bias_sources: where the matched filter's remaining weak-plume bias comes from, on the current engine.

    python benchmarks/bias_sources.py [--quick] [--json OUT] [--seeds 6] [--first-seed 100]

Follows ``mf_bias.py`` (same scenes, same bias definition: 100·(Σ retrieved − Σ truth)/Σ truth over plume pixels with
100 ≤ truth < 2000 ppm·m; ``response`` = the same variant's retrieval on the plume-free twin subtracted pixel by pixel,
so the plume's own effect on the retrieval without the clutter it lies on). Four questions, each against truth:

1. **Offset or scale?** For the default engine, the plume's response on pixels far from it (more than 5 px beyond
   truth ≥ 1 ppm·m) is a constant offset left by the plume in the background mean; on the plume pixels the response is
   ``offset + slope × truth``; a slope below 1 is the part that scales (covariance contamination, albedo).
2. **Is the robust round's mask the limit?** The round with other masks through the engine's ``plume_mask`` hook:
   the default; the simulator's true plume (truth ≥ 50 ppm·m grown by 2 px, the ceiling); hysteresis masks (the default
   mask extended through connected pixels whose window-averaged significance exceeds a lower threshold, as edge
   detectors do), with one and two rounds. ``twin_marked`` counts the pixels each mask marks on the plume-free twin.
3. **Scene size.** The same plumes on procedural scenes of 100, 200 and 400 px: the plume's share of the pixels that
   form the statistics falls, and with it the contamination. Default MF, albedo-corrected MF, sparse. Also the share
   of the largest plume's in-scene mass within 25 and 100 px of its source: a steady plume holds the same mass per
   unit of downwind length, so most of it lies in the faint tail.
4. **Mean or covariance?** (albedo-corrected MF, the mode the target names; 100 px, and 200 px procedural.) Scene-wide
   filters with no robust round whose mean and covariance come from the plume-free twin or from the scene itself:
   both from the twin is the oracle, one from the scene shows that statistic's contamination alone. Beside them the
   engine, and the engine's round with a *symmetric* mask: pixels whose window-averaged significance is beyond the
   threshold on either side, each with its signed first estimate removed. Target-like clutter of both signs then
   cancels in the mean while the plume's positive fringe is removed, so the threshold can go lower than the default
   3σ without the one-sided inflation of session 4's hysteresis masks. Also the default mask grown by 10 px instead
   of 2, with signed removal: the fringe next to the core, where noise of either sign cancels.

Seeds 100 and up (detect_skill holds out 2–21; nothing is tuned here). Intervals: 68 % bootstrap over seeds.
"""

from __future__ import annotations

import sys
import time
from functools import partial
from pathlib import Path
from typing import Any, Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import mf_bias  # noqa: E402
from _common import print_table, write_json  # noqa: E402
from detect_skill import plume_placement  # noqa: E402

FAR_PX = 5
HYSTERESIS = {"hysteresis 1.5σ, 9 px": (1.5, 9), "hysteresis 1.0σ, 5 px": (1.0, 5)}
SIZES_PX = (100, 200, 400)
SYMMETRIC_THRESHOLDS = (2.0, 1.5)
GROWN_PX = 10
#: Distances from the source (px) within which question 3 reports the share of the largest plume's in-scene mass.
NEAR_SOURCE_PX = (25, 100)


def hysteresis_mask(significance: np.ndarray, *, low: float, window: int) -> np.ndarray:
    """The default mask extended through connected pixels whose ``window``-averaged significance exceeds ``low``."""
    from scipy import ndimage

    from plumetrace.detect.robust import MASK_GROW, plume_mask

    core = plume_mask(significance)
    z = np.where(np.isfinite(significance), significance, 0.0).astype(np.float32)
    averaged = ndimage.uniform_filter(z, size=window, mode="reflect") * np.float32(window)  # unit variance for white z
    labels, _ = ndimage.label((averaged > low) | core)
    keep = np.unique(labels[core])
    grown = np.isin(labels, keep[keep > 0])
    if grown.any():
        grown = ndimage.binary_dilation(grown, iterations=MASK_GROW)
    return grown & np.isfinite(significance)


def engine_run(scene: Any, *, mask_fn: Callable[..., np.ndarray] | None = None, **options: Any) -> tuple[np.ndarray, int]:
    """``detect_scene`` (mf, auto statistics) with another robust-round mask; enhancement and pixels marked."""
    from plumetrace.detect import engine

    default_mask = engine.plume_mask
    if mask_fn is not None:
        engine.plume_mask = lambda significance, **_: mask_fn(significance)
    try:
        out = engine.detect_scene(scene, gas="ch4", window_nm=mf_bias.WINDOW_NM, **{"method": "mf", **options})
    finally:
        engine.plume_mask = default_mask
    return np.asarray(out["enhancement"].values, dtype=np.float64), int(out.attrs["robust_masked_pixels"])


def offset_and_slope(seeds: range, shared: Path) -> list[dict[str, Any]]:
    """Question 1 for each family: far-field offset and slope of the default engine's plume response."""
    from scipy import ndimage

    rows = []
    for surface, sensor in families(shared):
        for peak_index in (1, 2):  # the 700 and 5000 ppm·m plumes
            offsets, slopes, means, responses = [], [], [], []
            for seed in seeds:
                scenes = mf_bias.family_scenes(surface, sensor, seed, shared)
                twin_retrieved, _ = engine_run(scenes[0][1])
                scene, _, truth = scenes[peak_index]
                response = engine_run(scene)[0] - twin_retrieved
                valid = np.isfinite(response)
                far = ~ndimage.binary_dilation(truth >= 1.0, iterations=FAR_PX) & valid
                inside = (truth >= 100.0) & (truth < 2000.0) & valid
                offset = float(np.median(response[far]))
                offsets.append(offset)
                slopes.append(float(np.sum((response[inside] - offset) * truth[inside]) / np.sum(truth[inside] ** 2)))
                means.append(float(truth.mean()))
                responses.append(100.0 * (response[inside].sum() / truth[inside].sum() - 1.0))
            rows.append({"family": f"{surface}/{sensor}", "peak_ppm_m": mf_bias.PEAKS_PPM_M[peak_index],
                         "scene_mean_truth_ppm_m": float(np.mean(means)), "far_offset_ppm_m": float(np.mean(offsets)),
                         "slope": float(np.mean(slopes)), "response_bias_pct": float(np.mean(responses))})
    return rows


def families(shared: Path) -> list[tuple[str, str]]:
    surfaces = mf_bias.surfaces_present(shared, ("procedural", "jasper-ridge"))
    return [(surface, sensor) for surface in surfaces for sensor in mf_bias.SENSORS]


def pooled_rows(family: str, retrievals: dict[str, dict[str, list]], n_seeds: int, extra: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for variant, pairs in retrievals["pooled"].items():
        point, lo, hi, _ = mf_bias.bias_with_interval(pairs, n_seeds)
        response, _, _, response_se = mf_bias.bias_with_interval(retrievals["paired"][variant], n_seeds)
        rows.append({"family": family, "variant": variant, "bias_pct_below_2000": point, "lo68": lo, "hi68": hi,
                     "response_bias_pct": response, "response_se": response_se, **extra.get(variant, {})})
    return rows


def collect(scenes: list, run: Callable[[Any, np.ndarray], dict[str, np.ndarray]], k: int, into: dict[str, dict[str, list]]) -> None:
    """Run every variant on the plume-free twin and on each plume scene of one seed; pool (retrieved, truth, seed)."""
    twin = scenes[0][1]
    background = run(twin, np.zeros_like(scenes[0][2]))
    for scene, _, truth in scenes:
        for variant, retrieved in run(scene, truth).items():
            into["pooled"].setdefault(variant, []).append((retrieved, truth, k))
            into["paired"].setdefault(variant, []).append((retrieved - background[variant], truth, k))


def mask_variants(seeds: range, shared: Path) -> list[dict[str, Any]]:
    """Question 2: the robust round with other masks."""
    from scipy import ndimage

    rows = []
    for surface, sensor in families(shared):
        marked: dict[str, list[int]] = {}
        store: dict[str, dict[str, list]] = {"pooled": {}, "paired": {}}

        def run(scene: Any, truth: np.ndarray) -> dict[str, np.ndarray]:
            is_twin = not truth.any()
            true_mask = ndimage.binary_dilation(truth >= 50.0, iterations=2) if not is_twin else np.zeros(truth.shape, bool)
            variants: dict[str, dict[str, Any]] = {
                "default": {},
                "default, 2 rounds": {"robust_rounds": 2},
                "true-plume mask": {"mask_fn": lambda z: true_mask & np.isfinite(z)},
            }
            for label, (low, window) in HYSTERESIS.items():
                variants[label] = {"mask_fn": partial(hysteresis_mask, low=low, window=window)}
                variants[label + ", 2 rounds"] = {"mask_fn": partial(hysteresis_mask, low=low, window=window), "robust_rounds": 2}
            out = {}
            for label, options in variants.items():
                out[label], n_marked = engine_run(scene, **options)
                if is_twin:
                    marked.setdefault(label, []).append(n_marked)
            return out

        for k, seed in enumerate(seeds):
            collect(mf_bias.family_scenes(surface, sensor, seed, shared), run, k, store)
        extra = {label: {"twin_marked": float(np.mean(v))} for label, v in marked.items()}
        rows += pooled_rows(f"{surface}/{sensor}", store, len(seeds), extra)
    return rows


def scene_sizes(seeds: range, shared: Path, sizes: tuple[int, ...]) -> list[dict[str, Any]]:
    """Question 3: the same plumes on procedural scenes of growing size."""
    rows = []
    default_shape = mf_bias.SHAPE
    try:
        for size in sizes:
            mf_bias.SHAPE = (size, size)
            for sensor in mf_bias.SENSORS:
                store: dict[str, dict[str, list]] = {"pooled": {}, "paired": {}}
                cover: list[float] = []
                near: list[list[float]] = []  # the largest plume's in-scene mass within NEAR_SOURCE_PX of its source
                source_yx = (0.0, 0.0)

                def run(scene: Any, truth: np.ndarray) -> dict[str, np.ndarray]:
                    cover.append(float(np.mean(truth >= 50.0)))
                    if truth.max() >= 0.99 * mf_bias.PEAKS_PPM_M[-1]:
                        rows_px, cols_px = np.indices(truth.shape)
                        distance = np.hypot(rows_px - source_yx[0], cols_px - source_yx[1])
                        near.append([float(truth[distance <= r].sum() / truth.sum()) for r in NEAR_SOURCE_PX])
                    return {"mf (default)": engine_run(scene)[0],
                            "mf albedo-corrected": engine_run(scene, albedo_correct=True)[0],
                            "sparse": engine_run(scene, method="sparse")[0]}

                for k, seed in enumerate(seeds):
                    source_yx = plume_placement(seed, mf_bias.SHAPE)[1]
                    collect(mf_bias.family_scenes("procedural", sensor, seed, shared), run, k, store)
                held = {f"mass_within_{r}px_pct": 100.0 * float(np.mean([n[i] for n in near]))
                        for i, r in enumerate(NEAR_SOURCE_PX)}
                for row in pooled_rows(f"procedural/{sensor}", store, len(seeds), {}):
                    rows.append({"size_px": size, "plume_share_max_pct": 100.0 * max(cover), **held, **row})
                print(f"  {size} px, {sensor} done", flush=True)
    finally:
        mf_bias.SHAPE = default_shape
    return rows


def symmetric_mask(significance: np.ndarray, *, threshold: float) -> np.ndarray:
    """The default mask's test applied to both tails of the significance."""
    from plumetrace.detect.robust import plume_mask

    both = plume_mask(significance, threshold=threshold) | plume_mask(-significance, threshold=threshold)
    return both & np.isfinite(significance)


def grown_mask(significance: np.ndarray) -> np.ndarray:
    """The default mask grown by ``GROWN_PX`` instead of 2 px: the fringe next to the core, whatever its sign."""
    from plumetrace.detect.robust import plume_mask

    return plume_mask(significance, grow=GROWN_PX) & np.isfinite(significance)


def signed_round_run(scene: Any, mask_fn: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, int]:
    """The albedo-corrected engine with another mask, removing each marked pixel's signed first estimate; enhancement
    and pixels marked."""
    from plumetrace.detect import robust

    floor = robust.ROUND_ALPHA_FLOOR_PPM_M
    robust.ROUND_ALPHA_FLOOR_PPM_M = -np.inf
    try:
        return engine_run(scene, mask_fn=mask_fn, albedo_correct=True)
    finally:
        robust.ROUND_ALPHA_FLOOR_PPM_M = floor


def mean_or_covariance(seeds: range, shared: Path, sizes: tuple[int, ...]) -> list[dict[str, Any]]:
    """Question 4: which statistic carries the contamination, and the round with wider masks removing signed
    estimates."""
    rows = []
    default_shape = mf_bias.SHAPE
    try:
        for size in sizes:
            mf_bias.SHAPE = (size, size)
            for surface, sensor in families(shared):
                if surface != "procedural" and size != 100:  # Jasper Ridge is one 100 × 100 cube
                    continue
                store: dict[str, dict[str, list]] = {"pooled": {}, "paired": {}}
                marked: dict[str, list[int]] = {}
                for k, seed in enumerate(seeds):
                    scenes = mf_bias.family_scenes(surface, sensor, seed, shared)
                    twin = scenes[0][1]

                    def run(scene: Any, truth: np.ndarray) -> dict[str, np.ndarray]:
                        mixed = partial(mf_bias.statistics_mf, scene, albedo_correct=True)
                        out = {"oracle (twin's mean and covariance)": mixed(twin, twin),
                               "scene's mean, twin's covariance": mixed(scene, twin),
                               "twin's mean, scene's covariance": mixed(twin, scene),
                               "scene's mean and covariance": mixed(scene, scene)}
                        rounds = {"engine": engine_run(scene, albedo_correct=True),
                                  f"engine, default mask grown {GROWN_PX} px, signed": signed_round_run(scene, grown_mask)}
                        for threshold in SYMMETRIC_THRESHOLDS:
                            rounds[f"engine, symmetric {threshold}σ mask"] = signed_round_run(
                                scene, partial(symmetric_mask, threshold=threshold))
                        for label, (enhancement, n_marked) in rounds.items():
                            out[label] = enhancement
                            if not truth.any():
                                marked.setdefault(label, []).append(n_marked)
                        return out

                    collect(scenes, run, k, store)
                extra = {label: {"twin_marked": float(np.mean(v))} for label, v in marked.items()}
                for row in pooled_rows(f"{surface}/{sensor}", store, len(seeds), extra):
                    rows.append({"size_px": size, **row})
    finally:
        mf_bias.SHAPE = default_shape
    return rows


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args, shared, seeds = mf_bias.seeded_arguments(__doc__, argv)
    sizes = SIZES_PX[:2] if args.quick else SIZES_PX
    t0 = time.perf_counter()

    split = offset_and_slope(seeds, shared)
    print_table(split, ["family", "peak_ppm_m", "scene_mean_truth_ppm_m", "far_offset_ppm_m", "slope", "response_bias_pct"],
                title="1. default engine: the plume's response split into a far-field offset and a slope (means over seeds)")
    masks = mask_variants(seeds, shared)
    print_table(masks, ["family", "variant", "bias_pct_below_2000", "lo68", "hi68", "response_bias_pct", "response_se", "twin_marked"],
                title="2. the robust round's mask (100 × 100 px)")
    sized = scene_sizes(seeds, shared, sizes)
    print_table(sized, ["size_px", "family", "variant", "plume_share_max_pct", "mass_within_25px_pct",
                        "mass_within_100px_pct", "bias_pct_below_2000", "lo68", "hi68",
                        "response_bias_pct", "response_se"], title="3. scene size (procedural)")
    split_stats = mean_or_covariance(seeds, shared, SIZES_PX[:2])
    print_table(split_stats, ["size_px", "family", "variant", "bias_pct_below_2000", "lo68", "hi68", "response_bias_pct",
                              "response_se", "twin_marked"],
                title="4. mean or covariance (albedo-corrected; no robust round except the engine rows)")
    result = {"seeds": list(seeds), "peaks_ppm_m": list(mf_bias.PEAKS_PPM_M), "split": split, "masks": masks,
              "sizes": sized, "mean_or_covariance": split_stats, "wall_s": time.perf_counter() - t0}
    write_json(args.json, result)
    return result


if __name__ == "__main__":
    main()
