"""Who is covered where: nationality, cover group, what a facility accepts, portability.

Every decision "may this patient be treated at this facility for this service" is made
by :func:`admits`, used by referral pathways, referral chains, the capacity assignment
and the scenario comparison alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from corridor_planner.rules import Scenario
from corridor_planner.settings import EAEU_MEMBERS

#: Nationality code of a ``third_country`` patient: no corridor country's cover.
THIRD_COUNTRY = "--"


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


def cover_group(patient: Patient, nationality: str, facility_country: str) -> str:
    """Return the ``accepts`` group a facility applies to this patient.

    ``nationality`` is the country whose cover the patient holds (see
    :func:`nationality_of`). At home (the facility is in that country) the patient is a
    resident with national cover. Abroad: with portable cover, foreign insured; an EAEU
    worker in another EAEU state gets the Treaty Art. 98 group; otherwise foreign
    uninsured.
    """
    if facility_country == nationality:
        return "resident_insured"
    if patient.portable_cover:
        return "foreign_insured"
    if (
        patient.profile == "eaeu_worker"
        and nationality in EAEU_MEMBERS
        and facility_country in EAEU_MEMBERS
    ):
        return "eaeu_worker"
    return "foreign_uninsured"


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
) -> tuple[bool, str]:
    """Decide whether a facility treats this patient for ``service``, and under which group.

    The one acceptance rule of the package: pass the patient as the scenario sees them
    (:func:`under`).

    Returns
    -------
    admitted : bool
    group : str
        The cover group the facility applied.
    """
    nationality = nationality_of(patient, origin_country, countries)
    group = cover_group(patient, nationality, facility_country)
    return accepts(facility_accepts, group, service), group


def acceptance(
    patient: Patient,
    origin_countries: Sequence[str],
    facilities: pd.DataFrame,
    service: str,
    countries: Sequence[str],
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`admits` for every origin x facility pair.

    Returns
    -------
    admitted : numpy.ndarray of bool
        ``origins x facilities``.
    groups : numpy.ndarray of str
        The cover group applied to each pair.
    """
    shape = (len(origin_countries), len(facilities))
    admitted = np.zeros(shape, dtype=bool)
    groups = np.empty(shape, dtype=object)
    targets = list(zip(facilities["country"], facilities["accepts"], strict=True))
    for i, origin in enumerate(origin_countries):
        for j, (country, rules) in enumerate(targets):
            admitted[i, j], groups[i, j] = admits(
                patient, origin, country, rules, service, countries
            )
    return admitted, groups


def describe_cover(patient: Patient) -> str:
    """Say in one line which cover rule applies to this patient, at home and abroad."""
    if patient.nationality:
        home = f"cover of {patient.nationality}"
    elif patient.profile == "third_country":
        home = "cover of a third country"
    elif patient.profile == "eaeu_worker":
        home = "cover of the corridor's other country"
    else:
        home = "cover of the country they live in"
    if patient.portable_cover:
        return f"{home}; valid across the border (portable cover: foreign insured abroad)"
    if patient.profile == "eaeu_worker":
        return (
            f"{home}; in another EAEU state, emergency care under EAEU Treaty Art. 98, "
            "otherwise what each facility accepts of uninsured foreigners"
        )
    return f"{home}; abroad, what each facility accepts of uninsured foreigners"
