"""The feature properties of every GeoJSON layer of a corridor bundle.

One model per layer: ``facilities.geojson``, ``border_posts.geojson``,
``population.geojson``, ``candidates.geojson`` and ``border.geojson``. Each model checks
one feature's properties on their own; rules that tie a feature to the rest of the bundle
(a country of the corridor, a delay for each direction of a post's two countries) are in
:mod:`corridor_planner.bundle.validation`.

Keys beyond a model's fields are refused, except two families that legitimately vary:
translations of the name (``name_ru``, ``name:ur``) and OpenStreetMap identifiers and tags
kept from an import (``osm_id``, ``osm:amenity``).
"""

from __future__ import annotations

import zoneinfo
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

import opening_hours
from pydantic import BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from corridor_planner import settings
from corridor_planner.schema.base import (
    CountryCode,
    FileModel,
    Identifier,
    Name,
    Text,
    in_range,
    list_of,
    one_of,
    pattern_field,
)
from corridor_planner.schema.hours import hours_problem, season_problem

#: Translations of a feature's name: ``name_ru``, ``name:ur``, ``name_zh-Hans``.
NAME_TRANSLATION = r"^name[_:][a-z]{2,3}(-[A-Za-z]{2,4})?$"
#: OpenStreetMap identifiers and tags kept from an import: ``osm_id``, ``osm:amenity``.
OSM_KEY = r"^osm[_:][A-Za-z0-9_:]{1,60}$"

if TYPE_CHECKING:  # the checks below are values to pydantic, plain types to mypy
    Service: TypeAlias = str
    Profile: TypeAlias = str
    CoverGroup: TypeAlias = str
    Level: TypeAlias = str
    Operator: TypeAlias = str
    Payer: TypeAlias = str
    Services: TypeAlias = list[str]
    Profiles: TypeAlias = list[str]
    Payers: TypeAlias = list[str]
    Amount: TypeAlias = float
    Beds: TypeAlias = float
    Precision: TypeAlias = float
    Delay: TypeAlias = float
    Minutes: TypeAlias = float
    People: TypeAlias = float
    Year: TypeAlias = float
    Share: TypeAlias = float
    Cost: TypeAlias = float
else:
    Service = one_of(settings.SERVICES, "service")
    Profile = one_of(settings.PROFILES, "profile")
    CoverGroup = one_of(settings.COVER_GROUPS, "cover group")
    Level = one_of(settings.LEVELS, "level")
    Operator = one_of(settings.OPERATORS, "operator")
    Payer = one_of(settings.PAYERS, "payer")
    Services = list_of(Service, "services", min_length=1)
    Profiles = list_of(Profile, "profiles")
    Payers = list_of(Payer, "payers")
    Amount = in_range("capacity")
    Beds = in_range("beds")
    Precision = in_range("location_precision_m")
    Delay = in_range("delay_minutes")
    Minutes = in_range("minutes_to_border")
    People = in_range("population")
    Year = in_range("population_year")
    Share = in_range("migrant_share")
    Cost = in_range("cost")

#: ``{service: patients a year}``.
ServiceAmounts = dict[Service, Amount]
#: ``{service: people}`` a candidate site could serve.
ServicePeople = dict[Service, People]


def opening_hours_error(expression: object) -> str | None:
    """Return why an OSM ``opening_hours`` expression is invalid, or None if it parses.

    Parameters
    ----------
    expression : str
        An expression such as ``24/7`` or ``Mo-Fr 09:00-18:00; Sa 10:00-14:00``.

    Returns
    -------
    str or None
        The parser's complaint on one line, or None.

    """
    if not isinstance(expression, str) or not expression.strip():
        return "must be a non-empty opening_hours string such as '24/7'"
    try:
        opening_hours.OpeningHours(expression)
    except opening_hours.ParserError as exc:  # type: ignore[attr-defined]
        first = str(exc).strip().splitlines()[0]
        return f"invalid opening_hours {expression!r} ({first})"
    return hours_problem(expression)


def timezone_error(name: object) -> str | None:
    """Return why ``name`` is not an IANA time zone (``Asia/Almaty``), or None."""
    if not isinstance(name, str) or not name.strip():
        return f"must be an IANA time zone such as 'Asia/Almaty', got {name!r}"
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {name!r} (IANA names such as 'Asia/Almaty')"
    return None


def _refuse_if(problem: str | None, kind: str) -> None:
    if problem:
        raise PydanticCustomError(kind, "{problem}", {"problem": problem})


def _hours(value: Any) -> Any:
    _refuse_if(opening_hours_error(value), "opening_hours")
    return value


def _season(value: Any) -> Any:
    _refuse_if(opening_hours_error(value) or season_problem(value), "season")
    return value


def _zone(value: Any) -> Any:
    _refuse_if(timezone_error(value), "timezone")
    return value


def _two_countries(value: Any) -> Any:
    if not (isinstance(value, list) and len(value) == 2 and value[0] != value[1]):
        raise PydanticCustomError(
            "countries", "must be two different country codes, got {value}", {"value": repr(value)}
        )
    return value


def _accepted(value: Any) -> Any:
    if value == "all":
        return value
    if not isinstance(value, list):
        raise PydanticCustomError("accepts", "must be a list of services or 'all'")
    for service in value:
        if not isinstance(service, str) or service not in settings.SERVICES:
            raise PydanticCustomError("choice", "unknown service {value}", {"value": repr(service)})
    return value


#: An OSM ``opening_hours`` expression (``24/7``, ``Apr 01-Nov 30``, ``off``).
OpeningHours = Annotated[str, BeforeValidator(_hours)]
#: The dates a post operates at all (``Apr 01-Nov 30``): dates only, no times of day.
Season = Annotated[str, BeforeValidator(_season)]
#: An IANA time zone (``Asia/Almaty``).
TimeZone = Annotated[str, BeforeValidator(_zone)]
#: ``[A, B]``: the two countries a border post joins.
TwoCountries = Annotated[list[CountryCode], BeforeValidator(_two_countries)]
#: What a facility accepts from one cover group: ``"all"`` or a list of services.
Accepted = Annotated[
    Any,
    BeforeValidator(_accepted),
    WithJsonSchema(
        {
            "anyOf": [
                {"const": "all"},
                {"type": "array", "items": {"enum": sorted(settings.SERVICES)}},
            ]
        }
    ),
]


class _Feature(FileModel):
    """What every named feature has: an id, a name, a source; translations and OSM keys."""

    id: Identifier
    name: Name
    source: Text
    names: dict[str, Name] = pattern_field(NAME_TRANSLATION)
    osm: dict[str, Text | int | float | bool] = pattern_field(OSM_KEY)


class _Placed(_Feature):
    country: CountryCode


class FacilityProperties(_Placed):
    """A feature of ``facilities.geojson``: a hospital or clinic and what it offers."""

    level: Level
    services: Services
    beds: Beds | None
    capacity: ServiceAmounts
    accepts: dict[CoverGroup, Accepted]
    location_precision_m: Precision
    notes: Text | None = None
    operator: Operator | None = None
    payers: Payers | None = None
    #: Written by ``import``: ``{service: rule}`` for services guessed from tags or the name
    #: (an estimate; the rules are in SOURCES.md).
    services_estimated: dict[Service, Name] | None = None
    #: ``{service: people}`` the facility can serve, for capacitated siting (people, not
    #: the patients a year of ``capacity``); a planning figure, absent where unknown.
    service_capacity: ServicePeople | None = None


class ClearancePointProperties(FileModel):
    """Where one country clears travellers, away from the border line."""

    country: CountryCode
    name: Name
    minutes_to_border: Minutes
    timezone: TimeZone | None = None


if TYPE_CHECKING:
    Clearance: TypeAlias = list[ClearancePointProperties]
else:
    Clearance = list_of(ClearancePointProperties, "clearance points")


class BorderPostProperties(_Feature):
    """A feature of ``border_posts.geojson``: who may cross, when, and how long it takes."""

    countries: TwoCountries
    opening_hours: OpeningHours
    season: Season | None = None
    timezone: TimeZone | None = None
    #: ``{"KZ->KG": {profile: minutes}}``; the directions are checked against ``countries``.
    delay_minutes: dict[Name, dict[Profile, Delay]]
    profiles_allowed: Profiles
    clearance: Clearance | None = None
    location_precision_m: Precision | None = None
    opening_hours_confidence: Text | None = None
    delay_confidence: Text | dict[Name, Text] | None = None
    #: Written by ``import``: a crossing with no post, closed until one is added.
    unposted: bool = False
    #: Written by ``import``: ``[lon, lat]`` of the post before it was moved to the crossing.
    snapped_from: Annotated[list[float], Field(min_length=2, max_length=2)] | None = None


class SettlementProperties(_Placed):
    """A feature of ``population.geojson``: people living at one point."""

    population: People
    population_year: Year | None = None
    census_unit: Text | None = None
    #: The district the settlement lies in, ``<country>:<name>`` (``tools/make_districts.py``).
    district: Text | None = None
    border_community: bool
    migrant_share: Share | None = None


class CandidateProperties(_Placed):
    """A feature of ``candidates.geojson``: a proposed site and why."""

    services: Services
    #: ``{service: patients a year}``, as a facility's (not used by siting).
    capacity: ServiceAmounts | None = None
    #: ``{service: people}`` the site could serve: the capacitated siting models' limit.
    service_capacity: ServicePeople | None = None
    cost: Cost | None = None
    reason: Text


class BorderLineProperties(FileModel):
    """A feature of ``border.geojson``: a stretch of the international border (all optional)."""

    id: Identifier | None = None
    name: Name | None = None
    countries: list[CountryCode] | None = None
    precision: Text | None = None
    source: Text | None = None
    names: dict[str, Name] = pattern_field(NAME_TRANSLATION)
