"""`plumetrace detect --band lwir`: bad bands, libraries and options are refused in one line, exit 2."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from plumetrace.shared_data import shared_data_dir
from tests.badinput.harness import Case, check_rejected, ids, write_text

_JDX = None if shared_data_dir() is None else shared_data_dir() / "lwir-gas-spectra-nist" / "jdx"
pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(
        _JDX is None or not _JDX.is_dir(), reason="needs ../shared/data/lwir-gas-spectra-nist (PLUMETRACE_SHARED_DATA)"
    ),
]


@pytest.fixture(scope="module")
def lwir(tmp_path_factory):
    """A small simulated LWIR scene and a two-gas library folder."""
    from plumetrace.cli import main

    root = tmp_path_factory.mktemp("lwir-inputs")
    library = root / "library"
    library.mkdir()
    for gas in ("acetone", "methanol"):
        shutil.copy(_JDX / f"{gas}.jdx", library / f"{gas}.jdx")
    try:
        main(
            ["simulate", "--band", "lwir", "--library", str(library), "--gases", "acetone", "--columns", "200"]
            + ["--size", "24x24", "--seed", "2", "--out", str(root / "sim")]
        )
    except SystemExit as exc:  # pragma: no cover - a broken fixture
        assert exc.code in (0, None)
    return {"scene": root / "sim" / "scene_rdn.hdr", "library": library}


def _library(tmp: Path, lwir, edit=None, *, extra: dict[str, str] | None = None) -> Path:
    """A copy of the valid library; ``edit`` rewrites acetone.jdx's text; ``extra`` adds files."""
    folder = tmp / "lib"
    shutil.copytree(lwir["library"], folder)
    if edit is not None:
        path = folder / "acetone.jdx"
        path.write_text(edit(path.read_text()))
    for name, text in (extra or {}).items():
        write_text(folder, name, text)
    return folder


def _narrow(text: str) -> str:
    """Keep only the data lines above 1500 cm-1 (the spectrum no longer covers 7.5-12 µm)."""
    lines = text.splitlines()
    head = [ln for ln in lines if ln.startswith("##") and not ln.startswith("##END")]
    data = [ln for ln in lines if ln[:1].isdigit() and float(re.match(r"[0-9.]+", ln).group()) >= 1500.0]
    first = re.match(r"[0-9.]+", data[0]).group()
    n = sum(len(re.findall(r"[-+]?[0-9.]+", ln)) - 1 for ln in data)
    fixed = {"##FIRSTX": first, "##MINX": first, "##NPOINTS": str(n)}
    head = [f"{ln.split('=')[0]}={fixed[ln.split('=')[0]]}" if ln.split("=")[0] in fixed else ln for ln in head]
    return "\n".join(head + data + ["##END="]) + "\n"


def _detect(*options):
    return lambda i, t, lw: ["detect", lw["scene"], "--band", "lwir", *options]


CASES = [
    Case("swir-scene-given-band-lwir", None, ("{scene_hdr}", "wavelength")),
    Case("unknown-band", None, ("--band",)),
    Case("lwir-without-library", None, ("--library", "required")),
    Case("library-folder-missing", None, ("{tmp}/nowhere", "not found")),
    Case("library-on-swir", None, ("--library", "lwir")),
    Case("library-unknown-units", None, ("{tmp}/lib/acetone.jdx", "YUNITS")),
    Case("library-duplicate-gas", None, ("{tmp}/lib", "##TITLE")),
    Case("library-spectrum-too-narrow", None, ("{tmp}/lib/acetone.jdx", "##XYDATA")),
    Case("library-gas-not-found", None, ("gases", "benzene")),
    Case("contrast-and-plume-temperature", None, ("--contrast-k",)),
    Case("contrast-out-of-range", None, ("--contrast-k",)),
    Case("plume-temperature-out-of-range", None, ("--plume-temperature-k",)),
]

ARGV = {
    "swir-scene-given-band-lwir": lambda i, t, lw: [
        "detect",
        i.scene_hdr,
        "--band",
        "lwir",
        "--library",
        lw["library"],
    ],
    "unknown-band": lambda i, t, lw: ["detect", lw["scene"], "--band", "thermal", "--library", lw["library"]],
    "lwir-without-library": _detect(),
    "library-folder-missing": lambda i, t, lw: _detect("--library", t / "nowhere")(i, t, lw),
    "library-on-swir": lambda i, t, lw: ["detect", i.scene_hdr, "--library", lw["library"]],
    "library-unknown-units": lambda i, t, lw: _detect(
        "--library", _library(t, lw, lambda s: s.replace("##YUNITS=(micromol/mol)-1m-1 (base 10)", "##YUNITS=FURLONGS"))
    )(i, t, lw),
    "library-duplicate-gas": lambda i, t, lw: _detect(
        "--library", _library(t, lw, extra={"acetone-copy.jdx": (lw["library"] / "acetone.jdx").read_text()})
    )(i, t, lw),
    "library-spectrum-too-narrow": lambda i, t, lw: _detect("--library", _library(t, lw, _narrow))(i, t, lw),
    "library-gas-not-found": lambda i, t, lw: _detect("--library", lw["library"], "--gases", "benzene")(i, t, lw),
    "contrast-and-plume-temperature": lambda i, t, lw: _detect(
        "--library", lw["library"], "--contrast-k", "5", "--plume-temperature-k", "300"
    )(i, t, lw),
    "contrast-out-of-range": lambda i, t, lw: _detect("--library", lw["library"], "--contrast-k", "80")(i, t, lw),
    "plume-temperature-out-of-range": lambda i, t, lw: _detect(
        "--library", lw["library"], "--plume-temperature-k", "5000"
    )(i, t, lw),
}


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_detect_lwir_refuses(run_cli, inputs, lwir, tmp_path, case):
    from dataclasses import replace

    built = replace(case, argv=lambda i, t: ARGV[case.id](i, t, lwir))
    check_rejected(run_cli, built, inputs, tmp_path)
