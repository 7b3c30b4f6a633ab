"""quantify_skill: detection probability, emission-rate accuracy and calibrated uncertainty, end to end.

    python -m benchmarks.quantify_skill [--quick] [--json OUT] [--presets emit,aviris-ng] [--plot docs/img/quantify_skill.png]
    python -m benchmarks.quantify_skill --calibrate-sigma --calibration-cases 60 --json OUT   # calibration seeds only
    python -m benchmarks.quantify_skill --cross-family-only --quick --json OUT                # puff <-> Gaussian family

For each sensor preset, plumes from the simulator's turbulent puff model (``plumetrace.simulate.plumes``: meandering
wind, puffs growing by relative dispersion about centres that wander (Gifford 1982) with an inertial-range (2/3-law)
structure between puffs, so that the ensemble spreads with travel TIME by Taylor's theory in a midday convective
boundary layer; NOT the steady Gaussian plume; ``--growth gifford`` moves the puff centres with one OU process,
``--growth taylor`` grows puffs with time only, ``--growth briggs`` with distance) with known rate Q (log-uniform) and wind
U (uniform 1-8 m/s, random direction) are rendered to radiance with instrument noise
(``plumetrace.simulate.scene.simulate_scene``), retrieved by the detection engine
(``plumetrace.detect.engine.detect_scene``, matched filter, scene statistics: the scenes are small crops around each
plume) and passed to ``plumetrace.plumes.pipeline.analyze_plumes`` with default segmentation.

* Detection: a plume is detected when a segmented component reaches within 3 pixels of the true source. The
  probability of detection (POD) is fitted with a logistic curve in log10(Q) and in log10(Q/U) (maximum likelihood);
  ``q90_kg_h`` is the rate at 90 % POD over the wind mix and ``q90_at_3m_s_kg_h`` = 3 m/s × (Q/U) at 90 %.
* Quantification, wind known (the true U, σ_U = 0): median |Q̂/Q − 1| and the fraction within ±50 %, over detected
  plumes, with (a) the literature U_eff table (:data:`plumetrace.plumes.quantify.UEFF_TABLE`, the default of
  ``plumetrace plumes``) and (b) U_eff fitted on an independent calibration set of simulated plumes (different
  seeds, same pipeline; :func:`plumetrace.plumes.quantify.fit_ueff`) - the way Varon et al. (2018) calibrate on LES.
* Calibration of the uncertainty: the wind given to the pipeline is U·(1 + 0.3 ε), ε ~ N(0, 1), with σ_U = 30 % of
  the given speed, and direction θ + 15° ε', σ_θ = 15°; ``interval68_coverage`` is the fraction of detected plumes
  whose reported 16-84 % interval contains the true Q (target 60-76 %); the CSF's own interval (wind speed and
  direction drawn) is scored the same way.
* ``--calibrate-sigma``: the random structural σ of each preset's U_eff row
  (:func:`plumetrace.plumes.quantify.calibrate_random_sigma`) on the calibration seeds 50000+ only, each detected
  plume with 20 wind errors drawn as in validation, and the diagnosis of the interval construction (old normal wind
  draws vs the relative-error posterior; the estimate's bias) on the same plumes. Its output is the committed
  ``CALIBRATED_RANDOM_REL_SIGMA``; the total interval (random ⊕ systematic) is scored beside the random one.
  The same run calibrates the CSF's random structural σ (``CALIBRATED_CSF_RANDOM_REL_SIGMA``) on the same rows, the
  wind direction drawn too (θ + 15° ε'), by the same rule (:func:`plumetrace.plumes.quantify.calibrate_sigma_from_draws`
  on the draws of :func:`plumetrace.plumes.quantify.csf_draws`); validation scores the CSF's random and total
  intervals the way it scores the IME's.
* Cross-family validation (``cross_family``; ``--cross-family-only`` alone, ``--no-cross-family`` skips it): the
  same chain on a structurally different family, the steady Gaussian plume
  (``plumetrace.simulate.gaussian_plume``: Briggs rural σ_y(x), wind at plume height, centreline meander) with
  Pasquill's daytime class for the wind and a random insolation and the source anywhere in the middle 70 % of the
  scene (plumes cut by the edge). U_eff (a, b) and the random structural σ are fitted on each family's calibration
  plumes (seeds 50000+) and validated on each family (seeds 1000+): the rows calibrated on one family and
  validated on the other, per preset, with the wind-known accuracy, the random 68 % coverage (wind ±30 %) and the
  false sources per true plume (records whose source is > ``FALSE_SOURCE_PX`` = 5 pixels from the true source).
  ``--family gaussian`` runs the main benchmark on the Gaussian family.
* False plumes: plume-free scenes (Q = 0) of the same preset through the same chain; every segmented component is
  false; ``false_plumes_per_100km2`` = count / area × 100.

Sizes: EMIT 96 × 96 pixels (5.8 km), AVIRIS-NG 96 × 96 (0.48 km); plume-free scenes 128 × 128. Q ranges: EMIT
30-10,000 kg/h; AVIRIS-NG 3-1,000 kg/h (above ~1,000 kg/h at 5 m the columns exceed 50,000 ppm·m and the linear
matched filter saturates; see docs/benchmarks.md).
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from plumetrace.detect.engine import detect_scene
from plumetrace.plumes.pipeline import analyze_plumes, plume_crop
from plumetrace.plumes.quantify import (
    UEFF_TABLE,
    UeffCalibration,
    calibrate_random_sigma,
    calibrate_sigma_from_draws,
    csf_draws,
    fit_ueff,
    monte_carlo_rate,
)
from plumetrace.plumes.segment import DEFAULT_SEGMENT_PARAMS, SegmentParams
from plumetrace.plumes.wind import Wind
from plumetrace.simulate.scene import simulate_scene

from ._common import make_parser, print_table, write_json
from ._quantify_plots import plot, plot_intervals, plot_physics

PRESETS: dict[str, dict[str, Any]] = {
    "emit": {"shape": (96, 96), "q_range": (30.0, 10_000.0), "free_shape": (128, 128)},
    "aviris-ng": {"shape": (96, 96), "q_range": (3.0, 1_000.0), "free_shape": (128, 128)},
}
MATCH_PX = 3.0
PARAMS: SegmentParams = DEFAULT_SEGMENT_PARAMS  # set from --min-peak-sigma / --high-sigma
WIND_REL_ERROR = 0.3
WIND_DIR_ERROR_DEG = 15.0
GROWTH = "inertial"  # puff growth law of the simulator (--growth)
FAMILY = "puff"  # plume family of the main run (--family): the puff model or the steady Gaussian plume
FAMILIES = ("puff", "gaussian")
FALSE_SOURCE_PX = 5.0  # a plume record whose source lies farther than this from the true source is a false source
# Pasquill's daytime classes from the 10 m wind and the insolation (strong, moderate, slight; Turner 1970, Workbook of
# Atmospheric Dispersion Estimates, Table 1): upper wind limits in m/s; "AB" is drawn as A or B with equal odds.
PASQUILL_DAYTIME = ((2.0, ("A", "AB", "B")), (3.0, ("AB", "B", "C")), (5.0, ("B", "BC", "C")), (6.0, ("C", "CD", "D")))
PASQUILL_DAYTIME_ABOVE = ("C", "D", "D")
MATERIALS: tuple[str, ...] | None = None  # procedural background materials (--materials; None: all)
# a single structural sigma per row (random and systematic in one), the construction the --calibrate-sigma diagnosis
# compares against
PRIOR_STRUCTURAL_SIGMA = {"emit": 0.15, "aviris-ng": 0.40}


def _case_parameters(rng: np.random.Generator, q_range: tuple[float, float]) -> tuple[float, float, float]:
    q = float(10 ** rng.uniform(math.log10(q_range[0]), math.log10(q_range[1])))
    return q, float(rng.uniform(1.0, 8.0)), float(rng.uniform(0.0, 360.0))


def gaussian_case(seed: int, u: float, shape: tuple[int, int]) -> tuple[str, tuple[float, float]]:
    """Stability class and source position of a Gaussian-family plume, from their own stream (``[seed, 17]``).

    The class is Pasquill's daytime class for the wind ``u`` under an insolation drawn uniformly from strong,
    moderate and slight (:data:`PASQUILL_DAYTIME`; overpasses are by day); the source lies anywhere in the middle
    70 % of each axis, so that many plumes run out of the scene after a short path (cut by the edge).
    """
    rng = np.random.default_rng([seed, 17])
    column = next((c for limit, c in PASQUILL_DAYTIME if u < limit), PASQUILL_DAYTIME_ABOVE)
    cls = column[int(rng.integers(3))]
    cls = cls[int(rng.integers(len(cls)))]
    row, col = rng.uniform(0.15, 0.85, 2) * (np.asarray(shape) - 1)
    return cls, (float(row), float(col))


def _retrieve(
    preset: str,
    shape: tuple[int, int],
    q: float,
    u: float,
    direction: float,
    seed: int,
    *,
    stats: str = "scene",
    albedo_correct: bool = False,
    family: str | None = None,
):
    family = family or FAMILY
    source_yx = None
    options: dict[str, Any] = {"growth": GROWTH}
    if family == "gaussian":
        cls, source_yx = gaussian_case(seed, u, shape)
        options = {"family": "gaussian", "stability_class": cls}
    scene, truth = simulate_scene(
        sensor=preset,
        shape=shape,
        rate_kg_h=q,
        wind_speed_m_s=u,
        wind_dir_deg=direction,
        seed=seed,
        source_yx=source_yx,
        plume_options=options,
        materials=MATERIALS,
    )
    options = {"albedo_correct": True} if albedo_correct else {}
    return detect_scene(scene, stats=stats, progress=False, **options), truth


def _match(result, truth) -> dict[str, Any] | None:
    """The segmented plume nearest the true source (within MATCH_PX pixels of any of its pixels), or None."""
    sy, sx = truth.source_yx
    labels = result.labels.values
    best = None
    for record in result.records:
        rows, cols = np.nonzero(labels == record["plume_id"])
        distance = float(np.min(np.hypot(rows - sy, cols - sx)))
        if distance <= MATCH_PX and (best is None or record["ime_kg"] > best["ime_kg"]):
            best = record
    return best


def false_sources(
    records: list[dict[str, Any]], truth, labels: np.ndarray | None = None, sigma_ppm_m: float = 0.0
) -> int:
    """Plume records lying on the true plume whose source is more than :data:`FALSE_SOURCE_PX` pixels from the true one.

    A record lies on the true plume when the mean true column under its mask is at least half the map's median 1σ
    (``labels`` and ``sigma_ppm_m`` given); without them every record counts. Records on plume-free ground are false
    plumes, counted apart (``other_plumes``, false plumes per 100 km²): a false *source* is a piece of a real plume
    reported with a source of its own.
    """
    sy, sx = truth.source_yx
    count = 0
    for r in records:
        if math.hypot(r["source_row"] - sy, r["source_col"] - sx) <= FALSE_SOURCE_PX:
            continue
        if labels is not None:
            on_plume = float(np.mean(truth.enhancement_ppm_m[labels == r["plume_id"]])) >= 0.5 * sigma_ppm_m
            if not on_plume:
                continue
        count += 1
    return count


def run_case(
    preset: str,
    seed: int,
    rng: np.random.Generator,
    calibrations: dict[str, UeffCalibration],
    *,
    family: str | None = None,
) -> dict[str, Any]:
    cfg = PRESETS[preset]
    q, u, direction = _case_parameters(rng, cfg["q_range"])
    wind_error = float(rng.normal())
    dir_error = float(np.random.default_rng([seed, 7]).normal())  # own stream: the case draws do not depend on it
    detected, truth = _retrieve(preset, cfg["shape"], q, u, direction, seed, family=family)
    row: dict[str, Any] = {"preset": preset, "seed": seed, "q_kg_h": q, "u_m_s": u, "dir_deg": direction}
    row.update(family=family or FAMILY, stability_class=truth.stability_class)
    known = Wind(u, direction, 0.0, direction_sigma_deg=0.0)
    result = analyze_plumes(detected, wind=known, n_samples=400, params=PARAMS, csf_samples=20)
    match = _match(result, truth)
    row["detected"] = match is not None
    row["other_plumes"] = len(result.records) - (1 if match else 0)
    sigma = float(np.nanmedian(detected["uncertainty"].values))
    row["false_sources"] = false_sources(result.records, truth, result.labels.values, sigma)
    if match is None:
        return row
    pixel = match["pixel_size_m"]
    row.update(
        ime_kg=match["ime_kg"],
        length_m=match["length_m"],
        q_lit_kg_h=match["emission_rate_kg_h"],
        q_csf_kg_h=match["emission_rate_csf_kg_h"],
        source_error_m=math.hypot(match["source_row"] - truth.source_yx[0], match["source_col"] - truth.source_yx[1])
        * pixel,
        source_sigma_m=match["source_sigma_m"],
        ime_sigma_kg=match["ime_sigma_kg"],
        peak_significance_sigma=match["peak_significance_sigma"],
        near_detection_limit=match["near_detection_limit"],
    )
    given = max(u * (1.0 + WIND_REL_ERROR * wind_error), 0.2)
    given_dir = (direction + WIND_DIR_ERROR_DEG * dir_error) % 360.0
    noisy_wind = Wind(given, given_dir, WIND_REL_ERROR * given, direction_sigma_deg=WIND_DIR_ERROR_DEG)
    for name, cal in calibrations.items():
        res = analyze_plumes(
            detected,
            wind=noisy_wind,
            calibration=cal,
            n_samples=2000,
            seed=seed,
            params=PARAMS,
            csf_samples=200 if name == "literature" else 20,
        )
        m = _match(res, truth)
        if m is None:
            continue
        row[f"p16_{name}"] = m["emission_rate_p16_kg_h"]
        row[f"p84_{name}"] = m["emission_rate_p84_kg_h"]
        if name == "literature":
            row["p16_csf"] = m["emission_rate_csf_p16_kg_h"]
            row["p84_csf"] = m["emission_rate_csf_p84_kg_h"]
            row["p16_csf_total"] = m["emission_rate_csf_total_p16_kg_h"]
            row["p84_csf_total"] = m["emission_rate_csf_total_p84_kg_h"]
            row["sigma_csf"] = m["emission_rate_csf_sigma_kg_h"]
            row["sigma_csf_systematic"] = m["emission_rate_csf_sigma_systematic_kg_h"]
            row["p16_total_literature"] = m["emission_rate_total_p16_kg_h"]
            row["p84_total_literature"] = m["emission_rate_total_p84_kg_h"]
            row["sigma_literature"] = m["emission_rate_sigma_kg_h"]
            row["sigma_systematic_literature"] = m["emission_rate_sigma_systematic_kg_h"]
            row["sigma_total_literature"] = m["emission_rate_sigma_total_kg_h"]
        if name != "literature":
            row[f"q_{name}_kg_h"] = 3600.0 * (cal.a * u + cal.b) * match["ime_kg"] / match["length_m"]
    return row


def false_plumes(
    preset: str,
    n_scenes: int,
    seed0: int,
    *,
    size: int | None = None,
    stats: str = "scene",
    albedo_correct: bool = False,
) -> dict[str, float]:
    shape = (size, size) if size else PRESETS[preset]["free_shape"]
    count, area_km2 = 0, 0.0
    for i in range(n_scenes):
        detected, truth = _retrieve(
            preset, shape, 0.0, 3.0, 270.0, seed0 + i, stats=stats, albedo_correct=albedo_correct
        )
        result = analyze_plumes(detected, wind=Wind(3.0, 270.0, 0.9), n_samples=200, params=PARAMS, csf_samples=20)
        count += len(result.records)
        area_km2 += shape[0] * shape[1] * truth.pixel_size_m**2 / 1e6
    return {"false_plumes": count, "area_km2": area_km2, "false_plumes_per_100km2": 100.0 * count / area_km2}


def fit_pod(x: np.ndarray, detected: np.ndarray) -> tuple[float, float]:
    """Maximum-likelihood logistic POD(x) = 1 / (1 + exp(-(x - x50) / scale)); returns (x50, scale)."""
    from scipy.optimize import minimize
    from scipy.special import expit

    y = detected.astype(float)

    def nll(params: np.ndarray) -> float:
        x50, log_scale = params
        z = (x - x50) / math.exp(log_scale)
        p = np.clip(expit(z), 1e-9, 1 - 1e-9)
        return -float(np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)))

    start = np.array([float(np.median(x)), math.log(0.3)])
    best = minimize(nll, start, method="Nelder-Mead", options={"xatol": 1e-4, "fatol": 1e-6, "maxiter": 2000})
    return float(best.x[0]), float(math.exp(best.x[1]))


def calibration_plumes(
    preset: str,
    n_cases: int,
    seed0: int,
    csf_inputs: dict[int, dict[str, Any]] | None = None,
    *,
    family: str | None = None,
) -> list[dict[str, Any]]:
    """Detected plumes from the calibration seeds (``seed0 + i``, disjoint from the validation seeds).

    Q from the upper half of the log range (where plumes are detected: a calibration needs plumes to fit), U and the
    direction as in validation; the wind GIVEN for the interval calibration is U·(1 + 0.3 ε) with σ_U = 30 % of the
    given speed, exactly as in :func:`run_case` (its ε from an own stream, so the case draws do not depend on it). The
    mask, IME and L do not depend on the wind, so one segmentation serves both the wind-known estimate and the
    interval with the wind given. ``csf_inputs``, when given, is filled per seed with what the pipeline's CSF of the
    matched plume works on (crop of the background-removed map, mask, source, downwind function, pixel size).
    """
    rng = np.random.default_rng(seed0)
    low, high = PRESETS[preset]["q_range"]
    records = []
    for i in range(n_cases):
        q, u, direction = _case_parameters(rng, (math.sqrt(low * high), high))
        seed = seed0 + i
        wind_error = float(np.random.default_rng([seed, 11]).normal())
        detected, truth = _retrieve(preset, PRESETS[preset]["shape"], q, u, direction, seed, family=family)
        result = analyze_plumes(
            detected,
            wind=Wind(u, direction, 0.0, direction_sigma_deg=0.0),
            n_samples=200,
            params=PARAMS,
            csf_samples=20,
        )
        match = _match(result, truth)
        if match is None:
            continue
        if csf_inputs is not None:
            crop = plume_crop(result.labels.values, match["plume_id"])
            csf_inputs[seed] = {
                "enhancement_ppm_m": result.anomaly[crop],
                "mask": result.labels.values[crop] == match["plume_id"],
                "source_rc": (match["source_row"] - crop[0].start, match["source_col"] - crop[1].start),
                "downwind_rc": result.geometry.downwind_rc,
                "pixel_size_m": match["pixel_size_m"],
            }
        given = max(u * (1.0 + WIND_REL_ERROR * wind_error), 0.2)
        records.append(
            {
                "seed": seed,
                "q_kg_h": q,
                "u_m_s": u,
                "dir_deg": direction,
                "plume_id": match["plume_id"],
                "ime_kg": match["ime_kg"],
                "ime_sigma_kg": match["ime_sigma_kg"],
                "length_m": match["length_m"],
                "q_lit_kg_h": match["emission_rate_kg_h"],
                "given_u_m_s": given,
                "given_u_sigma_m_s": WIND_REL_ERROR * given,
                "q_csf_kg_h": match["emission_rate_csf_kg_h"],
            }
        )
    return records


def calibrate(preset: str, n_cases: int, seed0: int, records: list[dict[str, Any]] | None = None) -> UeffCalibration:
    """U_eff fitted on plumes from seeds disjoint from the validation set (same end-to-end chain)."""
    records = calibration_plumes(preset, n_cases, seed0) if records is None else records
    return fit_ueff(
        [r["u_m_s"] for r in records],
        [r["ime_kg"] for r in records],
        [r["length_m"] for r in records],
        [r["q_kg_h"] for r in records],
        ime_sigma_kg=[r["ime_sigma_kg"] for r in records],
        reference=f"fitted on {len(records)} simulated {preset} plumes (seeds {seed0}+)",
        base=UEFF_TABLE[preset],
    )


def family_calibration(preset: str, records: list[dict[str, Any]], family: str, seed0: int) -> UeffCalibration:
    """U_eff (a, b: :func:`calibrate`) and the random structural σ (:func:`calibrate_random_sigma` at that a, b, each
    plume with :data:`WIND_REDRAWS` wind errors drawn as in validation) fitted on one family's calibration plumes."""
    from dataclasses import replace

    fitted = calibrate(preset, len(records), seed0, records)
    sigma = _calibrate_rows(_with_wind_redraws(records, WIND_REDRAWS), fitted).sigma
    return replace(fitted, model_rel_sigma=sigma, reference=f"{fitted.reference}, {family} family")


def cross_family_scores(rows: list[dict[str, Any]], name: str) -> dict[str, float]:
    """Scores of the calibration ``name`` on validation rows: the wind-known rate (median |Q̂/Q − 1|, within ±50 %)
    and the random 68 % interval with the wind given ±30 % over detected plumes; false sources per true plume over
    all rows (every plume record whose source lies > :data:`FALSE_SOURCE_PX` pixels from the true source)."""
    found = [r for r in rows if r["detected"] and f"q_{name}_kg_h" in r]
    ratio = np.array([r[f"q_{name}_kg_h"] / r["q_kg_h"] for r in found])
    covered = [r[f"p16_{name}"] <= r["q_kg_h"] <= r[f"p84_{name}"] for r in found if f"p16_{name}" in r]
    nan = float("nan")
    return {
        "n_plumes": len(rows),
        "n_detected": len(found),
        "median_abs_rel_error": float(np.median(np.abs(ratio - 1))) if ratio.size else nan,
        "frac_within_50pct": float(np.mean(np.abs(ratio - 1) <= 0.5)) if ratio.size else nan,
        "median_ratio": float(np.median(ratio)) if ratio.size else nan,
        "interval68_coverage": float(np.mean(covered)) if covered else nan,
        "false_sources_per_plume": float(sum(r["false_sources"] for r in rows) / len(rows)) if rows else nan,
    }


def cross_family(presets: list[str], n_cal: int, n_val: int) -> dict[str, Any]:
    """Calibrate U_eff and the random σ on each family, validate each calibration on each family, per preset.

    Calibration seeds 50000+ and validation seeds 1000+ as in the main run (the same draws of Q, U and direction in
    both families; the Gaussian family's class and source position come from their own stream). Returns
    ``cross_family`` (calibrated_on ≠ validated_on) and ``same_family`` rows, and the fitted calibrations.
    """
    cross, same, fits, cases = [], [], {}, {}
    for preset in presets:
        t0 = time.perf_counter()
        cals = {}
        for family in FAMILIES:
            records = calibration_plumes(preset, n_cal, 50_000, family=family)
            cals[f"cal_{family}"] = family_calibration(preset, records, family, 50_000)
        fits[preset] = {
            k: {"a": c.a, "b": c.b, "random_rel_sigma": c.model_rel_sigma, "reference": c.reference}
            for k, c in cals.items()
        }
        for validated_on in FAMILIES:
            rng = np.random.default_rng(1)
            rows = [run_case(preset, 1000 + i, rng, cals, family=validated_on) for i in range(n_val)]
            cases[f"{preset}/{validated_on}"] = rows
            for calibrated_on in FAMILIES:
                row = {
                    "calibrated_on": calibrated_on,
                    "validated_on": validated_on,
                    "preset": preset,
                    **cross_family_scores(rows, f"cal_{calibrated_on}"),
                }
                (same if calibrated_on == validated_on else cross).append(row)
        print(
            f"{preset}: cross-family ({n_cal} calibration, {n_val} validation plumes per family) in "
            f"{time.perf_counter() - t0:.0f} s",
            flush=True,
        )
    columns = [
        "calibrated_on",
        "validated_on",
        "preset",
        "n_detected",
        "median_abs_rel_error",
        "frac_within_50pct",
        "median_ratio",
        "interval68_coverage",
        "false_sources_per_plume",
    ]
    print_table(cross + same, columns, title="Cross-family validation (wind known; 68 % interval with wind ±30 %)")
    return {
        "cross_family": cross,
        "same_family": same,
        "cross_family_calibrations": fits,
        "cross_family_cases": cases,
        "false_source_px": FALSE_SOURCE_PX,
    }


def _old_interval(record: dict[str, Any], cal: UeffCalibration, sigma: float, seed: int) -> tuple[float, float]:
    """The single-structural-σ construction, for the diagnosis only: U ~ N(U_given, σ_U) truncated at 0.1 m/s, a and b
    drawn with the random part, one structural factor exp(N(0, σ))."""
    rng = np.random.default_rng(seed)
    n = 2000
    speed = np.maximum(rng.normal(record["given_u_m_s"], record["given_u_sigma_m_s"], n), 0.1)
    ueff = np.maximum(speed * rng.normal(cal.a, cal.sigma_a, n) + rng.normal(cal.b, cal.sigma_b, n), 0.05)
    ime = rng.normal(record["ime_kg"], record["ime_sigma_kg"], n)
    draws = 3600.0 * ueff * ime / record["length_m"] * np.exp(rng.normal(0.0, sigma, n))
    low, high = np.percentile(draws, [15.865, 84.135])
    return float(low), float(high)


def _new_interval(record: dict[str, Any], cal: UeffCalibration, sigma: float, seed: int) -> tuple[float, float]:
    from dataclasses import replace

    est = monte_carlo_rate(
        record["ime_kg"],
        record["length_m"],
        1,
        wind_speed_m_s=record["given_u_m_s"],
        wind_speed_sigma_m_s=record["given_u_sigma_m_s"],
        background_sigma_ppm_m=0.0,
        pixel_size_m=1.0,
        n_samples=2000,
        seed=seed,
        calibration=replace(cal, model_rel_sigma=sigma),
        ime_sigma_kg=record["ime_sigma_kg"],
    )
    return est.interval68_kg_h


WIND_REDRAWS = 20  # wind-error draws per calibration plume in --calibrate-sigma


def _calibrate_rows(rows: list[dict[str, Any]], calibration: UeffCalibration):
    """:func:`calibrate_random_sigma` on calibration rows (IME, its σ, length, given wind and σ, truth, MC seed)."""
    return calibrate_random_sigma(
        [r["ime_kg"] for r in rows],
        [r["ime_sigma_kg"] for r in rows],
        [r["length_m"] for r in rows],
        [r["given_u_m_s"] for r in rows],
        [r["given_u_sigma_m_s"] for r in rows],
        [r["q_kg_h"] for r in rows],
        calibration=calibration,
        seeds=[r["mc_seed"] for r in rows],
    )


def _with_wind_redraws(records: list[dict[str, Any]], k_draws: int) -> list[dict[str, Any]]:
    """Each calibration plume ``k_draws`` times, each with its own given wind U·(1 + 0.3 ε) (draw 0 is the one of
    :func:`calibration_plumes`): the wind error's distribution is known (it is the validation's), so averaging over
    it leaves only the plume-to-plume structural scatter to be sampled by the calibration plumes."""
    rows = []
    for r in records:
        for k in range(k_draws):
            eps = float(np.random.default_rng([r["seed"], 11] if k == 0 else [r["seed"], 11, k]).normal())
            given = max(r["u_m_s"] * (1.0 + WIND_REL_ERROR * eps), 0.2)
            # the direction error (used by the CSF only) from its own stream, as run_case's
            eps_dir = float(np.random.default_rng([r["seed"], 13] if k == 0 else [r["seed"], 13, k]).normal())
            rows.append(
                {
                    **r,
                    "given_u_m_s": given,
                    "given_u_sigma_m_s": WIND_REL_ERROR * given,
                    "given_dir_deg": (r["dir_deg"] + WIND_DIR_ERROR_DEG * eps_dir) % 360.0,
                    "mc_seed": r["seed"] * 100 + r["plume_id"] * 10_000_000 + k,
                }
            )
    return rows


def _score(records: list[dict[str, Any]], interval, *, debias: float = 1.0) -> dict[str, float]:
    above = below = 0
    for r in records:
        low, high = interval({**r, "ime_kg": r["ime_kg"] / debias, "ime_sigma_kg": r["ime_sigma_kg"] / debias})
        above += r["q_kg_h"] > high
        below += r["q_kg_h"] < low
    n = max(len(records), 1)
    return {"coverage": 1 - (above + below) / n, "truth_above": above / n, "truth_below": below / n}


def calibrate_sigma(presets: list[str], n_cases: int, seed0: int = 50_000) -> dict[str, Any]:
    """``--calibrate-sigma``: the random structural σ per preset on the calibration seeds, and the diagnosis of the
    interval construction (old vs new) and of the estimate's bias on the same plumes.

    The σ is :func:`calibrate_random_sigma` over the calibration plumes, each with :data:`WIND_REDRAWS` wind errors
    drawn as in validation (the committed value); the single-draw split-conformal σ is reported beside it.
    """
    out: dict[str, Any] = {}
    table = []
    for preset in presets:
        t0 = time.perf_counter()
        csf_inputs: dict[int, dict[str, Any]] = {}
        records = calibration_plumes(preset, n_cases, seed0, csf_inputs)
        cal = UEFF_TABLE[preset]

        def run(rows: list[dict[str, Any]]):
            return _calibrate_rows(rows, cal)

        single = [{**r, "mc_seed": r["seed"] + r["plume_id"]} for r in records]
        redrawn = _with_wind_redraws(records, WIND_REDRAWS)
        result_single = run(single)
        result = run(redrawn)
        ratio = np.array([r["q_lit_kg_h"] / r["q_kg_h"] for r in records])
        bias = float(np.median(ratio))
        prior = PRIOR_STRUCTURAL_SIGMA[preset]

        def old(sigma: float):
            return lambda r: _old_interval(r, cal, sigma, r["mc_seed"])

        def new(sigma: float):
            return lambda r: _new_interval(r, cal, sigma, r["mc_seed"])

        diagnosis = {
            f"old construction, structural sigma {prior:.2f} (normal wind draws)": _score(redrawn, old(prior)),
            f"old construction, sigma {prior:.2f}, estimate / its median bias {bias:.3f}": _score(
                redrawn, old(prior), debias=bias
            ),
            "new construction, random sigma 0 (wind + retrieval noise only)": _score(redrawn, new(0.0)),
            f"new construction, calibrated random sigma {result.sigma:.3f}": _score(redrawn, new(result.sigma)),
            f"new construction, sigma {result.sigma:.3f}, estimate / its median bias {bias:.3f}": _score(
                redrawn, new(result.sigma), debias=bias
            ),
            f"new construction, sigma {result.sigma:.3f}, the single wind draw per plume": _score(
                single, new(result.sigma)
            ),
        }
        out[preset] = {
            "random_rel_sigma": result.sigma,
            "n_plumes": len(records),
            "wind_redraws": WIND_REDRAWS,
            "n_rows": result.n,
            "n_cases": n_cases,
            "seeds": f"{seed0}-{seed0 + n_cases - 1}",
            "rank": result.rank,
            "calibration_coverage": result.coverage,
            "truth_above": result.truth_above,
            "truth_below": result.truth_below,
            "sigma_needed": [float(x) for x in result.sigma_needed],
            "single_draw_split_conformal": {
                "random_rel_sigma": result_single.sigma,
                "rank": result_single.rank,
                "n": result_single.n,
                "coverage": result_single.coverage,
            },
            "median_ratio_wind_known": bias,
            "robust_sigma_ln_ratio_wind_known": float(
                1.4826 * np.median(np.abs(np.log(ratio) - np.median(np.log(ratio))))
            ),
            "mean_minus_median_ln_truth_over_estimate": float(np.mean(-np.log(ratio)) - np.median(-np.log(ratio))),
            "diagnosis": diagnosis,
            "records": records,
            "csf": calibrate_csf_sigma(preset, records, csf_inputs, redrawn, single),
            "wall_s": time.perf_counter() - t0,
        }
        for name, score in out[preset]["csf"]["diagnosis"].items():
            table.append(
                {
                    "preset": preset,
                    "interval (wind redrawn 20x per plume unless said)": f"CSF: {name}",
                    "coverage": score["coverage"],
                    "truth above": score["truth_above"],
                    "truth below": score["truth_below"],
                }
            )
        for name, score in diagnosis.items():
            table.append(
                {
                    "preset": preset,
                    "interval (wind redrawn 20x per plume unless said)": name,
                    "coverage": score["coverage"],
                    "truth above": score["truth_above"],
                    "truth below": score["truth_below"],
                }
            )
        csf = out[preset]["csf"]
        print(
            f"{preset}: random structural sigma {result.sigma:.3f} from {len(records)} plumes x {WIND_REDRAWS} wind "
            f"draws (single-draw split conformal: {result_single.sigma:.3f}); median Q^/Q wind known {bias:.3f}; "
            f"CSF random structural sigma {csf['random_rel_sigma']:.3f} from {csf['n_rows']} rows (single draw: "
            f"{csf['single_draw_split_conformal']['random_rel_sigma']:.3f}), CSF median Q^/Q wind known "
            f"{csf['median_ratio_wind_known']:.3f}; {out[preset]['wall_s']:.0f} s",
            flush=True,
        )
    print_table(
        table,
        ["preset", "interval (wind redrawn 20x per plume unless said)", "coverage", "truth above", "truth below"],
        title="68 % intervals on the calibration plumes (wind given ±30 %)",
    )
    return out


CSF_SAMPLES = 200  # CSF draws per plume, as analyze_plumes in run_case (literature row)


def calibrate_csf_sigma(
    preset: str,
    records: list[dict[str, Any]],
    csf_inputs: dict[int, dict[str, Any]],
    redrawn: list[dict[str, Any]],
    single: list[dict[str, Any]],
) -> dict[str, Any]:
    """The CSF's random structural σ on the calibration plumes (the same rows as the IME's: each detected plume with
    :data:`WIND_REDRAWS` winds, speed AND direction drawn as in validation), by the same conformal rule
    (:func:`calibrate_sigma_from_draws` on :func:`csf_draws`, c at the table value, ``CSF_SAMPLES`` draws as the
    pipeline), with the before/after coverage on the same rows."""
    cal = UEFF_TABLE[preset]

    def parts(rows: list[dict[str, Any]]):
        out = []
        for r in rows:
            d = csf_draws(
                **csf_inputs[r["seed"]],
                wind_dir_deg=r["given_dir_deg"],
                wind_dir_sigma_deg=WIND_DIR_ERROR_DEG,
                wind_speed_m_s=r["given_u_m_s"],
                wind_speed_sigma_m_s=r["given_u_sigma_m_s"],
                csf_c=cal.csf_c,
                n_samples=CSF_SAMPLES,
                seed=r["mc_seed"],
            )
            out.append((d.wind_draws_kg_h, d.random_normals, r["q_kg_h"]))
        return out

    def score(rows_parts, sigma: float) -> dict[str, float]:
        above = below = n = 0
        for base, z, q in rows_parts:
            if base.size < 10:
                continue
            low, high = np.percentile(base * np.exp(sigma * z), [15.865, 84.135])
            above += q > high
            below += q < low
            n += 1
        n = max(n, 1)
        return {"coverage": 1 - (above + below) / n, "truth_above": above / n, "truth_below": below / n, "n": n}

    single = [
        {**r, "given_dir_deg": next(x["given_dir_deg"] for x in redrawn if x["seed"] == r["seed"])} for r in single
    ]
    p_redrawn, p_single = parts(redrawn), parts(single)
    result = calibrate_sigma_from_draws([p[0] for p in p_redrawn], [p[1] for p in p_redrawn], [p[2] for p in p_redrawn])
    result_single = calibrate_sigma_from_draws(
        [p[0] for p in p_single], [p[1] for p in p_single], [p[2] for p in p_single]
    )
    ratio = np.array([r["q_csf_kg_h"] / r["q_kg_h"] for r in records if np.isfinite(r["q_csf_kg_h"])])
    return {
        "random_rel_sigma": result.sigma,
        "n_rows": result.n,
        "rank": result.rank,
        "calibration_coverage": result.coverage,
        "truth_above": result.truth_above,
        "truth_below": result.truth_below,
        "sigma_needed": [float(x) for x in result.sigma_needed],
        "csf_samples": CSF_SAMPLES,
        "single_draw_split_conformal": {
            "random_rel_sigma": result_single.sigma,
            "rank": result_single.rank,
            "n": result_single.n,
            "coverage": result_single.coverage,
        },
        "median_ratio_wind_known": float(np.median(ratio)) if ratio.size else float("nan"),
        "robust_sigma_ln_ratio_wind_known": float(1.4826 * np.median(np.abs(np.log(ratio) - np.median(np.log(ratio)))))
        if ratio.size
        else float("nan"),
        "diagnosis": {
            "random sigma 0 (wind speed, direction, transect sampling only; before)": score(p_redrawn, 0.0),
            f"calibrated random sigma {result.sigma:.3f}": score(p_redrawn, result.sigma),
            f"sigma {result.sigma:.3f}, the single wind draw per plume": score(p_single, result.sigma),
        },
    }


def _interval_diagnostics(rows: list[dict[str, Any]], name: str) -> dict[str, float]:
    """How the 68 % intervals miss: truth above / below, median log half-width, coverage once the median bias is removed.

    The bias is the median of (interval geometric centre) / truth; dividing every interval by it separates a biased
    centre from a wrong width.
    """
    if not rows:
        return {}
    q = np.array([r["q_kg_h"] for r in rows])
    low = np.array([r[f"p16_{name}"] for r in rows])
    high = np.array([r[f"p84_{name}"] for r in rows])
    ok = (low > 0) & (high > 0)
    bias = float(np.median(np.sqrt(low[ok] * high[ok]) / q[ok])) if ok.any() else float("nan")
    return {
        "truth_above_interval": float(np.mean(q > high)),
        "truth_below_interval": float(np.mean(q < low)),
        "median_log_half_width": float(np.median(0.5 * np.log(high[ok] / low[ok]))) if ok.any() else float("nan"),
        "interval_centre_over_truth": bias,
        "interval68_coverage_bias_removed": float(np.mean((low / bias <= q) & (q <= high / bias))),
    }


def near_limit_summary(found: list[dict[str, Any]]) -> dict[str, Any]:
    """Median Q̂/Q (wind known) and random 68 % coverage (widened intervals) of the detected plumes flagged
    ``near_detection_limit`` and of the others."""
    out: dict[str, Any] = {}
    for name, flag in (("flagged", True), ("not_flagged", False)):
        rows = [r for r in found if r.get("near_detection_limit") is flag]
        cov = [r["p16_literature"] <= r["q_kg_h"] <= r["p84_literature"] for r in rows if "p16_literature" in r]
        out[name] = {
            "n": len(rows),
            "median_ratio": float(np.median([r["q_lit_kg_h"] / r["q_kg_h"] for r in rows])) if rows else float("nan"),
            "interval68_coverage": float(np.mean(cov)) if cov else float("nan"),
        }
    return out


def summarise(preset: str, rows: list[dict[str, Any]], names: list[str]) -> dict[str, Any]:
    q = np.array([r["q_kg_h"] for r in rows])
    u = np.array([r["u_m_s"] for r in rows])
    det = np.array([r["detected"] for r in rows])
    x50, scale = fit_pod(np.log10(q), det)
    x50u, scaleu = fit_pod(np.log10(q / u), det)
    out: dict[str, Any] = {
        "n_cases": len(rows),
        "n_detected": int(det.sum()),
        "q50_kg_h": 10**x50,
        "q90_kg_h": 10 ** (x50 + scale * math.log(9.0)),
        "q_over_u90_kg_h_per_m_s": 10 ** (x50u + scaleu * math.log(9.0)),
        "pod_fit": {"log10_q50": x50, "scale": scale, "log10_q_over_u50": x50u, "scale_q_over_u": scaleu},
    }
    out["q90_at_3m_s_kg_h"] = 3.0 * out["q_over_u90_kg_h_per_m_s"]
    found = [r for r in rows if r["detected"]]
    for name in names:
        key = "q_lit_kg_h" if name == "literature" else f"q_{name}_kg_h"
        ratio = np.array([r[key] / r["q_kg_h"] for r in found if key in r])
        covered = [r[f"p16_{name}"] <= r["q_kg_h"] <= r[f"p84_{name}"] for r in found if f"p16_{name}" in r]
        out[name] = {
            "median_abs_rel_error": float(np.median(np.abs(ratio - 1))) if ratio.size else float("nan"),
            "frac_within_50pct": float(np.mean(np.abs(ratio - 1) <= 0.5)) if ratio.size else float("nan"),
            "median_ratio": float(np.median(ratio)) if ratio.size else float("nan"),
            "interval68_coverage": float(np.mean(covered)) if covered else float("nan"),
            **_interval_diagnostics([r for r in found if f"p16_{name}" in r], name),
        }
        ratio_u = np.array([r["u_m_s"] for r in found if key in r])
        out[name]["median_ratio_by_wind"] = {
            f"{lo:g}-{hi:g} m/s": float(np.median(ratio[(ratio_u >= lo) & (ratio_u < hi)]))
            if np.any((ratio_u >= lo) & (ratio_u < hi))
            else float("nan")
            for lo, hi in ((1.0, 3.0), (3.0, 5.5), (5.5, 8.01))
        }
    total = [
        r["p16_total_literature"] <= r["q_kg_h"] <= r["p84_total_literature"]
        for r in found
        if "p16_total_literature" in r
    ]
    out["literature"]["interval68_total_coverage"] = float(np.mean(total)) if total else float("nan")
    out["literature"]["median_sigma_systematic_over_random"] = (
        float(
            np.median(
                [r["sigma_systematic_literature"] / r["sigma_literature"] for r in found if "sigma_literature" in r]
            )
        )
        if total
        else float("nan")
    )
    out["near_detection_limit"] = near_limit_summary(found)
    csf = np.array([r["q_csf_kg_h"] / r["q_kg_h"] for r in found if np.isfinite(r.get("q_csf_kg_h", np.nan))])
    csf_cov = [
        r["p16_csf"] <= r["q_kg_h"] <= r["p84_csf"]
        for r in found
        if np.isfinite(r.get("p16_csf", np.nan)) and np.isfinite(r.get("p84_csf", np.nan))
    ]
    scored = [r for r in found if np.isfinite(r.get("p16_csf", np.nan)) and np.isfinite(r.get("p84_csf", np.nan))]
    csf_total = [r["p16_csf_total"] <= r["q_kg_h"] <= r["p84_csf_total"] for r in scored if "p16_csf_total" in r]
    out["csf"] = {
        "interval68_coverage": float(np.mean(csf_cov)) if csf_cov else float("nan"),
        "median_abs_rel_error": float(np.median(np.abs(csf - 1))) if csf.size else float("nan"),
        "frac_within_50pct": float(np.mean(np.abs(csf - 1) <= 0.5)) if csf.size else float("nan"),
        "median_ratio": float(np.median(csf)) if csf.size else float("nan"),
        "n_scored": len(scored),
        **_interval_diagnostics(scored, "csf"),
        "interval68_total_coverage": float(np.mean(csf_total)) if csf_total else float("nan"),
        "median_sigma_systematic_over_random": float(
            np.median([r["sigma_csf_systematic"] / r["sigma_csf"] for r in scored if r.get("sigma_csf", 0) > 0])
        )
        if scored
        else float("nan"),
    }
    err = np.array([r["source_error_m"] for r in found])
    sig = np.array([r["source_sigma_m"] for r in found])
    out["source_error_median_m"] = float(np.median(err)) if err.size else float("nan")
    out["source_error_within_2sigma"] = float(np.mean(err <= 2 * sig)) if err.size else float("nan")
    out["false_plumes_in_plume_scenes"] = int(sum(r["other_plumes"] for r in rows))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = make_parser(__doc__.splitlines()[0])
    parser.add_argument("--presets", default="emit,aviris-ng")
    parser.add_argument("--cases", type=int, default=None, help="validation plumes per preset")
    parser.add_argument("--calibration-cases", type=int, default=None)
    parser.add_argument("--free-scenes", type=int, default=None, help="plume-free scenes per preset")
    parser.add_argument("--plot", type=Path, default=None, help="write the POD / accuracy figure here")
    parser.add_argument("--high-sigma", type=float, default=DEFAULT_SEGMENT_PARAMS.high_sigma)
    parser.add_argument("--min-peak-sigma", type=float, default=DEFAULT_SEGMENT_PARAMS.min_peak_sigma)
    parser.add_argument(
        "--max-albedo-darkening",
        type=float,
        default=DEFAULT_SEGMENT_PARAMS.max_albedo_darkening,
        help="surface criterion of the segmentation (0: off)",
    )
    parser.add_argument(
        "--materials",
        default=None,
        help="procedural background materials, e.g. soil,bright_soil,dry_grass (arid); default all",
    )
    parser.add_argument(
        "--growth",
        default="inertial",
        choices=["inertial", "gifford", "taylor", "briggs"],
        help="simulator puff growth law",
    )
    parser.add_argument(
        "--family",
        default="puff",
        choices=list(FAMILIES),
        help="plume family of the main run: the puff model or the steady Gaussian plume (simulate/gaussian_plume.py)",
    )
    parser.add_argument(
        "--cross-family-only", action="store_true", help="only the cross-family calibration and validation"
    )
    parser.add_argument("--no-cross-family", action="store_true", help="skip the cross-family part")
    parser.add_argument("--cross-cases", type=int, default=None, help="cross-family validation plumes per family")
    parser.add_argument(
        "--cross-calibration-cases", type=int, default=None, help="cross-family calibration plumes per family"
    )
    parser.add_argument(
        "--calibrate-sigma",
        action="store_true",
        help="only calibrate the random structural sigma per preset on the calibration seeds (50000+) "
        "and diagnose the interval construction there",
    )
    parser.add_argument(
        "--plot-intervals",
        nargs=3,
        type=Path,
        default=None,
        metavar=("PNG", "CALIBRATION_JSON", "VALIDATION_JSON"),
        help="only draw the calibration scores and where validation truths fall in their intervals",
    )
    parser.add_argument("--replot", type=Path, default=None, help="only redraw --plot from a JSON written by --json")
    parser.add_argument(
        "--plot-physics",
        type=Path,
        default=None,
        help="only draw the centroid-process figure (gifford vs inertial) here",
    )
    parser.add_argument(
        "--free-only",
        action="store_true",
        help="only the plume-free false-plume count (with --free-size / --free-stats / --albedo-correct)",
    )
    parser.add_argument("--free-size", type=int, default=None, help="plume-free scene size (default 128)")
    parser.add_argument(
        "--free-stats", default="scene", help="detection statistics on plume-free scenes (auto: the CLI default)"
    )
    parser.add_argument(
        "--albedo-correct", action="store_true", help="albedo-corrected matched filter on plume-free scenes"
    )
    args = parser.parse_args(argv)
    if args.plot_physics is not None:
        plot_physics(args.plot_physics)
        return 0
    if args.plot_intervals is not None:
        plot_intervals(*args.plot_intervals)
        return 0
    if args.replot is not None:
        saved = json.loads(args.replot.read_text())
        plot(args.plot or Path("quantify_skill.png"), saved["cases"], saved["presets"], growth=saved.get("growth"))
        return 0
    global PARAMS, GROWTH, MATERIALS, FAMILY
    GROWTH = args.growth
    FAMILY = args.family
    MATERIALS = tuple(m.strip() for m in args.materials.split(",")) if args.materials else None
    PARAMS = SegmentParams(
        high_sigma=args.high_sigma, min_peak_sigma=args.min_peak_sigma, max_albedo_darkening=args.max_albedo_darkening
    ).validated()
    if args.calibrate_sigma:
        n_cal = args.calibration_cases or (10 if args.quick else 30)
        presets = [p.strip() for p in args.presets.split(",") if p.strip()]
        start = time.perf_counter()
        result = calibrate_sigma(presets, n_cal)
        write_json(
            args.json,
            {
                "benchmark": "quantify_skill --calibrate-sigma",
                "growth": GROWTH,
                "segment_params": PARAMS.as_dict(),
                "wall_s": time.perf_counter() - start,
                "random_rel_sigma": {p: result[p]["random_rel_sigma"] for p in presets},
                "csf_random_rel_sigma": {p: result[p]["csf"]["random_rel_sigma"] for p in presets},
                "presets": result,
            },
        )
        return 0
    n_cases = args.cases or (16 if args.quick else 50)
    n_cal = args.calibration_cases or (10 if args.quick else 30)
    n_free = args.free_scenes or (2 if args.quick else 4)
    n_cross = args.cross_cases or (16 if args.quick else n_cases)
    n_cross_cal = args.cross_calibration_cases or (10 if args.quick else n_cal)
    presets = [p.strip() for p in args.presets.split(",") if p.strip()]
    start = time.perf_counter()
    if args.cross_family_only:
        result = cross_family(presets, n_cross_cal, n_cross)
        write_json(
            args.json,
            {
                "benchmark": "quantify_skill --cross-family-only",
                "quick": args.quick,
                "growth": GROWTH,
                "segment_params": PARAMS.as_dict(),
                "wall_s": time.perf_counter() - start,
                **result,
            },
        )
        return 0
    if args.free_only:
        rows = []
        for preset in presets:
            result = false_plumes(
                preset,
                n_free,
                seed0=91_000,
                size=args.free_size,
                stats=args.free_stats,
                albedo_correct=args.albedo_correct,
            )
            rows.append({"preset": preset, "stats": args.free_stats, "albedo_correct": args.albedo_correct, **result})
        print_table(
            rows,
            ["preset", "stats", "albedo_correct", "false_plumes", "area_km2", "false_plumes_per_100km2"],
            title="False plumes on plume-free scenes",
        )
        write_json(
            args.json,
            {
                "benchmark": "quantify_skill --free-only",
                "segment_params": PARAMS.as_dict(),
                "false_plumes_per_100km2": {r["preset"]: r["false_plumes_per_100km2"] for r in rows},
                "rows": rows,
                "wall_s": time.perf_counter() - start,
            },
        )
        return 0
    summary: dict[str, Any] = {}
    rows_by_preset: dict[str, list[dict[str, Any]]] = {}
    n_cases = 8 if args.quick and not args.cases else n_cases  # --quick leaves time for the cross-family part
    for preset in presets:
        t0 = time.perf_counter()
        calibrated = calibrate(preset, n_cal, seed0=50_000)
        calibrations = {"literature": UEFF_TABLE[preset], "calibrated": calibrated}
        rng = np.random.default_rng(1)
        rows = [run_case(preset, 1000 + i, rng, calibrations) for i in range(n_cases)]
        rows_by_preset[preset] = rows
        summary[preset] = summarise(preset, rows, list(calibrations))
        summary[preset]["calibrated_ueff"] = {
            "a": calibrated.a,
            "b": calibrated.b,
            "sigma_a": calibrated.sigma_a,
            "sigma_b": calibrated.sigma_b,
            "model_rel_sigma": calibrated.model_rel_sigma,
            "reference": calibrated.reference,
        }
        summary[preset].update(false_plumes(preset, n_free, seed0=90_000))
        summary[preset]["wall_s"] = time.perf_counter() - t0
        print(
            f"{preset}: {n_cases} plumes, {n_cal} calibration plumes, {n_free} plume-free scenes in "
            f"{summary[preset]['wall_s']:.0f} s",
            flush=True,
        )

    table = []
    for preset in presets:
        s = summary[preset]
        for name in ("literature", "calibrated"):
            table.append(
                {
                    "preset": preset,
                    "U_eff": name,
                    "detected": f"{s['n_detected']}/{s['n_cases']}",
                    "median |rel err|": s[name]["median_abs_rel_error"],
                    "within ±50 %": s[name]["frac_within_50pct"],
                    "median Q̂/Q": s[name]["median_ratio"],
                    "68 % coverage (±30 % wind)": s[name]["interval68_coverage"],
                    "truth above / below": f"{s[name].get('truth_above_interval', float('nan')):.2f} / "
                    f"{s[name].get('truth_below_interval', float('nan')):.2f}",
                    "total (random + systematic) coverage": s[name].get("interval68_total_coverage", float("nan")),
                }
            )
        table.append(
            {
                "preset": preset,
                "U_eff": "CSF (c·U)",
                "detected": f"{s['n_detected']}/{s['n_cases']}",
                "median |rel err|": s["csf"]["median_abs_rel_error"],
                "within ±50 %": s["csf"]["frac_within_50pct"],
                "median Q̂/Q": s["csf"]["median_ratio"],
                "68 % coverage (±30 % wind)": s["csf"]["interval68_coverage"],
                "truth above / below": f"{s['csf'].get('truth_above_interval', float('nan')):.2f} / "
                f"{s['csf'].get('truth_below_interval', float('nan')):.2f}",
                "total (random + systematic) coverage": s["csf"].get("interval68_total_coverage", float("nan")),
            }
        )
    print_table(
        table,
        [
            "preset",
            "U_eff",
            "detected",
            "median |rel err|",
            "within ±50 %",
            "median Q̂/Q",
            "68 % coverage (±30 % wind)",
            "truth above / below",
            "total (random + systematic) coverage",
        ],
        title="Quantification (detected plumes)",
    )
    print_table(
        [
            {
                "preset": p,
                "Q50 kg/h": summary[p]["q50_kg_h"],
                "Q90 kg/h": summary[p]["q90_kg_h"],
                "Q90 at 3 m/s": summary[p]["q90_at_3m_s_kg_h"],
                "source err m (median)": summary[p]["source_error_median_m"],
                "source err ≤ 2σ": summary[p]["source_error_within_2sigma"],
                "false /100 km²": summary[p]["false_plumes_per_100km2"],
                "free area km²": summary[p]["area_km2"],
            }
            for p in presets
        ],
        [
            "preset",
            "Q50 kg/h",
            "Q90 kg/h",
            "Q90 at 3 m/s",
            "source err m (median)",
            "source err ≤ 2σ",
            "false /100 km²",
            "free area km²",
        ],
        title="Detection and false plumes",
    )
    if args.plot:
        plot(args.plot, rows_by_preset, summary)
    cross = {} if args.no_cross_family else cross_family(presets, n_cross_cal, n_cross)
    primary = presets[0]
    payload = {
        "benchmark": "quantify_skill",
        "quick": args.quick,
        "wall_s": time.perf_counter() - start,
        "growth": GROWTH,
        "family": FAMILY,
        "materials": MATERIALS,
        "segment_params": PARAMS.as_dict(),
        "median_abs_rel_error": {p: summary[p]["literature"]["median_abs_rel_error"] for p in presets},
        "frac_within_50pct": {p: summary[p]["literature"]["frac_within_50pct"] for p in presets},
        "interval68_coverage": {p: summary[p]["literature"]["interval68_coverage"] for p in presets},
        "q90_kg_h": {p: summary[p]["q90_kg_h"] for p in presets},
        "false_plumes_per_100km2": {p: summary[p]["false_plumes_per_100km2"] for p in presets},
        "calibrated": {p: summary[p]["calibrated"] for p in presets},
        "primary_preset": primary,
        "presets": summary,
        "cases": rows_by_preset,
        **cross,
    }
    write_json(args.json, payload)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
