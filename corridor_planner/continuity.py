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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from corridor_planner.cover import Patient
from corridor_planner.errors import CorridorPlannerError, InvalidArgumentError
from corridor_planner.referral import pathways
from corridor_planner.routing import find_route
from corridor_planner.traveltimes import CorridorTravelTimes

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

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return dict(self.__dict__)


def continuity_pathways(
    times: CorridorTravelTimes,
    nationality: str,
    home: str,
    *,
    specialty: str = "tb",
    profile: str = "eaeu_worker",
) -> list[ContinuityPathway]:
    """Continuity pathways for migrants of ``nationality`` living in the other countries.

    Parameters
    ----------
    times : CorridorTravelTimes
        Travel times under the scenario (its agreements switch cover rules on).
    nationality : str
        The migrants' country (whose cover they hold), one of the corridor's countries.
    home : str
        Their home settlement (a place name, id or ``lat,lon`` in ``nationality``).
    specialty : str
        ``tb`` or ``tb_mdr``.
    profile : str
        Their traveller profile at border posts.

    Raises
    ------
    InvalidArgumentError
        For a nationality outside the corridor or a service that is not TB.
    """
    network = times.network
    corridor = network.corridor
    if specialty not in TB_SERVICES:
        raise InvalidArgumentError(f"continuity is for {' or '.join(TB_SERVICES)}, not {specialty}")
    if nationality not in corridor.countries:
        raise InvalidArgumentError(
            f"{nationality} is not a country of corridor {corridor.id} "
            f"({', '.join(corridor.countries)}): its places and TB sites are not in the bundle"
        )
    follow_up, follow_up_gap = _follow_up(times, specialty, home)
    migrant = Patient(profile, nationality=nationality)
    found, refused = pathways(times, specialty, migrant, top=1)
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
            home=home,
            home_minutes=None,
            home_km=None,
            follow_up_site=follow_up.destination if follow_up else None,
            follow_up_minutes=round(follow_up.minutes, 1) if follow_up else None,
        )
        if start is None:
            row.gaps.append(f"no site takes them: {why_not.get(host.id, 'no TB site offers it')}")
        if follow_up_gap:
            row.gaps.append(follow_up_gap)
        _route_home(times, host.id, home, profile, row)
        rows.append(row)
    return rows


def _follow_up(times: CorridorTravelTimes, specialty: str, home: str) -> tuple[Any, str]:
    """Return the TB site nearest home that takes its residents, or why there is none."""
    found, refused = pathways(times, specialty, Patient("citizen"), origin=home, top=1)
    if found:
        return found[0], ""
    reason = refused[0].reason if refused else f"no site offers {specialty}"
    return None, f"no follow-up site near {home}: {reason}"


def _route_home(
    times: CorridorTravelTimes, host_id: str, home: str, profile: str, row: ContinuityPathway
) -> None:
    try:
        route = find_route(
            times.network,
            host_id,
            home,
            profile=profile,
            scenario=times.scenario,
            times=times if times.profile == profile else None,
        )
    except CorridorPlannerError as exc:
        row.gaps.append(f"no way home: {exc}")
        return
    row.home_minutes = round(route.minutes, 1)
    row.home_km = round(route.km, 1)
    row.border_posts = list(route.border_posts)
