"""mf_bias: why the linear matched filter is biased for weak plumes — each mechanism isolated against known truth.

    python benchmarks/mf_bias.py [--quick] [--json OUT] [--seeds 6] [--first-seed 100]

Bias = 100·(Σ retrieved − Σ truth)/Σ truth over plume pixels with 100 ≤ truth < 2000 ppm·m (detect_skill's
``bias_pct_below_2000``), linear matched filter (``method="mf"``), scene-wide statistics, 2122–2488 nm.

Stage (a), target amplitude alone (no noise, no clutter, no contamination): the filter with *ideal* statistics (mean =
the plume-free band radiance of a uniform 30 % surface, covariance = the sensor's noise) applied to the simulator's
exact band radiance of a uniform plume of 100 … 5000 ppm·m; retrieved/true for the full-range target (0–16,000 ppm·m
regression: mag1c's and NASA EMIT's convention, plumetrace before the fix) and the weak-plume target (0–2000 ppm·m,
now the default), EMIT and AVIRIS-NG, three solar zeniths (does the target's air-mass scaling match the simulator's?).

Stages (b)–(f), scenes from ``plumetrace.simulate.simulate_scene`` (puff plumes peaking at 100, 700 and 5000 ppm·m as
in detect_skill, placed by its ``plume_placement``, the sensor's noise model) on three surfaces: ``uniform`` (a flat
30 % reflector: noise is the only clutter, stage b), ``procedural`` (100 × 100, stage c) and the real Jasper Ridge
reflectance (100 × 100, stage f). Variants per surface:

* ``oracle stats``: mean and covariance from the plume-free twin scene (same seed: the same surface and the same noise
  draws), so no plume contaminates them — the target and the albedo effect alone;
* ``oracle stats, albedo-corrected`` (stage d): divided by the albedo factor ``r = xᵀμ/μᵀμ``;
* ``oracle stats, full-range target``: the old target with the same oracle statistics;
* ``engine, robust off`` / ``engine (default)`` (stage e): ``detect_scene`` statistics from the scene itself, without
  and with the robust plume masking;
* ``engine, old skip test``: the default before session 3, whose robust round re-applied the filter only when the
  marked pixels could move some group's mean by 5 % of its 1σ (re-implemented here through the engine's
  ``reapply_needed`` hook, for before → after in one run); ``engine, re-apply always``: the round never skipped (the
  default skips it when the downdated filter changes the marked pixels' summed estimate by < 1 %) — diagnoses, not
  options;
* ``engine, 2 robust rounds`` (``robust_rounds=2``: the second mask from the first round's estimate) and
  ``engine, true-plume mask``: the round with the simulator's plume (truth ≥ 50 ppm·m, grown by the mask's 2 pixels)
  as its mask instead of :func:`~plumetrace.detect.robust.plume_mask` — does the mask limit what the round recovers?
* ``engine, albedo-corrected``; ``engine, full-range target``: the default with the old target (before the fix).

``response_bias_pct`` splits the bias: the same variant is run on the plume-free twin and its retrieval subtracted pixel
by pixel, so what remains is the plume's own effect on the retrieval (target amplitude, the albedo of the pixels under
the plume, contamination of the statistics) without the clutter and noise the plume happens to lie on. The rest,
``bias − response``, is that background term: zero in expectation, but over a 100 × 100 scene the few hundred plume
pixels sit on spatially correlated clutter, so it dominates the sampling error.

Seeds 100 and up by default: independent of detect_skill's held-out seeds (2–21). Intervals: 68 % bootstrap over seeds.
"""

from __future__ import annotations

import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import make_parser, print_table, write_json  # noqa: E402

WINDOW_NM = (2122.0, 2488.0)
PEAKS_PPM_M = (100.0, 700.0, 5000.0)
LEVELS_PPM_M = (100.0, 300.0, 500.0, 1000.0, 2000.0, 5000.0)
SOLAR_ZENITHS_DEG = (0.0, 30.0, 50.0)
SENSORS = ("emit", "aviris-ng")
SURFACES = ("uniform", "procedural", "jasper-ridge")
SHAPE = (100, 100)
REPLICATES = 2000
VARIANTS = (
    "oracle stats",
    "oracle stats, albedo-corrected",
    "oracle stats, full-range target",
    "engine, robust off",
    "engine (default)",
    "engine, old skip test",
    "engine, re-apply always",
    "engine, 2 robust rounds",
    "engine, true-plume mask",
    "engine, albedo-corrected",
    "engine, full-range target",
)


# --------------------------------------------------------------------------------------------------- stage (a)
def ideal_ratios(sensor: str, solar_zenith_deg: float) -> dict[str, list[float]]:
    """Retrieved/true at LEVELS_PPM_M with ideal statistics, for the full-range and the weak-plume target."""
    from plumetrace.detect.covariance import GroupStatistics
    from plumetrace.detect.matched_filter import apply_filter, filter_weights
    from plumetrace.simulate.radiance import ForwardModel
    from plumetrace.spectra.sensors import get_sensor
    from plumetrace.spectra.target import ch4_target

    preset = get_sensor(sensor)
    model = ForwardModel(preset.wavelength_nm, preset.fwhm_nm, solar_zenith_deg=solar_zenith_deg)
    band = (preset.wavelength_nm >= WINDOW_NM[0]) & (preset.wavelength_nm <= WINDOW_NM[1])
    surface = np.full((1, model.grid_nm.size), 0.3)
    full = model.band_radiance(surface)[0]
    noise = preset.noise
    sigma = np.abs(noise.a * np.sqrt(np.maximum(noise.b + full, 1e-5)) + noise.c)[band] / np.sqrt(noise.integrations)
    background = full[band]
    stats = GroupStatistics(count=np.array([10_000]), mean=background[None], cov=np.diag(sigma**2)[None])
    out: dict[str, list[float]] = {}
    for label, max_ppm_m in (("full-range target", None), ("weak-plume target", 2000.0)):
        k = ch4_target(preset.wavelength_nm, preset.fwhm_nm, airmass_factor=model.airmass_factor,
                       max_enhancement_ppm_m=max_ppm_m)[band]
        weights = filter_weights(stats, k)
        ratios = []
        for level in LEVELS_PPM_M:
            centred = (model.band_radiance(surface, level)[0][band] - background).astype(np.float32)[None, None]
            enh, *_ = apply_filter(centred, np.ones((1, 1), dtype=bool), weights, np.zeros(1, dtype=int))
            ratios.append(float(enh[0, 0]) / level)
        out[label] = ratios
    return out


# --------------------------------------------------------------------------------------------- stages (b)-(f)
def _reflectance(surface: str, seed: int, shared: Path) -> Any:
    from plumetrace.spectra.reflectance import reflectance_cube

    if surface == "procedural":
        return None
    if surface == "uniform":
        return reflectance_cube(np.full(SHAPE + (2,), 0.3), np.array([350.0, 2600.0]), source="uniform 30 %")
    from _scenes import jasper_ridge_native

    cube, wl = jasper_ridge_native(shared)
    if seed % 2 == 1:
        cube = np.ascontiguousarray(np.transpose(cube, (1, 0, 2)))
    return reflectance_cube(cube, wl, source="Jasper Ridge (AVIRIS)")


def _window_pixels(scene: Any, max_ppm_m: float | None) -> tuple[np.ndarray, np.ndarray]:
    """The scene's radiance in the spectral window as (pixels, bands) float64, and the CH4 target ``k`` there."""
    from plumetrace.detect.engine import select_window
    from plumetrace.scene import airmass_factor
    from plumetrace.spectra.target import ch4_target

    wl, fwhm = scene["wavelength"].values, scene["fwhm"].values
    b0, b1 = select_window(wl, WINDOW_NM)
    k = ch4_target(wl[b0:b1], fwhm[b0:b1], airmass_factor=float(airmass_factor(scene)), max_enhancement_ppm_m=max_ppm_m)
    return np.asarray(scene["radiance"].values[..., b0:b1], dtype=np.float64).reshape(-1, b1 - b0), k


def statistics_mf(scene: Any, mean_from: Any, cov_from: Any, *, albedo_correct: bool,
                  max_ppm_m: float | None = 2000.0) -> np.ndarray:
    """Matched filter on ``scene`` with the mean of ``mean_from`` and the covariance of ``cov_from`` (scene-wide,
    no robust round): with the plume-free twin as both, the oracle; with the scene itself as one of them, that
    statistic's contamination alone."""
    from plumetrace.detect.covariance import GroupStatistics
    from plumetrace.detect.matched_filter import apply_filter, filter_weights

    x, k = _window_pixels(scene, max_ppm_m)
    mean = _window_pixels(mean_from, max_ppm_m)[0].mean(axis=0)
    cov = np.cov(_window_pixels(cov_from, max_ppm_m)[0], rowvar=False)
    weights = filter_weights(GroupStatistics(count=np.array([x.shape[0]]), mean=mean[None], cov=cov[None]), k)
    centred = (x - mean).astype(np.float32)[None]
    enh, *_ = apply_filter(centred, np.ones(centred.shape[:2], dtype=bool), weights, np.zeros(1, dtype=int),
                           albedo_correct=albedo_correct)
    return enh.reshape(scene["radiance"].shape[:2]).astype(np.float64)


def _oracle(scene: Any, twin: Any, *, albedo_correct: bool, max_ppm_m: float | None) -> np.ndarray:
    """Matched filter with mean and covariance from the plume-free twin (same surface, same noise draws)."""
    return statistics_mf(scene, twin, twin, albedo_correct=albedo_correct, max_ppm_m=max_ppm_m)


def _old_skip_test(count: np.ndarray, sum_d: np.ndarray, base_mean: np.ndarray, before: Any, after: Any, **_: Any) -> bool:
    """The robust round's test before session 3: re-apply when the marked pixels move some group's mean by > 5 % of 1σ."""
    m = np.asarray(count, dtype=np.float64)[:, None]
    summed = np.einsum("gb,gb->g", np.asarray(sum_d) + m * (np.asarray(base_mean, dtype=np.float64) - before.mean),
                       before.q) / before.normalizer
    return bool(np.any(np.abs(summed) / np.maximum(before.count, 1) > 0.05 * np.nan_to_num(before.sigma)))


#: Robust rounds that re-applied the filter, per variant: [rounds run, scenes].
ROUNDS: dict[str, list[int]] = {}


def _engine(scene: Any, *, robust: bool = True, albedo_correct: bool = False, full_range: bool = False,
            skip_rule: str = "default", label: str | None = None, robust_rounds: int = 1,
            true_mask: np.ndarray | None = None) -> np.ndarray:
    from scipy import ndimage

    from plumetrace.detect import engine
    from plumetrace.spectra.target import resolve_target

    default_rule, default_mask = engine.reapply_needed, engine.plume_mask
    if true_mask is not None:
        grown = ndimage.binary_dilation(true_mask, iterations=2) if true_mask.any() else true_mask
        engine.plume_mask = lambda significance, **_: grown & np.isfinite(significance)
    if skip_rule == "old":
        engine.reapply_needed = _old_skip_test
    elif skip_rule == "always":
        engine.reapply_needed = lambda *args, **kwargs: True
    if full_range:  # the target before the fix, through the engine's own code path
        engine.resolve_target = partial(resolve_target, max_enhancement_ppm_m=None)
        engine._TARGET_CACHE.clear()
    try:
        out = engine.detect_scene(scene, gas="ch4", method="mf", stats="scene", window_nm=WINDOW_NM, robust=robust,
                                  albedo_correct=albedo_correct, robust_rounds=robust_rounds)
    finally:
        engine.reapply_needed, engine.plume_mask = default_rule, default_mask
        if full_range:
            engine.resolve_target = resolve_target
            engine._TARGET_CACHE.clear()
    if label is not None:
        tally = ROUNDS.setdefault(label, [0, 0])
        tally[0] += int(out.attrs["robust_rounds"] > 0)
        tally[1] += 1
    return np.asarray(out["enhancement"].values, dtype=np.float64)


def run_variants(scene: Any, twin: Any, truth: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "oracle stats": _oracle(scene, twin, albedo_correct=False, max_ppm_m=2000.0),
        "oracle stats, albedo-corrected": _oracle(scene, twin, albedo_correct=True, max_ppm_m=2000.0),
        "oracle stats, full-range target": _oracle(scene, twin, albedo_correct=False, max_ppm_m=None),
        "engine, robust off": _engine(scene, robust=False),
        "engine (default)": _engine(scene, label="engine (default), plume-free twin" if scene is twin else "engine (default)"),
        "engine, old skip test": _engine(scene, skip_rule="old",
                                         label="engine, old skip test, plume-free twin" if scene is twin else "engine, old skip test"),
        "engine, re-apply always": _engine(scene, skip_rule="always"),
        "engine, 2 robust rounds": _engine(scene, robust_rounds=2),
        "engine, true-plume mask": _engine(scene, true_mask=truth >= 50.0),
        "engine, albedo-corrected": _engine(scene, albedo_correct=True),
        "engine, full-range target": _engine(scene, full_range=True),
    }


def family_scenes(surface: str, sensor: str, seed: int, shared: Path) -> list[tuple[Any, Any, np.ndarray]]:
    """(scene, plume-free twin, truth ppm·m) for each peak in PEAKS_PPM_M."""
    from detect_skill import plume_placement

    from plumetrace.simulate.scene import simulate_scene

    reflectance = _reflectance(surface, seed, shared)
    wind_dir_deg, source_yx = plume_placement(seed, SHAPE)
    common = {"sensor": sensor, "shape": SHAPE, "seed": 100 + seed, "reflectance": reflectance,
              "wind_dir_deg": wind_dir_deg, "source_yx": source_yx}
    _, unit = simulate_scene(rate_kg_h=1000.0, noise=False, **common)
    peak_per_kg_h = float(np.max(unit.enhancement_ppm_m)) / 1000.0
    twin, _ = simulate_scene(rate_kg_h=0.0, **common)
    out = []
    for peak in PEAKS_PPM_M:
        scene, truth = simulate_scene(rate_kg_h=peak / peak_per_kg_h, **common)
        out.append((scene, twin, truth.enhancement_ppm_m.astype(np.float64)))
    return out


def bias_with_interval(pairs: list[tuple[np.ndarray, np.ndarray, int]], n_seeds: int) -> tuple[float, float, float, float]:
    """Pooled bias (%) over 100 ≤ truth < 2000, its 68 % seed-bootstrap interval and the bootstrap standard error."""
    diff = np.zeros(n_seeds)
    total = np.zeros(n_seeds)
    for retrieved, truth, k in pairs:
        m = (truth >= 100.0) & (truth < 2000.0) & np.isfinite(retrieved)
        diff[k] += float(np.sum(retrieved[m] - truth[m]))
        total[k] += float(np.sum(truth[m]))
    point = 100.0 * diff.sum() / total.sum()
    rng = np.random.default_rng(0)
    w = rng.multinomial(n_seeds, np.full(n_seeds, 1.0 / n_seeds), size=REPLICATES).astype(np.float64)
    reps = 100.0 * (w @ diff) / (w @ total)
    lo, hi = np.percentile(reps, [16, 84])
    return float(point), float(lo), float(hi), float(np.std(reps))


def seeded_arguments(doc: str, argv: list[str] | None) -> tuple[Any, Path, range]:
    """Parse ``--quick``/``--json``/``--seeds``/``--first-seed``; return the arguments, ../shared/data and the seeds."""
    parser = make_parser(doc.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=None, help="seeds per family (default 6, quick 2)")
    parser.add_argument("--first-seed", type=int, default=100, help="first seed (detect_skill holds out 2-21)")
    args = parser.parse_args(argv)
    from plumetrace.shared_data import shared_data_dir

    shared = Path(shared_data_dir() or "/nonexistent")
    return args, shared, range(args.first_seed, args.first_seed + (args.seeds or (2 if args.quick else 6)))


def surfaces_present(shared: Path, surfaces: tuple[str, ...] = SURFACES) -> list[str]:
    """The surfaces whose data is here (Jasper Ridge is read from ../shared/data, never copied)."""
    return [s for s in surfaces if s != "jasper-ridge" or (shared / "swir-scenes" / "jasper-ridge").exists()]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args, shared, seeds = seeded_arguments(__doc__, argv)
    n_seeds = len(seeds)
    t_start = time.perf_counter()

    ideal_rows = []
    for sensor in SENSORS:
        for sza in SOLAR_ZENITHS_DEG:
            ratios = ideal_ratios(sensor, sza)
            for label, values in ratios.items():
                row: dict[str, Any] = {"sensor": sensor, "solar_zenith_deg": sza, "target": label}
                row.update({f"ratio_{int(level)}": value for level, value in zip(LEVELS_PPM_M, values)})
                ideal_rows.append(row)
    print_table(ideal_rows, ["sensor", "solar_zenith_deg", "target"] + [f"ratio_{int(v)}" for v in LEVELS_PPM_M],
                title="(a) retrieved/true, ideal statistics, noise-free uniform plume on a uniform 30 % surface")

    surfaces = surfaces_present(shared)
    rows: list[dict[str, Any]] = []
    reapplied: list[dict[str, Any]] = []
    for surface in surfaces:
        for sensor in SENSORS:
            pooled: dict[str, list[tuple[np.ndarray, np.ndarray, int]]] = {v: [] for v in VARIANTS}
            paired: dict[str, list[tuple[np.ndarray, np.ndarray, int]]] = {v: [] for v in VARIANTS}
            ROUNDS.clear()
            for k, seed in enumerate(seeds):
                scenes = family_scenes(surface, sensor, seed, shared)
                background = run_variants(scenes[0][1], scenes[0][1], np.zeros_like(scenes[0][2]))  # every variant on the plume-free twin
                for scene, twin, truth in scenes:
                    for variant, retrieved in run_variants(scene, twin, truth).items():
                        pooled[variant].append((retrieved, truth, k))
                        # The plume's own effect: the same variant's retrieval on the twin removed pixel by pixel.
                        paired[variant].append((retrieved - background[variant], truth, k))
            for variant in VARIANTS:
                point, lo, hi, se = bias_with_interval(pooled[variant], n_seeds)
                response, _, _, response_se = bias_with_interval(paired[variant], n_seeds)
                rows.append({"family": f"{surface}/{sensor}", "variant": variant, "bias_pct_below_2000": point,
                             "lo68": lo, "hi68": hi, "se": se, "response_bias_pct": response, "response_se": response_se})
            for label, (ran, n_scenes) in ROUNDS.items():
                reapplied.append({"family": f"{surface}/{sensor}", "variant": label, "reapplied": ran, "scenes": n_scenes})
            print(f"  {surface}/{sensor} done ({time.perf_counter() - t_start:.0f} s)", flush=True)
    print()
    print_table(rows, ["family", "variant", "bias_pct_below_2000", "lo68", "hi68", "se", "response_bias_pct", "response_se"],
                title=f"(b)-(f) bias over 100 ≤ truth < 2000 ppm·m, mf scene-wide, seeds {seeds.start}–{seeds.stop - 1}, "
                      f"{SHAPE[0]}×{SHAPE[1]} px, peaks {', '.join(f'{p:g}' for p in PEAKS_PPM_M)} ppm·m")
    print_table(reapplied, ["family", "variant", "reapplied", "scenes"],
                title="robust round: scenes in which the filter was re-applied")
    result = {"window_nm": list(WINDOW_NM), "seeds": list(seeds), "shape": list(SHAPE), "peaks_ppm_m": list(PEAKS_PPM_M),
              "ideal": ideal_rows, "rows": rows, "reapplied": reapplied, "wall_s": time.perf_counter() - t_start}
    write_json(args.json, result)
    return result


if __name__ == "__main__":
    main()
