"""Access to care: time to the nearest facility, coverage within thresholds, E2SFCA, gains."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from corridor_planner.analysis.coverage import group_people, within
from corridor_planner.bundle.facilities import offers, supply
from corridor_planner.errors import InvalidArgumentError, NotFoundError
from corridor_planner.network.graph import CorridorNetwork
from corridor_planner.outputs import json_records
from corridor_planner.routing.reasons import Explainer
from corridor_planner.routing.traveltimes import CorridorTravelTimes
from corridor_planner.settings import GROUPS, SERVICES

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
    matrix = times.matrix(list(settlements["node"]), list(facilities["node"]))
    best = matrix.argmin(axis=1)
    minutes = matrix[np.arange(len(best)), best] / 60.0
    reached = np.isfinite(minutes)
    out = settlements.drop(columns=["node"]).copy()
    out["minutes"] = minutes
    for column, source in (
        ("facility_id", "id"),
        ("facility_name", "name"),
        ("facility_country", "country"),
    ):
        values = facilities[source].to_numpy()[best]
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
    """Luo & Qi step weights: 1.00 / 0.68 / 0.22 in each third of the catchment, 0 beyond."""
    zone = np.floor(minutes / (catchment_min / 3.0))
    weights = np.zeros_like(minutes, dtype=float)
    for index, weight in enumerate(LUO_QI_WEIGHTS):
        weights[zone == index] = weight
    weights[minutes == catchment_min] = LUO_QI_WEIGHTS[-1]
    return weights


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
    minutes : numpy.ndarray
        ``settlements x facilities`` travel times.
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
    weights = DECAYS[decay](np.where(np.isfinite(minutes), minutes, np.inf), catchment_min)
    demand = population @ weights
    with np.errstate(divide="ignore"):
        ratios = np.where(demand > 0, supply / demand, np.inf)
    scores = weights @ np.where(np.isfinite(ratios), ratios, 0.0)
    return scores, ratios


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
    minutes = times.matrix(list(settlements["node"]), list(facilities["node"])) / 60.0
    amounts, basis = supply(facilities, service, times.scenario)
    scores, _ = e2sfca_scores(
        minutes, settlements["population"].to_numpy(dtype=float), amounts, catchment_min, decay
    )
    out = settlements.drop(columns=["node"]).copy()
    out["e2sfca_per_1000"] = scores * 1000.0
    out["supply_basis"] = basis
    return out


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
        E2SFCA catchment.
    progress : callable, optional
        Called once after each of the three steps.
    """
    tick = progress or (lambda: None)
    settlements = nearest_facility_times(times, service)
    tick()
    scores = e2sfca(times, service, catchment_min=catchment_min)
    settlements["e2sfca_per_1000"] = scores["e2sfca_per_1000"].to_numpy()
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
        unreachable=unreachable_summary(settlements),
    )
