from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from corridor_planner.bundle.corridor import Corridor, load_corridor
from corridor_planner.network.graph import CorridorNetwork, build_network

DATA = Path(__file__).parent / "data"


@pytest.fixture
def tiny_path() -> Path:
    return DATA / "tiny_corridor"


@pytest.fixture
def tiny_copy(tmp_path: Path, tiny_path: Path) -> Path:
    """A writable copy of the tiny corridor, for tests that break it."""
    target = tmp_path / "tiny"
    # a prepared network another test stored there is not part of the bundle
    shutil.copytree(tiny_path, target, ignore=shutil.ignore_patterns(".cache"))
    return target


@pytest.fixture(scope="session")
def tiny() -> Corridor:
    return load_corridor(DATA / "tiny_corridor")


@pytest.fixture(scope="session")
def tiny_network(tiny: Corridor) -> CorridorNetwork:
    return build_network(tiny)


@pytest.fixture(scope="session")
def almaty_bishkek() -> CorridorNetwork:
    return build_network(load_corridor("almaty_bishkek"))


@pytest.fixture(scope="session")
def cpec() -> CorridorNetwork:
    return build_network(load_corridor("cpec_karakoram"))


@pytest.fixture(scope="session")
def gwadar() -> CorridorNetwork:
    return build_network(load_corridor("cpec_gwadar"))


@pytest.fixture(scope="session")
def bundled_reports(almaty_bishkek, cpec, gwadar):
    """The report data of every bundled corridor, with its default scenarios."""
    from corridor_planner.render.report import build_report, default_scenarios

    return {
        n.corridor.id: (n, build_report(n, default_scenarios(n.corridor)))
        for n in (almaty_bishkek, cpec, gwadar)
    }
