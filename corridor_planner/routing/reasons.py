"""Why no route exists: a piece of road cut off, a closed post, a profile, a closed road.

A traveller who cannot reach a place deserves the cause, not a guess. The search runs on
the graph as built: first with every road and post open (if the destination is still out
of reach, the roads themselves do not join: a piece cut off from the rest); then without
the edges the question closes (posts closed under the scenario, posts this profile may
not cross, posts that never open, roads the scenario closes). The closed edges on the
edge of what the traveller can reach, and that lead on towards the destination, are the
causes named.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Hashable, Iterable
from typing import Any

import networkx as nx

from corridor_planner.bundle.posts import BorderPost
from corridor_planner.network.pieces import MAIN_PIECE, piece_of_node
from corridor_planner.network.roads import edge_kind, way_id
from corridor_planner.routing.traveltimes import CorridorTravelTimes

Blocked = dict[tuple[Hashable, Hashable], str]


def why_unreachable(
    times: CorridorTravelTimes,
    sources: Iterable[Hashable],
    targets: Iterable[Hashable],
    origin: str = "the origin",
    destination: str = "the destination",
) -> str:
    """Name the cause of no route from any of ``sources`` to any of ``targets``.

    Parameters
    ----------
    times : CorridorTravelTimes
        The profile, scenario and departure of the question.
    sources, targets : iterable of hashable
        Graph nodes the traveller may start from and end at.
    origin, destination : str
        Labels for the message.

    Returns
    -------
    str
        One clause, e.g. ``"border post Torugart is closed under scenario
        borders_closed"`` or ``"Hospital X lies on a piece of road cut off from the rest
        (12 nodes, 1.4 km of road; no road leads out of it)"``.
    """
    return Explainer(times, targets, destination).why(list(sources), origin)[0]


class Explainer:
    """Causes of no route to a fixed set of targets, for many origins (access, referrals).

    Parameters
    ----------
    times : CorridorTravelTimes
        The profile, scenario and departure of the question.
    targets : iterable of hashable
        Graph nodes of the destinations.
    destination : str
        Label of the destinations for the message.
    """

    def __init__(
        self, times: CorridorTravelTimes, targets: Iterable[Hashable], destination: str
    ) -> None:
        self.times = times
        self.targets = list(targets)
        self.destination = destination
        graph = times.network.graph
        self.reach_back = _search(graph.pred, self.targets, {})
        self._blocked: Blocked | None = None
        self._seen: list[tuple[set[Hashable], str]] = []

    def why(self, sources: list[Hashable], origin: str) -> tuple[str, set[Hashable]]:
        """Cause of no route from ``sources``, and the nodes they can reach."""
        if not sources or not self.targets:
            return "no way onto the road network", set(sources)
        for reached, cause in self._seen:  # an origin inside a place already explained
            if all(s in reached for s in sources):
                return cause, reached
        if not any(s in self.reach_back for s in sources):
            cause = _cut_off(self.times, sources, self.targets, origin, self.destination)
            return cause, set(sources)
        if self._blocked is None:
            self._blocked = _blocked_edges(self.times)
        blocked = self._blocked
        reached = _search(self.times.network.graph.succ, sources, blocked)
        causes = sorted(
            {
                why
                for (u, v), why in blocked.items()
                if u in reached and v not in reached and v in self.reach_back
            }
        )
        cause = "; ".join(causes) or "no road leads there for this traveller"
        self._seen.append((reached, cause))
        return cause, reached


def _search(adjacency: Any, starts: Iterable[Hashable], blocked: Blocked) -> set[Hashable]:
    """Nodes reached from ``starts`` over ``adjacency`` without crossing ``blocked`` edges."""
    seen = set(starts)
    queue = deque(seen)
    while queue:
        node = queue.popleft()
        for other in adjacency[node]:
            if other in seen or (node, other) in blocked:
                continue
            seen.add(other)
            queue.append(other)
    return seen


def _cut_off(
    times: CorridorTravelTimes,
    sources: list[Hashable],
    targets: list[Hashable],
    origin: str,
    destination: str,
) -> str:
    """Say which end lies on a piece of road cut off (the roads themselves do not join)."""
    network = times.network
    pieces = network.pieces
    graph = network.graph
    start = {piece_of_node(graph, pieces, s) for s in sources} - {None}
    end = {piece_of_node(graph, pieces, t) for t in targets} - {None}
    parts = []
    for label, found, verb in ((origin, start, "leads out of"), (destination, end, "leads into")):
        off = sorted(p for p in found if p is not None and p != MAIN_PIECE)
        if off and MAIN_PIECE not in found:
            parts.append(
                f"{label} lies on a piece of road cut off from the rest "
                f"({pieces.describe(off[0])}; no road {verb} it)"
            )
    if parts:
        return "; ".join(parts)
    return f"no road (one-way streets included) joins {origin} to {destination}"


def _blocked_edges(times: CorridorTravelTimes) -> Blocked:
    """Edges this question closes, each with the reason it is closed."""
    network, scenario = times.network, times.scenario
    graph: nx.MultiDiGraph = network.graph
    usable = {(c.entry, c.exit): c for c in times.crossings if c.post is not None}
    blocked: Blocked = {}
    for post_id, edges in network.post_edges.items():
        post = network.corridor.posts[post_id]
        for entry, exit_ in edges:
            crossing = usable.get((entry, exit_))
            if crossing is None:
                (data,) = graph.get_edge_data(entry, exit_).values()
                blocked[(entry, exit_)] = _post_reason(
                    post, times, data["from_country"], data["to_country"]
                )
            elif times.depart is not None and math.isinf(
                post.wait_seconds(times.depart, crossing.from_country, crossing.to_country)
            ):
                blocked[(entry, exit_)] = (
                    f"border post {post.name} does not open within a year of "
                    f"{times.depart:%Y-%m-%d} (season {post.season or 'all year'}, "
                    f"hours {post.opening_hours})"
                )
    closed = {way for way, factor in scenario.way_time_factors().items() if math.isinf(factor)}
    if closed:
        reasons = {way: change.reason for change in scenario.road_changes for way in change.ways}
        for u, v, data in graph.edges(data=True):
            way = way_id(data)
            if edge_kind(data) == "road" and way in closed and not _open_twin(graph, u, v, closed):
                name = str(data.get("name") or data.get("ref") or "a road")
                why = f": {reasons[way]}" if reasons.get(way) else ""
                blocked[(u, v)] = (
                    f"road {name} (way {way}) is closed under scenario {scenario.name}{why}"
                )
    return blocked


def _open_twin(graph: nx.MultiDiGraph, u: Hashable, v: Hashable, closed: set[str]) -> bool:
    """Tell whether a parallel road edge u -> v of another, open way exists."""
    return any(
        edge_kind(d) == "road" and way_id(d) not in closed
        for d in graph.get_edge_data(u, v).values()
    )


def _post_reason(post: BorderPost, times: CorridorTravelTimes, origin: str, to: str) -> str:
    """Why a post edge is shut to this traveller under this scenario."""
    scenario, profile = times.scenario, times.profile
    if post.closed:
        return f"border post {post.name} ({origin}->{to}) is closed: no post operates there"
    regime = scenario.regime(post.id)
    if regime == "closed":
        return f"border post {post.name} is closed under scenario {scenario.name}"
    if not scenario.lets_cross(post.id, profile):
        allowed = ", ".join(sorted(scenario.restricted_profiles))
        return (
            f"border post {post.name} is restricted under scenario {scenario.name} "
            f"(only {allowed} cross)"
        )
    if profile not in post.profiles_allowed:
        allowed = ", ".join(sorted(post.profiles_allowed))
        return (
            f"border post {post.name} does not let a {profile} traveller through ({allowed} only)"
        )
    return (
        f"border post {post.name} gives no clearance time for a {profile} traveller "
        f"going {origin}->{to}"
    )
