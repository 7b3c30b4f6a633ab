"""Demo step: `plumetrace run` over a small simulated campaign; the sites found against the true ones.

The campaign (:data:`plumetrace.simulate.campaign.DEMO_CAMPAIGN`, seeded by the demo's seed): 3 sites on 3 dates,
one EMIT and one AVIRIS-NG scene a date, one false-alarm-prone scene, one drone log, wind from a gridded ERA5-layout
file. It is simulated into ``<out>/campaign/inputs`` and run by the runner's library function
(:func:`plumetrace.campaign.runner.run_campaign`, local Dask cluster) into ``<out>/campaign/run``.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import time
from pathlib import Path
from typing import Any

__all__ = ["demo_step", "read_run_results"]

Row = tuple[str, str, str, str]


def read_run_results(run_dir: str | Path) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """The sites of a run folder (rows of ``sites/sites.csv``) and each scene's detection limit (kg/h).

    Detection limits come from ``scenes/<id>/plumes/footprint.geojson`` (docs/run.md); scenes without one are left
    out of the mapping.
    """
    run_dir = Path(run_dir)
    sites_csv = run_dir / "sites" / "sites.csv"
    found: list[dict[str, Any]] = []
    if sites_csv.is_file():
        with sites_csv.open(newline="", encoding="utf-8") as handle:
            found = list(csv.DictReader(row for row in handle if not row.startswith("#")))
    limits: dict[str, float] = {}
    for footprint in sorted((run_dir / "scenes").glob("*/plumes/footprint.geojson")):
        try:
            props = json.loads(footprint.read_text())["properties"]
            value = float(props["detection_limit_kg_h"])
        except (KeyError, TypeError, ValueError):
            continue
        if math.isfinite(value):
            limits[footprint.parent.parent.name] = value
    return found, limits


def _run(config_path: Path, run_dir: Path) -> Any:
    try:
        from plumetrace.campaign import load_config, run_campaign
    except ImportError:
        from plumetrace.campaign.config import load_config
        from plumetrace.campaign.runner import run_campaign
    return run_campaign(load_config(config_path), run_dir, progress=False)


def _fmt(value: Any, spec: str, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:{spec}}{unit}"


def demo_step(ctx: Any) -> list[Row]:
    """Simulate the demo campaign, run it, and compare the sites found with the true sites.

    Puts ``campaign_truth`` (the truth document), ``campaign_run`` (the run folder) and ``campaign_score`` in
    ``ctx.products``.
    """
    from plumetrace.simulate.campaign import DEMO_CAMPAIGN, write_campaign
    from plumetrace.simulate.campaign_score import DEFAULT_MIN_CONFIDENCE, score_sites

    root = Path(ctx.out_dir) / "campaign"
    inputs = root / "inputs"
    start = time.perf_counter()
    truth = write_campaign(inputs, dataclasses.replace(DEMO_CAMPAIGN, seed=int(ctx.seed)), progress=False)
    simulated_s = time.perf_counter() - start
    start = time.perf_counter()
    summary = _run(inputs / "campaign.yaml", root / "run")
    run_s = time.perf_counter() - start
    found, limits = read_run_results(root / "run")
    score = score_sites(truth, found, detection_limits=limits, min_confidence=DEFAULT_MIN_CONFIDENCE)
    ctx.products.update(campaign_truth=truth, campaign_run=root / "run", campaign_score=score)

    scenes = truth["scenes"]
    n_emit = sum(s["sensor"] == "emit" for s in scenes)
    failed = [e for e in getattr(summary, "inputs", []) if e.get("status") == "failed"]
    rows: list[Row] = [
        (
            "campaign",
            f"inputs (simulated in {simulated_s:.0f} s, run in {run_s:.0f} s)",
            f"{n_emit} EMIT + {len(scenes) - n_emit} AVIRIS-NG scenes, {len(truth['logs'])} drone log, "
            f"{truth['options']['n_dates']} dates, gridded wind; {len(failed)} failed",
            "-",
        ),
        (
            "campaign",
            f"sites found, confidence ≥ {DEFAULT_MIN_CONFIDENCE:g} (detectable sites)",
            f"{score['n_found']} (+{score['n_below_confidence']} candidates below)",
            f"{score['n_detectable']} of {score['n_true']}",
        ),
    ]
    sites_status = getattr(summary, "sites", {}) or {}
    if sites_status.get("status") == "failed":
        error = str(sites_status.get("error")).replace(str(root / "run") + "/", "")
        rows.append(("campaign", "sites stage", f"failed: {error}", "done"))
    for site in score["sites"]:
        label = f"{site['site_id']} {site['kind']} {site['rate_kg_h']:g} kg/h: position error, rate, persistence"
        truth_text = f"0 m, {site['rate_kg_h']:g} kg/h, on {_fmt(site['true_persistence'], '.2f')}"
        if site["found_id"] is None:
            rows.append(
                ("campaign", label, "not found" + ("" if site["detectable"] else " (below limits)"), truth_text)
            )
            continue
        rows.append(
            (
                "campaign",
                label,
                f"{_fmt(site['position_error_m'], '.0f', ' m')}, {_fmt(site['rate_kg_h_found'], '.0f', ' kg/h')} "
                f"(x{_fmt(site['rate_ratio'], '.2f')}), P {_fmt(site['persistence'], '.2f')}",
                truth_text,
            )
        )
    rows.append(("campaign", "false sites (false-alarm-prone scene included)", str(len(score["false_sites"])), "0"))
    return rows
