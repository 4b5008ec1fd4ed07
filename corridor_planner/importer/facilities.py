"""Facility lists into bundle features: healthsites.io / OSM schema, or a ministry's table.

Every rule that turns a tag or a word into a level, a service or an operator is written
here (and listed in the import's SOURCES.md). A value no rule knows is reported, never
guessed; a row that ends with no level or no service is dropped with its reason.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import tomllib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd

from corridor_planner.errors import TOO_DEEP, DataError, Problem
from corridor_planner.importer.boundaries import Countries
from corridor_planner.importer.inputs import read_gis, require_file
from corridor_planner.schema.import_mapping import check_mapping
from corridor_planner.settings import RANGES

#: OSM ``amenity`` / ``healthcare`` kinds kept, and the level each is given.
KIND_LEVEL = {
    "hospital": "district",
    "clinic": "primary",
    "doctors": "primary",
    "centre": "primary",
}

#: ``healthcare:speciality`` words (OSM wiki values) and the service each means.
SPECIALITY_SERVICE = {
    "emergency": "emergency",
    "surgery": "surgery",
    "general_surgery": "surgery",
    "trauma": "trauma",
    "traumatology": "trauma",
    "orthopaedics": "trauma",
    "orthopedics": "trauma",
    "paediatrics": "paediatrics",
    "pediatrics": "paediatrics",
    "neonatology": "paediatrics",
    "obstetrics": "obstetric_basic",
    "gynaecology": "obstetric_basic",
    "gynecology": "obstetric_basic",
    "maternity": "obstetric_basic",
    "cardiology": "cardiology",
    "oncology": "oncology",
    "radiotherapy": "oncology",
    "haematology": "haematology",
    "hematology": "haematology",
    "dialysis": "dialysis",
    "nephrology": "dialysis",
    "tuberculosis": "tb",
    "phthisiology": "tb",
    "pulmonology": "pulmonology",
    "pneumology": "pulmonology",
    "internal": "internal_medicine",
    "general": "primary_care",
    "infectious_diseases": "infectious_diseases",
    "intensive_care": "intensive_care",
}

#: ``healthcare:speciality`` values OSM uses for care the vocabulary has no service for:
#: recognised (counted apart from unknown words), and never guessed into another service.
SPECIALITY_OUTSIDE_VOCABULARY = frozenset(
    {
        "ophthalmology",
        "dermatology",
        "dentistry",
        "orthodontics",
        "psychiatry",
        "otolaryngology",
        "urology",
        "neurology",
        "radiology",
        "gastroenterology",
        "endocrinology",
        "rheumatology",
        "physiotherapy",
        "vaccination",
        "plastic_surgery",
        "allergology",
        "dermatovenereology",
        "diagnostic_radiology",
        "clinic",
    }
)

#: Words of a facility's name that say one thing only, the service each means, and the
#: rule written to SOURCES.md. Used only when the tags name no service; each service so
#: found is an estimate (``services_estimated``), counted in the import summary.
NAME_SERVICE: tuple[tuple[str, str], ...] = (
    (r"\bcancer\b|\boncolog|онколог", "oncology"),
    (r"\bchildren|\bpa?ediatric|детск", "paediatrics"),
    (r"\bmaternity\b|\bmaternal\b|родильн|роддом|перинатальн", "obstetric_basic"),
    (r"\bcardiac\b|\bcardiolog|\bheart\b|кардиолог", "cardiology"),
    (r"\borthop(a)?edic|\btrauma\b|травмат", "trauma"),
    (r"\bdialysis\b|диализ", "dialysis"),
    (r"\btuberculosis\b|\bt\.?b\.? hospital|туберкул", "tb"),
)

#: Words of a name saying that a facility gives only care outside the vocabulary (an eye
#: or a dental hospital): such a facility is given no default service.
NAME_OUTSIDE_VOCABULARY = r"\beye\b|\bdental\b|\bdentist|стоматолог|глазн|офтальмолог"

#: Services assumed where tags and name give none (an assumption, counted in the summary):
#: OSM's hospital is "in-patient treatment, often with an emergency department".
DEFAULT_SERVICES = {"district": ("emergency",), "primary": ("primary_care",)}

#: Service assumed for a hospital whose ``beds`` tag says it has wards (an estimate).
BEDS_SERVICE = "internal_medicine"

#: ``operator:type`` values and the operator each means.
OPERATOR_WORDS = {
    "public": "public",
    "government": "public",
    "state": "public",
    "private": "private",
    "ngo": "ngo",
    "non_profit": "ngo",
    "community": "ngo",
    "religious": "faith_based",
    "faith_based": "faith_based",
    "ppp": "ppp",
}

#: Who a facility accepts when the source says nothing (an editable assumption): everyone
#: with national cover at home; emergency care for foreigners and EAEU workers.
DEFAULT_ACCEPTS: dict[str, Any] = {
    "resident_insured": "all",
    "eaeu_worker": ["emergency"],
    "foreign_uninsured": ["emergency"],
}

#: Position precision (m) of an OSM-mapped point (an assumption).
OSM_PRECISION_M = 50.0

LAT_COLUMNS = ("lat", "latitude", "y", "Y", "LAT", "Latitude")
LON_COLUMNS = ("lon", "lng", "longitude", "x", "X", "LON", "Longitude")


@dataclass
class Facilities:
    """Facility features and what the reading kept, assumed and dropped."""

    features: list[dict[str, Any]] = field(default_factory=list)
    read: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    unknown_words: Counter[str] = field(default_factory=Counter)
    outside_vocabulary: Counter[str] = field(default_factory=Counter)
    guessed: Counter[str] = field(default_factory=Counter)
    assumed_services: int = 0


def _clean(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _normalised(row: dict[str, Any]) -> dict[str, Any]:
    """Column names lower-cased with ``:`` as ``_`` (HOT and healthsites.io differ)."""
    return {str(k).lower().replace(":", "_"): v for k, v in row.items()}


# the healthsites / OSM schema ------------------------------------------------------------


def from_osm_tags(tags: dict[str, Any], report: Facilities) -> dict[str, Any] | None:
    """Level, services, beds and operator of one OSM-schema record, or None (reported).

    Services come from ``healthcare:speciality`` and ``emergency=yes``; where those give
    none, from unambiguous words of the name (:data:`NAME_SERVICE`), ``beds`` on a hospital
    and the level's default, each of these an estimate recorded in ``services_estimated``.
    """
    tags = _normalised(tags)
    kind = _clean(tags.get("amenity")) or _clean(tags.get("healthcare"))
    level = KIND_LEVEL.get(kind or "")
    if level is None:
        report.dropped[f"not a facility type modelled ({kind or 'no amenity'})"] += 1
        return None
    services = _tagged_services(tags, report)
    beds = _beds(tags.get("beds"))
    estimated: dict[str, str] = {}
    if not services:
        estimated = _estimated_services(tags, level, beds)
        if not estimated:
            report.dropped["only care outside the service vocabulary (eye, dental)"] += 1
            return None
        services = list(estimated)
        for service, rule in estimated.items():
            report.guessed[f"{service} ({rule})"] += 1
        report.assumed_services += 1
    operator_word = (_clean(tags.get("operator_type")) or "").lower()
    operator = OPERATOR_WORDS.get(operator_word, "unknown")
    if operator_word and operator_word not in OPERATOR_WORDS:
        report.unknown_words[f"operator:type={operator_word}"] += 1
    fields: dict[str, Any] = {
        "level": level,
        "services": services,
        "beds": beds,
        "operator": operator,
    }
    if estimated:
        fields["services_estimated"] = estimated
    return fields


def _tagged_services(tags: dict[str, Any], report: Facilities) -> list[str]:
    """Services the tags state: ``healthcare:speciality`` words and ``emergency=yes``."""
    services: list[str] = []
    specialities = _clean(tags.get("healthcare_speciality")) or _clean(tags.get("speciality"))
    for word in re.split(r"[;,]", specialities or ""):
        word = word.strip().lower()
        if not word:
            continue
        service = SPECIALITY_SERVICE.get(word)
        if service is None and word in SPECIALITY_OUTSIDE_VOCABULARY:
            report.outside_vocabulary[f"healthcare:speciality={word}"] += 1
        elif service is None:
            report.unknown_words[f"healthcare:speciality={word}"] += 1
        elif service not in services:
            services.append(service)
    if str(tags.get("emergency", "")).lower() == "yes" and "emergency" not in services:
        services.append("emergency")
    return services


def _estimated_services(tags: dict[str, Any], level: str, beds: int | None) -> dict[str, str]:
    """Services guessed from the name, the beds and the level, each with its rule."""
    name = " ".join(
        _clean(tags.get(k)) or "" for k in ("name", "name_en", "name_ru", "name_ky")
    ).casefold()
    estimated = {service: "name" for pattern, service in NAME_SERVICE if re.search(pattern, name)}
    if estimated:
        return estimated
    if re.search(NAME_OUTSIDE_VOCABULARY, name):
        return {}
    no_emergency = str(tags.get("emergency", "")).lower() == "no"
    if level == "district" and beds:
        estimated[BEDS_SERVICE] = "hospital with beds"
    elif level == "district" and no_emergency:
        estimated[BEDS_SERVICE] = "hospital with emergency=no"
    for service in DEFAULT_SERVICES[level]:
        if not (no_emergency and service == "emergency"):
            estimated.setdefault(service, f"default for a {level} facility")
    return estimated


def _beds(value: Any) -> int | None:
    """Beds of a record, or None when absent or not a plausible number (see beds_problem)."""
    if beds_problem(value) is not None or _clean(value) is None:
        return None
    return int(float(str(value).strip()))


def beds_problem(value: Any) -> str | None:
    """Return why a present ``beds`` value is not a plausible number of beds, or None."""
    if _clean(value) is None:
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        return f"{str(value)[:40]!r} is not a number of beds"
    return RANGES["beds"].problem(number)


# a ministry's table with a mapping ------------------------------------------------------


@dataclass
class Mapping:
    """How a ministry's spreadsheet maps onto the bundle (``--facility-schema MAP.toml``)."""

    columns: dict[str, str]
    levels: dict[str, str]
    services: dict[str, str]
    operators: dict[str, str]
    separator: str = ";"
    precision_m: float = 1_000.0


def read_mapping(path: Path) -> Mapping:
    """Read a mapping TOML; every level and service it maps to must be in the vocabulary.

    Raises
    ------
    DataError
        Naming the key of the mapping file that is wrong.
    """
    try:
        data = tomllib.loads(require_file(path, "facility mapping").read_text(encoding="utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DataError(Problem(path.name, "-", "-", f"not valid TOML ({exc})")) from exc
    except RecursionError:
        raise DataError(Problem(path.name, "-", "-", TOO_DEEP)) from None
    mapping, problems = check_mapping(data, path.name)
    if mapping is None:
        raise DataError(problems)
    return Mapping(
        columns=mapping.columns.model_dump(exclude_none=True),
        levels={k.lower(): v for k, v in mapping.levels.items()},
        services={k.lower(): v for k, v in mapping.services.items()},
        operators={k.lower(): v for k, v in mapping.operators.items()},
        separator=mapping.separator,
        precision_m=float(mapping.location_precision_m),
    )


def from_mapping(
    row: dict[str, Any], mapping: Mapping, report: Facilities
) -> dict[str, Any] | None:
    """Level, services, beds and operator of one spreadsheet row, or None (reported)."""
    column = mapping.columns
    level_word = (_clean(row.get(column["level"])) or "").lower()
    level = mapping.levels.get(level_word)
    if level is None:
        report.unknown_words[f"level={level_word}"] += 1
        report.dropped["level not in the mapping"] += 1
        return None
    services = []
    for word in (_clean(row.get(column.get("services", ""))) or "").split(mapping.separator):
        word = word.strip().lower()
        if not word:
            continue
        service = mapping.services.get(word)
        if service is None:
            report.unknown_words[f"service={word}"] += 1
        elif service not in services:
            services.append(service)
    if not services:
        report.dropped["no service the mapping knows"] += 1
        return None
    operator_word = (_clean(row.get(column.get("operator", ""))) or "").lower()
    operator = mapping.operators.get(operator_word, "unknown")
    if operator_word and operator_word not in mapping.operators:
        report.unknown_words[f"operator={operator_word}"] += 1
    return {
        "level": level,
        "services": services,
        "beds": _beds(row.get(column.get("beds", ""))),
        "operator": operator,
    }


# reading --------------------------------------------------------------------------------


def read_table(path: Path) -> gpd.GeoDataFrame:
    """Read a facility list (CSV, XLSX, GeoJSON, GeoPackage) as WGS84 points.

    Raises
    ------
    DataError
        If the file cannot be read or has neither geometry nor lat/lon columns.
    """
    suffix = path.suffix.lower()
    require_file(path, "facilities")
    if suffix in (".csv", ".xlsx", ".xls"):
        problems = sheet_problems(path)
        if problems:
            raise DataError(problems)
        # only an empty cell is missing: a cell reading "nan" or "NA" is refused, not dropped
        blanks: dict[str, Any] = {"keep_default_na": False, "na_values": [""]}
        try:
            table = (
                pd.read_csv(path, **blanks) if suffix == ".csv" else pd.read_excel(path, **blanks)
            )
        except Exception as exc:  # pandas raises many types for unreadable files
            raise DataError(Problem(path.name, "-", "-", f"cannot read ({exc})")) from exc
        by_lower = {str(c).lower(): c for c in table.columns}
        lat = next((by_lower[c.lower()] for c in LAT_COLUMNS if c.lower() in by_lower), None)
        lon = next((by_lower[c.lower()] for c in LON_COLUMNS if c.lower() in by_lower), None)
        if lat is None or lon is None:
            raise DataError(Problem(path.name, "-", "lat/lon", "no latitude and longitude columns"))
        lats = pd.to_numeric(table[lat], errors="coerce")
        lons = pd.to_numeric(table[lon], errors="coerce")
        return gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(lons, lats), crs="EPSG:4326")
    return read_gis(path, "facilities")


#: Most problems of one table listed (the rest are counted).
MAX_LISTED = 20


def sheet_problems(path: Path) -> list[Problem]:
    """Problems of a CSV or XLSX table that pandas would pass over silently.

    A header naming a column twice (pandas would rename one ``name.1``), a CSV line whose
    field count differs from the header's (an unquoted comma shifts every column), and an
    XLSX formula (read as its cached value, or as nothing in a file no spreadsheet saved).
    """
    if path.suffix.lower() == ".csv":
        rows = _csv_rows(path)
        where = "line"
    else:
        rows = _xlsx_rows(path)
        where = "row"
    header: list[Any] = next(rows, ([], 1))[0]
    names = [str(name).strip() for name in header]
    problems = [
        Problem(path.name, f"{where} 1", name, "this column name appears more than once")
        for name in sorted({n for n in names if n and names.count(n) > 1})
    ]
    for cells, number in rows:
        if path.suffix.lower() == ".csv":
            if cells and len(cells) != len(header):
                problems.append(
                    Problem(
                        path.name,
                        f"{where} {number}",
                        "-",
                        f"{len(cells)} fields where the header has {len(header)} (an "
                        "unquoted comma or quote in a value? quote the value)",
                    )
                )
            continue
        for column, cell in zip(names, cells, strict=False):
            if isinstance(cell, str) and cell.startswith("="):
                problems.append(
                    Problem(
                        path.name,
                        f"{where} {number}",
                        column or "-",
                        f"a formula ({cell[:40]}), not a value: save the sheet with "
                        "values (paste as values)",
                    )
                )
    if len(problems) > MAX_LISTED:
        extra = len(problems) - MAX_LISTED
        problems = [
            *problems[:MAX_LISTED],
            Problem(path.name, "-", "-", f"and {extra} more such problems"),
        ]
    return problems


def _csv_rows(path: Path) -> Iterator[tuple[list[Any], int]]:
    """Yield (fields, line number) of a CSV file, as pandas's reader splits them."""
    try:
        with path.open(newline="", encoding="utf-8", errors="replace") as stream:
            reader = csv.reader(stream)
            for fields in reader:
                yield fields, reader.line_num
    except (OSError, csv.Error) as exc:
        raise DataError(Problem(path.name, "-", "-", f"cannot read ({exc})")) from exc


def _xlsx_rows(path: Path) -> Iterator[tuple[list[Any], int]]:
    """Yield (cell values, row number) of an XLSX file's first sheet, formulas as text."""
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many types for unreadable files
        raise DataError(Problem(path.name, "-", "-", f"cannot read ({exc})")) from exc
    try:
        sheet = book.worksheets[0]
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield list(cells), number
    finally:
        book.close()


def _row_label(file: str, index: int) -> str:
    """How a user finds row ``index`` (from 0, after the header) of a table."""
    suffix = Path(file).suffix.lower()
    if suffix == ".csv":
        return f"line {index + 2}"
    if suffix in (".xlsx", ".xls"):
        return f"row {index + 2}"
    return f"feature #{index}"


def row_problems(
    row: dict[str, Any], file: str, index: int, mapping: Mapping | None
) -> list[Problem]:
    """Values of one table row that are present but wrong: beds, a date as a name or id."""
    label = _row_label(file, index)
    columns = mapping.columns if mapping else {}
    by_lower = {str(k).lower().replace(":", "_"): k for k in row}
    problems = []
    beds_column = columns.get("beds") or by_lower.get("beds")
    if beds_column is not None:
        problem = beds_problem(row.get(beds_column))
        if problem:
            problems.append(Problem(file, label, str(beds_column), problem))
    text_columns = [columns.get("id"), columns.get("name")] if mapping else []
    text_columns += [] if mapping else [by_lower.get(k) for k in ("name", "osm_id", "uuid")]
    for column in text_columns:
        if column is not None and isinstance(row.get(column), dt.date | dt.time):
            problems.append(
                Problem(
                    file,
                    label,
                    str(column),
                    f"a date ({row[column]}), not a name or id: the spreadsheet read the "
                    "value as a date; format the column as text",
                )
            )
    return problems


def build_facilities(
    table: gpd.GeoDataFrame,
    file: str,
    countries: Countries,
    clip: Any,
    mapping: Mapping | None,
    report: Facilities | None = None,
    strict: bool = True,
) -> Facilities:
    """Turn a facility table into bundle features (country from the boundaries).

    Rows without a point, outside the clip area or outside every country are dropped
    with their reason; ids are made unique. With ``strict`` (a table the user gave, not
    an OSM extract's amenities), beds that are not a plausible number and names or ids
    that a spreadsheet turned into dates are refused, naming the row and column.
    """
    report = report or Facilities()
    seen: set[str] = set()
    records = table.drop(columns=table.geometry.name).to_dict("records")
    if strict:
        problems = [p for i, row in enumerate(records) for p in row_problems(row, file, i, mapping)]
        if problems:
            raise DataError(problems)
    for index, row in enumerate(records):
        report.read += 1
        point = table.geometry.iloc[index]
        if point is None or point.is_empty or point.geom_type != "Point" or np.isnan(point.x):
            report.dropped["no position"] += 1
            continue
        if clip is not None and not clip.intersects(point):
            report.dropped["outside the clip area"] += 1
            continue
        where = int(countries.of_points(np.array([point.x]), np.array([point.y]))[0])
        if where < 0:
            report.dropped["outside every boundary polygon"] += 1
            continue
        name = _name(row, mapping)
        if name is None:
            report.dropped["no name"] += 1
            continue
        fields = from_mapping(row, mapping, report) if mapping else from_osm_tags(row, report)
        if fields is None:
            continue
        fid = _unique(_slug(_identifier(row, mapping) or name), seen)
        report.features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [point.x, point.y]},
                "properties": {
                    "id": fid,
                    "name": name,
                    "country": countries.code(where),
                    **fields,
                    "capacity": {},
                    "accepts": DEFAULT_ACCEPTS,
                    "location_precision_m": mapping.precision_m if mapping else OSM_PRECISION_M,
                    "source": f"{file} row {index + 1}"
                    + (f" ({row.get('osm_id')})" if row.get("osm_id") else ""),
                },
            }
        )
    return report


def _name(row: dict[str, Any], mapping: Mapping | None) -> str | None:
    if mapping:
        return _clean(row.get(mapping.columns["name"]))
    tags = _normalised(row)
    return next(
        (_clean(tags.get(k)) for k in ("name", "name_en", "name_ru") if _clean(tags.get(k))),
        None,
    )


def _identifier(row: dict[str, Any], mapping: Mapping | None) -> str | None:
    if mapping and "id" in mapping.columns:
        return _clean(row.get(mapping.columns["id"]))
    tags = _normalised(row)
    return _clean(tags.get("osm_id")) or _clean(tags.get("uuid"))


def _slug(text: str) -> str:
    slug = re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")
    return slug or "facility"


def _unique(fid: str, seen: set[str]) -> str:
    candidate, number = fid, 2
    while candidate in seen:
        candidate, number = f"{fid}_{number}", number + 1
    seen.add(candidate)
    return candidate


def osm_health_table(health: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    """Health amenities read from an extract, as a table in the OSM schema."""
    rows = [{**h["tags"], "osm_id": h["osm_id"]} for h in health]
    points = gpd.points_from_xy([h["lon"] for h in health], [h["lat"] for h in health])
    return gpd.GeoDataFrame(rows, geometry=points, crs="EPSG:4326")
