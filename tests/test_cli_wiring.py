"""What the command line gained: new models and options, safe outputs, Ctrl-C, notes, sweeps."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from corridor_planner.cli import main
from corridor_planner.cli.formatting import print_json, safe, table
from corridor_planner.outputs import file_stem
from corridor_planner.render import maps, report
from tests.helpers import edit_feature

TINY_ACCESS = ("access", "tests/data/tiny_corridor", "--service", "emergency")
NO_MIGRANTS = "no population known for: migrants; see the bundle's SOURCES.md"


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def sites(tiny_path: Path, *args: str):
    return run("score-sites", str(tiny_path), "--service", "emergency", *args)


def add_cut_off_road(bundle: Path) -> None:
    """A two-node road in KZ that joins nothing: a piece cut off from the network."""
    roads = bundle / "roads.osm"
    roads.write_text(
        roads.read_text().replace(
            "</osm>",
            '<node id="100" lat="43.02" lon="74.92"/><node id="101" lat="43.03" lon="74.93"/>'
            '<way id="100"><nd ref="100"/><nd ref="101"/><tag k="highway" v="tertiary"/>'
            '<tag k="is_in:country_code" v="KZ"/></way></osm>',
        )
    )


class TestSitingModels:
    def test_help_explains_the_new_methods(self):
        page = " ".join(run("score-sites", "--help").output.split())
        assert "lscp: fewest sites bringing everyone within the threshold (-k unused)" in page
        assert "pcenter: shortest longest trip" in page
        assert "--service-capacity" in page and "--site-capacity" not in page

    def test_lscp_counts_sites_and_the_people_no_site_can_bring(self, tiny_path):
        # borders closed: Town A and Borderville (10,800) need Site B; 800 of them are
        # more than 10 min from it and from every facility
        result = sites(
            tiny_path, "--threshold", "10min", "--method", "lscp", "--scenario", "borders_closed"
        )
        assert result.exit_code == 0, result.output
        assert "sites needed to bring everyone a site can reach within 10 min: 1" in result.output
        assert (
            "800 people no site or facility can bring within 10 min (demand weight; "
            "left out of the model)" in result.output
        )

    def test_lscp_when_existing_facilities_cover_everyone(self, tiny_path):
        result = sites(tiny_path, "--threshold", "1h", "--method", "lscp")
        assert result.exit_code == 0, result.output
        assert "Existing facilities cover 15,800 of 15,800 people." in result.output
        assert "No new site is needed: existing facilities already bring everyone" in result.output
        assert "sites needed to bring everyone a site can reach within 60 min: 0" in result.output
        assert "rank" not in result.output  # no empty table
        json_run = sites(tiny_path, "--threshold", "1h", "--method", "lscp", "--format", "json")
        assert json.loads(json_run.stdout)["sites"] == []
        assert json_run.stderr.startswith("note: No new site is needed")

    def test_pcenter_prints_the_longest_trip(self, tiny_path):
        args = ("--threshold", "1h", "--method", "pcenter", "--scenario", "borders_closed")
        objective = json.loads(sites(tiny_path, *args, "--format", "json").stdout)["objective"]
        assert objective == pytest.approx(16.0, abs=0.5)  # Borderville to Site B
        assert f"longest trip {objective:,.0f} min" in sites(tiny_path, *args).output

    def test_asked_for_more_sites_reaches_json_users(self, tiny_path):
        result = sites(tiny_path, "--threshold", "1h", "-k", "3", "--format", "json")
        assert result.exit_code == 0
        assert len(json.loads(result.stdout)["sites"]) == 1
        assert result.stderr == (
            "note: Asked for 3 sites; only 1 candidate(s) offer emergency and are on the "
            "network, so all of them are ranked.\n"
        )

    def test_service_capacity_and_its_old_name(self, tiny_path):
        args = ("--threshold", "1h", "--method", "capacitated", "--scenario", "borders_closed")
        result = sites(tiny_path, *args, "--service-capacity", "3000")
        assert result.exit_code == 0, result.output
        assert "service capacity  served" in result.output
        assert "3,000             3,000" in result.output
        old = sites(tiny_path, *args, "--site-capacity", "3000")
        assert old.exit_code == 0 and "3,000             3,000" in old.stdout
        assert "note: --site-capacity is now --service-capacity" in old.stderr
        data = json.loads(
            sites(tiny_path, *args, "--service-capacity", "3000", "--format", "json").stdout
        )
        assert data["sites"][0]["service_capacity"] == 3000

    def test_a_candidates_patients_a_year_are_not_its_service_capacity(self, tiny_copy):
        edit_feature(tiny_copy, "candidates.geojson", "cand_b", capacity={"emergency": 2500})
        result = sites(tiny_copy, "--threshold", "1h", "--method", "capacitated")
        assert result.exit_code == 1
        assert "cand_b have no service_capacity for emergency" in result.output
        edit_feature(
            tiny_copy, "candidates.geojson", "cand_b", service_capacity={"emergency": 2500}
        )
        result = sites(
            tiny_copy,
            "--threshold",
            "1h",
            "--method",
            "capacitated",
            "--scenario",
            "borders_closed",
        )
        assert result.exit_code == 0, result.output
        assert "2,500             2,500" in result.output

    def test_service_capacity_for_a_service_not_offered(self, tiny_copy):
        edit_feature(tiny_copy, "candidates.geojson", "cand_b", service_capacity={"surgery": 10})
        result = run("validate", str(tiny_copy))
        assert result.exit_code == 1
        assert (
            "candidates.geojson: cand_b: service_capacity: service_capacity for 'surgery', "
            "which is not in services" in result.output
        )


class TestAccessMethods:
    def test_3sfca_column(self):
        result = run(*TINY_ACCESS, "--method", "3sfca")
        assert result.exit_code == 0, result.output
        assert "3SFCA per 1,000, lowest 3 of 3 settlements:" in result.output
        assert "settlement   country  E2SFCA per 1,000  3SFCA per 1,000" in result.output
        assert "Town D       KG       5.423             5.423" in result.output

    def test_raam_prints_its_measure_and_takes_tau(self):
        result = run(*TINY_ACCESS, "--method", "raam", "--tau", "30min")
        assert result.exit_code == 0, result.output
        data = json.loads(
            run(*TINY_ACCESS, "--method", "raam", "--tau", "30min", "--format", "json").stdout
        )
        measure = data["measure"]
        assert measure["tau_minutes"] == 30
        assert (
            f"RAAM: tau 30 min, rho {measure['rho']:,.4g}, equilibrium gap "
            f"{measure['equilibrium_gap']:.3g} after {measure['sweeps']} sweeps" in result.output
        )
        assert "RAAM cost, highest (worst) 3 of 3 settlements:" in result.output
        costs = {s["name"]: s["raam_cost"] for s in data["settlements"] if s["raam_cost"]}
        assert f"Town D       KG       5.423             {costs['Town D']:,.3f}" in result.output

    def test_tau_only_with_raam(self):
        result = run(*TINY_ACCESS, "--tau", "30min")
        assert result.exit_code == 2 and "--tau goes with --method raam" in result.output

    def test_settlements_that_reach_no_facility_by_cause(self):
        result = run(*TINY_ACCESS, "--scenario", "borders_closed")
        assert result.exit_code == 0, result.output
        assert "2 settlements (10,800 people) reach no facility:" in result.output
        assert (
            "  border post Post P is closed under scenario borders_closed; border post Post Q "
            "is closed under scenario borders_closed: 2 settlements, 10,800 people"
        ) in result.output
        assert "  Town A (KZ): no facility reachable" in result.output

    def test_no_population_note_reaches_json_users(self):
        result = run(*TINY_ACCESS, "--format", "json")
        assert result.exit_code == 0
        json.loads(result.stdout)  # stdout stays one JSON document
        assert result.stderr == f"note: {NO_MIGRANTS}\n"
        assert f"({NO_MIGRANTS})" in run(*TINY_ACCESS).stdout


class TestPieces:
    def test_validate_reports_the_pieces(self, tiny_copy):
        add_cut_off_road(tiny_copy)
        result = run("validate", str(tiny_copy))
        assert (
            "  note: road network: largest connected piece 11 nodes, 59.0 km; 1 pieces cut off "
            "from it left out: 2 nodes, 1.4 km" in result.output
        )
        kept = run("validate", str(tiny_copy), "--keep-all-pieces")
        assert "1 pieces cut off from it kept (keep_all_pieces): 2 nodes, 1.4 km" in kept.output

    def test_other_commands_take_the_option(self, tiny_copy):
        add_cut_off_road(tiny_copy)
        result = run(*TINY_ACCESS[:1], str(tiny_copy), *TINY_ACCESS[2:], "--keep-all-pieces")
        assert result.exit_code == 0, result.output
        route = run(
            "route", str(tiny_copy), "--from", "Town A", "--to", "Town D", "--keep-all-pieces"
        )
        assert route.exit_code == 0 and route.output.startswith("Town A -> Town D")

    def test_import_help(self):
        page = " ".join(run("import", "--help").output.split())
        assert (
            "Keep every piece of road, also those cut off from the largest connected network "
            "(default: left out and reported)." in page
        )


class TestOutputSafety:
    def test_out_onto_the_bundles_own_layer_is_refused(self, tiny_copy, monkeypatch):
        layer = tiny_copy / "population.geojson"
        before = layer.read_bytes()
        for command in (
            ("access", str(tiny_copy), "--service", "emergency"),
            ("score-sites", str(tiny_copy), "--service", "emergency", "--threshold", "1h"),
            ("referrals", str(tiny_copy), "--specialty", "emergency"),
        ):
            result = run(*command, "--out", str(layer))
            assert result.exit_code == 1, result.output
            assert "it is inside the corridor bundle" in result.output
        assert layer.read_bytes() == before
        for command, name in (("map", "roads.html"), ("report", "x.html")):
            result = run(command, str(tiny_copy), "--out", str(tiny_copy / name))
            assert result.exit_code == 1 and "write outside the bundle" in result.output
            assert not (tiny_copy / name).exists()
        assert run("validate", str(tiny_copy)).output.count("settlement: 3 of 4") == 1

    def test_sweep_report_will_not_replace_its_table(self, tmp_path):
        table_file = tmp_path / "t.parquet"
        table_file.write_bytes(b"PAR1")
        result = run("sweep-report", str(table_file), "--out", str(table_file))
        assert result.exit_code == 1 and "it is the file being read" in result.output
        assert table_file.read_bytes() == b"PAR1"

    def test_default_paths_are_files_in_their_folder(self):
        assert file_stem("../../etc/passwd") == "etc_passwd"
        assert file_stem("/abs/x\n\x1b[2J") == "abs_x_2J"
        assert file_stem("..") == "corridor"
        assert maps.default_map_path("../../x") == Path("maps/x.html")
        assert report.default_report_path("/tmp/y", "ru") == Path("reports/tmp_y_ru.html")
        assert maps.default_map_path("almaty_bishkek", "baseline", "winter") == Path(
            "maps/almaty_bishkek_baseline_vs_winter.html"
        )

    def test_a_bundle_id_that_is_a_path_is_refused(self, tiny_copy):
        toml = tiny_copy / "corridor.toml"
        toml.write_text(toml.read_text().replace('id = "tiny"', 'id = "../../x"', 1))
        result = run("validate", str(tiny_copy))
        assert result.exit_code == 1 and "corridor.toml" in result.output and "id" in result.output


class TestControlCharacters:
    def test_escaped_in_text(self, capsys):
        assert safe("Hosp\x1b[2J\u202eA\x00") == "Hosp\\x1b[2J\\u202eA\\x00"
        assert safe("a\nb") == "a\nb" and safe("a\nb", keep_newlines=False) == "a\\nb"
        assert safe("بیمارستان\u200cها") == "بیمارستان\u200cها"  # Persian joiner stays
        table([("Site\x1b[31m", "KZ")], ("site", "country"))
        out = capsys.readouterr().out
        assert "\x1b" not in out and "Site\\x1b[31m  KZ" in out

    def test_escaped_in_json_that_still_parses(self, capsys):
        print_json({"name": "evil\u202etxt.exe\x9b\x1b"})
        out = capsys.readouterr().out
        assert "\u202e" not in out and "\x9b" not in out and "\x1b" not in out
        assert json.loads(out) == {"name": "evil\u202etxt.exe\x9b\x1b"}

    def test_a_name_with_escape_never_reaches_the_terminal(self, tiny_copy):
        edit_feature(tiny_copy, "facilities.geojson", "hosp_d", name="Hosp\x1b[2J")
        result = run("validate", str(tiny_copy))
        assert result.exit_code == 1  # the schema refuses it...
        assert "must not hold control characters (U+001B)" in result.output
        assert "\x1b" not in result.output  # ...and the message does not print it raw

    def test_arguments_are_escaped_in_errors(self, tiny_path):
        result = run("route", str(tiny_path), "--from", "\x1b[2JX", "--to", "Town D")
        assert result.exit_code == 1 and "\x1b" not in result.output


class TestInterrupt:
    def test_ctrl_c_is_one_line_and_130_and_the_old_file_stays(self, tmp_path, monkeypatch):
        from corridor_planner.analysis import access

        out = tmp_path / "access.csv"
        out.write_text("old results\n")

        def interrupted(*args, **kwargs):
            raise KeyboardInterrupt

        monkeypatch.setattr(access, "access_report", interrupted)
        result = run(*TINY_ACCESS, "--out", str(out))
        assert result.exit_code == 130
        assert result.stderr == "interrupted\n" and result.stdout == ""
        assert out.read_text() == "old results\n"

    def test_ctrl_c_while_writing_leaves_no_half_file(self, tmp_path, monkeypatch):
        from corridor_planner import outputs

        out = tmp_path / "access.csv"
        out.write_text("old results\n")

        def interrupted(table):
            raise KeyboardInterrupt

        monkeypatch.setattr(outputs, "defuse_formulas", interrupted)
        result = run(*TINY_ACCESS, "--out", str(out))
        assert result.exit_code == 130 and result.stderr == "interrupted\n"
        assert out.read_text() == "old results\n"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["access.csv"]

    def test_ctrl_c_during_a_map(self, tmp_path, monkeypatch):
        out = tmp_path / "m.html"
        out.write_text("<p>old map</p>")

        def interrupted(*args, **kwargs):
            raise KeyboardInterrupt

        monkeypatch.setattr(maps, "render_map", interrupted)
        result = run("map", "tests/data/tiny_corridor", "--out", str(out))
        assert (result.exit_code, result.stderr) == (130, "interrupted\n")
        assert out.read_text() == "<p>old map</p>"


class TestProgrammeNames:
    def test_a_name_is_never_a_path(self):
        result = run("programme", "../../tests/data/tiny_corridor/corridor")
        assert result.exit_code == 1
        assert "no programme '../../tests/data/tiny_corridor/corridor'" in result.output
        assert "a file of your own is given as a path ending in .toml" in result.output

    def test_a_toml_path_must_exist(self, tmp_path):
        result = run("programme", str(tmp_path / "mine.toml"))
        assert result.exit_code == 1 and "no programme file" in result.output

    def test_an_existing_toml_path_is_read_and_checked(self, tiny_path):
        result = run("programme", str(tiny_path / "corridor.toml"))
        assert result.exit_code == 1 and "corridor.toml" in result.output  # not a programme


class TestSweepChecksFirst:
    """Refused in well under a second: no cluster starts (one would take several)."""

    def sweep(self, tmp_path, *args: str):
        start = time.perf_counter()
        result = run("sweep", "tests/data/tiny_corridor", "--service", "emergency", *args)
        return result, time.perf_counter() - start

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (("--out", "x.csv"), "a sweep's table is a .parquet file"),
            (("--scenario", "summer"), "no scenario 'summer' (known: baseline, borders_closed"),
            (("--profile", "tourist"), "no profile 'tourist'"),
            (("--scheduler", "not a url"), "--scheduler 'not a url': not host:port"),
            (("--scheduler", "http://h:1"), "unknown scheme 'http'"),
        ],
    )
    def test_refused_before_a_cluster(self, tmp_path, args, message):
        out = ("--out", str(tmp_path / "s.parquet")) if "--out" not in args else ()
        result, seconds = self.sweep(tmp_path, *args, *out)
        assert result.exit_code == 1, result.output
        assert message in result.output
        assert seconds < 10 and not list(tmp_path.iterdir())

    def test_unknown_service(self, tmp_path):
        result = run(
            "sweep",
            "tests/data/tiny_corridor",
            "--service",
            "astrology",
            "--out",
            str(tmp_path / "s.parquet"),
        )
        assert result.exit_code == 1 and "no service 'astrology'" in result.output

    def test_unreachable_scheduler_fails_within_the_timeout(self, tmp_path):
        result, seconds = self.sweep(
            tmp_path,
            "--scheduler",
            "tcp://127.0.0.1:9",
            "--timeout",
            "2",
            "--out",
            str(tmp_path / "s.parquet"),
        )
        assert result.exit_code == 1
        assert "error: cannot reach the Dask scheduler at tcp://127.0.0.1:9" in result.output
        assert seconds < 10 and not list(tmp_path.iterdir())

    def test_scheduler_without_workers_fails_after_a_bounded_wait(self, tmp_path):
        from distributed import LocalCluster

        with LocalCluster(
            n_workers=0, processes=False, protocol="tcp", dashboard_address=":0"
        ) as cluster:
            result, seconds = self.sweep(
                tmp_path,
                "--scheduler",
                cluster.scheduler_address,
                "--timeout",
                "2",
                "--out",
                str(tmp_path / "s.parquet"),
            )
        assert result.exit_code == 1, result.output
        assert f"the Dask scheduler at {cluster.scheduler_address} has no workers" in result.output
        assert "(waited 2 s)" in result.output
        assert seconds < 15 and not list(tmp_path.iterdir())
