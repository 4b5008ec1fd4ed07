"""``corridor-planner prepare``: build a corridor's road network once and store it."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import click

from corridor_planner.cli.formatting import print_json, print_summary, say
from corridor_planner.cli.options import (
    FORMAT_OPTION,
    KEEP_ALL_PIECES_OPTION,
    friendly_errors,
    progress_line,
)
from corridor_planner.progress import step

if TYPE_CHECKING:
    from corridor_planner.network.graph import CorridorNetwork

LOG = logging.getLogger(__name__)


@click.command(name="prepare")
@click.argument("corridor")
@KEEP_ALL_PIECES_OPTION
@FORMAT_OPTION
@friendly_errors
def command(corridor: str, keep_all_pieces: bool, fmt: str) -> None:
    """Build the corridor's road network once and store it with the bundle.

    Every later command loads the stored network instead of rebuilding it; a change to
    any file of the bundle makes the next command build it again. On a large network
    (50,000 nodes or more) with the optional extra `fast`, the contraction hierarchy is
    built and stored too. CORRIDOR is a bundled id (e.g. almaty_bishkek) or the path of
    a bundle folder.
    """
    from corridor_planner.bundle.corridor import load_corridor
    from corridor_planner.cli.options import network_of
    from corridor_planner.network.graph import validation_summary
    from corridor_planner.network.prepared import network_file_name

    start = time.perf_counter()
    network = network_of(load_corridor(corridor), keep_all_pieces)
    hierarchy = prepare_hierarchy(network)
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
                "hierarchy": hierarchy,
                "summary": summary,
            }
        )
        return
    if network.prepared_from == "cache":
        say(f"already prepared (loaded from {path}, {size / 1e6:.1f} MB) in {seconds:g} s")
    else:
        say(f"prepared network: built and stored in {path} ({size / 1e6:.1f} MB), {seconds:g} s")
    say(f"contraction hierarchy: {hierarchy}")
    print_summary(summary)


def prepare_hierarchy(network: CorridorNetwork) -> str:
    """Build (or load) the road engine's contraction hierarchy where commands will use it.

    Parameters
    ----------
    network : CorridorNetwork
        The prepared network.

    Returns
    -------
    str
        What was done, for the user: ready (with the seconds), not needed on a small
        network, or not built for want of the extra ``fast``.
    """
    from corridor_planner.extras import missing
    from corridor_planner.routing.engine import CH_MIN_NODES
    from corridor_planner.routing.traveltimes import road_engine

    engine = road_engine(network)
    if engine.n_nodes < CH_MIN_NODES:
        return f"not needed ({engine.n_nodes:,} nodes: Dijkstra answers at this size)"
    if missing("fast"):
        return "not built (needs the optional extra `fast`: pip install 'corridor-planner[fast]')"
    start = time.perf_counter()
    with step(progress_line, "building the contraction hierarchy", LOG):
        engine.hierarchy()
    return f"ready ({time.perf_counter() - start:.1f} s, stored beside the network)"
