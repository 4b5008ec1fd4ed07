"""`prepare` builds the network once; every later command loads it."""

import json

from click.testing import CliRunner

from corridor_planner import build_network, find_route, load_corridor
from corridor_planner.cli import main


def test_prepare_builds_once_then_loads(tiny_copy):
    runner = CliRunner()
    first = runner.invoke(main, ["prepare", str(tiny_copy), "--format", "json"])
    assert first.exit_code == 0, first.output
    built = json.loads(first.stdout)
    assert built["prepared_from"] == "built" and built["bytes"] > 0
    assert built["file"].endswith("network.zip")
    assert built["summary"]["counts"]["facilities"] == 2  # Hospital D and Clinic A
    # a small network needs no contraction hierarchy (Dijkstra answers), and says so
    assert built["hierarchy"].startswith("not needed (")
    again = runner.invoke(main, ["prepare", str(tiny_copy)])
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith("already prepared (loaded from ")
    # a command after it reads the same stored network and gives the hand-computed route
    route = runner.invoke(
        main,
        ["route", str(tiny_copy), "--from", "Town A", "--to", "Hospital D", "--format", "json"],
    )
    assert route.exit_code == 0, route.output
    fresh = find_route(build_network(load_corridor(tiny_copy)), "Town A", "Hospital D")
    assert json.loads(route.stdout)["minutes"] == round(fresh.minutes, 1)


def test_verbose_shows_the_time_of_each_step(tiny_copy):
    result = CliRunner().invoke(main, ["-v", "prepare", str(tiny_copy)])
    assert result.exit_code == 0, result.output
    assert "hashing the bundle's files: " in result.stderr
