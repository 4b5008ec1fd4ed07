"""Contraction hierarchies: exact shortest travel times for wide matrices on large graphs.

Nodes are contracted one by one in the order of a priority (edge difference plus the
number of contracted neighbours, updated lazily); contracting a node adds a shortcut
between two of its neighbours unless a bounded witness search finds another path no
longer than the one through it. Queries then only search "upward": the many-to-many
matrix uses buckets (Knopp et al. 2007), so a 10,000 x 500 matrix costs 10,500 small
searches. Everything runs in numba-compiled code; forward searches run in parallel over
sources. Distances equal Dijkstra's up to the order of floating-point sums.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numba as nb
import numpy as np

#: A witness search gives up after settling this many nodes (the shortcut is then added:
#: never wrong, at worst one shortcut too many).
WITNESS_SETTLE_LIMIT = 60
INF = np.inf
#: A popped node is contracted unless its fresh priority exceeds the next one by more than
#: this (lazy updates: fewer re-pushes for almost the same order).
LAZY_SLACK = 2.0
FILE_VERSION = 1


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
def _witness(
    source,
    skip,
    limit,
    target_mark,
    targets_left,
    out_head,
    out_next,
    e_to,
    e_w,
    contracted,
    dist,
    touched,
    heap_k,
    heap_i,
):  # type: ignore[no-untyped-def]
    """Dijkstra from ``source`` avoiding ``skip`` up to ``limit``; fills ``dist``."""
    n_touched = 0
    dist[source] = 0.0
    touched[n_touched] = source
    n_touched += 1
    size = _heap_push(heap_k, heap_i, 0, 0.0, source)
    settled = 0
    while size > 0 and settled < WITNESS_SETTLE_LIMIT and targets_left > 0:
        d, u, size = _heap_pop(heap_k, heap_i, size)
        if d > dist[u]:
            continue
        if d > limit:
            break
        settled += 1
        if target_mark[u]:
            targets_left -= 1
        e = out_head[u]
        while e >= 0:
            w = e_to[e]
            if w != skip and not contracted[w]:
                nd = d + e_w[e]
                if nd < dist[w] and size < len(heap_k):
                    if dist[w] == INF:
                        touched[n_touched] = w
                        n_touched += 1
                    dist[w] = nd
                    size = _heap_push(heap_k, heap_i, size, nd, w)
            e = out_next[e]
    return n_touched


@nb.njit(cache=True)
def _live_neighbours(v, head, nxt, other, e_w, contracted, slot):  # type: ignore[no-untyped-def]
    """Distinct live neighbours of ``v`` along one list (out or in), each at its best weight.

    Edges to contracted nodes are unlinked from the list as they are met (they are never
    needed again while contracting), which keeps the lists of late nodes short.
    """
    degree = 0
    e = head[v]
    while e >= 0:
        degree += 1
        e = nxt[e]
    nodes = np.empty(degree, dtype=np.int64)
    weights = np.empty(degree, dtype=np.float64)
    count = 0
    previous = -1
    e = head[v]
    while e >= 0:
        x = other[e]
        following = nxt[e]
        if contracted[x]:
            if previous < 0:
                head[v] = following
            else:
                nxt[previous] = following
            e = following
            continue
        if x != v:
            k = slot[x]
            if k < 0:
                slot[x] = count
                nodes[count], weights[count] = x, e_w[e]
                count += 1
            elif e_w[e] < weights[k]:
                weights[k] = e_w[e]
        previous = e
        e = following
    for k in range(count):
        slot[nodes[k]] = -1
    return nodes[:count], weights[:count]


@nb.njit(cache=True)
def _find_shortcuts(
    v,
    out_head,
    out_next,
    in_head,
    in_next,
    e_from,
    e_to,
    e_w,
    contracted,
    dist,
    touched,
    heap_k,
    heap_i,
    target_mark,
    su,
    sw,
    sl,
    slot,
):  # type: ignore[no-untyped-def]
    """Shortcuts that contracting ``v`` needs (into su, sw, sl, grown if needed).

    Returns the number of shortcuts, the number of live neighbours (edges removed), and
    the three arrays.
    """
    outs, out_w = _live_neighbours(v, out_head, out_next, e_to, e_w, contracted, slot)
    ins, in_w = _live_neighbours(v, in_head, in_next, e_from, e_w, contracted, slot)
    count = 0
    for a in range(len(ins)):
        u, via = ins[a], in_w[a]
        limit = 0.0
        left = 0
        for k in range(len(outs)):
            if outs[k] != u:
                target_mark[outs[k]] = True
                left += 1
                limit = max(limit, via + out_w[k])
        if left == 0:
            continue
        n_touched = _witness(
            u,
            v,
            limit,
            target_mark,
            left,
            out_head,
            out_next,
            e_to,
            e_w,
            contracted,
            dist,
            touched,
            heap_k,
            heap_i,
        )
        for k in range(len(outs)):
            w = outs[k]
            target_mark[w] = False
            if w == u or dist[w] <= via + out_w[k]:
                continue  # a witness path is no longer than the path through v
            su = _grow(su, count + 1)
            sw = _grow(sw, count + 1)
            sl = _grow(sl, count + 1)
            su[count], sw[count], sl[count] = u, w, via + out_w[k]
            count += 1
        for t in range(n_touched):
            dist[touched[t]] = INF
    return count, len(outs) + len(ins), su, sw, sl


@nb.njit(cache=True)
def _add_edge(
    u, w, length, mid, out_head, out_next, in_head, in_next, e_from, e_to, e_w, e_mid, n_edges
):  # type: ignore[no-untyped-def]
    """Add (or improve) the edge u -> w; return the (grown) arrays and the edge count."""
    f = out_head[u]
    while f >= 0:
        if e_to[f] == w:
            if length < e_w[f]:
                e_w[f], e_mid[f] = length, mid
            return out_next, in_next, e_from, e_to, e_w, e_mid, n_edges
        f = out_next[f]
    e_from = _grow(e_from, n_edges + 1)
    e_to = _grow(e_to, n_edges + 1)
    e_w = _grow(e_w, n_edges + 1)
    e_mid = _grow(e_mid, n_edges + 1)
    out_next = _grow(out_next, n_edges + 1)
    in_next = _grow(in_next, n_edges + 1)
    e_from[n_edges], e_to[n_edges], e_w[n_edges], e_mid[n_edges] = u, w, length, mid
    out_next[n_edges] = out_head[u]
    out_head[u] = n_edges
    in_next[n_edges] = in_head[w]
    in_head[w] = n_edges
    return out_next, in_next, e_from, e_to, e_w, e_mid, n_edges + 1


@nb.njit(cache=True)
def _contract_all(n, tails, heads, weights):  # type: ignore[no-untyped-def]
    """Contract every node; return the order (rank) and the final edges with shortcuts."""
    m = len(tails)
    cap = 2 * m + 16
    e_from = np.empty(cap, dtype=np.int64)
    e_to = np.empty(cap, dtype=np.int64)
    e_w = np.empty(cap, dtype=np.float64)
    e_mid = np.full(cap, -1, dtype=np.int64)
    out_next = np.empty(cap, dtype=np.int64)
    in_next = np.empty(cap, dtype=np.int64)
    out_head = np.full(n, -1, dtype=np.int64)
    in_head = np.full(n, -1, dtype=np.int64)
    out_degree = np.zeros(n, dtype=np.int64)
    in_degree = np.zeros(n, dtype=np.int64)
    for i in range(m):
        e_from[i], e_to[i], e_w[i], e_mid[i] = tails[i], heads[i], weights[i], -1
        out_next[i] = out_head[tails[i]]
        out_head[tails[i]] = i
        in_next[i] = in_head[heads[i]]
        in_head[heads[i]] = i
        out_degree[tails[i]] += 1
        in_degree[heads[i]] += 1
    n_edges = m
    contracted = np.zeros(n, dtype=np.bool_)
    neighbours_done = np.zeros(n, dtype=np.int64)
    level = np.zeros(n, dtype=np.int64)
    dist = np.full(n, INF)
    touched = np.empty(n, dtype=np.int64)
    target_mark = np.zeros(n, dtype=np.bool_)
    slot = np.full(n, -1, dtype=np.int64)
    heap_k = np.empty(64 * WITNESS_SETTLE_LIMIT + 64, dtype=np.float64)
    heap_i = np.empty(len(heap_k), dtype=np.int64)
    su = np.empty(64, dtype=np.int64)
    sw = np.empty(64, dtype=np.int64)
    sl = np.empty(64, dtype=np.float64)
    queue_k = np.empty(4 * n + 16, dtype=np.float64)
    queue_i = np.empty(4 * n + 16, dtype=np.int64)
    size = 0
    for v in range(n):  # a cheap first guess; each pop computes the real priority
        guess = float(in_degree[v] * out_degree[v] - in_degree[v] - out_degree[v])
        size = _heap_push(queue_k, queue_i, size, guess, v)
    rank = np.full(n, -1, dtype=np.int64)
    order = 0
    while size > 0:
        _, v, size = _heap_pop(queue_k, queue_i, size)
        if contracted[v]:
            continue
        count, removed, su, sw, sl = _find_shortcuts(
            v,
            out_head,
            out_next,
            in_head,
            in_next,
            e_from,
            e_to,
            e_w,
            contracted,
            dist,
            touched,
            heap_k,
            heap_i,
            target_mark,
            su,
            sw,
            sl,
            slot,
        )
        priority = float(2 * (count - removed) + neighbours_done[v] + level[v])
        if size > 0 and priority > queue_k[0] + LAZY_SLACK:
            if size + 1 >= len(queue_k):
                queue_k = _grow(queue_k, 2 * len(queue_k))
                queue_i = _grow(queue_i, 2 * len(queue_i))
            size = _heap_push(queue_k, queue_i, size, priority, v)
            continue
        for k in range(count):
            out_next, in_next, e_from, e_to, e_w, e_mid, n_edges = _add_edge(
                su[k],
                sw[k],
                sl[k],
                v,
                out_head,
                out_next,
                in_head,
                in_next,
                e_from,
                e_to,
                e_w,
                e_mid,
                n_edges,
            )
        contracted[v] = True
        rank[v] = order
        order += 1
        e = out_head[v]
        while e >= 0:
            neighbours_done[e_to[e]] += 1
            level[e_to[e]] = max(level[e_to[e]], level[v] + 1)
            e = out_next[e]
        e = in_head[v]
        while e >= 0:
            neighbours_done[e_from[e]] += 1
            level[e_from[e]] = max(level[e_from[e]], level[v] + 1)
            e = in_next[e]
    return rank, e_from[:n_edges], e_to[:n_edges], e_w[:n_edges], e_mid[:n_edges]


# the hierarchy and its queries ----------------------------------------------------------


def _csr(n: int, keys: np.ndarray, *columns: np.ndarray) -> tuple[np.ndarray, ...]:
    order = np.argsort(keys, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(indptr, keys + 1, 1)
    return (np.cumsum(indptr), *(c[order] for c in columns))


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

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.rank)

    @classmethod
    def build(cls, n: int, tails: np.ndarray, heads: np.ndarray, weights: np.ndarray) -> Hierarchy:
        """Contract a graph given as edge arrays (parallel edges are fine)."""
        keep = tails != heads
        rank, e_from, e_to, e_w, e_mid = _contract_all(
            n,
            np.ascontiguousarray(tails[keep], dtype=np.int64),
            np.ascontiguousarray(heads[keep], dtype=np.int64),
            np.ascontiguousarray(weights[keep], dtype=np.float64),
        )
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
        )
        out[out > cutoff] = INF
        return out

    # persistence --------------------------------------------------------------------------

    def save(self, path: Path) -> Path:
        """Save the arrays to ``path`` (.npz, no pickle), written whole or not at all."""
        tmp = path.with_name(f".{path.name}.tmp.npz")
        arrays = {k: v for k, v in self.__dict__.items() if isinstance(v, np.ndarray)}
        arrays["version"] = np.array([FILE_VERSION])
        arrays["key"] = np.array([self.key])
        np.savez(tmp, **arrays)  # type: ignore[arg-type]
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: Path, key: str) -> Hierarchy | None:
        """Load a saved hierarchy, or None if absent, unreadable or for another graph."""
        try:
            with np.load(path, allow_pickle=False) as data:
                if int(data["version"][0]) != FILE_VERSION or str(data["key"][0]) != key:
                    return None
                names = [n for n in cls.__dataclass_fields__ if n != "key"]
                return cls(**{n: data[n] for n in names}, key=key)
        except (OSError, KeyError, ValueError):
            return None


def graph_key(n: int, tails: np.ndarray, heads: np.ndarray, weights: np.ndarray) -> str:
    """SHA-256 of a graph's arrays: a saved hierarchy is used only for the same graph."""
    digest = hashlib.sha256(np.array([n], dtype=np.int64).tobytes())
    for array, kind in ((tails, np.int64), (heads, np.int64), (weights, np.float64)):
        digest.update(np.ascontiguousarray(array, dtype=kind).tobytes())
    return digest.hexdigest()


def cached(
    folder: Path, n: int, tails: np.ndarray, heads: np.ndarray, weights: np.ndarray
) -> Hierarchy:
    """Return a graph's hierarchy from ``folder`` if saved there, else build and save it."""
    key = graph_key(n, tails, heads, weights)
    path = folder / f"hierarchy-{key[:16]}.npz"
    found = Hierarchy.load(path, key) if path.exists() else None
    if found is not None:
        return found
    built = Hierarchy.build(n, tails, heads, weights)
    folder.mkdir(parents=True, exist_ok=True)
    built.save(path)
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


@nb.njit(parallel=True, nogil=True)
def _scan_buckets(
    n, sources, n_targets, ptr, to, w, s_ptr, s_other, s_w, b_ptr, b_target, b_dist, cutoff
):  # type: ignore[no-untyped-def]
    out = np.full((len(sources), n_targets), INF)
    chunks = nb.get_num_threads()
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
