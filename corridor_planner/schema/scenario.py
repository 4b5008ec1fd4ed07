"""The model of ``scenarios/<name>.toml``: border regimes, road changes, rates, delays.

Ids of posts, facilities and cover rules are checked against the rest of the bundle by
the loader (:mod:`corridor_planner.bundle.corridor`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

from pydantic import BeforeValidator, Field, field_validator, model_validator
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

#: ``description_<language>``: the description in another language.
DESCRIPTION_TRANSLATION = r"^description_[a-z]{2}$"
#: A key of ``[referral_rates]`` holding a country's own table (``[referral_rates.KZ]``).
COUNTRY_KEY = r"^[A-Z]{2}$"
#: A key of ``[referral_rates]`` naming a service (``tb = 34``).
SERVICE_KEY = r"^[a-z][a-z0-9_]*$"

if TYPE_CHECKING:
    Regime: TypeAlias = str
    Service: TypeAlias = str
    Profiles: TypeAlias = list[str]
    Rate: TypeAlias = float
    Amount: TypeAlias = float
    Factor: TypeAlias = float
    Multiplier: TypeAlias = float
    WayIds: TypeAlias = list[int | str]
    Ids: TypeAlias = list[str]
else:
    Regime = one_of(settings.REGIMES, "regime")
    Service = one_of(settings.SERVICES, "service")
    Profiles = list_of(one_of(settings.PROFILES, "profile"), "profiles")
    Rate = in_range("referral_rate")
    Amount = in_range("capacity")
    Factor = in_range("speed_factor")
    Multiplier = in_range("delay_multiplier")
    WayIds = list_of(int | Name, "way ids", min_length=1)
    Ids = list_of(Identifier, "ids")


def plausible_datetime_error(value: dt.datetime) -> str | None:
    """Return why a date-time lies outside ``settings.RANGES["date_year"]``, or None.

    Years near 9999 overflow once a time zone or a wait is added, and no opening hours
    or time zone rules are known for years before 1970.
    """
    years = settings.RANGES["date_year"]
    if years.problem(value.year) is None:
        return None
    return f"must be in the years {years.low:g} to {years.high:g}, got {value.year}"


def _depart(value: Any) -> Any:
    """Read an ISO date-time, written as a TOML date-time or as a string, in 1970-2100."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        problem = plausible_datetime_error(value)
        if problem:
            raise PydanticCustomError("depart", "{problem}", {"problem": problem})
        return value
    raise PydanticCustomError("depart", "must be an ISO date-time such as 2026-01-15T08:00")


#: The departure date-time a scenario is evaluated at.
Depart = Annotated[dt.datetime, BeforeValidator(_depart)]


class ReferralRatesTable(FileModel):
    """``[referral_rates]``: ``service = rate`` everywhere, ``[referral_rates.KZ]`` per country."""

    everywhere: dict[Service, Rate] = pattern_field(SERVICE_KEY)
    by_country: dict[CountryCode, dict[Service, Rate]] = pattern_field(COUNTRY_KEY)


class RoadChangeTable(FileModel):
    """One ``[[road_changes]]``: ways closed or slowed (way ids are checked on build)."""

    ways: WayIds
    closed: bool = False
    speed_factor: Factor = 1.0
    reason: Text
    source: Text

    @model_validator(mode="after")
    def _changes_something(self) -> RoadChangeTable:
        if not self.closed and self.speed_factor == 1:
            raise PydanticCustomError("no_change", "give closed = true or a speed_factor below 1")
        return self


if TYPE_CHECKING:
    RoadChanges: TypeAlias = list[RoadChangeTable]
else:
    RoadChanges = list_of(RoadChangeTable, "[[road_changes]] tables")


class ScenarioFile(FileModel):
    """A scenario: regimes of the posts, road changes, delays, rates, agreements."""

    description: Text | None = None
    translations: dict[str, Text] = pattern_field(DESCRIPTION_TRANSLATION)
    default_regime: Regime = "open"
    #: ``{post id: regime}``.
    posts: dict[Identifier, Regime] = Field(default_factory=dict)
    restricted_profiles: Profiles | None = None
    delay_multiplier: Multiplier = 1.0
    depart: Depart | None = None
    cover_portable: bool = False
    referral_rates: ReferralRatesTable = Field(default_factory=ReferralRatesTable)
    #: ``{facility id: {service: patients a year}}``.
    capacity: dict[Identifier, dict[Service, Amount]] = Field(default_factory=dict)
    road_changes: RoadChanges = Field(default_factory=list)
    #: Cover rules (ids in ``cover.toml``) this scenario switches on.
    agreements: Ids = Field(default_factory=list)
    #: Facilities the public payer contracts under this scenario.
    contracts: Ids = Field(default_factory=list)

    @field_validator("road_changes")
    @classmethod
    def _one_change_per_way(cls, changes: list[RoadChangeTable]) -> list[RoadChangeTable]:
        """Refuse a way named by two road changes (closed in one, slowed in another)."""
        seen: dict[str, int] = {}
        for number, change in enumerate(changes):
            for way in change.ways:
                first = seen.setdefault(str(way), number)
                if first == number:
                    continue
                other = changes[first]
                what = (
                    "closed in one and slowed in the other"
                    if other.closed != change.closed
                    else "changed twice"
                )
                raise PydanticCustomError(
                    "road_changes",
                    "way {way} is in [[road_changes]] #{first} and #{number}, {what}: "
                    "give each way one change",
                    {"way": str(way), "first": first, "number": number, "what": what},
                )
        return changes
