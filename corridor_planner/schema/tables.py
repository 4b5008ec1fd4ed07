"""Files of ``[[table]]`` arrays and ``[table]`` sections: items named in problems, one check.

``costs.toml`` and ``origins.toml`` hold arrays of tables (``[[charge]]``, ``[[place]]``);
an import mapping holds sections (``[columns]``, ``[levels]``). A problem in such a file
names the item (``charge #0``, ``place tj_dushanbe``) or the section (``columns``) as its
feature and the key as its field, however deep pydantic found it (``groups``, not
``groups.0``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ValidationError
from pydantic_core import PydanticCustomError

from corridor_planner.errors import Problem
from corridor_planner.schema.base import describe

ModelT = TypeVar("ModelT", bound=BaseModel)
#: Name of item ``index`` of table ``table`` in problems (``charge #0``).
Labeller = Callable[[str, int], str]


def array_of_tables(item: type[BaseModel], table: str) -> Any:
    """Return the type of a ``[[table]]`` array of ``item`` tables (absent: empty)."""

    def check(value: Any) -> Any:
        if not isinstance(value, list):
            raise PydanticCustomError("tables", "must hold [[{table}]] tables", {"table": table})
        return value

    return Annotated[list[item], BeforeValidator(check)]  # type: ignore[valid-type]


def numbered(table: str, index: int) -> str:
    """Name an item by its table and place in it: ``charge #0``."""
    return f"{table} #{index}"


def by_id(data: Any, keys: tuple[str, ...] = ("id", "name")) -> Labeller:
    """Name an item by its table and first of ``keys`` it has (``place tj_dushanbe``)."""

    def label(table: str, index: int) -> str:
        items = data.get(table) if isinstance(data, dict) else None
        item = items[index] if isinstance(items, list) and index < len(items) else None
        if isinstance(item, dict):
            name = next((item[k] for k in keys if isinstance(item.get(k), str) and item[k]), None)
            if name:
                return f"{table} {name}"
        return numbered(table, index)

    return label


def locate(
    loc: tuple[Any, ...],
    tables: Collection[str] = (),
    sections: Collection[str] = (),
    label: Labeller = numbered,
) -> tuple[str, str]:
    """Split a pydantic error location into (feature, field) for a file of tables.

    Parameters
    ----------
    loc : tuple
        The location (``("charge", 0, "groups", 1)``).
    tables : collection of str
        Keys holding ``[[table]]`` arrays: their items are features.
    sections : collection of str
        Keys holding one ``[table]``: the section is the feature.
    label : callable
        Names an item of an array.
    """
    if not loc:
        return "-", "-"
    head, rest = str(loc[0]), loc[1:]
    if head in tables and rest and isinstance(rest[0], int):
        return label(head, rest[0]), _field(rest[1:])
    if head in sections and rest:
        return head, _field(rest)
    return "-", _field(loc)


def _field(parts: tuple[Any, ...]) -> str:
    """Return the key a problem is about, list positions left out (``groups``, not ``groups.0``)."""
    return ".".join(str(p) for p in parts if not isinstance(p, int)) or "-"


def check_tables(
    model: type[ModelT],
    data: Any,
    file: str,
    *,
    tables: Collection[str] = (),
    sections: Collection[str] = (),
    label: Labeller = numbered,
    context: Mapping[str, Any] | None = None,
) -> tuple[ModelT | None, list[Problem]]:
    """Validate ``data`` against ``model`` (with a validation ``context``); name items.

    Returns
    -------
    (model instance or None, list of Problem)
        The instance when there is no problem, else None and every problem found.
    """
    try:
        return model.model_validate(data, context=dict(context or {})), []
    except ValidationError as error:
        problems = []
        for detail in error.errors(include_url=False):
            loc = tuple(p for p in detail["loc"] if not _is_tag(p))
            feature, field = locate(loc, tables, sections, label)
            problems.append(Problem(file, feature, field, describe(detail, model)))
        return None, problems


def _is_tag(part: Any) -> bool:
    """Pydantic adds a union member's or a validator's name to an error's location."""
    return isinstance(part, str) and (
        "[" in part or part in {"float", "int", "str", "bool"} or part.startswith("function-")
    )
