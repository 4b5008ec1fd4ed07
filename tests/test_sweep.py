"""Scenario sweeps on a Dask cluster: the same numbers as single runs, failures reported."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from corridor_planner.analysis import access, referral, scoring, sweep
from corridor_planner.bundle.corridor import load_corridor
from corridor_planner.bundle.cover_rules import Patient
from corridor_planner.cli import main
from corridor_planner.network.graph import build_network
from corridor_planner.routing.traveltimes import CorridorTravelTimes

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as local:
        yield local


@pytest.fixture(scope="module")
def client(cluster):
    with distributed.Client(cluster) as connected:
        yield connected


def single(tiny_network, scenario, profile):
    return CorridorTravelTimes(tiny_network, profile, tiny_network.corridor.scenario(scenario))


def test_access_sweep_equals_single_runs(client, tiny, tiny_network, tiny_path):
    combos = sweep.combinations(
        tiny, "access", ["all"], ["citizen", "cargo"], ["emergency"], [30, 60]
    )
    assert len(combos) == len(tiny.scenarios) * 2
    result = sweep.run_sweep(tiny_path, combos, client)
    assert not result.partial
    for combo in combos:
        expected = access.access_report(
            single(tiny_network, combo.scenario, combo.profile), "emergency", [30, 60]
        ).coverage
        got = result.table[
            (result.table["scenario"] == combo.scenario)
            & (result.table["profile"] == combo.profile)
        ]
        pd.testing.assert_frame_equal(
            got[expected.columns].reset_index(drop=True), expected.reset_index(drop=True)
        )


def test_referral_and_siting_sweeps_equal_single_runs(client, tiny_network, tiny, tiny_path):
    combos = sweep.combinations(
        tiny, "referrals", ["baseline", "p_closed"], ["citizen"], ["emergency"], []
    )
    table = sweep.run_sweep(tiny_path, combos, client).table
    for combo in combos:
        analysis = referral.analyse_referrals(
            single(tiny_network, combo.scenario, "citizen"), "emergency", Patient()
        )
        rows = table[(table["scenario"] == combo.scenario) & table["rank"].notna()]
        assert sorted(rows["minutes"]) == sorted(p.minutes for p in analysis.pathways)
    combos = sweep.combinations(
        tiny, "score-sites", ["borders_closed"], ["citizen"], ["emergency"], [60], k=1
    )
    table = sweep.run_sweep(tiny_path, combos, client).table
    scores = scoring.score_sites(
        single(tiny_network, "borders_closed", "citizen"), "emergency", 60, 1
    )
    assert table["newly_covered"].tolist() == scores.sites["newly_covered"].tolist() == [10_800]


def test_cli_sweep_on_a_running_cluster_with_a_broken_scenario(cluster, tiny_copy, tmp_path):
    (tiny_copy / "scenarios" / "broken.toml").write_text("delay_multiplier = nan\n")
    out = tmp_path / "results.parquet"
    result = CliRunner().invoke(
        main,
        [
            "sweep",
            str(tiny_copy),
            "--service",
            "emergency",
            "--profile",
            "citizen",
            "--threshold",
            "1h",
            "--out",
            str(out),
            "--scheduler",
            cluster.scheduler_address,
        ],
    )
    assert result.exit_code == 1
    assert "FAILED access broken / citizen / emergency" in result.output
    assert "delay_multiplier: must be a finite number" in result.output
    table = pd.read_parquet(out)
    assert set(table.loc[table["status"] == "ok", "scenario"]) == set(
        load_corridor(tiny_copy, skip_bad_scenarios=True).scenarios
    )
    assert pq.read_schema(out).metadata[b"corridor_planner:partial"] == b"true"
    report = CliRunner().invoke(main, ["sweep-report", str(out), "--out", str(tmp_path / "s.html")])
    assert report.exit_code == 0, report.output
    page = (tmp_path / "s.html").read_text()
    assert "partial" in page and "emergency: people within 60 min" in page
    via_report = CliRunner().invoke(
        main, ["report", str(tiny_copy), "--sweep", str(out), "--out", str(tmp_path / "r.html")]
    )
    assert via_report.exit_code == 0 and (tmp_path / "r.html").read_text() == page


def test_sweep_report_draws_minutes_lost(client, tiny_copy, tmp_path):
    from corridor_planner.render.sweep_report import read
    from tests.helpers import edit_feature

    accepts = {"resident_insured": "all", "foreign_uninsured": ["emergency"]}
    edit_feature(tiny_copy, "facilities.geojson", "hosp_d", accepts=accepts)
    corridor = load_corridor(tiny_copy)
    network = build_network(corridor)
    combos = sweep.combinations(
        corridor, "referrals", ["baseline", "p_closed"], ["citizen"], ["emergency"], []
    )
    sweep.write_sweep(sweep.run_sweep(tiny_copy, combos, client), tmp_path / "r.parquet")
    (chart,) = read(tmp_path / "r.parquet").minutes
    means = {}
    for name in ("baseline", "p_closed"):
        found, _ = referral.pathways(
            single(network, name, "citizen"), "emergency", Patient(), top=1
        )
        means[name] = sum(p.minutes for p in found) / len(found)
    # Town A crosses at P (42.5 min), or round by Q when P is closed (57.5 min)
    assert means["p_closed"] > means["baseline"]
    assert chart.bars == [
        {"label": "p_closed", "value": pytest.approx(means["p_closed"] - means["baseline"])}
    ]
