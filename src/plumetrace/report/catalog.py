"""The report's message catalogues, managed with Babel: extract every string, update each language's ``.po``.

After a string of the templates or of ``report/*.py`` changes::

    python -m plumetrace.report.catalog          # updates locales/report.pot and locales/*/LC_MESSAGES/report.po

then translate the new (empty) entries of ``locales/es/LC_MESSAGES/report.po``. A test fails while one is missing.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from plumetrace.report.i18n import DOMAIN, LANGUAGES

__all__ = ["extract_messages", "missing_translations", "update_catalogues"]

_METHODS = (("*.py", "python"), ("templates/*.html", "jinja2.ext:babel_extract"))
_KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def _package_dir() -> Path:
    return Path(str(resources.files("plumetrace.report")))


def extract_messages():  # noqa: ANN201 - babel.messages.catalog.Catalog
    """Every translatable string of the report's templates and modules, as a Babel ``Catalog`` (the template)."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract

    root = _package_dir()
    catalog = Catalog(project="plumetrace", domain=DOMAIN, charset="utf-8")
    for pattern, method in _METHODS:
        for path in sorted(root.glob(pattern)):
            options = {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"} if "jinja2" in method else {}
            with path.open("rb") as handle:
                for lineno, message, comments, context in extract(method, handle, keywords=_KEYWORDS, options=options):
                    catalog.add(message, None, [(path.relative_to(root).as_posix(), lineno)], auto_comments=comments,
                                context=context)  # fmt: skip
    return catalog


def _read(lang: str):  # noqa: ANN202
    from babel.messages.pofile import read_po

    path = _package_dir() / "locales" / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as handle:
        return read_po(handle, locale=lang, domain=DOMAIN)


def missing_translations(lang: str) -> list[str]:
    """Strings of the templates and modules with no (or a fuzzy) translation in ``lang``'s catalogue."""
    template = extract_messages()
    catalog = _read(lang)
    missing = []
    for message in template:
        if not message.id:
            continue
        entry = catalog.get(message.id, context=message.context)
        if entry is None or entry.fuzzy or not entry.string:
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def update_catalogues() -> list[Path]:
    """Write ``locales/report.pot`` and merge it into every language's ``.po`` (new strings untranslated)."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    root = _package_dir() / "locales"
    written = [root / f"{DOMAIN}.pot"]
    with written[0].open("wb") as handle:
        write_po(handle, _with_header(extract_messages()), omit_header=False, sort_output=False, width=120)
    for lang in LANGUAGES:
        path = root / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        path.parent.mkdir(parents=True, exist_ok=True)
        catalog = _read(lang) if path.is_file() else Catalog(locale=lang, domain=DOMAIN, charset="utf-8")
        catalog.update(extract_messages(), no_fuzzy_matching=True)  # a fresh template: update shares its messages
        _with_header(catalog)
        if lang == "en":  # the source language: each string is its own translation
            for message in catalog:
                if message.id and not message.string:
                    message.string = message.id
        with path.open("wb") as handle:
            write_po(handle, catalog, omit_header=False, sort_output=False, width=120, ignore_obsolete=True)
        written.append(path)
    return written


def _with_header(catalog):  # noqa: ANN001, ANN202
    catalog.project, catalog.version = "plumetrace", ""
    catalog.copyright_holder = "the plumetrace authors"
    catalog.msgid_bugs_address = ""
    catalog.fuzzy = False
    return catalog


if __name__ == "__main__":  # pragma: no cover
    for written_path in update_catalogues():
        print(written_path)
