"""Road graph of a corridor: roads from OSM XML or GIS lines, border posts, snapped points."""

from __future__ import annotations

import contextlib
import math
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
from pyproj import Geod
from shapely.geometry import LineString

from corridor_planner import settings
from corridor_planner.corridor import POSTS_FILE, Corridor
from corridor_planner.engine import TravelTimeEngine
from corridor_planner.errors import DataError, Problem
from corridor_planner.rules import Scenario
from corridor_planner.snapping import (
    POINT_KINDS,
    RoadIndex,
    RoadPoint,
    edge_kind,
    snap_points,
    way_id,
)

#: OSM way tags the graph keeps beyond osmnx's defaults.
COUNTRY_TAG = "is_in:country_code"
DISTANCE_TAG = "distance"
#: Observed average speed (km/h) of a way, from a published travel time; overrides the
#: class table (mountain roads, congested towns). A corridor-planner tag, not OSM's.
SPEED_TAG = "travel_speed"

_GEOD = Geod(ellps="WGS84")


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
        ``snapped``; geometry in the working CRS.

    """

    corridor: Corridor
    graph: nx.MultiDiGraph
    post_edges: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    snaps: gpd.GeoDataFrame | None = None
    _road_index: RoadIndex | None = field(default=None, repr=False)
    _point_nodes: dict[tuple[str, str], int] | None = field(default=None, repr=False)
    _roads: dict[frozenset[tuple[str, float]], TravelTimeEngine] = field(
        default_factory=dict, repr=False
    )

    def road_engine(self, scenario: Scenario | None = None) -> TravelTimeEngine:
        """Roads and access legs compiled once (no border posts: those depend on who crosses).

        The graph must not change after :func:`build_network`. Every profile and scenario
        shares one engine, except scenarios that close or slow roads: each distinct set of
        road changes gets its own, compiled once.
        """
        factors = scenario.way_time_factors() if scenario is not None else {}
        key = frozenset(factors.items())
        if key not in self._roads:

            def weight(u: Any, v: Any, data: dict[str, Any]) -> float | None:
                if "border_post" in data:
                    return None
                factor = factors.get(way_id(data), 1.0) if factors else 1.0
                return None if math.isinf(factor) else data["travel_time"] * factor

            self._roads[key] = TravelTimeEngine.from_graph(self.graph, weight)
        return self._roads[key]

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
            "reason": (
                f"farther than the snap limit ({self.corridor.snap_limit_m / 1000:g} km) from "
                "any road of their country"
            ),
        }

    def summary(self) -> dict[str, Any]:
        """Return the counts the ``validate`` command prints."""
        assert self.snaps is not None
        road_edges = [d for _, _, d in self.graph.edges(data=True) if _is_road(d)]
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
        }


def build_network(corridor: Corridor) -> CorridorNetwork:
    """Build the projected road graph of a corridor with posts and snapped points.

    Parameters
    ----------
    corridor : Corridor
        A loaded bundle.

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
    if corridor.roads_format == "osm_xml":
        graph = graph_from_osm_xml(corridor.roads_path)
    else:
        graph = graph_from_lines(
            corridor.roads_path,
            class_column=corridor.roads_class_column,
            country_column=corridor.roads_country_column,
        )
    problems = _check_road_attributes(graph, road_file, corridor.countries)
    if problems:
        raise DataError(problems, corridor=corridor.id)
    apply_published_distances(graph)
    add_travel_times(graph, corridor)
    post_edges, problems = add_border_posts(graph, corridor)
    problems += unposted_crossings(graph, road_file, _country_field(corridor))
    problems += _unknown_ways(graph, corridor)
    if problems:
        raise DataError(problems, corridor=corridor.id)
    graph = ox.project_graph(graph, to_crs=corridor.crs)
    network = CorridorNetwork(corridor=corridor, graph=graph, post_edges=post_edges)
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
    return network


def _country_field(corridor: Corridor) -> str:
    return COUNTRY_TAG if corridor.roads_format == "osm_xml" else corridor.roads_country_column


def unposted_crossings(graph: nx.MultiDiGraph, file: str, field_name: str) -> list[Problem]:
    """Report every road node where two countries' roads meet with no border post.

    Such a road would be a free crossing, open to everyone in every scenario. A post
    (``border_posts.geojson``; ``opening_hours`` ``off`` for a crossing closed for good)
    must sit on it, or the roads must not meet.
    """
    problems = []
    for node, countries in sorted(_node_countries(graph).items()):
        if len(countries) < 2:
            continue
        ways = sorted({str(d.get("osmid", "-")) for _, _, d in graph.edges(node, data=True)})
        ways += sorted({str(d.get("osmid", "-")) for _, _, d in graph.in_edges(node, data=True)})
        data = graph.nodes[node]
        problems.append(
            Problem(
                file,
                "way " + ", ".join(dict.fromkeys(ways)),
                field_name,
                f"roads of {' and '.join(sorted(countries))} meet at ({data['y']:.5f}, "
                f"{data['x']:.5f}) with no border post: add one to {POSTS_FILE} there "
                "(opening_hours 'off' for a closed crossing) or keep the roads apart",
            )
        )
    return problems


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


# reading roads ---------------------------------------------------------------------------


@contextlib.contextmanager
def _extra_way_tags(*tags: str) -> Iterator[None]:
    saved = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = saved + [t for t in tags if t not in saved]
    try:
        yield
    finally:
        ox.settings.useful_tags_way = saved


def graph_from_osm_xml(path: Path) -> nx.MultiDiGraph:
    """Read an OSM XML file into an unsimplified, unprojected osmnx graph.

    Ways keep ``is_in:country_code`` (as ``country``) and ``distance`` (km) besides
    osmnx's usual tags. Every vertex stays a node, so points snap close to the road.

    Raises
    ------
    DataError
        If the file is not well-formed OSM XML or holds no roads.

    """
    try:
        with _extra_way_tags(COUNTRY_TAG, DISTANCE_TAG, SPEED_TAG):
            graph = ox.graph_from_xml(path, simplify=False, retain_all=True)
    except ET.ParseError as exc:
        raise DataError(Problem(path.name, "-", "-", f"not well-formed OSM XML ({exc})")) from exc
    except (ValueError, ox._errors.InsufficientResponseError) as exc:
        raise DataError(Problem(path.name, "-", "-", f"no usable roads ({exc})")) from exc
    for _, _, data in graph.edges(data=True):
        if COUNTRY_TAG in data:
            data["country"] = data.pop(COUNTRY_TAG)
    return graph


def graph_from_lines(
    path: Path, class_column: str = "highway", country_column: str = "country"
) -> nx.MultiDiGraph:
    """Build an osmnx-style graph from road lines (GeoPackage, GeoJSON or Shapefile).

    Lines must be split at junctions: lines that share an end point are joined there.
    Optional columns: ``name``, ``ref``, ``maxspeed``, ``oneway`` (true: digitised
    direction only) and ``distance_km`` (published road length, replacing the geometry's).

    Parameters
    ----------
    path : Path
        The road file.
    class_column : str
        Column holding the road class (OSM ``highway`` values: trunk, primary, ...).
    country_column : str
        Column holding the ISO alpha-2 country of each line.

    Raises
    ------
    DataError
        If the file cannot be read or lacks the class or country column.

    """
    try:
        lines = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise DataError(Problem(path.name, "-", "-", f"cannot read road lines ({exc})")) from exc
    missing = [c for c in (class_column, country_column) if c not in lines.columns]
    if missing:
        raise DataError([Problem(path.name, "-", c, "column missing") for c in missing])
    if lines.crs is None:
        raise DataError(Problem(path.name, "-", "crs", "road file has no CRS"))
    lines = lines.to_crs("EPSG:4326").explode(index_parts=False)
    graph = nx.MultiDiGraph(crs="EPSG:4326")
    node_ids: dict[tuple[float, float], int] = {}

    def node(x: float, y: float) -> int:
        key = (round(x, 7), round(y, 7))
        if key not in node_ids:
            node_ids[key] = len(node_ids) + 1
            graph.add_node(node_ids[key], x=key[0], y=key[1])
        return node_ids[key]

    for index, row in enumerate(lines.itertuples(index=False)):
        geom: LineString = row.geometry
        if geom is None or geom.is_empty or len(geom.coords) < 2:
            continue
        u, v = node(*geom.coords[0][:2]), node(*geom.coords[-1][:2])
        way_id = getattr(row, "id", None)
        attrs = {
            "osmid": way_id if way_id is not None and not pd.isna(way_id) else index + 1,
            "highway": getattr(row, class_column),
            "country": getattr(row, country_column),
            "length": float(_GEOD.geometry_length(geom)),
            "geometry": geom,
        }
        for column in ("name", "ref", "maxspeed", SPEED_TAG):
            value = getattr(row, column, None)
            if value is not None and not (isinstance(value, float) and math.isnan(value)):
                attrs[column] = value
        distance = getattr(row, "distance_km", None)
        if distance is not None and not pd.isna(distance):
            attrs[DISTANCE_TAG] = float(distance)
        graph.add_edge(u, v, **attrs)
        if not _truthy(getattr(row, "oneway", False)):
            back = dict(attrs, geometry=LineString(list(geom.coords)[::-1]))
            graph.add_edge(v, u, **back)
    if graph.number_of_edges() == 0:
        raise DataError(Problem(path.name, "-", "geometry", "no road lines"))
    return graph


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"yes", "true", "1"}
    return bool(value) and not (isinstance(value, float) and math.isnan(value))


def _check_road_attributes(
    graph: nx.MultiDiGraph, file: str, countries: tuple[str, ...]
) -> list[Problem]:
    problems: dict[tuple[str, str], Problem] = {}
    for _, _, data in graph.edges(data=True):
        way = str(data.get("osmid", "-"))
        country = data.get("country")
        if country is None:
            problems[(way, "country")] = Problem(file, f"way {way}", COUNTRY_TAG, "missing")
        elif country not in countries:
            problems[(way, "country")] = Problem(
                file, f"way {way}", COUNTRY_TAG, f"{country!r} not among {countries}"
            )
        if not isinstance(data.get("highway"), str):
            problems[(way, "highway")] = Problem(file, f"way {way}", "highway", "missing")
        for tag, kind in ((DISTANCE_TAG, "distance_km"), (SPEED_TAG, "speed_kph")):
            value = data.get(tag)
            if value is None:
                continue
            number = _to_float(value)
            complaint = settings.RANGES[kind].problem(number if number is not None else value)
            if complaint:
                problems[(way, tag)] = Problem(file, f"way {way}", tag, complaint)
    return list(problems.values())


def _to_float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 and math.isfinite(number) else None


# lengths and times -----------------------------------------------------------------------


def apply_published_distances(graph: nx.MultiDiGraph) -> None:
    """Replace straight-line lengths with published road distances where a way has one.

    A way tagged ``distance`` (km) has its edges' ``length`` scaled so they sum to that
    distance, each edge keeping its share of the way's straight-line length. The
    original is kept as ``length_geometric``.
    """
    way_length: dict[Any, float] = defaultdict(float)
    seen_pairs: set[tuple[Any, frozenset[int]]] = set()
    for u, v, data in graph.edges(data=True):
        data["length_geometric"] = float(data["length"])
        pair = (data.get("osmid"), frozenset((u, v)))
        if DISTANCE_TAG in data and pair not in seen_pairs:
            seen_pairs.add(pair)
            way_length[data.get("osmid")] += float(data["length"])
    for _, _, data in graph.edges(data=True):
        distance_km = _to_float(data.get(DISTANCE_TAG))
        total = way_length.get(data.get("osmid"), 0.0)
        if distance_km is not None and total > 0:
            data["length"] = data["length_geometric"] * distance_km * 1000.0 / total


def add_travel_times(graph: nx.MultiDiGraph, corridor: Corridor) -> None:
    """Set ``speed_kph`` and ``travel_time`` (s) on every road edge.

    Speed is the way's ``travel_speed`` (observed km/h) when it has one, else the
    corridor's table for the edge's class and country; a numeric ``maxspeed`` caps it.
    """
    for _, _, data in graph.edges(data=True):
        observed = _to_float(data.get(SPEED_TAG))
        speed = observed or corridor.speed_kph(data["highway"], data.get("country"))
        limit = _to_float(
            str(data.get("maxspeed", "")).split()[0] if data.get("maxspeed") else None
        )
        if limit is not None:
            speed = min(speed, limit)
        data["speed_kph"] = speed
        data["travel_time"] = max(data["length"] / (speed / 3.6), settings.MIN_EDGE_SECONDS)


# border posts ----------------------------------------------------------------------------


def _node_countries(graph: nx.MultiDiGraph) -> dict[int, set[str]]:
    countries: dict[int, set[str]] = defaultdict(set)
    for u, v, data in graph.edges(data=True):
        if edge_kind(data) == "road":
            countries[u].add(data["country"])
            countries[v].add(data["country"])
    return countries


def add_border_posts(
    graph: nx.MultiDiGraph, corridor: Corridor
) -> tuple[dict[str, list[tuple[int, int]]], list[Problem]]:
    """Turn each border post into a pair of directed edges that carry its rules.

    The post must lie within ``POST_SNAP_LIMIT_M`` of a road node where roads of exactly
    its two countries meet. That node is split in two, one per country, joined by the
    post's edges (``border_post``, ``from_country``, ``to_country``; no length).

    Returns
    -------
    post_edges : dict
        ``{post_id: [(a, b), (b, a)]}``.
    problems : list of Problem
        One per post that does not fit the roads.

    """
    countries = _node_countries(graph)
    junctions = [n for n, cs in countries.items() if len(cs) >= 2]
    problems: list[Problem] = []
    post_edges: dict[str, list[tuple[int, int]]] = {}
    next_id = max(graph.nodes) + 1
    for post in corridor.posts.values():
        point = corridor.posts_gdf.loc[corridor.posts_gdf["id"] == post.id].geometry.iloc[0]
        node, metres = _nearest_node(graph, junctions, point.x, point.y)
        if node is None or metres > settings.POST_SNAP_LIMIT_M:
            where = "" if node is None else f" (nearest is {metres / 1000:.1f} km away)"
            problems.append(
                Problem(
                    POSTS_FILE,
                    post.id,
                    "geometry",
                    f"no road node where two countries meet within "
                    f"{settings.POST_SNAP_LIMIT_M / 1000:g} km{where}",
                )
            )
            continue
        if countries[node] != set(post.countries):
            problems.append(
                Problem(
                    POSTS_FILE,
                    post.id,
                    "countries",
                    f"post joins {sorted(post.countries)} but the roads on either side "
                    f"are in {sorted(countries[node])}",
                )
            )
            continue
        side_b = next_id
        next_id += 1
        _split_node(graph, node, side_b, post.countries[1])
        graph.nodes[node]["country"] = post.countries[0]
        for a, b, (ca, cb) in (
            (node, side_b, post.countries),
            (side_b, node, post.countries[::-1]),
        ):
            graph.add_edge(
                a,
                b,
                highway="border_crossing",
                border_post=post.id,
                name=post.name,
                from_country=ca,
                to_country=cb,
                length=0.0,
                travel_time=settings.MIN_EDGE_SECONDS,
            )
        post_edges[post.id] = [(node, side_b), (side_b, node)]
    for n, cs in countries.items():
        if n in graph.nodes and "country" not in graph.nodes[n] and len(cs) == 1:
            graph.nodes[n]["country"] = next(iter(cs))
    return post_edges, problems


def _nearest_node(
    graph: nx.MultiDiGraph, nodes: list[int], lon: float, lat: float
) -> tuple[int | None, float]:
    if not nodes:
        return None, math.inf
    xs = np.array([graph.nodes[n]["x"] for n in nodes])
    ys = np.array([graph.nodes[n]["y"] for n in nodes])
    _, _, dist = _GEOD.inv(np.full_like(xs, lon), np.full_like(ys, lat), xs, ys)
    best = int(np.argmin(dist))
    return nodes[best], float(dist[best])


def _split_node(graph: nx.MultiDiGraph, node: int, new: int, country: str) -> None:
    """Move every edge of ``country`` at ``node`` onto a new node at the same place."""
    graph.add_node(new, **{**graph.nodes[node], "country": country})
    moves = [(u, v, k, d) for u, v, k, d in graph.in_edges(node, keys=True, data=True)]
    moves += [(u, v, k, d) for u, v, k, d in graph.out_edges(node, keys=True, data=True)]
    for u, v, k, data in moves:
        if data.get("country") != country:
            continue
        graph.remove_edge(u, v, k)
        graph.add_edge(new if u == node else u, new if v == node else v, **data)


def _is_road(data: dict[str, Any]) -> bool:
    return edge_kind(data) == "road"
