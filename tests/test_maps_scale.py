"""Maps of many settlements and facilities: cells, dissolved bands, light markers."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from corridor_planner.bundle.corridor import load_corridor
from corridor_planner.network.graph import build_network
from corridor_planner.render import map_cells, maps
from corridor_planner.routing.traveltimes import CorridorTravelTimes
from tests.helpers import large_corridor

#: Generated settlements and facilities, and the limits the tests lower to cross them fast.
SETTLEMENTS, FACILITIES = 1_500, 40
POINT_LIMIT, FACILITY_LIMIT = 1_000, 30
MAX_MAP_BYTES = 25 * 1024 * 1024


@pytest.fixture(scope="module")
def big_network(tmp_path_factory):
    folder = large_corridor(tmp_path_factory.mktemp("big") / "big", SETTLEMENTS, FACILITIES)
    return build_network(load_corridor(folder))


@pytest.fixture
def lowered(monkeypatch):
    """Cross the map's limits with a corridor small enough to build in a second."""
    monkeypatch.setattr(maps, "MAP_POINT_LIMIT", POINT_LIMIT)
    monkeypatch.setattr(maps, "MAP_FACILITY_LIMIT", FACILITY_LIMIT)


@pytest.fixture
def big_page(big_network, lowered):
    times = CorridorTravelTimes(big_network, "citizen", big_network.corridor.scenario("baseline"))
    return maps.render_map(times, "emergency", big_network.corridor.thresholds_min, offline=True)


class TestAggregatedMap:
    def test_cells_replace_the_settlement_markers(self, big_page, big_network):
        assert len(big_page.encode("utf-8")) < MAX_MAP_BYTES
        assert "CellLayer" not in big_page  # element names never reach the page
        assert "L.geoJSON(cells" in big_page
        markers = big_page.count("L.circleMarker(")
        facilities = sum(
            len({maps._service_group(s) for s in services})
            for services in big_network.corridor.facilities["services"]
        )
        posts = len(big_network.corridor.posts)
        assert markers == facilities + posts  # no settlement is drawn as a marker

    def test_legend_says_how_settlements_are_aggregated(self, big_page):
        note = re.search(
            r"([\d,]+) settlements aggregated into ([\d,]+) hexagons ([\d.]+) km", big_page
        )
        assert note is not None
        assert int(note.group(1).replace(",", "")) <= SETTLEMENTS
        assert int(note.group(2).replace(",", "")) > 1
        assert "in cells" in big_page

    def test_only_the_largest_places_are_named(self, big_page):
        named = re.findall(r'"name": "Settlement \d+"', big_page)
        assert 0 < len(named) <= maps.MAP_LABEL_LIMIT + FACILITIES

    def test_facilities_are_light_and_escaped(self, big_page):
        assert "<img src=x" not in big_page and "onerror=alert(3)>" not in big_page
        assert "no popup" in big_page
        assert "People for whom it is the nearest" not in big_page

    def test_catchments_are_one_polygon_per_band(self, big_network, lowered):
        times = CorridorTravelTimes(
            big_network, "citizen", big_network.corridor.scenario("baseline")
        )
        fmap = maps.corridor_map(times, "emergency", [30, 60], offline=True)
        page = fmap.get_root().render()
        labels = re.findall(r"within (\d+) min \(emergency\)", page)
        assert sorted(labels) == ["30", "60"]

    def test_below_the_limits_every_settlement_is_a_circle(self, tiny_network):
        times = CorridorTravelTimes(
            tiny_network, "citizen", tiny_network.corridor.scenario("baseline")
        )
        page = maps.render_map(times, "emergency", [30, 60], offline=True)
        assert "L.geoJSON(cells" not in page
        assert "aggregated" not in page

    def test_compare_map_draws_changes_in_cells(self, big_network, lowered):
        corridor = big_network.corridor
        reference = CorridorTravelTimes(big_network, "citizen", corridor.scenario("baseline"))
        closed = CorridorTravelTimes(big_network, "citizen", corridor.scenario("borders_closed"))
        page = maps.render_map(reference, "emergency", [30, 60], compare=closed, offline=True)
        assert page.count("L.geoJSON(cells") == 3  # people on each pane, changes on the second
        assert "Settlements: change in minutes to emergency, in cells" in page
        assert page.count("L.circleMarker(") < 2 * 3 * FACILITIES


class TestCells:
    def test_points_fall_in_the_hexagon_of_the_nearest_centre(self):
        rng = np.random.default_rng(1)
        x, y = rng.uniform(-50_000, 50_000, 5_000), rng.uniform(-50_000, 50_000, 5_000)
        size = 5_000.0
        q, r = map_cells.hex_axial(x, y, size)
        radius = size / math.sqrt(3)
        cx, cy = radius * math.sqrt(3) * (q + r / 2), radius * 1.5 * r
        assert np.all(np.hypot(x - cx, y - cy) <= radius + 1e-6)  # inside the circumcircle
        offsets = [(1, 0), (0, 1), (-1, 1), (-1, 0), (0, -1), (1, -1)]
        own = np.hypot(x - cx, y - cy)
        for dq, dr in offsets:  # no neighbour's centre is nearer
            nx_ = radius * math.sqrt(3) * (q + dq + (r + dr) / 2)
            ny_ = radius * 1.5 * (r + dr)
            assert np.all(own <= np.hypot(x - nx_, y - ny_) + 1e-6)

    def test_cells_keep_every_person_and_grow_to_stay_few(self, big_network):
        settlements = big_network.corridor.population.copy()
        settlements["minutes"] = np.where(np.arange(len(settlements)) % 5 == 0, np.inf, 45.0)
        limits = [30, 60, 120, math.inf]
        bands = map_cells.time_bands(settlements["minutes"].to_numpy(), limits)
        few = map_cells.bin_settlements(
            settlements, big_network.corridor.crs, bands, 5, max_cells=20
        )
        assert len(few) <= 20 and few.size_km > 5
        assert few.people.sum() == pytest.approx(settlements["population"].sum())
        assert few.counts.sum() == len(settlements)
        assert set(few.band) <= {1, 4}
        assert all(ring[0] == ring[-1] and len(ring) == 7 for ring in few.rings)

    def test_time_bands_follow_the_map_classes(self):
        minutes = np.array([0, 30, 30.5, 60, 119, 120, 121, 10_000, np.inf])
        limits = [limit for limit, _ in maps.TIME_CLASSES]
        bands = map_cells.time_bands(minutes, limits)
        colours = [*[c for _, c in maps.TIME_CLASSES], maps.UNREACHABLE]
        assert [colours[b] for b in bands] == [maps._time_colour(m) for m in minutes]

    def test_median_band_is_where_half_the_people_are(self):
        people = np.array([[10, 0, 0, 90], [60, 40, 0, 0], [0, 0, 0, 1]])
        assert list(map_cells.median_band(people)) == [3, 0, 3]

    def test_change_bands_match_change_style(self):
        inf = math.inf
        was = np.array([10, 10, 10, 10, 10, 10, inf, inf, 10])
        now = np.array([10.2, 5, 20, 40, 200, inf, 30, inf, 25.0])
        bands = maps.change_bands(was, now)
        for w, n, b in zip(was, now, bands, strict=True):
            assert maps.CHANGE_BANDS[b][1] == maps.change_style(w, n)[0]
