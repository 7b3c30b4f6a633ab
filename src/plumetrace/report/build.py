"""Make the evidence package of a run folder: report.html, report.pdf, GIS copies of the sites, provenance, manifest.

Package layout (docs/report.md)::

    report.html          the report, self-contained (figures, style and script embedded; no request leaves)
    report.pdf           the same report printed by headless Chromium (A4)
    gis/                 sites.geojson, sites.kml, sites.csv (and sites.gpkg when pyogrio or fiona is installed)
    provenance/          run.json and campaign.yaml of the run, report.json (the report's own parameters)
    manifest.json        every file above with its SHA-256
    manifest.sig         Ed25519 signature of manifest.json (with --sign)
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plumetrace.report.i18n import Formatter, check_language, translations

__all__ = ["ReportOptions", "ReportResult", "build_report"]


@dataclass(frozen=True)
class ReportOptions:
    """How the package is made.

    Attributes
    ----------
    lang : str
        Language of the report (``en``, ``es``).
    pdf : bool
        Print report.pdf with headless Chromium (False: the HTML only).
    sign_key : Path or None
        PEM Ed25519 private key: sign manifest.json into manifest.sig.
    """

    lang: str = "en"
    pdf: bool = True
    sign_key: Path | None = None

    def validated(self) -> ReportOptions:
        """These options with the language checked (:class:`InvalidInputError` naming ``--lang``)."""
        return ReportOptions(check_language(self.lang), self.pdf, self.sign_key)


@dataclass(frozen=True)
class ReportResult:
    """What :func:`build_report` wrote: the package-relative file names, the counts the report states, the times."""

    files: list[str]
    n_sites: int
    n_failed: int
    seconds: dict[str, float]


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def build_report(
    run_dir: str | Path, out_dir: str | Path, options: ReportOptions, *, generated: str | None = None
) -> ReportResult:
    """Write the evidence package of ``run_dir`` into the (empty, staging) folder ``out_dir``.

    Parameters
    ----------
    run_dir : path
        The --out folder of ``plumetrace run`` (docs/run.md).
    out_dir : path
        Where the package is written (a staging folder: the CLI moves it into place when everything is written).
    options : ReportOptions
    generated : str, optional
        ISO 8601 UTC time stated as the report's making (default: now).

    Raises
    ------
    InvalidInputError, MissingFileError, InvalidFileError
        Unknown language, unreadable key, a folder that is not a run or a run of an incompatible version.
    ChromiumError
        The PDF was asked for and Chromium is missing or failed.
    """
    import time

    from plumetrace import __version__
    from plumetrace.progress import progress_bar
    from plumetrace.report.content import report_context
    from plumetrace.report.export import export_sites
    from plumetrace.report.manifest import load_private_key, sign_manifest, write_manifest
    from plumetrace.report.render import print_pdf, render_html, require_chromium
    from plumetrace.report.runfolder import read_run
    from plumetrace.report.skill import load_skill

    options = options.validated()
    key = load_private_key(options.sign_key) if options.sign_key is not None else None
    run = read_run(run_dir)
    if options.pdf:
        require_chromium()  # a missing Chromium is found before any work
    generated = generated or _now()
    out = Path(out_dir)
    seconds: dict[str, float] = {}
    with progress_bar() as bar:
        task = bar.add_task("report", total=5)
        start = time.perf_counter()
        tr = Formatter(options.lang)
        context = report_context(run, tr, skill=load_skill(), generated=generated, version=__version__)
        seconds["figures"] = time.perf_counter() - start
        bar.advance(task)
        exports = export_sites(run, out / "gis")
        _write_provenance(run, out / "provenance", options, generated, __version__)
        bar.advance(task)
        start = time.perf_counter()
        context.update(exports=", ".join(f"gis/{name}" for name in exports) or "—", signed=key is not None)
        html = render_html(context, translations(options.lang))
        (out / "report.html").write_text(html, encoding="utf-8")
        seconds["html"] = time.perf_counter() - start
        bar.advance(task)
        if options.pdf:
            start = time.perf_counter()
            print_pdf(out / "report.html", out / "report.pdf")
            seconds["pdf"] = time.perf_counter() - start
        bar.advance(task)
        meta = {"plumetrace_version": __version__, "generated": generated, "lang": options.lang, "run": run.path.name}
        write_manifest(out, meta=meta)
        if key is not None:
            sign_manifest(out, key)
        bar.advance(task)
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    return ReportResult(files, len(run.sites), len(run.failed), seconds)


def _write_provenance(run: Any, folder: Path, options: ReportOptions, generated: str, version: str) -> None:
    """The run's own records (run.json, campaign.yaml) and the report's parameters, machine-readable."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run.path / "run.json", folder / "run.json")
    if (run.path / "campaign.yaml").is_file():
        shutil.copyfile(run.path / "campaign.yaml", folder / "campaign.yaml")
    report = {
        "plumetrace_version": version,
        "generated": generated,
        "run_dir": str(run.path.resolve()),
        "lang": options.lang,
        "pdf": options.pdf,
        "signed": options.sign_key is not None,
    }
    (folder / "report.json").write_text(json.dumps(report, indent=1) + "\n")
