"""Facilities and candidate sites as records: services offered, capacity, beds.

One accessor per question, shared by validation's vocabulary, E2SFCA supply, the referral
assignment and siting: what a row offers, its capacity for a service (a scenario's
planning assumption first, then its own figure), and the supply unit E2SFCA may use.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from corridor_planner.bundle.scenario import Scenario
from corridor_planner.translatable import N_

#: Where a capacity came from, when nothing gives one: no limit is applied.
UNKNOWN_CAPACITY = N_("unknown (no limit applied)")


def offers(table: pd.DataFrame, service: str) -> np.ndarray:
    """Boolean mask of the rows (facilities or candidates) that offer ``service``.

    Works on an empty table too (a bundle may have no candidates), where a pandas
    ``apply`` would return a frame and select columns instead of rows.
    """
    return np.array(
        [isinstance(s, list | tuple) and service in s for s in table["services"]], dtype=bool
    )


def capacity_for(
    row: Any, service: str, scenario: Scenario | None = None, file: str = "facilities.geojson"
) -> tuple[float | None, str]:
    """Capacity of one facility or candidate for ``service``, and where it came from.

    A scenario's ``[capacity]`` (a planning assumption) wins over the row's own
    ``capacity`` object (``{service: amount}``); None when neither gives one.
    """
    if scenario is not None:
        assumed = scenario.capacity.get(str(getattr(row, "id", "")), {}).get(service)
        if assumed is not None:
            return float(assumed), f"scenario {scenario.name} (planning assumption)"
    own = getattr(row, "capacity", None)
    value = own.get(service) if isinstance(own, dict) else None
    if value is not None:
        return float(value), file
    return None, UNKNOWN_CAPACITY


def capacities(
    table: pd.DataFrame,
    service: str,
    scenario: Scenario | None = None,
    file: str = "facilities.geojson",
) -> tuple[np.ndarray, list[str]]:
    """:func:`capacity_for` for every row: values (NaN where unknown) and their sources."""
    found = [capacity_for(row, service, scenario, file) for row in table.itertuples()]
    values = np.array([np.nan if v is None else v for v, _ in found], dtype=float)
    return values, [basis for _, basis in found]


def unknown_capacity(facilities: pd.DataFrame) -> int:
    """Count the facilities that give no capacity for any service (one rule for every report)."""
    return sum(1 for c in facilities["capacity"] if not (isinstance(c, dict) and c))


def supply(
    facilities: pd.DataFrame, service: str, scenario: Scenario | None = None
) -> tuple[np.ndarray, str]:
    """Supply of each facility for E2SFCA, in one unit that every facility has.

    Capacity for the service (the scenario's assumption, else the facility's) if every
    facility has one, else beds if every facility gives them, else 1 per facility
    (supply counted in facilities). Units are never mixed: 500 beds beside "1 facility"
    would mean nothing.

    Returns
    -------
    supply : numpy.ndarray
        One value per facility.
    basis : str
        ``capacity``, ``beds`` or ``facility``.
    """
    values, _ = capacities(facilities, service, scenario)
    if len(values) and np.isfinite(values).all():
        return values, "capacity"
    beds = pd.to_numeric(facilities["beds"], errors="coerce")
    if beds.notna().all():
        return beds.to_numpy(dtype=float), "beds"
    return np.ones(len(facilities)), "facility"
