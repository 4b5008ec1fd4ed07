"""Rules that tie one feature's properties together or to the rest of the bundle.

Each file's own shape (keys, types, ranges, vocabularies) is its model's business
(:mod:`corridor_planner.schema.layers`); what is left here needs more than one field or
more than one file: a feature's country among the corridor's, capacity only for services
offered, a delay for each direction of a post and each profile it lets through.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from corridor_planner.bundle.posts import direction_key, is_closed_crossing
from corridor_planner.errors import Problem
from corridor_planner.schema.layers import (
    BorderPostProperties,
    CandidateProperties,
    FacilityProperties,
)

#: A rule over one validated feature: (file, feature id, properties, corridor countries).
Rule = Callable[[str, str, Any, Sequence[str]], list[Problem]]


def country_problems(
    file: str, fid: str, props: dict[str, Any], countries: Sequence[str]
) -> list[Problem]:
    """Check a feature's ``country`` is one of the corridor's (on the raw value)."""
    value = props.get("country")
    if isinstance(value, str) and countries and value not in countries:
        message = f"{value!r} is not one of the corridor's countries {tuple(countries)}"
        return [Problem(file, fid, "country", message)]
    return []


def _capacity_offered(
    file: str,
    fid: str,
    capacity: dict[str, float] | None,
    services: list[str],
    key: str = "capacity",
) -> list[Problem]:
    return [
        Problem(file, fid, key, f"{key} for {service!r}, which is not in services")
        for service in capacity or {}
        if service not in services
    ]


def facility_problems(
    file: str, fid: str, facility: FacilityProperties, countries: Sequence[str]
) -> list[Problem]:
    """Capacity and service capacity only for services the facility offers."""
    return _capacity_offered(file, fid, facility.capacity, facility.services) + (
        _capacity_offered(
            file, fid, facility.service_capacity, facility.services, "service_capacity"
        )
    )


def candidate_problems(
    file: str, fid: str, candidate: CandidateProperties, countries: Sequence[str]
) -> list[Problem]:
    """Capacity and service capacity only for services the candidate would offer."""
    return _capacity_offered(file, fid, candidate.capacity, candidate.services) + (
        _capacity_offered(
            file, fid, candidate.service_capacity, candidate.services, "service_capacity"
        )
    )


def post_problems(
    file: str, fid: str, post: BorderPostProperties, countries: Sequence[str]
) -> list[Problem]:
    """Check a post: corridor countries, a delay per direction and profile, clearance per side."""
    bad = [c for c in post.countries if c not in countries]
    if bad:
        message = f"{bad} not among the corridor's countries {tuple(countries)}"
        return [Problem(file, fid, "countries", message)]
    problems = []
    if not post.profiles_allowed and not is_closed_crossing(post.opening_hours):
        problems.append(
            Problem(
                file,
                fid,
                "profiles_allowed",
                "must be a non-empty list of profiles (an empty list only for a closed "
                "crossing, opening_hours 'off')",
            )
        )
    problems += [Problem(file, fid, "delay_minutes", m) for m in _delay_messages(post)]
    problems += [Problem(file, fid, "clearance", m) for m in _clearance_messages(post)]
    return problems


def _delay_messages(post: BorderPostProperties) -> list[str]:
    a, b = post.countries
    expected = {direction_key(a, b), direction_key(b, a)}
    allowed: set[str] = set(post.profiles_allowed)
    delays = post.delay_minutes
    messages = [f"direction {d} missing" for d in sorted(expected - set(delays) if allowed else ())]
    for direction, by_profile in delays.items():
        if direction not in expected:
            messages.append(f"direction {direction!r} is not one of {sorted(expected)}")
            continue
        messages += [
            f"{direction}: no delay for allowed profile {profile!r}"
            for profile in sorted(allowed - set(by_profile))
        ]
    return messages


def _clearance_messages(post: BorderPostProperties) -> list[str]:
    """``clearance``: absent, or one point per country of the post."""
    if post.clearance is None:
        return []
    seen = sorted(point.country for point in post.clearance)
    if seen != sorted(post.countries):
        return [f"needs one point for each of {', '.join(post.countries)}"]
    return []
