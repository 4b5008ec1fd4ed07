"""Charts from a sweep's table: coverage by threshold and scenario, minutes lost, failures.

Reads the Parquet a sweep wrote and renders one self-contained HTML page (Jinja2 with
autoescape: every string from the table is data, never template source).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from corridor_planner.errors import DataError, Problem
from corridor_planner.outputs import file_stem
from corridor_planner.render.report import template_environment


@dataclass
class Chart:
    """One bar chart: a title and labelled values."""

    title: str
    unit: str
    bars: list[dict[str, Any]]

    @property
    def largest(self) -> float:
        """The largest absolute value (bars are scaled to it)."""
        return max([abs(b["value"]) for b in self.bars] + [1e-9])


@dataclass
class SweepPage:
    """What the sweep report shows."""

    source: str
    partial: bool
    rows: int
    coverage: list[Chart] = field(default_factory=list)
    minutes: list[Chart] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)


def default_path(corridor: str) -> Path:
    """Return where ``report --sweep`` writes by default: ``reports/NAME_sweep.html``."""
    return Path("reports") / f"{file_stem(Path(corridor).name + '_sweep')}.html"


def read(path: Path) -> SweepPage:
    """Read a sweep's Parquet table and compute the charts.

    Raises
    ------
    DataError
        If the file is not a sweep table.
    """
    try:
        table = pd.read_parquet(path)
        metadata = pq.read_schema(path).metadata or {}
    except Exception as exc:  # pyarrow raises several types for unreadable files
        raise DataError(
            Problem(path.name, "-", "-", f"not a readable Parquet file ({exc})")
        ) from exc
    needed = {"analysis", "scenario", "profile", "service", "status"}
    if not needed <= set(table.columns):
        missing = ", ".join(sorted(needed - set(table.columns)))
        raise DataError(Problem(path.name, "-", missing, "not a sweep table (columns missing)"))
    page = SweepPage(
        source=path.name,
        partial=metadata.get(b"corridor_planner:partial") == b"true",
        rows=len(table),
    )
    ok = table[table["status"] == "ok"]
    page.coverage = coverage_charts(ok[ok["analysis"] == "access"])
    page.minutes = minutes_lost(ok[ok["analysis"] == "referrals"])
    failed = table[table["status"] == "error"]
    page.failed = failed[["analysis", "scenario", "profile", "service", "error"]].to_dict("records")
    return page


def coverage_charts(rows: pd.DataFrame) -> list[Chart]:
    """Share of all people within each threshold, by scenario and profile, per service."""
    if rows.empty:
        return []
    rows = rows[(rows["country"] == "all") & (rows["group"] == "all")]
    charts = []
    for (service, threshold), part in rows.groupby(["service", "threshold_minutes"], sort=True):
        bars = [
            {"label": f"{r.scenario} · {r.profile}", "value": float(r.share)}
            for r in part.sort_values(["scenario", "profile"]).itertuples()
            if pd.notna(r.share)
        ]
        charts.append(Chart(f"{service}: people within {threshold:g} min", "share", bars))
    return charts


def minutes_lost(rows: pd.DataFrame, reference: str = "baseline") -> list[Chart]:
    """Mean minutes to the first destination, each scenario against ``reference``."""
    if rows.empty or "rank" not in rows:
        return []
    first = rows[rows["rank"] == 1]
    charts = []
    for (service, profile), part in first.groupby(["service", "profile"], sort=True):
        means = part.groupby("scenario")["minutes"].mean()
        if reference not in means:
            continue
        bars = [
            {"label": str(name), "value": float(value - means[reference])}
            for name, value in means.items()
            if name != reference
        ]
        title = f"{service}, {profile}: minutes added to the first destination vs {reference}"
        charts.append(Chart(title, "minutes", bars))
    return charts


def render(page: SweepPage) -> str:
    """Render the page as self-contained HTML (inline CSS and SVG)."""
    return template_environment(autoescape=True).get_template("sweep.html.j2").render(page=page)
