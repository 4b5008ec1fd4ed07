"""Contraction hierarchies: exact against Dijkstra, cached by graph, chosen by size."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

from corridor_planner.errors import InvalidArgumentError
from corridor_planner.network.synthetic import road_like_graph
from corridor_planner.routing.engine import TravelTimeEngine
from corridor_planner.routing.hierarchy import Hierarchy, cached, graph_key


def awkward_graph(seed: int):
    """A road-like graph plus parallel edges, near-zero weights and a detached island."""
    g = road_like_graph(25, 25, seed=seed, oneway_share=0.1)
    rng = np.random.default_rng(seed)
    n = g.n_nodes + 30
    tails, heads, weights = list(g.tails), list(g.heads), list(g.travel_time)
    for _ in range(40):  # parallel edges, some cheaper than the original
        k = int(rng.integers(len(g.tails)))
        tails.append(g.tails[k])
        heads.append(g.heads[k])
        weights.append(g.travel_time[k] * rng.uniform(0.5, 1.5))
    for k in range(29):  # an island of 30 nodes nobody can reach
        tails += [g.n_nodes + k, g.n_nodes + k + 1]
        heads += [g.n_nodes + k + 1, g.n_nodes + k]
        weights += [10.0, 10.0]
    weights[:5] = [1e-3] * 5
    return n, np.array(tails), np.array(heads), np.array(weights)


def reference(n, tails, heads, weights, sources, targets, cutoff=np.inf):
    engine = TravelTimeEngine.from_arrays(n, tails, heads, weights, backend="dijkstra")
    return engine.matrix(list(sources), list(targets), None if np.isinf(cutoff) else cutoff)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matrix_equals_dijkstra(seed):
    n, tails, heads, weights = awkward_graph(seed)
    engine = TravelTimeEngine.from_arrays(n, tails, heads, weights, backend="ch")
    rng = np.random.default_rng(seed)
    sources = rng.choice(n, 60, replace=False)
    targets = np.concatenate([rng.choice(n, 40, replace=False), [n - 1, n - 2]])
    ours = engine.matrix(list(sources), list(targets))
    assert engine.last_backend == "ch"
    expected = reference(n, tails, heads, weights, sources, targets)
    np.testing.assert_array_equal(np.isfinite(ours), np.isfinite(expected))
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-9)


def dense_graph(seed: int):
    """A small road-like graph with a hub and a dense random cluster: nodes with many
    neighbours, whose witness searches run in parallel (``PARALLEL_WORK``)."""
    g = road_like_graph(12, 12, seed=seed, oneway_share=0.2)
    rng = np.random.default_rng(seed)
    n = g.n_nodes + 1 + 60
    hub, cluster = g.n_nodes, np.arange(g.n_nodes + 1, n)
    spokes = rng.choice(g.n_nodes, 50, replace=False)
    pairs = rng.choice(cluster, (2500, 2))
    links = rng.choice(g.n_nodes, 10, replace=False)
    tails = np.concatenate(
        [g.tails, np.full(50, hub), spokes, pairs[:, 0], links, cluster[:10], [hub]]
    )
    heads = np.concatenate(
        [g.heads, spokes, np.full(50, hub), pairs[:, 1], cluster[:10], links, [cluster[-1]]]
    )
    weights = np.concatenate([g.travel_time, rng.uniform(5.0, 500.0, len(tails) - len(g.tails))])
    return n, tails, heads, weights


@pytest.mark.parametrize("seed", [0, 1])
def test_dense_parts_equal_dijkstra(seed):
    n, tails, heads, weights = dense_graph(seed)
    h = Hierarchy.build(n, tails, heads, weights)
    nodes = np.arange(n)
    expected = reference(n, tails, heads, weights, nodes, nodes)
    np.testing.assert_array_equal(np.isfinite(h.matrix(nodes, nodes)), np.isfinite(expected))
    np.testing.assert_allclose(h.matrix(nodes, nodes), expected, rtol=1e-12, atol=1e-9)


def test_cutoff_matches_dijkstras_limit():
    n, tails, heads, weights = awkward_graph(5)
    engine = TravelTimeEngine.from_arrays(n, tails, heads, weights, backend="ch")
    nodes = list(range(0, n, 7))
    cutoff = 600.0
    ours = engine.matrix(nodes, nodes, cutoff)
    expected = reference(n, tails, heads, weights, nodes, nodes, cutoff)
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-9)
    assert np.isinf(ours).any() and np.isfinite(ours).any()


def test_hand_worked_shortcut():
    # a -> b -> c (5 + 5) and a -> c (20): the path through b must win
    h = Hierarchy.build(3, np.array([0, 1, 0]), np.array([1, 2, 2]), np.array([5.0, 5.0, 20.0]))
    assert h.matrix(np.array([0]), np.array([2]))[0, 0] == pytest.approx(10.0)
    assert np.isinf(h.matrix(np.array([2]), np.array([0]))[0, 0])  # one way only


def test_cache_is_reused_and_a_corrupt_one_rebuilt(tmp_path):
    n, tails, heads, weights = awkward_graph(3)
    first = cached(tmp_path, n, tails, heads, weights)
    (saved,) = list(tmp_path.glob("hierarchy-*.npz"))
    again = cached(tmp_path, n, tails, heads, weights)
    np.testing.assert_array_equal(first.rank, again.rank)
    assert Hierarchy.load(saved, "another graph") is None  # never used for another graph
    saved.write_bytes(b"not a numpy file")
    rebuilt = cached(tmp_path, n, tails, heads, weights)
    np.testing.assert_array_equal(rebuilt.rank, first.rank)
    assert graph_key(n, tails, heads, weights) == first.key


def test_changed_weights_get_their_own_hierarchy(tmp_path):
    n, tails, heads, weights = awkward_graph(4)
    slower = weights.copy()
    slower[::3] *= 2.0
    a = cached(tmp_path, n, tails, heads, weights)
    b = cached(tmp_path, n, tails, heads, slower)
    assert a.key != b.key and len(list(tmp_path.glob("hierarchy-*.npz"))) == 2
    nodes = np.arange(0, n, 11)
    expected = reference(n, tails, heads, slower, nodes, nodes)
    np.testing.assert_allclose(b.matrix(nodes, nodes), expected, rtol=1e-12, atol=1e-9)


def test_auto_keeps_small_graphs_and_narrow_queries_on_dijkstra():
    n, tails, heads, weights = awkward_graph(6)
    engine = TravelTimeEngine.from_arrays(n, tails, heads, weights)
    engine.matrix(list(range(200)), list(range(200)))
    assert engine.last_backend == "dijkstra"  # 655 nodes: below CH_MIN_NODES
    assert engine.choose_backend(10, 10_000) == "dijkstra"
    with pytest.raises(InvalidArgumentError, match="unknown backend 'magic'"):
        TravelTimeEngine(csr_array((2, 2)), [0, 1], backend="magic")


def test_auto_with_a_hierarchy_picks_the_backend_with_less_work():
    n, tails, heads, weights = awkward_graph(8)
    engine = TravelTimeEngine.from_arrays(n, tails, heads, weights)
    engine.hierarchy()
    forward, backward = engine.hierarchy().search_work()
    assert 0 < forward < engine.forward.nnz + n and 0 < backward < engine.forward.nnz + n
    # many settlements, few hospitals: one Dijkstra per hospital scans less
    assert engine.choose_backend(5000, 20) == "dijkstra"
    assert engine.choose_backend(20, 5000) == "dijkstra"
    # a square matrix: an upward search per node is far less than a Dijkstra per node
    assert engine.choose_backend(2000, 2000) == "ch"
    nodes = list(range(0, n, 3))
    wide = engine.matrix(nodes, nodes)
    assert engine.last_backend == "ch"
    narrow = engine.matrix(nodes, nodes[:2])
    assert engine.last_backend == "dijkstra"
    expected = reference(n, tails, heads, weights, nodes, nodes)
    np.testing.assert_allclose(wide, expected, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(narrow, expected[:, :2], rtol=1e-12, atol=1e-9)


def test_scipy_reference_agrees_with_plain_dijkstra():
    n, tails, heads, weights = awkward_graph(7)
    engine = TravelTimeEngine.from_arrays(n, tails, heads, weights, backend="dijkstra")
    full = dijkstra(engine.forward, indices=[0, 1])
    np.testing.assert_allclose(engine.matrix([0, 1], list(range(n))), full)
