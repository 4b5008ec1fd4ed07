"""Errors raised by corridor-planner; the CLI catches the root class."""

from __future__ import annotations

from dataclasses import dataclass

#: Said of a JSON or TOML file nested deeper than Python's parsers can follow.
TOO_DEEP = "nested too deeply to read (lists or tables inside one another, hundreds deep)"


class CorridorPlannerError(Exception):
    """Root of every error this package raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One problem found in a corridor bundle.

    Parameters
    ----------
    file : str
        File name inside the bundle (e.g. ``facilities.geojson``).
    feature : str
        Feature id, or ``-`` when the problem concerns the whole file.
    field : str
        Property or key that is wrong, or ``-``.
    message : str
        What is wrong, in plain words.

    """

    file: str
    feature: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.feature}: {self.field}: {self.message}"


class DataError(CorridorPlannerError):
    """Bad input data; lists every problem as ``file: feature id: field: problem``."""

    def __init__(self, problems: list[Problem] | Problem, corridor: str | None = None) -> None:
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        self.corridor = corridor
        super().__init__(self._format())

    def _format(self) -> str:
        where = f" in corridor {self.corridor}" if self.corridor else ""
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''}{where}:"
        return "\n".join([head, *(f"  {p}" for p in self.problems)])


class NotFoundError(CorridorPlannerError):
    """A corridor, place or profile named by the user does not exist."""


class NoRouteError(CorridorPlannerError):
    """No route exists between two places for the chosen traveller and scenario."""


class InvalidArgumentError(CorridorPlannerError, ValueError):
    """An argument has a value no analysis accepts (an unknown method, a latitude of 200)."""


class SitingError(CorridorPlannerError, ValueError):
    """A location problem that cannot be posed or solved (empty, infeasible, bad values)."""


class AssignmentError(CorridorPlannerError, ValueError):
    """A capacity-bound assignment that cannot be posed (bad shapes or values)."""
