"""Nearest-facility and bounded queries against the dense matrix and against Dijkstra."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from corridor_planner.analysis import access
from corridor_planner.routing.engine import TravelTimeEngine
from corridor_planner.routing.traveltimes import CorridorTravelTimes


def road_like(seed: int, side: int = 30) -> nx.DiGraph:
    """A grid of streets with random times, some one-way, some missing (a road network)."""
    rng = np.random.default_rng(seed)
    graph = nx.DiGraph()
    graph.add_nodes_from(range(side * side))
    for r in range(side):
        for c in range(side):
            u = r * side + c
            for v in ((u + 1) if c + 1 < side else None, (u + side) if r + 1 < side else None):
                if v is None or rng.random() < 0.1:
                    continue
                seconds = float(rng.uniform(5, 120))
                graph.add_edge(u, v, travel_time=seconds)
                if rng.random() > 0.2:  # a fifth of the streets are one-way
                    graph.add_edge(v, u, travel_time=float(rng.uniform(5, 120)))
    return graph


@pytest.mark.parametrize("seed", [1, 2, 3])
class TestRoadLikeGraphs:
    def test_nearest_is_networkx_dijkstra_to_the_nearest_source(self, seed):
        graph = road_like(seed)
        engine = TravelTimeEngine.from_graph(graph, backend="dijkstra")
        rng = np.random.default_rng(seed)
        sources = [int(s) for s in rng.choice(graph.number_of_nodes(), 12, replace=False)]
        times, which = engine.nearest(sources)
        expected = nx.multi_source_dijkstra_path_length(
            graph.reverse(), sources, weight="travel_time"
        )
        for node in graph.nodes:
            got = times[engine.index[node]]
            if node in expected:
                assert got == pytest.approx(expected[node], rel=1e-12)
                to_which = nx.dijkstra_path_length(
                    graph, node, sources[which[engine.index[node]]], weight="travel_time"
                )
                assert to_which == pytest.approx(expected[node], rel=1e-12)
            else:
                assert np.isinf(got) and which[engine.index[node]] == -1

    def test_nearest_equals_the_dense_matrix_bit_for_bit(self, seed):
        graph = road_like(seed)
        engine = TravelTimeEngine.from_graph(graph, backend="dijkstra")
        rng = np.random.default_rng(seed + 10)
        sources = [int(s) for s in rng.choice(graph.number_of_nodes(), 25, replace=False)]
        sources += sources[:3]  # duplicates: the first position is named
        dense = engine.matrix(list(graph.nodes), sources)
        times, which = engine.nearest(sources)
        np.testing.assert_array_equal(times, dense.min(axis=1))
        reached = np.isfinite(times)
        np.testing.assert_array_equal(which[reached], dense.argmin(axis=1)[reached])
        assert (which[~reached] == -1).all()

    def test_within_holds_exactly_the_pairs_inside_the_cutoff(self, seed):
        graph = road_like(seed)
        engine = TravelTimeEngine.from_graph(graph, backend="dijkstra")
        rng = np.random.default_rng(seed + 20)
        origins = [int(s) for s in rng.choice(graph.number_of_nodes(), 200)]
        targets = [int(s) for s in rng.choice(graph.number_of_nodes(), 15)]
        for a, b in ((origins, targets), (targets, origins)):
            dense = engine.matrix(a, b)
            sparse = engine.within(a, b, 600.0).tocoo()
            got = np.full(dense.shape, np.inf)
            got[sparse.row, sparse.col] = sparse.data
            np.testing.assert_array_equal(got, np.where(dense <= 600.0, dense, np.inf))


def test_ties_between_sources_name_the_first_as_argmin_does():
    # two facilities attached to one road node by legs of equal time
    graph = nx.DiGraph()
    graph.add_weighted_edges_from(
        [("f1", "r", 10.0), ("r", "f1", 10.0), ("f2", "r", 10.0), ("r", "f2", 10.0)],
        weight="travel_time",
    )
    graph.add_weighted_edges_from([("a", "r", 5.0), ("r", "a", 5.0)], weight="travel_time")
    engine = TravelTimeEngine.from_graph(graph, backend="dijkstra")
    for order in (["f1", "f2"], ["f2", "f1"]):
        times, which = engine.nearest(order)
        assert times[engine.index["a"]] == 15.0
        assert which[engine.index["a"]] == 0


CASES = [
    ("almaty_bishkek", "borders_closed", "citizen"),
    ("almaty_bishkek", "baseline", "third_country"),
    ("cpec_karakoram", "baseline", "citizen"),
    ("cpec_gwadar", "baseline", "ambulance"),
]


@pytest.mark.parametrize(("bundle", "scenario", "profile"), CASES)
def test_bundled_corridors_nearest_and_bounded_equal_the_dense_matrix(
    bundle, scenario, profile, request
):
    network = request.getfixturevalue(
        {"cpec_karakoram": "cpec", "cpec_gwadar": "gwadar"}.get(bundle, bundle)
    )
    times = CorridorTravelTimes(network, profile, network.corridor.scenario(scenario))
    assert times.crossings or bundle == "cpec_gwadar"  # posts in play (Gwadar has none)
    settlements = access.settlements_on_network(network)
    facilities = access.offering(network, "emergency")
    origins, targets = list(settlements["node"]), list(facilities["node"])
    dense = times.matrix(origins, targets)
    seconds, which = times.nearest(origins, targets)
    np.testing.assert_array_equal(seconds, dense.min(axis=1))
    reached = np.isfinite(seconds)
    np.testing.assert_array_equal(which[reached], dense.argmin(axis=1)[reached])
    for cutoff in (1800.0, 3600.0, 7200.0):
        sparse = times.within(origins, targets, cutoff).tocoo()
        got = np.full(dense.shape, np.inf)
        got[sparse.row, sparse.col] = sparse.data
        np.testing.assert_array_equal(got, times.matrix(origins, targets, cutoff))
    minutes = access.bounded_minutes(times, origins, targets, 60.0)
    people = settlements["population"].to_numpy(dtype=float)
    supply = np.ones(len(targets))
    old = access.e2sfca_scores(dense / 60.0, people, supply, 60.0)
    new = access.e2sfca_scores(minutes, people, supply, 60.0)
    for a, b in zip(old, new, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-13)
    old3 = access.three_sfca_scores(dense / 60.0, people, supply, 60.0)
    new3 = access.three_sfca_scores(minutes, people, supply, 60.0)
    for a, b in zip(old3, new3, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-13)
