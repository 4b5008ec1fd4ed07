"""``corridor-planner sweep-report``: a sweep's comparison charts."""

from __future__ import annotations

from pathlib import Path

import click

from corridor_planner.cli.formatting import say
from corridor_planner.cli.options import friendly_errors, out_option, refuse_input_output
from corridor_planner.extras import require


@click.command(name="sweep-report")
@click.argument("table", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@out_option("Output .html (default: the table's name with .html).")
@friendly_errors
def command(table: Path, out: Path | None) -> None:
    """Draw a sweep's comparison charts: coverage by threshold and scenario, minutes lost."""
    require("sweep", "corridor-planner sweep-report")
    from corridor_planner.outputs import write_text
    from corridor_planner.render import sweep_report

    path = out or table.with_suffix(".html")
    refuse_input_output(path, table)
    write_text(sweep_report.render(sweep_report.read(table)), path)
    say(f"wrote {path}")
