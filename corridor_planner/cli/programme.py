"""``corridor-planner programme``: a programme of centres across corridors."""

from __future__ import annotations

from dataclasses import replace

import click

from corridor_planner.cli.formatting import print_json, print_programme
from corridor_planner.cli.options import FORMAT_OPTION, friendly_errors
from corridor_planner.errors import NotFoundError


@click.command(name="programme")
@click.argument("name")
@click.option(
    "--centres",
    type=click.IntRange(min=1, max=100),
    default=None,
    help="Centres to place (default: the programme file's).",
)
@FORMAT_OPTION
@friendly_errors
def command(name: str, centres: int | None, fmt: str) -> None:
    """Plan a programme of centres across corridors: sites, their order, ambulance bases.

    NAME is a programme of data/programmes/ (cpec_emergency_care), looked up there only,
    or the path of an existing file of your own ending in .toml.
    The sites are the tool's answer from need (exact MCLP per corridor, split between
    corridors exactly), phased by the people each newly covers; ambulance bases cover
    the most main road within the programme's response time.
    """
    from corridor_planner.analysis import programme
    from corridor_planner.bundle.corridor import load_corridor
    from corridor_planner.cli.options import network_of

    spec = programme.load_programme(name)
    if centres is not None:
        spec = replace(spec, centres=centres)
    try:
        networks = [network_of(load_corridor(c)) for c in spec.corridors]
    except NotFoundError as exc:
        raise NotFoundError(f"programme {spec.id}: corridors: {exc}") from exc
    programme.check_corridors(spec, networks)
    plan = programme.plan_programme(spec, networks)
    if fmt == "json":
        print_json(plan.to_dict(), default=str)
        return
    print_programme(spec, plan)
