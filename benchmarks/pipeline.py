"""Country scale, end to end: every command as a user runs it, beside pandana (issue #21).

For each size, writes SYNTHETIC inputs (nothing in ``data/`` is read or changed): the
road-like PBF of ``benchmarks/import_roads.py`` (a grid of junctions crossing a KZ-KG
border with posts on every 50th road), its two-country boundaries, 1,000 facilities as
a healthsites.io-style CSV, a population GeoTIFF (one demand point per non-empty cell)
and 50 candidate sites. The bundle is built THROUGH ``corridor-planner import``; the
import takes no candidates, so they are written into the bundle's ``candidates.geojson``
afterwards, as a planner adds proposed sites, before ``prepare``. Then each command runs
in its own CLI subprocess, and the same nearest-emergency-facility question is answered
by pandana (network build plus ``nearest_pois``) on the same road graph, exported from
the prepared network. For each command it prints CPU seconds (user + sys of that child),
wall seconds and the child's own peak memory (``ru_maxrss`` from ``os.wait4``), then the
ratios to pandana, and a check of ``access``'s minutes against a plain Dijkstra
(scipy) and pandana for the settlements whose nearest facility is in their own country::

    PYTHONPATH=. python benchmarks/pipeline.py [--sizes 100k,1m] [--timeout 300]
        [--keep] [--out results.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from import_roads import BETWEEN, SOUTH, STEP, WEST, write_boundaries, write_grid  # noqa: E402

#: Junctions per side (about 9 x junctions**2 OSM nodes) and population raster side.
SIZES = {"10k": (34, 50), "100k": (106, 152), "1m": (350, 500)}
N_FACILITIES, N_CANDIDATES, N_SAMPLE = 1000, 50, 2000
#: Share of empty raster cells: 500 x 500 cells give about 227k demand points.
EMPTY_SHARE = 0.092
SERVICE, SPECIALTY, SEED = "emergency", "cardiology", 21
CLI = [sys.executable, str(ROOT / "cli.py")]


@dataclass
class Run:
    """What one child process did: its exit, CPU, wall and own peak memory."""

    label: str
    command: list[str]
    status: str = "ok"
    exit_code: int | None = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_mb: float = 0.0
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        """Return the figures of one row of the result table.

        A command that did not finish shows its CPU and peak memory until it was stopped.
        """
        return f"{self.cpu_s:9.1f} {self.wall_s:9.1f} {self.peak_mb:9.0f}  {self.detail}"


# synthetic inputs ------------------------------------------------------------------------


def grid_extent(junctions: int) -> tuple[float, float, float, float]:
    """Return west, south, east, north (degrees) of the road grid of ``write_grid``."""
    span = (junctions * (BETWEEN + 1) - BETWEEN - 1) * STEP
    return WEST, SOUTH, WEST + span, SOUTH + span


def write_facilities(path: Path, junctions: int, rng: np.random.Generator) -> list[str]:
    """Write 1,000 facilities as a healthsites.io-style CSV; return two hospital names.

    A fifth are hospitals (emergency and surgery, one in three also cardiology, beds),
    the rest clinics; all at random inside the grid. The names returned lie on opposite
    sides of the border, for ``route``.
    """
    west, south, east, north = grid_extent(junctions)
    lon = rng.uniform(west, east, N_FACILITIES)
    lat = rng.uniform(south, north, N_FACILITIES)
    columns = ["osm_id", "name", "amenity", "healthcare:speciality", "beds", "operator:type"]
    hospitals = []
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*columns, "lat", "lon"])
        for i in range(N_FACILITIES):
            if i % 5 == 0:
                special = "emergency;surgery" + (";cardiology" if i % 15 == 0 else "")
                row = [f"node/{i + 1}", f"Hospital {i}", "hospital", special, 120, "public"]
                hospitals.append((lon[i], row[1]))
            else:
                row = [f"node/{i + 1}", f"Clinic {i}", "clinic", "general", "", "public"]
            writer.writerow([*row, f"{lat[i]:.6f}", f"{lon[i]:.6f}"])
    hospitals.sort()
    return [hospitals[0][1], hospitals[-1][1]]


def write_population(path: Path, junctions: int, side: int, rng: np.random.Generator) -> int:
    """Write a ``side`` x ``side`` population GeoTIFF over the grid; return non-empty cells."""
    import rasterio
    from rasterio.transform import from_bounds

    values = rng.gamma(1.5, 60.0, (side, side)).astype("float32")
    values[rng.random((side, side)) < EMPTY_SHARE] = 0.0
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=side,
        height=side,
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=from_bounds(*grid_extent(junctions), side, side),
        nodata=-1.0,
    ) as raster:
        raster.write(values, 1)
    return int((values > 0).sum())


def cell_km(junctions: int, side: int) -> float:
    """Return a ``--cell-km`` that keeps each raster cell a point of its own (1 x 1 blocks)."""
    west, south, east, north = grid_extent(junctions)
    lat = np.radians((south + north) / 2)
    dx = (east - west) / side * 111.32 * float(np.cos(lat))
    dy = (north - south) / side * 111.32
    return round(max(0.1, min(dx, dy) * 1.1), 3)


def write_candidates(bundle: Path, junctions: int, rng: np.random.Generator) -> None:
    """Put 50 proposed emergency sites into the bundle's ``candidates.geojson``."""
    west, south, east, north = grid_extent(junctions)
    border = WEST + ((junctions * (BETWEEN + 1) - BETWEEN) // 2 + 0.5) * STEP
    features = []
    for i in range(N_CANDIDATES):
        lon, lat = float(rng.uniform(west, east)), float(rng.uniform(south, north))
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {
                    "id": f"cand_{i}",
                    "name": f"Candidate {i}",
                    "country": "KZ" if lon < border else "KG",
                    "services": [SERVICE],
                    "capacity": None,
                    "cost": None,
                    "reason": "synthetic benchmark site",
                    "source": "benchmarks/pipeline.py (synthetic)",
                },
            }
        )
    text = json.dumps({"type": "FeatureCollection", "features": features})
    (bundle / "candidates.geojson").write_text(text, encoding="utf-8")


@dataclass
class Inputs:
    """Paths of one size's generated inputs and what they hold."""

    pbf: Path
    boundaries: Path
    facilities: Path
    population: Path
    cell_km: float
    osm_nodes: int
    cells: int
    route: list[str]


def write_inputs(folder: Path, size: str) -> Inputs:
    """Write every synthetic input of one size into ``folder``."""
    junctions, side = SIZES[size]
    rng = np.random.default_rng(SEED)
    pbf, adm0 = folder / "grid.osm.pbf", folder / "adm0.gpkg"
    nodes, border = write_grid(pbf, junctions)
    write_boundaries(adm0, border, junctions)
    route = write_facilities(folder / "healthsites.csv", junctions, rng)
    cells = write_population(folder / "population.tif", junctions, side, rng)
    return Inputs(
        pbf,
        adm0,
        folder / "healthsites.csv",
        folder / "population.tif",
        cell_km(junctions, side),
        nodes,
        cells,
        route,
    )


# running children ------------------------------------------------------------------------


def run_child(label: str, command: list[str], folder: Path, timeout: float) -> Run:
    """Run one command in its own process group; measure it with ``os.wait4``."""
    run = Run(label, command)
    out, err = folder / f"{label}.stdout", folder / f"{label}.stderr"
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    start = time.perf_counter()
    with out.open("wb") as stdout, err.open("wb") as stderr:
        child = subprocess.Popen(
            command, stdout=stdout, stderr=stderr, cwd=folder, env=env, start_new_session=True
        )
        status, usage = _wait(child, start + timeout)
    run.wall_s = time.perf_counter() - start
    if status is None:
        os.killpg(child.pid, signal.SIGKILL)
        _, status, usage = os.wait4(child.pid, 0)
        run.status, run.exit_code, run.detail = "timeout", None, "did not finish (timeout)"
    run.cpu_s = usage.ru_utime + usage.ru_stime
    run.peak_mb = usage.ru_maxrss / 1024
    if run.status == "ok" and os.waitstatus_to_exitcode(status) != 0:
        run.exit_code = os.waitstatus_to_exitcode(status)
        run.status = "failed"
        run.detail = f"failed (exit {run.exit_code}): {_last_line(err)}"
    child.returncode = run.exit_code  # reaped by wait4: keep Popen from waiting again
    print(f"  {label:34} {run.text()}", flush=True)
    return run


def _wait(child: subprocess.Popen[bytes], deadline: float) -> tuple[int | None, Any]:
    """Reap ``child`` by ``deadline``; return its status and rusage, or (None, None)."""
    while time.perf_counter() < deadline:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            return status, usage
        time.sleep(0.1)
    return None, None


def _last_line(path: Path) -> str:
    lines = [x for x in path.read_text(encoding="utf-8", errors="replace").splitlines() if x]
    return lines[-1][:300] if lines else "(no stderr)"


def commands(bundle: Path, inputs: Inputs) -> list[tuple[str, list[str]]]:
    """Return every timed command after the import, as a user types it (labels first)."""
    b = str(bundle)
    th = ["--threshold", "30min", "--threshold", "1h", "--threshold", "2h"]
    sites = ["score-sites", b, "--service", SERVICE, "--threshold", "30min", "-k", "5"]
    return [
        ("prepare", ["prepare", b]),
        ("validate", ["validate", b]),
        ("route", ["route", b, "--from", inputs.route[0], "--to", inputs.route[1]]),
        (
            "access 3 thresholds e2sfca",
            ["access", b, "--service", SERVICE, *th, "--method", "e2sfca", "--out", "access.csv"],
        ),
        (
            "access --compare borders_closed",
            ["access", b, "--service", SERVICE, *th, "--compare", "borders_closed"],
        ),
        ("score-sites mclp k=5", [*sites, "--method", "mclp"]),
        (
            "score-sites capacitated k=5",
            [*sites, "--method", "capacitated", "--service-capacity", "50000"],
        ),
        ("score-sites pmedian k=5", [*sites, "--method", "pmedian"]),
        (f"referrals {SPECIALTY}", ["referrals", b, "--specialty", SPECIALTY]),
        ("report", ["report", b, "--out", "report.html"]),
        ("map", ["map", b, "--service", SERVICE, "--out", "map.html"]),
    ]


def import_command(bundle: Path, inputs: Inputs) -> list[str]:
    """Return the ``import`` command line for the generated inputs."""
    return [
        "import",
        str(bundle),
        "--roads",
        str(inputs.pbf),
        "--boundaries",
        str(inputs.boundaries),
        "--facilities",
        str(inputs.facilities),
        "--facility-schema",
        "healthsites",
        "--population",
        str(inputs.population),
        "--cell-km",
        str(inputs.cell_km),
        "--licence",
        "synthetic benchmark data",
    ]


# workers: export the road graph, pandana --------------------------------------------------


def export_graph(bundle: Path, npz: Path) -> None:
    """Worker: the prepared network's road graph (posts left out) as arrays.

    Edges are the road and access edges with their ``travel_time`` (the cheapest of
    parallel edges); border-post edges are left out, as the engine leaves them out
    (their time depends on profile, scenario and hour). Also the emergency facilities'
    and a sample of settlements' nodes.
    """
    from corridor_planner import load_corridor
    from corridor_planner.analysis.access import offering, settlements_on_network
    from corridor_planner.network.prepared import prepared_network

    network = prepared_network(load_corridor(bundle))
    graph = network.graph
    index = {node: i for i, node in enumerate(graph.nodes)}
    best: dict[tuple[int, int], float] = {}
    for u, v, data in graph.edges(data=True):
        if data.get("border_post") is not None:
            continue
        key = (index[u], index[v])
        best[key] = min(best.get(key, np.inf), float(data["travel_time"]))
    pairs = np.array(list(best), dtype=np.int64).reshape(-1, 2)
    fac = offering(network, SERVICE)
    sett = settlements_on_network(network)
    sample = sett.sample(min(N_SAMPLE, len(sett)), random_state=SEED)
    np.savez(
        npz,
        x=np.array([graph.nodes[n]["x"] for n in graph.nodes]),
        y=np.array([graph.nodes[n]["y"] for n in graph.nodes]),
        tails=pairs[:, 0],
        heads=pairs[:, 1],
        time=np.array(list(best.values())),
        facilities=np.array([index[n] for n in fac["node"]], dtype=np.int64),
        sample_nodes=np.array([index[n] for n in sample["node"]], dtype=np.int64),
        sample_ids=sample["id"].astype(str).to_numpy(dtype="U"),
    )


def pandana_worker(npz: Path, result: Path) -> None:
    """Worker: pandana's network build and ``nearest_pois``; a scipy Dijkstra for checking."""
    import warnings

    import pandana
    import pandas as pd
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import dijkstra

    warnings.filterwarnings("ignore", message=".*unconnected nodes.*")
    a = np.load(npz)
    start = time.perf_counter()
    net = pandana.Network(
        pd.Series(a["x"]),
        pd.Series(a["y"]),
        pd.Series(a["tails"]),
        pd.Series(a["heads"]),
        pd.DataFrame({"time": a["time"]}),
        twoway=False,
    )
    built = time.perf_counter()
    fac = a["facilities"]
    reach = 1e7
    net.set_pois("fac", reach, 1, pd.Series(a["x"][fac]), pd.Series(a["y"][fac]))
    found = net.nearest_pois(reach, "fac", num_pois=1)[1].to_numpy(dtype=float)
    done = time.perf_counter()
    n = len(a["x"])
    reverse = csr_array((a["time"], (a["heads"], a["tails"])), shape=(n, n))
    plain = dijkstra(reverse, indices=fac, min_only=True)
    sample = a["sample_nodes"]
    out = {
        "build_s": built - start,
        "nearest_s": done - built,
        "nodes": n,
        "edges": len(a["tails"]),
        "facilities": len(fac),
        "sample_ids": a["sample_ids"].tolist(),
        "pandana_min": (found[sample] / 60).tolist(),
        "dijkstra_min": (plain[sample] / 60).tolist(),
    }
    result.write_text(json.dumps(out), encoding="utf-8")


# one size --------------------------------------------------------------------------------


def run_size(size: str, folder: Path, timeout: float, only: Sequence[str] = ()) -> dict[str, Any]:
    """Generate, import, run the commands (those ``only`` names, default all) and pandana."""
    print(f"\n== {size}: writing synthetic inputs in {folder}", flush=True)
    inputs = write_inputs(folder, size)
    print(
        f"  {inputs.osm_nodes:,} OSM nodes ({inputs.pbf.stat().st_size / 1e6:.1f} MB PBF), "
        f"{N_FACILITIES} facilities, {inputs.cells:,} populated raster cells "
        f"(--cell-km {inputs.cell_km}), {N_CANDIDATES} candidates",
        flush=True,
    )
    print(f"  {'command':34} {'CPU s':>9} {'wall s':>9} {'peak MB':>9}", flush=True)
    bundle = folder / "bundle"
    runs = [run_child("import", [*CLI, *import_command(bundle, inputs)], folder, timeout)]
    if runs[0].status != "ok":
        return {"size": size, "inputs": _inputs_dict(inputs), "runs": [asdict(r) for r in runs]}
    write_candidates(bundle, SIZES[size][0], np.random.default_rng(SEED + 1))
    for label, args in commands(bundle, inputs):
        if only and not label.startswith(tuple(only)):
            continue
        runs.append(run_child(label, [*CLI, *args], folder, timeout))
    npz, result = folder / "graph.npz", folder / "pandana.json"
    me = [sys.executable, str(Path(__file__).resolve())]
    runs.append(
        run_child("(export road graph)", [*me, "--export", str(bundle), str(npz)], folder, timeout)
    )
    pandana = None
    if runs[-1].status == "ok":
        runs.append(
            run_child(
                "pandana build + nearest_pois",
                [*me, "--pandana", str(npz), str(result)],
                folder,
                timeout,
            )
        )
        if runs[-1].status == "ok":
            pandana = json.loads(result.read_text(encoding="utf-8"))
    report = {"size": size, "inputs": _inputs_dict(inputs), "runs": [asdict(r) for r in runs]}
    if pandana is not None:
        report["pandana"] = {k: pandana[k] for k in ("build_s", "nearest_s", "nodes", "edges")}
        report["agreement"] = agreement(folder / "access.csv", pandana)
    print_table(report)
    return report


def _inputs_dict(inputs: Inputs) -> dict[str, Any]:
    return {
        "osm_nodes": inputs.osm_nodes,
        "populated_cells": inputs.cells,
        "cell_km": inputs.cell_km,
        "facilities": N_FACILITIES,
        "candidates": N_CANDIDATES,
        "route": inputs.route,
    }


def agreement(access_csv: Path, pandana: dict[str, Any]) -> dict[str, Any]:
    """Compare ``access`` minutes with Dijkstra's and pandana's on a settlement sample.

    Only settlements whose nearest facility (by ``access``) is in their own country are
    compared: the others' best path crosses a post, whose wait the road graph omits.
    """
    if not access_csv.exists():
        return {"note": "access wrote no table"}
    with access_csv.open(encoding="utf-8") as handle:
        rows = {r["id"]: r for r in csv.DictReader(handle)}
    ours, dij, pan = [], [], []
    for sid, d, p in zip(
        pandana["sample_ids"], pandana["dijkstra_min"], pandana["pandana_min"], strict=True
    ):
        row = rows.get(sid)
        if row is None or row.get("crosses_border", "").lower() == "true":
            continue
        ours.append(float(row["minutes"]))
        dij.append(d)
        pan.append(p)
    o, d, p = np.array(ours), np.array(dij), np.array(pan)
    if not len(o):
        return {"compared": 0}
    return {
        "compared": len(o),
        "sampled": len(pandana["sample_ids"]),
        "max_diff_access_dijkstra_min": float(np.nanmax(np.abs(o - d))),
        "max_diff_access_pandana_min": float(np.nanmax(np.abs(o - p))),
        "max_diff_pandana_dijkstra_min": float(np.nanmax(np.abs(p - d))),
    }


def print_table(report: dict[str, Any]) -> None:
    """Print the final table of one size: every command, its ratio, the answer check."""
    size, info = report["size"], report["inputs"]
    print(
        f"\n== results {size}: {info['osm_nodes']:,} OSM nodes, "
        f"{info['populated_cells']:,} population points, {info['facilities']} facilities"
    )
    pd_ = report.get("pandana")
    base = pd_["build_s"] + pd_["nearest_s"] if pd_ else None
    print(f"{'command':36} {'CPU s':>9} {'wall s':>9} {'peak MB':>9} {'x pandana':>9}  note")
    for r in report["runs"]:
        run = Run(**r)
        ratio = f"{run.wall_s / base:9.1f}" if base and run.status == "ok" else f"{'-':>9}"
        row = run.text()
        print(f"{run.label:36} {row[:29]} {ratio} {row[29:]}")
    if pd_ is None or base is None:
        print("pandana: not run (see above)")
        return
    print(
        f"x pandana = the command's wall s / pandana's build + nearest_pois wall s on the same "
        f"road graph ({pd_['nodes']:,} nodes, {pd_['edges']:,} edges): build "
        f"{pd_['build_s']:.1f} s + nearest_pois {pd_['nearest_s']:.1f} s = {base:.1f} s "
        "(inside its child, after loading the arrays)"
    )
    check = report.get("agreement", {})
    if check.get("compared"):
        print(
            f"answers, {check['compared']} of {check['sampled']} sampled settlements whose "
            f"nearest facility is in their own country: max |access - Dijkstra| "
            f"{check['max_diff_access_dijkstra_min']:.4f} min, max |access - pandana| "
            f"{check['max_diff_access_pandana_min']:.4f} min, max |pandana - Dijkstra| "
            f"{check['max_diff_pandana_dijkstra_min']:.4f} min"
        )
    else:
        print(f"answers: not compared ({check})")


def main() -> None:
    """Parse the options; run each size; print and optionally write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="100k,1m", help="comma-separated: 100k, 1m (10k: a quick check)"
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per command")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    parser.add_argument(
        "--commands",
        default="",
        help="comma-separated command labels to run (a prefix is enough, e.g. prepare,report); "
        "default: all",
    )
    parser.add_argument("--out", type=Path, help="also write the results as JSON")
    parser.add_argument("--export", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--pandana", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export:
        export_graph(*args.export)
        return
    if args.pandana:
        pandana_worker(*args.pandana)
        return
    sizes = [s.strip().lower() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown size {', '.join(unknown)} (known: {', '.join(SIZES)})")
    top = Path(tempfile.mkdtemp(prefix="pipeline-bench-"))
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    reports = []
    try:
        for size in sizes:
            (top / size).mkdir()
            only = [c.strip() for c in args.commands.split(",") if c.strip()]
            reports.append(run_size(size, top / size, args.timeout, only))
            if args.out:
                args.out.write_text(json.dumps(reports, indent=1), encoding="utf-8")
    finally:
        if args.keep:
            print(f"files kept in {top}")
        else:
            shutil.rmtree(top, ignore_errors=True)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
