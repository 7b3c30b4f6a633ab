"""`plumetrace report` and `plumetrace verify`: an unknown language, a folder that is not a run, a run of an incompatible
version or layout, a broken run.json, missing products, unusable keys and a package without manifest are refused in
one line naming the file (or option) and the field, exit 2, nothing written."""

from __future__ import annotations

import json

import pytest

from tests.badinput.harness import Case, Inputs, check_rejected, ids, write_text
from tests.report.fixture_run import minimal_run


def _run(tmp, **changes):
    return minimal_run(tmp / "run", **changes)


def _edited_run_json(tmp, edit):
    run = _run(tmp)
    data = json.loads((run / "run.json").read_text())
    edit(data)
    (run / "run.json").write_text(json.dumps(data))
    return run


def _without_sites(tmp):
    run = _run(tmp)
    for path in sorted((run / "sites").iterdir()):
        path.unlink()
    (run / "sites").rmdir()
    return run


def _done_scene_missing(tmp):
    entry = {"id": "emit-0101", "kind": "scene", "path": "emit-0101.hdr", "sha256": "0" * 64, "status": "done",
             "error": None, "stages": {}}  # fmt: skip
    return _edited_run_json(tmp, lambda d: d.__setitem__("inputs", [entry]))


def _rsa_free_bad_key(tmp):
    return write_text(tmp, "key.pem", "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n")


def _user_folder(out):
    out.mkdir(parents=True)
    (out / "notes.txt").write_text("mine")


CASES = [
    Case("lang-unknown", lambda i, t: ["report", _run(t), "--lang", "fr"], ("--lang", "fr")),
    Case("lang-empty", lambda i, t: ["report", _run(t), "--lang", ""], ("--lang",)),
    Case("run-dir-missing", lambda i, t: ["report", t / "nothing"], ("{tmp}/nothing", "run folder")),
    Case("not-a-run", lambda i, t: ["report", (t / "photos").mkdir() or t / "photos"], ("{tmp}/photos", "run.json")),
    Case("run-is-a-file", lambda i, t: ["report", write_text(t, "run.txt", "x")], ("{tmp}/run.txt",)),
    Case(
        "version-newer",
        lambda i, t: ["report", _run(t, plumetrace_version="9.2.0")],
        ("{tmp}/run/run.json", "plumetrace_version", "9.2.0"),
    ),  # fmt: skip
    Case(
        "version-older-minor",
        lambda i, t: ["report", _run(t, plumetrace_version="0.0.3")],
        ("{tmp}/run/run.json", "plumetrace_version"),
    ),  # fmt: skip
    Case(
        "version-not-a-number",
        lambda i, t: ["report", _run(t, plumetrace_version="latest")],
        ("{tmp}/run/run.json", "plumetrace_version"),
    ),  # fmt: skip
    Case("layout-unknown", lambda i, t: ["report", _run(t, layout=2)], ("{tmp}/run/run.json", "layout")),
    Case(
        "run-json-garbage",
        lambda i, t: ["report", _run(t).joinpath("run.json").write_text("{not json") and t / "run"],
        ("{tmp}/run/run.json", "run.json"),
    ),  # fmt: skip
    Case(
        "run-json-no-inputs",
        lambda i, t: ["report", _edited_run_json(t, lambda d: d.pop("inputs"))],
        ("{tmp}/run/run.json", "inputs"),
    ),  # fmt: skip
    Case(
        "input-kind-unknown",
        lambda i, t: [
            "report",
            _edited_run_json(t, lambda d: d.__setitem__("inputs", [{"id": "a", "kind": "video", "status": "done"}])),
        ],
        ("{tmp}/run/run.json", "inputs[0].kind"),
    ),  # fmt: skip
    Case("sites-missing", lambda i, t: ["report", _without_sites(t)], ("{tmp}/run/sites",)),
    Case(
        "done-scene-without-product",
        lambda i, t: ["report", _done_scene_missing(t)],
        ("{tmp}/run/scenes/emit-0101/plumes",),
    ),  # fmt: skip
    Case("sign-key-missing", lambda i, t: ["report", _run(t), "--sign", t / "none.pem"], ("{tmp}/none.pem",)),
    Case(
        "sign-key-not-a-key",
        lambda i, t: ["report", _run(t), "--sign", _rsa_free_bad_key(t)],
        ("{tmp}/key.pem", "--sign"),
    ),  # fmt: skip
    Case("out-holds-user-files", lambda i, t: ["report", _run(t)], ("{tmp}/out", "--out"), prepare_out=_user_folder),
    Case(
        "verify-no-manifest",
        lambda i, t: ["verify", (t / "pkg").mkdir() or t / "pkg"],
        ("{tmp}/pkg/manifest.json",),
        no_out=True,
    ),  # fmt: skip
    Case(
        "verify-manifest-garbage",
        lambda i, t: ["verify", (t / "pkg").mkdir() or write_text(t / "pkg", "manifest.json", "[1, 2]").parent],
        ("{tmp}/pkg/manifest.json", "files"),
        no_out=True,
    ),  # fmt: skip
    Case(
        "verify-public-key-not-a-key",
        lambda i, t: ["verify", t, "--public-key", write_text(t, "pub.pem", "hello")],
        ("{tmp}/pub.pem", "--public-key"),
        no_out=True,
    ),  # fmt: skip
]


@pytest.fixture(scope="module")
def no_inputs(tmp_path_factory) -> Inputs:
    """The cases build their own run folders: the shared scene inputs are not needed (nor built)."""
    root = tmp_path_factory.mktemp("report-inputs")
    return Inputs(root, *(root / "unused" for _ in range(6)), home="0,0")


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_report_rejects(case, no_inputs, run_cli, tmp_path):
    check_rejected(run_cli, case, no_inputs, tmp_path)
