"""Shared helpers for the benchmarks: child-process timing and peak RSS, tool environments, tables and JSON.

Benchmarks are not tests: they are run by hand from the repository root (``python -m benchmarks.NAME [--quick]
[--json OUT]``) and their figures are recorded in ``docs/benchmarks.md``. Every tool (ours and the comparison tools)
runs in its own child process so its wall time and peak resident set size are measured the same way: a tiny launcher
(``_launch.py``) spawns the tool and reads its ``ru_maxrss`` from ``os.wait4`` (Linux: the maximum over the tool and
every descendant it waited for). The launcher matters: an exec'd child keeps the RSS high-water mark of the process
it was forked from.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "REPO_ROOT",
    "BENCH_OUTPUT",
    "BENCH_DATA",
    "BENCH_ENVS",
    "ChildRun",
    "run_child",
    "median_run",
    "python_in_main_venv",
    "mag1c_python",
    "mag1c_command",
    "require_spectral",
    "make_parser",
    "print_table",
    "write_json",
    "machine_info",
    "repo_relative",
]

REPO_ROOT = Path(__file__).resolve().parents[1]
# Large scenes and tool environments: a git-ignored folder inside the repository (``make bench`` creates it);
# PLUMETRACE_BENCH_DATA / PLUMETRACE_BENCH_ENVS (or --data-dir) put them elsewhere.
BENCH_OUTPUT = REPO_ROOT / "bench-output"
BENCH_DATA = Path(os.environ.get("PLUMETRACE_BENCH_DATA") or BENCH_OUTPUT / "data")
BENCH_ENVS = Path(os.environ.get("PLUMETRACE_BENCH_ENVS") or BENCH_OUTPUT / "envs")

_MAG1C_SETUP = """mag1c 1.2.0 needs its own virtual environment (it uses np.int, removed in NumPy 1.24):
  python3.11 -m venv {env}
  {env}/bin/pip install numpy==1.23.5 torch==2.13.0 spectral 'scikit-image<0.23'   # torch: the CPU wheel
  {env}/bin/pip install --no-deps mag1c==1.2.0
or point PLUMETRACE_BENCH_ENVS at the folder that holds the 'mag1c' environment."""


@dataclass
class ChildRun:
    """One child process: command, wall time (s), peak RSS (bytes), exit status and captured output."""

    label: str
    command: list[str]
    wall_s: float
    peak_rss_bytes: int
    returncode: int
    stdout: str = ""
    stderr: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def peak_rss_gb(self) -> float:
        return self.peak_rss_bytes / 1e9

    def check(self) -> ChildRun:
        if self.returncode != 0:
            tail = "\n".join((self.stderr or self.stdout).strip().splitlines()[-15:])
            raise RuntimeError(f"{self.label} failed (exit {self.returncode}): {shlex.join(self.command)}\n{tail}")
        return self

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("stdout")
        out.pop("stderr")
        out["command"] = [repo_relative(c) for c in self.command]
        out["peak_rss_gb"] = self.peak_rss_gb
        return out


def run_child(
    label: str,
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    threads: int | None = None,
    sample_s: float | None = None,
) -> ChildRun:
    """Run ``command`` as a child process; return wall time and its peak RSS (child + waited-for descendants).

    ``threads`` caps the BLAS / OpenMP / torch thread pools of the child (all tools get the same cap).
    ``sample_s`` also records the RSS of the tool's process tree every ``sample_s`` seconds (psutil) in
    ``extra["rss_trace"]`` as (seconds, bytes) pairs, for plots.
    """
    child_env = dict(os.environ if env is None else env)
    # On a shared machine, OpenMP's default busy-wait (GNU libgomp spins at barriers) makes a torch tool several
    # times slower whenever other processes hold the cores (mag1c: 34 s vs 8.5 s on a 256×256 scene, load 5).
    # Passive waiting is what a fair comparison on a busy box needs; it changes no result.
    child_env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if threads is not None:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
            child_env[var] = str(threads)
    out_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"plumetrace-bench-{os.getpid()}-{time.time_ns()}"
    launcher = [sys.executable, "-S", "-I", str(Path(__file__).with_name("_launch.py"))]
    load_at_start = round(os.getloadavg()[0], 2)
    with open(f"{out_path}.out", "w+") as fout, open(f"{out_path}.err", "w+") as ferr:
        proc = subprocess.Popen(launcher + list(command), stdout=fout, stderr=ferr, env=child_env, cwd=cwd)
        trace = _sample_rss(proc, sample_s) if sample_s else []
        proc.wait()
        fout.seek(0)
        ferr.seek(0)
        stdout, stderr = fout.read(), ferr.read()
    for suffix in (".out", ".err"):
        Path(f"{out_path}{suffix}").unlink(missing_ok=True)
    lines = stderr.rstrip().splitlines()
    try:
        measured = json.loads(lines[-1])
        stderr = "\n".join(lines[:-1])
    except (IndexError, json.JSONDecodeError):
        measured = {"wall_s": float("nan"), "maxrss_kib": 0, "returncode": proc.returncode}
    # Linux reports ru_maxrss in KiB.
    return ChildRun(
        label,
        list(command),
        float(measured["wall_s"]),
        int(measured["maxrss_kib"]) * 1024,
        int(measured["returncode"]),
        stdout,
        stderr,
        extra={"load_1min_at_start": load_at_start, **({"rss_trace": trace} if sample_s else {})},
    )


def _sample_rss(proc: subprocess.Popen, interval_s: float) -> list[tuple[float, int]]:
    """RSS of the launcher's descendants (the tool and its children), sampled until the launcher exits."""
    import psutil

    trace: list[tuple[float, int]] = []
    start = time.perf_counter()
    launcher = psutil.Process(proc.pid)
    while proc.poll() is None:
        total = 0
        try:
            for child in launcher.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except psutil.Error:
                    pass
        except psutil.Error:
            break
        trace.append((time.perf_counter() - start, total))
        time.sleep(interval_s)
    return trace


def repo_relative(text: str) -> str:
    """``text`` with the repository's absolute path removed, so recorded commands name no machine path."""
    return text.replace(f"{REPO_ROOT}/", "")


def median_run(runs: Sequence[ChildRun]) -> ChildRun:
    """The run with the median wall time (peak RSS is taken as the maximum over the repeats)."""
    ordered = sorted(runs, key=lambda r: r.wall_s)
    mid = ordered[(len(ordered) - 1) // 2]
    best = ChildRun(**{**asdict(mid)})
    best.peak_rss_bytes = max(r.peak_rss_bytes for r in runs)
    best.extra = {
        **mid.extra,
        "wall_s_all": [round(r.wall_s, 3) for r in runs],
        "load_1min_at_start_all": [r.extra.get("load_1min_at_start") for r in runs],
    }
    return best


def python_in_main_venv() -> str:
    """The Python that runs plumetrace (the interpreter running the benchmark)."""
    return sys.executable


def mag1c_python() -> Path:
    """Python of the mag1c 1.2.0 environment; exit with set-up instructions when it is missing."""
    env = BENCH_ENVS / "mag1c"
    python = env / "bin" / "python"
    if not python.exists():
        sys.exit(f"mag1c environment not found at {env}.\n" + _MAG1C_SETUP.format(env=env))
    probe = subprocess.run(
        [str(python), "-c", "import mag1c, numpy, torch, spectral; print(numpy.__version__, torch.__version__)"],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        sys.exit(f"mag1c environment at {env} is broken:\n{probe.stderr.strip()}\n" + _MAG1C_SETUP.format(env=env))
    return python


def mag1c_command(
    rdn_path: Path,
    out_path: Path,
    *,
    iterations: int = 30,
    sparse: bool = True,
    window_nm: tuple[float, float] = (2122.0, 2488.0),
) -> list[str]:
    """mag1c 1.2.0 command line on an ENVI data file: defaults plus ``-s`` (float32); ``-b`` stays 1 (larger crash).

    mag1c takes the data file itself (its header is ``<data>.hdr``) and writes ``out_path`` + ``.hdr``.
    """
    exe = mag1c_python().parent / "mag1c"
    cmd = [str(exe), str(rdn_path), "--out", str(out_path), "-s", "-i", str(iterations), "-o", "-q"]
    cmd += ["--use-wavelength-range", f"{window_nm[0]:g}", f"{window_nm[1]:g}"]
    if not sparse:
        cmd.append("--no-sparsity")
    return cmd


def require_spectral() -> None:
    """Exit with a clear message when Spectral Python is not importable in the benchmark's interpreter."""
    try:
        import spectral  # noqa: F401
    except ImportError:
        sys.exit("Spectral Python is missing: pip install -e '.[bench]' (installs spectral)")


def make_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small scene, one repeat (a smoke run)")
    parser.add_argument("--json", type=Path, default=None, help="write the results as JSON to this path")
    parser.add_argument("--repeats", type=int, default=None, help="repeats per tool (median reported)")
    parser.add_argument("--data-dir", type=Path, default=BENCH_DATA, help="where scenes are written and reused")
    parser.add_argument("--threads", type=int, default=None, help="cap BLAS/torch threads of every tool")
    return parser


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "—"
        if abs(value) >= 100:
            return f"{value:.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"
    return str(value)


def print_table(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], *, title: str | None = None) -> str:
    """Print ``rows`` as a Markdown table (the same text pastes into docs/benchmarks.md); return it."""
    lines = []
    if title:
        lines.append(f"### {title}")
    lines.append("| " + " | ".join(columns) + " |")
    lines.append("|" + "|".join("---" for _ in columns) + "|")
    for row in rows:
        lines.append("| " + " | ".join(_fmt(row.get(c, "")) for c in columns) + " |")
    text = "\n".join(lines)
    print(text, flush=True)
    return text


def machine_info() -> dict[str, Any]:
    import numpy as np

    try:
        import psutil

        mem_gb = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:  # pragma: no cover
        mem_gb = None
    return {
        "cpu_count": os.cpu_count(),
        "memory_gib": mem_gb,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "date": time.strftime("%Y-%m-%d"),
        "load_average_1_5_15_at_end": [round(v, 2) for v in os.getloadavg()],
    }


def write_json(path: Path | None, payload: Mapping[str, Any]) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"machine": machine_info(), **payload}, indent=2, default=float) + "\n")
    print(f"wrote {path}")
