"""A scenario sweep on Dask against the same commands run one by one.

1. almaty_bishkek: every scenario x every profile x 3 services x 3 thresholds, as one
   ``corridor-planner sweep`` (a LocalCluster of 2 worker processes) against the same
   ``corridor-planner access`` commands run one by one as separate processes, as a user
   would; the numbers are compared.
2. A synthetic ~1M-node road network: Dask tasks that each answer a scenario's question
   (a 200 x 500 travel-time matrix within 2 h) on an engine each worker builds once; the
   per-task overhead is the wall time beyond the tasks' own compute time, per task.

    python benchmarks/sweep.py [--one-by-one N] [--rows 1000]
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("emergency", "surgery", "oncology")
THRESHOLDS = ("30min", "1h", "2h")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(ROOT / "cli.py"), *args]
    return subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)


def corridor_sweep(one_by_one: int | None) -> None:
    from corridor_planner.bundle.corridor import load_corridor
    from corridor_planner.settings import PROFILES

    corridor = load_corridor("almaty_bishkek")
    combos = list(itertools.product(sorted(corridor.scenarios), sorted(PROFILES), SERVICES))
    out = Path(tempfile.mkdtemp()) / "sweep.parquet"
    thresholds = [a for t in THRESHOLDS for a in ("--threshold", t)]
    services = [a for s in SERVICES for a in ("--service", s)]
    start = time.perf_counter()
    done = cli("sweep", "almaty_bishkek", *services, *thresholds, "--out", str(out))
    sweep_s = time.perf_counter() - start
    print(done.stdout.strip() or done.stderr.strip())
    table = pd.read_parquet(out)
    chosen = combos if one_by_one is None else combos[:one_by_one]
    start = time.perf_counter()
    mismatches = 0
    for scenario, profile, service in chosen:
        single = cli(
            "access",
            "almaty_bishkek",
            "--service",
            service,
            "--scenario",
            scenario,
            "--profile",
            profile,
            *thresholds,
            "--format",
            "json",
        )
        expected = pd.DataFrame(json.loads(single.stdout)["coverage"])
        got = table[
            (table["scenario"] == scenario)
            & (table["profile"] == profile)
            & (table["service"] == service)
        ]
        if not np.array_equal(got["covered"].to_numpy(), expected["covered"].to_numpy()):
            mismatches += 1
    singles_s = time.perf_counter() - start
    per_command = singles_s / len(chosen)
    estimate = per_command * len(combos)
    measured = "measured" if one_by_one is None else f"{len(chosen)} measured, extrapolated"
    print(f"almaty_bishkek, {len(combos)} combinations x 3 thresholds:")
    print(f"  sweep (2 local workers, incl. cluster start): {sweep_s:7.1f} s")
    print(f"  one by one ({measured}):           {estimate:7.1f} s ({per_command:.2f} s each)")
    print(f"  ratio one-by-one / sweep: {estimate / sweep_s:.1f}x; differing results: {mismatches}")


def _engine(rows: int, cols: int):
    from corridor_planner.network.synthetic import road_like_graph
    from corridor_planner.routing.engine import TravelTimeEngine

    key = (rows, cols)
    cache = _engine.__dict__.setdefault("cache", {})
    if key not in cache:
        graph = road_like_graph(rows, cols, seed=1)
        cache[key] = TravelTimeEngine.from_arrays(
            graph.n_nodes, graph.tails, graph.heads, graph.travel_time
        )
    return cache[key]


def _build_seconds(rows: int, cols: int) -> float:
    start = time.perf_counter()
    _engine(rows, cols)
    return time.perf_counter() - start


def scenario_task(rows: int, cols: int, seed: int) -> tuple[float, float]:
    """One scenario's question: 200 origins x 500 facilities within 2 h; returns timings."""
    start = time.perf_counter()
    engine = _engine(rows, cols)
    built = time.perf_counter()
    rng = np.random.default_rng(seed)
    origins = rng.choice(engine.n_nodes, 200, replace=False).tolist()
    targets = rng.choice(engine.n_nodes, 500, replace=False).tolist()
    times = engine.matrix(origins, targets, cutoff=7200.0)
    _ = float(np.isfinite(times).mean())
    return time.perf_counter() - built, built - start


def synthetic_sweep(rows: int, tasks: int) -> None:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        builds = list(client.run(_build_seconds, rows, rows).values())  # once on every worker
        start = time.perf_counter()
        futures = client.map(
            scenario_task, [rows] * tasks, [rows] * tasks, list(range(tasks)), pure=False
        )
        results = client.gather(futures)
        wall = time.perf_counter() - start
    compute = sum(c + b for c, b in results)  # a (re)build inside a task counts as its work
    per_task = compute / tasks
    overhead = max(wall * 2 - compute, 0.0) / tasks
    print(f"synthetic {rows * rows:,}-node network, {tasks} scenario tasks on 2 workers:")
    print(f"  engine built once per worker: {max(builds):.1f} s")
    print(f"  wall {wall:.1f} s; mean task {per_task:.2f} s; overhead per task {overhead:.3f} s")
    print(f"  overhead / task time: {overhead / per_task:.1%} (target < 10%)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--one-by-one", type=int, default=None, help="run only N single commands")
    parser.add_argument("--rows", type=int, default=1000, help="synthetic grid side (1000: 1M)")
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--skip-corridor", action="store_true")
    args = parser.parse_args()
    if not args.skip_corridor:
        corridor_sweep(args.one_by_one)
    synthetic_sweep(args.rows, args.tasks)


if __name__ == "__main__":
    main()
