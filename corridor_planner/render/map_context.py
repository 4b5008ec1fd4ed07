"""Map context that needs no network: country areas and names from Natural Earth.

The country polygons are Natural Earth's 1:10m Admin 0 countries (version 5.1.1, public
domain) in the German point of view ("deu") on disputed borders (Kashmir), where Natural
Earth's points of view differ; maps say which one they show. The package carries them in
``render/data/`` (see ``SOURCES.md`` there), written by ``tools/make_natural_earth.py``:
every country that meets the CAREC member countries' box widened by
:data:`CONTEXT_MARGIN_DEG`, its polygons as Natural Earth draws them.
"""

from __future__ import annotations

import functools
import json
import logging
from importlib import resources
from typing import Any

import geopandas as gpd
import pyarrow.parquet as pq
from shapely.geometry import box

LOG = logging.getLogger(__name__)

#: The package's Natural Earth file, relative to ``corridor_planner.render``.
NATURAL_EARTH_FILE = "data/ne_10m_admin_0_countries_deu_carec.parquet"
#: Key of the file's own metadata (region, version, point of view) in its Parquet schema.
NATURAL_EARTH_METADATA_KEY = "corridor_planner"
NATURAL_EARTH_POINT_OF_VIEW = "deu"
NATURAL_EARTH_CREDIT = (
    "Countries: Natural Earth 1:10m admin-0 (public domain; German point of view on "
    "disputed borders)"
)
#: Margin (degrees) around a corridor's box within which neighbouring countries are drawn.
CONTEXT_MARGIN_DEG = 8.0
#: Simplification tolerance (degrees, about 500 m): enough for a corridor overview.
SIMPLIFY_DEG = 0.005


@functools.lru_cache(maxsize=1)
def natural_earth() -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Read the package's Natural Earth countries and the file's metadata.

    Returns
    -------
    tuple
        WGS84 polygons with ``iso_a2``, ``name`` and ``name_ru``, and a dict with the
        ``extent`` they cover (west, south, east, north), ``natural_earth_version``,
        ``point_of_view`` and ``source``.
    """
    ref = resources.files("corridor_planner.render").joinpath(NATURAL_EARTH_FILE)
    with resources.as_file(ref) as path:
        table = gpd.read_parquet(path)
        metadata = pq.read_schema(path).metadata or {}
    about = json.loads(metadata[NATURAL_EARTH_METADATA_KEY.encode()])
    return table, about


@functools.lru_cache(maxsize=8)
def country_areas(bbox: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
    """Country polygons around a box, clipped to it plus a margin.

    Parameters
    ----------
    bbox : tuple of float
        ``(west, south, east, north)`` in degrees.

    Returns
    -------
    geopandas.GeoDataFrame
        WGS84 polygons with ``iso_a2``, ``name`` and ``name_ru`` (Natural Earth's names);
        empty when the package holds no country there. A box whose margin reaches beyond
        the region the package covers gets the countries it holds, and a warning.
    """
    west, south, east, north = bbox
    frame = box(
        west - CONTEXT_MARGIN_DEG,
        south - CONTEXT_MARGIN_DEG,
        east + CONTEXT_MARGIN_DEG,
        north + CONTEXT_MARGIN_DEG,
    )
    countries, about = natural_earth()
    extent = about["extent"]
    if not box(*extent).contains(frame):
        LOG.warning(
            "the map of box %s shows countries only within %s: the package's Natural Earth "
            "covers the CAREC region (tools/make_natural_earth.py)",
            list(bbox),
            extent,
        )
    table = countries.iloc[sorted(countries.sindex.query(frame))].copy()
    table["geometry"] = table.geometry.intersection(frame).simplify(SIMPLIFY_DEG)
    table = table[~table.geometry.is_empty]
    return table[["iso_a2", "name", "name_ru", "geometry"]].reset_index(drop=True)
