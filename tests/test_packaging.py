"""Packaging: every subpackage ships, the bundled data is found, missing extras are named."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from corridor_planner import extras, settings
from corridor_planner.cli import main

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_subpackage_is_listed_in_pyproject():
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "corridor_planner").rglob("__init__.py")
    }
    assert found <= listed
    assert listed - found == {"corridor_planner.data"}


def test_bundled_data_is_mapped_from_the_repository_root():
    assert PYPROJECT["tool"]["setuptools"]["package-dir"] == {"corridor_planner.data": "data"}
    assert settings.BUNDLED_CORRIDORS_DIR == ROOT / "data" / "corridors"
    assert (settings.PROGRAMMES_DIR / "cpec_emergency_care.toml").is_file()


def test_extras_name_real_pyproject_extras():
    declared = PYPROJECT["project"]["optional-dependencies"]
    (everything,) = declared["all"]
    bundled = everything.removeprefix("corridor-planner[").removesuffix("]").split(",")
    assert set(extras.EXTRAS) <= set(bundled) <= set(declared)


def test_no_top_level_cli_module_is_installed():
    assert PYPROJECT["project"]["scripts"] == {"corridor-planner": "corridor_planner.cli:main"}
    assert "py-modules" not in PYPROJECT["tool"]["setuptools"]


def test_a_missing_extra_is_one_line_naming_it(monkeypatch):
    monkeypatch.setitem(extras.EXTRAS, "pdf", ("no_such_module_for_this_test",))
    result = CliRunner().invoke(main, ["report", "tests/data/tiny_corridor", "--out", "x.pdf"])
    assert result.exit_code == 1
    assert result.output == (
        "error: `corridor-planner report --out FILE.pdf` needs the optional extra `pdf`: "
        "pip install 'corridor-planner[pdf]' (missing: no_such_module_for_this_test)\n"
    )


def test_require_passes_when_the_extra_is_installed():
    pytest.importorskip("numba")
    extras.require("fast", "the contraction hierarchy")
    assert extras.missing("fast") == []
