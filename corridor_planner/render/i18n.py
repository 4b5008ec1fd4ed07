"""Languages of the report: gettext catalogues (Babel) and locale-aware numbers and dates.

Catalogues are the ``.po`` files under ``corridor_planner/render/locale/``; they are compiled in
memory when loaded, so only text files are kept in the repository. English is the source
language. Regenerate the template after changing a message with ``make messages``.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
from importlib import resources
from typing import Any

from babel import Locale, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from corridor_planner.errors import InvalidArgumentError
from corridor_planner.settings import LANGUAGES

#: Languages written right to left.
RIGHT_TO_LEFT = frozenset({"ur"})
DOMAIN = "messages"


@functools.cache
def translations(lang: str) -> NullTranslations:
    """Return the gettext translations of a language (English: the messages as written).

    Raises
    ------
    InvalidArgumentError
        When the language has no catalogue.
    """
    check_language(lang)
    if lang == "en":
        return NullTranslations()
    po = (
        resources.files("corridor_planner.render")
        / "locale"
        / lang
        / "LC_MESSAGES"
        / f"{DOMAIN}.po"
    )
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=lang, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def check_language(lang: str) -> None:
    """Refuse a language the report has no catalogue for."""
    if lang not in LANGUAGES:
        raise InvalidArgumentError(
            f"no report language {lang!r}; available: {', '.join(sorted(LANGUAGES))}"
        )


class Formats:
    """Numbers, shares and dates written as the locale writes them (``1 234,5`` in ru).

    Parameters
    ----------
    lang : str
        A code of ``LANGUAGES``.
    """

    def __init__(self, lang: str) -> None:
        check_language(lang)
        self.locale = Locale.parse(lang)

    def number(self, value: Any, digits: int = 0) -> str:
        """Format a number with grouping; ``–`` for a missing value."""
        if value is None:
            return "–"
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return numbers.format_decimal(value, format=pattern, locale=self.locale)

    def share(self, value: Any) -> str:
        """Format a share (0..1) as a percentage with one decimal; ``–`` when missing."""
        if value is None or value != value:
            return "–"
        return numbers.format_percent(value, format="#,##0.0%", locale=self.locale)

    def date(self, value: str | dt.date) -> str:
        """Format an ISO date (or a date) in the locale's long form; other text unchanged."""
        if isinstance(value, str):
            try:
                day = dt.date.fromisoformat(value)
            except ValueError:
                return value
        else:
            day = value
        return str(dates.format_date(day, format="long", locale=self.locale))


#: Country names where the locale's own differs from the name the country uses itself.
COUNTRY_NAMES = {("ru", "KG"): "Кыргызстан"}


def country_name(code: str, lang: str) -> str:
    """Name a country (ISO 3166 alpha-2 code) in a language; the code itself when unknown."""
    check_language(lang)
    if (lang, code) in COUNTRY_NAMES:
        return COUNTRY_NAMES[(lang, code)]
    return str(Locale.parse(lang).territories.get(code.upper(), code))
