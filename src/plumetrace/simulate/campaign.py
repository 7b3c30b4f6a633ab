"""A simulated survey campaign with known truth: sites, dates, scenes, a drone log and a gridded wind file.

:func:`plan_campaign` lays the campaign out from a frozen :class:`CampaignOptions` and a seed (no rendering);
:func:`write_campaign` renders it into a folder that ``plumetrace run`` reads as it would a real campaign:

```
DIR/
  scenes/<scene-id> (+ .hdr)           ENVI radiance, one file per scene (EMIT and AVIRIS-NG presets)
  logs/<log-id>.csv                     drone log (lat/lon layout of docs/observations.md)
  wind.nc                               u10/v10 over time × latitude × longitude (ERA5 layout), hourly
  campaign.yaml                         the run configuration (docs/run.md)
  truth.json                            sites, and per scene and log which sites were covered and on
```

Layout. Sites lie on a north-south line ``site_spacing_m`` apart (with a little east-west jitter) around
``centre``; the wind blows from the west sector (``wind_dir_range_deg``), so plumes run east, away from the other
sites. Rates are log-uniform over ``rate_range_kg_h``, which by default spans the detection limits of both presets
(AVIRIS-NG's ~100 kg/h to EMIT's ~1600 kg/h at 3 m/s, docs/benchmarks.md): some sites are seen by both sensors,
some only by AVIRIS-NG. Each site is *persistent* (on at every date) or *intermittent*: on at
``round(on_fraction × n_dates)`` dates drawn at random (at least one); a site is on or off for a whole date, and a
plume is drawn only where a covered site is on. Each date has EMIT scenes (``emit_shape``, 60 m) centred on a
random site (so neighbours fall inside or outside: overlapping footprints and gaps in coverage) and AVIRIS-NG
scenes (``aviris_shape``, 5 m) over one site each. A site is *covered* by a scene when it lies at least
``edge_margin_px`` pixels inside it; scenes are nudged so that no site sits within a few pixels of an edge (which
would be neither covered nor missed). ``false_alarm_scenes`` AVIRIS-NG scenes lie between two sites, covering none,
over the fully vegetated default background with extra calcite roads: the surfaces that fool a matched filter
(docs/benchmarks.md, "False plumes"). ``drone_logs`` drone surveys fly around sites on dates they are on.

Wind: an hourly field, uniform in space, over the whole campaign; each scene is taken on the hour and simulated with
the file's value at that hour (after rounding the components to the file's float32), so interpolating the file at a
scene's time and place returns exactly the wind of its plumes. Off-scene sites' plumes are not drawn (a
simplification: sites outside a scene are at least a few pixels away and upwind plumes blow east).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from plumetrace.errors import InvalidInputError
from plumetrace.simulate.wind_grid import wind_components, wind_speed_direction, write_wind_grid

__all__ = ["CampaignOptions", "DEMO_CAMPAIGN", "plan_campaign", "write_campaign", "campaign_config", "site_pixel"]

_PIXEL_M = {"emit": 60.0, "aviris-ng": 5.0}
_SCENE_HOURS_UTC = (16, 17, 18, 19, 20, 21)  # 10:00-15:00 local solar time in west Texas: sun well up
_DRONE_HOUR_UTC = 15


@dataclass(frozen=True)
class CampaignOptions:
    """What a simulated campaign holds (every field validated; frozen so a campaign is named by its options).

    Attributes
    ----------
    n_sites : number of emitting sites, 2-12.
    rates_kg_h : each site's CH4 rate, kg/h; default: log-uniform over ``rate_range_kg_h``.
    on_fractions : each site's fraction of dates on (1.0 persistent); default: alternately 1.0 and 0.4.
    n_dates : survey dates, ``date_step_days`` apart from ``start_date``.
    emit_scenes_per_date, aviris_scenes_per_date : scenes of each preset per date.
    false_alarm_scenes : AVIRIS-NG scenes over a false-alarm-prone surface covering no site.
    drone_logs : drone surveys, each around one site on a date it is on.
    emit_shape, aviris_shape : scene sizes, pixels.
    site_spacing_m : distance between neighbouring sites, m.
    rate_range_kg_h : range of the default rates, kg/h.
    wind_speed_range_m_s, wind_dir_range_deg : range of the hourly wind (direction it blows from).
    centre : (lat, lon) of the site line, degrees.
    start_date : first date (ISO).
    date_step_days : days between dates.
    edge_margin_px : a site at least this many pixels inside a scene is covered.
    seed : seed of the whole campaign.
    """

    n_sites: int = 3
    rates_kg_h: tuple[float, ...] | None = None
    on_fractions: tuple[float, ...] | None = None
    n_dates: int = 4
    emit_scenes_per_date: int = 1
    aviris_scenes_per_date: int = 1
    false_alarm_scenes: int = 1
    drone_logs: int = 1
    emit_shape: tuple[int, int] = (64, 64)
    aviris_shape: tuple[int, int] = (96, 96)
    site_spacing_m: float = 1500.0
    rate_range_kg_h: tuple[float, float] = (300.0, 6000.0)
    wind_speed_range_m_s: tuple[float, float] = (2.0, 6.0)
    wind_dir_range_deg: tuple[float, float] = (250.0, 290.0)
    centre: tuple[float, float] = (31.9, -102.3)
    start_date: str = "2026-06-01"
    date_step_days: int = 3
    edge_margin_px: int = 6
    seed: int = 0

    def __post_init__(self) -> None:
        if not 2 <= self.n_sites <= 12:
            raise InvalidInputError("n_sites", f"{self.n_sites} must be 2-12")
        if not 1 <= self.n_dates <= 60:
            raise InvalidInputError("n_dates", f"{self.n_dates} must be 1-60")
        for name in ("emit_scenes_per_date", "aviris_scenes_per_date", "false_alarm_scenes", "drone_logs"):
            if getattr(self, name) < 0:
                raise InvalidInputError(name, f"{getattr(self, name)} must be >= 0")
        for name in ("rates_kg_h", "on_fractions"):
            values = getattr(self, name)
            if values is not None and len(values) != self.n_sites:
                raise InvalidInputError(name, f"{len(values)} values for {self.n_sites} sites")
        if self.rates_kg_h is not None and not all(math.isfinite(q) and q > 0 for q in self.rates_kg_h):
            raise InvalidInputError("rates_kg_h", "every rate must be a positive number of kg/h")
        if self.on_fractions is not None and not all(0 < f <= 1 for f in self.on_fractions):
            raise InvalidInputError("on_fractions", "every on-fraction must lie in (0, 1]")
        lo, hi = self.rate_range_kg_h
        if not 0 < lo <= hi:
            raise InvalidInputError("rate_range_kg_h", f"{self.rate_range_kg_h} must be 0 < min <= max")
        lo, hi = self.wind_speed_range_m_s
        if not 0.5 <= lo <= hi <= 30:
            raise InvalidInputError("wind_speed_range_m_s", f"{self.wind_speed_range_m_s} must lie in 0.5-30 m/s")
        if self.site_spacing_m < 200:
            raise InvalidInputError("site_spacing_m", f"{self.site_spacing_m} m is too close; at least 200 m")
        for name in ("emit_shape", "aviris_shape"):
            shape = getattr(self, name)
            if len(shape) != 2 or min(shape) < 32 or max(shape) > 1024:
                raise InvalidInputError(name, f"{shape} must be (rows, cols) of 32-1024 pixels")
        if self.seed < 0:
            raise InvalidInputError("seed", f"{self.seed} must be >= 0")


# The campaign `plumetrace demo` runs: 3 sites (persistent 4000 kg/h, intermittent 2500 kg/h on 2 of 3 dates,
# persistent 400 kg/h below EMIT's detection limit), 3 dates of one EMIT scene and one AVIRIS-NG scene each, one
# false-alarm-prone scene, one drone log.
DEMO_CAMPAIGN = CampaignOptions(
    n_sites=3,
    rates_kg_h=(4000.0, 2500.0, 400.0),
    on_fractions=(1.0, 0.6, 1.0),
    n_dates=3,
    emit_scenes_per_date=1,
    aviris_scenes_per_date=1,
    false_alarm_scenes=1,
    drone_logs=1,
    emit_shape=(64, 64),
    aviris_shape=(64, 64),
    seed=7,
)


def _utm(lat: float, lon: float) -> Any:
    from pyproj import CRS, Transformer

    zone = int((lon + 180.0) // 6.0) % 60 + 1
    crs = CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)
    return Transformer.from_crs("EPSG:4326", crs, always_xy=True)


def site_pixel(scene: dict[str, Any], lat: float, lon: float) -> tuple[float, float]:
    """(row, col) of a point in a planned scene's grid (pixel centres at whole numbers)."""
    to_utm = _utm(scene["lat"], scene["lon"])
    cx, cy = to_utm.transform(scene["lon"], scene["lat"])
    x, y = to_utm.transform(lon, lat)
    ny, nx = scene["shape"]
    p = scene["pixel_size_m"]
    return (cy + 0.5 * ny * p - y) / p - 0.5, (x - (cx - 0.5 * nx * p)) / p - 0.5


def _inside_px(scene: dict[str, Any], row: float, col: float) -> float:
    """Distance (pixels) from the nearest scene edge, positive inside."""
    ny, nx = scene["shape"]
    return min(row + 0.5, ny - 0.5 - row, col + 0.5, nx - 0.5 - col)


def _place(
    scene: dict[str, Any], sites: list[dict[str, Any]], margin: int, rng: np.random.Generator, local: Any
) -> dict[str, Any]:
    """Nudge the scene centre until every site is clearly covered or clearly outside; record coverage."""
    from plumetrace.georef import local_to_lonlat

    east, north = scene.pop("_east"), scene.pop("_north")
    size = scene["pixel_size_m"] * max(scene["shape"])
    for _attempt in range(200):
        lon, lat = local_to_lonlat(east, north, **local)
        scene["lat"], scene["lon"] = float(lat), float(lon)
        pixels = [site_pixel(scene, s["lat"], s["lon"]) for s in sites]
        depth = [_inside_px(scene, r, c) for r, c in pixels]
        if all(d >= margin or d <= -3 for d in depth):
            break
        north += rng.uniform(-0.1, 0.1) * size
        east += rng.uniform(-0.05, 0.05) * size
    else:  # pragma: no cover - the layout always leaves room
        raise InvalidInputError("site_spacing_m", "no scene placement keeps the sites clear of the scene edges")
    scene["coverage"] = [
        {"site_id": s["site_id"], "covered": bool(d >= margin), "row": float(r), "col": float(c)}
        for s, (r, c), d in zip(sites, pixels, depth, strict=True)
    ]
    return scene


def plan_campaign(options: CampaignOptions = DEMO_CAMPAIGN) -> dict[str, Any]:
    """Lay a campaign out (sites, scenes, logs, hourly wind) without rendering anything.

    Returns
    -------
    The truth document (JSON-ready dict) :func:`write_campaign` writes as ``truth.json``: ``options``,
    ``sites`` (``site_id``, ``lat``, ``lon``, ``rate_kg_h``, ``on_fraction``, ``kind``, ``on_dates``,
    ``on_fraction_realised``), ``scenes`` (``scene_id``, ``file``, ``sensor``, ``time``, ``lat``, ``lon`` of the
    centre, ``shape``, ``pixel_size_m``, ``wind_speed_m_s``, ``wind_dir_deg``, ``false_alarm_surface``, ``seed``
    and ``sites``: per site ``covered``, ``on``, ``row``, ``col``), ``logs`` (``log_id``, ``file``, ``site_id``,
    ``time``, ``rate_kg_h``, ``wind_*``) and ``wind`` (the hourly series written to ``wind.nc``).
    """
    from plumetrace.georef import local_to_lonlat

    o = options
    rng = np.random.default_rng([o.seed, 20])
    local = {"origin_lat_deg": o.centre[0], "origin_lon_deg": o.centre[1]}
    dates = [pd.Timestamp(o.start_date) + pd.Timedelta(days=o.date_step_days * i) for i in range(o.n_dates)]
    # Sites on a north-south line, east-west jitter ±150 m.
    norths = (np.arange(o.n_sites) - 0.5 * (o.n_sites - 1)) * o.site_spacing_m
    easts = rng.uniform(-150.0, 150.0, o.n_sites)
    if o.rates_kg_h is None:
        lo, hi = np.log(o.rate_range_kg_h)
        rates = np.exp(rng.uniform(lo, hi, o.n_sites))
    else:
        rates = np.asarray(o.rates_kg_h, float)
    fractions = o.on_fractions or tuple(1.0 if i % 2 == 0 else 0.4 for i in range(o.n_sites))
    sites = []
    for i in range(o.n_sites):
        lon, lat = local_to_lonlat(easts[i], norths[i], **local)
        n_on = max(1, min(o.n_dates, round(fractions[i] * o.n_dates)))
        on = sorted(rng.choice(o.n_dates, size=n_on, replace=False).tolist())
        sites.append(
            {
                "site_id": f"S{i + 1}",
                "lat": float(lat),
                "lon": float(lon),
                "east_m": float(easts[i]),
                "north_m": float(norths[i]),
                "rate_kg_h": float(round(rates[i], 1)),
                "on_fraction": float(fractions[i]),
                "kind": "persistent" if fractions[i] >= 1.0 else "intermittent",
                "on_dates": [dates[d].strftime("%Y-%m-%d") for d in on],
            }
        )
    # Hourly wind over the whole campaign, uniform in space: a per-date base plus a slow diurnal swing.
    times = pd.date_range(dates[0], dates[-1] + pd.Timedelta(hours=23), freq="h")
    day = np.asarray((times - dates[0]).days // o.date_step_days).clip(0, o.n_dates - 1)
    base_speed = rng.uniform(*o.wind_speed_range_m_s, o.n_dates)[day]
    base_dir = rng.uniform(*o.wind_dir_range_deg, o.n_dates)[day]
    hour = np.asarray(times.hour, float)
    span_s = o.wind_speed_range_m_s[1] - o.wind_speed_range_m_s[0]
    span_d = o.wind_dir_range_deg[1] - o.wind_dir_range_deg[0]
    speed = np.clip(base_speed + 0.1 * span_s * np.sin(2 * np.pi * hour / 24), *o.wind_speed_range_m_s)
    direction = np.clip(base_dir + 0.1 * span_d * np.cos(2 * np.pi * hour / 24), *o.wind_dir_range_deg)
    u, v = wind_components(speed, direction)
    speed, direction = wind_speed_direction(u.astype(np.float32), v.astype(np.float32))  # what the file holds

    def wind_at(when: pd.Timestamp) -> tuple[float, float]:
        k = int(times.get_loc(when))
        return float(speed[k]), float(direction[k])

    scenes: list[dict[str, Any]] = []
    line_east = float(np.mean(easts))
    for d, date in enumerate(dates):
        plan = [("emit", False)] * o.emit_scenes_per_date + [("aviris-ng", False)] * o.aviris_scenes_per_date
        if o.false_alarm_scenes:
            per_date = [k % o.n_dates for k in range(o.false_alarm_scenes)]
            plan += [("aviris-ng", True)] * per_date.count(d)
        for sensor, false_alarm in plan:
            shape = o.emit_shape if sensor == "emit" else o.aviris_shape
            p = _PIXEL_M[sensor]
            width = shape[1] * p
            target = int(rng.integers(o.n_sites))
            if false_alarm:  # between two sites, covering neither
                gap = min(target, o.n_sites - 2)
                north = 0.5 * (norths[gap] + norths[gap + 1])
                east = line_east + 0.25 * width
            elif sensor == "emit":
                north = norths[target] + rng.uniform(-0.25, 0.25) * o.site_spacing_m
                east = line_east + 0.25 * width  # the site line a quarter in from the upwind (west) side
            else:
                north = norths[target] + rng.uniform(-0.1, 0.1) * shape[0] * p
                east = easts[target] + 0.25 * width
            when = date + pd.Timedelta(hours=int(rng.choice(_SCENE_HOURS_UTC)))
            ws, wd = wind_at(when)
            index = len(scenes) + 1
            scene_id = f"{'emit' if sensor == 'emit' else 'ang'}_{when:%Y%m%dt%H%M}_{index:02d}"
            scene = {
                "scene_id": scene_id,
                "file": f"scenes/{scene_id}.hdr",
                "sensor": sensor,
                "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "date": date.strftime("%Y-%m-%d"),
                "shape": [int(shape[0]), int(shape[1])],
                "pixel_size_m": p,
                "wind_speed_m_s": ws,
                "wind_dir_deg": wd,
                "false_alarm_surface": bool(false_alarm),
                "materials": None if false_alarm else ["dry_grass", "shrubs", "soil", "bright_soil"],
                "n_roads": 6 if false_alarm else None,
                "seed": int(rng.integers(2**31)),
                "_east": float(east),
                "_north": float(north),
            }
            scene = _place(scene, sites, o.edge_margin_px, rng, local)
            for entry in scene["coverage"]:
                site = sites[int(entry["site_id"][1:]) - 1]
                entry["on"] = scene["date"] in site["on_dates"]
                entry["plume"] = bool(entry["covered"] and entry["on"])
            scene["sites"] = scene.pop("coverage")
            scenes.append(scene)
    logs = []
    for k in range(o.drone_logs):
        order = sorted(range(o.n_sites), key=lambda i: (sites[i]["on_fraction"], i))  # intermittent sites first
        site = sites[order[k % o.n_sites]]
        date = pd.Timestamp(site["on_dates"][k % len(site["on_dates"])])
        when = date + pd.Timedelta(hours=_DRONE_HOUR_UTC)
        ws, wd = wind_at(when)
        log_id = f"drone_{site['site_id'].lower()}_{when:%Y%m%d}"
        logs.append(
            {
                "log_id": log_id,
                "file": f"logs/{log_id}.csv",
                "site_id": site["site_id"],
                "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "rate_kg_h": site["rate_kg_h"],
                "on": True,
                "wind_speed_m_s": ws,
                "wind_dir_deg": wd,
                "seed": int(rng.integers(2**31)),
            }
        )
    for site in sites:
        seen = [e["on"] for s in scenes for e in s["sites"] if e["site_id"] == site["site_id"] and e["covered"]]
        seen += [True for log in logs if log["site_id"] == site["site_id"]]
        site["n_covered"] = len(seen)
        site["on_fraction_realised"] = float(np.mean(seen)) if seen else None
    return {
        "options": asdict(o),
        "sites": sites,
        "scenes": scenes,
        "logs": logs,
        "wind": {
            "file": "wind.nc",
            "time": [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in times],
            "speed_m_s": [float(x) for x in speed],
            "dir_deg": [float(x) for x in direction],
        },
    }


def _render_scene(folder: Path, scene: dict[str, Any], sites: list[dict[str, Any]]) -> None:
    from plumetrace.io.envi import write_envi
    from plumetrace.simulate.multisource import PointSource, simulate_multisource_scene

    sources = [
        PointSource(e["row"], e["col"], sites[int(e["site_id"][1:]) - 1]["rate_kg_h"], scene["seed"] + 101 * (i + 1))
        for i, e in enumerate(scene["sites"])
        if e["plume"]
    ]
    result, enhancement = simulate_multisource_scene(
        sensor=scene["sensor"],
        shape=tuple(scene["shape"]),
        sources=sources,
        wind_speed_m_s=scene["wind_speed_m_s"],
        wind_dir_deg=scene["wind_dir_deg"],
        seed=scene["seed"],
        lat=scene["lat"],
        lon=scene["lon"],
        acquisition_time=scene["time"],
        materials=None if scene["materials"] is None else tuple(scene["materials"]),
        n_roads=scene["n_roads"],
    )
    write_envi(result, folder / "scenes" / scene["scene_id"])  # data file without extension + .hdr
    scene["max_enhancement_ppm_m"] = float(enhancement.max())
    scene["mass_in_scene_kg"] = float(enhancement.sum() * 6.785e-7 * scene["pixel_size_m"] ** 2)


def _write_log(folder: Path, log: dict[str, Any], site: dict[str, Any]) -> None:
    from plumetrace.georef import local_to_lonlat
    from plumetrace.simulate.observations import simulate_survey

    raw, _ = simulate_survey(
        kind="drone",
        emission_rate_g_s=log["rate_kg_h"] / 3.6,
        source_xyz_m=(0.0, 0.0, 2.0),
        wind_speed_m_s=log["wind_speed_m_s"],
        wind_dir_deg=log["wind_dir_deg"],
        seed=log["seed"],
    )
    raw = raw.iloc[::3].reset_index(drop=True)  # a 1-in-3 s log (neighbouring 1 Hz samples are correlated)
    lon, lat = local_to_lonlat(raw["x_m"], raw["y_m"], origin_lat_deg=site["lat"], origin_lon_deg=site["lon"])
    start = pd.Timestamp(log["time"])
    t = start + pd.to_timedelta(np.arange(len(raw)) * 3.0, unit="s")
    table = pd.DataFrame(
        {
            "time": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "lat": np.round(lat, 7),
            "lon": np.round(lon, 7),
            "alt_m": raw["z_m"],
            "concentration_mg_m3": raw["concentration_mg_m3"],
            "wind_speed_m_s": raw["wind_speed_m_s"],
            "wind_dir_deg": raw["wind_dir_deg"],
            "stability": raw["stability"],
            "sensor": "drone CH4 (simulated)",
        }
    )
    table.to_csv(folder / log["file"], index=False)


def campaign_config(truth: dict[str, Any]) -> dict[str, Any]:
    """The ``plumetrace run`` configuration (docs/run.md) of a planned campaign, paths relative to its folder."""
    return {
        "inputs": [s["file"] for s in truth["scenes"]] + [log["file"] for log in truth["logs"]],
        "wind": {"file": truth["wind"]["file"]},
    }


def write_campaign(
    folder: str | Path, options: CampaignOptions = DEMO_CAMPAIGN, *, progress: bool = True
) -> dict[str, Any]:
    """Render a planned campaign into ``folder`` (created; must be empty or absent) and return its truth.

    Writes the scenes, logs, ``wind.nc``, ``campaign.yaml`` and ``truth.json`` described in the module docstring.
    """
    import yaml

    from plumetrace.progress import track

    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise InvalidInputError("folder", f"{folder} is not empty")
    truth = plan_campaign(options)
    (folder / "scenes").mkdir(parents=True, exist_ok=True)
    if truth["logs"]:
        (folder / "logs").mkdir(exist_ok=True)
    o = options
    lats = [s["lat"] for s in truth["sites"]] + [s["lat"] for s in truth["scenes"]]
    lons = [s["lon"] for s in truth["sites"]] + [s["lon"] for s in truth["scenes"]]
    write_wind_grid(
        folder / truth["wind"]["file"],
        pd.DatetimeIndex(pd.to_datetime(truth["wind"]["time"])),
        np.asarray(truth["wind"]["speed_m_s"]),
        np.asarray(truth["wind"]["dir_deg"]),
        lat_range=(min(lats), max(lats)),
        lon_range=(min(lons), max(lons)),
    )
    for scene in track(truth["scenes"], "simulating campaign scenes", disable=None if progress else True):
        _render_scene(folder, scene, truth["sites"])
    for log in truth["logs"]:
        _write_log(folder, log, truth["sites"][int(log["site_id"][1:]) - 1])
    config = campaign_config(truth)
    (folder / "campaign.yaml").write_text(
        f"# simulated campaign, seed {o.seed}: truth in truth.json\n" + yaml.safe_dump(config, sort_keys=False)
    )
    (folder / "truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    return truth
