"""``referrals`` with many settlements: every route unpacked versus the detail limit.

Copies a bundled corridor with extra settlements near its road nodes (the scenario that
closes a road is left out: each settlement snapped onto that road splits it into one
more crossing), then times :func:`analyse_referrals` with every pathway routed (as
before issue 21), with ``settings.REFERRAL_DETAIL_LIMIT`` and with no route unpacked,
and checks that the three give the same minutes, posts, ranks and assignment::

    PYTHONPATH=$PWD python benchmarks/referrals.py [--settlements 3000]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
from shapely.geometry import Point

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from corridor_planner import build_network, load_corridor, settings
from corridor_planner.analysis.referral import ReferralAnalysis, analyse_referrals
from corridor_planner.bundle.cover_rules import Patient
from corridor_planner.routing.traveltimes import CorridorTravelTimes


def dense_bundle(name: str, extra: int, dest: Path, drop: tuple[str, ...]) -> None:
    """Copy bundle ``name`` to ``dest`` with ``extra`` settlements inside its box."""
    corridor = load_corridor(name)
    network = build_network(corridor)
    shutil.copytree(corridor.path, dest, ignore=shutil.ignore_patterns(".cache"))
    for scenario in drop:
        (dest / "scenarios" / f"{scenario}.toml").unlink()
    nodes = [(d["x"], d["y"], d["country"]) for _, d in network.graph.nodes(data=True)]
    rng = np.random.default_rng(7)
    pick = rng.choice(len(nodes), extra)
    x = np.array([nodes[i][0] for i in pick]) + rng.uniform(-300, 300, extra)
    y = np.array([nodes[i][1] for i in pick]) + rng.uniform(-300, 300, extra)
    points = gpd.GeoSeries([Point(a, b) for a, b in zip(x, y, strict=True)], crs=corridor.crs)
    west, south, east, north = corridor.bbox
    doc = json.loads((dest / "population.geojson").read_text())
    for k, (i, p) in enumerate(zip(pick, points.to_crs("EPSG:4326"), strict=True)):
        if west + 0.01 < p.x < east - 0.01 and south + 0.01 < p.y < north - 0.01:
            doc["features"].append(_settlement(k, nodes[i][2], p, int(rng.lognormal(7, 1)) + 50))
    (dest / "population.geojson").write_text(json.dumps(doc))


def _settlement(k: int, country: str, point: Point, people: int) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(point.x, 6), round(point.y, 6)]},
        "properties": {
            "id": f"syn_{k}",
            "name": f"Synthetic {k}",
            "country": country,
            "population": people,
            "population_year": 2020,
            "source": "synthetic benchmark",
            "district": None,
            "census_unit": None,
            "border_community": False,
            "migrant_share": None,
        },
    }


def answers(analysis: ReferralAnalysis) -> tuple[Any, ...]:
    """What must not depend on the detail: pathways' numbers and the assignment."""
    keys = [
        (p.origin_id, p.rank, p.destination_id, p.minutes, p.border_posts, p.waits, p.cover_rule)
        for p in analysis.pathways
    ]
    return keys, analysis.assignment, analysis.overflow, analysis.capacity


def main() -> None:
    """Build the dense bundle, time the three detail limits, compare their answers."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--corridor", default="almaty_bishkek")
    parser.add_argument("--drop-scenario", action="append", default=["kordai_pass_closed"])
    parser.add_argument("--settlements", type=int, default=3000)
    parser.add_argument("--specialty", default="cardiology")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="referrals-bench-"))
    try:
        dense_bundle(args.corridor, args.settlements, folder / "bundle", tuple(args.drop_scenario))
        corridor = load_corridor(folder / "bundle")
        times = CorridorTravelTimes(
            build_network(corridor), "citizen", corridor.scenario("baseline")
        )
        print(f"{len(corridor.population):,} settlements, {len(times.crossings)} crossings")
        seen = []
        for label, limit in (
            ("every route", 10**9),
            (f"limit {settings.REFERRAL_DETAIL_LIMIT}", None),
            ("no route", 0),
        ):
            start = time.perf_counter()
            analysis = analyse_referrals(
                times, args.specialty, Patient(), rate_per_100k=100, detail_limit=limit
            )
            seconds = time.perf_counter() - start
            print(
                f"{label:<12} {seconds:7.1f} s: {len(analysis.pathways):,} pathways, "
                f"{analysis.routed:,} routed"
            )
            seen.append(answers(analysis))
        print("same answers:", all(s == seen[0] for s in seen))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
