"""Pieces of a road network: the largest strongly connected one, and those cut off from it.

Real extracts fall apart: a one-way street mapped the wrong way, a gated estate, a road
cut by the clip area. A point attached to such a piece can reach nothing, or nothing can
reach it. As osmnx does, the network keeps the largest strongly connected component (a
traveller can get from every node of it to every other) and reports what it leaves out.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from corridor_planner.network.roads import edge_kind

#: Piece number of the largest strongly connected component.
MAIN_PIECE = 0


@dataclass
class Pieces:
    """The strongly connected pieces of a road graph, largest first.

    Attributes
    ----------
    piece_of : dict
        ``{road node: piece number}``, 0 for the largest piece.
    nodes : list of int
        Nodes in each piece, by piece number.
    km : list of float
        Road length within each piece (a two-way road counted once).
    between_km : float
        Road length joining two pieces (one way only, so in none; left out with them).
    kept_all : bool
        True when the network keeps every piece (``keep_all_pieces``).
    posts_left_out : list of str
        Border posts whose edges lie off the largest piece (dropped with it).
    """

    piece_of: dict[Hashable, int] = field(default_factory=dict)
    nodes: list[int] = field(default_factory=list)
    km: list[float] = field(default_factory=list)
    between_km: float = 0.0
    kept_all: bool = False
    posts_left_out: list[str] = field(default_factory=list)

    @property
    def left_out(self) -> int:
        """Number of pieces other than the largest."""
        return max(len(self.nodes) - 1, 0)

    @property
    def left_out_nodes(self) -> int:
        """Road nodes outside the largest piece."""
        return sum(self.nodes[1:])

    @property
    def left_out_km(self) -> float:
        """Road length not within the largest piece (km)."""
        return sum(self.km[1:]) + self.between_km

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready counts (``pieces``, ``left_out``, ``left_out_nodes``, ``left_out_km``)."""
        return {
            "pieces": len(self.nodes),
            "kept_all": self.kept_all,
            "main_nodes": self.nodes[0] if self.nodes else 0,
            "main_km": round(self.km[0], 1) if self.km else 0.0,
            "left_out": self.left_out,
            "left_out_nodes": self.left_out_nodes,
            "left_out_km": round(self.left_out_km, 1),
            "posts_left_out": list(self.posts_left_out),
        }

    def text(self) -> str:
        """One line for ``validate`` and the import summary."""
        if not self.left_out:
            return "road network: one connected piece (every node reaches every other)"
        what = "kept (keep_all_pieces)" if self.kept_all else "left out"
        line = (
            f"road network: largest connected piece {self.nodes[0]:,} nodes, "
            f"{self.km[0]:,.1f} km; {self.left_out:,} pieces cut off from it {what}: "
            f"{self.left_out_nodes:,} nodes, {self.left_out_km:,.1f} km"
        )
        if self.posts_left_out:
            line += f"; border posts on them dropped: {', '.join(self.posts_left_out)}"
        return line

    def describe(self, piece: int) -> str:
        """Size of one piece, for a reason why no route exists."""
        return f"{self.nodes[piece]:,} nodes, {self.km[piece]:,.1f} km of road"


def road_pieces(graph: nx.MultiDiGraph) -> Pieces:
    """Strongly connected pieces of a graph's roads and posts, largest first.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        Road graph with ``length`` (m) on its edges; border-post edges count as roads (a
        post a scenario closes is a reason for no route, not a missing road).

    Returns
    -------
    Pieces
    """
    components = sorted(
        nx.strongly_connected_components(graph), key=lambda c: (-len(c), min(map(repr, c)))
    )
    piece_of = {node: index for index, component in enumerate(components) for node in component}
    metres = [0.0] * len(components)
    between = 0.0
    for u, v, data in graph.edges(data=True):
        if edge_kind(data) != "road":
            continue
        share = float(data.get("length", 0.0)) / (2.0 if graph.has_edge(v, u) else 1.0)
        if piece_of[u] == piece_of[v]:
            metres[piece_of[u]] += share
        else:
            between += share
    return Pieces(
        piece_of=piece_of,
        nodes=[len(c) for c in components],
        km=[m / 1000.0 for m in metres],
        between_km=between / 1000.0,
    )


def keep_main_piece(
    graph: nx.MultiDiGraph, pieces: Pieces, post_edges: dict[str, list[tuple[int, int]]]
) -> None:
    """Remove every node off the largest piece (in place), and the posts that lie there."""
    graph.remove_nodes_from([n for n, p in pieces.piece_of.items() if p != MAIN_PIECE])
    for post_id in sorted(post_edges):
        if any(u not in graph or v not in graph for u, v in post_edges[post_id]):
            pieces.posts_left_out.append(post_id)
            del post_edges[post_id]


def piece_of_node(graph: nx.MultiDiGraph, pieces: Pieces, node: Hashable) -> int | None:
    """Piece of a road node, or of the road a node added by snapping lies on.

    Nodes added by snapping (feet of perpendiculars, point nodes) were not counted; the
    first counted node along the roads leaving them gives their piece.
    """
    seen = {node}
    frontier = [node]
    while frontier:
        for current in frontier:
            if current in pieces.piece_of:
                return pieces.piece_of[current]
        frontier = [n for c in frontier for n in graph.successors(c) if n not in seen]
        seen.update(frontier)
    return None


def pieces_of_nodes(
    graph: nx.MultiDiGraph, pieces: Pieces, nodes: list[Hashable]
) -> list[int | None]:
    """:func:`piece_of_node` for many nodes, in one pass over the graph when it can be.

    With only the largest piece kept (the default), every counted node is in it, so a
    node's piece is ``MAIN_PIECE`` when it can reach a counted node at all and None
    otherwise: one search backwards from the counted nodes answers every node, where a
    search per node grows with the square of the points snapped onto one long road.
    With every piece kept, each node is searched on its own.
    """
    counted = {n for n in graph if n in pieces.piece_of}
    if {pieces.piece_of[n] for n in counted} - {MAIN_PIECE}:
        return [piece_of_node(graph, pieces, n) for n in nodes]
    reaching = set(counted)
    frontier = list(counted)
    while frontier:
        frontier = [p for n in frontier for p in graph.predecessors(n) if p not in reaching]
        reaching.update(frontier)
    return [MAIN_PIECE if n in reaching else None for n in nodes]
