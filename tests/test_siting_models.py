"""LSCP, LSCP-B, p-center and capacitated p-median: brute force, spopt, known answers."""

from __future__ import annotations

import itertools
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from corridor_planner.analysis.covering import BackupSetCovering, PCenter, SetCovering
from corridor_planner.analysis.siting import CapacitatedPMedian
from corridor_planner.errors import SitingError


def instance(seed, n_demand=14, n_sites=7, n_existing=2):
    rng = np.random.default_rng(seed)
    costs = rng.uniform(0, 100, (n_demand, n_sites))
    costs[rng.random(costs.shape) < 0.15] = np.inf
    weights = rng.integers(1, 50, n_demand).astype(float)
    existing = rng.uniform(20, 200, (n_demand, n_existing))
    return costs, weights, existing


def subsets(n, sizes):
    for size in sizes:
        yield from itertools.combinations(range(n), size)


# brute force -------------------------------------------------------------------------------


def lscp_by_enumeration(costs, weights, threshold, existing):
    already = (existing <= threshold).any(axis=1)
    covers = costs <= threshold
    need = ~already & covers.any(axis=1) & (weights > 0)
    for subset in subsets(costs.shape[1], range(costs.shape[1] + 1)):
        if covers[need][:, list(subset)].any(axis=1).all():
            return len(subset)
    raise AssertionError("a covering set always exists")


def lscpb_by_enumeration(costs, weights, threshold, existing, p):
    covers = costs <= threshold
    base = (existing <= threshold).sum(axis=1)
    rows = (weights > 0) & ((base > 0) | covers.any(axis=1))
    best = -1
    for subset in itertools.combinations(range(costs.shape[1]), p):
        count = base + covers[:, list(subset)].sum(axis=1)
        if (count[rows] >= 1).all():
            best = max(best, int((count[rows] >= 2).sum()))
    return best


def pcenter_by_enumeration(costs, existing, k):
    best = np.inf
    base = existing.min(axis=1)
    reachable = np.isfinite(base) | np.isfinite(costs).any(axis=1)
    for subset in itertools.combinations(range(costs.shape[1]), k):
        nearest = np.minimum(costs[:, list(subset)].min(axis=1), base)
        best = min(best, nearest[reachable].max())
    return best


def capacitated_by_enumeration(costs, weights, k, existing, caps, held):
    """Every subset, every single-source assignment: the least weighted time."""
    matrix = np.column_stack([costs, existing])
    capacity = np.concatenate([caps, held])
    best = np.inf
    n_sites = costs.shape[1]
    for subset in itertools.combinations(range(n_sites), k):
        open_ = [*subset, *range(n_sites, matrix.shape[1])]
        for assignment in itertools.product(open_, repeat=len(weights)):
            load = np.zeros(matrix.shape[1])
            np.add.at(load, list(assignment), weights)
            if (load <= capacity + 1e-9).all():
                total = sum(
                    w * matrix[i, j]
                    for i, (w, j) in enumerate(zip(weights, assignment, strict=True))
                )
                best = min(best, total)
    return best


class TestSetCovering:
    @pytest.mark.parametrize("seed", range(8))
    def test_fewest_sites_as_brute_force(self, seed):
        costs, weights, existing = instance(seed)
        result = SetCovering.from_cost_matrix(costs, weights, 40, existing).solve().result
        assert result.objective == lscp_by_enumeration(costs, weights, 40, existing)
        covered = (existing <= 40).any(axis=1) | (costs[:, result.selected] <= 40).any(axis=1)
        coverable = (existing <= 40).any(axis=1) | (costs <= 40).any(axis=1)
        assert (covered == coverable).all()

    def test_uncoverable_points_are_reported(self):
        costs = np.array([[10.0, 90.0], [90.0, 10.0], [90.0, 90.0], [90.0, 90.0]])
        weights = np.array([5.0, 6.0, 7.0, 0.0])
        result = SetCovering.from_cost_matrix(costs, weights, 30).solve().result
        assert sorted(result.selected) == [0, 1]
        assert result.extra["uncoverable"] == [2]  # row 3 has no people: needs no cover
        assert result.extra["uncoverable_weight"] == 7.0
        assert result.covered_weight == 11.0

    def test_existing_cover_needs_no_site(self):
        costs = np.array([[10.0, 90.0], [90.0, 10.0]])
        existing = np.array([[5.0], [80.0]])
        result = SetCovering.from_cost_matrix(costs, np.ones(2), 30, existing).solve().result
        assert result.selected == [1] and result.objective == 1.0


class TestBackupSetCovering:
    @pytest.mark.parametrize("seed", range(8))
    def test_backup_as_brute_force(self, seed):
        costs, weights, existing = instance(seed)
        problem = BackupSetCovering.from_cost_matrix(costs, weights, 45, existing)
        result = problem.solve().result
        p = lscp_by_enumeration(costs, weights, 45, existing)
        assert result.extra["sites"] == p == len(result.selected)
        assert result.objective == lscpb_by_enumeration(costs, weights, 45, existing, p)

    def test_weighted_backup(self):
        # one site suffices; site 1 backs up the heavy point, site 0 the light ones
        costs = np.array([[10.0, 10.0], [10.0, 90.0], [10.0, 90.0]])
        existing = np.array([[90.0], [20.0], [20.0]])
        weights = np.array([100.0, 1.0, 1.0])
        points = BackupSetCovering.from_cost_matrix(costs, weights, 30, existing).solve()
        assert points.result.selected == [0] and points.result.objective == 2.0
        assert points.result.extra["backup_weight"] == 2.0
        by_weight = BackupSetCovering.from_cost_matrix(costs, weights, 30, existing)
        assert by_weight.solve(measure="weight").result.selected == [0]

    def test_unknown_measure(self):
        with pytest.raises(SitingError, match="unknown measure 'people'"):
            BackupSetCovering.from_cost_matrix(np.ones((2, 2)), np.ones(2), 3).solve(
                measure="people"
            )


class TestPCenter:
    @pytest.mark.parametrize("seed", range(8))
    @pytest.mark.parametrize("k", [1, 2, 3])
    def test_longest_trip_as_brute_force(self, seed, k):
        costs, weights, existing = instance(seed)
        result = PCenter.from_cost_matrix(costs, weights, k, existing).solve().result
        assert result.objective == pytest.approx(pcenter_by_enumeration(costs, existing, k))
        assert len(result.selected) == k

    def test_unreachable_points_are_reported(self):
        costs = np.array([[10.0, 50.0], [40.0, 20.0], [np.inf, np.inf]])
        result = PCenter.from_cost_matrix(costs, np.ones(3), 1).solve().result
        assert result.selected == [0] and result.objective == 40.0
        assert result.extra["unreachable"] == [2]
        assert result.extra["farthest"] == 1

    def test_a_cover_greedy_misses_is_found_exactly(self):
        """Within 10 min greedy takes site 2 (four rows) first and needs three sites; sites
        0 and 1 cover everyone. Without the exact cover the answer would be 15 (sites 2, 0)."""
        costs = np.array(
            [
                [10.0, 100.0, 1.0],
                [10.0, 100.0, 1.0],
                [10.0, 100.0, 100.0],
                [100.0, 10.0, 1.0],
                [100.0, 10.0, 1.0],
                [100.0, 10.0, 15.0],
            ]
        )
        result = PCenter.from_cost_matrix(costs, np.ones(6), 2).solve().result
        assert result.objective == 10.0 and sorted(result.selected) == [0, 1]

    def test_more_separate_points_than_sites_is_infeasible(self):
        costs = np.array([[10.0, np.inf], [np.inf, 10.0]])
        with pytest.raises(SitingError, match="infeasible: no choice of 1 sites reaches"):
            PCenter.from_cost_matrix(costs, np.ones(2), 1).solve()


class TestCapacitatedPMedian:
    @pytest.mark.parametrize("seed", range(6))
    def test_least_time_as_brute_force(self, seed):
        rng = np.random.default_rng(100 + seed)
        costs, _, existing = instance(seed, n_demand=6, n_sites=4, n_existing=1)
        weights = rng.integers(1, 10, 6).astype(float)
        caps = rng.integers(5, 25, 4).astype(float)
        held = np.array([8.0])
        expected = capacitated_by_enumeration(costs, weights, 2, existing, caps, held)
        problem = CapacitatedPMedian.from_cost_matrix(costs, weights, 2, existing, caps, held)
        if not np.isfinite(expected):
            with pytest.raises(SitingError, match="infeasible"):
                problem.solve()
            return
        result = problem.solve().result
        assert result.objective == pytest.approx(expected)
        assert all(
            s <= c + 1e-9
            for s, c in zip(result.extra["served"], result.extra["capacity"], strict=True)
        )
        assert sum(result.extra["served"]) + sum(result.extra["existing_served"]) == pytest.approx(
            weights.sum()
        )

    def test_split_assignment_never_costs_more(self):
        costs, weights, existing = instance(3, n_demand=12, n_sites=6)
        caps = np.full(6, weights.sum() / 3)
        whole = CapacitatedPMedian.from_cost_matrix(costs, weights, 3, existing, caps, [50, 50])
        split = CapacitatedPMedian.from_cost_matrix(
            costs, weights, 3, existing, caps, [50, 50], single_source=False
        )
        assert split.solve().result.objective <= whole.solve().result.objective + 1e-9

    def test_infeasible_capacity_is_a_clear_error(self):
        with pytest.raises(SitingError, match="the 1 sites with the highest capacity"):
            CapacitatedPMedian.from_cost_matrix(np.ones((3, 2)), np.ones(3), 1, capacities=[2, 1])

    def test_unreachable_demand_is_a_clear_error(self):
        costs = np.array([[1.0, 2.0], [np.inf, np.inf]])
        with pytest.raises(SitingError, match="demand rows 1 .* reach no site"):
            CapacitatedPMedian.from_cost_matrix(costs, np.ones(2), 1, capacities=[5, 5])

    def test_fulfilling_more_than_the_demand_is_refused(self):
        with pytest.raises(SitingError, match="at most the total demand"):
            CapacitatedPMedian.from_cost_matrix(
                np.ones((2, 2)), np.ones(2), 1, np.ones((2, 1)), [5, 5], [3.0], True
            )

    def test_single_source_infeasible_after_solving(self):
        # capacities add up, but no single-source assignment fits: 3 + 3 into 4 and 2
        problem = CapacitatedPMedian.from_cost_matrix(
            np.ones((2, 2)), np.array([3.0, 3.0]), 2, capacities=[4, 2]
        )
        with pytest.raises(SitingError, match="each demand point whole to one facility"):
            problem.solve()
        split = CapacitatedPMedian.from_cost_matrix(
            np.ones((2, 2)), np.array([3.0, 3.0]), 2, capacities=[4, 2], single_source=False
        )
        assert split.solve().result.objective == pytest.approx(6.0)


# spopt as the reference --------------------------------------------------------------------

spopt = pytest.importorskip("spopt.locate")
pulp = pytest.importorskip("pulp")
CBC = pulp.PULP_CBC_CMD(msg=False)


def combined(costs, existing, big=1e6):
    matrix = np.column_stack([existing, costs])
    matrix[~np.isfinite(matrix)] = big
    return matrix, np.arange(existing.shape[1])


def fully_reachable(seed, **sizes):
    costs, weights, existing = instance(seed, **sizes)
    costs[~np.isfinite(costs)] = 150.0
    return costs, weights, existing


class TestAgreementWithSpopt:
    """spopt fixes existing facilities as predefined columns of one matrix."""

    @pytest.mark.parametrize("seed", range(4))
    def test_lscp(self, seed):
        costs, _, existing = fully_reachable(seed, n_demand=60, n_sites=15)
        ours = SetCovering.from_cost_matrix(costs, np.ones(60), 60, existing).solve().result
        matrix, pre = combined(costs, existing)
        theirs = spopt.LSCP.from_cost_matrix(matrix, 60, predefined_facilities_arr=pre).solve(CBC)
        assert ours.objective + len(pre) == pulp.value(theirs.problem.objective)

    @pytest.mark.parametrize("seed", range(4))
    def test_lscpb(self, seed):
        costs, _, existing = fully_reachable(seed, n_demand=60, n_sites=15)
        ours = BackupSetCovering.from_cost_matrix(costs, np.ones(60), 60, existing).solve().result
        matrix, pre = combined(costs, existing)
        theirs = spopt.LSCPB.from_cost_matrix(
            matrix, 60, pulp.PULP_CBC_CMD(msg=False), predefined_facilities_arr=pre
        ).solve()
        assert ours.objective == pytest.approx(pulp.value(theirs.problem.objective))
        assert ours.extra["sites"] + len(pre) == theirs.lscp_obj_value

    @pytest.mark.parametrize("seed", range(4))
    def test_pcenter(self, seed):
        costs, weights, existing = fully_reachable(seed, n_demand=50, n_sites=12)
        ours = PCenter.from_cost_matrix(costs, weights, 3, existing).solve().result
        matrix, pre = combined(costs, existing)
        theirs = spopt.PCenter.from_cost_matrix(
            matrix, 3 + len(pre), predefined_facilities_arr=pre
        ).solve(CBC)
        assert ours.objective == pytest.approx(pulp.value(theirs.problem.objective))

    @pytest.mark.parametrize("seed", range(4))
    @pytest.mark.parametrize("fulfill", [False, True])
    def test_capacitated_pmedian(self, seed, fulfill):
        costs, weights, existing = fully_reachable(seed, n_demand=30, n_sites=8)
        rng = np.random.default_rng(seed)
        caps = rng.integers(200, 400, 8).astype(float)
        held = np.array([60.0, 80.0]) if fulfill else rng.integers(100, 300, 2).astype(float)
        ours = CapacitatedPMedian.from_cost_matrix(
            costs, weights, 3, existing, caps, held, fulfill_existing=fulfill
        ).solve()
        matrix, pre = combined(costs, existing)
        theirs = spopt.PMedian.from_cost_matrix(
            matrix,
            weights,
            3 + len(pre),
            predefined_facilities_arr=pre,
            facility_capacities=np.concatenate([held, caps]),
            fulfill_predefined_fac=fulfill,
        ).solve(CBC)
        assert ours.result is not None
        assert ours.result.objective == pytest.approx(
            pulp.value(theirs.problem.objective), rel=1e-9
        )


spaghetti = pytest.importorskip("spaghetti")


@pytest.fixture(scope="module")
def lattice():
    """spopt's test instance: 100 clients and 5 facilities on a 10 x 10 street lattice."""
    import warnings

    import geopandas
    from spopt.locate.util import simulated_geo_points

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        network = spaghetti.Network(
            in_data=spaghetti.regular_lattice((0, 0, 10, 10), 9, exterior=True)
        )
        arcs = spaghetti.element_as_gdf(network, arcs=True)
        street = geopandas.GeoDataFrame(
            geopandas.GeoSeries(arcs["geometry"].buffer(0.2).union_all()),
            crs=arcs.crs,
            columns=["geometry"],
        )
        clients = simulated_geo_points(street, needed=100, seed=5)
        network.snapobservations(clients, "clients", attribute=True)
        facilities = simulated_geo_points(street, needed=5, seed=6)
        network.snapobservations(facilities, "facilities", attribute=True)
        snapped = {
            name: spaghetti.element_as_gdf(network, pp_name=name, snapped=True)
            for name in ("clients", "facilities")
        }
    return snapped


class TestSpoptKnownAnswers:
    def test_pcenter_lattice_with_fixed_sites(self, lattice):
        """spopt's test_pcenter_preselected...: 3 sites, 3 and 4 fixed, 6.2520432."""
        xy = {n: np.column_stack([g.geometry.x, g.geometry.y]) for n, g in lattice.items()}
        distances = np.linalg.norm(xy["clients"][:, None, :] - xy["facilities"][None], axis=2)
        free, fixed = [0, 1, 2], [3, 4]
        result = (
            PCenter.from_cost_matrix(distances[:, free], np.ones(100), 1, distances[:, fixed])
            .solve()
            .result
        )
        assert result.objective == pytest.approx(6.2520432)
        assert result.selected == [2]  # spopt's y_2_, y_3_, y_4_


def spopt_test_data(name: str) -> Path | None:
    """A data file of spopt's own test suite, read from its git directory (``SPOPT_REPO``)."""
    repo = os.environ.get("SPOPT_REPO", "/work/.mirror/pysal+spopt/repo")
    path = f"HEAD:spopt/tests/test_locate/data/{name}"
    try:
        text = subprocess.run(
            ["git", "--git-dir", repo, "show", path],
            capture_output=True,
            check=True,
            text=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    out = Path(os.environ.get("TMPDIR", "/tmp")) / f"spopt-{name}"
    out.write_text(text)
    return out


@pytest.fixture(scope="module")
def schools():
    """spopt's real-world capacitated p-median instance: students to schools."""
    import pandas as pd

    files = [
        spopt_test_data(n)
        for n in (
            "example_subject_student_school_journeys.csv",
            "example_subject_students.csv",
            "example_subject_schools.csv",
        )
    ]
    if any(f is None for f in files):
        pytest.skip("spopt's test data is not at hand (set SPOPT_REPO to its git dir)")
    journeys, students, schools = (pd.read_csv(f) for f in files)  # type: ignore[arg-type]
    costs = (
        journeys.pivot_table(
            columns="school", fill_value=10000, index="student", sort=False, values="time"
        )
        .astype(int)
        .to_numpy(dtype=float)
    )
    return costs, np.ones(len(students)), schools


class TestSpoptSchools:
    """spopt's real-world capacitated p-median: students to schools, mean time 87.2."""

    def test_mean_time_with_priority_schools_fixed(self, schools):
        costs, demand, table = schools
        fixed = np.flatnonzero(table["priority"].to_numpy() == 1)
        free = np.setdiff1d(np.arange(costs.shape[1]), fixed)
        caps = table["Count"].to_numpy(dtype=float)
        result = (
            CapacitatedPMedian.from_cost_matrix(
                costs[:, free],
                demand,
                10 - len(fixed),
                costs[:, fixed],
                caps[free],
                caps[fixed],
                fulfill_existing=True,
            )
            .solve()
            .result
        )
        assert round(result.extra["mean_time"], 1) == 87.2

    def test_priority_three_schools_cannot_be_filled(self, schools):
        costs, demand, table = schools
        fixed = np.flatnonzero(table["priority"].to_numpy() == 3)
        free = np.setdiff1d(np.arange(costs.shape[1]), fixed)
        caps = table["Count"].to_numpy(dtype=float)
        with pytest.raises(SitingError, match="at most the total demand"):
            CapacitatedPMedian.from_cost_matrix(
                costs[:, free],
                demand,
                max(1, 10 - len(fixed)),
                costs[:, fixed],
                caps[free],
                caps[fixed],
                True,
            )


# score-sites on the tiny corridor ------------------------------------------------------------


def corridor_times(network, scenario):
    from corridor_planner.routing.traveltimes import CorridorTravelTimes

    return CorridorTravelTimes(network, "citizen", network.corridor.scenario(scenario))


class TestScoreSites:
    """Hospital D (KG, capacity 40) exists; Site B (KZ) is the only candidate."""

    def test_lscp_needs_no_site_with_open_borders(self, tiny_network):
        from corridor_planner.analysis.scoring import score_sites

        scores = score_sites(
            corridor_times(tiny_network, "baseline"), "emergency", 60, 1, method="lscp"
        )
        assert scores.result.objective == 0 and scores.sites.empty

    def test_lscp_and_lscpb_with_borders_closed(self, tiny_network):
        from corridor_planner.analysis.scoring import score_sites

        closed = corridor_times(tiny_network, "borders_closed")
        lscp = score_sites(closed, "emergency", 60, 1, method="lscp")
        assert lscp.result.objective == 1 and lscp.sites["id"].tolist() == ["cand_b"]
        assert lscp.sites["newly_covered"].tolist() == [10_000 + 800]
        backup = score_sites(closed, "emergency", 60, 1, method="lscpb")
        assert backup.result.extra["sites"] == 1 and backup.result.extra["backup_points"] == 0

    def test_pcenter_is_the_longest_nearest_trip(self, tiny_network):
        from corridor_planner.analysis.access import offering, settlements_on_network
        from corridor_planner.analysis.scoring import candidates_for, score_sites

        times = corridor_times(tiny_network, "baseline")
        scores = score_sites(times, "emergency", 60, 1, method="pcenter")
        nodes = [
            *candidates_for(tiny_network, "emergency")["node"],
            *offering(tiny_network, "emergency")["node"],
        ]
        origins = list(settlements_on_network(tiny_network)["node"])
        longest = (times.matrix(origins, nodes) / 60).min(axis=1).max()
        assert scores.result.objective == pytest.approx(longest)

    def test_capacitated_pmedian(self, tiny_copy):
        from corridor_planner import build_network, load_corridor
        from corridor_planner.analysis.scoring import score_sites
        from tests.helpers import edit_feature

        # Hospital D can serve 40 people (service_capacity, people; its capacity in patients a
        # year is another quantity and never a siting limit)
        edit_feature(tiny_copy, "facilities.geojson", "hosp_d", service_capacity={"emergency": 40})
        tiny_network = build_network(load_corridor(tiny_copy))
        baseline = corridor_times(tiny_network, "baseline")
        scores = score_sites(
            baseline, "emergency", 60, 1, method="pmedian-capacitated", service_capacity=20_000
        )
        # Hospital D takes 40: no settlement fits there whole, so Site B serves everyone
        assert scores.sites["served"].tolist() == [15_800]
        assert scores.result.extra["existing_served"] == {"hosp_d": 0.0}
        assert scores.result.extra["uncapacitated_existing"] == []
        closed = corridor_times(tiny_network, "borders_closed")
        with pytest.raises(SitingError, match="infeasible"):
            score_sites(
                closed, "emergency", 60, 1, method="pmedian-capacitated", service_capacity=20_000
            )

    def test_capacitated_pmedian_never_reads_patients_a_year_as_people(self, tiny_network):
        from corridor_planner.analysis.scoring import score_sites

        # the shipped Hospital D gives capacity 40 patients a year and no service_capacity:
        # it is not limited, and the result says so
        baseline = corridor_times(tiny_network, "baseline")
        scores = score_sites(
            baseline, "emergency", 60, 1, method="pmedian-capacitated", service_capacity=20_000
        )
        assert scores.result.extra["uncapacitated_existing"] == ["hosp_d"]
        assert scores.result.extra["existing_served"]["hosp_d"] > 40
