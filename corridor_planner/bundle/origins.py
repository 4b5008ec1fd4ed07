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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import networkx as nx
import pyproj

from corridor_planner import units
from corridor_planner.bundle.posts import CLOSED_HOURS, BorderPost, direction_key
from corridor_planner.bundle.scenario import Scenario
from corridor_planner.errors import Problem
from corridor_planner.schema import origins as schema
from corridor_planner.schema.origins import ORIGINS_FILE as ORIGINS_FILE


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
    #: a crossing's post (its rules are the corridor's posts' rules); None for a road
    post: BorderPost | None = None

    @property
    def is_post(self) -> bool:
        """Tell whether this leg is a border crossing."""
        return self.post is not None

    @property
    def post_id(self) -> str:
        """Id of the crossing's post, or ``""`` for a road."""
        return self.post.id if self.post is not None else ""


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
            if leg.post is not None:
                here, there = leg.post.countries
                crossing = "citizen" if nationality in leg.post.countries else profile
                seconds = scenario.crossing_seconds(leg.post, here, there, crossing)
                if seconds is None:
                    continue
                leg = replace(leg, minutes=units.minutes(seconds))
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
    checked, problems = schema.check_origins(data, corridor_countries)
    if checked is None:
        return Origins(), problems
    links = _Links(checked, settlements, taken_ids)
    origins = links.origins()
    return (Origins() if links.problems else origins), links.problems


def crossing(post: schema.Post, countries: tuple[str, str]) -> BorderPost:
    """Return the border post of a crossing beyond the corridor, under the corridor's rules.

    A ``closed`` crossing never opens (``opening_hours`` ``off``); its ``minutes`` are the
    time to cross for every profile allowed, in both directions (the legs are two-way).
    """
    delays = {profile: float(post.minutes) for profile in post.profiles_allowed}
    there, back = direction_key(*countries), direction_key(countries[1], countries[0])
    return BorderPost(
        id=post.id,
        name=post.name,
        countries=countries,
        opening_hours=CLOSED_HOURS if post.status == "closed" else "24/7",
        season=None,
        delay_minutes={there: delays, back: dict(delays)},
        profiles_allowed=frozenset(post.profiles_allowed),
        source=post.source,
    )


class _Links:
    """Check what joins the tables of a checked ``origins.toml``, and the corridor's ids."""

    def __init__(
        self,
        checked: schema.OriginsFile,
        settlements: Mapping[str, Settlement],
        taken_ids: set[str] | frozenset[str],
    ) -> None:
        self.checked = checked
        self.settlements = settlements
        self.taken_ids = taken_ids
        self.problems: list[Problem] = []

    def problem(self, entry: str, key: str, message: str) -> None:
        """Record one problem."""
        self.problems.append(Problem(ORIGINS_FILE, entry, key, message))

    def origins(self) -> Origins:
        """Build the Origins; what is wrong is in ``problems``."""
        file = self.checked
        codes = [c.code for c in file.country]
        for code in sorted({c for c in codes if codes.count(c) > 1}):
            self.problem(f"country {code}", "code", "listed twice")
        places = {p.id: _place(p) for p in file.place}
        for place in file.place:
            if place.id in self.settlements or place.id in self.taken_ids:
                self.problem(
                    f"place {place.id}", "id", "is already the id of a settlement, facility or post"
                )
        self._ambiguous_names(file.place)
        sites = tuple(s for s in (self._site(s, places) for s in file.tb_site) if s)
        roads = [r for r in (self._road(r, places) for r in file.road) if r]
        posts = [p for p in (self._post(p, places) for p in file.post) if p]
        ids = [p.id for p in file.place] + [s.id for s in file.tb_site] + [p.id for p in file.post]
        for dup in sorted({i for i in ids if ids.count(i) > 1}):
            self.problem(
                dup, "id", "duplicate id (places, TB sites and posts share one set of ids)"
            )
        countries = {c.code: c.name for c in file.country}
        return Origins(countries, places, sites, (*roads, *posts))

    def _ambiguous_names(self, places: Sequence[schema.Place]) -> None:
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

    def _site(self, site: schema.TbSite, places: Mapping[str, OriginPlace]) -> OriginTbSite | None:
        label = f"tb_site {site.id}"
        before = len(self.problems)
        if site.id in self.taken_ids:
            self.problem(label, "id", "is already the id of a corridor facility or post")
        if site.place not in places:
            self.problem(label, "place", "must be the id of a [[place]]")
        if len(self.problems) > before:
            return None
        return OriginTbSite(
            site.id,
            site.name,
            site.place,
            frozenset(site.services),
            site.source,
            site.confidence,
            site.notes or "",
        )

    def _road(self, road: schema.Road, places: Mapping[str, OriginPlace]) -> Leg | None:
        label = f"road {road.name}"
        before = len(self.problems)
        ends = self._ends(road, label, places)
        if ends is not None and ends.countries[0] != ends.countries[1]:
            self.problem(
                label,
                "to",
                f"a road between {ends.countries[0]} and {ends.countries[1]} with no post on "
                "it: a crossing must be a [[post]]",
            )
        if ends is not None:
            self._no_shorter_than_the_line(label, ends, float(road.km))
        if len(self.problems) > before or ends is None:
            return None
        km, minutes = float(road.km), float(road.minutes)
        return Leg(ends.start, ends.end, road.name, km, minutes, road.source, road.confidence)

    def _post(self, post: schema.Post, places: Mapping[str, OriginPlace]) -> Leg | None:
        label = f"post {post.id}"
        before = len(self.problems)
        if post.id in self.taken_ids:
            self.problem(label, "id", "is already the id of a corridor post or facility")
        ends = self._ends(post, label, places)
        if ends is not None and ends.countries[0] == ends.countries[1]:
            self.problem(
                label, "to", f"a post joins two countries; both ends are in {ends.countries[0]}"
            )
        if ends is not None:
            self._no_shorter_than_the_line(label, ends, float(post.km))
        if len(self.problems) > before or ends is None:
            return None
        return Leg(
            ends.start,
            ends.end,
            post.name,
            float(post.km),
            float(post.minutes),
            post.source,
            post.confidence,
            post=crossing(post, ends.countries),
        )

    def _ends(
        self, leg: schema.Road | schema.Post, label: str, places: Mapping[str, OriginPlace]
    ) -> _Ends | None:
        """Return the two ends of a leg (a corridor settlement may be one end)."""
        found = []
        for key, end in (("from", leg.start), ("to", leg.end)):
            if end in places:
                place = places[end]
                found.append((end, place.country, place.lat, place.lon))
            elif end in self.settlements:
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


def _place(place: schema.Place) -> OriginPlace:
    return OriginPlace(
        id=place.id,
        name=place.name,
        country=place.country,
        lat=float(place.lat),
        lon=float(place.lon),
        population=None if place.population is None else int(place.population),
        year=None if place.year is None else int(place.year),
        source=place.source,
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
