"""Run the command line from a source checkout: ``python cli.py --help``.

The commands live in :mod:`corridor_planner.cli`; an installed package runs them as
``corridor-planner`` (the console script of ``pyproject.toml``).
"""

from corridor_planner.cli import main

if __name__ == "__main__":
    main()
