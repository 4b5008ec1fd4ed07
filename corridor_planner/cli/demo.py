"""``corridor-planner demo``: the main job on a bundled corridor, end to end."""

from __future__ import annotations

import click

from corridor_planner import settings
from corridor_planner.cli.formatting import print_access, print_route, print_summary, say
from corridor_planner.cli.options import friendly_errors

DEFAULT_CORRIDOR = "almaty_bishkek"


@click.command(name="demo")
@click.option("--corridor", "corridor", default=DEFAULT_CORRIDOR, show_default=True)
@friendly_errors
def command(corridor: str) -> None:
    """Run the main job on a bundled corridor: validate, route, access, report, map."""
    from corridor_planner.analysis.access import access_report
    from corridor_planner.bundle.corridor import load_corridor
    from corridor_planner.cli.options import network_of
    from corridor_planner.network.graph import validation_summary
    from corridor_planner.network.places import demo_places
    from corridor_planner.outputs import write_text
    from corridor_planner.render import maps, report
    from corridor_planner.routing.routes import find_route
    from corridor_planner.routing.traveltimes import CorridorTravelTimes

    loaded = load_corridor(corridor)
    network = network_of(loaded)
    print_summary(validation_summary(network))
    say("")
    origin, destination = loaded.demo_route or demo_places(network)
    print_route(find_route(network, origin, destination), "table")
    say("")
    baseline = CorridorTravelTimes(network, settings.DEFAULT_PROFILE, loaded.scenario("baseline"))
    closed = CorridorTravelTimes(
        network, settings.DEFAULT_PROFILE, loaded.scenario("borders_closed")
    )
    emergency = access_report(baseline, "emergency", loaded.thresholds_min, compare=closed)
    print_access(loaded.id, emergency)
    say("")
    data = report.build_report(network, report.default_scenarios(loaded))
    path = report.write_report(data, report.default_report_path(loaded.id))
    say(f"wrote the ministry report: {path}")
    page = maps.render_map(
        baseline,
        "emergency",
        loaded.thresholds_min,
        with_sites=True,
        referral_specialty="surgery",
        offline=True,
    )
    path = write_text(page, maps.default_map_path(loaded.id))
    say(f"wrote the planner map (opens offline): {path}")
