"""Fast start: the light commands do not import the heavy optional stacks.

Each command runs in a fresh interpreter (as a user runs it); the modules it imported
are read from ``sys.modules`` after it finished.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "data" / "tiny_corridor"

#: Heavy packages no light command may import.
HEAVY = ("osmnx", "sklearn", "numba", "dask", "distributed", "playwright", "rasterio", "osmium")
#: ``validate`` builds the road graph with osmnx, which imports scikit-learn and rasterio
#: itself when they are installed (osmnx.distance, osmnx.elevation): those are allowed there.
BUILT_BY_OSMNX = ("osmnx", "sklearn", "rasterio")

PROBE = """
import json, sys
from corridor_planner.cli import main
try:
    main(sys.argv[1:], prog_name="corridor-planner")
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def imported_by(*args: str) -> tuple[int, set[str]]:
    """Run the command line in a fresh interpreter; return its exit code and top packages."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
        timeout=300,
    )
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    return report["code"], {name.partition(".")[0] for name in report["modules"]}


@pytest.mark.parametrize("args", [("--help",), ("corridors",), ("corridors", "--format", "json")])
def test_light_commands_import_no_heavy_package(args):
    code, modules = imported_by(*args)
    assert code == 0
    assert sorted(modules.intersection(HEAVY)) == []


def test_validate_imports_only_what_the_road_graph_needs(tmp_path):
    bundle = tmp_path / "tiny"
    shutil.copytree(TINY, bundle, ignore=shutil.ignore_patterns(".cache"))
    code, modules = imported_by("validate", str(bundle))
    assert code == 2  # the tiny corridor has a settlement far from any road, on purpose
    assert "osmnx" in modules  # the first run builds the road graph (and stores it)
    assert sorted(modules.intersection(HEAVY).difference(BUILT_BY_OSMNX)) == []


def test_validate_of_a_prepared_bundle_imports_no_heavy_package(tmp_path):
    bundle = tmp_path / "tiny"
    shutil.copytree(TINY, bundle, ignore=shutil.ignore_patterns(".cache"))
    assert imported_by("prepare", str(bundle))[0] == 0
    code, modules = imported_by("validate", str(bundle))
    assert code == 2  # the same answer, from the stored network
    assert sorted(modules.intersection(HEAVY)) == []


def test_corridor_planner_package_import_is_lazy():
    code = (
        "import sys, corridor_planner; "
        "assert 'corridor_planner.network.graph' not in sys.modules; "
        "corridor_planner.load_corridor; "
        "assert 'corridor_planner.bundle.corridor' in sys.modules"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 0, proc.stderr


def test_the_package_runs_as_a_module():
    proc = subprocess.run(
        [sys.executable, "-m", "corridor_planner.cli", "corridors", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "almaty_bishkek" in proc.stdout
