"""Corridor travel times for one traveller profile and scenario, waits at posts included.

Roads are static, so the engine answers every road leg. Border posts open and close, so
crossing them is time-dependent: a traveller who reaches a closed post waits until it
opens, then clears it. Times across posts are found on the small graph of crossings,
whose legs come from the static engine (FIFO holds: arriving later never lets anyone
leave earlier, so label-correcting over the crossings is exact).
"""

from __future__ import annotations

import datetime as dt
import heapq
import logging
import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import coo_array, csr_array

from corridor_planner import cachefiles
from corridor_planner.bundle.posts import BorderPost
from corridor_planner.bundle.scenario import Scenario
from corridor_planner.errors import InvalidArgumentError, NoRouteError
from corridor_planner.network.graph import CorridorNetwork
from corridor_planner.network.roads import edge_kind, way_id
from corridor_planner.routing.engine import CHUNK_BYTES, TravelTimeEngine
from corridor_planner.schema.scenario import plausible_datetime_error

log = logging.getLogger(__name__)

#: Folder of a bundle where contraction hierarchies of its road graph are kept (large
#: graphs only: see ``engine.CH_MIN_NODES``); safe to delete. A bundle that cannot be
#: written keeps them in the user's cache (:func:`corridor_planner.cachefiles.bundle_cache_dir`).
HIERARCHY_CACHE = cachefiles.BUNDLE_CACHE


def changeable_ways(network: CorridorNetwork) -> frozenset[str]:
    """Ways some scenario of the corridor closes or slows (their times depend on it)."""
    scenarios = network.corridor.scenarios.values()
    return frozenset(way for s in scenarios for change in s.road_changes for way in change.ways)


def road_engine(network: CorridorNetwork) -> TravelTimeEngine:
    """Roads and access legs compiled once per network, shared by every profile and scenario.

    What depends on the question is left out: border posts (who crosses, when) and the
    ways a scenario closes or slows; :class:`CorridorTravelTimes` adds both back as
    crossings, so no scenario needs another engine (nor another contraction hierarchy).
    The graph must not change after :func:`build_network`. A large graph's hierarchy is
    saved in the network's cache folder (the bundle's ``.cache``, or the user's cache
    when the bundle cannot be written), keyed by the graph's SHA-256, so later commands
    reuse it.
    """
    if "road_engine" not in network.cache:
        held_out = changeable_ways(network)

        def weight(u: Any, v: Any, data: dict[str, Any]) -> float | None:
            if edge_kind(data) == "border_post" or way_id(data) in held_out:
                return None
            return float(data["travel_time"])

        network.cache["road_engine"] = TravelTimeEngine.from_graph(
            network.graph, weight, cache_dir=_hierarchy_folder(network)
        )
    engine: TravelTimeEngine = network.cache["road_engine"]
    return engine


def _hierarchy_folder(network: CorridorNetwork) -> Path | None:
    """Where the road engine keeps its hierarchy; None (not kept) if nowhere is writable."""
    if network.cache_dir is not None:
        return network.cache_dir
    try:
        return cachefiles.bundle_cache_dir(network.corridor.path)
    except OSError as exc:
        log.warning(
            "no cache folder for %s (%s): hierarchies are not kept", network.corridor.id, exc
        )
        return None


@dataclass(frozen=True)
class Crossing:
    """An edge whose time depends on the question: a border post, or a changeable road.

    For a post (``post`` set): one direction that this traveller may use, with its delay.
    For a road a scenario may close or slow (``post`` None): the edge under this scenario,
    with its travel time, ``name``, ``ref`` and ``km``.
    """

    post: BorderPost | None
    entry: int
    exit: int
    from_country: str
    to_country: str
    delay_s: float
    name: str = ""
    ref: str = ""
    km: float = 0.0


@dataclass(frozen=True)
class CrossingUse:
    """A crossing on a route: when the traveller reached it and how long they waited."""

    crossing: Crossing
    arrive_s: float
    wait_s: float


@dataclass
class MatrixParts:
    """What :meth:`CorridorTravelTimes.matrix` adds up, kept for questions beyond seconds.

    Attributes
    ----------
    road : numpy.ndarray
        ``origins x destinations``: seconds by road alone (no crossing).
    to_entries : numpy.ndarray
        ``origins x crossings``: road seconds to each crossing's entry.
    from_exits : numpy.ndarray
        ``crossings x destinations``: road seconds from each crossing's exit.
    exits : numpy.ndarray or None
        ``origins x crossings``: earliest seconds at each crossing's far side, waits
        included; None when there is no crossing.
    """

    road: np.ndarray
    to_entries: np.ndarray
    from_exits: np.ndarray
    exits: np.ndarray | None

    def seconds(self, cutoff: float | None = None) -> np.ndarray:
        """Return the seconds of each pair, crossings and waits included (as ``matrix``)."""
        return self.combine(self.road.copy(), cutoff)

    def combine(self, out: np.ndarray, cutoff: float | None = None) -> np.ndarray:
        """Lower ``out`` (road seconds) to the fastest way via crossings; return it."""
        if self.exits is not None:
            for c in range(self.exits.shape[1]):
                np.minimum(out, self.exits[:, c, None] + self.from_exits[None, c, :], out=out)
        if cutoff is not None:
            out[out > cutoff] = np.inf
        return out


@dataclass
class RoutedPath:
    """Nodes of a fastest route, its total seconds and the crossings it uses."""

    nodes: list[Hashable]
    seconds: float
    crossings: list[CrossingUse]


class CorridorTravelTimes:
    """Travel times over a corridor network for one profile, scenario and departure.

    Parameters
    ----------
    network : CorridorNetwork
        The built corridor graph.
    profile : str
        Traveller profile: decides which posts may be crossed and their delays.
    scenario : Scenario
        Border regimes and delay multipliers; its ``depart`` is used when ``depart`` is None.
    depart : datetime, optional
        Departure time. Without one (and none in the scenario), posts count as open.
    """

    def __init__(
        self,
        network: CorridorNetwork,
        profile: str,
        scenario: Scenario,
        depart: dt.datetime | None = None,
    ) -> None:
        self.network = network
        self.profile = profile
        self.scenario = scenario
        self.depart = depart if depart is not None else scenario.depart
        problem = plausible_datetime_error(self.depart) if self.depart is not None else None
        if problem:
            raise InvalidArgumentError(f"departure {self.depart:%Y-%m-%d %H:%M}: {problem}")
        self.roads = road_engine(network)
        self.crossings = self._usable_crossings()
        entries = [c.entry for c in self.crossings]
        exits = [c.exit for c in self.crossings]
        self._between = self.roads.matrix(exits, entries)  # exit of c -> entry of c2
        #: Answers already computed for these times (e.g. nearest-facility tables), by key.
        self.memo: dict[Hashable, Any] = {}

    def _usable_crossings(self) -> list[Crossing]:
        crossings = []
        graph = self.network.graph
        for post_id, edges in sorted(self.network.post_edges.items()):
            post = self.network.corridor.posts[post_id]
            for entry, exit_ in edges:
                (data,) = graph.get_edge_data(entry, exit_).values()
                seconds = self.scenario.crossing_seconds(
                    post, data["from_country"], data["to_country"], self.profile
                )
                if seconds is not None:
                    crossings.append(
                        Crossing(
                            post, entry, exit_, data["from_country"], data["to_country"], seconds
                        )
                    )
        return crossings + self._changeable_roads()

    def _changeable_roads(self) -> list[Crossing]:
        """Edges of the ways a scenario may change, as this scenario has them."""
        held_out = changeable_ways(self.network)
        if not held_out:
            return []
        factors = self.scenario.way_time_factors()
        links = []
        for u, v, data in self.network.graph.edges(data=True):
            way = way_id(data)
            if edge_kind(data) != "road" or way not in held_out:
                continue
            factor = factors.get(way, 1.0)
            if math.isinf(factor):
                continue  # closed under this scenario
            country = str(data.get("country", ""))
            links.append(
                Crossing(
                    None,
                    u,
                    v,
                    country,
                    country,
                    float(data["travel_time"]) * factor,
                    name=str(data.get("name", "")),
                    ref=str(data.get("ref", "")),
                    km=float(data["length"]) / 1000,
                )
            )
        return links

    # crossing one post ------------------------------------------------------------------

    def _wait(self, crossing: Crossing, arrive_s: float) -> float:
        if crossing.post is None or self.depart is None or not np.isfinite(arrive_s):
            return 0.0
        return crossing.post.wait_seconds(
            self.depart + dt.timedelta(seconds=float(arrive_s)),
            crossing.from_country,
            crossing.to_country,
        )

    def _cross(self, index: int, arrive: np.ndarray) -> np.ndarray:
        """Seconds at the far side of crossing ``index`` for each arrival time."""
        crossing = self.crossings[index]
        if self.depart is None:
            return arrive + crossing.delay_s
        waits = np.array([self._wait(crossing, t) for t in arrive])
        return arrive + waits + crossing.delay_s

    # matrices ---------------------------------------------------------------------------

    def exit_times(self, to_entries: np.ndarray) -> np.ndarray:
        """Earliest seconds after departure at each crossing's far side, per origin.

        Parameters
        ----------
        to_entries : numpy.ndarray
            ``origins x crossings``: road seconds from each origin to each crossing's entry.
        """
        n = len(self.crossings)
        rows = max(1, CHUNK_BYTES // (8 * max(1, n * n)))  # origins x crossings x crossings
        if len(to_entries) <= rows:
            return self._exit_times(to_entries)
        blocks = [
            self._exit_times(to_entries[s : s + rows]) for s in range(0, len(to_entries), rows)
        ]
        return np.concatenate(blocks)

    def _exit_times(self, to_entries: np.ndarray) -> np.ndarray:
        """:meth:`exit_times` of a block of origins (each row converges on its own)."""
        n = len(self.crossings)
        entry = to_entries.copy()
        exits = np.full_like(entry, np.inf)
        for _ in range(n + 1):
            new = np.column_stack([self._cross(c, entry[:, c]) for c in range(n)])
            if np.array_equal(new, exits):
                break
            exits = new
            onward = (exits[:, :, None] + self._between[None, :, :]).min(axis=1)
            entry = np.minimum(to_entries, onward)
        return exits

    def matrix(
        self,
        origins: Sequence[Hashable],
        destinations: Sequence[Hashable],
        cutoff: float | None = None,
    ) -> np.ndarray:
        """Seconds from each origin to each destination, crossings and waits included.

        Returns
        -------
        numpy.ndarray
            ``len(origins) x len(destinations)``; ``inf`` where unreachable for this
            traveller or beyond ``cutoff``.
        """
        parts = self.matrix_parts(origins, destinations)
        return parts.combine(parts.road, cutoff)

    def matrix_parts(
        self, origins: Sequence[Hashable], destinations: Sequence[Hashable]
    ) -> MatrixParts:
        """Return what :meth:`matrix` adds up: roads alone, and the legs to and from crossings.

        Kept for callers that need more than the seconds: which crossings (border posts)
        the fastest route of a pair uses (:meth:`crossings_used`), without routing it.
        """
        road = self.roads.matrix(origins, destinations)
        n = len(self.crossings) if len(origins) and len(destinations) else 0
        if not n:
            return MatrixParts(
                road, np.zeros((len(origins), 0)), np.zeros((0, len(destinations))), None
            )
        to_entries = self.roads.matrix(origins, [c.entry for c in self.crossings])
        from_exits = self.roads.matrix([c.exit for c in self.crossings], destinations)
        return MatrixParts(road, to_entries, from_exits, self.exit_times(to_entries))

    def crossings_used(
        self, to_entries: np.ndarray, from_exits: np.ndarray, direct: np.ndarray
    ) -> list[list[CrossingUse]]:
        """Crossings on the fastest route from one origin to each of a few destinations.

        The crossings (and their arrival times and waits) :meth:`route` would report for
        the same pairs, found with one label-setting pass for the origin and no road path.

        Parameters
        ----------
        to_entries : numpy.ndarray
            Road seconds from the origin to each crossing's entry (a row of
            :attr:`MatrixParts.to_entries`).
        from_exits : numpy.ndarray
            ``crossings x destinations``: road seconds from each crossing's exit.
        direct : numpy.ndarray
            Road-only seconds from the origin to each destination.

        Returns
        -------
        list of list of CrossingUse
            One list per destination, in order of passage; empty where the route
            crosses nothing.
        """
        if not self.crossings:
            return [[] for _ in direct]
        arrive, previous, exits = self._crossing_labels(to_entries)
        used = []
        for k, seconds in enumerate(direct):
            best = self._best_chain(previous, exits, from_exits[:, k], float(seconds))
            used.append(self._uses(best[0], arrive) if best else [])
        return used

    def nearest(
        self, origins: Sequence[Hashable], destinations: Sequence[Hashable]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Seconds from each origin to its nearest destination, and which one it is.

        The same numbers as ``matrix(origins, destinations).min(axis=1)`` without the
        dense matrix: the road part is one multi-source search rooted at the destinations
        on the reversed graph; crossings (border posts, changed roads) are added exactly
        as :meth:`matrix` adds them (origin to each crossing, then each crossing's exit to
        its nearest destination).

        Returns
        -------
        seconds : numpy.ndarray
            One per origin, ``inf`` where no destination can be reached.
        which : numpy.ndarray
            Position in ``destinations`` of the nearest (the first of equal nodes),
            ``-1`` where none is reached.
        """
        n = len(origins)
        if not n or not len(destinations):
            return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
        rows = self.roads.indices(origins)
        if len(np.unique(rows)) <= len(np.unique(self.roads.indices(destinations))):
            # few origins: the dense matrix is small, and searched from the origins
            dense = self.matrix(origins, destinations)
            best = dense.argmin(axis=1)
            seconds = dense[np.arange(n), best]
            return seconds, np.where(np.isfinite(seconds), best, -1)
        road, which = self.roads.nearest(destinations)
        seconds, which = road[rows], which[rows]
        if self.crossings:
            to_entries = self.roads.matrix(origins, [c.entry for c in self.crossings])
            from_exits = self.roads.matrix([c.exit for c in self.crossings], destinations)
            onward = from_exits.argmin(axis=1)
            after = from_exits[np.arange(len(onward)), onward]
            via = self.exit_times(to_entries) + after[None, :]
            best_via = via.argmin(axis=1)
            via_seconds = via[np.arange(n), best_via]
            via_which = onward[best_via]
            better = via_seconds < seconds
            tie = (via_seconds == seconds) & np.isfinite(seconds)
            which = np.where(better, via_which, which)
            which = np.where(tie, np.minimum(which, via_which), which)
            seconds = np.minimum(seconds, via_seconds)
        return seconds, np.where(np.isfinite(seconds), which, -1)

    def within(
        self, origins: Sequence[Hashable], destinations: Sequence[Hashable], cutoff: float
    ) -> csr_array:
        """Seconds of the origin-destination pairs within ``cutoff``, crossings included.

        The entries of ``matrix(origins, destinations, cutoff)`` that are finite, as a
        sparse matrix (zeros stored: a stored entry is a pair within the cutoff): bounded
        road searches, plus the crossings' legs that stay within the cutoff.
        """
        shape = (len(origins), len(destinations))
        road = self.roads.within(origins, destinations, cutoff).tocoo()
        if not self.crossings or not shape[0] or not shape[1]:
            return csr_array(road)
        rows, cols, secs = [road.row], [road.col], [road.data]
        to_entries = self.roads.matrix(origins, [c.entry for c in self.crossings])
        from_exits = self.roads.matrix([c.exit for c in self.crossings], destinations)
        exits = self.exit_times(to_entries)
        for c in range(len(self.crossings)):
            near = np.flatnonzero(exits[:, c] <= cutoff)
            far = np.flatnonzero(from_exits[c] <= cutoff)
            if not len(near) or not len(far):
                continue
            total = exits[near, c, None] + from_exits[None, c, far]
            i, j = np.nonzero(total <= cutoff)
            rows.append(near[i])
            cols.append(far[j])
            secs.append(total[i, j])
        return _min_per_pair(
            np.concatenate(rows), np.concatenate(cols), np.concatenate(secs), shape
        )

    # one route --------------------------------------------------------------------------

    def route(self, origin: Hashable, destination: Hashable) -> RoutedPath:
        """Fastest route between two nodes, with the crossings used and their waits.

        Raises
        ------
        NoRouteError
            If the destination cannot be reached by this traveller.
        """
        direct = self.roads.time(origin, destination)
        to_entries = self.roads.matrix([origin], [c.entry for c in self.crossings])[0]
        from_exits = self.roads.matrix([c.exit for c in self.crossings], [destination])[:, 0]
        arrive, previous, exits = self._crossing_labels(to_entries)
        best = self._best_chain(previous, exits, from_exits, direct)
        if best is not None:
            return self._stitch(origin, destination, best[0], arrive, best[1])
        if not np.isfinite(direct):
            raise NoRouteError(f"no route from node {origin!r} to node {destination!r}")
        return RoutedPath(self.roads.path(origin, destination), direct, [])

    def _best_chain(
        self, previous: list[int], exits: np.ndarray, from_exits: np.ndarray, direct: float
    ) -> tuple[list[int], float] | None:
        """Crossings (in order) of the fastest way via crossings, if faster than ``direct``."""
        if not self.crossings:
            return None
        via = exits + from_exits
        if not via.min() < direct:
            return None
        chain = [int(np.argmin(via))]
        while previous[chain[-1]] >= 0:
            chain.append(previous[chain[-1]])
        chain.reverse()
        return chain, float(via.min())

    def _uses(self, chain: list[int], arrive: np.ndarray) -> list[CrossingUse]:
        """Return the crossings of ``chain``, when each is reached and the wait there."""
        return [
            CrossingUse(
                self.crossings[c], float(arrive[c]), self._wait(self.crossings[c], arrive[c])
            )
            for c in chain
        ]

    def _crossing_labels(self, to_entries: np.ndarray) -> tuple[np.ndarray, list[int], np.ndarray]:
        """Label-setting over crossings for one origin: arrival, predecessor, exit time."""
        n = len(self.crossings)
        arrive = to_entries.astype(float).copy()
        previous = [-1] * n
        exits = np.full(n, np.inf)
        heap = [(t, c) for c, t in enumerate(arrive) if np.isfinite(t)]
        heapq.heapify(heap)
        done = np.zeros(n, dtype=bool)
        while heap:
            t, c = heapq.heappop(heap)
            if done[c] or t > arrive[c]:
                continue
            done[c] = True
            exits[c] = self._cross(c, np.array([t]))[0]
            onward = exits[c] + self._between[c]
            for c2 in np.flatnonzero(~done & (onward < arrive)):  # ascending, as pushed before
                arrive[c2], previous[c2] = onward[c2], c
                heapq.heappush(heap, (float(onward[c2]), int(c2)))
        return arrive, previous, exits

    def _stitch(
        self,
        origin: Hashable,
        destination: Hashable,
        chain: list[int],
        arrive: np.ndarray,
        seconds: float,
    ) -> RoutedPath:
        nodes: list[Hashable] = [origin]
        here = origin
        for c in chain:
            crossing = self.crossings[c]
            nodes += self.roads.path(here, crossing.entry)[1:]
            nodes.append(crossing.exit)
            here = crossing.exit
        nodes += self.roads.path(here, destination)[1:]
        return RoutedPath(nodes, seconds, self._uses(chain, arrive))


def _min_per_pair(
    rows: np.ndarray, cols: np.ndarray, seconds: np.ndarray, shape: tuple[int, int]
) -> csr_array:
    """Build a sparse matrix holding the smallest of the times given for each pair."""
    order = np.lexsort((seconds, cols, rows))
    rows, cols, seconds = rows[order], cols[order], seconds[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    return csr_array(coo_array((seconds[first], (rows[first], cols[first])), shape=shape))
