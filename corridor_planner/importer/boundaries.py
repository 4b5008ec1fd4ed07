"""Countries from boundary polygons: ISO codes, and the country of any point."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pycountry
import shapely
from shapely.geometry.base import BaseGeometry

from corridor_planner.errors import DataError, Problem
from corridor_planner.importer.inputs import read_gis

#: Columns tried, in order, when the user names no country column.
COUNTRY_COLUMNS = (
    "iso_a2",
    "ISO_A2",
    "ISO_A2_EH",
    "ADM0_PCODE",
    "iso2",
    "ISO2",
    "shapeGroup",
    "iso_a3",
    "ISO_A3",
    "ADM0_A3",
    "GID_0",
    "country",
    "COUNTRY",
)


class Countries:
    """Country polygons (dissolved by ISO alpha-2 code) and point lookups.

    Parameters
    ----------
    polygons : dict
        ``{ISO alpha-2: polygon}`` in WGS84.
    """

    def __init__(self, polygons: dict[str, BaseGeometry]) -> None:
        self.codes = sorted(polygons)
        self.polygons = [polygons[c] for c in self.codes]
        for polygon in self.polygons:
            shapely.prepare(polygon)

    def of_points(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Country index of each point: ``>= 0`` inside one, ``-1`` outside all, ``-2`` on a border.

        A point on the shared boundary of two countries (or inside two overlapping
        polygons) is ``-2``.
        """
        lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        inside = np.full(len(lon), -1, dtype=np.int64)
        count = np.zeros(len(lon), dtype=np.int64)
        for index, polygon in enumerate(self.polygons):
            hit = shapely.intersects_xy(polygon, lon, lat)
            inside[hit] = index
            count += hit
        inside[count > 1] = -2
        return inside

    def code(self, index: int) -> str:
        """ISO alpha-2 code of a country index."""
        return self.codes[index]


def iso_alpha2(value: object) -> str | None:
    """ISO alpha-2 code of an alpha-2 or alpha-3 code, or None."""
    if not isinstance(value, str):
        return None
    text = value.strip().upper()
    if len(text) == 2 and pycountry.countries.get(alpha_2=text):
        return text
    if len(text) == 3:
        country = pycountry.countries.get(alpha_3=text)
        return country.alpha_2 if country else None
    return None


def read_countries(path: Path, column: str | None, clip: BaseGeometry | None) -> Countries:
    """Read a boundaries file and dissolve it to one polygon per country.

    Parameters
    ----------
    path : Path
        Any GIS format with polygons and an ISO country column.
    column : str, optional
        The country column (ISO alpha-2 or alpha-3); default: the first of
        ``COUNTRY_COLUMNS`` present.
    clip : shapely geometry, optional
        Keep only countries that meet this area.

    Raises
    ------
    DataError
        If the column is missing or holds codes that are not ISO country codes.
    """
    table = read_gis(path, "boundaries")
    name = column or next((c for c in COUNTRY_COLUMNS if c in table.columns), None)
    if name is None or name not in table.columns:
        wanted = column or " or ".join(COUNTRY_COLUMNS[:6])
        raise DataError(
            Problem(path.name, "-", wanted, "country column missing (--country-column)")
        )
    codes = [iso_alpha2(v) for v in table[name]]
    problems = [
        Problem(path.name, f"#{i}", name, f"{v!r} is not an ISO alpha-2 or alpha-3 country code")
        for i, (v, c) in enumerate(zip(table[name], codes, strict=True))
        if c is None
    ]
    problems += _invalid_polygons(path.name, table.geometry, codes)
    if problems:
        raise DataError(problems[:20])
    table = gpd.GeoDataFrame({"code": codes}, geometry=table.geometry, crs=table.crs)
    dissolved = table.dissolve(by="code")
    overlaps = _overlaps(path.name, table, clip)
    if overlaps:
        raise DataError(overlaps[:20])
    polygons = {
        str(code): geom
        for code, geom in zip(dissolved.index, dissolved.geometry, strict=True)
        if clip is None or geom.intersects(clip)
    }
    if not polygons:
        raise DataError(Problem(path.name, "-", "geometry", "no country meets the clip area"))
    return Countries(polygons)


#: Largest share of the smaller of two countries that the other's polygons may also
#: cover: boundaries from two sources overlap in slivers along the line (points there
#: count as on the border); more than this is a wrong polygon.
MAX_OVERLAP_SHARE = 0.01


def _invalid_polygons(file: str, geometries: Any, codes: list[str | None]) -> list[Problem]:
    """Refuse a feature that is not a polygon, or one whose ring crosses itself."""
    problems = []
    for index, (geom, code) in enumerate(zip(geometries, codes, strict=True)):
        label = f"#{index} ({code})" if code else f"#{index}"
        if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
            kind = "nothing" if geom is None or geom.is_empty else geom.geom_type
            problems.append(Problem(file, label, "geometry", f"must be a polygon, got {kind}"))
        elif not geom.is_valid:
            reason = shapely.is_valid_reason(geom)
            problems.append(
                Problem(file, label, "geometry", f"not a valid polygon ({reason}); repair it")
            )
    return problems


def _overlaps(file: str, table: gpd.GeoDataFrame, clip: BaseGeometry | None) -> list[Problem]:
    """Features of two countries that cover the same ground (more than a sliver)."""
    metric = table.reset_index(drop=True).to_crs(table.estimate_utm_crs() or "EPSG:3857")
    if clip is not None:
        area = gpd.GeoSeries([clip], crs="EPSG:4326").to_crs(metric.crs).iloc[0]
        metric = metric.set_geometry(metric.geometry.intersection(area))
    problems = []
    pairs = gpd.sjoin(metric, metric, predicate="intersects")
    for left, row in pairs.iterrows():
        right = int(row["index_right"])
        if left >= right or row["code_left"] == row["code_right"]:
            continue
        a, b = metric.geometry.iloc[left], metric.geometry.iloc[right]
        shared = a.intersection(b).area
        smaller = min(a.area, b.area)
        if smaller > 0 and shared > MAX_OVERLAP_SHARE * smaller:
            problems.append(
                Problem(
                    file,
                    f"#{left} ({row['code_left']})",
                    "geometry",
                    f"overlaps #{right} ({row['code_right']}) over {shared / 1e6:,.1f} km2, "
                    f"{shared / smaller:.0%} of the smaller: a point there has no one country",
                )
            )
    return problems
