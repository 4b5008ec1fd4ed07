"""Every name of the bundled corridors in the report's languages: sourced, in its script."""

from __future__ import annotations

import csv
import importlib.util
import json
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORRIDORS = ROOT / "data" / "corridors"
#: bundle -> language of its report
LANGS = {"almaty_bishkek": "ru", "cpec_gwadar": "ur", "cpec_karakoram": "ur"}
LAYERS = ("population", "facilities", "border_posts", "candidates")
#: names no source gives and the project did not transliterate (SOURCES.md, "Names")
GAPS = {
    "almaty_bishkek": set(),
    "cpec_gwadar": set(),
    "cpec_karakoram": {"gn_1390088", "gn_1390288", "gn_7419667", "gn_7427939"},
}
CYRILLIC = re.compile(r"[\u0400-\u04FF]")
ARABIC = re.compile(r"[\u0600-\u06FF]")
#: Kazakh/Kyrgyz-only Cyrillic letters: a name using them is not the Russian form
NOT_RUSSIAN = re.compile(r"[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")
#: Arabic letters Urdu writes otherwise (ی ک ہ)
NOT_URDU = re.compile(r"[يكة]")


def load_tool(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def features(bundle: Path, layer: str) -> list[dict]:
    return json.loads((bundle / f"{layer}.geojson").read_text(encoding="utf-8"))["features"]


@pytest.mark.parametrize("name", sorted(LANGS))
def test_every_feature_has_its_translation_or_is_a_named_gap(name):
    key = f"name_{LANGS[name]}"
    missing = {
        f["properties"]["id"]
        for layer in LAYERS
        for f in features(CORRIDORS / name, layer)
        if not f["properties"].get(key)
    }
    assert missing == GAPS[name]


@pytest.mark.parametrize("name", sorted(LANGS))
def test_names_are_in_the_script_of_their_language(name):
    lang = LANGS[name]
    for layer in LAYERS:
        for f in features(CORRIDORS / name, layer):
            text = f["properties"].get(f"name_{lang}")
            if not text:
                continue
            where = f"{name}/{layer} {f['properties']['id']}: {text}"
            # country codes such as (KZ) may stay in Latin letters
            letters = re.sub(r"\b[A-Z]{2}\b", "", text)
            assert not re.search("[A-Za-z]", letters), where
            if lang == "ru":
                assert CYRILLIC.search(text) and not NOT_RUSSIAN.search(text), where
            else:
                assert ARABIC.search(text) and not NOT_URDU.search(text), where
                assert not CYRILLIC.search(text), where


@pytest.mark.parametrize("name", sorted(LANGS))
def test_every_name_cites_its_source(name):
    path = CORRIDORS / name / "sources" / "names.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    known = ("GeoNames", "OSM", "HOT", "translation by the project", "transliteration by the")
    assert rows and all(r["source"].startswith(known) for r in rows)
    assert len({(r["id"], r["lang"]) for r in rows}) == len(rows)
    ids = {f["properties"]["id"] for layer in LAYERS for f in features(CORRIDORS / name, layer)}
    assert {r["id"] for r in rows} <= ids


@pytest.mark.parametrize("name", sorted(LANGS))
def test_applying_the_names_again_changes_nothing(name, tmp_path):
    bundle = tmp_path / name
    shutil.copytree(CORRIDORS / name, bundle)
    load_tool("apply_names").main(bundle)
    for layer in LAYERS[1:]:
        assert (bundle / f"{layer}.geojson").read_bytes() == (
            CORRIDORS / name / f"{layer}.geojson"
        ).read_bytes()


@pytest.mark.parametrize("name", sorted(LANGS))
def test_regenerating_the_population_changes_nothing(name):
    tool = load_tool("make_population")
    built, _ = tool.build_population(CORRIDORS / name)
    assert tool.render(built) == (CORRIDORS / name / "population.geojson").read_text(
        encoding="utf-8"
    )
