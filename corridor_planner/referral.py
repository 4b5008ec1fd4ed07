"""Cross-border referral: who may be treated where, pathways, chains, capacity-bound flows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import linprog
from scipy.sparse import coo_array, hstack

from corridor_planner.access import offering
from corridor_planner.errors import CorridorPlannerError, NotFoundError
from corridor_planner.network import CorridorNetwork
from corridor_planner.routing import Place, Route, find_route, route_line
from corridor_planner.rules import Scenario
from corridor_planner.settings import EAEU_MEMBERS, LEVELS
from corridor_planner.traveltimes import CorridorTravelTimes

#: Nationality code of a ``third_country`` patient: no corridor country's cover.
THIRD_COUNTRY = "--"

#: Cost (minutes) of leaving one patient unserved in the assignment: larger than any trip.
UNSERVED_MINUTES = 1e6


@dataclass(frozen=True)
class Patient:
    """Who is referred: their traveller profile, nationality, and whether cover is portable.

    Parameters
    ----------
    profile : str
        Traveller profile at border posts (``citizen``, ``eaeu_worker``, ...).
    nationality : str or None
        ISO code of the country whose cover they hold; None means the origin's country.
    portable_cover : bool
        True when an agreement makes home cover valid in the other country.
    """

    profile: str = "citizen"
    nationality: str | None = None
    portable_cover: bool = False


def nationality_of(patient: Patient, home: str, countries: Sequence[str]) -> str:
    """Country whose cover the patient holds.

    Given explicitly, or the origin's country; an ``eaeu_worker`` with none given is a
    migrant from the corridor's other country (a Kyrgyz worker in Almaty, say), and a
    ``third_country`` traveller holds no corridor country's cover.
    """
    if patient.nationality:
        return patient.nationality
    if patient.profile == "third_country":
        return THIRD_COUNTRY
    others = [c for c in countries if c != home]
    if patient.profile == "eaeu_worker" and len(others) == 1:
        return others[0]
    return home


def cover_group(patient: Patient, home: str, facility_country: str) -> str:
    """Return the ``accepts`` group a facility applies to this patient.

    ``home`` is the country whose cover the patient holds (see :func:`nationality_of`).
    At home (the facility is in that country) the patient is a resident with
    national cover. Abroad: an EAEU worker in another EAEU state gets the Treaty Art. 98
    group; with portable cover, the patient counts as foreign insured; otherwise foreign
    uninsured.
    """
    nationality = home
    if facility_country == nationality:
        return "resident_insured"
    if patient.portable_cover:
        return "foreign_insured"
    if (
        patient.profile == "eaeu_worker"
        and nationality in EAEU_MEMBERS
        and facility_country in EAEU_MEMBERS
    ):
        return "eaeu_worker"
    return "foreign_uninsured"


def describe_cover(patient: Patient) -> str:
    """Say in one line which cover rule applies to this patient, at home and abroad."""
    home = (
        f"cover of {patient.nationality}"
        if patient.nationality
        else "cover of a third country"
        if patient.profile == "third_country"
        else "cover of the corridor's other country"
        if patient.profile == "eaeu_worker"
        else "cover of the country they live in"
    )
    if patient.portable_cover:
        return f"{home}; valid across the border (portable cover: foreign insured abroad)"
    if patient.profile == "eaeu_worker":
        return (
            f"{home}; in another EAEU state, emergency care under EAEU Treaty Art. 98, "
            "otherwise what each facility accepts of uninsured foreigners"
        )
    return f"{home}; abroad, what each facility accepts of uninsured foreigners"


def accepts(rules: Mapping[str, Any], group: str, service: str) -> bool:
    """Tell whether a facility's ``accepts`` rules let ``group`` use ``service``."""
    allowed = rules.get(group) if isinstance(rules, Mapping) else None
    return allowed == "all" or (isinstance(allowed, list) and service in allowed)


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
    km: float
    border_posts: list[str]
    waits: list[dict[str, Any]]
    legs: list[dict[str, Any]] = field(default_factory=list)
    geometry: Any = None  # WGS84 LineString of the route

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


def _origins(network: CorridorNetwork, origin: str | None) -> pd.DataFrame:
    snaps = network.snaps
    assert snaps is not None
    table = snaps[snaps["snapped"] & snaps["kind"].isin(["settlement", "facility"])]
    if origin is None:
        return table[table["kind"] == "settlement"]
    wanted = origin.strip().casefold()
    rows = table[(table["name"].str.casefold() == wanted) | (table["id"].str.casefold() == wanted)]
    if rows.empty:
        rows = table[table["name"].str.casefold().str.contains(wanted, regex=False)]
    if rows.empty:
        raise NotFoundError(f"no settlement or facility called {origin!r} on the network")
    if rows["name"].nunique() > 1:
        raise NotFoundError(
            f"{origin!r} matches several places: {'; '.join(sorted(rows['name'].unique())[:8])}"
        )
    return rows.iloc[[0]]


def pathways(
    network: CorridorNetwork,
    specialty: str,
    patient: Patient,
    scenario: Scenario,
    depart: dt.datetime | None = None,
    origin: str | None = None,
    top: int = 3,
    times: CorridorTravelTimes | None = None,
) -> tuple[list[Pathway], list[Refusal]]:
    """Ranked receiving facilities for each origin, with routes, posts and waits.

    Parameters
    ----------
    network : CorridorNetwork
        The built corridor.
    specialty : str
        A service from the vocabulary (``cardiology``, ``oncology``, ``tb_mdr``...).
    patient : Patient
        Profile, nationality and cover of the patients referred.
    scenario : Scenario
        Border regimes (and ``cover_portable`` for agreement scenarios, via ``patient``).
    depart : datetime, optional
        Departure time; closed posts add waits.
    origin : str, optional
        One settlement or facility name or id; default every settlement.
    top : int
        Destinations per origin.
    times : CorridorTravelTimes, optional
        Travel times already compiled for this profile, scenario and departure.

    Returns
    -------
    pathways : list of Pathway
    refusals : list of Refusal
        Origins with no acceptable reachable facility, and why.
    """
    facilities = offering(network, specialty)
    if times is None:
        times = CorridorTravelTimes(network, patient.profile, scenario, depart=depart)
    origins = _origins(network, origin)
    matrix = times.matrix(list(origins["node"]), list(facilities["node"]))
    found: list[Pathway] = []
    refused: list[Refusal] = []
    countries = network.corridor.countries
    for row, minutes in zip(origins.itertuples(), matrix / 60.0, strict=True):
        nationality = nationality_of(patient, row.country, countries)
        groups = [cover_group(patient, nationality, c) for c in facilities["country"]]
        ok = np.array(
            [
                accepts(rules, g, specialty)
                for rules, g in zip(facilities["accepts"], groups, strict=True)
            ]
        )
        usable = ok & np.isfinite(minutes)
        if not usable.any():
            reason = (
                f"no facility offering {specialty} accepts a {patient.profile} patient "
                f"covered in {nationality} (at {row.country})"
                if not ok.any()
                else "no facility that accepts this patient can be reached under scenario "
                f"{scenario.name}"
            )
            refused.append(Refusal(row.name, row.id, specialty, reason))
            continue
        order = [j for j in np.argsort(minutes, kind="stable") if usable[j]][:top]
        start = Place(label=row.name, node=int(row.node))
        for rank, j in enumerate(order, 1):
            target = facilities.iloc[j]
            route = find_route(
                network,
                start,
                Place(label=target["name"], node=int(target["node"])),
                profile=patient.profile,
                scenario=scenario,
                times=times,
            )
            found.append(_pathway(network, row, specialty, rank, target, groups[j], route))
    return found, refused


def _pathway(
    network: CorridorNetwork,
    row: Any,
    specialty: str,
    rank: int,
    target: Any,
    group: str,
    route: Route,
) -> Pathway:
    return Pathway(
        origin=row.name,
        origin_id=row.id,
        origin_country=row.country,
        specialty=specialty,
        rank=rank,
        destination=str(target["name"]),
        destination_id=str(target["id"]),
        destination_country=str(target["country"]),
        cover_group=group,
        minutes=route.minutes,
        km=route.km,
        border_posts=route.border_posts,
        waits=route.waits,
        legs=[leg.__dict__ for leg in route.legs],
        geometry=route_line(network, route.nodes),
    )


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
    network: CorridorNetwork,
    facility_id: str,
    specialty: str,
    patient: Patient,
    scenario: Scenario,
    depart: dt.datetime | None = None,
) -> list[ChainStep]:
    """Referral chain from a facility up the levels (primary -> district -> regional -> national).

    For each level above the facility's: the fastest accepting facility of that level in
    the same country, and the fastest one across the border when it is faster.
    """
    facilities = network.corridor.facilities.set_index("id")
    if facility_id not in facilities.index:
        raise NotFoundError(f"no facility {facility_id!r}")
    start = facilities.loc[facility_id]
    node = network.node_of("facility", facility_id)
    if node is None:
        raise NotFoundError(f"facility {facility_id!r} is not attached to the network")
    candidates = offering(network, specialty)
    times = CorridorTravelTimes(network, patient.profile, scenario, depart=depart)
    minutes = times.matrix([node], list(candidates["node"]))[0] / 60.0
    steps = []
    nationality = nationality_of(patient, start["country"], network.corridor.countries)
    for level in LEVELS[LEVELS.index(start["level"]) + 1 :]:
        best: dict[bool, tuple[str, float] | None] = {True: None, False: None}
        for j, target in enumerate(candidates.itertuples()):
            group = cover_group(patient, nationality, target.country)
            if target.level != level or not accepts(target.accepts, group, specialty):
                continue
            if not np.isfinite(minutes[j]):
                continue
            home = target.country == start["country"]
            if best[home] is None or minutes[j] < best[home][1]:
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


# capacity-constrained assignment --------------------------------------------------------


class AssignmentError(CorridorPlannerError):
    """The assignment problem cannot be posed (bad shapes or values)."""


@dataclass
class Assignment:
    """Patients sent from each origin to each receiver within capacity.

    Attributes
    ----------
    flows : numpy.ndarray
        ``origins x receivers`` patients.
    overflow : numpy.ndarray
        Patients per origin that no receiver within capacity can take.
    total_minutes : float
        Sum of patients x minutes over the flows.
    uncapacitated_minutes : float
        The same patients sent to their nearest acceptable receiver with no limits.
    """

    flows: np.ndarray
    overflow: np.ndarray
    total_minutes: float
    uncapacitated_minutes: float

    @property
    def extra_minutes(self) -> float:
        """Patient-minutes that capacity limits add, for the patients served."""
        return self.total_minutes - self.uncapacitated_minutes


def assign(demand: np.ndarray, minutes: np.ndarray, capacity: np.ndarray) -> Assignment:
    """Send each origin's patients to receivers within capacity, minimising total minutes.

    A transportation linear programme solved by HiGHS (``scipy.optimize.linprog``):
    minimise sum of patients x minutes, each origin's patients either assigned or left as
    overflow (at a cost above any trip), no receiver over its capacity. ``inf`` minutes
    mark pairs that are unreachable or not acceptable.

    Parameters
    ----------
    demand : numpy.ndarray
        Patients per origin (>= 0).
    minutes : numpy.ndarray
        ``origins x receivers`` travel minutes.
    capacity : numpy.ndarray
        Patients each receiver can take (``inf`` for no limit).
    """
    demand = np.asarray(demand, dtype=float)
    minutes = np.asarray(minutes, dtype=float)
    capacity = np.asarray(capacity, dtype=float)
    if minutes.shape != (len(demand), len(capacity)):
        raise AssignmentError(
            f"minutes must be {len(demand)} x {len(capacity)}, got {minutes.shape}"
        )
    if (demand < 0).any() or np.isnan(demand).any() or (capacity < 0).any():
        raise AssignmentError("demand and capacity must be >= 0")
    rows, cols = np.nonzero(np.isfinite(minutes) & (demand[:, None] > 0))
    n_pairs, n_origins = len(rows), len(demand)
    pairs = np.arange(n_pairs)
    # variables: one flow per usable (origin, receiver) pair, then one overflow per origin
    cost = np.concatenate([minutes[rows, cols], np.full(n_origins, UNSERVED_MINUTES)])
    per_origin = coo_array((np.ones(n_pairs), (rows, pairs)), shape=(n_origins, n_pairs))
    overflow_of = coo_array(
        (np.ones(n_origins), (np.arange(n_origins), np.arange(n_origins))),
        shape=(n_origins, n_origins),
    )
    equality = hstack([per_origin, overflow_of]).tocsr()
    limited = np.isfinite(capacity)
    capped = limited[cols]
    receiver_row = np.cumsum(limited) - 1  # row of each capacity-limited receiver
    inequality = coo_array(
        (np.ones(int(capped.sum())), (receiver_row[cols[capped]], pairs[capped])),
        shape=(int(limited.sum()), n_pairs + n_origins),
    ).tocsr()
    result = linprog(
        cost,
        A_ub=inequality if limited.any() else None,
        b_ub=capacity[limited] if limited.any() else None,
        A_eq=equality,
        b_eq=demand,
        bounds=(0, None),
        method="highs",
    )
    if result.status != 0:
        raise AssignmentError(f"the assignment could not be solved: {result.message}")
    flows = np.zeros_like(minutes)
    flows[rows, cols] = result.x[:n_pairs]
    overflow = result.x[n_pairs:]
    served = demand - overflow
    nearest = minutes.min(axis=1) if minutes.shape[1] else np.full(n_origins, np.inf)
    reachable = np.where(np.isfinite(nearest), nearest, 0.0)
    uncapacitated = float(np.sum(np.where(served > 1e-9, served * reachable, 0.0)))
    total = float(np.sum(flows[rows, cols] * minutes[rows, cols]))
    return Assignment(flows, overflow, total, uncapacitated)


#: Profiles whose patients are a settlement's migrants, not its residents.
MIGRANT_PROFILES = frozenset({"eaeu_worker", "third_country"})
#: Profiles that travel but are not patients a settlement's figures describe.
NO_DEMAND_PROFILES = frozenset({"cargo"})


def profile_people(settlements: pd.DataFrame, profile: str) -> tuple[np.ndarray, str]:
    """People of each settlement that a profile's patients come from, and where that is from.

    Residents for ``citizen``, ``ambulance`` and ``patient_handover``; the migrant stock
    (population x ``migrant_share``, where known) for ``eaeu_worker`` and
    ``third_country``; nobody for ``cargo`` (drivers are not counted in settlements).

    Returns
    -------
    people : numpy.ndarray
        One figure per settlement.
    basis : str
        How the figure was found, and what is unknown.
    """
    population = settlements["population"].to_numpy(dtype=float)
    if profile in NO_DEMAND_PROFILES:
        return np.zeros(len(settlements)), f"no settlement figures describe {profile} travellers"
    if profile not in MIGRANT_PROFILES:
        return population, "residents (population.geojson)"
    share = pd.to_numeric(settlements["migrant_share"], errors="coerce")
    known = int(share.notna().sum())
    people = population * share.fillna(0.0).to_numpy()
    if known == 0:
        return people, "no migrant figures in this bundle (migrant_share unknown everywhere)"
    return people, (
        f"migrant stock: population x migrant_share, known for {known} of "
        f"{len(settlements)} settlements"
    )


def referral_demand(population: Sequence[float], rate_per_100k: float) -> np.ndarray:
    """Return expected referrals per origin: people x rate per 100,000 (per year)."""
    return np.asarray(population, dtype=float) * rate_per_100k / 100_000.0


# one analysis for the CLI and the report -------------------------------------------------


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


def _capacity_of(facility: Any, specialty: str, scenario: Scenario) -> tuple[float, str]:
    assumed = scenario.capacity.get(facility.id, {}).get(specialty)
    if assumed is not None:
        return assumed, f"scenario {scenario.name} (planning assumption)"
    own = facility.capacity.get(specialty) if isinstance(facility.capacity, dict) else None
    if own is not None:
        return float(own), "facilities.geojson"
    return np.inf, "unknown (no limit applied)"


def _common_rate(rates: Mapping[str, float | None]) -> float | None:
    """Return the one rate every country shares, or None when they differ or none is known."""
    values = set(rates.values())
    return values.pop() if len(values) == 1 else None


def analyse_referrals(
    network: CorridorNetwork,
    specialty: str,
    patient: Patient,
    scenario: Scenario,
    depart: dt.datetime | None = None,
    origin: str | None = None,
    rate_per_100k: float | None = None,
    top: int = 3,
) -> ReferralAnalysis:
    """Pathways for every origin, and patients assigned to receivers within capacity.

    Expected referrals per settlement are its population times the rate per 100,000 per
    year: ``rate_per_100k`` if given, else the scenario's, else the corridor's. Without
    any rate the assignment is left empty (and ``rate_basis`` says so).
    """
    corridor = network.corridor
    portable = Patient(
        patient.profile, patient.nationality, patient.portable_cover or scenario.cover_portable
    )
    times = CorridorTravelTimes(network, patient.profile, scenario, depart=depart)
    found, refused = pathways(network, specialty, portable, scenario, depart, origin, top, times)
    if rate_per_100k is not None:
        rates = {c: float(rate_per_100k) for c in corridor.countries}
        basis = "given on the command line"
    else:
        rates = {c: corridor.referral_rate(specialty, scenario, c) for c in corridor.countries}
        known = any(r is not None for r in rates.values())
        basis = "corridor or scenario data (see SOURCES.md)" if known else "none"
    rate = _common_rate(rates)
    facilities = offering(network, specialty)
    caps = [_capacity_of(f, specialty, scenario) for f in facilities.itertuples()]
    capacity = np.array([c for c, _ in caps])
    assignment_rows: list[dict[str, Any]] = []
    overflow_rows: list[dict[str, Any]] = []
    assigned = np.zeros(len(facilities))
    demand_total, extra = 0.0, 0.0
    origins = _origins(network, origin)
    origins = origins[origins["kind"] == "settlement"]
    settlements = corridor.population.set_index("id").loc[list(origins["id"])]
    people, people_basis = profile_people(settlements, patient.profile)
    if basis != "none" and not origins.empty and people.sum() > 0:
        per_origin = np.array([rates.get(c) or 0.0 for c in origins["country"]])
        demand = referral_demand(people, 1.0) * per_origin
        minutes = times.matrix(list(origins["node"]), list(facilities["node"])) / 60.0
        for i, row in enumerate(origins.itertuples()):
            nationality = nationality_of(portable, row.country, corridor.countries)
            for j, target in enumerate(facilities.itertuples()):
                group = cover_group(portable, nationality, target.country)
                if not accepts(target.accepts, group, specialty):
                    minutes[i, j] = np.inf
        result = assign(demand, minutes, capacity)
        demand_total, extra = float(demand.sum()), result.extra_minutes
        assigned = result.flows.sum(axis=0)
        for i, row in enumerate(origins.itertuples()):
            for j in np.flatnonzero(result.flows[i] > 1e-9):
                target = facilities.iloc[j]
                assignment_rows.append(
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
                overflow_rows.append(
                    {
                        "origin": row.name,
                        "origin_id": row.id,
                        "patients": round(float(result.overflow[i]), 3),
                    }
                )
    capacity_rows = [
        {
            "facility": f.name,
            "facility_id": f.id,
            "country": f.country,
            "capacity": None if not np.isfinite(cap) else cap,
            "capacity_basis": why,
            "assigned": round(float(assigned[j]), 3),
        }
        for j, (f, (cap, why)) in enumerate(zip(facilities.itertuples(), caps, strict=True))
    ]
    return ReferralAnalysis(
        specialty=specialty,
        patient=portable,
        scenario=scenario.name,
        depart=depart or scenario.depart,
        rate_per_100k=rate,
        rates=rates,
        rate_basis=basis,
        pathways=found,
        refusals=refused,
        assignment=assignment_rows,
        capacity=capacity_rows,
        overflow=overflow_rows,
        demand=round(demand_total, 3),
        extra_minutes=round(extra, 1),
        people=round(float(people.sum())),
        people_basis=people_basis,
        left_out=network.left_out("settlement"),
    )


def compare_scenarios(
    network: CorridorNetwork,
    specialty: str,
    patient: Patient,
    scenarios: Sequence[Scenario],
) -> pd.DataFrame:
    """Per scenario and origin country: people with a pathway, mean minutes, share abroad.

    Returns
    -------
    DataFrame
        ``scenario``, ``country``, ``population``, ``with_pathway`` (people with an
        acceptable, reachable destination), ``mean_minutes`` (population-weighted, over
        those with one), ``abroad`` (people whose fastest acceptable care is across the
        border).
    """
    settlements = network.corridor.population.set_index("id")[["country", "population"]]
    rows = []
    for scenario in scenarios:
        found, _ = pathways(network, specialty, patient, scenario, top=1)
        first = pd.DataFrame(
            [(p.origin_id, p.minutes, p.destination_country) for p in found],
            columns=["id", "minutes", "destination_country"],
        ).set_index("id")
        table = settlements.join(first, how="left")
        attached = [n for n in settlements.index if network.node_of("settlement", n) is not None]
        table = table.loc[attached]
        for country, group in table.groupby("country"):
            served = group[group["minutes"].notna()]
            people = float(served["population"].sum())
            weighted = float((served["population"] * served["minutes"]).sum())
            abroad = served["destination_country"] != country
            rows.append(
                {
                    "scenario": scenario.name,
                    "country": country,
                    "population": int(group["population"].sum()),
                    "with_pathway": int(people),
                    "mean_minutes": round(weighted / people, 1) if people else None,
                    "abroad": int(served.loc[abroad, "population"].sum()),
                }
            )
    return pd.DataFrame(rows)
