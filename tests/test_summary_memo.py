"""The summary's site ranking is computed once per set of travel times."""

from __future__ import annotations

from corridor_planner.analysis import summary
from corridor_planner.routing.traveltimes import CorridorTravelTimes


def test_site_ranking_is_remembered_and_each_caller_gets_copies(tiny, tiny_network):
    times = CorridorTravelTimes(tiny_network, "citizen", tiny.scenario("baseline"))
    first = summary._site_ranking(times, 60.0)
    assert len(times.memo) >= 1
    for site in first:
        site["reason"] = "changed by a caller"
    again = summary._site_ranking(times, 60.0)
    assert [s["id"] for s in again] == [s["id"] for s in first]
    assert all(s["reason"] == "" for s in again)
    fresh = CorridorTravelTimes(tiny_network, "citizen", tiny.scenario("baseline"))
    assert summary._ranked_sites(fresh, 60.0) == again


def test_tiny_corridor_has_a_site_to_rank(tiny, tiny_network):
    times = CorridorTravelTimes(tiny_network, "citizen", tiny.scenario("baseline"))
    shortest = min(tiny.thresholds_min)
    assert summary._site_ranking(times, 60.0) or summary._site_ranking(times, shortest)
