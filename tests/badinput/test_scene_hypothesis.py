"""Generated ENVI headers (random subsets of the fields, good values and garbage): opening the scene and describing it
either gives a Scene that passes validation or raises a PlumetraceError — never any other exception — and what
``info`` opens, the header reader of the lean ``detect`` path accepts too."""

from __future__ import annotations

import math
import tempfile
import warnings
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plumetrace.errors import PlumetraceError

_MISSING = object()
_GARBAGE = st.sampled_from(
    [
        "",
        "abc",
        "{",
        "}",
        "{1, 2",
        "nan",
        "inf",
        "-inf",
        "1e400",
        "0x10",
        "1,2",
        "{}",
        "∞",
        "=",
        "; comment",
        "\x00",
        "12abc",
        "-0",
        "  ",
    ]
)
_NUMBER = st.one_of(st.integers(-3, 400), st.floats(allow_nan=True, allow_infinity=True, width=32))
_UTM_WKT = (
    'PROJCS["WGS 84 / UTM zone 13N",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],'
    'PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
    'PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",-105],PARAMETER["scale_factor",0.9996],'
    'PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1]]'
)


_OPTIONAL = (
    "wavelength units",
    "data units",
    "data ignore value",
    "sensor type",
    "solar zenith",
    "view zenith",
    "sun elevation",
    "acquisition time",
    "map info",
    "coordinate system string",
    "description",
    "byte order",
    "header offset",
    "interleave",
)


def _band_list(count: int) -> st.SearchStrategy:
    """Band centres: an increasing run of ``count`` values (in nm or not), or a list of noise."""
    good_wl = st.builds(
        lambda start, step: [f"{start + step * k:.3f}" for k in range(count)],
        st.floats(150.0, 2600.0),
        st.floats(-5.0, 400.0),
    )
    noisy = st.lists(
        st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=32).map(str), _GARBAGE),
        min_size=0,
        max_size=count + 2,
    )
    choice = st.integers(0, 3).flatmap(lambda k: noisy if k == 3 else good_wl)
    return choice.map(lambda items: "{" + ", ".join(items) + "}")


#: Values close to valid that a header may hold by mistake, per field (plus numbers, garbage and deletion for all).
_NEAR_MISSES = {
    "data type": ["6", "9", "0", "16"],
    "interleave": ["bsi", "bilx", ""],
    "byte order": ["2", "-1"],
    "data units": ["{furlongs}", "{W/m2}", "{}"],
    "wavelength units": ["Unknown", "furlongs", "Index"],
    "solar zenith": ["95", "-10", "85", "90"],
    "view zenith": ["89", "-1"],
    "sun elevation": ["-5", "4", "95"],
    "acquisition time": ["2026-13-45", "yesterday", "2026-06-21T25:00:00Z"],
    "map info": [
        "{UTM, 1, 1, 754387.9, 3533492.3, 0, 60, 13, North}",
        "{UTM, 1, 1}",
        "{Arbitrary, 1, 1, 0, 0, 1, 1}",
        "{UTM, 1, 1, a, b, 60, 60, 13, North}",
        "{UTM, 1, 1, 0, 0, 60, 60, 99, East}",
    ],
    "coordinate system string": ["{not a crs}", "{PROJCS[}", "{EPSG:0}"],
    "header offset": ["-16", "4096"],
}
_ITEMSIZE = {"1": 1, "2": 2, "3": 4, "4": 4, "5": 8, "12": 2, "13": 4, "14": 8, "15": 8}
_DTYPE = {"1": "u1", "2": "i2", "3": "i4", "4": "f4", "5": "f8", "12": "u2", "13": "u4", "14": "i8", "15": "u8"}


@st.composite
def envi_headers(draw) -> tuple[dict[str, object], int]:
    """(fields, data size in bytes) of a generated header: valid values for every field, then up to three fields
    replaced by a near miss, a number, garbage or nothing. Dims stay small so that each example is cheap."""
    lines, samples, bands = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 6))
    start, step, width = draw(st.floats(350.0, 2400.0)), draw(st.floats(0.5, 300.0)), draw(st.floats(0.5, 20.0))
    fields: dict[str, object] = {
        "samples": str(samples),
        "lines": str(lines),
        "bands": str(bands),
        "header offset": draw(st.sampled_from(["0", "0", "16"])),
        "data type": draw(st.sampled_from(["4", "4", "4", "1", "2", "3", "5", "12", "13", "14", "15"])),
        "interleave": draw(st.sampled_from(["bil", "bip", "bsq", "BIL"])),
        "byte order": draw(st.sampled_from(["0", "0", "1"])),
        "wavelength": "{" + ", ".join(f"{start + step * k:.3f}" for k in range(bands)) + "}",
        "fwhm": "{" + ", ".join([f"{width:.2f}"] * bands) + "}",
        "wavelength units": draw(st.sampled_from(["Nanometers", "nm", "Micrometers"])),
        "data units": draw(st.sampled_from(["{uW cm-2 sr-1 nm-1}", "{W/m2/sr/um}", "{mW/m2/sr/nm}"])),
        "data ignore value": draw(st.sampled_from(["-9999", "0"])),
        "sensor type": draw(st.sampled_from(["emit", "AVIRIS-NG", "prisma", "enmap", "unknown"])),
        "solar zenith": f"{draw(st.floats(0.0, 84.9)):.3f}",
        "view zenith": f"{draw(st.floats(0.0, 84.9)):.3f}",
        "sun elevation": f"{draw(st.floats(5.1, 90.0)):.3f}",
        "acquisition time": draw(
            st.sampled_from(["2026-06-21T18:30:00Z", "2026-06-21", "2026-06-21T18:30:00.5+00:00"])
        ),
        "map info": draw(
            st.sampled_from(
                [
                    "{UTM, 1, 1, 754387.9, 3533492.3, 60, 60, 13, North, WGS-84, units=Meters}",
                    "{Geographic Lat/Lon, 1, 1, -102.0, 31.9, 0.0005, 0.0005, WGS-84}",
                    "{UTM, 1, 1, 754387.9, 3533492.3, 60, 60, 13, North, WGS-84, units=Meters, rotation=12}",
                ]
            )
        ),
        "coordinate system string": draw(st.sampled_from(["{" + _UTM_WKT + "}", "{EPSG:4326}"])),
        "description": "{a scene, with commas = and equals}",
    }
    if fields["wavelength units"] == "Micrometers":
        fields["wavelength"] = "{" + ", ".join(f"{(start + step * k) / 1000:.6f}" for k in range(bands)) + "}"
        fields["fwhm"] = "{" + ", ".join([f"{width / 1000:.6f}"] * bands) + "}"
    for key in draw(st.sets(st.sampled_from(_OPTIONAL))):  # optional fields a header may leave out
        del fields[key]
    for key in draw(st.sets(st.sampled_from(sorted(fields)), max_size=3)):
        bad = [_NUMBER.map(str), _GARBAGE, st.just(_MISSING)]
        if key in ("wavelength", "fwhm"):
            bad.append(_band_list(bands))
        if key in _NEAR_MISSES:
            bad.append(st.sampled_from(_NEAR_MISSES[key]))
        fields[key] = draw(st.one_of(*bad))
    fields = {k: v for k, v in fields.items() if v is not _MISSING}
    offset = 16 if fields.get("header offset") == "16" else 0
    exact = offset + lines * samples * bands * _ITEMSIZE.get(str(fields.get("data type", "")), 4)
    size = draw(st.one_of(st.just(exact), st.just(exact), st.just(exact), st.integers(0, exact + 64)))
    return fields, size


def _write(folder: Path, fields: dict[str, object], size: int, first_line: str, seed: int) -> Path:
    header = folder / "scene.hdr"
    header.write_text(
        first_line + "\n" + "".join(f"{key} = {value}\n" for key, value in fields.items()), encoding="utf-8"
    )
    rng = np.random.default_rng(seed)
    dtype = np.dtype(("<" if fields.get("byte order") != "1" else ">") + _DTYPE.get(str(fields.get("data type")), "f4"))
    values = (1.0 + 5.0 * rng.random(size // dtype.itemsize + 1)).astype(dtype).tobytes()  # plausible radiance
    (folder / "scene").write_bytes(values[:size] if rng.random() < 0.9 else rng.bytes(size))
    return header


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(envi_headers(), st.sampled_from(["ENVI"] * 8 + ["envi ", "EVNI", ""]), st.integers(0, 2**16))
def test_generated_envi_header_opens_or_raises_plumetrace_error(header, first_line, seed):
    from plumetrace.io.envi import envi_metadata
    from plumetrace.io.open_scene import describe_scene, open_scene
    from plumetrace.scene import validate_scene

    fields, size = header
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = _write(Path(folder), fields, size, first_line, seed)
        try:  # the header alone, as envi_metadata checks it
            envi_metadata(path)
            lean_error = None
        except PlumetraceError as exc:
            lean_error = exc
        try:
            scene = open_scene(path)
            summary = describe_scene(scene)
        except PlumetraceError as exc:
            message = str(exc)
            assert message and "\n" not in message, repr(message)
            return
        # what opened passes the Scene contract, and envi_metadata accepted the same header
        assert lean_error is None, f"info opens what detect refuses: {lean_error}"
        validate_scene(scene)
        assert summary["lines"] >= 1 and summary["samples"] >= 1 and summary["bands"] >= 1
        assert math.isfinite(summary["wavelength_min_nm"]) and summary["wavelength_min_nm"] > 0
        if "solar_zenith_deg" in scene.attrs:
            assert 0 <= scene.attrs["solar_zenith_deg"] < 85
