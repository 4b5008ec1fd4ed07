from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from corridor_planner.analysis import access
from corridor_planner.bundle.facilities import supply as facility_supply
from corridor_planner.errors import InvalidArgumentError, NotFoundError
from corridor_planner.routing.traveltimes import CorridorTravelTimes


@pytest.fixture(scope="module")
def baseline_times(tiny, tiny_network):
    return CorridorTravelTimes(tiny_network, "citizen", tiny.scenario("baseline"))


class TestNearestFacility:
    def test_hand_computed_times(self, tiny_network, baseline_times):
        result = access.nearest_facility_times(baseline_times, "emergency")
        by_id = result.set_index("id")
        # Town A -> Hospital D: 39.5 min to node D plus a ~1 km access leg at 20 km/h (3 min)
        assert by_id.loc["town_a", "minutes"] == pytest.approx(42.5, abs=0.1)
        assert by_id.loc["town_a", "facility_id"] == "hosp_d"
        assert by_id.loc["town_a", "crosses_border"]
        assert by_id.loc["town_d", "minutes"] == pytest.approx(3.0, abs=0.05)
        assert not by_id.loc["town_d", "crosses_border"]
        assert "faraway" not in by_id.index  # not attached to the network

    def test_a_second_ask_is_remembered_and_a_copy(self, tiny, tiny_network):
        times = CorridorTravelTimes(tiny_network, "citizen", tiny.scenario("baseline"))
        first = access.nearest_facility_times(times, "emergency")
        first["minutes"] = -1.0  # a caller's change does not reach the next caller
        second = access.nearest_facility_times(times, "emergency").set_index("id")
        assert len(times.memo) == 1
        assert second.loc["town_a", "minutes"] == pytest.approx(42.5, abs=0.1)
        access.nearest_facility_times(times, "surgery")
        assert len(times.memo) == 2

    def test_closed_borders_leave_kazakh_towns_without_emergency_care(self, tiny, tiny_network):
        times = CorridorTravelTimes(tiny_network, "citizen", tiny.scenario("borders_closed"))
        result = access.nearest_facility_times(times, "emergency").set_index("id")
        assert result.loc["town_a", "minutes"] == np.inf
        assert pd.isna(result.loc["town_a", "facility_id"])

    def test_unknown_service(self, tiny_network, baseline_times):
        with pytest.raises(NotFoundError, match="unknown service 'astrology'"):
            access.nearest_facility_times(baseline_times, "astrology")

    def test_service_nobody_offers(self, tiny_network, baseline_times):
        with pytest.raises(NotFoundError, match="no facility in corridor tiny offers 'dialysis'"):
            access.nearest_facility_times(baseline_times, "dialysis")


class TestCoverage:
    def settlements(self):
        return pd.DataFrame(
            {
                "country": ["KZ", "KZ", "KG"],
                "population": [1000, 500, 2000],
                "border_community": [True, False, True],
                "migrant_share": [0.5, None, 0.1],
                "minutes": [20.0, 90.0, np.inf],
            }
        )

    def test_shares_by_country_and_group(self):
        table = access.coverage(self.settlements(), [30, 120]).set_index(
            ["threshold_minutes", "country", "group"]
        )
        assert table.loc[(30, "all", "all"), ["population", "covered"]].tolist() == [3500, 1000]
        assert table.loc[(120, "KZ", "all"), "share"] == 1.0
        assert table.loc[(120, "all", "border_community"), "covered"] == 1000
        assert table.loc[(120, "all", "migrants"), ["population", "covered"]].tolist() == [700, 500]
        assert table.loc[(30, "KG", "all"), "share"] == 0.0

    def test_empty_group_has_no_share(self):
        settlements = self.settlements().assign(migrant_share=None)
        table = access.coverage(settlements, [30])
        migrants = table[(table["group"] == "migrants") & (table["country"] == "all")]
        assert migrants["population"].item() == 0 and np.isnan(migrants["share"].item())

    def test_coverage_never_falls_as_the_threshold_rises(self, tiny_network, baseline_times):
        result = access.nearest_facility_times(baseline_times, "emergency")
        table = access.coverage(result, [5, 10, 30, 40, 45, 60, 120])
        for _, rows in table.groupby(["country", "group"]):
            assert rows.sort_values("threshold_minutes")["covered"].is_monotonic_increasing

    def test_cooperation_gain(self, tiny, tiny_network, baseline_times):
        open_ = access.coverage(access.nearest_facility_times(baseline_times, "emergency"), [60])
        closed_times = CorridorTravelTimes(tiny_network, "citizen", tiny.scenario("borders_closed"))
        closed = access.coverage(access.nearest_facility_times(closed_times, "emergency"), [60])
        gain = access.cooperation_gain(closed, open_).set_index(["country", "group"])
        # Town A (10,000) and Borderville (800) reach Hospital D only across post P
        assert gain.loc[("KZ", "all"), "gain"] == 10_800
        assert gain.loc[("KG", "all"), "gain"] == 0
        assert gain.loc[("KZ", "all"), "share_closed"] == 0.0


class TestE2sfca:
    """Hand-worked: catchment 30 min, zones [0, 10] / (10, 20] / (20, 30] weigh 1 / 0.68 / 0.22."""

    minutes = np.array([[5.0, 25.0], [15.0, 5.0], [40.0, 12.0]])
    population = np.array([1000.0, 2000.0, 500.0])
    supply = np.array([10.0, 20.0])

    def test_two_facilities_by_hand(self):
        scores, ratios = access.e2sfca_scores(self.minutes, self.population, self.supply, 30)
        # R1 = 10 / (1000 + 0.68 * 2000) ; R2 = 20 / (0.22 * 1000 + 2000 + 0.68 * 500)
        r1, r2 = 10 / 2360, 20 / 2560
        np.testing.assert_allclose(ratios, [r1, r2])
        np.testing.assert_allclose(scores, [r1 + 0.22 * r2, 0.68 * r1 + r2, 0.68 * r2])

    def test_zones_include_their_upper_edge(self):
        # pysal access and the coverage rule (d <= c) count the edge in: c/3 -> 1, 2c/3 -> 0.68
        minutes = np.array([0.0, 10.0, 10.001, 20.0, 20.001, 30.0, 30.001, np.inf])
        weights = access.zone_weights(minutes, 30)
        np.testing.assert_array_equal(weights, [1.0, 1.0, 0.68, 0.68, 0.22, 0.22, 0.0, 0.0])

    @pytest.mark.parametrize("catchment", [10.0, 45.0, 60.0, 100.0])
    def test_edges_at_thirds_that_are_not_whole_minutes(self, catchment):
        third = catchment / 3
        minutes = np.array([third, 2 * catchment / 3, catchment])
        above = np.nextafter(minutes, np.inf)
        np.testing.assert_array_equal(access.zone_weights(minutes, catchment), [1.0, 0.68, 0.22])
        np.testing.assert_array_equal(access.zone_weights(above, catchment), [0.68, 0.22, 0.0])

    def test_whole_minute_table_with_times_on_the_edges(self):
        # every time sits on a zone edge: weights [[1, 0.68], [0.68, 0.22]]
        minutes = np.array([[10.0, 20.0], [20.0, 30.0]])
        population = np.array([100.0, 300.0])
        scores, ratios = access.e2sfca_scores(minutes, population, np.array([6.0, 3.0]), 30)
        # R1 = 6 / (100 + 0.68 * 300) = 6 / 304 ; R2 = 3 / (0.68 * 100 + 0.22 * 300) = 3 / 134
        r1, r2 = 6 / 304, 3 / 134
        np.testing.assert_allclose(ratios, [r1, r2])
        np.testing.assert_allclose(scores, [r1 + 0.68 * r2, 0.68 * r1 + 0.22 * r2])

    def test_crowding_lowers_access(self):
        crowded = self.population * np.array([1, 5, 1])
        before, _ = access.e2sfca_scores(self.minutes, self.population, self.supply, 30)
        after, _ = access.e2sfca_scores(self.minutes, crowded, self.supply, 30)
        assert (after <= before).all() and after[0] < before[0]

    def test_gaussian_decay_is_one_at_zero_and_zero_at_the_edge(self):
        weights = access.gaussian_weights(np.array([0.0, 30.0, 31.0]), 30)
        np.testing.assert_allclose(weights, [1.0, 0.0, 0.0], atol=1e-12)

    def test_unknown_decay(self):
        with pytest.raises(InvalidArgumentError, match="unknown decay 'linear'"):
            access.e2sfca_scores(self.minutes, self.population, self.supply, 30, decay="linear")

    def test_supply_units_are_never_mixed(self, tiny):
        facilities = tiny.facilities
        supply, basis = facility_supply(facilities[facilities["id"] == "hosp_d"], "emergency")
        assert (supply.tolist(), basis) == ([40.0], "capacity")
        supply, basis = facility_supply(facilities, "emergency")
        assert (supply.tolist(), basis) == ([1.0, 1.0], "facility")

    def test_supply_honours_the_scenarios_capacity(self, tiny):
        from corridor_planner.bundle.scenario import Scenario

        facilities = tiny.facilities
        assumed = Scenario("more", capacity={"clinic_a": {"emergency": 10.0}})
        supply, basis = facility_supply(facilities, "emergency", assumed)
        assert (sorted(supply.tolist()), basis) == ([10.0, 40.0], "capacity")

    def test_on_the_tiny_corridor(self, tiny_network, baseline_times):
        result = access.e2sfca(baseline_times, "emergency", catchment_min=45)
        by_id = result.set_index("id")
        # one facility (capacity 40): Town D (3 min) is in the first zone (weight 1),
        # Town A (42.5 min) in the last (0.22)
        assert by_id.loc["town_d", "e2sfca_per_1000"] > by_id.loc["town_a", "e2sfca_per_1000"] > 0
        assert set(result["supply_basis"]) == {"capacity"}
