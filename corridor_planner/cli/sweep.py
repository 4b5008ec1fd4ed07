"""``corridor-planner sweep``: one analysis over many scenarios, profiles and services."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from corridor_planner import settings
from corridor_planner.cli.formatting import say
from corridor_planner.cli.options import (
    DeferredChoice,
    Duration,
    friendly_errors,
    refuse_bundle_output,
)
from corridor_planner.errors import CorridorPlannerError
from corridor_planner.extras import require


@click.command(name="sweep")
@click.argument("corridor")
@click.option(
    "--analysis",
    type=DeferredChoice("corridor_planner.analysis.sweep", "ANALYSES"),
    default="access",
    show_default=True,
    help="The question asked of every combination.",
)
@click.option(
    "--scenario",
    "scenarios",
    multiple=True,
    help="Scenario names (repeatable) or 'all' (default: all).",
)
@click.option(
    "--profile",
    "profiles",
    multiple=True,
    help="Traveller profiles (repeatable) or 'all' (default: all).",
)
@click.option(
    "--service",
    "services",
    multiple=True,
    required=True,
    help="Services (access, score-sites) or specialties (referrals); repeatable.",
)
@click.option(
    "--threshold",
    "thresholds",
    type=Duration(),
    multiple=True,
    help="Thresholds (repeatable); default: the corridor's.",
)
@click.option("-k", "k", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--method", type=click.Choice(settings.SITING_METHODS[:-1]), default="mclp")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Results table: .parquet (GeoParquet when rows carry geometry).",
)
@click.option(
    "--scheduler",
    default="local",
    show_default=True,
    help="'local' starts a LocalCluster; or a running scheduler such as tcp://host:8786.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Worker processes of a local cluster.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1, max=600),
    default=10.0,
    show_default=True,
    help="Seconds to wait for a --scheduler to answer and to have a worker; also how long "
    "a lost scheduler is waited for before the sweep ends, partial.",
)
@friendly_errors
def command(
    corridor: str,
    analysis: str,
    scenarios: tuple[str, ...],
    profiles: tuple[str, ...],
    services: tuple[str, ...],
    thresholds: tuple[float, ...],
    k: int,
    method: str,
    out: Path,
    scheduler: str,
    workers: int,
    timeout: float,
) -> None:
    """Run one analysis over every scenario x profile x service (x threshold) on Dask."""
    require("sweep", "corridor-planner sweep")
    from corridor_planner.analysis import sweep
    from corridor_planner.bundle.corridor import load_corridor

    # everything that can be checked is checked before a cluster starts
    if out.suffix.lower() != ".parquet":
        raise CorridorPlannerError(f"cannot write {out}: a sweep's table is a .parquet file")
    refuse_bundle_output(out, corridor)
    if scheduler != "local":
        sweep.check_scheduler_address(scheduler)
    loaded = load_corridor(corridor, skip_bad_scenarios=True)
    combos = sweep.combinations(
        loaded, analysis, scenarios, profiles, services, thresholds, k=k, method=method
    )
    terminal = sys.stderr.isatty()
    with sweep.start_client(scheduler, workers, timeout) as client:
        if terminal:
            say(f"dashboard: {client.dashboard_link}", err=True)
        result = sweep.run_sweep(
            corridor, combos, client, progress=dask_progress if terminal else None
        )
    sweep.write_sweep(result, out)
    say(
        f"wrote {out}: {len(result.table)} rows from {result.tasks} combinations in "
        f"{result.seconds:.1f} s"
    )
    for failure in result.failed:
        say(
            f"  FAILED {failure['analysis']} {failure['scenario']} / {failure['profile']} / "
            f"{failure['service']}: {failure['error']}",
            err=True,
        )
    if result.partial:
        lost = sum(1 for f in result.failed if str(f["error"]).startswith("not run:"))
        if lost:
            say(
                f"the Dask cluster went away: {lost} of {result.tasks} combination(s) not run",
                err=True,
            )
        say(
            f"{len(result.failed)} combination(s) failed; {out} is partial "
            "(its metadata says corridor_planner:partial=true)",
            err=True,
        )
        sys.exit(1)


def dask_progress(futures: Any) -> None:
    """Show Dask's progress bar for the futures (on a terminal)."""
    from distributed import progress

    progress(futures)
