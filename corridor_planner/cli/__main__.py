"""``python -m corridor_planner.cli``: the command line, as the ``corridor-planner`` script."""

from corridor_planner.cli import main

main(prog_name="corridor-planner")
