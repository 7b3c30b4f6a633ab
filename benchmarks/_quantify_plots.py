"""Figures of the quantify_skill benchmark: detection probability and accuracy, interval calibration, plume physics.

Drawn from the rows and summaries :mod:`benchmarks.quantify_skill` computes (or from its JSON, ``--replot``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np


def plot(
    path: Path, rows_by_preset: dict[str, list[dict[str, Any]]], summary: dict[str, Any], *, growth: str | None = None
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    colours = {"emit": "tab:blue", "aviris-ng": "tab:orange"}
    for preset, rows in rows_by_preset.items():
        q = np.array([r["q_kg_h"] for r in rows])
        u = np.array([r["u_m_s"] for r in rows])
        det = np.array([r["detected"] for r in rows], dtype=float)
        jitter = np.random.default_rng(0).uniform(-0.03, 0.03, det.size)
        fit = summary[preset]["pod_fit"]
        grid = np.logspace(0, 4.2, 200)
        axes[0].plot(
            grid,
            1 / (1 + np.exp(-(np.log10(grid) - fit["log10_q50"]) / fit["scale"])),
            color=colours[preset],
            label=f"{preset}: Q90 = {summary[preset]['q90_kg_h']:.0f} kg/h",
        )
        axes[0].scatter(q, det + jitter, s=10, color=colours[preset], alpha=0.6)
        grid_u = np.logspace(-0.5, 4.0, 200)
        axes[1].plot(
            grid_u,
            1 / (1 + np.exp(-(np.log10(grid_u) - fit["log10_q_over_u50"]) / fit["scale_q_over_u"])),
            color=colours[preset],
            label=f"{preset}: (Q/U)90 = {summary[preset]['q_over_u90_kg_h_per_m_s']:.0f} kg/h per m/s",
        )
        axes[1].scatter(q / u, det + jitter, s=10, color=colours[preset], alpha=0.6)
        found = [r for r in rows if r["detected"]]
        axes[2].scatter(
            [r["q_kg_h"] for r in found],
            [r["q_lit_kg_h"] for r in found],
            s=12,
            color=colours[preset],
            marker="o",
            label=f"{preset}, literature U_eff",
        )
        cal = [r for r in found if "q_calibrated_kg_h" in r]
        axes[2].scatter(
            [r["q_kg_h"] for r in cal],
            [r["q_calibrated_kg_h"] for r in cal],
            s=12,
            color=colours[preset],
            marker="x",
            label=f"{preset}, simulator-calibrated U_eff",
        )
    for ax, label in ((axes[0], "emission rate Q (kg/h)"), (axes[1], "Q / U (kg/h per m/s)")):
        ax.set_xscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel("probability of detection")
        ax.axhline(0.9, color="grey", lw=0.8, ls=":")
        ax.legend(fontsize=8)
    lims = [1, 2e4]
    axes[2].plot(lims, lims, color="k", lw=0.8)
    axes[2].fill_between(lims, [0.5, 1e4], [1.5, 3e4], color="grey", alpha=0.15, label="±50 %")
    axes[2].set_xscale("log")
    axes[2].set_yscale("log")
    axes[2].set_xlim(lims)
    axes[2].set_ylim(lims)
    axes[2].set_xlabel("true Q (kg/h)")
    axes[2].set_ylabel("estimated Q, wind known (kg/h)")
    axes[2].legend(fontsize=7)
    fig.suptitle(f"plumetrace quantify_skill: puff-model plumes (growth={growth or 'inertial'}), end to end")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


def plot_intervals(path: Path, calibration_json: Path, validation_json: Path) -> None:
    """Left: the calibration scores (smallest random σ that makes each calibration row's interval hold its truth),
    empirical CDF per preset, with the calibrated σ at 68 %. Right: where each validation truth falls in its random
    68 % interval, ln(Q / centre) / (log half-width) with centre = sqrt(p16 · p84): inside means |t| ≤ 1."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cal = json.loads(calibration_json.read_text())["presets"]
    val = json.loads(validation_json.read_text())
    colours = {"emit": "tab:blue", "aviris-ng": "tab:orange"}
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    for preset, c in cal.items():
        scores = np.sort(np.minimum(np.asarray(c["sigma_needed"], dtype=float), 2.0))
        axes[0].step(
            scores,
            np.arange(1, scores.size + 1) / scores.size,
            where="post",
            color=colours.get(preset),
            label=f"{preset}: σ = {c['random_rel_sigma']:.3f} ({c['n_plumes']} plumes × {c['wind_redraws']} winds)",
        )
        axes[0].axvline(c["random_rel_sigma"], color=colours.get(preset), ls=":", lw=1)
    axes[0].axhline(0.68, color="grey", lw=0.8, ls="--")
    axes[0].set_xlim(0, 1.2)
    axes[0].set_xlabel("smallest random structural σ whose 68 % interval holds the truth")
    axes[0].set_ylabel("fraction of calibration rows")
    axes[0].set_title("calibration (seeds 50000+)", fontsize=9)
    axes[0].legend(fontsize=8)
    bins = np.linspace(-4, 4, 33)
    for preset, rows in val["cases"].items():
        t = []
        for r in rows:
            if r.get("detected") and r.get("p16_literature", 0) > 0 and r.get("p84_literature", 0) > 0:
                centre = math.sqrt(r["p16_literature"] * r["p84_literature"])
                half = 0.5 * math.log(r["p84_literature"] / r["p16_literature"])
                t.append(math.log(r["q_kg_h"] / centre) / half)
        t = np.clip(np.asarray(t), -3.99, 3.99)
        cov = val["presets"][preset]["literature"]
        axes[1].hist(
            t,
            bins=bins,
            histtype="step",
            lw=1.5,
            color=colours.get(preset),
            label=f"{preset}: {cov['interval68_coverage']:.1%} inside "
            f"({cov['truth_above_interval']:.0%} above / {cov['truth_below_interval']:.0%} below)",
        )
    for x in (-1, 1):
        axes[1].axvline(x, color="grey", lw=0.8, ls="--")
    axes[1].set_xlabel("ln(true Q / interval centre) / ln half-width  (|t| ≤ 1: inside)")
    axes[1].set_ylabel("validation plumes")
    axes[1].set_title("validation (seeds 1000-1199), wind given ±30 %", fontsize=9)
    axes[1].legend(fontsize=8)
    fig.suptitle("plumetrace quantify_skill: random 68 % interval, calibrated then validated (dev-2core, 2026-11-21)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    print(f"wrote {path}")


def plot_physics(path: Path, *, wind_speed_m_s: float = 3.0, seed: int = 3) -> None:
    """The centroid processes of growth="gifford" and "inertial": structure functions and one AVIRIS-NG snapshot each.

    Left: D(Δ)/2 = 1 − ρ(Δ) against the release lag Δ / T_L, analytic (lines) and measured over 100 seeds of
    ``simulate_plume`` (points). Middle, right: the same plume (5 m pixels, seed ``seed``) under both processes.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from plumetrace.simulate.plumes import (
        DEFAULT_BOUNDARY_LAYER,
        boundary_layer_turbulence,
        centroid_structure_function,
        inertial_time_scales,
        simulate_plume,
    )

    t_l = boundary_layer_turbulence(DEFAULT_BOUNDARY_LAYER, wind_speed_m_s).lagrangian_time_v_s
    straight = dict(direction_std_deg=0.0, speed_std_frac=0.0, turbulent_jitter=0.0)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4))
    lags = np.arange(1, 200)
    for growth, colour in (("gifford", "tab:blue"), ("inertial", "tab:orange")):
        etas, dt = [], None
        for s in range(100):
            truth = simulate_plume(10.0, wind_speed_m_s, 270.0, 5.0, (8, 96), seed=s, growth=growth, **straight)
            etas.append(truth.puffs["centroid_dy_m"] / truth.puffs["centroid_sigma_m"])
            dt = float(np.median(np.diff(truth.puffs["age_s"][::-1])))
        eta = np.asarray(etas)
        measured = [0.5 * float(np.mean((eta[:, k:] - eta[:, :-k]) ** 2)) for k in lags]
        if growth == "gifford":
            analytic = 1.0 - np.exp(-lags * dt / t_l)
        else:
            tau, weights = inertial_time_scales(dt, t_l)
            analytic = 0.5 * centroid_structure_function(lags * dt, tau, weights)
        axes[0].loglog(lags * dt / t_l, analytic, color=colour, label=f"{growth} (analytic)")
        axes[0].loglog(lags[::6] * dt / t_l, measured[::6], "o", ms=3, color=colour, label=f"{growth} (100 seeds)")
    x = np.array([3e-3, 0.3])
    axes[0].loglog(x, 0.9 * x ** (2 / 3), "k:", lw=1, label="∝ Δ^(2/3)")
    axes[0].loglog(x, 0.9 * x, "k--", lw=1, label="∝ Δ")
    axes[0].set_xlabel("release lag Δ / T_L")
    axes[0].set_ylabel("(1/2) structure function of the unit centroid process")
    axes[0].legend(fontsize=7)
    for ax, growth in zip(axes[1:], ("gifford", "inertial")):
        truth = simulate_plume(100.0, wind_speed_m_s, 270.0, 5.0, (96, 96), seed=seed, growth=growth)
        image = ax.imshow(
            truth.enhancement_ppm_m, cmap="viridis", vmin=0, vmax=float(np.percentile(truth.enhancement_ppm_m, 99.5))
        )
        ax.set_title(f'growth="{growth}": 100 kg/h, U = {wind_speed_m_s:g} m/s, 5 m pixels (seed {seed})', fontsize=9)
        fig.colorbar(image, ax=ax, label="ppm·m")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    print(f"wrote {path}")
