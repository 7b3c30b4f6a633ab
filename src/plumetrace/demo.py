"""The demo: each stage adds one step that runs on the bundled example and reports result vs truth.

A step is ``step(ctx) -> list of (stage, quantity, result, truth)`` rows; steps share ``ctx.products``
(e.g. the simulated scene path) so later stages read what earlier ones wrote. The whole demo must stay
under 2 minutes on a 2-core machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

__all__ = ["DemoContext", "DEMO_STEPS", "run_demo"]

Row = tuple[str, str, str, str]


@dataclass
class DemoContext:
    out_dir: Path
    seed: int
    products: dict[str, Any] = field(default_factory=dict)


def _steps() -> list[tuple[str, Callable[[DemoContext], list[Row]]]]:
    # Imported lazily so `plumetrace --help` stays fast.
    steps: list[tuple[str, Callable[[DemoContext], list[Row]]]] = []
    from plumetrace.simulate.products import demo_step as simulate_step; steps.append(("simulate", simulate_step))  # noqa: E702  (first: later steps read its scene)
    from plumetrace.detect.demo_step import demo_step as detect_step; steps.append(("detect", detect_step))  # noqa: E702  (needs the simulate step)
    from plumetrace.plan.demo import demo_step as plan_step; steps.append(("plan", plan_step))  # noqa: E702
    from plumetrace.plumes.demo_step import demo_step as plumes_step; steps.append(("plumes", plumes_step))  # noqa: E702  (needs the detect step before it)
    from plumetrace.insitu.demo_step import demo_step as invert_step; steps.append(("invert", invert_step))  # noqa: E702
    return steps


DEMO_STEPS = _steps


def run_demo(out_dir: str | Path, *, seed: int = 7) -> list[Row]:
    """Run every demo step in order; return the result-vs-truth rows."""
    ctx = DemoContext(out_dir=Path(out_dir), seed=seed)
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    console = Console(stderr=True)
    rows: list[Row] = []
    for name, step in DEMO_STEPS():
        start = time.perf_counter()
        console.print(f"[bold]demo[/] {name} ...")
        rows.extend(step(ctx))
        console.print(f"[bold]demo[/] {name} done in {time.perf_counter() - start:.1f} s")
    return rows
