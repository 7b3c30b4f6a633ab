"""From a campaign configuration to the stage tasks of every input, checked before any work.

:func:`plan_campaign` finds the inputs, checks every option of every stage (with the inputs' overrides) naming the
configuration key, reads each scene's time and place where a wind file must cover them, refuses gases or map units
mixed without saying so, and returns the tasks. A problem of the campaign as a whole (a bad option, a wind file that
does not cover a scene, duplicate inputs) raises; a problem of one input (a scene that cannot be read) is recorded
on that input, which then fails alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plumetrace.campaign.config import CampaignConfig, Override, params_sha256
from plumetrace.campaign.inputs import CampaignInput, cached_sha256, discover_inputs
from plumetrace.campaign.stages import StageTask, inversion_inputs, one_line
from plumetrace.errors import InvalidFileError, InvalidInputError, PlumetraceError

__all__ = ["InputPlan", "CampaignPlan", "plan_campaign"]

#: Library parameter names (as the stages' errors name them) -> the configuration key.
_INVERT_KEYS = {
    "source_known": "source_xy",
    "prior_box": "prior_box_xy",
    "source_heights_m": "source_height_m",
}
_WIND_KEYS = {
    "wind speed": "speed_m_s",
    "wind direction": "direction_deg",
    "wind sigma": "speed_sigma_m_s",
    "wind speed sigma": "speed_sigma_m_s",
    "wind direction sigma": "direction_sigma_deg",
}


@dataclass
class InputPlan:
    """One input and its stage tasks in order (``error``: why it cannot run at all, found while planning)."""

    input: CampaignInput
    tasks: list[StageTask] = field(default_factory=list)
    error: str | None = None


@dataclass
class CampaignPlan:
    """Every input's tasks, the resolved configuration and its hash."""

    config: CampaignConfig
    inputs: list[InputPlan]
    config_sha256: str


class _Namer:
    """Raises errors naming a configuration key (of the campaign file, or of the command line)."""

    def __init__(self, config: CampaignConfig) -> None:
        self.config = config

    def __call__(self, key: str, problem: str) -> PlumetraceError:
        if self.config.kind == "file":
            return InvalidFileError(self.config.source or "campaign", key, problem)
        return InvalidInputError(key, problem)

    def check(self, prefix: str, function: Any, *args: Any, renames: dict[str, str] | None = None, **kw: Any) -> Any:
        try:
            return function(*args, **kw)
        except InvalidInputError as exc:
            name = (renames or {}).get(exc.field, exc.field)
            raise self(f"{prefix}.{name}", exc.problem) from None


def _prefix(section: str, input_id: str | None, override: Override | None) -> str:
    if input_id is not None and override is not None and getattr(override, section):
        return f"overrides.{input_id}.{section}"
    return section


def _check_detect(params: dict[str, Any], name: _Namer, prefix: str) -> None:
    from plumetrace.detect.options import DetectOptions

    values = dict(params, window_nm=tuple(params["window_nm"]))
    name.check(prefix, lambda: DetectOptions(**values).validated())


def _check_plumes(params: dict[str, Any], name: _Namer, prefix: str) -> None:
    from plumetrace.plumes.pipeline import check_plume_options
    from plumetrace.plumes.segment import SegmentParams

    segment = {k: params[k] for k in SegmentParams.__dataclass_fields__}
    name.check(prefix, lambda: SegmentParams(**segment).validated())
    name.check(
        prefix,
        check_plume_options,
        seed=params["seed"],
        pixel_size_m=params.get("pixel_size_m"),
        sensor=params.get("sensor"),
        renames={"sensor_name": "sensor", "pixel size": "pixel_size_m"},
    )
    for key, low in (("n_samples", 100), ("csf_samples", 0)):
        if params[key] < low:
            raise name(f"{prefix}.{key}", f"{params[key]} must be at least {low}")
    if params.get("units") is not None:
        from plumetrace.io.map_units import UNITS_HELP, ppm_m_factor

        if ppm_m_factor(params["units"]) is None:
            raise name(f"{prefix}.units", f"{params['units']!r} is not a column enhancement unit; use {UNITS_HELP}")
    if params.get("ueff") is not None:
        a, b = params["ueff"]
        if not (0 < a <= 2 and -2 <= b <= 5):
            raise name(f"{prefix}.ueff", f"A={a:g}, B={b:g} out of range (0 < A <= 2, -2 <= B <= 5)")


def _check_wind(wind: dict[str, Any], name: _Namer, prefix: str) -> None:
    from plumetrace.plumes.wind import read_wind_series, wind_from_options

    if wind.get("file") is not None:
        if any(wind.get(k) is not None for k in ("speed_m_s", "direction_deg", "speed_sigma_m_s")):
            raise name(f"{prefix}.file", "give either speed_m_s/direction_deg or a file, not both")
        read_wind_series(wind["file"])  # errors name the file and its field
        return
    if wind.get("speed_m_s") is None and wind.get("direction_deg") is None:
        raise name(prefix, "no wind for the scenes: give speed_m_s and direction_deg, or a file (CSV or NetCDF)")
    name.check(
        prefix,
        wind_from_options,
        wind.get("speed_m_s"),
        wind.get("direction_deg"),
        speed_sigma_m_s=wind.get("speed_sigma_m_s"),
        direction_sigma_deg=wind.get("direction_sigma_deg", 20.0),
        renames=_WIND_KEYS,
    )


def _check_invert(params: dict[str, Any], name: _Namer, prefix: str) -> None:
    from plumetrace.insitu.options import validate_inversion_inputs

    name.check(prefix, validate_inversion_inputs, **inversion_inputs(params), renames=_INVERT_KEYS)


def _scene_place(item: CampaignInput, units: str | None) -> tuple[Any, list[tuple[float, float]], dict[str, Any]]:
    """Acquisition time, centre and corner (lat, lon) points, and attrs of a scene or map (lazy read)."""
    import numpy as np

    if item.kind == "map":
        from plumetrace.io.cog import read_enhancement

        ds = read_enhancement(item.path, units=units)
    else:
        from plumetrace.io.open_scene import open_scene

        ds = open_scene(item.path)
    attrs = dict(ds.attrs)
    points: list[tuple[float, float]] = []
    if "lat" in ds.coords and "lon" in ds.coords:
        lat, lon = np.asarray(ds["lat"].values, float), np.asarray(ds["lon"].values, float)
        ok = np.isfinite(lat) & np.isfinite(lon)
        if ok.any():
            la, lo = lat[ok], lon[ok]
            points = [(float(la.mean()), float(lo.mean()))] + [
                (float(a), float(b)) for a in (la.min(), la.max()) for b in (lo.min(), lo.max())
            ]
    elif attrs.get("crs") and attrs.get("transform") is not None:
        from plumetrace.io.stac import footprint_wgs84

        shape = (int(ds.sizes["y"]), int(ds.sizes["x"]))
        _, (w, s, e, n) = footprint_wgs84(attrs["crs"], attrs["transform"], shape)
        points = [((s + n) / 2, (w + e) / 2), (s, w), (s, e), (n, w), (n, e)]
    return attrs.get("acquisition_time"), points, attrs


def plan_campaign(config: CampaignConfig, out: Path, *, hash_cache: dict[str, str] | None = None) -> CampaignPlan:
    """Check ``config`` and its inputs and return the stage tasks of every input (run folder ``out``).

    Raises
    ------
    InvalidInputError, InvalidFileError, MissingFileError
        A bad option (naming its configuration key), no or duplicate inputs, an empty input folder, an override
        for an input that does not exist, a wind file that does not cover a scene's time or place, gases or map
        units mixed without ``allow_mixed_gases`` / ``allow_mixed_units`` or an override stating them.
    """
    from plumetrace.plumes.wind import check_wind_coverage, read_wind_series

    name = _Namer(config)
    inputs = discover_inputs(config.inputs, hash_cache=hash_cache)
    by_name = {i.id: i for i in inputs} | {i.path.name: i for i in inputs}
    for key in config.overrides:
        if key not in by_name:
            raise name(f"overrides.{key}", "names no input (use an input id or file name; ids are file stems)")
    overrides = {by_name[k].id: v for k, v in config.overrides.items()}
    _check_detect(config.section("detect"), name, "detect")
    _check_plumes(config.section("plumes"), name, "plumes")
    _check_invert(config.section("invert"), name, "invert")
    series: dict[str, dict[str, Any]] = {}
    wind_sha: dict[str, str] = {}
    plans: list[InputPlan] = []
    gases: list[tuple[str, CampaignInput, bool]] = []
    units: list[tuple[str, CampaignInput, bool]] = []
    overpasses: dict[tuple[Any, ...], CampaignInput] = {}
    for item in inputs:
        override = overrides.get(item.id)
        plan = InputPlan(item)
        plans.append(plan)
        if item.kind == "log":
            params = config.section("invert", override)
            _check_invert(params, name, _prefix("invert", item.id, override))
            stated = bool(override and override.invert and "gas" in override.invert)
            params["gas"] = params.get("gas") or config.detect.gas
            if params["gas"]:
                gases.append((str(params["gas"]).lower(), item, stated))
            plan.tasks.append(_task("invert", item, item.path, params, Path(out) / "logs" / item.id / "invert"))
            continue
        wind = config.section("wind", override)
        _check_wind(wind, name, _prefix("wind", item.id, override))
        plumes = config.section("plumes", override)
        _check_plumes(plumes, name, _prefix("plumes", item.id, override))
        wind_hash = None
        if wind.get("file") is not None:
            file = str(wind["file"])
            if file not in series:
                series[file] = read_wind_series(file)
                wind_sha[file] = cached_sha256([Path(file)], hash_cache)
            wind_hash = wind_sha[file]
        try:
            when, points, attrs = _scene_place(item, plumes.get("units"))
        except Exception as exc:  # noqa: BLE001 - an unreadable scene fails alone, the campaign goes on
            plan.error = one_line(exc)
            continue
        if when is not None and points:
            gas = attrs.get("gas") if item.kind == "map" else config.section("detect", override)["gas"]
            place = (round(points[0][0], 4), round(points[0][1], 4))
            key = (str(attrs.get("sensor", "")), str(when), str(gas).lower(), *place)
            if key in overpasses:
                raise InvalidFileError(
                    item.path,
                    "inputs",
                    f"the same overpass as {overpasses[key].path} (sensor, time, gas and centre agree); "
                    "a scene given twice, in two formats or as scene and map, would count its detections twice",
                )
            overpasses[key] = item
        if wind.get("file") is not None:
            if when is None:
                plan.error = f"{item.path}: acquisition_time: missing; no time to sample {wind['file']} at"
                continue
            check_wind_coverage(series[str(wind["file"])], wind["file"], time=when, points_lat_lon=points or None)
        base = Path(out) / "scenes" / item.id
        upstream = None
        source = item.path
        if item.kind == "scene":
            detect = config.section("detect", override)
            _check_detect(detect, name, _prefix("detect", item.id, override))
            gases.append(
                (str(detect["gas"]).lower(), item, bool(override and override.detect and "gas" in override.detect))
            )
            detect_task = _task("detect", item, item.path, detect, base / "detect")
            plan.tasks.append(detect_task)
            upstream = detect_task.params_sha256
            source = base / "detect" / "enhancement.tif"
        else:
            gases.append((str(attrs.get("gas") or "ch4").lower(), item, False))
            stated_units = bool(override and override.plumes and "units" in override.plumes)
            units.append((str(attrs.get("source_units") or attrs.get("units") or "ppm m"), item, stated_units))
        params = dict(plumes, wind=wind)
        hashed = {"plumes": plumes, "wind": wind, "wind_file_sha256": wind_hash, "detect": upstream}
        plan.tasks.append(_task("plumes", item, source, params, base / "plumes", hashed=hashed))
    if not config.allow_mixed_gases:
        _refuse_mixed(gases, "gas", "gases", "allow_mixed_gases: true", name)
    if not config.allow_mixed_units:
        _refuse_mixed(units, "units", "map units", "allow_mixed_units: true", name)
    return CampaignPlan(config, plans, params_sha256(config.model_dump(mode="json")))


def _refuse_mixed(
    values: list[tuple[str, CampaignInput, bool]], field: str, what: str, flag: str, name: _Namer
) -> None:
    unstated = [(value, item) for value, item, stated in values if not stated]  # a stated one is the user's say
    if not unstated:
        return
    first, first_item = unstated[0]
    for value, item in unstated[1:]:
        if value != first:
            raise InvalidFileError(
                item.path,
                field,
                f"{value!r} differs from {first!r} of {first_item.path.name}; mixing {what} must be said: "
                f"{flag} in the campaign, or overrides.{item.id} stating it",
            )


def _task(
    stage: str, item: CampaignInput, source: Path, params: dict[str, Any], out_dir: Path, *, hashed: Any = None
) -> StageTask:
    return StageTask(
        stage=stage,
        input_id=item.id,
        source=str(source),
        input_sha256=item.sha256,
        params_sha256=params_sha256(hashed if hashed is not None else params),
        params=params,
        out_dir=str(out_dir),
    )
