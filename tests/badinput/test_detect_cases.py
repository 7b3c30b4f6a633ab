"""`plumetrace detect`: bad scenes, bad target files and bad options are refused with one line naming the file (or
option) and the field, exit 2, and nothing written."""

from __future__ import annotations

import numpy as np
import pytest

from tests.badinput.harness import Case, check_rejected, ids, write_bytes, write_text
from tests.badinput.scene_files import SCENES, cube_with, header_edit


def _detect(*options):
    return lambda i, t: ["detect", i.scene_hdr, *options]


def _target(text: str):
    return lambda i, t: ["detect", i.scene_hdr, "--gas", write_text(t, "target.txt", text)]


def _npz(**arrays):
    def argv(i, t):
        np.savez(t / "lut.npz", **arrays)
        return ["detect", i.scene_hdr, "--gas", t / "lut.npz"]

    return argv


_GOOD_TARGET = "".join(f"{k + 1} {2100 + 10 * k} {-1.0 - (k % 3)}\n" for k in range(40))
_WL = np.linspace(2000.0, 2500.0, 50)

SCENE_CASES = [
    Case(f"scene-{name}", lambda i, t, make=make: ["detect", make(i, t)], names) for name, make, names in SCENES
]

OPTION_CASES = [
    Case("threads-negative", _detect("--threads", "-2"), ("--threads", "-2")),
    Case("threads-zero", _detect("--threads", "0"), ("--threads",)),
    Case("chunk-rows-zero", _detect("--chunk-rows", "0"), ("--chunk-rows",)),
    Case("chunk-rows-negative", _detect("--chunk-rows", "-64"), ("--chunk-rows",)),
    Case("iterations-negative", _detect("--method", "sparse", "--iterations", "-1"), ("--iterations",)),
    Case("iterations-text", _detect("--method", "sparse", "--iterations", "thirty"), ("--iterations", "integer")),
    Case("clusters-zero", _detect("--stats", "cluster", "--clusters", "0"), ("--clusters",)),
    Case("clusters-too-many", _detect("--stats", "cluster", "--clusters", "500"), ("--clusters", "500")),
    Case("clusters-without-cluster-stats", _detect("--stats", "column", "--clusters", "3"), ("--clusters", "cluster")),
    Case("cluster-stats-on-cuda", _detect("--stats", "cluster", "--device", "cuda"), ("--device",)),
    Case("group-columns-zero", _detect("--stats", "group", "--group-columns", "0"), ("--group-columns",)),
    Case("group-columns-too-wide", _detect("--stats", "group", "--group-columns", "33"), ("--group-columns", "32")),
    Case(
        "group-columns-without-group",
        _detect("--stats", "column", "--group-columns", "4"),
        ("--group-columns", "group"),
    ),
    Case("window-reversed", _detect("--window", "2488,2122"), ("--window", "2488")),
    Case("window-outside-data", _detect("--window", "3000,3400"), ("--window", "3000")),
    Case("window-too-narrow", _detect("--window", "2200,2205"), ("--window",)),
    Case("window-one-number", _detect("--window", "2200"), ("--window", "2200")),
    Case("window-text", _detect("--window", "swir,nir"), ("--window", "swir")),
    Case("window-nan", _detect("--window", "nan,2400"), ("--window",)),
    Case("method-unknown", _detect("--method", "magic"), ("--method", "magic")),
    Case("stats-unknown", _detect("--stats", "rows"), ("--stats", "rows")),
    Case("device-unknown", _detect("--device", "tpu"), ("--device", "tpu")),
    Case("refine-removed", _detect("--refine"), ("--refine",)),
    Case("no-albedo-with-sparse", _detect("--method", "sparse", "--no-albedo-correct"), ("--no-albedo-correct",)),
    Case("threads-text", _detect("--threads", "many"), ("--threads",)),
]

TARGET_CASES = [
    Case("gas-unknown-name", _detect("--gas", "unobtainium"), ("--gas", "unobtainium")),
    Case(
        "gas-missing-file",
        lambda i, t: ["detect", i.scene_hdr, "--gas", t / "ch4_target.txt"],
        ("{tmp}/ch4_target.txt", "not found"),
    ),
    Case("gas-folder", lambda i, t: ["detect", i.scene_hdr, "--gas", t], ("{tmp}", "--gas")),
    Case(
        "gas-binary-file",
        lambda i, t: ["detect", i.scene_hdr, "--gas", write_bytes(t, "target.txt", bytes(range(256)) * 4)],
        ("{tmp}/target.txt", "target table"),
    ),
    Case(
        "gas-nul-bytes",
        lambda i, t: ["detect", i.scene_hdr, "--gas", write_bytes(t, "target.txt", b"\0" * 300)],
        ("{tmp}/target.txt", "target table"),
    ),
    Case(
        "gas-png",
        lambda i, t: ["detect", i.scene_hdr, "--gas", write_bytes(t, "target.png", b"\x89PNG\r\n\x1a\n" + b"\1" * 64)],
        ("{tmp}/target.png", "target table"),
    ),
    Case("gas-empty-file", _target(""), ("{tmp}/target.txt", "target table")),
    Case("gas-two-columns", _target("".join(f"{2100 + k} -1\n" for k in range(10))), ("{tmp}/target.txt", "3 columns")),
    Case("gas-ragged-rows", _target("1 2100 -1\n2 2110\n"), ("{tmp}/target.txt", "target table")),
    Case("gas-text-values", _target(_GOOD_TARGET + "41 2500 strong\n"), ("{tmp}/target.txt", "target table")),
    Case("gas-nan-values", _target(_GOOD_TARGET + "41 2500 nan\n"), ("{tmp}/target.txt", "non-finite")),
    Case("gas-repeated-wavelength", _target(_GOOD_TARGET + "41 2100 -1\n"), ("{tmp}/target.txt", "wavelength")),
    Case(
        "gas-micrometres",
        _target("".join(f"{k + 1} {2.1 + 0.01 * k:.2f} -1\n" for k in range(40))),
        ("{tmp}/target.txt", "wavelength", "nm"),
    ),
    Case(
        "gas-no-overlap",
        _target("".join(f"{k + 1} {500 + 10 * k} -1\n" for k in range(40))),
        ("{tmp}/target.txt", "no absorption"),
    ),
    Case(
        "gas-all-zero",
        _target("".join(f"{k + 1} {2100 + 10 * k} 0\n" for k in range(40))),
        ("{tmp}/target.txt", "no absorption"),
    ),
    Case("gas-one-row", _target("1 2300 -1\n"), ("{tmp}/target.txt", "target table")),
    Case(
        "lut-corrupt-npz",
        lambda i, t: ["detect", i.scene_hdr, "--gas", write_bytes(t, "lut.npz", b"PK\3\4garbage")],
        ("{tmp}/lut.npz", "npz"),
    ),
    Case(
        "lut-missing-radiance",
        _npz(wavelength_nm=_WL, enhancement_ppm_m=np.array([0.0, 1000.0])),
        ("{tmp}/lut.npz", "radiance"),
    ),
    Case(
        "lut-one-level",
        _npz(wavelength_nm=_WL, radiance=np.ones((1, 50)), enhancement_ppm_m=np.array([0.0])),
        ("{tmp}/lut.npz", "enhancement_ppm_m"),
    ),
    Case(
        "lut-negative-radiance",
        _npz(wavelength_nm=_WL, radiance=-np.ones((2, 50)), enhancement_ppm_m=np.array([0.0, 1e3])),
        ("{tmp}/lut.npz", "radiance"),
    ),
    Case(
        "lut-shape-mismatch",
        _npz(wavelength_nm=_WL, radiance=np.ones((2, 40)), enhancement_ppm_m=np.array([0.0, 1e3])),
        ("{tmp}/lut.npz", "radiance"),
    ),
]


def _few_valid(c):
    c[:, :, 1:] = -9999.0  # one column of which only 5 lines are valid
    c[5:] = -9999.0
    return c


def _five_valid_lines(c):
    c[5:] = -9999.0  # 5 valid pixels per column
    return c


def _part_of_scene(i, t):
    """A GeoJSON polygon over the western half of the scene."""
    from pyproj import Transformer

    from plumetrace.io.envi import envi_metadata

    attrs = envi_metadata(i.scene_hdr)[5]
    a, _, c, _, e, f = attrs["transform"]
    to_lonlat = Transformer.from_crs(attrs["crs"], "EPSG:4326", always_xy=True)
    corners = [to_lonlat.transform(c + a * x, f + e * y) for x, y in ((0, 0), (16, 0), (16, 32), (0, 32), (0, 0))]
    ring = ", ".join(f"[{lon}, {lat}]" for lon, lat in corners)
    return write_text(t, "region.geojson", '{"type": "Polygon", "coordinates": [[' + ring + "]]}")


def _constant(c):
    c[...] = c[0, :, 0][None, :, None]
    return c


DATA_CASES = [
    Case("constant-cube", lambda i, t: ["detect", cube_with(i, t, _constant)], ("{tmp}/bad", "radiance", "constant")),
    Case(
        "constant-cube-scene-stats",
        lambda i, t: ["detect", cube_with(i, t, _constant), "--stats", "scene"],
        ("{tmp}/bad", "radiance", "constant"),
    ),
    Case(
        "few-valid-pixels",
        lambda i, t: ["detect", cube_with(i, t, _few_valid)],
        ("{tmp}/bad", "radiance", "valid pixels"),
    ),
    Case(
        "column-stats-starved",
        lambda i, t: ["detect", cube_with(i, t, _five_valid_lines), "--stats", "column"],
        ("{tmp}/bad", "--stats", "column 0"),
    ),
    Case("negative-radiance", lambda i, t: ["detect", cube_with(i, t, lambda c: -c)], ("{tmp}/bad", "radiance")),
    Case(
        "radiance-in-wrong-units",
        lambda i, t: ["detect", cube_with(i, t, lambda c: c * 1e9)],
        ("{tmp}/bad", "radiance"),
    ),
    Case(
        "byte-swapped-scene-stats",
        lambda i, t: ["detect", cube_with(i, t, lambda c: c.astype(">f4")), "--stats", "scene"],
        ("{tmp}/bad", "byte order"),
    ),
    Case(
        "byte-swapped-int16",
        lambda i, t: [
            "detect",
            cube_with(
                i,
                t,
                lambda c: (c * 100).astype(">i2"),
                header={"data type": "2", "data units": None, "plumetrace radiance_scale": None},
            ),
        ],
        ("{tmp}/bad", "byte order"),
    ),
    Case(
        "exclude-missing",
        lambda i, t: ["detect", i.scene_hdr, "--exclude", t / "region.geojson"],
        ("{tmp}/region.geojson",),
    ),
    Case(
        "exclude-binary",
        lambda i, t: ["detect", i.scene_hdr, "--exclude", write_bytes(t, "region.geojson", bytes(range(256)))],
        ("{tmp}/region.geojson",),
    ),
    Case(
        "exclude-empty-collection",
        lambda i, t: [
            "detect",
            i.scene_hdr,
            "--exclude",
            write_text(t, "region.geojson", '{"type": "FeatureCollection", "features": []}'),
        ],
        ("{tmp}/region.geojson", "features"),
    ),
    Case(
        "exclude-outside-scene",
        lambda i, t: [
            "detect",
            i.scene_hdr,
            "--exclude",
            write_text(
                t, "region.geojson", '{"type": "Polygon", "coordinates": [[[10, 10], [11, 10], [11, 11], [10, 10]]]}'
            ),
        ],
        ("{tmp}/region.geojson", "no pixel"),
    ),
    Case(
        "exclude-with-sparse",
        lambda i, t: ["detect", i.scene_hdr, "--method", "sparse", "--exclude", _part_of_scene(i, t)],
        ("--exclude", "mf and ace"),
    ),
    Case(
        "exclude-with-cluster-stats",
        lambda i, t: ["detect", i.scene_hdr, "--stats", "cluster", "--exclude", _part_of_scene(i, t)],
        ("--exclude",),
    ),
    Case(
        "exclude-no-georeferencing",
        lambda i, t: [
            "detect",
            header_edit(i, t, {"map info": None, "coordinate system string": None}),
            "--exclude",
            i.aoi_geojson,
        ],
        ("--exclude", "georeferencing"),
    ),
]

CASES = SCENE_CASES + OPTION_CASES + TARGET_CASES + DATA_CASES


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_detect_refuses(run_cli, inputs, tmp_path, case):
    check_rejected(run_cli, case, inputs, tmp_path)
