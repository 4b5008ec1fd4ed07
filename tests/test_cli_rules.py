"""Rules the command line used to own, now in the library modules that own them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from corridor_planner.analysis.continuity import migrant_stock_caveat
from corridor_planner.analysis.scoring import site_request
from corridor_planner.cli import main
from corridor_planner.errors import CorridorPlannerError, InvalidArgumentError
from corridor_planner.render import maps, report


@pytest.mark.parametrize(
    ("method", "k", "budget", "expected"),
    [
        ("mclp", None, None, ("mclp", 3)),
        ("greedy", 5, None, ("greedy", 5)),
        ("mclp", None, 2e6, ("budget", 10_000)),  # a budget alone decides the count
        ("pmedian", 2, 2e6, ("budget", 2)),  # a budget means the budget model; k caps it
    ],
)
def test_site_request(method, k, budget, expected):
    assert site_request(method, k, budget) == expected


def test_map_default_paths():
    assert maps.default_map_path("tiny") == Path("maps/tiny.html")
    assert maps.default_map_path("tiny", "baseline", None, True) == Path("maps/tiny_offline.html")
    assert maps.default_map_path("tiny", "baseline", "winter") == Path(
        "maps/tiny_baseline_vs_winter.html"
    )


def test_map_requests_refused_before_work():
    with pytest.raises(CorridorPlannerError, match="a map is an .html file"):
        maps.check_map_request(Path("m.png"), None, False, None)
    with pytest.raises(InvalidArgumentError, match="--compare draws access only"):
        maps.check_map_request(Path("m.html"), "winter", True, None)
    maps.check_map_request(Path("m.HTML"), "winter", False, None)


def test_report_paths_and_formats():
    assert report.default_report_path("tiny") == Path("reports/tiny.html")
    assert report.default_report_path("tiny", "ru") == Path("reports/tiny_ru.html")
    assert report.check_report_path(Path("r.md")) == ".md"
    with pytest.raises(CorridorPlannerError, match=r"the report is \.html, \.pdf or \.md"):
        report.check_report_path(Path("r.docx"))
    with pytest.raises(InvalidArgumentError, match="the Markdown report is in English"):
        report.check_report_path(Path("r.md"), "ru")


def test_continuity_caveat_in_json_mode_too():
    result = CliRunner().invoke(
        main,
        ["tb-continuity", "almaty_bishkek", "--nationality", "kg", "--home", "Bishkek"],
        catch_exceptions=False,
    )
    table = result.stdout
    args = ["tb-continuity", "almaty_bishkek", "--nationality", "KG", "--home", "Bishkek"]
    result = CliRunner().invoke(main, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)  # stdout stays one JSON document
    assert rows and {"host", "start_site"} <= set(rows[0])
    caveat = migrant_stock_caveat("KG")
    assert caveat in table
    assert result.stderr == f"note: {caveat}\n"
