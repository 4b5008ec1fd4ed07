from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corridor_planner.errors import NoRouteError, NotFoundError
from corridor_planner.network.synthetic import road_like_graph
from corridor_planner.routing import engine as engine_module
from corridor_planner.routing.engine import TravelTimeEngine


def networkx_matrix(graph, origins, destinations, cutoff=None):
    out = np.full((len(origins), len(destinations)), np.inf)
    for i, o in enumerate(origins):
        dist = nx.single_source_dijkstra_path_length(graph, o, cutoff=cutoff, weight="travel_time")
        for j, d in enumerate(destinations):
            out[i, j] = dist.get(d, np.inf)
    return out


@pytest.fixture(scope="module")
def grid():
    return road_like_graph(30, 40, seed=7)


@pytest.fixture(scope="module")
def grid_engine(grid):
    return TravelTimeEngine.from_arrays(grid.n_nodes, grid.tails, grid.heads, grid.travel_time)


@pytest.fixture(scope="module")
def grid_nx(grid):
    return grid.to_networkx()


class TestAgreementWithNetworkx:
    def test_matrix_more_origins_than_destinations(self, grid_engine, grid_nx):
        rng = np.random.default_rng(1)
        origins, destinations = (
            rng.choice(1200, 60, replace=False),
            rng.choice(1200, 7, replace=False),
        )
        got = grid_engine.matrix(origins, destinations)
        np.testing.assert_allclose(got, networkx_matrix(grid_nx, origins, destinations), rtol=1e-12)

    def test_matrix_more_destinations_than_origins(self, grid_engine, grid_nx):
        rng = np.random.default_rng(2)
        origins, destinations = (
            rng.choice(1200, 5, replace=False),
            rng.choice(1200, 80, replace=False),
        )
        got = grid_engine.matrix(origins, destinations)
        np.testing.assert_allclose(got, networkx_matrix(grid_nx, origins, destinations), rtol=1e-12)

    def test_cutoff(self, grid_engine, grid_nx):
        origins, destinations = list(range(0, 1200, 37)), list(range(5, 1200, 101))
        got = grid_engine.matrix(origins, destinations, cutoff=600)
        expected = networkx_matrix(grid_nx, origins, destinations, cutoff=600)
        np.testing.assert_allclose(got, expected, rtol=1e-12)
        assert np.isinf(got).any() and np.isfinite(got).any()

    def test_small_chunks_give_the_same_answer(self, grid_engine, monkeypatch):
        origins, destinations = list(range(0, 1200, 11)), [3, 500, 1111]
        whole = grid_engine.matrix(origins, destinations)
        monkeypatch.setattr(engine_module, "CHUNK_BYTES", 8 * grid_engine.n_nodes * 3)
        np.testing.assert_array_equal(grid_engine.matrix(origins, destinations), whole)
        np.testing.assert_array_equal(
            grid_engine.matrix(destinations, origins).shape, (3, len(origins))
        )

    def test_nearest(self, grid_engine, grid_nx):
        sources = [10, 600, 1150]
        times, which = grid_engine.nearest(sources)
        expected = networkx_matrix(grid_nx.reverse(copy=True), sources, range(1200)).T
        np.testing.assert_allclose(times, expected.min(axis=1), rtol=1e-12)
        reached = np.isfinite(times)
        np.testing.assert_allclose(expected[reached, which[reached]], times[reached], rtol=1e-12)
        assert (which[~reached] == -1).all()

    def test_nearest_from_sources(self, grid_engine, grid_nx):
        times, _ = grid_engine.nearest([42], to_sources=False, cutoff=900)
        expected = networkx_matrix(grid_nx, [42], range(1200), cutoff=900)[0]
        np.testing.assert_allclose(times, expected, rtol=1e-12)

    def test_path(self, grid_engine, grid_nx):
        path = grid_engine.path(0, 1199)
        assert path[0] == 0 and path[-1] == 1199
        total = sum(grid_nx[u][v]["travel_time"] for u, v in itertools.pairwise(path))
        assert total == pytest.approx(
            nx.dijkstra_path_length(grid_nx, 0, 1199, weight="travel_time")
        )


class TestCompilation:
    def test_parallel_edges_keep_the_smallest_weight(self):
        engine = TravelTimeEngine.from_arrays(3, [0, 0, 1, 0], [1, 1, 2, 2], [9.0, 4.0, 1.0, 7.0])
        assert engine.time(0, 1) == 4.0
        assert engine.time(0, 2) == 5.0

    def test_zero_weights_are_kept_as_tiny_positive(self):
        engine = TravelTimeEngine.from_arrays(3, [0, 1], [1, 2], [0.0, 2.0])
        assert engine.time(0, 2) == pytest.approx(2.0, abs=0.01)

    def test_from_multidigraph_with_callable_weight(self, tiny_network):
        def roads_only(u, v, data):
            return None if "border_post" in data else data["travel_time"]

        engine = TravelTimeEngine.from_graph(tiny_network.graph, roads_only)
        a = tiny_network.node_of("settlement", "town_a")
        d = tiny_network.node_of("settlement", "town_d")
        assert engine.time(a, d) == np.inf  # only the posts join the two countries
        full = TravelTimeEngine.from_graph(tiny_network.graph)
        assert full.time(a, d) == pytest.approx((7.5 + 3 + 3 + 6) * 60, abs=0.1)

    def test_bundled_corridor_agrees_with_networkx(self, almaty_bishkek):
        graph = almaty_bishkek.graph
        engine = TravelTimeEngine.from_graph(graph)
        nodes = list(graph.nodes)[::3]
        got = engine.matrix(nodes, nodes)
        simple = nx.DiGraph()
        for u, v, d in graph.edges(data=True):
            if not simple.has_edge(u, v) or simple[u][v]["travel_time"] > d["travel_time"]:
                simple.add_edge(u, v, travel_time=max(d["travel_time"], 1e-3))
        np.testing.assert_allclose(got, networkx_matrix(simple, nodes, nodes), rtol=1e-9)

    def test_unknown_node(self, grid_engine):
        with pytest.raises(NotFoundError, match="node 99999 is not in the graph"):
            grid_engine.matrix([99999], [1])

    def test_no_path(self):
        engine = TravelTimeEngine.from_arrays(3, [0], [1], [1.0])
        with pytest.raises(NoRouteError, match="no path from node 0 to node 2"):
            engine.path(0, 2)
        assert engine.time(1, 0) == np.inf


@st.composite
def random_graph(draw):
    n = draw(st.integers(3, 25))
    m = draw(st.integers(1, 80))
    tails = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    heads = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    weights = draw(st.lists(st.floats(0.5, 1000), min_size=m, max_size=m))
    closed = draw(st.lists(st.booleans(), min_size=m, max_size=m))
    return n, np.array(tails), np.array(heads), np.array(weights), np.array(closed)


@settings(max_examples=60, deadline=None)
@given(random_graph())
def test_closing_edges_never_shortens_a_travel_time(case):
    n, tails, heads, weights, closed = case
    open_engine = TravelTimeEngine.from_arrays(n, tails, heads, weights)
    closed_engine = TravelTimeEngine.from_arrays(
        n, tails[~closed], heads[~closed], weights[~closed]
    )
    nodes = list(range(n))
    assert (closed_engine.matrix(nodes, nodes) >= open_engine.matrix(nodes, nodes) - 1e-9).all()


def test_remembered_searches_give_the_same_answers(grid, monkeypatch):
    """Inside ``remembering``, one search per origin gives its times and paths, reused."""
    grid_engine = TravelTimeEngine.from_arrays(
        grid.n_nodes, grid.tails, grid.heads, grid.travel_time, backend="dijkstra"
    )
    pairs = [(0, 777), (0, 1100), (42, 777), (0, 777)]
    times = [grid_engine.time(a, b) for a, b in pairs]
    paths = [grid_engine.path(a, b) for a, b in pairs]
    calls = []
    real = engine_module.dijkstra

    def counted(*args, **kwargs):
        calls.append(kwargs.get("indices"))
        return real(*args, **kwargs)

    monkeypatch.setattr(engine_module, "dijkstra", counted)
    with grid_engine.remembering():
        assert [grid_engine.time(a, b) for a, b in pairs] == times
        assert [grid_engine.path(a, b) for a, b in pairs] == paths
    assert len(calls) == 2  # one search from 0 and one from 42 give times and trees
    assert grid_engine._memo is None  # forgotten after the block
    grid_engine.time(0, 777)
    assert len(calls) == 3
