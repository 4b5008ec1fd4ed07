"""Documented defaults: vocabularies, speeds per road class, snap limits, thresholds.

Every number here has a source or is marked as an assumption. A corridor overrides the
speeds and snap limits in its ``corridor.toml``.
"""

from __future__ import annotations

from pathlib import Path

#: Folder holding the bundled corridors (one sub-folder per corridor).
BUNDLED_CORRIDORS_DIR = Path(__file__).resolve().parent.parent / "data" / "corridors"

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

#: Smallest travel time (s) on any edge; zero weights can vanish in sparse matrices.
MIN_EDGE_SECONDS = 1e-3
