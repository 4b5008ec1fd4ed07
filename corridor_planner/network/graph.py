"""A corridor's road network: roads, border posts and snapped points in one projected graph."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx

from corridor_planner.bundle.corridor import Corridor
from corridor_planner.errors import DataError, Problem
from corridor_planner.network.pieces import Pieces, keep_main_piece, pieces_of_nodes, road_pieces
from corridor_planner.network.post_edges import add_border_posts, unposted_crossings
from corridor_planner.network.roads import (
    add_travel_times,
    apply_published_distances,
    check_road_attributes,
    country_field,
    edge_kind,
    graph_from_lines,
    graph_from_osm_xml,
    way_id,
)
from corridor_planner.network.snapping import POINT_KINDS, RoadIndex, RoadPoint, snap_points
from corridor_planner.progress import Progress, step

log = logging.getLogger(__name__)


@dataclass
class CorridorNetwork:
    """A corridor's projected road graph with border posts and snapped points.

    Attributes
    ----------
    corridor : Corridor
        The bundle the graph was built from.
    graph : networkx.MultiDiGraph
        Projected osmnx graph. Road edges carry ``length`` (m, published road distance
        where the bundle gives one), ``travel_time`` (s), ``highway``, ``country``.
        Border-post edges carry ``border_post`` (id), ``from_country``, ``to_country``.
        Access legs carry ``highway="access"``. Point nodes carry ``kind`` and ``ref``.
    post_edges : dict
        ``{post_id: [(u, v), (v, u)]}``: the two directed edges of each post.
    snaps : GeoDataFrame
        One row per facility, settlement and candidate: ``kind``, ``id``, ``name``,
        ``country``, ``node`` (None if not attached), ``road_node``, ``access_m``,
        ``snapped``, ``piece`` (0: the largest connected piece); geometry in the working CRS.
    pieces : Pieces
        The strongly connected pieces of the roads as read; unless the network was built
        with ``keep_all_pieces``, only the largest is in ``graph``.
    prepared_from : str
        ``built`` (made by :func:`build_network` in this process) or ``cache`` (read from
        the prepared network's file, see :mod:`corridor_planner.network.prepared`).
    cache_dir : Path or None
        Folder of the bundle's derived files (prepared network, hierarchies), when known.

    """

    corridor: Corridor
    graph: nx.MultiDiGraph
    post_edges: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    snaps: gpd.GeoDataFrame | None = None
    pieces: Pieces = field(default_factory=Pieces)
    prepared_from: str = "built"
    cache_dir: Path | None = None
    _road_index: RoadIndex | None = field(default=None, repr=False)
    _point_nodes: dict[tuple[str, str], int] | None = field(default=None, repr=False)
    cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def node_of(self, kind: str, ref: str) -> int | None:
        """Graph node of a snapped point, or None if it was not attached."""
        if self._point_nodes is None:
            assert self.snaps is not None
            attached = self.snaps[self.snaps["snapped"]]
            self._point_nodes = {
                (k, i): int(n)
                for k, i, n in zip(attached["kind"], attached["id"], attached["node"], strict=True)
            }
        return self._point_nodes.get((kind, ref))

    def road_nodes(self) -> list[int]:
        """Nodes of the road network proper (no point nodes)."""
        return [n for n, d in self.graph.nodes(data=True) if "kind" not in d]

    def road_index(self) -> RoadIndex:
        """Spatial index of the road segments (built once, after snapping)."""
        if self._road_index is None:
            self._road_index = RoadIndex(self.graph)
        return self._road_index

    def nearest_road_point(self, x: float, y: float) -> RoadPoint | None:
        """Nearest point on any road to a point in the working CRS (None: no roads)."""
        return self.road_index().nearest(x, y)

    def left_out(self, kind: str = "settlement") -> dict[str, Any]:
        """Count what is not attached to the network, so in no result: points, people, why.

        Parameters
        ----------
        kind : str
            ``settlement``, ``facility`` or ``candidate``.

        Returns
        -------
        dict
            ``points`` (count), ``population`` (people, for settlements), ``names`` and
            ``reason``.
        """
        assert self.snaps is not None
        rows = self.snaps[(self.snaps["kind"] == kind) & ~self.snaps["snapped"]]
        people = 0
        if kind == "settlement" and len(rows):
            population = self.corridor.population.set_index("id")["population"]
            people = int(population.loc[list(rows["id"])].sum())
        return {
            "points": len(rows),
            "population": people,
            "names": [str(n) for n in rows["name"]],
            "snap_limit_km": self.corridor.snap_limit_m / 1000,
            "reason": (
                f"farther than the snap limit ({self.corridor.snap_limit_m / 1000:g} km) from "
                "any road of their country"
            ),
        }

    def summary(self) -> dict[str, Any]:
        """Return the counts the ``validate`` command prints."""
        assert self.snaps is not None
        road_edges = [d for _, _, d in self.graph.edges(data=True) if edge_kind(d) == "road"]
        by_kind = {}
        for kind in POINT_KINDS:
            rows = self.snaps[self.snaps["kind"] == kind]
            by_kind[kind] = {"total": len(rows), "snapped": int(rows["snapped"].sum())}
        return {
            "nodes": len(self.road_nodes()),
            "road_edges": len(road_edges),
            "road_km": round(sum(d["length"] for d in road_edges) / 2000.0, 1),
            "border_posts": len(self.post_edges),
            "snapped": by_kind,
            "pieces": self.pieces.to_dict(),
            "notes": [self.pieces.text()],
        }


def build_network(
    corridor: Corridor, keep_all_pieces: bool = False, progress: Progress | None = None
) -> CorridorNetwork:
    """Build the projected road graph of a corridor with posts and snapped points.

    The graph keeps the largest strongly connected piece of the roads (every node of it
    reaches every other), so every point is attached to a road that leads somewhere; the
    pieces left out are counted in ``network.pieces``.

    Parameters
    ----------
    corridor : Corridor
        A loaded bundle.
    keep_all_pieces : bool
        Keep every piece of road, however cut off; points then attach to the nearest road
        of any piece, and a route between two pieces fails naming that cause.
    progress : callable, optional
        Called with a message as each step starts (reading roads, border posts,
        projecting, snapping); each step's time goes to the debug log.

    Returns
    -------
    CorridorNetwork

    Raises
    ------
    DataError
        If roads lack a country or class, or a border post does not sit where the roads
        of its two countries meet.

    """
    road_file = corridor.roads_path.name
    with step(progress, f"reading roads from {road_file}", log):
        if corridor.roads_format == "osm_xml":
            graph = graph_from_osm_xml(corridor.roads_path)
        else:
            graph = graph_from_lines(
                corridor.roads_path,
                class_column=corridor.roads_class_column,
                country_column=corridor.roads_country_column,
            )
        problems = check_road_attributes(graph, road_file, corridor.countries)
        if problems:
            raise DataError(problems, corridor=corridor.id)
        apply_published_distances(graph)
        add_travel_times(graph, corridor.speed_kph)
    with step(progress, "placing border posts", log):
        post_edges, problems = add_border_posts(graph, corridor)
        problems += unposted_crossings(
            graph, road_file, country_field(corridor.roads_format, corridor.roads_country_column)
        )
        problems += _unknown_ways(graph, corridor)
        if problems:
            raise DataError(problems, corridor=corridor.id)
    with step(progress, f"projecting to {corridor.crs} and finding connected pieces", log):
        import osmnx as ox  # on first build only: a prepared network loads without osmnx

        graph = ox.project_graph(graph, to_crs=corridor.crs)
        pieces = road_pieces(graph)
        pieces.kept_all = keep_all_pieces
        if not keep_all_pieces:
            keep_main_piece(graph, pieces, post_edges)
    network = CorridorNetwork(corridor=corridor, graph=graph, post_edges=post_edges, pieces=pieces)
    points = len(corridor.facilities) + len(corridor.population) + len(corridor.candidates)
    with step(progress, f"snapping {points:,} points to the roads", log):
        network.snaps = snap_points(
            graph,
            (
                ("facility", corridor.facilities),
                ("settlement", corridor.population),
                ("candidate", corridor.candidates),
            ),
            corridor.crs,
            corridor.snap_limit_m,
        )
        on_roads = list(network.snaps["road_node"][network.snaps["snapped"].astype(bool)])
        found = dict(zip(on_roads, pieces_of_nodes(graph, pieces, on_roads), strict=True))
        network.snaps["piece"] = [
            found[node] if snapped else None
            for node, snapped in zip(
                network.snaps["road_node"], network.snaps["snapped"], strict=True
            )
        ]
    return network


def _unknown_ways(graph: nx.MultiDiGraph, corridor: Corridor) -> list[Problem]:
    """Road changes of scenarios that name ways the road file does not have."""
    ways = {way_id(d) for _, _, d in graph.edges(data=True)}
    problems = []
    for name, scenario in sorted(corridor.scenarios.items()):
        for index, change in enumerate(scenario.road_changes):
            missing = [w for w in change.ways if w not in ways]
            if missing:
                problems.append(
                    Problem(
                        f"scenarios/{name}.toml",
                        f"road_changes[{index}]",
                        "ways",
                        f"no way {', '.join(missing)} in {corridor.roads_path.name}",
                    )
                )
    return problems


def validation_summary(network: CorridorNetwork) -> dict[str, Any]:
    """Summarise what ``validate`` reports: counts, graph, points not attached, empty layers.

    ``valid`` is False when a point lies beyond the snap limit (it is reported, not
    attached); bundle errors never get this far (loading raises :class:`DataError`).
    """
    corridor = network.corridor
    snaps = network.snaps
    assert snaps is not None
    far = snaps[~snaps["snapped"]]
    return {
        "corridor": corridor.id,
        "name": corridor.name,
        "valid": far.empty,
        "counts": {
            "facilities": len(corridor.facilities),
            "border_posts": len(corridor.posts),
            "settlements": len(corridor.population),
            "population": int(corridor.population["population"].sum()),
            "candidates": len(corridor.candidates),
            "scenarios": sorted(corridor.scenarios),
        },
        "graph": network.summary(),
        "not_snapped": [
            {
                "kind": row.kind,
                "id": row.id,
                "name": row.name,
                "distance_km": round(row.access_m / 1000, 1),
            }
            for row in far.itertuples()
        ],
        "snap_limit_km": corridor.snap_limit_m / 1000,
        "notes": empty_layers(corridor),
    }


def empty_layers(corridor: Corridor) -> list[str]:
    """Say which point files hold no feature, and what that leaves unanswerable."""
    uses = {
        "facilities.geojson": (corridor.facilities, "access, referrals and siting have no care"),
        "population.geojson": (corridor.population, "access, siting and referrals count nobody"),
        "candidates.geojson": (corridor.candidates, "score-sites has no site to rank"),
        "border_posts.geojson": (corridor.posts_gdf, "no road crosses a border"),
    }
    return [
        f"{file} holds no feature: {what}" for file, (table, what) in uses.items() if not len(table)
    ]
