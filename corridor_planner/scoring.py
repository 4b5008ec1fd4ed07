"""Score candidate sites on a corridor: travel-time matrices in, a ranked table out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from corridor_planner.access import offering, settlements_on_network
from corridor_planner.errors import NotFoundError
from corridor_planner.facilities import offers
from corridor_planner.network import CorridorNetwork
from corridor_planner.rules import Scenario
from corridor_planner.siting import (
    CapacitatedMaxCoverage,
    CoverageGain,
    MaxCoverage,
    PMedian,
    SitingError,
    SitingResult,
)
from corridor_planner.traveltimes import CorridorTravelTimes

METHODS = ("gain", "mclp", "greedy", "pmedian", "capacitated")
WEIGHT_GROUPS = ("border_community", "migrants")


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
        existing facilities and the sites up to this rank), ``capacity`` and ``served``
        (capacitated). WGS84 points.
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


def demand_weights(settlements: pd.DataFrame, group_weights: Mapping[str, float]) -> np.ndarray:
    """Weight of each settlement: its people, with chosen groups counted ``m`` times.

    ``border_community=2`` counts people of border communities twice; ``migrants=1.5``
    adds half again the migrant share of each settlement (where known).
    """
    unknown = set(group_weights) - set(WEIGHT_GROUPS)
    if unknown:
        raise NotFoundError(f"unknown weight group {sorted(unknown)}; known: {WEIGHT_GROUPS}")
    population = settlements["population"].to_numpy(dtype=float)
    weights = population.copy()
    border = settlements["border_community"].to_numpy(dtype=bool)
    weights += (group_weights.get("border_community", 1.0) - 1.0) * population * border
    share = pd.to_numeric(settlements["migrant_share"], errors="coerce").fillna(0.0).to_numpy()
    weights += (group_weights.get("migrants", 1.0) - 1.0) * population * share
    return weights


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


def score_sites(
    network: CorridorNetwork,
    service: str,
    threshold_min: float,
    k: int,
    method: str = "mclp",
    profile: str = "citizen",
    scenario: Scenario | None = None,
    depart: dt.datetime | None = None,
    group_weights: Mapping[str, float] | None = None,
    site_capacity: float | None = None,
) -> SiteScores:
    """Rank candidate sites for a service with the chosen location model.

    Parameters
    ----------
    network : CorridorNetwork
        The built corridor.
    service : str
        Service the new sites would offer (and existing facilities already offer).
    threshold_min : float
        Access threshold in minutes.
    k : int
        Number of sites to choose (``gain``: the ``k`` best sites, each judged alone).
    method : str
        ``gain``, ``mclp`` (exact), ``greedy``, ``pmedian`` or ``capacitated``.
    profile, scenario, depart
        Who travels, under which border regime, leaving when.
    group_weights : mapping, optional
        Multipliers for ``border_community`` and ``migrants``.
    site_capacity : float, optional
        People a site can serve, for candidates whose data give no capacity
        (``capacitated`` only; a planning assumption).

    Raises
    ------
    NotFoundError
        Unknown method, service or weight group, or nothing to site.
    SitingError
        An infeasible problem, or capacities missing for ``capacitated``.
    """
    if method not in METHODS:
        raise NotFoundError(f"unknown method {method!r}; known: {', '.join(METHODS)}")
    scenario = scenario or network.corridor.scenario("baseline")
    times = CorridorTravelTimes(network, profile, scenario, depart=depart)
    settlements = settlements_on_network(network)
    candidates = candidates_for(network, service)
    existing = offering(network, service)
    origins = list(settlements["node"])
    costs = times.matrix(origins, list(candidates["node"])) / 60.0
    existing_costs = times.matrix(origins, list(existing["node"])) / 60.0
    weights = demand_weights(settlements, group_weights or {})
    result = _solve(
        method,
        costs,
        weights,
        threshold_min,
        min(k, costs.shape[1]),
        existing_costs,
        _capacities(candidates, site_capacity) if method == "capacitated" else None,
    )
    sites = _ranked_table(
        candidates, settlements, costs, existing_costs, threshold_min, result, method
    )
    people = settlements["population"].to_numpy(dtype=float)
    already = (existing_costs <= threshold_min).any(axis=1)
    return SiteScores(
        sites=sites,
        result=result,
        already_covered=float(people[already].sum()),
        population=float(people.sum()),
        method=method,
        service=service,
        threshold_min=threshold_min,
        scenario=scenario.name,
        profile=profile,
        depart=times.depart,
        requested_k=k,
        left_out=network.left_out("settlement"),
    )


def _capacities(candidates: pd.DataFrame, default: float | None) -> np.ndarray:
    values = []
    missing = []
    for row in candidates.itertuples():
        value = row.capacity if isinstance(row.capacity, int | float) else None
        if value is None and default is None:
            missing.append(row.id)
        values.append(value if value is not None else default)
    if missing:
        raise SitingError(
            f"candidates {', '.join(missing)} have no capacity in candidates.geojson; "
            "give one with --site-capacity (people a site can serve)"
        )
    return np.array(values, dtype=float)


def _solve(
    method: str,
    costs: np.ndarray,
    weights: np.ndarray,
    threshold: float,
    k: int,
    existing: np.ndarray,
    capacities: np.ndarray | None,
) -> SitingResult:
    if method == "gain":
        return CoverageGain.from_cost_matrix(costs, weights, threshold, k, existing).solve()
    if method in ("mclp", "greedy"):
        problem = MaxCoverage.from_cost_matrix(costs, weights, threshold, k, existing)
        return problem.solve("exact" if method == "mclp" else "greedy")
    if method == "pmedian":
        return PMedian.from_cost_matrix(costs, weights, k, existing).solve()
    return CapacitatedMaxCoverage.from_cost_matrix(
        costs, weights, threshold, k, existing, capacities
    ).solve()


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
    border = settlements["border_community"].to_numpy(dtype=bool)
    covers = costs <= threshold
    covered = (existing <= threshold).any(axis=1)
    base = covered.copy()
    rows = []
    for rank, (j, gain) in enumerate(zip(result.selected, result.newly_covered, strict=True), 1):
        fresh = covers[:, j] & ~(base if method == "gain" else covered)
        if method != "gain":
            covered = covered | covers[:, j]
        total = (base | covers[:, j]) if method == "gain" else covered
        row = {
            "rank": rank,
            "newly_covered": round(float(people[fresh].sum())),
            "newly_covered_border_community": round(float(people[fresh & border].sum())),
            "weighted_gain": round(gain, 1),
            "total_covered": round(float(people[total].sum())),
        }
        if method == "capacitated":
            row["capacity"] = result.extra["capacity"][rank - 1]
            row["served"] = round(result.extra["served"][rank - 1], 1)
        rows.append((j, row))
    picked = candidates.iloc[[j for j, _ in rows]].drop(columns=["node"]).reset_index(drop=True)
    table = pd.DataFrame([r for _, r in rows])
    keep = ["id", "name", "country", "reason", "geometry"]
    return gpd.GeoDataFrame(
        pd.concat([table, picked[keep]], axis=1), geometry="geometry", crs=candidates.crs
    )
