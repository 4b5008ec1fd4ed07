from __future__ import annotations

import itertools

import numpy as np
import pytest

from corridor_planner.analysis.siting import (
    CapacitatedMaxCoverage,
    CoverageGain,
    MaxCoverage,
    PMedian,
)
from corridor_planner.errors import SitingError


def instance(seed, n_demand=25, n_sites=8, n_existing=2):
    rng = np.random.default_rng(seed)
    costs = rng.uniform(0, 100, (n_demand, n_sites))
    costs[rng.random(costs.shape) < 0.1] = np.inf  # some sites unreachable
    weights = rng.integers(1, 100, n_demand).astype(float)
    existing = rng.uniform(20, 200, (n_demand, n_existing))
    return costs, weights, existing


def best_by_enumeration(costs, weights, threshold, k, existing):
    already = (existing <= threshold).any(axis=1)
    best = -1.0
    for subset in itertools.combinations(range(costs.shape[1]), k):
        covered = already | (costs[:, subset] <= threshold).any(axis=1)
        best = max(best, weights[covered].sum())
    return best


def pmedian_by_enumeration(costs, weights, k, existing):
    best = np.inf
    for subset in itertools.combinations(range(costs.shape[1]), k):
        nearest = np.minimum(costs[:, subset].min(axis=1), existing.min(axis=1))
        best = min(best, (weights * nearest).sum())
    return best


class TestKnownOptimum:
    """A 6-village, 4-site instance worked by hand (times in minutes, threshold 30)."""

    costs = np.array(
        [
            [10, 50, 90, 40],
            [20, 25, 80, 60],
            [70, 28, 35, 90],
            [90, 60, 15, 29],
            [95, 85, 20, 31],
            [99, 99, 99, 10],
        ],
        dtype=float,
    )
    weights = np.array([100, 200, 300, 400, 500, 50], dtype=float)

    def test_k1_picks_site_2(self):
        # site 0 covers rows 0-1 (300), site 1 rows 1-2 (500), site 2 rows 3-4 (900),
        # site 3 rows 3 and 5 (450)
        result = MaxCoverage.from_cost_matrix(self.costs, self.weights, 30, 1).solve().result
        assert result.selected == [2] and result.covered_weight == 900

    def test_k2_picks_sites_1_and_2(self):
        result = MaxCoverage.from_cost_matrix(self.costs, self.weights, 30, 2).solve().result
        # 2+1: 900 + 500 = 1400; 2+0: 1200; 2+3: 950
        assert result.selected == [2, 1]
        assert result.covered_weight == 1400
        assert result.newly_covered == [900, 500]

    def test_existing_facility_changes_the_answer(self):
        # an existing facility already covers villages 3 and 4 (site 2's best rows)
        existing = np.array([[99], [99], [99], [5], [5], [99]], dtype=float)
        result = (
            MaxCoverage.from_cost_matrix(self.costs, self.weights, 30, 1, existing).solve().result
        )
        assert result.selected == [1]
        assert result.covered_weight == 900 + 500
        assert result.newly_covered == [500]

    def test_pmedian_by_hand(self):
        # sites 0+2: 10*100 + 20*200 + 35*300 + 15*400 + 20*500 + 99*50 = 36,450
        # sites 1+2: 50*100 + 25*200 + 28*300 + 15*400 + 20*500 + 99*50 = 39,350
        result = PMedian.from_cost_matrix(self.costs, self.weights, 2).solve().result
        assert sorted(result.selected) == [0, 2]
        assert result.objective == pytest.approx(36_450)
        assert result.extra["mean_time"] == pytest.approx(36_450 / 1_550)

    def test_capacitated_by_hand(self):
        # capped at 400, site 2 serves less than site 1's 500
        result = (
            CapacitatedMaxCoverage.from_cost_matrix(
                self.costs, self.weights, 30, 1, capacities=np.array([1e9, 1e9, 400, 1e9])
            )
            .solve()
            .result
        )
        assert result.selected == [1] and result.objective == 500
        result = (
            CapacitatedMaxCoverage.from_cost_matrix(
                self.costs, self.weights, 30, 1, capacities=np.array([0, 500, 600, 0])
            )
            .solve()
            .result
        )
        assert result.selected == [2] and result.objective == 600
        assert result.extra["within_reach_over_capacity"] == 300

    def test_coverage_gain_ranks_each_site_alone(self):
        result = CoverageGain.from_cost_matrix(self.costs, self.weights, 30, 4).solve().result
        assert result.selected == [2, 1, 3, 0]
        assert result.newly_covered == [900, 500, 450, 300]


class TestProperties:
    @pytest.mark.parametrize("seed", range(6))
    def test_exact_matches_enumeration_and_beats_greedy(self, seed):
        costs, weights, existing = instance(seed)
        for k in (1, 2, 3):
            problem = MaxCoverage.from_cost_matrix(costs, weights, 35, k, existing)
            exact, greedy = problem.solve().result, problem.solve(method="greedy").result
            assert exact.covered_weight == pytest.approx(
                best_by_enumeration(costs, weights, 35, k, existing)
            )
            assert exact.covered_weight >= greedy.covered_weight
            assert greedy.extra["upper_bound"] >= exact.covered_weight - 1e-6
            assert 0 <= greedy.extra["gap"] <= 1

    @pytest.mark.parametrize("seed", range(4))
    def test_pmedian_matches_enumeration(self, seed):
        costs, weights, existing = instance(seed, n_demand=15, n_sites=6)
        result = PMedian.from_cost_matrix(costs, weights, 2, existing).solve().result
        assert result.objective == pytest.approx(
            pmedian_by_enumeration(costs, weights, 2, existing)
        )

    @pytest.mark.parametrize("seed", range(4))
    def test_adding_a_candidate_never_lowers_the_optimum(self, seed):
        costs, weights, existing = instance(seed)
        fewer = MaxCoverage.from_cost_matrix(costs[:, :-1], weights, 35, 2, existing).solve().result
        more = MaxCoverage.from_cost_matrix(costs, weights, 35, 2, existing).solve().result
        assert more.covered_weight >= fewer.covered_weight

    def test_a_site_where_a_facility_exists_is_not_chosen(self):
        costs, weights, existing = instance(3)
        twin = np.column_stack([costs, existing[:, 0]])  # candidate 8 duplicates facility 0
        for k in (1, 2, 3):
            result = MaxCoverage.from_cost_matrix(twin, weights, 35, k, existing).solve().result
            assert 8 not in result.selected

    def test_capacity_never_exceeded(self):
        costs, weights, existing = instance(1)
        caps = np.full(costs.shape[1], 300.0)
        result = (
            CapacitatedMaxCoverage.from_cost_matrix(costs, weights, 35, 3, existing, caps)
            .solve()
            .result
        )
        assert all(
            s <= c + 1e-6
            for s, c in zip(result.extra["served"], result.extra["capacity"], strict=True)
        )
        uncapped = MaxCoverage.from_cost_matrix(costs, weights, 35, 3, existing).solve().result
        assert result.covered_weight <= uncapped.covered_weight + 1e-6


class TestErrors:
    def test_empty(self):
        with pytest.raises(SitingError, match="non-empty demand x candidate matrix"):
            MaxCoverage.from_cost_matrix(np.zeros((0, 3)), np.zeros(0), 30, 1)

    def test_k_too_large(self):
        with pytest.raises(SitingError, match="k must be between 1 and the 2 candidates, got 3"):
            MaxCoverage.from_cost_matrix(np.ones((4, 2)), np.ones(4), 30, 3)

    def test_weights_shape(self):
        with pytest.raises(SitingError, match="one value per demand row"):
            PMedian.from_cost_matrix(np.ones((4, 2)), np.ones(3), 1)

    def test_nan_costs(self):
        with pytest.raises(SitingError, match="not NaN"):
            MaxCoverage.from_cost_matrix(np.array([[np.nan]]), np.ones(1), 30, 1)

    def test_capacities_required(self):
        with pytest.raises(SitingError, match="one finite value >= 0 per candidate"):
            CapacitatedMaxCoverage.from_cost_matrix(np.ones((2, 2)), np.ones(2), 30, 1)

    def test_unknown_method(self):
        with pytest.raises(SitingError, match="unknown method 'magic'"):
            MaxCoverage.from_cost_matrix(np.ones((2, 2)), np.ones(2), 30, 1).solve(method="magic")


spopt = pytest.importorskip("spopt.locate")
pulp = pytest.importorskip("pulp")


class TestAgreementWithSpopt:
    """spopt fixes existing facilities as predefined columns of one matrix."""

    @pytest.mark.parametrize("seed", range(4))
    def test_mclp(self, seed):
        costs, weights, existing = instance(seed, n_demand=40, n_sites=10)
        ours = MaxCoverage.from_cost_matrix(costs, weights, 35, 3, existing).solve().result
        combined = np.column_stack([existing, costs])
        combined[~np.isfinite(combined)] = 1e9
        theirs = spopt.MCLP.from_cost_matrix(
            combined,
            weights,
            service_radius=35,
            p_facilities=3 + existing.shape[1],
            predefined_facilities_arr=np.arange(existing.shape[1]),
        ).solve(pulp.PULP_CBC_CMD(msg=False))
        covered = theirs.cli2fac  # per demand, the facilities covering it
        theirs_weight = sum(w for w, facs in zip(weights, covered, strict=True) if facs)
        assert ours.covered_weight == pytest.approx(theirs_weight)

    @pytest.mark.parametrize("seed", range(3))
    def test_pmedian(self, seed):
        costs, weights, existing = instance(seed, n_demand=30, n_sites=8)
        costs[~np.isfinite(costs)] = 1e6
        ours = PMedian.from_cost_matrix(costs, weights, 2, existing).solve().result
        combined = np.column_stack([existing, costs])
        theirs = spopt.PMedian.from_cost_matrix(
            combined,
            weights,
            p_facilities=2 + existing.shape[1],
            predefined_facilities_arr=np.arange(existing.shape[1]),
        ).solve(pulp.PULP_CBC_CMD(msg=False))
        assert ours.objective == pytest.approx(pulp.value(theirs.problem.objective), rel=1e-6)
