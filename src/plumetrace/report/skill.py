"""The measured skill the report quotes: a small summary of the quantify_skill benchmark (docs/benchmarks.md).

``templates/skill.json`` holds the figures the "methods and limits" section quotes (accuracy of the emission rate,
coverage of its interval, detection limit, source position error, false plumes), with the machine and date of the
run. It is generated from the benchmark's JSON and a test checks it still matches
``benchmarks/results/quantify_skill.json``::

    python -m plumetrace.report.skill benchmarks/results/quantify_skill.json src/plumetrace/report/templates/skill.json
"""

from __future__ import annotations

import json
import sys
from importlib import resources
from typing import Any

__all__ = ["load_skill", "skill_summary"]

_PRESETS = ("emit", "aviris-ng")


def skill_summary(benchmark: dict[str, Any]) -> dict[str, Any]:
    """The report's skill figures from the quantify_skill benchmark JSON (its ``presets`` and ``machine``)."""
    machine = benchmark.get("machine", {})
    out: dict[str, Any] = {
        "source": "benchmarks/results/quantify_skill.json (docs/benchmarks.md)",
        "measured": machine.get("date"),
        "machine": {
            "cpu_count": machine.get("cpu_count"),
            "memory_gib": machine.get("memory_gib"),
            "python": machine.get("python"),
            "numpy": machine.get("numpy"),
        },
        "sensors": {},
    }
    for preset in _PRESETS:
        row = benchmark["presets"][preset]
        literature = row["literature"]
        out["sensors"][preset] = {
            "n_cases": row["n_cases"],
            "n_detected": row["n_detected"],
            "median_abs_rel_error": round(literature["median_abs_rel_error"], 4),
            "frac_within_50pct": round(literature["frac_within_50pct"], 4),
            "interval68_coverage": round(literature["interval68_coverage"], 4),
            "interval68_total_coverage": round(literature["interval68_total_coverage"], 4),
            "q90_at_3m_s_kg_h": round(row["q90_at_3m_s_kg_h"], 1),
            "source_error_median_m": round(row["source_error_median_m"], 1),
            "false_plumes_per_100km2": round(row["false_plumes_per_100km2"], 1),
        }
    return out


def load_skill() -> dict[str, Any]:
    """The bundled skill summary (``report/templates/skill.json``)."""
    text = resources.files("plumetrace.report").joinpath("templates", "skill.json").read_text(encoding="utf-8")
    return json.loads(text)


if __name__ == "__main__":  # pragma: no cover - regenerates the bundled summary
    source, target = sys.argv[1:3]
    with open(source, encoding="utf-8") as handle:
        summary = skill_summary(json.load(handle))
    with open(target, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(summary, indent=1) + "\n")
