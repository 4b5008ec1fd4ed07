"""``corridor-planner access``: who reaches a service in time."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from corridor_planner.cli.formatting import print_access, print_json
from corridor_planner.cli.options import (
    DEPART_OPTION,
    FORMAT_OPTION,
    PROFILE_OPTION,
    SCENARIO_OPTION,
    Duration,
    friendly_errors,
    out_option,
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
    help="E2SFCA catchment (minutes or 1h...).",
)
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
    out: Path | None,
    fmt: str,
) -> None:
    """Who reaches SERVICE in time: coverage by country and group, E2SFCA, cooperation gain."""
    from corridor_planner.analysis.access import access_report
    from corridor_planner.bundle.corridor import load_corridor
    from corridor_planner.network.graph import build_network
    from corridor_planner.outputs import write_table
    from corridor_planner.routing.traveltimes import CorridorTravelTimes

    with steps("access", 4) as advance:
        loaded = load_corridor(corridor)
        network = build_network(loaded)
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
        )
    if out is not None:
        write_table(result.settlements, out)
    if fmt == "json":
        print_json({"corridor": loaded.id, **result.to_dict()})
        return
    print_access(loaded.id, result)
    if out is not None:
        click.echo(f"wrote {out}")
