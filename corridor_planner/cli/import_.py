"""``corridor-planner import``: build a corridor bundle from a user's own files."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from corridor_planner.cli.formatting import print_import, print_json, say
from corridor_planner.cli.options import (
    FORMAT_OPTION,
    KEEP_ALL_PIECES_OPTION,
    BoundingBox,
    friendly_errors,
)
from corridor_planner.extras import require


@click.command(name="import")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--roads",
    required=True,
    help="OSM extract (.osm.pbf or .osm XML), GIS road lines with a highway column, or 'osm' "
    "to download the clip area with osmnx (needs internet).",
)
@click.option(
    "--boundaries",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Country polygons (any GIS format) with an ISO alpha-2 or alpha-3 column.",
)
@click.option("--country-column", default=None, help="Column of --boundaries with the country.")
@click.option(
    "--facilities",
    default=None,
    help="Facility list (CSV, XLSX, GeoJSON, GeoPackage), or 'osm' for health amenities of the "
    "extract.",
)
@click.option(
    "--facility-schema",
    default="healthsites",
    show_default=True,
    help="healthsites (healthsites.io / OSM tags), osm, or a mapping TOML for a spreadsheet.",
)
@click.option(
    "--population",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Population raster (GeoTIFF, e.g. WorldPop) or a table of places with a population.",
)
@click.option("--population-year", type=click.IntRange(1950, 2100), default=None)
@click.option(
    "--census",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Admin units with census totals: the population points are scaled to them.",
)
@click.option(
    "--census-column", default=None, help="Column of --census with the total (default: population)."
)
@click.option(
    "--cell-km",
    type=click.FloatRange(0.1, 50),
    default=1.0,
    show_default=True,
    help="Size of the demand points made from a raster.",
)
@click.option(
    "--border-posts",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Border posts (GeoJSON, bundle format); OSM barrier=border_control nodes are also used.",
)
@click.option("--bbox", type=BoundingBox(), default=None, help="Clip to W,S,E,N degrees.")
@click.option(
    "--clip",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Clip to this polygon file instead of --bbox.",
)
@click.option("--name", default=None, help="Corridor name (default: from DEST).")
@click.option("--id", "bundle_id", default=None, help="Corridor id (default: DEST's name).")
@click.option(
    "--licence",
    default="not given (--licence)",
    help="Licence of the input files, written into SOURCES.md (e.g. 'ODbL').",
)
@click.option("--force", is_flag=True, help="Replace DEST if it holds files.")
@KEEP_ALL_PIECES_OPTION
@FORMAT_OPTION
@friendly_errors
def command(
    dest: Path,
    roads: str,
    boundaries: Path,
    country_column: str | None,
    facilities: str | None,
    facility_schema: str,
    population: Path | None,
    population_year: int | None,
    census: Path | None,
    census_column: str | None,
    cell_km: float,
    border_posts: Path | None,
    bbox: tuple[float, float, float, float] | None,
    clip: Path | None,
    name: str | None,
    bundle_id: str | None,
    licence: str,
    force: bool,
    keep_all_pieces: bool,
    fmt: str,
) -> None:
    """Build a corridor bundle in DEST from an OSM extract, boundaries, facilities, population."""
    require("import", "corridor-planner import")
    from corridor_planner.importer import ImportOptions, import_bundle

    options = ImportOptions(
        dest=dest,
        roads=roads,
        boundaries=boundaries,
        country_column=country_column,
        facilities=facilities,
        facility_schema=facility_schema,
        population=population,
        population_year=population_year,
        census=census,
        census_column=census_column,
        cell_km=cell_km,
        border_posts=border_posts,
        bbox=bbox,
        clip=clip,
        name=name,
        id=bundle_id,
        licence=licence,
        force=force,
        keep_all_pieces=keep_all_pieces,
    )
    progress = (lambda message: say(f"  {message}...", err=True)) if sys.stderr.isatty() else None
    summary = import_bundle(options, progress=progress)
    if fmt == "json":
        print_json(summary.to_dict())
        return
    print_import(dest, summary)
