"""`plumetrace info`: every bad scene is refused with one line naming the file and the field (exit 2)."""

from __future__ import annotations

import pytest

from tests.badinput.harness import Case, check_rejected, ids
from tests.badinput.scene_files import SCENES

CASES = [
    Case(f"info-{name}", lambda i, t, make=make: ["info", make(i, t)], names, no_out=True)
    for name, make, names in SCENES
] + [
    Case(
        "info-json-bad-scene", lambda i, t: ["info", "--json", t / "nothere.img"], ("{tmp}/nothere.img",), no_out=True
    ),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_info_refuses(run_cli, inputs, tmp_path, case):
    check_rejected(run_cli, case, inputs, tmp_path)
