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


def test_prepare_builds_the_hierarchy_of_a_large_network(tiny_copy, monkeypatch):
    """At or above ``CH_MIN_NODES`` the hierarchy is built and stored; without numba, said."""
    from corridor_planner import extras
    from corridor_planner.cli.prepare import prepare_hierarchy
    from corridor_planner.routing import engine
    from corridor_planner.routing.traveltimes import road_engine

    network = build_network(load_corridor(tiny_copy))
    monkeypatch.setattr(engine, "CH_MIN_NODES", 1)  # the tiny graph counts as large
    monkeypatch.setattr(extras, "missing", lambda extra: ["numba"])
    assert prepare_hierarchy(network).startswith("not built (needs the optional extra `fast`")
    assert road_engine(network)._hierarchy is None
    monkeypatch.undo()
    monkeypatch.setattr(engine, "CH_MIN_NODES", 1)
    assert prepare_hierarchy(network).startswith("ready (")
    assert road_engine(network)._hierarchy is not None
    assert list((tiny_copy / ".cache").glob("hierarchy-*.npz"))  # stored beside the network
