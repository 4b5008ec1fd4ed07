from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from corridor_planner.cli import main
from tests.helpers import edit_feature

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str):
    return CliRunner().invoke(main, list(args))


class TestCommands:
    def test_corridors_json(self):
        result = run("corridors", "--format", "json")
        assert result.exit_code == 0
        ids = [c["id"] for c in json.loads(result.stdout)["corridors"]]
        assert "almaty_bishkek" in ids

    def test_validate_reports_the_unattached_point(self, tiny_path):
        result = run("validate", str(tiny_path))
        assert result.exit_code == 2
        assert "NOT attached: settlement faraway (Faraway) is 22.2 km" in result.output

    def test_validate_json(self, tiny_path):
        result = run("validate", str(tiny_path), "--format", "json")
        summary = json.loads(result.stdout)
        assert summary["valid"] is False
        assert summary["counts"]["settlements"] == 4
        assert summary["not_snapped"] == [
            {"kind": "settlement", "id": "faraway", "name": "Faraway", "distance_km": 22.2}
        ]

    def test_route_json_keys(self, tiny_path):
        result = run(
            "route",
            str(tiny_path),
            "--from",
            "Town A",
            "--to",
            "Town D",
            "--profile",
            "cargo",
            "--format",
            "json",
        )
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert {"minutes", "km", "border_posts", "legs"} <= set(data)
        assert data["minutes"] == pytest.approx(139.5, abs=0.15)
        assert data["border_posts"] == ["Post Q"]
        assert {"kind", "name", "ref", "km", "minutes"} <= set(data["legs"][0])

    def test_route_table(self, tiny_path):
        result = run(
            "route", str(tiny_path), "--from", "Town A", "--to", "Town D", "--scenario", "p_closed"
        )
        assert result.exit_code == 0
        assert result.output.startswith(
            "Town A -> Town D (citizen, scenario p_closed): 54 min, 51.0 km"
        )


class TestErrors:
    """Library errors: one message on stderr, non-zero exit, never a traceback."""

    def test_unknown_corridor(self):
        result = run("validate", "atlantis")
        assert result.exit_code == 1
        assert "error: no corridor 'atlantis'" in result.output
        assert "Traceback" not in result.output

    def test_broken_bundle_names_file_feature_field(self, tiny_copy):
        edit_feature(tiny_copy, "facilities.geojson", "hosp_d", services=["emergency", "astrology"])
        result = run("validate", str(tiny_copy))
        assert result.exit_code == 1
        assert "facilities.geojson: hosp_d: services: unknown service 'astrology'" in result.output

    def test_no_route(self, tiny_path):
        result = run(
            "route",
            str(tiny_path),
            "--from",
            "Town A",
            "--to",
            "Town D",
            "--scenario",
            "borders_closed",
        )
        assert result.exit_code == 1
        assert "error: no route from Town A to Town D" in result.output

    def test_unknown_scenario(self, tiny_path):
        result = run(
            "route", str(tiny_path), "--from", "Town A", "--to", "Town D", "--scenario", "summer"
        )
        assert result.exit_code == 1
        assert "no scenario 'summer'" in result.output

    def test_unexpected_failure_is_one_line_not_a_traceback(self, monkeypatch):
        from corridor_planner.bundle import corridor

        def broken(_):
            raise RuntimeError("disk on fire")

        monkeypatch.setattr(corridor, "load_corridor", broken)
        result = run("validate", "almaty_bishkek")
        assert result.exit_code == 3
        assert "error: unexpected RuntimeError: disk on fire (a bug" in result.output
        assert "Traceback" not in result.output

    def test_root_script_runs_as_users_run_it(self, tiny_copy):
        edit_feature(tiny_copy, "border_posts.geojson", "post_p", opening_hours="sometimes")
        proc = subprocess.run(
            [sys.executable, str(ROOT / "cli.py"), "validate", str(tiny_copy)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 1
        assert (
            "border_posts.geojson: post_p: opening_hours: invalid opening_hours 'sometimes'"
            in proc.stderr
        )
        assert "Traceback" not in proc.stderr


class TestAccessCommand:
    def test_json_coverage(self, tiny_path):
        result = run(
            "access",
            str(tiny_path),
            "--service",
            "emergency",
            "--threshold",
            "1h",
            "--format",
            "json",
        )
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        row = next(r for r in data["coverage"] if r["country"] == "KZ" and r["group"] == "all")
        assert set(row) == {
            "threshold_minutes",
            "country",
            "group",
            "population",
            "covered",
            "share",
        }
        assert (row["threshold_minutes"], row["population"], row["covered"]) == (60, 10_800, 10_800)

    def test_compare_reports_the_gain(self, tiny_path):
        result = run(
            "access",
            str(tiny_path),
            "--service",
            "emergency",
            "--threshold",
            "60",
            "--compare",
            "borders_closed",
        )
        assert result.exit_code == 0, result.output
        assert "Gain of baseline over borders_closed" in result.output
        assert re.search(r"^60\s+KZ\s+all\s+10,800$", result.output, re.MULTILINE)

    @pytest.mark.parametrize("suffix", [".csv", ".geojson", ".gpkg"])
    def test_out_file(self, tiny_path, tmp_path, suffix):
        out = tmp_path / f"access{suffix}"
        result = run("access", str(tiny_path), "--service", "emergency", "--out", str(out))
        assert result.exit_code == 0, result.output
        assert out.is_file() and not list(tmp_path.glob(".access*"))
        if suffix == ".csv":
            text = out.read_text()
            assert text.splitlines()[0].endswith("lon,lat") and "Town A" in text

    def test_bad_out_extension_writes_nothing(self, tiny_path, tmp_path):
        out = tmp_path / "access.xlsx"
        result = run("access", str(tiny_path), "--service", "emergency", "--out", str(out))
        assert result.exit_code == 1
        assert "use one of .csv, .geojson, .gpkg" in result.output
        assert not list(tmp_path.iterdir())

    @pytest.mark.parametrize(
        ("text", "minutes"), [("2h", 120), ("90min", 90), ("1h30", 90), ("45", 45)]
    )
    def test_threshold_syntax(self, tiny_path, text, minutes):
        result = run(
            "access",
            str(tiny_path),
            "--service",
            "emergency",
            "--threshold",
            text,
            "--format",
            "json",
        )
        assert {r["threshold_minutes"] for r in json.loads(result.stdout)["coverage"]} == {minutes}

    def test_bad_threshold(self, tiny_path):
        result = run("access", str(tiny_path), "--service", "emergency", "--threshold", "soon")
        assert result.exit_code == 2
        assert "'soon' is not a duration" in result.output


class TestRouteDepart:
    def test_wait_is_reported(self, tiny_path):
        result = run(
            "route",
            str(tiny_path),
            "--from",
            "Town A",
            "--to",
            "Town D",
            "--profile",
            "cargo",
            "--depart",
            "2027-06-15T22:34:30",
        )
        assert result.exit_code == 0, result.output
        assert "waits 420 min at Post Q (arrives 2027-06-15T23:00, post closed)" in result.output
        data = json.loads(
            run(
                "route",
                str(tiny_path),
                "--from",
                "Town A",
                "--to",
                "Town D",
                "--profile",
                "cargo",
                "--depart",
                "2027-06-15T22:34:30",
                "--format",
                "json",
            ).stdout
        )
        assert data["minutes"] == pytest.approx(559.5, abs=0.1)
        assert data["waits"][0]["wait_minutes"] == 420.0

    def test_bad_depart(self, tiny_path):
        result = run(
            "route", str(tiny_path), "--from", "Town A", "--to", "Town D", "--depart", "noon"
        )
        assert result.exit_code == 2
        assert "'noon' is not an ISO date-time" in result.output


class TestScoreSitesCommand:
    def test_json_keys(self, tiny_path):
        result = run(
            "score-sites",
            str(tiny_path),
            "--service",
            "emergency",
            "--threshold",
            "1h",
            "-k",
            "1",
            "--scenario",
            "borders_closed",
            "--format",
            "json",
        )
        assert result.exit_code == 0, result.output
        (site,) = json.loads(result.stdout)["sites"]
        assert {"id", "name", "rank", "newly_covered", "total_covered"} <= set(site)
        assert (site["id"], site["rank"], site["newly_covered"], site["total_covered"]) == (
            "cand_b",
            1,
            10_800,
            15_800,
        )

    @pytest.mark.parametrize("method", ["gain", "mclp", "greedy", "pmedian"])
    def test_methods_on_almaty_bishkek(self, method, tmp_path):
        out = tmp_path / "sites.gpkg"
        result = run(
            "score-sites",
            "almaty_bishkek",
            "--service",
            "emergency",
            "--threshold",
            "30min",
            "-k",
            "3",
            "--method",
            method,
            "--out",
            str(out),
        )
        assert result.exit_code == 0, result.output
        assert out.is_file()

    def test_capacitated_without_capacity_is_a_clear_error(self, tiny_path):
        result = run(
            "score-sites",
            str(tiny_path),
            "--service",
            "emergency",
            "--threshold",
            "1h",
            "--method",
            "capacitated",
        )
        assert result.exit_code == 1
        assert "have no service_capacity for emergency in candidates.geojson" in result.output

    def test_bad_weight_group(self, tiny_path):
        result = run(
            "score-sites",
            str(tiny_path),
            "--service",
            "emergency",
            "--threshold",
            "1h",
            "--weight-group",
            "tourists=2",
        )
        assert result.exit_code == 2
        assert "'tourists=2' is not GROUP=MULTIPLIER" in result.output


class TestReferralsAndReport:
    def test_referrals_json(self):
        result = run("referrals", "almaty_bishkek", "--specialty", "oncology", "--format", "json")
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert {"pathways", "assignment", "capacity"} <= set(data)
        assert {"origin", "specialty", "destination", "minutes", "border_posts", "legs"} <= set(
            data["pathways"][0]
        )
        assert {"origin", "destination", "patients"} <= set(data["assignment"][0])
        assert {"facility", "capacity", "assigned"} <= set(data["capacity"][0])
        assigned = sum(a["patients"] for a in data["assignment"])
        overflow = sum(o["patients"] for o in data["overflow"])
        assert assigned + overflow == pytest.approx(data["demand"], abs=0.05)
        for row in data["capacity"]:
            assert row["capacity"] is None or row["assigned"] <= row["capacity"] + 1e-6

    def test_referrals_without_rate_says_so(self):
        result = run("referrals", "almaty_bishkek", "--specialty", "cardiology", "--from", "Kordai")
        assert result.exit_code == 0, result.output
        assert "No referral rate for cardiology" in result.output

    def test_referrals_geojson(self, tmp_path):
        out = tmp_path / "paths.geojson"
        result = run(
            "referrals",
            "cpec_karakoram",
            "--specialty",
            "surgery",
            "--rate",
            "300",
            "--out",
            str(out),
        )
        assert result.exit_code == 0, result.output
        data = json.loads(out.read_text())
        assert data["features"][0]["geometry"]["type"] == "LineString"

    def test_referrals_beyond_the_detail_limit_say_what_is_left_out(
        self, tiny_copy, tmp_path, monkeypatch
    ):
        from corridor_planner import settings

        monkeypatch.setattr(settings, "REFERRAL_DETAIL_LIMIT", 1)
        # Hospital D (KG) treats uninsured foreigners' emergencies: three origins have a pathway
        accepts = {"resident_insured": "all", "foreign_uninsured": ["emergency"]}
        edit_feature(tiny_copy, "facilities.geojson", "hosp_d", accepts=accepts)
        args = ("referrals", str(tiny_copy), "--specialty", "emergency")
        result = run(*args, "--format", "json")
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        detail = data["detail"]
        assert (detail["limit"], detail["routed"], detail["pathways"]) == (1, 1, 3)
        assert detail["note"] in result.stderr
        assert detail["routed"] == sum(p["detailed"] for p in data["pathways"])
        light = [p for p in data["pathways"] if not p["detailed"]]
        assert all(p["km"] is None and p["legs"] == [] for p in light)
        out = tmp_path / "paths.geojson"
        table = run(*args, "--out", str(out))
        assert table.exit_code == 0, table.output
        assert "Routes: km, legs and route lines for 1 of 3 pathways" in table.output
        features = json.loads(out.read_text())["features"]
        assert [f["properties"]["origin"] for f in features if f["geometry"]] == ["Town A"]

    def test_referrals_print_the_most_populous_origins_when_rows_are_many(
        self, tiny_copy, tmp_path, monkeypatch
    ):
        from corridor_planner import settings

        monkeypatch.setattr(settings, "REFERRAL_DETAIL_LIMIT", 1)
        monkeypatch.setattr(settings, "PRINT_ROW_LIMIT", 1)
        args = ("referrals", str(tiny_copy), "--specialty", "emergency")
        refused = run(*args)  # one pathway, two origins nobody admits
        assert refused.exit_code == 0, refused.output
        assert refused.output.count(": no pathway: ") == 1
        assert "... and 1 more origins with no pathway (1 not accepted)." in refused.output
        accepts = {"resident_insured": "all", "foreign_uninsured": ["emergency"]}
        edit_feature(tiny_copy, "facilities.geojson", "hosp_d", accepts=accepts)
        out = tmp_path / "paths.csv"
        result = run(*args, "--out", str(out))
        assert result.exit_code == 0, result.output
        assert "Printed 1 of 3 pathways" in result.output
        rows = [line for line in result.output.splitlines() if line.startswith("Town")]
        assert len(rows) == 1 and rows[0].startswith("Town A")
        assert len(out.read_text().splitlines()) == 1 + 3  # the file holds every pathway

    @pytest.mark.parametrize("suffix", [".html", ".md"])
    def test_report(self, tmp_path, suffix):
        out = tmp_path / f"r{suffix}"
        result = run("report", "almaty_bishkek", "--out", str(out))
        assert result.exit_code == 0, result.output
        assert "Referral pathways" in out.read_text()

    def test_report_bad_extension(self, tmp_path):
        result = run("report", "almaty_bishkek", "--out", str(tmp_path / "r.docx"))
        assert result.exit_code == 1
        assert "the report is .html, .pdf or .md" in result.output

    def test_russian_report(self, tmp_path):
        out = tmp_path / "r.html"
        result = run("report", "almaty_bishkek", "--lang", "ru", "--out", str(out))
        assert result.exit_code == 0, result.output
        page = out.read_text()
        assert "Сводка по странам" in page and "Summary by country" not in page

    def test_russian_markdown_is_refused(self, tmp_path):
        result = run("report", "almaty_bishkek", "--lang", "ru", "--out", str(tmp_path / "r.md"))
        assert result.exit_code == 2 or result.exit_code == 1
        assert "the Markdown report is in English" in result.output
        assert not (tmp_path / "r.md").exists()

    def test_unknown_language_is_refused(self, tmp_path):
        result = run("report", "almaty_bishkek", "--lang", "xx", "--out", str(tmp_path / "r.html"))
        assert result.exit_code == 2 and "xx" in result.output

    def test_pdf_without_chromium_says_how_to_get_it(self, tmp_path, monkeypatch):
        monkeypatch.setenv("PATH", str(tmp_path))  # no browser on this PATH
        monkeypatch.delenv("CORRIDOR_PLANNER_CHROMIUM", raising=False)
        result = run("report", "almaty_bishkek", "--out", str(tmp_path / "r.pdf"))
        assert result.exit_code == 1
        assert "apt-get install chromium" in result.output
        assert not (tmp_path / "r.pdf").exists()


class TestMapCommand:
    def test_compare_writes_two_panes(self, tmp_path):
        out = tmp_path / "c.html"
        result = run(
            "map", "almaty_bishkek", "--offline", "--compare", "borders_closed", "--out", str(out)
        )
        assert result.exit_code == 0, result.output
        page = out.read_text()
        assert page.count("L.map(") == 2 and "Minutes lost under borders_closed" in page

    def test_compare_with_an_unknown_scenario(self, tmp_path):
        result = run(
            "map", "almaty_bishkek", "--compare", "nope", "--out", str(tmp_path / "c.html")
        )
        assert result.exit_code == 1 and "nope" in result.output

    def test_offline_map_with_sites_and_referrals(self, tmp_path):
        out = tmp_path / "m.html"
        result = run(
            "map",
            "almaty_bishkek",
            "--offline",
            "--with-sites",
            "--with-referrals",
            "surgery",
            "--threshold",
            "1h",
            "--out",
            str(out),
        )
        assert result.exit_code == 0, result.output
        page = out.read_text()
        assert '"Candidate sites"' in page and '"Referrals: surgery"' in page
        assert "L.tileLayer" not in page

    def test_online_map_for_cpec_in_winter(self, tmp_path):
        out = tmp_path / "cpec.html"
        result = run("map", "cpec_karakoram", "--scenario", "winter", "--out", str(out))
        assert result.exit_code == 0, result.output
        assert "scenario winter, departing 2027-01-13 08:00" in out.read_text()

    def test_bad_extension(self, tmp_path):
        result = run("map", "almaty_bishkek", "--out", str(tmp_path / "m.png"))
        assert result.exit_code == 1
        assert "a map is an .html file" in result.output


@pytest.mark.parametrize("corridor", ["almaty_bishkek", "cpec_karakoram"])
def test_demo_runs_on_every_bundled_corridor(corridor, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("demo", "--corridor", corridor)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "reports" / f"{corridor}.html").is_file()
    assert (tmp_path / "maps" / f"{corridor}.html").is_file()


def test_demo_without_a_demo_route_picks_the_largest_settlements(tiny_path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("demo", "--corridor", str(tiny_path))
    assert result.exit_code == 0, result.output
    assert "Town A -> Town D" in result.output  # 10,000 people in KZ, 5,000 in KG


def test_verbose_says_which_backend_answered(tiny_path):
    result = run("-v", "access", str(tiny_path), "--service", "emergency")
    assert result.exit_code == 0
    assert "corridor_planner.routing.engine: travel-time matrix" in result.output
    assert "by dijkstra" in result.output
