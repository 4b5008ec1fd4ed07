"""The building blocks every file model shares, and one adapter to ``Problem`` lines.

Every file a user writes is described by a pydantic model built from :class:`FileModel`:
unknown keys are refused (with the nearest known key offered), numbers are checked against
the plausible ranges of :data:`corridor_planner.settings.RANGES`, and text is bounded.
:func:`check` validates parsed data against a model and turns pydantic's errors into the
package's ``file: feature: field: problem`` lines, so a reader sees the same form of message
whatever file is wrong.
"""

from __future__ import annotations

import difflib
import math
import types
import typing
import unicodedata
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from corridor_planner import settings
from corridor_planner.errors import Problem

#: Longest free text (a description, a source, a note) a file may hold.
MAX_TEXT = 2_000
#: Longest id or name.
MAX_NAME = 200

ModelT = TypeVar("ModelT", bound=BaseModel)


class FileModel(BaseModel):
    """Base of every model of a user-written file or table: unknown keys are refused."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        populate_by_name=True,
        hide_input_in_errors=True,
    )


# values ----------------------------------------------------------------------------------


def _control_characters(text: str) -> list[str]:
    """Control and bidirectional-override characters in ``text`` (newline and tab aside)."""
    return [
        f"U+{ord(c):04X}"
        for c in text
        if c not in "\n\t" and unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp"}
    ]


def _plain_text(limit: int, one_line: bool = False) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not value.strip():
            raise PydanticCustomError("blank", "must not be empty")
        if one_line and any(c in value for c in "\n\r"):
            raise PydanticCustomError("one_line", "must be one line (no line breaks)")
        if len(value) > limit:
            raise PydanticCustomError(
                "too_long", "must be at most {limit} characters", {"limit": limit}
            )
        bad = _control_characters(value)
        if bad:
            raise PydanticCustomError(
                "control", "must not hold control characters ({bad})", {"bad": ", ".join(bad)}
            )
        return value

    return check


#: Free text: a description, a source, a note (not empty, at most MAX_TEXT characters).
Text = Annotated[str, AfterValidator(_plain_text(MAX_TEXT))]
#: A name or id shown to readers (not empty, at most MAX_NAME characters, one line).
Name = Annotated[str, AfterValidator(_plain_text(MAX_NAME, one_line=True))]


def _identifier(value: str) -> str:
    _plain_text(MAX_NAME)(value)
    if any(c in value for c in "/\\\n") or value in {".", ".."} or value != value.strip():
        raise PydanticCustomError(
            "identifier", "must be a plain id (no slashes, line breaks or outer spaces)"
        )
    return value


#: An id that may become part of a file name: no path separators, no control characters.
Identifier = Annotated[str, AfterValidator(_identifier)]


def in_range(kind: str) -> Any:
    """Return a number type checked against ``settings.RANGES[kind]``: finite, plausible.

    Integers are accepted where a float is expected; booleans never are.
    """
    limits = settings.RANGES[kind]

    def check(value: Any) -> float:
        problem = limits.problem(value)
        if problem:
            raise PydanticCustomError("range", problem)
        return int(value) if limits.whole else float(value)

    return Annotated[float | int, BeforeValidator(check)]


def one_of(choices: Sequence[str] | frozenset[str], what: str) -> Any:
    """Return a text type that must be one of ``choices`` (named ``what`` in the message)."""
    known = sorted(choices)

    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in choices:
            near = difflib.get_close_matches(str(value), known, n=1)
            hint = f"; did you mean `{near[0]}`?" if near else ""
            raise PydanticCustomError(
                "choice",
                "unknown {what} {value} (known: {known}){hint}",
                {"what": what, "value": repr(value), "known": ", ".join(known), "hint": hint},
            )
        return value

    return Annotated[str, BeforeValidator(check)]


def finite(value: float) -> float:
    """Refuse NaN and infinity."""
    if not math.isfinite(value):
        raise PydanticCustomError("finite", "must be a finite number")
    return value


def non_empty(item: Any) -> Any:
    """Return a list type that must hold at least one ``item``."""
    return Annotated[list[item], Field(min_length=1)]


# the adapter -----------------------------------------------------------------------------

#: Names readers know, for pydantic's types in messages.
_TYPE_WORDS = {
    "string_type": "must be a text",
    "int_type": "must be a whole number",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "missing": "is required",
    "too_short": "must not be empty",
}


def check(
    model: type[ModelT],
    data: Any,
    file: str,
    feature: str | None = None,
) -> tuple[ModelT | None, list[Problem]]:
    """Validate parsed ``data`` against ``model``; return the object or every problem found.

    Parameters
    ----------
    model : type of FileModel
        The file's model.
    data : object
        What ``tomllib`` or ``json`` parsed.
    file : str
        File name shown in problems (``corridor.toml``, ``scenarios/closed.toml``).
    feature : str, optional
        Feature the whole of ``data`` belongs to (a feature id of a layer); otherwise the
        feature is read from the location of each error (``charge #2``) or ``-``.

    Returns
    -------
    (model instance or None, list of Problem)
        The instance when there is no problem, else None and the problems.
    """
    try:
        return model.model_validate(data), []
    except ValidationError as error:
        return None, problems_from(error, model, file, feature)


def problems_from(
    error: ValidationError, model: type[BaseModel], file: str, feature: str | None = None
) -> list[Problem]:
    """Turn pydantic's errors into ``file: feature: field: problem`` lines."""
    problems = []
    for detail in error.errors(include_url=False):
        where, field = _where(tuple(detail["loc"]), feature)
        problems.append(Problem(file, where, field, _message(detail, model)))
    return problems


def _where(loc: tuple[Any, ...], feature: str | None) -> tuple[str, str]:
    """Split an error location into (feature, field): the last list item is the feature."""
    loc = tuple(part for part in loc if not _is_union_tag(part))
    if feature is not None:
        return feature, ".".join(map(str, loc)) or "-"
    last_index = max((i for i, part in enumerate(loc) if isinstance(part, int)), default=None)
    if last_index is None:
        return "-", ".".join(map(str, loc)) or "-"
    table = ".".join(map(str, loc[:last_index])) or "item"
    field = ".".join(map(str, loc[last_index + 1 :])) or "-"
    return f"{table} #{loc[last_index]}", field


def _is_union_tag(part: Any) -> bool:
    """Pydantic adds the member type's name to the location of a union's errors."""
    return isinstance(part, str) and ("[" in part or part in {"float", "int", "str", "bool"})


def _message(detail: ErrorDetails, model: type[BaseModel]) -> str:
    kind = detail["type"]
    if kind == "extra_forbidden":
        key, path = str(detail["loc"][-1]), tuple(detail["loc"][:-1])
        here = ".".join(str(p) for p in path if not (isinstance(p, int) or _is_union_tag(p)))
        elsewhere = [table for table in tables_with_key(model, key) if table != here]
        return unknown_key_message(key, allowed_keys(model, path), elsewhere)
    if kind in _TYPE_WORDS:
        return _TYPE_WORDS[kind]
    message = str(detail["msg"])
    return message.removeprefix("Value error, ")


def describe(detail: ErrorDetails, model: type[BaseModel]) -> str:
    """Say one pydantic error of ``model`` in the package's words (the ``problem`` part)."""
    return _message(detail, model)


def unknown_key_message(key: str, allowed: Sequence[str], elsewhere: Sequence[str] = ()) -> str:
    """``unknown key `x`; did you mean `y`?`` (or the known keys when none is close).

    A key that is known in another table of the file (``elsewhere``, dotted paths, ``""``
    for the top level) is said to belong there: ``unknown key `x` here: it belongs in `y```.
    """
    if elsewhere:
        tables = ", ".join(f"`{table}`" if table else "the top level" for table in elsewhere)
        return f"unknown key `{key}` here: it belongs in {tables}"
    near = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if near:
        return f"unknown key `{key}`; did you mean `{near[0]}`?"
    known = ", ".join(sorted(allowed)) or "none"
    return f"unknown key `{key}` (known: {known})"


def allowed_keys(model: type[BaseModel], path: tuple[Any, ...]) -> list[str]:
    """Return the keys the model allows at ``path`` (a pydantic error location), best effort."""
    current: Any = model
    for part in path:
        if isinstance(part, int) or _is_union_tag(part):
            continue
        fields = _model_fields(current)
        # a key of a mapping (not a field): descend into the mapping's values
        current = fields[part] if part in fields else _value_type(current)
        current = _unwrap(current)
    return sorted(_keys_of(_unwrap(current)))


def tables_with_key(model: type[BaseModel], key: str) -> list[str]:
    """Dotted paths of the tables of ``model`` (``""``: the top level) that allow ``key``."""
    found: list[str] = []
    seen: set[Any] = set()

    def walk(current: Any, path: str) -> None:
        if current in seen or not (isinstance(current, type) and issubclass(current, BaseModel)):
            return
        seen.add(current)
        if key in _keys_of(current):
            found.append(path)
        for name, annotation in _model_fields(current).items():
            walk(_unwrap(annotation), f"{path}.{name}" if path else name)

    walk(model, "")
    return found


def _keys_of(model: Any) -> list[str]:
    fields = getattr(model, "model_fields", None)
    if not fields:
        return []
    return [info.alias or name for name, info in fields.items()]


def _model_fields(model: Any) -> dict[str, Any]:
    fields = getattr(model, "model_fields", None) or {}
    return {(info.alias or name): info.annotation for name, info in fields.items()}


def _value_type(annotation: Any) -> Any:
    args = typing.get_args(annotation)
    return args[-1] if args else annotation


def _unwrap(annotation: Any) -> Any:
    """Return the model inside ``Annotated``, ``Optional``, ``list`` and ``dict`` annotations."""
    for _ in range(6):
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return annotation
        origin = typing.get_origin(annotation)
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if origin is Annotated:
            annotation = args[0]
        elif origin in (list, tuple, set, frozenset, typing.Union, types.UnionType):
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            annotation = models[0] if models else (args[0] if args else annotation)
        elif origin is dict:
            annotation = args[-1]
        else:
            return annotation
    return annotation
