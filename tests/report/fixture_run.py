"""Run folders (docs/run.md) for the report tests, arranged from real stage products (simulate, detect, plumes, invert).

``campaign_run`` lays out a campaign of three scenes and one sensor log: one scene with a plume (a simulated EMIT
scene), a second overpass of the same area without a plume, one scene that failed, and a simulated drone survey;
``sites/`` is written by the sites stage from those products (two sites: the imaging plume, seen once in two
overpasses, and the in-situ source).
``empty_run`` is a campaign that found nothing. ``minimal_run`` has no products at all (for the bad-input cases).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from plumetrace import __version__

PLUME_TIME = "2026-06-21T18:30:00Z"
CLEAR_TIME = "2026-07-07T18:10:00Z"
LOG_TIME = "2026-06-22T15:00:00Z"
FAILED_ERROR = "emit-0715.hdr: samples: 0 is not a number of samples (a positive integer)"


def stage_products(root: Path) -> Path:
    """Real stage products in ``root``: simulate → detect → plumes of a small EMIT scene with a 3000 kg/h plume
    (``detect/``, ``plumes/``), and invert of a simulated drone survey (``invert/``, its log ``drone.csv``)."""
    from plumetrace.cli import main
    from plumetrace.georef import local_to_lonlat
    from plumetrace.simulate.observations import simulate_survey

    def run(*argv: object) -> None:
        try:
            main([str(a) for a in argv])
        except SystemExit as exc:  # pragma: no cover - a broken fixture
            assert exc.code in (0, None), f"fixture command failed: {argv}"

    run("simulate", "--size", "96x96", "--rate-kg-h", "3000", "--wind-speed", "3", "--seed", "1",
        "--time", PLUME_TIME, "--out", root / "simulate")  # fmt: skip
    run("detect", root / "simulate" / "scene_rdn.hdr", "--out", root / "detect")
    run("plumes", root / "detect" / "enhancement.tif", "--wind-speed", "3", "--wind-dir", "270",
        "--out", root / "plumes")  # fmt: skip
    raw, _ = simulate_survey(kind="drone", emission_rate_g_s=5.0, source_xyz_m=(10.0, -20.0, 2.0), seed=5)
    lon, lat = local_to_lonlat(raw["x_m"].to_numpy(), raw["y_m"].to_numpy(), origin_lon_deg=-102.30,
                               origin_lat_deg=31.90)  # fmt: skip
    ppm_per_mg_m3 = 0.0240548e6 / (1000 * 16.043)  # CH4 at 293.15 K and 101325 Pa
    log = raw.drop(columns=["x_m", "y_m", "z_m", "concentration_mg_m3"]).assign(
        lat=lat, lon=lon, alt_m=raw["z_m"].to_numpy(), concentration_ppm=raw["concentration_mg_m3"] * ppm_per_mg_m3
    )
    log.iloc[::3].to_csv(root / "drone.csv", index=False)  # one reading in three: a third of the inversion's time
    run("invert", root / "drone.csv", "--gas", "ch4", "--source-height", "2", "--out", root / "invert")
    return root


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _footprint(item_json: Path, scene_id: str, time: str, n_plumes: int) -> dict:
    """The footprint Feature of a detect product (docs/run.md), its polygon from the STAC item's geometry."""
    item = json.loads(item_json.read_text())
    return {
        "type": "Feature",
        "geometry": item["geometry"],
        "properties": {
            "scene_id": scene_id,
            "sensor": "emit",
            "gas": "ch4",
            "time": time,
            "pixel_size_m": 60.0,
            "median_sigma_ppm_m": 240.0,
            "wind_speed_m_s": 3.0,
            "detection_limit_kg_h": 1500.0,
            "n_plumes": n_plumes,
            "valid_fraction": 1.0,
        },
    }


def _task(stage: str, input_path: str, seconds: float) -> dict:
    return {
        "stage": stage,
        "input": input_path,
        "input_sha256": "0" * 64,
        "params_sha256": "1" * 64,
        "plumetrace_version": __version__,
        "started": "2026-07-20T10:00:00Z",
        "finished": "2026-07-20T10:00:05Z",
        "seconds": seconds,
    }


def _sites(run: Path) -> None:
    """``run/sites`` written by the sites stage itself (plumetrace.products.sites) from the run's products."""
    from plumetrace.products.sites import write_sites

    sites = run / "sites"
    sites.mkdir()
    summary = write_sites([run], sites, final_dir=sites, progress=False)
    data = json.loads((run / "run.json").read_text())
    data["sites"] = {"status": "done", "n_sites": summary.n_sites}
    (run / "run.json").write_text(json.dumps(data, indent=1))


def _empty_sites(sites: Path) -> None:
    """A sites folder without a site (header-only CSVs, as the sites stage writes them for nothing found)."""
    sites.mkdir(parents=True)
    (sites / "sites.csv").write_text("site_id,lat,lon,pw_rate_kg_h,persistence,confidence\n")
    (sites / "detections.csv").write_text("detection_id,site_id,detected,overpass_id,product_dir\n")
    (sites / "sites.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": []}))


def _base(run: Path, inputs: list[dict]) -> None:
    run.mkdir(parents=True)
    (run / ".plumetrace").write_text(json.dumps({"written_by": "plumetrace", "version": __version__}) + "\n")
    (run / "campaign.yaml").write_text(
        "name: permian-test\nsensor: emit\ngas: ch4\nwind:\n  speed_m_s: 3.0\n  dir_deg: 270.0\n"
        "detect:\n  method: mf\nplumes:\n  high_sigma: 4.0\n  low_sigma: 2.0\n"
    )
    run_json = {
        "plumetrace_version": __version__,
        "config_sha256": hashlib.sha256((run / "campaign.yaml").read_bytes()).hexdigest(),
        "started": "2026-07-20T10:00:00Z",
        "finished": "2026-07-20T10:01:40Z",
        "inputs": inputs,
        "sites": {"status": "done", "n_sites": 0},
    }
    (run / "run.json").write_text(json.dumps(run_json, indent=1))
    (run / "run.log.jsonl").write_text(json.dumps({"event": "finished"}) + "\n")


def _scene_input(input_id: str, path: Path, status: str = "done", error: str | None = None) -> dict:
    stages = {} if status != "done" else {
        "detect": {"status": "done", "seconds": 2.1, "params_sha256": "1" * 64},
        "plumes": {"status": "done", "seconds": 1.2, "params_sha256": "2" * 64},
    }  # fmt: skip
    return {
        "id": input_id,
        "kind": "scene",
        "path": str(path),
        "sha256": _sha256(path) if path.is_file() else "f" * 64,
        "status": status,
        "error": error,
        "stages": stages,
    }


def _add_scene(run: Path, products: Path, input_id: str, time: str, *, with_plume: bool) -> None:
    base = run / "scenes" / input_id
    shutil.copytree(products / "detect", base / "detect")
    plumes = base / "plumes"
    if with_plume:
        shutil.copytree(products / "plumes", plumes)
    else:
        plumes.mkdir(parents=True)
        header = (products / "plumes" / "plumes.csv").read_text().splitlines()[0]
        (plumes / "plumes.csv").write_text(header + "\n")
        (plumes / "plumes.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    real = products / "plumes" / "footprint.geojson"  # written by `plumetrace plumes` (docs/run.md)
    if real.is_file():
        footprint = json.loads(real.read_text())
        footprint["properties"].update(scene_id=input_id, time=time, n_plumes=1 if with_plume else 0)
    else:
        footprint = _footprint(base / "detect" / "item.json", input_id, time, 1 if with_plume else 0)
    (plumes / "footprint.geojson").write_text(json.dumps(footprint))
    for stage in ("detect", "plumes"):
        (base / stage / "task.json").write_text(json.dumps(_task(stage, f"inputs/{input_id}.hdr", 1.5)))


def campaign_run(products: Path, run: Path) -> Path:
    """A run folder with a plume, a clear second overpass, a failed scene and a drone log (module docstring)."""
    scene_file = products / "simulate" / "scene_rdn.hdr"
    log_file = products / "drone.csv"
    inputs = [
        _scene_input("emit-0621", scene_file),
        _scene_input("emit-0707", scene_file),
        _scene_input("emit-0715", run.parent / "missing.hdr", "failed", FAILED_ERROR),
        {
            "id": "drone-0622", "kind": "log", "path": str(log_file), "sha256": _sha256(log_file),
            "status": "done", "error": None,
            "stages": {"invert": {"status": "done", "seconds": 0.9, "params_sha256": "3" * 64}},
        },
    ]  # fmt: skip
    _base(run, inputs)
    _add_scene(run, products, "emit-0621", PLUME_TIME, with_plume=True)
    _add_scene(run, products, "emit-0707", CLEAR_TIME, with_plume=False)
    shutil.copytree(products / "invert", run / "logs" / "drone-0622" / "invert")
    summary = run / "logs" / "drone-0622" / "invert" / "summary.json"
    summary.write_text(json.dumps({**json.loads(summary.read_text()), "time": LOG_TIME}, indent=1))
    _sites(run)
    return run


def empty_run(products: Path, run: Path) -> Path:
    """A run folder whose one scene held no plume: no site."""
    _base(run, [_scene_input("emit-0707", products / "simulate" / "scene_rdn.hdr")])
    _add_scene(run, products, "emit-0707", CLEAR_TIME, with_plume=False)
    _sites(run)
    return run


def minimal_run(run: Path, **run_json_changes) -> Path:
    """A run folder without inputs or sites (bad-input cases edit its run.json with ``run_json_changes``)."""
    _base(run, [])
    _empty_sites(run / "sites")
    if run_json_changes:
        data = json.loads((run / "run.json").read_text())
        data.update(run_json_changes)
        (run / "run.json").write_text(json.dumps(data))
    return run
