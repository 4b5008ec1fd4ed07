"""3SFCA and RAAM: pysal access's test instances and answers, closed forms, equilibrium."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import minimize

from corridor_planner.analysis.access import raam_scores, three_sfca_scores, wan_weights
from corridor_planner.errors import InvalidArgumentError


def grid(n=5):
    """access's tests.util.create_nxn_grid and euclidean create_cost_matrix."""
    xy = np.array(list(itertools.product(range(n), range(n))), dtype=float)
    return np.linalg.norm(xy[:, None, :] - xy[None], axis=2)


def step(edges):
    """access's weights.step_fn: the weight of the first edge the time is at or under."""

    def weight(minutes):
        out = np.zeros_like(minutes, dtype=float)
        for edge, value in sorted(edges.items(), reverse=True):
            out[minutes <= edge] = value
        return out

    return weight


class TestThreeStepGrid:
    """access's test_floating_catchment_area: 5 of 25 grid cells hold one person each."""

    demand_cells = np.array([3, 7, 12, 18, 24])

    def scores(self, catchment):
        costs = grid()[self.demand_cells]
        scores, _ = three_sfca_scores(costs, np.ones(5), np.ones(25), catchment, step({10: 25}))
        return scores

    def test_large_catchment(self):
        assert self.scores(100) == pytest.approx(np.full(5, 5.0))

    def test_small_catchment(self):
        # the selection weights still spread over all 25 cells: access answers 1
        assert self.scores(0.9) == pytest.approx(np.ones(5))

    def test_zero_catchment(self):
        # access gives NaN (no row); no supply in reach is 0 here
        assert (self.scores(-1) == 0).all()


def hospital_costs():
    """access's test_hospital_example: three tracts, four traffic scenarios (origin x dest)."""
    scenarios = [(40, 40, 80), (20, 40, 80), (40, 20, 80), (20, 20, 40)]
    out = []
    for inbound, outbound, cross in scenarios:
        out.append(
            np.array(
                [
                    [1.0, cross, inbound],
                    [cross, 1.0, inbound],
                    [outbound, outbound, 1.0],
                ]
            )
        )
    return out


def three_step_by_hand(od, supply, demand, max_travel=61):
    """The loop formula of access's simple_2sfca(three_stage=True), gravity 1/d."""
    n = len(supply)
    w = 1 / od
    g = w / w.sum(axis=1, keepdims=True)
    load = [
        sum(demand[i] * w[i, j] * g[i, j] for i in range(n) if od[i, j] < max_travel)
        for j in range(n)
    ]
    ratio = [supply[j] / load[j] for j in range(n)]
    return [
        sum(ratio[j] * w[i, j] * g[i, j] for j in range(n) if od[i, j] < max_travel)
        for i in range(n)
    ]


class TestThreeStepHospitals:
    population = np.array([100.0, 50.0, 10.0])
    doctors = np.array([15.0, 20.0, 100.0])

    @pytest.mark.parametrize("scenario", range(4))
    def test_as_access_reference(self, scenario):
        od = hospital_costs()[scenario]
        ours, _ = three_sfca_scores(od, self.population, self.doctors, 61, lambda t: 1 / t)
        expected = three_step_by_hand(od, self.doctors, self.population)
        assert ours == pytest.approx(expected, rel=1e-12)

    def test_faster_inbound_helps_the_suburbs(self):
        gridlock, inbound, *_ = hospital_costs()
        before, _ = three_sfca_scores(gridlock, self.population, self.doctors, 61, lambda t: 1 / t)
        after, _ = three_sfca_scores(inbound, self.population, self.doctors, 61, lambda t: 1 / t)
        assert after[0] > before[0] and after[1] > before[1] and after[2] < before[2]

    def test_supply_is_conserved_within_the_catchment(self):
        # every facility's supply is handed out in full when all pairs are in reach
        od = hospital_costs()[3]
        scores, _ = three_sfca_scores(od, self.population, self.doctors, 61, lambda t: 1 / t)
        assert self.population @ scores == pytest.approx(self.doctors.sum())


def test_wan_weights_edges():
    minutes = np.array([0, 10, 10.5, 20, 30, 45, 60, 61.0])
    assert wan_weights(minutes, 60).tolist() == [0.962, 0.962, 0.704, 0.704, 0.377, 0.042, 0.042, 0]


def test_unknown_decay():
    with pytest.raises(InvalidArgumentError, match="unknown decay 'linear'"):
        three_sfca_scores(np.ones((1, 1)), np.ones(1), np.ones(1), 30, "linear")


# RAAM ------------------------------------------------------------------------------------


class TestRaam:
    def test_one_settlement_spreads_over_every_facility(self):
        """access's RAAM grid test, divisible people: cost = 1 + mean travel / tau.

        With rho = demand / supply, one settlement reaching all 25 equal facilities
        loads each until travel plus congestion is level; the level is 1 + mean(T)/tau
        (access answers 25 for one indivisible person, who cannot be split).
        """
        travel = grid()[[7]]
        result = raam_scores(travel, np.array([1000.0]), np.ones(25), tau_min=60)
        assert result.cost[0] == pytest.approx(1 + travel.mean() / 60, rel=1e-9)
        assert result.assignment.sum() == pytest.approx(1000.0)
        assert result.gap < 1e-9

    @pytest.mark.parametrize("seed", range(4))
    def test_equilibrium_minimises_the_potential(self, seed):
        """Against SLSQP on the Beckmann potential, and the equilibrium conditions."""
        rng = np.random.default_rng(seed)
        minutes = rng.uniform(5, 90, (6, 4))
        minutes[0, 1] = np.inf
        people = rng.integers(100, 1000, 6).astype(float)
        supply = rng.integers(1, 10, 4).astype(float)
        result = raam_scores(minutes, people, supply, tau_min=30)
        scale = result.rho * supply
        travel = np.where(np.isfinite(minutes), minutes / 30, 1e6)

        def potential(flat):
            a = flat.reshape(minutes.shape)
            load = a.sum(axis=0)
            return (a * travel).sum() + (load**2 / (2 * scale)).sum()

        start = np.outer(people, supply / supply.sum()).ravel()
        rows = [
            {"type": "eq", "fun": lambda x, i=i: x.reshape(minutes.shape)[i].sum() - people[i]}
            for i in range(6)
        ]
        reference = minimize(
            potential,
            start,
            method="SLSQP",
            bounds=[(0, None)] * start.size,
            constraints=rows,
            options={"ftol": 1e-12, "maxiter": 1000},
        )
        assert potential(result.assignment.ravel()) <= reference.fun + 1e-6 * abs(reference.fun)
        cost = travel + result.assignment.sum(axis=0) / scale
        used = result.assignment > 1e-6
        assert np.allclose(np.where(used, cost, np.inf).min(axis=1), result.cost, rtol=1e-7)
        assert np.allclose(np.where(used, cost, -np.inf).max(axis=1), result.cost, rtol=1e-7)
        assert result.assignment[0, 1] == 0

    @pytest.mark.parametrize("seed", range(3))
    def test_access_converges_to_the_same_costs(self, seed):
        """pysal access's own RAAM, run on the same instance, within its integer steps.

        access moves whole people between facilities in shrinking steps (an iterative
        heuristic); with thousands of people per settlement it settles on the equilibrium
        this model solves exactly. 500 cycles; its costs agree to within 0.2%.
        """
        pd = pytest.importorskip("pandas")
        raam = pytest.importorskip("access.raam").raam
        rng = np.random.default_rng(seed)
        n, m = 60, 8
        people_xy, site_xy = rng.uniform(0, 100, (n, 2)), rng.uniform(0, 100, (m, 2))
        minutes = np.linalg.norm(people_xy[:, None] - site_xy[None], axis=2) * 1.5
        people = rng.integers(500, 5000, n).astype(float)
        supply = rng.integers(5, 30, m).astype(float)
        ours = raam_scores(minutes, people, supply, tau_min=60).cost
        pairs = [(i, n + j, minutes[i, j]) for i in range(n) for j in range(m)]
        theirs = raam(
            pd.DataFrame({"demand": people}, index=range(n)),
            pd.DataFrame({"supply": supply}, index=range(n, n + m)),
            pd.DataFrame(pairs, columns=["origin", "dest", "cost"]),
            tau=60,
            max_cycles=500,
        ).sort_index()
        assert theirs.to_numpy() == pytest.approx(ours, rel=2e-3)

    def test_unreachable_settlement_costs_inf(self):
        minutes = np.array([[10.0, 20.0], [np.inf, np.inf]])
        result = raam_scores(minutes, np.array([50.0, 20.0]), np.array([1.0, 1.0]))
        assert np.isfinite(result.cost[0]) and result.cost[1] == np.inf

    def test_bad_tau(self):
        with pytest.raises(InvalidArgumentError, match="tau must be a positive"):
            raam_scores(np.ones((1, 1)), np.ones(1), np.ones(1), tau_min=0)


@pytest.fixture
def baseline_times(tiny_network):
    from corridor_planner.routing.traveltimes import CorridorTravelTimes

    return CorridorTravelTimes(tiny_network, "citizen", tiny_network.corridor.scenario("baseline"))


class TestAccessReport:
    """The tiny corridor: Hospital D (capacity 40) is the one emergency facility."""

    def test_raam_with_borders_closed(self, tiny_network):
        from corridor_planner.analysis.access import access_report, nearest_facility_times
        from corridor_planner.routing.traveltimes import CorridorTravelTimes

        closed = CorridorTravelTimes(
            tiny_network, "citizen", tiny_network.corridor.scenario("borders_closed")
        )
        report = access_report(closed, "emergency", (60,), method="raam")
        by_id = report.settlements.set_index("id")
        rho = 15_800 / 40  # everyone's demand per unit of supply
        minutes = nearest_facility_times(closed, "emergency").set_index("id")["minutes"]
        # only Town D reaches Hospital D: its 5,000 people share the 40 places
        assert by_id.loc["town_d", "raam_cost"] == pytest.approx(
            minutes["town_d"] / 60 + 5_000 / (rho * 40)
        )
        assert by_id.loc["town_a", "raam_cost"] == np.inf
        assert report.to_dict()["measure"]["rho"] == rho

    def test_3sfca_with_one_facility_is_e2sfca(self, baseline_times):
        from corridor_planner.analysis.access import access_report

        report = access_report(baseline_times, "emergency", (60,), method="3sfca")
        table = report.settlements
        assert table["3sfca_per_1000"].to_numpy() == pytest.approx(table["e2sfca_per_1000"])

    def test_unknown_method(self, baseline_times):
        from corridor_planner.analysis.access import access_report

        with pytest.raises(InvalidArgumentError, match="unknown access method '4sfca'"):
            access_report(baseline_times, "emergency", (60,), method="4sfca")
