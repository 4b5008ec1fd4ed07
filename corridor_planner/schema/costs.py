"""``costs.toml``: what a referral costs the patient (charges), travel fares, and exposure.

Each ``[[charge]]``, ``[[fare]]`` and ``[[exposure]]`` table is checked by its model;
``rest_paid_by_<lang>`` keys (``rest_paid_by_ru``) translate a charge's ``rest_paid_by``.
The countries must be the corridor's (given as the validation context ``countries``);
two charges for the same patients with different amounts are refused
(:func:`disagreements`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from corridor_planner import settings
from corridor_planner.errors import Problem
from corridor_planner.schema.base import FileModel, Text, in_range, non_empty, one_of
from corridor_planner.schema.tables import array_of_tables, check_tables

COSTS_FILE = "costs.toml"
#: A key translating ``rest_paid_by`` into a language (ISO 639-1/-2 code): ``rest_paid_by_ru``.
TRANSLATION_KEY = re.compile(r"^rest_paid_by_([a-z]{2,3})$")
_TRANSLATIONS = "rest_paid_by_translations"

Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
if TYPE_CHECKING:  # what the checked values are; the constraints are pydantic's
    CoverGroups = list[str]
    ChargedServices = list[str]
    Amount = float
    PerKm = float
    Share = float
    Year = int
    Charges = list["Charge"]
    Fares = list["Fare"]
    Exposures = list["Exposure"]
else:
    CoverGroups = non_empty(one_of(settings.COVER_GROUPS, "cover group"))
    ChargedServices = non_empty(one_of(settings.SERVICES | {"all"}, "service"))
    Amount = in_range("charge_amount")
    PerKm = in_range("fare_per_km")
    Share = in_range("share")
    Year = in_range("cost_year")


def corridor_country(value: str, info: ValidationInfo) -> str:
    """Refuse a country that is not one of the context's ``countries`` (the corridor's)."""
    countries = (info.context or {}).get("countries")
    if countries is not None and value not in countries:
        raise PydanticCustomError(
            "country", "must be one of {known}", {"known": ", ".join(countries)}
        )
    if not re.fullmatch(r"[A-Z]{2}", value):
        raise PydanticCustomError("country", "must be an ISO 3166 alpha-2 code (KG)")
    return value


class _Costed(FileModel):
    """Keys every charge and fare has: the country, currency, year and its source."""

    country: str
    currency: Currency
    year: Year | None = None  # a source may not date its figure
    what: Text
    source: Text
    confidence: Text

    _country = field_validator("country")(corridor_country)

    @field_validator("currency", mode="before")
    @classmethod
    def _iso_4217(cls, value: Any) -> Any:
        if not (isinstance(value, str) and re.fullmatch(r"[A-Z]{3}", value)):
            raise PydanticCustomError("currency", "must be an ISO 4217 code (KGS)")
        return value


def _translation_keys(schema: dict[str, Any]) -> None:
    """JSON Schema: the translations are the ``rest_paid_by_<lang>`` keys, not one property."""
    translation = schema["properties"].pop(_TRANSLATIONS)["additionalProperties"]
    schema["patternProperties"] = {TRANSLATION_KEY.pattern: translation}


class Charge(_Costed):
    """``[[charge]]``: what patients of ``groups`` pay for ``services`` in ``country``."""

    model_config = ConfigDict(json_schema_extra=_translation_keys)

    groups: CoverGroups
    services: ChargedServices
    amount: Amount
    rest_paid_by: Text
    #: ``rest_paid_by`` by language, from the ``rest_paid_by_<lang>`` keys
    rest_paid_by_translations: dict[str, Text] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _translations(cls, data: Any) -> Any:
        """Gather the ``rest_paid_by_<lang>`` keys; a key of another shape stays unknown."""
        if not isinstance(data, dict):
            return data
        if _TRANSLATIONS in data:
            raise PydanticCustomError("translations", "unknown key `{key}`", {"key": _TRANSLATIONS})
        rest = {k: v for k, v in data.items() if not TRANSLATION_KEY.match(k)}
        found = {m[1]: v for k, v in data.items() if (m := TRANSLATION_KEY.match(k))}
        return rest | {_TRANSLATIONS: found} if found else rest


class Fare(_Costed):
    """``[[fare]]``: public-transport fare per km in one country."""

    per_km: PerKm


class Exposure(FileModel):
    """``[[exposure]]``: out-of-pocket spending as a share of current health expenditure."""

    country: str
    share: Share
    year: Year
    source: Text

    _country = field_validator("country")(corridor_country)


if not TYPE_CHECKING:
    Charges = array_of_tables(Charge, "charge")
    Fares = array_of_tables(Fare, "fare")
    Exposures = array_of_tables(Exposure, "exposure")


class CostsFile(FileModel):
    """A bundle's ``costs.toml``."""

    charge: Charges = Field(default_factory=list)
    fare: Fares = Field(default_factory=list)
    exposure: Exposures = Field(default_factory=list)


TABLES = ("charge", "fare", "exposure")


def check_costs(data: Any, countries: Sequence[str]) -> tuple[CostsFile | None, list[Problem]]:
    """Check a parsed ``costs.toml`` for a corridor of ``countries``; every problem found.

    Returns
    -------
    (CostsFile or None, list of Problem)
        The file when nothing is wrong, else None and the problems.
    """
    costs, problems = check_tables(
        CostsFile, data, COSTS_FILE, tables=TABLES, context={"countries": tuple(countries)}
    )
    problems = [_translation_field(p) for p in problems]
    if costs is None:
        return None, problems
    problems = disagreements(costs.charge)
    return (None if problems else costs), problems


def _translation_field(problem: Problem) -> Problem:
    """Name a translation by its key (``rest_paid_by_ru``), as the user wrote it."""
    prefix = f"{_TRANSLATIONS}."
    if not problem.field.startswith(prefix):
        return problem
    return dataclasses.replace(problem, field="rest_paid_by_" + problem.field[len(prefix) :])


def disagreements(charges: Sequence[Charge]) -> list[Problem]:
    """Two charges for the same country, group and service with different amounts."""
    problems = []
    for i, a in enumerate(charges):
        for b in charges[i + 1 :]:
            groups = sorted(set(a.groups) & set(b.groups))
            services = sorted(set(a.services) & set(b.services))
            same = a.country == b.country and groups and services
            if same and (a.amount, a.currency) != (b.amount, b.currency):
                problems.append(
                    Problem(
                        COSTS_FILE,
                        "charges",
                        "amount",
                        f"two charges disagree for {a.country}, {groups}, {services}: "
                        f"{a.amount:g} {a.currency} and {b.amount:g} {b.currency}",
                    )
                )
    return problems
