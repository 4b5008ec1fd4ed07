"""The model of ``corridor.toml``: what the corridor is, where, and how to read its roads.

Which speed tables and referral-rate tables name countries of the corridor is checked by
the loader (:mod:`corridor_planner.bundle.corridor`), as is the road file's existence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

import pyproj
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from corridor_planner import settings
from corridor_planner.schema.base import (
    BundleFile,
    CountryCode,
    FileModel,
    Identifier,
    Name,
    Text,
    in_range,
    list_of,
    one_of,
    pattern_field,
)
from corridor_planner.schema.layers import NAME_TRANSLATION
from corridor_planner.schema.scenario import ReferralRatesTable

#: Road file formats: OSM XML, or GIS lines with a class and a country column.
ROAD_FORMATS = ("osm_xml", "lines")


def _distinct(values: list[str]) -> list[str]:
    twice = sorted({v for v in values if values.count(v) > 1})
    if twice:
        raise PydanticCustomError(
            "duplicate", "lists {twice} more than once", {"twice": ", ".join(twice)}
        )
    return values


if TYPE_CHECKING:
    Countries: TypeAlias = list[str]
    Thresholds: TypeAlias = list[float]
    Speed: TypeAlias = float
    SnapLimit: TypeAlias = float
    Kilometres: TypeAlias = float
    RoadFormat: TypeAlias = str
    Latitude: TypeAlias = float
    Longitude: TypeAlias = float
    People: TypeAlias = int
    PeopleYear: TypeAlias = int
else:
    Countries = Annotated[
        list_of(CountryCode, "country codes", min_length=1), AfterValidator(_distinct)
    ]
    Thresholds = list_of(in_range("threshold_minutes"), "minutes", min_length=1)
    Speed = in_range("speed_kph")
    SnapLimit = in_range("snap_limit_m")
    Kilometres = in_range("distance_km")
    RoadFormat = one_of(ROAD_FORMATS, "road format")
    Latitude = in_range("latitude")
    Longitude = in_range("longitude")
    People = in_range("population")
    PeopleYear = in_range("population_year")


def _projected_crs(value: str) -> str:
    try:
        crs = pyproj.CRS.from_user_input(value)
    except pyproj.exceptions.CRSError:
        raise PydanticCustomError("crs", "unknown CRS {value}", {"value": repr(value)}) from None
    if not crs.is_projected:
        raise PydanticCustomError(
            "crs", "{value} is not a projected (metric) CRS", {"value": repr(value)}
        )
    return value


def _bbox(value: Any) -> Any:
    numbers = isinstance(value, list) and len(value) == 4
    ok = (
        numbers
        and not any(settings.RANGES["longitude"].problem(v) for v in value[0::2])
        and not any(settings.RANGES["latitude"].problem(v) for v in value[1::2])
        and value[0] < value[2]
        and value[1] < value[3]
    )
    if not ok:
        raise PydanticCustomError("bbox", "must be [west, south, east, north] degrees")
    return tuple(float(v) for v in value)


def _two_places(value: Any) -> Any:
    if not (isinstance(value, list) and len(value) == 2):
        raise PydanticCustomError("route", "must be two place names")
    return tuple(value)


#: A projected (metric) CRS: ``EPSG:32643``.
ProjectedCrs = Annotated[str, AfterValidator(_projected_crs)]
#: ``[west, south, east, north]`` in WGS84 degrees.
Bbox = Annotated[
    tuple[float, float, float, float],
    BeforeValidator(_bbox),
    WithJsonSchema(
        {
            "type": "array",
            "description": "[west, south, east, north] in WGS84 degrees",
            "prefixItems": [
                {"type": "number", "minimum": -180, "maximum": 180},
                {"type": "number", "minimum": -90, "maximum": 90},
                {"type": "number", "minimum": -180, "maximum": 180},
                {"type": "number", "minimum": -90, "maximum": 90},
            ],
            "minItems": 4,
            "maxItems": 4,
        }
    ),
]
#: Two place names.
TwoPlaces = Annotated[tuple[Name, Name], BeforeValidator(_two_places)]


class RoadsTable(FileModel):
    """``[roads]``: the road file and, for GIS lines, its class and country columns."""

    file: BundleFile
    format: RoadFormat = "osm_xml"
    class_column: Name = "highway"
    country_column: Name = "country"


class FileTable(FileModel):
    """``[files.<layer>]``: one file of the bundle, its source and licence (for reports)."""

    path: BundleFile
    source: Text
    licence: Text


class PopulationTable(FileModel):
    """``[population]``: how ``tools/make_population.py`` builds ``population.geojson``."""

    max_road_km: Kilometres | None = None
    countries: Countries | None = None


class DemoTable(FileModel):
    """``[demo]``: what ``corridor-planner demo`` shows."""

    route: TwoPlaces


class NamedPlace(FileModel):
    """``[[named_places]]``: a place a map names that is not the corridor's population.

    A referral city beyond the catchment (Karachi for the Makran coast): its people are
    not counted in any figure, but a reader needs to see where the referrals go.
    """

    id: Identifier
    name: Name
    names: dict[str, Name] = pattern_field(NAME_TRANSLATION)
    country: CountryCode
    lat: Latitude
    lon: Longitude
    #: Sizes the label only; never counted in a figure.
    population: People | None = None
    population_year: PeopleYear | None = None
    #: Why the map names it although the corridor does not model its people.
    role: Text
    source: Text


class CorridorFile(FileModel):
    """``corridor.toml``: the corridor's identity, extent, CRS, roads and defaults."""

    id: Identifier
    name: Name
    #: The corridor's name in the report's other languages: ``name_ru``, ``name_ur``.
    names: dict[str, Name] = pattern_field(NAME_TRANSLATION)
    countries: Countries
    bbox: Bbox
    crs: ProjectedCrs
    thresholds_minutes: Thresholds = Field(
        default_factory=lambda: [float(t) for t in settings.DEFAULT_THRESHOLDS_MIN]
    )
    snap_limit_m: SnapLimit = settings.SNAP_LIMIT_M
    #: The date the bundle's data describe.
    data_date: Text | None = None
    roads: RoadsTable
    #: ``{"default" or country: {road class: km/h}}``.
    speeds: dict[Name, dict[Name, Speed]] = Field(default_factory=dict)
    referral_rates: ReferralRatesTable = Field(default_factory=ReferralRatesTable)
    files: dict[Identifier, FileTable] = Field(default_factory=dict)
    population: PopulationTable | None = None
    demo: DemoTable | None = None
    named_places: list[NamedPlace] = Field(default_factory=list)

    @field_validator("crs")
    @classmethod
    def _crs_covers_bbox(cls, crs: str, info: ValidationInfo) -> str:
        """Refuse a working CRS whose area of use lies far from the corridor's box."""
        bbox = info.data.get("bbox")
        problem = crs_area_problem(crs, bbox) if bbox else None
        if problem:
            raise PydanticCustomError("crs", "{problem}", {"problem": problem})
        return crs


def crs_area_problem(crs: str, bbox: tuple[float, float, float, float]) -> str | None:
    """Return why ``crs`` is the wrong working CRS for ``bbox``, or None.

    The box may reach at most ``settings.MAX_CRS_MARGIN_DEG`` beyond the CRS's area of use
    (a CRS with no recorded area, or one across the antimeridian, is not checked).
    """
    area = pyproj.CRS.from_user_input(crs).area_of_use
    if area is None or area.west > area.east:
        return None
    margin = settings.MAX_CRS_MARGIN_DEG
    west, south, east, north = bbox
    inside = (
        west >= area.west - margin
        and east <= area.east + margin
        and south >= area.south - margin
        and north <= area.north + margin
    )
    if inside:
        return None
    return (
        f"{crs} is meant for {area.west:g} to {area.east:g} E, {area.south:g} "
        f"to {area.north:g} N; the corridor's bbox [{west:g}, {south:g}, {east:g}, "
        f"{north:g}] reaches more than {margin:g} degrees beyond it: choose the CRS "
        "(a UTM zone) the corridor lies in"
    )
