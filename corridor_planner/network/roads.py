"""Road graphs from OSM XML or GIS lines: classes, countries, published distances, speeds."""

from __future__ import annotations

import contextlib
import math
import re
import statistics
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import pandas as pd
from pyproj import Geod
from shapely.geometry import LineString

from corridor_planner import settings, units
from corridor_planner.bundle.drivable import drivable, filter_terms
from corridor_planner.errors import DataError, Problem

#: OSM way tags the graph keeps beyond osmnx's defaults.
COUNTRY_TAG = "is_in:country_code"
DISTANCE_TAG = "distance"
#: Observed average speed (km/h) of a way, from a published travel time; overrides the
#: class table (mountain roads, congested towns). A corridor-planner tag, not OSM's.
SPEED_TAG = "travel_speed"

_GEOD = Geod(ellps="WGS84")

#: Speed (km/h) of a road class in a country: ``Corridor.speed_kph``.
SpeedFn = Callable[[str, str | None], float]

#: Tags the drivable filter reads (``motor_vehicle``, ``motorcar`` are not osmnx defaults).
FILTER_TAGS = tuple(dict.fromkeys(key for key, _, _ in filter_terms(settings.DRIVE_FILTER)))


def edge_kind(data: dict[str, Any]) -> str:
    """Kind of a graph edge: ``road``, ``access`` (a point's leg) or ``border_post``."""
    if "border_post" in data:
        return "border_post"
    if data.get("highway") == "access":
        return "access"
    return "road"


def way_id(data: dict[str, Any]) -> str:
    """Way id of a road edge as text (``osmid``; projection may have made it a float)."""
    value = data.get("osmid")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def country_field(roads_format: str, country_column: str) -> str:
    """Name of the field that holds a road's country, for messages."""
    return COUNTRY_TAG if roads_format == "osm_xml" else country_column


# reading roads ---------------------------------------------------------------------------


@contextlib.contextmanager
def _extra_way_tags(*tags: str) -> Iterator[None]:
    import osmnx as ox  # on first build only: a prepared network loads without osmnx

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
    Ways that osmnx's "drive" filter leaves out (:func:`~corridor_planner.importer.osm.
    drivable`: tracks, service roads, private access...) are dropped, with the nodes only
    they used; a way without a ``highway`` tag stays, for the check to report.

    Raises
    ------
    DataError
        If the file is not well-formed OSM XML or holds no drivable roads.

    """
    import osmnx as ox  # on first build only: a prepared network loads without osmnx

    try:
        moved = moved_duplicate_node(path)
        if moved:
            raise DataError(Problem(path.name, f"node {moved}", "id", MOVED_NODE))
        with _extra_way_tags(COUNTRY_TAG, DISTANCE_TAG, SPEED_TAG, *FILTER_TAGS):
            graph = ox.graph_from_xml(path, simplify=False, retain_all=True)
    except ET.ParseError as exc:
        raise DataError(Problem(path.name, "-", "-", f"not well-formed OSM XML ({exc})")) from exc
    except (ValueError, ox._errors.InsufficientResponseError) as exc:
        raise DataError(Problem(path.name, "-", "-", f"no usable roads ({exc})")) from exc
    drop_undrivable(graph)
    if graph.number_of_edges() == 0:
        raise DataError(Problem(path.name, "-", "highway", "no drivable road"))
    for _, _, data in graph.edges(data=True):
        if COUNTRY_TAG in data:
            data["country"] = data.pop(COUNTRY_TAG)
    return graph


#: Said of an OSM node id given twice with two positions.
MOVED_NODE = (
    "the same node id appears twice at different positions (osmnx would keep one "
    "silently); give each node one id"
)


def moved_duplicate_node(path: Path) -> str | None:
    """Return the id of a node that an OSM XML file gives twice at two positions, or None.

    Raises
    ------
    xml.etree.ElementTree.ParseError
        If the file is not well-formed XML.
    """
    seen: dict[str, tuple[float, float] | None] = {}
    for _, element in ET.iterparse(path, events=("end",)):
        if element.tag == "node":
            node_id = element.get("id", "")
            here = _position(element)
            if node_id in seen and seen[node_id] != here:
                return node_id
            seen[node_id] = here
        if element.tag in {"node", "way", "relation"}:
            element.clear()
    return None


def _position(element: ET.Element) -> tuple[float, float] | None:
    try:
        return float(element.get("lat", "")), float(element.get("lon", ""))
    except ValueError:
        return None


def drop_undrivable(graph: nx.MultiDiGraph) -> int:
    """Remove the edges of ways with a ``highway`` tag that are not drivable.

    Nodes left without any edge by the removal go too.

    Returns
    -------
    int
        How many edges were removed.
    """
    dropped = [
        (u, v, key)
        for u, v, key, data in graph.edges(keys=True, data=True)
        if isinstance(data.get("highway"), str) and not drivable(data)
    ]
    touched = {node for u, v, _ in dropped for node in (u, v)}
    graph.remove_edges_from(dropped)
    graph.remove_nodes_from([node for node in touched if graph.degree(node) == 0])
    return len(dropped)


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


def check_road_attributes(
    graph: nx.MultiDiGraph, file: str, countries: tuple[str, ...]
) -> list[Problem]:
    """Report roads without a known country or class, and bad distances or speeds."""
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


# maxspeed --------------------------------------------------------------------------------

#: km/h in a mile per hour and in a knot (osmnx uses the same mile factor).
MPH_KPH = 1.60934
KNOT_KPH = 1.852

#: One numeric ``maxspeed`` value: a number (``,`` or ``.`` as decimal mark) and an
#: optional unit after at most one space (the OSM wiki's pattern, as osmnx reads it).
_MAXSPEED_VALUE = re.compile(r"([0-9][.,0-9]*?)(?: ?(?:km/h|kmh|kph|mph|knots))?")


def maxspeed_kph(value: Any) -> float | None:
    """Speed limit (km/h) of an OSM ``maxspeed`` value, or None when it gives no number.

    Read as osmnx reads it: ``"60"``, ``"100,2"``, ``"100 km/h"``; ``"50 mph"`` converted
    to km/h; per-lane values ``"60|100"`` averaged (``"60|100 mph"``: all in mph); an
    implicit national limit such as ``"KZ:urban"`` looked up in
    :data:`corridor_planner.settings.IMPLICIT_MAXSPEEDS_KPH`; anything else (``"signals"``,
    ``"none"``, ``"100;70"``, an unknown zone) gives None. A list (ways merged by graph
    simplification) gives the mean of its readable values. Beyond osmnx: ``knots`` are
    converted (osmnx leaves them as km/h), and a plain number (a GIS column) is km/h.

    Parameters
    ----------
    value : Any
        The tag's value: text, a number, a list of them, or missing.

    Returns
    -------
    float or None
        The limit in km/h.
    """
    if isinstance(value, list):
        speeds = [s for s in (maxspeed_kph(item) for item in value) if s is not None]
        return statistics.fmean(speeds) if speeds else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    speeds = []
    for part in value.split("|"):
        match = _MAXSPEED_VALUE.fullmatch(part)
        number = _decimal(match.group(1)) if match else None
        if number is None:
            return settings.IMPLICIT_MAXSPEEDS_KPH.get(value)
        speeds.append(number)
    unit = value.lower()
    factor = MPH_KPH if "mph" in unit else KNOT_KPH if "knots" in unit else 1.0
    return statistics.fmean(speeds) * factor


def _decimal(text: str) -> float | None:
    """Read a number written with ``.`` or ``,`` as decimal mark (``"100,2"``), else None."""
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return None


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


def add_travel_times(graph: nx.MultiDiGraph, speed_kph: SpeedFn) -> None:
    """Set ``speed_kph`` and ``travel_time`` (s) on every road edge.

    Speed is the way's ``travel_speed`` (observed km/h) when it has one, else
    ``speed_kph(class, country)`` (the corridor's table); a ``maxspeed`` caps it (read by
    :func:`maxspeed_kph`: numbers, mph, per-lane values, national zones such as ``KZ:urban``).
    """
    for _, _, data in graph.edges(data=True):
        observed = _to_float(data.get(SPEED_TAG))
        speed = observed or speed_kph(data["highway"], data.get("country"))
        limit = maxspeed_kph(data.get("maxspeed"))
        if limit is not None and limit > 0:
            speed = min(speed, limit)
        data["speed_kph"] = speed
        data["travel_time"] = units.travel_seconds(data["length"], speed)
