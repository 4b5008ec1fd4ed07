"""Places a user names: a facility, settlement or candidate by name or id, or ``lat,lon``.

One resolver for every command: exact (case-insensitive) names and ids win, otherwise a
unique part of a name; ``lat,lon`` must lie in the corridor and near a road.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point

from corridor_planner import settings, units
from corridor_planner.errors import InvalidArgumentError, NotFoundError
from corridor_planner.network.graph import CorridorNetwork
from corridor_planner.network.snapping import (
    POINT_KINDS,
    Entry,
    RoadPoint,
    within_snap_limit,
)

_LATLON = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class Place:
    """Where a route starts or ends: a graph node, or a point beside a road.

    Parameters
    ----------
    label : str
        What the user sees.
    node : int or None
        Graph node of a named place (its access leg is part of the graph).
    road_point : RoadPoint or None
        For a ``lat,lon`` point: the nearest point on a road; the route enters the road
        there, towards either end of that edge.
    access_m, access_s : float
        Access leg from a ``lat,lon`` point to the road (zero for named places).

    """

    label: str
    node: int | None = None
    road_point: RoadPoint | None = None
    access_m: float = 0.0
    access_s: float = 0.0

    def options(self, network: CorridorNetwork, leaving: bool) -> list[Entry]:
        """Ways onto (``leaving``) or off the network: the node, or both ends of the edge."""
        if self.road_point is None:
            assert self.node is not None
            return [Entry(self.node, 0.0, 0.0, None)]
        return network.road_index().entries(self.road_point, leaving=leaving)


def find_point(network: CorridorNetwork, text: str, kinds: Sequence[str]) -> pd.Series:
    """Return the one snapped point (of ``kinds``) that ``text`` names, attached or not.

    Raises
    ------
    NotFoundError
        If nothing matches, or several places do.
    """
    snaps = network.snaps
    assert snaps is not None
    snaps = snaps[snaps["kind"].isin(kinds)]
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
    return rows.iloc[0]


def origins(network: CorridorNetwork, origin: str | None = None) -> pd.DataFrame:
    """Attached settlements (all, or the one ``origin`` names; a facility may be named too).

    Raises
    ------
    NotFoundError
        If ``origin`` names nothing, several places, or a place not on the network.
    """
    snaps = network.snaps
    assert snaps is not None
    if origin is None:
        return snaps[snaps["snapped"] & (snaps["kind"] == "settlement")]
    row = find_point(network, origin, ("settlement", "facility"))
    if not bool(row["snapped"]):
        raise NotFoundError(_too_far(network, str(row["name"]), float(row["access_m"])))
    return snaps.loc[[row.name]]


def _too_far(network: CorridorNetwork, label: str, metres: float) -> str:
    return (
        f"{label} lies {metres / 1000:.1f} km from the road network, beyond the snap limit of "
        f"{network.corridor.snap_limit_m / 1000:g} km"
    )


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
    row = find_point(network, text, POINT_KINDS)
    if not bool(row["snapped"]):
        raise NotFoundError(_too_far(network, str(row["name"]), float(row["access_m"])))
    return Place(label=str(row["name"]), node=int(row["node"]))


def _place_at(network: CorridorNetwork, lat: float, lon: float, text: str) -> Place:
    corridor = network.corridor
    for kind, value in (("latitude", lat), ("longitude", lon)):
        complaint = settings.RANGES[kind].problem(value)
        if complaint:
            raise InvalidArgumentError(f"{text.strip()!r} is not 'lat,lon': the {kind} {complaint}")
    west, south, east, north = corridor.bbox
    if not (west <= lon <= east and south <= lat <= north):
        raise NotFoundError(
            f"{text.strip()} lies outside corridor {corridor.id} "
            f"(lat {south} to {north}, lon {west} to {east}); give 'lat,lon' in that order"
        )
    point = gpd.GeoSeries([Point(lon, lat)], crs="EPSG:4326").to_crs(corridor.crs).iloc[0]
    road_point = network.nearest_road_point(point.x, point.y)
    metres = road_point.distance_m if road_point is not None else float("inf")
    if road_point is None or not within_snap_limit(metres, corridor.snap_limit_m):
        raise NotFoundError(_too_far(network, text.strip(), metres))
    seconds = units.travel_seconds(metres, settings.ACCESS_SPEED_KPH)
    return Place(text.strip(), road_point=road_point, access_m=metres, access_s=seconds)


def demo_places(network: CorridorNetwork) -> tuple[str, str]:
    """Two places to show a route between when the bundle names none (``[demo] route``).

    The most populous attached settlement of the corridor's first country and of another
    country (or the two most populous, in a one-country corridor).

    Raises
    ------
    NotFoundError
        If fewer than two settlements are attached.
    """
    table = origins(network).merge(
        network.corridor.population[["id", "population"]], on="id", how="left"
    )
    table = table.sort_values("population", ascending=False)
    if len(table) < 2:
        raise NotFoundError(f"corridor {network.corridor.id} has fewer than two settlements")
    first = table.iloc[0]
    others = table[table["country"] != first["country"]]
    second = others.iloc[0] if len(others) else table.iloc[1]
    return str(first["name"]), str(second["name"])
