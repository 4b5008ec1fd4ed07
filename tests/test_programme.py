"""Programmes of centres across corridors: the split, the order, the bases (known answers)."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from corridor_planner.analysis.access import offering, settlements_on_network
from corridor_planner.analysis.coverage import within
from corridor_planner.analysis.programme import (
    MainRoad,
    check_corridors,
    load_programme,
    main_roads,
    plan_programme,
    road_km,
    road_piece_minutes,
    split_centres,
)
from corridor_planner.analysis.scoring import candidates_for
from corridor_planner.errors import DataError, NotFoundError
from corridor_planner.routing.traveltimes import CorridorTravelTimes


def test_split_centres_takes_the_best_allocation():
    curves = [[0, 10, 15, 16], [0, 12, 13]]
    assert split_centres(curves, 3) == [2, 1]  # 15 + 12 beats 10 + 13 and 16 + 0
    assert split_centres(curves, 2) == [1, 1]  # 10 + 12
    assert split_centres(curves, 1) == [0, 1]  # 12
    # a site that adds nobody is never taken: fewer centres than asked
    assert split_centres([[0, 5, 5, 5]], 3) == [1]


def test_split_centres_ties_go_to_the_later_corridor():
    assert split_centres([[0, 10], [0, 10]], 1) == [0, 1]


def test_road_pieces_within_reach_by_hand():
    # a 10 km road driven in 10 min; the base is 5 min from one end and 20 from the other
    road = MainRoad("u", "v", 10.0, 10.0, 10.0)
    times, km = road_piece_minutes(np.array([5.0]), np.array([20.0]), road)
    assert km.tolist() == [1.0] * 10
    assert times[:, 0].tolist() == pytest.approx([5.5 + i for i in range(10)])
    assert float(km[within(times[:, 0], 10.0)].sum()) == 5.0  # pieces up to 9.5 min


def test_a_one_way_road_is_entered_only_at_its_start():
    # one-way v -> u: the base 1 min from u cannot drive in from u
    road = MainRoad("u", "v", 10.0, np.inf, 10.0)
    times, km = road_piece_minutes(np.array([1.0]), np.array([30.0]), road)
    assert np.all(times[:, 0] >= 30.0)
    assert float(km[within(times[:, 0], 10.0)].sum()) == 0.0


def test_main_roads_follow_the_scenario(cpec):
    closed = {way: np.inf for way in {r for r in _way_ids(cpec)}}
    assert all(np.isinf(r.forward) and np.isinf(r.backward) for r in main_roads(cpec, closed))
    slow = main_roads(cpec, {way: 10.0 for way in _way_ids(cpec)})
    fast = main_roads(cpec)
    assert sum(r.forward for r in slow) == pytest.approx(10 * sum(r.forward for r in fast))
    assert sum(r.km for r in fast) == pytest.approx(road_km(cpec))


def _way_ids(network):
    from corridor_planner.network.roads import way_id

    main = {"motorway", "trunk", "primary"}
    return {way_id(d) for *_, d in network.graph.edges(data=True) if d.get("highway") in main}


@pytest.fixture(scope="module")
def seven(cpec, gwadar):
    spec = load_programme("cpec_emergency_care")
    return spec, plan_programme(spec, [cpec, gwadar])


def test_seven_centres_are_the_optimum_found_by_brute_force(cpec, gwadar, seven):
    _, plan = seven
    assert len(plan.centres) == 7
    # an independent optimum: every set of at most 7 of the 16 candidate sites
    covers, already, people = [], [], []
    for network in (cpec, gwadar):
        times = CorridorTravelTimes(network, "citizen", network.corridor.scenario("baseline"))
        settlements = settlements_on_network(network)
        nodes = list(settlements["node"])
        sites = candidates_for(network, "emergency")
        existing = offering(network, "emergency")
        covers.append(within(times.matrix(nodes, list(sites["node"])) / 60.0, 60))
        already.append(within(times.matrix(nodes, list(existing["node"])) / 60.0, 60).any(axis=1))
        people.append(settlements["population"].to_numpy(dtype=float))
    cover = np.zeros((sum(len(p) for p in people), sum(c.shape[1] for c in covers)), dtype=bool)
    row = col = 0
    for c in covers:  # block-diagonal: a site covers only its own corridor's people
        cover[row : row + c.shape[0], col : col + c.shape[1]] = c
        row, col = row + c.shape[0], col + c.shape[1]
    base, weights = np.concatenate(already), np.concatenate(people)
    best = max(
        float(weights[base | cover[:, list(chosen)].any(axis=1)].sum())
        for size in range(8)
        for chosen in itertools.combinations(range(cover.shape[1]), size)
    )
    assert plan.covered_after == pytest.approx(best)
    assert plan.covered_before == pytest.approx(float(weights[base].sum()))


def test_phases_add_up_and_come_largest_first(seven):
    _, plan = seven
    gains = [c.newly_covered for c in plan.centres]
    assert gains == sorted(gains, reverse=True)
    assert plan.centres[-1].covered_after == pytest.approx(plan.covered_before + sum(gains))
    assert [c.phase for c in plan.centres] == list(range(1, 8))


def test_one_ambulance_base_per_centre_in_each_corridor(seven):
    _, plan = seven
    for row in plan.per_corridor:
        bases = [b for b in plan.bases if b.corridor == row["corridor"]]
        assert len(bases) == row["centres"]
        assert all(b.brings_patients_to and b.minutes_to_destination is not None for b in bases)
    assert 0 < plan.road_km_covered <= plan.road_km
    assert any("as if there were none" in note for note in plan.notes)
    assert any("not the programme's official list" in note for note in plan.notes)
    # a base listed under a centre brings its patients there
    for centre in plan.centres:
        for place in centre.ambulance_bases:
            base = next(b for b in plan.bases if b.place == place)
            assert base.destination_id == centre.site_id


def test_notes_say_what_limits_the_plan(cpec, gwadar):
    from dataclasses import replace

    spec = load_programme("cpec_emergency_care")
    one = plan_programme(replace(spec, centres=1), [cpec, gwadar])
    assert not any("all of its" in note for note in one.notes)  # 1 of 12: no false note
    many = plan_programme(replace(spec, centres=20), [cpec, gwadar])
    # Gwadar is all within the hour after two sites: no other site adds anyone
    assert "8 of 20 centres placed: no other candidate site brings anyone" in " ".join(many.notes)
    none = plan_programme(replace(spec, service="dialysis"), [cpec, gwadar])
    assert none.centres == [] and none.bases == []
    assert any("no candidate site offers dialysis" in note for note in none.notes)


def test_a_programme_may_not_list_one_bundle_twice_or_lack_its_scenario(gwadar):
    from dataclasses import replace

    spec = load_programme("cpec_emergency_care")
    with pytest.raises(DataError, match="corridors: lists the bundle .* twice"):
        check_corridors(spec, [gwadar, gwadar])
    with pytest.raises(DataError, match="scenario: corridor cpec_gwadar has no scenario 'summer'"):
        check_corridors(replace(spec, scenario="summer"), [gwadar])


def test_cli_programme_table_and_json():
    from click.testing import CliRunner

    from corridor_planner import cli

    result = CliRunner().invoke(cli.main, ["programme", "cpec_emergency_care", "--centres", "2"])
    assert result.exit_code == 0, result.output
    assert "Skardu" in result.output and "Ambulance bases" in result.output
    result = CliRunner().invoke(
        cli.main, ["programme", "cpec_emergency_care", "--centres", "1", "--format", "json"]
    )
    data = json.loads(result.output, parse_constant=lambda name: pytest.fail(name))
    assert [c["site"] for c in data["centres"]] == ["Skardu"]


def test_cli_names_the_programme_for_an_unknown_corridor(tmp_path):
    from click.testing import CliRunner

    from corridor_planner import cli
    from corridor_planner.analysis.programme import PROGRAMMES_DIR

    text = (PROGRAMMES_DIR / "cpec_emergency_care.toml").read_text(encoding="utf-8")
    path = tmp_path / "p.toml"
    path.write_text(text.replace('"cpec_gwadar"]', '"atlantis"]'), encoding="utf-8")
    result = CliRunner().invoke(cli.main, ["programme", str(path)])
    assert result.exit_code == 1
    assert "programme cpec_emergency_care: corridors:" in result.output


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("centres = 7", "centres = 0"), "p.toml: -: centres: must be from 1 to 100 centres"),
        (
            ("centres = 7", 'centres = "seven"'),
            "centres: must be a number .centres in a programme.",
        ),
        (("threshold_minutes = 60", "threshold_minutes = nan"), "threshold_minutes: must be"),
        (('service = "emergency"', 'service = "magic"'), "service: unknown service 'magic'"),
        (
            ('scenario = "baseline"', 'scenaro = "baseline"'),
            "scenaro: unknown key `scenaro`; did you mean `scenario`\\?",
        ),
        (('"cpec_gwadar"]', '"cpec_karakoram"]'), "corridors: lists a corridor twice"),
        (("corridors = [", 'corridors = "cpec_gwadar" #['), "corridors: must be a list"),
        (("centres = 7", "centres = 7 7"), "p.toml: -: -: not valid TOML"),
    ],
)
def test_bad_programme_files_are_refused(tmp_path, change, message):
    from corridor_planner.analysis.programme import PROGRAMMES_DIR

    text = (PROGRAMMES_DIR / "cpec_emergency_care.toml").read_text(encoding="utf-8")
    assert change[0] in text
    path = tmp_path / "p.toml"
    path.write_text(text.replace(*change), encoding="utf-8")
    with pytest.raises(DataError, match=message) as info:
        load_programme(path)
    assert "in corridor" not in str(info.value)  # a programme file is no corridor


def test_unknown_programme_names_the_known_ones():
    with pytest.raises(NotFoundError, match="known: cpec_emergency_care"):
        load_programme("seven_wonders")
