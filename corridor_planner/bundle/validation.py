"""Field-by-field checks of bundle features; each problem is recorded, none stops the run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from corridor_planner.bundle.posts import (
    direction_key,
    is_closed_crossing,
    opening_hours_error,
    timezone_error,
)
from corridor_planner.errors import Problem
from corridor_planner.settings import (
    COVER_GROUPS,
    LEVELS,
    OPERATORS,
    PAYERS,
    PROFILES,
    RANGES,
    SERVICES,
)

#: Longest id or name a feature may have (a name is a map label and a search entry).
NAME_MAX_CHARS = 200


class FeatureChecker:
    """Checks the properties of one feature against the bundle's shared field names.

    Parameters
    ----------
    file : str
        File name used in problem messages.
    countries : tuple of str
        The corridor's countries; every feature's country must be one of them.
    problems : list of Problem
        Problems are appended here.

    """

    def __init__(self, file: str, countries: tuple[str, ...], problems: list[Problem]) -> None:
        self.file = file
        self.countries = countries
        self.problems = problems

    def _add(self, feature: str, field: str, message: str) -> None:
        self.problems.append(Problem(self.file, feature, field, message))

    # one method per file ---------------------------------------------------------------

    def facility(self, fid: str, props: dict[str, Any]) -> None:
        """Check a ``facilities.geojson`` feature."""
        self._common(fid, props)
        self._choice(fid, props, "level", LEVELS)
        services = self._services(fid, props, "services", required=True)
        self._number(fid, props, "beds", "beds", nullable=True)
        self._capacity(fid, props, services)
        self._accepts(fid, props)
        self._number(fid, props, "location_precision_m", "location_precision_m")
        self._operator(fid, props)
        self._payers(fid, props)

    def border_post(self, fid: str, props: dict[str, Any]) -> None:
        """Check a ``border_posts.geojson`` feature."""
        self._text(fid, props, "id")
        self._text(fid, props, "name")
        self._text(fid, props, "source")
        countries = self._post_countries(fid, props)
        self._hours(fid, props, "opening_hours", nullable=False)
        self._hours(fid, props, "season", nullable=True)
        self._timezone(fid, props)
        closed = is_closed_crossing(props.get("opening_hours"))
        allowed = self._profiles(fid, props, may_be_empty=closed)
        if countries is not None:
            self._delays(fid, props, countries, allowed)
            self._clearance(fid, props, countries)

    def settlement(self, fid: str, props: dict[str, Any]) -> None:
        """Check a population point."""
        self._common(fid, props)
        self._number(fid, props, "population", "population")
        if props.get("population_year") is not None:
            self._number(fid, props, "population_year", "population_year")
        if not isinstance(props.get("border_community"), bool):
            self._add(fid, "border_community", "must be true or false")
        if props.get("migrant_share") is not None:
            self._number(fid, props, "migrant_share", "migrant_share")

    def candidate(self, fid: str, props: dict[str, Any]) -> None:
        """Check a ``candidates.geojson`` feature."""
        self._common(fid, props)
        services = self._services(fid, props, "services", required=True)
        if props.get("capacity") is not None:
            self._capacity(fid, props, services)
        if props.get("cost") is not None:
            self._number(fid, props, "cost", "cost")
        self._text(fid, props, "reason")

    # shared pieces ---------------------------------------------------------------------

    def _common(self, fid: str, props: dict[str, Any]) -> None:
        for name in ("id", "name", "source"):
            self._text(fid, props, name)
        self._country(fid, props, "country")

    def _missing(self, fid: str, props: dict[str, Any], field: str) -> bool:
        if field not in props:
            self._add(fid, field, "missing")
            return True
        return False

    def _text(self, fid: str, props: dict[str, Any], field: str) -> None:
        if self._missing(fid, props, field):
            return
        value = props[field]
        if not isinstance(value, str) or not value.strip():
            self._add(fid, field, f"must be a non-empty string, got {value!r}")
        elif field in ("id", "name") and len(value) > NAME_MAX_CHARS:
            self._add(fid, field, f"longer than {NAME_MAX_CHARS} characters ({len(value)})")

    def _country(self, fid: str, props: dict[str, Any], field: str) -> None:
        if self._missing(fid, props, field):
            return
        value = props[field]
        if value not in self.countries:
            self._add(
                fid, field, f"{value!r} is not one of the corridor's countries {self.countries}"
            )

    def _choice(
        self, fid: str, props: dict[str, Any], field: str, allowed: tuple[str, ...]
    ) -> None:
        if self._missing(fid, props, field):
            return
        if props[field] not in allowed:
            self._add(fid, field, f"{props[field]!r} is not one of {list(allowed)}")

    def _number(
        self, fid: str, props: dict[str, Any], field: str, kind: str, nullable: bool = False
    ) -> None:
        """Check a number against its plausible range in ``settings.RANGES``."""
        if self._missing(fid, props, field):
            return
        value = props[field]
        if value is None and nullable:
            return
        complaint = RANGES[kind].problem(value)
        if complaint:
            self._add(fid, field, complaint + (" or null" if nullable else ""))

    def _services(self, fid: str, props: dict[str, Any], field: str, required: bool) -> list[str]:
        if self._missing(fid, props, field):
            return []
        value = props[field]
        if not isinstance(value, list) or (required and not value):
            self._add(fid, field, "must be a non-empty list of services")
            return []
        unknown = [s for s in value if s not in SERVICES]
        for service in unknown:
            self._add(fid, field, f"unknown service {service!r}")
        return [s for s in value if s in SERVICES]

    def _capacity(self, fid: str, props: dict[str, Any], services: list[str]) -> None:
        if self._missing(fid, props, "capacity"):
            return
        capacity = props["capacity"]
        if not isinstance(capacity, dict):
            self._add(fid, "capacity", "must be an object {service: patients per year}")
            return
        for service, value in capacity.items():
            if service not in services:
                self._add(fid, "capacity", f"capacity for {service!r}, which is not in services")
            complaint = RANGES["capacity"].problem(value)
            if complaint:
                self._add(fid, "capacity", f"{service}: {complaint}")

    def _accepts(self, fid: str, props: dict[str, Any]) -> None:
        if self._missing(fid, props, "accepts"):
            return
        accepts = props["accepts"]
        if not isinstance(accepts, dict):
            self._add(fid, "accepts", "must be an object {cover group: [services] or 'all'}")
            return
        for group, services in accepts.items():
            if group not in COVER_GROUPS:
                self._add(
                    fid, "accepts", f"unknown cover group {group!r}; known: {sorted(COVER_GROUPS)}"
                )
            if services == "all":
                continue
            if not isinstance(services, list):
                self._add(fid, "accepts", f"{group}: must be a list of services or 'all'")
                continue
            for service in services:
                if service not in SERVICES:
                    self._add(fid, "accepts", f"{group}: unknown service {service!r}")

    def _payers(self, fid: str, props: dict[str, Any]) -> None:
        value = props.get("payers")
        if value is None:
            return
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self._add(fid, "payers", f"must be a list of {sorted(PAYERS)}")
            return
        unknown = sorted(set(value) - PAYERS)
        if unknown:
            self._add(fid, "payers", f"{unknown} not in {sorted(PAYERS)}")

    def _operator(self, fid: str, props: dict[str, Any]) -> None:
        value = props.get("operator")
        if value is not None and value not in OPERATORS:
            self._add(fid, "operator", f"{value!r} is not one of {sorted(OPERATORS)}")

    def _timezone(self, fid: str, props: dict[str, Any]) -> None:
        value = props.get("timezone")
        if value is not None and timezone_error(value):
            self._add(fid, "timezone", timezone_error(value) or "")

    def _post_countries(self, fid: str, props: dict[str, Any]) -> tuple[str, str] | None:
        if self._missing(fid, props, "countries"):
            return None
        value = props["countries"]
        if not (isinstance(value, list) and len(value) == 2 and value[0] != value[1]):
            self._add(fid, "countries", f"must be two different country codes, got {value!r}")
            return None
        bad = [c for c in value if c not in self.countries]
        if bad:
            self._add(
                fid, "countries", f"{bad} not among the corridor's countries {self.countries}"
            )
            return None
        return (value[0], value[1])

    def _hours(self, fid: str, props: dict[str, Any], field: str, nullable: bool) -> None:
        if nullable and props.get(field) is None:
            return
        if self._missing(fid, props, field):
            return
        complaint = opening_hours_error(props[field])
        if complaint:
            self._add(fid, field, complaint)

    def _profiles(self, fid: str, props: dict[str, Any], may_be_empty: bool) -> set[str]:
        if self._missing(fid, props, "profiles_allowed"):
            return set()
        value = props["profiles_allowed"]
        if not isinstance(value, list) or (not value and not may_be_empty):
            self._add(
                fid,
                "profiles_allowed",
                "must be a non-empty list of profiles (an empty list only for a closed "
                "crossing, opening_hours 'off')",
            )
            return set()
        for profile in value:
            if profile not in PROFILES:
                self._add(
                    fid,
                    "profiles_allowed",
                    f"unknown profile {profile!r}; known: {sorted(PROFILES)}",
                )
        return {p for p in value if p in PROFILES}

    def _clearance(self, fid: str, props: dict[str, Any], countries: tuple[str, str]) -> None:
        """``clearance``: absent, or one point per country of the post."""
        points = props.get("clearance")
        if points is None:
            return
        shape = "must be a list of two {country, name, minutes_to_border[, timezone]}"
        if not isinstance(points, list) or len(points) != 2:
            self._add(fid, "clearance", shape)
            return
        seen = []
        for point in points:
            if (
                not isinstance(point, dict)
                or not isinstance(point.get("name"), str)
                or not point["name"].strip()
            ):
                self._add(fid, "clearance", shape)
                return
            extra = sorted(set(point) - {"country", "name", "minutes_to_border", "timezone"})
            if extra:
                self._add(fid, "clearance", f"{point['name']}: unknown keys {extra}")
            seen.append(point.get("country"))
            problem = RANGES["minutes_to_border"].problem(point.get("minutes_to_border"))
            if problem:
                self._add(fid, "clearance", f"{point['name']}: minutes_to_border {problem}")
            zone = point.get("timezone")
            if zone is not None and timezone_error(zone):
                self._add(fid, "clearance", f"{point['name']}: {timezone_error(zone)}")
        if sorted(str(c) for c in seen) != sorted(countries):
            self._add(fid, "clearance", f"needs one point for each of {', '.join(countries)}")

    def _delays(
        self, fid: str, props: dict[str, Any], countries: tuple[str, str], allowed: set[str]
    ) -> None:
        if self._missing(fid, props, "delay_minutes"):
            return
        delays = props["delay_minutes"]
        if not isinstance(delays, dict):
            self._add(fid, "delay_minutes", "must be an object {'A->B': {profile: minutes}}")
            return
        a, b = countries
        expected = {direction_key(a, b), direction_key(b, a)}
        for direction in sorted(expected - set(delays) if allowed else ()):
            self._add(fid, "delay_minutes", f"direction {direction} missing")
        for direction, by_profile in delays.items():
            if direction not in expected:
                self._add(
                    fid,
                    "delay_minutes",
                    f"direction {direction!r} is not one of {sorted(expected)}",
                )
                continue
            if not isinstance(by_profile, dict):
                self._add(
                    fid, "delay_minutes", f"{direction}: must be an object {{profile: minutes}}"
                )
                continue
            for profile, minutes in by_profile.items():
                if profile not in PROFILES:
                    self._add(fid, "delay_minutes", f"{direction}: unknown profile {profile!r}")
                elif RANGES["delay_minutes"].problem(minutes):
                    complaint = RANGES["delay_minutes"].problem(minutes)
                    self._add(fid, "delay_minutes", f"{direction}: {profile}: {complaint}")
            for profile in sorted(allowed - set(by_profile)):
                self._add(
                    fid, "delay_minutes", f"{direction}: no delay for allowed profile {profile!r}"
                )


CheckFn = Callable[[FeatureChecker, str, dict[str, Any]], None]
