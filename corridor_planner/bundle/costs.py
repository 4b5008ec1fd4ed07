"""What a referral costs the patient, and who pays the rest: charges, fares, exposure.

A bundle's ``costs.toml`` holds what its sources say, each entry with its source:

``[[charge]]``
    What a patient of some cover groups pays at a facility of one country for some
    services (a co-payment, the full price for the uninsured, nothing under a programme):
    ``country``, ``groups``, ``services`` (or ``["all"]``), ``amount``, ``currency``,
    ``year``, ``what``, ``rest_paid_by`` (who pays the rest), ``source``, ``confidence``.
``[[fare]]``
    Public-transport fare per kilometre in one country, derived from a published fare and
    its road distance: ``country``, ``per_km``, ``currency``, ``year``, ``what``,
    ``source``, ``confidence``.
``[[exposure]]``
    Context for the report: out-of-pocket spending as a share of current health
    expenditure: ``country``, ``share``, ``year``, ``source``.

Amounts stay in their own currency: a pathway from Kazakhstan to a Kyrgyz hospital costs
som for care and tenge for travel, and nothing here converts them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from corridor_planner import settings
from corridor_planner.errors import Problem

COSTS_FILE = "costs.toml"


@dataclass(frozen=True)
class Charge:
    """What patients of ``groups`` pay for ``services`` at a facility in ``country``."""

    country: str
    groups: frozenset[str]
    services: frozenset[str]
    amount: float
    currency: str
    year: int | None
    what: str
    rest_paid_by: str
    source: str
    confidence: str
    #: ``rest_paid_by`` in other languages, from ``rest_paid_by_<lang>`` keys
    rest_paid_by_translations: dict[str, str] = field(default_factory=dict)

    def fits(self, country: str, group: str, service: str) -> bool:
        """Tell whether this charge applies to a patient of ``group`` there."""
        return (
            self.country == country
            and group in self.groups
            and ("all" in self.services or service in self.services)
        )


@dataclass(frozen=True)
class Fare:
    """Travel cost per kilometre in one country."""

    country: str
    per_km: float
    currency: str
    year: int | None
    what: str
    source: str
    confidence: str


@dataclass(frozen=True)
class CostBook:
    """A bundle's charges, fares and out-of-pocket context (empty when it has none)."""

    charges: tuple[Charge, ...] = ()
    fares: tuple[Fare, ...] = ()
    exposure: tuple[dict[str, Any], ...] = ()

    def charge(self, country: str, group: str, service: str) -> Charge | None:
        """Return the charge for this patient, a service-specific one first; None if unknown."""
        fitting = [c for c in self.charges if c.fits(country, group, service)]
        fitting.sort(key=lambda c: "all" in c.services)
        return fitting[0] if fitting else None

    def fare(self, country: str) -> Fare | None:
        """Return the fare per km of a country, or None."""
        return next((f for f in self.fares if f.country == country), None)

    def __bool__(self) -> bool:
        return bool(self.charges or self.fares)


@dataclass
class PathwayCost:
    """What one pathway costs the patient: care, travel, and who pays the rest."""

    origin: str
    destination: str
    group: str
    care: float | None
    care_currency: str
    care_what: str
    rest_paid_by: str
    travel: float | None
    travel_currency: str
    sources: list[str] = field(default_factory=list)
    rest_paid_by_translations: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return dict(self.__dict__)


#: Who pays at a facility that treats for free (``payers = ["free"]``).
FREE_CARE = "nobody: the facility treats free of charge"


def pathway_costs(
    pathways: Sequence[Any],
    book: CostBook,
    service: str,
    free_facilities: frozenset[str] = frozenset(),
) -> list[PathwayCost]:
    """Cost each pathway for its patient.

    Parameters
    ----------
    pathways : sequence of Pathway
        Pathways with ``origin_country``, ``destination_country``, ``destination_id``,
        ``cover_group``, ``km``.
    book : CostBook
        The bundle's costs.
    service : str
        The specialty referred for.
    free_facilities : frozenset of str
        Facilities whose ``payers`` say they treat free: nothing to pay there, whatever the
        country's charge.

    Returns
    -------
    list of PathwayCost
        ``care`` / ``travel`` None where no source gives the amount (said, not guessed).
    """
    rows = []
    for path in pathways:
        fare = book.fare(path.origin_country)
        if getattr(path, "destination_id", None) in free_facilities:
            rows.append(_free(path, fare))
            continue
        charge = book.charge(path.destination_country, path.cover_group, service)
        rows.append(
            PathwayCost(
                origin=path.origin,
                destination=path.destination,
                group=path.cover_group,
                care=charge.amount if charge else None,
                care_currency=charge.currency if charge else "",
                care_what=charge.what if charge else "not sourced",
                rest_paid_by=charge.rest_paid_by if charge else "not sourced",
                travel=_return_fare(fare, path.km),
                travel_currency=fare.currency if fare else "",
                sources=[x.source for x in (charge, fare) if x is not None],
                rest_paid_by_translations=dict(charge.rest_paid_by_translations) if charge else {},
            )
        )
    return rows


def _return_fare(fare: Fare | None, km: float) -> float | None:
    """Return the fare there and back; None where no fare is sourced."""
    return round(fare.per_km * 2 * km) if fare else None


def _free(path: Any, fare: Fare | None) -> PathwayCost:
    return PathwayCost(
        origin=path.origin,
        destination=path.destination,
        group=path.cover_group,
        care=0.0,
        care_currency="",
        care_what="free care at the facility (its payers)",
        rest_paid_by=FREE_CARE,
        travel=_return_fare(fare, path.km),
        travel_currency=fare.currency if fare else "",
        sources=["the facility's payers in facilities.geojson"]
        + ([fare.source] if fare is not None else []),
        rest_paid_by_translations={"ru": "никто: организация лечит бесплатно"},
    )


# reading costs.toml ---------------------------------------------------------------------


#: The keys each table of ``costs.toml`` may have (``rest_paid_by_<lang>`` aside).
KEYS = {
    "charge": {
        "country",
        "groups",
        "services",
        "amount",
        "currency",
        "year",
        "what",
        "rest_paid_by",
        "source",
        "confidence",
    },
    "fare": {"country", "per_km", "currency", "year", "what", "source", "confidence"},
    "exposure": {"country", "share", "year", "source"},
}


def read_cost_book(
    data: dict[str, Any], countries: Sequence[str]
) -> tuple[CostBook, list[Problem]]:
    """Build a CostBook from a parsed ``costs.toml``; return it with the problems found.

    Unknown tables and keys are problems (a misspelt key would drop a sourced figure
    silently), as are two charges for the same patients that disagree.
    """
    problems = _unknown_keys(data)
    charges = tuple(
        c
        for i, item in enumerate(_tables(data, "charge", problems))
        if (c := _charge(i, item, countries, problems))
    )
    fares = tuple(
        f
        for i, item in enumerate(_tables(data, "fare", problems))
        if (f := _fare(i, item, countries, problems))
    )
    exposure = tuple(
        e
        for i, item in enumerate(_tables(data, "exposure", problems))
        if (e := _exposure(i, item, countries, problems))
    )
    problems += _conflicts(charges)
    return CostBook(charges, fares, exposure), problems


def _conflicts(charges: Sequence[Charge]) -> list[Problem]:
    """Two charges for the same country, group and service with different amounts."""
    problems = []
    for i, a in enumerate(charges):
        for b in charges[i + 1 :]:
            same = a.country == b.country and a.groups & b.groups and a.services & b.services
            if same and (a.amount, a.currency) != (b.amount, b.currency):
                problems.append(
                    Problem(
                        COSTS_FILE,
                        "charges",
                        "amount",
                        f"two charges disagree for {a.country}, {sorted(a.groups & b.groups)}, "
                        f"{sorted(a.services & b.services)}: {a.amount:g} {a.currency} and "
                        f"{b.amount:g} {b.currency}",
                    )
                )
    return problems


def _unknown_keys(data: dict[str, Any]) -> list[Problem]:
    problems = []
    for table in sorted(set(data) - set(KEYS)):
        known = ", ".join(f"[[{k}]]" for k in KEYS)
        problems.append(Problem(COSTS_FILE, "-", table, f"unknown table (known: {known})"))
    for table, allowed in KEYS.items():
        items = data.get(table, [])
        for index, item in enumerate(items if isinstance(items, list) else []):
            if not isinstance(item, dict):
                continue
            label = f"{table} #{index}"
            for key in sorted(set(item) - allowed):
                if table == "charge" and key.startswith("rest_paid_by_"):
                    if not isinstance(item[key], str) or not item[key].strip():
                        problems.append(Problem(COSTS_FILE, label, key, "must be a text"))
                    continue
                problems.append(Problem(COSTS_FILE, label, key, "unknown key"))
    return problems


def _tables(data: dict[str, Any], key: str, problems: list[Problem]) -> list[Any]:
    items = data.get(key, [])
    if not isinstance(items, list):
        problems.append(Problem(COSTS_FILE, "-", key, f"must hold [[{key}]] tables"))
        return []
    return items


def _text(item: dict[str, Any], key: str, label: str, problems: list[Problem]) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.append(Problem(COSTS_FILE, label, key, "must be a non-empty string"))
        return ""
    return value


def _number(
    item: dict[str, Any], key: str, range_name: str, label: str, problems: list[Problem]
) -> float:
    value = item.get(key)
    problem = settings.RANGES[range_name].problem(value)
    if problem:
        problems.append(Problem(COSTS_FILE, label, key, problem))
        return math.nan
    return float(cast(float, value))


def _common(
    item: Any, label: str, countries: Sequence[str], problems: list[Problem]
) -> dict[str, Any] | None:
    if not isinstance(item, dict):
        problems.append(Problem(COSTS_FILE, label, "-", "must be a table"))
        return None
    if item.get("country") not in countries:
        problems.append(
            Problem(COSTS_FILE, label, "country", f"must be one of {', '.join(countries)}")
        )
    currency = item.get("currency")
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isupper()):
        problems.append(Problem(COSTS_FILE, label, "currency", "must be an ISO 4217 code (KGS)"))
    for key in ("what", "source", "confidence"):
        _text(item, key, label, problems)
    if item.get("year") is not None:  # a source may not date its figure: then say so
        _number(item, "year", "cost_year", label, problems)
    return item


def _charge(
    index: int, item: Any, countries: Sequence[str], problems: list[Problem]
) -> Charge | None:
    label = f"charge #{index}"
    before = len(problems)
    if _common(item, label, countries, problems) is None:
        return None
    groups = item.get("groups")
    if (
        not isinstance(groups, list)
        or not groups
        or not all(isinstance(g, str) for g in groups)
        or not set(groups) <= settings.COVER_GROUPS
    ):
        known = ", ".join(sorted(settings.COVER_GROUPS))
        problems.append(Problem(COSTS_FILE, label, "groups", f"must list cover groups ({known})"))
    services = item.get("services")
    if (
        not isinstance(services, list)
        or not services
        or not (set(services) <= settings.SERVICES | {"all"})
    ):
        problems.append(Problem(COSTS_FILE, label, "services", 'must list services or ["all"]'))
    amount = _number(item, "amount", "charge_amount", label, problems)
    rest = _text(item, "rest_paid_by", label, problems)
    if len(problems) > before:
        return None
    return Charge(
        country=item["country"],
        groups=frozenset(groups),
        services=frozenset(services),
        amount=amount,
        currency=item["currency"],
        year=_year(item),
        what=item["what"],
        rest_paid_by=rest,
        source=item["source"],
        confidence=item["confidence"],
        rest_paid_by_translations={
            key.removeprefix("rest_paid_by_"): str(value)
            for key, value in item.items()
            if key.startswith("rest_paid_by_") and isinstance(value, str)
        },
    )


def _year(item: dict[str, Any]) -> int | None:
    return int(item["year"]) if item.get("year") is not None else None


def _fare(index: int, item: Any, countries: Sequence[str], problems: list[Problem]) -> Fare | None:
    label = f"fare #{index}"
    before = len(problems)
    if _common(item, label, countries, problems) is None:
        return None
    per_km = _number(item, "per_km", "fare_per_km", label, problems)
    if len(problems) > before:
        return None
    return Fare(
        country=item["country"],
        per_km=per_km,
        currency=item["currency"],
        year=_year(item),
        what=item["what"],
        source=item["source"],
        confidence=item["confidence"],
    )


def _exposure(
    index: int, item: Any, countries: Sequence[str], problems: list[Problem]
) -> dict[str, Any] | None:
    label = f"exposure #{index}"
    if not isinstance(item, dict):
        problems.append(Problem(COSTS_FILE, label, "-", "must be a table"))
        return None
    before = len(problems)
    share = _number(item, "share", "share", label, problems)
    year = _number(item, "year", "cost_year", label, problems)
    country = _text(item, "country", label, problems)
    if country and country not in countries:
        problems.append(
            Problem(COSTS_FILE, label, "country", f"must be one of {', '.join(countries)}")
        )
    source = _text(item, "source", label, problems)
    if len(problems) > before:
        return None
    return {"country": country, "share": share, "year": int(year), "source": source}


def exposure_by_group(costs: Sequence[PathwayCost], people: dict[str, int]) -> list[dict[str, Any]]:
    """Out-of-pocket exposure by cover group: people, and what their care costs them.

    Parameters
    ----------
    costs : sequence of PathwayCost
        One per pathway (the first-ranked pathway of each origin counts).
    people : dict
        Population by origin name.

    Returns
    -------
    list of dict
        ``group``, ``people``, ``charged`` (people with a known charge above zero),
        ``free`` (a known charge of zero), ``unknown`` (no sourced charge) and ``charges``
        (the distinct ``amount currency`` texts).
    """
    seen: set[str] = set()
    groups: dict[str, dict[str, Any]] = {}
    for cost in costs:
        if cost.origin in seen:
            continue
        seen.add(cost.origin)
        row = groups.setdefault(
            cost.group,
            {
                "group": cost.group,
                "people": 0,
                "charged": 0,
                "free": 0,
                "unknown": 0,
                "charges": set(),
            },
        )
        n = int(people.get(cost.origin, 0))
        row["people"] += n
        if cost.care is None:
            row["unknown"] += n
        elif cost.care > 0:
            row["charged"] += n
            row["charges"].add(f"{cost.care:,.0f} {cost.care_currency}")
        else:
            row["free"] += n
    return [dict(r, charges=sorted(r["charges"])) for r in groups.values()]


def free_facilities(facilities: Any) -> frozenset[str]:
    """Ids of the facilities whose ``payers`` say they treat free of charge."""
    if "payers" not in facilities:
        return frozenset()
    return frozenset(
        fid
        for fid, payers in zip(facilities["id"], facilities["payers"], strict=True)
        if isinstance(payers, list) and "free" in payers
    )
