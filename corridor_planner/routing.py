"""Routes between two places for a traveller profile under a scenario, as legs."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import geopandas as gpd
from shapely.geometry import LineString, Point

from corridor_planner import settings
from corridor_planner.errors import NoRouteError, NotFoundError
from corridor_planner.network import CorridorNetwork
from corridor_planner.rules import BASELINE, Scenario, check_profile
from corridor_planner.traveltimes import CorridorTravelTimes, RoutedPath

_LATLON = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class Place:
    """Where a route starts or ends: a graph node plus any access leg not in the graph.

    Parameters
    ----------
    label : str
        What the user sees.
    node : int
        Graph node.
    extra_m, extra_s : float
        Access leg from a ``lat,lon`` point to ``node`` (zero for named places, whose
        leg is part of the graph).

    """

    label: str
    node: int
    extra_m: float = 0.0
    extra_s: float = 0.0


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
    nodes: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (``minutes``, ``km``, ``border_posts``, ``legs``, ...)."""
        data = asdict(self)
        data.pop("nodes")
        return data


def resolve_place(network: CorridorNetwork, text: str) -> Place:
    """Find a place by facility, settlement or candidate name or id, or ``lat,lon``.

    Exact (case-insensitive) names and ids win; otherwise a name containing ``text``
    must be unique.

    Raises
    ------
    NotFoundError
        If nothing matches, several places match, or the place is not on the network.

    """
    match = _LATLON.match(text)
    if match:
        return _place_at(network, float(match.group(1)), float(match.group(2)), text)
    snaps = network.snaps
    assert snaps is not None
    wanted = text.strip().casefold()
    names = snaps["name"].str.casefold()
    rows = snaps[(names == wanted) | (snaps["id"].str.casefold() == wanted)]
    if rows.empty:
        rows = snaps[names.str.contains(wanted, regex=False)]
    rows = rows.drop_duplicates(subset=["node", "name"]) if len(rows) > 1 else rows
    if rows.empty:
        raise NotFoundError(f"no place called {text!r} in corridor {network.corridor.id}")
    if rows["name"].nunique() > 1:
        options = "; ".join(sorted(rows["name"].unique())[:8])
        raise NotFoundError(f"{text!r} matches several places: {options}")
    row = rows.iloc[0]
    if not bool(row["snapped"]):
        raise NotFoundError(
            f"{row['name']} lies {row['access_m'] / 1000:.1f} km from the road network, beyond "
            f"the snap limit of {network.corridor.snap_limit_m / 1000:g} km"
        )
    return Place(label=str(row["name"]), node=int(row["node"]))


def _place_at(network: CorridorNetwork, lat: float, lon: float, text: str) -> Place:
    corridor = network.corridor
    point = gpd.GeoSeries([Point(lon, lat)], crs="EPSG:4326").to_crs(corridor.crs).iloc[0]
    best, best_m = network.nearest_road_node(point.x, point.y)
    if best_m > corridor.snap_limit_m:
        raise NotFoundError(
            f"{text} lies {best_m / 1000:.1f} km from the road network, beyond the snap "
            f"limit of {corridor.snap_limit_m / 1000:g} km"
        )
    seconds = best_m / (settings.ACCESS_SPEED_KPH / 3.6)
    return Place(label=text.strip(), node=best, extra_m=best_m, extra_s=seconds)


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
    try:
        routed = times.route(start.node, end.node)
    except NoRouteError as exc:
        raise NoRouteError(
            f"no route from {start.label} to {end.label} for a {profile} traveller under "
            f"scenario {scenario.name} (a border post on the way may be closed to them)"
        ) from exc
    legs = _legs(network, routed)
    if start.extra_m:
        legs.insert(
            0, Leg("access", "to the road network", "", start.extra_m / 1000, start.extra_s / 60)
        )
    if end.extra_m:
        legs.append(
            Leg("access", "from the road network", "", end.extra_m / 1000, end.extra_s / 60)
        )
    return Route(
        origin=start.label,
        destination=end.label,
        profile=profile,
        scenario=scenario.name,
        depart=times.depart.isoformat() if times.depart else None,
        minutes=round(sum(leg.minutes for leg in legs), 1),
        km=round(sum(leg.km for leg in legs), 1),
        border_posts=[use.crossing.post.name for use in routed.crossings],
        waits=[
            {
                "border_post": use.crossing.post.name,
                "arrive": (times.depart + dt.timedelta(seconds=use.arrive_s)).isoformat(
                    timespec="minutes"
                )
                if times.depart
                else None,
                "wait_minutes": round(use.wait_s / 60, 1),
            }
            for use in routed.crossings
        ],
        legs=[_rounded(leg) for leg in legs],
        nodes=routed.nodes,
    )


def _legs(network: CorridorNetwork, routed: RoutedPath) -> list[Leg]:
    graph = network.graph
    crossings = {(u.crossing.entry, u.crossing.exit): u for u in routed.crossings}
    legs: list[Leg] = []
    for u, v in itertools.pairwise(routed.nodes):
        use = crossings.get((u, v))
        if use is not None:
            crossing = use.crossing
            legs.append(
                Leg(
                    "border_post",
                    crossing.post.name,
                    crossing.post.id,
                    0.0,
                    (use.wait_s + crossing.delay_s) / 60,
                    f"{crossing.from_country}->{crossing.to_country}",
                    wait_minutes=use.wait_s / 60,
                )
            )
            continue
        roads = [d for d in graph.get_edge_data(u, v).values() if "border_post" not in d]
        leg = _leg_for(min(roads, key=lambda d: d["travel_time"]))
        last = legs[-1] if legs else None
        if (
            last
            and leg.kind == "road"
            and (last.kind, last.name, last.ref)
            == (
                leg.kind,
                leg.name,
                leg.ref,
            )
        ):
            last.km += leg.km
            last.minutes += leg.minutes
        else:
            legs.append(leg)
    return legs


def _leg_for(data: dict[str, Any]) -> Leg:
    minutes = data["travel_time"] / 60
    if data.get("highway") == "access":
        return Leg("access", "access leg", "", data["length"] / 1000, minutes, data["country"])
    return Leg(
        "road",
        str(data.get("name", "")),
        str(data.get("ref", "")),
        data["length"] / 1000,
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
