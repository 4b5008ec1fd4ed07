"""``corridor-planner access``: who reaches a service in time."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from corridor_planner import settings
from corridor_planner.cli.formatting import (
    access_notes,
    print_access,
    print_json,
    print_notes,
    say,
)
from corridor_planner.cli.options import (
    DEPART_OPTION,
    FORMAT_OPTION,
    KEEP_ALL_PIECES_OPTION,
    PROFILE_OPTION,
    SCENARIO_OPTION,
    Duration,
    friendly_errors,
    out_option,
    refuse_bundle_output,
    steps,
)


@click.command(name="access")
@click.argument("corridor")
@click.option("--service", required=True, help="Service to reach, e.g. emergency or surgery.")
@click.option(
    "--threshold",
    "thresholds",
    type=Duration(),
    multiple=True,
    help="Access threshold (repeatable): 30min, 1h, 2h... Default: the corridor's.",
)
@PROFILE_OPTION
@SCENARIO_OPTION
@DEPART_OPTION
@click.option(
    "--compare",
    default=None,
    help="Also compute this scenario (e.g. borders_closed) and report who gains with --scenario.",
)
@click.option(
    "--catchment",
    type=Duration(),
    default=60.0,
    show_default=True,
    help="E2SFCA catchment (minutes or 1h...); also 3SFCA's.",
)
@click.option(
    "--method",
    type=click.Choice(settings.ACCESS_METHODS),
    default="e2sfca",
    show_default=True,
    help="Capacity-aware measure beside coverage: e2sfca (enhanced two-step floating "
    "catchment); 3sfca (three-step: demand shared between facilities in reach); raam "
    "(rational agent access model: travel over tau plus congestion, lower is better).",
)
@click.option(
    "--tau",
    type=Duration(),
    default=None,
    help="RAAM's tau: the travel time worth one unit of congestion (default: the catchment).",
)
@KEEP_ALL_PIECES_OPTION
@out_option("Write per-settlement results: .csv, .geojson or .gpkg.")
@FORMAT_OPTION
@friendly_errors
def command(
    corridor: str,
    service: str,
    thresholds: tuple[float, ...],
    profile: str,
    scenario: str,
    depart: dt.datetime | None,
    compare: str | None,
    catchment: float,
    method: str,
    tau: float | None,
    keep_all_pieces: bool,
    out: Path | None,
    fmt: str,
) -> None:
    """Who reaches SERVICE in time: coverage by country and group, E2SFCA, cooperation gain."""
    from corridor_planner.analysis.access import access_report
    from corridor_planner.bundle.corridor import load_corridor
    from corridor_planner.cli.options import network_of
    from corridor_planner.outputs import write_table
    from corridor_planner.routing.traveltimes import CorridorTravelTimes

    if tau is not None and method != "raam":
        raise click.BadParameter("--tau goes with --method raam", param_hint="--tau")
    refuse_bundle_output(out, corridor)
    with steps("access", 4) as advance:
        loaded = load_corridor(corridor)
        network = network_of(loaded, keep_all_pieces)
        advance()
        result = access_report(
            CorridorTravelTimes(network, profile, loaded.scenario(scenario), depart=depart),
            service,
            thresholds or loaded.thresholds_min,
            compare=CorridorTravelTimes(network, profile, loaded.scenario(compare), depart=depart)
            if compare
            else None,
            catchment_min=catchment,
            progress=advance,
            method=method,
            tau_min=tau,
        )
    if out is not None:
        write_table(result.settlements, out)
    if fmt == "json":
        print_json({"corridor": loaded.id, **result.to_dict()})
        print_notes(access_notes(result))
        return
    print_access(loaded.id, result)
    if out is not None:
        say(f"wrote {out}")
