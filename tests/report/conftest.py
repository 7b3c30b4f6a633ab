"""Run folders and evidence packages, built once per test session from real stage products."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.report.fixture_run import campaign_run, empty_run, stage_products


def _cli(*argv: object) -> None:
    from plumetrace.cli import main

    try:
        main([str(a) for a in argv])
    except SystemExit as exc:  # pragma: no cover - a broken fixture
        assert exc.code in (0, None), f"fixture command failed: {argv}"


@pytest.fixture(scope="session")
def chromium() -> str:
    """The Chromium binary; skips the test with a reason when it is absent."""
    from plumetrace.report.render import find_chromium

    binary = find_chromium()
    if binary is None:
        pytest.skip("Chromium not installed (apt-get install chromium): the browser and PDF checks need it")
    return binary


@pytest.fixture(scope="session")
def products_dir(tmp_path_factory) -> Path:
    return stage_products(tmp_path_factory.mktemp("report-products"))


@pytest.fixture(scope="session")
def run_dir(products_dir, tmp_path_factory) -> Path:
    """A campaign: a plume, a clear overpass, a failed scene, a drone log; sites written by the sites stage."""
    return campaign_run(products_dir, tmp_path_factory.mktemp("report-run") / "run")


@pytest.fixture(scope="session")
def empty_run_dir(products_dir, tmp_path_factory) -> Path:
    return empty_run(products_dir, tmp_path_factory.mktemp("report-empty") / "run")


@pytest.fixture(scope="session")
def package_en(run_dir, tmp_path_factory, chromium) -> Path:
    """`plumetrace report RUN --lang en` (HTML and PDF)."""
    out = tmp_path_factory.mktemp("report-en") / "package"
    _cli("report", run_dir, "--lang", "en", "--out", out)
    return out


@pytest.fixture(scope="session")
def package_es(run_dir, tmp_path_factory) -> Path:
    """`plumetrace report RUN --lang es --no-pdf`."""
    out = tmp_path_factory.mktemp("report-es") / "package"
    _cli("report", run_dir, "--lang", "es", "--no-pdf", "--out", out)
    return out


@pytest.fixture(scope="session")
def package_empty(empty_run_dir, tmp_path_factory) -> Path:
    """The report of a campaign that found nothing (HTML only)."""
    out = tmp_path_factory.mktemp("report-none") / "package"
    _cli("report", empty_run_dir, "--lang", "en", "--no-pdf", "--out", out)
    return out
