"""Broken and hostile bundles and command lines: refused with one clear line, never a crash."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from corridor_planner.bundle.corridor import load_corridor
from corridor_planner.cli import main
from corridor_planner.errors import DataError
from corridor_planner.network.graph import build_network
from corridor_planner.routing.routes import find_route
from corridor_planner.routing.traveltimes import CorridorTravelTimes
from tests.helpers import edit_feature

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def problems(bundle: Path) -> str:
    with pytest.raises(DataError) as info:
        build_network(load_corridor(bundle))
    return str(info.value)


def write_features(bundle: Path, file: str, text: str) -> None:
    """Replace the first feature's properties JSON text (to inject NaN, Infinity...)."""
    (bundle / file).write_text(text, encoding="utf-8")


class TestNumbersThatAreNotNumbers:
    @pytest.mark.parametrize(
        ("file", "feature", "field", "value"),
        [
            ("population.geojson", "town_a", "population", 1e25),
            ("population.geojson", "town_a", "population", -5),
            ("population.geojson", "town_a", "migrant_share", 1.5),
            ("population.geojson", "town_a", "population_year", 3024),
            ("facilities.geojson", "hosp_d", "beds", 1e30),
            ("facilities.geojson", "hosp_d", "location_precision_m", 0),
            ("facilities.geojson", "hosp_d", "capacity", {"emergency": 1e30}),
            ("candidates.geojson", "cand_b", "cost", -1),
        ],
    )
    def test_out_of_range(self, tiny_copy, file, feature, field, value):
        edit_feature(tiny_copy, file, feature, **{field: value})
        assert f"{file}: {feature}: {field}: " in problems(tiny_copy)

    @pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
    def test_json_constants_are_refused(self, tiny_copy, constant):
        path = tiny_copy / "facilities.geojson"
        text = path.read_text(encoding="utf-8").replace('"beds": 100', f'"beds": {constant}', 1)
        assert constant in text
        path.write_text(text, encoding="utf-8")
        assert f"facilities.geojson: -: -: not valid JSON ({constant} is not a number" in problems(
            tiny_copy
        )

    def test_nan_delay_is_refused(self, tiny_copy):
        edit_feature(
            tiny_copy,
            "border_posts.geojson",
            "post_p",
            delay_minutes={
                "KZ->KG": {"citizen": 1e9, "third_country": 60, "ambulance": 5},
                "KG->KZ": {"citizen": 10, "third_country": 60, "ambulance": 5},
            },
        )
        assert "border_posts.geojson: post_p: delay_minutes: KZ->KG: citizen: must be from 0" in (
            problems(tiny_copy)
        )

    @pytest.mark.parametrize(
        ("text", "where"),
        [
            ("delay_multiplier = nan", "delay_multiplier: must be a finite number"),
            ("delay_multiplier = inf", "delay_multiplier: must be a finite number"),
            ("[referral_rates]\ntb = inf", "referral_rates.tb: must be a finite number"),
            ("[capacity.hosp_d]\nemergency = nan", "capacity.hosp_d.emergency: must be a finite"),
        ],
    )
    def test_scenario_numbers(self, tiny_copy, text, where):
        (tiny_copy / "scenarios" / "odd.toml").write_text(text + "\n", encoding="utf-8")
        assert "scenarios/odd.toml: " in problems(tiny_copy)
        assert where in problems(tiny_copy)

    @pytest.mark.parametrize(
        ("line", "where"),
        [
            ("snap_limit_m = nan", "snap_limit_m: must be a finite number"),
            ("[speeds]\nKG = { trunk = 1e9 }", "speeds.KG.trunk: must be from 1 to 130 km/h"),
            ("[speeds]\nKG = { trunk = inf }", "speeds.KG.trunk: must be a finite number"),
        ],
    )
    def test_corridor_numbers(self, tiny_copy, line, where):
        toml = tiny_copy / "corridor.toml"
        text = toml.read_text(encoding="utf-8").replace("snap_limit_m = 5000\n", "")
        toml.write_text(line + "\n" + text, encoding="utf-8")
        assert f"corridor.toml: -: {where}" in problems(tiny_copy)

    def test_travel_speed_tag(self, tiny_copy):
        osm = tiny_copy / "roads.osm"
        text = osm.read_text(encoding="utf-8")
        osm.write_text(
            text.replace(
                '<way id="4" version="1">',
                '<way id="4" version="1"><tag k="travel_speed" v="1e9"/>',
                1,
            ),
            encoding="utf-8",
        )
        assert "roads.osm: way 4: travel_speed: must be from 1 to 130 km/h" in problems(tiny_copy)


class TestHolesInTheModel:
    def test_a_road_across_the_border_without_a_post_is_refused(self, tiny_copy):
        data = json.loads((tiny_copy / "border_posts.geojson").read_text(encoding="utf-8"))
        data["features"] = [f for f in data["features"] if f["properties"]["id"] != "post_p"]
        (tiny_copy / "border_posts.geojson").write_text(json.dumps(data), encoding="utf-8")
        for scenario in (tiny_copy / "scenarios").glob("p_*.toml"):
            scenario.unlink()
        text = problems(tiny_copy)
        assert "roads.osm: way 2, 3: is_in:country_code: roads of KG and KZ meet at " in text
        assert "(43.05000, 75.00000) with no border post" in text

    def test_removed_kordai_post_is_refused_on_almaty_bishkek(self, tmp_path):
        bundle = tmp_path / "ab"
        shutil.copytree(ROOT / "data" / "corridors" / "almaty_bishkek", bundle)
        data = json.loads((bundle / "border_posts.geojson").read_text(encoding="utf-8"))
        data["features"] = [
            f for f in data["features"] if f["properties"]["id"] != "kordai_ak_zhol"
        ]
        (bundle / "border_posts.geojson").write_text(json.dumps(data), encoding="utf-8")
        result = run("validate", bundle)
        assert result.exit_code == 1
        assert "with no border post" in result.output
        assert "Traceback" not in result.output

    def test_a_closed_crossing_is_never_crossed(self, tiny_copy):
        edit_feature(
            tiny_copy,
            "border_posts.geojson",
            "post_p",
            opening_hours="off",
            profiles_allowed=[],
            delay_minutes={},
        )
        network = build_network(load_corridor(tiny_copy))
        route = find_route(network, "Town A", "Town D")
        assert route.border_posts == ["Post Q"]
        assert route.minutes == pytest.approx(54.5, abs=0.1)

    def test_a_scenario_closes_a_road(self, tiny_copy):
        (tiny_copy / "scenarios" / "snow.toml").write_text(
            '[[road_changes]]\nways = [2]\nclosed = true\nreason = "snow"\nsource = "test"\n',
            encoding="utf-8",
        )
        corridor = load_corridor(tiny_copy)
        network = build_network(corridor)
        route = find_route(network, "Town A", "Town D", scenario=corridor.scenario("snow"))
        assert route.border_posts == ["Post Q"]  # way 2 (B - P) is closed: round by Q
        assert route.minutes == pytest.approx(54.5, abs=0.1)
        assert find_route(network, "Town A", "Town D").minutes == pytest.approx(39.5, abs=0.1)

    def test_a_scenario_slows_a_road(self, tiny_copy):
        (tiny_copy / "scenarios" / "works.toml").write_text(
            '[[road_changes]]\nways = [4]\nspeed_factor = 0.5\nreason = "works"\nsource = "t"\n',
            encoding="utf-8",
        )
        corridor = load_corridor(tiny_copy)
        network = build_network(corridor)
        route = find_route(network, "Town A", "Town D", scenario=corridor.scenario("works"))
        assert route.minutes == pytest.approx(39.5 + 6, abs=0.1)  # C - D at half speed

    def test_a_road_change_naming_no_way_is_refused(self, tiny_copy):
        (tiny_copy / "scenarios" / "snow.toml").write_text(
            '[[road_changes]]\nways = [999]\nclosed = true\nreason = "snow"\nsource = "t"\n',
            encoding="utf-8",
        )
        assert "scenarios/snow.toml: road_changes[0]: ways: no way 999 in roads.osm" in (
            problems(tiny_copy)
        )

    @pytest.mark.parametrize("file", ["facilities", "candidates", "population"])
    def test_empty_layers_give_clear_messages(self, tiny_copy, file):
        empty = '{"type": "FeatureCollection", "features": []}'
        (tiny_copy / f"{file}.geojson").write_text(empty, encoding="utf-8")
        for args in (
            ("access", tiny_copy, "--service", "emergency"),
            ("score-sites", tiny_copy, "--service", "emergency", "--threshold", "1h"),
            ("referrals", tiny_copy, "--specialty", "surgery", "--rate", "100"),
        ):
            result = run(*args)
            assert result.exit_code in (0, 1), result.output
            assert "a bug" not in result.output and "Traceback" not in result.output
        if file == "population":
            result = run("access", tiny_copy, "--service", "emergency")
            assert "has no population point on the network" in result.output

    def test_points_left_out_are_said(self, tiny_path):
        result = run("access", tiny_path, "--service", "emergency", "--format", "json")
        left_out = json.loads(result.stdout)["left_out"]
        assert left_out["points"] == 1 and left_out["population"] == 300
        assert left_out["names"] == ["Faraway"]
        text = run("access", tiny_path, "--service", "emergency").output
        assert "Left out of every figure: 1 settlement(s), 300 people (Faraway)" in text


class TestOrdinaryMistakes:
    @pytest.mark.parametrize("place", ["200,74.9", "-91,74", "43.1,500"])
    def test_lat_lon_out_of_range(self, tiny_path, place):
        result = run("route", tiny_path, "--from", place, "--to", "Town D")
        assert result.exit_code == 1
        assert "is not 'lat,lon'" in result.output

    def test_departure_with_offset_is_read_on_the_posts_clock(self, tiny_path):
        # cargo reaches Q 25.5 min after leaving; Q (KZ side, Asia/Almaty, UTC+5) shuts at 22:00
        def minutes(depart):
            result = run(
                "route",
                tiny_path,
                "--from",
                "Town A",
                "--to",
                "Town D",
                "--profile",
                "cargo",
                "--depart",
                depart,
                "--format",
                "json",
            )
            assert result.exit_code == 0, result.output
            return json.loads(result.stdout)["minutes"]

        assert minutes("2027-06-18T21:00") == pytest.approx(139.5, abs=0.2)
        assert minutes("2027-06-18T16:00+00:00") == pytest.approx(139.5, abs=0.2)
        late = minutes("2027-06-18T16:40+00:00")  # 21:40 in Almaty: Q shut until Monday 06:00
        assert late > 139.5 + 55 * 60

    def test_rate_inf(self, tiny_path):
        result = run("referrals", tiny_path, "--specialty", "surgery", "--rate", "inf")
        assert result.exit_code == 2 and "must be a finite number" in result.output

    def test_non_utf8_corridor_toml(self, tiny_copy):
        toml = tiny_copy / "corridor.toml"
        toml.write_bytes(toml.read_bytes().replace(b"Tiny", b"Tiny \xff\xfe"))
        result = run("validate", tiny_copy)
        assert result.exit_code == 1
        assert "corridor.toml: -: -: not UTF-8 text" in result.output

    def test_non_utf8_scenario(self, tiny_copy):
        (tiny_copy / "scenarios" / "odd.toml").write_bytes(b'description = "\xff"\n')
        assert "scenarios/odd.toml: -: -: not UTF-8 text" in problems(tiny_copy)

    def test_scenario_that_is_a_directory_or_a_link_loop(self, tiny_copy):
        (tiny_copy / "scenarios" / "folder.toml").mkdir()
        os.symlink("loop.toml", tiny_copy / "scenarios" / "loop.toml")
        text = problems(tiny_copy)
        assert "scenarios/folder.toml: -: -: is a directory" in text
        assert "scenarios/loop.toml: -: -: is not a readable file" in text

    @pytest.mark.parametrize(
        ("text", "where"),
        [
            ('default_regime = ["open"]', "default_regime: unknown regime ['open']"),
            ("restricted_profiles = 5", "restricted_profiles: must be a list of profiles"),
            ("[posts]\npost_p = 3", "-: posts.post_p: unknown regime 3"),
        ],
    )
    def test_wrongly_typed_scenario_values(self, tiny_copy, text, where):
        (tiny_copy / "scenarios" / "odd.toml").write_text(text + "\n", encoding="utf-8")
        assert where in problems(tiny_copy)

    def test_id_given_as_a_list(self, tiny_copy):
        edit_feature(tiny_copy, "facilities.geojson", "hosp_d", id=["hosp_d"])
        result = run("validate", tiny_copy)
        assert result.exit_code == 1
        assert "facilities.geojson: #" in result.output and "id: must be a text" in (result.output)

    def test_out_under_a_file(self, tiny_path, tmp_path):
        (tmp_path / "file").write_text("x")
        result = run(
            "access", tiny_path, "--service", "emergency", "--out", tmp_path / "file" / "x.csv"
        )
        assert result.exit_code == 1
        assert "a part of its folder path is a file" in result.output

    def test_more_sites_than_candidates_is_said(self, tiny_path):
        result = run(
            "score-sites", tiny_path, "--service", "emergency", "--threshold", "1h", "-k", "1000"
        )
        assert result.exit_code == 0
        assert "Asked for 1000 sites; only 1 candidate(s)" in result.output

    def test_eaeu_worker_header_states_the_rule_and_the_people(self, tiny_path):
        result = run("referrals", tiny_path, "--specialty", "surgery", "--profile", "eaeu_worker")
        assert "EAEU Treaty Art. 98" in result.output
        # only Town A gives a migrant share (10% of 5,000)
        assert "People concerned: 500 eaeu_worker (migrant stock" in result.output
        assert "known for 1 of 3 settlements" in result.output


FUZZ_VALUES = [None, "x", 1e30, -1, [], {"a": 1}, True]


def _fuzz_cases() -> list[tuple[str, str]]:
    cases = []
    for file in ("facilities", "population", "border_posts", "candidates"):
        data = json.loads(
            (ROOT / "tests" / "data" / "tiny_corridor" / f"{file}.geojson").read_text()
        )
        cases += [(f"{file}.geojson", f) for f in [*data["features"][0]["properties"], "geometry"]]
    return cases


@pytest.mark.parametrize(("file", "field"), _fuzz_cases())
def test_no_value_in_any_field_crashes(tiny_copy, file, field):
    """Any wrong value in any field of the first feature: refused clearly, or answered."""
    from corridor_planner.analysis import access
    from corridor_planner.errors import CorridorPlannerError

    for value in FUZZ_VALUES:
        data = json.loads((tiny_copy / file).read_text(encoding="utf-8"))
        if field == "geometry":
            data["features"][0]["geometry"] = value
        else:
            data["features"][0]["properties"][field] = value
        (tiny_copy / file).write_text(json.dumps(data), encoding="utf-8")
        try:
            corridor = load_corridor(tiny_copy)
            network = build_network(corridor)
            times = CorridorTravelTimes(network, "citizen", corridor.scenario("baseline"))
            access.access_report(times, "emergency", (60,))
        except CorridorPlannerError:
            pass


def test_a_name_longer_than_a_label_can_be_is_refused(tiny_copy):
    from corridor_planner.bundle.corridor import load_corridor
    from corridor_planner.errors import DataError
    from tests.helpers import edit_feature

    edit_feature(tiny_copy, "population.geojson", "town_a", name="x" * 201)
    with pytest.raises(
        DataError, match="population.geojson: town_a: name: must be at most 200 characters"
    ):
        load_corridor(tiny_copy)
