"""The report's languages: every string of the templates and modules is in both catalogues, the catalogues compile
from the ``.po`` alone, numbers and dates follow the language; the quoted skill matches the benchmark's JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from plumetrace.errors import InvalidInputError
from plumetrace.report.catalog import extract_messages, missing_translations
from plumetrace.report.i18n import Formatter, check_language, translations

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("lang", ["es", "en"])
def test_every_string_is_translated(lang):
    assert len(extract_messages()) > 100  # the templates' and modules' strings were found
    assert missing_translations(lang) == []


def test_an_untranslated_string_is_caught(monkeypatch):
    """A string added to the templates without a Spanish entry fails the check above."""
    import plumetrace.report.catalog as catalog

    real = catalog.extract_messages

    def with_new_string():
        messages = real()
        messages.add("A sentence nobody translated yet", None, [("templates/report.html", 1)])
        return messages

    monkeypatch.setattr(catalog, "extract_messages", with_new_string)
    assert catalog.missing_translations("es") == ["A sentence nobody translated yet"]


def test_catalogues_compile_from_the_po_files():
    assert translations("es").gettext("Sites") == "Emplazamientos"
    assert translations("en").gettext("Sites") == "Sites"
    assert not list((ROOT / "src/plumetrace/report/locales").rglob("*.mo"))  # no compiled file to keep in step


@pytest.mark.parametrize("bad", ["fr", "EN_US", "", "spanish"])
def test_unknown_language_names_the_option(bad):
    with pytest.raises(InvalidInputError, match="--lang"):
        check_language(bad)


def test_numbers_dates_and_units_follow_the_language():
    en, es = Formatter("en"), Formatter("es")
    assert en.num(30718.25, 1) == "30,718.2" and es.num(30718.25, 1) == "30.718,2"
    assert en.rate(1535.9) == "1,540\xa0kg/h" and es.rate(1535.9) == "1.540\xa0kg/h"  # 3 significant figures
    assert en.rate(18.119) == "18\xa0kg/h" and es.rate(4.53) == "4,5\xa0kg/h"
    assert en.interval(672.5, 2757.3) == "670–2,800\xa0kg/h"
    assert en.percent(0.714) == "71%" and es.percent(0.714) == "71\xa0%"
    assert en.datetime("2026-06-21T18:30:00Z") == "Jun 21, 2026, 6:30:00\u202fPM UTC"
    assert es.datetime("2026-06-21T18:30:00Z") == "21 jun 2026, 18:30:00 UTC"
    assert es.coord(-102.331367) == "-102,33137°"
    assert en.num(float("nan")) == "—" and es.rate(None) == "—"


def test_quoted_skill_matches_the_benchmark():
    from plumetrace.report.skill import load_skill, skill_summary

    benchmark = json.loads((ROOT / "benchmarks/results/quantify_skill.json").read_text())
    assert load_skill() == skill_summary(benchmark)
    emit = load_skill()["sensors"]["emit"]
    assert 0 < emit["median_abs_rel_error"] < 1 and 0 < emit["interval68_coverage"] <= 1
