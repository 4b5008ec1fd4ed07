"""`import --force` replaces an imported bundle and nothing else; bundles are shared folders."""

import shutil
import stat

import pytest

from corridor_planner.errors import DataError
from tests.test_import import inputs, run_import  # noqa: F401 (the module's input fixture)


@pytest.fixture(scope="module")
def bundle(inputs, tmp_path_factory):  # noqa: F811
    dest = tmp_path_factory.mktemp("safety") / "tiny_import"
    run_import(inputs, dest)
    return dest


def test_force_replaces_a_bundle_that_import_wrote(inputs, bundle, tmp_path):  # noqa: F811
    dest = tmp_path / "again"
    shutil.copytree(bundle, dest)
    (dest / "facilities.geojson").write_text("stale")
    run_import(inputs, dest, force=True)
    assert (dest / "facilities.geojson").read_text() != "stale"


def test_force_refuses_a_bundle_holding_a_users_notes(inputs, bundle, tmp_path):  # noqa: F811
    dest = tmp_path / "noted"
    shutil.copytree(bundle, dest)
    (dest / "notes.txt").write_text("my notes")
    (dest / ".git").mkdir()
    with pytest.raises(DataError, match=r"holds files import does not write \(.git, notes.txt\)"):
        run_import(inputs, dest, force=True)
    assert (dest / "notes.txt").read_text() == "my notes"
    assert (dest / ".git").is_dir()


def test_force_refuses_a_folder_that_is_not_a_bundle(inputs, tmp_path):  # noqa: F811
    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.docx").write_text("years of work")
    with pytest.raises(DataError, match=r"is not a bundle \(no corridor.toml\)"):
        run_import(inputs, home, force=True)
    assert (home / "thesis.docx").read_text() == "years of work"


def test_force_refuses_a_destination_holding_its_own_input(inputs, bundle, tmp_path):  # noqa: F811
    dest = tmp_path / "self"
    shutil.copytree(bundle, dest)
    # the bundle's own population layer given back as this import's boundaries input
    boundaries = dest / "roads.gpkg"
    with pytest.raises(DataError, match="holds the input .*roads.gpkg: --force would delete it"):
        run_import(inputs, dest, force=True, boundaries=boundaries)
    assert boundaries.exists()


def test_a_bundle_is_readable_by_colleagues(bundle):
    mode = stat.S_IMODE(bundle.stat().st_mode)
    assert mode & stat.S_IRGRP and mode & stat.S_IXGRP  # not mkdtemp's 0700
