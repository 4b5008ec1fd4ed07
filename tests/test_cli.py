from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from tests.helpers import edit_feature

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str):
    return CliRunner().invoke(main, list(args))


class TestCommands:
    def test_corridors_json(self):
        result = run("corridors", "--format", "json")
        assert result.exit_code == 0
        ids = [c["id"] for c in json.loads(result.output)["corridors"]]
        assert "almaty_bishkek" in ids

    def test_validate_reports_the_unattached_point(self, tiny_path):
        result = run("validate", str(tiny_path))
        assert result.exit_code == 2
        assert "NOT attached: settlement faraway (Faraway) is 22.2 km" in result.output

    def test_validate_json(self, tiny_path):
        result = run("validate", str(tiny_path), "--format", "json")
        summary = json.loads(result.output)
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
        data = json.loads(result.output)
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
