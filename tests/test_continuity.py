"""TB continuity for migrants across the Kazakhstan - Kyrgyzstan border (hand-checked)."""

from __future__ import annotations

import pytest

from corridor_planner.continuity import continuity_pathways
from corridor_planner.errors import InvalidArgumentError
from corridor_planner.routing import find_route
from corridor_planner.traveltimes import CorridorTravelTimes


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


def test_a_country_outside_the_corridor_is_said_to_be_missing(worker_times):
    with pytest.raises(InvalidArgumentError, match="TJ is not a country of corridor"):
        continuity_pathways(worker_times, "TJ", "Dushanbe")


def test_closed_borders_leave_no_way_home_and_say_so(tmp_path):
    from click.testing import CliRunner

    import cli

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
