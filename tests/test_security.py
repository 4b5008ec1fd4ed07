"""A hostile bundle: template and script payloads in every text field stay inert text."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from corridor_planner.bundle.corridor import load_corridor
from corridor_planner.network.graph import build_network
from corridor_planner.render import maps, report
from corridor_planner.routing.traveltimes import CorridorTravelTimes

DATA = Path(__file__).parent / "data"


def payloads(marker: Path) -> list[str]:
    """Template, loop, code-execution and script payloads; the third would create ``marker``."""
    return [
        "{{7*7}}",
        "{% for x in [1, 2] %}LOOP{% endfor %}",
        "{{ cycler.__init__.__globals__.os.popen('touch " + str(marker) + "').read() }}",
        "</script><script>window.__pwned = 1</script>",
        '"><img src=x onerror=alert(1)>',
        "${alert(1)}`",
    ]


TEXT_FIELDS = ("name", "source", "reason", "notes")


def hostile_bundle(tmp_path: Path) -> tuple[Path, Path, list[str]]:
    """Copy the tiny corridor and put a payload into every text field of every file."""
    bundle = tmp_path / "hostile"
    shutil.copytree(DATA / "tiny_corridor", bundle)
    marker = tmp_path / "code-ran"
    texts = payloads(marker)
    count = 0
    for path in bundle.glob("*.geojson"):
        data = json.loads(path.read_text(encoding="utf-8"))
        for feature in data["features"]:
            props = feature["properties"]
            for field in TEXT_FIELDS:
                if field in props or field in ("name", "source"):
                    props[field] = f"{props.get(field, '')} {texts[count % len(texts)]}".strip()
                    count += 1
        path.write_text(json.dumps(data), encoding="utf-8")
    toml = bundle / "corridor.toml"
    text = toml.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^name = .*$", f"name = {json.dumps('Tiny ' + texts[2])}", text)
    text = re.sub(r"(?m)^data_date = .*$", "", text)
    text = text.replace("[roads]", f"data_date = {json.dumps(texts[0])}\n\n[roads]", 1)
    toml.write_text(text, encoding="utf-8")
    for scenario in (bundle / "scenarios").glob("*.toml"):
        body = scenario.read_text(encoding="utf-8")
        body = re.sub(r"(?m)^description = .*$", "", body)
        scenario.write_text(f"description = {json.dumps(texts[1])}\n{body}", encoding="utf-8")
    return bundle, marker, texts


def assert_inert(page: str, marker: Path) -> None:
    assert not marker.exists(), "a payload ran a shell command"
    assert "LOOPLOOP" not in page and "LOOP LOOP" not in page, "a {% for %} payload ran"
    assert "{{7*7}}" in page, "the {{7*7}} payload is not shown as text"
    assert " 49" not in page.replace(" 49,", "").replace(" 49.", ""), "{{7*7}} was evaluated"
    assert "<script>window.__pwned" not in page
    assert "<img src=x" not in page


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory):
    bundle, marker, texts = hostile_bundle(tmp_path_factory.mktemp("security"))
    return build_network(load_corridor(bundle)), marker, texts


def test_map_shows_payloads_as_text_and_runs_nothing(hostile) -> None:
    network, marker, _ = hostile
    times = CorridorTravelTimes(network, "citizen", network.corridor.scenario("baseline"))
    fmap = maps.corridor_map(times, "emergency", (30, 60), offline=True)
    page = fmap.get_root().render()
    assert_inert(page, marker)
    assert "Tiny {{ cycler.__init__.__globals__.os.popen(" in page


@pytest.mark.parametrize("render", [report.render_html, report.render_markdown])
def test_report_shows_payloads_as_text_and_runs_nothing(hostile, render) -> None:
    network, marker, _ = hostile
    corridor = network.corridor
    data = report.build_report(network, [corridor.scenario("baseline")])
    page = render(data)
    assert not marker.exists()
    assert "LOOPLOOP" not in page
    assert "<script>window.__pwned" not in page and "<img src=x" not in page
    assert "{{7*7}}" in page or r"\{\{7\*7\}\}" in page


def test_layer_names_are_escaped_for_the_layer_control():
    # Leaflet's layer control sets each name as innerHTML: the name must be escaped text
    from corridor_planner.render import maps

    assert maps._layer("Minutes lost under <img src=x onerror=alert(1)>").layer_name == (
        "Minutes lost under &lt;img src=x onerror=alert(1)&gt;"
    )


def test_a_scenario_file_name_must_be_a_plain_name(tiny_copy):
    import shutil

    from corridor_planner.bundle.corridor import load_corridor
    from corridor_planner.errors import DataError

    scenarios = tiny_copy / "scenarios"
    shutil.copy(scenarios / "borders_closed.toml", scenarios / "x<img src=x>.toml")
    with pytest.raises(DataError, match=r"scenarios/x<img src=x>.toml: -: -: a scenario's file"):
        load_corridor(tiny_copy)
