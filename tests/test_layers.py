"""The layers of DESIGN.md hold: a module imports only from its own layer or the ones below it.

    base      errors, scene, scene_checks, georef, pixel_geometry, backend, parallel, progress, shared_data
    formats   io, spectra
    stages    detect, plumes, insitu, plan         (a stage never imports another stage)
    simulate  forward models built on the stages' physics
    products  writers that know a stage's results and a file format
    top       demo, cli

Every ``import plumetrace.X`` in src/ is read with ``ast`` (also imports inside functions, which are how heavy
modules are loaded lazily), so a late import cannot hide a violation.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "plumetrace"

LAYERS = {
    "base": 0,
    "errors": 0,
    "scene": 0,
    "scene_checks": 0,
    "georef": 0,
    "backend": 0,
    "parallel": 0,
    "progress": 0,
    "shared_data": 0,
    "pixel_geometry": 0,
    "io": 1,
    "spectra": 1,
    "detect": 2,
    "plumes": 2,
    "insitu": 2,
    "plan": 2,
    "sites": 2,
    "simulate": 3,
    "products": 4,
    "report": 4,
    "demo": 5,
    "cli": 5,
    "campaign": 5,
}
STAGES = {"detect", "plumes", "insitu", "plan", "sites"}


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "base"


def _imports() -> list[tuple[str, str, int]]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        module = "plumetrace." + ".".join(path.relative_to(SRC).with_suffix("").parts)
        module = module.removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            found += [(module, name, node.lineno) for name in names if name.startswith("plumetrace.")]
    return found


def test_every_package_has_a_layer():
    packages = {_package(m) for m, _, _ in _imports()} | {_package(n) for _, n, _ in _imports()}
    assert packages <= set(LAYERS), f"give these a layer in tests/test_layers.py: {sorted(packages - set(LAYERS))}"


def test_no_module_imports_a_higher_layer_or_another_stage():
    problems = []
    for module, name, line in _imports():
        a, b = _package(module), _package(name)
        if a == b or name == "plumetrace":
            continue
        if LAYERS.get(b, 99) > LAYERS.get(a, -1):
            problems.append(f"{module}:{line} imports {name} (layer {b} above {a})")
        elif a in STAGES and b in STAGES:
            problems.append(f"{module}:{line} imports {name} (one stage imports another)")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_module_size(path):
    """Modules of one concept: none over 600 lines (DESIGN.md)."""
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= 600, f"{path.relative_to(SRC)} has {lines} lines; split it along its seams"
