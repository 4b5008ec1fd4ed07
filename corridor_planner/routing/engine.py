"""TravelTimeEngine: a road graph compiled once to sparse arrays, queried many times."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
from scipy.sparse import coo_array, csr_array
from scipy.sparse.csgraph import dijkstra

from corridor_planner import settings
from corridor_planner.errors import InvalidArgumentError, NoRouteError, NotFoundError
from corridor_planner.extras import missing, require

if TYPE_CHECKING:
    from corridor_planner.routing.hierarchy import Hierarchy

LOG = logging.getLogger(__name__)

#: Backends of the engine: ``dijkstra`` (scipy), ``ch`` (contraction hierarchy), ``auto``.
BACKENDS = ("auto", "dijkstra", "ch")
#: ``auto`` uses a contraction hierarchy only on graphs at least this large ...
CH_MIN_NODES = 50_000
#: ... for matrices with at least this many distinct sources and targets.
CH_MIN_SIDE = 100
#: Once a hierarchy is built, ``auto`` weighs the two backends' work: a hierarchy matrix
#: scans about ``search_work`` edges per target, and per source over the threads that
#: share the sources; a Dijkstra scans every edge once per search from the smaller side.
#: An edge scanned by the hierarchy's numba code costs about this share of one scanned by
#: scipy's Dijkstra (measured on the benchmark's 55k- and 577k-node graphs: 1.2 and 0.4;
#: the estimate only picks the faster backend, both are exact).
CH_EDGE_COST = 0.7

#: Upper bound on the dense block one Dijkstra call returns (sources x nodes x 8 bytes).
CHUNK_BYTES = 256 * 1024**2

WeightFn = Callable[[Hashable, Hashable, dict[str, Any]], float | None]


class TravelTimeEngine:
    """Shortest travel times on a directed graph held as compressed sparse rows.

    Build it once with :meth:`from_graph` or :meth:`from_arrays`, then ask for matrices,
    nearest sources and paths. Searches run in scipy's compiled Dijkstra; no Python loop
    visits nodes.

    Parameters
    ----------
    forward : scipy.sparse.csr_array
        ``forward[i, j]`` is the smallest weight of the edges from node ``i`` to ``j``.
    node_ids : sequence
        Graph node id of each row; positions are the engine's node indices.
    backend : str
        ``auto`` (a contraction hierarchy for wide matrices on large graphs, Dijkstra
        otherwise), ``dijkstra`` or ``ch``. ``nearest`` and ``path`` always use Dijkstra
        (one multi-source search is what they need). ``last_backend`` says which a matrix
        used, and the ``corridor_planner.routing.engine`` logger reports it.
    cache_dir : Path, optional
        Folder where the hierarchy is saved (keyed by the graph's SHA-256) and reused.
    """

    def __init__(
        self,
        forward: csr_array,
        node_ids: Sequence[Hashable],
        *,
        backend: str = "auto",
        cache_dir: Path | None = None,
    ) -> None:
        if backend not in BACKENDS:
            raise InvalidArgumentError(f"unknown backend {backend!r}; known: {', '.join(BACKENDS)}")
        self.forward = forward
        self.backward = forward.T.tocsr()
        self.node_ids = list(node_ids)
        self.index = {node: i for i, node in enumerate(self.node_ids)}
        self.backend = backend
        self.cache_dir = cache_dir
        self.last_backend = ""
        self._hierarchy: Hierarchy | None = None
        self._memo: OrderedDict[tuple[str, int, float], Any] | None = None

    # remembered searches ----------------------------------------------------------------

    @contextmanager
    def remembering(self) -> Iterator[None]:
        """Keep the single-source searches made inside the block, and reuse them.

        Routing many pairs one by one (referral pathways) searches again and again from
        the same origins, receivers and crossings: inside the block, the times of a
        Dijkstra from one node and its tree of paths are kept (the most recent, within
        ``CHUNK_BYTES``), so the same question gets the very same answer without another
        search. An unbounded search forward from one node gives its times and its tree
        at once: the route's time and its path cost one search, not two. Nested blocks
        share the outer one's memory.
        """
        outer = self._memo
        if outer is None:
            self._memo = OrderedDict()
        try:
            yield
        finally:
            if outer is None:
                self._memo = None

    def _remembered(self, key: tuple[str, int, float], search: Callable[[], Any]) -> Any:
        """Return ``search()``, from memory when :meth:`remembering` already holds it."""
        memo = self._memo
        if memo is None:
            return search()
        if key in memo:
            memo.move_to_end(key)
            return memo[key]
        value = memo[key] = search()
        keep = max(2, CHUNK_BYTES // (12 * max(1, self.n_nodes)))  # float64 times, int32 tree
        while len(memo) > keep:
            memo.popitem(last=False)
        return value

    # backends -------------------------------------------------------------------------

    def hierarchy(self) -> Hierarchy:
        """Return the graph's contraction hierarchy: built once, kept in ``cache_dir`` if set."""
        if self._hierarchy is None:
            require("fast", "the contraction hierarchy (engine backend 'ch')")
            from corridor_planner.routing import (
                hierarchy,  # numba compiles on first use only
            )

            coo = self.forward.tocoo()
            arrays = (self.n_nodes, coo.row, coo.col, coo.data)
            self._hierarchy = (
                hierarchy.cached(self.cache_dir, *arrays)
                if self.cache_dir is not None
                else hierarchy.Hierarchy.build(*arrays)
            )
        return self._hierarchy

    def choose_backend(self, n_sources: int, n_targets: int) -> str:
        """``ch`` or ``dijkstra`` for a matrix of this shape (see ``backend``).

        ``auto`` takes the hierarchy for a large graph (``CH_MIN_NODES``) and a wide
        matrix (both sides at least ``CH_MIN_SIDE``) when numba (extra ``fast``) is
        installed; Dijkstra otherwise (a small corridor, or a narrow query, where it is
        faster than building a hierarchy). With a hierarchy (built, or loaded from the
        cache for a large and wide matrix), the backend whose estimated work is smaller
        (``CH_EDGE_COST``): 200 hospitals for 227,000 settlements are 200 Dijkstras, not
        227,200 upward searches.
        """
        if self.backend != "auto":
            return self.backend
        if self._hierarchy is None:
            wide = min(n_sources, n_targets) >= CH_MIN_SIDE
            if self.n_nodes < CH_MIN_NODES or not wide:
                return "dijkstra"
            if missing("fast"):
                LOG.info("no numba (extra 'fast'): Dijkstra answers this matrix of a large graph")
                return "dijkstra"
            self.hierarchy()  # loaded from the cache, or built once for every later matrix
        return "ch" if self._hierarchy_cheaper(n_sources, n_targets) else "dijkstra"

    def _hierarchy_cheaper(self, n_sources: int, n_targets: int) -> bool:
        """Whether the built hierarchy answers this matrix with less work than Dijkstra."""
        from corridor_planner.routing.hierarchy import search_threads

        assert self._hierarchy is not None
        forward, backward = self._hierarchy.search_work()
        threads = search_threads()
        by_hierarchy = CH_EDGE_COST * (n_sources * forward / threads + n_targets * backward)
        by_dijkstra = min(n_sources, n_targets) * (self.forward.nnz + self.n_nodes)
        return by_hierarchy < by_dijkstra

    # construction ---------------------------------------------------------------------

    @classmethod
    def from_arrays(
        cls,
        n_nodes: int,
        tails: np.ndarray,
        heads: np.ndarray,
        weights: np.ndarray,
        node_ids: Sequence[Hashable] | None = None,
        *,
        backend: str = "auto",
        cache_dir: Path | None = None,
    ) -> TravelTimeEngine:
        """Compile edges given as arrays of node indices and weights.

        Parallel edges keep their smallest weight (a sparse matrix would add them up);
        weights below ``MIN_EDGE_SECONDS`` are raised to it so no edge vanishes as a zero.
        Edges with a non-finite weight are dropped. ``backend`` and ``cache_dir``: see the
        class.
        """
        tails = np.asarray(tails, dtype=np.int64)
        heads = np.asarray(heads, dtype=np.int64)
        weights = np.asarray(weights, dtype=np.float64)
        keep = np.isfinite(weights)
        tails, heads, weights = tails[keep], heads[keep], weights[keep]
        weights = np.maximum(weights, settings.MIN_EDGE_SECONDS)
        order = np.lexsort((weights, heads, tails))
        tails, heads, weights = tails[order], heads[order], weights[order]
        first = np.ones(len(tails), dtype=bool)
        first[1:] = (tails[1:] != tails[:-1]) | (heads[1:] != heads[:-1])
        matrix = csr_array((weights[first], (tails[first], heads[first])), shape=(n_nodes, n_nodes))
        ids = node_ids if node_ids is not None else range(n_nodes)
        return cls(matrix, ids, backend=backend, cache_dir=cache_dir)

    @classmethod
    def from_graph(
        cls,
        graph: nx.MultiDiGraph,
        weight: str | WeightFn = "travel_time",
        *,
        backend: str = "auto",
        cache_dir: Path | None = None,
    ) -> TravelTimeEngine:
        """Compile a networkx (multi)digraph.

        Parameters
        ----------
        graph : networkx.DiGraph or MultiDiGraph
            The graph; every node becomes a row.
        weight : str or callable
            Edge attribute holding the weight, or ``f(u, v, data) -> float | None``;
            None (or a missing attribute) leaves the edge out.
        """
        node_ids = list(graph.nodes)
        index = {node: i for i, node in enumerate(node_ids)}
        tails, heads, weights = [], [], []
        for u, v, data in graph.edges(data=True):
            value = weight(u, v, data) if callable(weight) else data.get(weight)
            if value is None:
                continue
            tails.append(index[u])
            heads.append(index[v])
            weights.append(value)
        return cls.from_arrays(
            len(node_ids),
            np.array(tails),
            np.array(heads),
            np.array(weights),
            node_ids,
            backend=backend,
            cache_dir=cache_dir,
        )

    # queries ----------------------------------------------------------------------------

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return self.forward.shape[0]

    def indices(self, nodes: Sequence[Hashable]) -> np.ndarray:
        """Engine indices of graph node ids.

        Raises
        ------
        NotFoundError
            If a node is not in the graph.
        """
        try:
            return np.fromiter((self.index[n] for n in nodes), dtype=np.int64, count=len(nodes))
        except KeyError as exc:
            raise NotFoundError(f"node {exc.args[0]!r} is not in the graph") from exc

    def matrix(
        self,
        origins: Sequence[Hashable],
        destinations: Sequence[Hashable],
        cutoff: float | None = None,
    ) -> np.ndarray:
        """Travel times (s) from each origin to each destination.

        Searches from the smaller side: from the origins on the graph, or from the
        destinations on the reversed graph.

        Parameters
        ----------
        origins, destinations : sequence of node ids
        cutoff : float, optional
            Times above this are returned as ``inf`` (and searches stop there).

        Returns
        -------
        numpy.ndarray
            ``len(origins) x len(destinations)``, ``inf`` where unreachable or beyond the
            cutoff.
        """
        rows, cols = self.indices(origins), self.indices(destinations)
        if len(rows) == 0 or len(cols) == 0:
            return np.full((len(rows), len(cols)), np.inf)
        self.last_backend = self.choose_backend(len(np.unique(rows)), len(np.unique(cols)))
        LOG.info("travel-time matrix %d x %d by %s", len(rows), len(cols), self.last_backend)
        if self.last_backend == "ch":
            limit = np.inf if cutoff is None else float(cutoff)
            return self.hierarchy().matrix(rows, cols, limit)
        if len(np.unique(cols)) < len(np.unique(rows)):
            return self._from_sources(self.backward, cols, rows, cutoff).T
        return self._from_sources(self.forward, rows, cols, cutoff)

    def _from_sources(
        self, graph: csr_array, sources: np.ndarray, targets: np.ndarray, cutoff: float | None
    ) -> np.ndarray:
        unique, inverse = np.unique(sources, return_inverse=True)
        limit = np.inf if cutoff is None else float(cutoff)
        if self._memo is not None and len(unique) == 1:
            if graph is self.forward and np.isinf(limit):
                dist = self._search_tree(unique[0])[0][None, :]
                return dist[:, targets][inverse]
            way = "forward" if graph is self.forward else "backward"
            dist = self._remembered(
                (way, int(unique[0]), limit),
                lambda: dijkstra(graph, directed=True, indices=unique, limit=limit),
            )
            return dist[:, targets][inverse]
        out = np.empty((len(unique), len(targets)))
        chunk = max(1, CHUNK_BYTES // (8 * self.n_nodes))
        for start in range(0, len(unique), chunk):
            block = unique[start : start + chunk]
            dist = dijkstra(graph, directed=True, indices=block, limit=limit)
            out[start : start + len(block)] = dist[:, targets]
        return out[inverse]

    def within(
        self,
        origins: Sequence[Hashable],
        destinations: Sequence[Hashable],
        cutoff: float,
    ) -> csr_array:
        """Travel times (s) of the pairs no farther apart than ``cutoff``, kept sparse.

        Bounded Dijkstra searches (never the hierarchy) from the smaller side, as
        :meth:`matrix` does on Dijkstra, so a stored time equals the dense matrix's
        bit for bit there; nothing beyond the cutoff is ever held densely.

        Returns
        -------
        scipy.sparse.csr_array
            ``len(origins) x len(destinations)``; a stored entry (zeros included: a
            settlement on a facility's node) is a pair within ``cutoff``, a missing one is
            farther or unreachable.
        """
        rows, cols = self.indices(origins), self.indices(destinations)
        shape = (len(rows), len(cols))
        if not len(rows) or not len(cols):
            return csr_array(shape)
        LOG.info("bounded travel times %d x %d within %.0f s", *shape, cutoff)
        if len(np.unique(cols)) < len(np.unique(rows)):
            j, i, t = self._bounded(self.backward, cols, rows, float(cutoff))
        else:
            i, j, t = self._bounded(self.forward, rows, cols, float(cutoff))
        return csr_array(coo_array((t, (i, j)), shape=shape))

    def _bounded(
        self, graph: csr_array, sources: np.ndarray, targets: np.ndarray, cutoff: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(source position, target position, seconds) of the pairs within ``cutoff``."""
        unique, inverse = np.unique(sources, return_inverse=True)
        chunk = max(1, CHUNK_BYTES // (8 * self.n_nodes))
        found_u, found_t, found_s = [], [], []
        for start in range(0, len(unique), chunk):
            block = unique[start : start + chunk]
            dist = dijkstra(graph, directed=True, indices=block, limit=cutoff)[:, targets]
            u, t = np.nonzero(np.isfinite(dist))
            found_u.append(u + start)
            found_t.append(t)
            found_s.append(dist[u, t])
        by_unique = np.concatenate(found_u)
        # each pair of a unique source stands for every position holding that source
        positions = np.argsort(inverse, kind="stable")
        per_unique = np.bincount(inverse, minlength=len(unique))
        first = np.concatenate([[0], np.cumsum(per_unique)[:-1]])
        repeat = per_unique[by_unique]
        entry = np.repeat(np.arange(len(by_unique)), repeat)
        offset = np.arange(len(entry)) - np.repeat(np.cumsum(repeat) - repeat, repeat)
        source_at = positions[first[by_unique[entry]] + offset]
        return source_at, np.concatenate(found_t)[entry], np.concatenate(found_s)[entry]

    def nearest(
        self, sources: Sequence[Hashable], cutoff: float | None = None, to_sources: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Time to the nearest source from every node, in one multi-source search.

        Parameters
        ----------
        sources : sequence of node ids
            Facilities, say.
        cutoff : float, optional
            Nodes farther than this get ``inf`` and source ``-1``.
        to_sources : bool
            True: time from each node to its nearest source (travel to care).
            False: time from the nearest source to each node.

        Returns
        -------
        times : numpy.ndarray
            Seconds, one per engine node (order of :attr:`node_ids`).
        which : numpy.ndarray
            Position in ``sources`` of the nearest source, ``-1`` where none is reachable;
            of equally near sources the first (as ``matrix(...).argmin(axis=1)`` names).
        """
        idx = self.indices(sources)
        if len(idx) == 0:
            return np.full(self.n_nodes, np.inf), np.full(self.n_nodes, -1)
        graph = self.backward if to_sources else self.forward
        limit = np.inf if cutoff is None else float(cutoff)
        times = dijkstra(graph, directed=True, indices=idx, limit=limit, min_only=True)
        from corridor_planner.routing.ties import first_of_equals  # numba compiles on first use

        return times, first_of_equals(graph, idx, times)

    def path(self, origin: Hashable, destination: Hashable) -> list[Hashable]:
        """Node ids along a fastest path from ``origin`` to ``destination``.

        Raises
        ------
        NoRouteError
            If the destination cannot be reached.
        """
        start, end = self.indices([origin, destination])
        predecessors = self._search_tree(start)[1]
        if start != end and predecessors[end] < 0:
            raise NoRouteError(f"no path from node {origin!r} to node {destination!r}")
        steps = [int(end)]
        while steps[-1] != start:
            steps.append(int(predecessors[steps[-1]]))
        return [self.node_ids[i] for i in reversed(steps)]

    def _search_tree(self, start: np.int64) -> tuple[np.ndarray, np.ndarray]:
        """Return the times from ``start`` to every node and each node's predecessor.

        One Dijkstra, remembered inside :meth:`remembering`.
        """

        def search() -> tuple[np.ndarray, np.ndarray]:
            times, predecessors = dijkstra(
                self.forward, directed=True, indices=start, return_predecessors=True
            )
            return np.asarray(times), np.asarray(predecessors, dtype=np.int32)

        return self._remembered(("tree", int(start), np.inf), search)  # type: ignore[no-any-return]

    def time(self, origin: Hashable, destination: Hashable) -> float:
        """Travel time (s) of one pair; ``inf`` if unreachable."""
        return float(self.matrix([origin], [destination])[0, 0])
