"""Send patients to receivers within capacity: a transportation LP on plain matrices."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_array, hstack

from corridor_planner.analysis.quiet import quiet_solver
from corridor_planner.errors import AssignmentError

#: Cost (minutes) of leaving one patient unserved in the assignment: larger than any trip.
UNSERVED_MINUTES = 1e6


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
    with quiet_solver():  # HiGHS prints some lines on stdout from C++
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
