"""``corridor-planner map``: one self-contained HTML map of a corridor."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from corridor_planner.cli.formatting import say
from corridor_planner.cli.options import (
    DEPART_OPTION,
    KEEP_ALL_PIECES_OPTION,
    PROFILE_OPTION,
    SCENARIO_OPTION,
    Duration,
    friendly_errors,
    out_option,
    refuse_bundle_output,
    steps,
)


@click.command(name="map")
@click.argument("corridor")
@click.option(
    "--service", default="emergency", show_default=True, help="Service whose access is shown."
)
@SCENARIO_OPTION
@PROFILE_OPTION
@DEPART_OPTION
@click.option(
    "--threshold",
    "thresholds",
    type=Duration(),
    multiple=True,
    help="Catchment thresholds (repeatable): 30min, 1h, 2h. Default: the corridor's.",
)
@click.option("--with-sites", is_flag=True, help="Show candidate sites scored for SERVICE.")
@click.option(
    "--with-referrals",
    "referral_specialty",
    default=None,
    help="Draw referral routes for a specialty.",
)
@click.option(
    "--compare",
    "compare_with",
    default=None,
    metavar="SCENARIO",
    help="Two synchronised panes: --scenario left, this scenario right, settlements coloured "
    "by the minutes they lose.",
)
@click.option("--offline", is_flag=True, help="No tiles, Leaflet inline: opens with no network.")
@KEEP_ALL_PIECES_OPTION
@out_option("Output .html (default: maps/CORRIDOR.html).")
@friendly_errors
def command(
    corridor: str,
    service: str,
    scenario: str,
    profile: str,
    depart: dt.datetime | None,
    thresholds: tuple[float, ...],
    with_sites: bool,
    referral_specialty: str | None,
    compare_with: str | None,
    offline: bool,
    keep_all_pieces: bool,
    out: Path | None,
) -> None:
    """Write one self-contained HTML map of the corridor for planners."""
    from corridor_planner.bundle.corridor import load_corridor
    from corridor_planner.cli.options import network_of
    from corridor_planner.outputs import write_text
    from corridor_planner.render import maps
    from corridor_planner.routing.traveltimes import CorridorTravelTimes

    refuse_bundle_output(out, corridor)
    loaded = load_corridor(corridor)
    path = out or maps.default_map_path(loaded.id, scenario, compare_with, offline)
    refuse_bundle_output(path, corridor)
    maps.check_map_request(path, compare_with, with_sites, referral_specialty)
    other = loaded.scenario(compare_with) if compare_with else None
    with steps("map", 2) as advance:
        network = network_of(loaded, keep_all_pieces)
        advance()
        times = CorridorTravelTimes(network, profile, loaded.scenario(scenario), depart=depart)
        page = maps.render_map(
            times,
            service,
            thresholds or loaded.thresholds_min,
            compare=None
            if other is None
            else CorridorTravelTimes(network, profile, other, depart=depart),
            with_sites=with_sites,
            referral_specialty=referral_specialty,
            offline=offline,
        )
        advance()
    write_text(page, path)
    say(f"wrote {path}")
