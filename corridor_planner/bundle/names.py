"""Names of a bundle's places, facilities, sites and posts in the languages of the report.

A feature of any layer may carry translations of its ``name`` as ``name_ru`` or
``name:ru`` (the OpenStreetMap form, kept from an import); ``corridor.toml`` may name the
corridor itself the same way. A :class:`NameBook` gathers them once per bundle, so a report
in Russian or Urdu can write every name its data hold in that language's script, and say
which names have no translation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from corridor_planner.bundle.corridor import Corridor


def translation_keys(lang: str) -> tuple[str, str]:
    """Return the two keys a translation into ``lang`` may have: ``name_ru``, ``name:ru``."""
    return f"name_{lang}", f"name:{lang}"


def _text(value: Any) -> str:
    """Return a translation cell as text; empty for a missing one (NaN, None, blank)."""
    return value.strip() if isinstance(value, str) else ""


def table_names(table: pd.DataFrame, lang: str) -> dict[str, str]:
    """Map each name of a layer to its translation into ``lang``, where it has one.

    ``name_<lang>`` wins over ``name:<lang>``; a name whose features disagree on the
    translation keeps the first one (features of one name are the same place).
    """
    found: dict[str, str] = {}
    columns = [key for key in translation_keys(lang) if key in table.columns]
    if "name" not in table.columns or not columns:
        return found
    for row in table[["name", *columns]].itertuples(index=False):
        english, *translated = row
        local = next((t for t in map(_text, translated) if t), "")
        if local and isinstance(english, str):
            found.setdefault(english, local)
    return found


@dataclass(frozen=True)
class NameBook:
    """Every name of a bundle, by language: ``{"ru": {"Bishkek": "Бишкек", ...}, ...}``.

    Attributes
    ----------
    names : frozenset of str
        Every English name of the bundle (corridor, places, facilities, sites, posts).
    translations : dict of str to dict
        ``{lang: {English name: translated name}}``.
    """

    names: frozenset[str] = frozenset()
    translations: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def local(self, name: Any, lang: str) -> str:
        """Return ``name`` in ``lang`` (the name itself when it has no translation)."""
        text = str(name)
        return self.translations.get(lang, {}).get(text, text)

    def untranslated(self, lang: str) -> list[str]:
        """Names with no translation into ``lang``, sorted (the gaps a reader sees)."""
        known = self.translations.get(lang, {})
        return sorted(n for n in self.names if n not in known)


def name_book(corridor: Corridor, languages: Iterable[str]) -> NameBook:
    """Gather the translations of every name of ``corridor`` into each of ``languages``."""
    tables = [
        corridor.facilities,
        corridor.population,
        corridor.candidates,
        corridor.posts_gdf,
        corridor.named_places,
    ]
    names = {corridor.name}
    for table in tables:
        if "name" in table.columns:
            names |= {n for n in table["name"] if isinstance(n, str)}
    translations: dict[str, dict[str, str]] = {}
    for lang in languages:
        book: dict[str, str] = {}
        keys = translation_keys(lang)
        own = next((t for t in (_text(corridor.metadata.get(k)) for k in keys) if t), "")
        if own:
            book[corridor.name] = own
        for table in tables:
            for english, local in table_names(table, lang).items():
                book.setdefault(english, local)
        translations[lang] = book
    return NameBook(frozenset(names), translations)
