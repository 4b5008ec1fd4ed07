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

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from corridor_planner.errors import Problem
from corridor_planner.schema.costs import COSTS_FILE as COSTS_FILE
from corridor_planner.schema.costs import check_costs


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


def _return_fare(fare: Fare | None, km: float | None) -> float | None:
    """Return the fare there and back; None where no fare is sourced or the km are unknown."""
    return round(fare.per_km * 2 * km) if fare and km is not None else None


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


def read_cost_book(
    data: dict[str, Any], countries: Sequence[str]
) -> tuple[CostBook, list[Problem]]:
    """Build a CostBook from a parsed ``costs.toml``; return it with the problems found.

    The file is checked by :class:`corridor_planner.schema.costs.CostsFile`: unknown tables
    and keys are problems (a misspelt key would drop a sourced figure silently), as are
    two charges for the same patients that disagree. With any problem the book is empty.
    """
    costs, problems = check_costs(data, countries)
    if costs is None:
        return CostBook(), problems
    charges = tuple(
        Charge(
            country=c.country,
            groups=frozenset(c.groups),
            services=frozenset(c.services),
            amount=float(c.amount),
            currency=c.currency,
            year=_year(c.year),
            what=c.what,
            rest_paid_by=c.rest_paid_by,
            source=c.source,
            confidence=c.confidence,
            rest_paid_by_translations=dict(c.rest_paid_by_translations),
        )
        for c in costs.charge
    )
    fares = tuple(
        Fare(f.country, float(f.per_km), f.currency, _year(f.year), f.what, f.source, f.confidence)
        for f in costs.fare
    )
    exposure = tuple(
        {"country": e.country, "share": float(e.share), "year": int(e.year), "source": e.source}
        for e in costs.exposure
    )
    return CostBook(charges, fares, exposure), []


def _year(year: float | None) -> int | None:
    return None if year is None else int(year)


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
        (the distinct ``(amount, currency)`` pairs, sorted).
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
            row["charges"].add((float(cost.care), cost.care_currency))
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
