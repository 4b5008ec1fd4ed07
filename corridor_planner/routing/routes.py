"""Routes between two places for a traveller profile under a scenario, as legs."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Hashable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
from shapely.geometry import LineString

from corridor_planner import settings, units
from corridor_planner.bundle.posts import check_profile
from corridor_planner.bundle.scenario import BASELINE, Scenario
from corridor_planner.errors import NoRouteError, NotFoundError
from corridor_planner.network.graph import CorridorNetwork
from corridor_planner.network.places import Place, resolve_place
from corridor_planner.network.roads import edge_kind, way_id
from corridor_planner.network.snapping import Entry
from corridor_planner.routing.reasons import why_unreachable
from corridor_planner.routing.traveltimes import CorridorTravelTimes, CrossingUse, RoutedPath


@dataclass
class Leg:
    """One stretch of a route: a road, a border crossing or an access leg."""

    kind: str  # "road", "border_post" or "access"
    name: str
    ref: str
    km: float
    minutes: float
    country: str = ""  # for a border post: the direction, e.g. "KZ->KG"
    wait_minutes: float = 0.0  # for a border post: waiting for it to open


@dataclass
class Route:
    """A route with its total time and distance, posts crossed and legs."""

    origin: str
    destination: str
    profile: str
    scenario: str
    depart: str | None
    minutes: float
    km: float
    border_posts: list[str]
    waits: list[dict[str, Any]] = field(default_factory=list)
    legs: list[Leg] = field(default_factory=list)
    nodes: list[Hashable] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (``minutes``, ``km``, ``border_posts``, ``legs``, ...)."""
        data = asdict(self)
        data.pop("nodes")
        return data


def find_route(
    network: CorridorNetwork,
    origin: str | Place,
    destination: str | Place,
    profile: str = settings.DEFAULT_PROFILE,
    scenario: Scenario = BASELINE,
    depart: dt.datetime | None = None,
    times: CorridorTravelTimes | None = None,
) -> Route:
    """Fastest route between two places for ``profile`` under ``scenario``.

    Parameters
    ----------
    network : CorridorNetwork
        The built graph.
    origin, destination : str or Place
        Names, ids or ``lat,lon`` strings (see :func:`resolve_place`), or places.
    profile : str
        Traveller profile (decides which posts may be crossed and their delays).
    scenario : Scenario
        Border regimes and delay multipliers.
    depart : datetime, optional
        Departure time; a traveller reaching a closed post waits until it opens. Defaults
        to the scenario's; with neither, posts count as open.
    times : CorridorTravelTimes, optional
        Precompiled travel times for this profile and scenario (to route many pairs).

    Raises
    ------
    NotFoundError
        If a place or the profile is unknown.
    NoRouteError
        If no route exists for this profile and scenario.
    """
    complaint = check_profile(profile)
    if complaint:
        raise NotFoundError(complaint)
    start = origin if isinstance(origin, Place) else resolve_place(network, origin)
    end = destination if isinstance(destination, Place) else resolve_place(network, destination)
    if times is None:
        times = CorridorTravelTimes(network, profile, scenario, depart=depart)
    way_factors = scenario.way_time_factors()
    leave_all = start.options(network, leaving=True)
    arrive_all = end.options(network, leaving=False)
    leave = _open_options(leave_all, network, way_factors)
    arrive = _open_options(arrive_all, network, way_factors)

    def no_route(cause: str) -> NoRouteError:
        return NoRouteError(
            f"no route from {start.label} to {end.label} for a {profile} traveller under "
            f"scenario {scenario.name}: {cause}"
        )

    for place, options, kept in ((start, leave_all, leave), (end, arrive_all, arrive)):
        if not kept:
            raise no_route(_closed_road(network, place.label, options, scenario))
    first, last = _best_pair(times, leave, arrive)
    try:
        routed = times.route(first.node, last.node)
    except NoRouteError as exc:
        cause = why_unreachable(
            times, [e.node for e in leave], [e.node for e in arrive], start.label, end.label
        )
        raise no_route(cause) from exc
    legs = _legs(network, routed, way_factors)
    if first.edge is not None:
        legs.insert(0, _leg_for(network.graph.edges[first.edge], share=first))
    if last.edge is not None:
        legs.append(_leg_for(network.graph.edges[last.edge], share=last))
    if start.road_point is not None:
        legs.insert(
            0,
            Leg(
                "access",
                "to the road network",
                "",
                units.km(start.access_m),
                units.minutes(start.access_s),
            ),
        )
    if end.road_point is not None:
        legs.append(
            Leg(
                "access",
                "from the road network",
                "",
                units.km(end.access_m),
                units.minutes(end.access_s),
            )
        )
    legs = _merged(legs)
    return Route(
        origin=start.label,
        destination=end.label,
        profile=profile,
        scenario=scenario.name,
        depart=times.depart.isoformat() if times.depart else None,
        minutes=round(sum(leg.minutes for leg in legs), 1),
        km=round(sum(leg.km for leg in legs), 1),
        border_posts=posts_crossed(routed.crossings),
        waits=post_waits(times, routed.crossings),
        legs=[_rounded(leg) for leg in legs],
        nodes=routed.nodes,
    )


def posts_crossed(uses: Sequence[CrossingUse]) -> list[str]:
    """Return the names of the border posts among crossings used, in order of passage."""
    return [u.crossing.post.name for u in uses if u.crossing.post]


def post_waits(times: CorridorTravelTimes, uses: Sequence[CrossingUse]) -> list[dict[str, Any]]:
    """Return each border post crossed with the time it is reached and the minutes waited there.

    Parameters
    ----------
    times : CorridorTravelTimes
        The travel times the crossings were found with (their departure).
    uses : sequence of CrossingUse
        Crossings of one route (roads a scenario changes are skipped).

    Returns
    -------
    list of dict
        ``border_post``, ``arrive`` (ISO time, None without a departure), ``wait_minutes``.
    """
    return [
        {
            "border_post": use.crossing.post.name,
            "arrive": (times.depart + dt.timedelta(seconds=use.arrive_s)).isoformat(
                timespec="minutes"
            )
            if times.depart
            else None,
            "wait_minutes": round(units.minutes(use.wait_s), 1),
        }
        for use in uses
        if use.crossing.post is not None
    ]


def _open_options(
    options: list[Entry], network: CorridorNetwork, way_factors: dict[str, float]
) -> list[Entry]:
    """Drop entries along a road the scenario closes; slow those it slows."""
    kept = []
    for entry in options:
        if entry.edge is None:
            kept.append(entry)
            continue
        way = way_id(network.graph.edges[entry.edge])
        factor = way_factors.get(way, 1.0)
        if factor != float("inf"):
            kept.append(Entry(entry.node, entry.seconds * factor, entry.metres, entry.edge))
    return kept


def _closed_road(
    network: CorridorNetwork, label: str, options: list[Entry], scenario: Scenario
) -> str:
    """Why a point beside a road cannot get onto it: the scenario closes that road."""
    data = network.graph.edges[options[0].edge] if options and options[0].edge else {}
    name = str(data.get("name") or data.get("ref") or "its road")
    return f"{label} lies on {name} (way {way_id(data)}), closed under scenario {scenario.name}"


def _best_pair(
    times: CorridorTravelTimes, leave: list[Entry], arrive: list[Entry]
) -> tuple[Entry, Entry]:
    """Fastest combination of a way onto the network and a way off it."""
    if len(leave) == 1 and len(arrive) == 1:
        return leave[0], arrive[0]
    matrix = times.matrix([e.node for e in leave], [e.node for e in arrive])
    matrix = matrix + np.array([e.seconds for e in leave])[:, None]
    matrix = matrix + np.array([e.seconds for e in arrive])[None, :]
    i, j = np.unravel_index(int(np.argmin(matrix)), matrix.shape)
    return leave[int(i)], arrive[int(j)]


def _legs(network: CorridorNetwork, routed: RoutedPath, way_factors: dict[str, float]) -> list[Leg]:
    """Legs of a routed path; road times carry the scenario's slowdowns."""
    graph = network.graph
    crossings: dict[tuple[Hashable, Hashable], CrossingUse] = {
        (u.crossing.entry, u.crossing.exit): u for u in routed.crossings
    }
    legs: list[Leg] = []
    for u, v in itertools.pairwise(routed.nodes):
        use = crossings.get((u, v))
        if use is not None and use.crossing.post is None:  # a road a scenario may change
            link = use.crossing
            legs.append(
                Leg(
                    "road",
                    link.name,
                    link.ref,
                    link.km,
                    units.minutes(link.delay_s),
                    link.from_country,
                )
            )
            continue
        if use is not None and use.crossing.post is not None:
            crossing, post = use.crossing, use.crossing.post
            legs.append(
                Leg(
                    "border_post",
                    post.name,
                    post.id,
                    0.0,
                    units.minutes(use.wait_s + crossing.delay_s),
                    f"{crossing.from_country}->{crossing.to_country}",
                    wait_minutes=units.minutes(use.wait_s),
                )
            )
            continue
        roads = [
            (d["travel_time"] * way_factors.get(way_id(d), 1.0), d)
            for d in graph.get_edge_data(u, v).values()
            if edge_kind(d) != "border_post"
        ]
        seconds, data = min(roads, key=lambda r: r[0])
        legs.append(_leg_for(data, seconds=seconds))
    return legs


def _merged(legs: list[Leg]) -> list[Leg]:
    """Join consecutive road legs of the same road (name and ref) into one."""
    out: list[Leg] = []
    for leg in legs:
        last = out[-1] if out else None
        if (
            last is not None
            and leg.kind == last.kind == "road"
            and (last.name, last.ref)
            == (
                leg.name,
                leg.ref,
            )
        ):
            last.km += leg.km
            last.minutes += leg.minutes
        else:
            out.append(leg)
    return out


def _leg_for(data: dict[str, Any], share: Entry | None = None, seconds: float | None = None) -> Leg:
    """Leg of one edge (taking ``seconds`` if given), or of the part an entry travels."""
    if share is not None:
        seconds = share.seconds
    minutes = units.minutes(data["travel_time"] if seconds is None else seconds)
    km = units.km(data["length"] if share is None else share.metres)
    if edge_kind(data) == "access":
        return Leg("access", "access leg", "", km, minutes, data["country"])
    return Leg(
        "road",
        str(data.get("name", "")),
        str(data.get("ref", "")),
        km,
        minutes,
        str(data.get("country", "")),
    )


def _rounded(leg: Leg) -> Leg:
    leg.km = round(leg.km, 2)
    leg.minutes = round(leg.minutes, 1)
    leg.wait_minutes = round(leg.wait_minutes, 1)
    return leg


def route_line(network: CorridorNetwork, nodes: list[Any]) -> LineString:
    """Return the route's nodes as a WGS84 line (for maps and GeoJSON output)."""
    graph = network.graph
    coords = [(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in nodes]
    if len(coords) == 1:
        coords = coords * 2
    line = gpd.GeoSeries([LineString(coords)], crs=network.corridor.crs).to_crs("EPSG:4326")
    return line.iloc[0]
