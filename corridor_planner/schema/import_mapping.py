"""A facility mapping given to ``import`` (``--facility-schema MAP.toml``): a ministry's columns.

``[columns]`` names the spreadsheet's columns for ``name`` and ``level`` (required) and
``id``, ``services``, ``beds``, ``operator``; ``[levels]``, ``[services]`` and
``[operators]`` map the sheet's words (any case) to the bundle's vocabulary; ``separator``
splits a cell of several services; ``location_precision_m`` is how precise the sheet's
positions are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from corridor_planner import settings
from corridor_planner.errors import Problem
from corridor_planner.schema.base import FileModel, Name, in_range, one_of
from corridor_planner.schema.tables import check_tables

SECTIONS = ("columns", "levels", "services", "operators")

if TYPE_CHECKING:  # what the checked values are; the constraints are pydantic's
    Level = str
    Service = str
    Operator = str
    Precision = float
else:
    Level = one_of(settings.LEVELS, "level")
    Service = one_of(settings.SERVICES, "service")
    Operator = one_of(settings.OPERATORS, "operator")
    Precision = in_range("location_precision_m")


class Columns(FileModel):
    """``[columns]``: the sheet's column holding each field of a facility."""

    name: Name
    level: Name
    id: Name | None = None
    services: Name | None = None
    beds: Name | None = None
    operator: Name | None = None


def _one_meaning(words: dict[str, str]) -> dict[str, str]:
    """Refuse two spellings of one word (words match in any case) that mean different things."""
    seen: dict[str, str] = {}
    for word, meaning in words.items():
        if seen.get(word.casefold(), meaning) != meaning:
            raise PydanticCustomError(
                "ambiguous",
                "{word} is mapped twice (words match in any case): to {a} and {b}",
                {"word": repr(word), "a": seen[word.casefold()], "b": meaning},
            )
        seen[word.casefold()] = meaning
    return words


class FacilityMapping(FileModel):
    """A facility mapping TOML."""

    columns: Columns
    levels: dict[Name, Level] = Field(default_factory=dict)
    services: dict[Name, Service] = Field(default_factory=dict)
    operators: dict[Name, Operator] = Field(default_factory=dict)
    separator: str = ";"
    location_precision_m: Precision = 1_000.0

    _words = field_validator("levels", "services", "operators")(_one_meaning)

    @field_validator("separator")
    @classmethod
    def _separator(cls, value: str) -> str:
        if not value or len(value) > 5:
            raise PydanticCustomError("separator", "must be 1 to 5 characters, such as ';'")
        return value


def check_mapping(data: Any, file: str) -> tuple[FacilityMapping | None, list[Problem]]:
    """Check a parsed facility mapping (``file``: its name in problems); every problem found."""
    return check_tables(FacilityMapping, data, file, sections=SECTIONS)
