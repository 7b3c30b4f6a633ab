"""DetectOptions: defaults, overrides through detect_scene, and one rejection per bad field, naming it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from _detect_synthetic import synthetic_scene

from plumetrace.detect.engine import detect_scene
from plumetrace.detect.options import DetectOptions, resolve_options
from plumetrace.errors import InvalidInputError

WINDOW = (2100.0, 2480.0)


def test_defaults_are_valid_and_frozen():
    options = DetectOptions().validated()
    assert options.method == "mf" and options.robust and options.robust_active
    assert not options.albedo_corrected and DetectOptions(method="sparse").albedo_corrected
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.method = "ace"  # type: ignore[misc]


def test_overrides_replace_fields_and_validate_the_whole():
    base = DetectOptions(method="ace", stats="scene")
    assert resolve_options(base, robust=False) == DetectOptions(method="ace", stats="scene", robust=False)
    assert resolve_options(None) == DetectOptions()
    with pytest.raises(InvalidInputError, match="group_columns"):
        resolve_options(base, group_columns=4)  # needs stats="group"


def test_unknown_option_is_a_type_error():
    with pytest.raises(TypeError, match="refine"):
        resolve_options(refine=True)  # superseded by the robust round
    with pytest.raises(TypeError, match="DetectOptions"):
        resolve_options({"method": "mf"})  # type: ignore[arg-type]


def test_options_object_and_keywords_give_the_same_products():
    scene, _, _ = synthetic_scene(rows=60, cols=4)
    by_keywords = detect_scene(scene, window_nm=WINDOW, stats="scene", method="ace", progress=False)
    options = DetectOptions(window_nm=WINDOW, stats="scene", method="ace", progress=False)
    by_object = detect_scene(scene, options)
    for name in by_keywords.data_vars:
        np.testing.assert_array_equal(by_keywords[name].values, by_object[name].values)
    assert by_keywords.attrs == by_object.attrs


@pytest.mark.parametrize(
    "field, value",
    [
        ("method", "magic"),
        ("stats", "rows"),
        ("iterations", -1),
        ("iterations", 2.5),
        ("chunk_rows", 0),
        ("n_threads", 0),
        ("flare_factor", 1.0),
        ("robust_rounds", -1),
        ("spill_bytes", -1),
        ("window_nm", (2488.0, 2122.0)),
        ("window_nm", "swir"),
        ("cluster_features", "colour"),
    ],
)
def test_bad_field_is_named(field, value):
    extra = {"stats": "cluster"} if field == "cluster_features" else {}
    with pytest.raises(InvalidInputError, match=field):
        DetectOptions(**{field: value}, **extra).validated()


@pytest.mark.parametrize(
    "options, field",
    [
        ({"method": "sparse", "albedo_correct": False}, "albedo_correct"),
        ({"stats": "column", "clusters": 3}, "clusters"),
        ({"stats": "cluster", "clusters": 0}, "clusters"),
        ({"stats": "cluster", "device": "cuda"}, "device"),
        ({"group_columns": 0, "stats": "group"}, "group_columns"),
    ],
)
def test_inconsistent_options_are_named(options, field):
    with pytest.raises(InvalidInputError, match=field):
        DetectOptions(**options).validated()
