"""Catchments: the parts of the road network within each travel time of a service.

Isochrones are computed from the actual roads (travel times from every road node to the
nearest facility), not drawn as circles; maps only draw them.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
from shapely.geometry import LineString
from shapely.ops import substring, unary_union

from corridor_planner.access import offering
from corridor_planner.roads import edge_kind
from corridor_planner.traveltimes import CorridorTravelTimes

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
    network = times.network
    graph = network.graph
    facility_nodes = list(offering(network, service)["node"])
    roads = network.road_nodes()
    to_care = (
        times.matrix(roads, facility_nodes).min(axis=1)
        if facility_nodes
        else np.full(len(roads), np.inf)
    )
    seconds = dict(zip(roads, to_care, strict=True))
    rows = []
    for minutes in sorted(thresholds):
        budget = minutes * 60.0
        pieces = []
        for u, v, data in graph.edges(data=True):
            if edge_kind(data) != "road":
                continue
            line = data.get("geometry") or LineString(
                [(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in (u, v)]
            )
            edge_time = max(float(data["travel_time"]), 1e-6)
            for end, start_at in ((u, 0.0), (v, 1.0)):
                left = budget - seconds.get(end, np.inf)
                if left <= 0:
                    continue
                share = min(1.0, left / edge_time)
                part = (
                    substring(line, 0.0, share, normalized=True)
                    if start_at == 0.0
                    else substring(line, 1.0 - share, 1.0, normalized=True)
                )
                pieces.append(part)
        if pieces:
            rows.append(
                {
                    "minutes": minutes,
                    "geometry": unary_union([p.buffer(CATCHMENT_BUFFER_M) for p in pieces]),
                }
            )
    table = gpd.GeoDataFrame(rows, geometry="geometry", crs=network.corridor.crs)
    return table.to_crs("EPSG:4326") if len(table) else table
