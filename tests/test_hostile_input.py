"""Hostile and careless input, round three (issue #23): refused with one clear line.

Each test builds the input in its real format (TOML, GeoJSON, OSM XML, GeoTIFF by
rasterio, CSV, XLSX by openpyxl) and checks the ``file: feature: field: problem`` line.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pytest
import rasterio
from rasterio.transform import from_origin
from scipy.optimize import Bounds, milp
from shapely.geometry import Polygon, box

from corridor_planner.analysis.quiet import quiet_solver
from corridor_planner.analysis.siting import CapacitatedMaxCoverage, CapacitatedPMedian
from corridor_planner.bundle.corridor import load_corridor
from corridor_planner.errors import DataError, InvalidArgumentError
from corridor_planner.network.graph import build_network
from corridor_planner.routing.traveltimes import CorridorTravelTimes
from corridor_planner.schema.corridor import crs_area_problem
from corridor_planner.settings import RANGES
from tests.helpers import edit_feature
from tests.test_import import (
    run_import,
    write_boundaries,
    write_facilities_csv,
    write_pbf,
    write_population_tif,
    write_posts,
)


def refusal(bundle: Path, build: bool = False) -> str:
    """The DataError text of loading (and, with ``build``, building) a bundle."""
    with pytest.raises(DataError) as info:
        corridor = load_corridor(bundle)
        if build:
            build_network(corridor)
    return str(info.value)


def replace_in(bundle: Path, file: str, old: str, new: str) -> None:
    path = bundle / file
    text = path.read_text(encoding="utf-8")
    assert old in text, (file, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def append_to(bundle: Path, file: str, text: str) -> None:
    path = bundle / file
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


class TestDates:
    @pytest.mark.parametrize("when", ["9999-12-31T23:00:00", "1900-01-01T08:00:00"])
    def test_a_scenario_departure_outside_1970_2100(self, tiny_copy, when):
        replace_in(tiny_copy, "scenarios/winter.toml", "2027-01-13T08:00:00", when)
        assert (
            "scenarios/winter.toml: -: depart: must be in the years 1970 to 2100, "
            f"got {when[:4].lstrip('0')}"
        ) in refusal(tiny_copy)

    def test_a_departure_given_to_the_travel_times(self, tiny_network):
        scenario = tiny_network.corridor.scenario("baseline")
        with pytest.raises(InvalidArgumentError, match="years 1970 to 2100, got 9999"):
            CorridorTravelTimes(
                tiny_network, "citizen", scenario, depart=dt.datetime(9999, 12, 31, 23)
            )

    def test_2100_itself_is_taken(self, tiny_copy):
        replace_in(tiny_copy, "scenarios/winter.toml", "2027-01-13", "2100-12-31")
        assert load_corridor(tiny_copy).scenario("winter").depart == dt.datetime(2100, 12, 31, 8)


class TestNumbersTooBigToBeFloats:
    def test_a_400_digit_integer_in_geojson(self, tiny_copy):
        replace_in(tiny_copy, "facilities.geojson", '"beds": 100', '"beds": ' + "9" * 400)
        text = refusal(tiny_copy)
        assert "facilities.geojson: hosp_d: beds: must be from 0 to 10000 beds, got 9999" in text
        assert "(400 characters)" in text  # the value is cut, not printed whole

    def test_a_400_digit_integer_in_toml(self, tiny_copy):
        replace_in(tiny_copy, "corridor.toml", "snap_limit_m = 5000", "snap_limit_m = " + "9" * 400)
        assert "corridor.toml: -: snap_limit_m: must be above 0 to 100000 m" in refusal(tiny_copy)

    def test_range_compares_huge_integers_exactly(self):
        assert RANGES["population"].problem(10**400) is not None
        assert RANGES["population"].problem(-(10**400)) is not None
        assert RANGES["population"].problem(50_000_000) is None


class TestDeepNesting:
    def test_geojson_nested_100000_deep(self, tiny_copy):
        (tiny_copy / "facilities.geojson").write_text("[" * 100_000 + "]" * 100_000)
        assert "facilities.geojson: -: -: nested too deeply to read" in refusal(tiny_copy)

    def test_toml_nested_100000_deep(self, tiny_copy):
        (tiny_copy / "scenarios" / "deep.toml").write_text("a = " + "[" * 100_000 + "]" * 100_000)
        assert "scenarios/deep.toml: -: -: nested too deeply to read" in refusal(tiny_copy)


class TestOpeningHours:
    def test_public_holidays_are_refused(self, tiny_copy):
        edit_feature(tiny_copy, "border_posts.geojson", "post_p", opening_hours="24/7; PH off")
        text = refusal(tiny_copy)
        assert "border_posts.geojson: post_p: opening_hours: PH (public holidays)" in text
        assert "no holiday calendar is applied" in text

    def test_school_holidays_are_refused(self, tiny_copy):
        edit_feature(tiny_copy, "border_posts.geojson", "post_p", opening_hours="Mo-Fr; SH off")
        assert "post_p: opening_hours: SH (school holidays)" in refusal(tiny_copy)

    def test_a_holiday_named_in_a_comment_is_only_a_comment(self, tiny_copy):
        edit_feature(
            tiny_copy, "border_posts.geojson", "post_p", opening_hours='24/7 "closed on PH"'
        )
        assert load_corridor(tiny_copy).posts["post_p"].opening_hours == '24/7 "closed on PH"'

    def test_a_day_no_month_has(self, tiny_copy):
        edit_feature(tiny_copy, "border_posts.geojson", "post_q", season="Feb 30-Mar 01")
        assert "border_posts.geojson: post_q: season: Feb 30 is not a day of the year" in refusal(
            tiny_copy
        )

    def test_the_leap_day_is_a_day(self, tiny_copy):
        edit_feature(tiny_copy, "border_posts.geojson", "post_q", season="Feb 29-Nov 30")
        assert load_corridor(tiny_copy).posts["post_q"].season == "Feb 29-Nov 30"

    def test_a_season_of_hours(self, tiny_copy):
        edit_feature(tiny_copy, "border_posts.geojson", "post_q", season="10:00-11:00")
        assert (
            "border_posts.geojson: post_q: season: a season is a range of dates such as "
            "'Apr 01-Nov 30', not '10:00'" in refusal(tiny_copy)
        )


ROAD_CHANGE = '\n[[road_changes]]\nways = [{way}]\n{what}\nreason = "r"\nsource = "s"\n'


class TestRoadChanges:
    def test_a_speed_factor_of_1e_300(self, tiny_copy):
        append_to(
            tiny_copy,
            "scenarios/winter.toml",
            ROAD_CHANGE.format(way=1, what="speed_factor = 1e-300"),
        )
        assert (
            "scenarios/winter.toml: road_changes #0: speed_factor: must be from 0.01 to 1 "
            "times the usual speed, got 1e-300" in refusal(tiny_copy)
        )

    def test_one_way_closed_and_slowed(self, tiny_copy):
        closed = ROAD_CHANGE.format(way="1, 2", what="closed = true")
        slowed = ROAD_CHANGE.format(way=2, what="speed_factor = 0.5")
        append_to(tiny_copy, "scenarios/winter.toml", closed + slowed)
        assert (
            "scenarios/winter.toml: -: road_changes: way 2 is in [[road_changes]] #0 and #1, "
            "closed in one and slowed in the other" in refusal(tiny_copy)
        )


class TestCorridorFile:
    def test_a_country_twice(self, tiny_copy):
        replace_in(tiny_copy, "corridor.toml", '["KZ", "KG"]', '["KZ", "KZ", "KG"]')
        assert "corridor.toml: -: countries: lists KZ more than once" in refusal(tiny_copy)

    def test_an_unknown_country_code(self, tiny_copy):
        replace_in(tiny_copy, "corridor.toml", '["KZ", "KG"]', '["KZ", "KG", "XX"]')
        assert "corridor.toml: -: countries: 'XX' is not a country's ISO 3166" in refusal(tiny_copy)

    def test_an_unknown_country_of_a_feature(self, tiny_copy):
        edit_feature(tiny_copy, "population.geojson", "town_a", country="QQ")
        assert "population.geojson: town_a: country: 'QQ' is not a country's" in refusal(tiny_copy)

    def test_a_utm_zone_far_from_the_corridor(self, tiny_copy):
        replace_in(tiny_copy, "corridor.toml", "EPSG:32643", "EPSG:32610")
        assert (
            "corridor.toml: -: crs: EPSG:32610 is meant for -126 to -120 E, 0 to 84 N; the "
            "corridor's bbox [74.8, 42.9, 75.2, 43.35] reaches more than 3 degrees beyond it"
        ) in refusal(tiny_copy)

    def test_a_box_reaching_into_the_next_zone_is_near_enough(self):
        # cpec_gwadar's box reaches 1.3 degrees east of UTM zone 41 (60-66 E)
        assert crs_area_problem("EPSG:32641", (60.5, 24.6, 67.3, 26.5)) is None
        # 3.2 degrees past zone 44 (78-84 E) is not
        assert "reaches more than 3 degrees" in str(
            crs_area_problem("EPSG:32644", (74.8, 42.9, 75.2, 43.35))
        )


class TestRoadFile:
    def test_a_node_id_twice_at_two_positions(self, tiny_copy):
        replace_in(tiny_copy, "roads.osm", "</osm>", '<node id="1" lat="43.2" lon="75.1"/></osm>')
        assert "roads.osm: node 1: id: the same node id appears twice at different" in refusal(
            tiny_copy, build=True
        )

    def test_a_node_repeated_at_its_own_position_is_harmless(self, tiny_copy):
        replace_in(tiny_copy, "roads.osm", "</osm>", '<node id="1" lat="43.10" lon="74.90"/></osm>')
        assert build_network(load_corridor(tiny_copy)).graph.number_of_edges() > 0


# the importer ------------------------------------------------------------------------------

TIF_TRANSFORM = from_origin(74.795, 43.355, 0.01, 0.01)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    return {
        "roads": write_pbf(folder / "tiny.osm.pbf"),
        "boundaries": write_boundaries(folder / "adm0.gpkg"),
        "posts": write_posts(folder / "posts.geojson"),
        "facilities": write_facilities_csv(folder / "healthsites.csv"),
        "population": write_population_tif(folder / "pop.tif"),
    }


def write_tif(path: Path, values: np.ndarray | None, **profile: object) -> Path:
    """A one-band float32 GeoTIFF by rasterio (``values`` None: a header, all nodata)."""
    settings = {
        "driver": "GTiff",
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:4326",
        "transform": TIF_TRANSFORM,
        **profile,
    }
    if values is not None:
        settings |= {"height": values.shape[0], "width": values.shape[1]}
    with rasterio.open(path, "w", **settings) as dst:
        if values is not None:
            dst.write(values.astype(np.float32), 1)
    return path


def towns() -> np.ndarray:
    values = np.zeros((46, 41), dtype=np.float32)
    values[25, 10] = 10_000.0  # Town A
    values[35, 10] = 5_000.0  # Town D
    return values


def import_refusal(inputs, dest: Path, **changes) -> str:
    with pytest.raises(DataError) as info:
        run_import(inputs, dest, **changes)
    assert not dest.exists()
    return str(info.value)


class TestRasters:
    def test_a_crs_label_that_contradicts_the_transform(self, inputs, tmp_path):
        tif = write_tif(tmp_path / "utm.tif", towns(), crs="EPSG:32643")  # degrees as metres
        assert (
            "utm.tif: -: crs: the raster's CRS (EPSG:32643) does not fit its transform"
            in import_refusal(inputs, tmp_path / "out", population=tif)
        )

    def test_a_header_of_2_million_by_2_million_cells(self, inputs, tmp_path):
        tif = write_tif(
            tmp_path / "huge.tif",
            None,
            height=2_000_000,
            width=2_000_000,
            transform=from_origin(0, 60, 0.00005, 0.00005),  # 5 m cells
            tiled=True,
            blockxsize=4096,
            blockysize=4096,
            sparse_ok=True,
            BIGTIFF="YES",
        )
        assert tif.stat().st_size < 10_000_000  # a header, not 14.6 TiB
        assert "huge.tif: -: -: 2000000 x 2000000 cells to read, more than 40,000,000" in (
            import_refusal(inputs, tmp_path / "out", population=tif, bbox=None)
        )

    @pytest.mark.parametrize(
        ("value", "reason"),
        [
            (-5.0, "negative"),
            (np.nan, "nodata or NaN"),
            (np.inf, "infinite"),
            (3e38, "over 1,000,000 people per km2"),
        ],
    )
    def test_impossible_cells_are_dropped_and_said(self, inputs, tmp_path, value, reason):
        values = towns()
        values[5:10, 5:10] = value
        summary = run_import(
            inputs, tmp_path / "out", population=write_tif(tmp_path / "v.tif", values)
        )
        assert f"v.tif: dropped 25 cells {reason}" in "\n".join(summary.lines)
        assert summary.counts["population_read"] == 15_000

    def test_a_raster_of_nothing_but_impossible_cells_is_refused(self, inputs, tmp_path):
        tif = write_tif(tmp_path / "neg.tif", np.full((46, 41), -3e38))
        assert (
            "neg.tif: -: -: the raster holds no people inside the area (dropped 1800 cells "
            "negative" in import_refusal(inputs, tmp_path / "out", population=tif)
        )


def facilities_csv(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


CSV_HEAD = "X,Y,osm_id,amenity,name,beds,healthcare:speciality\n"
HOSPITAL_D = "74.9,43.009,n1,hospital,Hospital D,100,surgery\n"


class TestFacilityTables:
    def test_an_unquoted_comma_in_a_name(self, inputs, tmp_path):
        table = facilities_csv(
            tmp_path / "h.csv",
            CSV_HEAD
            + HOSPITAL_D
            + "74.95,43.1,n2,hospital,City Hospital No 1, Bishkek,50,surgery\n",
        )
        assert (
            "h.csv: line 3: -: 8 fields where the header has 7 (an unquoted comma"
            in import_refusal(inputs, tmp_path / "out", facilities=table)
        )

    def test_a_quoted_comma_is_fine(self, inputs, tmp_path):
        table = facilities_csv(
            tmp_path / "h.csv",
            CSV_HEAD
            + HOSPITAL_D
            + '74.95,43.1,n2,hospital,"City Hospital No 1, Bishkek",50,surgery\n',
        )
        summary = run_import(inputs, tmp_path / "out", facilities=table)
        assert summary.counts["facilities_kept"] == 2

    def test_a_column_named_twice(self, inputs, tmp_path):
        table = facilities_csv(
            tmp_path / "h.csv", "X,Y,osm_id,amenity,name,name\n74.9,43.009,n1,hospital,D,E\n"
        )
        assert "h.csv: line 1: name: this column name appears more than once" in (
            import_refusal(inputs, tmp_path / "out", facilities=table)
        )

    @pytest.mark.parametrize(
        ("beds", "message"),
        [
            ("-5", "must be from 0 to 10000 beds, got -5.0"),
            ("1e9", "must be from 0 to 10000 beds, got 1000000000.0"),
            ("nan", "must be a finite number (beds), got nan"),
            ("many", "'many' is not a number of beds"),
        ],
    )
    def test_beds_that_are_not_beds(self, inputs, tmp_path, beds, message):
        table = facilities_csv(
            tmp_path / "h.csv", CSV_HEAD + HOSPITAL_D.replace(",100,", f",{beds},")
        )
        assert f"h.csv: line 2: beds: {message}" in import_refusal(
            inputs, tmp_path / "out", facilities=table
        )

    def test_an_xlsx_formula(self, inputs, tmp_path):
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(["X", "Y", "osm_id", "amenity", "name", "beds"])
        sheet.append([74.9, 43.009, "n1", "hospital", "Hospital D", "=40+60"])
        book.save(tmp_path / "h.xlsx")
        assert "h.xlsx: row 2: beds: a formula (=40+60), not a value" in import_refusal(
            inputs, tmp_path / "out", facilities=str(tmp_path / "h.xlsx")
        )

    def test_an_xlsx_id_read_as_a_date(self, inputs, tmp_path):
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(["X", "Y", "osm_id", "amenity", "name", "beds"])
        sheet.append([74.9, 43.009, dt.datetime(2024, 3, 1), "hospital", "Hospital D", 100])
        book.save(tmp_path / "h.xlsx")
        assert "h.xlsx: row 2: osm_id: a date (2024-03-01 00:00:00), not a name or id" in (
            import_refusal(inputs, tmp_path / "out", facilities=str(tmp_path / "h.xlsx"))
        )

    def test_problems_of_the_staged_bundle_name_the_input_row(self, inputs, tmp_path):
        table = facilities_csv(
            tmp_path / "h.csv",
            CSV_HEAD + "74.9,43.009,n1,hospital,Hospital \x1b[31mD,100,surgery\n",
        )
        text = import_refusal(inputs, tmp_path / "out", facilities=table)
        assert "in corridor out:" in text  # not the staging folder .out.xxxx
        assert (
            "h.csv row 1 (n1): n1: name: must not hold control characters (U+001B) "
            "(written to facilities.geojson as n1)" in text
        )


class TestAreaAndBoundaries:
    def test_bbox_with_clip(self, inputs, tmp_path):
        clip = tmp_path / "clip.geojson"
        gpd.GeoDataFrame(geometry=[box(74.8, 42.9, 75.2, 43.35)], crs="EPSG:4326").to_file(clip)
        assert "--bbox: -: -: give --bbox or --clip (clip.geojson), not both" in (
            import_refusal(inputs, tmp_path / "out", clip=clip)
        )

    def test_overlapping_countries(self, inputs, tmp_path):
        path = tmp_path / "adm0.gpkg"
        gpd.GeoDataFrame(
            {"shapeGroup": ["KAZ", "KGZ"]},
            geometry=[box(74.7, 43.0, 75.3, 43.4), box(74.7, 42.85, 75.3, 43.1)],
            crs="EPSG:4326",
        ).to_file(path)
        assert "adm0.gpkg: #0 (KZ): geometry: overlaps #1 (KG) over" in import_refusal(
            inputs, tmp_path / "out", boundaries=path
        )

    def test_a_self_intersecting_polygon(self, inputs, tmp_path):
        path = tmp_path / "adm0.gpkg"
        bowtie = Polygon([(74.7, 43.05), (75.3, 43.4), (75.3, 43.05), (74.7, 43.4)])
        gpd.GeoDataFrame(
            {"shapeGroup": ["KAZ", "KGZ"]},
            geometry=[bowtie, box(74.7, 42.85, 75.3, 43.05)],
            crs="EPSG:4326",
        ).to_file(path)
        assert "adm0.gpkg: #0 (KZ): geometry: not a valid polygon (Self-intersection" in (
            import_refusal(inputs, tmp_path / "out", boundaries=path)
        )


class TestSolverOutput:
    def test_highs_printing_is_kept_off_stdout(self, capfd):
        # HiGHS told to print (disp) writes from C++ to descriptor 1: the guard keeps it off
        problem = {"c": [-1.0, -2.0], "integrality": [1, 1], "bounds": Bounds(0, 3)}
        milp(**problem, options={"disp": True})
        assert "HiGHS" in capfd.readouterr().out  # it does print without the guard
        with quiet_solver():
            result = milp(**problem, options={"disp": True})
        assert capfd.readouterr().out == ""
        assert list(result.x) == [3.0, 3.0]

    def test_a_capacitated_solve_prints_nothing(self, capfd):
        rng = np.random.default_rng(4)
        costs = rng.uniform(5, 200, (40, 12))
        weights = rng.integers(100, 5000, 40).astype(float)
        capacities = np.full(12, weights.sum() / 3)
        print("before")
        median = CapacitatedPMedian.from_cost_matrix(costs, weights, k=4, capacities=capacities)
        coverage = CapacitatedMaxCoverage.from_cost_matrix(
            costs, weights, 60.0, k=3, capacities=capacities / 2
        )
        assert median.solve().result is not None
        assert coverage.solve().result is not None
        print("after")
        assert capfd.readouterr().out == "before\nafter\n"
