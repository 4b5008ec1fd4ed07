"""The import direction of the package: a lower layer never imports a higher one."""

from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent


def test_layers_contract_is_kept():
    # .importlinter lists the layers of DESIGN.md's package layout, highest first
    assert lint_imports(config_filename=str(ROOT / ".importlinter"), no_cache=True) == 0


def test_contract_names_every_subpackage():
    config = (ROOT / ".importlinter").read_text()
    package = ROOT / "corridor_planner"
    packages = {p.name for p in package.iterdir() if (p / "__init__.py").exists()}
    named = {line.strip().strip("()") for line in config.splitlines() if line.startswith("    ")}
    assert packages - {"locale"} <= named | {"corridor_planner"}
