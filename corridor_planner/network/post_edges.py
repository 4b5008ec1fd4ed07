"""Border posts as policy edges of the road graph, and roads that cross with no post."""

from __future__ import annotations

import math
from collections import defaultdict

import networkx as nx
import numpy as np
from pyproj import Geod

from corridor_planner import settings
from corridor_planner.bundle.corridor import POSTS_FILE, Corridor
from corridor_planner.errors import Problem
from corridor_planner.network.roads import edge_kind

_GEOD = Geod(ellps="WGS84")


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
