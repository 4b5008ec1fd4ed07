"""Countries of origin beyond the corridor: migrants' home places, TB sites and the way home.

Migrant workers in a corridor come from countries the corridor's road graph does not
reach (Tajik workers in Almaty and Bishkek, say). A bundle's ``origins.toml`` describes
what a continuity pathway needs of such a country, as sourced data rather than a road
graph:

- ``[[place]]``: home and transit places (any country, also a corridor country beyond the
  bundle's box), with their position and, where sourced, population;
- ``[[tb_site]]``: TB and MDR-TB treatment sites at those places;
- ``[[road]]``: road legs between two places of one country, or from a corridor settlement
  (by its id) to a place, each with its sourced length and driving time;
- ``[[post]]``: border crossings between places of two countries, with who may cross,
  whether the crossing is open as of the bundle's date, the time to cross (waiting and
  driving through) and, optionally, the km between its two places. A traveller of one
  of the post's two countries crosses as a ``citizen``.

A road may never join two countries: a crossing is always a post, as in the corridor.
Scenarios apply to posts here as to the corridor's own (``default_regime``,
``restricted_profiles``, ``delay_multiplier``), so "borders closed" closes them too.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

import networkx as nx
import pyproj

from corridor_planner import settings, units
from corridor_planner.bundle.scenario import Scenario
from corridor_planner.errors import Problem

ORIGINS_FILE = "origins.toml"

#: Keys each table may hold (a misspelt key would drop a sourced figure silently).
KEYS: dict[str, set[str]] = {
    "country": {"code", "name", "source"},
    "place": {"id", "name", "country", "lat", "lon", "population", "year", "source"},
    "tb_site": {"id", "name", "place", "services", "notes", "source", "confidence"},
    "road": {"from", "to", "name", "km", "minutes", "source", "confidence"},
    "post": {
        "id",
        "name",
        "from",
        "to",
        "km",
        "status",
        "profiles_allowed",
        "minutes",
        "source",
        "confidence",
    },
}
TB_SERVICES = frozenset({"tb", "tb_mdr"})
POST_STATUS = ("open", "closed")


@dataclass(frozen=True)
class OriginPlace:
    """A place beyond the corridor: a migrant's home or a town on the way there."""

    id: str
    name: str
    country: str
    lat: float
    lon: float
    population: int | None
    year: int | None
    source: str


@dataclass(frozen=True)
class OriginTbSite:
    """A TB treatment site at an origin place."""

    id: str
    name: str
    place: str
    services: frozenset[str]
    source: str
    confidence: str
    notes: str = ""


@dataclass(frozen=True)
class Leg:
    """One road leg or border crossing of the way home beyond the corridor."""

    start: str  # place or corridor settlement id
    end: str
    name: str
    km: float
    minutes: float
    source: str
    confidence: str
    post_id: str = ""  # set for a crossing: the post's id
    status: str = "open"
    profiles_allowed: frozenset[str] = frozenset()
    countries: tuple[str, ...] = ()  # a crossing's two countries

    @property
    def is_post(self) -> bool:
        """Tell whether this leg is a border crossing."""
        return bool(self.post_id)


@dataclass(frozen=True)
class WayHome:
    """The way home beyond the corridor: from a corridor settlement (the exit) to home."""

    exit: str
    legs: tuple[Leg, ...]
    minutes: float
    km: float

    @property
    def posts(self) -> list[str]:
        """Names of the border posts crossed beyond the corridor."""
        return [leg.name for leg in self.legs if leg.is_post]


@dataclass(frozen=True)
class Origins:
    """A bundle's countries of origin (``origins.toml``); empty when it has none."""

    countries: Mapping[str, str] = field(default_factory=dict)
    places: Mapping[str, OriginPlace] = field(default_factory=dict)
    tb_sites: tuple[OriginTbSite, ...] = ()
    legs: tuple[Leg, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.countries)

    def place(self, key: str, country: str | None = None) -> OriginPlace | None:
        """Return the place with this id or name (case-insensitive), optionally in a country."""
        wanted = key.strip().casefold()
        for place in self.places.values():
            if country is not None and place.country != country:
                continue
            if wanted in (place.id.casefold(), place.name.casefold()):
                return place
        return None

    def post_ids(self) -> set[str]:
        """Ids of the posts beyond the corridor (a scenario may set their regime)."""
        return {leg.post_id for leg in self.legs if leg.is_post}

    def exits(self) -> list[str]:
        """Corridor settlement ids where a way home leaves the corridor."""
        ends = {end for leg in self.legs for end in (leg.start, leg.end)}
        return sorted(ends - set(self.places))

    def ways_home(
        self, home: str, profile: str, scenario: Scenario, nationality: str = ""
    ) -> dict[str, WayHome]:
        """Fastest way from each exit to ``home`` beyond the corridor, for every exit that has one.

        Parameters
        ----------
        home : str
            Id of the home place.
        profile : str
            Traveller profile at the posts.
        scenario : Scenario
            Regimes and delay multiplier for the posts.
        nationality : str
            The traveller's country: at a post of that country they cross as a
            ``citizen`` (a Tajik at a Kyrgyz - Tajik post, say), elsewhere as ``profile``.

        Returns
        -------
        dict
            ``{exit settlement id: WayHome}``; empty when no exit leads home (closed
            posts, say). Legs are two-way with one time, so one search from home serves
            every exit.
        """
        graph = self._graph(profile, scenario, nationality)
        if home not in graph:
            return {}
        minutes, paths = nx.single_source_dijkstra(graph, home, weight="minutes")
        ways = {}
        for exit_id in self.exits():
            if exit_id not in paths:
                continue
            path = paths[exit_id][::-1]  # from the exit home
            legs = tuple(
                _oriented(graph.edges[a, b]["leg"], a, b) for a, b in itertools.pairwise(path)
            )
            ways[exit_id] = WayHome(exit_id, legs, minutes[exit_id], sum(leg.km for leg in legs))
        return ways

    def follow_up(self, home: str, specialty: str) -> tuple[OriginTbSite, float] | None:
        """Nearest site at home offering ``specialty``, by road without crossing a border."""
        country = self.places[home].country
        graph = nx.Graph()
        graph.add_node(home)
        for leg in self.legs:
            if not leg.is_post:
                _add_faster(graph, leg)
        reach = nx.single_source_dijkstra_path_length(graph, home, weight="minutes")
        sites = [
            (reach[site.place], site)
            for site in self.tb_sites
            if specialty in site.services
            and self.places[site.place].country == country
            and site.place in reach
        ]
        if not sites:
            return None
        minutes, site = min(sites, key=lambda pair: (pair[0], pair[1].id))
        return site, minutes

    def _graph(self, profile: str, scenario: Scenario, nationality: str) -> nx.Graph:
        """Return the road legs and the posts this traveller may cross under the scenario."""
        graph = nx.Graph()
        for leg in self.legs:
            if leg.is_post:
                crossing = "citizen" if nationality in leg.countries else profile
                minutes = _crossing_minutes(leg, crossing, scenario)
                if minutes is None:
                    continue
                leg = replace(leg, minutes=minutes)
            _add_faster(graph, leg)
        return graph


def _oriented(leg: Leg, start: str, end: str) -> Leg:
    """Return the leg as travelled from ``start`` to ``end`` (legs are two-way)."""
    return leg if leg.start == start else replace(leg, start=start, end=end)


def _add_faster(graph: nx.Graph, leg: Leg) -> None:
    """Add a leg unless a faster one already joins its two ends."""
    if graph.has_edge(leg.start, leg.end) and graph.edges[leg.start, leg.end]["minutes"] <= (
        leg.minutes
    ):
        return
    graph.add_edge(leg.start, leg.end, minutes=leg.minutes, leg=leg)


def _crossing_minutes(post: Leg, profile: str, scenario: Scenario) -> float | None:
    """Minutes to cross a post here, or None when this profile cannot cross."""
    if post.status != "open" or profile not in post.profiles_allowed:
        return None
    if not scenario.lets_cross(post.post_id, profile):
        return None
    return post.minutes * scenario.delay_multiplier


# reading origins.toml ---------------------------------------------------------------------

#: Slack (km) between a leg's km and the straight line between its two places: positions
#: are given at town level (within 15 km), so a leg may look a little shorter than the line.
POSITION_SLACK_KM = 20.0


@dataclass(frozen=True)
class Settlement:
    """What the reader needs of a corridor settlement a way home may leave from."""

    country: str
    lat: float
    lon: float


def read_origins(
    data: dict[str, Any],
    settlements: Mapping[str, Settlement],
    corridor_countries: Sequence[str],
    taken_ids: set[str] | frozenset[str] = frozenset(),
) -> tuple[Origins, list[Problem]]:
    """Build Origins from a parsed ``origins.toml``; return it with the problems found.

    Parameters
    ----------
    data : dict
        The parsed file.
    settlements : mapping
        The corridor's settlements by id (the exits a road may start from).
    corridor_countries : sequence of str
        The corridor's countries (a country of origin lies beyond them).
    taken_ids : set of str
        Ids the corridor already uses (its posts and facilities): a scenario or a
        result could not tell an origins entry with the same id from them.
    """
    reader = _Reader(data, settlements, corridor_countries, taken_ids)
    return reader.origins(), reader.problems


class _Reader:
    """Check every table of ``origins.toml`` and collect problems with file, entry, field."""

    def __init__(
        self,
        data: dict[str, Any],
        settlements: Mapping[str, Settlement],
        corridor: Sequence[str],
        taken_ids: set[str] | frozenset[str],
    ) -> None:
        self.data = data
        self.settlements = settlements
        self.corridor_countries = tuple(corridor)
        self.taken_ids = taken_ids
        self.problems: list[Problem] = []

    def problem(self, entry: str, key: str, message: str) -> None:
        """Record one problem."""
        self.problems.append(Problem(ORIGINS_FILE, entry, key, message))

    def origins(self) -> Origins:
        """Read every table; what is wrong is in ``problems``."""
        self._unknown_keys()
        country_list = [
            item for i, item in enumerate(self._tables("country")) if self._country(i, item)
        ]
        countries = {item["code"]: item["name"] for item in country_list}
        codes = [item["code"] for item in country_list]
        for code in sorted({c for c in codes if codes.count(c) > 1}):
            self.problem(f"country {code}", "code", "listed twice")
        place_list = [
            p for i, item in enumerate(self._tables("place")) if (p := self._place(i, item))
        ]
        places = {p.id: p for p in place_list}
        self._ambiguous_names(place_list)
        sites = tuple(
            s
            for i, item in enumerate(self._tables("tb_site"))
            if (s := self._site(i, item, places))
        )
        roads = [
            r for i, item in enumerate(self._tables("road")) if (r := self._road(i, item, places))
        ]
        posts = [
            c for i, item in enumerate(self._tables("post")) if (c := self._post(i, item, places))
        ]
        ids = [p.id for p in place_list] + [s.id for s in sites] + [c.post_id for c in posts]
        self._duplicates(ids)
        return Origins(countries, places, sites, (*roads, *posts))

    # tables ------------------------------------------------------------------------------

    def _unknown_keys(self) -> None:
        for table in sorted(set(self.data) - set(KEYS)):
            known = ", ".join(f"[[{k}]]" for k in KEYS)
            self.problem("-", table, f"unknown table (known: {known})")
        for table, allowed in KEYS.items():
            items = self.data.get(table, [])
            for index, item in enumerate(items if isinstance(items, list) else []):
                if isinstance(item, dict):
                    for key in sorted(set(item) - allowed):
                        self.problem(_label(table, index, item), key, "unknown key")

    def _tables(self, key: str) -> list[Any]:
        items = self.data.get(key, [])
        if not isinstance(items, list):
            self.problem("-", key, f"must hold [[{key}]] tables")
            return []
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                self.problem(f"{key} #{index}", "-", "must be a table")
        return [item if isinstance(item, dict) else None for item in items]

    def _country(self, index: int, item: dict[str, Any] | None) -> bool:
        if item is None:
            return False
        label = _label("country", index, item)
        before = len(self.problems)
        if not _is_country_code(item.get("code")):
            self.problem(label, "code", "must be an ISO 3166 alpha-2 code (TJ)")
        elif item["code"] in self.corridor_countries:
            self.problem(label, "code", "is a corridor country, not one beyond the corridor")
        self._text(item, "name", label)
        self._text(item, "source", label)
        return len(self.problems) == before

    def _place(self, index: int, item: dict[str, Any] | None) -> OriginPlace | None:
        """Check a place; it may lie in any country (an origin, a transit or a corridor country)."""
        if item is None:
            return None
        label = _label("place", index, item)
        before = len(self.problems)
        place_id, name, source = (self._text(item, k, label) for k in ("id", "name", "source"))
        if place_id in self.settlements or place_id in self.taken_ids:
            self.problem(label, "id", "is already the id of a settlement, facility or post")
        country = item.get("country")
        if not _is_country_code(country):
            self.problem(label, "country", "must be an ISO 3166 alpha-2 code (TJ)")
        lat = self._number(item, "lat", "latitude", label)
        lon = self._number(item, "lon", "longitude", label)
        population = year = None
        if item.get("population") is not None or item.get("year") is not None:
            if item.get("population") is None or item.get("year") is None:
                self.problem(
                    label, "year", "a population needs its year, and a year its population"
                )
            else:
                population = self._number(item, "population", "population", label)
                year = self._number(item, "year", "population_year", label)
        if len(self.problems) > before:
            return None
        return OriginPlace(
            id=place_id,
            name=name,
            country=str(country),
            lat=lat,
            lon=lon,
            population=None if population is None else int(population),
            year=None if year is None else int(year),
            source=source,
        )

    def _ambiguous_names(self, places: Sequence[OriginPlace]) -> None:
        """Two places of one country with one name: ``--home`` could not tell them apart."""
        seen: dict[tuple[str, str], str] = {}
        for place in places:
            key = (place.country, place.name.casefold())
            if key in seen:
                self.problem(
                    f"place {place.id}",
                    "name",
                    f"{place.country} already has a place of this name ({seen[key]})",
                )
            seen.setdefault(key, place.id)

    def _site(
        self, index: int, item: dict[str, Any] | None, places: Mapping[str, OriginPlace]
    ) -> OriginTbSite | None:
        if item is None:
            return None
        label = _label("tb_site", index, item)
        before = len(self.problems)
        site_id, name, source, confidence = (
            self._text(item, k, label) for k in ("id", "name", "source", "confidence")
        )
        if site_id in self.taken_ids:
            self.problem(label, "id", "is already the id of a corridor facility or post")
        place = item.get("place")
        if not isinstance(place, str) or place not in places:
            self.problem(label, "place", "must be the id of a [[place]]")
        services = _strings(item.get("services"))
        if not services or not set(services) <= TB_SERVICES:
            self.problem(label, "services", 'must list "tb" and/or "tb_mdr"')
        notes = item.get("notes", "")
        if not isinstance(notes, str):
            self.problem(label, "notes", "must be a text")
        if len(self.problems) > before or services is None:
            return None
        return OriginTbSite(
            site_id, name, str(place), frozenset(services), source, confidence, notes
        )

    def _road(
        self, index: int, item: dict[str, Any] | None, places: Mapping[str, OriginPlace]
    ) -> Leg | None:
        if item is None:
            return None
        label = _label("road", index, item)
        before = len(self.problems)
        name, source, confidence = (
            self._text(item, k, label) for k in ("name", "source", "confidence")
        )
        ends = self._ends(item, label, places)
        km = self._number(item, "km", "distance_km", label)
        minutes = self._number(item, "minutes", "leg_minutes", label)
        if ends is not None and ends.countries[0] != ends.countries[1]:
            self.problem(
                label,
                "to",
                f"a road between {ends.countries[0]} and {ends.countries[1]} with no post on "
                "it: a crossing must be a [[post]]",
            )
        if ends is not None and math.isfinite(km):
            self._no_shorter_than_the_line(label, ends, km)
        top = settings.RANGES["speed_kph"].high
        if math.isfinite(km) and math.isfinite(minutes) and units.speed_kph(km, minutes) > top:
            self.problem(
                label, "minutes", f"{km:g} km in {minutes:g} min is faster than {top:g} km/h"
            )
        if len(self.problems) > before or ends is None:
            return None
        return Leg(ends.start, ends.end, name, km, minutes, source, confidence)

    def _post(
        self, index: int, item: dict[str, Any] | None, places: Mapping[str, OriginPlace]
    ) -> Leg | None:
        if item is None:
            return None
        label = _label("post", index, item)
        before = len(self.problems)
        post_id, name, source, confidence = (
            self._text(item, k, label) for k in ("id", "name", "source", "confidence")
        )
        if post_id in self.taken_ids:
            self.problem(label, "id", "is already the id of a corridor post or facility")
        ends = self._ends(item, label, places)
        if ends is not None and ends.countries[0] == ends.countries[1]:
            self.problem(
                label, "to", f"a post joins two countries; both ends are in {ends.countries[0]}"
            )
        status = item.get("status")
        if status not in POST_STATUS:
            self.problem(label, "status", f"must be one of {', '.join(POST_STATUS)}")
        profiles = _strings(item.get("profiles_allowed"))
        if not profiles or not set(profiles) <= settings.PROFILES:
            known = ", ".join(sorted(settings.PROFILES))
            self.problem(label, "profiles_allowed", f"must list traveller profiles ({known})")
        minutes = self._number(item, "minutes", "delay_minutes", label)
        km = self._number(item, "km", "crossing_km", label) if "km" in item else 0.0
        if ends is not None and math.isfinite(km):
            self._no_shorter_than_the_line(label, ends, km)
        if len(self.problems) > before or ends is None or profiles is None:
            return None
        return Leg(
            ends.start,
            ends.end,
            name,
            km,
            minutes,
            source,
            confidence,
            post_id=post_id,
            status=str(status),
            profiles_allowed=frozenset(profiles),
            countries=ends.countries,
        )

    # fields ------------------------------------------------------------------------------

    def _ends(
        self, item: dict[str, Any], label: str, places: Mapping[str, OriginPlace]
    ) -> _Ends | None:
        """Return the two ends of a leg (a corridor settlement may be one end)."""
        found = []
        for key in ("from", "to"):
            end = item.get(key)
            if isinstance(end, str) and end in places:
                place = places[end]
                found.append((end, place.country, place.lat, place.lon))
            elif isinstance(end, str) and end in self.settlements:
                town = self.settlements[end]
                found.append((end, town.country, town.lat, town.lon))
            else:
                self.problem(label, key, "must be the id of a [[place]] or a corridor settlement")
        if len(found) < 2:
            return None
        (start, start_country, *a), (end, end_country, *b) = found
        if start == end:
            self.problem(label, "to", "joins a place to itself")
            return None
        if start in self.settlements and end in self.settlements:
            self.problem(label, "to", "joins two corridor settlements: that is the road graph's")
            return None
        return _Ends(start, end, (start_country, end_country), _km_between(*a, *b))

    def _no_shorter_than_the_line(self, label: str, ends: _Ends, km: float) -> None:
        """Refuse a leg shorter than the straight line between its places (with slack)."""
        if km + POSITION_SLACK_KM < ends.straight_km:
            self.problem(
                label,
                "km",
                f"{km:g} km, but its two places are {ends.straight_km:,.0f} km apart in a "
                "straight line",
            )

    def _text(self, item: dict[str, Any], key: str, label: str) -> str:
        value = item.get(key)
        if not isinstance(value, str) or not value.strip():
            self.problem(label, key, "must be a non-empty text")
            return ""
        if len(value) > 2000:
            self.problem(label, key, "must be at most 2,000 characters")
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            self.problem(label, key, "must be one line with no control characters")
        return value

    def _number(self, item: dict[str, Any], key: str, range_name: str, label: str) -> float:
        value = item.get(key)
        complaint = settings.RANGES[range_name].problem(value)
        if complaint:
            self.problem(label, key, complaint)
            return math.nan
        return float(cast(float, value))

    def _duplicates(self, ids: Sequence[str]) -> None:
        for dup in sorted({i for i in ids if ids.count(i) > 1}):
            self.problem(
                dup, "id", "duplicate id (places, TB sites and posts share one set of ids)"
            )


@dataclass(frozen=True)
class _Ends:
    start: str
    end: str
    countries: tuple[str, str]
    straight_km: float


def _km_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km."""
    geod = pyproj.Geod(ellps="WGS84")
    return float(geod.inv(lon1, lat1, lon2, lat2)[2]) / 1000.0


def _strings(value: Any) -> list[str] | None:
    """Return the value as a list of texts, or None when it is anything else."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def _label(table: str, index: int, item: dict[str, Any]) -> str:
    name = item.get("id") or item.get("name")
    return f"{table} {name}" if isinstance(name, str) and name else f"{table} #{index}"


def _is_country_code(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 2 and value.isalpha() and value.isupper()
