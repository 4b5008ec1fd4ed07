"""Names in the report's languages: the bundle's translations, gathered and written."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from corridor_planner.bundle.names import NameBook, name_book, table_names
from corridor_planner.render.report import template_environment


def test_a_layer_maps_each_name_to_its_translation():
    table = pd.DataFrame(
        {
            "name": ["Bishkek", "Kant", "Tokmok", "Kara-Balta"],
            "name_ru": ["Бишкек", math.nan, "  ", None],
            "name:ru": ["Бишкек (OSM)", "Кант", "Токмок", None],
        }
    )
    # name_ru wins over name:ru; a blank or missing name_ru falls back to name:ru
    assert table_names(table, "ru") == {"Bishkek": "Бишкек", "Kant": "Кант", "Tokmok": "Токмок"}
    assert table_names(table, "ur") == {}


def test_a_bundle_book_names_every_name_and_its_gaps(almaty_bishkek):
    corridor = almaty_bishkek.corridor
    book = name_book(corridor, ["ru"])
    assert corridor.name in book.names
    assert book.local(corridor.name, "ru").startswith("Алматы – Бишкек")
    facility = "Bishkek City Clinical Hospital No. 6"  # OSM name:ru kept by the import
    assert book.local(facility, "ru") == "Городская клиническая больница №6"
    assert book.local(facility, "ur") == facility  # no Urdu: the name itself
    gaps = book.untranslated("ru")
    assert facility not in gaps and set(gaps) <= book.names
    assert set(gaps) | set(book.translations["ru"]) >= book.names


@pytest.mark.parametrize(
    ("autoescape", "expected"), [(True, "<bdi>Бишкек</bdi> &lt;b&gt;"), (False, "Бишкек <b>")]
)
def test_the_name_filter_translates_and_isolates(autoescape, expected):
    book = NameBook(frozenset({"Bishkek"}), {"ru": {"Bishkek": "Бишкек"}})
    env = template_environment(autoescape, "ru", names=book)
    page = env.from_string("{{ a | name }} {{ b | place }}").render(a="Bishkek", b="<b>")
    assert page == expected
    english = template_environment(autoescape, "en", names=book)
    assert english.from_string("{{ a | place }}").render(a="Bishkek") == "Bishkek"
