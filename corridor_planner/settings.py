"""Documented defaults: vocabularies, speeds per road class, snap limits, thresholds.

Every number here has a source or is marked as an assumption. A corridor overrides the
speeds and snap limits in its ``corridor.toml``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from corridor_planner.translatable import N_


def _bundled_data() -> Path:
    """Return the folder of the bundled corridors and programmes.

    An installed wheel holds them as package data (``corridor_planner/data/``, found with
    :mod:`importlib.resources`); a source checkout keeps them at the repository root
    (``data/``), where ``pyproject.toml`` maps them from.
    """
    installed = resources.files("corridor_planner").joinpath("data")
    if isinstance(installed, Path) and installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent / "data"


#: Folder holding the bundled corridors (one sub-folder per corridor).
BUNDLED_CORRIDORS_DIR = _bundled_data() / "corridors"
#: Programme files (centres planned across corridors), beside the bundles.
PROGRAMMES_DIR = BUNDLED_CORRIDORS_DIR.parent / "programmes"

#: Controlled vocabulary of services a facility or candidate may offer.
SERVICES: frozenset[str] = frozenset(
    {
        "emergency",
        "primary_care",
        "internal_medicine",
        "surgery",
        "trauma",
        "intensive_care",
        "obstetric_basic",
        "obstetric_comprehensive",
        "paediatrics",
        "cardiology",
        "cardiology_pci",
        "stroke",
        "oncology",
        "haematology",
        "transplant",
        "infectious_diseases",
        "tb",
        "tb_mdr",
        "dialysis",
        "pulmonology",
    }
)

#: Facility levels, lowest first (referral chains climb this list).
LEVELS: tuple[str, ...] = ("primary", "district", "regional", "national")

#: Origins up to which ``referrals`` unpacks every pathway's route (legs, km, route line).
#: With more (a country's settlements), only the pathways of this many most populous
#: origins are unpacked; the others carry minutes, rank, destination, cover and the
#: border posts crossed, and every output says so. An assumption: routing one pathway
#: takes a few full searches of the road graph, about 2 s at country scale (issue 21).
REFERRAL_DETAIL_LIMIT = 200

#: Pathway and refusal lines ``referrals`` prints on a terminal; above it, the pathways
#: of the most populous origins and a count of the rest (``--out`` writes every row).
PRINT_ROW_LIMIT = 600

#: Traveller profiles at a border post.
#: ``patient_handover``: an ambulance hands the patient over at the line to one from the
#: other side. ``cargo``: goods vehicles (the only traffic some posts take).
PROFILES: frozenset[str] = frozenset(
    {"citizen", "eaeu_worker", "third_country", "ambulance", "patient_handover", "cargo"}
)

#: Cover groups a facility may accept, with the services each may use there.
COVER_GROUPS: frozenset[str] = frozenset(
    {"resident_insured", "eaeu_worker", "foreign_insured", "foreign_uninsured"}
)

#: Who runs a facility: public, private, NGO or faith-based, or a public-private partnership.
OPERATORS: frozenset[str] = frozenset({"public", "private", "ngo", "faith_based", "ppp", "unknown"})

#: Who pays at a facility: the public payer (national cover, and cover valid through an
#: agreement), private insurance, the patient out of pocket, or nobody (free care).
PAYERS: frozenset[str] = frozenset({"public", "private_insurance", "out_of_pocket", "free"})
#: Cover groups whose care a payer other than the patient settles: a facility admits them
#: only if it takes ``public`` cover or treats for ``free`` (when it records its payers).
PAID_BY_COVER: frozenset[str] = frozenset({"resident_insured", "eaeu_worker", "foreign_insured"})

#: Population groups every coverage table reports (``all`` first).
GROUPS: tuple[str, ...] = ("all", "border_community", "migrants")

#: Groups a siting run may count more than once (``--weight-group border_community=2``).
WEIGHT_GROUPS: tuple[str, ...] = ("border_community", "migrants")

#: Profiles whose patients are a settlement's migrants, not its residents.
MIGRANT_PROFILES: frozenset[str] = frozenset({"eaeu_worker", "third_country"})

#: Profiles that travel but are not patients a settlement's figures describe.
NO_DEMAND_PROFILES: frozenset[str] = frozenset({"cargo"})

#: Border regimes a scenario may set for a post.
REGIMES: frozenset[str] = frozenset({"open", "restricted", "closed"})

#: Location models of ``score-sites`` (``budget`` last: it needs a budget, which a sweep
#: does not give). ``lscp``: fewest sites covering everyone; ``lscpb``: as many, most
#: covered twice; ``pcenter``: shortest longest trip; ``pmedian-capacitated``: p-median
#: with every site and facility within its capacity.
SITING_METHODS: tuple[str, ...] = (
    "gain",
    "mclp",
    "greedy",
    "pmedian",
    "capacitated",
    "lscp",
    "lscpb",
    "pcenter",
    "pmedian-capacitated",
    "budget",
)

#: Capacity-aware access measures of ``access``: E2SFCA (Luo & Qi 2009), three-step FCA
#: (Wan, Zou & Sternberg 2012) and the rational agent access model (Saxon & Snow 2020).
ACCESS_METHODS: tuple[str, ...] = ("e2sfca", "3sfca", "raam")

#: Access standards reported beside coverage: (service, minutes, share, source).
#: Lancet Commission on Global Surgery (Meara et al. 2015): at least 80% of people within
#: 2 hours of a facility able to do caesarean, laparotomy and open-fracture treatment.
ACCESS_STANDARDS: tuple[tuple[str, float, float, str], ...] = (
    (
        "surgery",
        120.0,
        0.80,
        N_(
            "Lancet Commission on Global Surgery target: at least 80% of people within 2 h of "
            "surgery (caesarean, laparotomy, open fracture)"
        ),
    ),
)

#: Threshold (minutes) of the report's headline coverage column: the Lancet 2 hours.
HEADLINE_THRESHOLD_MIN = 120.0

#: Settlements above which a map draws them aggregated (a hex grid of people and minutes),
#: a map names only the largest and the report summarises its per-settlement tables: a
#: page of one marker per settlement of a country (200,000 and more) never opens.
MAP_POINT_LIMIT = 5_000

#: Facilities above which a map draws them as light circles (tooltip, no popup) and the
#: catchments as one dissolved polygon per band instead of one per facility.
MAP_FACILITY_LIMIT = 300

#: Road pieces above which a map draws its roads as one layer, merged by name and simplified.
MAP_ROAD_LIMIT = 5_000

#: Settlements above which the report summarises its per-settlement tables (by country and
#: band, the worst off, the longest pathways) and writes every row to CSV files beside it.
REPORT_POINT_LIMIT = 5_000

#: Hexagon width (km, flat to flat) of an aggregated map's cells, and the most cells drawn:
#: the cells double in size until no more than that many hold people.
MAP_CELL_KM = 5.0
MAP_MAX_CELLS = 12_000

#: Settlements named on an aggregated map besides those always named (largest first).
MAP_LABEL_LIMIT = 400

#: Settlement rows the report shows above :data:`REPORT_POINT_LIMIT` (the worst off); every
#: row goes to a CSV file beside the report.
REPORT_WORST_SHOWN = 20

#: Eurasian Economic Union members: their workers get emergency care in each other's
#: countries (EAEU Treaty, Art. 98; corridor-facts.md §5).
EAEU_MEMBERS: frozenset[str] = frozenset({"AM", "BY", "KZ", "KG", "RU"})

#: Car speeds (km/h) by OSM ``highway`` class. Source: GeoHealthAccess (BLSQ),
#: ``geohealthaccess/resources/travel-speeds.json`` (see reference/corridor-facts.md §2b).
DEFAULT_SPEEDS_KPH: dict[str, float] = {
    "motorway": 90.0,
    "motorway_link": 90.0,
    "trunk": 80.0,
    "trunk_link": 80.0,
    "primary": 70.0,
    "primary_link": 70.0,
    "secondary": 60.0,
    "secondary_link": 60.0,
    "tertiary": 50.0,
    "tertiary_link": 50.0,
    "unclassified": 40.0,
    "residential": 30.0,
    "road": 30.0,
    "living_street": 20.0,
    "service": 20.0,
    "track": 20.0,
    "path": 10.0,
}

#: National implicit speed limits (km/h) for OSM ``maxspeed=<country>:<zone>`` values
#: (``KZ:urban``, ``RU:rural``), read when a way carries a zone instead of a number.
#:
#: Source, unless noted: OpenStreetMap wiki, "Default speed limits"
#: (https://wiki.openstreetmap.org/wiki/Default_speed_limits), revision 2607051 of
#: 2023-10-21, CC BY-SA 2.0, as parsed into ``legal_default_speeds.json`` by
#: westnordost/osm-legal-default-speeds (commit 97ce687). Only the car limit
#: (``maxspeed``) of a road type the wiki names exactly ``urban``, ``rural``, ``motorway``
#: or ``living street`` is kept; figures that need more than the zone (lanes, surface,
#: centre line) are left out.
#:
#: - UZ:urban is 60, not the wiki's 70: Presidential Decree PF-27 of 2023-02-28, cl. 15,
#:   lowered the limit in Tashkent, Nukus, regional and local centres, cities and towns to
#:   60 km/h from 2023-04-01 (Traffic Code cl. 78), as reported in "Maximum speed limit
#:   drop to 60 km/h", https://cdsol.uz/en/novosti/snizhenie-maksimalnoj-skorosti-do-60-km/ch/
#:   (villages may keep 70).
#: - Left out, no sourced figure: TJ and TM (not on the wiki page); AF (one limit, 90, for
#:   every road, no zone); CN:rural (the wiki gives 70 outside towns only for roads with a
#:   centre line, 40 without); PK:motorway (110 urban, 130 rural); trunk zones (no CAREC
#:   country lists one).
#: - RU (not CAREC, but its zone tags are common in the region's OSM data) and FR (the
#:   value in osmnx's tests) come from the same revision.
IMPLICIT_MAXSPEEDS_KPH: dict[str, float] = {
    "AZ:living_street": 20.0,
    "AZ:urban": 60.0,
    "AZ:rural": 90.0,
    "AZ:motorway": 110.0,
    "CN:urban": 50.0,
    "CN:motorway": 120.0,
    "GE:living_street": 20.0,
    "GE:urban": 60.0,
    "GE:rural": 90.0,
    "GE:motorway": 110.0,
    "KG:urban": 60.0,
    "KG:rural": 90.0,
    "KG:motorway": 110.0,
    "KZ:living_street": 20.0,
    "KZ:urban": 60.0,
    "KZ:rural": 110.0,
    "KZ:motorway": 140.0,
    "MN:living_street": 20.0,
    "MN:urban": 60.0,
    "MN:rural": 80.0,
    "PK:urban": 55.0,
    "PK:rural": 70.0,
    "UZ:urban": 60.0,
    "UZ:rural": 100.0,
    "RU:living_street": 20.0,
    "RU:urban": 60.0,
    "RU:rural": 90.0,
    "RU:motorway": 110.0,
    "FR:living_street": 20.0,
    "FR:urban": 50.0,
    "FR:rural": 80.0,
    "FR:motorway": 130.0,
}

#: Which OSM ways are drivable: osmnx's "drive" network filter in Overpass QL, as osmnx
#: 2.1.1 builds it (``osmnx._overpass._get_network_filter("drive")`` with the default
#: ``osmnx.settings.default_access``); a test holds it equal to the installed osmnx's.
#: A way is drivable when it has a ``highway`` tag and no ``!~`` term's regular expression
#: is found in its value: so not ``area=yes``, ``access=private``, ``motor_vehicle=no``,
#: ``motorcar=no``, tracks, paths, ``highway=service``, nor ``service=alley``,
#: ``driveway``, ``parking_aisle``... Terms match anywhere in the value, as Overpass does
#: (``highway=unknown`` contains ``no``; ``access=private;customers`` is private).
DRIVE_FILTER = (
    '["highway"]["area"!~"yes"]["access"!~"private"]'
    '["highway"!~"abandoned|bridleway|bus_guideway|construction|corridor|'
    "cycleway|elevator|escalator|footway|no|path|pedestrian|planned|platform|"
    'proposed|raceway|razed|rest_area|service|services|steps|track"]'
    '["motor_vehicle"!~"no"]["motorcar"!~"no"]'
    '["service"!~"alley|driveway|emergency_access|parking|parking_aisle|private"]'
)

#: Speed (km/h) for a road class missing from the table: GeoHealthAccess ``unclassified``.
FALLBACK_SPEED_KPH = 40.0

#: Speed (km/h) on the access leg from a point to its road node. Assumption: GeoHealthAccess
#: ``track`` speed (20 km/h), i.e. local roads and tracks not in the corridor network.
ACCESS_SPEED_KPH = 20.0

#: Farthest (m) a facility, settlement or candidate may lie from the network and still be
#: attached. Assumption: settlements in the bundled networks sit within 10 km of a
#: digitised road; anything farther is reported, not attached.
SNAP_LIMIT_M = 10_000.0

#: Farthest (m) a border post point may lie from the road node where two countries meet.
#: Post coordinates in the reference data are estimates of +-2 km (places.md §1).
POST_SNAP_LIMIT_M = 3_000.0

#: Access thresholds in minutes: 30 min, 1 h, and the Lancet Commission's 2 h.
DEFAULT_THRESHOLDS_MIN: tuple[int, ...] = (30, 60, 120)

#: Traveller profile used when the user names none.
DEFAULT_PROFILE = "citizen"

#: Farthest (degrees) a corridor's box may reach beyond its working CRS's area of use
#: (pyproj ``CRS.area_of_use``). A UTM zone is 6 degrees wide; 3 degrees past its edge
#: (9 from its central meridian) it stretches distances by about 1% (scale factor
#: 0.9996 (1 + (9 deg in radians * cos lat)^2 / 2) at the equator), beyond that a
#: CRS is the wrong one for the corridor.
MAX_CRS_MARGIN_DEG = 3.0

#: Smallest travel time (s) on any edge; zero weights can vanish in sparse matrices.
MIN_EDGE_SECONDS = 1e-3


@dataclass(frozen=True)
class Range:
    """Plausible values of one kind of number in a bundle, scenario or command line.

    Parameters
    ----------
    low, high : float
        Smallest and largest plausible value (inclusive).
    unit : str
        Unit named in messages.
    whole : bool
        The value must be a whole number.
    low_open : bool
        ``low`` itself is excluded (a speed of 0, say).

    """

    low: float
    high: float
    unit: str
    whole: bool = False
    low_open: bool = False

    def problem(self, value: Any) -> str | None:
        """Return why ``value`` is not a plausible number of this kind, or None."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"must be a number ({self.unit}), got {shown(value)}"
        # a Python int may have any number of digits: compare it exactly, never as a float
        # (math.isfinite(10**400) overflows)
        if isinstance(value, float) and not math.isfinite(value):
            return f"must be a finite number ({self.unit}), got {value!r}"
        if self.whole and isinstance(value, float) and not value.is_integer():
            return f"must be a whole number ({self.unit}), got {value!r}"
        below = value <= self.low if self.low_open else value < self.low
        if below or value > self.high:
            low = f"above {self.low:g}" if self.low_open else f"from {self.low:g}"
            return f"must be {low} to {self.high:g} {self.unit}, got {shown(value)}"
        return None


def shown(value: Any, limit: int = 40) -> str:
    """Return ``repr(value)`` cut to ``limit`` characters (a 400-digit number, a long text).

    An int too long for ``repr`` (over Python's digit limit) is described by its size.
    """
    try:
        text = repr(value)
    except ValueError:
        return "a number of more than 4300 digits"
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1]}… ({len(text)} characters)"


#: Report languages: code -> name in that language.
LANGUAGES = {"en": "English", "ru": "Русский", "ur": "اردو"}

#: Plausible ranges of every number a bundle, a scenario or the command line may hold.
#: Documented in the README ("Data"); a value outside is refused with its file, feature and
#: field, so a NaN delay or a speed of 1e9 km/h never reaches an answer.
RANGES: dict[str, Range] = {
    "speed_kph": Range(1, 130, "km/h"),
    "delay_minutes": Range(0, 43_200, "minutes (up to 30 days)"),
    "minutes_to_border": Range(0, 1_440, "minutes (up to a day)"),
    "delay_multiplier": Range(0, 20, "times the usual delay", low_open=True),
    # a road change slows a way at most a hundredfold: slower than that (1 km/h on a
    # 100 km/h road) is a closure, and a factor of 1e-300 would give 1e300-minute routes
    "speed_factor": Range(0.01, 1, "times the usual speed"),
    "population": Range(0, 50_000_000, "people per point", whole=True),
    "population_year": Range(1950, 2100, "year", whole=True),
    "migrant_share": Range(0, 1, "share of the population"),
    "beds": Range(0, 10_000, "beds", whole=True),
    "capacity": Range(0, 1_000_000, "patients a year"),
    "cost": Range(0, 1e12, "currency units"),
    "charge_amount": Range(0, 1e9, "currency units per episode"),
    "fare_per_km": Range(0, 10_000, "currency units per km"),
    "cost_year": Range(1990, 2100, "year", whole=True),
    "share": Range(0, 1, "share (0 to 1)"),
    "location_precision_m": Range(0, 100_000, "m", low_open=True),
    "referral_rate": Range(0, 100_000, "referrals per 100,000 people a year"),
    "snap_limit_m": Range(0, 100_000, "m", low_open=True),
    "threshold_minutes": Range(0, 10_080, "minutes (up to a week)", low_open=True),
    "distance_km": Range(0, 5_000, "km", low_open=True),
    "crossing_km": Range(0, 100, "km between the two places a crossing joins"),
    "leg_minutes": Range(0, 10_080, "minutes of driving (up to a week)", low_open=True),
    "programme_centres": Range(1, 100, "centres in a programme", whole=True),
    # a departure or any other date-time a user gives: opening hours and time zones are
    # only known for dates near ours, and years near 9999 overflow date arithmetic
    "date_year": Range(1970, 2100, "year", whole=True),
    "latitude": Range(-90, 90, "degrees"),
    "longitude": Range(-180, 180, "degrees"),
}

#: Time zone of each country's clocks (IANA names), used when a border post gives none:
#: a departure with a UTC offset is converted to the post's local time before its opening
#: hours are read. Kazakhstan moved to a single zone, UTC+5, on 1 March 2024 (tzdata).
COUNTRY_TIMEZONES: dict[str, str] = {
    "KZ": "Asia/Almaty",
    "KG": "Asia/Bishkek",
    "TJ": "Asia/Dushanbe",
    "UZ": "Asia/Tashkent",
    "PK": "Asia/Karachi",
    "CN": "Asia/Shanghai",
    "IR": "Asia/Tehran",
    "AF": "Asia/Kabul",
}
