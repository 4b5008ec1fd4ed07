"""Catchments: the parts of the road network within each travel time of a service.

Isochrones are computed from the actual roads (travel times from every road node to the
nearest facility), not drawn as circles; maps only draw them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
from shapely.geometry import LineString
from shapely.ops import substring, unary_union

from corridor_planner import units
from corridor_planner.analysis.access import offering
from corridor_planner.network.roads import edge_kind
from corridor_planner.routing.traveltimes import CorridorTravelTimes

#: Width (m) of the band drawn on each side of the reached roads in a catchment polygon:
#: the local roads and tracks a road network of trunk routes leaves out (assumption).
CATCHMENT_BUFFER_M = 2_000.0


def catchment_polygons(
    times: CorridorTravelTimes, service: str, thresholds: Sequence[float]
) -> gpd.GeoDataFrame:
    """Travel-time catchments (isochrones) around the facilities offering ``service``.

    A road edge is reached up to where its travel time runs out (from either end); the
    reached parts are widened by ``CATCHMENT_BUFFER_M`` and merged, one polygon per
    threshold. Returns WGS84 polygons with ``minutes``.
    """
    table = facility_catchments(times, service, thresholds)
    if not len(table):
        return table
    merged = table.to_crs(times.network.corridor.crs).dissolve(by="minutes", as_index=False)
    return merged[["minutes", "geometry"]].to_crs("EPSG:4326")


def facility_catchments(
    times: CorridorTravelTimes, service: str, thresholds: Sequence[float]
) -> gpd.GeoDataFrame:
    """Isochrones per facility and threshold: the roads each facility reaches first.

    Each road node belongs to the facility nearest to it in time (so catchments do not
    overlap at one threshold); an edge is reached from either end, up to where the time
    runs out, and belongs to the facility of that end.

    Returns
    -------
    geopandas.GeoDataFrame
        WGS84 polygons with ``facility_id``, ``facility``, ``country`` and ``minutes``.
    """
    network = times.network
    graph = network.graph
    facilities = offering(network, service)
    roads = network.road_nodes()
    if facilities.empty or not roads:
        return gpd.GeoDataFrame(
            {"facility_id": [], "facility": [], "country": [], "minutes": []},
            geometry=[],
            crs="EPSG:4326",
        )
    matrix = times.matrix(roads, list(facilities["node"]))
    best = matrix.argmin(axis=1)
    seconds = dict(zip(roads, matrix.min(axis=1), strict=True))
    owner = dict(zip(roads, best, strict=True))
    rows = []
    for minutes in sorted(thresholds):
        pieces: dict[int, list[LineString]] = {}
        for u, v, data in graph.edges(data=True):
            if edge_kind(data) != "road":
                continue
            for end, part in _reached_parts(graph, u, v, data, seconds, units.seconds(minutes)):
                pieces.setdefault(int(owner[end]), []).append(part)
        for index, parts in sorted(pieces.items()):
            facility = facilities.iloc[index]
            rows.append(
                {
                    "facility_id": facility["id"],
                    "facility": facility["name"],
                    "country": facility["country"],
                    "minutes": minutes,
                    "geometry": unary_union([p.buffer(CATCHMENT_BUFFER_M) for p in parts]),
                }
            )
    table = gpd.GeoDataFrame(rows, geometry="geometry", crs=network.corridor.crs)
    return table.to_crs("EPSG:4326") if len(table) else table


def _reached_parts(
    graph: nx.MultiDiGraph,
    u: int,
    v: int,
    data: dict[str, Any],
    seconds: dict[int, float],
    budget: float,
) -> Iterator[tuple[int, LineString]]:
    """Yield ``(end, part)``: the part of edge u-v reached from each end within ``budget``."""
    line = data.get("geometry") or LineString(
        [(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in (u, v)]
    )
    edge_time = max(float(data["travel_time"]), 1e-6)
    for end, from_start in ((u, True), (v, False)):
        left = budget - seconds.get(end, np.inf)
        if left <= 0:
            continue
        share = min(1.0, left / edge_time)
        if from_start:
            yield end, substring(line, 0.0, share, normalized=True)
        else:
            yield end, substring(line, 1.0 - share, 1.0, normalized=True)
