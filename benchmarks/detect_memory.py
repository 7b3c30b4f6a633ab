"""detect_memory: peak RSS of ``plumetrace detect`` on a ≥ 6 GB ENVI flight line (target ≤ 1.5 GB).

    python -m benchmarks.detect_memory [--quick] [--json OUT] [--data-dir DIR]

Scene: a long EMIT flight line, 4400 lines × 1242 samples × 285 bands, BIL float32 (6.2 GB), streamed to
``--data-dir`` block by block (the generator itself stays at one block in memory) and reused; ``--quick`` uses
600 lines (0.85 GB). ``plumetrace detect`` runs end to end (``--methods``, default the matched filter and the sparse
filter; default statistics; two passes over row chunks: statistics then apply) in a child process; its peak RSS is ``ru_maxrss`` (which counts file pages mapped by a memmap reader as
they are touched) and its RSS is sampled over time for the plot. The file is not pre-read into the page cache:
memory must not grow with the flight line's length whatever the cache holds.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from ._common import REPO_ROOT, make_parser, median_run, print_table, run_child, write_json
from ._scenes import stream_flight_line
from .detect_speed import WINDOW_NM, plumetrace_exe

FULL_LINES = 4400
QUICK_LINES = 600
SAMPLES = 1242
TARGET_RSS_GB = 1.5


def plot_trace(traces: dict[str, list[tuple[float, int]]], *, scene_gb: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.2), dpi=110)
    for label, trace in traces.items():
        ax.plot([t for t, _ in trace], [r / 1e9 for _, r in trace], lw=1.5, label=label)
    ax.axhline(TARGET_RSS_GB, color="tab:red", ls="--", lw=1, label=f"target {TARGET_RSS_GB} GB")
    ax.set_xlabel("time since start (s)")
    ax.set_ylabel("resident memory (GB)")
    ax.set_title(f"detect on a {scene_gb:.1f} GB ENVI flight line (dev-2core)")
    top = max((r for trace in traces.values() for _, r in trace), default=0) / 1e9
    ax.set_ylim(0, max(TARGET_RSS_GB * 1.3, top * 1.1))
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = make_parser(__doc__.splitlines()[0])
    parser.add_argument("--methods", default="mf,sparse", help="comma-separated detect methods (mf, sparse, ace)")
    parser.add_argument("--plot", type=Path, default=None, help="PNG of RSS over time (default docs/img/ when full)")
    args = parser.parse_args(argv)
    lines = QUICK_LINES if args.quick else FULL_LINES
    scene = args.data_dir / f"memory_emit_{lines}x{SAMPLES}.img"
    print(f"scene: {scene} ({lines} × {SAMPLES} × 285, BIL float32)", flush=True)

    def progress(done: int, total: int) -> None:
        if done % 512 == 0 or done == total:
            print(f"  writing {done}/{total} lines", flush=True)

    stream_flight_line(scene, lines=lines, samples=SAMPLES, sensor="emit", seed=2, progress=progress)
    scene_gb = scene.stat().st_size / 1e9
    work = Path(tempfile.mkdtemp(prefix="plumetrace-memory-"))
    repeats = args.repeats or 1
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    per_method: dict[str, Any] = {}
    traces: dict[str, list[tuple[float, int]]] = {}
    try:
        for method in methods:
            runs = []
            for rep in range(repeats):
                shutil.rmtree(work / "out", ignore_errors=True)
                cmd = [plumetrace_exe(), "detect", str(scene), "--gas", "ch4", "--method", method]
                cmd += ["--window", f"{WINDOW_NM[0]:g},{WINDOW_NM[1]:g}", "--out", str(work / "out")]
                run = run_child(f"plumetrace detect --method {method}", cmd, threads=args.threads, sample_s=0.25)
                if run.returncode != 0:
                    print(run.stderr[-3000:], file=sys.stderr)
                print(
                    f"  {method} [{rep + 1}/{repeats}] {run.wall_s:.1f} s, peak RSS {run.peak_rss_gb:.2f} GB",
                    flush=True,
                )
                runs.append(run)
            run = median_run(runs)
            ok = all(r.returncode == 0 for r in runs)
            traces[f"detect --method {method}"] = runs[0].extra.get("rss_trace", [])
            per_method[method] = {
                "wall_s": run.wall_s,
                "peak_rss_gb": run.peak_rss_gb if ok else float("nan"),
                "throughput_gb_s": scene_gb / run.wall_s if ok else float("nan"),
                "returncode": max(r.returncode for r in runs),
            }
    finally:
        shutil.rmtree(work, ignore_errors=True)

    peak = max(v["peak_rss_gb"] for v in per_method.values())
    results = {
        "scene": {"lines": lines, "samples": SAMPLES, "bands": 285, "file": scene.name},
        "scene_gb": scene_gb,
        "peak_rss_gb": peak,  # the largest over the methods run
        "methods": per_method,
        "target_peak_rss_gb": TARGET_RSS_GB,
        "met": bool(peak == peak and peak <= TARGET_RSS_GB),
    }
    print()
    print_table(
        [
            {
                "scene GB": scene_gb,
                "method": m,
                "wall s": v["wall_s"],
                "peak RSS GB": v["peak_rss_gb"],
                "GB/s": v["throughput_gb_s"],
                "target ≤ 1.5 GB": "yes" if v["peak_rss_gb"] <= TARGET_RSS_GB else "NO",
            }
            for m, v in per_method.items()
        ],
        ["scene GB", "method", "wall s", "peak RSS GB", "GB/s", "target ≤ 1.5 GB"],
        title="detect_memory",
    )
    plot = args.plot or (None if args.quick else REPO_ROOT / "docs" / "img" / "detect_memory.png")
    if plot is not None and any(traces.values()):
        plot_trace(traces, scene_gb=scene_gb, path=plot)
    write_json(args.json, results)
    return results


if __name__ == "__main__":
    main()
