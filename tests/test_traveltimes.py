from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corridor_planner.bundle.posts import wait_until_open
from corridor_planner.routing.engine import TravelTimeEngine
from corridor_planner.routing.routes import find_route
from corridor_planner.routing.traveltimes import CorridorTravelTimes, road_engine

TUESDAY_IN_SEASON = dt.datetime(2027, 6, 15)


class TestWaits:
    @pytest.mark.parametrize(
        ("arrival", "hours"),
        [
            ("2027-06-15T23:00", 7),  # Tuesday night -> Wednesday 06:00
            ("2027-06-18T23:00", 55),  # Friday night -> Monday 06:00
            ("2027-06-15T12:00", 0),  # open
            ("2027-01-11T08:00", 1918),  # out of season -> Thu 1 Apr 06:00
        ],
    )
    def test_post_q(self, tiny, arrival, hours):
        wait = tiny.posts["post_q"].wait_seconds(dt.datetime.fromisoformat(arrival))
        assert wait == pytest.approx(hours * 3600)

    def test_always_open(self, tiny):
        assert tiny.posts["post_p"].wait_seconds(dt.datetime(2027, 1, 1, 3)) == 0

    def test_never_open_within_a_year(self):
        assert (
            wait_until_open(("Jan 01-Jan 02", "Feb 01-Feb 02"), dt.datetime(2027, 3, 1)) == np.inf
        )


class TestTimeDependentCrossing:
    def test_cargo_reaching_a_closed_post_at_23_waits_seven_hours(self, tiny, tiny_network):
        # A -> B -> E -> Q takes 7.5 + 12 + 6 = 25.5 min: leave 22:34:30 to reach Q at 23:00
        depart = TUESDAY_IN_SEASON.replace(hour=22, minute=34, second=30)
        route = find_route(tiny_network, "Town A", "Town D", profile="cargo", depart=depart)
        assert route.minutes == pytest.approx(139.5 + 7 * 60, abs=0.1)
        assert route.waits == [
            {"border_post": "Post Q", "arrive": "2027-06-15T23:00", "wait_minutes": 420.0}
        ]
        post_leg = next(leg for leg in route.legs if leg.kind == "border_post")
        assert (post_leg.wait_minutes, post_leg.minutes) == (420.0, 510.0)

    def test_waiting_at_q_can_lose_to_the_open_post(self, tiny, tiny_network):
        # A citizen uses P anyway (always open); winter closes Q's season, P is 24/7
        route = find_route(tiny_network, "Town A", "Town D", scenario=tiny.scenario("winter"))
        assert route.border_posts == ["Post P"] and route.waits[0]["wait_minutes"] == 0
        closed_p = tiny.scenario("p_closed")
        winter_night = dt.datetime(2027, 1, 13, 8)
        route = find_route(tiny_network, "Town A", "Town D", scenario=closed_p, depart=winter_night)
        # Q opens 1 Apr 2027 06:00 (Thursday); arrival 08:25:30 on 13 Jan
        wait = (dt.datetime(2027, 4, 1, 6) - dt.datetime(2027, 1, 13, 8, 25, 30)).total_seconds()
        assert route.minutes == pytest.approx(54.5 + wait / 60, abs=0.1)

    def test_matrix_matches_routes(self, tiny, tiny_network):
        nodes = [n for n, d in tiny_network.graph.nodes(data=True) if d.get("kind")]
        depart = TUESDAY_IN_SEASON.replace(hour=21, minute=50)
        times = CorridorTravelTimes(tiny_network, "cargo", tiny.scenario("baseline"), depart=depart)
        matrix = times.matrix(nodes, nodes)
        for i, o in enumerate(nodes):
            for j, d in enumerate(nodes):
                if np.isfinite(matrix[i, j]):
                    assert times.route(o, d).seconds == pytest.approx(matrix[i, j])

    def test_without_departure_it_equals_the_static_engine_with_post_edges(
        self, tiny, tiny_network
    ):
        posts = tiny.posts
        for profile in ("citizen", "cargo", "third_country"):
            scenario = tiny.scenario("p_restricted")

            def weight(u, v, d, profile=profile, scenario=scenario):
                if "border_post" not in d:
                    return d["travel_time"]
                return scenario.crossing_seconds(
                    posts[d["border_post"]], d["from_country"], d["to_country"], profile
                )

            static = TravelTimeEngine.from_graph(tiny_network.graph, weight)
            nodes = list(tiny_network.graph.nodes)
            expected = static.matrix(nodes, nodes)
            got = CorridorTravelTimes(tiny_network, profile, scenario).matrix(nodes, nodes)
            np.testing.assert_allclose(got, expected, rtol=1e-9, atol=0.01)

    def test_cutoff(self, tiny, tiny_network):
        a = tiny_network.node_of("settlement", "town_a")
        d = tiny_network.node_of("settlement", "town_d")
        times = CorridorTravelTimes(tiny_network, "citizen", tiny.scenario("baseline"))
        assert times.matrix([a], [d], cutoff=30 * 60)[0, 0] == np.inf
        assert times.matrix([a], [d], cutoff=40 * 60)[0, 0] == pytest.approx(39.5 * 60, abs=1)


@settings(max_examples=25, deadline=None)
@given(
    minutes=st.integers(0, 60 * 24 * 14),
    profile=st.sampled_from(["citizen", "cargo", "third_country", "ambulance"]),
)
def test_closing_a_post_never_shortens_any_time(tiny, tiny_network, minutes, profile):
    depart = TUESDAY_IN_SEASON + dt.timedelta(minutes=minutes)
    nodes = [n for n, d in tiny_network.graph.nodes(data=True) if d.get("kind")]
    base = CorridorTravelTimes(tiny_network, profile, tiny.scenario("baseline"), depart=depart)
    closed = CorridorTravelTimes(tiny_network, profile, tiny.scenario("p_closed"), depart=depart)
    assert (closed.matrix(nodes, nodes) >= base.matrix(nodes, nodes) - 1e-6).all()


def test_every_profile_and_scenario_shares_one_road_engine(tiny, tiny_network):
    citizen = CorridorTravelTimes(tiny_network, "citizen", tiny.scenario("baseline"))
    cargo = CorridorTravelTimes(tiny_network, "cargo", tiny.scenario("p_closed"))
    assert citizen.roads is cargo.roads is road_engine(tiny_network)
    # the shared engine leaves the posts out: only crossings join the two countries
    a = tiny_network.node_of("settlement", "town_a")
    d = tiny_network.node_of("settlement", "town_d")
    assert citizen.roads.time(a, d) == np.inf


def test_scenarios_that_change_roads_share_the_road_engine(tiny_copy):
    """Closed or slowed ways stay out of the compiled engine and come back as links, so a
    scenario never needs another engine (nor another contraction hierarchy)."""
    from corridor_planner.bundle.corridor import load_corridor
    from corridor_planner.network.graph import build_network

    (tiny_copy / "scenarios" / "snow.toml").write_text(
        '[[road_changes]]\nways = [2]\nclosed = true\nreason = "snow"\nsource = "t"\n'
        '[[road_changes]]\nways = [1]\nspeed_factor = 0.5\nreason = "works"\nsource = "t"\n',
        encoding="utf-8",
    )
    corridor = load_corridor(tiny_copy)
    network = build_network(corridor)
    base = CorridorTravelTimes(network, "citizen", corridor.scenario("baseline"))
    snow = CorridorTravelTimes(network, "citizen", corridor.scenario("snow"))
    assert base.roads is snow.roads is road_engine(network)
    a = network.node_of("settlement", "town_a")
    d = network.node_of("settlement", "town_d")
    # baseline: A-B 7.5 + B-P 3 + P 20 + 3 + 6; snow: A-B at half speed (15), B-P closed,
    # round by Q: 15 + 12 + 6 + 5 + 6 + 12 + 6
    assert base.matrix([a], [d])[0, 0] / 60 == pytest.approx(39.5, abs=0.1)
    assert snow.matrix([a], [d])[0, 0] / 60 == pytest.approx(62.0, abs=0.1)


def test_exit_times_in_blocks_of_origins_equal_one_block(tiny, tiny_network, monkeypatch):
    """Many origins are cut into blocks (memory: origins x crossings x crossings)."""
    from corridor_planner.routing import traveltimes

    depart = dt.datetime(2026, 6, 1, 3, 0)  # post Q opens at 06:00: waits in the answer
    times = CorridorTravelTimes(tiny_network, "citizen", tiny.scenario("baseline"), depart=depart)
    nodes = list(tiny_network.graph.nodes)
    whole = times.matrix(nodes, nodes)
    monkeypatch.setattr(traveltimes, "CHUNK_BYTES", 1)  # one origin per block
    np.testing.assert_array_equal(times.matrix(nodes, nodes), whole)
