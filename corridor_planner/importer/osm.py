"""Read an OpenStreetMap extract (PBF or XML) with pyosmium: drivable ways, posts, health.

One pass over the file with node locations: every drivable way with its node ids and
coordinates, ``barrier=border_control`` nodes (border posts), and health amenities
(nodes, and the centre of ways mapped as building outlines).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import osmium

from corridor_planner import settings
from corridor_planner.errors import DataError, Problem

#: Way tags kept on roads.
WAY_TAGS = ("highway", "name", "ref", "maxspeed", "oneway", "junction", "distance")
#: One term of an Overpass tag filter: ``["key"]``, ``["key"="v"]``, ``["key"!~"regex"]``...
_FILTER_TERM = re.compile(r'\["([^"]+)"(?:(!?[=~])"([^"]*)")?\]')
#: Health amenities read from an extract (``--facilities osm``).
HEALTH_AMENITIES = frozenset({"hospital", "clinic", "doctors"})


@dataclass
class Way:
    """A drivable way: its id, kept tags, node ids and coordinates (lon, lat)."""

    id: int
    tags: dict[str, str]
    nodes: np.ndarray
    lon: np.ndarray
    lat: np.ndarray


@dataclass
class Extract:
    """What an import needs from an OSM file."""

    ways: list[Way] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)
    health: list[dict[str, Any]] = field(default_factory=list)
    skipped_ways: int = 0
    missing_locations: int = 0


def filter_terms(query: str) -> list[tuple[str, str | None, str]]:
    """Split an Overpass tag filter into ``(key, operator, value)`` terms.

    The operator is None for ``["key"]`` (the key must be present), else one of ``=``,
    ``!=``, ``~``, ``!~``.

    Raises
    ------
    ValueError
        If the text is not a sequence of such terms.
    """
    terms = [(m.group(1), m.group(2), m.group(3) or "") for m in _FILTER_TERM.finditer(query)]
    if "".join(m.group(0) for m in _FILTER_TERM.finditer(query)) != query:
        raise ValueError(f"not an Overpass tag filter: {query!r}")
    return terms


def _term_holds(tags: Mapping[str, Any], key: str, operator: str | None, value: str) -> bool:
    """Whether one filter term holds for a way's tags, with Overpass's meaning."""
    tag = tags.get(key)
    present = isinstance(tag, str)
    if operator is None:
        return present
    if operator == "=":
        return present and tag == value
    if operator == "!=":
        return not present or tag != value
    found = present and re.search(value, str(tag)) is not None
    return found if operator == "~" else not found


def matches_filter(tags: Mapping[str, Any], query: str) -> bool:
    """Tell whether a way's tags pass an Overpass tag filter (every term must hold).

    A negated term (``!=``, ``!~``) also holds when the way lacks the key, and a regular
    expression may match anywhere in the value, as Overpass reads them.
    """
    return all(_term_holds(tags, *term) for term in filter_terms(query))


def drivable(tags: Mapping[str, Any]) -> bool:
    """Tell whether a way belongs to the drivable network (osmnx's "drive" filter).

    The one rule of the package, :data:`corridor_planner.settings.DRIVE_FILTER`, applied
    to OSM extracts on import and to a bundle's ``roads.osm`` on loading.
    """
    return all(_term_holds(tags, *term) for term in _DRIVE_TERMS)


_DRIVE_TERMS = filter_terms(settings.DRIVE_FILTER)


def read_extract(path: Path, progress: Callable[[int], None] | None = None) -> Extract:
    """Read drivable ways, border posts and health amenities from a PBF or XML extract.

    Raises
    ------
    DataError
        If the file is not an OSM file osmium can read, or holds no drivable way.
    """
    extract = Extract()
    tick = progress or (lambda n: None)
    try:
        processor = osmium.FileProcessor(str(path)).with_locations()
        for count, obj in enumerate(processor):
            if count % 200_000 == 0:
                tick(count)
            if isinstance(obj, osmium.osm.Node):
                _node(obj, extract)
            elif isinstance(obj, osmium.osm.Way):
                _way(obj, extract)
    except (RuntimeError, ValueError) as exc:
        raise DataError(Problem(path.name, "-", "-", f"not a readable OSM file ({exc})")) from exc
    if not extract.ways:
        raise DataError(Problem(path.name, "-", "highway", "no drivable road in the extract"))
    return extract


def _node(node: Any, extract: Extract) -> None:
    tags = node.tags
    if tags.get("barrier") == "border_control":
        extract.posts.append(
            {
                "osm_id": f"node/{node.id}",
                "lon": node.location.lon,
                "lat": node.location.lat,
                "tags": dict(tags),
            }
        )
    if tags.get("amenity") in HEALTH_AMENITIES or "healthcare" in tags:
        extract.health.append(
            {
                "osm_id": f"node/{node.id}",
                "lon": node.location.lon,
                "lat": node.location.lat,
                "tags": dict(tags),
            }
        )


def _way(way: Any, extract: Extract) -> None:
    tags = way.tags
    health = tags.get("amenity") in HEALTH_AMENITIES or "healthcare" in tags
    if not drivable(tags) and not health:
        if "highway" in tags:
            extract.skipped_ways += 1
        return
    try:
        refs = [(n.ref, n.location.lon, n.location.lat) for n in way.nodes]
    except osmium.InvalidLocationError:
        extract.missing_locations += 1
        return
    if len(refs) < 2:
        return
    ids, lon, lat = (np.array(v) for v in zip(*refs, strict=True))
    if health:
        extract.health.append(
            {
                "osm_id": f"way/{way.id}",
                "lon": float(lon.mean()),
                "lat": float(lat.mean()),
                "tags": dict(tags),
            }
        )
    if drivable(tags):
        kept = {k: tags[k] for k in WAY_TAGS if k in tags}
        extract.ways.append(Way(way.id, kept, ids.astype(np.int64), lon, lat))
