"""fringe_separability: can the robust round's mask tell a plume's faint fringe from target-like clutter?

    python benchmarks/fringe_separability.py [--quick] [--json OUT] [--seeds 6] [--first-seed 100]

bias_sources.py showed that the robust round's removal works with the simulator's plume as its mask and that the
estimated mask is the limit: it holds 20–45 % of a large plume's mass, and masks reaching further (hysteresis) mark
as much clutter as fringe. Two other cues a mask could use, each measured against truth on mf_bias's scenes (the
5000 ppm·m plume of each seed and its plume-free twin, the engine's first-pass significance ``ΔX/σ``):

1. **Shape.** Is the plume's core a larger or more significant connected component than anything the clutter
   forms? Per scene, the components of the default mask before growing (8-connected), their size and integrated
   significance ``Σz/√n``. ``plume core``: the most significant component whose pixels are mostly plume (truth ≥ 50);
   ``twin largest``: the most significant component of the plume-free twin. A size or significance cut separates them
   only if every plume core lies above every twin's largest.
2. **Spectral shape.** Over a window, noise averages out and a plume's mean residual points along the target, while
   clutter's points elsewhere too. The ACE score of the window-mean whitened residual (scene-wide mean and covariance,
   the engine's target) is thresholded together with positive window significance; ``mass held`` is the share of the
   plume's column mass inside the selection, ``twin px`` the pixels it selects on the plume-free twin (per 10⁴), set
   beside the default mask (grown, as the engine uses it).
3. **Through the engine.** The robust round with the default mask joined by the window-ACE selection, and with a
   31 px averaging window added to the mask's 5 and 15 px (through the engine's ``plume_mask`` hook, as
   bias_sources.py does): bias and response (the plume-free twin's retrieval subtracted) below 2000 ppm·m over the
   three peaks, and the pixels marked on the twin.
4. **How deep must a mask reach?** The round with the simulator's plume as its mask cut at truth ≥ T (grown by the
   mask's 2 px), T = 100, 200, 400 ppm·m, alone and joined to the default mask; ``mass_held``: the share of the
   5000 ppm·m plume's column mass inside the cut. The ceiling above which no estimated mask can do better.

Seeds 100 and up (detect_skill holds out 2–21; nothing is tuned here).
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import mf_bias  # noqa: E402
from _common import print_table, write_json  # noqa: E402
from bias_sources import collect, engine_run, families, pooled_rows  # noqa: E402

LARGE_PEAK_PPM_M = 5000.0
ACE_WINDOW_PX = 9
ACE_THRESHOLDS = (0.03, 0.05, 0.08)
#: Round masks tried through the engine: (window-ACE window px, ACE threshold) joined to the default mask, or None
#: for the default mask with a larger averaging window added (wider fringe, more clutter).
ENGINE_VARIANTS: dict[str, tuple[int, float] | None] = {
    "window ACE > 0.04 ∪ default, 9 px": (9, 0.04),
    "window ACE > 0.04 ∪ default, 15 px": (15, 0.04),
    "default + 31 px window": None,
}
WIDE_WINDOWS_PX = (5, 15, 31)
ORACLE_CUTS_PPM_M = (100.0, 200.0, 400.0)


def first_pass_significance(scene: Any) -> np.ndarray:
    """The significance map the engine's robust round builds its mask from (captured through its mask hook)."""
    from plumetrace.detect.robust import plume_mask

    captured: list[np.ndarray] = []

    def recording(significance: np.ndarray) -> np.ndarray:
        captured.append(np.array(significance))
        return plume_mask(significance)

    engine_run(scene, mask_fn=recording)
    return captured[0]


def components(significance: np.ndarray, truth: np.ndarray | None) -> list[tuple[int, float, float]]:
    """(pixels, Σz/√n, plume share) of each 8-connected component of the ungrown default mask."""
    from scipy import ndimage

    from plumetrace.detect.robust import plume_mask

    labels, n = ndimage.label(plume_mask(significance, grow=0), structure=np.ones((3, 3)))
    z = np.nan_to_num(significance)
    out = []
    for k in range(1, n + 1):
        member = labels == k
        share = float(np.mean(truth[member] >= 50.0)) if truth is not None else 0.0
        out.append((int(member.sum()), float(z[member].sum() / np.sqrt(member.sum())), share))
    return out


def window_ace(scene: Any, window_px: int) -> tuple[np.ndarray, np.ndarray]:
    """ACE of the window-mean whitened residual, and the window significance Σz/√n of the MF (scene-wide statistics)."""
    from scipy import ndimage

    from plumetrace.detect.engine import _scene_airmass, _target, select_window

    wl = scene["wavelength"].values
    b0, b1 = select_window(wl, mf_bias.WINDOW_NM)
    x = np.asarray(scene["radiance"].values[..., b0:b1], dtype=np.float64)
    ny, nx, nb = x.shape
    flat = x.reshape(-1, nb)
    mean = flat.mean(axis=0)
    whiten = np.linalg.inv(np.linalg.cholesky(np.cov(flat.T)))
    target = whiten @ (mean * _target("ch4", wl, scene["fwhm"].values, _scene_airmass(scene)).unit_absorption[b0:b1])
    residual = ((flat - mean) @ whiten.T).reshape(ny, nx, nb)
    z = residual @ target / np.sqrt(target @ target)
    averaged = ndimage.uniform_filter(residual, size=(window_px, window_px, 1), mode="reflect").reshape(-1, nb)
    along = averaged @ target
    ace = (along**2 / (target @ target) / np.maximum(np.sum(averaged**2, axis=1), 1e-30)).reshape(ny, nx)
    return ace, ndimage.uniform_filter(z, size=window_px, mode="reflect") * window_px


def family_rows(surface: str, sensor: str, seeds: range, shared: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Questions 1 and 2 for one family: the shape row, and one spectral-shape row per selection."""
    from plumetrace.detect.robust import plume_mask

    cores, twin_largest = [], []
    held: dict[str, list[float]] = {}
    twin_px: dict[str, list[float]] = {}
    for seed in seeds:
        scenes = mf_bias.family_scenes(surface, sensor, seed, shared)
        scene, twin, truth = scenes[mf_bias.PEAKS_PPM_M.index(LARGE_PEAK_PPM_M)]
        z, z_twin = first_pass_significance(scene), first_pass_significance(twin)
        plume_parts = [c for c in components(z, truth) if c[2] >= 0.5]
        cores.append(max(plume_parts, key=lambda c: c[1]) if plume_parts else (0, 0.0, 0.0))
        twin_largest.append(max(components(z_twin, None), key=lambda c: c[1], default=(0, 0.0, 0.0)))
        selections = {"default mask": (plume_mask(z), plume_mask(z_twin))}
        (ace, amp), (ace_t, amp_t) = window_ace(scene, ACE_WINDOW_PX), window_ace(twin, ACE_WINDOW_PX)
        for c in ACE_THRESHOLDS:
            selections[f"window ACE > {c}"] = ((ace > c) & (amp > 0), (ace_t > c) & (amp_t > 0))
        for name, (mask, mask_twin) in selections.items():
            held.setdefault(name, []).append(float(truth[mask].sum() / truth.sum()))
            twin_px.setdefault(name, []).append(1e4 * float(mask_twin.mean()))
    family = f"{surface}/{sensor}"
    weakest_core = min(c[1] for c in cores)
    shape = {
        "family": family,
        "plume_core_px_median": float(np.median([c[0] for c in cores])),
        "plume_core_signif_min": weakest_core,
        "plume_core_signif_median": float(np.median([c[1] for c in cores])),
        "twin_largest_px_median": float(np.median([c[0] for c in twin_largest])),
        "twin_largest_signif_max": max(c[1] for c in twin_largest),
        "twins_above_weakest_core": int(sum(c[1] >= weakest_core for c in twin_largest)),
        "seeds": len(seeds),
    }
    spectral = [{"family": family, "selection": name, "mass_held": float(np.mean(held[name])),
                 "twin_px_per_1e4": float(np.mean(twin_px[name]))} for name in held]
    return shape, spectral


def engine_rows(surface: str, sensor: str, seeds: range, shared: Path) -> list[dict[str, Any]]:
    """Question 3: bias and response with the window-ACE selection (or a wider window) added to the round's mask."""
    from plumetrace.detect.robust import plume_mask

    marked: dict[str, list[int]] = {}
    store: dict[str, dict[str, list]] = {"pooled": {}, "paired": {}}

    def run(scene: Any, truth: np.ndarray) -> dict[str, np.ndarray]:
        out = {}
        out["default"], n_marked = engine_run(scene)
        counts = {"default": n_marked}
        for label, ace_test in ENGINE_VARIANTS.items():
            if ace_test is None:
                mask = partial(plume_mask, window=WIDE_WINDOWS_PX)
            else:
                ace, amp = window_ace(scene, ace_test[0])
                selection = (ace > ace_test[1]) & (amp > 0)
                mask = partial(lambda z, chosen: (plume_mask(z) | chosen) & np.isfinite(z), chosen=selection)
            out[label], counts[label] = engine_run(scene, mask_fn=mask)
        if not truth.any():
            for label, n in counts.items():
                marked.setdefault(label, []).append(n)
        return out

    for k, seed in enumerate(seeds):
        collect(mf_bias.family_scenes(surface, sensor, seed, shared), run, k, store)
    extra = {label: {"twin_marked": float(np.mean(v))} for label, v in marked.items()}
    return pooled_rows(f"{surface}/{sensor}", store, len(seeds), extra)


def oracle_depth_rows(surface: str, sensor: str, seeds: range, shared: Path) -> list[dict[str, Any]]:
    """Question 4: the round with the true plume cut at truth ≥ T as its mask (alone and joined to the default)."""
    from scipy import ndimage

    from plumetrace.detect.robust import MASK_GROW, plume_mask

    held: dict[str, list[float]] = {}
    store: dict[str, dict[str, list]] = {"pooled": {}, "paired": {}}

    def run(scene: Any, truth: np.ndarray) -> dict[str, np.ndarray]:
        out = {}
        for cut in ORACLE_CUTS_PPM_M:
            true_part = ndimage.binary_dilation(truth >= cut, iterations=MASK_GROW)  # all False on the twin
            label = f"true plume ≥ {cut:.0f}"
            out[label] = engine_run(scene, mask_fn=lambda z, m=true_part: m & np.isfinite(z))[0]
            if cut == ORACLE_CUTS_PPM_M[0]:
                out[label + " ∪ default"] = engine_run(scene, mask_fn=lambda z, m=true_part: (m | plume_mask(z)) & np.isfinite(z))[0]
            if truth.max() >= LARGE_PEAK_PPM_M * 0.99:
                held.setdefault(label, []).append(float(truth[true_part].sum() / truth.sum()))
        return out

    for k, seed in enumerate(seeds):
        collect(mf_bias.family_scenes(surface, sensor, seed, shared), run, k, store)
    extra = {label: {"mass_held": float(np.mean(v))} for label, v in held.items()}
    return pooled_rows(f"{surface}/{sensor}", store, len(seeds), extra)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args, shared, seeds = mf_bias.seeded_arguments(__doc__, argv)
    shape_rows, spectral_rows, engine_result, depth_rows = [], [], [], []
    for surface, sensor in families(shared):
        shape, spectral = family_rows(surface, sensor, seeds, shared)
        shape_rows.append(shape)
        spectral_rows += spectral
        engine_result += engine_rows(surface, sensor, seeds, shared)
        depth_rows += oracle_depth_rows(surface, sensor, seeds, shared)
        print(f"  {surface}/{sensor} done", flush=True)
    print_table(shape_rows, list(shape_rows[0]), title=f"1. shape: components of the ungrown default mask, "
                f"{LARGE_PEAK_PPM_M:.0f} ppm·m plume vs plume-free twin, seeds {seeds.start}–{seeds.stop - 1}")
    print_table(spectral_rows, ["family", "selection", "mass_held", "twin_px_per_1e4"],
                title=f"2. spectral shape: window ACE ({ACE_WINDOW_PX} px) vs the default mask, means over seeds")
    print_table(engine_result, ["family", "variant", "bias_pct_below_2000", "lo68", "hi68", "response_bias_pct", "response_se",
                                "twin_marked"], title="3. through the engine: default MF, bias and response below 2000 ppm·m (%)")
    print_table(depth_rows, ["family", "variant", "mass_held", "bias_pct_below_2000", "response_bias_pct", "response_se"],
                title="4. the true plume cut at truth ≥ T as the round's mask (the ceiling for any estimated mask)")
    result = {"seeds": list(seeds), "shape": shape_rows, "spectral": spectral_rows, "engine": engine_result,
              "oracle_depth": depth_rows}
    write_json(args.json, result)
    return result


if __name__ == "__main__":
    main()
