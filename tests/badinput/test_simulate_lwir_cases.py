"""`plumetrace simulate --band lwir`: bad gas libraries, gases, columns, contrasts and sensors (one row each)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.badinput.harness import Case, check_rejected, ids
from tests.spectra.jdx_files import write_band_library, write_jdx


def _library(tmp: Path) -> Path:
    return write_band_library(tmp / "lib", {"acetone": 1217.0, "ammonia": 965.0})


def _lwir(*extra):
    """A valid LWIR simulation of the case's own library, then ``extra`` (a later option overrides)."""

    def argv(inputs, tmp: Path):
        lib = tmp / "lib" if (tmp / "lib").exists() else _library(tmp)
        return ["simulate", "--band", "lwir", "--size", "16x16", "--gases", "acetone", "--library", lib, *extra]

    return argv


def _with_file(name: str, **jdx):
    """The valid library plus one more file ``lib/NAME`` written with :func:`write_jdx` (``jdx`` its fields)."""

    def argv(inputs, tmp: Path):
        lib = _library(tmp)
        write_jdx(lib / name, **jdx)
        gases = ",".join(dict.fromkeys(["acetone", jdx["title"].strip().lower()]))
        return ["simulate", "--band", "lwir", "--size", "16x16", "--library", lib, "--gases", gases]

    return argv


def _sensor_file(text: str):
    def argv(inputs, tmp: Path):
        (tmp / "sensor.csv").write_text(text)
        return _lwir("--sensor-file", tmp / "sensor.csv")(inputs, tmp)

    return argv


def _truncated(inputs, tmp: Path):
    """A spectrum whose last data lines are missing (##NPOINTS promises more)."""
    lib = _library(tmp)
    text = (lib / "acetone.jdx").read_text().splitlines()
    (lib / "cut.jdx").write_text("\n".join(line.replace("Acetone", "Cut") for line in text[:40]) + "\n")
    return ["simulate", "--band", "lwir", "--size", "16x16", "--library", lib, "--gases", "cut"]


def _garbage(inputs, tmp: Path):
    lib = _library(tmp)
    (lib / "noise.jdx").write_bytes(bytes(range(256)) * 4)
    return ["simulate", "--band", "lwir", "--size", "16x16", "--library", lib, "--gases", "noise"]


FLAT = np.full(3401, 0.5)
CASES = [
    Case("band-unknown", lambda i, t: ["simulate", "--band", "mwir"], ("--band", "mwir")),
    Case("no-library", lambda i, t: ["simulate", "--band", "lwir", "--gases", "acetone"], ("--library",)),
    Case("no-gases", lambda i, t: ["simulate", "--band", "lwir", "--library", _library(t)], ("--gases",)),
    Case("library-missing", lambda i, t: _lwir("--library", t / "nope")(i, t), ("{tmp}/nope", "not found")),
    Case(
        "library-without-spectra",
        lambda i, t: _lwir("--library", (t / "empty").mkdir() or t / "empty")(i, t),
        ("--library", "no JCAMP-DX"),
    ),
    Case("gas-not-in-library", _lwir("--gases", "toluene"), ("--gases", "toluene")),
    Case("gas-named-twice", _lwir("--gases", "acetone,Acetone"), ("--gases", "more than once")),
    Case(
        "unknown-yunits",
        _with_file("odd.jdx", title="Odd", y=FLAT, first_x=650.0, delta_x=0.25, yunits="KUBELKA-MUNK"),
        ("{tmp}/lib/odd.jdx", "##YUNITS", "KUBELKA-MUNK"),
    ),
    Case(
        "absorbance-without-amount",
        _with_file("shape.jdx", title="Shape", y=FLAT, first_x=650.0, delta_x=0.25, yunits="ABSORBANCE"),
        ("{tmp}/lib/shape.jdx", "##PATH LENGTH", "quantitative"),
    ),
    Case(
        "transmittance-bad-pressure-unit",
        _with_file(
            "t.jdx",
            title="Tee",
            y=FLAT,
            first_x=650.0,
            delta_x=0.25,
            yunits="TRANSMITTANCE",
            extra={"PATH LENGTH": "5 CM", "PARTIAL_PRESSURE": "3 bananas"},
        ),  # fmt: skip
        ("{tmp}/lib/t.jdx", "##PARTIAL_PRESSURE", "bananas"),
    ),
    Case(
        "duplicate-gas-name",
        _with_file("zz-acetone-again.jdx", title="ACETONE", y=FLAT * 1e-4, first_x=650.0, delta_x=0.25),
        ("{tmp}/lib/zz-acetone-again.jdx", "##TITLE", "acetone"),
    ),
    Case(
        "spectrum-not-covering-sensor",
        _with_file("short.jdx", title="Short", y=FLAT * 1e-4, first_x=900.0, delta_x=0.25),
        ("{tmp}/lib/short.jdx", "##XYDATA", "covers"),
    ),
    Case("library-file-truncated", _truncated, ("{tmp}/lib/cut.jdx", "##XYDATA", "truncated")),
    Case("library-file-not-jcamp", _garbage, ("{tmp}/lib/noise.jdx", "##TITLE")),
    Case("columns-count", _lwir("--columns", "10,20"), ("--columns", "2 columns for 1 gases")),
    Case("columns-negative", _lwir("--columns", "-5"), ("--columns",)),
    Case("columns-garbage", _lwir("--columns", "lots"), ("--columns",)),
    Case("contrast-huge", _lwir("--contrast-k", "500"), ("--contrast-k", "50")),
    Case("contrast-nan", _lwir("--contrast-k", "nan"), ("--contrast-k",)),
    Case("sensor-not-thermal", _lwir("--sensor", "emit"), ("--sensor", "emit")),
    Case("sensor-file-missing", _lwir("--sensor-file", "/nonexistent/s.csv"), ("/nonexistent/s.csv",)),
    Case("sensor-file-no-centres", _sensor_file("centre,width\n9000,30\n"), ("{tmp}/sensor.csv", "center_nm")),
    Case(
        "sensor-file-swir",
        _sensor_file("center_nm,fwhm_nm\n2000,10\n2010,10\n"),
        ("{tmp}/sensor.csv", "center_nm", "thermal"),
    ),
    Case("size-too-small", _lwir("--size", "8x8"), ("--size", "16")),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_simulate_lwir_refused(run_cli, inputs, tmp_path, case):
    check_rejected(run_cli, case, inputs, tmp_path)
