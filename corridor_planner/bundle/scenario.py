"""Scenarios: a named what-if of border regimes, road changes, delays and referral rates."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from corridor_planner.bundle.posts import BorderPost

#: Profiles still let through a post under the ``restricted`` regime unless a scenario says
#: otherwise. Assumption for scenario design, not a sourced rule.
DEFAULT_RESTRICTED_PROFILES: frozenset[str] = frozenset(
    {"citizen", "ambulance", "patient_handover"}
)


@dataclass(frozen=True)
class ReferralRates:
    """Expected referrals per 100,000 people a year, by service: everywhere, or per country.

    Parameters
    ----------
    everywhere : dict
        ``{service: rate}`` for every country without its own figure.
    by_country : dict
        ``{country: {service: rate}}``; a country's figure wins over ``everywhere``.
    """

    everywhere: dict[str, float] = field(default_factory=dict)
    by_country: dict[str, dict[str, float]] = field(default_factory=dict)

    def rate(self, service: str, country: str | None) -> float | None:
        """Rate for people living in ``country``, or None when none is given."""
        own = self.by_country.get(country or "", {})
        return own.get(service, self.everywhere.get(service))

    def __bool__(self) -> bool:
        return bool(self.everywhere) or any(self.by_country.values())


@dataclass(frozen=True)
class RoadChange:
    """Roads a scenario closes or slows (snow on a pass, a landslide, works).

    Parameters
    ----------
    ways : tuple of str
        Way ids of the road file (OSM way ids, or the ``id`` column of road lines).
    closed : bool
        True: nobody drives these ways.
    speed_factor : float
        Otherwise, travel is this many times the usual speed (0 < f <= 1).
    reason, source : str
        Why, and where that comes from.
    """

    ways: tuple[str, ...]
    closed: bool = False
    speed_factor: float = 1.0
    reason: str = ""
    source: str = ""

    def time_factor(self) -> float:
        """Factor on the travel time of the ways (``inf`` when closed)."""
        return math.inf if self.closed else 1.0 / self.speed_factor


@dataclass(frozen=True)
class Scenario:
    """A named what-if: border regimes, a departure time, delay multipliers.

    Parameters
    ----------
    name : str
        File stem of ``scenarios/<name>.toml``.
    description : str
        One sentence for reports.
    default_regime : str
        Regime of every post not listed in ``post_regimes``.
    post_regimes : dict
        ``{post_id: "open" | "restricted" | "closed"}``.
    restricted_profiles : frozenset of str
        Profiles a ``restricted`` post still lets through.
    delay_multiplier : float
        Factor on every post delay (queues in a peak season, say).
    depart : datetime or None
        Departure date-time the scenario is evaluated at.
    cover_portable : bool
        An agreement scenario: home cover is valid across the border.
    referral_rates : ReferralRates
        Referrals per 100,000 people a year, overriding the corridor's.
    capacity : dict
        ``{facility_id: {service: patients per year}}``: planning assumptions that
        override the facilities' own ``capacity``.
    road_changes : tuple of RoadChange
        Roads closed or slowed under this scenario.
    agreements : frozenset of str
        Cover rules (ids in ``cover.toml``) this scenario switches on.
    translations : dict
        ``{language: description}`` from ``description_<language>`` keys (``description_ru``),
        for reports in other languages.
    contracts : frozenset of str
        Facilities the public payer contracts under this scenario ("private sector
        engaged"): they take publicly covered patients whatever their own ``payers``.

    """

    name: str
    description: str = ""
    default_regime: str = "open"
    post_regimes: dict[str, str] = field(default_factory=dict)
    restricted_profiles: frozenset[str] = DEFAULT_RESTRICTED_PROFILES
    delay_multiplier: float = 1.0
    depart: dt.datetime | None = None
    cover_portable: bool = False
    referral_rates: ReferralRates = field(default_factory=ReferralRates)
    capacity: dict[str, dict[str, float]] = field(default_factory=dict)
    road_changes: tuple[RoadChange, ...] = ()
    agreements: frozenset[str] = frozenset()
    translations: dict[str, str] = field(default_factory=dict)
    contracts: frozenset[str] = frozenset()

    def way_time_factors(self) -> dict[str, float]:
        """Factor on each changed way's travel time (``inf``: closed); the largest wins."""
        factors: dict[str, float] = {}
        for change in self.road_changes:
            for way in change.ways:
                factors[way] = max(factors.get(way, 1.0), change.time_factor())
        return factors

    def regime(self, post_id: str) -> str:
        """Regime of one post under this scenario."""
        return self.post_regimes.get(post_id, self.default_regime)

    def lets_cross(self, post_id: str, profile: str) -> bool:
        """Tell whether this scenario's regime at a post lets ``profile`` through."""
        regime = self.regime(post_id)
        if regime == "closed":
            return False
        return regime != "restricted" or profile in self.restricted_profiles

    def crossing_seconds(
        self, post: BorderPost, from_country: str, to_country: str, profile: str
    ) -> float | None:
        """Seconds to cross ``post`` for ``profile`` here, or None when it cannot cross."""
        if not self.lets_cross(post.id, profile):
            return None
        seconds = post.delay_seconds(from_country, to_country, profile)
        return None if seconds is None else seconds * self.delay_multiplier


BASELINE = Scenario(name="baseline", description="Every post as it operates today.")
