"""cluster_stats: class-wise (cluster-tuned) matched-filter statistics against scene-wide and auto statistics.

    python benchmarks/cluster_stats.py [--quick] [--json OUT] [--free-scenes 6] [--cases 40] [--skill-seeds 4]

Reuses the scenes of the other benchmarks (imports their functions; nothing is copied):
* false plumes on plume-free scenes: ``quantify_skill.false_plumes`` (EMIT and AVIRIS-NG, 128², seeds 90000+);
* true plumes: ``quantify_skill.run_case`` on AVIRIS-NG cases (literature U_eff): detected, median Q̂/Q;
* retrieval noise / bias / AUPRC on the real Jasper Ridge reflectance: ``detect_skill.project_family_scenes`` and
  ``detect_skill.skill_metrics`` (mf; EMIT and AVIRIS-NG; needs ../shared/data, skipped without it).
Results are recorded in docs/detect.md ("Cluster-tuned statistics").
"""

from __future__ import annotations

import functools
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import make_parser, print_table, write_json  # noqa: E402

STATS = ("scene", "auto", "cluster")


def _with_stats(module: Any, stats: str) -> Any:
    """Make ``module.detect_scene`` use ``stats`` whatever its caller asks (returns the original to restore)."""
    original = module.detect_scene
    module.detect_scene = functools.partial(lambda scene, stats=None, _s=stats, **kw: original(scene, stats=_s, **kw))
    return original


def false_plume_rows(n_scenes: int) -> list[dict[str, Any]]:
    import quantify_skill as qs

    rows = []
    for preset in ("aviris-ng", "emit"):
        for stats in STATS:
            t0 = time.perf_counter()
            result = qs.false_plumes(preset, n_scenes, seed0=90_000, stats=stats)
            rows.append({"preset": preset, "stats": stats, **result, "wall_s": time.perf_counter() - t0})
    return rows


def true_plume_rows(n_cases: int) -> list[dict[str, Any]]:
    import quantify_skill as qs
    from plumetrace.plumes.quantify import UEFF_TABLE

    rows = []
    for stats in ("scene", "cluster"):
        original = _with_stats(qs, stats)
        try:
            rng = np.random.default_rng(1)
            cases = [qs.run_case("aviris-ng", 1000 + i, rng, {"literature": UEFF_TABLE["aviris-ng"]}) for i in range(n_cases)]
        finally:
            qs.detect_scene = original
        ratios = [c["q_lit_kg_h"] / c["q_kg_h"] for c in cases if c["detected"]]
        rows.append({"preset": "aviris-ng", "stats": stats, "cases": n_cases, "detected": len(ratios),
                     "median_q_ratio": float(np.median(ratios)) if ratios else float("nan"),
                     "other_components": int(sum(c["other_plumes"] for c in cases))})
    return rows


def jasper_rows(n_seeds: int) -> list[dict[str, Any]]:
    import detect_skill as ds
    from plumetrace.shared_data import shared_data_dir

    shared = shared_data_dir()
    if shared is None or not (Path(shared) / "swir-scenes" / "jasper-ridge").exists():
        print("note: Jasper Ridge data absent: skipped")
        return []
    rows = []
    for sensor in ("emit", "aviris-ng"):
        pooled: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {s: [] for s in STATS}
        for seed in range(2, 2 + n_seeds):
            for radiance, truth, model, geometry in ds.project_family_scenes(
                "jasper-ridge", sensor, seed=seed, shape=(200, 200), shared_data=Path(shared)
            ):
                for stats in STATS:
                    pooled[stats].append((ds.run_ours(radiance, model, "mf", geometry, stats=stats), truth))
        for stats, pairs in pooled.items():
            metrics = ds.skill_metrics(np.concatenate([r.ravel() for r, _ in pairs]), np.concatenate([t.ravel() for _, t in pairs]))
            rows.append({"family": f"jasper-ridge/{sensor}", "stats": stats, **metrics})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = make_parser(__doc__.splitlines()[0])
    parser.add_argument("--free-scenes", type=int, default=None, help="plume-free scenes per preset (default 6, quick 2)")
    parser.add_argument("--cases", type=int, default=None, help="AVIRIS-NG plume cases (default 40, quick 8)")
    parser.add_argument("--skill-seeds", type=int, default=None, help="Jasper Ridge seeds (default 4, quick 1)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    free = false_plume_rows(args.free_scenes or (2 if args.quick else 6))
    print_table(free, ["preset", "stats", "false_plumes", "area_km2", "false_plumes_per_100km2", "wall_s"],
                title="False plumes on plume-free scenes")
    cases = true_plume_rows(args.cases or (8 if args.quick else 40))
    print_table(cases, ["preset", "stats", "cases", "detected", "median_q_ratio", "other_components"], title="True plumes")
    skill = jasper_rows(args.skill_seeds or (1 if args.quick else 4))
    if skill:
        print_table(skill, ["family", "stats", "noise_ppm_m", "bias_pct_below_2000", "auprc", "far_500"],
                    title="Jasper Ridge (mf)")
    write_json(args.json, {"benchmark": "cluster_stats", "quick": args.quick, "false_plumes": free, "true_plumes": cases,
                           "jasper_ridge": skill, "wall_s": time.perf_counter() - start})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
