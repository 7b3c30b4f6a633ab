"""The campaign configuration of ``plumetrace run``: a YAML file (or command-line inputs) validated with pydantic.

Every section holds the options of one stage with that stage's own defaults: ``detect`` the fields of
:class:`plumetrace.detect.options.DetectOptions`, ``plumes`` those of :class:`plumetrace.plumes.segment.SegmentParams`
plus the quantification keywords of :func:`plumetrace.plumes.pipeline.analyze_plumes`, ``invert`` the inversion
options of ``plumetrace invert``, ``sites`` those of :class:`plumetrace.sites.SiteOptions`. A key that is not an
option, a value of the wrong type, or a file that does not exist is one line naming the key
(``campaign.yaml: wind.file: /data/era5.nc does not exist``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import typing
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from plumetrace.errors import InvalidFileError, InvalidInputError, MissingFileError

__all__ = [
    "CampaignConfig",
    "WindConfig",
    "Override",
    "load_config",
    "config_from_inputs",
    "config_from_mapping",
    "default_config_yaml",
    "config_yaml",
    "params_sha256",
    "sites_options",
]

_STRICT = ConfigDict(extra="forbid", frozen=True)

#: DetectOptions fields a campaign does not expose: the runner sets them (threads, progress, direct reads).
_DETECT_INTERNAL = ("n_threads", "progress", "direct_read")


def _section(name: str, cls: type, *, skip: tuple[str, ...] = (), extra: dict[str, Any] | None = None) -> type:
    """A strict pydantic model with the fields, types and defaults of the dataclass ``cls``."""
    hints = typing.get_type_hints(cls)
    fields: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        if field.name in skip:
            continue
        default = field.default if field.default is not dataclasses.MISSING else field.default_factory()  # type: ignore[misc]
        fields[field.name] = (hints[field.name], default)
    fields.update(extra or {})
    return create_model(name, __config__=_STRICT, **fields)


def _detect_section() -> type:
    from plumetrace.detect.options import DetectOptions

    return _section("DetectSection", DetectOptions, skip=_DETECT_INTERNAL)


def _plumes_section() -> type:
    from plumetrace.plumes.segment import SegmentParams

    return _section(
        "PlumesSection",
        SegmentParams,
        extra={
            "sensor": (str | None, None),
            "pixel_size_m": (float | None, None),
            "units": (str | None, None),
            "ueff": (tuple[float, float] | None, None),
            "n_samples": (int, 4000),
            "csf_samples": (int, 200),
            "seed": (int, 0),
        },
    )


def _sites_fields() -> dict[str, Any]:
    """Field name -> (type, default) of ``SiteOptions``; empty while the sites stage is not installed."""
    try:
        from plumetrace.sites import SiteOptions
    except ImportError:
        return {}
    hints = typing.get_type_hints(SiteOptions)
    out = {}
    for field in dataclasses.fields(SiteOptions):
        default = field.default if field.default is not dataclasses.MISSING else field.default_factory()  # type: ignore[misc]
        out[field.name] = (hints[field.name], default)
    return out


class WindConfig(BaseModel):
    """The 10 m wind of the scenes: one value for all, or a file (CSV series or gridded NetCDF such as ERA5)."""

    model_config = _STRICT
    speed_m_s: float | None = None
    direction_deg: float | None = None
    speed_sigma_m_s: float | None = None
    direction_sigma_deg: float = 20.0
    file: Path | None = None


class InvertSection(BaseModel):
    """Options of ``plumetrace invert`` for every sensor log."""

    model_config = _STRICT
    origin: tuple[float, float] | None = None
    gas: str | None = None
    source_xy: tuple[float, float] | None = None
    prior_box_xy: tuple[float, float, float, float] | None = None
    source_height_m: list[float] = Field(default_factory=lambda: [0.5])
    wind_height_m: float = 10.0
    roughness_length_m: float = 0.03
    background_mg_m3: float | None = None
    wind_average_s: float = 60.0
    mass_balance: bool = False
    seed: int = 0


DetectSection = _detect_section()
PlumesSection = _plumes_section()
SitesSection = create_model("SitesSection", __config__=_STRICT, **_sites_fields())


class Override(BaseModel):
    """Settings of one input (keyed by its id or file name) replacing the campaign's."""

    model_config = _STRICT
    wind: dict[str, Any] | None = None
    detect: dict[str, Any] | None = None
    plumes: dict[str, Any] | None = None
    invert: dict[str, Any] | None = None


class CampaignConfig(BaseModel):
    """A whole campaign: inputs, wind, the stages' options and per-input overrides."""

    model_config = _STRICT
    inputs: list[Path] = Field(default_factory=list)
    wind: WindConfig = Field(default_factory=WindConfig)
    detect: DetectSection = Field(default_factory=DetectSection)  # type: ignore[valid-type]
    plumes: PlumesSection = Field(default_factory=PlumesSection)  # type: ignore[valid-type]
    invert: InvertSection = Field(default_factory=InvertSection)
    sites: SitesSection = Field(default_factory=SitesSection)  # type: ignore[valid-type]
    overrides: dict[str, Override] = Field(default_factory=dict)
    allow_mixed_gases: bool = False
    allow_mixed_units: bool = False
    source: str | None = Field(default=None, exclude=True)  # the file the config came from (errors name it)
    kind: Literal["file", "command line"] = Field(default="command line", exclude=True)

    def section(self, name: str, override: Override | None = None) -> dict[str, Any]:
        """The options of section ``name`` as a plain dict, with ``override``'s entries for it applied."""
        values = getattr(self, name).model_dump(mode="python")
        extra = getattr(override, name, None) if override is not None else None
        if extra and name == "wind":  # a per-input value replaces the campaign's file, and a file its value
            if "file" in extra:
                values.update(speed_m_s=None, direction_deg=None, speed_sigma_m_s=None)
            elif {"speed_m_s", "direction_deg"} & extra.keys():
                values.update(file=None)
        if extra:
            model = type(getattr(self, name))
            values = model(**{**values, **extra}).model_dump(mode="python")
        return values


def _key(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _validation_problem(error: ValidationError) -> tuple[str, str]:
    first = error.errors()[0]
    loc = tuple(p for p in first["loc"] if not (isinstance(p, str) and p.startswith(("function-", "union["))))
    kind = first["type"]
    if kind == "extra_forbidden":
        return _key(loc), "unknown key (plumetrace run --print-config lists every key)"
    value = first.get("input")
    shown = repr(value) if not isinstance(value, dict) else "a mapping"
    return _key(loc), f"{first['msg'].lower()} (got {shown[:60]})"


def _build(data: Any, *, where: str, kind: str, base_dir: Path) -> CampaignConfig:
    def fail(key: str, problem: str) -> InvalidFileError | InvalidInputError:
        return InvalidFileError(where, key, problem) if kind == "file" else InvalidInputError(key, problem)

    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise fail("(top level)", f"must be a mapping of sections, got {type(data).__name__}")
    try:
        config = CampaignConfig(**data, source=where, kind=kind)
    except ValidationError as exc:
        raise fail(*_validation_problem(exc)) from None
    except TypeError as exc:  # a non-string key
        raise fail("(top level)", str(exc)) from None
    for name, override in config.overrides.items():
        for section in ("wind", "detect", "plumes", "invert"):
            extra = getattr(override, section)
            if extra:
                try:
                    config.section(section, override)
                except ValidationError as exc:
                    key, problem = _validation_problem(exc)
                    raise fail(f"overrides.{name}.{section}.{key}", problem) from None
    resolved = [_existing(p, base_dir, f"inputs[{i}]", fail) for i, p in enumerate(config.inputs)]
    wind_file = config.wind.file
    if wind_file is not None:
        wind_file = _existing(wind_file, base_dir, "wind.file", fail)
    overrides = dict(config.overrides)
    for name, override in config.overrides.items():
        if override.wind and override.wind.get("file") is not None:
            path = _existing(Path(override.wind["file"]), base_dir, f"overrides.{name}.wind.file", fail)
            overrides[name] = override.model_copy(update={"wind": {**override.wind, "file": path}})
    return config.model_copy(
        update={"inputs": resolved, "wind": config.wind.model_copy(update={"file": wind_file}), "overrides": overrides}
    )


def _existing(path: Path, base_dir: Path, key: str, fail: Any) -> Path:
    full = path if path.is_absolute() else base_dir / path
    if not full.exists():
        raise fail(key, f"{full} does not exist")
    return full.resolve()


def load_config(path: str | Path) -> CampaignConfig:
    """Read and validate a campaign YAML file; relative paths in it are relative to its folder.

    Raises
    ------
    MissingFileError
        No file at ``path``.
    InvalidFileError
        Naming the file and the key: not YAML, an unknown key, a wrong type, a file it names that does not exist.
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path, "campaign file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise InvalidFileError(path, "yaml", f"not readable as YAML{where}") from None
    return _build(data, where=str(path), kind="file", base_dir=path.resolve().parent)


def config_from_mapping(data: dict[str, Any], *, where: str, base_dir: Path) -> CampaignConfig:
    """A configuration from a mapping of sections (a campaign file's content, edited), errors naming ``where``."""
    return _build(data, where=where, kind="file", base_dir=base_dir)


def config_from_inputs(inputs: list[Path], settings: dict[str, Any] | None = None) -> CampaignConfig:
    """A configuration from command-line inputs and ``settings`` (the sections, e.g. from ``--set``)."""
    data = dict(settings or {})
    data["inputs"] = [str(p) for p in inputs] + list(data.get("inputs", []))
    return _build(data, where="command line", kind="command line", base_dir=Path.cwd())


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, float) and value == float("inf"):
        return ".inf"
    return value


def config_yaml(config: CampaignConfig) -> str:
    """The resolved configuration as YAML, every default written out."""
    import yaml

    data = _plain(config.model_dump(mode="python"))
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def default_config_yaml() -> str:
    """Every key with its default, as YAML (``plumetrace run --print-config``)."""
    text = config_yaml(CampaignConfig())
    return "# plumetrace run: every key with its default (relative paths are relative to this file)\n" + text.replace(
        "'.inf'", ".inf"
    )


def params_sha256(values: Any) -> str:
    """SHA-256 of a canonical JSON of ``values`` (the parameter hash of a stage)."""
    text = json.dumps(_plain(values), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def sites_options(config: CampaignConfig) -> Any:
    """``SiteOptions`` of the configuration, or None while the sites stage is not installed."""
    try:
        from plumetrace.sites import SiteOptions
    except ImportError:
        return None
    return SiteOptions(**config.sites.model_dump(mode="python"))
