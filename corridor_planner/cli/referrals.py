"""``corridor-planner referrals``: referral pathways for a specialty."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from corridor_planner.cli.formatting import (
    print_json,
    print_notes,
    print_referrals,
    referral_notes,
    say,
)
from corridor_planner.cli.options import (
    DEPART_OPTION,
    FORMAT_OPTION,
    KEEP_ALL_PIECES_OPTION,
    PROFILE_OPTION,
    SCENARIO_OPTION,
    Plausible,
    friendly_errors,
    out_option,
    refuse_bundle_output,
    steps,
)


@click.command(name="referrals")
@click.argument("corridor")
@click.option(
    "--specialty", required=True, help="Service referred for: cardiology, oncology, tb_mdr..."
)
@click.option(
    "--from", "origin", default=None, help="One settlement or facility (default: all settlements)."
)
@PROFILE_OPTION
@click.option(
    "--nationality",
    default=None,
    help="Country whose cover the patient holds (default: the origin's; for eaeu_worker, the "
    "corridor's other country).",
)
@SCENARIO_OPTION
@DEPART_OPTION
@click.option(
    "--rate",
    type=Plausible("referral_rate"),
    default=None,
    help="Referrals per 100,000 people per year (default: the scenario's or corridor's).",
)
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Destinations per origin.",
)
@KEEP_ALL_PIECES_OPTION
@out_option("Write the pathways: .csv, .geojson (route lines) or .gpkg.")
@FORMAT_OPTION
@friendly_errors
def command(
    corridor: str,
    specialty: str,
    origin: str | None,
    profile: str,
    nationality: str | None,
    scenario: str,
    depart: dt.datetime | None,
    rate: float | None,
    top: int,
    keep_all_pieces: bool,
    out: Path | None,
    fmt: str,
) -> None:
    """Referral pathways for SPECIALTY: where patients go, how long, which posts, capacity."""
    from corridor_planner.analysis import referral
    from corridor_planner.bundle.corridor import load_corridor
    from corridor_planner.bundle.cover_rules import Patient
    from corridor_planner.cli.options import network_of
    from corridor_planner.outputs import write_table
    from corridor_planner.routing.traveltimes import CorridorTravelTimes

    refuse_bundle_output(out, corridor)
    with steps("referrals", 2) as advance:
        loaded = load_corridor(corridor)
        network = network_of(loaded, keep_all_pieces)
        advance()
        analysis = referral.analyse_referrals(
            CorridorTravelTimes(network, profile, loaded.scenario(scenario), depart=depart),
            specialty,
            Patient(profile, nationality),
            origin=origin,
            rate_per_100k=rate,
            top=top,
        )
        advance()
    if out is not None:
        write_table(referral.pathway_table(analysis.pathways), out)
    if fmt == "json":
        print_json({"corridor": loaded.id, **analysis.to_dict()})
        print_notes([*referral_notes(analysis), *filter(None, [analysis.detail_note])])
        return
    print_referrals(loaded.id, analysis)
    if out is not None:
        say(f"wrote {out}")
