"""One declarative model per bundle file: typos and misplaced keys are refused by name.

Every case loads a copy of the tiny corridor with one mistake and checks the exact line
the user sees (``file: feature: field: problem``).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from corridor_planner.bundle.corridor import load_corridor
from corridor_planner.errors import DataError
from corridor_planner.schema.files import FILES
from tests.helpers import edit_feature

ROOT = Path(__file__).resolve().parent.parent


def problems(bundle: Path) -> list[str]:
    with pytest.raises(DataError) as info:
        load_corridor(bundle)
    return [str(p) for p in info.value.problems]


def add_to_toml(path: Path, before: str, line: str) -> None:
    """Insert ``line`` before the first occurrence of ``before`` (or at the end)."""
    text = path.read_text(encoding="utf-8")
    text = text.replace(before, f"{line}\n{before}", 1) if before else f"{text}\n{line}\n"
    path.write_text(text, encoding="utf-8")


class TestTheReportedTypos:
    def test_defualt_regime_is_refused_not_ignored(self, tiny_copy):
        (tiny_copy / "scenarios" / "borders_closed.toml").write_text(
            'description = "all closed"\ndefualt_regime = "closed"\n', encoding="utf-8"
        )
        assert problems(tiny_copy) == [
            "scenarios/borders_closed.toml: -: defualt_regime: unknown key `defualt_regime`; "
            "did you mean `default_regime`?"
        ]

    def test_misspelt_snap_limit_is_refused(self, tiny_copy):
        toml = tiny_copy / "corridor.toml"
        toml.write_text(toml.read_text().replace("snap_limit_m", "snap_limt_m"))
        assert problems(tiny_copy) == [
            "corridor.toml: -: snap_limt_m: unknown key `snap_limt_m`; did you mean `snap_limit_m`?"
        ]

    def test_delay_multipler_is_refused(self, tiny_copy):
        (tiny_copy / "scenarios" / "queues.toml").write_text(
            "delay_multipler = 5\n", encoding="utf-8"
        )
        assert problems(tiny_copy) == [
            "scenarios/queues.toml: -: delay_multipler: unknown key `delay_multipler`; "
            "did you mean `delay_multiplier`?"
        ]


class TestCorridorToml:
    def test_misplaced_key(self, tiny_copy):
        # snap_limit_m belongs at the top, not in [roads]
        add_to_toml(tiny_copy / "corridor.toml", "", "snap_limit_m = 5000")
        text = (tiny_copy / "corridor.toml").read_text()
        (tiny_copy / "corridor.toml").write_text(text.replace("snap_limit_m = 5000\n", "", 1))
        assert problems(tiny_copy) == [
            "corridor.toml: -: roads.snap_limit_m: unknown key `snap_limit_m` here; "
            "it belongs in the top level"
        ]

    def test_misplaced_table_key(self, tiny_copy):
        # `format` belongs in [roads], not at the top
        add_to_toml(tiny_copy / "corridor.toml", "[roads]", 'format = "lines"')
        assert problems(tiny_copy) == [
            "corridor.toml: -: format: unknown key `format` here; it belongs in [roads]"
        ]

    def test_misspelt_key_in_a_table(self, tiny_copy):
        add_to_toml(tiny_copy / "corridor.toml", "", 'fromat = "lines"')
        assert problems(tiny_copy) == [
            "corridor.toml: -: roads.fromat: unknown key `fromat`; did you mean `format`?"
        ]

    def test_nan_snap_limit(self, tiny_copy):
        toml = tiny_copy / "corridor.toml"
        toml.write_text(toml.read_text().replace("snap_limit_m = 5000", "snap_limit_m = nan"))
        assert problems(tiny_copy) == [
            "corridor.toml: -: snap_limit_m: must be a finite number (m), got nan"
        ]

    def test_control_character_in_the_name(self, tiny_copy):
        toml = tiny_copy / "corridor.toml"
        toml.write_text(toml.read_text().replace("Tiny test", "Tiny\\u0007test"))
        assert problems(tiny_copy) == [
            "corridor.toml: -: name: must not hold control characters (U+0007)"
        ]


class TestScenario:
    def test_misplaced_key(self, tiny_copy):
        # a regime goes under [posts] by post id; default_regime belongs at the top
        (tiny_copy / "scenarios" / "odd.toml").write_text(
            '[posts]\ndefault_regime = "closed"\n', encoding="utf-8"
        )
        assert problems(tiny_copy) == [
            "scenarios/odd.toml: default_regime: posts: no border post with this id"
        ]

    def test_misplaced_key_in_a_road_change(self, tiny_copy):
        (tiny_copy / "scenarios" / "odd.toml").write_text(
            '[[road_changes]]\nways = [2]\nclosed = true\nreason = "snow"\nsource = "t"\n'
            "delay_multiplier = 2\n",
            encoding="utf-8",
        )
        assert problems(tiny_copy) == [
            "scenarios/odd.toml: road_changes #0: delay_multiplier: unknown key "
            "`delay_multiplier` here; it belongs in the top level"
        ]

    def test_misspelt_service_in_referral_rates(self, tiny_copy):
        (tiny_copy / "scenarios" / "odd.toml").write_text(
            "[referral_rates]\noncolgy = 80\n", encoding="utf-8"
        )
        assert problems(tiny_copy) == [
            "scenarios/odd.toml: -: referral_rates.oncolgy: unknown service 'oncolgy' "
            "(known: " + ", ".join(sorted(_services())) + "); did you mean `oncology`?"
        ]

    def test_out_of_range_multiplier(self, tiny_copy):
        (tiny_copy / "scenarios" / "odd.toml").write_text(
            "delay_multiplier = 50\n", encoding="utf-8"
        )
        assert problems(tiny_copy) == [
            "scenarios/odd.toml: -: delay_multiplier: must be above 0 to 20 times the usual "
            "delay, got 50"
        ]

    def test_a_translation_is_taken_and_a_misspelt_one_refused(self, tiny_copy):
        path = tiny_copy / "scenarios" / "winter.toml"
        add_to_toml(path, "", 'description_ru = "зима"')
        assert load_corridor(tiny_copy).scenario("winter").translations == {"ru": "зима"}
        add_to_toml(path, "", 'descripton_ur = "x"')
        assert problems(tiny_copy) == [
            "scenarios/winter.toml: -: descripton_ur: unknown key `descripton_ur`; "
            "did you mean `description`?"
        ]


def _services() -> list[str]:
    from corridor_planner import settings

    return sorted(settings.SERVICES)


RULE = '[[rule]]\nid = "x"\nname = "X"\ngroup = "foreign_insured"\nsource = "test"\n'


class TestCoverToml:
    def test_misspelt_key(self, tiny_copy):
        (tiny_copy / "cover.toml").write_text(RULE + "servces = ['tb']\n", encoding="utf-8")
        assert problems(tiny_copy) == [
            "cover.toml: x: servces: unknown key `servces`; did you mean `services`?"
        ]

    def test_misplaced_key(self, tiny_copy):
        # `active` belongs in a [[rule]], not at the top of the file
        (tiny_copy / "cover.toml").write_text("active = false\n" + RULE, encoding="utf-8")
        assert problems(tiny_copy) == [
            "cover.toml: -: active: unknown key `active` here; it belongs in [rule]"
        ]

    def test_control_character_in_a_rule_name(self, tiny_copy):
        (tiny_copy / "cover.toml").write_text(
            RULE.replace('name = "X"', 'name = "X\\u202eY"'), encoding="utf-8"
        )
        assert problems(tiny_copy) == [
            "cover.toml: x: name: must not hold control characters (U+202E)"
        ]


class TestLayers:
    @pytest.mark.parametrize(
        ("file", "feature", "key", "near"),
        [
            ("facilities.geojson", "hosp_d", "servics", "services"),
            ("border_posts.geojson", "post_p", "opening_hour", "opening_hours"),
            ("population.geojson", "town_a", "populaton", "population"),
            ("candidates.geojson", "cand_b", "reson", "reason"),
        ],
    )
    def test_misspelt_property(self, tiny_copy, file, feature, key, near):
        edit_feature(tiny_copy, file, feature, **{key: 1})
        assert f"{file}: {feature}: {key}: unknown key `{key}`; did you mean `{near}`?" in (
            problems(tiny_copy)
        )

    @pytest.mark.parametrize(
        ("file", "feature", "key", "near"),
        [
            # a post's key on a facility, a facility's key on a settlement...
            ("facilities.geojson", "hosp_d", "profiles_allowed", None),
            ("border_posts.geojson", "post_p", "services", None),
            ("population.geojson", "town_a", "beds", None),
            ("candidates.geojson", "cand_b", "population", None),
        ],
    )
    def test_misplaced_property(self, tiny_copy, file, feature, key, near):
        edit_feature(tiny_copy, file, feature, **{key: 1})
        found = [p for p in problems(tiny_copy) if p.startswith(f"{file}: {feature}: {key}: ")]
        assert len(found) == 1 and f"unknown key `{key}`" in found[0]

    def test_clearance_key_on_the_post_itself(self, tiny_copy):
        edit_feature(tiny_copy, "border_posts.geojson", "post_p", minutes_to_border=30)
        assert problems(tiny_copy) == [
            "border_posts.geojson: post_p: minutes_to_border: unknown key `minutes_to_border` "
            "here; it belongs in [clearance]"
        ]

    def test_misplaced_key_inside_a_property(self, tiny_copy):
        edit_feature(tiny_copy, "facilities.geojson", "hosp_d", capacity={"emergncy": 10})
        assert any(
            p.startswith("facilities.geojson: hosp_d: capacity: unknown service 'emergncy'")
            and p.endswith("did you mean `emergency`?")
            for p in problems(tiny_copy)
        )

    def test_name_translations_and_osm_keys_are_taken(self, tiny_copy):
        edit_feature(
            tiny_copy,
            "facilities.geojson",
            "hosp_d",
            name_ru="Больница D",
            **{"name:ur": "D", "osm_id": "node/1", "osm:amenity": "hospital"},
        )
        assert load_corridor(tiny_copy).facilities.set_index("id").loc["hosp_d", "name_ru"] == (
            "Больница D"
        )

    def test_nan_out_of_range_and_control_characters(self, tiny_copy):
        edit_feature(tiny_copy, "population.geojson", "town_a", migrant_share=2.0)
        edit_feature(tiny_copy, "facilities.geojson", "hosp_d", name="Hosp\u0000ital")
        assert problems(tiny_copy) == [
            "facilities.geojson: hosp_d: name: must not hold control characters (U+0000)",
            "population.geojson: town_a: migrant_share: must be from 0 to 1 share of the "
            "population, got 2.0",
        ]

    def test_nan_in_a_nested_number(self, tiny_copy):
        path = tiny_copy / "facilities.geojson"
        data = json.loads(path.read_text(encoding="utf-8"))
        data["features"][0]["properties"]["capacity"] = {"emergency": float("nan")}
        path.write_text(json.dumps(data), encoding="utf-8")  # writes NaN: not JSON
        assert problems(tiny_copy)[0].startswith("facilities.geojson: -: -: not valid JSON (NaN")


def _make_schemas():
    spec = importlib.util.spec_from_file_location(
        "make_schemas", ROOT / "tools" / "make_schemas.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_schemas_are_current():
    make = _make_schemas()
    assert make.stale() == [], "run: python tools/make_schemas.py"
    assert sorted(p.name for p in (ROOT / "schemas").glob("*.schema.json")) == sorted(
        f"{kind}.schema.json" for kind in FILES
    )


def test_a_stale_schema_is_detected(tmp_path):
    make = _make_schemas()
    for kind in FILES:
        (tmp_path / f"{kind}.schema.json").write_text(make.schema_text(kind), encoding="utf-8")
    assert make.stale(tmp_path) == []
    (tmp_path / "scenario.toml.schema.json").write_text("{}", encoding="utf-8")
    assert make.stale(tmp_path) == ["scenario.toml"]


def test_schemas_refuse_unknown_keys_and_list_translations():
    scenario = json.loads((ROOT / "schemas" / "scenario.toml.schema.json").read_text())
    assert scenario["additionalProperties"] is False
    assert "default_regime" in scenario["properties"]
    assert list(scenario["patternProperties"]) == ["^description_[a-z]{2}$"]
    assert scenario["properties"]["default_regime"]["enum"] == ["closed", "open", "restricted"]
    corridor = json.loads((ROOT / "schemas" / "corridor.toml.schema.json").read_text())
    assert corridor["properties"]["snap_limit_m"]["exclusiveMinimum"] == 0
    assert corridor["properties"]["snap_limit_m"]["maximum"] == 100_000


def test_names_keep_the_joiners_their_script_needs_and_refuse_overrides():
    from corridor_planner.schema.base import FileModel, Name, check

    class Named(FileModel):
        name: Name

    # "می‌خواهم"-style Persian/Urdu words need the zero-width non-joiner (U+200C)
    assert check(Named, {"name": "ہسپتال\u200cشہر"}, "f")[1] == []
    _, problems = check(Named, {"name": "Hospital\u202e1"}, "f")
    assert [p.message for p in problems] == ["must not hold control characters (U+202E)"]
