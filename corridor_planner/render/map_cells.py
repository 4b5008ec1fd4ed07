"""Settlements aggregated into a hexagon grid: people and minutes per cell, for big maps.

A map of a country holds hundreds of thousands of settlements; one marker each never
opens in a browser. Above :data:`~corridor_planner.settings.MAP_POINT_LIMIT` the map draws
these cells instead. The binning is plain numpy on the corridor's metric CRS (pointy-top
hexagons in axial coordinates, cube rounding), so no grid library is needed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from corridor_planner import units
from corridor_planner.analysis.access import offering
from corridor_planner.analysis.catchments import CATCHMENT_BUFFER_M
from corridor_planner.routing.traveltimes import CorridorTravelTimes
from corridor_planner.settings import MAP_CELL_KM, MAP_MAX_CELLS

_SQRT3 = math.sqrt(3.0)
#: Corner angles (degrees) of a pointy-top hexagon, counter-clockwise from the east.
_CORNER_DEG = np.array([30.0, 90.0, 150.0, 210.0, 270.0, 330.0])


@dataclass
class Cells:
    """Settlements binned into hexagons.

    Attributes
    ----------
    size_km : float
        Width of a hexagon, flat side to flat side.
    settlements : int
        Settlements binned.
    people : numpy.ndarray
        ``cells x bands``: people of each cell in each band (the last band: not reachable).
    counts : numpy.ndarray
        Settlements per cell.
    band : numpy.ndarray
        Band of each cell: the band its median person (by population) lives in.
    rings : list of list
        Each cell's outline, ``[lon, lat]`` pairs (closed), WGS 84.
    """

    size_km: float
    settlements: int
    people: np.ndarray
    counts: np.ndarray
    band: np.ndarray
    rings: list[list[list[float]]]

    def __len__(self) -> int:
        """Return the number of cells that hold a settlement."""
        return len(self.counts)


def hex_axial(x: np.ndarray, y: np.ndarray, size_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Return the axial coordinates ``(q, r)`` of the hexagon holding each point.

    Parameters
    ----------
    x, y : numpy.ndarray
        Metric coordinates.
    size_m : float
        Width of a hexagon, flat side to flat side (m).
    """
    radius = size_m / _SQRT3
    q = (_SQRT3 / 3 * x - y / 3) / radius
    r = (2 / 3 * y) / radius
    return _cube_round(q, r)


def _cube_round(q: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Round fractional axial coordinates to the hexagon they fall in."""
    s = -q - r
    rq, rr, rs = np.round(q), np.round(r), np.round(s)
    dq, dr, ds = np.abs(rq - q), np.abs(rr - r), np.abs(rs - s)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    rq = np.where(fix_q, -rr - rs, rq)
    rr = np.where(fix_r, -rq - rs, rr)
    return rq.astype(np.int64), rr.astype(np.int64)


def hex_corners(q: np.ndarray, r: np.ndarray, size_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Return the six corners of each hexagon, ``cells x 6`` arrays of metric x and y."""
    radius = size_m / _SQRT3
    cx = radius * _SQRT3 * (q + r / 2)
    cy = radius * 1.5 * r
    angles = np.radians(_CORNER_DEG)
    return (
        cx[:, None] + radius * np.cos(angles)[None, :],
        cy[:, None] + radius * np.sin(angles)[None, :],
    )


def time_bands(minutes: np.ndarray, limits: Sequence[float]) -> np.ndarray:
    """Band of each time: the first limit it is within; ``len(limits)`` where unreachable."""
    values = np.asarray(minutes, dtype=float)
    bands = np.searchsorted(np.asarray(limits, dtype=float), values, side="left")
    return np.where(np.isfinite(values), np.minimum(bands, len(limits) - 1), len(limits))


def bin_settlements(
    settlements: gpd.GeoDataFrame,
    crs: CRS | str,
    bands: np.ndarray,
    n_bands: int,
    *,
    size_km: float = MAP_CELL_KM,
    max_cells: int = MAP_MAX_CELLS,
) -> Cells:
    """Bin settlements into hexagons; the cells double in size until at most ``max_cells``.

    Parameters
    ----------
    settlements : geopandas.GeoDataFrame
        Points with ``population``.
    crs : pyproj.CRS or str
        Metric CRS to bin in (the corridor's).
    bands : numpy.ndarray
        Band of each settlement, ``0 .. n_bands - 1``, best first (see :func:`time_bands`).
    n_bands : int
        Number of bands.
    size_km, max_cells : float, int
        Starting cell width and the most cells.
    """
    metric = settlements.geometry.to_crs(crs)
    x, y = metric.x.to_numpy(), metric.y.to_numpy()
    size_m = size_km * 1000.0
    while True:
        q, r = hex_axial(x, y, size_m)
        keys, inverse = np.unique(np.stack([q, r], axis=1), axis=0, return_inverse=True)
        if len(keys) <= max_cells:
            break
        size_m *= 2
    inverse = inverse.reshape(-1)
    people = np.zeros((len(keys), n_bands))
    np.add.at(people, (inverse, bands), settlements["population"].to_numpy(dtype=float))
    weights = np.zeros_like(people)
    np.add.at(weights, (inverse, bands), 1e-6)  # a cell of empty settlements still has a band
    return Cells(
        size_km=size_m / 1000.0,
        settlements=len(settlements),
        people=people,
        counts=np.bincount(inverse, minlength=len(keys)),
        band=median_band(people + weights),
        rings=_rings(keys[:, 0], keys[:, 1], size_m, crs),
    )


def median_band(people: np.ndarray) -> np.ndarray:
    """Band of each row's median person: the first band where half its people are reached."""
    if not len(people):
        return np.zeros(0, dtype=np.int64)
    running = np.cumsum(people, axis=1)
    half = running[:, -1:] / 2
    return np.argmax(running >= half, axis=1)


def _rings(q: np.ndarray, r: np.ndarray, size_m: float, crs: CRS | str) -> list[list[list[float]]]:
    """Return each hexagon's closed outline in WGS 84, rounded to 5 decimals (about 1 m)."""
    if not len(q):
        return []
    xs, ys = hex_corners(q, r, size_m)
    points = gpd.GeoSeries(gpd.points_from_xy(xs.ravel(), ys.ravel()), crs=crs).to_crs("EPSG:4326")
    lon = np.round(points.x.to_numpy(), 5).reshape(xs.shape)
    lat = np.round(points.y.to_numpy(), 5).reshape(xs.shape)
    return [
        [[float(a), float(b)] for a, b in zip([*lo, lo[0]], [*la, la[0]], strict=True)]
        for lo, la in zip(lon, lat, strict=True)
    ]


def catchment_bands(
    times: CorridorTravelTimes, service: str, thresholds: Sequence[float]
) -> gpd.GeoDataFrame:
    """One dissolved catchment polygon per threshold, on a grid of hexagons, for big maps.

    Every road node is binned into hexagons two catchment buffers wide
    (:data:`~corridor_planner.analysis.catchments.CATCHMENT_BUFFER_M`); a band is the
    union of the cells holding a node within its threshold of the nearest facility (one
    multi-source search, no facility-by-road matrix, no buffering of a country's roads).

    Returns
    -------
    geopandas.GeoDataFrame
        WGS84 polygons with ``minutes``.
    """
    network = times.network
    facilities = offering(network, service)
    roads = network.road_nodes()
    empty = gpd.GeoDataFrame({"minutes": []}, geometry=[], crs="EPSG:4326")
    if facilities.empty or not roads:
        return empty
    seconds, _ = times.nearest(roads, list(facilities["node"]))
    x = np.array([network.graph.nodes[n]["x"] for n in roads], dtype=float)
    y = np.array([network.graph.nodes[n]["y"] for n in roads], dtype=float)
    size = 2 * CATCHMENT_BUFFER_M
    rows = []
    for minutes in sorted(thresholds):
        within = seconds <= units.seconds(minutes)
        if not within.any():
            continue
        q, r = hex_axial(x[within], y[within], size)
        cells = np.unique(np.stack([q, r], axis=1), axis=0)
        xs, ys = hex_corners(cells[:, 0], cells[:, 1], size)
        hexagons = shapely.polygons(np.stack([xs, ys], axis=2))
        rows.append({"minutes": minutes, "geometry": shapely.coverage_union_all(hexagons)})
    if not rows:
        return empty
    table = gpd.GeoDataFrame(rows, geometry="geometry", crs=network.corridor.crs)
    return table.to_crs("EPSG:4326")
