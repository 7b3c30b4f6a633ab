"""``run_campaign``: every input's stages on Dask (or in this process), resumable, then the sites of them all.

The run folder (docs/run.md) is updated in place: a stage whose ``task.json`` matches its input and parameter hashes
is kept, every other stage is run into a staging folder and swapped in whole. A run killed at any moment leaves
only finished stage folders (and staging leftovers that the next run removes), so running it again redoes exactly
the unfinished work. Each input is independent: one that fails is recorded with its one-line error and the others
go on.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plumetrace.campaign.config import CampaignConfig, config_yaml, params_sha256, sites_options
from plumetrace.campaign.plan import CampaignPlan, plan_campaign
from plumetrace.campaign.stages import StageTask, is_done, read_task, run_after, run_stage
from plumetrace.campaign.workers import default_workers, executor

__all__ = ["RunSummary", "run_campaign", "prepare_run_folder", "default_workers", "STAGES"]

STAGES = ("detect", "plumes", "invert", "sites")
RUN_MARKER_COMMAND = "run"
_TMP_TAG = ".tmp-"
#: Input hashes by path, size and modification time: a rerun does not read unchanged inputs again.
HASH_CACHE = ".sha256-cache.json"


@dataclass
class RunSummary:
    """What a run did.

    Attributes
    ----------
    out : Path
        The run folder.
    inputs : list of dict
        The ``inputs`` entries of ``run.json`` (id, kind, path, sha256, status, error, stages).
    ran, reused : dict
        Stage -> how many stage folders were (re)computed / kept from an earlier run.
    sites : dict
        ``{"status", "n_sites"}`` of the sites stage (``"skipped"`` with a reason when it could not run).
    seconds : float
        Wall-clock time of the run.
    """

    out: Path
    inputs: list[dict[str, Any]] = field(default_factory=list)
    ran: dict[str, int] = field(default_factory=dict)
    reused: dict[str, int] = field(default_factory=dict)
    sites: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def n_failed(self) -> int:
        """Inputs that failed (an error in any of their stages)."""
        return sum(1 for entry in self.inputs if entry["status"] == "failed")

    @property
    def nothing_to_do(self) -> bool:
        """True when every stage was already finished with the same inputs and parameters."""
        return sum(self.ran.values()) == 0 and self.exit_code == 0

    @property
    def exit_code(self) -> int:
        """0 when every input and the sites stage succeeded, 1 when any failed."""
        return 1 if self.n_failed or self.sites.get("status") == "failed" else 0


def _write_atomic(path: Path, text: str) -> None:
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}{_TMP_TAG}{os.getpid()}-", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.replace(tmp, path)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _remove_temporary(folder: Path) -> None:
    """Remove the temporary files of :func:`_write_atomic` that a killed run left (their process is gone)."""
    from plumetrace.io.staging import _pid_alive

    for entry in folder.glob(f".*{_TMP_TAG}*"):
        pid = entry.name.split(_TMP_TAG, 1)[1].split("-", 1)[0]
        if pid.isdigit() and not _pid_alive(int(pid)):
            entry.unlink(missing_ok=True)


def _marker_command(folder: Path) -> str | None:
    from plumetrace.io.staging import MARKER

    try:
        return json.loads((folder / MARKER).read_text()).get("command")
    except (OSError, ValueError, AttributeError):
        return None


def prepare_run_folder(out: str | Path, *, overwrite: bool = False, check_only: bool = False) -> Path:
    """Check (and unless ``check_only``, make) the run folder ``out``; return its absolute path.

    An earlier run's folder (its ``.plumetrace`` marker says ``"command": "run"``) is kept and updated in place.
    Another plumetrace output is replaced (emptied); a folder holding anything else is refused unless
    ``overwrite`` (then emptied too). ``overwrite`` on an earlier run's folder starts the campaign over.
    """
    from plumetrace import __version__
    from plumetrace.io.staging import MARKER, prepare_output

    path = prepare_output(out, overwrite=overwrite)
    if check_only:
        return path
    if path.is_dir() and any(path.iterdir()) and (overwrite or _marker_command(path) != RUN_MARKER_COMMAND):
        old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-{os.getpid()}-", dir=path.parent))
        os.rename(path, old / "x")
        shutil.rmtree(old, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    _remove_temporary(path)
    if _marker_command(path) != RUN_MARKER_COMMAND:
        marker = {"written_by": "plumetrace", "version": __version__, "command": RUN_MARKER_COMMAND}
        _write_atomic(path / MARKER, json.dumps(marker) + "\n")
    return path


class _Log:
    """run.log.jsonl: one JSON object a line, appended and flushed as events happen."""

    def __init__(self, path: Path) -> None:
        self.stream = path.open("a", encoding="utf-8")

    def __call__(self, event: str, **fields: Any) -> None:
        from plumetrace.campaign.stages import _now

        self.stream.write(json.dumps({"time": _now(), "event": event, **fields}, default=str) + "\n")
        self.stream.flush()

    def close(self) -> None:
        self.stream.close()


def _entry(plan_input: Any) -> dict[str, Any]:
    item = plan_input.input
    return {
        "id": item.id,
        "kind": "log" if item.kind == "log" else "scene",
        "path": str(item.path),
        "sha256": item.sha256,
        "status": "failed" if plan_input.error else "done",
        "error": plan_input.error,
        "stages": {},
    }


def _record(entry: dict[str, Any], task: StageTask, result: dict[str, Any]) -> None:
    entry["stages"][task.stage] = {
        "status": result["status"],
        "seconds": result.get("seconds", 0.0),
        "params_sha256": task.params_sha256,
    }
    if result["status"] == "failed" and entry["error"] is None:
        entry["status"], entry["error"] = "failed", result["error"]
    elif result["status"] == "skipped" and entry["status"] != "failed":
        entry["status"] = "skipped"


def run_campaign(
    config: CampaignConfig,
    out: Path,
    *,
    scheduler: str | None = None,
    n_workers: int | None = None,
    progress: bool = True,
    overwrite: bool = False,
    detect_threads: int | None = None,
    on_plan: Callable[[CampaignPlan], None] | None = None,
) -> RunSummary:
    """Run a campaign into the run folder ``out`` (docs/run.md), doing only the work not already done.

    Parameters
    ----------
    config : CampaignConfig
        From :func:`plumetrace.campaign.config.load_config` or ``config_from_inputs``.
    out : Path
        The run folder (created; an earlier run's folder is updated in place).
    scheduler : str, optional, keyword-only
        None: a local Dask cluster (:func:`plumetrace.campaign.workers.default_workers` workers);
        ``"synchronous"``: this process, one stage after another; ``tcp://host:port``: an existing
        dask.distributed scheduler (its workers need plumetrace installed and the inputs and ``out`` on a shared
        file system).
    n_workers : int, optional, keyword-only
        Workers of the local cluster.
    progress : bool, keyword-only
        Show progress bars on stderr (when it is a terminal).
    overwrite : bool, keyword-only
        Use a folder plumetrace did not write (emptying it), or start an earlier run over.
    detect_threads : int, optional, keyword-only
        Block threads of each detect stage (default: in this process all cores, at most 8; on a local cluster the
        cores divided among the scenes in flight; on a remote cluster the threads of a worker).
    on_plan : callable, optional, keyword-only
        Called with the checked plan before the run folder is touched.

    Returns
    -------
    RunSummary
        ``exit_code`` 1 when any input failed.

    Raises
    ------
    PlumetraceError
        A problem of the campaign as a whole (:func:`plumetrace.campaign.plan.plan_campaign`), before any file is
        written.
    """
    from plumetrace import __version__
    from plumetrace.campaign.stages import _now

    clock = time.perf_counter()
    path = prepare_run_folder(out, overwrite=overwrite, check_only=True)  # a refused folder costs nothing
    resume = not overwrite and _marker_command(path) == RUN_MARKER_COMMAND  # else the folder is emptied
    hashes = _read_json(path / HASH_CACHE) if resume else {}
    plan = plan_campaign(config, path, hash_cache=hashes)
    if on_plan is not None:
        on_plan(plan)
    entries = {p.input.id: _entry(p) for p in plan.inputs}
    kept: list[StageTask] = []
    todo: list[list[StageTask]] = []
    for p in plan.inputs:
        chain: list[StageTask] = []
        for task in [] if p.error else p.tasks:
            if not chain and resume and is_done(task):
                kept.append(task)
            else:
                chain.append(task)
        if chain:
            todo.append(chain)
    summary = RunSummary(out=path, ran=dict.fromkeys(STAGES, 0), reused=dict.fromkeys(STAGES, 0))
    # the cluster (or the connection to one) first: an unreachable scheduler is refused before the folder is touched
    with executor(scheduler, n_workers=n_workers, n_tasks=len(todo)) if todo else nullcontext() as pool:
        root = prepare_run_folder(out, overwrite=overwrite)
        _write_atomic(root / "campaign.yaml", config_yaml(config))
        _write_atomic(root / HASH_CACHE, json.dumps(hashes, indent=0) + "\n")
        log = _Log(root / "run.log.jsonl")
        started = _now()
        log("start", version=__version__, config_sha256=plan.config_sha256, n_inputs=len(plan.inputs))
        for p in plan.inputs:
            if p.error:
                log("failed", input=p.input.id, stage="plan", error=p.error)
        for task in kept:
            summary.reused[task.stage] += 1
            record = read_task(task.out_dir) or {}
            _record(entries[task.input_id], task, {"status": "done", "seconds": record.get("seconds", 0.0)})
            log("kept", input=task.input_id, stage=task.stage)
        try:
            if todo:
                _execute(todo, pool, entries, summary, log, progress=progress, threads=detect_threads)
            _sites(plan, root, entries, summary, log, progress=progress)
        finally:
            for p in plan.inputs:  # an input the run did not reach (interrupted) is not done
                entry = entries[p.input.id]
                if entry["status"] == "done" and len(entry["stages"]) < len(p.tasks):
                    entry.update(status="skipped", error="not run: the run was interrupted before it")
            summary.inputs = list(entries.values())
            summary.seconds = time.perf_counter() - clock
            run = {
                "plumetrace_version": __version__,
                "config_sha256": plan.config_sha256,
                "started": started,
                "finished": _now(),
                "inputs": summary.inputs,
                "sites": summary.sites,
            }
            _write_atomic(root / "run.json", json.dumps(run, indent=2, default=str) + "\n")
            log("finish", n_failed=summary.n_failed, ran=summary.ran, reused=summary.reused, sites=summary.sites)
            log.close()
    return summary


def _execute(
    todo: list[list[StageTask]],
    pool: Any,
    entries: dict[str, dict[str, Any]],
    summary: RunSummary,
    log: _Log,
    *,
    progress: bool,
    threads: int | None = None,
) -> None:
    """Run every chain of stage tasks (a chain's stages one after the other), recording each result."""
    from plumetrace.progress import progress_bar

    counts = {stage: sum(1 for chain in todo for t in chain if t.stage == stage) for stage in STAGES[:3]}
    total = sum(counts.values())
    if total == 0:
        return
    with progress_bar(disable=None if progress else True) as bars:
        overall = bars.add_task("all stages", total=total)
        per_stage = {stage: bars.add_task(stage, total=n) for stage, n in counts.items() if n}

        def done(task: StageTask, result: dict[str, Any]) -> None:
            _record(entries[task.input_id], task, result)
            if result["status"] == "done":
                summary.ran[task.stage] += 1
            fields = {k: v for k, v in result.items() if k not in ("stage", "id")}
            log(result["status"], input=task.input_id, stage=task.stage, **fields)
            bars.advance(per_stage[task.stage])
            bars.advance(overall)

        n_scene_chains = sum(1 for chain in todo if chain[0].stage != "invert")
        threads = threads or pool.threads_per_task(n_scene_chains)
        pool.run_chains(todo, run_stage, run_after, done, threads=threads)


def _sites(
    plan: CampaignPlan,
    root: Path,
    entries: dict[str, dict[str, Any]],
    summary: RunSummary,
    log: _Log,
    *,
    progress: bool,
) -> None:
    """The sites stage over every finished plumes and invert product (all-or-nothing, skipped when up to date)."""
    products = []
    for p in plan.inputs:
        entry = entries[p.input.id]
        last = p.tasks[-1] if p.tasks else None
        if last is None or entry["status"] != "done":
            continue
        record = read_task(last.out_dir)
        if record is not None:
            products.append((last.out_dir, record["input_sha256"], record["params_sha256"]))
    options = sites_options(plan.config)
    try:
        from plumetrace.products.sites import write_sites
    except ImportError:
        write_sites = None
    if write_sites is None or options is None:
        summary.sites = {"status": "skipped", "n_sites": None, "error": "the sites stage is not installed"}
        log("skipped", stage="sites", error=summary.sites["error"])
        return
    if not products:
        summary.sites = {"status": "skipped", "n_sites": None, "error": "no finished product to fuse"}
        log("skipped", stage="sites", error=summary.sites["error"])
        return
    rel = sorted((str(Path(d).relative_to(root)), i, s) for d, i, s in products)
    task = StageTask(
        stage="sites",
        input_id="sites",
        source=str(root),
        input_sha256=params_sha256(rel),
        params_sha256=params_sha256(plan.config.sites.model_dump(mode="json")),
        out_dir=str(root / "sites"),
    )
    if is_done(task):
        record = read_task(task.out_dir) or {}
        summary.reused["sites"] += 1
        summary.sites = {"status": "done", "n_sites": record.get("n_sites")}
        log("kept", stage="sites")
        return
    from plumetrace.progress import progress_bar

    with progress_bar(disable=None if progress else True) as bars:
        bar = bars.add_task("sites", total=1)
        result = _run_sites(task, [Path(d) for d, _, _ in sorted(products)], options, write_sites)
        bars.advance(bar)
    summary.sites = {"status": result["status"], "n_sites": result.get("n_sites")}
    if result["status"] == "done":
        summary.ran["sites"] += 1
    else:
        summary.sites["error"] = result["error"]
    log(result["status"], stage="sites", **{k: v for k, v in result.items() if k not in ("stage", "id", "status")})


def _run_sites(task: StageTask, product_dirs: list[Path], options: Any, write_sites: Any) -> dict[str, Any]:
    """Sites into ``task.out_dir`` through the stage runner (so it gets staging and ``task.json`` too)."""
    import inspect

    accepted = inspect.signature(write_sites).parameters
    extra = {k: v for k, v in (("final_dir", task.out_dir), ("progress", False)) if k in accepted}

    def sites_stage(task: StageTask, stage: Path) -> dict[str, Any]:
        result = write_sites(product_dirs, stage, options=options, **extra)
        n_sites = getattr(result, "n_sites", None)
        return {"n_sites": None if n_sites is None else int(n_sites)}

    return run_stage(task, sites_stage)
