"""The import direction of the package: a lower layer never imports a higher one."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_layers_contract_is_kept():
    # .importlinter lists the layers of DESIGN.md's package layout, highest first. Run in
    # its own process: import-linter reconfigures logging, which would silence the
    # package's loggers for the tests that follow.
    lint = Path(sys.executable).parent / "lint-imports"
    run = subprocess.run(
        [str(lint), "--config", str(ROOT / ".importlinter"), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:]


def test_contract_names_every_subpackage():
    config = (ROOT / ".importlinter").read_text()
    package = ROOT / "corridor_planner"
    packages = {p.name for p in package.iterdir() if (p / "__init__.py").exists()}
    named = {line.strip().strip("()") for line in config.splitlines() if line.startswith("    ")}
    assert packages - {"locale"} <= named | {"corridor_planner"}
