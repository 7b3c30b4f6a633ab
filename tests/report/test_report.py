"""The evidence package of a campaign: its files, what the report states (against the run's own products), that the
HTML is clean, self-contained and accessible, that the Spanish report is Spanish, and that the PDF has its pages."""

from __future__ import annotations

import html
import json
import re

import pandas as pd
import pytest

from plumetrace.report.i18n import Formatter
from plumetrace.report.manifest import verify_package
from tests.report.fixture_run import FAILED_ERROR
from tests.report.htmlcheck import check_html, external_references

EXPECTED = {
    "report.html", "report.pdf", "manifest.json", "gis/sites.geojson", "gis/sites.kml", "gis/sites.csv",
    "provenance/run.json", "provenance/campaign.yaml", "provenance/report.json", ".plumetrace",
}  # fmt: skip


def _n(text: str) -> str:
    """Spaces collapsed, as :func:`_visible` gives them (no-break spaces included)."""
    return " ".join(text.split())


def _text(package) -> str:
    return (package / "report.html").read_text(encoding="utf-8")


def _visible(page: str) -> str:
    """The document's text without tags, with entities decoded and spaces collapsed."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def test_package_holds_every_file_and_its_manifest_is_intact(package_en):
    files = {p.relative_to(package_en).as_posix() for p in package_en.rglob("*") if p.is_file()}
    assert files == EXPECTED
    manifest = json.loads((package_en / "manifest.json").read_text())
    assert set(manifest["files"]) == EXPECTED - {"manifest.json", ".plumetrace"}
    assert manifest["lang"] == "en"
    result = verify_package(package_en)
    assert result.intact and result.n_files == len(EXPECTED) - 2


def test_report_states_the_run_s_numbers(package_en, run_dir):
    """Each site's rate, interval, persistence and position as sites.csv gives them, formatted in English."""
    page = _visible(_text(package_en))
    tr = Formatter("en")
    sites = pd.read_csv(run_dir / "sites" / "sites.csv")
    assert len(sites) == 2
    for site in sites.to_dict("records"):
        assert f"Site {site['site_id']}" in page
        assert _n(tr.rate(site["pw_rate_kg_h"])) in page
        assert _n(tr.interval(site["pw_rate_p16_kg_h"], site["pw_rate_p84_kg_h"])) in page
        assert f"latitude {site['lat']:.5f}°, longitude {site['lon']:.5f}°" in page
        assert f"{site['persistence'] * 100:.0f}%" in page
    plume = pd.read_csv(run_dir / "scenes" / "emit-0621" / "plumes" / "plumes.csv").iloc[0]
    assert f"{plume['emission_rate_kg_h']:,.0f}"[:2] in tr.rate(plume["emission_rate_kg_h"])
    assert _n(tr.rate(plume["emission_rate_kg_h"])) in page  # the quick-look's detection
    assert _n(tr.interval(plume["emission_rate_total_p16_kg_h"], plume["emission_rate_total_p84_kg_h"])) in page
    # the local UTM zone of the Permian basin demo (-102.3°: zone 13N), in metres
    assert re.search(r"13N 7\d\d,\d{3}\xa0m\xa0E 3,5\d\d,\d{3}\xa0m\xa0N", html.unescape(_text(package_en)))


def test_failed_input_has_its_own_section(package_en, run_dir):
    page = _visible(_text(package_en))
    failed = page.split("Inputs that could not be processed", 2)[2].split("Methods and limits")[0]
    assert "emit-0715" in failed and FAILED_ERROR in failed
    run = json.loads((run_dir / "run.json").read_text())
    for item in run["inputs"]:  # provenance: every input with its SHA-256
        assert item["sha256"] in page


def test_methods_quote_the_measured_skill(package_en):
    from plumetrace.report.skill import load_skill

    emit = load_skill()["sensors"]["emit"]
    page = _visible(_text(package_en))
    assert f"the median error of the rate was {emit['median_abs_rel_error'] * 100:.0f}%" in page
    assert f"held the truth {emit['interval68_coverage'] * 100:.0f}% of the time" in page
    assert "Which activity or piece of equipment caused the emission" in page


def test_html_is_clean_self_contained_and_accessible(package_en):
    text = _text(package_en)
    parsed = check_html(text)
    assert parsed.problems == []
    assert parsed.lang == "en"
    assert external_references(text) == []
    assert "default-src 'none'" in html.unescape(text)  # the browser itself forbids any request
    assert len(parsed.images) >= 5  # overview, a quick-look, two histories, a posterior map
    for image in parsed.images:
        assert image.get("alt") and len(image["alt"]) > 20
        assert str(image["src"]).startswith("data:image/png;base64,")
    assert parsed.tables and all(t["th"] > 0 and t["caption"] == 1 for t in parsed.tables)
    assert {"site-001", "site-002", "site-table", "failed", "methods", "provenance"} <= parsed.ids


def test_no_detection_report_says_so_and_shows_where_it_looked(package_empty, empty_run_dir):
    text = _text(package_empty)
    footprint = json.loads((empty_run_dir / "scenes" / "emit-0707" / "plumes" / "footprint.geojson").read_text())
    page = _visible(text)
    assert check_html(text).problems == []
    assert "Nothing was found" in page
    assert "emit-0707" in page.split("Where the campaign looked", 2)[2]  # the scene it looked in, with its limit
    limit = footprint["properties"]["detection_limit_kg_h"]
    assert limit > 0 and _n(Formatter("en").rate(limit)) in page  # the scene's detection limit
    assert "Every input was processed." in page
    assert len(check_html(text).images) == 1  # the map of where it looked


def _catalogue_phrases() -> list[tuple[str, str]]:
    """(English phrase, Spanish translation) for catalogue strings whose Spanish differs: literal pieces ≥ 16 chars."""
    from plumetrace.report.i18n import translations

    es = translations("es")
    out = []
    for message in es._catalog:  # msgid -> msgstr of the compiled catalogue
        if not message or es._catalog[message] == message:
            continue
        for piece in re.split(r"%\(\w+\)s|\{\w+\}", message.replace("%%", "%")):
            if len(piece.strip()) >= 16:
                out.append((piece.strip(), es._catalog[message]))
    return out


def test_spanish_report_has_no_english_catalogue_string(package_es, package_en):
    spanish = _visible(_text(package_es))
    english = _visible(_text(package_en))
    phrases = _catalogue_phrases()
    assert len(phrases) > 80
    assert sum(p in english for p, _ in phrases) > 50  # the check has teeth: they are in the English report
    leftovers = [p for p, _ in phrases if p in spanish]
    assert leftovers == []
    assert check_html(_text(package_es)).lang == "es"
    assert "Emplazamientos de emisión: paquete de evidencias" in spanish
    assert "Entradas que no pudieron procesarse" in spanish


def test_spanish_numbers_and_dates_follow_the_locale(package_es, run_dir):
    spanish = _visible(_text(package_es))
    site = pd.read_csv(run_dir / "sites" / "sites.csv").iloc[0]
    assert _n(Formatter("es").rate(site["pw_rate_kg_h"])) in spanish
    assert "21 jun 2026" in spanish  # the plume's overpass, Spanish month
    assert f"latitud {site['lat']:.5f}°".replace(".", ",") in spanish


@pytest.mark.slow
def test_pdf_has_a_page_per_part(package_en):
    from pypdf import PdfReader

    reader = PdfReader(str(package_en / "report.pdf"))
    tops = [" ".join((page.extract_text() or "").split())[:80] for page in reader.pages]
    assert len(reader.pages) >= 6  # overview, one page at least per site, methods, provenance
    for heading in ("Emission sites: evidence package", "Site site-001", "Site site-002", "Methods and limits",
                    "Provenance"):  # fmt: skip
        assert any(top.startswith(heading) or top.startswith(f"Sites {heading}") for top in tops), (heading, tops)
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 595) < 3 and abs(float(box.height) - 842) < 3  # A4 in points
