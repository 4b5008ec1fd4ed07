"""Which OSM ways a car may use: osmnx's "drive" filter, read as Overpass reads it.

One rule for the importer (ways of an OSM extract) and the loader (a bundle's
``roads.osm``): :data:`corridor_planner.settings.DRIVE_FILTER`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from corridor_planner import settings

#: One term of an Overpass tag filter: ``["key"]``, ``["key"="v"]``, ``["key"!~"regex"]``...
_FILTER_TERM = re.compile(r'\["([^"]+)"(?:(!?[=~])"([^"]*)")?\]')


def filter_terms(query: str) -> list[tuple[str, str | None, str]]:
    """Split an Overpass tag filter into ``(key, operator, value)`` terms.

    The operator is None for ``["key"]`` (the key must be present), else one of ``=``,
    ``!=``, ``~``, ``!~``.

    Raises
    ------
    ValueError
        If the text is not a sequence of such terms.
    """
    terms = [(m.group(1), m.group(2), m.group(3) or "") for m in _FILTER_TERM.finditer(query)]
    if "".join(m.group(0) for m in _FILTER_TERM.finditer(query)) != query:
        raise ValueError(f"not an Overpass tag filter: {query!r}")
    return terms


def _term_holds(tags: Mapping[str, Any], key: str, operator: str | None, value: str) -> bool:
    """Whether one filter term holds for a way's tags, with Overpass's meaning."""
    tag = tags.get(key)
    present = isinstance(tag, str)
    if operator is None:
        return present
    if operator == "=":
        return present and tag == value
    if operator == "!=":
        return not present or tag != value
    found = present and re.search(value, str(tag)) is not None
    return found if operator == "~" else not found


def matches_filter(tags: Mapping[str, Any], query: str) -> bool:
    """Tell whether a way's tags pass an Overpass tag filter (every term must hold).

    A negated term (``!=``, ``!~``) also holds when the way lacks the key, and a regular
    expression may match anywhere in the value, as Overpass reads them.
    """
    return all(_term_holds(tags, *term) for term in filter_terms(query))


def drivable(tags: Mapping[str, Any]) -> bool:
    """Tell whether a way belongs to the drivable network (osmnx's "drive" filter).

    The one rule of the package, :data:`corridor_planner.settings.DRIVE_FILTER`, applied
    to OSM extracts on import and to a bundle's ``roads.osm`` on loading.
    """
    return all(_term_holds(tags, *term) for term in _DRIVE_TERMS)


_DRIVE_TERMS = filter_terms(settings.DRIVE_FILTER)
