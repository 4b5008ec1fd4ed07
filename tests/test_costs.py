"""Who pays: charges by country, cover group and service; fares; out-of-pocket exposure."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from corridor_planner.bundle.corridor import load_corridor
from corridor_planner.bundle.costs import (
    Charge,
    CostBook,
    Fare,
    exposure_by_group,
    pathway_costs,
    read_cost_book,
)
from corridor_planner.errors import DataError


def charge(services, amount, groups=("resident_insured",)):
    return Charge(
        "KG", frozenset(groups), frozenset(services), amount, "KGS", None, "w", "FOMS", "s", "S"
    )


BOOK = CostBook(
    charges=(charge(["all"], 840), charge(["surgery"], 1090)),
    fares=(Fare("KG", 2.1, "KGS", 2023, "bus", "s", "E"),),
)


def path(origin, km, group="resident_insured", country="KG"):
    return SimpleNamespace(
        origin=origin,
        destination="Hospital",
        origin_country=country,
        destination_country="KG",
        cover_group=group,
        km=km,
    )


def test_a_service_charge_wins_over_the_general_one():
    assert BOOK.charge("KG", "resident_insured", "surgery").amount == 1090
    assert BOOK.charge("KG", "resident_insured", "oncology").amount == 840
    assert BOOK.charge("KG", "foreign_uninsured", "surgery") is None
    assert BOOK.charge("KZ", "resident_insured", "surgery") is None


def test_pathway_costs_care_and_the_return_fare():
    kant, almaty = pathway_costs(
        [path("Kant", 20), path("Almaty", 242, country="KZ")], BOOK, "surgery"
    )
    assert (kant.care, kant.care_currency, kant.rest_paid_by) == (1090, "KGS", "FOMS")
    assert kant.travel == 84  # 2 x 20 km x 2.1 som
    # no fare is known in Kazakhstan: said, not guessed
    assert almaty.travel is None and almaty.care == 1090


def test_exposure_counts_people_by_what_they_pay():
    costs = pathway_costs(
        [path("A", 10), path("B", 10, group="foreign_uninsured"), path("A", 30)], BOOK, "surgery"
    )
    rows = {r["group"]: r for r in exposure_by_group(costs, {"A": 1000, "B": 50})}
    assert rows["resident_insured"] == {
        "group": "resident_insured",
        "people": 1000,  # A counted once, for its first pathway
        "charged": 1000,
        "free": 0,
        "unknown": 0,
        "charges": [(1090.0, "KGS")],  # amount and currency: the report formats them
    }
    assert rows["foreign_uninsured"]["unknown"] == 50


@pytest.mark.parametrize(
    ("entry", "field", "complaint"),
    [
        ({"amount": float("inf")}, "amount", "must be"),
        ({"currency": "som"}, "currency", "ISO 4217"),
        ({"groups": ["tourists"]}, "groups", "unknown cover group 'tourists'"),
        ({"country": "XX"}, "country", "must be one of"),
    ],
)
def test_bad_charges_are_named(entry, field, complaint):
    good = {
        "country": "KG",
        "groups": ["resident_insured"],
        "services": ["all"],
        "amount": 840,
        "currency": "KGS",
        "what": "co-payment",
        "rest_paid_by": "FOMS",
        "source": "s",
        "confidence": "S",
    }
    _, problems = read_cost_book({"charge": [good | entry]}, ["KZ", "KG"])
    assert [(p.feature, p.field) for p in problems] == [("charge #0", field)]
    assert complaint in problems[0].message


def test_a_bundle_with_a_broken_costs_file_does_not_load(tiny_copy):
    (tiny_copy / "costs.toml").write_text('[[fare]]\ncountry = "KZ"\nper_km = -1\n', "utf-8")
    with pytest.raises(DataError, match="costs.toml: fare #0: per_km"):
        load_corridor(tiny_copy)


def test_bundled_kordai_worker_pays_the_kyrgyz_co_payment(almaty_bishkek):
    from corridor_planner.analysis.referral import analyse_referrals
    from corridor_planner.bundle.cover_rules import Patient
    from corridor_planner.routing.traveltimes import CorridorTravelTimes

    times = CorridorTravelTimes(
        almaty_bishkek, "eaeu_worker", almaty_bishkek.corridor.scenario("baseline")
    )
    analysis = analyse_referrals(times, "surgery", Patient("eaeu_worker"), top=1)
    by_origin = {c.origin: c for c in analysis.costs}
    # a Kyrgyz worker in Kordai is referred home to Bishkek, insured: 1,090 som co-payment
    kordai = by_origin["Kordai"]
    assert (kordai.care, kordai.care_currency) == (1090, "KGS")
    assert kordai.rest_paid_by == "Mandatory Health Insurance Fund (FOMS)"
    assert kordai.travel is None  # no per-seat fare in tenge is sourced
    assert len(analysis.to_dict()["costs"]) == len(analysis.pathways)


def test_a_free_hospital_costs_nothing_whatever_the_country_charges(gwadar):
    from corridor_planner.analysis.referral import analyse_referrals
    from corridor_planner.bundle.cover_rules import Patient
    from corridor_planner.routing.traveltimes import CorridorTravelTimes

    times = CorridorTravelTimes(gwadar, "citizen", gwadar.corridor.scenario("baseline"))
    costs = {c.origin: c for c in analyse_referrals(times, "emergency", Patient(), top=1).costs}
    # Pasni's nearest emergency care is the GDA Pak-China Friendship Hospital, run free
    pasni = costs["Pasni"]
    assert pasni.destination.startswith("GDA Pak-China Friendship Hospital")
    assert pasni.care == 0 and pasni.rest_paid_by.startswith("nobody")
    # return fare: 2 x 135 km (Pasni - Gwadar) x PKR 5.6, plus the short access legs
    assert pasni.travel == pytest.approx(2 * 135 * 5.6, rel=0.02)
    # Hub's government hospital: the Balochistan Health Card pays
    assert costs["Hub"].rest_paid_by == "Balochistan Health Card (provincial government)"


@pytest.mark.parametrize(
    ("text", "field", "complaint"),
    [
        (
            '[[charge]]\ncountry = "KG"\ngroups = [["resident_insured"]]\n',
            "groups",
            "unknown cover group",
        ),
        ("[[chrage]]\n", "chrage", "unknown key `chrage`; did you mean `charge`?"),
        ("[[fare]]\namonut = 5\n", "amonut", "unknown key `amonut` (known: "),
        (
            '[[exposure]]\ncountry = "ZZ"\nshare = 0.3\nyear = 2022\nsource = "s"\n',
            "country",
            "must be one of",
        ),
    ],
)
def test_typos_in_costs_are_named_not_dropped(tiny_copy, text, field, complaint):
    (tiny_copy / "costs.toml").write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_corridor(tiny_copy)
    assert any(p.field == field and complaint in p.message for p in caught.value.problems)


def test_two_charges_that_disagree_are_refused():
    entry = {
        "country": "KG",
        "groups": ["resident_insured"],
        "services": ["surgery"],
        "currency": "KGS",
        "what": "w",
        "rest_paid_by": "FOMS",
        "source": "s",
        "confidence": "S",
    }
    _, problems = read_cost_book(
        {"charge": [entry | {"amount": 1090}, entry | {"amount": 99_999}]}, ["KG"]
    )
    assert [p.field for p in problems] == ["amount"] and "disagree" in problems[0].message
