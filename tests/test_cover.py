"""Cover rules as data: cover.toml, scenarios switching agreements, the rule each decision cites."""

from __future__ import annotations

import pytest

from corridor_planner.analysis.referral import analyse_referrals, pathways
from corridor_planner.bundle.corridor import load_corridor
from corridor_planner.bundle.cover_rules import (
    DEFAULT_RULES,
    Patient,
    active_rules,
    admits,
    cover_group,
)
from corridor_planner.bundle.scenario import Scenario
from corridor_planner.errors import DataError
from corridor_planner.network.graph import build_network
from corridor_planner.routing.traveltimes import CorridorTravelTimes
from tests.helpers import edit_feature

SURGERY_DEAL = """
[[rule]]
id = "national"
name = "National cover"
group = "resident_insured"
where = "home"
source = "test"

[[rule]]
id = "surgery_deal"
name = "KZ-KG surgery agreement"
group = "foreign_insured"
where = "abroad"
nationalities = ["KZ"]
facility_countries = ["KG"]
services = ["surgery"]
active = false
source = "test"
"""


@pytest.fixture
def deal_bundle(tiny_copy):
    accepts = {"resident_insured": "all", "foreign_insured": "all", "eaeu_worker": ["emergency"]}
    edit_feature(tiny_copy, "facilities.geojson", "hosp_d", accepts=accepts)
    (tiny_copy / "cover.toml").write_text(SURGERY_DEAL, encoding="utf-8")
    (tiny_copy / "scenarios" / "deal.toml").write_text(
        'description = "deal"\nagreements = ["surgery_deal"]\n', encoding="utf-8"
    )
    return tiny_copy


def test_default_rules_reproduce_the_built_in_cover():
    citizen, worker = Patient(), Patient("eaeu_worker")
    assert cover_group(citizen, "KZ", "KZ") == "resident_insured"
    assert cover_group(citizen, "KZ", "KG") == "foreign_uninsured"
    assert cover_group(worker, "KG", "KZ") == "eaeu_worker"
    assert cover_group(Patient(portable_cover=True), "KZ", "KG") == "foreign_insured"
    assert cover_group(worker, "PK", "KZ") == "foreign_uninsured"  # not an EAEU national


def test_every_decision_names_its_rule():
    decision = admits(
        Patient("eaeu_worker"),
        "KZ",
        "KZ",
        {"eaeu_worker": ["emergency"]},
        "emergency",
        ("KZ", "KG"),
    )
    # an eaeu_worker at Kordai (KZ) is a KG national: abroad in KZ, under Art. 98
    assert (decision.admitted, decision.group, decision.rule) == (True, "eaeu_worker", "eaeu_art98")
    refused = admits(
        Patient(), "KZ", "KG", {"foreign_uninsured": ["emergency"]}, "surgery", ("KZ", "KG")
    )
    assert (refused.admitted, refused.rule) == (False, "none")


def test_an_agreement_applies_only_when_a_scenario_switches_it_on(deal_bundle):
    corridor = load_corridor(deal_bundle)
    network = build_network(corridor)
    for name, expected in (("baseline", []), ("deal", ["Hospital D"])):
        times = CorridorTravelTimes(network, "citizen", corridor.scenario(name))
        found, refused = pathways(times, "surgery", Patient(), origin="Town A")
        assert [p.destination for p in found] == expected
        if expected:
            assert (found[0].cover_rule, found[0].cover_group) == (
                "surgery_deal",
                "foreign_insured",
            )
            assert found[0].minutes == pytest.approx(39.5 + 3.0, abs=0.2)
        else:
            assert "cover applied: No cover rule applies (uninsured)" in refused[0].reason


def test_the_agreement_covers_only_its_services(deal_bundle):
    corridor = load_corridor(deal_bundle)
    rules = active_rules(corridor.cover_rules, Patient(), corridor.scenario("deal"))
    accepts = {"foreign_insured": "all", "foreign_uninsured": []}
    assert admits(Patient(), "KZ", "KG", accepts, "surgery", ("KZ", "KG"), rules).admitted
    assert not admits(Patient(), "KZ", "KG", accepts, "emergency", ("KZ", "KG"), rules).admitted


def test_analysis_lists_the_rules_in_force(deal_bundle):
    corridor = load_corridor(deal_bundle)
    network = build_network(corridor)
    times = CorridorTravelTimes(network, "citizen", corridor.scenario("deal"))
    analysis = analyse_referrals(times, "surgery", Patient(), rate_per_100k=100)
    assert analysis.rules_in_force == [
        "national: National cover",
        "surgery_deal: KZ-KG surgery agreement",
    ]
    assert analysis.to_dict()["cover_rules_in_force"] == analysis.rules_in_force


RULE = '[[rule]]\nid = "x"\nname = "x"\nsource = "s"\n'


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            RULE + 'group = "vip"',
            "cover.toml: x: group: unknown cover group 'vip'",
        ),
        (
            RULE + 'group = "foreign_insured"\nwhere = "moon"',
            "cover.toml: x: where: unknown place 'moon'",
        ),
        (
            RULE + 'group = "foreign_insured"\nservices = ["massage"]',
            "cover.toml: x: services: unknown service 'massage'",
        ),
        (
            RULE + 'group = "foreign_insured"\nnationalities = ["kz"]',
            "cover.toml: x: nationalities: 'kz' is not an ISO 3166 alpha-2 code",
        ),
        ("rule = 3", "cover.toml: -: rule: must be a list of [[rule]] tables"),
    ],
)
def test_bad_cover_rules_are_refused(tiny_copy, text, problem):
    (tiny_copy / "cover.toml").write_text(text + "\n", encoding="utf-8")
    with pytest.raises(DataError, match="problem") as info:
        load_corridor(tiny_copy)
    assert problem in str(info.value)


def test_a_scenario_naming_an_unknown_agreement_is_refused(tiny_copy):
    (tiny_copy / "scenarios" / "odd.toml").write_text(
        'agreements = ["nothing"]\n', encoding="utf-8"
    )
    with pytest.raises(
        DataError, match=r"scenarios/odd.toml: -: agreements: no cover rule 'nothing'"
    ):
        load_corridor(tiny_copy)


def test_bundled_tb_agreement_admits_a_tajik_migrant(almaty_bishkek):
    corridor = almaty_bishkek.corridor
    patient = Patient("third_country", nationality="TJ")
    results = {}
    for name in ("baseline", "tb_agreement"):
        times = CorridorTravelTimes(almaty_bishkek, "third_country", corridor.scenario(name))
        found, _ = pathways(times, "tb_mdr", patient, origin="Kordai")
        results[name] = [(p.destination, p.cover_rule) for p in found]
    assert results["baseline"] == []
    assert results["tb_agreement"] == [("National Center of Phthisiology", "tb_cross_border")]


def test_default_rules_are_ordered_national_first():
    assert [r.id for r in DEFAULT_RULES] == ["national", "portable", "eaeu_art98"]
    assert [r.id for r in active_rules(DEFAULT_RULES, Patient(), Scenario("s"))] == [
        "national",
        "eaeu_art98",
    ]


class TestPayers:
    def test_who_pays_decides_for_covered_and_uncovered_patients(self):
        from corridor_planner.bundle.cover_rules import pays

        assert pays(None, "resident_insured")  # not recorded: no restriction
        assert not pays(["private_insurance", "out_of_pocket"], "resident_insured")
        assert pays(["private_insurance", "out_of_pocket"], "foreign_uninsured")
        assert pays(["public"], "eaeu_worker") and not pays(["public"], "foreign_uninsured")
        assert pays(["free"], "resident_insured") and pays(["free"], "foreign_uninsured")

    @pytest.fixture
    def private_bundle(self, tiny_copy):
        # Hospital D (KG) becomes a private hospital that takes no public cover
        edit_feature(
            tiny_copy,
            "facilities.geojson",
            "hosp_d",
            operator="private",
            payers=["private_insurance", "out_of_pocket"],
        )
        (tiny_copy / "scenarios" / "private_engaged.toml").write_text(
            'description = "Hospital D contracted"\ncontracts = ["hosp_d"]\n', encoding="utf-8"
        )
        return load_corridor(tiny_copy)

    def test_an_uncontracted_private_hospital_refuses_covered_patients(self, private_bundle):
        network = build_network(private_bundle)
        baseline = CorridorTravelTimes(network, "citizen", private_bundle.scenario("baseline"))
        found, refused = pathways(baseline, "emergency", Patient(), origin="Town D")
        assert found == [] and "not contracted by the public payer" in refused[0].reason
        # the same hospital, contracted by the public payer: Town D's 3-minute pathway
        engaged = CorridorTravelTimes(
            network, "citizen", private_bundle.scenario("private_engaged")
        )
        found, refused = pathways(engaged, "emergency", Patient(), origin="Town D")
        assert [(p.destination, round(p.minutes)) for p in found] == [("Hospital D", 3)]

    def test_contracts_name_real_facilities(self, tiny_copy):
        (tiny_copy / "scenarios" / "private_engaged.toml").write_text(
            'contracts = ["no_such_hospital"]\n', encoding="utf-8"
        )
        with pytest.raises(DataError, match="private_engaged.toml: no_such_hospital: contracts"):
            load_corridor(tiny_copy)

    def test_bundled_private_scenarios_change_what_they_should(self, gwadar):
        baseline = CorridorTravelTimes(gwadar, "citizen", gwadar.corridor.scenario("baseline"))
        engaged = CorridorTravelTimes(
            gwadar, "citizen", gwadar.corridor.scenario("private_engaged")
        )
        # oncology on the Makran coast: only the Aga Khan University Hospital (private)
        assert pathways(baseline, "oncology", Patient())[0] == []
        found, _ = pathways(engaged, "oncology", Patient())
        assert {p.destination for p in found} == {"Aga Khan University Hospital, Karachi"}
        # emergency care, which public and free hospitals give, does not change
        before, _ = pathways(baseline, "emergency", Patient())
        after, _ = pathways(engaged, "emergency", Patient())
        assert [(p.origin, p.destination) for p in before] == [
            (p.origin, p.destination) for p in after
        ]


def test_cover_line_states_the_rules_given_not_the_defaults():
    from corridor_planner.bundle.cover_rules import CoverRule, Patient, describe_cover

    rules = [
        CoverRule(id="home", name="Own cover", group="resident_insured", where="home"),
        CoverRule(
            id="deal",
            name="Bilateral deal",
            group="foreign_insured",
            where="abroad",
            facility_countries=frozenset({"KZ"}),
        ),
        CoverRule(
            id="workers",
            name="Workers only",
            group="eaeu_worker",
            where="abroad",
            profiles=frozenset({"eaeu_worker"}),
        ),
    ]
    assert describe_cover(Patient("citizen"), rules) == (
        "cover of the country they live in; at home: Own cover; abroad: Bilateral deal "
        "(valid in KZ); otherwise what each facility accepts of uninsured foreigners"
    )
    assert describe_cover(Patient("citizen"), []) == (
        "cover of the country they live in; at home: no rule in force; abroad: what each "
        "facility accepts of uninsured foreigners"
    )
