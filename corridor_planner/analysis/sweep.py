"""Scenario sweeps on Dask: every scenario x profile x service x threshold as tasks.

A sweep asks one question (access, referrals or site scoring) across many combinations.
Each (scenario, profile, service) is one Dask task; the thresholds of access share that
task's travel times. Every worker loads the corridor and reads its prepared network
once (a per-process cache keyed by the bundle path; the first worker to need it builds
and stores it, the others wait for that file); travel times are built once per profile and
scenario and reused by every service of the task. Results are one tidy table with the
same numbers as the single-run commands; a task that fails records its combination and
error in that table (``status`` ``error``), and the others still finish.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from corridor_planner.analysis import access, referral, scoring
from corridor_planner.bundle.corridor import Corridor, load_corridor, resolve_corridor_path
from corridor_planner.bundle.cover_rules import Patient
from corridor_planner.errors import CorridorPlannerError, InvalidArgumentError
from corridor_planner.network.graph import CorridorNetwork
from corridor_planner.network.prepared import prepared_network
from corridor_planner.outputs import write_parquet
from corridor_planner.routing.traveltimes import CorridorTravelTimes
from corridor_planner.settings import PROFILES

ANALYSES = ("access", "referrals", "score-sites")


@dataclass(frozen=True)
class Combination:
    """One task of a sweep: an analysis for a scenario, a profile and a service."""

    analysis: str
    scenario: str
    profile: str
    service: str
    thresholds: tuple[float, ...]
    k: int = 3
    method: str = "mclp"


@dataclass
class SweepResult:
    """A sweep's table, which combinations failed, and timings."""

    table: pd.DataFrame
    failed: list[dict[str, Any]] = field(default_factory=list)
    tasks: int = 0
    seconds: float = 0.0
    task_seconds: float = 0.0

    @property
    def partial(self) -> bool:
        """True when some combination failed (its rows say why)."""
        return bool(self.failed)


def combinations(
    corridor: Corridor,
    analysis: str,
    scenarios: Sequence[str],
    profiles: Sequence[str],
    services: Sequence[str],
    thresholds: Sequence[float],
    *,
    k: int = 3,
    method: str = "mclp",
) -> list[Combination]:
    """Expand the user's choices (``all`` for every scenario or profile) into tasks.

    Raises
    ------
    InvalidArgumentError
        For an unknown analysis, an empty choice, or score-sites without one threshold.
    """
    if analysis not in ANALYSES:
        raise InvalidArgumentError(f"unknown analysis {analysis!r}; known: {', '.join(ANALYSES)}")
    names = _expand(scenarios, [*corridor.scenarios, *corridor.bad_scenarios], "scenario")
    people = _expand(profiles, sorted(PROFILES), "profile")
    if not services:
        raise InvalidArgumentError("give at least one --service")
    limits = tuple(sorted(thresholds or corridor.thresholds_min))
    if analysis == "score-sites":
        return [
            Combination(analysis, s, p, v, (t,), k, method)
            for s, p, v, t in itertools.product(names, people, services, limits)
        ]
    return [
        Combination(analysis, s, p, v, limits, k, method)
        for s, p, v in itertools.product(names, people, services)
    ]


def _expand(chosen: Sequence[str], known: Sequence[str], what: str) -> list[str]:
    if not chosen or list(chosen) == ["all"]:
        return sorted(dict.fromkeys(known))
    return list(dict.fromkeys(chosen))


# one task --------------------------------------------------------------------------------

_CACHE: dict[str, tuple[Corridor, CorridorNetwork]] = {}


def corridor_network(path: str) -> tuple[Corridor, CorridorNetwork]:
    """Return the corridor and its network, read once per process (one per Dask worker).

    The network is the prepared one (:func:`~corridor_planner.network.prepared.
    prepared_network`): workers that start together build it once and share the file.
    """
    if path not in _CACHE:
        corridor = load_corridor(path, skip_bad_scenarios=True)
        _CACHE[path] = (corridor, prepared_network(corridor))
    return _CACHE[path]


def run_combination(path: str, combo: Combination) -> tuple[pd.DataFrame, float]:
    """Run one combination on this process's network; failures become a row saying why.

    Returns
    -------
    rows : DataFrame
        The combination's rows, each with the combination's keys and ``status``.
    seconds : float
        Time spent computing (for the overhead measure).
    """
    start = time.perf_counter()
    try:
        corridor, network = corridor_network(path)
        if combo.scenario in corridor.bad_scenarios:
            raise CorridorPlannerError("; ".join(corridor.bad_scenarios[combo.scenario]))
        times = CorridorTravelTimes(network, combo.profile, corridor.scenario(combo.scenario))
        rows = ANALYSIS_RUNNERS[combo.analysis](times, combo)
        rows["status"], rows["error"] = "ok", None
    except Exception as exc:  # a sweep reports every failure and goes on
        rows = pd.DataFrame([{"status": "error", "error": f"{type(exc).__name__}: {exc}"}])
    for position, (key, value) in enumerate(_keys(combo).items()):
        rows.insert(position, key, value)
    return rows, time.perf_counter() - start


def _keys(combo: Combination) -> dict[str, Any]:
    return {
        "analysis": combo.analysis,
        "scenario": combo.scenario,
        "profile": combo.profile,
        "service": combo.service,
    }


def access_rows(times: CorridorTravelTimes, combo: Combination) -> pd.DataFrame:
    """Access coverage: one row per threshold x country x group (``access`` numbers)."""
    result = access.access_report(times, combo.service, combo.thresholds)
    return result.coverage.copy()


def referral_rows(times: CorridorTravelTimes, combo: Combination) -> pd.DataFrame:
    """Referral pathways: one row per pathway (``referrals`` numbers, with route lines).

    Origins with no pathway get one row each with the ``refusal`` reason.
    """
    analysis = referral.analyse_referrals(times, combo.service, Patient(combo.profile))
    table = referral.pathway_table(analysis.pathways).drop(columns=["specialty"], errors="ignore")
    if not analysis.refusals:
        return table
    refusals = pd.DataFrame(
        [
            {"origin": r.origin, "origin_id": r.origin_id, "refusal": r.reason}
            for r in analysis.refusals
        ]
    )
    merged = pd.concat([table, refusals], ignore_index=True, sort=False)
    return gpd.GeoDataFrame(merged, geometry="geometry", crs="EPSG:4326")


def site_rows(times: CorridorTravelTimes, combo: Combination) -> pd.DataFrame:
    """Site scores: one row per ranked site (``score-sites`` numbers, with points)."""
    scores = scoring.score_sites(
        times, combo.service, combo.thresholds[0], combo.k, method=combo.method
    )
    table = scores.sites.copy()
    table.insert(0, "threshold_minutes", combo.thresholds[0])
    return table


ANALYSIS_RUNNERS: dict[str, Callable[[CorridorTravelTimes, Combination], pd.DataFrame]] = {
    "access": access_rows,
    "referrals": referral_rows,
    "score-sites": site_rows,
}


# the whole sweep -------------------------------------------------------------------------


def run_sweep(
    corridor: str | Path,
    combos: Sequence[Combination],
    client: Any,
    progress: Callable[[Iterable[Any]], None] | None = None,
) -> SweepResult:
    """Run every combination as a Dask task on ``client``; gather one tidy table.

    Parameters
    ----------
    corridor : str or Path
        Bundled id or bundle folder (workers load it themselves, once each).
    combos : sequence of Combination
    client : distributed.Client
        A client of a local or remote cluster.
    progress : callable, optional
        Given the futures (e.g. ``distributed.progress``) to show progress.
    """
    path = str(resolve_corridor_path(corridor).resolve())
    start = time.perf_counter()
    futures = client.map(run_combination, [path] * len(combos), combos, pure=False)
    if progress is not None:
        progress(futures)
    parts = client.gather(futures)
    seconds = time.perf_counter() - start
    tables = [table for table, _ in parts]
    failed = [
        {**asdict(combo), "error": str(table["error"].iloc[0])}
        for combo, table in zip(combos, tables, strict=True)
        if (table["status"] == "error").any()
    ]
    return SweepResult(
        table=_concat(tables),
        failed=failed,
        tasks=len(combos),
        seconds=seconds,
        task_seconds=float(sum(s for _, s in parts)),
    )


def _concat(tables: list[pd.DataFrame]) -> pd.DataFrame:
    spatial = [t for t in tables if isinstance(t, gpd.GeoDataFrame) and len(t)]
    table = pd.concat(tables, ignore_index=True, sort=False)
    if spatial:
        return gpd.GeoDataFrame(table, geometry="geometry", crs=spatial[0].crs)
    return table


def write_sweep(result: SweepResult, path: Path) -> Path:
    """Write the sweep's table to Parquet (GeoParquet with geometry), atomically.

    The file's metadata says whether it is partial (``corridor_planner:partial``).
    """
    return write_parquet(
        result.table,
        path,
        metadata={"corridor_planner:partial": "true" if result.partial else "false"},
    )


@contextlib.contextmanager
def start_client(scheduler: str, workers: int) -> Iterator[Any]:
    """Connect to ``scheduler`` (``tcp://host:8786``) or start a local cluster; close after.

    A local cluster has ``workers`` processes of one thread each (the engine's compiled
    searches hold the GIL, so processes, not threads, use the cores) and is shut down on
    leaving; a remote cluster is left running.
    """
    from distributed import Client, LocalCluster

    if scheduler != "local":
        with Client(scheduler) as client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client
