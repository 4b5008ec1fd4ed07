"""``corridor-planner score-sites``: rank candidate sites for a new centre."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from corridor_planner import settings
from corridor_planner.cli.formatting import print_json, print_notes, print_scores, say, score_notes
from corridor_planner.cli.options import (
    DEPART_OPTION,
    FORMAT_OPTION,
    KEEP_ALL_PIECES_OPTION,
    PROFILE_OPTION,
    SCENARIO_OPTION,
    Duration,
    GroupWeight,
    Plausible,
    friendly_errors,
    out_option,
    refuse_bundle_output,
    steps,
)


@click.command(name="score-sites")
@click.argument("corridor")
@click.option("--service", required=True, help="Service the new sites would offer.")
@click.option("--threshold", type=Duration(), required=True, help="Access threshold: 2h, 90min...")
@click.option(
    "-k",
    "k",
    type=click.IntRange(min=1),
    default=None,
    help="Sites to choose (default 3; with --budget, at most this many, default all).",
)
@click.option(
    "--method",
    type=click.Choice(settings.SITING_METHODS),
    default="mclp",
    show_default=True,
    help="gain: each site alone; mclp: exact max coverage; greedy; pmedian: least "
    "weighted travel time; capacitated: mclp within each site's service capacity; "
    "lscp: fewest sites bringing everyone within the threshold (-k unused); lscpb: as many "
    "sites, most covered twice; pcenter: shortest longest trip; pmedian-capacitated: "
    "p-median within capacities; budget: implied by --budget.",
)
@PROFILE_OPTION
@SCENARIO_OPTION
@DEPART_OPTION
@click.option(
    "--weight-group",
    "weight_groups",
    type=GroupWeight(),
    multiple=True,
    help="Count a group more: border_community=2, migrants=1.5 (repeatable).",
)
@click.option(
    "--service-capacity",
    type=Plausible("population"),
    default=None,
    help="People a site can serve, for candidates whose service_capacity gives none "
    "(capacitated and pmedian-capacitated only).",
)
@click.option(
    "--site-capacity",  # the old name, kept hidden so that scripts keep working
    "old_site_capacity",
    type=Plausible("population"),
    default=None,
    hidden=True,
)
@click.option(
    "--budget",
    type=Plausible("cost"),
    default=None,
    help="Choose the best sites whose candidates' cost fits this budget (exact MCLP).",
)
@KEEP_ALL_PIECES_OPTION
@out_option("Write the ranked sites: .csv, .geojson or .gpkg.")
@FORMAT_OPTION
@friendly_errors
def command(
    corridor: str,
    service: str,
    threshold: float,
    k: int | None,
    method: str,
    profile: str,
    scenario: str,
    depart: dt.datetime | None,
    weight_groups: tuple[tuple[str, float], ...],
    service_capacity: float | None,
    old_site_capacity: float | None,
    budget: float | None,
    keep_all_pieces: bool,
    out: Path | None,
    fmt: str,
) -> None:
    """Rank candidate sites for a new SERVICE centre (existing facilities stay).

    With --budget, choose the best set whose candidates' costs fit the budget (exact).
    """
    from corridor_planner.analysis import scoring
    from corridor_planner.bundle.corridor import load_corridor
    from corridor_planner.cli.options import network_of
    from corridor_planner.outputs import write_table
    from corridor_planner.routing.traveltimes import CorridorTravelTimes

    if old_site_capacity is not None:
        say("note: --site-capacity is now --service-capacity (people a site can serve)", err=True)
        service_capacity = service_capacity if service_capacity is not None else old_site_capacity
    method, count = scoring.site_request(method, k, budget)
    refuse_bundle_output(out, corridor)
    with steps("score-sites", 2) as advance:
        loaded = load_corridor(corridor)
        network = network_of(loaded, keep_all_pieces)
        advance()
        scores = scoring.score_sites(
            CorridorTravelTimes(network, profile, loaded.scenario(scenario), depart=depart),
            service,
            threshold,
            count,
            method=method,
            group_weights=dict(weight_groups),
            service_capacity=service_capacity,
            budget=budget,
        )
        advance()
    if out is not None:
        write_table(scores.sites, out)
    if fmt == "json":
        print_json({"corridor": loaded.id, **scores.to_dict()})
        print_notes(score_notes(scores))
        return
    print_scores(loaded.id, scores)
    if out is not None:
        say(f"wrote {out}")
