"""Project Prairie Grass source-term benchmark and drone-curtain mass balance.

    python -m benchmarks.prairie_grass [--quick] [--json OUT] [--data DIR] [--plot PNG]

For every run with meteorology: convert to the observation layout, invert with the source position known
(Q only) and unknown (uniform prior on a 200 m x 200 m box centred on the true source, offset at random
so the source is not at the box centre), and evaluate the forward model on arc maxima with the true Q.
Then simulated curtain flights through simulated plumes with known Q test the mass balance.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from shapely.geometry import Point

from plumetrace.insitu.dispersion import Meteorology, class_from_obukhov, plume_coupling
from plumetrace.insitu.inversion import invert_source
from plumetrace.insitu.prairie_grass import (
    ROUGHNESS_LENGTH_M,
    VERY_STABLE_RUNS,
    WIND_HEIGHT_M,
    load_prairie_grass,
    run_observations,
)
from plumetrace.io.observations import validate_observations

ROOT = Path(__file__).resolve().parents[1]

ORIGIN = (42.49, -98.57)  # O'Neill, Nebraska


def fac2(r: np.ndarray) -> float:
    r = np.asarray(r, float)
    return float(np.mean((r >= 0.5) & (r <= 2.0))) if r.size else float("nan")


def _stability(run) -> str:
    return class_from_obukhov(run.obukhov_length_m, roughness_length_m=ROUGHNESS_LENGTH_M)


def prairie_grass(folder: Path, *, quick: bool = False, seed: int = 0, runs: tuple[int, ...] | None = None) -> dict:
    """Invert every Prairie Grass run with meteorology (``quick``: every 4th run; ``runs``: only these)."""
    selected = runs
    runs = [r for r in load_prairie_grass(folder) if r.has_meteorology and (selected is None or r.run in selected)]
    if quick:
        runs = runs[::4]
    rng = np.random.default_rng(seed)
    rows = []
    t0, c0 = time.perf_counter(), time.process_time()
    for run in runs:
        obs = validate_observations(run_observations(run), origin=ORIGIN, source=f"run {run.run}")
        kw = dict(
            source_heights_m=(run.source_height_m,), wind_height_m=WIND_HEIGHT_M, roughness_length_m=ROUGHNESS_LENGTH_M
        )
        known = invert_source(obs, source_known=(0.0, 0.0), **kw)
        # prior box 200 m x 200 m containing the true source, centre offset at random by up to 50 m
        cx, cy = rng.uniform(-50, 50, 2)
        unknown = invert_source(obs, prior_box=(cx - 100, cx + 100, cy - 100, cy + 100), grid_step_m=5.0, **kw)
        # forward model ceiling: arc maxima with the true Q
        met = Meteorology(
            obs.wind_speed_m_s.to_numpy(),
            obs.wind_dir_deg.to_numpy(),
            None,
            obs.obukhov_length_m.to_numpy(),
            obs.sigma_theta_deg.to_numpy(),
            wind_height_m=WIND_HEIGHT_M,
            roughness_length_m=ROUGHNESS_LENGTH_M,
        )
        m = plume_coupling(obs[["x_m", "y_m", "z_m"]].to_numpy(), [0.0, 0.0, run.source_height_m], met)
        radius = np.hypot(obs.x_m, obs.y_m).round().to_numpy()
        conc = obs.concentration_mg_m3.to_numpy()
        arc_ratio = []
        for rad in np.unique(radius):
            sel = radius == rad
            if conc[sel].max() > 0:
                arc_ratio.append(run.release_rate_g_s * m[sel].max() / conc[sel].max())
        q = run.release_rate_g_s
        rows.append(
            dict(
                run=run.run,
                L=run.obukhov_length_m,
                stability=_stability(run),
                q_true=q,
                q_known=known.q_g_s,
                q_known_68=known.q_68_g_s,
                q_known_95=known.q_95_g_s,
                q_unknown=unknown.q_g_s,
                q_unknown_68=unknown.q_68_g_s,
                q_unknown_95=unknown.q_95_g_s,
                in68_known=bool(known.q_68_g_s[0] <= q <= known.q_68_g_s[1]),
                in95_known=bool(known.q_95_g_s[0] <= q <= known.q_95_g_s[1]),
                in68_unknown=bool(unknown.q_68_g_s[0] <= q <= unknown.q_68_g_s[1]),
                in95_unknown=bool(unknown.q_95_g_s[0] <= q <= unknown.q_95_g_s[1]),
                x=unknown.x_m,
                y=unknown.y_m,
                pos_err=float(np.hypot(unknown.x_m, unknown.y_m)),
                in_region=bool(unknown.credible_region.contains(Point(0, 0))),
                region_area_m2=float(unknown.credible_region.area),
                sigma_y_scale_known=known.sigma_y_scale,
                temper_known=known.likelihood_temper,
                arc_ratio=arc_ratio,
            )
        )
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    out = {"n_runs": len(rows), **_summary(rows), "seconds": seconds, "cpu_seconds": cpu}
    out["by_stability"] = {
        cls: {"n_runs": len(sub), **_summary(sub)}
        for cls in "ABCDEF"
        if (sub := [r for r in rows if r["stability"] == cls])
    }
    out["very_stable_runs"] = {
        "runs": list(VERY_STABLE_RUNS),
        "with_meteorology": [r["run"] for r in rows if r["run"] in VERY_STABLE_RUNS],
        "note": "runs 3, 4, 13, 14 have no L/u*/sigma-theta in the Irwin file: not invertible with the similarity "
        "scheme; the issue's 'known-problem very stable runs' cannot be evaluated from this file",
    }
    out["runs"] = [{k: v for k, v in r.items() if k != "arc_ratio"} for r in rows]
    return out


def _summary(rows: list[dict]) -> dict:
    rk = np.array([r["q_known"] / r["q_true"] for r in rows])
    ru = np.array([r["q_unknown"] / r["q_true"] for r in rows])
    arcs = np.concatenate([np.asarray(r["arc_ratio"], float) for r in rows]) if rows else np.array([])
    return {
        "fac2_known_position": fac2(rk),
        "median_ratio_known_position": float(np.median(rk)),
        "fac2_unknown_position": fac2(ru),
        "median_ratio_unknown_position": float(np.median(ru)),
        "median_position_error_m": float(np.median([r["pos_err"] for r in rows])),
        "q68_coverage_known": float(np.mean([r["in68_known"] for r in rows])),
        "q95_coverage_known": float(np.mean([r["in95_known"] for r in rows])),
        "q68_coverage_unknown": float(np.mean([r["in68_unknown"] for r in rows])),
        "q95_coverage_unknown": float(np.mean([r["in95_unknown"] for r in rows])),
        "credible_region_coverage": float(np.mean([r["in_region"] for r in rows])),
        "forward_fac2_arc_max": fac2(arcs),
        "forward_median_ratio_arc_max": float(np.median(arcs)) if arcs.size else float("nan"),
        "forward_n_arcs": int(arcs.size),
    }


def tower_check(folder: Path) -> dict:
    """Model mean plume height at 100 m vs Barad's tower profiles (Table 5.3), by Pasquill class."""
    from plumetrace.insitu.dispersion import mean_plume_height
    from plumetrace.insitu.prairie_grass import load_tower_profiles, tower_mean_height

    runs = {r.run: r for r in load_prairie_grass(folder) if r.has_meteorology}
    by: dict[str, list] = {}
    for run, prof in load_tower_profiles(folder).items():
        r = runs.get(run)
        zobs = tower_mean_height(prof)
        if r is None or not np.isfinite(zobs):
            continue
        zmod = float(
            mean_plume_height(
                100.0,
                obukhov_length_m=r.obukhov_length_m,
                roughness_length_m=ROUGHNESS_LENGTH_M,
                source_height_m=r.source_height_m,
            )
        )
        top = float(prof.iloc[-1].max() / max(prof.max().max(), 1e-12))
        by.setdefault(_stability(r), []).append((zmod / zobs, zobs, zmod, top > 0.1))
    return {
        cls: {
            "n_runs": len(v),
            "median_zbar_model_over_towers": float(np.median([x[0] for x in v])),
            "median_zbar_towers_m": float(np.median([x[1] for x in v])),
            "median_zbar_model_m": float(np.median([x[2] for x in v])),
            "n_truncated_at_17_5m": int(sum(x[3] for x in v)),
        }
        for cls, v in sorted(by.items())
    }


def simulated_calibration(*, quick: bool = False, seed: int = 0) -> dict:
    """Coverage of the 68 %/95 % Q intervals and the 95 % region on simulated surveys with known truth.

    Drone and fixed-ring surveys with random Q, wind and stability (B-E), source position unknown (default box)
    and known. Vehicle single transects are reported separately (their along-wind position is poorly constrained).
    """
    from plumetrace.simulate.observations import simulate_survey

    rng = np.random.default_rng(seed + 1)
    n = 4 if quick else 12
    out: dict = {}
    t0 = time.perf_counter()
    for kind in ("drone", "fixed", "vehicle"):
        recs = []
        for _ in range(n):
            q = float(rng.uniform(0.5, 20.0))
            src = (float(rng.uniform(-30, 30)), float(rng.uniform(-30, 30)), 2.0)
            raw, truth = simulate_survey(
                kind=kind,
                emission_rate_g_s=q,
                source_xyz_m=src,
                wind_speed_m_s=float(rng.uniform(2.5, 8.0)),
                wind_dir_deg=float(rng.uniform(0, 360)),
                stability=str(rng.choice(list("BCDE"))),
                seed=int(rng.integers(1 << 30)),
            )
            if kind == "drone":
                raw = raw.iloc[::3].reset_index(drop=True)  # 1 sample per 3 s keeps the benchmark fast
            obs = validate_observations(raw, origin=ORIGIN)
            res = invert_source(obs, source_heights_m=(2.0,), seed=int(rng.integers(1 << 30)))
            kn = invert_source(obs, source_known=src[:2], source_heights_m=(2.0,))
            recs.append(
                dict(
                    ratio=res.q_g_s / q,
                    ratio_known=kn.q_g_s / q,
                    pos_err=float(np.hypot(res.x_m - src[0], res.y_m - src[1])),
                    in68=res.q_68_g_s[0] <= q <= res.q_68_g_s[1],
                    in95=res.q_95_g_s[0] <= q <= res.q_95_g_s[1],
                    in68_known=kn.q_68_g_s[0] <= q <= kn.q_68_g_s[1],
                    in95_known=kn.q_95_g_s[0] <= q <= kn.q_95_g_s[1],
                    in_region=bool(res.credible_region.contains(Point(src[0], src[1]))),
                )
            )
        out[kind] = {
            "n": n,
            "fac2_unknown": fac2([r["ratio"] for r in recs]),
            "median_ratio_unknown": float(np.median([r["ratio"] for r in recs])),
            "median_ratio_known": float(np.median([r["ratio_known"] for r in recs])),
            "median_position_error_m": float(np.median([r["pos_err"] for r in recs])),
            **{
                k: float(np.mean([r[k] for r in recs]))
                for k in ("in68", "in95", "in68_known", "in95_known", "in_region")
            },
        }
    out["seconds"] = time.perf_counter() - t0
    return out


def mass_balance(*, quick: bool = False, seed: int = 0) -> dict:
    from plumetrace.insitu.massbalance import curtain_flux
    from plumetrace.simulate.observations import simulate_curtain

    rng = np.random.default_rng(seed)
    n = 8 if quick else 30
    errs = []
    covered = []
    t0 = time.perf_counter()
    for _ in range(n):
        q = float(rng.uniform(0.5, 20.0))
        obs, truth = simulate_curtain(
            emission_rate_g_s=q,
            distance_m=float(rng.uniform(100, 400)),
            wind_speed_m_s=float(rng.uniform(2.5, 8)),
            wind_dir_deg=float(rng.uniform(0, 360)),
            stability=str(rng.choice(list("BCD"))),
            seed=int(rng.integers(1 << 30)),
        )
        res = curtain_flux(validate_observations(obs, origin=ORIGIN))
        errs.append((res.flux_g_s - q) / q)
        covered.append(abs(res.flux_g_s - q) <= 2 * res.flux_sd_g_s)
    return {
        "massbalance_median_abs_rel_error": float(np.median(np.abs(errs))),
        "massbalance_median_rel_error": float(np.median(errs)),
        "massbalance_2sigma_coverage": float(np.mean(covered)),
        "massbalance_flights": n,
        "massbalance_seconds": time.perf_counter() - t0,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="every 4th run, fewer flights and simulated surveys")
    ap.add_argument("--json", type=Path, help="write the figures here")
    ap.add_argument("--data", type=Path, default=ROOT / "tests" / "data" / "prairie_grass")
    ap.add_argument("--plot", type=Path, help="scatter plot of estimated vs measured Q (PNG)")
    ap.add_argument("--no-simulated", action="store_true", help="skip the simulated-survey calibration")
    args = ap.parse_args(argv)
    res = prairie_grass(args.data, quick=args.quick)
    res.update(mass_balance(quick=args.quick))
    res["tower_check"] = tower_check(args.data)
    if not args.no_simulated:
        res["simulated"] = simulated_calibration(quick=args.quick)
    print(
        f"Project Prairie Grass: {res['n_runs']} runs with meteorology, {res['seconds']:.1f} s wall, "
        f"{res['cpu_seconds']:.1f} s CPU"
    )
    print(f"{'metric':38s} {'value':>9s}  target")
    for key, target in [
        ("fac2_known_position", ">= 0.90"),
        ("median_ratio_known_position", "0.8-1.25"),
        ("fac2_unknown_position", ">= 0.70"),
        ("median_ratio_unknown_position", ""),
        ("median_position_error_m", "<= 20"),
        ("q68_coverage_known", "(0.68 nominal)"),
        ("q95_coverage_known", "(0.95 nominal)"),
        ("q68_coverage_unknown", "(0.68 nominal)"),
        ("q95_coverage_unknown", "(0.95 nominal)"),
        ("credible_region_coverage", "(0.95 nominal)"),
        ("forward_fac2_arc_max", "(ceiling)"),
        ("forward_median_ratio_arc_max", "(pred/obs)"),
        ("seconds", "< 60"),
        ("cpu_seconds", ""),
        ("massbalance_median_abs_rel_error", "<= 0.20"),
        ("massbalance_2sigma_coverage", ""),
    ]:
        if key in res:
            print(f"{key:38s} {res[key]:9.3f}  {target}")
    cols = [
        ("n_runs", "runs", "d"),
        ("fac2_known_position", "FAC2 kn", ".2f"),
        ("median_ratio_known_position", "med kn", ".2f"),
        ("fac2_unknown_position", "FAC2 unk", ".2f"),
        ("median_ratio_unknown_position", "med unk", ".2f"),
        ("median_position_error_m", "pos err", ".1f"),
        ("q68_coverage_known", "cov68 kn", ".2f"),
        ("q95_coverage_known", "cov95 kn", ".2f"),
        ("q68_coverage_unknown", "cov68 unk", ".2f"),
        ("credible_region_coverage", "region95", ".2f"),
        ("forward_fac2_arc_max", "fwd FAC2", ".2f"),
        ("forward_median_ratio_arc_max", "fwd p/o", ".2f"),
    ]
    print("by Pasquill class (from L, Golder 1972):")
    print("  cls " + " ".join(f"{c[1]:>9s}" for c in cols))
    for cls, v in res["by_stability"].items():
        print(f"  {cls:3s} " + " ".join(f"{v[c[0]]:>9{c[2]}}" for c in cols))
    print(f"very stable runs {VERY_STABLE_RUNS}: {res['very_stable_runs']['note']}")
    print("mean plume height at 100 m, model vs Barad towers (Table 5.3):")
    for cls, v in res["tower_check"].items():
        print(
            f"  {cls}: model/towers {v['median_zbar_model_over_towers']:.2f} (towers {v['median_zbar_towers_m']:.1f} m, "
            f"model {v['median_zbar_model_m']:.1f} m; {v['n_runs']} runs, {v['n_truncated_at_17_5m']} truncated)"
        )
    if "simulated" in res:
        sim = res["simulated"]
        print(f"simulated surveys (position unknown unless 'known'), {sim['seconds']:.1f} s:")
        keys = [
            "fac2_unknown",
            "median_ratio_unknown",
            "median_ratio_known",
            "median_position_error_m",
            "in68",
            "in95",
            "in68_known",
            "in95_known",
            "in_region",
        ]
        print("  kind     " + " ".join(f"{k[:12]:>12s}" for k in keys))
        for kind in ("drone", "fixed", "vehicle"):
            print(f"  {kind:8s} " + " ".join(f"{sim[kind][k]:12.2f}" for k in keys))
    if args.plot:
        _plot(res, args.plot)
    if args.json:
        args.json.write_text(json.dumps(res, indent=1, default=float))
    return 0


def _plot(res: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    q = np.array([r["q_true"] for r in res["runs"]])
    fig, ax = plt.subplots(1, 2, figsize=(9, 4))
    ax[0].loglog(q, [r["q_known"] for r in res["runs"]], "o", label="position known")
    ax[0].loglog(q, [r["q_unknown"] for r in res["runs"]], "x", label="position unknown")
    lim = np.array([q.min() / 3, q.max() * 3])
    ax[0].plot(lim, lim, "k-", lim, lim * 2, "k:", lim, lim / 2, "k:")
    ax[0].set(xlabel="measured Q (g/s)", ylabel="estimated Q (g/s)", title="Prairie Grass")
    from matplotlib.ticker import NullFormatter

    ax[0].xaxis.set_minor_formatter(NullFormatter())
    ax[0].yaxis.set_minor_formatter(NullFormatter())
    ax[0].legend()
    ax[1].plot([r["x"] for r in res["runs"]], [r["y"] for r in res["runs"]], "o")
    ax[1].plot(0, 0, "r*", ms=14)
    ax[1].set(xlabel="east (m)", ylabel="north (m)", title="MAP source position (true at 0, 0)", aspect="equal")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    raise SystemExit(main())
