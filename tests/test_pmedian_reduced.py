"""The reduced p-median formulation gives the brute-force optimum."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

from corridor_planner.analysis.siting import PMedian


def plane(seed: int, points: int, sites: int, existing: int):
    """Demand, candidates and existing facilities in a plane; time = distance (some inf)."""
    rng = np.random.default_rng(seed)
    where = rng.uniform(0, 100, (points, 2))

    def times(n: int, cut: float) -> np.ndarray:
        at = rng.uniform(0, 100, (n, 2))
        out = np.linalg.norm(where[:, None, :] - at[None, :, :], axis=2)
        out[rng.random(out.shape) < cut] = np.inf  # some pairs unreachable
        return out

    # every candidate reaches every point: p-median (today as before) is infeasible when
    # a point reaches none of the sites it might get and no existing facility
    weights = rng.integers(1, 50, points).astype(float)
    return times(sites, 0.0), weights, times(existing, 0.2)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [1, 2, 3])
def test_reduced_pmedian_is_the_brute_force_optimum(seed, k):
    costs, weights, existing = plane(seed, 60, 7, 3 if seed % 2 else 0)
    result = PMedian.from_cost_matrix(costs, weights, k, existing).solve().result
    base = existing.min(axis=1) if existing.shape[1] else np.full(len(weights), np.inf)
    reachable = np.isfinite(base) | np.isfinite(costs).any(axis=1)

    def objective(chosen: tuple[int, ...]) -> float:
        nearest = np.minimum(base, costs[:, list(chosen)].min(axis=1))
        return float(weights[reachable] @ np.where(reachable, nearest, 0)[reachable])

    best = min(objective(c) for c in combinations(range(costs.shape[1]), k))
    assert result.objective == pytest.approx(best, rel=1e-9)
    assert objective(tuple(result.selected)) == pytest.approx(best, rel=1e-9)
    assert result.covered_weight == pytest.approx(weights[reachable].sum())


def test_points_no_site_can_win_are_fixed_to_their_existing_facility():
    costs = np.array([[5.0, 6.0], [7.0, 8.0], [1.0, 9.0]])
    existing = np.array([[1.0], [2.0], [3.0]])
    result = PMedian.from_cost_matrix(costs, np.array([1.0, 2.0, 4.0]), 1, existing).solve().result
    assert result.selected == [0]
    assert result.objective == pytest.approx(1 * 1 + 2 * 2 + 4 * 1)
    assert result.newly_covered == [4.0]
