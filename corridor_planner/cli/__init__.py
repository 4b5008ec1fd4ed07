"""Command line of corridor-planner: the click group and one module per command.

Each command parses its options (:mod:`.options`), calls the library and prints with
:mod:`.formatting`. The library is imported inside the commands, so that ``--help`` and
the light commands start without loading the road-graph and solver stack.
"""

from __future__ import annotations

import importlib
import logging
import sys

import click

__all__ = ["main"]


@click.group()
@click.version_option(package_name="corridor-planner")
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Say on stderr what the engine does and how long each step of a long job takes.",
)
def main(verbose: bool) -> None:
    """Plan health services along cross-border corridors: access, sites, referrals."""
    if verbose:
        _log_to_stderr()


def _log_to_stderr() -> None:
    """Send the package's INFO messages to (the current) stderr, once."""
    logger = logging.getLogger("corridor_planner")
    for handler in [h for h in logger.handlers if getattr(h, "corridor_planner_cli", False)]:
        logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    handler.corridor_planner_cli = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)  # step timings (progress.step) are debug lines


#: The commands, one module each in this package (``import`` lives in ``import_``).
COMMAND_MODULES = (
    "access",
    "corridors",
    "demo",
    "import_",
    "map",
    "prepare",
    "programme",
    "referrals",
    "report",
    "route",
    "score_sites",
    "sweep",
    "sweep_report",
    "tb_continuity",
    "validate",
)

for _name in COMMAND_MODULES:
    _module = importlib.import_module(f"corridor_planner.cli.{_name}")
    main.add_command(_module.command)
