"""The report's languages: gettext catalogues (Babel ``.po`` files) and locale-aware numbers, dates and units.

Every user-facing string of the report lives in ``report/locales/LANG/LC_MESSAGES/report.po``. The catalogues are
compiled in memory when first used (Babel reads the ``.po`` and writes the ``.mo`` into a buffer), so a fresh
``pip install -e .`` works without a compile step and the ``.po`` stays the single source.
"""

from __future__ import annotations

import datetime as _dt
import io
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from plumetrace.errors import InvalidInputError

__all__ = ["DOMAIN", "LANGUAGES", "Formatter", "N_", "check_language", "po_path", "translations"]

#: The gettext domain of the report's catalogues.
DOMAIN = "report"
#: Languages with a complete catalogue: code -> name in that language.
LANGUAGES = {"en": "English", "es": "Español"}


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark for translation, translate later"
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


def check_language(lang: str) -> str:
    """``lang`` when the report has a catalogue for it; :class:`InvalidInputError` naming ``--lang`` otherwise."""
    code = str(lang).strip().lower()
    if code not in LANGUAGES:
        choices = ", ".join(LANGUAGES)
        raise InvalidInputError("--lang", f"{lang!r} is not a language of the report; choose one of {choices}")
    return code


def po_path(lang: str) -> Any:
    """The ``.po`` file of ``lang`` inside the installed package (an importlib.resources Traversable)."""
    return resources.files("plumetrace.report").joinpath("locales", lang, "LC_MESSAGES", f"{DOMAIN}.po")


@lru_cache(maxsize=None)
def translations(lang: str) -> Any:
    """The :class:`babel.support.Translations` of ``lang``, compiled from its ``.po`` in memory."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    code = check_language(lang)
    with po_path(code).open("rb") as handle:
        catalog = read_po(handle, locale=code, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


@dataclass(frozen=True)
class Formatter:
    """Numbers, dates and units written the way a reader of ``lang`` expects (Babel's CLDR data).

    Attributes
    ----------
    lang : str
        Language code (``en``, ``es``).
    """

    lang: str

    def gettext(self, message: str) -> str:
        """``message`` translated."""
        return translations(self.lang).gettext(message)

    def num(self, value: Any, digits: int = 0) -> str:
        """A number with the locale's decimal sign and grouping, ``digits`` decimals; an em dash for none / NaN."""
        from babel.numbers import format_decimal

        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "—"
        pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
        return format_decimal(float(value), format=pattern, locale=self.lang)

    def sig(self, value: Any, figures: int = 2) -> str:
        """A number rounded to ``figures`` significant figures (1535.9 -> ``1,540`` in English with 3)."""
        if value is None or not math.isfinite(float(value)):
            return "—"
        value = float(value)
        if value == 0:
            return self.num(0)
        digits = figures - 1 - int(math.floor(math.log10(abs(value))))
        return self.num(round(value, digits), max(digits, 0))

    def percent(self, fraction: Any, digits: int = 0) -> str:
        """A fraction as a percentage (0.714 -> ``71 %``) in the locale's style."""
        from babel import Locale
        from babel.numbers import format_percent

        if fraction is None or not math.isfinite(float(fraction)):
            return "—"
        pattern = Locale.parse(self.lang).percent_formats[None].pattern  # "#,##0%" en, "#,##0 %" es
        if digits > 0:
            pattern = pattern.replace("0", "0." + "0" * digits, 1) if "0" in pattern else pattern
        return format_percent(float(fraction), format=pattern, locale=self.lang)

    def unit(self, value: Any, unit: str, digits: int = 0) -> str:
        """A number with its unit, joined by a no-break space (``3 072 kg/h``)."""
        return f"{self.num(value, digits)}\u00a0{unit}"

    def rate(self, value: Any) -> str:
        """An emission rate in kg/h, two significant figures at least (``3 100 kg/h``, ``18 kg/h``, ``4,5 kg/h``)."""
        if value is None or not math.isfinite(float(value)):
            return "—"
        return f"{self.sig(value, 2 if abs(float(value)) < 1000 else 3)}\u00a0kg/h"

    def interval(self, low: Any, high: Any, unit: str = "kg/h") -> str:
        """An interval ``low–high unit`` with the same rounding as :meth:`rate`."""
        if low is None or high is None:
            return "—"
        return f"{self.sig(low)}–{self.sig(high)}\u00a0{unit}"

    def datetime(self, value: Any) -> str:
        """An ISO 8601 time as a medium-length local-language date and time in UTC (``21 jun 2026, 18:30:00 UTC``)."""
        from babel.dates import format_datetime

        moment = parse_time(value)
        if moment is None:
            return "—"
        return format_datetime(moment, "medium", tzinfo=_dt.timezone.utc, locale=self.lang) + " UTC"

    def date(self, value: Any) -> str:
        """The date part of an ISO 8601 time, medium length (``21 jun 2026``)."""
        from babel.dates import format_date

        moment = parse_time(value)
        return "—" if moment is None else format_date(moment.date(), "medium", locale=self.lang)

    def coord(self, value: Any, digits: int = 5) -> str:
        """A coordinate in decimal degrees with the locale's decimal sign."""
        return f"{self.num(value, digits)}°"


def parse_time(value: Any) -> _dt.datetime | None:
    """An ISO 8601 string (``Z`` allowed) or datetime as an aware UTC datetime; None when empty or unreadable."""
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, _dt.datetime):
        moment = value
    else:
        try:
            moment = _dt.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.timezone.utc)
    return moment.astimezone(_dt.timezone.utc)
