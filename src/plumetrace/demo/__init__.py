"""The demo: each stage adds one step that runs on the bundled example and reports result vs truth.

A step is ``step(ctx) -> list of (stage, quantity, result, truth)`` rows; steps share ``ctx.products``
(e.g. the simulated scene path) so later stages read what earlier ones wrote. The whole demo must stay
under 2 minutes on a 2-core machine.
"""

from __future__ import annotations

import importlib
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


# (name, "module:function"), in order: detect reads the simulated scene, plumes read the detection products.
# Imported only when the demo runs, so `plumetrace --help` stays fast.
_STEP_TARGETS = (
    ("simulate", "plumetrace.demo.simulate:demo_step"),
    ("detect", "plumetrace.demo.detect:demo_step"),
    ("plumes", "plumetrace.demo.plumes:demo_step"),
    ("plan", "plumetrace.demo.plan:demo_step"),
    ("invert", "plumetrace.demo.invert:demo_step"),
    ("lwir", "plumetrace.demo.lwir:demo_step"),
    ("campaign", "plumetrace.demo.campaign:demo_step"),
    ("report", "plumetrace.demo.report:demo_step"),
)


def _steps() -> list[tuple[str, Callable[[DemoContext], list[Row]]]]:
    steps = []
    for name, target in _STEP_TARGETS:
        module_name, function_name = target.split(":")
        steps.append((name, getattr(importlib.import_module(module_name), function_name)))
    return steps


DEMO_STEPS = _steps


def run_demo(out_dir: str | Path, *, seed: int = 7, overwrite: bool = False, quiet: bool = False) -> list[Row]:
    """Run every demo step in order; return the result-vs-truth rows.

    ``out_dir`` follows the rule of every ``--out`` (:mod:`plumetrace.io.staging`): the steps write into one
    staging folder that replaces ``out_dir`` whole when the last step has finished, so an interrupted or failed
    demo leaves ``out_dir`` as it was.
    """
    from plumetrace.io.staging import staged_output

    console = Console(stderr=True, quiet=quiet)
    rows: list[Row] = []
    with staged_output(out_dir, overwrite=overwrite) as stage:
        ctx = DemoContext(out_dir=stage, seed=seed)
        for name, step in DEMO_STEPS():
            start = time.perf_counter()
            console.print(f"[bold]demo[/] {name} ...")
            rows.extend(step(ctx))
            console.print(f"[bold]demo[/] {name} done in {time.perf_counter() - start:.1f} s")
    return rows
