from __future__ import annotations

import math

import geopandas as gpd
import networkx as nx
import pytest
from shapely.geometry import LineString

from corridor_planner.bundle.corridor import load_corridor
from corridor_planner.errors import DataError
from corridor_planner.network.graph import build_network, graph_from_lines, graph_from_osm_xml
from corridor_planner.network.roads import maxspeed_kph
from corridor_planner.routing.routes import find_route
from tests.helpers import edit_feature


def road_edges(graph, name):
    return [d for _, _, d in graph.edges(data=True) if d.get("name") == name]


class TestOsmRoads:
    def test_published_distance_is_spread_over_the_way(self, tiny_network):
        a_b = road_edges(tiny_network.graph, "A - B")
        assert len(a_b) == 4  # two edges (bend vertex), both directions
        assert sum(d["length"] for d in a_b) == pytest.approx(20_000)
        # the bend sits half way in longitude, so each edge gets ~5 km
        assert all(d["length"] == pytest.approx(5_000, rel=1e-3) for d in a_b)
        assert all(d["length_geometric"] != pytest.approx(d["length"], rel=0.05) for d in a_b)

    def test_travel_time_from_class_speed(self, tiny_network):
        (c_d, _) = road_edges(tiny_network.graph, "C - D")
        assert c_d["speed_kph"] == 70
        assert c_d["travel_time"] == pytest.approx(7_000 / (70 / 3.6))

    def test_maxspeed_caps_the_class_speed(self, tiny_copy):
        osm = tiny_copy / "roads.osm"
        osm.write_text(
            osm.read_text().replace(
                '<tag k="name" v="C - D"/>', '<tag k="name" v="C - D"/><tag k="maxspeed" v="35"/>'
            )
        )
        network = build_network(load_corridor(tiny_copy))
        (c_d, _) = road_edges(network.graph, "C - D")
        assert c_d["speed_kph"] == 35
        assert c_d["travel_time"] == pytest.approx(720)

    @pytest.mark.parametrize(
        ("maxspeed", "kph"), [("KG:urban", 60.0), ("40 mph", 64.3736), ("50|70", 60.0)]
    )
    def test_zone_mph_and_lane_limits_cap_the_class_speed(self, tiny_copy, maxspeed, kph):
        osm = tiny_copy / "roads.osm"
        osm.write_text(
            osm.read_text().replace(
                '<tag k="name" v="C - D"/>',
                f'<tag k="name" v="C - D"/><tag k="maxspeed" v="{maxspeed}"/>',
            )
        )
        network = build_network(load_corridor(tiny_copy))
        (c_d, _) = road_edges(network.graph, "C - D")
        assert c_d["speed_kph"] == pytest.approx(kph)  # class speed 70 km/h
        assert c_d["travel_time"] == pytest.approx(7_000 / (kph / 3.6))

    def test_unreadable_maxspeed_leaves_the_class_speed(self, tiny_copy):
        osm = tiny_copy / "roads.osm"
        osm.write_text(
            osm.read_text().replace(
                '<tag k="name" v="C - D"/>', '<tag k="name" v="C - D"/><tag k="maxspeed" v="0"/>'
            )
        )
        network = build_network(load_corridor(tiny_copy))
        (c_d, _) = road_edges(network.graph, "C - D")
        assert c_d["speed_kph"] == 70

    def test_observed_travel_speed_replaces_the_class_speed(self, tiny_copy):
        osm = tiny_copy / "roads.osm"
        osm.write_text(
            osm.read_text().replace(
                '<tag k="name" v="C - D"/>',
                '<tag k="name" v="C - D"/><tag k="travel_speed" v="28"/>',
            )
        )
        network = build_network(load_corridor(tiny_copy))
        (c_d, _) = road_edges(network.graph, "C - D")
        assert c_d["speed_kph"] == 28
        assert c_d["travel_time"] == pytest.approx(900)

    @pytest.mark.parametrize(
        "tags",
        [
            '<tag k="highway" v="track"/>',
            '<tag k="highway" v="residential"/><tag k="service" v="parking_aisle"/>',
            '<tag k="highway" v="primary"/><tag k="access" v="private"/>',
            '<tag k="highway" v="primary"/><tag k="motor_vehicle" v="no"/>',
            '<tag k="highway" v="pedestrian"/><tag k="area" v="yes"/>',
        ],
    )
    def test_undrivable_ways_are_not_read(self, tiny_copy, tags):
        # way 9 (with its own node 10) would give Town D a short cut to node 1 (Town A)
        osm = tiny_copy / "roads.osm"
        extra = (
            '<node id="10" version="1" lat="43.05" lon="74.90"/>'
            '<way id="9" version="1"><nd ref="5"/><nd ref="10"/><nd ref="1"/>'
            f'{tags}<tag k="is_in:country_code" v="KG"/></way></osm>'
        )
        osm.write_text(osm.read_text().replace("</osm>", extra))
        graph = graph_from_osm_xml(osm)
        assert {d["osmid"] for _, _, d in graph.edges(data=True)} == set(range(1, 9))
        assert 10 not in graph.nodes and {1, 5} <= set(graph.nodes)

    def test_drivable_way_is_read(self, tiny_copy):
        osm = tiny_copy / "roads.osm"
        extra = (
            '<way id="9" version="1"><nd ref="5"/><nd ref="1"/><tag k="highway" v="busway"/>'
            '<tag k="is_in:country_code" v="KG"/></way></osm>'
        )
        osm.write_text(osm.read_text().replace("</osm>", extra))
        assert 9 in {d["osmid"] for _, _, d in graph_from_osm_xml(osm).edges(data=True)}

    def test_no_drivable_way(self, tiny_copy):
        osm = tiny_copy / "roads.osm"
        osm.write_text(
            osm.read_text()
            .replace('v="trunk"', 'v="track"')
            .replace('v="primary"', 'v="path"')
            .replace('v="secondary"', 'v="footway"')
            .replace('v="tertiary"', 'v="steps"')
        )
        with pytest.raises(DataError, match="roads.osm: -: highway: no drivable road"):
            graph_from_osm_xml(osm)

    def test_graph_is_projected(self, tiny_network):
        assert tiny_network.graph.graph["crs"].to_epsg() == 32643

    def test_broken_xml(self, tiny_copy):
        (tiny_copy / "roads.osm").write_text("<osm><node id='1'")
        with pytest.raises(DataError, match="roads.osm: -: -: not well-formed OSM XML"):
            build_network(load_corridor(tiny_copy))

    def test_way_without_country(self, tiny_copy):
        osm = tiny_copy / "roads.osm"
        osm.write_text(
            osm.read_text().replace(
                '<tag k="name" v="C - D"/><tag k="is_in:country_code" v="KG"/>',
                '<tag k="name" v="C - D"/>',
            )
        )
        with pytest.raises(DataError, match="roads.osm: way 4: is_in:country_code: missing"):
            build_network(load_corridor(tiny_copy))

    def test_way_with_bad_distance(self, tiny_copy):
        osm = tiny_copy / "roads.osm"
        osm.write_text(
            osm.read_text().replace('<tag k="distance" v="7"/>', '<tag k="distance" v="seven"/>')
        )
        with pytest.raises(
            DataError, match=r"roads.osm: way 4: distance: must be a number \(km\), got .seven."
        ):
            build_network(load_corridor(tiny_copy))


class TestBorderPosts:
    def test_each_post_is_a_pair_of_policy_edges(self, tiny_network):
        graph = tiny_network.graph
        assert set(tiny_network.post_edges) == {"post_p", "post_q"}
        a, b = tiny_network.post_edges["post_p"][0]
        (data,) = graph.get_edge_data(a, b).values()
        assert data["border_post"] == "post_p"
        assert (data["from_country"], data["to_country"]) == ("KZ", "KG")
        assert graph.nodes[a]["country"] == "KZ" and graph.nodes[b]["country"] == "KG"
        # roads of each country now meet only at their own side of the post
        assert {
            d["country"] for _, _, d in graph.in_edges(a, data=True) if "border_post" not in d
        } == {"KZ"}
        assert {
            d["country"] for _, _, d in graph.in_edges(b, data=True) if "border_post" not in d
        } == {"KG"}

    def test_post_whose_countries_do_not_match_the_roads(self, tiny_copy):
        toml = tiny_copy / "corridor.toml"
        toml.write_text(toml.read_text().replace('["KZ", "KG"]', '["KZ", "KG", "CN"]'))
        edit_feature(
            tiny_copy,
            "border_posts.geojson",
            "post_p",
            countries=["KZ", "CN"],
            delay_minutes={
                "KZ->CN": {"citizen": 5, "third_country": 5, "ambulance": 5},
                "CN->KZ": {"citizen": 5, "third_country": 5, "ambulance": 5},
            },
        )
        with pytest.raises(
            DataError,
            match=r"border_posts.geojson: post_p: countries: post joins \['CN', 'KZ'\] "
            r"but the roads on either side are in \['KG', 'KZ'\]",
        ):
            build_network(load_corridor(tiny_copy))

    def test_post_away_from_any_border_road(self, tiny_copy):
        edit_feature(
            tiny_copy,
            "border_posts.geojson",
            "post_q",
            geometry={"type": "Point", "coordinates": [74.9, 43.3]},
        )
        with pytest.raises(
            DataError,
            match="border_posts.geojson: post_q: geometry: no road node where two "
            "countries meet within 3 km",
        ):
            build_network(load_corridor(tiny_copy))


class TestSnapping:
    def snap(self, network, ref):
        return network.snaps.set_index("id").loc[ref]

    def test_access_leg_to_the_nearest_node(self, tiny_network):
        row = self.snap(tiny_network, "hosp_d")
        assert row["snapped"]
        assert row["access_m"] == pytest.approx(1_000, rel=0.01)
        (leg,) = tiny_network.graph.get_edge_data(row["node"], row["road_node"]).values()
        assert leg["highway"] == "access"
        assert leg["travel_time"] == pytest.approx(row["access_m"] / (20 / 3.6))

    def test_points_snap_only_to_roads_of_their_own_country(self, tiny_network):
        row = self.snap(tiny_network, "borderville")
        assert tiny_network.graph.nodes[row["road_node"]]["country"] == "KZ"
        assert row["access_m"] == pytest.approx(4_450, rel=0.02)

    def test_point_beyond_the_snap_limit_is_reported_not_attached(self, tiny_network):
        row = self.snap(tiny_network, "faraway")
        assert not row["snapped"]
        assert row["access_m"] == pytest.approx(22_200, rel=0.01)
        assert tiny_network.node_of("settlement", "faraway") is None
        assert not any(d.get("ref") == "faraway" for _, d in tiny_network.graph.nodes(data=True))

    def test_summary_counts(self, tiny_network):
        summary = tiny_network.summary()
        assert summary["border_posts"] == 2
        assert summary["snapped"]["settlement"] == {"total": 4, "snapped": 3}
        assert summary["road_km"] == pytest.approx(10 + 4 + 4 + 7 + 12 + 5 + 5 + 12)


class TestGisLines:
    """Ministry road lines (GeoPackage / GeoJSON) build the same graph as the OSM file."""

    def write_lines(self, tiny_copy, suffix):
        osm_graph = graph_from_osm_xml(tiny_copy / "roads.osm")
        rows, seen = [], set()
        for u, v, d in osm_graph.edges(data=True):
            if (d["osmid"], frozenset((u, v))) in seen:
                continue
            seen.add((d["osmid"], frozenset((u, v))))
            rows.append(
                {
                    "road_class": d["highway"],
                    "country": d["country"],
                    "name": d["name"],
                    "distance_km": float(d["distance"])
                    * d["length"]
                    / sum(
                        e["length"]
                        for _, _, e in osm_graph.edges(data=True)
                        if e["osmid"] == d["osmid"]
                    )
                    * 2,
                    "geometry": LineString(
                        [(osm_graph.nodes[n]["x"], osm_graph.nodes[n]["y"]) for n in (u, v)]
                    ),
                }
            )
        path = tiny_copy / f"roads{suffix}"
        gpd.GeoDataFrame(rows, crs="EPSG:4326").to_crs("EPSG:32643").to_file(path)
        toml = tiny_copy / "corridor.toml"
        toml.write_text(
            toml.read_text().replace(
                'file = "roads.osm"\nformat = "osm_xml"',
                f'file = "roads{suffix}"\nformat = "lines"\nclass_column = "road_class"',
            )
        )
        return path

    @pytest.mark.parametrize("suffix", [".gpkg", ".geojson"])
    def test_same_routes_as_osm(self, tiny_copy, tiny_network, suffix):
        self.write_lines(tiny_copy, suffix)
        network = build_network(load_corridor(tiny_copy))
        for profile in ("citizen", "cargo"):
            expected = find_route(tiny_network, "Town A", "Town D", profile=profile)
            got = find_route(network, "Town A", "Town D", profile=profile)
            assert got.minutes == pytest.approx(expected.minutes, abs=0.1)
            assert got.km == pytest.approx(expected.km, abs=0.01)
            assert got.border_posts == expected.border_posts

    def test_oneway_lines_are_one_directed_edge(self, tmp_path):
        path = tmp_path / "r.geojson"
        gpd.GeoDataFrame(
            {"highway": ["primary", "primary"], "country": ["KG", "KG"], "oneway": ["yes", "no"]},
            geometry=[
                LineString([(74.0, 42.0), (74.1, 42.0)]),
                LineString([(74.1, 42.0), (74.2, 42.0)]),
            ],
            crs="EPSG:4326",
        ).to_file(path)
        graph = graph_from_lines(path)
        assert graph.number_of_edges() == 3
        assert nx.has_path(graph, 1, 3) and not nx.has_path(graph, 3, 1)
        assert all(
            math.isclose(d["length"], 8_280, rel_tol=0.01) for _, _, d in graph.edges(data=True)
        )

    def test_missing_columns(self, tmp_path):
        path = tmp_path / "r.geojson"
        gpd.GeoDataFrame(
            {"kind": ["primary"]}, geometry=[LineString([(74, 42), (74.1, 42)])], crs="EPSG:4326"
        ).to_file(path)
        with pytest.raises(DataError, match="r.geojson: -: highway: column missing"):
            graph_from_lines(path)


class TestMaxspeed:
    #: The 11 strings of osmnx's own test (tests/test_osmnx.py, test_routing) and its answers.
    @pytest.mark.parametrize(
        ("value", "kph"),
        [
            ("5", 5.0),
            ("5 mph", 8.0467),
            ("100,2", 100.2),
            ("100.2", 100.2),
            ("100 km/h", 100.0),
            ("100 mph", 160.934),
            ("60|100", 80.0),
            ("60|100 mph", 128.7472),
            ("signal", None),
            ("100;70", None),
            ("FR:urban", 50.0),
        ],
    )
    def test_osmnx_test_strings(self, value, kph):
        assert maxspeed_kph(value) == (None if kph is None else pytest.approx(kph))

    def test_lists_from_simplification_average_their_readable_values(self):
        assert maxspeed_kph(["25 mph", "30 mph"]) == pytest.approx(44.25685)
        assert maxspeed_kph(["mph", "kph"]) is None
        assert maxspeed_kph(["60", "signals", "KZ:rural"]) == pytest.approx(85.0)

    @pytest.mark.parametrize(
        ("value", "kph"),
        [
            ("KZ:urban", 60.0),
            ("KZ:rural", 110.0),
            ("KZ:motorway", 140.0),
            ("KG:rural", 90.0),
            ("RU:rural", 90.0),
            ("PK:urban", 55.0),
            ("CN:motorway", 120.0),
            ("UZ:urban", 60.0),
            ("TJ:urban", None),  # no sourced figure: left out, not guessed
            ("kz:urban", None),  # country codes are upper case
            ("KZ:trunk", None),
        ],
    )
    def test_national_implicit_limits(self, value, kph):
        assert maxspeed_kph(value) == kph

    @pytest.mark.parametrize(
        ("value", "kph"),
        [
            ("10 knots", 18.52),
            ("50kmh", 50.0),
            ("50  km/h", None),  # two spaces: not the wiki's form
            ("none", None),
            ("walk", None),
            ("", None),
            (None, None),
            (float("nan"), None),
            (60, 60.0),
            (45.5, 45.5),
        ],
    )
    def test_other_forms(self, value, kph):
        assert maxspeed_kph(value) == (None if kph is None else pytest.approx(kph))


def test_pieces_of_many_nodes_equal_one_search_each(tiny_network):
    """The one backward search gives every snapped node the piece a search per node gives."""
    from corridor_planner.network.pieces import piece_of_node, pieces_of_nodes

    graph, pieces = tiny_network.graph, tiny_network.pieces
    nodes = list(graph.nodes)
    assert pieces_of_nodes(graph, pieces, nodes) == [piece_of_node(graph, pieces, n) for n in nodes]
    # a node that reaches no counted node has no piece
    graph = graph.copy()
    graph.add_node("island")
    assert pieces_of_nodes(graph, pieces, ["island"]) == [None]
