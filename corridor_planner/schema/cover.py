"""The model of ``cover.toml``: who is covered where, for what, under which agreement."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

from corridor_planner import settings
from corridor_planner.schema.base import (
    CountryCode,
    FileModel,
    Identifier,
    Name,
    Text,
    list_of,
    one_of,
)

#: Where a rule applies: in the patient's own country, abroad, or both.
WHERE = ("home", "abroad", "any")

if TYPE_CHECKING:
    Group: TypeAlias = str
    Place: TypeAlias = str
    Profiles: TypeAlias = list[str]
    Services: TypeAlias = list[str]
    Countries: TypeAlias = list[str]
else:
    Group = one_of(settings.COVER_GROUPS, "cover group")
    Place = one_of(WHERE, "place")
    Profiles = list_of(one_of(settings.PROFILES, "profile"), "profiles")
    Services = list_of(one_of(settings.SERVICES, "service"), "services")
    Countries = list_of(CountryCode, "country codes")


class CoverRuleTable(FileModel):
    """One ``[[rule]]``: who it covers (None: everyone), where, and as which group."""

    id: Identifier
    name: Name
    group: Group
    where: Place = "any"
    profiles: Profiles | None = None
    nationalities: Countries | None = None
    facility_countries: Countries | None = None
    services: Services | None = None
    active: bool = True
    source: Text


if TYPE_CHECKING:
    Rules: TypeAlias = list[CoverRuleTable]
else:
    Rules = list_of(CoverRuleTable, "[[rule]] tables", min_length=1)


class CoverFile(FileModel):
    """``cover.toml``: the cover rules, first match wins."""

    rule: Rules
