from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from corridor_planner.bundle.corridor import load_corridor
from corridor_planner.errors import InvalidArgumentError, NoRouteError, NotFoundError
from corridor_planner.network.graph import build_network
from corridor_planner.routing.routes import find_route, resolve_place

TINY = Path(__file__).parent / "data" / "tiny_corridor"

# Hand-computed in tests/data/README.md (minutes, km, posts)
CASES = [
    ("citizen", "baseline", 39.5, 25, ["Post P"]),
    ("third_country", "baseline", 79.5, 25, ["Post P"]),
    ("cargo", "baseline", 139.5, 51, ["Post Q"]),
    ("citizen", "p_closed", 54.5, 51, ["Post Q"]),
    ("citizen", "p_restricted", 59.5, 25, ["Post P"]),
]


class TestHandComputedRoutes:
    @pytest.mark.parametrize(("profile", "scenario", "minutes", "km", "posts"), CASES)
    def test_town_a_to_town_d(self, tiny, tiny_network, profile, scenario, minutes, km, posts):
        route = find_route(
            tiny_network, "Town A", "Town D", profile=profile, scenario=tiny.scenario(scenario)
        )
        assert route.minutes == pytest.approx(minutes, abs=0.15)
        assert route.km == pytest.approx(km, abs=0.01)
        assert route.border_posts == posts

    def test_delay_depends_on_direction(self, tiny_network):
        route = find_route(tiny_network, "Town D", "Town A")
        assert route.minutes == pytest.approx(29.5, abs=0.15)

    def test_profile_barred_everywhere_gets_no_route(self, tiny, tiny_network):
        with pytest.raises(
            NoRouteError, match="no route from Town A to Town D for a third_country traveller"
        ):
            find_route(
                tiny_network,
                "Town A",
                "Town D",
                profile="third_country",
                scenario=tiny.scenario("p_restricted"),
            )

    def test_no_route_names_each_post_and_why(self, tiny, tiny_network):
        with pytest.raises(NoRouteError) as barred:
            find_route(
                tiny_network,
                "Town A",
                "Town D",
                profile="third_country",
                scenario=tiny.scenario("p_restricted"),
            )
        assert str(barred.value).endswith(
            "scenario p_restricted: border post Post P is restricted under scenario "
            "p_restricted (only citizen cross); border post Post Q does not let a "
            "third_country traveller through (cargo, citizen only)"
        )

    def test_a_closed_road_is_named(self, tmp_path):
        bundle = tmp_path / "tiny"
        shutil.copytree(TINY, bundle)
        (bundle / "scenarios" / "works.toml").write_text(
            'default_regime = "open"\n[posts]\npost_q = "closed"\n'
            '[[road_changes]]\nways = [3]\nclosed = true\nreason = "a landslide"\n'
            'source = "test"\n',
            encoding="utf-8",
        )
        corridor = load_corridor(bundle)
        network = build_network(corridor)
        with pytest.raises(NoRouteError) as exc:
            find_route(network, "Town A", "Town D", scenario=corridor.scenario("works"))
        assert str(exc.value).endswith(
            "border post Post Q is closed under scenario works; "
            "road P - C (way 3) is closed under scenario works: a landslide"
        )

    def test_borders_closed(self, tiny, tiny_network):
        with pytest.raises(NoRouteError, match="Post P is closed under scenario borders_closed"):
            find_route(tiny_network, "Town A", "Town D", scenario=tiny.scenario("borders_closed"))
        same_side = find_route(
            tiny_network, "Town A", "Site B", scenario=tiny.scenario("borders_closed")
        )
        assert same_side.minutes == pytest.approx(7.5, abs=0.1)

    def test_legs_add_up_and_name_the_roads(self, tiny_network):
        route = find_route(tiny_network, "Town A", "Hospital D")
        kinds = [leg.kind for leg in route.legs]
        assert kinds[-1] == "access"
        assert [leg.name for leg in route.legs if leg.kind == "road"] == [
            "A - B",
            "B - P",
            "P - C",
            "C - D",
        ]
        post = next(leg for leg in route.legs if leg.kind == "border_post")
        assert (post.minutes, post.country) == (20.0, "KZ->KG")
        assert route.minutes == pytest.approx(39.5 + 3.0, abs=0.2)
        assert sum(leg.km for leg in route.legs) == pytest.approx(route.km, abs=0.05)

    def test_closing_a_post_never_shortens_a_route(self, tiny, tiny_network):
        for origin in ("Town A", "Borderville", "Site B", "Clinic A"):
            for destination in ("Town D", "Hospital D"):
                open_route = find_route(tiny_network, origin, destination)
                closed = find_route(
                    tiny_network, origin, destination, scenario=tiny.scenario("p_closed")
                )
                assert closed.minutes >= open_route.minutes


class TestPlaces:
    def test_by_name_id_and_case(self, tiny_network):
        assert resolve_place(tiny_network, "town a").label == "Town A"
        assert resolve_place(tiny_network, "hosp_d").label == "Hospital D"
        assert resolve_place(tiny_network, "Hospital").label == "Hospital D"

    def test_lat_lon_enters_the_road_where_it_lies(self, tiny_network):
        # 43.1, 74.92 lies on way A-B, 2 of its 10 km from A: to B is 8 km (6 min at 80 km/h)
        place = resolve_place(tiny_network, "43.1, 74.92")
        assert place.access_m < 5
        route = find_route(tiny_network, "43.1, 74.92", "Town D")
        assert route.legs[0].kind == "access"
        assert route.legs[1].kind == "road" and route.legs[1].km == pytest.approx(8.0, abs=0.01)
        assert route.minutes == pytest.approx(6 + 3 + 20 + 3 + 6, abs=0.15)
        assert route.km == pytest.approx(8 + 4 + 4 + 7, abs=0.05)

    def test_lat_lon_beside_a_long_road_measures_to_the_road_not_its_ends(self, tiny_network):
        # 0.03 deg (3.3 km) north of the middle of way A-B; its ends are 5 km and more away
        place = resolve_place(tiny_network, "43.13, 74.975")
        assert place.access_m == pytest.approx(3_336, rel=0.01)
        route = find_route(tiny_network, "43.13, 74.975", "Town A")
        # access 3.336 km at 20 km/h, then 7.5 of the 10 km to A at 80 km/h
        assert route.minutes == pytest.approx(3.336 * 3 + 7.5 * 0.75, abs=0.2)

    def test_lat_lon_out_of_range_or_outside_the_corridor(self, tiny_network):
        with pytest.raises(InvalidArgumentError, match="latitude must be from -90 to 90"):
            resolve_place(tiny_network, "200,74.9")
        with pytest.raises(InvalidArgumentError, match="latitude must be from -90 to 90"):
            resolve_place(tiny_network, "-91,74")
        with pytest.raises(NotFoundError, match="lies outside corridor tiny"):
            resolve_place(tiny_network, "74.9,43.1")

    def test_ambiguous(self, tiny_network):
        with pytest.raises(NotFoundError, match="'Town' matches several places: .*Town A; Town D"):
            resolve_place(tiny_network, "Town")

    def test_unknown(self, tiny_network):
        with pytest.raises(NotFoundError, match="no place called 'Atlantis'"):
            resolve_place(tiny_network, "Atlantis")

    def test_place_off_the_network(self, tiny_network):
        with pytest.raises(NotFoundError, match="Faraway lies 22.2 km from the road network"):
            resolve_place(tiny_network, "Faraway")
        with pytest.raises(NotFoundError, match="43.34,74.81 lies .* km from the road network"):
            resolve_place(tiny_network, "43.34,74.81")

    def test_unknown_profile(self, tiny_network):
        with pytest.raises(NotFoundError, match="unknown profile 'pilot'"):
            find_route(tiny_network, "Town A", "Town D", profile="pilot")
