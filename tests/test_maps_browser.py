"""The offline map opened in headless Chromium with the network cut (Debian's chromium)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from corridor_planner.analysis.catchments import facility_catchments
from corridor_planner.analysis.referral import pathways
from corridor_planner.analysis.scoring import score_sites
from corridor_planner.bundle.cover_rules import Patient
from corridor_planner.outputs import write_text
from corridor_planner.render import maps
from corridor_planner.render.pdf import CHROMIUM_ARGS
from corridor_planner.routing.traveltimes import CorridorTravelTimes

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    if os.environ.get("CI"):
        pytest.fail("CI must install Debian's chromium (see .ci/run)", pytrace=False)
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")

ARGS = list(CHROMIUM_ARGS)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def open_offline(browser, path: Path, screenshot: Path, size=(1280, 860)):
    """Open a map with the network cut; collect requests, script errors and dialogs."""
    context = browser.new_context(offline=True, viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    requests, errors = [], []
    page.on("dialog", lambda d: (errors.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_function(
        "typeof L !== 'undefined' && document.querySelectorAll('.cp-legend').length > 0"
        " && document.querySelectorAll('path.leaflet-interactive').length > 0"
    )
    page.wait_for_timeout(300)  # let controls settle (the legend folds in small windows)
    page.screenshot(path=str(screenshot))
    return page, context, requests, errors


def test_tiny_map_renders_offline(browser, tiny, tiny_network, tmp_path):
    closed = CorridorTravelTimes(tiny_network, "citizen", tiny.scenario("borders_closed"))
    scores = score_sites(closed, "emergency", 60, 1, method="gain")
    times = CorridorTravelTimes(tiny_network, "citizen", tiny.scenario("baseline"))
    found, _ = pathways(times, "emergency", Patient(), top=1)
    fmap = maps.corridor_map(
        times, "emergency", (30, 60), scores=scores, pathways=found, offline=True
    )
    path = write_text(fmap.get_root().render(), tmp_path / "tiny.html")
    page, context, requests, errors = open_offline(browser, path, tmp_path / "tiny.png")
    try:
        assert page.evaluate("L.version") == "1.9.4"
        # visible layers: 9 road edges + 2 catchments + 3 settlements + 1 emergency
        # facility + 2 posts + 1 candidate + 1 referral route (the fixture has no border line)
        assert page.locator("path.leaflet-interactive").count() == 9 + 2 + 3 + 1 + 2 + 1 + 1
        assert page.locator(".leaflet-control-layers").count() == 1
        assert page.locator(".cp-legend").count() == 1
        assert "Tiny test corridor" in page.locator(".cp-title").inner_text()
        assert [r for r in requests if not r.startswith(("file:", "data:"))] == []
        assert errors == []
        assert (tmp_path / "tiny.png").stat().st_size > 10_000
    finally:
        context.close()


def test_escaped_names_show_as_text(browser, tmp_path):
    from corridor_planner.bundle.corridor import load_corridor
    from corridor_planner.network.graph import build_network
    from tests.helpers import edit_feature

    bundle = tmp_path / "tiny"
    shutil.copytree(Path(__file__).parent / "data" / "tiny_corridor", bundle)
    evil = "<img src=x onerror=alert(1)>"
    edit_feature(bundle, "facilities.geojson", "hosp_d", name=evil)
    corridor = load_corridor(bundle)
    network = build_network(corridor)
    times = CorridorTravelTimes(network, "citizen", corridor.scenario("baseline"))
    fmap = maps.corridor_map(times, "emergency", (30,), offline=True)
    path = write_text(fmap.get_root().render(), tmp_path / "evil.html")
    page, context, requests, errors = open_offline(browser, path, tmp_path / "evil.png")
    try:
        opened = page.evaluate(
            "Object.values(window).filter(v => v && v.getPopup && v.getPopup()"
            " && String(v.getPopup().getContent()).includes('onerror'))"
            ".map(v => { v.openPopup(); return 1; }).length"
        )
        assert opened >= 1
        page.wait_for_timeout(300)
        popup = page.locator(".leaflet-popup-content")
        assert evil in popup.inner_text()  # shown as text ...
        assert popup.locator("img").count() == 0  # ... never as an element
        assert errors == []  # no alert() dialog, no script error
        assert [r for r in requests if not r.startswith(("file:", "data:"))] == []
    finally:
        context.close()


def test_bundled_corridor_map_renders_offline(browser, almaty_bishkek, tmp_path):
    corridor = almaty_bishkek.corridor
    times = CorridorTravelTimes(almaty_bishkek, "citizen", corridor.scenario("baseline"))
    fmap = maps.corridor_map(times, "emergency", corridor.thresholds_min, offline=True)
    path = write_text(fmap.get_root().render(), tmp_path / "ab.html")
    page, context, requests, errors = open_offline(browser, path, tmp_path / "ab.png")
    try:
        roads = {
            frozenset((u, v))
            for u, v, d in almaty_bishkek.graph.edges(data=True)
            if d.get("highway") not in ("access", "border_crossing")
        }
        # the shown facility layer is emergency's group: emergency, trauma, intensive care
        # (a trauma centre without emergency, such as Bishkek's, is drawn there too)
        shown = dict(maps.SERVICE_GROUPS)["emergency and critical care"]
        emergency = sum(any(x in shown for x in s) for s in corridor.facilities["services"])
        # the bundle's approximate border line is hidden by default (Natural Earth's shows)
        catchments = len(facility_catchments(times, "emergency", corridor.thresholds_min))
        expected = len(roads) + catchments + len(corridor.population)
        expected += emergency + len(corridor.posts)  # settlements, facilities, posts
        assert page.locator("path.leaflet-interactive").count() == expected
        assert [r for r in requests if not r.startswith(("file:", "data:"))] == []
        assert errors == []
    finally:
        context.close()


def test_hostile_bundle_runs_nothing_in_the_browser(browser, tmp_path):
    from corridor_planner.bundle.corridor import load_corridor
    from corridor_planner.network.graph import build_network
    from tests.test_security import hostile_bundle

    bundle, marker, _ = hostile_bundle(tmp_path)
    corridor = load_corridor(bundle)
    network = build_network(corridor)
    times = CorridorTravelTimes(network, "citizen", corridor.scenario("baseline"))
    fmap = maps.corridor_map(times, "emergency", (30, 60), offline=True)
    path = write_text(fmap.get_root().render(), tmp_path / "hostile.html")
    page, context, requests, errors = open_offline(browser, path, tmp_path / "hostile.png")
    try:
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert "Tiny {{ cycler.__init__" in page.locator(".cp-title").inner_text()
        assert errors == []  # no alert() dialog, no script error
        assert not marker.exists()
        assert [r for r in requests if not r.startswith(("file:", "data:"))] == []
    finally:
        context.close()


#: Window sizes a planner opens maps at: a laptop and a small window.
WINDOWS = ((1366, 768), (800, 600))

CONTROL_BOXES = """() => Array.from(document.querySelectorAll('.leaflet-control'))
  .filter(e => e.offsetParent !== null)
  .map(e => { const r = e.getBoundingClientRect();
              return {cls: e.className, x: r.left, y: r.top, r: r.right, b: r.bottom}; })"""


def overlapping(boxes):
    """Pairs of control boxes that overlap (by more than a pixel)."""
    pairs = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            if min(a["r"], b["r"]) - max(a["x"], b["x"]) > 1 and (
                min(a["b"], b["b"]) - max(a["y"], b["y"]) > 1
            ):
                pairs.append((a["cls"], b["cls"]))
    return pairs


def open_at(browser, path: Path, size, screenshot: Path):
    """Open a map at a window size; return the page, its context and its errors."""
    page, context, _, errors = open_offline(browser, path, screenshot, size)
    return page, context, errors


@pytest.mark.parametrize("bundle", ["almaty_bishkek", "cpec_karakoram", "cpec_gwadar"])
def test_bundled_maps_at_two_sizes_nothing_overlaps(browser, bundle, tmp_path):
    from corridor_planner.bundle.corridor import load_corridor
    from corridor_planner.network.graph import build_network

    corridor = load_corridor(bundle)
    network = build_network(corridor)
    fmap = maps.planner_map(
        CorridorTravelTimes(network, "citizen", corridor.scenario("baseline")),
        "emergency",
        corridor.thresholds_min,
        with_sites=True,
        referral_specialty="surgery",
        offline=True,
    )
    path = write_text(fmap.get_root().render(), tmp_path / f"{bundle}.html")
    for width, height in WINDOWS:
        shot = tmp_path / f"{bundle}_{width}x{height}.png"
        page, context, errors = open_at(browser, path, (width, height), shot)
        try:
            boxes = page.evaluate(CONTROL_BOXES)
            kinds = " ".join(b["cls"] for b in boxes)
            for expected in ("cp-title", "cp-legend", "cp-search", "leaflet-control-scale"):
                assert expected in kinds
            assert overlapping(boxes) == []
            for b in boxes:  # every control wholly inside the window: nothing cut off
                assert b["x"] >= 0 and b["y"] >= 0 and b["r"] <= width and b["b"] <= height
            # the country areas draw with no tiles: context offline
            assert page.locator("path:not(.leaflet-interactive)").count() >= len(corridor.countries)
            assert page.locator(".cp-country").count() >= len(corridor.countries)
            # a small window opens with the legend folded; unfolded it still fits
            legend = page.locator(".cp-legend details")
            assert legend.evaluate("d => d.open") == (width >= 900 and height >= 700)
            legend.locator("summary").click()
            page.wait_for_timeout(100)
            assert overlapping(page.evaluate(CONTROL_BOXES)) == []
            assert errors == []
            assert shot.stat().st_size > 20_000
        finally:
            context.close()


def test_search_opens_the_place(browser, almaty_bishkek, tmp_path):
    corridor = almaty_bishkek.corridor
    times = CorridorTravelTimes(almaty_bishkek, "citizen", corridor.scenario("baseline"))
    fmap = maps.corridor_map(times, "emergency", corridor.thresholds_min, offline=True)
    path = write_text(fmap.get_root().render(), tmp_path / "search.html")
    page, context, errors = open_at(browser, path, WINDOWS[0], tmp_path / "search.png")
    try:
        box = page.locator(".cp-search input")
        box.fill("Tokmok (settlement)")
        box.dispatch_event("change")
        page.wait_for_timeout(400)
        assert "Tokmok" in page.locator(".leaflet-popup-content").inner_text()
        assert page.evaluate("Object.values(window).find(v => v instanceof L.Map).getZoom()") >= 11
        assert errors == []
    finally:
        context.close()


def test_compare_panes_move_together(browser, almaty_bishkek, tmp_path):
    corridor = almaty_bishkek.corridor
    page_html = maps.compare_map(
        CorridorTravelTimes(almaty_bishkek, "citizen", corridor.scenario("baseline")),
        CorridorTravelTimes(almaty_bishkek, "citizen", corridor.scenario("borders_closed")),
        "emergency",
        corridor.thresholds_min,
        offline=True,
    ).render()
    path = write_text(page_html, tmp_path / "compare.html")
    for width, height in WINDOWS:
        shot = tmp_path / f"compare_{width}.png"
        page, context, errors = open_at(browser, path, (width, height), shot)
        try:
            maps_ = "Object.values(window).filter(v => v instanceof L.Map)"
            assert page.evaluate(f"{maps_}.length") == 2
            page.evaluate(f"{maps_}[0].setView([42.87, 74.6], 10)")
            page.wait_for_timeout(200)
            centre = page.evaluate(
                f"{maps_}.map(m => [m.getCenter().lat, m.getCenter().lng, m.getZoom()])"
            )
            assert centre[0] == pytest.approx(centre[1])
            assert centre[1][2] == 10
            assert overlapping(page.evaluate(CONTROL_BOXES)) == []
            assert errors == []
        finally:
            context.close()


LEGEND_AND_LIST = """() => {
  const legend = document.querySelector('.cp-legend');
  const explained = Array.from(legend.querySelectorAll('[data-layers]'))
    .flatMap(e => JSON.parse(e.dataset.layers));
  const listed = Array.from(document.querySelectorAll(
    '.leaflet-control-layers-overlays label span')).map(e => e.textContent.trim());
  const box = e => { const r = e.getBoundingClientRect();
    return {cls: e.className, x: r.left, y: r.top, r: r.right, b: r.bottom}; };
  return {explained, listed, list: box(document.querySelector('.leaflet-control-layers')),
          legend: box(legend)};
}"""


def test_legend_explains_every_layer_and_the_open_list_clears_it(browser, almaty_bishkek, tmp_path):
    corridor = almaty_bishkek.corridor
    fmap = maps.planner_map(
        CorridorTravelTimes(almaty_bishkek, "citizen", corridor.scenario("baseline")),
        "emergency",
        corridor.thresholds_min,
        with_sites=True,
        referral_specialty="surgery",
        offline=True,
    )
    path = write_text(fmap.get_root().render(), tmp_path / "legend.html")
    for width, height in WINDOWS:
        page, context, errors = open_at(browser, path, (width, height), tmp_path / "l.png")
        try:
            page.hover(".leaflet-control-layers")
            page.wait_for_timeout(200)
            found = page.evaluate(LEGEND_AND_LIST)
            assert len(found["listed"]) >= 10
            assert set(found["listed"]) <= set(found["explained"])
            assert "expanded" in found["list"]["cls"]
            assert overlapping([found["list"], found["legend"]]) == []
            assert errors == []
        finally:
            context.close()


def _png(rgb) -> bytes:
    """A 256 x 256 PNG of one colour (written by hand: no imaging library needed)."""
    import struct
    import zlib

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\0" + bytes(rgb) * 256 for _ in range(256))
    header = struct.pack(">IIBBBBB", 256, 256, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def tile_server():
    """A local tile server: /ok/{z}/{x}/{y}.png is a flat colour, anything else 404."""
    import http.server
    import threading

    tile = _png(TILE_RGB)

    class Tiles(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path.startswith("/ok/") and self.path.endswith(".png"):
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()
                self.wfile.write(tile)
            else:
                self.send_error(404)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Tiles)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


TILE_RGB = (181, 217, 245)


def open_online(browser, path: Path, screenshot: Path):
    """Open a map with the network on (loopback only is served)."""
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_function("document.querySelectorAll('.cp-legend').length > 0")
    page.wait_for_timeout(800)
    page.screenshot(path=str(screenshot))
    return page, context, errors


def test_online_map_shows_its_tiles_and_says_when_they_fail(
    browser, tiny, tiny_network, tile_server, tmp_path
):
    from PIL import Image

    times = CorridorTravelTimes(tiny_network, "citizen", tiny.scenario("baseline"))
    served = {"Test tiles": (f"{tile_server}/ok/{{z}}/{{x}}/{{y}}.png", "test tiles")}
    fmap = maps.corridor_map(times, "emergency", (30, 60), tiles=served)
    path = write_text(fmap.get_root().render(), tmp_path / "online.html")
    shot = tmp_path / "online.png"
    page, context, errors = open_online(browser, path, shot)
    try:
        assert page.locator("img.leaflet-tile-loaded").count() > 0
        assert page.locator(".cp-tile-notice").count() == 0
        # the countries are outlines: the tiles' colour fills most of the window
        image = Image.open(shot).convert("RGB")
        colours = image.getcolors(maxcolors=image.width * image.height)
        share = sum(
            n
            for n, rgb in colours
            if max(abs(a - b) for a, b in zip(rgb, TILE_RGB, strict=True)) < 6
        )
        assert share / (image.width * image.height) > 0.4
        assert page.locator("path[fill-opacity='0']").count() >= len(tiny.countries)
        assert errors == []
    finally:
        context.close()
    missing = {"Test tiles": (f"{tile_server}/gone/{{z}}/{{x}}/{{y}}.png", "test tiles")}
    fmap = maps.corridor_map(times, "emergency", (30, 60), tiles=missing)
    path = write_text(fmap.get_root().render(), tmp_path / "gone.html")
    page, context, errors = open_online(browser, path, tmp_path / "gone.png")
    try:
        notice = page.locator(".cp-tile-notice")
        assert notice.count() == 1 and notice.is_visible()  # once, however many tiles failed
        assert "could not load" in notice.inner_text()
        assert page.locator(".cp-legend").count() == 1  # the data still show
    finally:
        context.close()


def test_aggregated_map_opens_fast_without_errors(browser, tmp_path, monkeypatch):
    """A map over the point limit: cells and light facilities open offline within 10 s."""
    import time

    from corridor_planner.bundle.corridor import load_corridor
    from corridor_planner.network.graph import build_network
    from tests.helpers import large_corridor

    monkeypatch.setattr(maps, "MAP_POINT_LIMIT", 1_000)
    monkeypatch.setattr(maps, "MAP_FACILITY_LIMIT", 30)
    corridor = load_corridor(large_corridor(tmp_path / "big", 1_500, 40))
    times = CorridorTravelTimes(build_network(corridor), "citizen", corridor.scenario("baseline"))
    html = maps.render_map(times, "emergency", corridor.thresholds_min, offline=True)
    path = write_text(html, tmp_path / "big.html")
    started = time.monotonic()
    page, context, requests, errors = open_offline(browser, path, tmp_path / "big.png")
    try:
        assert time.monotonic() - started < 10
        assert errors == []
        assert [r for r in requests if not r.startswith(("file:", "data:"))] == []
        assert page.locator("canvas").count() >= 1  # the cells' canvas
        assert "aggregated into" in page.locator(".cp-legend").inner_text()
        assert page.locator("img[src=x]").count() == 0
    finally:
        context.close()
