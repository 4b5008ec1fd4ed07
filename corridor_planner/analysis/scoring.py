"""Score candidate sites on a corridor: travel-time matrices in, a ranked table out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from corridor_planner import units
from corridor_planner.analysis.access import bounded_minutes, offering, settlements_on_network
from corridor_planner.analysis.coverage import demand_weights, group_people, within
from corridor_planner.analysis.covering import BackupSetCovering, PCenter, SetCovering
from corridor_planner.analysis.siting import (
    BudgetedMaxCoverage,
    CapacitatedMaxCoverage,
    CapacitatedPMedian,
    CoverageGain,
    LocationProblem,
    MaxCoverage,
    PMedian,
    SitingResult,
)
from corridor_planner.bundle.facilities import offers
from corridor_planner.errors import InvalidArgumentError, NotFoundError, SitingError
from corridor_planner.network.graph import CorridorNetwork
from corridor_planner.outputs import json_records
from corridor_planner.routing.traveltimes import CorridorTravelTimes
from corridor_planner.settings import SITING_METHODS

METHODS = SITING_METHODS

#: Methods whose sites serve within a capacity (``service_capacity`` and ``served`` columns).
CAPACITATED = ("capacitated", "pmedian-capacitated")


@dataclass
class SiteScores:
    """Ranked candidate sites and the model behind them.

    Attributes
    ----------
    sites : GeoDataFrame
        One row per ranked site: ``rank``, ``id``, ``name``, ``country``,
        ``newly_covered`` (people newly within the threshold, in rank order; for ``gain``,
        each site alone), ``newly_covered_border_community``, ``weighted_gain`` (the
        model's own figure), ``total_covered`` (people within the threshold with the
        existing facilities and the sites up to this rank), ``service_capacity`` (people
        the site can serve) and ``served`` (capacitated). WGS84 points.
    result : SitingResult
        The model's answer.
    already_covered : float
        People within the threshold of an existing facility.
    population : float
        People in the corridor's attached settlements.
    """

    sites: gpd.GeoDataFrame
    result: SitingResult
    already_covered: float
    population: float
    method: str
    service: str
    threshold_min: float
    scenario: str
    profile: str
    depart: dt.datetime | None
    requested_k: int = 0
    left_out: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary: the run's settings, totals and ``sites``."""
        sites = pd.DataFrame(self.sites.drop(columns=self.sites.geometry.name))
        return {
            "service": self.service,
            "threshold_minutes": self.threshold_min,
            "method": self.result.method,
            "scenario": self.scenario,
            "profile": self.profile,
            "depart": self.depart.isoformat() if self.depart else None,
            "population": round(self.population),
            "already_covered": round(self.already_covered),
            "objective": self.result.objective,
            "extra": {k: v for k, v in self.result.extra.items() if k != "gains"},
            "requested_k": self.requested_k,
            "sites": json_records(sites),
            "left_out": self.left_out,
        }


def candidates_for(network: CorridorNetwork, service: str) -> gpd.GeoDataFrame:
    """Candidate sites that would offer ``service`` and are attached to the network."""
    candidates = network.corridor.candidates.copy()
    candidates = candidates[offers(candidates, service)]
    candidates["node"] = [network.node_of("candidate", cid) for cid in candidates["id"]]
    candidates = candidates[candidates["node"].notna()]
    if candidates.empty:
        raise NotFoundError(
            f"no candidate site in corridor {network.corridor.id} offers {service!r}"
        )
    return candidates


#: Sites chosen when the request names no count.
DEFAULT_SITES = 3
#: Cap on the count under a budget when none is given: in effect, as many as the budget buys.
BUDGET_MAX_SITES = 10_000


def site_request(method: str, k: int | None, budget: float | None) -> tuple[str, int]:
    """Return the method and site count a request means.

    A budget means the exact budget MCLP, whatever ``method`` says, and ``k`` (if given)
    caps the count, else the budget alone decides (:data:`BUDGET_MAX_SITES`). Without a
    budget, ``k`` defaults to :data:`DEFAULT_SITES`.
    """
    if budget is not None:
        return "budget", k or BUDGET_MAX_SITES
    return method, k or DEFAULT_SITES


def score_sites(
    times: CorridorTravelTimes,
    service: str,
    threshold_min: float,
    k: int,
    *,
    method: str = "mclp",
    group_weights: Mapping[str, float] | None = None,
    service_capacity: float | None = None,
    budget: float | None = None,
) -> SiteScores:
    """Rank candidate sites for a service with the chosen location model.

    Parameters
    ----------
    times : CorridorTravelTimes
        Travel times for who travels, under which scenario, leaving when.
    service : str
        Service the new sites would offer (and existing facilities already offer).
    threshold_min : float
        Access threshold in minutes.
    k : int
        Number of sites to choose (``gain``: the ``k`` best sites, each judged alone).
    method : str
        ``gain``, ``mclp`` (exact), ``greedy``, ``pmedian``, ``capacitated``, ``budget``
        (exact MCLP whose sites' ``cost`` may not exceed ``budget``; ``k`` caps the count),
        ``lscp`` (the fewest sites bringing everyone within the threshold; ``k`` is not
        used), ``lscpb`` (as many sites, most people covered twice), ``pcenter`` (the
        shortest longest trip) or ``pmedian-capacitated`` (p-median with all demand
        assigned within the sites' and existing facilities' capacities).
    group_weights : mapping, optional
        Multipliers for ``border_community`` and ``migrants``.
    service_capacity : float, optional
        People a site can serve, for candidates whose ``service_capacity`` gives none for
        the service (``capacitated`` and ``pmedian-capacitated``; a planning assumption).
        A candidate's ``capacity`` (patients a year, as a facility's) is not used.
        With ``pmedian-capacitated``, existing facilities without a capacity for the
        service take any number (``extra["uncapacitated_existing"]`` names them).
    budget : float, optional
        What the chosen sites may cost in all (``budget``; same unit as ``cost``).

    Raises
    ------
    NotFoundError
        Unknown method, service or weight group, or nothing to site.
    SitingError
        An infeasible problem, or capacities missing for ``capacitated``.
    """
    if method not in METHODS:
        raise InvalidArgumentError(f"unknown method {method!r}; known: {', '.join(METHODS)}")
    if (method == "budget") != (budget is not None):
        raise InvalidArgumentError("a budget goes with method 'budget', and only with it")
    network = times.network
    settlements = settlements_on_network(network)
    candidates = candidates_for(network, service)
    existing = offering(network, service)
    origins = list(settlements["node"])
    costs = units.minutes(times.matrix(origins, list(candidates["node"])))
    existing_costs = _existing_minutes(
        times, origins, list(existing["node"]), method, threshold_min
    )
    weights = demand_weights(settlements, group_weights or {})
    extra: np.ndarray | None = None
    if method in CAPACITATED:
        extra = _service_capacities(candidates, service, service_capacity)
    elif method == "budget":
        extra = _site_costs(candidates)
    if method == "pmedian-capacitated":
        result = _capacitated_pmedian(
            costs, weights, min(k, costs.shape[1]), existing_costs, extra, existing, service
        )
    else:
        result = _solve(
            method,
            costs,
            weights,
            threshold_min,
            min(k, costs.shape[1]),
            existing_costs,
            extra,
            budget,
        )
    sites = _ranked_table(
        candidates, settlements, costs, existing_costs, threshold_min, result, method
    )
    people = settlements["population"].to_numpy(dtype=float)
    already = within(existing_costs, threshold_min).any(axis=1)
    return SiteScores(
        sites=sites,
        result=result,
        already_covered=float(people[already].sum()),
        population=float(people.sum()),
        method=method,
        service=service,
        threshold_min=threshold_min,
        scenario=times.scenario.name,
        profile=times.profile,
        depart=times.depart,
        requested_k=k,
        left_out=network.left_out("settlement"),
    )


def _existing_minutes(
    times: CorridorTravelTimes,
    origins: list[Any],
    facilities: list[Any],
    method: str,
    threshold_min: float,
) -> np.ndarray:
    """Minutes from each settlement to the existing facilities, as much as the model needs.

    The uncapacitated models only ask how near the nearest existing facility is (``min``,
    or whether any is within the threshold): one column, from one multi-source search.
    ``lscpb`` counts the existing facilities within the threshold: each row holds the
    times of those within it (a bounded query), padded with ``inf``. Only the capacitated
    p-median, which assigns people to each facility, takes the whole matrix.
    """
    if method == "pmedian-capacitated":
        return units.minutes(times.matrix(origins, facilities))
    if method == "lscpb":
        near = bounded_minutes(times, origins, facilities, threshold_min)
        per_row = np.diff(near.indptr)
        padded = np.full((len(origins), max(int(per_row.max(initial=0)), 1)), np.inf)
        slot = np.arange(near.nnz) - np.repeat(near.indptr[:-1], per_row)
        padded[np.repeat(np.arange(len(origins)), per_row), slot] = near.data
        return padded
    seconds, _ = times.nearest(origins, facilities)
    return units.minutes(seconds)[:, None]


def _service_capacities(
    candidates: pd.DataFrame, service: str, default: float | None
) -> np.ndarray:
    """People each candidate can serve: its ``service_capacity`` for the service, else ``default``.

    A candidate's ``capacity`` is patients a year (as a facility's), another quantity: it
    never stands in for the people a site can serve.
    """
    values = _people_served(candidates, service)
    missing = [cid for cid, v in zip(candidates["id"], values, strict=True) if np.isnan(v)]
    if missing and default is None:
        raise SitingError(
            f"candidates {', '.join(missing)} have no service_capacity for {service} in "
            "candidates.geojson; give one with --service-capacity (people a site can serve)"
        )
    return np.where(np.isnan(values), default if default is not None else 0.0, values)


def _site_costs(candidates: pd.DataFrame) -> np.ndarray:
    """Each candidate's ``cost``; every one must have one for a budgeted choice."""
    values = pd.to_numeric(candidates["cost"], errors="coerce").to_numpy(dtype=float)
    missing = [cid for cid, v in zip(candidates["id"], values, strict=True) if np.isnan(v)]
    if missing:
        raise SitingError(
            f"candidates {', '.join(missing)} have no cost in candidates.geojson: a budgeted "
            "choice needs every candidate's cost"
        )
    return values


def _people_served(sites: pd.DataFrame, service: str) -> np.ndarray:
    """Each site's ``service_capacity`` for ``service`` (people; NaN where not given)."""
    return np.array(
        [
            own.get(service, np.nan) if isinstance(own, dict) else np.nan
            for own in sites["service_capacity"]
        ],
        dtype=float,
    )


def _capacitated_pmedian(
    costs: np.ndarray,
    weights: np.ndarray,
    k: int,
    existing_costs: np.ndarray,
    site_caps: np.ndarray | None,
    existing: pd.DataFrame,
    service: str,
) -> SitingResult:
    """Capacitated p-median; existing facilities without a service capacity take any number.

    An existing facility's limit is its ``service_capacity`` (people it can serve), never
    its ``capacity`` (patients a year, another quantity).
    """
    held = _people_served(existing, service)
    open_ended = [fid for fid, v in zip(existing["id"], held, strict=True) if np.isnan(v)]
    problem = CapacitatedPMedian.from_cost_matrix(
        costs, weights, k, existing_costs, site_caps, np.where(np.isnan(held), np.inf, held)
    ).solve()
    assert problem.result is not None
    problem.result.extra["uncapacitated_existing"] = open_ended
    problem.result.extra["existing_served"] = dict(
        zip(existing["id"], problem.result.extra["existing_served"], strict=True)
    )
    return problem.result


def _solve(
    method: str,
    costs: np.ndarray,
    weights: np.ndarray,
    threshold: float,
    k: int,
    existing: np.ndarray,
    per_site: np.ndarray | None,
    budget: float | None,
) -> SitingResult:
    problem: LocationProblem
    if method == "gain":
        problem = CoverageGain.from_cost_matrix(costs, weights, threshold, k, existing).solve()
    elif method in ("mclp", "greedy"):
        problem = MaxCoverage.from_cost_matrix(costs, weights, threshold, k, existing).solve(
            method="exact" if method == "mclp" else "greedy"
        )
    elif method == "pmedian":
        problem = PMedian.from_cost_matrix(costs, weights, k, existing).solve()
    elif method == "lscp":
        problem = SetCovering.from_cost_matrix(costs, weights, threshold, existing).solve()
    elif method == "lscpb":
        problem = BackupSetCovering.from_cost_matrix(costs, weights, threshold, existing).solve()
    elif method == "pcenter":
        problem = PCenter.from_cost_matrix(costs, weights, k, existing).solve()
    elif method == "budget":
        problem = BudgetedMaxCoverage.from_cost_matrix(
            costs, weights, threshold, k, existing, per_site, budget or 0.0
        ).solve()
    else:
        problem = CapacitatedMaxCoverage.from_cost_matrix(
            costs, weights, threshold, k, existing, per_site
        ).solve()
    assert problem.result is not None
    return problem.result


def _ranked_table(
    candidates: gpd.GeoDataFrame,
    settlements: pd.DataFrame,
    costs: np.ndarray,
    existing: np.ndarray,
    threshold: float,
    result: SitingResult,
    method: str,
) -> gpd.GeoDataFrame:
    people = settlements["population"].to_numpy(dtype=float)
    border_people = group_people(settlements, "border_community")
    covers = within(costs, threshold)
    covered = within(existing, threshold).any(axis=1)
    base = covered.copy()
    rows = []
    for rank, (j, gain) in enumerate(zip(result.selected, result.newly_covered, strict=True), 1):
        fresh = covers[:, j] & ~(base if method == "gain" else covered)
        if method != "gain":
            covered = covered | covers[:, j]
        total = (base | covers[:, j]) if method == "gain" else covered
        row: dict[str, Any] = {
            "rank": rank,
            "newly_covered": round(float(people[fresh].sum())),
            "newly_covered_border_community": round(float(border_people[fresh].sum())),
            "weighted_gain": round(gain, 1),
            "total_covered": round(float(people[total].sum())),
        }
        if method in CAPACITATED:
            row["service_capacity"] = result.extra["capacity"][rank - 1]
            row["served"] = round(result.extra["served"][rank - 1], 1)
        if method == "budget":
            row["cost"] = result.extra["cost"][rank - 1]
            row["covered_per_cost"] = row["newly_covered"] / row["cost"] if row["cost"] else None
        rows.append((j, row))
    picked = candidates.iloc[[j for j, _ in rows]].drop(columns=["node"]).reset_index(drop=True)
    table = pd.DataFrame([r for _, r in rows], columns=list(rows[0][1]) if rows else ["rank"])
    keep = ["id", "name", "country", "reason", "geometry"]
    return gpd.GeoDataFrame(
        pd.concat([table, picked[keep]], axis=1), geometry="geometry", crs=candidates.crs
    )
