"""The report's first page: per country, the numbers that matter, the places, the next site.

For each country of a corridor: people outside one hour of emergency care, people whose
fastest acceptable care for a specialty is across a border, and the people open borders
bring within the hour (the cooperation gain); the three places most in need; the best
next site for emergency care; and what makes these figures uncertain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from corridor_planner.analysis.access import nearest_facility_times
from corridor_planner.analysis.coverage import within
from corridor_planner.analysis.referral import ReferralAnalysis
from corridor_planner.analysis.scoring import candidates_for, score_sites
from corridor_planner.bundle.facilities import unknown_capacity
from corridor_planner.errors import NotFoundError, SitingError
from corridor_planner.routing.traveltimes import CorridorTravelTimes

#: The hour that the summary's numbers count (emergency care within 1 h).
SUMMARY_THRESHOLD_MIN = 60.0
SUMMARY_SERVICE = "emergency"
#: Places listed as most in need, per country.
PLACES_IN_NEED = 3
#: A facility placed no better than this (m) counts as placed at town level.
TOWN_LEVEL_M = 5_000


@dataclass
class CountrySummary:
    """The one-page answer for one country; ``None`` where the data cannot say."""

    country: str
    population: int
    outside_hour: int | None
    abroad: int | None
    abroad_by_specialty: dict[str, int]
    cooperation_gain: int | None
    places_in_need: list[dict[str, Any]]
    best_site: dict[str, Any] | None
    uncertainty: dict[str, Any] = field(default_factory=dict)


def country_summaries(
    reference: CorridorTravelTimes,
    closed: CorridorTravelTimes | None,
    analyses: Sequence[ReferralAnalysis],
) -> list[CountrySummary]:
    """Summarise each country of the corridor.

    Parameters
    ----------
    reference : CorridorTravelTimes
        Travel times of the reference scenario (usually ``baseline``).
    closed : CorridorTravelTimes, optional
        Travel times with borders closed, for the cooperation gain.
    analyses : sequence of ReferralAnalysis
        Referral analyses of the reference scenario, one per specialty.
    """
    network = reference.network
    corridor = network.corridor
    offered = {s for services in corridor.facilities["services"] for s in services}
    emergency = SUMMARY_SERVICE in offered
    now = nearest_facility_times(reference, SUMMARY_SERVICE) if emergency else None
    shut = nearest_facility_times(closed, SUMMARY_SERVICE) if emergency and closed else None
    sites = _best_sites(reference) if emergency else {}
    summaries = []
    for country in corridor.countries:
        people = corridor.population[corridor.population["country"] == country]
        by_specialty = _abroad(analyses, country, people)
        summaries.append(
            CountrySummary(
                country=country,
                population=int(people["population"].sum()),
                outside_hour=_outside(now, country),
                abroad=_abroad_total(analyses, country, people),
                abroad_by_specialty=by_specialty,
                cooperation_gain=_gain(now, shut, country),
                places_in_need=_in_need(now, country),
                best_site=sites.get(country),
                uncertainty=_uncertainty(network, country),
            )
        )
    return summaries


@dataclass
class FirstSteps:
    """What a corridor should do first: the brief's first page, at the summary's hour.

    Attributes
    ----------
    threshold : float
        The minutes every figure counts (the summary's hour).
    best_site : dict or None
        The candidate that alone brings most people within the hour of emergency care
        (``name``, ``country``, ``newly_covered``, ``border_community``, ``threshold``,
        ``reason``: ``"none_within_hour"`` when judged at the shortest threshold because no
        candidate brings anyone new within the hour).
    closing : list of dict
        Settlements whose emergency care is farther when borders close, the most affected
        first: ``name``, ``country``, ``population``, ``minutes`` (open), ``closed``
        (minutes closed, ``None``: care lost), ``loses_hour``.
    lose_hour : int or None
        People within the hour only while borders are open (``None``: no closed scenario).
    lose_care : int
        People who can reach no emergency care at all when borders close.
    failing : dict or None
        The referral pathway that fails most people in the reference scenario:
        ``specialty``, ``kind``, ``facts``, ``people``, ``places`` (names).
    reached : dict
        Settlement id -> within the hour of emergency care in the reference scenario.
    """

    threshold: float
    best_site: dict[str, Any] | None
    closing: list[dict[str, Any]]
    lose_hour: int | None
    lose_care: int
    failing: dict[str, Any] | None
    reached: dict[str, bool] = field(default_factory=dict)


#: Settlements the brief names among those that lose most when borders close.
CLOSING_SHOWN = 5


def first_steps(
    reference: CorridorTravelTimes,
    closed: CorridorTravelTimes | None,
    analyses: Sequence[ReferralAnalysis],
) -> FirstSteps:
    """Find what to do first in a corridor: the next site, who to protect, what to fix.

    Parameters
    ----------
    reference : CorridorTravelTimes
        Travel times of the reference scenario.
    closed : CorridorTravelTimes, optional
        Travel times with borders closed.
    analyses : sequence of ReferralAnalysis
        Referral analyses of the reference scenario, one per specialty.
    """
    corridor = reference.network.corridor
    offered = {s for services in corridor.facilities["services"] for s in services}
    best = None
    if SUMMARY_SERVICE in offered:
        ranking = _site_ranking(reference, SUMMARY_THRESHOLD_MIN)
        shortest = min(corridor.thresholds_min)
        if not ranking and shortest < SUMMARY_THRESHOLD_MIN:
            ranking = [
                dict(s, reason="none_within_hour") for s in _site_ranking(reference, shortest)
            ]
        best = ranking[0] if ranking else None
    closing: list[dict[str, Any]] = []
    lose_hour: int | None = None
    lose_care = 0
    reached: dict[str, bool] = {}
    if SUMMARY_SERVICE in offered:
        now = nearest_facility_times(reference, SUMMARY_SERVICE)
        reached = dict(zip(now["id"], _within_hour(now).tolist(), strict=True))
        if closed is not None:
            shut = nearest_facility_times(closed, SUMMARY_SERVICE)
            closing, lose_hour, lose_care = _closing(now, shut)
    people = dict(zip(corridor.population["id"], corridor.population["population"], strict=True))
    return FirstSteps(
        threshold=SUMMARY_THRESHOLD_MIN,
        best_site=best,
        closing=closing[:CLOSING_SHOWN],
        lose_hour=lose_hour,
        lose_care=lose_care,
        failing=_most_failing(analyses, people),
        reached=reached,
    )


def _closing(now: pd.DataFrame, shut: pd.DataFrame) -> tuple[list[dict[str, Any]], int, int]:
    """Settlements farther from emergency care with borders closed; people losing the hour."""
    merged = now.merge(shut[["id", "minutes"]], on="id", suffixes=("", "_closed"))
    before = merged["minutes"].to_numpy(dtype=float)
    after = merged["minutes_closed"].to_numpy(dtype=float)
    worse = np.isfinite(before) & ~(after - before < 1)
    loses_hour = within(merged["minutes"], SUMMARY_THRESHOLD_MIN) & ~within(
        merged["minutes_closed"], SUMMARY_THRESHOLD_MIN
    )
    care_lost = np.isfinite(before) & ~np.isfinite(after)
    rows = [
        {
            "name": row.name,
            "country": row.country,
            "population": int(row.population),
            "minutes": float(row.minutes),
            "closed": float(row.minutes_closed) if np.isfinite(row.minutes_closed) else None,
            "loses_hour": bool(hour),
        }
        for row, hour, bad in zip(merged.itertuples(), loses_hour, worse, strict=True)
        if bad
    ]
    rows.sort(key=lambda r: (r["closed"] is not None, not r["loses_hour"], -r["population"]))
    people = merged["population"].to_numpy(dtype=float)
    return rows, int(people[loses_hour].sum()), int(people[care_lost].sum())


def _most_failing(
    analyses: Sequence[ReferralAnalysis], people: dict[str, Any]
) -> dict[str, Any] | None:
    """Find the specialty and reason that leave most people without any referral pathway."""
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    for analysis in analyses:
        for refusal in analysis.refusals:
            key = (analysis.specialty, refusal.kind, repr(sorted(refusal.facts.items())))
            group = groups.setdefault(
                key,
                {
                    "specialty": analysis.specialty,
                    "kind": refusal.kind,
                    "facts": refusal.facts,
                    "people": 0,
                    "places": [],
                },
            )
            group["people"] += int(people.get(refusal.origin_id, 0))
            group["places"].append(refusal.origin)
    if not groups:
        return None
    return max(groups.values(), key=lambda g: (g["people"], len(g["places"])))


def _in_country(times: pd.DataFrame, country: str) -> pd.DataFrame:
    return times[times["country"] == country]


def _within_hour(rows: pd.DataFrame) -> np.ndarray:
    return within(rows["minutes"], SUMMARY_THRESHOLD_MIN)


def _outside(times: pd.DataFrame | None, country: str) -> int | None:
    if times is None:
        return None
    rows = _in_country(times, country)
    return int(rows.loc[~_within_hour(rows), "population"].sum())


def _gain(now: pd.DataFrame | None, shut: pd.DataFrame | None, country: str) -> int | None:
    if now is None or shut is None:
        return None
    open_rows, shut_rows = _in_country(now, country), _in_country(shut, country)
    open_people = open_rows.loc[_within_hour(open_rows), "population"].sum()
    return int(open_people - shut_rows.loc[_within_hour(shut_rows), "population"].sum())


def _in_need(times: pd.DataFrame | None, country: str) -> list[dict[str, Any]]:
    """List the places outside the hour: most people first, then the longest time."""
    if times is None:
        return []
    rows = _in_country(times, country)
    outside = rows[~_within_hour(rows)].copy()
    outside["reachable"] = np.isfinite(outside["minutes"].to_numpy(dtype=float))
    outside = outside.sort_values(["population", "minutes"], ascending=[False, False])
    return [
        {
            "name": row.name,
            "population": int(row.population),
            "minutes": float(row.minutes) if row.reachable else None,
            "facility": row.facility_name if row.reachable else None,
        }
        for row in outside.head(PLACES_IN_NEED).itertuples()
    ]


def _abroad_origins(analysis: ReferralAnalysis, country: str) -> set[str]:
    """Settlements of ``country`` whose fastest acceptable pathway leads abroad."""
    return {
        p.origin_id
        for p in analysis.pathways
        if p.origin_country == country and p.rank == 1 and p.destination_country != country
    }


def _abroad(
    analyses: Sequence[ReferralAnalysis], country: str, people: pd.DataFrame
) -> dict[str, int]:
    population = dict(zip(people["id"], people["population"], strict=True))
    return {
        a.specialty: int(sum(population.get(o, 0) for o in _abroad_origins(a, country)))
        for a in analyses
    }


def _abroad_total(
    analyses: Sequence[ReferralAnalysis], country: str, people: pd.DataFrame
) -> int | None:
    """People whose fastest acceptable care for at least one specialty is abroad."""
    if not analyses:
        return None
    population = dict(zip(people["id"], people["population"], strict=True))
    origins = set().union(*(_abroad_origins(a, country) for a in analyses))
    return int(sum(population.get(o, 0) for o in origins))


def _best_sites(times: CorridorTravelTimes) -> dict[str, dict[str, Any]]:
    """Best candidate per country for emergency care, each judged alone (coverage gain).

    Judged at the summary's hour, the threshold of every other number of the page. Where no
    candidate of a country brings anyone new within the hour (those it reaches are already
    within it), the site is judged at the corridor's shortest threshold instead, and the
    entry says so (``reason``: ``"none_within_hour"``).
    """
    at_hour = _site_ranking(times, SUMMARY_THRESHOLD_MIN)
    shortest = min(times.network.corridor.thresholds_min)
    best: dict[str, dict[str, Any]] = {}
    for site in at_hour:
        best.setdefault(site["country"], site)
    if shortest < SUMMARY_THRESHOLD_MIN and set(best) != set(times.network.corridor.countries):
        for site in _site_ranking(times, shortest):
            if site["country"] not in best:
                best[site["country"]] = dict(site, reason="none_within_hour")
    return best


def _site_ranking(times: CorridorTravelTimes, threshold: float) -> list[dict[str, Any]]:
    """Candidates that bring someone new within ``threshold`` of emergency care, best first.

    Ranked once per set of travel times and threshold (the summaries and the first steps
    both ask); each caller gets its own copies of the rows.
    """
    key = ("site_ranking", SUMMARY_SERVICE, float(threshold))
    if key not in times.memo:
        times.memo[key] = _ranked_sites(times, threshold)
    return [dict(site) for site in times.memo[key]]


def _ranked_sites(times: CorridorTravelTimes, threshold: float) -> list[dict[str, Any]]:
    """Compute :func:`_site_ranking` (one coverage-gain scoring of every candidate)."""
    try:
        candidates = candidates_for(times.network, SUMMARY_SERVICE)
    except NotFoundError:  # no candidate site offers it: no best site to name
        return []
    try:
        scores = score_sites(times, SUMMARY_SERVICE, threshold, len(candidates), method="gain")
    except SitingError:
        return []
    return [
        {
            "name": row.name,
            "id": row.id,
            "country": row.country,
            "newly_covered": int(row.newly_covered),
            "border_community": int(row.newly_covered_border_community),
            "threshold": threshold,
            "reason": "",
        }
        for row in scores.sites.sort_values("rank").itertuples()
        if int(row.newly_covered) > 0
    ]


def _uncertainty(network: Any, country: str) -> dict[str, Any]:
    """Count what makes a country's figures uncertain: positions, estimates, left out."""
    corridor = network.corridor
    facilities = corridor.facilities[corridor.facilities["country"] == country]
    people = corridor.population[corridor.population["country"] == country]
    years = pd.to_numeric(
        people.get("population_year", pd.Series(index=people.index, dtype=float)),
        errors="coerce",
    )
    capacity_unknown = unknown_capacity(facilities)
    left = network.left_out("settlement")
    left_names = set(left.get("names", []))
    return {
        "facilities": len(facilities),
        "facilities_town_level": int((facilities["location_precision_m"] >= TOWN_LEVEL_M).sum()),
        "facilities_unknown_capacity": capacity_unknown,
        "settlements": len(people),
        "people_without_year": int(people.loc[years.isna(), "population"].sum()),
        "settlements_left_out": int(people["name"].isin(left_names).sum()),
    }
