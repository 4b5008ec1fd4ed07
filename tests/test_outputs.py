from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from corridor_planner.analysis.referral import referral_chain
from corridor_planner.bundle.cover_rules import Patient
from corridor_planner.errors import CorridorPlannerError, InvalidArgumentError, NotFoundError
from corridor_planner.outputs import json_records, write_table, write_text
from corridor_planner.render.report import build_report
from corridor_planner.routing.traveltimes import CorridorTravelTimes


def test_table_without_geometry_needs_csv(tmp_path):
    with pytest.raises(CorridorPlannerError, match="this table has no geometry; use .csv"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.geojson")
    assert list(tmp_path.iterdir()) == []


def test_csv_of_points_has_lon_lat(tmp_path):
    table = gpd.GeoDataFrame(
        {"name": ["x"], "tags": [["a", "b"]]}, geometry=[Point(75, 43)], crs=4326
    )
    path = write_table(table, tmp_path / "t.csv")
    assert path.read_text().splitlines() == ["name,tags,lon,lat", "x,\"['a', 'b']\",75.0,43.0"]


def test_write_text_replaces_whole_files(tmp_path):
    path = write_text("first", tmp_path / "sub" / "r.html")
    write_text("second", path)
    assert path.read_text() == "second" and len(list(path.parent.iterdir())) == 1
    assert oct(path.stat().st_mode & 0o777) == "0o644"


def test_json_records_turn_nan_and_inf_into_none():
    assert json_records(pd.DataFrame({"a": [1.0, float("nan"), float("inf")]})) == [
        {"a": 1.0},
        {"a": None},
        {"a": None},
    ]


def test_chain_from_unknown_facility(tiny, tiny_network):
    with pytest.raises(NotFoundError, match="no facility 'nowhere'"):
        baseline = CorridorTravelTimes(tiny_network, "citizen", tiny.scenario("baseline"))
        referral_chain(baseline, "nowhere", "emergency", Patient())


def test_report_for_a_specialty_nobody_offers(tiny, tiny_network):
    with pytest.raises(NotFoundError, match="no facility in corridor tiny offers oncology"):
        build_report(tiny_network, [tiny.scenario("baseline")], ["oncology"])
    with pytest.raises(InvalidArgumentError, match="at least one scenario"):
        build_report(tiny_network, [])


def test_csv_cells_that_spreadsheets_would_run_are_defused(tmp_path):
    table = pd.DataFrame(
        {
            "name": ['=HYPERLINK("http://x")', "+1-2", "-Bishkek", "@SUM(A1)", "\tx", "Osh"],
            "change": [-5, 1, 2, 3, 4, 5],
        }
    )
    lines = write_table(table, tmp_path / "t.csv").read_text().splitlines()
    assert lines[1:] == [
        '"\'=HYPERLINK(""http://x"")",-5',
        "'+1-2,1",
        "'-Bishkek,2",
        "'@SUM(A1),3",
        "'\tx,4",
        "Osh,5",
    ]


def test_csv_of_lines_has_wkt(tmp_path):
    from shapely.geometry import LineString

    table = gpd.GeoDataFrame({"id": ["r"]}, geometry=[LineString([(75, 43), (75.5, 43)])], crs=4326)
    lines = write_table(table, tmp_path / "r.csv").read_text().splitlines()
    assert lines == ["id,wkt", 'r,"LINESTRING (75 43, 75.5 43)"']


def test_output_onto_a_bundle_input_is_refused(tmp_path):
    from corridor_planner.outputs import refuse_bundle_file

    bundle = tmp_path / "b"
    (bundle / "scenarios").mkdir(parents=True)
    (bundle / "population.geojson").write_text("{}")
    for path in (bundle / "population.geojson", bundle / "new.csv", bundle / "scenarios/x.toml"):
        with pytest.raises(CorridorPlannerError, match="inside the corridor bundle"):
            refuse_bundle_file(path, bundle)
    refuse_bundle_file(bundle / "results" / "x.csv", bundle)  # a folder of one's own
    refuse_bundle_file(tmp_path / "x.csv", bundle)
