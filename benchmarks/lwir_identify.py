"""LWIR gas identification skill on simulated thermal-infrared scenes: which gases, how much, how often wrong.

Each scene (HyTES-like, 256 channels over 7.5-12 µm, NEdT 0.15 K; :mod:`plumetrace.simulate.lwir`) holds four
flat elliptical plumes (≈ 170 pixels each) of 1-3 gases drawn from a 13-gas NIST library (QUANT-IR: acetone,
dichloromethane, 2-propanol, 2-butanone, ethyl acetate, o- and p-xylene, chloroform, tetrachloroethene,
1,1,1-trichloroethane; Coblentz: ammonia, toluene, methanol), columns log-uniform in 10-500 ppm·m, over ground of
five emissivity classes (grey bodies, quartz and carbonate reststrahlen) with class and smooth temperature
variation. The plumes of a scene share one thermal contrast, uniform in 1-10 K in magnitude with a random sign. The
simulator convolves the high-resolution transmittance (lines saturate below the channel width); the detector fits
channel-averaged α, so that model error is part of the test. Stated assumptions of the run: the detector is given
the contrast (``contrast_k``) and the atmosphere (τ, path radiance: as a radiative-transfer model would give it).

Metrics (validation seeds 0…N−1; ``--tune`` scores the BIC penalty κ on seeds 1000…):

* ``identification_accuracy``: exact gas set (ambiguous groups of the library count as one gas), over plumes whose
  every gas lies above 3 × its noise-equivalent column (NEC: the median per-pixel 1σ of that gas's matched filter in
  the scene); target ≥ 0.9;
* ``false_identification_rate``: plume-free pixels (2 pixels away from any plume) labelled with a gas; ≤ 0.02;
  plus false plumes per scene;
* ``column_bias``: median relative error of the mean column over each plume's pixels, correctly identified
  qualifying plumes; within ±15 %;
* a gas confusion matrix, the NEC per gas (scaled to a 5 K contrast), and the same figures for a plain per-gas ACE
  with a fixed threshold (``ACE_THRESHOLD`` on the same whitened data; a gas is called in a plume when ACE passes
  in ≥ ``ACE_PLUME_FRACTION`` of its pixels).

``python -m benchmarks.lwir_identify [--quick] [--json OUT] [--tune]``
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._common import REPO_ROOT, make_parser, print_table, write_json

GASES = (
    "acetone",
    "dichloromethane",
    "2-propanol",
    "2-butanone",
    "ethyl acetate",
    "1,2-dimethylbenzene",
    "1,4-dimethylbenzene",
    "chloroform",
    "tetrachloroethene",
    "1,1,1-trichloroethane",
    "ammonia",
    "toluene",
    "methanol",
)
PLUMES_PER_SCENE = 4
SHAPE = (96, 96)
CENTRES = ((24.0, 24.0), (24.0, 72.0), (72.0, 24.0), (72.0, 72.0))
ACE_THRESHOLD = 0.1
ACE_PLUME_FRACTION = 0.2
TUNE_SEED0 = 1000
TARGETS = {"identification_accuracy": 0.9, "false_identification_rate": 0.02, "column_bias": 0.15}


def load_library():
    from plumetrace.shared_data import shared_data_dir
    from plumetrace.spectra.gas_library import load_gas_library

    root = shared_data_dir()
    if root is None:
        raise SystemExit("shared data not found: set PLUMETRACE_SHARED_DATA (needs lwir-gas-spectra-nist)")
    return load_gas_library(root / "lwir-gas-spectra-nist" / "jdx", gases=GASES, wavenumber_range_cm1=(700, 1450))


def make_scene(seed: int, library, sensor_library):
    from plumetrace.simulate.lwir import LwirPlume, LwirSceneOptions, simulate_lwir_scene

    rng = np.random.default_rng(seed)
    contrast = float(rng.uniform(1.0, 10.0) * rng.choice([-1.0, 1.0]))
    plumes = []
    for centre in CENTRES[:PLUMES_PER_SCENE]:
        n = int(rng.integers(1, 4))
        gases = tuple(str(g) for g in rng.choice(sensor_library.names, n, replace=False))
        columns = tuple(float(np.exp(rng.uniform(np.log(10.0), np.log(500.0)))) for _ in gases)
        plumes.append(LwirPlume(gases, columns, contrast, centre, (9.0, 6.0), float(rng.uniform(0, 180))))
    scene, truth = simulate_lwir_scene(LwirSceneOptions(shape=SHAPE, plumes=tuple(plumes)), library, seed=seed)
    scene = scene.assign(
        transmittance=("band", truth["transmittance"].values), path_radiance=("band", truth["path_radiance"].values)
    )
    return scene, truth, contrast


def _token(gases, groups) -> frozenset:
    out = set()
    for g in gases:
        group = next((grp for grp in groups if g in grp), None)
        out.add("/".join(group) if group else g)
    return frozenset(out)


def score_scene(result, truth, contrast: float) -> dict[str, Any]:
    """Per-plume records (ours and ACE), false-identification counts and NEC of one scene."""
    from scipy import ndimage

    names = list(result["gas"].values)
    groups = [tuple(g) for g in result.attrs["ambiguous_groups"]]
    nec = result.attrs["noise_equivalent_column_ppm_m"]
    truth_id = truth["plume_id"].values
    det_id = result["plume_id"].values
    records_by_id = {r["plume_id"]: r for r in result.attrs["identification"]}
    column = result["column_ppm_m"].values
    ace = result["ace"].values
    plumes = []
    for info in truth.attrs["plumes"]:
        mask = truth_id == info["id"]
        gases = [" ".join(g.lower().split()) for g in info["gases"]]
        overlap = det_id[mask]
        overlap = overlap[overlap > 0]
        found = records_by_id.get(int(np.bincount(overlap).argmax())) if overlap.size else None
        predicted = found["gases"] if found else []
        qualifies = all(c >= 3.0 * nec[g] for g, c in zip(gases, info["columns_ppm_m"]))
        with np.errstate(invalid="ignore"):
            ace_called = [
                names[i]
                for i in range(len(names))
                if np.mean(np.nan_to_num(ace[i][mask]) >= ACE_THRESHOLD) >= ACE_PLUME_FRACTION
            ]
        errors = {}
        if found:
            for g, c in zip(gases, info["columns_ppm_m"]):
                if g in predicted:
                    errors[g] = float(np.nanmean(column[names.index(g)][mask]) / c - 1.0)
        plumes.append(
            {
                "gases": gases,
                "columns_ppm_m": info["columns_ppm_m"],
                "contrast_k": contrast,
                "qualifies": bool(qualifies),
                "snr_min": float(min(c / nec[g] for g, c in zip(gases, info["columns_ppm_m"]))),
                "predicted": predicted,
                "confidence": found["confidence"] if found else None,
                "correct": _token(gases, groups) == _token(predicted, groups),
                "ace_predicted": ace_called,
                "ace_correct": _token(gases, groups) == _token(ace_called, groups),
                "relative_error": errors,
            }
        )
    near = ndimage.binary_dilation(truth_id >= 0, iterations=2)
    free = ~near & np.isfinite(result["surface_temperature_k"].values)
    labelled = (result["label"].values > 0) & free
    ace_any = np.any(np.nan_to_num(ace) >= ACE_THRESHOLD, axis=0) & free
    truth_ids = set(np.unique(det_id[truth_id >= 0]))
    false_plumes = sum(1 for pid in records_by_id if pid not in truth_ids)
    return {
        "plumes": plumes,
        "free_pixels": int(free.sum()),
        "false_pixels": int(labelled.sum()),
        "ace_false_pixels": int(ace_any.sum()),
        "false_plumes": int(false_plumes),
        "nec_5k": {g: float(v * abs(contrast) / 5.0) for g, v in nec.items()},
        "groups": [list(g) for g in groups],
    }


def summarise(scenes: list[dict[str, Any]], names: list[str]) -> dict[str, Any]:
    plumes = [p for s in scenes for p in s["plumes"]]
    qual = [p for p in plumes if p["qualifies"]]
    free = sum(s["free_pixels"] for s in scenes)
    errors = [e for p in qual if p["correct"] for e in p["relative_error"].values()]
    acc = float(np.mean([p["correct"] for p in qual])) if qual else float("nan")
    ace_acc = float(np.mean([p["ace_correct"] for p in qual])) if qual else float("nan")
    labels = names + ["none"]
    confusion = np.zeros((len(labels), len(labels)), dtype=int)
    for p in qual:
        truth, pred = set(p["gases"]), set(p["predicted"])
        extra = sorted(pred - truth)
        for g in truth & pred:
            confusion[labels.index(g), labels.index(g)] += 1
        for g in sorted(truth - pred):
            if extra:
                confusion[labels.index(g), labels.index(extra.pop(0))] += 1
            else:
                confusion[labels.index(g), labels.index("none")] += 1
        for h in extra:
            confusion[labels.index("none"), labels.index(h)] += 1
    nec = {g: float(np.median([s["nec_5k"][g] for s in scenes])) for g in names}
    return {
        "identification_accuracy": acc,
        "false_identification_rate": sum(s["false_pixels"] for s in scenes) / max(free, 1),
        "false_plumes_per_scene": float(np.mean([s["false_plumes"] for s in scenes])),
        "column_bias": float(np.median(errors)) if errors else float("nan"),
        "column_abs_error_median": float(np.median(np.abs(errors))) if errors else float("nan"),
        "n_plumes": len(plumes),
        "n_qualifying": len(qual),
        "accuracy_all_plumes": float(np.mean([p["correct"] for p in plumes])),
        "spurious_gas_rate": float(
            np.mean([bool(set(p["predicted"]) - set(p["gases"])) for p in plumes if p["predicted"]] or [0.0])
        ),
        "ace_identification_accuracy": ace_acc,
        "ace_false_identification_rate": sum(s["ace_false_pixels"] for s in scenes) / max(free, 1),
        "confusion_labels": labels,
        "confusion": confusion.tolist(),
        "nec_5k_ppm_m": nec,
    }


def run(seeds: list[int], *, bic_penalty: float | None = None, verbose: bool = True) -> tuple[dict, list]:
    from plumetrace.detect.lwir.engine import detect_lwir
    from plumetrace.detect.lwir.options import LwirOptions
    from plumetrace.simulate.lwir_sensors import get_lwir_sensor
    from plumetrace.spectra.gas_library import convolve_to_channels

    library = load_library()
    sensor = get_lwir_sensor("hytes")
    sensor_library = convolve_to_channels(library, sensor.wavelength_nm, sensor.fwhm_nm)
    scenes = []
    for seed in seeds:
        t0 = time.perf_counter()
        scene, truth, contrast = make_scene(seed, library, sensor_library)
        options = LwirOptions(contrast_k=contrast)
        if bic_penalty is not None:
            options = options.replace(bic_penalty=bic_penalty)
        result = detect_lwir(scene, library, options, progress=False)  # the high-resolution library: exact layer model
        scored = score_scene(result, truth, contrast)
        scored["seed"], scored["seconds"] = seed, time.perf_counter() - t0
        scenes.append(scored)
        if verbose:
            ok = sum(p["correct"] for p in scored["plumes"] if p["qualifies"])
            n = sum(p["qualifies"] for p in scored["plumes"])
            print(
                f"seed {seed}: ΔT {contrast:+.1f} K, {ok}/{n} qualifying plumes right, "
                f"{scored['false_pixels']} false px, {scored['seconds']:.0f} s",
                flush=True,
            )
    return summarise(scenes, list(sensor_library.names)), scenes


def plot(summary: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = summary["confusion_labels"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 6), gridspec_kw={"width_ratios": [1.2, 1]})
    matrix = np.array(summary["confusion"])
    ax1.imshow(np.log1p(matrix), cmap="Blues")
    ax1.set_xticks(range(len(labels)), labels, rotation=70, fontsize=7)
    ax1.set_yticks(range(len(labels)), labels, fontsize=7)
    for (i, j), v in np.ndenumerate(matrix):
        if v:
            ax1.text(j, i, str(v), ha="center", va="center", fontsize=7)
    ax1.set_xlabel("identified")
    ax1.set_ylabel("true")
    ax1.set_title("gas confusion (qualifying plumes)")
    nec = summary["nec_5k_ppm_m"]
    ax2.barh(list(nec), list(nec.values()), color="tab:orange")
    ax2.set_xscale("log")
    ax2.set_xlabel("noise-equivalent column at 5 K contrast, ppm·m (1σ per pixel)")
    ax2.tick_params(axis="y", labelsize=7)
    fig.suptitle(
        f"LWIR identification: accuracy {summary['identification_accuracy']:.2f} "
        f"(ACE {summary['ace_identification_accuracy']:.2f}), false-ID rate "
        f"{summary['false_identification_rate']:.4f}, column bias {100 * summary['column_bias']:+.1f} %"
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    parser = make_parser(__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=None, help="validation scenes (default 30, --quick 3)")
    parser.add_argument("--tune", action="store_true", help="score BIC penalties κ on the tuning seeds instead")
    args = parser.parse_args(argv)
    n = args.scenes or (3 if args.quick else 30)
    if args.tune:
        rows = []
        seeds = list(range(TUNE_SEED0, TUNE_SEED0 + (2 if args.quick else 12)))
        for kappa in (1.0, 3.0, 10.0):
            summary, _ = run(seeds, bic_penalty=kappa, verbose=False)
            keys = ("identification_accuracy", "accuracy_all_plumes", "spurious_gas_rate", "false_identification_rate")
            rows.append({"kappa": kappa, **{k: summary[k] for k in (*keys, "column_bias", "n_qualifying")}})
            print(rows[-1], flush=True)
        print_table(rows, list(rows[0]), title="BIC penalty on tuning seeds")
        write_json(args.json, {"tuning_seeds": seeds, "rows": rows})
        return 0
    t0 = time.perf_counter()
    seeds = list(range(n))
    summary, scenes = run(seeds)
    rows = []
    for key, target in TARGETS.items():
        value = summary[key]
        met = (
            abs(value) <= target
            if key == "column_bias"
            else (value >= target if key == "identification_accuracy" else value <= target)
        )
        rows.append(
            {
                "metric": key,
                "value": value,
                "target": ("±" if key == "column_bias" else ("≥ " if key == "identification_accuracy" else "≤ "))
                + f"{target:g}",
                "met": "met" if met else "missed",
            }
        )
    rows.append(
        {
            "metric": "ace_identification_accuracy (fixed-threshold ACE)",
            "value": summary["ace_identification_accuracy"],
            "target": "",
            "met": "",
        }
    )
    rows.append(
        {
            "metric": "ace_false_identification_rate",
            "value": summary["ace_false_identification_rate"],
            "target": "",
            "met": "",
        }
    )
    rows.append(
        {"metric": "false_plumes_per_scene", "value": summary["false_plumes_per_scene"], "target": "", "met": ""}
    )
    rows.append({"metric": "accuracy_all_plumes", "value": summary["accuracy_all_plumes"], "target": "", "met": ""})
    rows.append(
        {
            "metric": "spurious_gas_rate (detected plumes)",
            "value": summary["spurious_gas_rate"],
            "target": "",
            "met": "",
        }
    )
    rows.append(
        {
            "metric": "qualifying plumes / all",
            "value": f"{summary['n_qualifying']}/{summary['n_plumes']}",
            "target": "",
            "met": "",
        }
    )
    print_table(rows, ["metric", "value", "target", "met"], title=f"LWIR identification, seeds 0-{n - 1}")
    print_table(
        [{"gas": g, "nec_5k_ppm_m": v} for g, v in summary["nec_5k_ppm_m"].items()],
        ["gas", "nec_5k_ppm_m"],
        title="noise-equivalent column at 5 K",
    )
    png = (
        (REPO_ROOT / "docs" / "img" / "lwir_identify.png")
        if not args.quick
        else (REPO_ROOT / "bench-output" / "lwir_identify.png")
    )
    plot(summary, png)
    write_json(
        args.json,
        {
            "seeds": seeds,
            "tuning_seed0": TUNE_SEED0,
            "targets": rows,
            **summary,
            "scenes": scenes,
            "wall_s": time.perf_counter() - t0,
            "ace_threshold": ACE_THRESHOLD,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
