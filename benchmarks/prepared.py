"""Build versus load of the prepared network on an imported road grid.

Writes the road-like PBF of ``benchmarks/import_roads.py`` (a grid of junctions with four
vertices between them, crossing a border with posts), imports it as a user would
(``import_bundle``; settlements from GeoNames, as the import does by default), then
times, in this one process: a fresh ``build_network``, the first ``prepared_network``
(build and store) and a second one (read back), with the stored file's size.

    python benchmarks/prepared.py [--junctions 100] [--keep]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from import_roads import write_boundaries, write_grid

from corridor_planner import build_network, load_corridor
from corridor_planner.importer import ImportOptions, import_bundle
from corridor_planner.network.prepared import network_file_name, prepared_network


def timed(label: str, call: Callable[[], Any]) -> Any:
    """Run ``call``; print its wall and CPU seconds and the peak memory so far."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(
        f"{label:<40} wall {time.perf_counter() - wall:7.1f} s   "
        f"cpu {time.process_time() - cpu:7.1f} s   peak {peak:5.2f} GB",
        flush=True,
    )
    return result


def main() -> None:
    """Import the grid, then time build, build-and-store, and load."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--junctions", type=int, default=100)
    parser.add_argument("--keep", action="store_true", help="keep the files in a temp folder")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="prepared-bench-"))
    pbf, adm0, bundle = folder / "grid.osm.pbf", folder / "adm0.gpkg", folder / "bundle"
    nodes, border = write_grid(pbf, args.junctions)
    write_boundaries(adm0, border, args.junctions)
    print(f"{nodes:,} OSM nodes in {pbf.stat().st_size / 1e6:.1f} MB")
    timed(
        "import",
        lambda: import_bundle(ImportOptions(dest=bundle, roads=str(pbf), boundaries=adm0)),
    )
    corridor = load_corridor(bundle)
    fresh = timed("build_network", lambda: build_network(corridor))
    print(
        f"graph: {fresh.graph.number_of_nodes():,} nodes, {fresh.graph.number_of_edges():,} "
        f"edges, {len(fresh.snaps):,} snapped points"
    )
    del fresh
    built = timed("prepared_network, first (build + store)", lambda: prepared_network(corridor))
    assert built.prepared_from == "built"
    del built
    stored = bundle / ".cache" / network_file_name()
    print(f"stored network: {stored.stat().st_size / 1e6:.1f} MB")
    loaded = timed("prepared_network, again (load)", lambda: prepared_network(corridor))
    assert loaded.prepared_from == "cache"
    if args.keep:
        print(f"files kept in {folder}")
    else:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
