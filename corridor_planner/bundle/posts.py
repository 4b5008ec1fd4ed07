"""Border posts and who may cross them: traveller profiles, delays, opening hours."""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache

import opening_hours

from corridor_planner import units
from corridor_planner.schema.layers import opening_hours_error as opening_hours_error
from corridor_planner.schema.layers import timezone_error as timezone_error
from corridor_planner.settings import COUNTRY_TIMEZONES, PROFILES

#: ``opening_hours`` of a crossing that is never open: an unposted road across a border, or
#: a post closed for good. Such a post lets nobody through in any scenario.
CLOSED_HOURS = "off"


def is_closed_crossing(expression: object) -> bool:
    """Tell whether an ``opening_hours`` value marks a crossing that never opens (``off``)."""
    return isinstance(expression, str) and expression.strip().lower() == CLOSED_HOURS


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
        return units.seconds(float(minutes[profile]))


def check_profile(profile: str) -> str | None:
    """Return a complaint if ``profile`` is not a known traveller profile."""
    if profile not in PROFILES:
        return f"unknown profile {profile!r}; known: {', '.join(sorted(PROFILES))}"
    return None
