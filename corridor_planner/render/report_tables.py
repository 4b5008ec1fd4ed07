"""The report of a big corridor: per-settlement tables summarised, every row in CSV files.

Above :data:`~corridor_planner.settings.REPORT_POINT_LIMIT` settlements a page of one row
per settlement (and per pathway) is neither readable nor printable. The report then shows
settlements by country and band of minutes, the worst off, and the longest pathways; the
full tables are written beside it as CSV (atomically, formulas defused).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from corridor_planner.analysis import referral
from corridor_planner.analysis.access import nearest_facility_times
from corridor_planner.analysis.summary import SUMMARY_SERVICE
from corridor_planner.outputs import write_table
from corridor_planner.render.map_cells import time_bands
from corridor_planner.routing.traveltimes import CorridorTravelTimes
from corridor_planner.settings import REPORT_POINT_LIMIT, REPORT_WORST_SHOWN

#: Bands of minutes to care the summary counts settlements in (upper limits).
BAND_LIMITS = (30.0, 60.0, 120.0, float("inf"))


@dataclass
class SettlementTables:
    """The summary of a big corridor's per-settlement tables, and the tables themselves.

    Attributes
    ----------
    settlements : int
        Settlements of the corridor.
    by_band : list of dict
        ``country``, ``reachable``, ``low`` and ``high`` minutes of the band (``high``
        ``None`` beyond the last limit), ``settlements``, ``people``.
    worst : list of dict
        The settlements furthest from care: ``name``, ``country``, ``population``,
        ``minutes`` (``None``: not reachable), ``facility``.
    longest : dict
        Specialty -> its longest pathways (:class:`Pathway`).
    tables : dict
        File key (``settlements``, ``pathways``, ``refusals``, ``costs``) -> full table.
    files : list of dict
        ``key``, ``file`` (name beside the report), ``rows``, ``left_out`` (rows not on
        the page); set by :meth:`name_files`.
    """

    settlements: int
    by_band: list[dict[str, Any]]
    worst: list[dict[str, Any]]
    longest: dict[str, list[referral.Pathway]]
    tables: dict[str, pd.DataFrame]
    files: list[dict[str, Any]] = field(default_factory=list)

    def name_files(self, report: Path) -> list[Path]:
        """Name the CSV files beside ``report`` (``NAME_KEY.csv``); return their paths."""
        shown = {
            "settlements": len(self.worst),
            "pathways": self.shown_pathways(),
            "costs": self.shown_costs(),
        }
        paths = [report.with_name(f"{report.stem}_{key}.csv") for key in self.tables]
        self.files = [
            {
                "key": key,
                "file": path.name,
                "rows": len(table),
                "left_out": len(table) - min(len(table), shown.get(key, 0)),
            }
            for (key, table), path in zip(self.tables.items(), paths, strict=True)
        ]
        return paths

    def shown_pathways(self) -> int:
        """Pathways on the page (the longest of each specialty)."""
        return sum(len(rows) for rows in self.longest.values())

    def shown_costs(self) -> int:
        """Cost rows on the page: as many of each specialty's as settlements are shown."""
        costs = self.tables.get("costs")
        if costs is None or costs.empty:
            return 0
        counts = costs.groupby("specialty").size()
        return int(counts.clip(upper=len(self.worst)).sum())

    def file(self, key: str) -> dict[str, Any]:
        """Return the entry of :attr:`files` of ``key`` (empty if it has none)."""
        return next((f for f in self.files if f["key"] == key), {})

    def write(self, report: Path) -> list[Path]:
        """Write every table beside ``report``, atomically; return the paths."""
        paths = self.name_files(report)
        for table, path in zip(self.tables.values(), paths, strict=True):
            write_table(table, path)
        return paths


def is_big(settlements: int) -> bool:
    """Whether a report summarises its per-settlement tables (:data:`REPORT_POINT_LIMIT`)."""
    return settlements > REPORT_POINT_LIMIT


def settlement_tables(
    reference: CorridorTravelTimes,
    analyses: Sequence[referral.ReferralAnalysis],
    shown: int = REPORT_WORST_SHOWN,
) -> SettlementTables:
    """Summarise the per-settlement figures of the reference scenario; keep the full tables."""
    corridor = reference.network.corridor
    offered = {s for services in corridor.facilities["services"] for s in services}
    near = (
        nearest_facility_times(reference, SUMMARY_SERVICE)
        if SUMMARY_SERVICE in offered
        else pd.DataFrame(columns=["name", "country", "population", "minutes", "facility_name"])
    )
    return SettlementTables(
        settlements=len(corridor.population),
        by_band=_by_band(near),
        worst=_worst(near, shown),
        longest={a.specialty: _longest(a.pathways, shown) for a in analyses},
        tables={
            "settlements": _settlement_rows(near),
            "pathways": _pathway_rows(analyses),
            "refusals": _refusal_rows(analyses),
            "costs": _cost_rows(analyses),
        },
    )


def _by_band(near: pd.DataFrame) -> list[dict[str, Any]]:
    """Settlements and people per country and band of minutes to care."""
    if near.empty:
        return []
    bands = time_bands(near["minutes"].to_numpy(dtype=float), BAND_LIMITS)
    table = pd.DataFrame(
        {"country": near["country"].to_numpy(), "band": bands, "people": near["population"]}
    )
    rows = []
    for (country, band), group in table.groupby(["country", "band"], sort=True):
        number = int(band)
        reachable = number < len(BAND_LIMITS)
        high = BAND_LIMITS[number] if reachable else None
        rows.append(
            {
                "country": str(country),
                "reachable": reachable,
                "low": BAND_LIMITS[number - 1] if number else 0.0,
                "high": high if high is not None and np.isfinite(high) else None,
                "settlements": len(group),
                "people": int(group["people"].sum()),
            }
        )
    return rows


def _worst(near: pd.DataFrame, shown: int) -> list[dict[str, Any]]:
    """Return the settlements furthest from care (not reachable first), larger first."""
    if near.empty:
        return []
    order = near.assign(sort_minutes=near["minutes"].astype(float).fillna(np.inf))
    order = order.sort_values(["sort_minutes", "population"], ascending=[False, False]).head(shown)
    return [
        {
            "name": row.name,
            "country": row.country,
            "population": int(row.population),
            "minutes": float(row.sort_minutes) if np.isfinite(row.sort_minutes) else None,
            "facility": row.facility_name if np.isfinite(row.sort_minutes) else None,
        }
        for row in order.itertuples()
    ]


def _longest(found: Sequence[referral.Pathway], shown: int) -> list[referral.Pathway]:
    """Return the longest first-choice pathways."""
    first = [p for p in found if p.rank == 1]
    return sorted(first, key=lambda p: (-float(p.minutes), p.origin_id))[:shown]


def _settlement_rows(near: pd.DataFrame) -> pd.DataFrame:
    columns = ["id", "name", "country", "population", "minutes", "facility_name"]
    columns += ["facility_country", "crosses_border"]
    return pd.DataFrame(near[[c for c in columns if c in near.columns]]).reset_index(drop=True)


def _pathway_rows(analyses: Sequence[referral.ReferralAnalysis]) -> pd.DataFrame:
    tables = [
        pd.DataFrame(referral.pathway_table(a.pathways).drop(columns="geometry"))
        for a in analyses
        if a.pathways
    ]
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


def _refusal_rows(analyses: Sequence[referral.ReferralAnalysis]) -> pd.DataFrame:
    fields = ("origin", "origin_id", "specialty", "kind", "reason")
    rows = [{k: getattr(r, k) for k in fields} for a in analyses for r in a.refusals]
    return pd.DataFrame(rows, columns=list(fields))


def _cost_rows(analyses: Sequence[referral.ReferralAnalysis]) -> pd.DataFrame:
    rows = [{"specialty": a.specialty, **_plain_fields(cost)} for a in analyses for cost in a.costs]
    return pd.DataFrame(rows)


def _plain_fields(row: Any) -> dict[str, Any]:
    """Return a cost row as plain values (a dataclass, a mapping or an object)."""
    if dataclasses.is_dataclass(row) and not isinstance(row, type):
        values = dataclasses.asdict(row)
    elif isinstance(row, dict):
        values = dict(row)
    else:
        values = dict(vars(row))
    return {k: v for k, v in values.items() if not isinstance(v, dict | list)}
