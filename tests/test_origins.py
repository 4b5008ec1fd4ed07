"""Countries of origin beyond the corridor (origins.toml): the way home and follow-up.

A tiny corridor (KZ, KG) gets a made-up Tajikistan beyond it, with hand-set leg times, so
every answer is the corridor route to the exit plus a sum done by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from corridor_planner.analysis.continuity import continuity_pathways, migrant_profile
from corridor_planner.bundle.corridor import load_corridor
from corridor_planner.errors import DataError, InvalidArgumentError
from corridor_planner.network.graph import build_network
from corridor_planner.routing.routes import find_route
from corridor_planner.routing.traveltimes import CorridorTravelTimes

ORIGINS = """
[[country]]
code = "TJ"
name = "Tajikistan (test)"
source = "test"

[[place]]
id = "kg_far"
name = "Far KG Town"
country = "KG"
lat = 42.2
lon = 74.9
source = "test"

[[place]]
id = "kz_far"
name = "Far KZ Town"
country = "KZ"
lat = 43.35
lon = 74.9
source = "test"

[[place]]
id = "tj_gate"
name = "Gate"
country = "TJ"
lat = 42.1
lon = 74.9
source = "test"

[[place]]
id = "tj_home"
name = "Home Town"
country = "TJ"
lat = 41.8
lon = 74.9
population = 1000
year = 2020
source = "test"

[[place]]
id = "tj_city"
name = "Capital"
country = "TJ"
lat = 41.2
lon = 74.9
source = "test"

[[road]]
from = "town_d"
to = "kg_far"
name = "KG road"
km = 100
minutes = 120
source = "test"
confidence = "S"

[[post]]
id = "kg_tj"
name = "KG-TJ post"
from = "kg_far"
to = "tj_gate"
status = "open"
profiles_allowed = ["citizen", "third_country"]
minutes = 30
source = "test"
confidence = "E"

[[road]]
from = "tj_gate"
to = "tj_home"
name = "TJ road"
km = 50
minutes = 60
source = "test"
confidence = "S"

[[road]]
from = "tj_home"
to = "tj_city"
name = "TJ trunk"
km = 80
minutes = 90
source = "test"
confidence = "S"

# a much shorter way home through Kazakhstan, across a post that is closed
[[road]]
from = "faraway"
to = "kz_far"
name = "KZ road"
km = 5
minutes = 5
source = "test"
confidence = "S"

[[place]]
id = "tj_north"
name = "North Gate"
country = "TJ"
lat = 43.36
lon = 74.9
source = "test"

[[road]]
from = "tj_north"
to = "tj_home"
name = "TJ north road"
km = 180
minutes = 130
source = "test"
confidence = "S"

[[post]]
id = "kz_tj"
name = "KZ-TJ post (closed)"
from = "kz_far"
to = "tj_north"
status = "closed"
profiles_allowed = ["citizen", "third_country"]
minutes = 5
source = "test"
confidence = "S"

[[tb_site]]
id = "tj_home_tb"
name = "Home TB dispensary"
place = "tj_home"
services = ["tb"]
source = "test"
confidence = "S"

[[tb_site]]
id = "tj_city_mdr"
name = "Capital MDR-TB centre"
place = "tj_city"
services = ["tb", "tb_mdr"]
source = "test"
confidence = "S"
"""


def _bundle(tiny_copy: Path, text: str = ORIGINS) -> Path:
    (tiny_copy / "origins.toml").write_text(text, encoding="utf-8")
    return tiny_copy


@pytest.fixture
def origin_network(tiny_copy):
    return build_network(load_corridor(_bundle(tiny_copy)))


def _rows(network, scenario="baseline", specialty="tb"):
    times = CorridorTravelTimes(network, "third_country", network.corridor.scenario(scenario))
    return {r.host: r for r in continuity_pathways(times, "TJ", "Home Town", specialty=specialty)}


def test_the_way_home_is_the_corridor_route_to_the_exit_then_the_legs(origin_network):
    rows = _rows(origin_network)
    inside = find_route(origin_network, "Town A", "Town D", profile="third_country")
    town_a = rows["Town A"]
    # 120 min KG road + 30 min at the post + 60 min TJ road; the closed KZ post is not used
    assert town_a.home_minutes == pytest.approx(inside.minutes + 210, abs=0.1)
    assert town_a.home_km == pytest.approx(inside.km + 150, abs=0.1)
    assert town_a.border_posts == [*inside.border_posts, "KG-TJ post"]
    assert [(leg["from"], leg["to"], leg["crossing"]) for leg in town_a.beyond_corridor] == [
        ("Town D", "Far KG Town", False),
        ("Far KG Town", "Gate", True),
        ("Gate", "Home Town", False),
    ]
    # the exit itself: no corridor route, only the legs beyond
    assert rows["Town D"].home_minutes == pytest.approx(210)
    assert rows["Town D"].border_posts == ["KG-TJ post"]
    # follow-up at home: the dispensary in the home town itself
    assert town_a.follow_up_site == "Home TB dispensary"
    assert town_a.follow_up_minutes == 0


def test_mdr_tb_follow_up_is_the_nearest_site_offering_it(origin_network):
    row = _rows(origin_network, specialty="tb_mdr")["Town A"]
    assert row.follow_up_site == "Capital MDR-TB centre"
    assert row.follow_up_minutes == pytest.approx(90)


def test_scenarios_apply_to_posts_beyond_the_corridor(origin_network):
    base = _rows(origin_network)["Town D"].home_minutes
    # p_restricted doubles every post delay: 30 more minutes at the KG-TJ post
    assert _rows(origin_network, "p_restricted")["Town D"].home_minutes == pytest.approx(base + 30)
    closed = _rows(origin_network, "borders_closed")["Town D"]
    assert closed.home_minutes is None
    assert any("no way home" in gap and "Home Town" in gap for gap in closed.gaps)


def test_a_national_of_the_posts_country_crosses_it_as_a_citizen(origin_network):
    # eaeu_worker is not let through the KG-TJ post, but a Tajik crosses it as a citizen
    times = CorridorTravelTimes(
        origin_network, "eaeu_worker", origin_network.corridor.scenario("baseline")
    )
    rows = {r.host: r for r in continuity_pathways(times, "TJ", "Home Town", profile="eaeu_worker")}
    assert rows["Town D"].home_minutes == pytest.approx(210)


def test_a_post_closed_to_citizens_leaves_no_way_home(tiny_copy):
    text = ORIGINS.replace(
        'profiles_allowed = ["citizen", "third_country"]', 'profiles_allowed = ["third_country"]', 1
    )
    network = build_network(load_corridor(_bundle(tiny_copy, text)))
    rows = _rows(network).values()
    assert all(r.home_minutes is None for r in rows)
    assert all(any("no way home" in gap for gap in r.gaps) for r in rows)


def test_unknown_home_place_names_the_known_ones(origin_network):
    times = CorridorTravelTimes(
        origin_network, "third_country", origin_network.corridor.scenario("baseline")
    )
    with pytest.raises(
        InvalidArgumentError, match="no place 'Dushanbe' in TJ.*Capital, Gate, Home Town"
    ):
        continuity_pathways(times, "TJ", "Dushanbe")


def test_migrant_profile_follows_eaeu_membership():
    assert migrant_profile("KG") == "eaeu_worker"
    assert migrant_profile("TJ") == "third_country"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('from = "tj_gate"\nto = "tj_home"', 'from = "kg_far"\nto = "tj_home"'),
            "origins.toml: road TJ road: to: a road between KG and TJ with no post on it",
        ),
        (("km = 100", "km = -100"), "origins.toml: road KG road: km: must be above 0"),
        (("minutes = 30", "minutes = 99999"), "origins.toml: post kg_tj: minutes: must be from 0"),
        (
            ('status = "open"', 'status = "ajar"'),
            "origins.toml: post kg_tj: status: unknown status 'ajar' (known: closed, open)",
        ),
        (('code = "TJ"', 'code = "KG"'), "country Tajikistan (test): code: is a corridor country"),
        (('place = "tj_home"', 'place = "nowhere"'), "tb_site tj_home_tb: place: must be the id"),
        (('services = ["tb"]', 'services = ["surgery"]'), "tb_site tj_home_tb: services"),
        (('from = "town_d"', 'from = "town_x"'), "road KG road: from: must be the id of a"),
        (("lat = 42.2", "lat = 142.2"), "place kg_far: lat: must be from -90"),
        (('source = "test"', 'sourse = "test"'), "country Tajikistan (test): sourse: unknown key"),
        (('id = "tj_city"', 'id = "tj_home"'), "origins.toml: tj_home: id: duplicate id"),
        (('id = "kg_far"', 'id = "town_a"'), "place town_a: id: is already the id of a settlement"),
        # found by the red-team pass: nested values, collisions, geography, control characters
        (('place = "tj_home"', 'place = ["tj_home"]'), "tb_site tj_home_tb: place: must be a text"),
        (
            ('services = ["tb"]', 'services = [["tb"]]'),
            "tb_site tj_home_tb: services: unknown TB service ['tb']",
        ),
        (
            ('profiles_allowed = ["citizen", "third_country"]', "profiles_allowed = [[1]]"),
            "post kg_tj: profiles_allowed: unknown traveller profile [1] (known: ambulance,",
        ),
        (
            ('profiles_allowed = ["citizen", "third_country"]', "profiles_allowed = []"),
            "post kg_tj: profiles_allowed: must not be empty",
        ),
        (('id = "kg_tj"', 'id = "post_p"'), "post post_p: id: is already the id of a corridor"),
        (('id = "tj_home_tb"', 'id = "hosp_d"'), "tb_site hosp_d: id: is already the id of a"),
        (
            ('from = "kg_far"\nto = "tj_gate"', 'from = "town_a"\nto = "tj_gate"'),
            "post kg_tj: km: 0 km, but its two places are 111 km apart in a straight line",
        ),
        (("km = 80", "km = 8"), "road TJ trunk: km: 8 km, but its two places are 67 km apart"),
        (("minutes = 90", "minutes = 10"), "road TJ trunk: minutes: 80 km in 10 min is faster"),
        (('to = "tj_city"', 'to = "tj_home"'), "road TJ trunk: to: joins a place to itself"),
        (('name = "Capital"', 'name = "Home Town"'), "place tj_city: name: TJ already has a place"),
        (('name = "Gate"', 'name = "Gate\\nGate"'), "place tj_gate: name: must be one line"),
        (("year = 2020", ""), "place tj_home: year: a population needs its year"),
        (
            ('[[tb_site]]\nid = "tj_home_tb"', '[[tb_sites]]\nid = "tj_home_tb"'),
            "-: tb_sites: unknown key `tb_sites`; did you mean `tb_site`?",
        ),
        (
            ('from = "tj_gate"\nto = "tj_home"', 'from = "town_a"\nto = "faraway"'),
            "road TJ road: to: joins two corridor settlements",
        ),
        (
            ('from = "kg_far"\nto = "tj_gate"', 'from = "kg_far"\nto = "kg_far"'),
            "post kg_tj: to: joins a place to itself",
        ),
        (('to = "tj_north"', 'to = "kz_far"'), "post kz_tj: to: joins a place to itself"),
        (
            ('from = "kz_far"\nto = "tj_north"', 'from = "faraway"\nto = "kz_far"'),
            "post kz_tj: to: a post joins two countries; both ends are in KZ",
        ),
        (
            ('services = ["tb"]', 'services = ["tb"]\nnotes = 3'),
            "tb_site tj_home_tb: notes: must be a text",
        ),
        (
            (
                '[[place]]\nid = "kg_far"',
                '[[country]]\ncode = "TJ"\nname = "again"\nsource = "x"\n\n'
                '[[place]]\nid = "kg_far"',
            ),
            "country TJ: code: listed twice",
        ),
    ],
)
def test_bad_origins_are_refused_with_file_entry_and_field(tiny_copy, change, message):
    old, new = change
    assert old in ORIGINS
    with pytest.raises(DataError) as info:
        load_corridor(_bundle(tiny_copy, ORIGINS.replace(old, new, 1)))
    assert message in str(info.value)


def test_a_kyrgyz_worker_can_go_home_beyond_the_corridor(tiny_copy):
    """A home of origins.toml in a corridor country: the way home runs beyond the corridor."""
    network = build_network(load_corridor(_bundle(tiny_copy)))
    times = CorridorTravelTimes(network, "third_country", network.corridor.scenario("baseline"))
    rows = {
        r.host: r for r in continuity_pathways(times, "KG", "Far KG Town", profile="third_country")
    }
    inside = find_route(network, "Town A", "Town D", profile="third_country")
    assert rows["Town A"].home == "Far KG Town"
    assert rows["Town A"].home_minutes == pytest.approx(inside.minutes + 120, abs=0.1)
    # no KG TB site in origins.toml: the follow-up gap says so
    assert any("no follow-up site near Far KG Town" in gap for gap in rows["Town A"].gaps)


def test_scenario_may_set_the_regime_of_a_post_beyond_the_corridor(tiny_copy):
    (tiny_copy / "scenarios" / "tj_closed.toml").write_text(
        'description = "KG-TJ closed"\n[posts]\nkg_tj = "closed"\n', encoding="utf-8"
    )
    network = build_network(load_corridor(_bundle(tiny_copy)))
    assert _rows(network, "tj_closed")["Town D"].home_minutes is None
    assert _rows(network)["Town D"].home_minutes == pytest.approx(210)


def test_cli_refuses_an_unknown_profile():
    from click.testing import CliRunner

    from corridor_planner import cli

    args = ["tb-continuity", "almaty_bishkek", "--nationality", "TJ", "--home", "Dushanbe"]
    result = CliRunner().invoke(cli.main, [*args, "--profile", "bogus"])
    assert result.exit_code == 2 and "Invalid value for '--profile'" in result.output


def test_no_way_home_says_whether_the_corridor_or_the_crossing_is_shut(tiny_copy):
    (tiny_copy / "scenarios" / "corridor_shut.toml").write_text(
        'description = "KZ-KG shut"\n[posts]\npost_p = "closed"\npost_q = "closed"\n',
        encoding="utf-8",
    )
    network = build_network(load_corridor(_bundle(tiny_copy)))
    rows = _rows(network, "corridor_shut")
    assert rows["Town D"].home_minutes == pytest.approx(210)  # the exit itself: still home
    gap = " ".join(rows["Town A"].gaps)
    assert "no route inside the corridor reaches Town D, where the way to Home Town" in gap
    assert "no open crossing beyond" in " ".join(_rows(network, "borders_closed")["Town A"].gaps)


def test_tables_that_are_not_tables_are_refused():
    from corridor_planner.bundle.origins import read_origins

    _, problems = read_origins({"road": 3, "place": [1]}, {}, ["KZ", "KG"])
    assert [str(p) for p in problems] == [
        "origins.toml: place #0: -: must be a table",
        "origins.toml: -: road: must hold [[road]] tables",
    ]


def test_cli_lists_the_legs_beyond_the_corridor_once_with_their_sources():
    from click.testing import CliRunner

    from corridor_planner import cli

    args = ["tb-continuity", "almaty_bishkek", "--nationality", "TJ", "--home", "Isfara"]
    result = CliRunner().invoke(cli.main, args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    start = lines.index(
        "Beyond the corridor (sourced leg times, not the road graph; posts there have no "
        "opening-hours clock):"
    )
    legs = lines[start + 1 :]
    assert [leg.split(":")[0].strip() for leg in legs] == ["Bishkek - Batken", "Batken - Isfara"]
    assert "Sputnik Kyrgyzstan 2019-04-13" in legs[0] and "20 km across the border" in legs[1]
