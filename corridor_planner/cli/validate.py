"""``corridor-planner validate``: check a bundle and its road graph."""

from __future__ import annotations

import sys

import click

from corridor_planner.cli.formatting import print_json, print_summary
from corridor_planner.cli.options import FORMAT_OPTION, KEEP_ALL_PIECES_OPTION, friendly_errors


@click.command(name="validate")
@click.argument("corridor")
@KEEP_ALL_PIECES_OPTION
@FORMAT_OPTION
@friendly_errors
def command(corridor: str, keep_all_pieces: bool, fmt: str) -> None:
    """Check a corridor bundle and its road graph; list every problem.

    CORRIDOR is a bundled id (e.g. almaty_bishkek) or the path of a bundle folder.
    """
    from corridor_planner.bundle import corridor as bundle
    from corridor_planner.cli.options import network_of
    from corridor_planner.network.graph import validation_summary

    network = network_of(bundle.load_corridor(corridor), keep_all_pieces)
    summary = validation_summary(network)
    if fmt == "json":
        print_json(summary)
    else:
        print_summary(summary)
    if summary["not_snapped"]:
        sys.exit(2)
