"""``corridor-planner prepare``: build a corridor's road network once and store it."""

from __future__ import annotations

import time

import click

from corridor_planner.cli.formatting import print_json, print_summary, say
from corridor_planner.cli.options import FORMAT_OPTION, KEEP_ALL_PIECES_OPTION, friendly_errors


@click.command(name="prepare")
@click.argument("corridor")
@KEEP_ALL_PIECES_OPTION
@FORMAT_OPTION
@friendly_errors
def command(corridor: str, keep_all_pieces: bool, fmt: str) -> None:
    """Build the corridor's road network once and store it with the bundle.

    Every later command loads the stored network instead of rebuilding it; a change to
    any file of the bundle makes the next command build it again. CORRIDOR is a bundled
    id (e.g. almaty_bishkek) or the path of a bundle folder.
    """
    from corridor_planner.bundle.corridor import load_corridor
    from corridor_planner.cli.options import network_of
    from corridor_planner.network.graph import validation_summary
    from corridor_planner.network.prepared import network_file_name

    start = time.perf_counter()
    network = network_of(load_corridor(corridor), keep_all_pieces)
    seconds = round(time.perf_counter() - start, 1)
    assert network.cache_dir is not None
    path = network.cache_dir / network_file_name(keep_all_pieces)
    size = path.stat().st_size if path.is_file() else 0
    summary = validation_summary(network)
    if fmt == "json":
        print_json(
            {
                "file": str(path),
                "prepared_from": network.prepared_from,
                "bytes": size,
                "seconds": seconds,
                "summary": summary,
            }
        )
        return
    if network.prepared_from == "cache":
        say(f"already prepared (loaded from {path}, {size / 1e6:.1f} MB) in {seconds:g} s")
    else:
        say(f"prepared network: built and stored in {path} ({size / 1e6:.1f} MB), {seconds:g} s")
    print_summary(summary)
