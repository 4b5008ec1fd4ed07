"""The report of a corridor of many settlements: summaries on the page, every row in CSV."""

from __future__ import annotations

import pandas as pd
import pytest

from corridor_planner.bundle.corridor import load_corridor
from corridor_planner.network.graph import build_network
from corridor_planner.render import report, report_tables
from tests.helpers import large_corridor

#: Generated settlements, and the limit the tests lower to cross it with a fast corridor.
SETTLEMENTS, LIMIT = 400, 300


@pytest.fixture(scope="module")
def big_report(tmp_path_factory):
    folder = large_corridor(tmp_path_factory.mktemp("big") / "big", SETTLEMENTS, 4)
    network = build_network(load_corridor(folder))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(report_tables, "REPORT_POINT_LIMIT", LIMIT)
        return report.build_report(network, report.default_scenarios(network.corridor))


def test_small_reports_list_every_settlement(tiny, tiny_network):
    data = report.build_report(tiny_network, [tiny.scenario("baseline")])
    assert data.large is None
    assert "too many to list" not in report.render_html(data)


def test_html_report_summarises_and_names_its_files(big_report, tmp_path):
    path = report.write_report(big_report, tmp_path / "big.html")
    page = path.read_text(encoding="utf-8")
    annex = (tmp_path / "big_annex.html").read_text(encoding="utf-8")
    assert f"This corridor has {SETTLEMENTS:,} settlements, too many to list" in page
    for key in ("settlements", "pathways", "refusals", "costs"):
        assert f"big_{key}.csv" in page
    assert "Settlements by minutes to emergency care" in annex
    assert "settlements furthest from emergency care" in annex
    settlements = pd.read_csv(tmp_path / "big_settlements.csv")
    assert LIMIT < len(settlements) <= SETTLEMENTS  # every settlement on the roads
    pathways = pd.read_csv(tmp_path / "big_pathways.csv")
    shown = sum(len(v) for v in big_report.large.longest.values())
    assert len(pathways) > shown
    rows = annex.count("<tr><td>Settlement ")
    assert rows <= shown + 2 * report_tables.REPORT_WORST_SHOWN
    left = len(settlements) - len(big_report.large.worst)
    assert f"{len(settlements):,} rows, {left:,} of them not on the page" in page


def test_people_by_band_add_up(big_report):
    by_band = big_report.large.by_band
    total = sum(r["people"] for r in by_band)
    assert total == big_report.large.tables["settlements"]["population"].sum()
    assert {r["country"] for r in by_band} <= {"KZ", "KG"}


def test_markdown_and_russian_reports_summarise_too(big_report, tmp_path):
    text = report.write_report(big_report, tmp_path / "big.md").read_text(encoding="utf-8")
    assert "too many to list on a page" in text and "big\\_pathways.csv" in text
    assert "| Settlement 1 |" not in text or text.count("| Settlement ") < SETTLEMENTS
    page = report.write_report(big_report, tmp_path / "big_ru.html", "ru").read_text("utf-8")
    assert "населённых пунктов" in page and "big_ru_settlements.csv" in page
