"""Cross-border referral: pathways to care, referral chains, capacity-bound flows, scenarios.

Who may be treated where is decided in :mod:`corridor_planner.bundle.cover_rules`; patients are sent
to receivers within capacity by :mod:`corridor_planner.analysis.assignment`. Every function here
takes a :class:`CorridorTravelTimes` built once for the traveller and scenario asked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from corridor_planner import settings, units
from corridor_planner.analysis.access import offering
from corridor_planner.analysis.assignment import assign
from corridor_planner.analysis.coverage import profile_people
from corridor_planner.bundle.costs import PathwayCost, free_facilities, pathway_costs
from corridor_planner.bundle.cover_rules import (
    CoverDecision,
    CoverRule,
    Patient,
    acceptance,
    active_rules,
    admits,
    describe_cover,
    nationality_of,
    under,
)
from corridor_planner.bundle.facilities import capacities
from corridor_planner.errors import NotFoundError
from corridor_planner.network.graph import CorridorNetwork
from corridor_planner.network.places import Place, origins
from corridor_planner.routing.routes import (
    Route,
    find_route,
    post_waits,
    posts_crossed,
    route_line,
)
from corridor_planner.routing.traveltimes import CorridorTravelTimes, CrossingUse, MatrixParts
from corridor_planner.settings import LEVELS
from corridor_planner.translatable import N_


@dataclass
class Pathway:
    """One ranked destination for one origin: where, how long, which posts, the route."""

    origin: str
    origin_id: str
    origin_country: str
    specialty: str
    rank: int
    destination: str
    destination_id: str
    destination_country: str
    cover_group: str
    minutes: float
    km: float | None  # None when the route was not unpacked (``detailed`` False)
    border_posts: list[str]
    waits: list[dict[str, Any]]
    legs: list[dict[str, Any]] = field(default_factory=list)
    geometry: Any = None  # WGS84 LineString of the route
    cover_rule: str = ""  # id of the cover rule that admitted the patient
    #: True when the route was unpacked: ``km``, ``legs`` and ``geometry`` are set. False
    #: beyond ``settings.REFERRAL_DETAIL_LIMIT`` origins (see :func:`pathways`): minutes,
    #: rank, destination, cover, border posts and waits only.
    detailed: bool = True

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (no geometry)."""
        return {k: v for k, v in self.__dict__.items() if k != "geometry"}


@dataclass
class Refusal:
    """Why an origin has no pathway: nobody accepts this patient, or no route reaches."""

    origin: str
    origin_id: str
    specialty: str
    reason: str
    #: ``not_accepted`` (no facility takes this patient) or ``unreachable`` (no route).
    kind: str = "not_accepted"
    #: The facts behind ``reason``, for reports in other languages.
    facts: dict[str, Any] = field(default_factory=dict)


def pathways(
    times: CorridorTravelTimes,
    specialty: str,
    patient: Patient,
    *,
    origin: str | None = None,
    top: int = 3,
    detail_limit: int | None = None,
) -> tuple[list[Pathway], list[Refusal]]:
    """Ranked receiving facilities for each origin, with routes, posts and waits.

    Receivers are ranked from one origins x receivers matrix. With at most
    ``detail_limit`` origins that have a pathway, every pathway's route is unpacked (legs,
    km, route line). With more, only the pathways of the ``detail_limit`` most populous
    of them are; the others carry minutes, rank, destination, cover, and the border posts
    crossed with their waits (found without the road path): ``detailed`` False, ``km``
    None.

    Parameters
    ----------
    times : CorridorTravelTimes
        Travel times for the patient's profile, the scenario and the departure.
    specialty : str
        A service from the vocabulary (``cardiology``, ``oncology``, ``tb_mdr``...).
    patient : Patient
        Profile, nationality and cover of the patients referred; the scenario's
        agreements apply on top (:func:`corridor_planner.bundle.cover_rules.under`).
    origin : str, optional
        One settlement or facility name or id; default every settlement.
    top : int
        Destinations per origin.
    detail_limit : int, optional
        Origins whose routes are unpacked; default ``settings.REFERRAL_DETAIL_LIMIT``
        (0: none, for callers that need minutes and posts only).

    Returns
    -------
    pathways : list of Pathway
    refusals : list of Refusal
        Origins with no acceptable reachable facility, and why.
    """
    question = _question(times, specialty, patient, origin)
    return _ranked(question, top, _detail_limit(detail_limit))


def _detail_limit(limit: int | None) -> int:
    return settings.REFERRAL_DETAIL_LIMIT if limit is None else max(0, int(limit))


@dataclass
class _Question:
    """What every pathway of one referral question shares, computed once.

    ``minutes`` (origins x receivers) ranks the receivers and, in :func:`analyse_referrals`,
    feeds the assignment; ``parts`` names the crossings of a pathway left unrouted.
    """

    times: CorridorTravelTimes
    specialty: str
    patient: Patient
    starts: pd.DataFrame
    facilities: pd.DataFrame
    parts: MatrixParts
    minutes: np.ndarray
    admitted: np.ndarray
    decisions: np.ndarray
    #: The cover rules in force for the patient under the scenario.
    rules: tuple[CoverRule, ...] = ()
    #: ``name``, ``id`` and ``country`` of each receiver (a row of ``facilities``).
    receivers: list[dict[str, Any]] = field(default_factory=list)


def _question(
    times: CorridorTravelTimes, specialty: str, patient: Patient, origin: str | None
) -> _Question:
    network, scenario = times.network, times.scenario
    patient = under(patient, scenario)
    facilities = offering(network, specialty)
    starts = origins(network, origin)
    parts = times.matrix_parts(list(starts["node"]), list(facilities["node"]))
    rules = active_rules(network.corridor.cover_rules, patient, scenario)
    admitted, decisions = acceptance(
        patient,
        list(starts["country"]),
        facilities,
        specialty,
        network.corridor.countries,
        rules,
        scenario.contracts,
    )
    minutes = units.minutes(parts.seconds())
    receivers = facilities[["name", "id", "country"]].to_dict("records")
    return _Question(
        times,
        specialty,
        patient,
        starts,
        facilities,
        parts,
        minutes,
        admitted,
        decisions,
        rules,
        receivers,
    )


def _ranked(question: _Question, top: int, limit: int) -> tuple[list[Pathway], list[Refusal]]:
    """Pathways (routed for the origins :func:`_routed_origins` picks) and refusals."""
    usable_all = question.admitted & np.isfinite(question.minutes)
    served = usable_all.any(axis=1)
    routed = _routed_origins(question.times.network, question.starts, served, limit)
    found: list[Pathway] = []
    refused: list[Refusal] = []
    with question.times.roads.remembering():  # routes share their origins' searches
        for i, row in enumerate(question.starts.itertuples()):
            _origin_pathways(question, i, row, usable_all[i], bool(routed[i]), top, found, refused)
    return found, refused


def _origin_pathways(
    question: _Question,
    i: int,
    row: Any,
    usable: np.ndarray,
    routed: bool,
    top: int,
    found: list[Pathway],
    refused: list[Refusal],
) -> None:
    """Add origin ``i``'s pathways to ``found``, or why it has none to ``refused``."""
    if not usable.any():
        refused.append(
            _refusal(
                row, question.decisions[i], question.times, question.specialty, question.patient
            )
        )
        return
    order = [int(j) for j in np.argsort(question.minutes[i], kind="stable") if usable[j]][:top]
    found += (_routed if routed else _unrouted)(question, i, row, order)


def _routed_origins(
    network: CorridorNetwork, starts: pd.DataFrame, served: np.ndarray, limit: int
) -> np.ndarray:
    """Which origins get their routes unpacked.

    Every origin with a pathway (``served``) when there are at most ``limit`` of them;
    otherwise the ``limit`` most populous of those (in their order on ties).
    """
    if served.sum() <= limit:
        return served.copy()
    people = network.corridor.population.drop_duplicates("id").set_index("id")["population"]
    weights = people.reindex(list(starts["id"])).fillna(0.0).to_numpy(dtype=float)
    weights[~served] = -np.inf
    picked = np.zeros(len(starts), dtype=bool)
    picked[np.argsort(-weights, kind="stable")[:limit]] = True
    return picked


def _routed(question: _Question, i: int, row: Any, order: list[int]) -> list[Pathway]:
    """Pathways of one origin with their routes unpacked (legs, km, route line)."""
    times, network = question.times, question.times.network
    start = Place(label=row.name, node=int(row.node))
    found = []
    for rank, j in enumerate(order, 1):
        target = question.facilities.iloc[j]
        route = find_route(
            network,
            start,
            Place(label=target["name"], node=int(target["node"])),
            profile=question.patient.profile,
            scenario=times.scenario,
            times=times,
        )
        found.append(
            _pathway(
                network, row, question.specialty, rank, target, question.decisions[i, j], route
            )
        )
    return found


def _crossings(question: _Question, i: int, order: list[int]) -> list[list[CrossingUse]]:
    """Crossings on origin ``i``'s fastest way to each receiver of ``order``."""
    parts = question.parts
    direct = parts.road[i, order]
    if parts.exits is None:
        return [[] for _ in order]
    via = (parts.exits[i][:, None] + parts.from_exits[:, order]).min(axis=0)
    if not (via < direct).any():  # by road alone: no crossing, nothing to label
        return [[] for _ in order]
    return question.times.crossings_used(parts.to_entries[i], parts.from_exits[:, order], direct)


def _unrouted(question: _Question, i: int, row: Any, order: list[int]) -> list[Pathway]:
    """Pathways of one origin from the matrix: minutes, posts and waits, no road path."""
    times = question.times
    found = []
    for rank, (j, used) in enumerate(zip(order, _crossings(question, i, order), strict=True), 1):
        target = question.receivers[j]
        decision: CoverDecision = question.decisions[i, j]
        found.append(
            Pathway(
                **_ends(row, question.specialty, rank, target, decision),
                minutes=round(float(question.minutes[i, j]), 1),
                km=None,
                border_posts=posts_crossed(used),
                waits=post_waits(times, used),
                detailed=False,
            )
        )
    return found


def _refusal(
    row: Any,
    decisions: np.ndarray,
    times: CorridorTravelTimes,
    specialty: str,
    patient: Patient,
) -> Refusal:
    if not any(d.admitted for d in decisions):
        nationality = nationality_of(patient, row.country, times.network.corridor.countries)
        applied = sorted({(d.rule_name, d.group) for d in decisions})
        rules = "; ".join(f"{name} ({group})" for name, group in applied)
        facts = {
            "profile": patient.profile,
            "nationality": nationality,
            "country": row.country,
            "rules": [list(pair) for pair in applied],
        }
        reason = (
            f"no facility offering {specialty} accepts a {patient.profile} patient covered in "
            f"{nationality} (at {row.country}); cover applied: {rules}"
        )
        if any(not d.paid for d in decisions):
            reason += (
                "; a facility that offers it takes no payer of this patient (private, not "
                "contracted by the public payer)"
            )
            facts["unpaid"] = True
        return Refusal(row.name, row.id, specialty, reason, "not_accepted", facts)
    reason = (
        f"no facility that accepts this patient can be reached under scenario {times.scenario.name}"
    )
    facts = {"scenario": times.scenario.name}
    return Refusal(row.name, row.id, specialty, reason, "unreachable", facts)


def _pathway(
    network: CorridorNetwork,
    row: Any,
    specialty: str,
    rank: int,
    target: Any,
    decision: CoverDecision,
    route: Route,
) -> Pathway:
    return Pathway(
        **_ends(row, specialty, rank, target, decision),
        minutes=route.minutes,
        km=route.km,
        border_posts=route.border_posts,
        waits=route.waits,
        legs=[leg.__dict__ for leg in route.legs],
        geometry=route_line(network, route.nodes),
    )


def _ends(
    row: Any, specialty: str, rank: int, target: Any, decision: CoverDecision
) -> dict[str, Any]:
    """Who is referred from where to which facility, under which cover: a pathway's ends."""
    return {
        "origin": row.name,
        "origin_id": row.id,
        "origin_country": row.country,
        "specialty": specialty,
        "rank": rank,
        "destination": str(target["name"]),
        "destination_id": str(target["id"]),
        "destination_country": str(target["country"]),
        "cover_group": decision.group,
        "cover_rule": decision.rule,
    }


def pathway_table(found: Sequence[Pathway]) -> gpd.GeoDataFrame:
    """Pathways as one row each (posts joined, waits summed) with route lines (WGS84)."""
    rows = []
    for p in found:
        row = p.to_dict()
        row.pop("legs")
        row["border_posts"] = "; ".join(p.border_posts)
        row["wait_minutes"] = sum(w["wait_minutes"] for w in p.waits)
        row.pop("waits")
        rows.append(row)
    return gpd.GeoDataFrame(rows, geometry=[p.geometry for p in found], crs="EPSG:4326")


# referral chains ------------------------------------------------------------------------


@dataclass
class ChainStep:
    """The next level up from a facility: the best domestic option and any faster one abroad."""

    level: str
    domestic: str | None
    domestic_minutes: float | None
    abroad: str | None
    abroad_minutes: float | None


def referral_chain(
    times: CorridorTravelTimes, facility_id: str, specialty: str, patient: Patient
) -> list[ChainStep]:
    """Referral chain from a facility up the levels (primary -> district -> regional -> national).

    For each level above the facility's: the fastest accepting facility of that level in
    the same country, and the fastest one across the border when it is faster.
    """
    network = times.network
    patient = under(patient, times.scenario)
    rules = active_rules(network.corridor.cover_rules, patient, times.scenario)
    facilities = network.corridor.facilities.set_index("id")
    if facility_id not in facilities.index:
        raise NotFoundError(f"no facility {facility_id!r}")
    start = facilities.loc[facility_id]
    node = network.node_of("facility", facility_id)
    if node is None:
        raise NotFoundError(f"facility {facility_id!r} is not attached to the network")
    candidates = offering(network, specialty)
    minutes = units.minutes(times.matrix([node], list(candidates["node"]))[0])
    countries = network.corridor.countries
    steps = []
    for level in LEVELS[LEVELS.index(start["level"]) + 1 :]:
        best: dict[bool, tuple[str, float] | None] = {True: None, False: None}
        for j, target in enumerate(candidates.itertuples()):
            decision = admits(
                patient,
                start["country"],
                target.country,
                target.accepts,
                specialty,
                countries,
                rules,
            )
            if target.level != level or not decision.admitted or not np.isfinite(minutes[j]):
                continue
            home = target.country == start["country"]
            current = best[home]
            if current is None or minutes[j] < current[1]:
                best[home] = (target.name, float(minutes[j]))
        domestic, abroad = best[True], best[False]
        if abroad is not None and domestic is not None and abroad[1] >= domestic[1]:
            abroad = None
        if domestic or abroad:
            steps.append(
                ChainStep(
                    level,
                    domestic[0] if domestic else None,
                    round(domestic[1], 1) if domestic else None,
                    abroad[0] if abroad else None,
                    round(abroad[1], 1) if abroad else None,
                )
            )
    return steps


# one analysis for the CLI and the report -------------------------------------------------


def referral_demand(population: Sequence[float] | np.ndarray, rate_per_100k: float) -> np.ndarray:
    """Return expected referrals per origin: people x rate per 100,000 (per year)."""
    return np.asarray(population, dtype=float) * rate_per_100k / 100_000.0


@dataclass
class ReferralAnalysis:
    """Pathways, refusals and the capacity-bound assignment for one specialty and scenario.

    ``assignment`` rows: ``origin``, ``origin_id``, ``destination``, ``destination_id``,
    ``patients``, ``minutes``. ``capacity`` rows: ``facility``, ``facility_id``,
    ``country``, ``capacity`` (None: unknown, so unlimited), ``capacity_basis``,
    ``assigned``. ``overflow`` rows: ``origin``, ``origin_id``, ``patients``.
    """

    specialty: str
    patient: Patient
    scenario: str
    depart: dt.datetime | None
    rate_per_100k: float | None
    rates: dict[str, float | None]
    rate_basis: str
    pathways: list[Pathway]
    refusals: list[Refusal]
    assignment: list[dict[str, Any]]
    capacity: list[dict[str, Any]]
    overflow: list[dict[str, Any]]
    demand: float
    extra_minutes: float
    people: int = 0
    people_basis: str = ""
    left_out: dict[str, Any] = field(default_factory=dict)
    rules_in_force: list[str] = field(default_factory=list)
    costs: list[PathwayCost] = field(default_factory=list)
    cover_rules: tuple[CoverRule, ...] = ()  # the rules in force, as objects
    #: Origins whose routes are unpacked (see :func:`pathways`).
    detail_limit: int = settings.REFERRAL_DETAIL_LIMIT

    @property
    def routed(self) -> int:
        """Pathways whose route is unpacked (legs, km, route line)."""
        return sum(p.detailed for p in self.pathways)

    @property
    def detail_note(self) -> str | None:
        """What the pathways left unrouted lack, or None when every route is unpacked."""
        if self.routed == len(self.pathways):
            return None
        return (
            f"km, legs and route lines for {self.routed:,} of {len(self.pathways):,} pathways "
            f"(those of the {self.detail_limit:,} most populous origins); the rest carry "
            "minutes, rank, destination, cover and border posts only, and no return fare. "
            "Name one place with --from for its routes."
        )

    @property
    def sized(self) -> bool:
        """True when a referral rate was known, so flows were sized against capacity."""
        return any(r is not None for r in self.rates.values())

    @property
    def rate_text(self) -> str:
        """The rates applied, e.g. ``88 per 100,000`` or ``KZ 190, KG 100 per 100,000``."""
        if self.rate_per_100k is not None:
            return f"{self.rate_per_100k:g} per 100,000"
        known = [f"{c} {r:g}" for c, r in self.rates.items() if r is not None]
        unknown = [c for c, r in self.rates.items() if r is None]
        text = ", ".join(known) + " per 100,000"
        return text + (f"; none for {', '.join(unknown)}" if unknown else "")

    @property
    def assigned(self) -> float:
        """Patients assigned to a receiver."""
        return sum(row["patients"] for row in self.assignment)

    @property
    def unserved(self) -> float:
        """Patients no receiver within capacity (and acceptance) could take."""
        return sum(row["patients"] for row in self.overflow)

    @property
    def cover_rule(self) -> str:
        """The cover rule applied, in one line."""
        return describe_cover(self.patient, self.cover_rules)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary: ``pathways``, ``assignment``, ``overflow``, ``capacity``..."""
        return {
            "specialty": self.specialty,
            "profile": self.patient.profile,
            "nationality": self.patient.nationality,
            "portable_cover": self.patient.portable_cover,
            "cover_rule": self.cover_rule,
            "cover_rules_in_force": self.rules_in_force,
            "scenario": self.scenario,
            "depart": self.depart.isoformat() if self.depart else None,
            "rate_per_100k": self.rate_per_100k,
            "rates_per_100k": self.rates,
            "rate_basis": self.rate_basis,
            "demand": self.demand,
            "people": self.people,
            "people_basis": self.people_basis,
            "assigned": round(self.assigned, 3),
            "unserved": round(self.unserved, 3),
            "extra_minutes_from_capacity": self.extra_minutes,
            "pathways": [p.to_dict() for p in self.pathways],
            "detail": {
                "limit": self.detail_limit,
                "routed": self.routed,
                "pathways": len(self.pathways),
                "note": self.detail_note,
            },
            "refusals": [r.__dict__ for r in self.refusals],
            "costs": [c.to_dict() for c in self.costs],
            "assignment": self.assignment,
            "overflow": self.overflow,
            "capacity": self.capacity,
            "left_out": self.left_out,
        }


def _common_rate(rates: Mapping[str, float | None]) -> float | None:
    """Return the one rate every country shares, or None when they differ or none is known."""
    values = set(rates.values())
    return values.pop() if len(values) == 1 else None


def _rates(
    times: CorridorTravelTimes, specialty: str, rate_per_100k: float | None
) -> tuple[dict[str, float | None], str]:
    corridor = times.network.corridor
    if rate_per_100k is not None:
        return {c: float(rate_per_100k) for c in corridor.countries}, N_(
            "given on the command line"
        )
    rates = {c: corridor.referral_rate(specialty, times.scenario, c) for c in corridor.countries}
    known = any(r is not None for r in rates.values())
    return rates, N_("corridor or scenario data (see SOURCES.md)") if known else N_("none")


def analyse_referrals(
    times: CorridorTravelTimes,
    specialty: str,
    patient: Patient,
    *,
    origin: str | None = None,
    rate_per_100k: float | None = None,
    top: int = 3,
    detail_limit: int | None = None,
) -> ReferralAnalysis:
    """Pathways for every origin, and patients assigned to receivers within capacity.

    One origins x receivers matrix ranks the pathways and feeds the assignment; routes
    are unpacked as :func:`pathways` says (``detail_limit``), and
    :attr:`ReferralAnalysis.detail_note` says which were not.

    Expected referrals per settlement are its people of the patient's profile (see
    :func:`corridor_planner.analysis.coverage.profile_people`) times the rate per 100,000 a year
    for its country: ``rate_per_100k`` if given, else the scenario's, else the
    corridor's. Without any rate the assignment is left empty (``rate_basis`` says so).
    """
    network, scenario = times.network, times.scenario
    limit = _detail_limit(detail_limit)
    question = _question(times, specialty, patient, origin)
    patient, in_force = question.patient, question.rules
    found, refused = _ranked(question, top, limit)
    rates, basis = _rates(times, specialty, rate_per_100k)
    facilities = question.facilities
    capacity, capacity_basis = capacities(facilities, specialty, scenario)
    capacity = np.where(np.isnan(capacity), np.inf, capacity)
    settlement = (question.starts["kind"] == "settlement").to_numpy()
    starts = question.starts[settlement]
    settlements = network.corridor.population.set_index("id").loc[list(starts["id"])]
    people, people_basis = profile_people(settlements, patient.profile)
    flows = _Flows(len(facilities))
    if basis != "none" and not starts.empty and people.sum() > 0:
        per_origin = np.array([rates.get(c) or 0.0 for c in starts["country"]])
        demand = referral_demand(people, 1.0) * per_origin
        minutes = question.minutes[settlement]  # a copy: the pathways keep theirs
        minutes[~question.admitted[settlement]] = np.inf
        flows.solve(demand, minutes, capacity, starts, facilities)
    capacity_rows = [
        {
            "facility": f.name,
            "facility_id": f.id,
            "country": f.country,
            "capacity": None if not np.isfinite(cap) else float(cap),
            "capacity_basis": why,
            "assigned": round(float(flows.assigned[j]), 3),
        }
        for j, (f, cap, why) in enumerate(
            zip(facilities.itertuples(), capacity, capacity_basis, strict=True)
        )
    ]
    return ReferralAnalysis(
        specialty=specialty,
        patient=patient,
        scenario=scenario.name,
        depart=times.depart,
        rate_per_100k=_common_rate(rates),
        rates=rates,
        rate_basis=basis,
        pathways=found,
        refusals=refused,
        assignment=flows.rows,
        capacity=capacity_rows,
        overflow=flows.overflow_rows,
        demand=round(flows.demand, 3),
        extra_minutes=round(flows.extra_minutes, 1),
        people=round(float(people.sum())),
        people_basis=people_basis,
        left_out=network.left_out("settlement"),
        rules_in_force=[
            f"{r.id}: {r.name}"
            for r in in_force
            if r.profiles is None or patient.profile in r.profiles
        ],
        costs=pathway_costs(
            found, network.corridor.costs, specialty, free_facilities(network.corridor.facilities)
        ),
        cover_rules=in_force,
        detail_limit=limit,
    )


class _Flows:
    """The assignment's answer as table rows (empty until :meth:`solve`)."""

    def __init__(self, receivers: int) -> None:
        self.assigned = np.zeros(receivers)
        self.rows: list[dict[str, Any]] = []
        self.overflow_rows: list[dict[str, Any]] = []
        self.demand = 0.0
        self.extra_minutes = 0.0

    def solve(
        self,
        demand: np.ndarray,
        minutes: np.ndarray,
        capacity: np.ndarray,
        starts: pd.DataFrame,
        facilities: pd.DataFrame,
    ) -> None:
        result = assign(demand, minutes, capacity)
        self.demand, self.extra_minutes = float(demand.sum()), result.extra_minutes
        self.assigned = result.flows.sum(axis=0)
        for i, row in enumerate(starts.itertuples()):
            for j in np.flatnonzero(result.flows[i] > 1e-9):
                target = facilities.iloc[j]
                self.rows.append(
                    {
                        "origin": row.name,
                        "origin_id": row.id,
                        "destination": target["name"],
                        "destination_id": target["id"],
                        "patients": round(float(result.flows[i, j]), 3),
                        "minutes": round(float(minutes[i, j]), 1),
                    }
                )
            if result.overflow[i] > 1e-9:
                self.overflow_rows.append(
                    {
                        "origin": row.name,
                        "origin_id": row.id,
                        "patients": round(float(result.overflow[i]), 3),
                    }
                )


def compare_scenarios(
    times_by_scenario: Sequence[CorridorTravelTimes],
    specialty: str,
    patient: Patient,
    *,
    known: Mapping[str, list[Pathway]] | None = None,
) -> pd.DataFrame:
    """Per scenario and origin country: people with a pathway, mean minutes, share abroad.

    Each scenario's agreements apply to the patient (the same acceptance rule as
    :func:`analyse_referrals`).

    Parameters
    ----------
    times_by_scenario : sequence of CorridorTravelTimes
        The same traveller under each scenario to compare.
    specialty : str
        The service referred for.
    patient : Patient
        Profile, nationality and cover of the patients.
    known : mapping of str to list of Pathway, optional
        First-ranked pathways already found for a scenario (by its name), e.g. those of
        :func:`analyse_referrals` with ``top=1``: that scenario is not searched again.

    Returns
    -------
    DataFrame
        ``scenario``, ``country``, ``population``, ``with_pathway`` (people with an
        acceptable, reachable destination), ``mean_minutes`` (population-weighted, over
        those with one), ``abroad`` (people whose fastest acceptable care is across the
        border).
    """
    rows = []
    for times in times_by_scenario:
        network = times.network
        settlements = network.corridor.population.set_index("id")[["country", "population"]]
        found = _first_pathways(times, specialty, patient, known)
        first = pd.DataFrame(
            [(p.origin_id, p.minutes, p.destination_country) for p in found],
            columns=["id", "minutes", "destination_country"],
        ).set_index("id")
        table = settlements.join(first, how="left")
        attached = [n for n in settlements.index if network.node_of("settlement", n) is not None]
        for country, group in table.loc[attached].groupby("country"):
            rows.append(_comparison_row(times.scenario.name, str(country), group))
    return pd.DataFrame(rows)


def _first_pathways(
    times: CorridorTravelTimes,
    specialty: str,
    patient: Patient,
    known: Mapping[str, list[Pathway]] | None,
) -> list[Pathway]:
    """First-ranked pathways of a scenario: from ``known`` if there, else found (no route)."""
    given = (known or {}).get(times.scenario.name)
    if given is not None:
        return [p for p in given if p.rank == 1]
    found, _ = pathways(times, specialty, patient, top=1, detail_limit=0)  # no route needed
    return found


def _comparison_row(scenario: str, country: str, group: pd.DataFrame) -> dict[str, Any]:
    served = group[group["minutes"].notna()]
    people = float(served["population"].sum())
    weighted = float((served["population"] * served["minutes"]).sum())
    abroad = served["destination_country"] != country
    return {
        "scenario": scenario,
        "country": country,
        "population": int(group["population"].sum()),
        "with_pathway": int(people),
        "mean_minutes": round(weighted / people, 1) if people else None,
        "abroad": int(served.loc[abroad, "population"].sum()),
    }
