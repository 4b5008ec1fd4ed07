"""Import real-format files (PBF by pyosmium, GeoTIFF by rasterio, CSV, XLSX, GeoPackage).

The files reproduce the tiny corridor (tests/data/README.md) without any country tag, so
the imported bundle must give its hand-computed answers.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import osmnx as ox
import pandas as pd
import pytest
import rasterio
from click.testing import CliRunner
from rasterio.transform import from_origin
from shapely.geometry import box

from corridor_planner import settings
from corridor_planner.bundle.corridor import load_corridor
from corridor_planner.bundle.drivable import drivable, filter_terms, matches_filter
from corridor_planner.cli import main
from corridor_planner.errors import DataError, NoRouteError
from corridor_planner.importer import ImportOptions, import_bundle
from corridor_planner.network.graph import build_network
from corridor_planner.routing.routes import find_route

DATA = Path(__file__).parent / "data" / "tiny_corridor"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"

NODES = {
    1: (74.90, 43.10),
    2: (75.00, 43.10),
    3: (75.00, 43.05),
    4: (75.00, 43.00),
    5: (74.90, 43.00),
    6: (75.10, 43.05),
    7: (75.10, 43.10),
    8: (75.10, 43.00),
    9: (74.95, 43.10),
}
WAYS = {
    1: ([1, 9, 2], {"highway": "trunk", "ref": "T-1", "name": "A - B", "distance": "10"}),
    2: ([2, 3], {"highway": "trunk", "ref": "T-1", "name": "B - P", "distance": "4"}),
    3: ([3, 4], {"highway": "trunk", "ref": "T-1", "name": "P - C", "distance": "4"}),
    4: ([4, 5], {"highway": "primary", "name": "C - D", "distance": "7"}),
    5: ([2, 7], {"highway": "secondary", "name": "B - E", "distance": "12"}),
    6: ([7, 6], {"highway": "tertiary", "name": "E - Q", "distance": "5"}),
    7: ([6, 8], {"highway": "tertiary", "name": "Q - F", "distance": "5"}),
    8: ([8, 4], {"highway": "secondary", "name": "F - C", "distance": "12"}),
    9: ([5, 1], {"highway": "footway", "name": "a path, not a road"}),
}


#: Ways and whether osmnx's "drive" network keeps them, worked by hand from its filter.
DRIVE_CASES = [
    ({"highway": "residential"}, True),
    ({"highway": "motorway_link"}, True),
    ({"highway": "primary", "access": "destination"}, True),
    ({"highway": "primary", "area": "no"}, True),
    ({"highway": "busway"}, True),  # not in osmnx's list: kept
    ({"highway": "bus_stop"}, True),
    ({"highway": "via_ferrata"}, True),
    ({"highway": "service"}, False),
    ({"highway": "service", "service": "parking_aisle"}, False),
    ({"highway": "residential", "service": "parking_aisle"}, False),
    ({"highway": "unclassified", "service": "driveway"}, False),
    ({"highway": "residential", "service": "alley"}, False),
    ({"highway": "track"}, False),
    ({"highway": "track", "tracktype": "grade1"}, False),
    ({"highway": "footway"}, False),
    ({"highway": "primary", "access": "private"}, False),
    ({"highway": "primary", "access": "private;customers"}, False),  # found anywhere
    ({"highway": "tertiary", "motor_vehicle": "no"}, False),
    ({"highway": "tertiary", "motorcar": "no"}, False),
    ({"highway": "pedestrian", "area": "yes"}, False),
    ({"highway": "primary", "area": "yes"}, False),
    ({"highway": "unknown"}, False),  # contains "no"
    ({"name": "no highway tag"}, False),
    ({}, False),
]


class TestDrivableFilter:
    def test_the_filter_is_osmnx_drive_filter(self):
        assert ox._overpass._get_network_filter("drive") == settings.DRIVE_FILTER

    @pytest.mark.parametrize(("tags", "kept"), DRIVE_CASES)
    def test_ways_by_hand_and_by_osmnx_filter_string(self, tags, kept):
        assert drivable(tags) is kept
        assert matches_filter(tags, ox._overpass._get_network_filter("drive")) is kept

    def test_pyosmium_tags_are_read_the_same(self, tmp_path):
        path = tmp_path / "ways.osm"
        with osmium.SimpleWriter(str(path)) as writer:
            for index, (tags, _) in enumerate(DRIVE_CASES, start=1):
                writer.add_way(osmium.osm.mutable.Way(id=index, nodes=[1, 2], tags=tags))
        verdicts = {w.id: drivable(w.tags) for w in osmium.FileProcessor(str(path))}
        assert verdicts == {i: kept for i, (_, kept) in enumerate(DRIVE_CASES, start=1)}

    @pytest.mark.parametrize(
        ("query", "terms"),
        [
            ('["highway"]', [("highway", None, "")]),
            ('["a"="b"]["c"!="d"]', [("a", "=", "b"), ("c", "!=", "d")]),
            ('["a"~"x|y"]["b"!~"z"]', [("a", "~", "x|y"), ("b", "!~", "z")]),
        ],
    )
    def test_filter_terms(self, query, terms):
        assert filter_terms(query) == terms

    def test_filter_terms_refuse_other_text(self):
        with pytest.raises(ValueError, match="not an Overpass tag filter"):
            filter_terms('["highway"] or ["railway"]')

    def test_equality_terms(self):
        assert matches_filter({"a": "b"}, '["a"="b"]')
        assert not matches_filter({"a": "bb"}, '["a"="b"]')
        assert matches_filter({}, '["a"!="b"]')
        assert not matches_filter({}, '["a"~"b"]')


def write_pbf(path: Path, with_q_post: bool = True) -> Path:
    """The tiny corridor's roads as an OSM PBF, with no country tags."""
    with osmium.SimpleWriter(str(path)) as writer:
        for node_id, (lon, lat) in NODES.items():
            tags = {}
            if node_id == 6 and with_q_post:
                tags = {"barrier": "border_control", "name": "Post Q", "opening_hours": "24/7"}
            writer.add_node(osmium.osm.mutable.Node(id=node_id, location=(lon, lat), tags=tags))
        writer.add_node(
            osmium.osm.mutable.Node(
                id=100,
                location=(74.9, 43.009),
                tags={"amenity": "hospital", "name": "Hospital D", "emergency": "yes"},
            )
        )
        for way_id, (nodes, tags) in WAYS.items():
            writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=nodes, tags=tags))
    return path


def write_boundaries(path: Path) -> Path:
    """KZ north of 43.05 N, KG south of it (3-letter codes, as geoBoundaries gives)."""
    table = gpd.GeoDataFrame(
        {"shapeGroup": ["KAZ", "KGZ"]},
        geometry=[box(74.7, 43.05, 75.3, 43.4), box(74.7, 42.85, 75.3, 43.05)],
        crs="EPSG:4326",
    )
    table.to_file(path, driver="GPKG")
    return path


def write_posts(path: Path) -> Path:
    """Post P from the tiny bundle, in the bundle format."""
    data = json.loads((DATA / "border_posts.geojson").read_text(encoding="utf-8"))
    data["features"] = [f for f in data["features"] if f["properties"]["id"] == "post_p"]
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def write_facilities_csv(path: Path) -> Path:
    """Healthsites.io-style CSV: Hospital D, a pharmacy, a clinic with no name, one far away."""
    pd.DataFrame(
        {
            "X": [74.9, 74.95, 75.05, 80.0],
            "Y": [43.009, 43.1, 43.02, 43.0],
            "osm_id": ["n1", "n2", "n3", "n4"],
            "amenity": ["hospital", "pharmacy", "clinic", "hospital"],
            "name": ["Hospital D", "Pharmacy", None, "Far Hospital"],
            "healthcare:speciality": ["surgery;emergency;acupuncture", None, None, None],
            "operator:type": ["public", "private", None, None],
            "beds": [100, None, None, None],
        }
    ).to_csv(path, index=False)
    return path


def write_population_tif(path: Path) -> Path:
    """0.01-degree cells centred on 74.80..75.20 E, 43.35..42.90 N; towns A and D."""
    values = np.zeros((46, 41), dtype=np.float32)
    values[round((43.35 - 43.10) / 0.01), round((74.90 - 74.80) / 0.01)] = 10_000.0  # Town A
    values[round((43.35 - 43.00) / 0.01), round((74.90 - 74.80) / 0.01)] = 5_000.0  # Town D
    values[1, 39] = 7.3  # a few people near a corner
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=values.shape[0],
        width=values.shape[1],
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=from_origin(74.795, 43.355, 0.01, 0.01),
        nodata=-99999.0,
    ) as dst:
        dst.write(values, 1)
    return path


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


def run_import(inputs, dest: Path, **changes):
    options = {
        "dest": dest,
        "roads": str(inputs["roads"]),
        "boundaries": inputs["boundaries"],
        "facilities": str(inputs["facilities"]),
        "population": inputs["population"],
        "population_year": 2020,
        "cell_km": 0.5,
        "border_posts": inputs["posts"],
        "bbox": (74.8, 42.9, 75.2, 43.35),
        "licence": "CC0 (test data)",
        **changes,
    }
    return import_bundle(ImportOptions(**options))


@pytest.fixture(scope="module")
def imported(inputs, tmp_path_factory):
    dest = tmp_path_factory.mktemp("bundles") / "tiny_import"
    summary = run_import(inputs, dest)
    return dest, summary, build_network(load_corridor(dest))


class TestImportedTinyCorridor:
    def test_the_bundle_loads_with_countries_from_the_boundaries(self, imported):
        dest, summary, network = imported
        corridor = network.corridor
        assert corridor.countries == ("KG", "KZ")
        roads = gpd.read_file(dest / "roads.gpkg")
        assert set(roads["country"]) == {"KZ", "KG"}
        assert 9 not in set(roads["id"])  # the footway is not a road
        assert summary.counts["crossings"] == 2

    def test_hand_computed_routes(self, imported):
        _, _, network = imported
        corridor = network.corridor
        # Town A -> Town D for a citizen via post P (20 min): 7.5 + 3 + 20 + 3 + 6
        route = find_route(network, "43.1,74.9", "43.0,74.9")
        assert route.minutes == pytest.approx(39.5, abs=0.1)
        assert route.border_posts == ["Post P"]
        # with P closed, round by Q, an OSM post with a 0 min delay assumed
        closed = corridor.scenario("baseline").__class__(
            name="p_closed", post_regimes={"post_p": "closed"}
        )
        around = find_route(network, "43.1,74.9", "43.0,74.9", scenario=closed)
        assert around.border_posts == ["Post Q"]
        assert around.minutes == pytest.approx(7.5 + 12 + 6 + 0 + 6 + 12 + 6, abs=0.1)

    def test_facilities_follow_the_healthsites_rules(self, imported):
        dest, summary, _ = imported
        features = json.loads((dest / "facilities.geojson").read_text())["features"]
        assert [f["properties"]["name"] for f in features] == ["Hospital D"]
        hospital = features[0]["properties"]
        assert hospital["country"] == "KG" and hospital["level"] == "district"
        assert hospital["services"] == ["surgery", "emergency"]
        assert (hospital["beds"], hospital["operator"]) == (100, "public")
        text = " ".join(summary.lines)
        assert "1 dropped: not a facility type modelled (pharmacy)" in text
        assert "1 dropped: no name" in text and "1 dropped: outside the clip area" in text
        assert "healthcare:speciality=acupuncture (1)" in text

    def test_access_gives_the_tiny_corridors_answer(self, imported):
        from corridor_planner.analysis.access import nearest_facility_times
        from corridor_planner.routing.traveltimes import CorridorTravelTimes

        _, _, network = imported
        times = CorridorTravelTimes(network, "citizen", network.corridor.scenario("baseline"))
        table = nearest_facility_times(times, "emergency").sort_values("population")
        # Town D 3 min (1 km access leg), Town A 39.5 + 3 across P
        minutes = dict(zip(table["population"], table["minutes"], strict=True))
        assert minutes[5_000] == pytest.approx(3.0, abs=0.05)
        assert minutes[10_000] == pytest.approx(42.5, abs=0.1)

    def test_population_total_is_kept(self, imported):
        dest, summary, _ = imported
        features = json.loads((dest / "population.geojson").read_text())["features"]
        total = sum(f["properties"]["population"] for f in features)
        assert total == 15_007  # 15,007.3 read, whole people
        assert abs(total - summary.counts["population_read"]) / total < 0.005
        assert {f["properties"]["population_year"] for f in features} == {2020}

    def test_sources_list_every_input_with_its_hash_and_licence(self, imported, inputs):
        import hashlib

        dest, _, _ = imported
        text = (dest / "SOURCES.md").read_text()
        for path in inputs.values():
            assert hashlib.sha256(path.read_bytes()).hexdigest() in text
        assert "CC0 (test data)" in text


class TestCrossingsWithoutAPost:
    def test_a_crossing_with_no_post_is_closed_not_free(self, inputs, tmp_path):
        dest = tmp_path / "no_p"
        summary = run_import(inputs, dest, border_posts=None)
        assert summary.counts["crossings_closed"] == 1
        network = build_network(load_corridor(dest))
        route = find_route(network, "43.1,74.9", "43.0,74.9")
        assert route.border_posts == ["Post Q"]  # never through the unposted crossing at P
        posts = json.loads((dest / "border_posts.geojson").read_text())["features"]
        closed = [p["properties"] for p in posts if p["properties"].get("unposted")]
        assert closed[0]["opening_hours"] == "off" and set(closed[0]["countries"]) == {"KZ", "KG"}

    def test_no_post_at_all_means_no_route_across(self, tmp_path, inputs):
        pbf = write_pbf(tmp_path / "no_q.osm.pbf", with_q_post=False)
        dest = tmp_path / "closed"
        run_import(inputs, dest, roads=str(pbf), border_posts=None)
        network = build_network(load_corridor(dest))
        with pytest.raises(NoRouteError):
            find_route(network, "43.1,74.9", "43.0,74.9")


class TestOtherFormats:
    def test_xlsx_with_a_mapping(self, inputs, tmp_path):
        sheet = tmp_path / "ministry.xlsx"
        pd.DataFrame(
            {
                "Facility": ["Hospital D", "Clinic X"],
                "Type": ["Raion hospital", "Unknown type"],
                "Services": ["Emergency; Surgery", "Emergency"],
                "Lat": [43.009, 43.1],
                "Lon": [74.9, 74.95],
            }
        ).to_excel(sheet, index=False)
        mapping = tmp_path / "map.toml"
        mapping.write_text(
            '[columns]\nname = "Facility"\nlevel = "Type"\nservices = "Services"\n'
            '[levels]\n"Raion hospital" = "district"\n'
            '[services]\nemergency = "emergency"\nsurgery = "surgery"\n',
            encoding="utf-8",
        )
        dest = tmp_path / "xlsx"
        summary = run_import(inputs, dest, facilities=str(sheet), facility_schema=str(mapping))
        features = json.loads((dest / "facilities.geojson").read_text())["features"]
        assert [f["properties"]["services"] for f in features] == [["emergency", "surgery"]]
        assert "level=unknown type (1)" in " ".join(summary.lines)

    def test_places_table_and_gis_roads(self, inputs, tmp_path):
        roads = gpd.read_file(run_import(inputs, tmp_path / "first").dest / "roads.gpkg")
        lines = tmp_path / "lines.geojson"
        roads.drop(columns=["country"]).to_file(lines, driver="GeoJSON")
        places = tmp_path / "places.csv"
        pd.DataFrame(
            {
                "name": ["Town A", "Town D"],
                "population": [10_000, 5_000],
                "lat": [43.1, 43.0],
                "lon": [74.9, 74.9],
            }
        ).to_csv(places, index=False)
        dest = tmp_path / "gis"
        run_import(inputs, dest, roads=str(lines), population=places)
        network = build_network(load_corridor(dest))
        assert find_route(network, "Town A", "Town D").minutes == pytest.approx(39.5, abs=0.1)

    def test_facilities_from_the_extract(self, inputs, tmp_path):
        dest = tmp_path / "osm_facilities"
        run_import(inputs, dest, facilities="osm", facility_schema="osm")
        features = json.loads((dest / "facilities.geojson").read_text())["features"]
        assert [(f["properties"]["name"], f["properties"]["services"]) for f in features] == [
            ("Hospital D", ["emergency"])
        ]


class TestErrors:
    def test_bad_boundaries_column(self, inputs, tmp_path):
        with pytest.raises(DataError, match="adm0.gpkg: -: ISO: country column missing"):
            run_import(inputs, tmp_path / "x", country_column="ISO")

    def test_not_a_pbf(self, inputs, tmp_path):
        bad = tmp_path / "bad.osm.pbf"
        bad.write_bytes(b"not osm at all")
        with pytest.raises(DataError, match="bad.osm.pbf: -: -: not a readable OSM file"):
            run_import(inputs, tmp_path / "x", roads=str(bad))

    def test_destination_not_empty(self, inputs, tmp_path):
        dest = tmp_path / "full"
        dest.mkdir()
        (dest / "keep.txt").write_text("x")
        with pytest.raises(DataError, match="folder is not empty"):
            run_import(inputs, dest)
        assert (dest / "keep.txt").read_text() == "x"  # nothing replaced

    def test_download_needs_an_area(self, inputs, tmp_path):
        with pytest.raises(DataError, match="downloading needs --bbox or --clip"):
            run_import(inputs, tmp_path / "x", roads="osm", bbox=None)

    def test_cli_import_then_validate_then_access(self, inputs, tmp_path):
        dest = tmp_path / "cli_bundle"
        runner = CliRunner()
        result = runner.invoke(
            main,
            [
                "import",
                str(dest),
                "--roads",
                str(inputs["roads"]),
                "--boundaries",
                str(inputs["boundaries"]),
                "--facilities",
                str(inputs["facilities"]),
                "--facility-schema",
                "healthsites",
                "--population",
                str(inputs["population"]),
                "--cell-km",
                "0.5",
                "--border-posts",
                str(inputs["posts"]),
                "--bbox",
                "74.8,42.9,75.2,43.35",
                "--licence",
                "CC0",
            ],
        )
        assert result.exit_code == 0, result.output
        assert "at 43.05, 75.0 (T-1 P - C): post post_p" in result.output
        assert "at 43.05, 75.1 (Q - F): post node_6" in result.output
        result = runner.invoke(main, ["validate", str(dest)])
        assert result.exit_code in (0, 2), result.output
        result = runner.invoke(
            main, ["access", str(dest), "--service", "emergency", "--threshold", "1h"]
        )
        assert result.exit_code == 0, result.output
        bad = runner.invoke(
            main,
            [
                "import",
                str(tmp_path / "y"),
                "--roads",
                "x.pbf",
                "--boundaries",
                str(inputs["boundaries"]),
            ],
        )
        assert bad.exit_code == 1 and "x.pbf: -: -: roads file not found" in bad.output


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data (real open files) is not here")
def test_real_almaty_extract_with_kazakh_boundaries_and_kyrgyz_facilities(tmp_path):
    """The real 2012 Almaty OSM extract (no country tags), geoBoundaries KAZ, HOT KG health."""
    dest = tmp_path / "almaty"
    summary = import_bundle(
        ImportOptions(
            dest=dest,
            roads=str(SHARED / "almaty-2012.osm.pbf"),
            boundaries=SHARED / "geoBoundaries-KAZ-ADM2.geojson",
            country_column="shapeGroup",
            facilities="osm",
            facility_schema="osm",
            bbox=(76.80, 43.20, 76.98, 43.30),
            licence="ODbL (OpenStreetMap contributors); geoBoundaries CC BY 4.0",
        )
    )
    assert summary.counts["road_km"] > 100
    network = build_network(load_corridor(dest))
    assert network.corridor.countries == ("KZ",)
    route = find_route(network, "43.24,76.85", "43.26,76.95")
    assert 5 < route.km < 30
    shutil.rmtree(dest)


def test_census_totals_are_spread_over_the_raster(inputs, tmp_path):
    census = tmp_path / "census.gpkg"
    gpd.GeoDataFrame(
        {"pop2021": [20_000, 6_000]},
        geometry=[box(74.7, 43.05, 75.3, 43.4), box(74.7, 42.85, 75.3, 43.05)],
        crs="EPSG:4326",
    ).to_file(census, driver="GPKG")
    dest = tmp_path / "census"
    run_import(inputs, dest, census=census, census_column="pop2021", bbox=None)
    features = json.loads((dest / "population.geojson").read_text())["features"]
    by_country = {}
    for f in features:
        by_country[f["properties"]["country"]] = (
            by_country.get(f["properties"]["country"], 0) + f["properties"]["population"]
        )
    # KZ: Town A's 10,000 and the corner's 7.3 scaled to 20,000; KG: Town D's 5,000 to 6,000
    assert by_country == {"KZ": 20_000, "KG": 6_000}
