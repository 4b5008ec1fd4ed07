"""Where the next centres should go: coverage gain, MCLP, p-median, capacitated models.

Every model is a problem object built from travel-time matrices (demand x site), never
from the graph, and solved with ``.solve()``. Existing facilities are fixed: what they
already cover counts as covered and they are never chosen again. Exact models are mixed
integer programmes solved by HiGHS through ``scipy.optimize.milp``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array, csr_array, hstack

from corridor_planner.analysis.coverage import within
from corridor_planner.analysis.quiet import quiet_solver
from corridor_planner.errors import SitingError


@dataclass
class SitingResult:
    """Answer of a location model.

    Attributes
    ----------
    selected : list of int
        Candidate column indices chosen, in rank order (largest marginal gain first).
    covered_weight : float
        Total demand weight covered, existing facilities included (coverage models), or
        total weight of demand that can reach care (p-median).
    objective : float
        The model's objective value (covered weight, or weighted travel time).
    newly_covered : list of float
        For each selected site in rank order, the weight it covers that neither existing
        facilities nor higher-ranked sites cover.
    method : str
        Model and algorithm.
    extra : dict
        Model-specific figures (gap, bound, capacity use, ...).
    """

    selected: list[int]
    covered_weight: float
    objective: float
    newly_covered: list[float]
    method: str
    extra: dict[str, Any] = field(default_factory=dict)


def _validate(
    costs: np.ndarray, weights: np.ndarray, k: int, existing: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    costs = np.asarray(costs, dtype=float)
    weights = np.asarray(weights, dtype=float)
    if costs.ndim != 2 or costs.shape[0] == 0 or costs.shape[1] == 0:
        raise SitingError(f"costs must be a non-empty demand x candidate matrix, got {costs.shape}")
    if weights.shape != (costs.shape[0],):
        raise SitingError(f"weights must have one value per demand row ({costs.shape[0]})")
    if np.isnan(costs).any() or (costs < 0).any():
        raise SitingError("costs must be travel times >= 0 (inf for unreachable), not NaN")
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise SitingError("weights must be finite and >= 0")
    if not 1 <= k <= costs.shape[1]:
        raise SitingError(f"k must be between 1 and the {costs.shape[1]} candidates, got {k}")
    if existing is None:
        existing = np.full((costs.shape[0], 0), np.inf)
    existing = np.asarray(existing, dtype=float)
    if existing.ndim != 2 or existing.shape[0] != costs.shape[0]:
        raise SitingError("existing must be a demand x existing-facility matrix")
    if np.isnan(existing).any():
        raise SitingError("existing travel times must not be NaN")
    return costs, weights, existing


def _rank(
    covers: np.ndarray, weights: np.ndarray, chosen: list[int], base: np.ndarray
) -> tuple[list[int], list[float]]:
    """Order chosen sites by marginal gain (greedy within the set) and give each its gain."""
    covered = base.copy()
    order, gains = [], []
    left = list(chosen)
    while left:
        marginal = [(weights * (covers[:, j] & ~covered)).sum() for j in left]
        best = int(np.argmax(marginal))
        j = left.pop(best)
        order.append(j)
        gains.append(float(marginal[best]))
        covered |= covers[:, j]
    return order, gains


def _per_candidate(values: np.ndarray | None, n_sites: int, what: str) -> np.ndarray:
    """Check one finite value >= 0 per candidate (capacities, costs)."""
    array = np.asarray(values if values is not None else [], dtype=float)
    if array.shape != (n_sites,) or not np.isfinite(array).all() or (array < 0).any():
        raise SitingError(f"{what} must give one finite value >= 0 per candidate")
    return array


#: HiGHS stops when its incumbent is within this relative gap of the bound: 0, so that an
#: "exact" answer is a proven optimum (HiGHS's own default, 1e-4, would stop up to 0.01%
#: short of it).
MIP_GAP = 0.0


def _solve_milp(
    c: np.ndarray, constraints: list[LinearConstraint], integrality: np.ndarray, ub: np.ndarray
) -> np.ndarray:
    with quiet_solver():  # HiGHS prints some lines on stdout from C++
        result = milp(
            c,
            constraints=constraints,
            integrality=integrality,
            bounds=Bounds(0, ub),
            options={"mip_rel_gap": MIP_GAP},
        )
    if result.status != 0 or result.x is None:
        raise SitingError(f"the solver found no solution: {result.message}")
    return result.x


class LocationProblem:
    """Base of the location models: built from cost matrices, then ``solve()``.

    ``solve()`` returns the problem itself with its answer in :attr:`result`, so a run
    reads ``MaxCoverage.from_cost_matrix(...).solve().result`` (as spopt's models do).
    """

    result: SitingResult | None = None
    #: The model's own solver, defined by each subclass.
    _solve: Callable[..., SitingResult]

    def solve(self, **options: Any) -> Self:
        """Solve the model; the answer is in :attr:`result`."""
        self.result = self._solve(**options)
        return self


# coverage models -------------------------------------------------------------------------


@dataclass
class CoverageProblem(LocationProblem):
    """Demand weights, candidate sites and a threshold; existing facilities fixed."""

    costs: np.ndarray
    weights: np.ndarray
    threshold: float
    k: int
    existing: np.ndarray

    @classmethod
    def from_cost_matrix(
        cls,
        costs: np.ndarray,
        weights: np.ndarray,
        threshold: float,
        k: int = 1,
        existing: np.ndarray | None = None,
    ) -> Self:
        """Build the problem.

        Parameters
        ----------
        costs : numpy.ndarray
            Demand x candidate travel times (``inf``: unreachable).
        weights : numpy.ndarray
            Weight of each demand point (people, weighted by group).
        threshold : float
            A demand is covered by a site within this travel time (same unit as costs).
        k : int
            Number of sites to choose.
        existing : numpy.ndarray, optional
            Demand x existing-facility travel times; those facilities are fixed.
        """
        costs, weights, existing = _validate(costs, weights, k, existing)
        return cls(costs, weights, float(threshold), int(k), existing)

    @property
    def covers(self) -> np.ndarray:
        """Boolean demand x candidate: candidate covers demand."""
        return within(self.costs, self.threshold)

    @property
    def already(self) -> np.ndarray:
        """Demand already covered by an existing facility."""
        return np.asarray(within(self.existing, self.threshold).any(axis=1))

    def covered_by(self, chosen: list[int]) -> float:
        """Total weight covered with the existing facilities and ``chosen`` candidates."""
        covered = self.already | self.covers[:, chosen].any(axis=1)
        return float(self.weights[covered].sum())

    def _result(self, chosen: list[int], method: str, **extra: Any) -> SitingResult:
        order, gains = _rank(self.covers, self.weights, chosen, self.already)
        total = self.covered_by(order)
        return SitingResult(order, total, total, gains, method, dict(extra))


class CoverageGain(CoverageProblem):
    """Each candidate on its own: the weight it would newly bring within the threshold."""

    def _solve(self) -> SitingResult:
        """Rank every candidate by its gain alone; ``selected`` holds the best ``k``.

        ``extra["gains"]`` has the gain of every candidate (column order).
        """
        fresh = self.covers & ~self.already[:, None]
        gains = self.weights @ fresh
        order = [int(j) for j in np.argsort(-gains, kind="stable")[: self.k]]
        base = float(self.weights[self.already].sum())
        return SitingResult(
            selected=order,
            covered_weight=base + float(gains[order[0]]) if order else base,
            objective=float(gains[order[0]]) if order else 0.0,
            newly_covered=[float(gains[j]) for j in order],
            method="coverage gain (each site alone)",
            extra={"gains": gains.tolist(), "already_covered": base},
        )


class MaxCoverage(CoverageProblem):
    """Maximal covering location problem (MCLP) with existing facilities fixed."""

    def _solve(self, method: str = "exact") -> SitingResult:
        """Choose ``k`` candidates maximising the covered weight.

        Parameters
        ----------
        method : {"exact", "greedy"}
            ``exact``: integer programme (HiGHS). ``greedy``: add the best site in turn;
            ``extra`` then reports the LP-relaxation upper bound and the gap to it.
        """
        if method == "greedy":
            return self._greedy()
        if method != "exact":
            raise SitingError(f"unknown method {method!r}; use 'exact' or 'greedy'")
        chosen, _ = self._milp(relax=False)
        return self._result(chosen, "MCLP exact (HiGHS)")

    def _open_demand(self) -> np.ndarray:
        """Rows not yet covered by existing facilities that some candidate can cover."""
        return np.flatnonzero(~self.already & self.covers.any(axis=1) & (self.weights > 0))

    def _milp(self, relax: bool) -> tuple[list[int], float]:
        rows = self._open_demand()
        n_sites, n_rows = self.costs.shape[1], len(rows)
        # variables: x (sites) then y (open demand rows); maximise sum w y
        c = np.concatenate([np.zeros(n_sites), -self.weights[rows]])
        link = hstack([-csr_array(self.covers[rows].astype(float)), csr_array(np.eye(n_rows))])
        count = np.concatenate([np.ones(n_sites), np.zeros(n_rows)])[None, :]
        constraints = [
            LinearConstraint(link, -np.inf, 0.0),
            LinearConstraint(count, self.k, self.k),
        ]
        integrality = (
            np.zeros(n_sites + n_rows)
            if relax
            else np.concatenate([np.ones(n_sites), np.zeros(n_rows)])
        )
        x = _solve_milp(c, constraints, integrality, np.ones(n_sites + n_rows))
        chosen = [int(j) for j in np.flatnonzero(x[:n_sites] > 0.5)]
        return chosen, float(-c @ x)

    def _greedy(self) -> SitingResult:
        covered = self.already.copy()
        chosen: list[int] = []
        for _ in range(self.k):
            gains = self.weights @ (self.covers & ~covered[:, None])
            gains[chosen] = -1.0
            best = int(np.argmax(gains))
            chosen.append(best)
            covered |= self.covers[:, best]
        _, bound = self._milp(relax=True)
        base = float(self.weights[self.already].sum())
        result = self._result(chosen, "MCLP greedy")
        gained = result.covered_weight - base
        result.extra.update(
            upper_bound=base + bound,
            gap=(bound - gained) / bound if bound > 0 else 0.0,
            guarantee="greedy gain >= (1 - 1/e) of the optimal gain",
        )
        return result


class BudgetedMaxCoverage(CoverageProblem):
    """MCLP within a budget: the sites' costs may not exceed it (a knapsack constraint).

    ``k`` caps the number of sites; the budget decides how many are worth their cost.
    Among sets covering the same weight, the cheaper is chosen.
    """

    site_costs: np.ndarray
    budget: float

    @classmethod
    def from_cost_matrix(  # type: ignore[override]
        cls,
        costs: np.ndarray,
        weights: np.ndarray,
        threshold: float,
        k: int = 1,
        existing: np.ndarray | None = None,
        site_costs: np.ndarray | None = None,
        budget: float = 0.0,
    ) -> BudgetedMaxCoverage:
        """Build the problem; ``site_costs`` has one finite value >= 0 per candidate."""
        problem = super().from_cost_matrix(costs, weights, threshold, k, existing)
        prices = _per_candidate(site_costs, problem.costs.shape[1], "site costs")
        if not np.isfinite(budget) or budget < 0:
            raise SitingError(f"the budget must be a finite amount >= 0, got {budget!r}")
        problem.site_costs, problem.budget = prices, float(budget)
        return problem

    def _solve(self) -> SitingResult:
        """Choose sites within the budget maximising the covered weight (exact, HiGHS).

        ``extra`` reports ``budget``, ``spent``, and per selected site its ``cost`` and
        ``covered_per_cost`` (newly covered weight per unit of cost).
        """
        rows = np.flatnonzero(~self.already & self.covers.any(axis=1) & (self.weights > 0))
        n_sites, n_rows = self.costs.shape[1], len(rows)
        total = float(self.weights[rows].sum())
        # a tie-break far below one person: among equal coverage, spend less
        tie = 1e-6 / (float(self.site_costs.sum()) + 1.0)
        c = np.concatenate([tie * self.site_costs, -self.weights[rows] / max(total, 1.0)])
        link = hstack([-csr_array(self.covers[rows].astype(float)), csr_array(np.eye(n_rows))])
        spend = np.concatenate([self.site_costs, np.zeros(n_rows)])[None, :]
        count = np.concatenate([np.ones(n_sites), np.zeros(n_rows)])[None, :]
        constraints = [
            LinearConstraint(link, -np.inf, 0.0),
            LinearConstraint(spend, -np.inf, self.budget),
            LinearConstraint(count, 0, self.k),
        ]
        integrality = np.concatenate([np.ones(n_sites), np.zeros(n_rows)])
        x = _solve_milp(c, constraints, integrality, np.ones(n_sites + n_rows))
        chosen = [int(j) for j in np.flatnonzero(x[:n_sites] > 0.5)]
        result = self._result(chosen, "MCLP within a budget (exact, HiGHS)")
        prices = [float(self.site_costs[j]) for j in result.selected]
        result.extra.update(
            budget=self.budget,
            spent=float(sum(prices)),
            cost=prices,
            covered_per_cost=[
                gain / price if price > 0 else math.inf
                for gain, price in zip(result.newly_covered, prices, strict=True)
            ],
        )
        return result


class CapacitatedMaxCoverage(CoverageProblem):
    """MCLP where each chosen site serves at most its capacity (weight units)."""

    capacities: np.ndarray

    @classmethod
    def from_cost_matrix(  # type: ignore[override]
        cls,
        costs: np.ndarray,
        weights: np.ndarray,
        threshold: float,
        k: int = 1,
        existing: np.ndarray | None = None,
        capacities: np.ndarray | None = None,
    ) -> CapacitatedMaxCoverage:
        """Build the problem; ``capacities`` has one value (>= 0) per candidate."""
        problem = super().from_cost_matrix(costs, weights, threshold, k, existing)
        problem.capacities = _per_candidate(capacities, problem.costs.shape[1], "capacities")
        return problem

    def _solve(self) -> SitingResult:
        """Choose ``k`` sites and assign demand within capacity, maximising served weight.

        ``extra`` reports ``served`` per selected site, ``capacity`` per selected site and
        ``within_reach_over_capacity``: weight within the threshold of a chosen site (and
        not covered by existing facilities) that the sites cannot take.
        """
        rows = np.flatnonzero(~self.already & self.covers.any(axis=1) & (self.weights > 0))
        n_sites = self.costs.shape[1]
        pairs_i, pairs_j = np.nonzero(self.covers[rows])
        n_pairs = len(pairs_i)
        w = self.weights[rows][pairs_i]
        # variables: x (sites), a (assignment share of each covering pair); maximise sum w a
        c = np.concatenate([np.zeros(n_sites), -w])
        per_row = coo_array(
            (np.ones(n_pairs), (pairs_i, np.arange(n_pairs))), shape=(len(rows), n_pairs)
        )
        per_site = coo_array((w, (pairs_j, np.arange(n_pairs))), shape=(n_sites, n_pairs))
        link = coo_array(
            (np.ones(n_pairs), (np.arange(n_pairs), np.arange(n_pairs))), shape=(n_pairs, n_pairs)
        )
        site_link = coo_array(
            (np.ones(n_pairs), (np.arange(n_pairs), pairs_j)), shape=(n_pairs, n_sites)
        )
        constraints = [
            LinearConstraint(hstack([csr_array((len(rows), n_sites)), per_row]), -np.inf, 1.0),
            LinearConstraint(
                hstack([-csr_array(np.diag(self.capacities)), per_site]), -np.inf, 0.0
            ),
            LinearConstraint(hstack([-site_link, link]), -np.inf, 0.0),
            LinearConstraint(
                np.concatenate([np.ones(n_sites), np.zeros(n_pairs)])[None, :], self.k, self.k
            ),
        ]
        integrality = np.concatenate([np.ones(n_sites), np.zeros(n_pairs)])
        x = _solve_milp(c, constraints, integrality, np.ones(n_sites + n_pairs))
        chosen = [int(j) for j in np.flatnonzero(x[:n_sites] > 0.5)]
        served_by_site = np.zeros(n_sites)
        np.add.at(served_by_site, pairs_j, w * x[n_sites:])
        base = float(self.weights[self.already].sum())
        served = float(served_by_site.sum())
        reach = self.covered_by(chosen) - base
        order = sorted(chosen, key=lambda j: -served_by_site[j])
        return SitingResult(
            selected=order,
            covered_weight=base + served,
            objective=served,
            newly_covered=[float(served_by_site[j]) for j in order],
            method="capacitated MCLP exact (HiGHS)",
            extra={
                "served": [float(served_by_site[j]) for j in order],
                "capacity": [float(self.capacities[j]) for j in order],
                "within_reach_over_capacity": max(reach - served, 0.0),
                "already_covered": base,
            },
        )


# p-median -------------------------------------------------------------------------------


@dataclass
class NearestSiteProblem(LocationProblem):
    """A model of ``k`` new sites judged by each point's nearest facility (p-median, p-center).

    Holds the travel-time matrix to the candidates, the demand weights, ``k`` and the
    times to the existing facilities, which stay open.
    """

    costs: np.ndarray
    weights: np.ndarray
    k: int
    existing: np.ndarray

    @classmethod
    def from_cost_matrix(
        cls,
        costs: np.ndarray,
        weights: np.ndarray,
        k: int = 1,
        existing: np.ndarray | None = None,
    ) -> Self:
        """Build the problem (same arrays as :meth:`CoverageProblem.from_cost_matrix`)."""
        costs, weights, existing = _validate(costs, weights, k, existing)
        return cls(costs, weights, int(k), existing)


@dataclass
class PMedian(NearestSiteProblem):
    """Minimise the weighted travel time to the nearest facility, with ``k`` new sites."""

    def _solve(self) -> SitingResult:
        """Choose ``k`` sites minimising sum of weight x time to the nearest facility.

        Exact, on a reduced formulation: a point's assignment variables are only the
        sites no farther than its nearest existing facility (a farther site never serves
        it), and points no site comes that near are served by the existing facility
        (their weighted time a constant). With facilities spread over a country most
        points keep a few pairs or none, so the MILP grows with the points a new site
        could win, not with points x candidates.

        Demand that no site nor existing facility can reach is left out and reported in
        ``extra["unreachable_weight"]``. ``newly_covered`` holds, per site, the weight
        that the site serves (its catchment in the solution).
        """
        base = (
            self.existing.min(axis=1)
            if self.existing.shape[1]
            else np.full(len(self.weights), np.inf)
        )
        reachable = np.isfinite(base) | np.isfinite(self.costs).any(axis=1)
        # reduced formulation (exact): a site farther than the nearest existing facility
        # never serves a point, so only the pairs up to that time are variables, and a
        # point no site comes that near is served by its existing facility, a constant
        useful = np.isfinite(self.costs) & (self.costs <= base[:, None])
        fixed = np.flatnonzero(reachable & ~useful.any(axis=1))
        rows = np.flatnonzero(reachable & useful.any(axis=1))
        n_sites, n_rows = self.costs.shape[1], len(rows)
        pi, pj = np.nonzero(useful[rows])
        keep_base = np.isfinite(base[rows])
        bi = np.flatnonzero(keep_base)
        n_pairs, n_base = len(pi), len(bi)
        w = self.weights[rows]
        # variables: x (sites), z (row-site pairs), e (row served by an existing facility)
        c = np.concatenate(
            [np.zeros(n_sites), w[pi] * self.costs[rows][pi, pj], w[bi] * base[rows][bi]]
        )
        assign = hstack(
            [
                csr_array((n_rows, n_sites)),
                coo_array((np.ones(n_pairs), (pi, np.arange(n_pairs))), shape=(n_rows, n_pairs)),
                coo_array((np.ones(n_base), (bi, np.arange(n_base))), shape=(n_rows, n_base)),
            ]
        )
        open_link = hstack(
            [
                -coo_array((np.ones(n_pairs), (np.arange(n_pairs), pj)), shape=(n_pairs, n_sites)),
                coo_array(
                    (np.ones(n_pairs), (np.arange(n_pairs), np.arange(n_pairs))),
                    shape=(n_pairs, n_pairs),
                ),
                csr_array((n_pairs, n_base)),
            ]
        )
        count = np.concatenate([np.ones(n_sites), np.zeros(n_pairs + n_base)])[None, :]
        constraints = [
            LinearConstraint(assign, 1.0, 1.0),
            LinearConstraint(open_link, -np.inf, 0.0),
            LinearConstraint(count, self.k, self.k),
        ]
        integrality = np.concatenate([np.ones(n_sites), np.zeros(n_pairs + n_base)])
        x = _solve_milp(c, constraints, integrality, np.ones(n_sites + n_pairs + n_base))
        chosen = [int(j) for j in np.flatnonzero(x[:n_sites] > 0.5)]
        served = np.zeros(n_sites)
        np.add.at(served, pj, w[pi] * x[n_sites : n_sites + n_pairs])
        order = sorted(chosen, key=lambda j: -served[j])
        total = float(self.weights[rows].sum() + self.weights[fixed].sum())
        objective = float(c @ x) + float(self.weights[fixed] @ base[fixed])
        return SitingResult(
            selected=order,
            covered_weight=total,
            objective=objective,
            newly_covered=[float(served[j]) for j in order],
            method="p-median exact (HiGHS)",
            extra={
                "mean_time": objective / total if total > 0 else float("nan"),
                "unreachable_weight": float(self.weights[~reachable].sum()),
            },
        )


@dataclass
class CapacitatedPMedian(LocationProblem):
    """p-median within capacities: all demand assigned, no site or facility over capacity.

    spopt's ``PMedian`` with ``facility_capacities``: each demand point goes whole to one
    open site or existing facility (single sourcing; ``single_source=False`` lets it be
    split), ``k`` new sites, existing facilities fixed open. With ``fulfill_existing``
    every existing facility is filled exactly to its capacity (spopt's
    ``fulfill_predefined_fac``). An existing capacity of ``inf`` sets no limit.
    """

    costs: np.ndarray
    weights: np.ndarray
    k: int
    existing: np.ndarray
    capacities: np.ndarray
    existing_capacities: np.ndarray
    fulfill_existing: bool = False
    single_source: bool = True

    @classmethod
    def from_cost_matrix(
        cls,
        costs: np.ndarray,
        weights: np.ndarray,
        k: int = 1,
        existing: np.ndarray | None = None,
        capacities: np.ndarray | None = None,
        existing_capacities: np.ndarray | None = None,
        fulfill_existing: bool = False,
        single_source: bool = True,
    ) -> CapacitatedPMedian:
        """Build the problem; capacities are in weight units (people a site can serve).

        Raises
        ------
        SitingError
            Bad arrays, or a problem infeasible on its face: demand no facility can
            reach, more demand than the existing facilities and the ``k`` largest sites
            can take, or existing facilities to fill with more than the whole demand.
        """
        costs, weights, existing = _validate(costs, weights, k, existing)
        caps = _per_candidate(capacities, costs.shape[1], "capacities")
        n_existing = existing.shape[1]
        held = np.asarray(
            existing_capacities if existing_capacities is not None else [np.inf] * n_existing,
            dtype=float,
        )
        if held.shape != (n_existing,) or np.isnan(held).any() or (held < 0).any():
            raise SitingError("existing capacities must give one value >= 0 (or inf) per facility")
        problem = cls(costs, weights, int(k), existing, caps, held, fulfill_existing, single_source)
        problem._check_feasible()
        return problem

    def _check_feasible(self) -> None:
        demand = float(self.weights.sum())
        reach = np.isfinite(self.costs).any(axis=1) | np.isfinite(self.existing).any(axis=1)
        lost = np.flatnonzero(~reach & (self.weights > 0))
        if len(lost):
            raise SitingError(
                f"infeasible: demand rows {', '.join(map(str, lost[:10]))} "
                f"(weight {self.weights[lost].sum():g}) reach no site and no existing facility, "
                "and a capacitated p-median must assign all demand"
            )
        if self.fulfill_existing:
            filled = float(self.existing_capacities.sum())
            if not np.isfinite(filled) or filled > demand:
                raise SitingError(
                    f"infeasible: the existing facilities' capacity ({filled:g}) must be "
                    f"finite and at most the total demand ({demand:g}) to be filled exactly"
                )
        best = float(np.sort(self.capacities)[-self.k :].sum() + self.existing_capacities.sum())
        if best < demand:
            raise SitingError(
                f"infeasible: the {self.k} sites with the highest capacity and the existing "
                f"facilities can serve {best:g}, less than the total demand {demand:g}"
            )

    def _solve(self) -> SitingResult:
        """Choose ``k`` sites and assign all demand within capacity, least weighted time.

        ``newly_covered`` and ``extra["served"]`` hold the weight each selected site
        serves; ``extra`` also has ``capacity`` per selected site, ``existing_served``
        and ``mean_time``.

        Raises
        ------
        SitingError
            If no choice of ``k`` sites can take all demand within capacity.
        """
        rows = np.flatnonzero(self.weights > 0)
        w = self.weights[rows]
        n_sites, n_rows, n_existing = self.costs.shape[1], len(rows), self.existing.shape[1]
        matrix = np.column_stack([self.costs[rows], self.existing[rows]])
        pi, pj = np.nonzero(np.isfinite(matrix))
        n_pairs = len(pi)
        new = pj < n_sites
        # variables: x (sites), z (row-facility pairs, candidates then existing)
        c = np.concatenate([np.zeros(n_sites), w[pi] * matrix[pi, pj]])
        pairs = np.arange(n_pairs)
        assign = coo_array((np.ones(n_pairs), (pi, pairs)), shape=(n_rows, n_pairs))
        load = coo_array((w[pi], (pj, pairs)), shape=(n_sites + n_existing, n_pairs)).tocsr()
        # a candidate pair only where the candidate is open (existing ones always are)
        n_new = int(new.sum())
        link = hstack(
            [
                -coo_array((np.ones(n_new), (np.arange(n_new), pj[new])), shape=(n_new, n_sites)),
                coo_array(
                    (np.ones(n_new), (np.arange(n_new), np.flatnonzero(new))),
                    shape=(n_new, n_pairs),
                ),
            ]
        )
        count = np.concatenate([np.ones(n_sites), np.zeros(n_pairs)])[None, :]
        held = self.existing_capacities
        limited = np.flatnonzero(np.isfinite(held))
        constraints = [
            LinearConstraint(hstack([csr_array((n_rows, n_sites)), assign]), 1.0, 1.0),
            LinearConstraint(
                hstack([-csr_array(np.diag(self.capacities)), load[:n_sites]]), -np.inf, 0.0
            ),
            LinearConstraint(link, -np.inf, 0.0),
            LinearConstraint(count, self.k, self.k),
        ]
        if len(limited):
            block = hstack([csr_array((len(limited), n_sites)), load[n_sites + limited]])
            low = held[limited] if self.fulfill_existing else -np.inf
            constraints.append(LinearConstraint(block, low, held[limited]))
        integrality = np.concatenate(
            [np.ones(n_sites), np.full(n_pairs, 1.0 if self.single_source else 0.0)]
        )
        try:
            x = _solve_milp(c, constraints, integrality, np.ones(n_sites + n_pairs))
        except SitingError as exc:
            whole = " (each demand point whole to one facility)" if self.single_source else ""
            filled = " with the existing facilities filled exactly" if self.fulfill_existing else ""
            raise SitingError(
                f"infeasible: no choice of {self.k} sites assigns all demand within the "
                f"capacities{whole}{filled} ({exc})"
            ) from exc
        chosen = [int(j) for j in np.flatnonzero(x[:n_sites] > 0.5)]
        served = np.zeros(n_sites + n_existing)
        np.add.at(served, pj, w[pi] * x[n_sites:])
        order = sorted(chosen, key=lambda j: -served[j])
        objective = float(c @ x)
        total = float(w.sum())
        return SitingResult(
            selected=order,
            covered_weight=total,
            objective=objective,
            newly_covered=[float(served[j]) for j in order],
            method="capacitated p-median exact (HiGHS)",
            extra={
                "served": [float(served[j]) for j in order],
                "capacity": [float(self.capacities[j]) for j in order],
                "existing_served": served[n_sites:].tolist(),
                "mean_time": objective / total if total > 0 else float("nan"),
                "single_source": self.single_source,
            },
        )


__all__ = [
    "CapacitatedMaxCoverage",
    "CapacitatedPMedian",
    "CoverageGain",
    "MaxCoverage",
    "PMedian",
    "SitingError",
    "SitingResult",
]
