from __future__ import annotations

import pandas as pd
import pytest

from corridor_planner.analysis.coverage import demand_weights
from corridor_planner.analysis.scoring import score_sites
from corridor_planner.bundle.corridor import load_corridor
from corridor_planner.errors import InvalidArgumentError, NotFoundError, SitingError
from corridor_planner.network.graph import build_network
from corridor_planner.routing.traveltimes import CorridorTravelTimes
from tests.helpers import edit_feature


def times(network, scenario="baseline", profile="citizen"):
    return CorridorTravelTimes(network, profile, network.corridor.scenario(scenario))


class TestTinyCorridor:
    """Emergency care: Hospital D (KG) exists; Site B (KZ) is the only candidate."""

    def test_open_border_leaves_nothing_for_site_b(self, tiny_network):
        scores = score_sites(times(tiny_network), "emergency", 60, 1)
        # Town A (42.5 min) and Borderville reach Hospital D across post P within 60 min
        assert scores.already_covered == 10_000 + 5_000 + 800
        assert scores.sites["newly_covered"].tolist() == [0]

    def test_closing_the_border_makes_site_b_worth_building(self, tiny_network):
        scores = score_sites(times(tiny_network, "borders_closed"), "emergency", 60, 1)
        assert scores.already_covered == 5_000
        site = scores.sites.iloc[0]
        assert (site["id"], site["rank"]) == ("cand_b", 1)
        assert site["newly_covered"] == 10_000 + 800
        assert site["total_covered"] == 15_800

    def test_border_community_weight(self, tiny_network):
        scores = score_sites(
            times(tiny_network, "borders_closed"),
            "emergency",
            60,
            1,
            group_weights={"border_community": 2},
        )
        assert scores.sites.iloc[0]["weighted_gain"] == 2 * 10_800
        assert scores.sites.iloc[0]["newly_covered"] == 10_800

    def test_capacitated_needs_capacities(self, tiny_network):
        closed = times(tiny_network, "borders_closed")
        with pytest.raises(
            SitingError, match="cand_b have no service_capacity.*--service-capacity"
        ):
            score_sites(closed, "emergency", 60, 1, method="capacitated")
        scores = score_sites(
            closed, "emergency", 60, 1, method="capacitated", service_capacity=3_000
        )
        assert scores.sites.iloc[0]["service_capacity"] == 3_000
        assert scores.sites.iloc[0]["served"] == 3_000
        assert scores.result.extra["within_reach_over_capacity"] == pytest.approx(7_800)

    def test_capacitated_reads_the_candidates_own_service_capacity(self, tiny_copy):
        # the bundle format gives people a site can serve per service; it must be used
        edit_feature(
            tiny_copy, "candidates.geojson", "cand_b", service_capacity={"emergency": 2_500}
        )
        network = build_network(load_corridor(tiny_copy))
        scores = score_sites(
            times(network, "borders_closed"), "emergency", 60, 1, method="capacitated"
        )
        assert scores.sites.iloc[0]["served"] == 2_500
        assert scores.sites.iloc[0]["service_capacity"] == 2_500
        assert scores.result.extra["within_reach_over_capacity"] == pytest.approx(8_300)

    def test_patients_a_year_are_not_people_a_site_can_serve(self, tiny_copy):
        # a candidate's capacity is patients a year, as a facility's: siting never reads it
        edit_feature(tiny_copy, "candidates.geojson", "cand_b", capacity={"emergency": 2_500})
        network = build_network(load_corridor(tiny_copy))
        with pytest.raises(SitingError, match="cand_b have no service_capacity for emergency"):
            score_sites(times(network, "borders_closed"), "emergency", 60, 1, method="capacitated")

    def test_no_candidate_offers_the_service(self, tiny_network):
        with pytest.raises(
            NotFoundError, match="no candidate site in corridor tiny offers 'surgery'"
        ):
            score_sites(times(tiny_network), "surgery", 60, 1)

    def test_unknown_method(self, tiny_network):
        with pytest.raises(InvalidArgumentError, match="unknown method 'voronoi'"):
            score_sites(times(tiny_network), "emergency", 60, 1, method="voronoi")


def test_demand_weights():
    settlements = pd.DataFrame(
        {"population": [100, 200], "border_community": [True, False], "migrant_share": [0.5, None]}
    )
    weights = demand_weights(settlements, {"border_community": 3, "migrants": 2})
    assert weights.tolist() == [100 + 200 + 50, 200]
    with pytest.raises(InvalidArgumentError, match="unknown weight group"):
        demand_weights(settlements, {"tourists": 2})


class TestBundledCorridors:
    @pytest.mark.parametrize("method", ["gain", "mclp", "greedy", "pmedian"])
    def test_each_method_finds_the_sites_brute_force_finds(self, almaty_bishkek, method):
        # the answer is computed here from the travel times alone: every pair of candidates
        # (coverage within 30 min of an existing facility or a site; p-median: the people x
        # minutes to the nearest), so the test holds whatever the bundle's people are
        import itertools

        import numpy as np

        from corridor_planner.analysis.access import offering, settlements_on_network

        corridor_times = times(almaty_bishkek)
        settlements = settlements_on_network(almaty_bishkek)
        snaps = almaty_bishkek.snaps
        candidates = snaps[(snaps["kind"] == "candidate") & snaps["snapped"]]
        origins = list(settlements["node"])
        to_sites = corridor_times.matrix(origins, list(candidates["node"])) / 60
        existing = corridor_times.matrix(
            origins, list(offering(almaty_bishkek, "emergency")["node"])
        )
        nearest = existing.min(axis=1) / 60
        people = settlements["population"].to_numpy(dtype=float)

        def covered(pair):
            return people[(nearest <= 30) | (to_sites[:, list(pair)] <= 30).any(axis=1)].sum()

        def person_minutes(pair):
            best = np.minimum(nearest, to_sites[:, list(pair)].min(axis=1))
            return (people * best).sum()

        pairs = list(itertools.combinations(range(to_sites.shape[1]), 2))
        scores = score_sites(corridor_times, "emergency", 30, 2, method=method)
        assert len(scores.sites) == 2
        chosen = tuple(sorted(candidates["id"].tolist().index(i) for i in scores.sites["id"]))
        if method == "pmedian":
            assert person_minutes(chosen) == pytest.approx(min(map(person_minutes, pairs)))
        elif method == "mclp":
            assert covered(chosen) == max(map(covered, pairs))
        else:  # gain and greedy rank by what the first site alone brings
            alone = [covered((j, j)) for j in range(to_sites.shape[1])]
            assert covered((chosen[0], chosen[0])) == max(alone) or covered(
                (chosen[1], chosen[1])
            ) == max(alone)
        assert scores.sites["total_covered"].max() <= scores.population

    def test_exact_mclp_never_worse_than_greedy(self, almaty_bishkek):
        exact = score_sites(times(almaty_bishkek), "emergency", 30, 3, method="mclp")
        greedy = score_sites(times(almaty_bishkek), "emergency", 30, 3, method="greedy")
        assert exact.result.covered_weight >= greedy.result.covered_weight


class TestBudget:
    def test_budgeted_choice_matches_enumeration(self):
        import itertools

        import numpy as np

        from corridor_planner.analysis.siting import BudgetedMaxCoverage

        for seed in range(12):
            rng = np.random.default_rng(seed)
            costs = rng.uniform(0, 100, (20, 7))
            weights = rng.uniform(0, 10, 20)
            prices = rng.integers(1, 10, 7).astype(float)
            existing = rng.uniform(0, 100, (20, 1))
            problem = BudgetedMaxCoverage.from_cost_matrix(
                costs, weights, 30, 7, existing, prices, 15.0
            )
            result = problem.solve().result
            covers, already = costs <= 30, (existing <= 30).any(axis=1)
            best = max(
                weights[already | covers[:, list(sub)].any(axis=1)].sum()
                for r in range(8)
                for sub in itertools.combinations(range(7), r)
                if prices[list(sub)].sum() <= 15.0
            )
            assert result.covered_weight == pytest.approx(best)
            assert result.extra["spent"] <= 15.0

    def test_budget_on_the_tiny_corridor(self, tiny_copy):
        closed = "borders_closed"
        edit_feature(tiny_copy, "candidates.geojson", "cand_b", cost=8.0)
        network = build_network(load_corridor(tiny_copy))
        too_little = score_sites(
            times(network, closed), "emergency", 60, 1, method="budget", budget=5
        )
        assert too_little.sites.empty
        enough = score_sites(times(network, closed), "emergency", 60, 1, method="budget", budget=8)
        site = enough.sites.iloc[0]
        assert (site["id"], site["cost"], site["newly_covered"]) == ("cand_b", 8.0, 10_800)
        assert site["covered_per_cost"] == pytest.approx(10_800 / 8)

    def test_budget_needs_every_cost(self, tiny_network):
        with pytest.raises(SitingError, match="cand_b have no cost"):
            score_sites(times(tiny_network), "emergency", 60, 1, method="budget", budget=5)
