"""Crossings cleared away from the border: two points, each on its own clock (Khunjerab)."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo

import pytest

from corridor_planner.bundle.corridor import load_corridor
from corridor_planner.bundle.posts import BorderPost, ClearancePoint
from corridor_planner.errors import DataError

KARACHI = zoneinfo.ZoneInfo("Asia/Karachi")


def khunjerab(**changes) -> BorderPost:
    post = dict(
        id="k",
        name="Khunjerab",
        countries=("PK", "CN"),
        opening_hours="Mo-Fr",
        season=None,
        delay_minutes={"PK->CN": {"citizen": 180}, "CN->PK": {"citizen": 180}},
        profiles_allowed=frozenset({"citizen"}),
        clearance=(
            ClearancePoint("PK", "Sost", 135, "Asia/Karachi"),
            ClearancePoint("CN", "Tashkurgan", 120, "Asia/Shanghai"),
        ),
    )
    post.update(changes)
    return BorderPost(**post)


# Friday 18 June 2027, 22:13 in Pakistan (UTC+5): 01:13 on Saturday in Beijing (UTC+8)
AT_THE_PASS = dt.datetime(2027, 6, 18, 22, 13, tzinfo=KARACHI)


def test_late_friday_to_china_waits_for_monday_on_beijing_time():
    # left Sost at 19:58 PKT, Friday: open. Reaches Tashkurgan 00:13 PKT = 03:13 Saturday
    # in Beijing: shut until Monday 00:00 Beijing, 44 h 47 min later
    wait = khunjerab().wait_seconds(AT_THE_PASS, "PK", "CN")
    assert wait == pytest.approx((44 * 60 + 47) * 60)


def test_the_other_way_the_pakistani_clock_decides():
    # left Tashkurgan 20:13 PKT = 23:13 Friday in Beijing: open. Reaches Sost 00:28 PKT on
    # Saturday: shut until Monday 00:00 PKT, 47 h 32 min later
    wait = khunjerab().wait_seconds(AT_THE_PASS, "CN", "PK")
    assert wait == pytest.approx((47 * 60 + 32) * 60)


def test_one_clock_at_the_border_would_see_an_open_post():
    single = khunjerab(clearance=(), timezone="Asia/Karachi")
    assert single.wait_seconds(AT_THE_PASS, "PK", "CN") == 0.0


def test_bundled_khunjerab_routes_with_both_clocks(cpec):
    from corridor_planner.routing.routes import find_route

    late = find_route(
        cpec, "Sost", "Tashkurgan", depart=dt.datetime(2027, 6, 18, 20, 0, tzinfo=KARACHI)
    )
    early = find_route(
        cpec, "Sost", "Tashkurgan", depart=dt.datetime(2027, 6, 18, 16, 0, tzinfo=KARACHI)
    )
    assert [w["wait_minutes"] for w in early.waits] == [0]
    assert late.minutes - early.minutes == pytest.approx(44 * 60 + 47, abs=2)


def test_a_clearance_point_for_the_wrong_country_is_refused(tmp_path):
    import shutil
    from pathlib import Path

    bundle = tmp_path / "cpec"
    shutil.copytree(Path(__file__).parents[1] / "data" / "corridors" / "cpec_karakoram", bundle)
    path = bundle / "border_posts.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["features"][0]["properties"]["clearance"][1]["country"] = "AF"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(
        DataError, match="border_posts.geojson: khunjerab: clearance: needs one point"
    ):
        load_corridor(bundle)


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"minuts": 135}, "unknown key `minuts`"),
        ({"name": "  "}, "#0: name: must not be empty"),
        ({"minutes_to_border": 5000}, "minutes_to_border"),  # over a day
    ],
)
def test_a_malformed_clearance_point_is_named(tmp_path, change, complaint):
    import shutil
    from pathlib import Path

    bundle = tmp_path / "cpec"
    shutil.copytree(Path(__file__).parents[1] / "data" / "corridors" / "cpec_karakoram", bundle)
    path = bundle / "border_posts.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["features"][0]["properties"]["clearance"][0].update(change)
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_corridor(bundle)
    assert any(p.field == "clearance" and complaint in p.message for p in caught.value.problems)


def test_an_empty_translation_of_a_scenario_is_refused(tiny_copy):
    (tiny_copy / "scenarios" / "borders_closed.toml").write_text(
        'default_regime = "closed"\ndescription_ru = ""\n', encoding="utf-8"
    )
    with pytest.raises(DataError, match="borders_closed.toml: -: description_ru"):
        load_corridor(tiny_copy)
