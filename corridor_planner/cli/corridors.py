"""``corridor-planner corridors``: list the bundled corridors."""

from __future__ import annotations

import click

from corridor_planner.cli.formatting import print_corridors
from corridor_planner.cli.options import FORMAT_OPTION, friendly_errors


@click.command(name="corridors")
@FORMAT_OPTION
@friendly_errors
def command(fmt: str) -> None:
    """List the bundled corridors."""
    from corridor_planner.bundle.corridor import bundled_corridors, load_corridor

    rows = []
    for path in bundled_corridors():
        corridor = load_corridor(path)
        rows.append(
            {"id": corridor.id, "name": corridor.name, "countries": list(corridor.countries)}
        )
    print_corridors(rows, fmt)
