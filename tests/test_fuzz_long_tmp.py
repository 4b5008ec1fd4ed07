"""Random edits of the tiny corridor's files: load_corridor succeeds or raises DataError.

Hypothesis picks a file of ``tests/data/tiny_corridor`` (``corridor.toml``, a scenario, a
GeoJSON layer), a place in its parsed data, and an edit: a wrong type, a huge or
non-finite number, control characters, an unknown key, deep nesting, a long text. The
edited file is written back in its real format (TOML or JSON) and the bundle loaded.
Any exception but DataError, or a load slower than the bound, is a bug.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridor_planner.bundle.corridor import load_corridor
from corridor_planner.errors import DataError

TINY = Path(__file__).parent / "data" / "tiny_corridor"
FILES = sorted(
    str(p.relative_to(TINY)) for p in TINY.rglob("*") if p.suffix in {".toml", ".geojson"}
)
#: Longest a load of the edited tiny bundle may take (it takes about 0.05 s).
BOUND_SECONDS = 5.0

WEIRD_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "\x1b[31mred\x1b[0m",
        "\u202eevil",
        "a\nb",
        "../../etc/passwd",
        "/abs",
        "=HYPERLINK(1)",
        "x" * 100_000,
        "Feb 30-Mar 01",
        "24/7; PH off",
        "EPSG:4326",
        "KZ",
        "ZZ",
    ]
)
NUMBERS = st.sampled_from(
    [0, -1, 1, 10**400, -(10**400), 1e308, -1e308, 1e-300, math.nan, math.inf, -math.inf, 3e38]
)
SCALARS = st.one_of(
    NUMBERS,
    WEIRD_TEXT,
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)),
)


#: Stands for deep nesting in the data; replaced in the written text (json and the TOML
#: writer here are recursive, so the nesting itself is only ever text).
NESTED = "@@nested@@"


def nested(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=4),
    st.dictionaries(st.text(max_size=8), SCALARS, max_size=3),
    # ("nested", depth): lists inside one another, built in the test (so hypothesis
    # never prints 3000 levels)
    st.tuples(st.just("nested"), st.sampled_from([50, 900, 3000])),
    st.just(None),
)


def paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in parsed data that an edit may touch."""
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += paths(value, (*prefix, index))
    return found


def edit(data: Any, path: tuple[Any, ...], kind: str, value: Any) -> Any:
    """Replace, delete or add a key at ``path``; return the edited data."""
    if not path:
        return value if kind == "replace" else data
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if kind == "delete":
        del parent[last]
    elif kind == "add_key" and isinstance(parent, dict):
        parent[f"unknown_{len(parent)}"] = value
    else:
        parent[last] = value
    return data


def toml_value(value: Any) -> str:
    """``value`` as an inline TOML value (None, which TOML lacks, as an empty table)."""
    if value is None:
        return "{}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return (
            "nan"
            if math.isnan(value)
            else ("inf" if value > 0 else "-inf")
            if math.isinf(value)
            else repr(value)
        )
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in value.items())
        return "{" + items + "}"
    raise TypeError(type(value))


def write(path: Path, data: Any, depth: int) -> None:
    if path.suffix == ".toml":
        if isinstance(data, dict):
            text = "".join(f"{json.dumps(str(k))} = {toml_value(v)}\n" for k, v in data.items())
        else:
            text = toml_value(data)
    else:
        text = json.dumps(data, default=str)
    text = text.replace(json.dumps(NESTED), nested(depth))
    path.write_text(text, encoding="utf-8", errors="surrogatepass")


def parsed(file: str) -> Any:
    text = (TINY / file).read_text(encoding="utf-8")
    return tomllib.loads(text) if file.endswith(".toml") else json.loads(text)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """One copy of the tiny corridor; each example edits one file and restores it."""
    target = tmp_path_factory.mktemp("fuzz") / "tiny"
    shutil.copytree(TINY, target)
    return target


@settings(
    max_examples=4000,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    file=st.sampled_from(FILES),
    pick=st.integers(min_value=0),
    kind=st.sampled_from(["replace", "replace", "delete", "add_key"]),
    value=VALUES,
)
def test_a_random_edit_is_loaded_or_refused(bundle, file, pick, kind, value):
    depth = value[1] if isinstance(value, tuple) else 0
    value = NESTED if depth else value
    data = parsed(file)
    places = paths(data)
    place = places[pick % len(places)]
    if kind == "delete" and not place:
        kind = "replace"
    write(bundle / file, edit(data, place, kind, value), depth)
    start = time.monotonic()
    try:
        load_corridor(bundle)
    except DataError as error:
        assert error.problems  # every refusal says what is wrong
        for problem in error.problems:
            assert "\n" not in f"{problem.file}{problem.feature}{problem.field}"
    finally:
        shutil.copyfile(TINY / file, bundle / file)
    assert time.monotonic() - start < BOUND_SECONDS
