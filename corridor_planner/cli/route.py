"""``corridor-planner route``: the fastest route between two places."""

from __future__ import annotations

import datetime as dt

import click

from corridor_planner.cli.formatting import print_route
from corridor_planner.cli.options import (
    DEPART_OPTION,
    FORMAT_OPTION,
    KEEP_ALL_PIECES_OPTION,
    PROFILE_OPTION,
    SCENARIO_OPTION,
    friendly_errors,
)


@click.command(name="route")
@click.argument("corridor")
@click.option(
    "--from", "origin", required=True, help="Settlement or facility name, id, or 'lat,lon'."
)
@click.option(
    "--to", "destination", required=True, help="Settlement or facility name, id, or 'lat,lon'."
)
@PROFILE_OPTION
@SCENARIO_OPTION
@DEPART_OPTION
@KEEP_ALL_PIECES_OPTION
@FORMAT_OPTION
@friendly_errors
def command(
    corridor: str,
    origin: str,
    destination: str,
    profile: str,
    scenario: str,
    depart: dt.datetime | None,
    keep_all_pieces: bool,
    fmt: str,
) -> None:
    """Fastest route between two places, with the border posts crossed, waits and legs."""
    from corridor_planner.bundle.corridor import load_corridor
    from corridor_planner.cli.options import network_of
    from corridor_planner.routing.routes import find_route

    loaded = load_corridor(corridor)
    network = network_of(loaded, keep_all_pieces)
    result = find_route(
        network,
        origin,
        destination,
        profile=profile,
        scenario=loaded.scenario(scenario),
        depart=depart,
    )
    print_route(result, fmt)
