"""Load a corridor bundle from ``data/corridors/<id>/`` and validate every file in it."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyproj
from shapely.errors import ShapelyError
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from corridor_planner import settings
from corridor_planner.bundle.costs import COSTS_FILE, CostBook, read_cost_book
from corridor_planner.bundle.cover_rules import DEFAULT_RULES, CoverRule
from corridor_planner.bundle.origins import ORIGINS_FILE, Origins, Settlement, read_origins
from corridor_planner.bundle.posts import BorderPost, ClearancePoint
from corridor_planner.bundle.scenario import ReferralRates, RoadChange, Scenario
from corridor_planner.bundle.validation import (
    Rule,
    candidate_problems,
    country_problems,
    facility_problems,
    post_problems,
)
from corridor_planner.errors import TOO_DEEP, DataError, NotFoundError, Problem
from corridor_planner.schema import layers
from corridor_planner.schema.base import MAX_NAME, FileModel, ModelT, check
from corridor_planner.schema.corridor import CorridorFile
from corridor_planner.schema.cover import CoverFile, CoverRuleTable
from corridor_planner.schema.scenario import ReferralRatesTable, ScenarioFile
from corridor_planner.settings import LANGUAGES

CORRIDOR_FILE = "corridor.toml"
#: What a scenario's file stem (its name) may be made of.
SCENARIO_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
FACILITIES_FILE = "facilities.geojson"
POSTS_FILE = "border_posts.geojson"
POPULATION_FILE = "population.geojson"
CANDIDATES_FILE = "candidates.geojson"
BORDER_FILE = "border.geojson"
COVER_FILE = "cover.toml"
REQUIRED_SCENARIOS = ("baseline", "borders_closed", "winter")
#: Columns every point table has, even when its file holds no feature.
FIELDS: dict[str, tuple[str, ...]] = {
    FACILITIES_FILE: (
        "id",
        "name",
        "country",
        "level",
        "services",
        "beds",
        "capacity",
        "accepts",
        "location_precision_m",
        "source",
        "service_capacity",
    ),
    POSTS_FILE: (
        "id",
        "name",
        "countries",
        "opening_hours",
        "season",
        "delay_minutes",
        "profiles_allowed",
        "source",
    ),
    POPULATION_FILE: (
        "id",
        "name",
        "country",
        "population",
        "border_community",
        "migrant_share",
        "source",
    ),
    CANDIDATES_FILE: (
        "id",
        "name",
        "country",
        "services",
        "capacity",
        "service_capacity",
        "cost",
        "reason",
        "source",
    ),
}


#: Columns of the corridor's named places (``[[named_places]]``), before any translation.
NAMED_PLACE_COLUMNS = ("id", "name", "country", "population", "role", "source")


def no_named_places() -> gpd.GeoDataFrame:
    """Return an empty table of named places (a bundle that names none)."""
    return gpd.GeoDataFrame(
        columns=list(NAMED_PLACE_COLUMNS), geometry=gpd.GeoSeries(), crs="EPSG:4326"
    )


@dataclass
class Corridor:
    """A loaded, validated corridor bundle.

    Attributes
    ----------
    id, name : str
        Identifier (folder name) and display name.
    path : Path
        The bundle folder.
    countries : tuple of str
        ISO 3166 alpha-2 codes of the countries the corridor spans.
    bbox : tuple of float
        ``(west, south, east, north)`` in WGS84 degrees.
    crs : pyproj.CRS
        Metric working CRS.
    roads_path : Path
        Road file (OSM XML or GIS lines).
    roads_format : str
        ``osm_xml`` or ``lines``.
    roads_class_column, roads_country_column : str
        For ``lines``: the columns holding the road class and the country.
    speeds : dict
        ``{"default": {class: km/h}, "KG": {class: km/h}, ...}``.
    snap_limit_m : float
        Farthest a point may lie from the network and still be attached.
    thresholds_min : tuple of int
        Default access thresholds in minutes.
    facilities, population, candidates : GeoDataFrame
        Points in WGS84 with the bundle's properties as columns.
    posts : dict of str to BorderPost
        Border posts by id, with ``posts_gdf`` their points.
    border : GeoDataFrame or None
        The international border line(s), if the bundle has ``border.geojson``.
    scenarios : dict of str to Scenario
        Scenarios by name.
    referral_rates : ReferralRates
        Referrals per 100,000 people a year from ``corridor.toml`` (per country or all).
    demo_route : tuple of str or None
        The two places ``demo`` routes between (``[demo] route`` in ``corridor.toml``).
    named_places : GeoDataFrame
        Places maps name that are not the corridor's population (``[[named_places]]`` in
        ``corridor.toml``: a referral city beyond the catchment); never counted.
    cover_rules : tuple of CoverRule
        Who is covered where (``cover.toml``; the default rules when absent).
    costs : CostBook
        Charges, fares and out-of-pocket context (``costs.toml``; empty when absent).
    origins : Origins
        Migrants' countries of origin beyond the corridor (``origins.toml``; empty when
        absent): their places, TB sites and the way home.
    bad_scenarios : dict
        Only with ``skip_bad_scenarios``: optional scenario files left out, with their
        problems (a sweep runs the others).

    """

    id: str
    name: str
    path: Path
    countries: tuple[str, ...]
    bbox: tuple[float, float, float, float]
    crs: pyproj.CRS
    roads_path: Path
    roads_format: str
    roads_class_column: str
    roads_country_column: str
    speeds: dict[str, dict[str, float]]
    snap_limit_m: float
    thresholds_min: tuple[int, ...]
    facilities: gpd.GeoDataFrame
    population: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    posts: dict[str, BorderPost]
    posts_gdf: gpd.GeoDataFrame
    border: gpd.GeoDataFrame | None
    scenarios: dict[str, Scenario]
    referral_rates: ReferralRates = field(default_factory=ReferralRates)
    demo_route: tuple[str, str] | None = None
    cover_rules: tuple[CoverRule, ...] = DEFAULT_RULES
    costs: CostBook = field(default_factory=CostBook)
    origins: Origins = field(default_factory=Origins)
    bad_scenarios: dict[str, list[str]] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    named_places: gpd.GeoDataFrame = field(default_factory=no_named_places)

    def speed_kph(self, highway: str, country: str | None) -> float:
        """Speed for a road class in a country: country table, then default, then fallback."""
        for table in (self.speeds.get(country or "", {}), self.speeds.get("default", {})):
            if highway in table:
                return float(table[highway])
        return settings.FALLBACK_SPEED_KPH

    def referral_rate(
        self, service: str, scenario: Scenario, country: str | None = None
    ) -> float | None:
        """Referrals per 100,000 people a year in ``country``: scenario first, then corridor."""
        rate = scenario.referral_rates.rate(service, country)
        return rate if rate is not None else self.referral_rates.rate(service, country)

    def scenario(self, name: str) -> Scenario:
        """Return the scenario called ``name`` or raise NotFoundError listing the known ones."""
        if name not in self.scenarios:
            known = ", ".join(sorted(self.scenarios))
            raise NotFoundError(f"corridor {self.id} has no scenario {name!r}; known: {known}")
        return self.scenarios[name]


def bundled_corridors() -> list[Path]:
    """Folders of the corridors shipped with the package, sorted by id."""
    root = settings.BUNDLED_CORRIDORS_DIR
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / CORRIDOR_FILE).is_file())


def resolve_corridor_path(id_or_path: str | Path) -> Path:
    """Turn a bundled corridor id or a folder path into the bundle folder.

    Raises
    ------
    NotFoundError
        If neither a bundled id nor a folder with ``corridor.toml``.

    """
    candidate = Path(id_or_path)
    if (candidate / CORRIDOR_FILE).is_file():
        return candidate
    bundled = settings.BUNDLED_CORRIDORS_DIR / str(id_or_path)
    if (bundled / CORRIDOR_FILE).is_file():
        return bundled
    known = ", ".join(p.name for p in bundled_corridors()) or "none"
    raise NotFoundError(
        f"no corridor {str(id_or_path)!r}: not a bundled id (known: {known}) "
        f"and not a folder with {CORRIDOR_FILE}"
    )


def load_corridor(id_or_path: str | Path, *, skip_bad_scenarios: bool = False) -> Corridor:
    """Load and validate a corridor bundle.

    Parameters
    ----------
    id_or_path : str or Path
        A bundled corridor id (``almaty_bishkek``) or the path of a bundle folder.
    skip_bad_scenarios : bool
        Leave out optional scenario files with problems (listed in ``bad_scenarios``)
        instead of refusing the bundle; a sweep uses this to run the other scenarios.

    Returns
    -------
    Corridor

    Raises
    ------
    NotFoundError
        If the corridor does not exist.
    DataError
        Listing every problem in the bundle as ``file: feature id: field: problem``.

    """
    path = resolve_corridor_path(id_or_path)
    loader = _BundleLoader(path, lenient=skip_bad_scenarios)
    return loader.load()


class _BundleLoader:
    """Reads each file of one bundle through its model, collecting problems as it goes."""

    def __init__(self, path: Path, lenient: bool = False) -> None:
        self.path = path
        self.lenient = lenient
        self.bad_scenarios: dict[str, list[str]] = {}
        self.problems: list[Problem] = []
        self.countries: tuple[str, ...] = ()
        self.bbox: tuple[float, float, float, float] = (-180.0, -90.0, 180.0, 90.0)
        self.rule_ids: set[str] = set()

    def problem(self, file: str, feature: str, fld: str, message: str) -> None:
        self.problems.append(Problem(file, feature, fld, message))

    def checked(self, model: type[ModelT], data: Any, file: str) -> ModelT | None:
        """Validate ``data`` against ``model``, keeping its problems."""
        obj, problems = check(model, data, file)
        self.problems.extend(problems)
        return obj

    def load(self) -> Corridor:
        meta = read_toml(self.path / CORRIDOR_FILE, CORRIDOR_FILE)
        spec = self.checked(CorridorFile, meta, CORRIDOR_FILE)
        self.countries = tuple(spec.countries) if spec else _raw_countries(meta)
        self.bbox = spec.bbox if spec else self.bbox
        self.problems += named_countries(CORRIDOR_FILE, "speeds", meta, self.countries)
        self.problems += rate_countries(CORRIDOR_FILE, meta, self.countries)
        roads_path = self._roads_path(spec)
        facilities = self._points(FACILITIES_FILE, layers.FacilityProperties)
        posts_gdf = self._points(POSTS_FILE, layers.BorderPostProperties)
        population = self._points(POPULATION_FILE, layers.SettlementProperties)
        candidates = self._points(CANDIDATES_FILE, layers.CandidateProperties)
        border = self._border()
        post_ids = _string_ids(posts_gdf)
        facility_ids = _string_ids(facilities)
        cover_rules = self._cover_rules()
        self.rule_ids = {r.id for r in cover_rules}
        costs = self._costs(self.countries)
        origins = self._origins(population, post_ids | facility_ids)
        scenarios = self._scenarios(post_ids | origins.post_ids(), facility_ids)
        if self.problems:
            raise DataError(self.problems, corridor=self.path.name)
        assert spec is not None and roads_path is not None
        return Corridor(
            id=spec.id,
            name=spec.name,
            path=self.path,
            countries=self.countries,
            bbox=self.bbox,
            crs=pyproj.CRS.from_user_input(spec.crs),
            roads_path=roads_path,
            roads_format=spec.roads.format,
            roads_class_column=spec.roads.class_column,
            roads_country_column=spec.roads.country_column,
            speeds=_speed_tables(spec),
            snap_limit_m=float(spec.snap_limit_m),
            thresholds_min=tuple(meta.get("thresholds_minutes", settings.DEFAULT_THRESHOLDS_MIN)),
            facilities=facilities,
            population=population,
            candidates=candidates,
            posts={row.id: _post_from_row(row) for row in posts_gdf.itertuples()},
            posts_gdf=posts_gdf,
            border=border,
            scenarios=scenarios,
            referral_rates=_referral_rates(spec.referral_rates),
            demo_route=spec.demo.route if spec.demo else None,
            named_places=_named_places(spec),
            cover_rules=cover_rules,
            costs=costs,
            origins=origins,
            bad_scenarios=self.bad_scenarios,
            metadata=meta,
        )

    def _roads_path(self, spec: CorridorFile | None) -> Path | None:
        if spec is None:
            return None
        path = self.path / spec.roads.file
        if not path.is_file():
            self.problem(spec.roads.file, "-", "-", "road file not found")
            return None
        return path

    # GeoJSON layers ----------------------------------------------------------------------

    def _read_features(self, name: str, required: bool = True) -> list[Any] | None:
        file = self.path / name
        if not file.is_file():
            if required:
                self.problem(name, "-", "-", "file not found")
            return None
        try:
            data = json.loads(file.read_text(encoding="utf-8"), parse_constant=_no_constant)
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
            self.problem(name, "-", "-", f"not valid JSON ({exc})")
            return None
        except RecursionError:
            self.problem(name, "-", "-", TOO_DEEP)
            return None
        except OSError as exc:
            self.problem(name, "-", "-", f"cannot be read ({exc.strerror or exc})")
            return None
        if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
            self.problem(name, "-", "type", "must be a GeoJSON FeatureCollection")
            return None
        features = data.get("features")
        if not isinstance(features, list):
            self.problem(name, "-", "features", "must be a list")
            return None
        return features

    def _points(self, name: str, model: type[FileModel]) -> gpd.GeoDataFrame:
        """Read a point layer: each feature's properties through ``model``, then its rules."""
        rows: list[dict[str, Any]] = []
        geoms: list[BaseGeometry] = []
        seen: set[str] = set()
        for index, feature in enumerate(self._read_features(name) or []):
            props = feature.get("properties") if isinstance(feature, dict) else None
            fid = props.get("id") if isinstance(props, dict) else None
            label = _feature_label(fid, index)
            if label in seen:
                self.problem(name, label, "id", "duplicate id")
            seen.add(label)
            geom = self._point_geometry(name, label, feature)
            self._feature_problems(name, label, model, props)
            if geom is not None:
                rows.append(props if isinstance(props, dict) else {})
                geoms.append(geom)
        table = gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326")
        for column in FIELDS[name]:
            if column not in table.columns:
                table[column] = pd.Series(dtype=object)
        return table

    def _feature_problems(self, name: str, label: str, model: type[FileModel], props: Any) -> None:
        obj, problems = check(model, props, name, feature=label)
        self.problems += problems
        if isinstance(props, dict) and "country" in model.model_fields:
            self.problems += country_problems(name, label, props, self.countries)
        rule = FEATURE_RULES.get(name)
        if obj is not None and rule is not None:
            self.problems += rule(name, label, obj, self.countries)

    def _point_geometry(self, name: str, label: str, feature: Any) -> Point | None:
        raw = feature.get("geometry") if isinstance(feature, dict) else None
        geom = _geometry_or_none(raw)
        if not isinstance(geom, Point) or geom.is_empty:
            self.problem(name, label, "geometry", "must be a GeoJSON Point")
            return None
        west, south, east, north = self.bbox
        if not (west <= geom.x <= east and south <= geom.y <= north):
            self.problem(
                name,
                label,
                "geometry",
                f"point ({geom.y:.4f}, {geom.x:.4f}) lies outside the corridor box "
                f"[{west}, {south}, {east}, {north}]",
            )
        return geom

    def _border(self) -> gpd.GeoDataFrame | None:
        features = self._read_features(BORDER_FILE, required=False)
        if features is None:
            return None
        geoms = []
        for index, feature in enumerate(features):
            label = f"#{index}"
            props = feature.get("properties") if isinstance(feature, dict) else None
            self.problems += check(layers.BorderLineProperties, props or {}, BORDER_FILE, label)[1]
            raw = feature.get("geometry") if isinstance(feature, dict) else None
            geom = _geometry_or_none(raw)
            if geom is None:
                self.problem(BORDER_FILE, label, "geometry", "not a valid geometry")
            else:
                geoms.append(geom)
        return gpd.GeoDataFrame(geometry=geoms, crs="EPSG:4326")

    # scenarios ---------------------------------------------------------------------------

    def _scenarios(self, post_ids: set[str], facility_ids: set[str]) -> dict[str, Scenario]:
        folder = self.path / "scenarios"
        scenarios: dict[str, Scenario] = {}
        for file in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
            rel = f"scenarios/{file.name}"
            if not file.is_file():
                kind = "a directory" if file.is_dir() else "not a readable file (broken link?)"
                self.problem(rel, "-", "-", f"is {kind}, not a scenario file")
                continue
            if not SCENARIO_NAME.fullmatch(file.stem):
                self.problem(
                    rel,
                    "-",
                    "-",
                    "a scenario's file name must use letters, digits, '_' and '-' only "
                    "(it becomes its name on the command line and in maps)",
                )
                continue
            before = len(self.problems)
            scenario = self._scenario(file, rel, post_ids, facility_ids)
            if scenario is not None:
                scenarios[scenario.name] = scenario
            elif self.lenient and file.stem not in REQUIRED_SCENARIOS:
                found = self.problems[before:]
                del self.problems[before:]
                self.bad_scenarios[file.stem] = [str(problem) for problem in found]
        for name in REQUIRED_SCENARIOS:
            if not (folder / f"{name}.toml").is_file():
                self.problem(f"scenarios/{name}.toml", "-", "-", "required scenario missing")
        return scenarios

    def _scenario(
        self, file: Path, rel: str, post_ids: set[str], facility_ids: set[str]
    ) -> Scenario | None:
        try:
            data = read_toml(file, rel)
        except DataError as exc:
            self.problems.extend(exc.problems)
            return None
        spec, problems = check(ScenarioFile, data, rel)
        problems += scenario_references(rel, data, post_ids, facility_ids, self.rule_ids)
        problems += rate_countries(rel, data, self.countries)
        self.problems += problems
        if spec is None or problems:
            return None
        return _scenario_from(file.stem, spec)

    # optional files ----------------------------------------------------------------------

    def _optional_toml(self, name: str) -> dict[str, Any] | None:
        """Parse an optional TOML file of the bundle; None when absent or unreadable."""
        path = self.path / name
        if not path.exists():
            return None
        try:
            return read_toml(path, name)
        except DataError as exc:
            self.problems.extend(exc.problems)
            return None

    def _costs(self, countries: Sequence[str]) -> CostBook:
        """Read ``costs.toml`` (charges, fares, out-of-pocket context), if the bundle has one."""
        data = self._optional_toml(COSTS_FILE)
        if data is None:
            return CostBook()
        book, problems = read_cost_book(data, countries)
        self.problems.extend(problems)
        return book

    def _origins(self, population: gpd.GeoDataFrame, taken_ids: set[str]) -> Origins:
        """Read ``origins.toml`` (countries of origin beyond the corridor), if present."""
        data = self._optional_toml(ORIGINS_FILE)
        if data is None:
            return Origins()
        settlements = {}
        if population is not None and {"id", "country"} <= set(population.columns):
            points = population.to_crs("EPSG:4326") if population.crs else population
            settlements = {
                str(sid): Settlement(str(country), float(point.y), float(point.x))
                for sid, country, point in zip(
                    points["id"], points["country"], points.geometry, strict=True
                )
            }
        origins, problems = read_origins(data, settlements, self.countries, taken_ids)
        self.problems.extend(problems)
        return origins

    def _cover_rules(self) -> tuple[CoverRule, ...]:
        """Read ``cover.toml`` (``[[rule]]`` tables), or keep the default rules."""
        data = self._optional_toml(COVER_FILE)
        if data is None:
            return DEFAULT_RULES
        spec, problems = check(CoverFile, data, COVER_FILE)
        self.problems += _named_tables(problems, "rule", data.get("rule"))
        if spec is None:
            return DEFAULT_RULES
        ids = [r.id for r in spec.rule]
        for rule_id in sorted({i for i in ids if ids.count(i) > 1}):
            self.problem(COVER_FILE, rule_id, "id", "duplicate id")
        return tuple(_cover_rule_from(rule) for rule in spec.rule)


#: Rules over one validated feature of a layer, beyond its model.
FEATURE_RULES: dict[str, Rule] = {
    FACILITIES_FILE: facility_problems,
    POSTS_FILE: post_problems,
    CANDIDATES_FILE: candidate_problems,
}


# cross-file checks -------------------------------------------------------------------------


def _feature_label(fid: Any, index: int) -> str:
    """How problems name a feature: its id when that is one plain line, else ``#index``.

    An id with a line break, a control character or more than ``MAX_NAME`` characters is
    itself reported as a problem; naming the feature by it would break the one-line
    ``file: feature: field: problem`` format.
    """
    plain = (
        isinstance(fid, str)
        and fid.strip() != ""
        and len(fid) <= MAX_NAME
        and all(c.isprintable() for c in fid)
    )
    return fid if plain else f"#{index}"


def _geometry_or_none(raw: Any) -> BaseGeometry | None:
    """Read a GeoJSON geometry object, or None when it is missing or not a geometry.

    Parameters
    ----------
    raw : Any
        The ``geometry`` member of a feature as parsed from JSON.

    Returns
    -------
    shapely.geometry.base.BaseGeometry or None
        None for a missing, malformed or unknown geometry (``{"type": ""}`` included), so
        that the caller reports it against the file, the feature and the field.
    """
    if not raw:
        return None
    try:
        return shape(raw)
    except (
        AttributeError,
        TypeError,
        ValueError,
        KeyError,
        IndexError,
        OverflowError,
        ShapelyError,
    ):
        return None


def _names(value: Any) -> list[str]:
    """Return the keys of a table or the text items of a list (anything else: none)."""
    if isinstance(value, dict):
        return [str(k) for k in value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _raw_countries(meta: dict[str, Any]) -> tuple[str, ...]:
    """Return the corridor's countries as written, when ``corridor.toml`` did not validate."""
    return (
        tuple(c for c in meta.get("countries", ()) if isinstance(c, str))
        if isinstance(meta.get("countries"), list)
        else ()
    )


def named_countries(
    file: str, key: str, data: dict[str, Any], countries: Sequence[str]
) -> list[Problem]:
    """Check that each key of table ``key`` (``[speeds]``) is ``default`` or a country."""
    return [
        Problem(file, "-", f"{key}.{name}", "not 'default' nor a country")
        for name in _names(data.get(key))
        if name != "default" and name not in countries
    ]


def rate_countries(file: str, data: dict[str, Any], countries: Sequence[str]) -> list[Problem]:
    """Check that each ``[referral_rates.XX]`` table names a corridor country."""
    rates = data.get("referral_rates")
    tables = [k for k, v in rates.items() if isinstance(v, dict)] if isinstance(rates, dict) else []
    return [
        Problem(file, "-", f"referral_rates.{key}", "not a corridor country")
        for key in tables
        if key not in countries
    ]


def scenario_references(
    file: str,
    data: dict[str, Any],
    post_ids: set[str],
    facility_ids: set[str],
    rule_ids: set[str],
) -> list[Problem]:
    """Check that the posts, facilities, cover rules and languages a scenario names exist."""
    problems = [
        Problem(file, post, "posts", "no border post with this id")
        for post in _names(data.get("posts"))
        if post not in post_ids
    ]
    for key in ("capacity", "contracts"):
        problems += [
            Problem(file, facility, key, "no facility with this id")
            for facility in _names(data.get(key))
            if facility not in facility_ids
        ]
    known = ", ".join(sorted(rule_ids))
    problems += [
        Problem(file, "-", "agreements", f"no cover rule {rule!r} (known: {known})")
        for rule in _names(data.get("agreements"))
        if rule not in rule_ids
    ]
    languages = sorted(set(LANGUAGES) - {"en"})
    problems += [
        Problem(file, "-", key, f"must be a text in one of {', '.join(languages)}")
        for key in data
        if key.startswith("description_") and key.removeprefix("description_") not in languages
    ]
    return problems


def _named_tables(problems: list[Problem], table: str, items: Any) -> list[Problem]:
    """Name the feature of a problem in ``[[table]]`` #i by that table's ``id``."""
    items = items if isinstance(items, list) else []
    ids = {
        f"{table} #{i}": item["id"]
        for i, item in enumerate(items)
        if isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"].strip()
    }
    return [replace(p, feature=ids.get(p.feature, p.feature)) for p in problems]


# building the objects from validated models ------------------------------------------------


def _speed_tables(spec: CorridorFile) -> dict[str, dict[str, float]]:
    tables: dict[str, dict[str, float]] = {"default": dict(settings.DEFAULT_SPEEDS_KPH)}
    for key, table in spec.speeds.items():
        tables.setdefault(key, {}).update({k: float(v) for k, v in table.items()})
    return tables


def _referral_rates(table: ReferralRatesTable) -> ReferralRates:
    return ReferralRates(
        {service: float(rate) for service, rate in table.everywhere.items()},
        {
            country: {service: float(rate) for service, rate in rates.items()}
            for country, rates in table.by_country.items()
        },
    )


def _scenario_from(name: str, spec: ScenarioFile) -> Scenario:
    kwargs: dict[str, Any] = {}
    if spec.restricted_profiles is not None:
        kwargs["restricted_profiles"] = frozenset(spec.restricted_profiles)
    return Scenario(
        name=name,
        description=spec.description or "",
        default_regime=spec.default_regime,
        post_regimes=dict(spec.posts),
        delay_multiplier=float(spec.delay_multiplier),
        depart=spec.depart,
        cover_portable=spec.cover_portable,
        referral_rates=_referral_rates(spec.referral_rates),
        capacity={
            facility: {service: float(n) for service, n in amounts.items()}
            for facility, amounts in spec.capacity.items()
        },
        road_changes=tuple(
            RoadChange(
                ways=tuple(str(w) for w in change.ways),
                closed=change.closed,
                speed_factor=float(change.speed_factor),
                reason=change.reason,
                source=change.source,
            )
            for change in spec.road_changes
        ),
        agreements=frozenset(spec.agreements),
        translations={
            key.removeprefix("description_"): text for key, text in spec.translations.items()
        },
        contracts=frozenset(spec.contracts),
        **kwargs,
    )


def _cover_rule_from(rule: CoverRuleTable) -> CoverRule:
    def optional(values: list[str] | None) -> frozenset[str] | None:
        return None if values is None else frozenset(values)

    return CoverRule(
        id=rule.id,
        name=rule.name,
        group=rule.group,
        where=rule.where,
        profiles=optional(rule.profiles),
        nationalities=optional(rule.nationalities),
        facility_countries=optional(rule.facility_countries),
        services=optional(rule.services),
        active=rule.active,
        source=rule.source,
    )


def read_toml(path: Path, label: str) -> dict[str, Any]:
    """Read a TOML file of a bundle, or raise DataError naming it.

    Raises
    ------
    DataError
        If the file is not UTF-8, not TOML, or cannot be read at all.
    """
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        message = f"not UTF-8 text (byte {exc.start}); save the file as UTF-8"
    except tomllib.TOMLDecodeError as exc:
        message = f"not valid TOML ({exc})"
    except RecursionError:
        message = TOO_DEEP
    except OSError as exc:
        message = f"cannot be read ({exc.strerror or exc})"
    raise DataError(Problem(label, "-", "-", message))


def _no_constant(name: str) -> float:
    """Refuse JSON's non-standard NaN and Infinity: a bundle's numbers must be finite."""
    raise ValueError(f"{name} is not a number a bundle may hold")


def _string_ids(table: gpd.GeoDataFrame) -> set[str]:
    """Ids of a point table that are strings (others were reported by the checker)."""
    if "id" not in table.columns:
        return set()
    return {i for i in table["id"] if isinstance(i, str)}


def _listed(value: Any) -> list[Any]:
    """Return a list property of a row, or empty (a missing property reads as NaN)."""
    return value if isinstance(value, list) else []


def _named_places(spec: CorridorFile) -> gpd.GeoDataFrame:
    """Return the ``[[named_places]]`` of ``corridor.toml`` as WGS84 points."""
    places = spec.named_places
    if not places:
        return no_named_places()
    translated = sorted({key for place in places for key in place.names})
    table = pd.DataFrame(
        [
            [getattr(place, c) for c in NAMED_PLACE_COLUMNS]
            + [place.names.get(k) for k in translated]
            for place in places
        ],
        columns=[*NAMED_PLACE_COLUMNS, *translated],
    )
    points = gpd.points_from_xy([p.lon for p in places], [p.lat for p in places])
    return gpd.GeoDataFrame(table, geometry=points, crs="EPSG:4326")


def _post_from_row(row: Any) -> BorderPost:
    """Build a BorderPost from a validated row of ``border_posts.geojson``."""
    season = getattr(row, "season", None)
    return BorderPost(
        id=row.id,
        name=row.name,
        countries=(row.countries[0], row.countries[1]),
        opening_hours=row.opening_hours,
        season=season if isinstance(season, str) else None,
        delay_minutes=dict(row.delay_minutes),
        profiles_allowed=frozenset(row.profiles_allowed),
        source=row.source,
        timezone=getattr(row, "timezone", None)
        if isinstance(getattr(row, "timezone", None), str)
        else None,
        clearance=tuple(
            ClearancePoint(
                country=point["country"],
                name=point["name"],
                minutes_to_border=float(point["minutes_to_border"]),
                timezone=point.get("timezone"),
            )
            for point in _listed(getattr(row, "clearance", None))
            if isinstance(point, dict)
        ),
    )


__all__ = [
    "Corridor",
    "bundled_corridors",
    "load_corridor",
    "resolve_corridor_path",
]
