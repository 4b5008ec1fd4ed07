"""Attach points to the nearest point on a road: split the road there, join by an access leg.

A settlement 9 km from a long road segment is 9 km from the road, not 10 km from the
segment's nearer end. Snapping therefore projects each point onto the nearest road edge
of its country, splits that edge at the foot of the perpendicular (both directions of a
two-way road), and joins the point to the new node by an access leg. A point given as
``lat,lon`` on the command line is not added to the graph: it enters the road at both
ends of its nearest edge, with the part of the edge it travels added to its time.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
from shapely import STRtree
from shapely.geometry import LineString, Point
from shapely.ops import substring

from corridor_planner import settings, units
from corridor_planner.network.roads import edge_kind

#: A foot of perpendicular this close (m) to a road node attaches to that node, with no
#: split: a few metres along a road change no travel time worth reporting (a 0.0 km leg).
SAME_PLACE_M = 50.0

POINT_KINDS = ("facility", "settlement", "candidate")

Edge = tuple[Hashable, Hashable, int]


@dataclass(frozen=True)
class RoadPoint:
    """The nearest point on a road to a given point.

    Attributes
    ----------
    edges : tuple of (u, v, key)
        The directed edges of the road segment (one for a one-way road, two otherwise),
        the first running from ``start`` to ``end``.
    fraction : float
        Position of the foot along the first edge, 0 at ``start`` and 1 at ``end``.
    distance_m : float
        Perpendicular distance from the point to the road.
    """

    edges: tuple[Edge, ...]
    fraction: float
    distance_m: float


@dataclass(frozen=True)
class Entry:
    """One way onto (or off) the road network from a point that is not a graph node.

    Attributes
    ----------
    node : hashable
        Road node reached.
    seconds, metres : float
        Along the road edge from the foot of the perpendicular to ``node`` (or back).
    edge : (u, v, key) or None
        The edge travelled (None for a named place, already a graph node).
    """

    node: Hashable
    seconds: float
    metres: float
    edge: Edge | None


class RoadIndex:
    """Spatial index of road segments of a projected graph, per country and for all.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        Projected graph (metres).
    """

    def __init__(self, graph: nx.MultiDiGraph) -> None:
        self.graph = graph
        segments: dict[tuple[Any, ...], list[Edge]] = defaultdict(list)
        for u, v, key, data in graph.edges(keys=True, data=True):
            if edge_kind(data) != "road":
                continue
            segments[_segment_key(u, v, data)].append((u, v, key))
        self.segments = [tuple(edges) for edges in segments.values()]
        self.lines = [edge_line(graph, *edges[0]) for edges in self.segments]
        self.countries = [graph.edges[edges[0]].get("country") for edges in self.segments]
        self._trees: dict[str | None, tuple[STRtree, np.ndarray]] = {}

    def _tree(self, country: str | None) -> tuple[STRtree, np.ndarray] | None:
        if country not in self._trees:
            members = np.array(
                [i for i, c in enumerate(self.countries) if country is None or c == country],
                dtype=np.int64,
            )
            if len(members) == 0:
                return None
            self._trees[country] = (STRtree([self.lines[i] for i in members]), members)
        return self._trees[country]

    def nearest(self, x: float, y: float, country: str | None = None) -> RoadPoint | None:
        """Nearest point on a road (of ``country``, or any) to ``(x, y)``; None if none."""
        found = self._tree(country)
        if found is None:
            return None
        tree, members = found
        point = Point(x, y)
        index = members[int(tree.query_nearest(point, all_matches=False)[0])]
        line = self.lines[index]
        return RoadPoint(
            edges=self.segments[index],
            fraction=float(line.project(point, normalized=True)) if line.length > 0 else 0.0,
            distance_m=float(line.distance(point)),
        )

    def entries(self, road_point: RoadPoint, leaving: bool) -> list[Entry]:
        """Ways from a road point onto the network (``leaving``) or from it (arriving).

        Leaving, a traveller drives along each directed edge to its head; arriving, from
        each edge's tail to the foot of the perpendicular.
        """
        first_tail = road_point.edges[0][0]
        out = []
        for u, v, key in road_point.edges:
            data = self.graph.edges[u, v, key]
            along = road_point.fraction if u == first_tail else 1.0 - road_point.fraction
            share = (1.0 - along) if leaving else along
            node = v if leaving else u
            out.append(
                Entry(node, share * float(data["travel_time"]), share * data["length"], (u, v, key))
            )
        return out


def edge_line(graph: nx.MultiDiGraph, u: Hashable, v: Hashable, key: int) -> LineString:
    """Geometry of an edge: its ``geometry`` attribute, else the straight line u -> v."""
    data = graph.edges[u, v, key]
    geometry = data.get("geometry")
    if geometry is not None:
        return geometry
    return LineString([(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in (u, v)])


def _segment_key(u: Hashable, v: Hashable, data: dict[str, Any]) -> tuple[Any, ...]:
    """Key shared by the two directions of one road segment."""
    ends = tuple(sorted((u, v), key=repr))
    return (*ends, str(data.get("osmid")), round(float(data.get("length_geometric", 0.0)), 3))


# splitting edges -------------------------------------------------------------------------


def split_roads(
    graph: nx.MultiDiGraph, feet: Iterable[tuple[RoadPoint, Point]], next_node: int
) -> tuple[list[Hashable], int]:
    """Split road segments at the feet of perpendiculars; return the node of each foot.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        Projected graph, changed in place.
    feet : iterable of (RoadPoint, Point)
        Where each point meets the road, and the point itself.
    next_node : int
        First free node id.

    Returns
    -------
    nodes : list
        The road node each foot is attached at (a new node, or an end within
        ``SAME_PLACE_M``), in the order of ``feet``.
    next_node : int
        The next free node id.
    """
    feet = list(feet)
    by_segment: dict[tuple[Edge, ...], list[int]] = defaultdict(list)
    nodes: list[Hashable] = [None] * len(feet)
    for i, (road_point, _) in enumerate(feet):
        by_segment[road_point.edges].append(i)
    for edges, members in by_segment.items():
        length = edge_line(graph, *edges[0]).length
        cuts: dict[float, Hashable] = {}
        for i in members:
            fraction = feet[i][0].fraction
            metres_from_start = fraction * length
            if metres_from_start <= SAME_PLACE_M:
                nodes[i] = edges[0][0]
            elif length - metres_from_start <= SAME_PLACE_M:
                nodes[i] = edges[0][1]
            else:
                key = round(fraction, 9)
                if key not in cuts:
                    cuts[key] = next_node
                    next_node += 1
                nodes[i] = cuts[key]
        if cuts:
            _split_segment(graph, edges, sorted(cuts.items()))
    return nodes, next_node


def _split_segment(
    graph: nx.MultiDiGraph, edges: tuple[Edge, ...], cuts: list[tuple[float, Hashable]]
) -> None:
    """Replace each directed edge of a segment by a chain through the cut nodes."""
    start = edges[0][0]
    line = edge_line(graph, *edges[0])
    for fraction, node in cuts:
        foot = line.interpolate(fraction, normalized=True)
        data = graph.edges[edges[0]]
        graph.add_node(node, x=foot.x, y=foot.y, country=data.get("country"))
    for u, v, key in edges:
        data = dict(graph.edges[u, v, key])
        own = edge_line(graph, u, v, key)
        forward = u == start
        stops = [(f if forward else 1.0 - f, n) for f, n in cuts]
        stops.sort()
        chain = [(0.0, u), *stops, (1.0, v)]
        graph.remove_edge(u, v, key)
        for (f0, a), (f1, b) in itertools.pairwise(chain):
            share = f1 - f0
            piece = dict(data)
            piece["length"] = data["length"] * share
            piece["length_geometric"] = (
                float(data.get("length_geometric") or data["length"]) * share
            )
            piece["travel_time"] = max(data["travel_time"] * share, settings.MIN_EDGE_SECONDS)
            piece["geometry"] = substring(own, f0, f1, normalized=True)
            graph.add_edge(a, b, **piece)


# attaching points ------------------------------------------------------------------------


def within_snap_limit(metres: float, snap_limit_m: float) -> bool:
    """Tell whether a point this far from a road is attached to it (the one snap rule).

    Used for the bundle's points (facilities, settlements, candidates) and for a
    ``lat,lon`` a user names alike; the limit is the corridor's ``snap_limit_m``.
    """
    return bool(metres <= snap_limit_m)


def snap_points(
    graph: nx.MultiDiGraph,
    tables: Iterable[tuple[str, gpd.GeoDataFrame]],
    crs: Any,
    snap_limit_m: float,
) -> gpd.GeoDataFrame:
    """Attach facilities, settlements and candidates to the nearest road of their country.

    Each point within ``snap_limit_m`` of a road of its country becomes a node (``kind``,
    ``ref``) joined by an access leg, both ways, at ``ACCESS_SPEED_KPH`` to the foot of
    the perpendicular on that road (the road is split there). A farther point is reported
    with ``snapped=False`` and not attached.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        Projected graph, changed in place.
    tables : iterable of (kind, GeoDataFrame)
        Points (WGS84) with ``id``, ``name`` and ``country``.
    crs : pyproj.CRS
        The graph's CRS.
    snap_limit_m : float
        Farthest a point may lie from a road.

    Returns
    -------
    GeoDataFrame
        One row per point: ``kind``, ``id``, ``name``, ``country``, ``node`` (None if not
        attached), ``road_node``, ``access_m``, ``snapped``; geometry in ``crs``.
    """
    index = RoadIndex(graph)
    rows: list[dict[str, Any]] = []
    feet: list[tuple[RoadPoint, Point]] = []
    for kind, table in tables:
        for feature in table.to_crs(crs).itertuples():
            point = feature.geometry
            road_point = index.nearest(point.x, point.y, feature.country)
            metres = road_point.distance_m if road_point is not None else math.inf
            row = {
                "kind": kind,
                "id": feature.id,
                "name": feature.name,
                "country": feature.country,
                "geometry": point,
                "node": None,
                "road_node": None,
                "access_m": metres,
                "snapped": within_snap_limit(metres, snap_limit_m),
            }
            if row["snapped"]:
                row["_foot"] = len(feet)
                feet.append((road_point, point))  # type: ignore[arg-type]
            rows.append(row)
    next_node = max((n for n in graph.nodes if isinstance(n, int)), default=0) + 1
    road_nodes, next_node = split_roads(graph, feet, next_node)
    for row in rows:
        foot = row.pop("_foot", None)
        if foot is None:
            continue
        row["road_node"] = road_nodes[foot]
        row["node"] = next_node
        _attach(graph, next_node, road_nodes[foot], row)
        next_node += 1
    columns = ["kind", "id", "name", "country", "node", "road_node", "access_m", "snapped"]
    return gpd.GeoDataFrame(rows, columns=[*columns, "geometry"], geometry="geometry", crs=crs)


def _attach(graph: nx.MultiDiGraph, node: int, road_node: Hashable, row: dict[str, Any]) -> None:
    point = row["geometry"]
    graph.add_node(
        node,
        x=point.x,
        y=point.y,
        kind=row["kind"],
        ref=row["id"],
        name=row["name"],
        country=row["country"],
    )
    road = graph.nodes[road_node]
    metres = math.hypot(point.x - road["x"], point.y - road["y"])  # to the foot, or a node near it
    seconds = units.travel_seconds(metres, settings.ACCESS_SPEED_KPH)
    for u, v in ((node, road_node), (road_node, node)):
        graph.add_edge(
            u, v, highway="access", length=metres, travel_time=seconds, country=row["country"]
        )
