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
from corridor_planner.errors import CorridorPlannerError, InvalidArgumentError, NotFoundError
from corridor_planner.network.graph import CorridorNetwork
from corridor_planner.network.prepared import prepared_network
from corridor_planner.outputs import write_parquet
from corridor_planner.routing.traveltimes import CorridorTravelTimes
from corridor_planner.settings import PROFILES, SERVICES, SITING_METHODS

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
    _refuse_unknown(services, sorted(SERVICES), "service")
    if analysis != "referrals":  # a specialty nobody offers is a finding of referrals
        offered = {s for row in corridor.facilities["services"] for s in row or ()}
        missing = [s for s in services if s not in offered]
        if missing:
            raise NotFoundError(
                f"no facility in corridor {corridor.id} offers {', '.join(map(repr, missing))}"
            )
    if analysis == "score-sites" and method not in SITING_METHODS[:-1]:
        raise InvalidArgumentError(f"unknown siting method {method!r} for a sweep")
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
    _refuse_unknown(chosen, known, what)
    return list(dict.fromkeys(chosen))


def _refuse_unknown(chosen: Sequence[str], known: Sequence[str], what: str) -> None:
    """Refuse names that are not known, before any task runs (``all`` means every one)."""
    bad = [name for name in chosen if name not in known]
    if bad:
        raise NotFoundError(
            f"no {what} {', '.join(map(repr, bad))} (known: {', '.join(sorted(known))}, or all)"
        )


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

    Results are gathered as they finish. When the cluster goes away mid-run (the
    scheduler dies, the connection drops), the combinations not finished are recorded
    as failed ("not run: ...") and the sweep returns what it has, marked partial, as
    soon as the client gives up reconnecting (its ``timeout``).

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
    parts = _gather(futures, combos)
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


def _gather(
    futures: Sequence[Any], combos: Sequence[Combination]
) -> list[tuple[pd.DataFrame, float]]:
    """Each future's result, or a row saying why it has none (cluster lost, task lost)."""
    from distributed import as_completed

    index = {future.key: i for i, future in enumerate(futures)}
    parts: list[tuple[pd.DataFrame, float] | None] = [None] * len(futures)
    lost = "the Dask cluster went away before this combination finished"
    try:
        for future in as_completed(futures):
            i = index[future.key]
            try:
                parts[i] = future.result()
            except Exception as exc:  # cancelled, or the worker died: say so, go on
                parts[i] = _not_run(combos[i], f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # the client itself failed (connection closed)
        lost = f"{lost} ({type(exc).__name__}: {exc})"
    return [
        part if part is not None else _not_run(combo, lost)
        for part, combo in zip(parts, combos, strict=True)
    ]


def _not_run(combo: Combination, reason: str) -> tuple[pd.DataFrame, float]:
    rows = pd.DataFrame([{"status": "error", "error": f"not run: {reason}"}])
    for position, (key, value) in enumerate(_keys(combo).items()):
        rows.insert(position, key, value)
    return rows, 0.0


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


#: Seconds to wait for a scheduler to answer and to have a worker (``--timeout``).
CONNECT_TIMEOUT = 10.0
#: Address schemes of Dask's comms that a scheduler listens on.
SCHEMES = ("tcp", "tls", "ucx", "ws", "wss")


def check_scheduler_address(address: str) -> tuple[str, int]:
    """Return the host and port of ``scheme://host:port`` (``tcp://`` when none is given).

    Raises
    ------
    InvalidArgumentError
        For anything else (``'not a url'``, no port, an unknown scheme).
    """
    scheme, _, rest = address.rpartition("://")
    host, _, port = rest.rpartition(":")
    host = host.strip("[]")
    problem = None
    if (scheme or "tcp") not in SCHEMES:
        problem = f"unknown scheme {scheme!r} (use one of {', '.join(SCHEMES)})"
    elif not host or not port.isdigit() or not 0 < int(port) < 65536:
        problem = "not host:port"
    elif any(c.isspace() or c in "/?#@" for c in host):
        problem = "not a host name"
    if problem:
        raise InvalidArgumentError(
            f"--scheduler {address!r}: {problem}; give 'local' or a running scheduler's "
            "address such as tcp://host:8786"
        )
    return host, int(port)


def connect(address: str, timeout: float = CONNECT_TIMEOUT) -> Any:
    """Connect to a running scheduler that has at least one worker, within ``timeout`` s.

    The address is checked, the port probed, the Dask handshake made and a worker
    waited for, each within ``timeout``: a wrong address fails at once, an unreachable
    one or a scheduler with no workers after ``timeout`` seconds, with one clear message.

    Raises
    ------
    InvalidArgumentError
        A malformed address.
    CorridorPlannerError
        Nothing answers, something that is not a Dask scheduler answers, or no worker
        joins in time.
    """
    import socket

    from distributed import Client

    host, port = check_scheduler_address(address)
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        raise CorridorPlannerError(
            f"cannot reach the Dask scheduler at {address}: {exc.strerror or exc} "
            f"(tried for at most {timeout:g} s)"
        ) from exc
    try:
        client = Client(address, timeout=f"{timeout}s")
    except Exception as exc:  # a service that is not a scheduler; a handshake timeout
        raise CorridorPlannerError(
            f"{address} does not answer as a Dask scheduler within {timeout:g} s "
            f"({type(exc).__name__}: {exc})"
        ) from exc
    try:
        client.wait_for_workers(1, timeout=timeout)
    except Exception as exc:
        client.close(timeout=timeout)
        raise CorridorPlannerError(
            f"the Dask scheduler at {address} has no workers (waited {timeout:g} s); "
            f"start one with `dask worker {address}`"
        ) from exc
    return client


@contextlib.contextmanager
def start_client(scheduler: str, workers: int, timeout: float = CONNECT_TIMEOUT) -> Iterator[Any]:
    """Connect to ``scheduler`` (``tcp://host:8786``) or start a local cluster; close after.

    A local cluster has ``workers`` processes of one thread each (the engine's compiled
    searches hold the GIL, so processes, not threads, use the cores) and is shut down on
    leaving; a remote cluster is left running. A remote scheduler must answer and have a
    worker within ``timeout`` seconds (:func:`connect`).
    """
    from distributed import Client, LocalCluster

    if scheduler != "local":
        client = connect(scheduler, timeout)
        try:
            yield client
        finally:
            with contextlib.suppress(Exception):  # a scheduler gone mid-run: nothing to close
                client.close(timeout=timeout)
        return
    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client
