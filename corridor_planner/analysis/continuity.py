"""TB continuity across a border: where a migrant starts treatment, the way home, follow-up.

A migrant worker diagnosed with TB abroad must keep up treatment for 6 to 24 months. For
each host settlement of the corridor outside the migrant's home country, this finds:

- the site where treatment starts: the fastest TB site that takes the migrant under the
  cover rules in force (the host country's, under an agreement or its own law, or the home
  country's, across the border);
- the route home to the migrant's home settlement, with its border posts and waits;
- the follow-up (DOT) site nearest that home settlement, which takes them as a resident.

Where a piece cannot be found (no site takes the migrant, no route crosses the border, no
site at home), the row says which and why instead of leaving it out.

Migrants may also come from a country beyond the corridor (Tajikistan for Almaty -
Bishkek): the bundle's ``origins.toml`` (:mod:`corridor_planner.bundle.origins`) then gives their
home places, the TB sites there and the sourced road legs and posts from the corridor's
edge home. The way home is the corridor route to an exit settlement plus those legs; its
part beyond the corridor is sourced leg times, not the road graph, and is listed leg by
leg with its sources.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from corridor_planner.analysis.referral import pathways
from corridor_planner.bundle.cover_rules import Patient
from corridor_planner.bundle.origins import Leg, OriginPlace, Origins
from corridor_planner.errors import CorridorPlannerError, InvalidArgumentError, NotFoundError
from corridor_planner.network.places import resolve_place
from corridor_planner.routing.routes import Route, find_route
from corridor_planner.routing.traveltimes import CorridorTravelTimes
from corridor_planner.settings import EAEU_MEMBERS

#: Services a continuity pathway can be asked for.
TB_SERVICES = ("tb", "tb_mdr")


@dataclass
class ContinuityPathway:
    """One host settlement's continuity pathway for a migrant of one nationality."""

    host: str
    host_country: str
    start_site: str | None
    start_country: str | None
    start_minutes: float | None
    start_rule: str
    home: str
    home_minutes: float | None
    home_km: float | None
    border_posts: list[str] = field(default_factory=list)
    follow_up_site: str | None = None
    follow_up_minutes: float | None = None
    gaps: list[str] = field(default_factory=list)
    beyond_corridor: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # facts that are no gap

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return dict(self.__dict__)


def migrant_profile(nationality: str) -> str:
    """Return the traveller profile of a migrant worker: EAEU worker or third-country."""
    return "eaeu_worker" if nationality in EAEU_MEMBERS else "third_country"


def migrant_stock_caveat(nationality: str) -> str:
    """Say what the continuity rows cannot tell: how many migrants each host holds.

    Every output of :func:`continuity_pathways` must carry it (tables and JSON alike).
    """
    return (
        f"How many {nationality} migrants live in each host is not in the bundle (settlements "
        "record no migrant stock by nationality); the rows are per host settlement."
    )


def continuity_pathways(
    times: CorridorTravelTimes,
    nationality: str,
    home: str,
    *,
    specialty: str = "tb",
    profile: str | None = None,
) -> list[ContinuityPathway]:
    """Continuity pathways for migrants of ``nationality`` living in the other countries.

    Parameters
    ----------
    times : CorridorTravelTimes
        Travel times under the scenario (its agreements switch cover rules on).
    nationality : str
        The migrants' country (whose cover they hold): one of the corridor's countries, or
        a country of origin of the bundle's ``origins.toml``.
    home : str
        Their home settlement: a place name, id or ``lat,lon`` in ``nationality``; for a
        country of origin, a place of ``origins.toml``.
    specialty : str
        ``tb`` or ``tb_mdr``.
    profile : str, optional
        Their traveller profile at border posts (default: :func:`migrant_profile`).

    Raises
    ------
    InvalidArgumentError
        For a nationality the bundle does not know, an unknown home place or a service
        that is not TB.
    """
    network = times.network
    corridor = network.corridor
    origins = corridor.origins
    profile = profile or migrant_profile(nationality)
    if specialty not in TB_SERVICES:
        raise InvalidArgumentError(f"continuity is for {' or '.join(TB_SERVICES)}, not {specialty}")
    if nationality not in corridor.countries and nationality not in origins.countries:
        beyond = f"; beyond it, {', '.join(origins.countries)}" if origins else ""
        raise InvalidArgumentError(
            f"{nationality} is not a country of corridor {corridor.id} "
            f"({', '.join(corridor.countries)}{beyond}): its places and TB sites are not in "
            f"the bundle (a country of origin needs them in {corridor.id}/origins.toml)"
        )
    home_place = _home_beyond(network, origins, nationality, home)
    if home_place is None:
        follow_up, follow_up_minutes, follow_up_gap = _follow_up(times, specialty, home)
        ways_beyond: _Beyond | None = None
    else:
        follow_up, follow_up_minutes, follow_up_gap = _follow_up_beyond(
            origins, home_place, specialty
        )
        ways_beyond = _Beyond(times, home_place, profile)
    migrant = Patient(profile, nationality=nationality)
    try:
        found, refused = pathways(times, specialty, migrant, top=1, detail_limit=0)
    except NotFoundError:  # no attached site of the corridor offers it: each row says so
        found, refused = [], []
    starts = {p.origin_id: p for p in found}
    why_not = {r.origin_id: r.reason for r in refused}
    hosts = corridor.population[corridor.population["country"] != nationality]
    rows = []
    for host in hosts.itertuples():
        if network.node_of("settlement", host.id) is None:
            continue  # not attached: said by left_out in every result
        start = starts.get(host.id)
        row = ContinuityPathway(
            host=host.name,
            host_country=host.country,
            start_site=start.destination if start else None,
            start_country=start.destination_country if start else None,
            start_minutes=round(start.minutes, 1) if start else None,
            start_rule=start.cover_rule if start else "",
            home=home_place.name if home_place is not None else home,
            home_minutes=None,
            home_km=None,
            follow_up_site=follow_up,
            follow_up_minutes=follow_up_minutes,
        )
        if follow_up_gap:
            row.gaps.append(follow_up_gap)
        if ways_beyond is None:
            _route_home(times, host.id, home, profile, row)
        else:
            ways_beyond.route(host.id, row)
        if start is None:
            why = why_not.get(host.id, f"no TB site of the corridor offers {specialty}")
            if home_place is not None and _start_at_home(row, home_place):
                row.notes.append(
                    f"no site in the corridor takes them ({why}): treatment starts at home, "
                    "at the follow-up site"
                )
            else:
                row.gaps.insert(0, f"no site takes them: {why}")
        rows.append(row)
    return rows


def _start_at_home(row: ContinuityPathway, home: OriginPlace) -> bool:
    """Start treatment at the home site when no corridor site takes the migrant.

    The home country covers its own nationals (national cover): the start is the
    follow-up site, reached by the way home and the road from the home place.
    """
    if row.home_minutes is None or row.follow_up_site is None or row.follow_up_minutes is None:
        return False
    row.start_site, row.start_country = row.follow_up_site, home.country
    row.start_minutes = round(row.home_minutes + row.follow_up_minutes, 1)
    row.start_rule = "national"
    return True


def _home_beyond(network: Any, origins: Origins, nationality: str, home: str) -> OriginPlace | None:
    """Return the home place beyond the corridor, or None for a home on its road graph.

    A country of origin's home must be a place of ``origins.toml``; a corridor country's
    home is a place of the corridor, or else one of ``origins.toml`` in that country
    (Batken for a Kyrgyz worker).
    """
    place = origins.place(home, nationality)
    if nationality in origins.countries:
        if place is None:
            known = sorted(p.name for p in origins.places.values() if p.country == nationality)
            raise InvalidArgumentError(
                f"no place {home!r} in {nationality} in origins.toml (known: {', '.join(known)})"
            )
        return place
    if place is None:
        return None
    try:
        resolve_place(network, home)
    except CorridorPlannerError:
        return place  # not on the corridor's roads: the way home runs beyond it
    return None


def _follow_up_beyond(
    origins: Origins, home: OriginPlace, specialty: str
) -> tuple[str | None, float | None, str]:
    """Return the follow-up site at home beyond the corridor, its minutes, or why none."""
    found = origins.follow_up(home.id, specialty)
    if found is None:
        return (
            None,
            None,
            f"no follow-up site near {home.name}: no {specialty} site in {home.country} "
            "in origins.toml can be reached from it by road without crossing a border",
        )
    site, minutes = found
    return site.name, round(minutes, 1), ""


class _Beyond:
    """The ways home beyond the corridor, searched once, and each host's best exit."""

    def __init__(self, times: CorridorTravelTimes, home: OriginPlace, profile: str) -> None:
        corridor = times.network.corridor
        self.times, self.home, self.profile = times, home, profile
        self.origins = corridor.origins
        self.ways = self.origins.ways_home(home.id, profile, times.scenario, home.country)
        self.names = dict(zip(corridor.population["id"], corridor.population["name"], strict=True))
        self.names.update({p.id: p.name for p in self.origins.places.values()})

    def route(self, host_id: str, row: ContinuityPathway) -> None:
        """Fill the row's way home: the corridor route to the best exit, then the legs."""
        inside: dict[str, Route] = {}
        for exit_id in self.ways:
            try:
                inside[exit_id] = _route(self.times, host_id, exit_id, self.profile)
            except CorridorPlannerError:
                continue  # this exit cannot be reached: another may
        if not inside:
            row.gaps.append(self._no_way_home())
            return
        best = min(inside, key=lambda e: (inside[e].minutes + self.ways[e].minutes, e))
        route, way = inside[best], self.ways[best]
        row.home_minutes = round(route.minutes + way.minutes, 1)
        row.home_km = round(route.km + way.km, 1)
        row.border_posts = [*route.border_posts, *way.posts]
        row.beyond_corridor = [self._leg(leg) for leg in way.legs]

    def _no_way_home(self) -> str:
        """Say why no way home was found: the crossings beyond, or the roads to the exits."""
        scenario = self.times.scenario.name
        if not self.ways:
            crossings = ", ".join(sorted(leg.name for leg in self.origins.legs if leg.is_post))
            return (
                f"no way home: under scenario {scenario} no open crossing beyond the corridor "
                f"({crossings}) lets them reach {self.home.name} (as {self.profile}, or as a "
                f"citizen at a post of {self.home.country})"
            )
        exits = ", ".join(self.names.get(e, e) for e in sorted(self.ways))
        return (
            f"no way home: under scenario {scenario} no route inside the corridor reaches "
            f"{exits}, where the way to {self.home.name} leaves it"
        )

    def _leg(self, leg: Leg) -> dict[str, Any]:
        return {
            "from": self.names.get(leg.start, leg.start),
            "to": self.names.get(leg.end, leg.end),
            "name": leg.name,
            "crossing": leg.is_post,
            "km": leg.km,
            "minutes": round(leg.minutes, 1),
            "source": leg.source,
            "confidence": leg.confidence,
        }


def describe_leg(leg: dict[str, Any]) -> str:
    """Say a leg beyond the corridor in one line: ends, km, minutes, source, confidence."""
    what = f"{leg['km']:g} km" + (" across the border" if leg["crossing"] else "")
    return (
        f"{leg['from']} - {leg['to']}: {leg['name']}, {what}, {leg['minutes']:.0f} min "
        f"({leg['confidence']}: {leg['source']})"
    )


def _follow_up(
    times: CorridorTravelTimes, specialty: str, home: str
) -> tuple[str | None, float | None, str]:
    """Return the TB site nearest home that takes its residents, its minutes, or why none."""
    try:
        found, refused = pathways(times, specialty, Patient("citizen"), origin=home, top=1)
    except NotFoundError as exc:
        return None, None, f"no follow-up site near {home}: {exc}"
    if found:
        return found[0].destination, round(found[0].minutes, 1), ""
    reason = refused[0].reason if refused else f"no site offers {specialty}"
    return None, None, f"no follow-up site near {home}: {reason}"


def _route_home(
    times: CorridorTravelTimes, host_id: str, home: str, profile: str, row: ContinuityPathway
) -> None:
    try:
        route = _route(times, host_id, home, profile)
    except CorridorPlannerError as exc:
        row.gaps.append(f"no way home: {exc}")
        return
    row.home_minutes = round(route.minutes, 1)
    row.home_km = round(route.km, 1)
    row.border_posts = list(route.border_posts)


#: Host settlements a report lists per nationality (the most populous; the rest are counted).
REPORT_HOSTS = 5


def report_homes(corridor: Any) -> dict[str, str]:
    """Return ``{nationality: home place id}`` a report follows migrants home to.

    For each corridor country its most populous settlement; for each country of origin in
    ``origins.toml`` its most populous place (by id when none has a population).
    """
    homes: dict[str, str] = {}
    population = corridor.population
    for country in corridor.countries:
        own = population[population["country"] == country]
        if not own.empty:
            homes[country] = str(own.sort_values("population", ascending=False).iloc[0]["id"])
    for country in corridor.origins.countries:
        places = [p for p in corridor.origins.places.values() if p.country == country]
        if places:  # the most populous; places with no population come last, by id
            homes[country] = max(places, key=lambda p: (p.population or -1, p.id)).id
    return homes


def continuity_summary(times: CorridorTravelTimes, specialty: str = "tb") -> list[dict[str, Any]]:
    """TB continuity for the report: per nationality, its largest hosts and what is missing.

    Each entry has the nationality, the home place, the profile, the rows of the
    ``REPORT_HOSTS`` most populous host settlements, how many hosts have a complete
    pathway and how many lack a piece, and the legs beyond the corridor (with sources).
    """
    corridor = times.network.corridor
    if not any(specialty in services for services in corridor.facilities["services"]):
        return []  # the bundle has no TB site: the report says nothing rather than all gaps
    names = dict(zip(corridor.population["id"], corridor.population["name"], strict=True))
    names.update({p.id: p.name for p in corridor.origins.places.values()})
    people = dict(zip(corridor.population["name"], corridor.population["population"], strict=True))
    entries = []
    for nationality, home in report_homes(corridor).items():
        profile = migrant_profile(nationality)
        if profile != times.profile:
            times = CorridorTravelTimes(times.network, profile, times.scenario)
        rows = continuity_pathways(
            times, nationality, names.get(home, home), specialty=specialty, profile=profile
        )
        if not rows:
            continue
        ranked = sorted(rows, key=lambda r: -float(people.get(r.host, 0)))
        legs = next((r.beyond_corridor for r in ranked if r.beyond_corridor), [])
        entries.append(
            {
                "nationality": nationality,
                "home": names.get(home, home),
                "profile": profile,
                "rows": [r.to_dict() for r in ranked[:REPORT_HOSTS]],
                "complete": sum(1 for r in rows if not r.gaps),
                "incomplete": sum(1 for r in rows if r.gaps),
                "beyond_corridor": legs,
            }
        )
    return entries


def _route(times: CorridorTravelTimes, origin: str, destination: str, profile: str) -> Route:
    """Route inside the corridor under the times' scenario (reusing them for their profile)."""
    return find_route(
        times.network,
        origin,
        destination,
        profile=profile,
        scenario=times.scenario,
        times=times if times.profile == profile else None,
    )
