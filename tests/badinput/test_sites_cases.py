"""`plumetrace sites`: folders that are no product, malformed plumes / invert / footprint files, duplicates and bad
options are refused in one line naming the file (or option) and the field, exit 2, nothing written."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from tests.badinput.harness import Case, check_rejected, ids, write_text
from tests.sites.builders import plumes_row, write_invert_product, write_plumes_product


def _scene(t, name="scene"):
    return write_plumes_product(t / name, [plumes_row(1, 0.0, 0.0), plumes_row(2, 3000.0, 0.0)])


def _edited_plumes(edit):
    """A valid plumes product whose plumes.csv is changed by ``edit(DataFrame) -> DataFrame``."""

    def argv(i, t):
        folder = _scene(t)
        table = edit(pd.read_csv(folder / "plumes.csv", dtype=str, keep_default_na=False))
        table.to_csv(folder / "plumes.csv", index=False)
        return ["sites", folder]

    return argv


def _set(column, value, row=0):
    def edit(df):
        df = df.copy()
        df.loc[row, column] = value
        return df

    return edit


def _edited_footprint(edit):
    def argv(i, t):
        folder = _scene(t)
        doc = json.loads((folder / "footprint.geojson").read_text())
        (folder / "footprint.geojson").write_text(json.dumps(edit(doc)))
        return ["sites", folder]

    return argv


def _footprint_props(**changes):
    def edit(doc):
        for key, value in changes.items():
            if value is None:
                doc["properties"].pop(key)
            else:
                doc["properties"][key] = value
        return doc

    return edit


def _edited_summary(edit, raw: str | None = None):
    def argv(i, t):
        folder = write_invert_product(t / "log", 0.0, 0.0)
        if raw is not None:
            (folder / "summary.json").write_text(raw)
        else:
            summary = json.loads((folder / "summary.json").read_text())
            (folder / "summary.json").write_text(json.dumps(edit(summary)))
        return ["sites", folder]

    return argv


def _projected_footprint(doc):
    doc["geometry"] = {"type": "Polygon", "coordinates": [[[500000, 3500000], [510000, 3500000], [510000, 3510000],
                                                           [500000, 3510000], [500000, 3500000]]]}  # fmt: skip
    return doc


def _bowtie(doc):
    doc["geometry"] = {"type": "Polygon", "coordinates": [[[-102.4, 31.8], [-102.2, 32.0], [-102.2, 31.8],
                                                           [-102.4, 32.0], [-102.4, 31.8]]]}  # fmt: skip
    return doc


def _two_features(doc):
    return {"type": "FeatureCollection", "features": [doc, doc]}


def _not_a_product(i, t):
    (t / "notes").mkdir()
    write_text(t / "notes", "readme.txt", "field notes\n")
    return ["sites", t / "notes"]


def _twice(i, t):
    folder = _scene(t)
    return ["sites", folder, t / "." / "scene"]


def _run_and_member(i, t):
    folder = _scene(t / "run" / "scenes" / "a", "plumes")
    return ["sites", t / "run", folder]


def _copied_scene(i, t):
    folder = _scene(t, "scene")
    shutil.copytree(folder, t / "scene-copy")
    return ["sites", folder, t / "scene-copy"]


def _empty_run(i, t):
    (t / "run" / "scenes" / "a").mkdir(parents=True)
    (t / "run" / "logs").mkdir()
    return ["sites", t / "run"]


def _opts(*options):
    return lambda i, t: ["sites", _scene(t), *options]


PLUMES = "{tmp}/scene/plumes.csv"
FOOTPRINT = "{tmp}/scene/footprint.geojson"
SUMMARY = "{tmp}/log/summary.json"

CASES = [
    # what the folders are
    Case("not-a-product", _not_a_product, ("{tmp}/notes", "PRODUCT_DIR", "neither")),
    Case("missing-folder", lambda i, t: ["sites", t / "nowhere"], ("{tmp}/nowhere", "not found")),
    Case("a-file", lambda i, t: ["sites", write_text(t, "plumes.csv", "a,b\n")], ("{tmp}/plumes.csv", "is a file")),
    Case("empty-run-folder", _empty_run, ("{tmp}/run", "no products", "scenes/*/plumes")),
    Case("no-folder-given", lambda i, t: ["sites"], ("PRODUCT_DIR",)),
    # duplicates
    Case("same-folder-twice", _twice, ("PRODUCT_DIR", "given twice")),
    Case("run-and-its-product", _run_and_member, ("PRODUCT_DIR", "given twice")),
    Case("same-scene-copied", _copied_scene, ("{tmp}/scene-copy", "scene_id", "already read")),
    # plumes.csv fields and units
    Case(
        "column-missing",
        _edited_plumes(lambda df: df.drop(columns=["emission_rate_total_p84_kg_h"])),
        (PLUMES, "emission_rate_total_p84_kg_h", "missing"),
    ),  # fmt: skip
    Case(
        "rate-in-g-s",
        _edited_plumes(lambda df: df.rename(columns={"emission_rate_kg_h": "emission_rate_g_s"})),
        (PLUMES, "emission_rate_kg_h", "missing"),
    ),  # fmt: skip
    Case(
        "rate-with-unit-text",
        _edited_plumes(_set("emission_rate_kg_h", "1.2 t/h")),
        (PLUMES, "row 2: emission_rate_kg_h", "not a number"),
    ),  # fmt: skip
    Case(
        "rate-negative", _edited_plumes(_set("emission_rate_kg_h", "-50")), (PLUMES, "emission_rate_kg_h", "negative")
    ),
    Case(
        "interval-in-other-units",
        _edited_plumes(_set("emission_rate_total_p84_kg_h", "0.3")),
        (PLUMES, "emission_rate_total_p16_kg_h", "does not hold the rate"),
    ),  # fmt: skip
    Case(
        "sigma-zero", _edited_plumes(_set("source_sigma_m", "0", row=1)), (PLUMES, "row 3: source_sigma_m", "positive")
    ),
    Case("latitude-in-metres", _edited_plumes(_set("source_lat", "3530000")), (PLUMES, "source_lat", "not a latitude")),
    Case("time-not-iso", _edited_plumes(_set("time", "yesterday")), (PLUMES, "row 2: time", "ISO 8601")),
    Case(
        "near-limit-not-bool",
        _edited_plumes(_set("near_detection_limit", "maybe")),
        (PLUMES, "near_detection_limit", "true or false"),
    ),  # fmt: skip
    # footprint.geojson
    Case(
        "footprint-no-limit",
        _edited_footprint(_footprint_props(detection_limit_kg_h=None)),
        (FOOTPRINT, "properties.detection_limit_kg_h", "missing"),
    ),  # fmt: skip
    Case(
        "footprint-limit-text",
        _edited_footprint(_footprint_props(detection_limit_kg_h="high")),
        (FOOTPRINT, "detection_limit_kg_h", "not a number"),
    ),  # fmt: skip
    Case("footprint-projected", _edited_footprint(_projected_footprint), (FOOTPRINT, "geometry", "lon/lat")),
    Case("footprint-bowtie", _edited_footprint(_bowtie), (FOOTPRINT, "geometry", "not a valid polygon")),
    Case(
        "footprint-point",
        _edited_footprint(lambda d: {**d, "geometry": {"type": "Point", "coordinates": [-102.3, 31.9]}}),
        (FOOTPRINT, "geometry", "Polygon"),
    ),  # fmt: skip
    Case("footprint-two-features", _edited_footprint(_two_features), (FOOTPRINT, "type", "one GeoJSON Feature")),
    Case("footprint-no-time", _edited_footprint(_footprint_props(time="")), (FOOTPRINT, "properties.time", "missing")),
    # invert summary.json
    Case(
        "summary-no-interval",
        _edited_summary(lambda s: {k: v for k, v in s.items() if k != "emission_rate_68_g_s"}),
        (SUMMARY, "emission_rate_68_g_s", "missing"),
    ),  # fmt: skip
    Case(
        "summary-interval-scalar",
        _edited_summary(lambda s: {**s, "emission_rate_68_g_s": 3.0}),
        (SUMMARY, "emission_rate_68_g_s", "pair"),
    ),  # fmt: skip
    Case("summary-not-json", _edited_summary(None, raw="{detected: yes"), (SUMMARY, "not JSON")),
    Case(
        "summary-sd-negative",
        _edited_summary(lambda s: {**s, "source_sd_x_m": -3.0}),
        (SUMMARY, "source_sd_x_m", "positive"),
    ),  # fmt: skip
    Case(
        "summary-detected-text",
        _edited_summary(lambda s: {**s, "detected": "perhaps"}),
        (SUMMARY, "detected", "true or false"),
    ),  # fmt: skip
    # options
    Case("gate-above-one", _opts("--gate", "1.5"), ("--gate", "1.5")),
    Case("floor-negative", _opts("--floor-pixels", "-1"), ("--floor-pixels", "-1")),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_sites_input_refused(run_cli, inputs, tmp_path, case):
    print(case.id, "->", check_rejected(run_cli, case, inputs, tmp_path))
