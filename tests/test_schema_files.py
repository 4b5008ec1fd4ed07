"""The four user-written files checked by their models: costs, origins, programmes, mappings.

Each case edits a real file (the bundled almaty_bishkek costs and origins, the bundled
CPEC programme, the facility mapping of the import tests) in one place and reads it with
the package's own reader: the problem must name the file, the item, the key and the fix.
"""

from __future__ import annotations

import copy
import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from corridor_planner import settings
from corridor_planner.analysis.programme import load_programme
from corridor_planner.bundle.costs import read_cost_book
from corridor_planner.bundle.origins import Settlement, read_origins
from corridor_planner.bundle.posts import CLOSED_HOURS
from corridor_planner.bundle.scenario import BASELINE, Scenario
from corridor_planner.errors import DataError
from corridor_planner.importer.facilities import read_mapping
from corridor_planner.schema.costs import CostsFile
from corridor_planner.schema.programme import check_programme

BUNDLE = settings.BUNDLED_CORRIDORS_DIR / "almaty_bishkek"
PROGRAMME = settings.PROGRAMMES_DIR / "cpec_emergency_care.toml"
#: The facility mapping of tests/test_import.py (a ministry's spreadsheet).
MAPPING = {
    "columns": {"name": "Facility", "level": "Type", "services": "Services"},
    "levels": {"Raion hospital": "district"},
    "services": {"emergency": "emergency", "surgery": "surgery"},
}
#: Bishkek, the corridor settlement the bundled way home to Tajikistan leaves from.
EXITS = {"gn_1528675": Settlement("KG", 42.87, 74.59)}
LONG = "x" * 2_001
Edit = Callable[[dict[str, Any]], None]


def _toml(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def _toml_text(data: dict[str, Any]) -> str:
    """Write a flat or sectioned table as TOML (enough for a programme and a mapping)."""
    lines = [f"{k} = {_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for key, table in data.items():
        if isinstance(table, dict):
            lines += [f"[{key}]", *(f"{_value(k)} = {_value(v)}" for k, v in table.items())]
    return "\n".join(lines) + "\n"


def _value(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, float) and value != value:
        return "nan"
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return repr(value)


def costs_problems(edit: Edit) -> list[str]:
    data = _toml(BUNDLE / "costs.toml")
    edit(data)
    _, problems = read_cost_book(data, ["KZ", "KG"])
    return [str(p) for p in problems]


def origins_problems(edit: Edit) -> list[str]:
    data = _toml(BUNDLE / "origins.toml")
    edit(data)
    _, problems = read_origins(data, EXITS, ["KZ", "KG"])
    return [str(p) for p in problems]


def _file_problems(read: Callable[[Path], Any], data: dict[str, Any], tmp: Path) -> list[str]:
    path = tmp / "file.toml"
    path.write_text(_toml_text(data), encoding="utf-8")
    with pytest.raises(DataError) as info:
        read(path)
    return [str(p) for p in info.value.problems]


def programme_problems(edit: Edit, tmp: Path) -> list[str]:
    data = _toml(PROGRAMME)
    edit(data)
    return _file_problems(load_programme, data, tmp)


def mapping_problems(edit: Edit, tmp: Path) -> list[str]:
    data = copy.deepcopy(MAPPING)
    edit(data)
    return _file_problems(read_mapping, data, tmp)


def _set(path: tuple[Any, ...], value: Any) -> Edit:
    """Set the key at ``path`` (table, index, key or section, key)."""

    def edit(data: dict[str, Any]) -> None:
        target = data
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return edit


def _rename(path: tuple[Any, ...], new: str) -> Edit:
    """Rename the key at ``path`` to ``new``, keeping its value."""

    def edit(data: dict[str, Any]) -> None:
        target = data
        for part in path[:-1]:
            target = target[part]
        target[new] = target.pop(path[-1])

    return edit


def _move(source: tuple[Any, ...], dest: tuple[Any, ...]) -> Edit:
    """Move a key from one table to another (the user put it in the wrong place)."""

    def edit(data: dict[str, Any]) -> None:
        target, into = data, data
        for part in source[:-1]:
            target = target[part]
        for part in dest:
            into = into[part]
        into[source[-1]] = target.pop(source[-1])

    return edit


CASES: dict[str, list[tuple[str, Edit, str]]] = {
    "costs": [
        (
            "misspelt",
            _rename(("charge", 0, "amount"), "amonut"),
            "costs.toml: charge #0: amonut: unknown key `amonut`; did you mean `amount`?",
        ),
        (
            "misplaced",
            _move(("fare", 0, "per_km"), ("charge", 0)),
            "costs.toml: charge #0: per_km: unknown key `per_km` here; it belongs in [fare]",
        ),
        (
            "out of range",
            _set(("exposure", 0, "share"), 1.5),
            "costs.toml: exposure #0: share: must be from 0 to 1 share (0 to 1), got 1.5",
        ),
        (
            "not a number",
            _set(("charge", 1, "amount"), float("nan")),
            "costs.toml: charge #1: amount: must be a finite number",
        ),
        (
            "over-long",
            _set(("charge", 2, "what"), LONG),
            "costs.toml: charge #2: what: must be at most 2000 characters",
        ),
        (
            "control character",
            _set(("fare", 0, "source"), "Sputnik\x1b[31m"),
            "costs.toml: fare #0: source: must not hold control characters (U+001B)",
        ),
        (
            "bad translation",
            _set(("charge", 0, "rest_paid_by_ru"), " "),
            "costs.toml: charge #0: rest_paid_by_ru: must not be empty",
        ),
        (
            "translation key misspelt",
            _rename(("charge", 0, "rest_paid_by_ru"), "rest_paid_by_russian"),
            "costs.toml: charge #0: rest_paid_by_russian: unknown key `rest_paid_by_russian`; "
            "did you mean `rest_paid_by`?",
        ),
    ],
    "origins": [
        (
            "misspelt",
            _rename(("place", 0, "population"), "populaton"),
            "origins.toml: place tj_dushanbe: populaton: unknown key `populaton`; "
            "did you mean `population`?",
        ),
        (
            "misplaced",
            _move(("tb_site", 0, "notes"), ("post", 0)),
            "origins.toml: post kyzyl_bel: notes: unknown key `notes` here; it belongs in "
            "[tb_site]",
        ),
        (
            "out of range",
            _set(("place", 1, "lon"), 269.6),
            "origins.toml: place tj_khujand: lon: must be from -180 to 180 degrees, got 269.6",
        ),
        (
            "not a number",
            _set(("road", 1, "minutes"), float("nan")),
            "origins.toml: road Isfara - Konibodom - Khujand: minutes: must be a finite number",
        ),
        (
            "over-long",
            _set(("tb_site", 1, "name"), LONG[:201]),
            "origins.toml: tb_site tj_sughd_tb_dehmoy: name: must be at most 200 characters",
        ),
        (
            "control character",
            _set(("country", 0, "source"), "EAEU\u202etreaty"),
            "origins.toml: country Tajikistan: source: must not hold control characters (U+202E)",
        ),
    ],
    "programme": [
        (
            "misspelt",
            _rename(("ambulance_minutes",), "ambulance_minute"),
            "file.toml: -: ambulance_minute: unknown key `ambulance_minute`; "
            "did you mean `ambulance_minutes`?",
        ),
        (
            "out of range",
            _set(("threshold_minutes",), 20_000),
            "file.toml: -: threshold_minutes: must be above 0 to 10080 minutes (up to a week)",
        ),
        (
            "not a number",
            _set(("ambulance_minutes",), float("nan")),
            "file.toml: -: ambulance_minutes: must be a finite number",
        ),
        (
            "over-long",
            _set(("source",), LONG),
            "file.toml: -: source: must be at most 2000 characters",
        ),
        (
            "control character",
            _set(("name",), "CPEC\x00"),
            "file.toml: -: name: must not hold control characters (U+0000)",
        ),
    ],
    "mapping": [
        (
            "misspelt",
            _rename(("columns", "services"), "servics"),
            "file.toml: columns: servics: unknown key `servics`; did you mean `services`?",
        ),
        (
            "misplaced",
            _move(("columns", "services"), ()),
            "file.toml: -: services: must be a table",  # `services` is also a section
        ),
        (
            "misplaced",
            _set(("beds",), "Beds"),
            "file.toml: -: beds: unknown key `beds` here; it belongs in [columns]",
        ),
        (
            "misplaced",
            _set(("columns", "separator"), ","),
            "file.toml: columns: separator: unknown key `separator` here; it belongs in the "
            "top level",
        ),
        (
            "out of range",
            _set(("location_precision_m",), 0),
            "file.toml: -: location_precision_m: must be above 0 to 100000 m, got 0",
        ),
        (
            "not a number",
            _set(("location_precision_m",), float("nan")),
            "file.toml: -: location_precision_m: must be a finite number",
        ),
        (
            "over-long",
            _set(("columns", "name"), LONG[:201]),
            "file.toml: columns: name: must be at most 200 characters",
        ),
        (
            "control character",
            _set(("levels",), {"Raion\x07hospital": "district"}),
            "file.toml: levels: Raion\x07hospital: must not hold control characters (U+0007)",
        ),
        (
            "vocabulary",
            _set(("levels",), {"Raion hospital": "raion"}),
            "file.toml: levels: Raion hospital: unknown level 'raion' (known: district, "
            "national, primary, regional)",
        ),
    ],
}


def _problems(kind: str, edit: Edit, tmp: Path) -> list[str]:
    if kind == "costs":
        return costs_problems(edit)
    if kind == "origins":
        return origins_problems(edit)
    if kind == "programme":
        return programme_problems(edit, tmp)
    return mapping_problems(edit, tmp)


@pytest.mark.parametrize(
    ("kind", "edit", "expected"),
    [
        pytest.param(kind, edit, expected, id=f"{kind}: {what}")
        for kind, cases in CASES.items()
        for what, edit, expected in cases
    ],
)
def test_one_wrong_key_or_value_is_named_with_its_fix(kind, edit, expected, tmp_path):
    problems = _problems(kind, edit, tmp_path)
    assert any(p.startswith(expected) for p in problems), problems


@pytest.mark.parametrize("kind", list(CASES))
def test_the_real_files_have_no_problem(kind, tmp_path):
    if kind in ("costs", "origins"):
        assert _problems(kind, lambda data: None, tmp_path) == []
    elif kind == "programme":
        assert load_programme(PROGRAMME).centres == 7
    else:
        path = tmp_path / "map.toml"
        path.write_text(_toml_text(MAPPING), encoding="utf-8")
        mapping = read_mapping(path)
        assert mapping.levels == {"raion hospital": "district"}
        assert mapping.columns == MAPPING["columns"] and mapping.separator == ";"


def test_a_programme_has_no_table_to_misplace_a_key_in():
    """A programme is one flat table: a table inside it is an unknown key, named as such."""
    data = _toml(PROGRAMME) | {"scenarios": {"scenario": "baseline"}}
    _, problems = check_programme(data, "p.toml")
    assert [str(p) for p in problems] == [
        "p.toml: -: scenarios: unknown key `scenarios`; did you mean `scenario`?"
    ]


def test_bundled_costs_keep_their_translations_and_figures():
    book, problems = read_cost_book(_toml(BUNDLE / "costs.toml"), ["KZ", "KG"])
    assert problems == []
    surgery = book.charge("KG", "eaeu_worker", "surgery")
    assert surgery is not None and (surgery.amount, surgery.currency) == (1090, "KGS")
    assert surgery.rest_paid_by_translations == {
        "ru": "Фонд обязательного медицинского страхования (ФОМС)"
    }
    assert [e["year"] for e in book.exposure] and all(0 < e["share"] < 1 for e in book.exposure)


def test_json_schema_lists_the_translation_keys_as_a_pattern():
    charge = CostsFile.model_json_schema()["$defs"]["Charge"]
    assert charge["additionalProperties"] is False
    assert "rest_paid_by_translations" not in charge["properties"]
    assert list(charge["patternProperties"]) == ["^rest_paid_by_([a-z]{2,3})$"]


class TestCrossingBeyondTheCorridor:
    """A post of origins.toml is a BorderPost crossed under the scenario's rule."""

    def _kyzyl_bel(self, status: str = "open"):
        data = _toml(BUNDLE / "origins.toml")
        data["post"][0]["status"] = status
        origins, problems = read_origins(data, EXITS, ["KZ", "KG"])
        assert problems == []
        leg = next(leg for leg in origins.legs if leg.is_post)
        assert leg.post is not None
        return origins, leg.post

    def test_an_open_post_takes_its_sourced_minutes_times_the_scenario_multiplier(self):
        _, post = self._kyzyl_bel()
        assert post.countries == ("KG", "TJ") and not post.closed
        assert BASELINE.crossing_seconds(post, "TJ", "KG", "third_country") == 62 * 60
        busy = Scenario(name="busy", delay_multiplier=1.5)
        assert busy.crossing_seconds(post, "KG", "TJ", "citizen") == 62 * 60 * 1.5
        assert BASELINE.crossing_seconds(post, "KG", "TJ", "ambulance") is None  # not allowed

    def test_a_closed_post_is_closed_as_the_corridor_s_posts_are(self):
        origins, post = self._kyzyl_bel("closed")
        assert post.opening_hours == CLOSED_HOURS and post.closed
        assert BASELINE.crossing_seconds(post, "KG", "TJ", "citizen") is None
        assert origins.ways_home("tj_dushanbe", "third_country", BASELINE) == {}

    def test_the_way_home_crosses_the_open_post(self):
        origins, _ = self._kyzyl_bel()
        ways = origins.ways_home("tj_dushanbe", "third_country", BASELINE, nationality="TJ")
        way = ways["gn_1528675"]
        assert way.posts == ["Kyzyl-Bel (KG) - Isfara (TJ)"]
        # Bishkek - Batken 780, the post 62, Isfara - Khujand 86, Khujand - Dushanbe 420
        assert way.minutes == pytest.approx(780 + 62 + 86 + 420)
