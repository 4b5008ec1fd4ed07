from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corridor_planner.analysis.assignment import assign
from corridor_planner.analysis.referral import (
    analyse_referrals,
    compare_scenarios,
    pathways,
    referral_chain,
)
from corridor_planner.bundle.corridor import load_corridor
from corridor_planner.bundle.cover_rules import Patient, cover_group, nationality_of
from corridor_planner.errors import AssignmentError
from corridor_planner.network.graph import build_network
from corridor_planner.routing.traveltimes import CorridorTravelTimes
from tests.helpers import append_feature, edit_feature


def times(network, patient, scenario):
    return CorridorTravelTimes(network, patient.profile, scenario)


CARDIO_B = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [75.0, 43.1]},
    "properties": {
        "id": "cardio_b",
        "name": "Cardio B",
        "country": "KZ",
        "level": "national",
        "services": ["cardiology", "emergency"],
        "beds": 20,
        "capacity": {},
        "accepts": {
            "resident_insured": "all",
            "eaeu_worker": ["emergency"],
            "foreign_uninsured": ["emergency"],
        },
        "location_precision_m": 100,
        "source": "test fixture",
    },
}


@pytest.fixture(scope="module")
def referral_corridor(tmp_path_factory):
    """The tiny corridor with a cardiology centre at B (KZ) and cardiology at Hospital D (KG)."""
    import shutil
    from pathlib import Path

    target = tmp_path_factory.mktemp("ref") / "tiny"
    shutil.copytree(Path(__file__).parent / "data" / "tiny_corridor", target)
    edit_feature(
        target,
        "facilities.geojson",
        "hosp_d",
        services=["emergency", "surgery", "cardiology"],
        accepts={"resident_insured": "all", "foreign_insured": "all", "eaeu_worker": ["emergency"]},
    )
    append_feature(target, "facilities.geojson", CARDIO_B)
    # EAEU workers may cross post P like citizens
    edit_feature(
        target,
        "border_posts.geojson",
        "post_p",
        profiles_allowed=["citizen", "eaeu_worker", "third_country", "ambulance"],
        delay_minutes={
            "KZ->KG": {"citizen": 20, "eaeu_worker": 20, "third_country": 60, "ambulance": 5},
            "KG->KZ": {"citizen": 10, "eaeu_worker": 10, "third_country": 60, "ambulance": 5},
        },
    )
    (target / "scenarios" / "agreement.toml").write_text("cover_portable = true\n")
    (target / "scenarios" / "agreement_p_closed.toml").write_text(
        'cover_portable = true\n[posts]\npost_p = "closed"\n'
    )
    (target / "scenarios" / "tight.toml").write_text(
        "[referral_rates]\nsurgery = 100\n[capacity]\nhosp_d = { surgery = 10 }\n"
    )
    network = build_network(load_corridor(target))
    return network


class TestCover:
    def test_groups(self):
        assert cover_group(Patient(), "KZ", "KZ") == "resident_insured"
        assert cover_group(Patient(), "KZ", "KG") == "foreign_uninsured"
        assert cover_group(Patient("eaeu_worker"), "KG", "KZ") == "eaeu_worker"
        assert cover_group(Patient("eaeu_worker"), "PK", "CN") == "foreign_uninsured"
        assert cover_group(Patient(portable_cover=True), "KZ", "KG") == "foreign_insured"

    def test_nationality(self):
        assert nationality_of(Patient(), "KZ", ("KZ", "KG")) == "KZ"
        assert nationality_of(Patient("eaeu_worker"), "KZ", ("KZ", "KG")) == "KG"
        assert nationality_of(Patient("third_country"), "KZ", ("KZ", "KG")) == "--"
        assert nationality_of(Patient("citizen", "KG"), "KZ", ("KZ", "KG")) == "KG"


class TestPathways:
    def test_known_routes(self, referral_corridor):
        corridor = referral_corridor.corridor
        found, refused = pathways(
            times(referral_corridor, Patient(), corridor.scenario("baseline")),
            "cardiology",
            Patient(),
        )
        by_origin = {(p.origin, p.rank): p for p in found}
        # Town A (KZ) is treated at home: Cardio B sits on node B, 7.5 min away
        a1 = by_origin[("Town A", 1)]
        assert (a1.destination, a1.border_posts) == ("Cardio B", [])
        assert a1.minutes == pytest.approx(7.5, abs=0.1)
        # Town D (KG): Hospital D, 3 min; Cardio B refuses an uninsured foreigner
        d1 = by_origin[("Town D", 1)]
        assert d1.destination == "Hospital D" and d1.minutes == pytest.approx(3.0, abs=0.05)
        assert ("Town D", 2) not in by_origin
        assert not refused

    def test_uninsured_worker_gets_emergency_but_not_elective_care_abroad(self, referral_corridor):
        baseline = referral_corridor.corridor.scenario("baseline")
        worker = Patient("eaeu_worker", nationality="KG")
        at_worker = times(referral_corridor, worker, baseline)
        emergency, _ = pathways(at_worker, "emergency", worker, origin="Town A")
        assert {p.destination for p in emergency} == {"Cardio B", "Hospital D"}
        surgery, refused = pathways(at_worker, "surgery", worker, origin="Town A")
        # surgery only at Hospital D, in KG where the worker is insured: across post P
        assert [p.destination for p in surgery] == ["Hospital D"]
        assert surgery[0].border_posts == ["Post P"]
        kz_worker = Patient("eaeu_worker", nationality="KZ")
        _, refused = pathways(at_worker, "surgery", kz_worker, origin="Town D")
        assert (
            "no facility offering surgery accepts a eaeu_worker patient covered in KZ"
            in refused[0].reason
        )

    def test_agreement_opens_cross_border_surgery(self, referral_corridor):
        corridor = referral_corridor.corridor
        baseline = times(referral_corridor, Patient(), corridor.scenario("baseline"))
        found, _ = pathways(baseline, "surgery", Patient(), origin="Town A")
        assert found == []
        agreement = times(referral_corridor, Patient(), corridor.scenario("agreement"))
        found, _ = pathways(agreement, "surgery", Patient(portable_cover=True), origin="Town A")
        assert found[0].cover_group == "foreign_insured"
        assert found[0].minutes == pytest.approx(39.5 + 3.0, abs=0.2)

    def test_barred_post_routes_elsewhere_or_refuses_with_reason(self, referral_corridor):
        corridor = referral_corridor.corridor
        closed = corridor.scenario("agreement_p_closed")
        found, _ = pathways(
            times(referral_corridor, Patient(), closed),
            "surgery",
            Patient(portable_cover=True),
            origin="Town A",
        )
        assert found[0].border_posts == ["Post Q"]
        assert found[0].minutes == pytest.approx(54.5 + 3.0, abs=0.2)
        third = Patient("third_country", portable_cover=True)
        _, refused = pathways(
            times(referral_corridor, third, closed), "surgery", third, origin="Town A"
        )
        assert "can be reached under scenario agreement_p_closed" in refused[0].reason

    def test_chain_by_level(self, referral_corridor):
        worker = Patient("eaeu_worker", "KG")
        steps = referral_chain(
            times(referral_corridor, worker, referral_corridor.corridor.scenario("baseline")),
            "clinic_a",
            "emergency",
            worker,
        )
        levels = {s.level: s for s in steps}
        # district: Hospital D (KG, where the worker is insured) is the only one
        assert levels["district"].abroad == "Hospital D" and levels["district"].domestic is None
        assert levels["national"].domestic == "Cardio B"


class TestAssignment:
    def test_hand_worked_optimum(self):
        # origin 0: 10 patients, 10 or 30 min; origin 1: 5 patients, only receiver 0 (20 min)
        result = assign(
            np.array([10, 5]), np.array([[10, 30], [20, np.inf]]), np.array([8, np.inf])
        )
        np.testing.assert_allclose(result.flows, [[3, 7], [5, 0]])
        assert result.total_minutes == pytest.approx(3 * 10 + 7 * 30 + 5 * 20)
        assert result.uncapacitated_minutes == pytest.approx(10 * 10 + 5 * 20)
        assert result.extra_minutes == pytest.approx(140)
        assert result.overflow.tolist() == [0, 0]

    def test_overflow_when_capacity_runs_out(self):
        result = assign(np.array([10, 5]), np.array([[10, 30], [20, np.inf]]), np.array([8, 3]))
        assert result.overflow.sum() == pytest.approx(4)
        np.testing.assert_allclose(result.flows.sum(axis=0), [8, 3])

    def test_bad_shapes(self):
        with pytest.raises(AssignmentError, match="minutes must be 2 x 1"):
            assign(np.array([1, 2]), np.ones((1, 1)), np.ones(1))

    def test_scenario_capacity_limits_the_flow(self, referral_corridor):
        corridor = referral_corridor.corridor
        analysis = analyse_referrals(
            times(referral_corridor, Patient(), corridor.scenario("tight")), "surgery", Patient()
        )
        # only KG residents can use Hospital D: Town D, 5,000 people x 100 / 100,000 = 5
        assert analysis.rate_per_100k == 100 and analysis.demand == pytest.approx(5 + 10.8)
        assert analysis.assigned == pytest.approx(5)
        assert analysis.unserved == pytest.approx(
            10.8
        )  # Town A and Borderville: nobody accepts them
        (cap,) = analysis.capacity
        assert cap["capacity"] == 10 and cap["assigned"] == pytest.approx(5)
        assert cap["capacity_basis"] == "scenario tight (planning assumption)"


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 6).flatmap(
        lambda n: st.tuples(
            st.lists(st.floats(0, 50), min_size=n, max_size=n),
            st.integers(1, 4).flatmap(
                lambda m: st.tuples(
                    st.lists(
                        st.lists(
                            st.one_of(st.floats(1, 100), st.just(np.inf)), min_size=m, max_size=m
                        ),
                        min_size=n,
                        max_size=n,
                    ),
                    st.lists(st.one_of(st.floats(0, 60), st.just(np.inf)), min_size=m, max_size=m),
                )
            ),
        )
    )
)
def test_assignment_conserves_patients_and_respects_capacity(case):
    demand, (minutes, capacity) = case
    demand, minutes, capacity = np.array(demand), np.array(minutes), np.array(capacity)
    result = assign(demand, minutes, capacity)
    np.testing.assert_allclose(result.flows.sum(axis=1) + result.overflow, demand, atol=1e-6)
    assert (result.flows.sum(axis=0) <= capacity + 1e-6).all()
    assert (result.flows[~np.isfinite(minutes)] == 0).all()
    assert (result.flows >= -1e-9).all() and (result.overflow >= -1e-9).all()


class TestScenarioComparison:
    def test_agreement_scenario_changes_the_comparison(self, referral_corridor):
        # Town A (KZ, 10,000) and Borderville (KZ, 800) have no surgery they may use at home;
        # under the agreement their cover is portable and Hospital D (KG) takes them.
        corridor = referral_corridor.corridor
        runs = [
            times(referral_corridor, Patient(), corridor.scenario(name))
            for name in ("baseline", "agreement")
        ]
        table = compare_scenarios(runs, "surgery", Patient()).set_index(["scenario", "country"])
        assert table.loc[("baseline", "KZ"), "with_pathway"] == 0
        assert table.loc[("agreement", "KZ"), "with_pathway"] == 10_800
        assert table.loc[("agreement", "KZ"), "abroad"] == 10_800
        assert table.loc[("baseline", "KG"), "with_pathway"] == 5_000

    def test_known_first_pathways_give_the_same_comparison(self, referral_corridor):
        # The report hands the reference's own pathways over instead of searching again.
        corridor = referral_corridor.corridor
        runs = [
            times(referral_corridor, Patient(), corridor.scenario(name))
            for name in ("baseline", "agreement")
        ]
        found = analyse_referrals(runs[1], "emergency", Patient(), top=2).pathways
        searched = compare_scenarios(runs, "emergency", Patient())
        reused = compare_scenarios(runs, "emergency", Patient(), known={"agreement": found})
        assert any(p.rank == 2 for p in found)  # only the first-ranked count
        assert reused.to_dict("records") == searched.to_dict("records")
        none = compare_scenarios(runs, "emergency", Patient(), known={"agreement": []})
        assert (none[none["scenario"] == "agreement"]["with_pathway"] == 0).all()
        assert (searched[searched["scenario"] == "agreement"]["with_pathway"] > 0).any()

    def test_report_comparison_follows_the_agreement(self, referral_corridor):
        from corridor_planner.render.report import build_report

        corridor = referral_corridor.corridor
        data = build_report(
            referral_corridor,
            [corridor.scenario("baseline"), corridor.scenario("agreement")],
            ["surgery"],
        )
        rows = {(r["scenario"], r["country"]): r for r in data.specialties[0].comparison}
        assert rows[("baseline", "KZ")]["with_pathway"] == 0
        assert rows[("agreement", "KZ")]["with_pathway"] == 10_800


def _answer(p):
    """What a pathway says whether or not its route was unpacked."""
    waits = [(w["border_post"], w["arrive"], w["wait_minutes"]) for w in p.waits]
    return (p.origin_id, p.rank, p.destination_id, p.minutes, p.border_posts, waits, p.cover_rule)


class TestRouteDetail:
    """Pathways beyond ``detail_limit`` origins come from the matrix, with the same answers."""

    @pytest.mark.parametrize(
        ("scenario", "specialty", "patient"),
        [
            ("baseline", "cardiology", Patient()),
            ("baseline", "emergency", Patient("eaeu_worker", nationality="KG")),
            ("baseline", "surgery", Patient("eaeu_worker", nationality="KG")),
            ("agreement", "surgery", Patient(portable_cover=True)),
            ("agreement_p_closed", "surgery", Patient(portable_cover=True)),
            ("agreement", "emergency", Patient("third_country")),
        ],
    )
    def test_unrouted_pathways_equal_routed_ones(
        self, referral_corridor, scenario, specialty, patient
    ):
        at = times(referral_corridor, patient, referral_corridor.corridor.scenario(scenario))
        routed, refused = pathways(at, specialty, patient, top=3)
        light, light_refused = pathways(at, specialty, patient, top=3, detail_limit=0)
        assert [_answer(p) for p in light] == [_answer(p) for p in routed]
        assert [r.__dict__ for r in light_refused] == [r.__dict__ for r in refused]
        assert all(p.detailed and p.legs and p.geometry is not None for p in routed)
        assert all(not p.detailed and p.km is None and not p.legs for p in light)
        assert all(p.geometry is None for p in light)

    def test_waits_at_a_closed_post_are_the_same(self, referral_corridor):
        # post P is closed; post Q opens at 06:00 on weekdays: leaving at 03:00 means waiting
        import datetime as dt

        closed = referral_corridor.corridor.scenario("agreement_p_closed")
        patient = Patient(portable_cover=True)
        at = CorridorTravelTimes(
            referral_corridor, "citizen", closed, depart=dt.datetime(2026, 6, 1, 3)
        )
        routed, _ = pathways(at, "surgery", patient, origin="Town A")
        light, _ = pathways(at, "surgery", patient, origin="Town A", detail_limit=0)
        assert routed[0].border_posts == ["Post Q"] and routed[0].waits[0]["wait_minutes"] > 0
        assert [_answer(p) for p in light] == [_answer(p) for p in routed]

    def test_limit_routes_the_most_populous_origins(self, referral_corridor):
        corridor = referral_corridor.corridor
        at = times(referral_corridor, Patient(), corridor.scenario("baseline"))
        analysis = analyse_referrals(at, "cardiology", Patient(), detail_limit=2)
        routed = {p.origin for p in analysis.pathways if p.detailed}
        # Town A (10,000 people) and Town D (5,000), not Borderville (800)
        assert routed == {"Town A", "Town D"}
        assert analysis.routed == 2 and len(analysis.pathways) == 3
        assert analysis.detail_note.startswith(
            "km, legs and route lines for 2 of 3 pathways (those of the 2 most populous origins)"
        )
        detail = analysis.to_dict()["detail"]
        assert detail == {"limit": 2, "routed": 2, "pathways": 3, "note": analysis.detail_note}
        borderville = next(p for p in analysis.pathways if p.origin == "Borderville")
        assert (borderville.destination, borderville.minutes) == ("Cardio B", 16.3)
        assert borderville.to_dict()["km"] is None and borderville.to_dict()["detailed"] is False
        unrouted = [
            c for c, p in zip(analysis.costs, analysis.pathways, strict=True) if not p.detailed
        ]
        assert unrouted and all(c.travel is None for c in unrouted)

    def test_limit_leaves_the_assignment_alone(self, referral_corridor):
        tight = referral_corridor.corridor.scenario("tight")
        at = times(referral_corridor, Patient(), tight)
        full = analyse_referrals(at, "surgery", Patient())
        light = analyse_referrals(at, "surgery", Patient(), detail_limit=0)
        assert light.assignment == full.assignment and light.overflow == full.overflow
        assert light.capacity == full.capacity and light.extra_minutes == full.extra_minutes
        assert [_answer(p) for p in light.pathways] == [_answer(p) for p in full.pathways]

    def test_every_route_unpacked_below_the_limit(self, referral_corridor):
        at = times(referral_corridor, Patient(), referral_corridor.corridor.scenario("baseline"))
        analysis = analyse_referrals(at, "cardiology", Patient())
        assert analysis.detail_note is None
        assert analysis.to_dict()["detail"]["routed"] == len(analysis.pathways) == 3


def test_bundled_tb_rates_are_notified_with_estimated_incidence_as_a_scenario():
    """KZ and KG TB rates are both notified cases; the WHO estimate is a scenario (issue 24)."""
    corridor = load_corridor("almaty_bishkek")
    baseline = corridor.scenario("baseline")
    assert corridor.referral_rate("tb", baseline, "KZ") == 34
    assert corridor.referral_rate("tb", baseline, "KG") == 59.8
    estimated = corridor.scenario("tb_estimated_incidence")
    assert corridor.referral_rate("tb", estimated, "KG") == 112
    assert corridor.referral_rate("tb", estimated, "KZ") == 34
