"""How many centres it takes, and how far the farthest settlement is: LSCP, LSCP-B, p-center.

The models of :mod:`corridor_planner.analysis.siting` choose ``k`` sites; these answer the
questions a ministry asks first: the fewest sites that bring every settlement within the
threshold (location set covering, LSCP), the same number placed so that as many as
possible are covered twice (LSCP-B, backup coverage), and ``k`` sites that make the
longest trip to care as short as possible (p-center). Existing facilities are fixed, as in
the other models; every model is solved exactly with integer programmes in HiGHS through
``scipy.optimize.milp``. LSCP and LSCP-B follow Church & Murray (2018) as spopt states
them (``spopt.locate.LSCP``, ``LSCPB``), with the existing facilities fixed; p-center has
the same optimum as spopt's ``PCenter`` MILP but is found by bisection on the radius,
each probe a set cover (the classic reduction of p-center to covering), which is far
faster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

import numpy as np
from scipy.optimize import LinearConstraint
from scipy.sparse import csr_array, hstack

from corridor_planner.analysis.siting import (
    CoverageProblem,
    NearestSiteProblem,
    SitingResult,
    _solve_milp,
    _validate,
)
from corridor_planner.errors import SitingError

#: What LSCP-B maximises: demand points covered twice (spopt) or their weight.
BACKUP_MEASURES = ("points", "weight")


class SetCovering(CoverageProblem):
    """Location set covering (LSCP): the fewest sites that cover every demand point.

    Existing facilities are fixed: what they cover needs no new site. Demand points of
    weight 0 need no cover. Points that neither an existing facility nor any candidate
    can reach within the threshold are reported in ``extra["uncoverable"]`` (row
    indices) and ``extra["uncoverable_weight"]``, and left out of the covering
    constraints; they are never dropped silently.
    """

    @classmethod
    def from_cost_matrix(  # type: ignore[override]
        cls,
        costs: np.ndarray,
        weights: np.ndarray,
        threshold: float,
        existing: np.ndarray | None = None,
    ) -> Self:
        """Build the problem.

        Parameters
        ----------
        costs : numpy.ndarray
            Demand x candidate travel times (``inf``: unreachable).
        weights : numpy.ndarray
            Weight of each demand point; points of weight 0 need no cover.
        threshold : float
            A demand is covered by a site within this travel time (same unit as costs).
        existing : numpy.ndarray, optional
            Demand x existing-facility travel times; those facilities are fixed.
        """
        costs, weights, existing = _validate(costs, weights, 1, existing)
        return cls(costs, weights, float(threshold), costs.shape[1], existing)

    def _needs(self) -> tuple[np.ndarray, np.ndarray]:
        """Rows that need a new site and can get one; rows that no site can cover."""
        open_ = ~self.already & (self.weights > 0)
        coverable = self.covers.any(axis=1)
        return np.flatnonzero(open_ & coverable), np.flatnonzero(open_ & ~coverable)

    def minimum_sites(self) -> list[int]:
        """Candidate columns of one smallest covering set (exact, HiGHS)."""
        rows, _ = self._needs()
        n_sites = self.costs.shape[1]
        if not len(rows):
            return []
        constraints = [LinearConstraint(csr_array(self.covers[rows].astype(float)), 1.0, np.inf)]
        x = _solve_milp(np.ones(n_sites), constraints, np.ones(n_sites), np.ones(n_sites))
        return [int(j) for j in np.flatnonzero(x > 0.5)]

    def _uncoverable(self) -> dict[str, Any]:
        _, lost = self._needs()
        return {
            "uncoverable": [int(i) for i in lost],
            "uncoverable_weight": float(self.weights[lost].sum()),
        }

    def _solve(self) -> SitingResult:
        """Choose the fewest sites so that every coverable demand point is covered.

        ``objective`` is the number of new sites; ``selected`` is ranked by marginal
        coverage; ``extra`` reports the uncoverable points.
        """
        chosen = self.minimum_sites()
        result = self._result(chosen, "LSCP exact (HiGHS)", **self._uncoverable())
        result.objective = float(len(chosen))
        return result


class BackupSetCovering(SetCovering):
    """LSCP-B: as few sites as LSCP needs, placed to cover as much demand twice as it can.

    spopt's definition (Church & Murray 2018): with ``p`` the LSCP optimum, maximise
    the number of demand points covered at least twice, every point covered at least
    once, exactly ``p`` sites. Existing facilities count towards both covers.
    """

    def _solve(self, measure: str = "points") -> SitingResult:
        """Choose the LSCP number of sites maximising backup coverage (exact, HiGHS).

        Parameters
        ----------
        measure : {"points", "weight"}
            ``points``: count demand points covered twice (spopt's LSCPB); ``weight``:
            their weight (people).

        ``objective`` is the backup measure; ``extra`` holds ``sites`` (the LSCP
        number), ``backup_points``, ``backup_weight``, ``backup_share`` (share of the
        covered points covered twice) and the uncoverable points.
        """
        if measure not in BACKUP_MEASURES:
            raise SitingError(f"unknown measure {measure!r}; use 'points' or 'weight'")
        p = len(self.minimum_sites())
        covers = self.covers
        existing_count = self.existing_covers()
        rows = np.flatnonzero((self.weights > 0) & ((existing_count > 0) | covers.any(axis=1)))
        chosen = self._backup_milp(rows, p, existing_count, measure) if p else []
        count = existing_count + covers[:, chosen].sum(axis=1)
        twice = rows[count[rows] >= 2]
        result = self._result(chosen, "LSCP-B exact (HiGHS)", sites=p, **self._uncoverable())
        result.objective = float(len(twice) if measure == "points" else self.weights[twice].sum())
        result.extra.update(
            backup_points=len(twice),
            backup_weight=float(self.weights[twice].sum()),
            backup_share=len(twice) / len(rows) if len(rows) else 0.0,
        )
        return result

    def existing_covers(self) -> np.ndarray:
        """Count the existing facilities covering each demand point."""
        return np.asarray((self.existing <= self.threshold).sum(axis=1))

    def _backup_milp(
        self, rows: np.ndarray, p: int, existing_count: np.ndarray, measure: str
    ) -> list[int]:
        n_sites, n_rows = self.costs.shape[1], len(rows)
        value = np.ones(n_rows) if measure == "points" else self.weights[rows]
        # variables: y (sites), u (row covered twice, in [0, 1]); maximise sum v u
        c = np.concatenate([np.zeros(n_sites), -value])
        cover = hstack([csr_array(self.covers[rows].astype(float)), -csr_array(np.eye(n_rows))])
        count = np.concatenate([np.ones(n_sites), np.zeros(n_rows)])[None, :]
        constraints = [
            LinearConstraint(cover, 1.0 - existing_count[rows], np.inf),
            LinearConstraint(count, p, p),
        ]
        integrality = np.concatenate([np.ones(n_sites), np.zeros(n_rows)])
        x = _solve_milp(c, constraints, integrality, np.ones(n_sites + n_rows))
        return [int(j) for j in np.flatnonzero(x[:n_sites] > 0.5)]


@dataclass
class PCenter(NearestSiteProblem):
    """p-center: ``k`` new sites minimising the longest trip to the nearest facility.

    Existing facilities are fixed. Demand points of weight 0 do not count. Points that
    neither an existing facility nor any candidate can reach are left out and reported in
    ``extra["unreachable"]`` and ``extra["unreachable_weight"]``.
    """

    def _base(self) -> np.ndarray:
        if self.existing.shape[1]:
            return np.asarray(self.existing.min(axis=1))
        return np.full(len(self.weights), np.inf)

    def longest(self, chosen: list[int]) -> float:
        """Longest time from a counted demand point to its nearest facility."""
        nearest = np.minimum(self._base(), self.costs[:, chosen].min(axis=1, initial=np.inf))
        counted = (self.weights > 0) & (np.isfinite(self._base()) | np.isfinite(self.costs).any(1))
        return float(nearest[counted].max(initial=0.0))

    def _solve(self) -> SitingResult:
        """Choose ``k`` sites minimising the longest time to the nearest facility (exact).

        ``objective`` is that longest time; ``newly_covered`` holds, per site, the weight
        for which it is the nearest facility; ``extra["farthest"]`` is the row whose
        trip is the longest.
        """
        base = self._base()
        reachable = np.isfinite(base) | np.isfinite(self.costs).any(axis=1)
        rows = np.flatnonzero(reachable & (self.weights > 0))
        chosen = self._by_radius(rows, base) if len(rows) else list(range(self.k))
        nearest = np.minimum(base, self.costs[:, chosen].min(axis=1))
        served = np.zeros(self.costs.shape[1])
        for i in rows:
            j = chosen[int(np.argmin(self.costs[i, chosen]))]
            if self.costs[i, j] < base[i]:
                served[j] += self.weights[i]
        order = sorted(chosen, key=lambda j: -served[j])
        farthest = int(rows[np.argmax(nearest[rows])]) if len(rows) else None
        lost = np.flatnonzero(~reachable & (self.weights > 0))
        return SitingResult(
            selected=order,
            covered_weight=float(self.weights[rows].sum()),
            objective=self.longest(chosen),
            newly_covered=[float(served[j]) for j in order],
            method="p-center exact (radius bisection, HiGHS covers)",
            extra={
                "farthest": farthest,
                "unreachable": [int(i) for i in lost],
                "unreachable_weight": float(self.weights[lost].sum()),
            },
        )

    def _by_radius(self, rows: np.ndarray, base: np.ndarray) -> list[int]:
        """``k`` sites of least longest trip: bisection on the radius, each probe a cover.

        The longest trip of an optimal choice is one of the travel times in the matrix, so
        the smallest radius ``r`` at which some ``k`` sites bring every counted point
        within ``r`` of a facility is the optimum. A probe asks whether the points beyond
        ``r`` of every existing facility can be covered by ``k`` candidates within ``r``:
        a greedy cover answers yes when it needs at most ``k``; otherwise the exact set
        covering MILP decides. This is exact (as the single p-center MILP) and much
        faster, since a covering LP is tight where the p-center LP is not.
        """
        costs, near = self.costs[rows], base[rows]
        floor = np.minimum(near, costs.min(axis=1)).max()
        values = np.unique(np.concatenate([costs[np.isfinite(costs)], near[np.isfinite(near)]]))
        values = values[values >= floor]
        best = self._cover_within(costs, near, float(values[-1])) if len(values) else None
        if best is None:
            raise SitingError(
                f"infeasible: no choice of {self.k} sites reaches every point that some "
                "facility or candidate can reach"
            )
        lo, hi = 0, len(values) - 1  # values[hi] is feasible
        while lo < hi:
            mid = (lo + hi) // 2
            found = self._cover_within(costs, near, float(values[mid]))
            if found is None:
                lo = mid + 1
            else:
                hi, best = mid, found
        return self._padded(best, rows, base)

    def _cover_within(self, costs: np.ndarray, near: np.ndarray, radius: float) -> list[int] | None:
        """At most ``k`` candidates within ``radius`` of every point beyond the existing.

        Returns the sites, or None when no ``k`` candidates do it.
        """
        covers = costs[near > radius] <= radius
        if not len(covers):
            return []
        if not covers.any(axis=1).all():
            return None
        greedy = _greedy_cover(covers, self.k)
        if greedy is not None:
            return greedy
        n_sites = covers.shape[1]
        constraints = [LinearConstraint(csr_array(covers.astype(float)), 1.0, np.inf)]
        x = _solve_milp(np.ones(n_sites), constraints, np.ones(n_sites), np.ones(n_sites))
        chosen = [int(j) for j in np.flatnonzero(x > 0.5)]
        return chosen if len(chosen) <= self.k else None

    def _padded(self, chosen: list[int], rows: np.ndarray, base: np.ndarray) -> list[int]:
        """Fill ``chosen`` up to ``k`` sites, each next one cutting the weighted time most.

        Any site added keeps the longest trip; among the many optimal choices this picks
        one that also serves the rest of the demand well (ties: the lowest column).
        """
        chosen = list(chosen)
        costs, weights = self.costs[rows], self.weights[rows]
        nearest = np.minimum(base[rows], costs[:, chosen].min(axis=1, initial=np.inf))
        while len(chosen) < self.k:
            with np.errstate(invalid="ignore"):
                total = (weights[:, None] * np.minimum(nearest[:, None], costs)).sum(axis=0)
            total = np.where(np.isnan(total), np.inf, total)
            total[chosen] = np.nan
            j = int(np.nanargmin(total)) if not np.isnan(total).all() else 0
            chosen.append(j)
            nearest = np.minimum(nearest, costs[:, j])
        return sorted(chosen)


def _greedy_cover(covers: np.ndarray, k: int) -> list[int] | None:
    """Cover every row with at most ``k`` columns by picking the widest in turn, or None."""
    left = np.ones(covers.shape[0], dtype=bool)
    chosen: list[int] = []
    while left.any():
        if len(chosen) == k:
            return None
        j = int(np.argmax(covers[left].sum(axis=0)))
        chosen.append(j)
        left &= ~covers[:, j]
    return chosen


__all__ = ["BACKUP_MEASURES", "BackupSetCovering", "PCenter", "SetCovering"]
