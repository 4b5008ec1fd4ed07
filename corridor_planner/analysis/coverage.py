"""Who counts and who is covered: population groups, demand weights, "within a threshold".

One definition of each, used by access, siting, scoring, referrals and the report:
a settlement is covered when its travel time is at most the threshold (and finite); a
group's people are the settlement's population, its border community or its migrants.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from corridor_planner.errors import InvalidArgumentError
from corridor_planner.settings import (
    ACCESS_STANDARDS,
    GROUPS,
    MIGRANT_PROFILES,
    NO_DEMAND_PROFILES,
    WEIGHT_GROUPS,
)


def within(minutes: Any, threshold: float) -> np.ndarray:
    """Covered: a travel time at most ``threshold`` (``inf``, unreachable, never is)."""
    times = np.asarray(minutes, dtype=float)
    return np.isfinite(times) & (times <= threshold)


def standards_for(service: str, thresholds_min: Iterable[float]) -> list[str]:
    """Access standards (``settings.ACCESS_STANDARDS``) that apply at these thresholds."""
    asked = set(thresholds_min)
    return [
        text for name, minutes, _, text in ACCESS_STANDARDS if name == service and minutes in asked
    ]


def group_people(settlements: pd.DataFrame, group: str) -> np.ndarray:
    """People of ``group`` in each settlement.

    ``all``: the population; ``border_community``: the population of border communities;
    ``migrants``: population x ``migrant_share`` (0 where the share is unknown).
    """
    population = settlements["population"].to_numpy(dtype=float)
    if group == "border_community":
        return population * settlements["border_community"].to_numpy(dtype=bool)
    if group == "migrants":
        share = pd.to_numeric(settlements["migrant_share"], errors="coerce").fillna(0.0)
        return population * share.to_numpy()
    if group != GROUPS[0]:
        raise InvalidArgumentError(f"unknown group {group!r}; known: {', '.join(GROUPS)}")
    return population


def demand_weights(settlements: pd.DataFrame, group_weights: Mapping[str, float]) -> np.ndarray:
    """Weight of each settlement: its people, with chosen groups counted ``m`` times.

    ``border_community=2`` counts people of border communities twice; ``migrants=1.5``
    adds half again the migrant share of each settlement (where known).
    """
    unknown = set(group_weights) - set(WEIGHT_GROUPS)
    if unknown:
        raise InvalidArgumentError(
            f"unknown weight group {sorted(unknown)}; known: {', '.join(WEIGHT_GROUPS)}"
        )
    weights = group_people(settlements, GROUPS[0]).copy()
    for group, multiplier in group_weights.items():
        weights += (multiplier - 1.0) * group_people(settlements, group)
    return weights


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
    if profile in NO_DEMAND_PROFILES:
        return np.zeros(len(settlements)), f"no settlement figures describe {profile} travellers"
    if profile not in MIGRANT_PROFILES:
        return group_people(settlements, GROUPS[0]), "residents (population.geojson)"
    known = int(pd.to_numeric(settlements["migrant_share"], errors="coerce").notna().sum())
    people = group_people(settlements, "migrants")
    if known == 0:
        return people, "no migrant figures in this bundle (migrant_share unknown everywhere)"
    return people, (
        f"migrant stock: population x migrant_share, known for {known} of "
        f"{len(settlements)} settlements"
    )
