"""Shared options, parameter types and decorators of the commands.

Nothing here imports the analysis stack: ``corridor-planner --help`` stays fast. Choices
that live in a library module (e.g. the siting methods) are read when a command parses
its arguments or prints its own help, through :class:`DeferredChoice`.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any

import click

from corridor_planner import settings
from corridor_planner.cli.formatting import say
from corridor_planner.errors import CorridorPlannerError

#: Exit status after Ctrl-C, as shells report a process ended by SIGINT (128 + 2).
INTERRUPTED = 130


def friendly_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library errors into a message on stderr and exit status 1, no traceback.

    Ctrl-C ends with one line, ``interrupted``, and exit status 130; outputs are written
    to a temporary file and renamed, so a file from an earlier run is left whole.
    """

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except KeyboardInterrupt:
            say("interrupted", err=True)
            sys.exit(INTERRUPTED)
        except CorridorPlannerError as exc:
            say(f"error: {exc}", err=True)
            sys.exit(1)
        except click.ClickException:
            raise  # a usage error found by the command itself: click prints it, exit 2
        except BrokenPipeError:
            # the reader (e.g. `head`) closed the pipe: stop quietly, as Unix tools do
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - swallow the final flush
            sys.exit(141)
        except Exception as exc:
            if os.environ.get("CORRIDOR_PLANNER_DEBUG"):
                raise
            say(
                f"error: unexpected {type(exc).__name__}: {exc} (a bug: please report it; "
                "set CORRIDOR_PLANNER_DEBUG=1 to see the traceback)",
                err=True,
            )
            sys.exit(3)

    return wrapper


class DeferredChoice(click.Choice[str]):
    """``click.Choice`` of the names held by ``module.attribute``, imported on first use.

    Parameters
    ----------
    module, attribute : str
        Where the names are, e.g. ``corridor_planner.render.i18n`` and ``LANGUAGES``.
    sort : bool
        Sort the names (e.g. the keys of a dictionary).
    """

    def __init__(self, module: str, attribute: str, sort: bool = False) -> None:
        # no super().__init__: it would read the choices now
        self.case_sensitive = True
        self._where = (module, attribute)
        self._sort = sort
        self._names: tuple[str, ...] | None = None

    @property
    def choices(self) -> tuple[str, ...]:
        """The names, imported on first use."""
        if self._names is None:
            module, attribute = self._where
            names = getattr(importlib.import_module(module), attribute)
            self._names = tuple(sorted(names) if self._sort else names)
        return self._names

    @choices.setter
    def choices(self, names: tuple[str, ...]) -> None:
        self._names = tuple(names)


class Duration(click.ParamType):
    """A duration such as ``2h``, ``90min``, ``1h30``, ``45m`` or ``30`` (minutes)."""

    name = "duration"
    _pattern = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)\s*h)?\s*(?:(\d+(?:\.\d+)?)\s*(?:m|min)?)?\s*$")

    def convert(self, value: Any, param: Any, ctx: Any) -> float:
        """Return the duration in minutes."""
        if isinstance(value, int | float):
            return float(value)
        match = self._pattern.match(str(value).lower())
        if not match or not any(match.groups()):
            self.fail(f"{value!r} is not a duration such as 2h, 90min or 1h30", param, ctx)
        hours, minutes = (float(g) if g else 0.0 for g in match.groups())
        total = hours * 60 + minutes
        complaint = settings.RANGES["threshold_minutes"].problem(total)
        if complaint:
            self.fail(f"{value!r}: {complaint}", param, ctx)
        return total


class DateTime(click.ParamType):
    """An ISO date-time such as ``2027-01-13T08:00``."""

    name = "iso-datetime"

    def convert(self, value: Any, param: Any, ctx: Any) -> dt.datetime:
        """Return the parsed date-time."""
        if isinstance(value, dt.datetime):
            return value
        try:
            return dt.datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not an ISO date-time such as 2027-01-13T08:00", param, ctx)


class Plausible(click.ParamType):
    """A number within the plausible range of its kind (``settings.RANGES``): finite."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.name = settings.RANGES[kind].unit

    def convert(self, value: Any, param: Any, ctx: Any) -> float:
        """Return the number, or fail with its range."""
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        complaint = settings.RANGES[self.kind].problem(number)
        if complaint:
            self.fail(complaint, param, ctx)
        return number


class GroupWeight(click.ParamType):
    """``GROUP=MULTIPLIER``, e.g. ``border_community=2``."""

    name = "group=multiplier"

    def convert(self, value: Any, param: Any, ctx: Any) -> tuple[str, float]:
        """Return ``(group, multiplier)``."""
        if isinstance(value, tuple):
            return value
        group, _, number = str(value).partition("=")
        try:
            multiplier = float(number)
        except ValueError:
            multiplier = -1.0
        if group not in settings.WEIGHT_GROUPS or multiplier < 0:
            self.fail(
                f"{value!r} is not GROUP=MULTIPLIER with GROUP one of "
                f"{', '.join(settings.WEIGHT_GROUPS)} and MULTIPLIER >= 0",
                param,
                ctx,
            )
        return group, multiplier


class BoundingBox(click.ParamType):
    """``W,S,E,N`` in degrees."""

    name = "W,S,E,N"

    def convert(self, value: Any, param: Any, ctx: Any) -> tuple[float, float, float, float]:
        """Return the four numbers."""
        if isinstance(value, tuple):
            return value
        try:
            west, south, east, north = (float(v) for v in str(value).split(","))
        except ValueError:
            self.fail(f"{value!r} is not W,S,E,N such as 73.4,42.6,77.1,43.5", param, ctx)
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            self.fail(f"{value!r}: need -180 <= W < E <= 180 and -90 <= S < N <= 90", param, ctx)
        return (west, south, east, north)


def out_option(help_text: str) -> Callable[[Any], Any]:
    """Make the ``--out FILE`` option; each command decides the formats it writes."""
    return click.option(
        "--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help=help_text
    )


def refuse_bundle_output(out: Path | None, corridor: str) -> None:
    """Refuse, before any work, an output file that would replace a bundle's own file.

    ``access --out BUNDLE/population.geojson`` would replace the settlements with the
    results table (:func:`corridor_planner.outputs.refuse_bundle_file`).

    Raises
    ------
    CorridorPlannerError
        Naming the path and the bundle; NotFoundError for an unknown corridor.
    """
    if out is None:
        return
    from corridor_planner.bundle.corridor import resolve_corridor_path
    from corridor_planner.outputs import refuse_bundle_file

    refuse_bundle_file(out, resolve_corridor_path(corridor))


def refuse_input_output(out: Path, source: Path) -> None:
    """Refuse an output path that is the very file the command reads.

    Raises
    ------
    CorridorPlannerError
        Naming both.
    """
    if out.expanduser().resolve() == source.expanduser().resolve():
        raise CorridorPlannerError(
            f"cannot write {out}: it is the file being read ({source}); choose another --out"
        )


KEEP_ALL_PIECES_HELP = (
    "Keep every piece of road, also those cut off from the largest connected network "
    "(default: left out and reported)."
)
KEEP_ALL_PIECES_OPTION = click.option("--keep-all-pieces", is_flag=True, help=KEEP_ALL_PIECES_HELP)

FORMAT_OPTION = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Print a table for people or JSON for programs.",
)
PROFILE_OPTION = click.option(
    "--profile",
    type=click.Choice(sorted(settings.PROFILES)),
    default=settings.DEFAULT_PROFILE,
    show_default=True,
    help="Who travels: decides which border posts may be crossed and their delays.",
)
SCENARIO_OPTION = click.option(
    "--scenario", default="baseline", show_default=True, help="Scenario name (scenarios/*.toml)."
)
DEPART_OPTION = click.option(
    "--depart",
    type=DateTime(),
    default=None,
    help="Departure date-time (local); closed posts make travellers wait. "
    "Default: the scenario's, else posts count as open.",
)


@contextmanager
def steps(label: str, count: int) -> Iterator[Callable[[], None]]:
    """Show a progress bar on a terminal (stderr), nothing otherwise; yield 'advance one step'."""
    if not sys.stderr.isatty():
        yield lambda: None
        return
    with click.progressbar(length=count, label=label, file=sys.stderr) as bar:
        yield lambda: bar.update(1)


def network_of(corridor: Any, keep_all_pieces: bool = False) -> Any:
    """Return the corridor's prepared network, saying each step on a terminal (stderr).

    Built once and stored with the bundle (:func:`~corridor_planner.network.prepared.
    prepared_network`); later commands load it. Nothing is printed when stderr is not a
    terminal, so pipes and JSON output stay clean.
    """
    from corridor_planner.network.prepared import prepared_network

    return prepared_network(corridor, keep_all_pieces=keep_all_pieces, progress=progress_line)


def progress_line(message: str) -> None:
    """Say a step of a long job on stderr, only when it is a terminal."""
    if sys.stderr.isatty():
        click.echo(f"  {message} ...", err=True)
