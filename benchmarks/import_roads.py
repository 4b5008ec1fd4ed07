"""Import a ~1M-node road extract: time and peak memory of each stage.

Writes a road-like PBF with pyosmium (a grid of junctions about 1 km apart with four
vertices between them, as OSM draws roads, crossing a north-south border with posts on
every 50th road), a boundaries file, then runs each stage of ``corridor-planner import``
and the whole import, printing seconds and peak memory. Target (issue #10): the whole
import of about 1M nodes within 2 minutes and 4 GB on a 2-core machine.

    python benchmarks/import_roads.py [--junctions 350] [--keep]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import osmium
from shapely.geometry import box

from corridor_planner.importer import ImportOptions, import_bundle
from corridor_planner.importer.boundaries import read_countries
from corridor_planner.importer.osm import read_extract
from corridor_planner.importer.posts import osm_posts, place_posts
from corridor_planner.importer.topology import build_roads

STEP = 0.002  # degrees between vertices (~160-220 m)
BETWEEN = 4  # vertices between junctions
WEST, SOUTH = 70.0, 40.0


def write_grid(path: Path, junctions: int) -> tuple[int, float]:
    """Write the grid; return the node count and the border's longitude."""
    size = junctions * (BETWEEN + 1) - BETWEEN
    border = WEST + (size // 2 + 0.5) * STEP
    next_id = 1
    ids: dict[tuple[int, int], int] = {}

    def node(writer: osmium.SimpleWriter, i: int, j: int, tags: dict[str, str]) -> int:
        nonlocal next_id
        if (i, j) not in ids:
            ids[(i, j)] = next_id
            writer.add_node(
                osmium.osm.mutable.Node(
                    id=next_id, location=(WEST + j * STEP, SOUTH + i * STEP), tags=tags
                )
            )
            next_id += 1
        return ids[(i, j)]

    with osmium.SimpleWriter(str(path)) as writer:
        rows = [r * (BETWEEN + 1) for r in range(junctions)]
        for r, i in enumerate(rows):  # east-west roads, on every vertex
            post_col = size // 2 if r % 50 == 0 else None
            refs = []
            for j in range(size):
                tags = {}
                if post_col is not None and j == post_col:
                    tags = {"barrier": "border_control", "name": f"Post {r}"}
                refs.append(node(writer, i, j, tags))
            writer.add_way(
                osmium.osm.mutable.Way(
                    id=r + 1, nodes=refs, tags={"highway": "primary", "name": f"Road {r}"}
                )
            )
        for c in range(junctions):  # north-south roads
            j = c * (BETWEEN + 1)
            refs = [node(writer, i, j, {}) for i in range(size)]
            writer.add_way(
                osmium.osm.mutable.Way(
                    id=100_000 + c, nodes=refs, tags={"highway": "secondary", "name": f"Street {c}"}
                )
            )
    return next_id - 1, border


def write_boundaries(path: Path, border: float, junctions: int) -> None:
    north = SOUTH + junctions * (BETWEEN + 1) * STEP + 1
    east = WEST + junctions * (BETWEEN + 1) * STEP + 1
    gpd.GeoDataFrame(
        {"iso_a2": ["KZ", "KG"]},
        geometry=[box(WEST - 1, SOUTH - 1, border, north), box(border, SOUTH - 1, east, north)],
        crs="EPSG:4326",
    ).to_file(path, driver="GPKG")


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def timed(label: str, call):
    start = time.perf_counter()
    result = call()
    print(
        f"{label:<34} {time.perf_counter() - start:8.1f} s   peak {peak_gb():5.2f} GB", flush=True
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--junctions", type=int, default=350)
    parser.add_argument("--keep", action="store_true", help="keep the files in a temp folder")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="import-bench-"))
    pbf, adm0 = folder / "grid.osm.pbf", folder / "adm0.gpkg"
    nodes, border = timed("write the PBF (pyosmium)", lambda: write_grid(pbf, args.junctions))
    write_boundaries(adm0, border, args.junctions)
    print(f"{nodes:,} nodes, {2 * args.junctions} ways, {pbf.stat().st_size / 1e6:.1f} MB")
    extract = timed("read the extract", lambda: read_extract(pbf))
    countries = timed("read boundaries", lambda: read_countries(adm0, None, None))
    roads = timed("split, countries, crossings", lambda: build_roads(extract.ways, countries, None))
    posts = timed(
        "posts at crossings", lambda: place_posts(roads.crossings, osm_posts(extract.posts))
    )
    print(
        f"{len(roads.lines):,} road lines, {roads.kept_km:,.0f} km, {len(roads.crossings)} "
        f"crossings ({posts.matched} posts, {posts.closed} closed)"
    )
    start = time.perf_counter()
    timed(
        "whole import (all stages + write)",
        lambda: import_bundle(
            ImportOptions(dest=folder / "bundle", roads=str(pbf), boundaries=adm0, licence="test")
        ),
    )
    total = time.perf_counter() - start
    print(f"whole import: {total:.1f} s (target < 120 s)")
    print(f"peak memory of this process: {peak_gb():.2f} GB (target < 4 GB)")
    if args.keep:
        print(f"files kept in {folder}")
    else:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
