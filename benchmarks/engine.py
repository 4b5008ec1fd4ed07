"""Benchmark TravelTimeEngine against networkx, igraph and pandana on road-like graphs.

Usage:
    python benchmarks/engine.py                 # 100k and 1M nodes, then the bundled corridor
    python benchmarks/engine.py --sizes 100k    # quicker

Each engine runs in its own process (so its peak memory is its own) on the same generated
graph: a perturbed grid with random gaps and road classes, every road two-way (so engines
that only do undirected or symmetric queries agree). Tasks:

- build: compile the graph;
- nearest: time from every node to the nearest of 500 facilities;
- matrix 1000x500: full travel-time matrix;
- matrix 10000x500 <= 2h: the same with a 2-hour cutoff.

Figures are seconds, with each engine's ratio to corridor-planner (higher = slower), and
the largest disagreement with corridor-planner's answers. networkx is too slow for the
full matrices on large graphs: it runs on a sample of origins and its time is scaled up
(marked "~"). Engines that are not installed are skipped, and the run says so.
"""

from __future__ import annotations

import argparse
import importlib.util
import multiprocessing as mp
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from corridor_planner.network.synthetic import RoadLikeGraph, road_like_graph
from corridor_planner.routing.engine import TravelTimeEngine

SIZES = {"100k": (316, 317), "1M": (1000, 1000)}
N_FACILITIES, N_SMALL, N_LARGE, CUTOFF_S = 500, 1000, 10_000, 7200.0
ENGINES = ("corridor-planner", "corridor-planner-ch", "networkx", "igraph", "pandana")
MODULES = {"networkx": "networkx", "igraph": "igraph", "pandana": "pandana"}
#: pandana reports an unreachable pair as the largest unsigned 32-bit integer / 1000.
PANDANA_UNREACHABLE = 4_294_967.0


def workload(graph: RoadLikeGraph, seed: int) -> dict[str, np.ndarray]:
    """Facilities and origins, drawn once per graph."""
    rng = np.random.default_rng(seed + 1)
    n = graph.n_nodes
    return {
        "facilities": rng.choice(n, N_FACILITIES, replace=False),
        "small": rng.choice(n, N_SMALL, replace=False),
        "large": rng.choice(n, min(N_LARGE, n), replace=False),
    }


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


# one function per engine, each returning {task: (seconds, answer, note)} -------------------


def run_ours(graph: RoadLikeGraph, work: dict[str, np.ndarray]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    out["build"] = timed(
        lambda: TravelTimeEngine.from_arrays(
            graph.n_nodes, graph.tails, graph.heads, graph.travel_time
        )
    )
    engine = out["build"][1]
    out["build"] = (out["build"][0], None, "")
    out["nearest"] = (*timed(lambda: engine.nearest(work["facilities"])[0]), "")
    out["matrix_small"] = (*timed(lambda: engine.matrix(work["small"], work["facilities"])), "")
    out["matrix_large"] = (
        *timed(lambda: engine.matrix(work["large"], work["facilities"], cutoff=CUTOFF_S)),
        "",
    )
    small = out["matrix_small"][0]
    out["matrix_large_full"] = (small * N_LARGE / N_SMALL, None, "~ 10 x the 1000-row matrix")
    return out


def run_ours_ch(graph: RoadLikeGraph, work: dict[str, np.ndarray]) -> dict[str, Any]:
    """The contraction-hierarchy backend: preprocessing counted in build."""
    out: dict[str, Any] = {}

    def build() -> TravelTimeEngine:
        engine = TravelTimeEngine.from_arrays(
            graph.n_nodes, graph.tails, graph.heads, graph.travel_time, backend="ch"
        )
        engine.hierarchy()
        engine.matrix(work["small"][:2], work["facilities"][:2])  # numba compiles the query
        return engine

    seconds, engine = timed(build)
    out["build"] = (seconds, None, "contraction and query compilation included")
    out["nearest"] = (*timed(lambda: engine.nearest(work["facilities"])[0]), "Dijkstra")
    out["matrix_small"] = (*timed(lambda: engine.matrix(work["small"], work["facilities"])), "")
    out["matrix_large"] = (
        *timed(lambda: engine.matrix(work["large"], work["facilities"], cutoff=CUTOFF_S)),
        "",
    )
    out["matrix_large_full"] = (
        *timed(lambda: engine.matrix(work["large"], work["facilities"])),
        "",
    )
    slower = graph.travel_time * np.where(np.arange(len(graph.travel_time)) % 7 == 0, 2.0, 1.0)
    seconds, _ = timed(
        lambda: TravelTimeEngine.from_arrays(
            graph.n_nodes, graph.tails, graph.heads, slower, backend="ch"
        ).hierarchy()
    )
    out["rebuild"] = (seconds, None, "new weights: contracted again (no customization)")
    return out


def run_networkx(graph: RoadLikeGraph, work: dict[str, np.ndarray], sample: int) -> dict[str, Any]:
    import networkx as nx

    out: dict[str, Any] = {}
    seconds, nxg = timed(graph.to_networkx)
    out["build"] = (seconds, None, "")
    reverse = nxg.reverse(copy=False)
    facilities = [int(f) for f in work["facilities"]]

    def nearest() -> np.ndarray:
        dist = nx.multi_source_dijkstra_path_length(reverse, facilities, weight="travel_time")
        times = np.full(graph.n_nodes, np.inf)
        times[list(dist)] = list(dist.values())
        return times

    out["nearest"] = (*timed(nearest), "")

    def matrix(origins: np.ndarray, cutoff: float | None) -> tuple[float, np.ndarray, str]:
        rows = origins[:sample]
        start = time.perf_counter()
        result = np.full((len(rows), len(facilities)), np.inf)
        for i, origin in enumerate(rows):
            dist = nx.single_source_dijkstra_path_length(
                nxg, int(origin), cutoff=cutoff, weight="travel_time"
            )
            result[i] = [dist.get(f, np.inf) for f in facilities]
        seconds = (time.perf_counter() - start) * len(origins) / len(rows)
        note = f"~ from {len(rows)} origins" if len(rows) < len(origins) else ""
        return seconds, result, note

    out["matrix_small"] = matrix(work["small"], None)
    out["matrix_large"] = matrix(work["large"], CUTOFF_S)
    return out


def run_igraph(graph: RoadLikeGraph, work: dict[str, np.ndarray]) -> dict[str, Any]:
    import igraph as ig

    out: dict[str, Any] = {}
    n = graph.n_nodes

    def build() -> ig.Graph:
        g = ig.Graph(
            n=n + 1, edges=np.column_stack([graph.tails, graph.heads]).tolist(), directed=True
        )
        g.es["weight"] = graph.travel_time.tolist()
        # a virtual sink joined from every facility, for one multi-source search
        g.add_edges(
            [(int(f), n) for f in work["facilities"]], attributes={"weight": [0.0] * N_FACILITIES}
        )
        return g

    seconds, g = timed(build)
    out["build"] = (seconds, None, "")
    out["nearest"] = (
        *timed(lambda: np.array(g.distances(source=[n], weights="weight", mode="in")[0][:n])),
        "",
    )

    def matrix(origins: np.ndarray, cutoff: float | None) -> np.ndarray:
        # search from the smaller side (the facilities), towards them
        dist = np.array(
            g.distances(
                source=work["facilities"].tolist(),
                target=origins.tolist(),
                weights="weight",
                mode="in",
            )
        ).T
        if cutoff is not None:
            dist[dist > cutoff] = np.inf
        return dist

    out["matrix_small"] = (*timed(lambda: matrix(work["small"], None)), "")
    out["matrix_large"] = (*timed(lambda: matrix(work["large"], CUTOFF_S)), "cutoff applied after")
    out["matrix_large_full"] = (*timed(lambda: matrix(work["large"], None)), "")
    return out


def run_pandana(graph: RoadLikeGraph, work: dict[str, np.ndarray], reach: float) -> dict[str, Any]:
    import warnings

    import pandana
    import pandas as pd

    warnings.filterwarnings("ignore", message=".*unconnected nodes.*")

    out: dict[str, Any] = {}
    nodes = pd.DataFrame({"x": graph.x, "y": graph.y})
    edges = pd.DataFrame({"from": graph.tails, "to": graph.heads, "time": graph.travel_time})

    def build() -> Any:
        return pandana.Network(
            nodes["x"], nodes["y"], edges["from"], edges["to"], edges[["time"]], twoway=False
        )

    seconds, net = timed(build)
    out["build"] = (seconds, None, "contraction hierarchies")
    facilities = work["facilities"]

    def nearest() -> np.ndarray:
        net.set_pois("fac", reach, 1, nodes["x"].iloc[facilities], nodes["y"].iloc[facilities])
        found = net.nearest_pois(reach, "fac", num_pois=1)
        times = found[1].to_numpy(dtype=float, copy=True)
        times[times >= reach] = np.inf
        return times

    out["nearest"] = (*timed(nearest), f"maxdist {reach:.0f} s")

    def matrix(origins: np.ndarray, cutoff: float | None) -> np.ndarray:
        orig = np.repeat(origins, len(facilities))
        dest = np.tile(facilities, len(origins))
        dist = np.array(net.shortest_path_lengths(orig.tolist(), dest.tolist()), dtype=float)
        dist = dist.reshape(len(origins), len(facilities))
        dist[dist >= PANDANA_UNREACHABLE] = np.inf
        if cutoff is not None:
            dist[dist > cutoff] = np.inf
        return dist

    out["matrix_small"] = (*timed(lambda: matrix(work["small"], None)), "")
    out["matrix_large"] = (*timed(lambda: matrix(work["large"], CUTOFF_S)), "cutoff applied after")
    return out


def run_engine(name: str, size: str, seed: int, sample: int, reach: float) -> dict[str, Any]:
    """Worker: generate the graph, run one engine, report times, answers and peak memory."""
    rows, cols = SIZES[size]
    graph = road_like_graph(rows, cols, oneway_share=0.0, seed=seed)
    work = workload(graph, seed)
    if name == "corridor-planner":
        results = run_ours(graph, work)
    elif name == "corridor-planner-ch":
        results = run_ours_ch(graph, work)
    elif name == "networkx":
        results = run_networkx(graph, work, sample)
    elif name == "igraph":
        results = run_igraph(graph, work)
    else:
        results = run_pandana(graph, work, reach)
    return {
        "results": results,
        "peak_mb": peak_rss_mb(),
        "nodes": graph.n_nodes,
        "edges": len(graph.tails),
    }


# reporting -------------------------------------------------------------------------------


def disagreement(ours: np.ndarray, theirs: np.ndarray) -> str:
    """Largest absolute difference in seconds over the rows both computed."""
    ours = ours[: len(theirs)]
    both = np.isfinite(ours) & np.isfinite(theirs)
    mismatch = int((np.isfinite(ours) != np.isfinite(theirs)).sum())
    worst = float(np.abs(ours[both] - theirs[both]).max()) if both.any() else 0.0
    text = f"max diff {worst:.3g} s"
    return text + (f", {mismatch} reachability mismatches" if mismatch else "")


TASKS = (
    ("build", "build"),
    ("nearest", f"nearest of {N_FACILITIES}, all nodes"),
    ("matrix_small", f"matrix {N_SMALL}x{N_FACILITIES}"),
    ("matrix_large", f"matrix {N_LARGE}x{N_FACILITIES} <= 2h"),
    ("matrix_large_full", f"matrix {N_LARGE}x{N_FACILITIES}, no cutoff"),
    ("rebuild", "re-customization after new weights"),
)


def report(size: str, runs: dict[str, dict[str, Any]]) -> None:
    ours = runs["corridor-planner"]
    print(f"\n== road-like graph {size}: {ours['nodes']:,} nodes, {ours['edges']:,} directed edges")
    print(f"{'task':34} {'engine':17} {'seconds':>10} {'x ours':>8}  agreement / note")
    for task, label in TASKS:
        base = ours["results"].get(task, runs.get("corridor-planner-ch", ours)["results"][task])[0]
        for name, run in runs.items():
            if task not in run["results"]:
                continue
            seconds, answer, note = run["results"][task]
            mark = "~" if note.startswith("~") else ""
            agree = ""
            exact = next(
                (
                    r["results"][task][1]
                    for r in runs.values()
                    if task in r["results"] and r["results"][task][1] is not None
                ),
                None,
            )
            if answer is not None and exact is not None and answer is not exact:
                agree = disagreement(exact, answer)
            detail = "; ".join(x for x in (agree, note) if x)
            print(f"{label:34} {name:17} {mark}{seconds:9.2f} {seconds / base:8.1f}  {detail}")
    print("peak memory (MiB): " + ", ".join(f"{n} {r['peak_mb']:.0f}" for n, r in runs.items()))


def bundled_corridor() -> None:
    """Time nearest and a full matrix on the bundled Almaty - Bishkek graph."""
    import networkx as nx

    from corridor_planner import build_network, load_corridor

    network = build_network(load_corridor("almaty_bishkek"))
    graph = network.graph
    seconds, engine = timed(lambda: TravelTimeEngine.from_graph(graph))
    nodes = list(graph.nodes)
    facilities = [n for n, d in graph.nodes(data=True) if d.get("kind") == "facility"]
    ours_s, ours = timed(lambda: engine.matrix(nodes, facilities))
    simple = nx.DiGraph()
    for u, v, d in graph.edges(data=True):
        if not simple.has_edge(u, v) or simple[u][v]["travel_time"] > d["travel_time"]:
            simple.add_edge(u, v, travel_time=max(d["travel_time"], 1e-3))

    def nx_matrix() -> np.ndarray:
        out = np.full((len(nodes), len(facilities)), np.inf)
        for i, node in enumerate(nodes):
            dist = nx.single_source_dijkstra_path_length(simple, node, weight="travel_time")
            out[i] = [dist.get(f, np.inf) for f in facilities]
        return out

    nx_s, theirs = timed(nx_matrix)
    print(f"\n== bundled corridor almaty_bishkek: {len(nodes)} nodes")
    print(
        f"compile {seconds:.4f} s; matrix {len(nodes)}x{len(facilities)}: corridor-planner "
        f"{ours_s:.4f} s, networkx {nx_s:.4f} s ({nx_s / ours_s:.1f}x); "
        f"{disagreement(ours, theirs)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100k,1M", help="comma-separated: 100k, 1M")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--nx-sample", type=int, default=20, help="origins networkx runs per matrix"
    )
    args = parser.parse_args()
    wanted = [e for e in args.engines.split(",") if e]
    missing = [e for e in wanted if e in MODULES and importlib.util.find_spec(MODULES[e]) is None]
    for name in missing:
        print(f"skipping {name}: not installed (pip install -e '.[bench]')")
    engines = [e for e in wanted if e not in missing]
    context = mp.get_context("spawn")
    for size in args.sizes.split(","):
        runs: dict[str, dict[str, Any]] = {}
        reach = 0.0
        for name in ["corridor-planner", *[e for e in engines if e != "corridor-planner"]]:
            print(f"[{size}] running {name} ...", flush=True)
            with context.Pool(1) as pool:
                runs[name] = pool.apply(run_engine, (name, size, args.seed, args.nx_sample, reach))
            if name == "corridor-planner":
                nearest = runs[name]["results"]["nearest"][1]
                reach = float(nearest[np.isfinite(nearest)].max()) + 60.0
        report(size, runs)
    bundled_corridor()


if __name__ == "__main__":
    main()
