"""stats_choice: which matched-filter statistics (column / group / scene / cluster / auto) fit push-broom scenes.

    python benchmarks/stats_choice.py [--quick] [--json OUT] [--plot PNG] [--rows 128,200,640,1280] [--cols 64]
                                      [--presets emit,aviris-ng] [--area-rows 1280]

For each preset, scene length (rows) and instrument (ideal, or with the preset's push-broom column effects:
spectral smile + per-column gain error, ``simulate_scene(column_effects=True)``), on the same scenes for every
statistics mode:

* false plumes per 100 km²: plume-free scenes (Q = 0) through the chain and segmentation defaults of
  ``benchmarks/quantify_skill.py`` (``false_plumes``: matched filter, ``analyze_plumes`` with ``quantify_skill.PARAMS``);
  each configuration covers about ``--area-rows`` × ``--cols`` pixels (several seeds when the scenes are short);
* background noise σ (ppm·m): 1.4826 × MAD of the plume-free enhancement;
* plume bias (%): one scene with a known plume (EMIT 3000 kg/h, AVIRIS-NG 150 kg/h, wind 3 m/s) per configuration;
  mean retrieved minus true enhancement over the pixels where the truth exceeds 200 ppm·m, relative to the true mean.

Fewer columns than a real swath keep the runs affordable on 2 shared cores: the statistics choice depends on the rows
per column (the smile still spans the scene's columns edge to edge, as over a whole swath).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import make_parser, print_table, write_json  # noqa: E402

STATS = ("column", "group", "scene", "cluster", "auto")
PLUME_Q_KG_H = {"emit": 3000.0, "aviris-ng": 150.0}
TRUTH_FLOOR_PPM_M = 200.0


def _simulate(preset: str, shape: tuple[int, int], q: float, seed: int, effects: bool):
    import quantify_skill as qs

    from plumetrace.simulate.scene import simulate_scene

    return simulate_scene(sensor=preset, shape=shape, rate_kg_h=q, wind_speed_m_s=3.0, wind_dir_deg=270.0, seed=seed,
                          plume_options={"growth": qs.GROWTH}, materials=qs.MATERIALS, column_effects=effects)


def _auto_choice(detected) -> str:
    return str(detected.attrs.get("stats", "?"))


def configuration_rows(preset: str, n_rows: int, n_cols: int, effects: bool, area_rows: int, seed0: int) -> list[dict[str, Any]]:
    """One row per statistics mode for (preset, scene length, instrument)."""
    import quantify_skill as qs

    from plumetrace.detect.engine import detect_scene
    from plumetrace.plumes.pipeline import analyze_plumes
    from plumetrace.plumes.wind import Wind

    n_scenes = max(1, int(round(area_rows / n_rows)))
    acc = {s: {"false": 0, "area": 0.0, "resid": [], "wall": 0.0, "chosen": set()} for s in STATS}
    for i in range(n_scenes):
        scene, truth = _simulate(preset, (n_rows, n_cols), 0.0, seed0 + i, effects)
        area = n_rows * n_cols * truth.pixel_size_m**2 / 1e6
        for stats in STATS:
            t0 = time.perf_counter()
            detected = detect_scene(scene, stats=stats, progress=False)
            acc[stats]["wall"] += time.perf_counter() - t0
            acc[stats]["chosen"].add(_auto_choice(detected))
            result = analyze_plumes(detected, wind=Wind(3.0, 270.0, 0.9), n_samples=200, params=qs.PARAMS, csf_samples=20)
            acc[stats]["false"] += len(result.records)
            acc[stats]["area"] += area
            values = detected.enhancement.values
            acc[stats]["resid"].append(values[np.isfinite(values)])
    scene, truth = _simulate(preset, (n_rows, n_cols), PLUME_Q_KG_H[preset], seed0 + 500, effects)
    hot = truth.enhancement_ppm_m > TRUTH_FLOOR_PPM_M
    rows = []
    for stats in STATS:
        detected = detect_scene(scene, stats=stats, progress=False)
        retrieved = detected.enhancement.values[hot].astype(np.float64)
        true = truth.enhancement_ppm_m[hot]
        bias = 100.0 * (np.nanmean(retrieved) - true.mean()) / true.mean() if hot.any() else float("nan")
        resid = np.concatenate(acc[stats]["resid"])
        noise = 1.4826 * float(np.median(np.abs(resid - np.median(resid))))
        a = acc[stats]
        rows.append({
            "preset": preset, "rows": n_rows, "cols": n_cols, "column_effects": effects, "stats": stats,
            "chosen": "/".join(sorted(a["chosen"])), "scenes": n_scenes, "false_plumes": a["false"],
            "area_km2": a["area"], "false_plumes_per_100km2": 100.0 * a["false"] / a["area"],
            "noise_ppm_m": noise, "plume_bias_pct": float(bias), "plume_pixels": int(hot.sum()),
            "detect_s": a["wall"] / n_scenes,
        })
    return rows


def plot(path: Path, rows: list[dict[str, Any]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    presets = sorted({r["preset"] for r in rows})
    fig, axes = plt.subplots(2, len(presets), figsize=(5.2 * len(presets), 7.2), squeeze=False)
    colours = {"column": "C0", "group": "C1", "scene": "C2", "cluster": "C3", "auto": "k"}
    for j, preset in enumerate(presets):
        for i, (key, label) in enumerate((("false_plumes_per_100km2", "false plumes per 100 km²"),
                                          ("noise_ppm_m", "background σ (ppm·m)"))):
            ax = axes[i, j]
            for stats in STATS:
                for effects, style in ((False, ":"), (True, "-")):
                    sel = sorted((r for r in rows if r["preset"] == preset and r["stats"] == stats
                                  and r["column_effects"] == effects), key=lambda r: r["rows"])
                    if not sel:
                        continue
                    y = [max(r[key], 0.05) if key.startswith("false") else r[key] for r in sel]
                    ax.plot([r["rows"] for r in sel], y, style, marker="o", ms=3, color=colours[stats],
                            label=f"{stats}{' + columns' if effects else ''}")
            ax.set_xscale("log")
            if key.startswith("false"):
                ax.set_yscale("log")
                ax.axhline(1.0, color="grey", lw=0.8)
            ax.set_xlabel("scene rows (valid rows per column)")
            ax.set_ylabel(label)
            ax.set_title(f"{preset}: {label}", fontsize=9)
        axes[0, j].legend(fontsize=6, ncol=2)
    fig.suptitle("Statistics choice: solid = with push-broom column effects, dotted = ideal instrument", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = make_parser(__doc__.splitlines()[0])
    parser.add_argument("--rows", default=None, help="scene lengths (default 128,200,640,1280; quick 128,640)")
    parser.add_argument("--cols", type=int, default=None, help="columns per scene (default 64, quick 48)")
    parser.add_argument("--presets", default="emit,aviris-ng")
    parser.add_argument("--area-rows", type=int, default=None, help="rows × cols area per configuration (default 1280)")
    parser.add_argument("--effects", default="off,on", help="instruments: off (ideal), on (column effects)")
    parser.add_argument("--plot", type=Path, default=None, help="write the figure here")
    args = parser.parse_args(argv)
    lengths = [int(v) for v in (args.rows or ("128,640" if args.quick else "128,200,640,1280")).split(",")]
    n_cols = args.cols or (48 if args.quick else 64)
    area_rows = args.area_rows or (640 if args.quick else 1280)
    effects = [e.strip() == "on" for e in args.effects.split(",")]
    start = time.perf_counter()
    rows: list[dict[str, Any]] = []
    for preset in [p.strip() for p in args.presets.split(",") if p.strip()]:
        for n_rows in lengths:
            for on in effects:
                t0 = time.perf_counter()
                rows += configuration_rows(preset, n_rows, n_cols, on, area_rows, seed0=93_000)
                print(f"{preset} {n_rows} rows, column effects {'on' if on else 'off'}: {time.perf_counter() - t0:.1f} s",
                      flush=True)
    print_table(rows, ["preset", "rows", "column_effects", "stats", "chosen", "false_plumes", "area_km2",
                       "false_plumes_per_100km2", "noise_ppm_m", "plume_bias_pct", "detect_s"],
                title="Statistics choice")
    if args.plot:
        plot(args.plot, rows)
    import os

    write_json(args.json, {"benchmark": "stats_choice", "quick": args.quick, "cols": n_cols, "area_rows": area_rows,
                           "load_average": os.getloadavg(), "rows": rows, "wall_s": time.perf_counter() - start})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
