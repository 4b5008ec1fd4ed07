"""Nearest-facility and bounded queries against the dense matrix they replace.

The ``access`` question at country size: ~227k settlements, 300 facilities. ``dense``
is the old path (a settlements x facilities matrix, then its row minimum, or its
entries within a cutoff); ``nearest`` is one multi-source search rooted at the
facilities on the reversed graph; ``within`` keeps only the pairs inside the cutoff
(sparse). Each mode runs in its own process, so its peak memory is its own::

    PYTHONPATH=$PWD python benchmarks/queries.py --size 100k

pandana's ``nearest_pois`` is timed too when pandana is installed.
"""

from __future__ import annotations

import argparse
import importlib.util
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from corridor_planner.network.synthetic import road_like_graph
from corridor_planner.routing.engine import TravelTimeEngine

SIZES = {"100k": (316, 317), "1M": (1000, 1000)}
N_SETTLEMENTS, N_FACILITIES, CUTOFF_S = 226_961, 300, 3600.0
MODES = ("dense-nearest", "nearest", "dense-within", "within", "pandana")


def run(size: str, mode: str) -> None:
    """Time one mode on one graph size; print seconds and peak memory."""
    graph = road_like_graph(*SIZES[size], seed=0)
    rng = np.random.default_rng(1)
    settlements = rng.choice(graph.n_nodes, min(N_SETTLEMENTS, graph.n_nodes), replace=False)
    facilities = rng.choice(graph.n_nodes, N_FACILITIES, replace=False)
    engine = TravelTimeEngine.from_arrays(
        graph.n_nodes, graph.tails, graph.heads, graph.travel_time, backend="dijkstra"
    )
    start = time.perf_counter()
    if mode == "dense-nearest":
        answer = engine.matrix(list(settlements), list(facilities)).min(axis=1)
    elif mode == "nearest":
        answer = engine.nearest(list(facilities))[0][settlements]
    elif mode == "dense-within":
        dense = engine.matrix(list(settlements), list(facilities), CUTOFF_S)
        answer = np.isfinite(dense).sum(axis=1).astype(float)
    elif mode == "within":
        answer = np.diff(engine.within(list(settlements), list(facilities), CUTOFF_S).indptr)
    else:
        answer = pandana_nearest(graph, settlements, facilities)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    finite = answer[np.isfinite(answer)]
    print(f"{size} {mode}: {seconds:.2f} s, peak {peak:.0f} MiB, checksum {finite.sum():.6e}")


def pandana_nearest(graph, settlements: np.ndarray, facilities: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    """pandana's network build plus ``nearest_pois`` (one POI category)."""
    import pandana  # type: ignore[import-not-found]
    import pandas as pd

    net = pandana.Network(
        pd.Series(graph.x),
        pd.Series(graph.y),
        pd.Series(graph.tails),
        pd.Series(graph.heads),
        pd.DataFrame({"t": graph.travel_time}),
        twoway=False,
    )
    net.set_pois("f", 1e9, 1, graph.x[facilities], graph.y[facilities])
    table = net.nearest_pois(1e9, "f", num_pois=1)
    return table[1].to_numpy()[settlements]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="100k")
    parser.add_argument("--mode", choices=MODES)
    args = parser.parse_args()
    if args.mode:
        run(args.size, args.mode)
        return
    for mode in MODES:
        if mode == "pandana" and importlib.util.find_spec("pandana") is None:
            print(f"{args.size} pandana: not installed, not timed")
            continue
        command = [sys.executable, __file__, "--size", args.size, "--mode", mode]
        subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
