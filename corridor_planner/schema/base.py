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
import re
import types
import typing
import unicodedata
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

import pycountry
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from corridor_planner import settings
from corridor_planner.errors import Problem

#: Longest free text (a description, a source, a note) a file may hold.
MAX_TEXT = 2_000
#: Longest id or name.
MAX_NAME = 200

ModelT = TypeVar("ModelT", bound=BaseModel)


#: ``json_schema_extra`` marker of a field holding the keys that match a pattern.
_PATTERN = "x-key-pattern"


def _pattern_properties(schema: dict[str, Any]) -> None:
    """JSON Schema: a pattern field becomes ``patternProperties`` instead of a property."""
    properties = schema.get("properties", {})
    for key in [k for k, v in properties.items() if _PATTERN in v]:
        value = properties.pop(key)
        schema.setdefault("patternProperties", {})[value.pop(_PATTERN)] = value.get(
            "additionalProperties", {}
        )


class FileModel(BaseModel):
    """Base of every model of a user-written file or table: unknown keys are refused.

    Keys that legitimately vary (``description_ru``, ``name_en``) are taken only where a
    model declares a :func:`pattern_field` for them; every other unknown key is refused.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        populate_by_name=True,
        hide_input_in_errors=True,
        json_schema_extra=_pattern_properties,
    )

    @model_validator(mode="before")
    @classmethod
    def _gather_pattern_keys(cls, data: Any) -> Any:
        """Move the keys matching a pattern field's pattern into that field."""
        patterns = _pattern_fields(cls)
        if not patterns or not isinstance(data, dict):
            return data
        data = dict(data)
        for alias, pattern in patterns.items():
            matched = {k: data.pop(k) for k in list(data) if re.fullmatch(pattern, str(k))}
            if matched:
                data[alias] = matched
        return data


def pattern_field(pattern: str) -> Any:
    """Declare a field holding every key of the table that matches ``pattern`` (a regex).

    The field's type is a ``dict`` of the matched keys to their values, e.g.
    ``translations: dict[str, Text] = pattern_field(r"description_[a-z]{2}")``. Messages
    name the key itself (``description_ru``), and the JSON Schema lists the pattern under
    ``patternProperties``.
    """
    return Field(default_factory=dict, alias=f"<{pattern}>", json_schema_extra={_PATTERN: pattern})


def _is_pattern_alias(part: Any) -> bool:
    return isinstance(part, str) and part.startswith("<") and part.endswith(">")


def _pattern_fields(model: type[BaseModel]) -> dict[str, str]:
    return {
        info.alias: info.alias[1:-1]
        for info in model.model_fields.values()
        if info.alias and _is_pattern_alias(info.alias)
    }


# values ----------------------------------------------------------------------------------


#: Format characters that names in Persian, Urdu and other scripts need: the zero-width
#: non-joiner and joiner, and the left-to-right and right-to-left marks. The embeddings,
#: overrides and isolates (U+202A-U+202E, U+2066-U+2069) reorder what a reader sees and
#: stay refused.
WRITING_MARKS = frozenset("\u200c\u200d\u200e\u200f")


def _control_characters(text: str) -> list[str]:
    """Control and bidirectional-override characters in ``text`` (newline and tab aside)."""
    return [
        f"U+{ord(c):04X}"
        for c in text
        if c not in "\n\t"
        and c not in WRITING_MARKS
        and unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp"}
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
Text = Annotated[
    str,
    AfterValidator(_plain_text(MAX_TEXT)),
    WithJsonSchema({"type": "string", "minLength": 1, "maxLength": MAX_TEXT}),
]
#: A name or id shown to readers (not empty, at most MAX_NAME characters, one line).
Name = Annotated[
    str,
    AfterValidator(_plain_text(MAX_NAME, one_line=True)),
    WithJsonSchema({"type": "string", "minLength": 1, "maxLength": MAX_NAME}),
]


def _identifier(value: str) -> str:
    _plain_text(MAX_NAME)(value)
    if any(c in value for c in "/\\\n") or value in {".", ".."} or value != value.strip():
        raise PydanticCustomError(
            "identifier", "must be a plain id (no slashes, line breaks or outer spaces)"
        )
    return value


def _bundle_file(value: str) -> str:
    _plain_text(MAX_NAME, one_line=True)(value)
    parts = value.split("/")
    if value.startswith("/") or "\\" in value or ":" in parts[0] or ".." in parts:
        raise PydanticCustomError(
            "bundle_file",
            "must be a file inside the bundle, given relative to it (no leading /, no .., "
            "no backslash)",
        )
    return value


#: A file of the bundle, relative to its folder (``roads.osm``, ``layers/roads.gpkg``).
BundleFile = Annotated[
    str,
    AfterValidator(_bundle_file),
    WithJsonSchema(
        {"type": "string", "minLength": 1, "maxLength": MAX_NAME, "pattern": r"^[^/\\][^\\]*$"}
    ),
]


#: An id that may become part of a file name: no path separators, no control characters.
Identifier = Annotated[
    str,
    AfterValidator(_identifier),
    WithJsonSchema(
        {"type": "string", "minLength": 1, "maxLength": MAX_NAME, "pattern": r"^[^/\\]+$"}
    ),
]


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

    bound = "exclusiveMinimum" if limits.low_open else "minimum"
    schema = {
        "type": "integer" if limits.whole else "number",
        bound: limits.low,
        "maximum": limits.high,
        "description": limits.unit,
    }
    return Annotated[float | int, BeforeValidator(check), WithJsonSchema(schema)]


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

    return Annotated[
        str, BeforeValidator(check), Field(json_schema_extra={"enum": typing.cast(Any, known)})
    ]


def list_of(item: Any, what: str, min_length: int = 0) -> Any:
    """Return a list type of ``item`` refusing anything else as "must be a list of ``what``"."""

    def check(value: Any) -> Any:
        if not isinstance(value, list):
            raise PydanticCustomError("list_of", "must be a list of {what}", {"what": what})
        return value

    return Annotated[list[item], BeforeValidator(check), Field(min_length=min_length)]


def _country_code(value: Any) -> str:
    if not (isinstance(value, str) and re.fullmatch(r"[A-Z]{2}", value)):
        raise PydanticCustomError(
            "country",
            "{value} is not an ISO 3166 alpha-2 code such as KZ",
            {"value": settings.shown(value)},
        )
    if pycountry.countries.get(alpha_2=value) is None:
        raise PydanticCustomError(
            "country", "{value} is not a country's ISO 3166 alpha-2 code", {"value": repr(value)}
        )
    return value


#: An ISO 3166 alpha-2 country code (``KZ``).
CountryCode = Annotated[str, BeforeValidator(_country_code), Field(pattern=r"^[A-Z]{2}$")]


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
        Feature the whole of ``data`` belongs to (the properties of one feature of a layer):
        the field is then the property (``delay_minutes``) and the keys below it open the
        message (``KZ->KG: citizen: must be ...``). Otherwise the feature is the table of a
        list the error lies in (``charge #2``), or ``-``, and the field the dotted key path
        (``speeds.KG.trunk``).

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
        loc = tuple(p for p in detail["loc"] if not _is_union_tag(p))
        message = _message(detail, model)
        if feature is not None:
            named = tuple(p for p in loc if not _is_pattern_alias(p))
            problems.append(_property_problem(file, feature, named, message, detail))
        else:
            where, field = _where(loc, model)
            problems.append(Problem(file, where, field, message))
    return problems


def _property_problem(
    file: str, feature: str, loc: tuple[Any, ...], message: str, detail: ErrorDetails
) -> Problem:
    """``file: feature: property: key: key: message`` for the properties of one feature."""
    if not loc:
        return Problem(file, feature, "-", message)
    inner = loc[1:]
    if (detail["type"] == "extra_forbidden" or "[key]" in detail["loc"]) and inner:
        inner = inner[:-1]  # the unknown or wrong key is named in the message
    elif inner and isinstance(inner[-1], int):
        inner = inner[:-1]  # an item of a list of values: the message quotes the value
    prefix = "".join(f"#{p}: " if isinstance(p, int) else f"{p}: " for p in inner)
    return Problem(file, feature, str(loc[0]), prefix + message)


def _where(loc: tuple[Any, ...], model: type[BaseModel]) -> tuple[str, str]:
    """Split an error location into (feature, field): the last table of a list is the feature.

    An index into a list of values (``thresholds_minutes = [30, -1]``) is dropped: the
    field is the list and the message quotes the value.
    """
    tables = [i for i, p in enumerate(loc) if isinstance(p, int) and _is_table(model, loc[: i + 1])]
    loc = tuple(
        p
        for i, p in enumerate(loc)
        if not _is_pattern_alias(p) and not (isinstance(p, int) and i not in tables)
    )
    last = max((i for i, p in enumerate(loc) if isinstance(p, int)), default=None)
    if last is None:
        return "-", ".".join(map(str, loc)) or "-"
    table = ".".join(map(str, loc[:last])) or "item"
    field = ".".join(map(str, loc[last + 1 :])) or "-"
    return f"{table} #{loc[last]}", field


def _is_table(model: type[BaseModel], path: tuple[Any, ...]) -> bool:
    """Tell whether ``path`` (ending in a list index) points at a table (a model)."""
    current: Any = model
    for part in path:
        if isinstance(part, int):
            current = _unwrap(current)
            continue
        fields = _model_fields(current)
        current = fields[part] if part in fields else _value_type(current)
    found = _unwrap(current)
    return isinstance(found, type) and issubclass(found, BaseModel)


def _is_union_tag(part: Any) -> bool:
    """Pydantic adds the member type's name to the location of a union's errors."""
    return isinstance(part, str) and (
        ("[" in part and not _is_pattern_alias(part))
        or part in {"float", "int", "str", "bool"}
        or part.startswith("function-")
    )


def _message(detail: ErrorDetails, model: type[BaseModel]) -> str:
    kind = detail["type"]
    if kind == "extra_forbidden":
        key = str(detail["loc"][-1])
        homes = [h for h in homes_of(model, key) if h != _table_of(detail["loc"][:-1])]
        return unknown_key_message(key, allowed_keys(model, tuple(detail["loc"][:-1])), homes)
    if kind in _TYPE_WORDS:
        return _TYPE_WORDS[kind]
    message = str(detail["msg"])
    return message.removeprefix("Value error, ")


def describe(detail: ErrorDetails, model: type[BaseModel]) -> str:
    """Say one pydantic error of ``model`` in the package's words (the ``problem`` part)."""
    return _message(detail, model)


def unknown_key_message(key: str, allowed: Sequence[str], homes: Sequence[str] = ()) -> str:
    """``unknown key `x`; did you mean `y`?`` (or the known keys when none is close).

    ``homes`` are the tables where ``key`` is known (``-`` for the top level): a key put in
    the wrong table is told where it belongs.
    """
    if homes:
        where = " or ".join("the top level" if h == "-" else f"[{h}]" for h in homes)
        return f"unknown key `{key}` here; it belongs in {where}"
    near = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if near:
        return f"unknown key `{key}`; did you mean `{near[0]}`?"
    known = ", ".join(sorted(allowed)) or "none"
    return f"unknown key `{key}` (known: {known})"


def _table_of(loc: Sequence[Any]) -> str:
    """Dotted name of the table at an error location (``-`` for the top level)."""
    parts = [str(p) for p in loc if not isinstance(p, int) and not _is_union_tag(p)]
    return ".".join(parts) or "-"


def homes_of(model: type[BaseModel], key: str) -> list[str]:
    """Return the tables of ``model`` (dotted, ``-`` for the top) that have a field ``key``."""
    found: list[str] = []
    todo: list[tuple[str, Any]] = [("-", model)]
    seen: set[Any] = set()
    while todo:
        where, current = todo.pop(0)
        if current in seen:
            continue
        seen.add(current)
        fields = _model_fields(current)
        if key in fields:
            found.append(where)
        for name, annotation in fields.items():
            inner = _unwrap(annotation)
            if (
                isinstance(inner, type)
                and issubclass(inner, BaseModel)
                and not _is_pattern_alias(name)
            ):
                todo.append((name if where == "-" else f"{where}.{name}", inner))
    return found


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


def _keys_of(model: Any) -> list[str]:
    fields = getattr(model, "model_fields", None)
    if not fields:
        return []
    keys = [info.alias or name for name, info in fields.items()]
    return [key for key in keys if not _is_pattern_alias(key)]


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
