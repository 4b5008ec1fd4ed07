"""``corridor-planner tb-continuity``: TB treatment continuity for migrants."""

from __future__ import annotations

import click

from corridor_planner import settings
from corridor_planner.cli.formatting import print_continuity, print_json, print_notes
from corridor_planner.cli.options import (
    FORMAT_OPTION,
    KEEP_ALL_PIECES_OPTION,
    SCENARIO_OPTION,
    friendly_errors,
)


@click.command(name="tb-continuity")
@click.argument("corridor")
@click.option("--nationality", required=True, help="The migrants' country (ISO code), e.g. KG.")
@click.option("--home", required=True, help="Their home settlement (name, id or lat,lon).")
@click.option(
    "--specialty",
    type=click.Choice(["tb", "tb_mdr"]),
    default="tb",
    show_default=True,
    help="TB or MDR-TB.",
)
@click.option(
    "--profile",
    type=click.Choice(sorted(settings.PROFILES)),
    default=None,
    help="Their traveller profile at border posts (default: eaeu_worker for a national of "
    "an EAEU member, third_country otherwise).",
)
@SCENARIO_OPTION
@KEEP_ALL_PIECES_OPTION
@FORMAT_OPTION
@friendly_errors
def command(
    corridor: str,
    nationality: str,
    home: str,
    specialty: str,
    profile: str | None,
    scenario: str,
    keep_all_pieces: bool,
    fmt: str,
) -> None:
    """TB continuity for migrants: where treatment starts, the way home, follow-up at home.

    NATIONALITY may be a corridor country or a country of origin of the bundle's
    origins.toml (Tajikistan for almaty_bishkek); the way home is then the corridor route
    to its edge and the sourced legs beyond it, listed with their sources.
    """
    from corridor_planner.analysis import continuity
    from corridor_planner.bundle.corridor import load_corridor
    from corridor_planner.cli.options import network_of
    from corridor_planner.routing.traveltimes import CorridorTravelTimes

    nationality = nationality.upper()
    profile = profile or continuity.migrant_profile(nationality)
    loaded = load_corridor(corridor)
    network = network_of(loaded, keep_all_pieces)
    times = CorridorTravelTimes(network, profile, loaded.scenario(scenario))
    rows = continuity.continuity_pathways(
        times, nationality, home, specialty=specialty, profile=profile
    )
    caveat = continuity.migrant_stock_caveat(nationality)
    if fmt == "json":
        print_json([r.to_dict() for r in rows])
        print_notes([caveat])  # stdout stays one JSON document
        return
    title = (
        f"TB continuity ({specialty}) for {nationality} migrants ({profile}) in "
        f"{loaded.id}, home {home}, scenario {scenario}:"
    )
    print_continuity(rows, title, caveat)
