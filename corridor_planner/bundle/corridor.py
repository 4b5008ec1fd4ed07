"""Load a corridor bundle from ``data/corridors/<id>/`` and validate every file in it."""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyproj
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from corridor_planner import settings
from corridor_planner.bundle.costs import COSTS_FILE, CostBook, read_cost_book
from corridor_planner.bundle.cover_rules import DEFAULT_RULES, WHERE, CoverRule
from corridor_planner.bundle.origins import ORIGINS_FILE, Origins, Settlement, read_origins
from corridor_planner.bundle.posts import BorderPost, ClearancePoint
from corridor_planner.bundle.scenario import ReferralRates, RoadChange, Scenario
from corridor_planner.bundle.validation import CheckFn, FeatureChecker
from corridor_planner.errors import DataError, NotFoundError, Problem
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
    CANDIDATES_FILE: ("id", "name", "country", "services", "capacity", "cost", "reason", "source"),
}
ROAD_FORMATS = ("osm_xml", "lines")


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
    """Reads each file of one bundle, collecting problems instead of stopping at the first."""

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

    def load(self) -> Corridor:
        meta = self._read_toml()
        crs = self._crs(meta)
        countries = meta.get("countries")
        self.countries = (
            tuple(c for c in countries if isinstance(c, str)) if isinstance(countries, list) else ()
        )
        self.bbox = self._bbox(meta)
        roads = self._roads(meta)
        speeds = self._speeds(meta)
        self._check_numbers(meta)
        facilities = self._points(FACILITIES_FILE, FeatureChecker.facility)
        posts_gdf = self._points(POSTS_FILE, FeatureChecker.border_post)
        population = self._points(POPULATION_FILE, FeatureChecker.settlement)
        candidates = self._points(CANDIDATES_FILE, FeatureChecker.candidate)
        border = self._border()
        post_ids = _string_ids(posts_gdf)
        facility_ids = _string_ids(facilities)
        cover_rules = self._cover_rules()
        self.rule_ids = {r.id for r in cover_rules}
        costs = self._costs(self.countries)
        origins = self._origins(population, post_ids | facility_ids)
        scenarios = self._scenarios(post_ids | origins.post_ids(), facility_ids)
        rates = self._rates(meta.get("referral_rates", {}), CORRIDOR_FILE)
        demo_route = self._demo_route(meta)
        if self.problems:
            raise DataError(self.problems, corridor=self.path.name)
        posts = {row.id: _post_from_row(row) for row in posts_gdf.itertuples()}
        assert crs is not None and roads is not None
        return Corridor(
            id=str(meta["id"]),
            name=str(meta["name"]),
            path=self.path,
            countries=self.countries,
            bbox=self.bbox,
            crs=crs,
            roads_path=roads["path"],
            roads_format=roads["format"],
            roads_class_column=roads["class_column"],
            roads_country_column=roads["country_column"],
            speeds=speeds,
            snap_limit_m=float(meta.get("snap_limit_m", settings.SNAP_LIMIT_M)),
            thresholds_min=tuple(meta.get("thresholds_minutes", settings.DEFAULT_THRESHOLDS_MIN)),
            facilities=facilities,
            population=population,
            candidates=candidates,
            posts=posts,
            posts_gdf=posts_gdf,
            border=border,
            scenarios=scenarios,
            referral_rates=rates,
            demo_route=demo_route,
            cover_rules=cover_rules,
            costs=costs,
            origins=origins,
            bad_scenarios=self.bad_scenarios,
            metadata=meta,
        )

    # corridor.toml -----------------------------------------------------------------------

    def _read_toml(self) -> dict[str, Any]:
        meta = read_toml(self.path / CORRIDOR_FILE, CORRIDOR_FILE)
        for key, kind in (("id", str), ("name", str), ("countries", list), ("crs", str)):
            if key not in meta:
                self.problem(CORRIDOR_FILE, "-", key, "missing")
            elif not isinstance(meta[key], kind):
                self.problem(CORRIDOR_FILE, "-", key, f"must be a {kind.__name__}")
        countries = meta.get("countries")
        for code in countries if isinstance(countries, list) else []:
            if not (isinstance(code, str) and len(code) == 2 and code.isupper()):
                self.problem(
                    CORRIDOR_FILE, "-", "countries", f"{code!r} is not an ISO alpha-2 code"
                )
        return meta

    def _crs(self, meta: dict[str, Any]) -> pyproj.CRS | None:
        value = meta.get("crs")
        if not isinstance(value, str):
            return None
        try:
            crs = pyproj.CRS.from_user_input(value)
        except pyproj.exceptions.CRSError:
            self.problem(CORRIDOR_FILE, "-", "crs", f"unknown CRS {value!r}")
            return None
        if not crs.is_projected:
            self.problem(CORRIDOR_FILE, "-", "crs", f"{value!r} is not a projected (metric) CRS")
            return None
        return crs

    def _bbox(self, meta: dict[str, Any]) -> tuple[float, float, float, float]:
        box: Any = meta.get("bbox")
        ok = (
            isinstance(box, list)
            and len(box) == 4
            and not any(settings.RANGES["longitude"].problem(v) for v in box[0::2])
            and not any(settings.RANGES["latitude"].problem(v) for v in box[1::2])
            and box[0] < box[2]
            and box[1] < box[3]
        )
        if not ok:
            self.problem(CORRIDOR_FILE, "-", "bbox", "must be [west, south, east, north] degrees")
            return self.bbox
        return (float(box[0]), float(box[1]), float(box[2]), float(box[3]))

    def _roads(self, meta: dict[str, Any]) -> dict[str, Any] | None:
        roads = meta.get("roads")
        if not isinstance(roads, dict) or "file" not in roads:
            self.problem(CORRIDOR_FILE, "-", "roads.file", "missing")
            return None
        fmt = roads.get("format", "osm_xml")
        if fmt not in ROAD_FORMATS:
            self.problem(CORRIDOR_FILE, "-", "roads.format", f"must be one of {ROAD_FORMATS}")
            return None
        path = self.path / str(roads["file"])
        if not path.is_file():
            self.problem(str(roads["file"]), "-", "-", "road file not found")
            return None
        return {
            "path": path,
            "format": fmt,
            "class_column": str(roads.get("class_column", "highway")),
            "country_column": str(roads.get("country_column", "country")),
        }

    def _speeds(self, meta: dict[str, Any]) -> dict[str, dict[str, float]]:
        tables: dict[str, dict[str, float]] = {"default": dict(settings.DEFAULT_SPEEDS_KPH)}
        speeds = meta.get("speeds") or {}
        if not isinstance(speeds, dict):
            self.problem(CORRIDOR_FILE, "-", "speeds", "must be a table of speed tables")
            return tables
        for key, table in speeds.items():
            if key != "default" and key not in self.countries:
                self.problem(CORRIDOR_FILE, "-", f"speeds.{key}", "not 'default' nor a country")
            if not isinstance(table, dict):
                self.problem(CORRIDOR_FILE, "-", f"speeds.{key}", "must be {road class = km/h}")
                continue
            for road_class, kph in table.items():
                complaint = settings.RANGES["speed_kph"].problem(kph)
                if complaint:
                    self.problem(CORRIDOR_FILE, "-", f"speeds.{key}.{road_class}", complaint)
                    continue
                tables.setdefault(key, {})[road_class] = float(kph)
        return tables

    def _check_numbers(self, meta: dict[str, Any]) -> None:
        if "snap_limit_m" in meta:
            complaint = settings.RANGES["snap_limit_m"].problem(meta["snap_limit_m"])
            if complaint:
                self.problem(CORRIDOR_FILE, "-", "snap_limit_m", complaint)
        thresholds = meta.get("thresholds_minutes", [])
        if not isinstance(thresholds, list) or not thresholds:
            self.problem(CORRIDOR_FILE, "-", "thresholds_minutes", "must be a list of minutes")
            return
        for value in thresholds:
            complaint = settings.RANGES["threshold_minutes"].problem(value)
            if complaint:
                self.problem(CORRIDOR_FILE, "-", "thresholds_minutes", complaint)

    def _demo_route(self, meta: dict[str, Any]) -> tuple[str, str] | None:
        demo = meta.get("demo", {})
        route = demo.get("route") if isinstance(demo, dict) else None
        if route is None:
            return None
        if not (
            isinstance(route, list) and len(route) == 2 and all(isinstance(r, str) for r in route)
        ):
            self.problem(CORRIDOR_FILE, "-", "demo.route", "must be two place names")
            return None
        return (route[0], route[1])

    # GeoJSON point files -----------------------------------------------------------------

    def _read_features(self, name: str, required: bool = True) -> list[dict[str, Any]] | None:
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

    def _points(self, name: str, check: CheckFn) -> gpd.GeoDataFrame:
        features = self._read_features(name) or []
        checker = FeatureChecker(name, self.countries, self.problems)
        rows: list[dict[str, Any]] = []
        geoms: list[BaseGeometry] = []
        seen: set[str] = set()
        for index, feature in enumerate(features):
            props = feature.get("properties") if isinstance(feature, dict) else None
            props = props if isinstance(props, dict) else {}
            fid = props.get("id")
            label = fid if isinstance(fid, str) and fid else f"#{index}"
            if label in seen:
                self.problem(name, label, "id", "duplicate id")
            seen.add(label)
            geom = self._point_geometry(name, label, feature)
            check(checker, label, props)
            if geom is not None:
                rows.append(props)
                geoms.append(geom)
        table = gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326")
        for column in FIELDS[name]:
            if column not in table.columns:
                table[column] = pd.Series(dtype=object)
        return table

    def _point_geometry(self, name: str, label: str, feature: Any) -> Point | None:
        raw = feature.get("geometry") if isinstance(feature, dict) else None
        try:
            geom = shape(raw) if raw else None
        except (AttributeError, TypeError, ValueError, KeyError):
            geom = None
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
            try:
                geoms.append(shape(feature["geometry"]))
            except (KeyError, TypeError, ValueError, AttributeError):
                self.problem(BORDER_FILE, f"#{index}", "geometry", "not a valid geometry")
        return gpd.GeoDataFrame(geometry=geoms, crs="EPSG:4326")

    # scenarios ---------------------------------------------------------------------------

    def _rates(self, value: Any, file: str) -> ReferralRates:
        """Read ``[referral_rates]``: ``service = rate`` and ``[referral_rates.KZ]`` tables."""
        if not isinstance(value, dict):
            self.problem(file, "-", "referral_rates", "must be a table of service = rate")
            return ReferralRates()
        everywhere: dict[str, float] = {}
        by_country: dict[str, dict[str, float]] = {}
        for key, item in value.items():
            if isinstance(item, dict):
                if key not in self.countries:
                    self.problem(file, "-", f"referral_rates.{key}", "not a corridor country")
                    continue
                by_country[key] = self._rate_table(item, file, f"referral_rates.{key}")
            else:
                everywhere.update(self._rate_table({key: item}, file, "referral_rates"))
        return ReferralRates(everywhere, by_country)

    def _rate_table(self, table: dict[str, Any], file: str, where: str) -> dict[str, float]:
        rates = {}
        for service, rate in table.items():
            complaint = settings.RANGES["referral_rate"].problem(rate)
            if service not in settings.SERVICES:
                self.problem(file, "-", where, f"unknown service {service!r}")
            elif complaint:
                self.problem(file, "-", where, f"{service}: {complaint}")
            else:
                rates[service] = float(rate)
        return rates

    def _capacity(
        self, value: Any, file: str, facility_ids: set[str]
    ) -> dict[str, dict[str, float]]:
        if not isinstance(value, dict):
            self.problem(file, "-", "capacity", "must be a table of facility id = {service = n}")
            return {}
        out: dict[str, dict[str, float]] = {}
        for facility, by_service in value.items():
            if facility not in facility_ids:
                self.problem(file, facility, "capacity", "no facility with this id")
                continue
            if not isinstance(by_service, dict):
                self.problem(file, facility, "capacity", "must be {service = patients per year}")
                continue
            for service, amount in by_service.items():
                complaint = settings.RANGES["capacity"].problem(amount)
                if service not in settings.SERVICES:
                    self.problem(file, facility, "capacity", f"unknown service {service!r}")
                elif complaint:
                    self.problem(file, facility, "capacity", f"{service}: {complaint}")
                else:
                    out.setdefault(facility, {})[service] = float(amount)
        return out

    def _scenarios(self, post_ids: set[str], facility_ids: set[str]) -> dict[str, Scenario]:
        folder = self.path / "scenarios"
        scenarios: dict[str, Scenario] = {}
        for file in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
            if not file.is_file():
                kind = "a directory" if file.is_dir() else "not a readable file (broken link?)"
                self.problem(f"scenarios/{file.name}", "-", "-", f"is {kind}, not a scenario file")
                continue
            before = len(self.problems)
            if not SCENARIO_NAME.fullmatch(file.stem):
                self.problem(
                    f"scenarios/{file.name}",
                    "-",
                    "-",
                    "a scenario's file name must use letters, digits, '_' and '-' only "
                    "(it becomes its name on the command line and in maps)",
                )
                continue
            scenario = self._scenario(file, post_ids, facility_ids)
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

    def _scenario(self, file: Path, post_ids: set[str], facility_ids: set[str]) -> Scenario | None:
        rel = f"scenarios/{file.name}"
        try:
            data = read_toml(file, rel)
        except DataError as exc:
            self.problems.extend(exc.problems)
            return None
        before = len(self.problems)
        default = data.get("default_regime", "open")
        if not isinstance(default, str) or default not in settings.REGIMES:
            self.problem(rel, "-", "default_regime", f"must be one of {sorted(settings.REGIMES)}")
        regimes = data.get("posts", {})
        if not isinstance(regimes, dict):
            self.problem(rel, "-", "posts", "must be a table of post id = regime")
            regimes = {}
        for post_id, regime in regimes.items():
            if post_id not in post_ids:
                self.problem(rel, post_id, "posts", "no border post with this id")
            if not isinstance(regime, str) or regime not in settings.REGIMES:
                self.problem(
                    rel, post_id, "posts", f"regime {regime!r} not in {sorted(settings.REGIMES)}"
                )
        restricted = data.get("restricted_profiles")
        if restricted is not None and not isinstance(restricted, list):
            self.problem(rel, "-", "restricted_profiles", "must be a list of profiles")
            restricted = None
        elif restricted is not None:
            bad = [p for p in restricted if not isinstance(p, str) or p not in settings.PROFILES]
            if bad:
                self.problem(rel, "-", "restricted_profiles", f"unknown profiles {bad}")
        multiplier = data.get("delay_multiplier", 1.0)
        complaint = settings.RANGES["delay_multiplier"].problem(multiplier)
        if complaint:
            self.problem(rel, "-", "delay_multiplier", complaint)
        road_changes = self._road_changes(data.get("road_changes", []), rel)
        agreements = data.get("agreements", [])
        if not isinstance(agreements, list) or not all(isinstance(a, str) for a in agreements):
            self.problem(rel, "-", "agreements", "must be a list of cover rule ids")
            agreements = []
        for rule in agreements:
            if rule not in self.rule_ids:
                known = ", ".join(sorted(self.rule_ids))
                self.problem(rel, "-", "agreements", f"no cover rule {rule!r} (known: {known})")
        portable = data.get("cover_portable", False)
        if not isinstance(portable, bool):
            self.problem(rel, "-", "cover_portable", "must be true or false")
        rates = self._rates(data.get("referral_rates", {}), rel)
        capacity = self._capacity(data.get("capacity", {}), rel, facility_ids)
        contracts = data.get("contracts", [])
        if not isinstance(contracts, list) or not all(isinstance(c, str) for c in contracts):
            self.problem(rel, "-", "contracts", "must be a list of facility ids")
            contracts = []
        for facility in contracts:
            if facility not in facility_ids:
                self.problem(rel, facility, "contracts", "no facility with this id")
        translations = {
            key.removeprefix("description_"): value
            for key, value in data.items()
            if key.startswith("description_")
        }
        for key, value in translations.items():
            if (
                key not in LANGUAGES
                or key == "en"
                or not isinstance(value, str)
                or not value.strip()
            ):
                self.problem(
                    rel,
                    "-",
                    f"description_{key}",
                    f"must be a text in one of {', '.join(sorted(set(LANGUAGES) - {'en'}))}",
                )
        depart = _parse_depart(data.get("depart"))
        if data.get("depart") is not None and depart is None:
            self.problem(rel, "-", "depart", "must be an ISO date-time such as 2026-01-15T08:00")
        if len(self.problems) > before:
            return None
        kwargs: dict[str, Any] = {}
        if restricted is not None:
            kwargs["restricted_profiles"] = frozenset(restricted)
        return Scenario(
            name=file.stem,
            description=str(data.get("description", "")),
            default_regime=default,
            post_regimes=dict(regimes),
            delay_multiplier=float(multiplier),
            depart=depart,
            cover_portable=bool(portable),
            referral_rates=rates,
            capacity=capacity,
            road_changes=road_changes,
            agreements=frozenset(agreements),
            translations={k: str(v) for k, v in translations.items()},
            contracts=frozenset(contracts),
            **kwargs,
        )

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
        items = data.get("rule")
        if not isinstance(items, list) or not items:
            self.problem(COVER_FILE, "-", "rule", "must hold [[rule]] tables")
            return DEFAULT_RULES
        rules = [r for i, item in enumerate(items) if (r := self._cover_rule(i, item))]
        ids = [r.id for r in rules]
        for rule_id in sorted({i for i in ids if ids.count(i) > 1}):
            self.problem(COVER_FILE, rule_id, "id", "duplicate id")
        return tuple(rules)

    def _cover_rule(self, index: int, item: Any) -> CoverRule | None:
        label = str(item.get("id", f"#{index}")) if isinstance(item, dict) else f"#{index}"
        if not isinstance(item, dict):
            self.problem(COVER_FILE, label, "-", "must be a table")
            return None
        before = len(self.problems)
        for key in ("id", "name", "group", "source"):
            if not isinstance(item.get(key), str) or not item[key].strip():
                self.problem(COVER_FILE, label, key, "must be a non-empty string")
        if item.get("group") not in settings.COVER_GROUPS:
            known = ", ".join(sorted(settings.COVER_GROUPS))
            self.problem(COVER_FILE, label, "group", f"must be one of {known}")
        if item.get("where", "any") not in WHERE:
            self.problem(COVER_FILE, label, "where", f"must be one of {', '.join(WHERE)}")
        if not isinstance(item.get("active", True), bool):
            self.problem(COVER_FILE, label, "active", "must be true or false")
        sets = {
            "profiles": settings.PROFILES,
            "services": settings.SERVICES,
            "nationalities": None,
            "facility_countries": None,
        }
        values = {
            key: self._rule_set(label, key, item.get(key), allowed) for key, allowed in sets.items()
        }
        if len(self.problems) > before:
            return None
        return CoverRule(
            id=item["id"],
            name=item["name"],
            group=item["group"],
            where=item.get("where", "any"),
            active=item.get("active", True),
            source=item["source"],
            **values,
        )

    def _rule_set(
        self, label: str, key: str, value: Any, allowed: frozenset[str] | None
    ) -> frozenset[str] | None:
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(COVER_FILE, label, key, "must be a list of names")
            return None
        for name in value:
            ok = name in allowed if allowed is not None else len(name) == 2 and name.isupper()
            if not ok:
                self.problem(COVER_FILE, label, key, f"unknown value {name!r}")
        return frozenset(value)

    def _road_changes(self, value: Any, file: str) -> tuple[RoadChange, ...]:
        """Read ``[[road_changes]]``: ways closed or slowed (way ids are checked on build)."""
        if not isinstance(value, list):
            self.problem(file, "-", "road_changes", "must be a list of [[road_changes]] tables")
            return ()
        changes = []
        for index, item in enumerate(value):
            where = f"road_changes[{index}]"
            if not isinstance(item, dict):
                self.problem(file, where, "-", "must be a table")
                continue
            ways = item.get("ways")
            if not isinstance(ways, list) or not ways or not all(_is_way_id(w) for w in ways):
                self.problem(file, where, "ways", "must be a non-empty list of way ids")
                continue
            closed = item.get("closed", False)
            factor = item.get("speed_factor", 1.0)
            if not isinstance(closed, bool):
                self.problem(file, where, "closed", "must be true or false")
                continue
            complaint = settings.RANGES["speed_factor"].problem(factor)
            if complaint:
                self.problem(file, where, "speed_factor", complaint)
                continue
            if not closed and factor == 1:
                self.problem(file, where, "-", "give closed = true or a speed_factor below 1")
                continue
            for text in ("reason", "source"):
                if not isinstance(item.get(text), str) or not item[text].strip():
                    self.problem(file, where, text, "must be a non-empty string")
            changes.append(
                RoadChange(
                    ways=tuple(str(w) for w in ways),
                    closed=closed,
                    speed_factor=float(factor),
                    reason=str(item.get("reason", "")),
                    source=str(item.get("source", "")),
                )
            )
        return tuple(changes)


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
    except OSError as exc:
        message = f"cannot be read ({exc.strerror or exc})"
    raise DataError(Problem(label, "-", "-", message))


def _no_constant(name: str) -> float:
    """Refuse JSON's non-standard NaN and Infinity: a bundle's numbers must be finite."""
    raise ValueError(f"{name} is not a number a bundle may hold")


def _is_way_id(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, str) and bool(value.strip())
    )


def _string_ids(table: gpd.GeoDataFrame) -> set[str]:
    """Ids of a point table that are strings (others were reported by the checker)."""
    if "id" not in table.columns:
        return set()
    return {i for i in table["id"] if isinstance(i, str)}


def _parse_depart(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def _listed(value: Any) -> list[Any]:
    """Return a list property of a row, or empty (a missing property reads as NaN)."""
    return value if isinstance(value, list) else []


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
