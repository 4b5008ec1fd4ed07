"""Border posts and who may cross them: traveller profiles, delays, hours, scenarios."""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from dataclasses import dataclass, field
from functools import lru_cache

import opening_hours

from corridor_planner.settings import COUNTRY_TIMEZONES, PROFILES

#: ``opening_hours`` of a crossing that is never open: an unposted road across a border, or
#: a post closed for good. Such a post lets nobody through in any scenario.
CLOSED_HOURS = "off"


#: Profiles still let through a post under the ``restricted`` regime unless a scenario says
#: otherwise. Assumption for scenario design, not a sourced rule.
DEFAULT_RESTRICTED_PROFILES: frozenset[str] = frozenset(
    {"citizen", "ambulance", "patient_handover"}
)


def opening_hours_error(expression: str) -> str | None:
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
    return None


def is_closed_crossing(expression: object) -> bool:
    """Tell whether an ``opening_hours`` value marks a crossing that never opens (``off``)."""
    return isinstance(expression, str) and expression.strip().lower() == CLOSED_HOURS


def timezone_error(name: object) -> str | None:
    """Return why ``name`` is not an IANA time zone (``Asia/Almaty``), or None."""
    if not isinstance(name, str) or not name.strip():
        return f"must be an IANA time zone such as 'Asia/Almaty', got {name!r}"
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {name!r} (IANA names such as 'Asia/Almaty')"
    return None


#: A post that does not open within this long of a traveller's arrival counts as closed.
WAIT_HORIZON = dt.timedelta(days=366)


@lru_cache(maxsize=256)
def _schedule(expression: str) -> opening_hours.OpeningHours:
    return opening_hours.OpeningHours(expression)


def wait_until_open(expressions: tuple[str | None, ...], arrival: dt.datetime) -> float:
    """Seconds from ``arrival`` until every schedule in ``expressions`` is open at once.

    Parameters
    ----------
    expressions : tuple of str or None
        OSM ``opening_hours`` expressions (None entries are ignored), e.g. the season
        ``Apr 01-Nov 30`` and the hours ``Mo-Fr 06:00-22:00``. An ``unknown`` state
        counts as open.
    arrival : datetime
        Local time the traveller reaches the post.

    Returns
    -------
    float
        Seconds to wait; ``inf`` if they are not all open within ``WAIT_HORIZON``.
    """
    schedules = [_schedule(e) for e in expressions if e]
    moment, horizon = arrival, arrival + WAIT_HORIZON
    while True:
        closed = [s for s in schedules if s.is_closed(moment)]
        if not closed:
            return (moment - arrival).total_seconds()
        opens = closed[0].next_change(moment)
        if opens is None or opens > horizon:
            return math.inf
        moment = opens


def clock_of(timezone: str | None, country: str) -> zoneinfo.ZoneInfo | None:
    """Return a clock's zone: its own ``timezone``, else its country's, else None."""
    name = timezone or COUNTRY_TIMEZONES.get(country)
    return zoneinfo.ZoneInfo(name) if name else None


def _on_clock(moment: dt.datetime, zone: zoneinfo.ZoneInfo | None) -> dt.datetime:
    """Return ``moment`` on a clock: an aware moment converted, a naive one as it is."""
    if moment.tzinfo is None or zone is None:
        return moment.replace(tzinfo=None)
    return moment.astimezone(zone).replace(tzinfo=None)


def direction_key(from_country: str, to_country: str) -> str:
    """Key of ``delay_minutes`` for one direction, e.g. ``KZ->KG``."""
    return f"{from_country}->{to_country}"


@dataclass(frozen=True)
class ClearancePoint:
    """Where one country clears travellers, away from the border line (Sost, Tashkurgan).

    Parameters
    ----------
    country : str
        The country that clears here.
    name : str
        The place.
    minutes_to_border : float
        Driving minutes between this point and the border line, through the controlled
        zone where travellers may not stop.
    timezone : str or None
        IANA zone of this point's clock (default: its country's).
    """

    country: str
    name: str
    minutes_to_border: float
    timezone: str | None = None

    @property
    def zone(self) -> zoneinfo.ZoneInfo | None:
        """Time zone of this point's clock."""
        return clock_of(self.timezone, self.country)


@dataclass(frozen=True)
class BorderPost:
    """A border crossing point and its rules.

    Parameters
    ----------
    id, name : str
        Identifier and display name.
    countries : tuple of str
        The two ISO 3166 alpha-2 codes on either side.
    opening_hours : str
        OSM ``opening_hours`` expression.
    season : str or None
        OSM ``opening_hours`` date range when the post operates at all (``Apr 01-Nov 30``),
        or None for all year.
    delay_minutes : dict
        ``{"KZ->KG": {"citizen": 30, ...}, "KG->KZ": {...}}``: expected time to clear
        both sides, by direction and profile.
    profiles_allowed : frozenset of str
        Profiles that may cross.
    clearance : tuple of ClearancePoint
        Empty: both countries clear at the border line. Else one point per country, each
        with its own clock: a traveller must find the exit point open on its clock when
        they leave it, and the entry point open on its clock when they reach it.

    """

    id: str
    name: str
    countries: tuple[str, str]
    opening_hours: str
    season: str | None
    delay_minutes: dict[str, dict[str, float]]
    profiles_allowed: frozenset[str]
    source: str = ""
    timezone: str | None = None
    clearance: tuple[ClearancePoint, ...] = ()

    @property
    def closed(self) -> bool:
        """True for a crossing that never opens (``opening_hours`` is ``off``)."""
        return is_closed_crossing(self.opening_hours)

    @property
    def zone(self) -> zoneinfo.ZoneInfo | None:
        """Time zone of the post's clock: its own, else its first country's, else None."""
        return clock_of(self.timezone, self.countries[0])

    def local_time(self, moment: dt.datetime) -> dt.datetime:
        """Return ``moment`` on the post's clock, as a naive date-time.

        A naive ``moment`` is taken to be local time already. An aware one is converted to
        the post's zone.

        Raises
        ------
        ValueError
            If ``moment`` carries an offset and the post's zone is unknown.
        """
        if moment.tzinfo is None:
            return moment
        zone = self.zone
        if zone is None:
            raise ValueError(
                f"border post {self.name} has no time zone: add 'timezone' to it, or give the "
                "departure without a UTC offset"
            )
        return moment.astimezone(zone).replace(tzinfo=None)

    def wait_seconds(
        self,
        arrival: dt.datetime,
        from_country: str | None = None,
        to_country: str | None = None,
    ) -> float:
        """Return the seconds a traveller reaching the border at ``arrival`` waits to cross.

        Both the season and the opening hours must be open, read on the post's own clock;
        ``inf`` if the post stays shut for more than a year. A post with clearance points
        is checked twice, in the direction of travel: at the exit point (reached
        ``minutes_to_border`` before the border) on its clock, then at the entry point
        (reached ``minutes_to_border`` after it, plus the first wait) on its own clock.
        The clearance delays themselves are added by the caller.
        """
        points = {p.country: p for p in self.clearance}
        if from_country not in points or to_country not in points:
            return wait_until_open((self.season, self.opening_hours), self.local_time(arrival))
        rules = (self.season, self.opening_hours)
        leave, enter = points[from_country], points[to_country]
        at_exit = arrival - dt.timedelta(minutes=leave.minutes_to_border)
        first = wait_until_open(rules, _on_clock(at_exit, leave.zone))
        if math.isinf(first):
            return math.inf
        at_entry = arrival + dt.timedelta(seconds=first, minutes=enter.minutes_to_border)
        second = wait_until_open(rules, _on_clock(at_entry, enter.zone))
        return first + second

    def delay_seconds(self, from_country: str, to_country: str, profile: str) -> float | None:
        """Return the expected clearance time in seconds, or None if ``profile`` may not cross.

        Parameters
        ----------
        from_country, to_country : str
            Direction of travel.
        profile : str
            Traveller profile.

        """
        if self.closed or profile not in self.profiles_allowed:
            return None
        minutes = self.delay_minutes.get(direction_key(from_country, to_country), {})
        if profile not in minutes:
            return None
        return float(minutes[profile]) * 60.0


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


def check_profile(profile: str) -> str | None:
    """Return a complaint if ``profile`` is not a known traveller profile."""
    if profile not in PROFILES:
        return f"unknown profile {profile!r}; known: {', '.join(sorted(PROFILES))}"
    return None
