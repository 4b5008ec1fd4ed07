"""The real Islamabad-Rawalpindi OSM extract (2020), imported as a user would.

Boundaries are the Natural Earth 10m Pakistan polygon shipped in the
package's own Natural Earth file; facilities come from the extract; no population
file is given. The import keeps every piece of road (``keep_all_pieces``) so that both the
loader's default (largest connected piece) and the pieces themselves can be checked.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest

from corridor_planner.analysis.access import access_report
from corridor_planner.bundle.corridor import load_corridor
from corridor_planner.bundle.scenario import BASELINE
from corridor_planner.errors import NoRouteError
from corridor_planner.importer import ImportOptions, import_bundle
from corridor_planner.importer.topology import connected_lines
from corridor_planner.network.graph import build_network
from corridor_planner.network.roads import graph_from_lines
from corridor_planner.render.map_context import natural_earth
from corridor_planner.routing.routes import find_route
from corridor_planner.routing.traveltimes import CorridorTravelTimes

_HERE = Path(__file__).resolve()
SHARED = next(
    (p / "shared" / "data" for p in _HERE.parents if (p / "shared" / "data").is_dir()),
    _HERE.parents[2] / "shared" / "data",
)
EXTRACT = SHARED / "islamabad-2020.osm.pbf"
#: Islamabad and Rawalpindi (the extract's nodes reach far beyond, its roads do not).
BBOX = (72.85, 33.50, 73.25, 33.80)
PIMS = "Pakistan Institute for Medical Sciences (PIMS)"
SHIFA = "Shifa International Hospital"

pytestmark = pytest.mark.skipif(
    not EXTRACT.is_file(), reason="../shared/data/islamabad-2020.osm.pbf is not here"
)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """Import the extract once: Natural Earth Pakistan, OSM facilities, no population."""
    folder = tmp_path_factory.mktemp("islamabad")
    countries, _ = natural_earth()  # the package's own Natural Earth 1:10m countries
    boundaries = folder / "pakistan.gpkg"
    countries[countries["iso_a2"] == "PK"][["iso_a2", "geometry"]].to_file(
        boundaries, driver="GPKG"
    )
    dest = folder / "bundle"
    summary = import_bundle(
        ImportOptions(
            dest=dest,
            roads=str(EXTRACT),
            boundaries=boundaries,
            facilities="osm",
            facility_schema="osm",
            bbox=BBOX,
            keep_all_pieces=True,
            licence="ODbL (OpenStreetMap contributors); Natural Earth public domain",
        )
    )
    return dest, summary


@pytest.fixture(scope="module")
def network(bundle):
    return build_network(load_corridor(bundle[0]))


@pytest.fixture(scope="module")
def every_piece(bundle):
    return build_network(load_corridor(bundle[0]), keep_all_pieces=True)


def facility_nodes(net):
    snaps = net.snaps[net.snaps["kind"] == "facility"]
    return snaps


class TestConnectedNetwork:
    def test_every_facility_is_on_the_largest_piece(self, network):
        facilities = facility_nodes(network)
        assert len(facilities) == len(network.corridor.facilities) > 40
        assert facilities["snapped"].all()
        assert set(facilities["piece"]) == {0}
        assert nx.number_strongly_connected_components(network.graph) == 1

    def test_every_facility_reaches_every_other(self, network):
        nodes = list(facility_nodes(network)["node"])
        minutes = CorridorTravelTimes(network, "citizen", BASELINE).matrix(nodes, nodes) / 60
        assert np.isfinite(minutes).all()
        assert minutes.max() < 180  # one metropolitan area

    def test_route_between_two_hospitals_of_islamabad(self, network):
        route = find_route(network, SHIFA, PIMS)
        assert 2 < route.km < 12  # H-8 to G-8, across the Kashmir Highway
        assert route.border_posts == []

    def test_pieces_match_networkx_on_the_raw_graph(self, bundle, network):
        dest, summary = bundle
        raw = graph_from_lines(
            dest / "roads.gpkg", class_column="highway", country_column="country"
        )
        components = sorted(nx.strongly_connected_components(raw), key=len, reverse=True)
        assert summary.counts["road_pieces"] == len(components) == len(network.pieces.nodes)
        assert network.pieces.left_out == len(components) - 1 > 100
        left_out_nodes = raw.number_of_nodes() - len(components[0])
        assert summary.counts["road_left_out_nodes"] == left_out_nodes
        assert network.pieces.left_out_nodes == left_out_nodes
        assert summary.counts["road_left_out_km"] == pytest.approx(
            network.pieces.left_out_km, rel=0.01
        )
        assert (
            f"{len(components) - 1:,} pieces cut off from it (no way there and back) kept "
            f"(keep_all_pieces): {left_out_nodes:,} junctions" in summary.lines[1]
        )
        assert network.summary()["pieces"]["left_out"] == len(components) - 1

    def test_the_default_import_drops_the_pieces(self, bundle):
        lines = gpd.read_file(bundle[0] / "roads.gpkg")
        kept, pieces = connected_lines(lines)
        assert len(kept) < len(lines)
        assert pieces.left_out == bundle[1].counts["road_pieces_left_out"]
        assert connected_lines(kept)[1].pieces == 1


class TestHonestReasons:
    def test_a_facility_on_a_cut_off_piece_says_so(self, every_piece):
        facilities = facility_nodes(every_piece)
        cut_off = facilities[facilities["piece"] != 0]
        assert len(cut_off) >= 1  # real OSM: some are mapped beside roads that lead nowhere
        name = cut_off.iloc[0]["name"]
        with pytest.raises(NoRouteError) as exc:
            for a, b in itertools.permutations([name, PIMS]):
                find_route(every_piece, a, b)
        assert f"{name} lies on a piece of road cut off from the rest" in str(exc.value)
        assert "border post" not in str(exc.value)


@pytest.fixture(scope="module")
def facilities(bundle):
    data = json.loads((bundle[0] / "facilities.geojson").read_text(encoding="utf-8"))
    return {f["properties"]["name"]: f["properties"] for f in data["features"]}


class TestServicesAndPopulation:
    def test_a_childrens_hospital_is_paediatric_by_its_name(self, facilities):
        ihs = facilities["IHS - Hospital for Children"]
        assert ihs["services"] == ["paediatrics"]
        assert ihs["services_estimated"] == {"paediatrics": "name"}

    def test_eye_hospitals_get_no_emergency_guess(self, facilities, bundle):
        assert not [n for n in facilities if "eye hospital" in n.lower()]
        assert bundle[1].lines and any(
            "only care outside the service vocabulary" in line for line in bundle[1].lines
        )

    def test_guesses_are_counted_and_ruled_in_sources(self, bundle, facilities):
        dest, summary = bundle
        estimated = [p for p in facilities.values() if "services_estimated" in p]
        assert summary.counts["facilities_services_estimated"] == len(estimated)
        assert summary.counts["services_estimated"]["paediatrics (name)"] >= 1
        sources = (dest / "SOURCES.md").read_text(encoding="utf-8")
        assert "services_estimated" in sources and "-> paediatrics" in sources

    def test_geonames_places_are_the_population(self, bundle):
        dest, summary = bundle
        data = json.loads((dest / "population.geojson").read_text(encoding="utf-8"))
        people = {f["properties"]["name"]: f["properties"] for f in data["features"]}
        assert people["Islamabad"]["population"] == 601_600  # GeoNames 1176615
        assert people["Islamabad"]["population_year"] is None
        assert "GeoNames" in people["Rawalpindi"]["source"]
        assert summary.counts["population_from_geonames"] is True
        sources = (dest / "SOURCES.md").read_text(encoding="utf-8")
        assert "GeoNames populated places" in sources and "does not give" in sources

    def test_access_runs_and_reaches_everyone(self, network):
        report = access_report(
            CorridorTravelTimes(network, "citizen", BASELINE), "emergency", [30, 60]
        )
        assert report.unreachable["settlements"] == 0
        everyone = report.coverage[
            (report.coverage["country"] == "all") & (report.coverage["group"] == "all")
        ]
        assert everyone["population"].iloc[0] == sum(network.corridor.population["population"])
