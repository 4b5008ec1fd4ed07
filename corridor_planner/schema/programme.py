"""Programme files (``data/programmes/<id>.toml``): which corridors, how many centres, for what.

One flat table (see :mod:`corridor_planner.analysis.programme`): the corridors, the number
of centres, the service, the access threshold, the ambulance response time, the scenario
and the source of what is known about the programme.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import field_validator
from pydantic_core import PydanticCustomError

from corridor_planner import settings
from corridor_planner.errors import Problem
from corridor_planner.schema.base import (
    FileModel,
    Identifier,
    Name,
    Text,
    in_range,
    non_empty,
    one_of,
)
from corridor_planner.schema.tables import check_tables

if TYPE_CHECKING:  # what the checked values are; the constraints are pydantic's
    Corridors = list[str]
    Centres = int
    Minutes = float
    Service = str
else:
    Corridors = non_empty(Identifier)
    Centres = in_range("programme_centres")
    Minutes = in_range("threshold_minutes")
    Service = one_of(settings.SERVICES, "service")


class ProgrammeFile(FileModel):
    """A programme file: what to plan where."""

    id: Identifier
    name: Name
    corridors: Corridors
    centres: Centres
    service: Service
    threshold_minutes: Minutes
    ambulance_minutes: Minutes
    scenario: Identifier
    source: Text

    @field_validator("corridors")
    @classmethod
    def _each_once(cls, value: list[str]) -> list[str]:
        if len(set(value)) < len(value):
            raise PydanticCustomError("twice", "lists a corridor twice")
        return value


def check_programme(data: Any, file: str) -> tuple[ProgrammeFile | None, list[Problem]]:
    """Check a parsed programme file (``file``: its name in problems); every problem found."""
    return check_tables(ProgrammeFile, data, file)
