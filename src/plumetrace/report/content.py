"""What the report says: the run folder turned into the template's context (numbers formatted, figures embedded).

:func:`report_context` reads nothing itself beyond the products named in the :class:`RunFolder`; every text it
returns is either data (ids, paths, hashes) or a string of the report's catalogue, and every number is formatted for
the report's language.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from plumetrace.report import figures
from plumetrace.report.i18n import N_, Formatter, parse_time
from plumetrace.report.runfolder import LogProducts, RunFolder, SceneProducts, finite

__all__ = ["REASON_LABELS", "data_uri", "report_context", "utm_text"]

#: Names of the ingredients of a site's confidence (sites.csv ``confidence_reasons``) as the report shows them.
REASON_LABELS = {
    "detections": N_("detections"),
    "n_detections": N_("detections"),
    "overpasses": N_("overpasses that could have seen it"),
    "n_overpasses": N_("overpasses that could have seen it"),
    "persistence": N_("persistence"),
    "significance": N_("significance of the detections (σ)"),
    "significance_sigma": N_("significance of the detections (σ)"),
    "agreement": N_("agreement between detections"),
    "rate_agreement": N_("agreement between detections"),
    "sensors": N_("independent sensors"),
    "n_sensors": N_("independent sensors"),
    "kinds": N_("imaging and in-situ agree"),
    "near_detection_limit": N_("detections near the detection limit"),
    "position_spread": N_("spread of the source positions"),
    "near_limit": N_("detections near the detection limit"),
    "total": N_("confidence (sum, between 0 and 1)"),
}
_DETAILS = {"count": N_("count"), "max_sigma": N_("largest significance (σ)"), "z": N_("z-score of the rates")}
_KINDS = {"imaging": N_("imaging"), "in-situ": N_("in situ")}
_STATUS = {"done": N_("processed"), "failed": N_("failed"), "skipped": N_("skipped")}
_INPUT_KINDS = {"scene": N_("scene"), "log": N_("sensor log")}
_WIND_SOURCES = {"command line": N_("given with the processing options")}


def _label(table: dict[str, str], value: Any, tr: Formatter) -> str:
    """A status or kind of run.json in the report's language (the value itself when it is not a known one)."""
    text = str(value or "")
    return tr.gettext(table[text]) if text in table else text


def data_uri(png: bytes) -> str:
    """A PNG as a ``data:`` URI (embedded in the HTML: the report needs no other file)."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def utm_text(lon: float, lat: float, tr: Formatter) -> str:
    """A position in its local UTM zone: ``13N 749 347 E 3 538 532 N`` (metres, locale grouping)."""
    from pyproj import Transformer

    crs = figures.utm_crs(lon, lat)
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    zone = int(crs[-2:])
    hemisphere = "N" if lat >= 0 else "S"
    return f"{zone}{hemisphere} {tr.num(x)}\u00a0m\u00a0E {tr.num(y)}\u00a0m\u00a0N"


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("true", "1", "yes", "1.0")


def _site_rows(run: RunFolder) -> list[dict[str, Any]]:
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
            for row in run.sites.to_dict("records")]  # fmt: skip


def _kinds(text: Any, tr: Formatter) -> str:
    return ", ".join(tr.gettext(_KINDS.get(k, k)) for k in str(text or "").split(";") if k)


def _reasons(text: Any, tr: Formatter) -> list[dict[str, str]]:
    """The confidence's ingredients: [{label, value, weight, contribution, details}] from sites.csv's JSON object."""
    try:
        reasons = json.loads(text) if isinstance(text, str) and text.strip() else {}
    except json.JSONDecodeError:
        return [{"label": str(text), "value": "", "weight": "", "contribution": "", "details": ""}]
    out = []
    for key, entry in reasons.items() if isinstance(reasons, dict) else []:
        entry = entry if isinstance(entry, dict) else {"contribution": entry}
        label = REASON_LABELS.get(key)
        details = "; ".join(
            f"{tr.gettext(_DETAILS[name])}: {tr.num(entry[name], 0 if name == 'count' else 2)}"
            for name in _DETAILS
            if finite(entry.get(name)) is not None
        )
        out.append({
            "label": tr.gettext(label) if label else key.replace("_", " "),
            "value": tr.num(entry.get("value"), 2) if finite(entry.get("value")) is not None else "",
            "weight": tr.num(entry.get("weight"), 2) if finite(entry.get("weight")) is not None else "",
            "contribution": tr.num(entry.get("contribution"), 3) if finite(entry.get("contribution")) is not None else "",
            "details": details,
        })  # fmt: skip
    return out


def _input_of(row: dict[str, Any]) -> str:
    """The run's input id of a detections.csv row: the folder above its product (``scenes/ID/plumes``), else its
    ``input_id`` or ``overpass_id``."""
    product = str(row.get("product_dir") or "")
    if product and product.lower() != "nan":
        path = Path(product)
        if path.name in ("plumes", "invert"):
            return path.parent.name
    for key in ("input_id", "overpass_id"):
        if row.get(key) is not None and str(row[key]) != "nan":
            return str(row[key])
    return ""


def _plume_of(row: dict[str, Any]) -> float | None:
    """The plume id of a detections.csv row: ``plume_id``, else the ``…/plume-N`` end of ``detection_id``."""
    if finite(row.get("plume_id")) is not None:
        return float(row["plume_id"])
    match = re.search(r"plume-(\d+)$", str(row.get("detection_id") or ""))
    return float(match.group(1)) if match else None


def _site_detections(
    run: RunFolder, site: dict[str, Any]
) -> tuple[list[tuple[SceneProducts, dict]], list[LogProducts]]:
    """The imaging detections (scene, plume record) and in-situ inversions behind a site (detections.csv)."""
    table = run.detections
    scenes = {s.input_id: s for s in run.scenes}
    logs = {lg.input_id: lg for lg in run.logs}
    imaging: list[tuple[SceneProducts, dict]] = []
    insitu: list[LogProducts] = []
    if "site_id" in table.columns:
        rows = table[table["site_id"].astype(str) == str(site["site_id"])]
        for row in rows.to_dict("records"):
            if "detected" in row and not _truthy(row["detected"]):
                continue
            input_id = _input_of(row)
            plume_id = _plume_of(row)
            if input_id in logs:
                insitu.append(logs[input_id])
            elif input_id in scenes and plume_id is not None:
                plumes = scenes[input_id].plumes
                match = plumes[pd.to_numeric(plumes["plume_id"], errors="coerce") == plume_id]
                imaging.extend((scenes[input_id], record) for record in match.to_dict("records"))
        return imaging, insitu
    # without detections.csv's links: the detections within 3σ (at least 300 m) of the site's position
    from plumetrace.georef import lonlat_to_local

    reach = max(3.0 * (finite(site.get("position_sigma_m")) or 100.0), 300.0)

    def near(lon: Any, lat: Any) -> bool:
        if finite(lon) is None or finite(lat) is None:
            return False
        x, y = lonlat_to_local(
            float(lon), float(lat), origin_lon_deg=float(site["lon"]), origin_lat_deg=float(site["lat"])
        )
        return math.hypot(float(x), float(y)) <= reach

    for scene in run.scenes:
        imaging.extend(
            (scene, r) for r in scene.plumes.to_dict("records") if near(r.get("source_lon"), r.get("source_lat"))
        )
    insitu.extend(lg for lg in run.logs if near(lg.summary.get("source_lon"), lg.summary.get("source_lat")))
    return imaging, insitu


def _detection(scene: SceneProducts, record: dict, tr: Formatter, read_map: Callable[[Path], Any]) -> dict[str, Any]:
    _ = tr.gettext
    plume_id = int(record["plume_id"])
    time = record.get("time") or (scene.footprint or {}).get("properties", {}).get("time")
    title = _("Scene {scene}, plume {plume}, {time}").format(
        scene=scene.input_id, plume=plume_id, time=tr.datetime(time)
    )
    image = None
    if scene.enhancement_tif is not None and finite(record.get("source_row")) is not None:
        png = figures.quicklook(read_map(scene.enhancement_tif), record, scene.outlines.get(plume_id), tr, title=title)
        image = data_uri(png)
    random_lo, random_hi = record.get("emission_rate_p16_kg_h"), record.get("emission_rate_p84_kg_h")
    return {
        "title": title,
        "image": image,
        "alt": _("Map of plume {plume} in scene {scene}: methane enhancement over the surface, plume outline, source, "
                 "wind arrow, scale bar and north arrow").format(plume=plume_id, scene=scene.input_id),
        "sensor": str(record.get("sensor", "")).upper(),
        "rate": tr.rate(record.get("emission_rate_kg_h")),
        "random_interval": tr.interval(random_lo, random_hi),
        "total_interval": tr.interval(record.get("emission_rate_total_p16_kg_h"), record.get("emission_rate_total_p84_kg_h")),
        "csf": tr.rate(record.get("emission_rate_csf_kg_h")),
        "wind": _("{speed} m/s from {direction}° ({source})").format(
            speed=tr.num(record.get("wind_speed_m_s"), 1), direction=tr.num(record.get("wind_dir_deg")),
            source=_label(_WIND_SOURCES, record.get("wind_source"), tr)),
        "wind_sigma": tr.unit(record.get("wind_speed_sigma_m_s"), "m/s", 1),
        "source": f"{tr.coord(record.get('source_lat'))}, {tr.coord(record.get('source_lon'))}",
        "source_sigma": tr.unit(record.get("source_sigma_m"), "m"),
        "peak_sigma": tr.num(record.get("peak_significance_sigma"), 1),
        "near_limit": _truthy(record.get("near_detection_limit")),
        "bias_factor": tr.num(record.get("selection_bias_factor"), 2),
    }  # fmt: skip


def _insitu(log: LogProducts, tr: Formatter) -> dict[str, Any]:
    _ = tr.gettext
    s = log.summary
    rate_68 = [3.6 * v for v in s.get("emission_rate_68_g_s") or []]
    rate_95 = [3.6 * v for v in s.get("emission_rate_95_g_s") or []]
    image = data_uri(log.posterior_png.read_bytes()) if log.posterior_png is not None else None
    return {
        "title": _("Sensor log {log}").format(log=log.input_id),
        "image": image,
        "alt": _("Posterior map of the source position from sensor log {log}: probability of the source position, "
                 "the sensor's track and its measurements").format(log=log.input_id),
        "detected": bool(s.get("detected", True)),
        "rate": tr.rate(s.get("emission_rate_kg_h")),
        "interval_68": tr.interval(*rate_68) if len(rate_68) == 2 else "—",
        "interval_95": tr.interval(*rate_95) if len(rate_95) == 2 else "—",
        "source": f"{tr.coord(s.get('source_lat'))}, {tr.coord(s.get('source_lon'))}",
        "source_sigma": f"{tr.unit(s.get('source_sd_x_m'), 'm')} × {tr.unit(s.get('source_sd_y_m'), 'm')}",
        "n_obs": tr.num(s.get("n_obs")),
        "significance": tr.num(s.get("significance_sigma"), 1),
    }  # fmt: skip


def _site(run: RunFolder, site: dict[str, Any], tr: Formatter, read_map: Callable[[Path], Any]) -> dict[str, Any]:
    _ = tr.gettext
    lon, lat = float(site["lon"]), float(site["lat"])
    imaging, insitu = _site_detections(run, site)
    series = run.timeseries.get(str(site["site_id"]))
    history = None
    if series is not None and pd.to_datetime(series["time"], utc=True, errors="coerce").notna().any():
        history = data_uri(
            figures.history_plot(series, tr, title=_("Overpasses of {site}").format(site=site["site_id"]))
        )
    n_det, n_over = site.get("n_detections"), site.get("n_overpasses")
    return {
        "id": str(site["site_id"]),
        "lat": tr.coord(lat),
        "lon": tr.coord(lon),
        "utm": utm_text(lon, lat, tr),
        "position_sigma": tr.unit(site.get("position_sigma_m"), "m"),
        "gases": str(site.get("gases") or "").upper().replace(";", ", "),
        "sensors": ", ".join(
            tr.gettext(_KINDS[k]) if k in _KINDS else k.upper() for k in str(site.get("sensors") or "").split(";") if k
        ),
        "kinds": _kinds(site.get("kinds"), tr),
        "pw_rate": tr.rate(site.get("pw_rate_kg_h")),
        "pw_interval": tr.interval(site.get("pw_rate_p16_kg_h"), site.get("pw_rate_p84_kg_h")),
        "mean_rate": tr.rate(site.get("mean_rate_kg_h")),
        "mean_interval": tr.interval(site.get("mean_rate_p16_kg_h"), site.get("mean_rate_p84_kg_h")),
        "persistence": tr.percent(site.get("persistence")),
        "seen": _("{d} of {m}").format(d=tr.num(n_det), m=tr.num(n_over)),
        "first_seen": tr.datetime(site.get("first_seen")),
        "last_seen": tr.datetime(site.get("last_seen")),
        "confidence": tr.num(site.get("confidence"), 2),
        "reasons": _reasons(site.get("confidence_reasons"), tr),
        "detections": [_detection(scene, record, tr, read_map) for scene, record in imaging],
        "insitu": [_insitu(log, tr) for log in insitu],
        "history": history,
        "history_alt": _("Detection history of {site}: emission rate with its 68 % interval at each detection, "
                         "detection limit at each overpass without detection").format(site=site["site_id"]),
    }  # fmt: skip


def _table_row(site: dict[str, Any], tr: Formatter) -> dict[str, Any]:
    return {
        "id": str(site["site_id"]),
        "rate": tr.rate(site.get("pw_rate_kg_h")),
        "rate_sort": finite(site.get("pw_rate_kg_h")) or 0.0,
        "persistence": tr.percent(site.get("persistence")),
        "persistence_sort": finite(site.get("persistence")) or 0.0,
        "confidence": tr.num(site.get("confidence"), 2),
        "confidence_sort": finite(site.get("confidence")) or 0.0,
        "position": f"{tr.coord(site['lat'])}, {tr.coord(site['lon'])}",
        "kinds": _kinds(site.get("kinds"), tr),
        "seen": f"{tr.num(site.get('n_detections'))} / {tr.num(site.get('n_overpasses'))}",
    }


def _coverage(run: RunFolder, tr: Formatter) -> list[dict[str, str]]:
    rows = []
    for scene in run.scenes:
        props = (scene.footprint or {}).get("properties") or {}
        rows.append({
            "id": scene.input_id,
            "sensor": str(props.get("sensor", "")).upper(),
            "time": tr.datetime(props.get("time")),
            "limit": tr.rate(props.get("detection_limit_kg_h")),
            "limit_sort": finite(props.get("detection_limit_kg_h")) or 0.0,
            "pixel": tr.unit(props.get("pixel_size_m"), "m"),
            "valid": tr.percent(props.get("valid_fraction")),
            "plumes": tr.num(len(scene.plumes)),
            "footprint": scene.footprint is not None and scene.footprint.get("geometry") is not None,
        })  # fmt: skip
    return rows


def _provenance(run: RunFolder, tr: Formatter) -> dict[str, Any]:
    inputs = []
    for item in run.inputs:
        stages = item.get("stages") or {}
        inputs.append({
            "id": item.get("id"),
            "kind": _label(_INPUT_KINDS, item.get("kind"), tr),
            "path": item.get("path", ""),
            "sha256": item.get("sha256") or "—",
            "status": _label(_STATUS, item.get("status"), tr),
            "stages": "; ".join(f"{name} {tr.unit(st.get('seconds'), 's', 1)}" for name, st in stages.items()
                                if isinstance(st, dict)),
            "params": "; ".join(f"{name} {str(st.get('params_sha256', ''))[:12]}" for name, st in stages.items()
                                if isinstance(st, dict) and st.get("params_sha256")),
        })  # fmt: skip
    return {
        "run_version": run.run.get("plumetrace_version"),
        "config_sha256": run.run.get("config_sha256", "—"),
        "started": tr.datetime(run.run.get("started")),
        "finished": tr.datetime(run.run.get("finished")),
        "inputs": inputs,
        "config": run.config_text,
    }


def _methods(run: RunFolder, skill: dict[str, Any], tr: Formatter) -> dict[str, Any]:
    sensors = sorted(
        {str((s.footprint or {}).get("properties", {}).get("sensor") or "").lower() for s in run.scenes} - {""}
    )
    limits = [finite((s.footprint or {}).get("properties", {}).get("detection_limit_kg_h")) for s in run.scenes]
    limits = sorted(v for v in limits if v is not None)
    measured = []
    for sensor in sensors:
        row = skill.get("sensors", {}).get(sensor)
        if row is None:
            measured.append({"sensor": sensor.upper(), "known": False})
            continue
        measured.append({
            "sensor": sensor.upper(), "known": True,
            "median_error": tr.percent(row["median_abs_rel_error"]),
            "within_50": tr.percent(row["frac_within_50pct"]),
            "coverage": tr.percent(row["interval68_coverage"]),
            "total_coverage": tr.percent(row["interval68_total_coverage"]),
            "q90": tr.rate(row["q90_at_3m_s_kg_h"]),
            "source_error": tr.unit(row["source_error_median_m"], "m"),
            "false_plumes": tr.num(row["false_plumes_per_100km2"]),
            "n_detected": tr.num(row["n_detected"]), "n_cases": tr.num(row["n_cases"]),
        })  # fmt: skip
    return {
        "sensors": ", ".join(s.upper() for s in sensors) or "—",
        "log_sensors": sorted({str(lg.summary.get("gas", "")).upper() for lg in run.logs} - {""}),
        "n_logs": len(run.logs),
        "limit_min": tr.rate(limits[0]) if limits else "—",
        "limit_max": tr.rate(limits[-1]) if limits else "—",
        "measured": measured,
        "skill_date": tr.date(skill.get("measured")),
        "skill_machine": tr.gettext("{cpus} CPU cores, {memory} GiB memory, Python {python}").format(
            cpus=skill.get("machine", {}).get("cpu_count", "?"), memory=tr.num(skill.get("machine", {}).get("memory_gib"), 1),
            python=skill.get("machine", {}).get("python", "?")),
    }  # fmt: skip


def report_context(
    run: RunFolder, tr: Formatter, *, skill: dict[str, Any], generated: str, version: str
) -> dict[str, Any]:
    """The template's context for the report of ``run`` in ``tr.lang`` (figures embedded as data URIs).

    Parameters
    ----------
    run : RunFolder
    tr : Formatter
    skill : dict
        :func:`plumetrace.report.skill.load_skill`.
    generated : str
        ISO 8601 UTC time the report is made.
    version : str
        plumetrace version making the report.
    """
    from plumetrace.io.cog import read_enhancement

    maps: dict[Path, Any] = {}

    def read_map(path: Path) -> Any:
        if path not in maps:
            maps[path] = read_enhancement(path)
        return maps[path]

    sites = _site_rows(run)
    footprints = [s.footprint for s in run.scenes if s.footprint and s.footprint.get("geometry")]
    overview = data_uri(figures.overview_map(sites, footprints, tr))
    scene_times = [(s.footprint or {}).get("properties", {}).get("time") for s in run.scenes]
    scene_times += [lg.summary.get("time") for lg in run.logs]
    scene_times = sorted((t for t in scene_times if parse_time(t) is not None), key=parse_time)
    return {
        "lang": tr.lang,
        "version": version,
        "generated": tr.datetime(generated),
        "run_name": run.path.name,
        "n_inputs": len(run.inputs),
        "n_scenes": len(run.scenes),
        "n_logs": len(run.logs),
        "n_failed": len(run.failed),
        "n_sites": len(sites),
        "period": (f"{tr.date(scene_times[0])} – {tr.date(scene_times[-1])}" if scene_times else "—"),
        "overview": overview,
        "table": [_table_row(site, tr) for site in sites],
        "sites": [_site(run, site, tr, read_map) for site in sites],
        "coverage": _coverage(run, tr),
        "failed": [
            {
                "id": i.get("id"),
                "kind": _label(_INPUT_KINDS, i.get("kind"), tr),
                "path": i.get("path", ""),
                "status": _label(_STATUS, i.get("status"), tr),
                "error": i.get("error") or "—",
            }
            for i in run.failed
        ],  # fmt: skip
        "methods": _methods(run, skill, tr),
        "provenance": _provenance(run, tr),
    }
