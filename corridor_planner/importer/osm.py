"""Read an OpenStreetMap extract (PBF or XML) with pyosmium: drivable ways, posts, health.

One pass over the file with node locations: every drivable way with its node ids and
coordinates, ``barrier=border_control`` nodes (border posts), and health amenities
(nodes, and the centre of ways mapped as building outlines).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import osmium

from corridor_planner.bundle.drivable import drivable
from corridor_planner.errors import DataError, Problem

#: Way tags kept on roads.
WAY_TAGS = ("highway", "name", "ref", "maxspeed", "oneway", "junction", "distance")
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
