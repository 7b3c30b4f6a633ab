"""One stage of one input (detect, plumes, invert), written all-or-nothing with its ``task.json``.

Each stage folder (``scenes/<id>/detect``, ``scenes/<id>/plumes``, ``logs/<id>/invert``) is filled through
:func:`plumetrace.io.staging.staged_output` and holds ``task.json``: the stage, the input, the SHA-256 of the input
and of the stage's parameters, the plumetrace version and the timings. A stage whose ``task.json`` matches the hashes
of the current run is done and not run again (:func:`is_done`). The functions here are module-level so a Dask
worker can run them; each returns a small dict (never raises for a problem of the input: a failed stage is a
result with its one-line error).
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

__all__ = ["StageTask", "is_done", "one_line", "read_task", "run_stage", "run_after", "TASK_FILE"]

TASK_FILE = "task.json"


@dataclass(frozen=True)
class StageTask:
    """What one stage of one input needs: its input, parameters, hashes and output folder.

    Attributes
    ----------
    stage : {"detect", "plumes", "invert"}
    input_id : str
        The campaign input's id.
    source : str
        The file the stage reads (the scene, the enhancement map, the sensor log).
    input_sha256, params_sha256 : str
        Hashes recorded in ``task.json`` (the plumes stage's parameter hash includes its detect stage's).
    params : dict
        The stage's options (a config section with the input's overrides applied).
    out_dir : str
        The stage folder.
    threads : int or None
        Block threads of the detect stage (None: all cores, at most 8).
    """

    stage: str
    input_id: str
    source: str
    input_sha256: str
    params_sha256: str
    params: dict[str, Any] = field(default_factory=dict)
    out_dir: str = ""
    threads: int | None = None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def read_task(out_dir: str | Path) -> dict[str, Any] | None:
    """The ``task.json`` of a stage folder, or None when there is none (or it cannot be read)."""
    try:
        return json.loads((Path(out_dir) / TASK_FILE).read_text())
    except (OSError, ValueError):
        return None


def is_done(task: StageTask) -> bool:
    """Whether ``task``'s folder holds a finished product made from the same input and parameters."""
    record = read_task(task.out_dir)
    return (
        record is not None
        and record.get("input_sha256") == task.input_sha256
        and record.get("params_sha256") == task.params_sha256
        and bool(record.get("finished"))
    )


def one_line(exc: BaseException) -> str:
    """The one-line error of an input: a plumetrace error as it reads, anything else with its type."""
    from plumetrace.errors import PlumetraceError

    text = str(exc) if isinstance(exc, PlumetraceError) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())[:500] or type(exc).__name__


def run_stage(task: StageTask, runner: Callable[[StageTask, Path], dict[str, Any]] | None = None) -> dict[str, Any]:
    """Run ``task`` into its folder (all-or-nothing); return ``{stage, id, status, error, seconds, warnings}``.

    ``status`` is ``"done"`` or ``"failed"`` (``error`` then holds the one-line reason). Warnings raised by the
    stage are returned as lines, not printed. ``runner(task, staging_folder) -> details`` replaces the stage's own
    function (the campaign's sites stage); ``details`` go into ``task.json`` and the result.
    """
    from plumetrace import __version__
    from plumetrace.io.staging import staged_output

    started, clock = _now(), time.perf_counter()
    result: dict[str, Any] = {"stage": task.stage, "id": task.input_id, "status": "done", "error": None}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with staged_output(task.out_dir, overwrite=True) as stage:
                details = (runner or _RUNNERS[task.stage])(task, Path(stage))
                seconds = time.perf_counter() - clock
                record = {
                    "stage": task.stage,
                    "input": task.source,
                    "input_sha256": task.input_sha256,
                    "params_sha256": task.params_sha256,
                    "plumetrace_version": __version__,
                    "started": started,
                    "finished": _now(),
                    "seconds": round(seconds, 3),
                    **details,
                }
                (Path(stage) / TASK_FILE).write_text(json.dumps(record, indent=2, default=str) + "\n")
            result.update(details)
        except Exception as exc:  # noqa: BLE001 - one input's failure is recorded, the campaign goes on
            result.update(status="failed", error=one_line(exc))
    result["seconds"] = round(time.perf_counter() - clock, 3)
    result["warnings"] = sorted({" ".join(str(w.message).split()) for w in caught if _worth_logging(w)})
    return result


def _worth_logging(caught: warnings.WarningMessage) -> bool:
    from plumetrace.errors import PlumetraceWarning

    return issubclass(caught.category, PlumetraceWarning)


def run_after(task: StageTask, upstream: dict[str, Any] | None) -> dict[str, Any]:
    """Run ``task`` when its upstream stage succeeded; otherwise return it as ``"skipped"`` with the reason."""
    if upstream is not None and upstream.get("status") == "failed":
        return {
            "stage": task.stage,
            "id": task.input_id,
            "status": "skipped",
            "error": f"{upstream['stage']} failed",
            "seconds": 0.0,
            "warnings": [],
        }
    return run_stage(task)


# --- the stages ---------------------------------------------------------------------------------------------------


def _detect(task: StageTask, stage: Path) -> dict[str, Any]:
    import numpy as np

    from plumetrace.detect.engine import detect_scene
    from plumetrace.detect.options import DetectOptions
    from plumetrace.io.open_scene import open_scene
    from plumetrace.products.detection import write_detection_products

    params = dict(task.params)
    params["window_nm"] = tuple(params["window_nm"])
    options = DetectOptions(**params, n_threads=task.threads, progress=False)
    scene = open_scene(task.source)
    result = detect_scene(scene, options)
    gas, method = result.attrs.get("gas", "gas"), result.attrs.get("method", "mf")
    write_detection_products(result, stage, item_id=f"{task.input_id}_{gas}_{method}")  # unique in the run
    sigma = result["uncertainty"].values
    finite = np.isfinite(sigma)
    return {"median_sigma_ppm_m": float(np.median(sigma[finite])) if finite.any() else None}


def wind_for(wind: dict[str, Any], map_source: str) -> Any:
    """The ``wind`` argument of ``analyze_plumes`` from a wind section: one Wind, or a sampler of its file."""
    from plumetrace.plumes.wind import wind_from_options, wind_sampler

    if wind.get("file"):
        return wind_sampler(wind["file"], map_source=map_source)
    return wind_from_options(
        wind.get("speed_m_s"),
        wind.get("direction_deg"),
        speed_sigma_m_s=wind.get("speed_sigma_m_s"),
        direction_sigma_deg=wind.get("direction_sigma_deg", 20.0),
    )


def plumes_calibration(ueff: Any, sensor: str | None) -> Any:
    """The U_eff calibration of ``ueff = (A, B)`` (the sensor's row with a and b replaced), or None."""
    if ueff is None:
        return None
    import dataclasses

    from plumetrace.plumes.calibration import ueff_calibration

    a, b = (float(v) for v in ueff)
    return dataclasses.replace(ueff_calibration(sensor or "generic"), a=a, b=b, reference=f"ueff {a:g},{b:g}")


def _plumes(task: StageTask, stage: Path) -> dict[str, Any]:
    from plumetrace.io.cog import read_enhancement
    from plumetrace.plumes.pipeline import analyze_plumes
    from plumetrace.plumes.segment import SegmentParams
    from plumetrace.products import plumes as products

    params = dict(task.params)
    wind = params.pop("wind")
    segment = SegmentParams(**{k: params[k] for k in SegmentParams.__dataclass_fields__}).validated()
    data = read_enhancement(task.source, units=params.get("units"))
    sampler = wind_for(wind, task.source)
    result = analyze_plumes(
        data,
        wind=sampler,
        pixel_size_m=params.get("pixel_size_m"),
        sensor=params.get("sensor"),
        params=segment,
        n_samples=params["n_samples"],
        seed=params["seed"],
        calibration=plumes_calibration(params.get("ueff"), params.get("sensor")),
        csf_samples=params["csf_samples"],
    )
    products.write_plume_outputs(
        stage, data, result, enhancement=task.source, final_dir=task.out_dir, wind=sampler, sensor=params.get("sensor")
    )
    return {"n_plumes": len(result.records)}


def inversion_inputs(params: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of :func:`plumetrace.insitu.inversion.validate_inversion_inputs` from a run's
    ``invert`` parameters."""
    return {
        "source_known": params.get("source_xy"),
        "prior_box": params.get("prior_box_xy"),
        "source_heights_m": tuple(params["source_height_m"]),
        "wind_height_m": params["wind_height_m"],
        "roughness_length_m": params["roughness_length_m"],
        "wind_average_s": params["wind_average_s"],
        "seed": params["seed"],
    }


def _invert(task: StageTask, stage: Path) -> dict[str, Any]:
    from plumetrace.insitu.background import estimate_background
    from plumetrace.insitu.inversion import invert_source, validate_inversion_inputs
    from plumetrace.insitu.massbalance import curtain_flux
    from plumetrace.io.observations import read_observations
    from plumetrace.products.insitu import write_inversion_products

    p = task.params
    options = validate_inversion_inputs(**inversion_inputs(p))
    origin = tuple(p["origin"]) if p.get("origin") is not None else None
    obs = read_observations(task.source, origin=origin, gas=p.get("gas"))
    given = p.get("background_mg_m3")
    background = estimate_background(obs["concentration_mg_m3"].to_numpy(), time=obs["time"], given_mg_m3=given)
    result = invert_source(obs, options, background=background)
    flux = curtain_flux(obs, background=background) if p.get("mass_balance") else None
    write_inversion_products(stage, result, obs, flux=flux, title=Path(task.source).name)
    return {"detected": bool(result.detected)}


_RUNNERS = {"detect": _detect, "plumes": _plumes, "invert": _invert}
