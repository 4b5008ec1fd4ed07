"""Who is covered where: nationality, cover rules, what a facility accepts, portability.

Cover is data: a corridor's ``cover.toml`` lists rules (national cover, EAEU Treaty
Art. 98, bilateral agreements, the CIS migrant card, private insurance...), each saying
who it covers, where, for which services, and as which ``accepts`` group. Scenarios
switch agreements on (``agreements = [...]``). The first active rule that fits a patient
and a facility decides the group; the facility's ``accepts`` then decides.

Every decision "may this patient be treated at this facility for this service" is made
by :func:`admits`, used by referral pathways, referral chains, the capacity assignment
and the scenario comparison alike, and it names the rule it applied.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from corridor_planner.bundle.scenario import Scenario
from corridor_planner.settings import EAEU_MEMBERS, PAID_BY_COVER
from corridor_planner.translatable import N_

#: Nationality code of a ``third_country`` patient: no corridor country's cover.
THIRD_COUNTRY = "--"

#: Group of a patient no rule covers.
UNCOVERED = "foreign_uninsured"


@dataclass(frozen=True)
class CoverRule:
    """One cover rule: who it covers, where, for what, and as which ``accepts`` group.

    Parameters
    ----------
    id, name : str
        Identifier (scenarios switch rules by it) and a name for reports.
    group : str
        The ``accepts`` group a facility applies to patients under this rule.
    where : str
        ``home`` (a facility in the patient's own country), ``abroad`` or ``any``.
    profiles : frozenset of str or None
        Traveller profiles covered (None: all).
    nationalities : frozenset of str or None
        Countries whose nationals are covered (None: all).
    facility_countries : frozenset of str or None
        Countries where the cover is valid (None: all).
    services : frozenset of str or None
        Services covered (None: all).
    active : bool
        In force without a scenario switching it on (agreements signed but not in force,
        or what-ifs, are ``false``).
    source : str
        Where the rule comes from (treaty, article, year).
    """

    id: str
    name: str
    group: str
    where: str = "any"
    profiles: frozenset[str] | None = None
    nationalities: frozenset[str] | None = None
    facility_countries: frozenset[str] | None = None
    services: frozenset[str] | None = None
    active: bool = True
    source: str = ""

    def fits(self, profile: str, nationality: str, facility_country: str, service: str) -> bool:
        """Tell whether this rule covers such a patient at such a facility for ``service``."""
        home = facility_country == nationality
        return (
            (self.where == "any" or (self.where == "home") == home)
            and (self.profiles is None or profile in self.profiles)
            and (self.nationalities is None or nationality in self.nationalities)
            and (self.facility_countries is None or facility_country in self.facility_countries)
            and (self.services is None or service in self.services)
        )


#: The rules a bundle without ``cover.toml`` gets: national cover at home, portable cover
#: when an agreement scenario makes it so, and EAEU Treaty Art. 98 for workers.
DEFAULT_RULES: tuple[CoverRule, ...] = (
    CoverRule(
        id="national",
        name="National cover in the country of nationality",
        group="resident_insured",
        where="home",
        source="national health insurance of each country",
    ),
    CoverRule(
        id="portable",
        name="Home cover valid across the border (agreement what-if)",
        group="foreign_insured",
        where="abroad",
        active=False,
        source="scenario assumption (cover_portable); no such agreement is sourced",
    ),
    CoverRule(
        id="eaeu_art98",
        name="EAEU Treaty Art. 98: care for workers of member states",
        group="eaeu_worker",
        where="abroad",
        profiles=frozenset({"eaeu_worker"}),
        nationalities=EAEU_MEMBERS,
        facility_countries=EAEU_MEMBERS,
        source="Treaty on the Eurasian Economic Union (2014), Art. 98(3)",
    ),
)


@dataclass(frozen=True)
class CoverDecision:
    """What :func:`admits` decided, and why."""

    admitted: bool
    group: str
    rule: str  # id of the rule applied, or "none"
    rule_name: str
    paid: bool = True  # False: the facility would treat, but takes no payer of this patient

    def reason(self, facility: str, service: str) -> str:
        """One line for a report: the rule applied and what the facility makes of it."""
        verdict = "accepts" if self.admitted else "does not accept"
        return f"{self.rule_name} ({self.group}): {facility} {verdict} it for {service}"


@dataclass(frozen=True)
class Patient:
    """Who is referred: their traveller profile, nationality, and whether cover is portable.

    Parameters
    ----------
    profile : str
        Traveller profile at border posts (``citizen``, ``eaeu_worker``, ...).
    nationality : str or None
        ISO code of the country whose cover they hold; None means the origin's country.
    portable_cover : bool
        True when an agreement makes home cover valid in the other country.
    """

    profile: str = "citizen"
    nationality: str | None = None
    portable_cover: bool = False


def under(patient: Patient, scenario: Scenario) -> Patient:
    """Return the patient as a scenario sees them: an agreement makes cover portable."""
    if scenario.cover_portable and not patient.portable_cover:
        return replace(patient, portable_cover=True)
    return patient


def active_rules(
    rules: Sequence[CoverRule], patient: Patient, scenario: Scenario | None = None
) -> tuple[CoverRule, ...]:
    """Return the rules in force: active ones, those a scenario switches on, ``portable``."""
    switched = set(scenario.agreements) if scenario is not None else set()
    if patient.portable_cover:
        switched.add("portable")
    return tuple(r for r in rules if r.active or r.id in switched)


def nationality_of(patient: Patient, home: str, countries: Sequence[str]) -> str:
    """Country whose cover the patient holds.

    Given explicitly, or the origin's country; an ``eaeu_worker`` with none given is a
    migrant from the corridor's other country (a Kyrgyz worker in Almaty, say), and a
    ``third_country`` traveller holds no corridor country's cover.
    """
    if patient.nationality:
        return patient.nationality
    if patient.profile == "third_country":
        return THIRD_COUNTRY
    others = [c for c in countries if c != home]
    if patient.profile == "eaeu_worker" and len(others) == 1:
        return others[0]
    return home


def applicable_rule(
    rules: Sequence[CoverRule],
    profile: str,
    nationality: str,
    facility_country: str,
    service: str,
) -> CoverRule | None:
    """Return the first rule in force that covers this patient there for ``service``."""
    return next((r for r in rules if r.fits(profile, nationality, facility_country, service)), None)


def cover_group(
    patient: Patient,
    nationality: str,
    facility_country: str,
    service: str = "emergency",
    rules: Sequence[CoverRule] | None = None,
) -> str:
    """Return the ``accepts`` group a facility applies to this patient.

    ``nationality`` is the country whose cover the patient holds (see
    :func:`nationality_of`); ``rules`` are those in force (default: the default rules
    with ``portable`` on when the patient's cover is portable). With the defaults: at
    home, national cover; abroad with portable cover, foreign insured; an EAEU worker in
    another EAEU state, the Treaty Art. 98 group; otherwise foreign uninsured.
    """
    in_force = active_rules(DEFAULT_RULES, patient) if rules is None else rules
    rule = applicable_rule(in_force, patient.profile, nationality, facility_country, service)
    return rule.group if rule is not None else UNCOVERED


def accepts(rules: Mapping[str, Any], group: str, service: str) -> bool:
    """Tell whether a facility's ``accepts`` rules let ``group`` use ``service``."""
    allowed = rules.get(group) if isinstance(rules, Mapping) else None
    return allowed == "all" or (isinstance(allowed, list) and service in allowed)


def admits(
    patient: Patient,
    origin_country: str,
    facility_country: str,
    facility_accepts: Mapping[str, Any],
    service: str,
    countries: Sequence[str],
    rules: Sequence[CoverRule] | None = None,
    payers: Sequence[str] | None = None,
) -> CoverDecision:
    """Decide whether a facility treats this patient for ``service``, under which rule.

    The one acceptance rule of the package. ``rules`` are those in force
    (:func:`active_rules`; default: the default rules for this patient). ``payers``, when
    the facility records them, must include ``public`` (or ``free``) for a patient whose
    cover pays (``PAID_BY_COVER``): a private facility the public payer has not contracted
    does not take them as covered patients.
    """
    in_force = active_rules(DEFAULT_RULES, patient) if rules is None else rules
    nationality = nationality_of(patient, origin_country, countries)
    rule = applicable_rule(in_force, patient.profile, nationality, facility_country, service)
    group = rule.group if rule is not None else UNCOVERED
    paid = pays(payers, group)
    return CoverDecision(
        admitted=accepts(facility_accepts, group, service) and paid,
        group=group,
        rule=rule.id if rule is not None else "none",
        rule_name=rule.name if rule is not None else N_("No cover rule applies (uninsured)"),
        paid=paid,
    )


def pays(payers: Sequence[str] | None, group: str) -> bool:
    """Tell whether someone a facility takes pays for a patient of ``group`` there.

    ``payers`` None: not recorded, so no restriction. Covered groups need ``public`` or
    ``free``; uncovered patients need ``out_of_pocket`` or ``free``.
    """
    if payers is None:
        return True
    if "free" in payers:
        return True
    return ("public" if group in PAID_BY_COVER else "out_of_pocket") in payers


def facility_payers(
    row_payers: Any, facility_id: str, contracts: frozenset[str]
) -> list[str] | None:
    """Payers of a facility under a scenario: contracted facilities take ``public`` cover."""
    payers = list(row_payers) if isinstance(row_payers, list | tuple) else None
    if payers is not None and facility_id in contracts:
        return sorted({*payers, "public"})
    return payers


def acceptance(
    patient: Patient,
    origin_countries: Sequence[str],
    facilities: pd.DataFrame,
    service: str,
    countries: Sequence[str],
    rules: Sequence[CoverRule] | None = None,
    contracts: frozenset[str] = frozenset(),
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`admits` for every origin x facility pair.

    ``contracts``: facilities the scenario's public payer contracts (they take covered
    patients whatever their own ``payers``).

    Returns
    -------
    admitted : numpy.ndarray of bool
        ``origins x facilities``.
    decisions : numpy.ndarray of CoverDecision
        The decision for each pair (group and rule applied).
    """
    shape = (len(origin_countries), len(facilities))
    admitted = np.zeros(shape, dtype=bool)
    decisions = np.empty(shape, dtype=object)
    recorded = facilities["payers"] if "payers" in facilities else [None] * len(facilities)
    targets = [
        (country, accepted, facility_payers(payers, fid, contracts))
        for country, accepted, payers, fid in zip(
            facilities["country"], facilities["accepts"], recorded, facilities["id"], strict=True
        )
    ]
    # a decision depends on the origin's country only: decide once per country
    rows: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for i, origin in enumerate(origin_countries):
        if origin not in rows:
            rows[origin] = _decide(patient, origin, targets, service, countries, rules)
        admitted[i], decisions[i] = rows[origin]
    return admitted, decisions


def _decide(
    patient: Patient,
    origin: str,
    targets: Sequence[tuple[str, Any, Any]],
    service: str,
    countries: Sequence[str],
    rules: Sequence[CoverRule] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`admits` for one origin country and each (country, accepts, payers) target."""
    admitted = np.zeros(len(targets), dtype=bool)
    decisions = np.empty(len(targets), dtype=object)
    for j, (country, accepted, payers) in enumerate(targets):
        decision = admits(patient, origin, country, accepted, service, countries, rules, payers)
        admitted[j], decisions[j] = decision.admitted, decision
    return admitted, decisions


def describe_cover(patient: Patient, rules: Sequence[CoverRule]) -> str:
    """Say in one line which cover applies to this patient, at home and abroad.

    Parameters
    ----------
    patient : Patient
        Who is referred (as a scenario sees them: :func:`under`).
    rules : sequence of CoverRule
        The rules in force (:func:`active_rules` of the bundle's own rules, from its
        ``cover.toml`` or the defaults), so the line never restates rules a bundle replaced.
    """
    if patient.nationality:
        holder = f"cover of {patient.nationality}"
    elif patient.profile == "third_country":
        holder = "cover of a third country"
    elif patient.profile == "eaeu_worker":
        holder = "cover of the corridor's other country"
    else:
        holder = "cover of the country they live in"
    theirs = [r for r in rules if r.profiles is None or patient.profile in r.profiles]
    at_home = [r.name for r in theirs if r.where in ("home", "any")]
    abroad = [_where_valid(r) for r in theirs if r.where in ("abroad", "any")]
    fallback = "what each facility accepts of uninsured foreigners"
    abroad_text = f"{', '.join(abroad)}; otherwise {fallback}" if abroad else fallback
    return f"{holder}; at home: {', '.join(at_home) or 'no rule in force'}; abroad: {abroad_text}"


def _where_valid(rule: CoverRule) -> str:
    if rule.facility_countries is None:
        return rule.name
    return f"{rule.name} (valid in {', '.join(sorted(rule.facility_countries))})"
