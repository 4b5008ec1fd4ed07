"""``origins.toml``: countries of origin beyond the corridor, their places, TB sites and ways.

Tables: ``[[country]]``, ``[[place]]``, ``[[tb_site]]``, ``[[road]]`` and ``[[post]]``
(see :mod:`corridor_planner.bundle.origins`). Each table is checked here on its own: keys,
types, ranges, vocabularies, a population with its year, a road no faster than the fastest
speed. What joins the tables (a road's places, one set of ids, straight-line distances)
and the corridor's own settlements are checked by the bundle reader on the checked file.
The validation context ``corridor_countries`` names the corridor's countries.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from corridor_planner import settings, units
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
from corridor_planner.schema.tables import array_of_tables, by_id, check_tables

ORIGINS_FILE = "origins.toml"
TB_SERVICES = frozenset({"tb", "tb_mdr"})
#: Whether a crossing beyond the corridor is open as of the bundle's date.
POST_STATUS = ("open", "closed")
TABLES = ("country", "place", "tb_site", "road", "post")

if TYPE_CHECKING:  # what the checked values are; the constraints are pydantic's
    Latitude = float
    Longitude = float
    People = int
    PeopleYear = int
    Km = float
    CrossingKm = float
    LegMinutes = float
    DelayMinutes = float
    TbServices = list[str]
    Profiles = list[str]
    Status = str
else:
    Latitude = in_range("latitude")
    Longitude = in_range("longitude")
    People = in_range("population")
    PeopleYear = in_range("population_year")
    Km = in_range("distance_km")
    CrossingKm = in_range("crossing_km")
    LegMinutes = in_range("leg_minutes")
    DelayMinutes = in_range("delay_minutes")
    TbServices = non_empty(one_of(TB_SERVICES, "TB service"))
    Profiles = non_empty(one_of(settings.PROFILES, "traveller profile"))
    Status = one_of(POST_STATUS, "status")


def _country_code(value: str) -> str:
    if not re.fullmatch(r"[A-Z]{2}", value):
        raise PydanticCustomError("country", "must be an ISO 3166 alpha-2 code (TJ)")
    return value


class Country(FileModel):
    """``[[country]]``: a country of origin beyond the corridor."""

    code: str
    name: Name
    source: Text

    @field_validator("code")
    @classmethod
    def _beyond(cls, value: str, info: ValidationInfo) -> str:
        _country_code(value)
        if value in (info.context or {}).get("corridor_countries", ()):
            raise PydanticCustomError(
                "corridor_country", "is a corridor country, not one beyond the corridor"
            )
        return value


class Place(FileModel):
    """``[[place]]``: a home or transit place (any country), with its population if sourced."""

    id: Identifier
    name: Name
    country: str
    lat: Latitude
    lon: Longitude
    population: People | None = None
    year: PeopleYear | None = Field(default=None, validate_default=True)
    source: Text

    _country = field_validator("country")(_country_code)

    @field_validator("year")
    @classmethod
    def _with_population(cls, value: int | None, info: ValidationInfo) -> int | None:
        if "population" in info.data and (info.data["population"] is None) != (value is None):
            raise PydanticCustomError(
                "population_year", "a population needs its year, and a year its population"
            )
        return value


class TbSite(FileModel):
    """``[[tb_site]]``: a TB or MDR-TB treatment site at a place."""

    id: Identifier
    name: Name
    place: Identifier
    services: TbServices
    notes: Text | None = None
    source: Text
    confidence: Text


class _Leg(FileModel):
    """Keys of a road and a post: its two ends (place or corridor settlement ids)."""

    model_config = ConfigDict(populate_by_name=False)

    start: Identifier = Field(alias="from")
    end: Identifier = Field(alias="to")
    name: Name
    source: Text
    confidence: Text


class Road(_Leg):
    """``[[road]]``: a road leg between two places of one country (or from an exit)."""

    km: Km
    minutes: LegMinutes

    @field_validator("minutes")
    @classmethod
    def _not_too_fast(cls, value: float, info: ValidationInfo) -> float:
        km, top = info.data.get("km"), settings.RANGES["speed_kph"].high
        if km is not None and math.isfinite(value) and units.speed_kph(km, value) > top:
            raise PydanticCustomError(
                "too_fast",
                "{what}",
                {"what": f"{km:g} km in {value:g} min is faster than {top:g} km/h"},
            )
        return value


class Post(_Leg):
    """``[[post]]``: a border crossing between places of two countries."""

    id: Identifier
    status: Status
    profiles_allowed: Profiles
    minutes: DelayMinutes
    km: CrossingKm = 0.0


if not TYPE_CHECKING:
    Countries = array_of_tables(Country, "country")
    Places = array_of_tables(Place, "place")
    TbSites = array_of_tables(TbSite, "tb_site")
    Roads = array_of_tables(Road, "road")
    Posts = array_of_tables(Post, "post")
else:
    Countries = list[Country]
    Places = list[Place]
    TbSites = list[TbSite]
    Roads = list[Road]
    Posts = list[Post]


class OriginsFile(FileModel):
    """A bundle's ``origins.toml``."""

    country: Countries = Field(default_factory=list)
    place: Places = Field(default_factory=list)
    tb_site: TbSites = Field(default_factory=list)
    road: Roads = Field(default_factory=list)
    post: Posts = Field(default_factory=list)


def check_origins(
    data: Any, corridor_countries: Sequence[str]
) -> tuple[OriginsFile | None, list[Problem]]:
    """Check each table of a parsed ``origins.toml``; items named by id (``place tj_x``).

    Returns
    -------
    (OriginsFile or None, list of Problem)
        The file when nothing is wrong, else None and every problem found.
    """
    return check_tables(
        OriginsFile,
        data,
        ORIGINS_FILE,
        tables=TABLES,
        label=by_id(data),
        context={"corridor_countries": tuple(corridor_countries)},
    )
