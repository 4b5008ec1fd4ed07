"""Access to care: nearest facility, coverage, E2SFCA, 3SFCA and RAAM, cooperation gains."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.sparse import csr_array, issparse

from corridor_planner import units
from corridor_planner.analysis.coverage import group_people, within
from corridor_planner.bundle.facilities import offers, supply
from corridor_planner.errors import InvalidArgumentError, NotFoundError
from corridor_planner.network.graph import CorridorNetwork
from corridor_planner.outputs import json_records
from corridor_planner.routing.reasons import Explainer
from corridor_planner.routing.traveltimes import CorridorTravelTimes
from corridor_planner.settings import ACCESS_METHODS, GROUPS, SERVICES

#: Luo & Qi (2009) E2SFCA weights for the three equal travel-time zones of a catchment.
LUO_QI_WEIGHTS = (1.0, 0.68, 0.22)


def offering(network: CorridorNetwork, service: str) -> gpd.GeoDataFrame:
    """Facilities that offer ``service`` and are attached to the network.

    Raises
    ------
    NotFoundError
        If the service is not in the vocabulary or no attached facility offers it.
    """
    if service not in SERVICES:
        raise NotFoundError(f"unknown service {service!r}; known: {', '.join(sorted(SERVICES))}")
    facilities = network.corridor.facilities
    chosen = facilities[offers(facilities, service)].copy()
    chosen["node"] = [network.node_of("facility", fid) for fid in chosen["id"]]
    chosen = chosen[chosen["node"].notna()]
    if chosen.empty:
        raise NotFoundError(f"no facility in corridor {network.corridor.id} offers {service!r}")
    return chosen


def settlements_on_network(network: CorridorNetwork) -> gpd.GeoDataFrame:
    """Return the population points attached to the network, with their graph node.

    Raises
    ------
    NotFoundError
        If no population point is attached (none in the bundle, or all too far away).
    """
    population = network.corridor.population.copy()
    population["node"] = [network.node_of("settlement", sid) for sid in population["id"]]
    attached = population[population["node"].notna()]
    if attached.empty:
        missing = network.left_out("settlement")
        why = (
            f"all {missing['points']} are {missing['reason']}"
            if missing["points"]
            else "population.geojson holds none"
        )
        raise NotFoundError(
            f"corridor {network.corridor.id} has no population point on the network: {why}"
        )
    return attached


def nearest_facility_times(times: CorridorTravelTimes, service: str) -> gpd.GeoDataFrame:
    """Minutes from every settlement to the nearest facility offering ``service``.

    Parameters
    ----------
    times : CorridorTravelTimes
        Travel times over the corridor for the profile, scenario and departure wanted.
    service : str
        A service from the vocabulary (``emergency``, ``surgery``, ...).

    Returns
    -------
    GeoDataFrame
        One row per attached settlement: ``id``, ``name``, ``country``, ``population``,
        ``border_community``, ``migrant_share``, ``minutes`` (``inf`` if unreachable),
        ``facility_id``, ``facility_name``, ``facility_country``, ``crosses_border``,
        ``unreachable`` (why no facility can be reached, None where one can); WGS84 points.
    """
    network = times.network
    facilities = offering(network, service)
    settlements = settlements_on_network(network)
    key = (
        "nearest_facility_times",
        service,
        tuple(facilities["id"]),
        tuple(facilities["node"]),
        tuple(settlements["node"]),
    )
    if key not in times.memo:  # one search per service, whichever section asks first
        times.memo[key] = _nearest_table(times, service, facilities, settlements)
    table: gpd.GeoDataFrame = times.memo[key].copy()
    return table


def _nearest_table(
    times: CorridorTravelTimes,
    service: str,
    facilities: pd.DataFrame,
    settlements: gpd.GeoDataFrame,
) -> gpd.GeoDataFrame:
    """Compute the table of :func:`nearest_facility_times` (one multi-source search)."""
    seconds, best = times.nearest(list(settlements["node"]), list(facilities["node"]))
    minutes = units.minutes(seconds)
    reached = np.isfinite(minutes)
    out = settlements.drop(columns=["node"]).copy()
    out["minutes"] = minutes
    for column, source in (
        ("facility_id", "id"),
        ("facility_name", "name"),
        ("facility_country", "country"),
    ):
        values = facilities[source].to_numpy()[np.maximum(best, 0)]
        out[column] = np.where(reached, values, None)
    out["crosses_border"] = reached & (out["facility_country"] != out["country"])
    out["unreachable"] = _unreachable_causes(times, settlements, facilities, reached, service)
    return out


def _unreachable_causes(
    times: CorridorTravelTimes,
    settlements: pd.DataFrame,
    facilities: pd.DataFrame,
    reached: np.ndarray,
    service: str,
) -> list[str | None]:
    """Why each settlement out of reach of every facility is so (None where one is reached)."""
    if reached.all():
        return [None] * len(settlements)
    explainer = Explainer(times, list(facilities["node"]), f"any facility offering {service}")
    return [
        None if ok else explainer.why([node], str(name))[0]
        for node, name, ok in zip(settlements["node"], settlements["name"], reached, strict=True)
    ]


def unreachable_summary(settlements: pd.DataFrame) -> dict[str, Any]:
    """Settlements and people no facility can be reached from, counted by cause.

    Parameters
    ----------
    settlements : DataFrame
        Output of :func:`nearest_facility_times`.

    Returns
    -------
    dict
        ``settlements``, ``population`` and ``causes`` (``[{cause, settlements,
        population}]``, most people first).
    """
    out = settlements[settlements["unreachable"].notna()]
    causes = out.groupby("unreachable")["population"].agg(["count", "sum"]).sort_values("sum")[::-1]
    return {
        "settlements": len(out),
        "population": int(out["population"].sum()),
        "causes": [
            {"cause": str(cause), "settlements": int(row["count"]), "population": int(row["sum"])}
            for cause, row in causes.iterrows()
        ],
    }


def coverage(settlements: pd.DataFrame, thresholds_min: Sequence[float]) -> pd.DataFrame:
    """Count the population within each threshold, by country and by group, as a tidy table.

    Parameters
    ----------
    settlements : DataFrame
        Output of :func:`nearest_facility_times`.
    thresholds_min : sequence of float
        Thresholds in minutes.

    Returns
    -------
    DataFrame
        Columns ``threshold_minutes``, ``country`` (each country and ``all``), ``group``
        (``all``, ``border_community``, ``migrants``: population times the migrant share
        where known), ``population``, ``covered``, ``share`` (NaN where the group is empty).
    """
    everyone = GROUPS[0]
    countries = [everyone, *sorted(settlements["country"].unique())]
    rows = []
    people_of = {group: group_people(settlements, group) for group in GROUPS}
    for threshold in sorted(thresholds_min):
        covered_here = within(settlements["minutes"], threshold)
        for country in countries:
            in_country = (
                np.ones(len(settlements), bool)
                if country == everyone
                else (settlements["country"].to_numpy() == country)
            )
            for group in GROUPS:
                people = people_of[group] * in_country
                total, covered = float(people.sum()), float((people * covered_here).sum())
                rows.append(
                    {
                        "threshold_minutes": threshold,
                        "country": country,
                        "group": group,
                        "population": round(total),
                        "covered": round(covered),
                        "share": covered / total if total > 0 else float("nan"),
                    }
                )
    return pd.DataFrame(rows)


def cooperation_gain(closed: pd.DataFrame, open_: pd.DataFrame) -> pd.DataFrame:
    """Who gains when borders open: two coverage tables side by side.

    Parameters
    ----------
    closed, open_ : DataFrame
        Outputs of :func:`coverage` for the closed and the open scenario.

    Returns
    -------
    DataFrame
        Keys ``threshold_minutes``, ``country``, ``group``, ``population``, then
        ``covered_closed``, ``covered_open``, ``gain`` (people), ``share_closed``,
        ``share_open``.
    """
    keys = ["threshold_minutes", "country", "group", "population"]
    merged = closed.merge(open_, on=keys, suffixes=("_closed", "_open"))
    merged["gain"] = merged["covered_open"] - merged["covered_closed"]
    return merged[[*keys, "covered_closed", "covered_open", "gain", "share_closed", "share_open"]]


# E2SFCA ------------------------------------------------------------------------------


def zone_weights(minutes: np.ndarray, catchment_min: float) -> np.ndarray:
    """Luo & Qi step weights: 1.00 / 0.68 / 0.22 in each third of the catchment, 0 beyond.

    Zones include their upper edge, as pysal ``access`` does and as the coverage rule
    (:func:`corridor_planner.analysis.coverage.within`, ``d <= c``) does: a time of exactly
    ``c/3`` weighs 1, ``2c/3`` weighs 0.68 and ``c`` weighs 0.22.

    Parameters
    ----------
    minutes : numpy.ndarray
        Travel times in minutes (``inf``: unreachable).
    catchment_min : float
        Catchment size ``c`` in minutes.

    Returns
    -------
    numpy.ndarray
        The weight of each time, same shape as ``minutes``.
    """
    zones = len(LUO_QI_WEIGHTS)
    edges = [catchment_min * (index + 1) / zones for index in range(zones)]
    return np.select([minutes <= edge for edge in edges], LUO_QI_WEIGHTS, default=0.0)


def gaussian_weights(minutes: np.ndarray, catchment_min: float) -> np.ndarray:
    """Gaussian decay that falls to zero at the catchment edge (Dai 2010 form)."""
    edge = np.exp(-0.5)
    raw = (np.exp(-0.5 * (minutes / catchment_min) ** 2) - edge) / (1 - edge)
    return np.where(minutes <= catchment_min, raw, 0.0)


DECAYS = {"zones": zone_weights, "gaussian": gaussian_weights}


def e2sfca_scores(
    minutes: np.ndarray,
    population: np.ndarray,
    supply: np.ndarray,
    catchment_min: float,
    decay: str = "zones",
) -> tuple[np.ndarray, np.ndarray]:
    """Enhanced two-step floating catchment area accessibility.

    Step 1: each facility's supply-to-demand ratio ``R_j = S_j / sum_k P_k W(d_kj)``.
    Step 2: each settlement's score ``A_i = sum_j R_j W(d_ij)``.

    Parameters
    ----------
    minutes : numpy.ndarray or scipy.sparse array
        ``settlements x facilities`` travel times; or, sparse, the pairs within the
        catchment only (:func:`bounded_minutes`: a missing pair is out of reach).
    population : numpy.ndarray
        People per settlement.
    supply : numpy.ndarray
        Capacity per facility (beds, places or patients per day: any one unit).
    catchment_min : float
        Catchment size in minutes.
    decay : str
        ``zones`` (Luo & Qi 2009 steps) or ``gaussian``.

    Returns
    -------
    scores : numpy.ndarray
        Supply per person reachable from each settlement.
    ratios : numpy.ndarray
        Supply per weighted person at each facility (``inf``: no demand in reach).
    """
    if decay not in DECAYS:
        raise InvalidArgumentError(f"unknown decay {decay!r}; known: {', '.join(DECAYS)}")
    if issparse(minutes):
        return _sparse_e2sfca(csr_array(minutes), population, supply, catchment_min, decay)
    weights = DECAYS[decay](np.where(np.isfinite(minutes), minutes, np.inf), catchment_min)
    demand = population @ weights
    with np.errstate(divide="ignore"):
        ratios = np.where(demand > 0, supply / demand, np.inf)
    scores = weights @ np.where(np.isfinite(ratios), ratios, 0.0)
    return scores, ratios


def _with_data(matrix: csr_array, data: np.ndarray) -> csr_array:
    """Return a matrix with the stored pairs of ``matrix`` and other values."""
    return csr_array((data, matrix.indices, matrix.indptr), shape=matrix.shape)


def _sparse_e2sfca(
    minutes: csr_array,
    population: np.ndarray,
    supply: np.ndarray,
    catchment_min: float,
    decay: str,
) -> tuple[np.ndarray, np.ndarray]:
    """E2SFCA on the stored pairs only (see :func:`bounded_minutes`)."""
    weights = _with_data(minutes, DECAYS[decay](minutes.data, catchment_min))
    demand = weights.T @ np.asarray(population, dtype=float)
    with np.errstate(divide="ignore"):
        ratios = np.where(demand > 0, supply / demand, np.inf)
    scores = weights @ np.where(np.isfinite(ratios), ratios, 0.0)
    return np.asarray(scores, dtype=float), ratios


def bounded_minutes(
    times: CorridorTravelTimes,
    origins: Sequence[Any],
    destinations: Sequence[Any],
    catchment_min: float,
) -> csr_array:
    """Minutes of the pairs within ``catchment_min`` (a bounded, sparse query).

    The search goes a hair beyond the catchment (one part in 10^9) so no pair that the
    minutes put on its edge is lost to rounding between seconds and minutes; the decay
    functions give such pairs their weight, and 0 beyond.
    """
    bound = units.seconds(float(catchment_min)) * (1 + 1e-9)
    matrix = times.within(origins, destinations, bound)
    return _with_data(matrix, units.minutes(matrix.data))


#: Wan, Zou & Sternberg (2012) travel-time weights of 3SFCA, pysal access's default:
#: (upper edge in minutes, weight), each edge included.
WAN_STEPS: tuple[tuple[float, float], ...] = ((10, 0.962), (20, 0.704), (30, 0.377), (60, 0.042))


def wan_weights(minutes: np.ndarray, catchment_min: float) -> np.ndarray:
    """Wan et al. (2012) step weights on absolute minutes (the catchment cuts them later)."""
    weights = np.zeros_like(minutes, dtype=float)
    for edge, weight in reversed(WAN_STEPS):
        weights[minutes <= edge] = weight
    return weights


#: Decay functions 3SFCA accepts: the E2SFCA ones and Wan et al.'s steps.
THREE_STEP_DECAYS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    **DECAYS,
    "wan": wan_weights,
}


def three_sfca_scores(
    minutes: np.ndarray,
    population: np.ndarray,
    supply: np.ndarray,
    catchment_min: float,
    decay: str | Callable[[np.ndarray], np.ndarray] = "zones",
) -> tuple[np.ndarray, np.ndarray]:
    """Three-step floating catchment area accessibility (Wan, Zou & Sternberg 2012).

    Step 0: selection weights ``G_ij = W_ij / sum_k W_ik`` over every facility a
    settlement reaches (the catchment does not cut this sum, as in pysal access).
    Step 1: ``R_j = S_j / sum_i P_i G_ij W_ij`` over settlements within the catchment.
    Step 2: ``A_i = sum_j R_j G_ij W_ij`` over facilities within the catchment.

    Parameters
    ----------
    minutes : numpy.ndarray or scipy.sparse array
        ``settlements x facilities`` travel times (``inf``: unreachable); or, sparse,
        the pairs within :func:`three_sfca_reach_min` (a callable decay then sees them
        densely, missing pairs unreachable).
    population : numpy.ndarray
        People per settlement.
    supply : numpy.ndarray
        Capacity per facility (any one unit).
    catchment_min : float
        Catchment size in minutes (pairs farther apart do not count in steps 1 and 2).
    decay : str or callable
        ``zones`` or ``gaussian`` (relative to the catchment, as for E2SFCA), ``wan``
        (Wan et al.'s steps, pysal access's default), or a function of the minutes.

    Returns
    -------
    scores : numpy.ndarray
        Supply per person from each settlement (0 where no facility is in reach).
    ratios : numpy.ndarray
        Supply per weighted person at each facility (``inf``: no demand in reach).
    """
    if issparse(minutes) and not callable(decay):
        return _sparse_three_sfca(csr_array(minutes), population, supply, catchment_min, decay)
    if issparse(minutes):
        minutes = _densify(csr_array(minutes))
    times = np.where(np.isfinite(minutes), minutes, np.inf)
    if callable(decay):
        weights = np.where(np.isfinite(times), decay(np.where(np.isfinite(times), times, 0)), 0.0)
    elif decay in THREE_STEP_DECAYS:
        weights = THREE_STEP_DECAYS[decay](times, catchment_min)
    else:
        known = ", ".join(THREE_STEP_DECAYS)
        raise InvalidArgumentError(f"unknown decay {decay!r}; known: {known}")
    weights = np.asarray(weights, dtype=float)
    totals = weights.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        selection = np.where(totals > 0, weights / totals, 0.0)
    reach = selection * weights * (times <= catchment_min)
    demand = population @ reach
    with np.errstate(divide="ignore"):
        ratios = np.where(demand > 0, supply / demand, np.inf)
    scores = reach @ np.where(np.isfinite(ratios), ratios, 0.0)
    return scores, ratios


def _densify(minutes: csr_array) -> np.ndarray:
    """Return a dense matrix of the stored minutes, ``inf`` elsewhere."""
    dense = np.full(minutes.shape, np.inf)
    coo = minutes.tocoo()
    dense[coo.row, coo.col] = coo.data
    return dense


def three_sfca_reach_min(catchment_min: float, decay: str) -> float:
    """Minutes within which 3SFCA's weights can be non-zero (its query's bound)."""
    return max(catchment_min, WAN_STEPS[-1][0]) if decay == "wan" else catchment_min


def _sparse_three_sfca(
    minutes: csr_array,
    population: np.ndarray,
    supply: np.ndarray,
    catchment_min: float,
    decay: str,
) -> tuple[np.ndarray, np.ndarray]:
    """3SFCA on the stored pairs: they must hold every pair of non-zero weight."""
    if decay not in THREE_STEP_DECAYS:
        known = ", ".join(THREE_STEP_DECAYS)
        raise InvalidArgumentError(f"unknown decay {decay!r}; known: {known}")
    values = np.asarray(THREE_STEP_DECAYS[decay](minutes.data, catchment_min), dtype=float)
    weights = _with_data(minutes, values)
    totals = np.asarray(weights.sum(axis=1), dtype=float)
    per_row = np.repeat(totals, np.diff(minutes.indptr))
    with np.errstate(divide="ignore", invalid="ignore"):
        selection = np.where(per_row > 0, values / per_row, 0.0)
    reach = _with_data(minutes, selection * values * (minutes.data <= catchment_min))
    demand = reach.T @ np.asarray(population, dtype=float)
    with np.errstate(divide="ignore"):
        ratios = np.where(demand > 0, supply / demand, np.inf)
    scores = reach @ np.where(np.isfinite(ratios), ratios, 0.0)
    return np.asarray(scores, dtype=float), ratios


@dataclass
class RaamResult:
    """Rational agent access model (Saxon & Snow 2020) at equilibrium.

    Attributes
    ----------
    cost : numpy.ndarray
        Per settlement, the cost its people bear at equilibrium: travel time over tau
        plus congestion (demand over supply scaled by rho); ``inf``: no facility in reach.
    assignment : numpy.ndarray
        ``settlements x facilities`` people travelling from each settlement to each.
    gap : float
        Largest difference, over settlements, between the dearest facility their people
        use and the cheapest they could: 0 at an exact equilibrium.
    sweeps : int
        Passes over the settlements until the gap fell below the tolerance.
    rho : float
        Demand per unit of supply that makes congestion cost 1.
    """

    cost: np.ndarray
    assignment: np.ndarray
    gap: float
    sweeps: int
    rho: float


def _water_fill(people: float, thresholds: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Split ``people`` so that ``threshold + x / scale`` is equal wherever ``x > 0``."""
    order = np.argsort(thresholds)
    theta, s = thresholds[order], scale[order]
    level = (people + np.cumsum(s * theta)) / np.cumsum(s)
    active = int(np.flatnonzero(level > theta)[-1]) + 1 if (level > theta).any() else 1
    x = np.zeros_like(thresholds)
    x[order[:active]] = np.maximum(s[:active] * (level[active - 1] - theta[:active]), 0.0)
    return x


def raam_scores(
    minutes: np.ndarray,
    population: np.ndarray,
    supply: np.ndarray,
    tau_min: float = 60.0,
    rho: float | None = None,
    tol: float = 1e-9,
    max_sweeps: int = 100_000,
) -> RaamResult:
    """Rational agent access model: travel plus congestion cost at user equilibrium.

    pysal access's RAAM: a person at ``i`` using facility ``j`` bears
    ``T_ij / tau + D_j / (rho S_j)``, with ``D_j`` everyone using ``j`` and ``rho`` the
    demand per unit of supply (default: total population over total supply); people
    move until nobody can lower their cost, and each settlement's score is the cost its
    people bear. access moves whole people a few at a time for a fixed number of cycles;
    here people are divisible and the equilibrium is found exactly (to ``tol``) by
    exact block minimisation of the convex potential
    ``sum T_ij a_ij / tau + sum D_j^2 / (2 rho S_j)``, one settlement at a time.

    Parameters
    ----------
    minutes : numpy.ndarray
        ``settlements x facilities`` travel times (``inf``: unreachable).
    population : numpy.ndarray
        People per settlement.
    supply : numpy.ndarray
        Capacity per facility; facilities without supply are not used.
    tau_min : float
        Minutes of travel worth as much as congestion at the mean demand-to-supply ratio.
    rho : float, optional
        Demand per unit of supply at which congestion costs 1.
    tol, max_sweeps : float, int
        Stop when the equilibrium gap is below ``tol``, or after ``max_sweeps`` passes.

    Raises
    ------
    InvalidArgumentError
        If tau is not positive, or no facility has supply.
    """
    population = np.asarray(population, dtype=float)
    supply = np.asarray(supply, dtype=float)
    if not tau_min > 0:
        raise InvalidArgumentError(f"tau must be a positive number of minutes, got {tau_min!r}")
    if not (supply > 0).any():
        raise InvalidArgumentError("RAAM needs at least one facility with supply > 0")
    rho = float(population.sum() / supply[supply > 0].sum()) if rho is None else float(rho)
    scale = np.where(supply > 0, rho * supply, 0.0)
    travel = np.where(np.isfinite(minutes) & (scale > 0), minutes / tau_min, np.inf)
    usable = np.isfinite(travel)
    rows = np.flatnonzero((population > 0) & usable.any(axis=1))
    assignment = np.zeros(travel.shape)
    nearest = np.argmin(travel, axis=1)
    assignment[rows, nearest[rows]] = population[rows]
    load = assignment.sum(axis=0)
    gap, sweeps = np.inf, 0
    while gap > tol and sweeps < max_sweeps:
        sweeps += 1
        for i in rows:
            cols = np.flatnonzero(usable[i])
            other = load[cols] - assignment[i, cols]
            share = _water_fill(population[i], travel[i, cols] + other / scale[cols], scale[cols])
            load[cols] = other + share
            assignment[i, cols] = share
        gap = _equilibrium_gap(travel, scale, load, assignment, rows)
    with np.errstate(divide="ignore", invalid="ignore"):
        congestion = np.where(scale > 0, load / scale, np.inf)
    cost = np.min(travel + congestion, axis=1)
    return RaamResult(cost, assignment, float(gap), sweeps, rho)


def _equilibrium_gap(
    travel: np.ndarray,
    scale: np.ndarray,
    load: np.ndarray,
    assignment: np.ndarray,
    rows: np.ndarray,
) -> float:
    if not len(rows):
        return 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        cost = travel[rows] + np.where(scale > 0, load / scale, np.inf)
    used = assignment[rows] > 1e-12 * assignment[rows].sum(axis=1, keepdims=True)
    dearest = np.where(used, cost, -np.inf).max(axis=1)
    return float((dearest - cost.min(axis=1)).max())


def e2sfca(
    times: CorridorTravelTimes,
    service: str,
    *,
    catchment_min: float = 60.0,
    decay: str = "zones",
) -> gpd.GeoDataFrame:
    """Capacity-aware access for every settlement (E2SFCA), so crowded facilities count less.

    Supply is each facility's capacity for the service under the scenario of ``times``
    (its planning assumption first), else beds, else one per facility (see
    :func:`corridor_planner.bundle.facilities.supply`).

    Returns
    -------
    GeoDataFrame
        Settlements with ``e2sfca_per_1000`` (supply per 1,000 people in reach) and
        ``supply_basis`` (what the facilities' supply was measured in).
    """
    network = times.network
    facilities = offering(network, service)
    settlements = settlements_on_network(network)
    minutes = bounded_minutes(
        times, list(settlements["node"]), list(facilities["node"]), catchment_min
    )
    amounts, basis = supply(facilities, service, times.scenario)
    scores, _ = e2sfca_scores(
        minutes, settlements["population"].to_numpy(dtype=float), amounts, catchment_min, decay
    )
    out = settlements.drop(columns=["node"]).copy()
    out["e2sfca_per_1000"] = scores * 1000.0
    out["supply_basis"] = basis
    return out


#: Column each capacity-aware measure adds to the settlements table.
MEASURE_COLUMNS = {"e2sfca": "e2sfca_per_1000", "3sfca": "3sfca_per_1000", "raam": "raam_cost"}


def capacity_measure(
    times: CorridorTravelTimes,
    service: str,
    method: str = "e2sfca",
    *,
    catchment_min: float = 60.0,
    tau_min: float | None = None,
) -> tuple[np.ndarray, str, dict[str, Any]]:
    """One capacity-aware access score per attached settlement.

    Parameters
    ----------
    method : str
        ``e2sfca`` or ``3sfca`` (supply per 1,000 people in reach, Luo & Qi zones over
        ``catchment_min``), or ``raam`` (travel over tau plus congestion at equilibrium:
        lower is better).
    tau_min : float, optional
        RAAM's tau (minutes); default ``catchment_min``.

    Returns
    -------
    scores, supply_basis, details
        The scores in settlement order, the supply unit, and figures of the model
        (RAAM: ``tau_minutes``, ``rho``, ``equilibrium_gap``, ``sweeps``).
    """
    if method not in ACCESS_METHODS:
        known = ", ".join(ACCESS_METHODS)
        raise InvalidArgumentError(f"unknown access method {method!r}; known: {known}")
    network = times.network
    facilities = offering(network, service)
    settlements = settlements_on_network(network)
    origins, destinations = list(settlements["node"]), list(facilities["node"])
    amounts, basis = supply(facilities, service, times.scenario)
    people = settlements["population"].to_numpy(dtype=float)
    if method == "raam":
        # RAAM lets people travel to any facility they reach: the whole matrix
        minutes = units.minutes(times.matrix(origins, destinations))
        tau = catchment_min if tau_min is None else tau_min
        result = raam_scores(minutes, people, amounts, tau_min=tau)
        details = {
            "tau_minutes": tau,
            "rho": result.rho,
            "equilibrium_gap": result.gap,
            "sweeps": result.sweeps,
        }
        return result.cost, basis, details
    reach = three_sfca_reach_min(catchment_min, "zones")
    bounded = bounded_minutes(times, origins, destinations, reach)
    measure = e2sfca_scores if method == "e2sfca" else three_sfca_scores
    scores, _ = measure(bounded, people, amounts, catchment_min)
    return scores * 1000.0, basis, {"catchment_minutes": catchment_min}


@dataclass
class AccessReport:
    """Everything the ``access`` command reports for one service, profile and scenario.

    Attributes
    ----------
    settlements : GeoDataFrame
        :func:`nearest_facility_times` plus ``e2sfca_per_1000``.
    coverage : DataFrame
        :func:`coverage` at the thresholds asked for.
    gain : DataFrame or None
        :func:`cooperation_gain` of ``scenario`` over ``compare``, when one was given.
    supply_basis : str
        Unit of the E2SFCA supply (``capacity``, ``beds`` or ``facility``).
    method : str
        Capacity-aware measure added beside E2SFCA (``e2sfca``: none beside it).
    measure : dict
        That measure's figures (RAAM: tau, rho, equilibrium gap).
    left_out : dict
        Settlements not attached to the network (:meth:`CorridorNetwork.left_out`).
    unreachable : dict
        Attached settlements from which no facility can be reached, by cause
        (:func:`unreachable_summary`).
    """

    service: str
    profile: str
    scenario: str
    depart: dt.datetime | None
    settlements: gpd.GeoDataFrame
    coverage: pd.DataFrame
    supply_basis: str
    compare: str | None = None
    gain: pd.DataFrame | None = None
    left_out: dict[str, Any] = field(default_factory=dict)
    method: str = "e2sfca"
    measure: dict[str, Any] = field(default_factory=dict)
    unreachable: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary: ``coverage``, ``settlements``, ``gain``, ``left_out``..."""
        table = pd.DataFrame(self.settlements.drop(columns=self.settlements.geometry.name))
        payload: dict[str, Any] = {
            "service": self.service,
            "profile": self.profile,
            "scenario": self.scenario,
            "depart": self.depart.isoformat() if self.depart else None,
            "supply_basis": self.supply_basis,
            **({"method": self.method, "measure": self.measure} if self.method != "e2sfca" else {}),
            "coverage": json_records(self.coverage),
            "settlements": json_records(table),
        }
        if self.gain is not None:
            payload["compare"] = self.compare
            payload["gain"] = json_records(self.gain)
        payload["left_out"] = self.left_out
        payload["unreachable"] = self.unreachable
        return payload


def access_report(
    times: CorridorTravelTimes,
    service: str,
    thresholds_min: Sequence[float],
    *,
    compare: CorridorTravelTimes | None = None,
    catchment_min: float = 60.0,
    progress: Callable[[], None] | None = None,
    method: str = "e2sfca",
    tau_min: float | None = None,
) -> AccessReport:
    """Compute access for one service: times, coverage, E2SFCA and, optionally, the gain.

    Parameters
    ----------
    times : CorridorTravelTimes
        Travel times for the profile, scenario and departure reported.
    service : str
        What care.
    thresholds_min : sequence of float
        Coverage thresholds in minutes.
    compare : CorridorTravelTimes, optional
        The same traveller under a second scenario (e.g. ``borders_closed``); the gain of
        the reported scenario over it is given per country and group.
    catchment_min : float
        E2SFCA catchment (and 3SFCA's; RAAM's tau unless ``tau_min`` is given).
    progress : callable, optional
        Called once after each of the three steps.
    method : str
        ``e2sfca`` (the default), or ``3sfca`` / ``raam`` to add that measure's column
        (``3sfca_per_1000``, ``raam_cost``) beside ``e2sfca_per_1000``.
    tau_min : float, optional
        RAAM's tau in minutes.
    """
    if method not in ACCESS_METHODS:
        known = ", ".join(ACCESS_METHODS)
        raise InvalidArgumentError(f"unknown access method {method!r}; known: {known}")
    tick = progress or (lambda: None)
    settlements = nearest_facility_times(times, service)
    tick()
    scores = e2sfca(times, service, catchment_min=catchment_min)
    settlements["e2sfca_per_1000"] = scores["e2sfca_per_1000"].to_numpy()
    measure: dict[str, Any] = {}
    if method != "e2sfca":
        values, _, measure = capacity_measure(
            times, service, method, catchment_min=catchment_min, tau_min=tau_min
        )
        settlements[MEASURE_COLUMNS[method]] = values
    tick()
    table = coverage(settlements, thresholds_min)
    gain = None
    if compare is not None:
        gain = cooperation_gain(
            closed=coverage(nearest_facility_times(compare, service), thresholds_min),
            open_=table,
        )
    tick()
    return AccessReport(
        service=service,
        profile=times.profile,
        scenario=times.scenario.name,
        depart=times.depart,
        settlements=settlements,
        coverage=table,
        supply_basis=str(scores["supply_basis"].iloc[0]) if len(scores) else "facility",
        compare=compare.scenario.name if compare is not None else None,
        gain=gain,
        left_out=times.network.left_out("settlement"),
        method=method,
        measure=measure,
        unreachable=unreachable_summary(settlements),
    )
