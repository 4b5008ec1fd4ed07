"""Border posts at the crossings of an import: matched from a file or OSM, or closed.

Every place a road crosses a border gets a post feature in the bundle format, placed on
the crossing. A crossing within ``MATCH_LIMIT_M`` of a post given by the user (a GeoJSON
file in the bundle format) or of an OSM ``barrier=border_control`` node takes that post's
rules; any other crossing becomes a closed crossing (``opening_hours`` ``off``): never a
free one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyproj import Geod

from corridor_planner.bundle.posts import direction_key, opening_hours_error
from corridor_planner.errors import TOO_DEEP, DataError, Problem
from corridor_planner.importer.topology import Crossing
from corridor_planner.settings import DEFAULT_PROFILE

_GEOD = Geod(ellps="WGS84")

#: A post this close (m) to a crossing is the post of that crossing.
MATCH_LIMIT_M = 2_000.0

#: Delay (minutes) written for a post read from OSM, which records none: a placeholder
#: the user must replace, said in the post's ``source`` and in SOURCES.md.
UNKNOWN_DELAY_MIN = 0


@dataclass
class PostCandidate:
    """A post known before matching: from the user's file or from OSM."""

    lon: float
    lat: float
    properties: dict[str, Any]
    origin: str  # "file" or "osm"


@dataclass
class Posts:
    """Post features for the bundle, and what matching found."""

    features: list[dict[str, Any]] = field(default_factory=list)
    matched: int = 0
    closed: int = 0
    unused: list[str] = field(default_factory=list)
    assumed: list[str] = field(default_factory=list)


def read_post_file(path: Path) -> list[PostCandidate]:
    """Read border posts from a GeoJSON file in the bundle format.

    Raises
    ------
    DataError
        If the file is not a GeoJSON FeatureCollection of points with ``id`` and
        ``countries``.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(Problem(path.name, "-", "-", f"not readable GeoJSON ({exc})")) from exc
    except RecursionError:
        raise DataError(Problem(path.name, "-", "-", TOO_DEEP)) from None
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        raise DataError(Problem(path.name, "-", "features", "must be a FeatureCollection"))
    posts = []
    for index, feature in enumerate(features):
        props = feature.get("properties") or {}
        label = str(props.get("id", f"#{index}"))
        geometry = feature.get("geometry") or {}
        if geometry.get("type") != "Point":
            raise DataError(Problem(path.name, label, "geometry", "must be a Point"))
        for key in ("id", "countries"):
            if key not in props:
                raise DataError(Problem(path.name, label, key, "missing"))
        lon, lat = geometry["coordinates"][:2]
        posts.append(PostCandidate(float(lon), float(lat), dict(props), "file"))
    return posts


def osm_posts(nodes: list[dict[str, Any]]) -> list[PostCandidate]:
    """Make posts from OSM ``barrier=border_control`` nodes (countries: the crossing)."""
    out = []
    for node in nodes:
        tags = node["tags"]
        hours = tags.get("opening_hours", "24/7")
        if opening_hours_error(hours):
            hours = "24/7"
        name = tags.get("name") or tags.get("name:en") or f"Border control {node['osm_id']}"
        out.append(
            PostCandidate(
                node["lon"],
                node["lat"],
                {"id": node["osm_id"].replace("/", "_"), "name": name, "opening_hours": hours},
                "osm",
            )
        )
    return out


def place_posts(crossings: list[Crossing], candidates: list[PostCandidate]) -> Posts:
    """Put a post feature on every crossing: the nearest candidate in reach, else closed."""
    result = Posts()
    used: dict[int, int] = {}
    for crossing in crossings:
        index, metres = _nearest(crossing, candidates)
        candidate = candidates[index] if index is not None else None
        countries = candidate.properties.get("countries") if candidate else None
        fits = countries is None or set(countries) == set(crossing.countries)
        if index is None or candidate is None or metres > MATCH_LIMIT_M or not fits:
            result.features.append(_closed(crossing, len(result.features)))
            result.closed += 1
            continue
        used[index] = used.get(index, 0) + 1
        result.features.append(_from_candidate(crossing, candidate, used[index]))
        result.matched += 1
        if candidate.origin == "osm":
            result.assumed.append(result.features[-1]["properties"]["id"])
    result.unused = [str(c.properties.get("id")) for i, c in enumerate(candidates) if i not in used]
    return result


def _nearest(crossing: Crossing, candidates: list[PostCandidate]) -> tuple[int | None, float]:
    best, best_m = None, float("inf")
    for index, candidate in enumerate(candidates):
        metres = _GEOD.inv(crossing.lon, crossing.lat, candidate.lon, candidate.lat)[2]
        if metres < best_m:
            best, best_m = index, metres
    return best, best_m


def _feature(crossing: Crossing, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [crossing.lon, crossing.lat]},
        "properties": properties,
    }


def _closed(crossing: Crossing, number: int) -> dict[str, Any]:
    a, b = crossing.countries
    where = f"{crossing.lat:.5f}, {crossing.lon:.5f}"
    return _feature(
        crossing,
        {
            "id": f"unposted_{a.lower()}_{b.lower()}_{number + 1}",
            "name": f"Unposted crossing {a}–{b} at {where}",
            "countries": [a, b],
            "opening_hours": "off",
            "season": None,
            "delay_minutes": {},
            "profiles_allowed": [],
            "unposted": True,
            "source": (
                f"import: {crossing.road} crosses the {a}/{b} boundary; no border post within "
                f"{MATCH_LIMIT_M / 1000:g} km, so the crossing is closed (add a post to open it)"
            ),
        },
    )


def _from_candidate(crossing: Crossing, candidate: PostCandidate, use: int) -> dict[str, Any]:
    props = dict(candidate.properties)
    base = str(props.get("id"))
    props["id"] = base if use == 1 else f"{base}_{use}"
    props["countries"] = list(props.get("countries") or crossing.countries)
    if candidate.origin == "osm":
        a, b = props["countries"]
        props.update(
            season=None,
            profiles_allowed=sorted({DEFAULT_PROFILE, "ambulance", "patient_handover"}),
            delay_minutes={
                direction_key(x, y): {
                    p: UNKNOWN_DELAY_MIN for p in (DEFAULT_PROFILE, "ambulance", "patient_handover")
                }
                for x, y in ((a, b), (b, a))
            },
            source=(
                f"OSM {base.replace('_', '/')} (barrier=border_control); who may cross and "
                "the delays are not in OSM: citizens, ambulances and handovers with "
                f"{UNKNOWN_DELAY_MIN} min assumed (E) - edit before use"
            ),
        )
    props["snapped_from"] = [candidate.lon, candidate.lat]
    return _feature(crossing, props)
