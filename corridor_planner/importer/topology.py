"""Roads of an import: clipped, split at junctions, given their country, cut at borders.

Ways become lines between junctions (osmnx's simplification: a node used by one way in
its middle is a vertex, not a node). Each line takes the country of the boundary polygon
it lies in; a line that crosses a border is split where it crosses, and the crossing is
returned so a border post (or a closed crossing) can be put there. Parts outside every
boundary polygon are dropped and measured.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry

from corridor_planner.importer.boundaries import Countries
from corridor_planner.importer.osm import Way

_GEOD = Geod(ellps="WGS84")
OUTSIDE, ON_BORDER = -1, -2


@dataclass
class Crossing:
    """Where a road crosses from one country into another."""

    lon: float
    lat: float
    countries: tuple[str, str]
    way: int
    road: str


@dataclass
class Roads:
    """The import's road lines, border crossings and what was dropped."""

    lines: gpd.GeoDataFrame
    crossings: list[Crossing]
    kept_km: float = 0.0
    dropped_outside_km: float = 0.0
    dropped_clip_ways: int = 0
    notes: list[str] = field(default_factory=list)


def build_roads(ways: list[Way], countries: Countries, clip: BaseGeometry | None) -> Roads:
    """Clip, split at junctions, assign countries and cut at borders.

    Parameters
    ----------
    ways : list of Way
        Drivable ways with node ids and coordinates.
    countries : Countries
        Boundary polygons.
    clip : shapely geometry, optional
        Area to keep (WGS84); nodes outside are dropped.
    """
    ways, dropped = _clipped(ways, clip)
    junctions = _junctions(ways)
    rows: list[dict[str, Any]] = []
    crossings: list[Crossing] = []
    outside_km = 0.0
    for way in ways:
        where = countries.of_points(way.lon, way.lat)
        for start, end in _runs(way.nodes, junctions):
            part = slice(start, end + 1)
            pieces, found, lost = _by_country(way.lon[part], way.lat[part], where[part], countries)
            outside_km += lost
            for code, coords in pieces:
                rows.append(_row(way, code, coords))
            for point, pair in found:
                crossings.append(Crossing(point[0], point[1], pair, way.id, _label(way)))
    crossings = _junction_crossings(rows, crossings)
    lines = (
        gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
        if rows
        else (gpd.GeoDataFrame({"geometry": []}, geometry="geometry", crs="EPSG:4326"))
    )
    kept = float(sum(_GEOD.geometry_length(g) for g in lines.geometry)) / 1000 if rows else 0.0
    return Roads(lines, crossings, kept, outside_km, dropped)


def _junction_crossings(rows: list[dict[str, Any]], found: list[Crossing]) -> list[Crossing]:
    """Add crossings where lines of two countries end at the same point (a border node).

    A border often runs through a node where two ways meet; no line crosses it, but the
    roads of two countries join there all the same.
    """
    ends: dict[tuple[float, float], dict[str, dict[str, Any]]] = {}
    for row in rows:
        coords = list(row["geometry"].coords)
        for x, y in (coords[0], coords[-1]):
            ends.setdefault((round(x, 7), round(y, 7)), {}).setdefault(row["country"], row)
    known = {(round(c.lon, 7), round(c.lat, 7)) for c in found}
    out = list(found)
    for (x, y), by_country in sorted(ends.items()):
        if len(by_country) < 2 or (x, y) in known:
            continue
        (a, row), (b, _) = sorted(by_country.items())[:2]
        road = " ".join(v for v in (row.get("ref"), row.get("name")) if v) or f"way {row['id']}"
        out.append(Crossing(x, y, (a, b), int(row["id"]), road))
    return out


def _label(way: Way) -> str:
    name = " ".join(v for v in (way.tags.get("ref"), way.tags.get("name")) if v)
    return name or f"way {way.id}"


def _clipped(ways: list[Way], clip: BaseGeometry | None) -> tuple[list[Way], int]:
    """Keep the parts of ways inside ``clip`` (runs of consecutive inside nodes)."""
    if clip is None:
        return ways, 0
    shapely.prepare(clip)
    out: list[Way] = []
    dropped = 0
    for way in ways:
        inside = shapely.intersects_xy(clip, way.lon, way.lat)
        if inside.all():
            out.append(way)
            continue
        if not inside.any():
            dropped += 1
            continue
        for start, end in _true_runs(inside):
            if end > start:
                part = slice(start, end + 1)
                out.append(Way(way.id, way.tags, way.nodes[part], way.lon[part], way.lat[part]))
    return out, dropped


def _true_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) index of each run of True values."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _junctions(ways: list[Way]) -> set[int]:
    """Nodes where lines must break: way ends and nodes used more than once."""
    uses: Counter[int] = Counter()
    ends: set[int] = set()
    for way in ways:
        uses.update(way.nodes.tolist())
        ends.update((int(way.nodes[0]), int(way.nodes[-1])))
    return ends | {node for node, count in uses.items() if count > 1}


def _runs(nodes: np.ndarray, junctions: set[int]) -> list[tuple[int, int]]:
    """Index ranges of a way between consecutive junction nodes."""
    cuts = [i for i, node in enumerate(nodes.tolist()) if node in junctions]
    if cuts[0] != 0:
        cuts.insert(0, 0)
    if cuts[-1] != len(nodes) - 1:
        cuts.append(len(nodes) - 1)
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]


def _by_country(
    lon: np.ndarray, lat: np.ndarray, where: np.ndarray, countries: Countries
) -> tuple[
    list[tuple[str, list[tuple[float, float]]]],
    list[tuple[tuple[float, float], tuple[str, str]]],
    float,
]:
    """Split a polyline into single-country pieces, with the crossings between them.

    Returns
    -------
    pieces : list of (country, coordinates)
    crossings : list of ((lon, lat), (country_a, country_b))
    outside_km : float
        Length outside every country polygon (dropped).
    """
    pieces: list[tuple[str, list[tuple[float, float]]]] = []
    crossings: list[tuple[tuple[float, float], tuple[str, str]]] = []
    outside_km = 0.0
    current: tuple[int, list[tuple[float, float]]] | None = None
    for k in range(len(lon) - 1):
        a, b = (float(lon[k]), float(lat[k])), (float(lon[k + 1]), float(lat[k + 1]))
        for start, end, country in _segment_parts(
            a, b, int(where[k]), int(where[k + 1]), countries
        ):
            if country == OUTSIDE:
                outside_km += _GEOD.inv(start[0], start[1], end[0], end[1])[2] / 1000
                if current is not None:
                    pieces.append((countries.code(current[0]), current[1]))
                current = None
                continue
            if current is not None and current[0] != country:
                pieces.append((countries.code(current[0]), current[1]))
                if current[1][-1] == start:
                    pair = (countries.code(current[0]), countries.code(country))
                    crossings.append((start, pair))
                current = None
            if current is None:
                current = (country, [start])
            current[1].append(end)
    if current is not None:
        pieces.append((countries.code(current[0]), current[1]))
    return [(c, pts) for c, pts in pieces if len(pts) >= 2], crossings, outside_km


def _segment_parts(
    a: tuple[float, float], b: tuple[float, float], ca: int, cb: int, countries: Countries
) -> list[tuple[tuple[float, float], tuple[float, float], int]]:
    """Parts of segment a-b, each in one country (or OUTSIDE), split where it crosses."""
    if ca == cb and ca >= 0:
        return [(a, b, ca)]
    cuts = _border_points(a, b, countries)
    stops = [a, *cuts, b]
    parts = []
    for p, q in itertools.pairwise(stops):
        if p == q:
            continue
        mid = np.array([(p[0] + q[0]) / 2]), np.array([(p[1] + q[1]) / 2])
        country = int(countries.of_points(*mid)[0])
        parts.append((p, q, OUTSIDE if country < 0 else country))
    return parts


def _border_points(
    a: tuple[float, float], b: tuple[float, float], countries: Countries
) -> list[tuple[float, float]]:
    """Points where segment a-b meets a country boundary, ordered from a."""
    segment = LineString([a, b])
    found: set[tuple[float, float]] = set()
    for polygon in countries.polygons:
        hit = segment.intersection(polygon.boundary)
        for geom in getattr(hit, "geoms", [hit]):
            if isinstance(geom, Point) and not geom.is_empty:
                found.add((round(geom.x, 9), round(geom.y, 9)))
            elif not geom.is_empty:  # a segment along a border: its ends
                found.update((round(x, 9), round(y, 9)) for x, y in geom.coords)
    start = Point(a)
    return sorted(found, key=lambda p: start.distance(Point(p)))


def _row(way: Way, country: str, coords: list[tuple[float, float]]) -> dict[str, Any]:
    oneway = str(way.tags.get("oneway", "")).lower()
    if oneway == "-1":
        coords = coords[::-1]
    return {
        "id": way.id,
        "highway": way.tags["highway"],
        "country": country,
        "name": way.tags.get("name"),
        "ref": way.tags.get("ref"),
        "maxspeed": way.tags.get("maxspeed"),
        "oneway": oneway in {"yes", "true", "1", "-1"} or way.tags.get("junction") == "roundabout",
        "distance_km": _number(way.tags.get("distance")),
        "geometry": LineString(coords),
    }


def _number(value: object) -> float | None:
    try:
        number = float(str(value))
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) and number > 0 else None


@dataclass
class LinePieces:
    """Strongly connected pieces of the imported road lines (one-way lines one way)."""

    pieces: int = 0
    main_nodes: int = 0
    main_km: float = 0.0
    left_out_nodes: int = 0
    left_out_km: float = 0.0
    kept_all: bool = False

    @property
    def left_out(self) -> int:
        """Pieces other than the largest."""
        return max(self.pieces - 1, 0)

    def text(self) -> str:
        """One line for the import summary and SOURCES.md."""
        if not self.left_out:
            return "road network: one connected piece (every junction reaches every other)"
        what = "kept (keep_all_pieces)" if self.kept_all else "left out of roads.gpkg"
        return (
            f"road network: largest connected piece {self.main_nodes:,} junctions, "
            f"{self.main_km:,.1f} km; {self.left_out:,} pieces cut off from it (no way "
            f"there and back) {what}: {self.left_out_nodes:,} junctions, "
            f"{self.left_out_km:,.1f} km"
        )


def connected_lines(
    lines: gpd.GeoDataFrame, keep_all: bool = False
) -> tuple[gpd.GeoDataFrame, LinePieces]:
    """Keep the lines of the largest strongly connected piece of the road network.

    Line ends at the same place (to 1e-7 degree) are one junction, as the bundle loader
    joins them; a ``oneway`` line runs from its first point to its last only.

    Parameters
    ----------
    lines : GeoDataFrame
        Road lines (WGS84) with a ``oneway`` column.
    keep_all : bool
        Keep every line; the pieces are still counted.

    Returns
    -------
    lines : GeoDataFrame
        The lines kept.
    pieces : LinePieces
        Counts of the pieces, in junctions and km.
    """
    import networkx as nx

    graph = nx.DiGraph()
    ends = []
    for geom, oneway in zip(lines.geometry, lines["oneway"], strict=True):
        coords = geom.coords
        u = (round(coords[0][0], 7), round(coords[0][1], 7))
        v = (round(coords[-1][0], 7), round(coords[-1][1], 7))
        ends.append((u, v))
        graph.add_edge(u, v)
        if not oneway:
            graph.add_edge(v, u)
    components = sorted(nx.strongly_connected_components(graph), key=len, reverse=True)
    main = components[0] if components else set()
    on_main = np.array([u in main and v in main for u, v in ends], dtype=bool)
    km = np.array([_GEOD.geometry_length(g) / 1000.0 for g in lines.geometry])
    pieces = LinePieces(
        pieces=len(components),
        main_nodes=len(main),
        main_km=float(km[on_main].sum()),
        left_out_nodes=graph.number_of_nodes() - len(main),
        left_out_km=float(km[~on_main].sum()),
        kept_all=keep_all,
    )
    return (lines if keep_all else lines[on_main].reset_index(drop=True)), pieces
