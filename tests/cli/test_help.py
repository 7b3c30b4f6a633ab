"""Every command's --help follows docs/cli.md: documented option names, uniform placeholders, required marked,
commands in pipeline order; deprecated spellings hidden but still working; --version."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import typer.main

from plumetrace import __version__
from plumetrace.cli import app
from plumetrace.cli._app import PIPELINE, PLACEHOLDERS

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def _section(title: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def _table_first_column(title: str) -> list[str]:
    rows = [line for line in _section(title).splitlines() if line.startswith("| `")]
    return [row.split("|")[1] for row in rows]


VOCABULARY = {name for cell in _table_first_column("Vocabulary") for name in re.findall(r"--?[a-z][a-z0-9-]*", cell)}
DEPRECATED_DOC = {
    (row.split("|")[3].strip(), row.split("|")[1].strip(" `"), row.split("|")[2].strip(" `"))
    for row in _section("Deprecated spellings").splitlines()
    if row.startswith("| `")
}

GROUP = typer.main.get_command(app)
COMMANDS = list(GROUP.list_commands(None))


@pytest.fixture(autouse=True)
def _wide_help(monkeypatch):
    monkeypatch.setenv("TERMINAL_WIDTH", "400")  # one help line per option


def _help(run_cli, *command: str) -> str:
    code, out, err = run_cli(*command, "--help")
    assert code == 0, err
    return out


def test_commands_in_pipeline_order(run_cli):
    out = _help(run_cli)
    listed = [name for line in out.splitlines() if (name := line.strip("│ ").split(" ")[0]) in PIPELINE]
    assert listed == list(PIPELINE) == COMMANDS


def test_version(run_cli):
    code, out, _ = run_cli("--version")
    assert code == 0 and out.strip() == f"plumetrace {__version__}"
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)
    from importlib.metadata import version

    assert version("plumetrace") == __version__  # the installed metadata (pyproject.toml) says the same


@pytest.mark.parametrize("name", COMMANDS)
def test_help_follows_the_vocabulary(run_cli, name):
    command = GROUP.commands[name]
    out = _help(run_cli, name)
    rows = {line.strip("│ *").split(" ")[0]: line for line in out.splitlines() if line.strip("│ *").startswith("-")}
    shown = [p for p in command.params if not p.hidden]
    for param in shown:
        names = [*param.opts, *param.secondary_opts]
        undocumented = [n for n in names if n not in VOCABULARY and param.param_type_name == "option"]
        assert not undocumented, f"{name}: {undocumented} not in the docs/cli.md vocabulary"
        if param.param_type_name == "argument":
            assert param.metavar and param.metavar.isupper(), f"{name}: argument {param.name} has no capital name"
            continue
        row = rows[param.opts[0]]
        if param.is_flag:
            assert param.metavar == "", f"{name} {param.opts[0]}: a flag shows no placeholder"
        else:
            assert param.metavar in PLACEHOLDERS, f"{name} {param.opts[0]}: placeholder {param.metavar!r}"
            assert f" {param.metavar} " in row
        assert "<" not in row, row  # no typer type labels like <float> or <list[Path]>
        if param.required:
            assert "[required]" in row, f"{name} {param.opts[0]} is required but not marked"
        condition = next((command.required_when[o] for o in param.opts if o in command.required_when), None)
        if condition is not None:
            assert f"[required {condition}]" in row, f"{name} {param.opts[0]} not marked [required {condition}]"
    for old in command.old_spellings:
        assert old not in rows, f"{name}: deprecated {old} shown in --help"


def test_plan_marks_home_and_out_required(run_cli):
    out = _help(run_cli, "plan")
    for option in ("--home", "--out"):
        (row,) = [line for line in out.splitlines() if line.strip("│ *").startswith(option + " ")]
        assert "[required unless --check]" in row


def test_deprecated_spellings_are_the_documented_ones():
    in_code = {(name, old, new) for name in COMMANDS for old, new in GROUP.commands[name].old_spellings.items()}
    assert in_code == DEPRECATED_DOC
    for _, _, new in in_code:
        assert new in VOCABULARY


# One bad value per deprecated spelling: the value reaches the current option (the error names it), with one
# warning line naming the current option.
ALIAS_CASES = {
    ("simulate", "--wind"): ["simulate", "--wind", "0"],
    ("simulate", "--source"): ["simulate", "--size", "16x16", "--source", "500,500"],
    ("plan", "--fov-deg"): ["plan", "AOI", "--home", "31.8,-102.0", "--fov-deg", "0"],
    ("plan", "--pixel-m"): ["plan", "AOI", "--home", "31.8,-102.0", "--pixel-m", "-1", "--pixels", "600"],
    ("plan", "--buffer-m"): ["plan", "AOI", "--home", "31.8,-102.0", "--buffer-m", "-5"],
    ("plan", "--transect-width-m"): [
        "plan",
        "--mode",
        "transects",
        "--home",
        "31.8,-102.0",
        "--source",
        "31.81,-101.98",
        "--wind-dir",
        "270",
        "--distances",
        "200",
        "--transect-width-m",
        "-5",
    ],
    ("invert", "--source-known"): ["invert", "OBS", "--origin", "40,-100", "--source-known", "nan,nan"],
    ("invert", "--prior-box"): ["invert", "OBS", "--origin", "40,-100", "--prior-box", "100,-100,-100,100"],
    ("invert", "--background"): ["invert", "OBS", "--origin", "40,-100", "--background", "-1"],
}


def test_every_deprecated_spelling_has_a_case():
    assert set(ALIAS_CASES) == {(name, old) for name, old, _ in DEPRECATED_DOC}


@pytest.fixture
def aoi(tmp_path):
    path = tmp_path / "aoi.geojson"
    ring = [[-102.05, 31.78], [-101.99, 31.78], [-101.99, 31.81], [-102.05, 31.81], [-102.05, 31.78]]
    path.write_text(json.dumps({"type": "Polygon", "coordinates": [ring]}))
    return path


@pytest.mark.parametrize("key", sorted(ALIAS_CASES), ids=lambda k: f"{k[0]}{k[1]}")
def test_deprecated_spelling_reaches_the_current_option(run_cli, tmp_path, aoi, key):
    name, old = key
    new = GROUP.commands[name].old_spellings[old]
    obs = tmp_path / "obs.csv"
    obs.write_text("time,lat,lon,concentration_ppm\n")
    argv = [aoi if a == "AOI" else obs if a == "OBS" else a for a in ALIAS_CASES[key]]
    code, out, err = run_cli(*argv, "--out", tmp_path / "out")
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert lines[0].startswith(f"warning: {old}: ") and f"use {new}" in lines[0], err
    assert len(lines) == 2 and lines[1].startswith("error: ") and new in lines[1], err


def test_deprecated_spelling_runs(run_cli, tmp_path):
    """An old spelling gives the same product as the current one, with one warning line."""
    code, _, err = run_cli(
        "simulate", "--wind=4", "--source", "8,8", "--size", "16x16", "--no-noise", "--out", tmp_path / "a"
    )
    assert code == 0, err
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2 and "--wind-speed" in warnings[0] and "--source-pixel" in warnings[1]
    truth = json.loads((tmp_path / "a" / "truth.json").read_text())
    assert truth["wind_speed_m_s"] == 4.0


def test_plan_deprecated_buffer_runs(run_cli, tmp_path, aoi):
    code, _, err = run_cli(
        "plan", aoi, "--home", "31.79,-102.06", "--buffer-m", "30", "--no-png", "--out", tmp_path / "p"
    )
    assert code == 0, err
    assert err.count("warning:") == 1 and "use --buffer" in err
