"""Contraction hierarchies: exact shortest travel times for wide matrices on large graphs.

Nodes are contracted one by one in the order of a priority (edge difference plus the
number of contracted neighbours plus level, updated lazily); contracting a node adds a
shortcut between two of its neighbours unless a bounded witness search finds another path
no longer than the one through it. A high-degree node's witness searches run in parallel.
Queries then only search "upward": the many-to-many matrix uses buckets (Knopp et al.
2007), so a 10,000 x 500 matrix costs 10,500 small searches. Everything runs in
numba-compiled code; forward searches run in parallel over sources. Distances equal
Dijkstra's up to the order of floating-point sums.
"""

from __future__ import annotations

import hashlib
import logging
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numba as nb
import numpy as np

from corridor_planner import cachefiles

log = logging.getLogger(__name__)

#: A witness search gives up after settling this many nodes (the shortcut is then added:
#: never wrong, at worst one shortcut too many).
WITNESS_SETTLE_LIMIT = 60
INF = np.inf
#: A popped node is contracted unless its fresh priority exceeds the next one by more than
#: this (lazy updates: fewer re-pushes for almost the same order).
LAZY_SLACK = 2.0
#: A node's witness searches run in parallel when it has at least this many
#: (in-neighbour, out-neighbour) pairs; fewer are not worth waking the threads.
PARALLEL_WORK = 16
FILE_VERSION = 1
#: Upward searches sampled (both ways) to estimate what one search costs (``search_work``).
WORK_SAMPLE = 32


# a binary heap of (key, item) in preallocated arrays -------------------------------------


@nb.njit(cache=True)
def _heap_push(keys, items, size, key, item):  # type: ignore[no-untyped-def]
    i = size
    keys[i], items[i] = key, item
    while i > 0:
        parent = (i - 1) // 2
        if keys[parent] <= keys[i]:
            break
        keys[parent], keys[i] = keys[i], keys[parent]
        items[parent], items[i] = items[i], items[parent]
        i = parent
    return size + 1


@nb.njit(cache=True)
def _heap_pop(keys, items, size):  # type: ignore[no-untyped-def]
    key, item = keys[0], items[0]
    size -= 1
    keys[0], items[0] = keys[size], items[size]
    i = 0
    while True:
        left, right, smallest = 2 * i + 1, 2 * i + 2, i
        if left < size and keys[left] < keys[smallest]:
            smallest = left
        if right < size and keys[right] < keys[smallest]:
            smallest = right
        if smallest == i:
            break
        keys[smallest], keys[i] = keys[i], keys[smallest]
        items[smallest], items[i] = items[i], items[smallest]
        i = smallest
    return key, item, size


# contraction ------------------------------------------------------------------------------


@nb.njit(cache=True)
def _grow(array, needed):  # type: ignore[no-untyped-def]
    if needed <= len(array):
        return array
    bigger = np.empty(max(needed, 2 * len(array)), dtype=array.dtype)
    bigger[: len(array)] = array
    return bigger


@nb.njit(cache=True)
def _bucket_order(n, keys):  # type: ignore[no-untyped-def]
    """Return CSR pointers by key and a stable order (a counting sort)."""
    indptr = np.zeros(n + 1, dtype=np.int64)
    for k in keys:
        indptr[k + 1] += 1
    for v in range(n):
        indptr[v + 1] += indptr[v]
    fill = indptr[:-1].copy()
    order = np.empty(len(keys), dtype=np.int64)
    for i in range(len(keys)):
        order[fill[keys[i]]] = i
        fill[keys[i]] += 1
    return indptr, order


@nb.njit(cache=True)
def _distinct_edges(n, tails, heads, weights):  # type: ignore[no-untyped-def]
    """Return the edges by tail, without loops, and of parallel edges only the shortest."""
    _, order = _bucket_order(n, tails)
    where = np.full(n, -1, dtype=np.int64)  # position of head in the current tail's edges
    t = np.empty(len(tails), dtype=np.int64)
    h = np.empty(len(tails), dtype=np.int64)
    w = np.empty(len(tails), dtype=np.float64)
    count = 0
    begin = 0
    for i in order:
        u, x = tails[i], heads[i]
        if count > begin and t[count - 1] != u:
            for k in range(begin, count):
                where[h[k]] = -1
            begin = count
        if u == x:
            continue
        k = where[x]
        if k >= 0:
            w[k] = min(w[k], weights[i])
            continue
        where[x] = count
        t[count], h[count], w[count] = u, x, weights[i]
        count += 1
    return t[:count], h[:count], w[:count]


@nb.njit(cache=True, nogil=True)
def _witnesses(
    v,
    a,
    offset,
    out_start,
    out_len,
    out_to,
    out_w,
    in_from,
    in_w,
    dist,
    touched,
    heap_k,
    heap_i,
    bound,
    su,
    sw,
    sl,
):  # type: ignore[no-untyped-def]
    """Shortcuts u -> v -> w that contracting ``v`` needs, for its in-edge at ``a`` (u -> v).

    A bounded Dijkstra from u that avoids v looks for witnesses: paths to each w no longer
    than through v. It stops once every w is settled or reached within its bound, past the
    largest bound, or after ``WITNESS_SETTLE_LIMIT`` settled nodes (the shortcut is then
    added: never wrong, at worst one too many). Returns the number of shortcuts, written
    into su, sw, sl from ``offset`` on (at most one per out-neighbour of v).
    """
    u, via = in_from[a], in_w[a]
    limit = 0.0
    left = 0
    for k in range(out_start[v], out_start[v] + out_len[v]):
        w = out_to[k]
        if w != u:
            bound[w] = via + out_w[k]
            left += 1
            limit = max(limit, via + out_w[k])
    n_touched = 1
    dist[u] = 0.0
    touched[0] = u
    size = _heap_push(heap_k, heap_i, 0, 0.0, u)
    settled = 0
    while size > 0 and settled < WITNESS_SETTLE_LIMIT and left > 0:
        d, x, size = _heap_pop(heap_k, heap_i, size)
        if d > dist[x]:
            continue
        if d > limit:
            break
        settled += 1
        if bound[x] >= 0.0:  # settled beyond its bound: no witness for this one
            bound[x] = -1.0
            left -= 1
        for e in range(out_start[x], out_start[x] + out_len[x]):
            y = out_to[e]
            nd = d + out_w[e]
            if nd < dist[y] and y != v and size < len(heap_k):
                if dist[y] == INF:
                    touched[n_touched] = y
                    n_touched += 1
                dist[y] = nd
                size = _heap_push(heap_k, heap_i, size, nd, y)
                if nd <= bound[y]:  # a witness: done with y
                    bound[y] = -1.0
                    left -= 1
    count = 0
    for k in range(out_start[v], out_start[v] + out_len[v]):
        w = out_to[k]
        bound[w] = -1.0
        through = via + out_w[k]
        if w == u or dist[w] <= through:
            continue  # a witness path is no longer than the path through v
        su[offset + count], sw[offset + count], sl[offset + count] = u, w, through
        count += 1
    for t in range(n_touched):
        dist[touched[t]] = INF
    return count


@nb.njit(cache=True, parallel=True)
def _simulate(
    v,
    n_out,
    out_start,
    out_len,
    out_to,
    out_w,
    in_start,
    in_len,
    in_from,
    in_w,
    dist,
    touched,
    heap_k,
    heap_i,
    bound,
    su,
    sw,
    sl,
):  # type: ignore[no-untyped-def]
    """``_witnesses`` for each in-edge of ``v`` in parallel, one scratch row per thread.

    Only reads the graph; in-edge ``j`` writes its shortcuts from slot ``j * n_out`` on.
    """
    n_in = in_len[v]
    counts = np.zeros(n_in, dtype=np.int64)
    chunks = dist.shape[0]
    for c in nb.prange(chunks):
        for j in range(c, n_in, chunks):
            counts[j] = _witnesses(
                v,
                in_start[v] + j,
                j * n_out,
                out_start,
                out_len,
                out_to,
                out_w,
                in_from,
                in_w,
                dist[c],
                touched[c],
                heap_k[c],
                heap_i[c],
                bound[c],
                su,
                sw,
                sl,
            )
    return counts


@nb.njit(cache=True)
def _append(v, x, w, eid, start, length, cap, to, wt, ids, top):  # type: ignore[no-untyped-def]
    """Append (x, w, eid) to v's adjacency block, moving the block to the end if full."""
    if length[v] == cap[v]:
        new_cap = max(4, 2 * cap[v])
        to = _grow(to, top + new_cap)
        wt = _grow(wt, top + new_cap)
        ids = _grow(ids, top + new_cap)
        s = start[v]
        to[top : top + length[v]] = to[s : s + length[v]]
        wt[top : top + length[v]] = wt[s : s + length[v]]
        ids[top : top + length[v]] = ids[s : s + length[v]]
        start[v], cap[v] = top, new_cap
        top += new_cap
    k = start[v] + length[v]
    to[k], wt[k], ids[k] = x, w, eid
    length[v] += 1
    return to, wt, ids, top


@nb.njit(cache=True)
def _remove(v, x, start, length, to, wt, ids):  # type: ignore[no-untyped-def]
    """Remove x from v's adjacency block (the last entry takes its place)."""
    last = start[v] + length[v] - 1
    for k in range(start[v], last + 1):
        if to[k] == x:
            to[k], wt[k], ids[k] = to[last], wt[last], ids[last]
            length[v] -= 1
            return


@nb.njit(cache=True)
def _contract_all(n, tails, heads, weights, n_threads):  # type: ignore[no-untyped-def]
    """Contract every node; return the order (rank) and the final edges with shortcuts.

    The edges must be distinct and without loops (``_distinct_edges``). Each node's live
    edges, both ways, are kept in a block of a pool (moved to the end when full), so
    contracted nodes are never scanned again. A node's witness searches (one per in-edge)
    run in parallel once there are enough of them (``PARALLEL_WORK``).
    """
    m = len(tails)
    e_from = np.empty(m + m // 2 + 16, dtype=np.int64)
    e_to = np.empty(len(e_from), dtype=np.int64)
    e_w = np.empty(len(e_from), dtype=np.float64)
    e_mid = np.empty(len(e_from), dtype=np.int64)
    e_from[:m], e_to[:m], e_w[:m], e_mid[:m] = tails, heads, weights, -1
    n_edges = m
    out_len = np.zeros(n, dtype=np.int64)
    in_len = np.zeros(n, dtype=np.int64)
    for i in range(m):
        out_len[tails[i]] += 1
        in_len[heads[i]] += 1
    out_cap, in_cap = out_len + 2, in_len + 2
    out_start = np.zeros(n, dtype=np.int64)
    in_start = np.zeros(n, dtype=np.int64)
    out_start[1:], in_start[1:] = np.cumsum(out_cap)[:-1], np.cumsum(in_cap)[:-1]
    out_top, in_top = out_cap.sum(), in_cap.sum()
    out_to = np.empty(out_top + out_top // 2 + 16, dtype=np.int64)
    out_w = np.empty(len(out_to), dtype=np.float64)
    out_id = np.empty(len(out_to), dtype=np.int64)
    in_from = np.empty(in_top + in_top // 2 + 16, dtype=np.int64)
    in_w = np.empty(len(in_from), dtype=np.float64)
    in_id = np.empty(len(in_from), dtype=np.int64)
    out_len[:] = 0
    in_len[:] = 0
    for i in range(m):
        u, w = tails[i], heads[i]
        k = out_start[u] + out_len[u]
        out_to[k], out_w[k], out_id[k] = w, weights[i], i
        out_len[u] += 1
        k = in_start[w] + in_len[w]
        in_from[k], in_w[k], in_id[k] = u, weights[i], i
        in_len[w] += 1

    contracted = np.zeros(n, dtype=np.bool_)
    neighbours_done = np.zeros(n, dtype=np.int64)
    level = np.zeros(n, dtype=np.int64)
    heap_cap = 64 * WITNESS_SETTLE_LIMIT + 64
    dist = np.full((n_threads, n), INF)
    touched = np.empty((n_threads, n + 1), dtype=np.int64)
    heap_k = np.empty((n_threads, heap_cap), dtype=np.float64)
    heap_i = np.empty((n_threads, heap_cap), dtype=np.int64)
    bound = np.full((n_threads, n), -1.0)
    su = np.empty(64, dtype=np.int64)
    sw = np.empty(64, dtype=np.int64)
    sl = np.empty(64, dtype=np.float64)
    item_counts = np.empty(64, dtype=np.int64)
    queue_k = np.empty(4 * n + 16, dtype=np.float64)
    queue_i = np.empty(4 * n + 16, dtype=np.int64)
    size = 0
    for v in range(n):  # a cheap first guess; each pop computes the real priority
        guess = float(in_len[v] * out_len[v] - in_len[v] - out_len[v])
        size = _heap_push(queue_k, queue_i, size, guess, v)
    rank = np.full(n, -1, dtype=np.int64)
    order = 0
    while size > 0:
        _, v, size = _heap_pop(queue_k, queue_i, size)
        if contracted[v]:
            continue
        # simulate: the shortcuts of in-edge j go to slots j * n_out onwards
        n_in, n_out = in_len[v], out_len[v]
        su = _grow(su, n_in * n_out)
        sw = _grow(sw, n_in * n_out)
        sl = _grow(sl, n_in * n_out)
        item_counts = _grow(item_counts, n_in)
        if n_in * n_out >= PARALLEL_WORK and n_threads > 1:
            item_counts[:n_in] = _simulate(
                v,
                n_out,
                out_start,
                out_len,
                out_to,
                out_w,
                in_start,
                in_len,
                in_from,
                in_w,
                dist,
                touched,
                heap_k,
                heap_i,
                bound,
                su,
                sw,
                sl,
            )
        else:
            for j in range(n_in):
                item_counts[j] = _witnesses(
                    v,
                    in_start[v] + j,
                    j * n_out,
                    out_start,
                    out_len,
                    out_to,
                    out_w,
                    in_from,
                    in_w,
                    dist[0],
                    touched[0],
                    heap_k[0],
                    heap_i[0],
                    bound[0],
                    su,
                    sw,
                    sl,
                )
        count = item_counts[:n_in].sum()
        priority = float(2 * (count - n_in - n_out) + neighbours_done[v] + level[v])
        if size > 0 and priority > queue_k[0] + LAZY_SLACK:
            if size + 1 >= len(queue_k):
                queue_k = _grow(queue_k, 2 * len(queue_k))
                queue_i = _grow(queue_i, 2 * len(queue_i))
            size = _heap_push(queue_k, queue_i, size, priority, v)
            continue
        # contract: add the shortcuts, then unlink v from its neighbours
        for j in range(n_in):
            for k in range(j * n_out, j * n_out + item_counts[j]):
                u, w, length = su[k], sw[k], sl[k]
                found = False
                for e in range(out_start[u], out_start[u] + out_len[u]):
                    if out_to[e] == w:
                        found = True
                        if length < out_w[e]:  # a shortcut replaces a longer edge
                            out_w[e] = length
                            e_w[out_id[e]], e_mid[out_id[e]] = length, v
                            for f in range(in_start[w], in_start[w] + in_len[w]):
                                if in_from[f] == u:
                                    in_w[f] = length
                                    break
                        break
                if found:
                    continue
                e_from = _grow(e_from, n_edges + 1)
                e_to = _grow(e_to, n_edges + 1)
                e_w = _grow(e_w, n_edges + 1)
                e_mid = _grow(e_mid, n_edges + 1)
                e_from[n_edges], e_to[n_edges] = u, w
                e_w[n_edges], e_mid[n_edges] = length, v
                out_to, out_w, out_id, out_top = _append(
                    u, w, length, n_edges, out_start, out_len, out_cap, out_to, out_w,
                    out_id, out_top,
                )  # fmt: skip
                in_from, in_w, in_id, in_top = _append(
                    w, u, length, n_edges, in_start, in_len, in_cap, in_from, in_w, in_id,
                    in_top,
                )  # fmt: skip
                n_edges += 1
        contracted[v] = True
        rank[v] = order
        order += 1
        for e in range(out_start[v], out_start[v] + out_len[v]):
            x = out_to[e]
            _remove(x, v, in_start, in_len, in_from, in_w, in_id)
            neighbours_done[x] += 1
            level[x] = max(level[x], level[v] + 1)
        for e in range(in_start[v], in_start[v] + in_len[v]):
            x = in_from[e]
            _remove(x, v, out_start, out_len, out_to, out_w, out_id)
            neighbours_done[x] += 1
            level[x] = max(level[x], level[v] + 1)
    return rank, e_from[:n_edges], e_to[:n_edges], e_w[:n_edges], e_mid[:n_edges]


# the hierarchy and its queries ----------------------------------------------------------


def _csr(n: int, keys: np.ndarray, *columns: np.ndarray) -> tuple[np.ndarray, ...]:
    indptr, order = _bucket_order(n, np.ascontiguousarray(keys, dtype=np.int64))
    return (indptr, *(c[order] for c in columns))


@dataclass
class Hierarchy:
    """A contracted graph: node ranks, upward and downward CSR graphs, shortcut middles.

    ``up_*``: edges u -> w with rank[w] > rank[u], by u. ``down_*``: edges u -> w with
    rank[u] > rank[w], stored by w (the backward search climbs them from w to u).
    """

    rank: np.ndarray
    up_ptr: np.ndarray
    up_to: np.ndarray
    up_w: np.ndarray
    up_mid: np.ndarray
    down_ptr: np.ndarray
    down_from: np.ndarray
    down_w: np.ndarray
    down_mid: np.ndarray
    key: str = ""
    _work: tuple[float, float] | None = field(default=None, repr=False, compare=False)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.rank)

    def search_work(self) -> tuple[float, float]:
        """Edges one upward search scans on average: (forward, backward).

        Measured once on ``WORK_SAMPLE`` nodes picked with a fixed seed, so the estimate,
        and the backend it leads the engine to, is the same on every run. A matrix costs
        about one such search per source and per target; a Dijkstra, the whole graph per
        search from the smaller side. On a grid-like graph, whose hierarchy has a dense
        top, an upward search scans a tenth of the graph; on a road network, far less.
        """
        if self._work is None:
            starts = np.random.default_rng(0).integers(0, max(self.n_nodes, 1), WORK_SAMPLE)
            if self.n_nodes == 0:
                self._work = (0.0, 0.0)
            else:
                forward = _search_sizes(
                    self.n_nodes, starts, self.up_ptr, self.up_to, self.up_w,
                    self.down_ptr, self.down_from, self.down_w,
                )  # fmt: skip
                backward = _search_sizes(
                    self.n_nodes, starts, self.down_ptr, self.down_from, self.down_w,
                    self.up_ptr, self.up_to, self.up_w,
                )  # fmt: skip
                self._work = (float(forward.mean()), float(backward.mean()))
        return self._work

    @classmethod
    def build(cls, n: int, tails: np.ndarray, heads: np.ndarray, weights: np.ndarray) -> Hierarchy:
        """Contract a graph given as edge arrays (parallel edges are fine)."""
        t, h, w = _distinct_edges(
            n,
            np.ascontiguousarray(tails, dtype=np.int64),
            np.ascontiguousarray(heads, dtype=np.int64),
            np.ascontiguousarray(weights, dtype=np.float64),
        )
        rank, e_from, e_to, e_w, e_mid = _contract_all(n, t, h, w, nb.get_num_threads())
        up = rank[e_to] > rank[e_from]
        up_ptr, up_to, up_w, up_mid = _csr(n, e_from[up], e_to[up], e_w[up], e_mid[up])
        down = ~up
        down_ptr, down_from, down_w, down_mid = _csr(
            n, e_to[down], e_from[down], e_w[down], e_mid[down]
        )
        return cls(
            rank,
            up_ptr,
            up_to,
            up_w,
            up_mid,
            down_ptr,
            down_from,
            down_w,
            down_mid,
            key=graph_key(n, tails, heads, weights),
        )

    def matrix(self, sources: np.ndarray, targets: np.ndarray, cutoff: float = INF) -> np.ndarray:
        """Seconds from each source to each target (node indices); ``inf`` past ``cutoff``."""
        sources = np.ascontiguousarray(sources, dtype=np.int64)
        targets = np.ascontiguousarray(targets, dtype=np.int64)
        if len(sources) == 0 or len(targets) == 0:
            return np.full((len(sources), len(targets)), INF)
        b_node, b_target, b_dist = _fill_buckets(
            self.n_nodes,
            targets,
            self.down_ptr,
            self.down_from,
            self.down_w,
            self.up_ptr,
            self.up_to,
            self.up_w,
            float(cutoff),
        )
        b_ptr, b_target, b_dist = _csr(self.n_nodes, b_node, b_target, b_dist)
        out = _scan_buckets(
            self.n_nodes,
            sources,
            len(targets),
            self.up_ptr,
            self.up_to,
            self.up_w,
            self.down_ptr,
            self.down_from,
            self.down_w,
            b_ptr,
            b_target,
            b_dist,
            float(cutoff),
            nb.get_num_threads(),
        )
        out[out > cutoff] = INF
        return out

    # persistence --------------------------------------------------------------------------

    def save(self, path: Path) -> Path:
        """Save the arrays to ``path`` (.npz, no pickle), written whole or not at all.

        The arrays go to a temporary file of a unique name beside ``path``, renamed over
        it once complete: a reader sees the old file or the new one, never part of one.
        """
        arrays = {k: v for k, v in self.__dict__.items() if isinstance(v, np.ndarray)}
        arrays["version"] = np.array([FILE_VERSION])
        arrays["key"] = np.array([self.key])

        def write(handle: BinaryIO) -> None:
            np.savez(handle, **arrays)  # type: ignore[arg-type]

        return cachefiles.write_atomically(path, write)

    @classmethod
    def load(cls, path: Path, key: str, *, warn: bool = True) -> Hierarchy | None:
        """Load a saved hierarchy, or None if absent, damaged or for another graph.

        A file that exists but cannot be used (truncated, not an ``.npz``, another
        ``FILE_VERSION`` or graph) is logged as a warning naming it when ``warn``.
        """
        try:
            with np.load(path, allow_pickle=False) as data:
                version, stored = int(data["version"][0]), str(data["key"][0])
                if version != FILE_VERSION or stored != key:
                    why = (
                        f"file version {version}, not {FILE_VERSION}"
                        if version != FILE_VERSION
                        else "made for another graph"
                    )
                    if warn:
                        log.warning("contraction hierarchy %s: %s; building it again", path, why)
                    return None
                names = [n for n in cls.__dataclass_fields__ if n not in ("key", "_work")]
                return cls(**{n: data[n] for n in names}, key=key)
        except FileNotFoundError:
            return None
        except (OSError, zipfile.BadZipFile, EOFError, ValueError, KeyError, IndexError) as exc:
            if warn:
                log.warning(
                    "contraction hierarchy %s is damaged (%s: %s); building it again",
                    path,
                    type(exc).__name__,
                    exc,
                )
            return None


def search_threads() -> int:
    """Threads a matrix's forward searches share (numba's, at least one)."""
    return max(1, int(nb.get_num_threads()))


def graph_key(n: int, tails: np.ndarray, heads: np.ndarray, weights: np.ndarray) -> str:
    """SHA-256 of a graph's arrays: a saved hierarchy is used only for the same graph."""
    digest = hashlib.sha256(np.array([n], dtype=np.int64).tobytes())
    for array, kind in ((tails, np.int64), (heads, np.int64), (weights, np.float64)):
        digest.update(np.ascontiguousarray(array, dtype=kind).tobytes())
    return digest.hexdigest()


def cached(
    folder: Path, n: int, tails: np.ndarray, heads: np.ndarray, weights: np.ndarray
) -> Hierarchy:
    """Return a graph's hierarchy from ``folder`` if saved there, else build and save it.

    The file is saved as soon as it is built. Processes that need the same hierarchy at
    once build it once: the first holds a lock beside the file while it builds, the
    others wait, then load what it saved. A damaged file is rebuilt with a warning.
    """
    key = graph_key(n, tails, heads, weights)
    path = folder / f"hierarchy-{key[:16]}.npz"
    found = Hierarchy.load(path, key, warn=False)  # unlocked: a saved file is complete
    if found is not None:
        return found
    folder.mkdir(parents=True, exist_ok=True)
    with cachefiles.file_lock(path.with_name(path.name + ".lock")):
        found = Hierarchy.load(path, key)
        if found is not None:
            return found
        built = Hierarchy.build(n, tails, heads, weights)
        try:
            built.save(path)
        except OSError as exc:
            log.warning("could not save the contraction hierarchy to %s: %s", path, exc)
    return built


@nb.njit(cache=True)
def _upward(start, ptr, to, w, s_ptr, s_other, s_w, cutoff, dist, stalled, touched, heap_k, heap_i):  # type: ignore[no-untyped-def]
    """Upward Dijkstra from ``start`` with stall-on-demand; returns how many nodes it touched.

    A node is stalled when a higher node already reached gives it a shorter distance
    through the edge between them (``s_*``: the edges into it from above, for a forward
    search; out of it to above, for a backward one). A stalled node's distance is not its
    true one: it is neither expanded nor used in buckets.
    """
    n_touched = 1
    dist[start] = 0.0
    touched[0] = start
    size = _heap_push(heap_k, heap_i, 0, 0.0, start)
    while size > 0:
        d, u, size = _heap_pop(heap_k, heap_i, size)
        if d > dist[u] or d > cutoff:
            continue
        for e in range(s_ptr[u], s_ptr[u + 1]):
            if dist[s_other[e]] + s_w[e] < d:
                stalled[u] = True
                break
        if stalled[u]:
            continue
        for e in range(ptr[u], ptr[u + 1]):
            x = to[e]
            nd = d + w[e]
            if nd < dist[x]:
                if dist[x] == INF:
                    touched[n_touched] = x
                    n_touched += 1
                dist[x] = nd
                size = _heap_push(heap_k, heap_i, size, nd, x)
    return n_touched


@nb.njit(cache=True)
def _search_sizes(n, starts, ptr, to, w, s_ptr, s_other, s_w):  # type: ignore[no-untyped-def]
    """Edges each upward search from ``starts`` scans (nodes reached plus their edges)."""
    dist = np.full(n, INF)
    stalled = np.zeros(n, dtype=np.bool_)
    touched = np.empty(n, dtype=np.int64)
    heap_k = np.empty(len(to) + 1, dtype=np.float64)
    heap_i = np.empty(len(to) + 1, dtype=np.int64)
    sizes = np.zeros(len(starts))
    for i in range(len(starts)):
        n_touched = _upward(
            starts[i], ptr, to, w, s_ptr, s_other, s_w, INF, dist, stalled, touched, heap_k,
            heap_i,
        )  # fmt: skip
        scanned = n_touched
        for t in range(n_touched):
            x = touched[t]
            if not stalled[x]:
                scanned += ptr[x + 1] - ptr[x]
            dist[x] = INF
            stalled[x] = False
        sizes[i] = scanned
    return sizes


@nb.njit(cache=True)
def _fill_buckets(n, targets, ptr, frm, w, s_ptr, s_other, s_w, cutoff):  # type: ignore[no-untyped-def]
    dist = np.full(n, INF)
    stalled = np.zeros(n, dtype=np.bool_)
    touched = np.empty(n, dtype=np.int64)
    heap_k = np.empty(len(frm) + 1, dtype=np.float64)  # one push per improving relaxation
    heap_i = np.empty(len(frm) + 1, dtype=np.int64)
    nodes = np.empty(0, dtype=np.int64)
    which = np.empty(0, dtype=np.int64)
    dists = np.empty(0, dtype=np.float64)
    count = 0
    for j in range(len(targets)):
        n_touched = _upward(
            targets[j],
            ptr,
            frm,
            w,
            s_ptr,
            s_other,
            s_w,
            cutoff,
            dist,
            stalled,
            touched,
            heap_k,
            heap_i,
        )
        nodes = _grow(nodes, count + n_touched)
        which = _grow(which, count + n_touched)
        dists = _grow(dists, count + n_touched)
        for t in range(n_touched):
            x = touched[t]
            if dist[x] <= cutoff and not stalled[x]:
                nodes[count], which[count], dists[count] = x, j, dist[x]
                count += 1
            dist[x] = INF
            stalled[x] = False
    return nodes[:count], which[:count], dists[:count]


@nb.njit(cache=True, parallel=True, nogil=True)
def _scan_buckets(
    n, sources, n_targets, ptr, to, w, s_ptr, s_other, s_w, b_ptr, b_target, b_dist, cutoff, chunks
):  # type: ignore[no-untyped-def]
    out = np.full((len(sources), n_targets), INF)
    per = (len(sources) + chunks - 1) // chunks
    for c in nb.prange(chunks):
        dist = np.full(n, INF)
        stalled = np.zeros(n, dtype=np.bool_)
        touched = np.empty(n, dtype=np.int64)
        heap_k = np.empty(len(to) + 1, dtype=np.float64)  # one push per improving relaxation
        heap_i = np.empty(len(to) + 1, dtype=np.int64)
        for i in range(c * per, min(len(sources), (c + 1) * per)):
            n_touched = _upward(
                sources[i],
                ptr,
                to,
                w,
                s_ptr,
                s_other,
                s_w,
                cutoff,
                dist,
                stalled,
                touched,
                heap_k,
                heap_i,
            )
            for t in range(n_touched):
                x = touched[t]
                dx = dist[x]
                if stalled[x]:
                    stalled[x] = False
                    dist[x] = INF
                    continue
                for b in range(b_ptr[x], b_ptr[x + 1]):
                    total = dx + b_dist[b]
                    j = b_target[b]
                    if total < out[i, j]:
                        out[i, j] = total
                dist[x] = INF
    return out
