from __future__ import annotations

import json
from pathlib import Path

import pytest

from corridor_planner.bundle.corridor import bundled_corridors, load_corridor, resolve_corridor_path
from corridor_planner.errors import DataError, NotFoundError
from tests.helpers import append_feature, edit_feature


class TestLoad:
    def test_tiny_loads_every_file(self, tiny):
        assert tiny.id == "tiny"
        assert tiny.countries == ("KZ", "KG")
        assert tiny.crs.to_epsg() == 32643
        assert list(tiny.facilities["id"]) == ["hosp_d", "clinic_a"]
        assert set(tiny.posts) == {"post_p", "post_q"}
        assert tiny.posts["post_q"].profiles_allowed == frozenset({"citizen", "cargo"})
        assert tiny.posts["post_p"].delay_seconds("KZ", "KG", "citizen") == 1200
        assert tiny.posts["post_p"].delay_seconds("KZ", "KG", "cargo") is None
        assert len(tiny.population) == 4
        assert {"baseline", "borders_closed", "winter", "p_closed"} <= set(tiny.scenarios)
        assert tiny.scenarios["p_restricted"].delay_multiplier == 2.0

    def test_speed_lookup_prefers_country_table(self, tiny):
        tiny.speeds["KG"] = {"trunk": 55.0}
        try:
            assert tiny.speed_kph("trunk", "KG") == 55.0
            assert tiny.speed_kph("trunk", "KZ") == 80.0
            assert tiny.speed_kph("no_such_class", "KZ") == 40.0
        finally:
            del tiny.speeds["KG"]

    def test_bundled_id_and_path_resolve_to_the_same_folder(self):
        by_id = resolve_corridor_path("almaty_bishkek")
        assert resolve_corridor_path(by_id) == by_id
        assert by_id in bundled_corridors()

    def test_unknown_corridor(self):
        with pytest.raises(NotFoundError, match="no corridor 'atlantis'.*almaty_bishkek"):
            load_corridor("atlantis")

    def test_unknown_scenario(self, tiny):
        with pytest.raises(NotFoundError, match="no scenario 'summer'.*baseline"):
            tiny.scenario("summer")


class TestValidation:
    """Each rule reports `file: feature id: field: problem`."""

    def problems(self, bundle: Path) -> str:
        with pytest.raises(DataError) as info:
            load_corridor(bundle)
        return str(info.value)

    def test_missing_field(self, tiny_copy):
        edit_feature(tiny_copy, "facilities.geojson", "hosp_d", level=...)
        assert "facilities.geojson: hosp_d: level: is required" in self.problems(tiny_copy)

    def test_wrongly_typed_field(self, tiny_copy):
        edit_feature(tiny_copy, "population.geojson", "town_a", population="ten thousand")
        assert (
            "population.geojson: town_a: population: must be a number (people per point)"
            in self.problems(tiny_copy)
        )

    def test_wrongly_typed_flag(self, tiny_copy):
        edit_feature(tiny_copy, "population.geojson", "town_d", border_community="yes")
        assert (
            "population.geojson: town_d: border_community: must be true or false"
            in self.problems(tiny_copy)
        )

    def test_unknown_service(self, tiny_copy):
        edit_feature(tiny_copy, "facilities.geojson", "hosp_d", services=["emergency", "astrology"])
        assert "facilities.geojson: hosp_d: services: unknown service 'astrology'" in self.problems(
            tiny_copy
        )

    def test_capacity_for_service_not_offered(self, tiny_copy):
        edit_feature(tiny_copy, "facilities.geojson", "hosp_d", capacity={"dialysis": 3})
        assert (
            "hosp_d: capacity: capacity for 'dialysis', which is not in services"
            in self.problems(tiny_copy)
        )

    def test_unknown_cover_group(self, tiny_copy):
        edit_feature(tiny_copy, "facilities.geojson", "hosp_d", accepts={"tourists": "all"})
        assert "hosp_d: accepts: unknown cover group 'tourists'" in self.problems(tiny_copy)

    def test_an_id_with_a_line_break_is_named_by_its_place(self, tiny_copy):
        # found by the fuzz test: the id itself became the feature of a two-line problem
        edit_feature(tiny_copy, "border_posts.geojson", "post_q", id="a\nb")
        with pytest.raises(DataError) as info:
            load_corridor(tiny_copy)
        lines = [str(p) for p in info.value.problems]
        assert (
            "border_posts.geojson: #1: id: must be a plain id (no slashes, line breaks or "
            "outer spaces)" in lines
        )

    def test_a_list_in_place_of_a_service_is_named(self, tiny_copy):
        # found by the fuzz test: a list among the services raised "unhashable type"
        edit_feature(
            tiny_copy, "facilities.geojson", "hosp_d", accepts={"resident_insured": [["x"]]}
        )
        assert "hosp_d: accepts: resident_insured: unknown service ['x']" in self.problems(
            tiny_copy
        )

    def test_unknown_profile(self, tiny_copy):
        edit_feature(
            tiny_copy, "border_posts.geojson", "post_q", profiles_allowed=["citizen", "pilgrim"]
        )
        assert (
            "border_posts.geojson: post_q: profiles_allowed: unknown profile 'pilgrim'"
            in self.problems(tiny_copy)
        )

    def test_allowed_profile_without_delay(self, tiny_copy):
        edit_feature(
            tiny_copy,
            "border_posts.geojson",
            "post_q",
            profiles_allowed=["citizen", "cargo", "ambulance"],
        )
        text = self.problems(tiny_copy)
        assert "post_q: delay_minutes: KZ->KG: no delay for allowed profile 'ambulance'" in text

    def test_delay_direction_must_match_countries(self, tiny_copy):
        edit_feature(
            tiny_copy,
            "border_posts.geojson",
            "post_p",
            delay_minutes={"KZ->CN": {"citizen": 5}, "KG->KZ": {"citizen": 5}},
        )
        text = self.problems(tiny_copy)
        assert "post_p: delay_minutes: direction KZ->KG missing" in text
        assert "post_p: delay_minutes: direction 'KZ->CN' is not one of" in text

    def test_duplicate_id(self, tiny_copy):
        data = json.loads((tiny_copy / "candidates.geojson").read_text())
        append_feature(tiny_copy, "candidates.geojson", data["features"][0])
        assert "candidates.geojson: cand_b: id: duplicate id" in self.problems(tiny_copy)

    def test_point_outside_box(self, tiny_copy):
        edit_feature(
            tiny_copy,
            "facilities.geojson",
            "clinic_a",
            geometry={"type": "Point", "coordinates": [80.0, 43.1]},
        )
        assert (
            "facilities.geojson: clinic_a: geometry: point (43.1000, 80.0000) "
            "lies outside the corridor box" in self.problems(tiny_copy)
        )

    def test_geometry_must_be_a_point(self, tiny_copy):
        edit_feature(
            tiny_copy,
            "facilities.geojson",
            "clinic_a",
            geometry={"type": "LineString", "coordinates": [[74.9, 43.1], [75.0, 43.1]]},
        )
        assert "facilities.geojson: clinic_a: geometry: must be a GeoJSON Point" in self.problems(
            tiny_copy
        )

    @pytest.mark.parametrize(
        "geometry",
        [
            {"type": ""},
            {"type": "Blob", "coordinates": [1, 2]},
            {"type": "Point"},
            {"type": "Point", "coordinates": [10**400, 43]},
            "Point",
        ],
        ids=["empty type", "unknown type", "no coordinates", "huge coordinate", "not an object"],
    )
    def test_a_malformed_geometry_is_named_not_raised(self, tiny_copy, geometry):
        # found by the fuzz test: shapely raises GeometryTypeError for {"type": ""}
        edit_feature(tiny_copy, "population.geojson", "town_a", geometry=geometry)
        assert "population.geojson: town_a: geometry: must be a GeoJSON Point" in self.problems(
            tiny_copy
        )

    def test_invalid_hours(self, tiny_copy):
        edit_feature(tiny_copy, "border_posts.geojson", "post_q", opening_hours="Mo-Fz 9-18")
        assert (
            "border_posts.geojson: post_q: opening_hours: invalid opening_hours 'Mo-Fz 9-18'"
            in self.problems(tiny_copy)
        )

    def test_invalid_season(self, tiny_copy):
        edit_feature(tiny_copy, "border_posts.geojson", "post_q", season="spring-ish")
        assert (
            "border_posts.geojson: post_q: season: invalid opening_hours 'spring-ish'"
            in self.problems(tiny_copy)
        )

    def test_country_not_in_corridor(self, tiny_copy):
        edit_feature(tiny_copy, "population.geojson", "town_a", country="CN")
        assert (
            "population.geojson: town_a: country: 'CN' is not one of the corridor's countries"
            in self.problems(tiny_copy)
        )

    @pytest.mark.parametrize("file", ["../roads.osm", "/etc/hostname", "a\\nb", "x\\\\y.osm"])
    def test_a_road_file_outside_the_bundle_is_refused(self, tiny_copy, file):
        toml = tiny_copy / "corridor.toml"
        toml.write_text(toml.read_text().replace('file = "roads.osm"', f'file = "{file}"'))
        with pytest.raises(DataError) as info:
            load_corridor(tiny_copy)
        lines = [str(p) for p in info.value.problems]
        assert any(line.startswith("corridor.toml: -: roads.file: must be") for line in lines), (
            lines
        )

    def test_a_named_place_is_checked_like_a_feature(self, tiny_copy):
        toml = tiny_copy / "corridor.toml"
        place = 'id = "city"\nname = "City"\ncountry = "KG"\nrole = "referral city"\nsource = "x"'
        toml.write_text(
            toml.read_text()
            + f'\n[[named_places]]\n{place}\nlat = 95\nlon = 74\nname_ru = "Город"\n'
        )
        text = self.problems(tiny_copy)
        assert "corridor.toml: named_places #0: lat: must be from -90 to 90 degrees, got 95" in text
        toml.write_text(toml.read_text().replace("lat = 95", "lat = 42"))
        places = load_corridor(tiny_copy).named_places
        assert list(places["name"]) == ["City"] and list(places["name_ru"]) == ["Город"]
        assert (places.geometry.x.iloc[0], places.geometry.y.iloc[0]) == (74, 42)

    def test_unknown_crs(self, tiny_copy):
        toml = tiny_copy / "corridor.toml"
        toml.write_text(toml.read_text().replace('"EPSG:32643"', '"EPSG:999999"'))
        assert "corridor.toml: -: crs: unknown CRS 'EPSG:999999'" in self.problems(tiny_copy)

    def test_geographic_crs_is_refused(self, tiny_copy):
        toml = tiny_copy / "corridor.toml"
        toml.write_text(toml.read_text().replace('"EPSG:32643"', '"EPSG:4326"'))
        assert (
            "corridor.toml: -: crs: 'EPSG:4326' is not a projected (metric) CRS"
            in self.problems(tiny_copy)
        )

    def test_bad_speed_table(self, tiny_copy):
        toml = tiny_copy / "corridor.toml"
        toml.write_text(
            toml.read_text() + '\n[speeds]\nKG = { trunk = "fast" }\nXX = { trunk = 50 }\n'
        )
        text = self.problems(tiny_copy)
        assert "corridor.toml: -: speeds.KG.trunk: must be a number (km/h), got 'fast'" in text
        assert "corridor.toml: -: speeds.XX: not 'default' nor a country" in text

    def test_bad_numbers(self, tiny_copy):
        toml = tiny_copy / "corridor.toml"
        text = toml.read_text().replace("snap_limit_m = 5000", 'snap_limit_m = "far"')
        toml.write_text(
            text.replace("thresholds_minutes = [30, 60]", "thresholds_minutes = [30, -1]")
        )
        text = self.problems(tiny_copy)
        assert "corridor.toml: -: snap_limit_m: must be a number (m), got 'far'" in text
        assert "corridor.toml: -: thresholds_minutes: must be above 0 to 10080 minutes" in text

    def test_broken_json(self, tiny_copy):
        (tiny_copy / "facilities.geojson").write_text("{not json")
        assert "facilities.geojson: -: -: not valid JSON" in self.problems(tiny_copy)

    def test_missing_file(self, tiny_copy):
        (tiny_copy / "candidates.geojson").unlink()
        assert "candidates.geojson: -: -: file not found" in self.problems(tiny_copy)

    def test_missing_required_scenario(self, tiny_copy):
        (tiny_copy / "scenarios" / "winter.toml").unlink()
        assert "scenarios/winter.toml: -: -: required scenario missing" in self.problems(tiny_copy)

    def test_scenario_names_unknown_post_and_regime(self, tiny_copy):
        (tiny_copy / "scenarios" / "odd.toml").write_text('[posts]\npost_z = "ajar"\n')
        text = self.problems(tiny_copy)
        assert "scenarios/odd.toml: post_z: posts: no border post with this id" in text
        assert "scenarios/odd.toml: -: posts.post_z: unknown regime 'ajar'" in text

    def test_scenario_bad_depart(self, tiny_copy):
        (tiny_copy / "scenarios" / "winter.toml").write_text('depart = "next tuesday"\n')
        assert "scenarios/winter.toml: -: depart: must be an ISO date-time" in self.problems(
            tiny_copy
        )

    def test_field_missing_from_every_feature(self, tiny_copy):
        for post in ("post_p", "post_q"):
            edit_feature(tiny_copy, "border_posts.geojson", post, opening_hours=...)
        text = self.problems(tiny_copy)
        assert "border_posts.geojson: post_p: opening_hours: is required" in text
        assert "border_posts.geojson: post_q: opening_hours: is required" in text

    def test_every_problem_is_reported_at_once(self, tiny_copy):
        edit_feature(tiny_copy, "facilities.geojson", "hosp_d", level="galactic")
        edit_feature(tiny_copy, "population.geojson", "town_d", population=-5)
        edit_feature(tiny_copy, "border_posts.geojson", "post_p", opening_hours="whenever")
        with pytest.raises(DataError) as info:
            load_corridor(tiny_copy)
        assert len(info.value.problems) == 3
        assert str(info.value).startswith("3 problems in corridor tiny:")
