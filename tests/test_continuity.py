"""TB continuity for migrants across the Kazakhstan - Kyrgyzstan border (hand-checked)."""

from __future__ import annotations

import pytest

from corridor_planner.analysis.continuity import continuity_pathways
from corridor_planner.errors import InvalidArgumentError
from corridor_planner.routing.routes import find_route
from corridor_planner.routing.traveltimes import CorridorTravelTimes


@pytest.fixture(scope="module")
def worker_times(almaty_bishkek):
    return CorridorTravelTimes(
        almaty_bishkek, "eaeu_worker", almaty_bishkek.corridor.scenario("baseline")
    )


def test_a_kyrgyz_worker_in_almaty_starts_there_and_follows_up_in_bishkek(
    almaty_bishkek, worker_times
):
    rows = {r.host: r for r in continuity_pathways(worker_times, "KG", "Bishkek")}
    almaty = rows["Almaty"]
    # Kazakhstan treats migrants' TB free (2020 order): the Almaty TB centre takes them
    assert almaty.start_site.startswith("National Scientific Center of Infectious Diseases")
    assert almaty.start_country == "KZ"
    # the way home is the route Almaty -> Bishkek for a worker, through Kordai
    route = find_route(almaty_bishkek, "Almaty", "Bishkek", profile="eaeu_worker")
    assert almaty.home_minutes == pytest.approx(route.minutes, abs=0.1)
    assert almaty.border_posts == ["Kordai (KZ) – Ak-Zhol (KG)"]
    assert almaty.follow_up_site == "National Center of Phthisiology"
    assert almaty.gaps == []
    # no Kyrgyz settlement is a host for Kyrgyz migrants
    assert all(r.host_country == "KZ" for r in rows.values())


def test_mdr_tb_starts_at_home_when_no_host_site_offers_it(worker_times):
    rows = {
        r.host: r for r in continuity_pathways(worker_times, "KG", "Bishkek", specialty="tb_mdr")
    }
    # no Kazakh site offers MDR-TB in the bundle: treatment starts across the border
    assert rows["Almaty"].start_site == "National Center of Phthisiology"
    assert rows["Almaty"].start_country == "KG"


def test_a_country_the_bundle_does_not_know_is_refused(worker_times):
    with pytest.raises(
        InvalidArgumentError, match="UZ is not a country of corridor.*beyond it, TJ"
    ):
        continuity_pathways(worker_times, "UZ", "Tashkent")


def test_a_tajik_worker_in_almaty_goes_home_through_kyzyl_bel(almaty_bishkek):
    """Hand sum: corridor route Almaty - Bishkek, then origins.toml's legs to Dushanbe."""
    times = CorridorTravelTimes(
        almaty_bishkek, "third_country", almaty_bishkek.corridor.scenario("baseline")
    )
    rows = {r.host: r for r in continuity_pathways(times, "TJ", "Dushanbe")}
    almaty = rows["Almaty"]
    # Kazakhstan treats TB free for foreigners up to conversion (order KR DSM-121/2020)
    assert almaty.start_site.startswith("National Scientific Center of Infectious Diseases")
    inside = find_route(almaty_bishkek, "Almaty", "Bishkek", profile="third_country")
    # Bishkek - Batken 780, Kyzyl-Bel 62, Isfara - Khujand 86, Khujand - Dushanbe 420 min
    assert almaty.home_minutes == pytest.approx(inside.minutes + 780 + 62 + 86 + 420, abs=0.1)
    assert almaty.home_km == pytest.approx(inside.km + 840 + 20 + 100 + 330, abs=0.1)
    assert almaty.border_posts == ["Kordai (KZ) – Ak-Zhol (KG)", "Kyzyl-Bel (KG) - Isfara (TJ)"]
    assert almaty.follow_up_site.startswith("Republican Center for the Protection")
    assert almaty.follow_up_minutes == 0
    # a Tajik in Bishkek starts in Almaty: no Kyrgyz TB site takes an uninsured foreigner
    assert rows["Bishkek"].start_country == "KZ"
    # Khujand's follow-up is the Sughd regional hospital for TB, Dushanbe's for MDR-TB
    khujand = continuity_pathways(times, "TJ", "Khujand")[0]
    assert khujand.follow_up_site == "Sughd Regional TB Hospital, Dehmoy"
    mdr = continuity_pathways(times, "TJ", "Khujand", specialty="tb_mdr")[0]
    assert mdr.follow_up_site.startswith("Republican Center") and mdr.follow_up_minutes == 420


def test_with_the_kyrgyz_tajik_border_closed_there_is_no_way_home(almaty_bishkek):
    scenario = almaty_bishkek.corridor.scenario("kg_tj_border_closed")
    times = CorridorTravelTimes(almaty_bishkek, "third_country", scenario)
    rows = continuity_pathways(times, "TJ", "Dushanbe")
    assert rows and all(r.home_minutes is None for r in rows)
    assert all("no way home" in " ".join(r.gaps) for r in rows)


def test_closed_borders_leave_no_way_home_and_say_so(tmp_path):
    from click.testing import CliRunner

    from corridor_planner import cli

    result = CliRunner().invoke(
        cli.main,
        [
            "tb-continuity",
            "almaty_bishkek",
            "--nationality",
            "KG",
            "--home",
            "Bishkek",
            "--scenario",
            "borders_closed",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Almaty: no way home: no route from Almaty to Bishkek" in result.output


def test_continuity_is_for_tb_only(worker_times):
    with pytest.raises(InvalidArgumentError, match="continuity is for tb or tb_mdr, not surgery"):
        continuity_pathways(worker_times, "KG", "Bishkek", specialty="surgery")


@pytest.mark.parametrize("scenario", ["tb_agreement", "cis_migrant_card"])
def test_an_agreement_lets_a_tajik_in_bishkek_start_treatment_there(almaty_bishkek, scenario):
    """Baseline sends him to Almaty; each what-if agreement admits him in Bishkek, by name."""
    times = CorridorTravelTimes(
        almaty_bishkek, "third_country", almaty_bishkek.corridor.scenario(scenario)
    )
    bishkek = next(r for r in continuity_pathways(times, "TJ", "Khujand") if r.host == "Bishkek")
    assert bishkek.start_site == "National Center of Phthisiology"
    expected = {"tb_agreement": "tb_cross_border", "cis_migrant_card": "cis_migrant_card"}
    assert bishkek.start_rule == expected[scenario]


def test_mdr_tb_for_a_tajik_starts_at_home_when_no_corridor_site_takes_him(almaty_bishkek):
    """No corridor site takes an uninsured Tajik for MDR-TB: he starts at Dushanbe's centre."""
    times = CorridorTravelTimes(
        almaty_bishkek, "third_country", almaty_bishkek.corridor.scenario("baseline")
    )
    almaty = next(
        r
        for r in continuity_pathways(times, "TJ", "Khujand", specialty="tb_mdr")
        if r.host == "Almaty"
    )
    assert almaty.start_site.startswith("Republican Center for the Protection")
    assert almaty.start_country == "TJ" and almaty.start_rule == "national"
    # the way home to Khujand, then Khujand - Dushanbe (420 min) to the only MDR-TB site
    assert almaty.start_minutes == pytest.approx(almaty.home_minutes + 420, abs=0.1)
    assert almaty.gaps == []
    assert "treatment starts at home" in almaty.notes[0]
