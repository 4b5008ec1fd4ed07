"""Planner maps: functions that build folium maps of a corridor (they never write files).

Every string from the data reaches the page HTML-escaped and JSON-encoded: popups and
tooltips are bound with :class:`BoundText`, not folium's templates, which paste raw text
into JavaScript.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Figure
from pyproj import CRS
from shapely.geometry import LineString, box, mapping

from corridor_planner.analysis.access import nearest_facility_times
from corridor_planner.analysis.catchments import facility_catchments
from corridor_planner.analysis.referral import Pathway
from corridor_planner.analysis.referral import pathways as referral_pathways
from corridor_planner.analysis.scoring import SiteScores, candidates_for, score_sites
from corridor_planner.bundle.corridor import Corridor
from corridor_planner.bundle.cover_rules import Patient
from corridor_planner.bundle.names import NameBook, name_book
from corridor_planner.errors import CorridorPlannerError, InvalidArgumentError
from corridor_planner.network.graph import CorridorNetwork
from corridor_planner.network.roads import edge_kind
from corridor_planner.outputs import file_stem
from corridor_planner.render.map_cells import Cells, bin_settlements, catchment_bands, time_bands
from corridor_planner.render.map_context import NATURAL_EARTH_CREDIT, country_areas
from corridor_planner.render.map_elements import (
    BoundText,
    CellLayer,
    FitCorridor,
    LayerListFit,
    LineLayer,
    LiteralHtml,
    MapControl,
    PlaceLabels,
    PlaceSearch,
    SyncViews,
    TileErrorNotice,
    escape,
    inline_leaflet,
    page_of,
)
from corridor_planner.render.report import TERMS
from corridor_planner.routing.traveltimes import CorridorTravelTimes
from corridor_planner.settings import (
    LANGUAGES,
    MAP_FACILITY_LIMIT,
    MAP_LABEL_LIMIT,
    MAP_POINT_LIMIT,
    MAP_ROAD_LIMIT,
)

#: Languages whose names a popup gives beside the English one (the report's languages).
OTHER_LANGUAGES = tuple(lang for lang in LANGUAGES if lang != "en")
LEVEL_STYLE = {  # colour and radius (px) by facility level
    "primary": ("#7fb3d5", 5),
    "district": ("#2e86c1", 7),
    "regional": ("#1b4f72", 9),
    "national": ("#512e5f", 11),
}
TIME_CLASSES = ((30, "#1a9850"), (60, "#fee08b"), (120, "#fc8d59"), (math.inf, "#d73027"))
UNREACHABLE = "#7f7f7f"
MAX_SETTLEMENT_RADIUS = 22.0  # px: a city of millions must not hide its neighbours
#: Populations the legend shows circles for (the circle's area grows with the population).
LEGEND_POPULATIONS = (10_000, 100_000, 300_000, 1_000_000)
#: Candidate rings: their own scale (magenta), share of the best candidate's gain, low first.
CANDIDATE_CLASSES = ((0.25, "#f1b6da"), (0.5, "#de77ae"), (0.75, "#c51b7d"), (1.0, "#7a0177"))
#: Referral routes by kind: (colour, dash pattern or None).
REFERRAL_STYLE = {"abroad": ("#8e44ad", None), "home": ("#2471a3", "8 5")}
ROAD_COLOUR = "#555"
BORDER_COLOUR = "#b03a2e"
#: Facility layers: one per group of services, so the layer list stays short.
SERVICE_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("emergency and critical care", ("emergency", "trauma", "intensive_care")),
    ("surgery and transplant", ("surgery", "transplant")),
    ("mothers and children", ("obstetric_basic", "obstetric_comprehensive", "paediatrics")),
    ("heart and stroke", ("cardiology", "cardiology_pci", "stroke")),
    ("cancer and blood", ("oncology", "haematology")),
    ("TB and infectious diseases", ("tb", "tb_mdr", "infectious_diseases")),
    ("medicine, lungs and kidneys", ("internal_medicine", "pulmonology", "dialysis")),
    ("primary care", ("primary_care",)),
)
#: Words the report's table (``render.report.TERMS``) does not hold.
MAP_TERMS = {
    "primary_care": "primary care",
    "internal_medicine": "internal medicine",
    "obstetric_basic": "basic obstetric care",
    "obstetric_comprehensive": "comprehensive obstetric care",
    "cardiology_pci": "cardiology (PCI)",
    "infectious_diseases": "infectious diseases",
    "haematology": "haematology",
    "transplant": "transplant",
    "stroke": "stroke",
    "dialysis": "dialysis",
    "pulmonology": "pulmonology",
    "ngo": "NGO",
    "ppp": "public-private partnership",
    "faith_based": "faith-based",
    "public": "public",
    "private": "private",
    "unknown": "not recorded",
}
#: Notice an online map shows, once, when a tile cannot load.
TILE_ERROR_MESSAGE = (
    "Background tiles could not load (no internet connection?). Country outlines, roads "
    "and every layer of data are still drawn."
)


_e = escape


def plain(word: Any) -> str:
    """Return a vocabulary id in plain words (``resident_insured`` -> "resident, insured")."""
    text = str(word)
    if text in TERMS:
        return str(TERMS[text])
    return MAP_TERMS.get(text, text.replace("_", " "))


def _table(rows: Iterable[tuple[str, Any]]) -> str:
    cells = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return f'<table class="cp-popup">{cells}</table>'


def _bind(layer: Any, popup_rows: Sequence[tuple[str, Any]] | None, tooltip: str | None) -> Any:
    layer.add_child(BoundText(_table(popup_rows) if popup_rows else None, tooltip))
    return layer


def written_in_other_languages(book: NameBook, name: Any) -> list[tuple[str, Any]]:
    """Popup rows giving a name as the bundle writes it in the report's other languages."""
    rows = []
    for lang in OTHER_LANGUAGES:
        local = book.local(name, lang)
        if local != str(name):
            rows.append((f"Name ({LANGUAGES[lang]})", local))
    return rows


def _book(network: CorridorNetwork) -> NameBook:
    """Gather the translations of the corridor's names into the report's other languages."""
    return name_book(network.corridor, OTHER_LANGUAGES)


def _layer(name: str, **options: Any) -> folium.FeatureGroup:
    """Return a layer group whose name is escaped: the layer control shows it as HTML."""
    return folium.FeatureGroup(name=escape(name), **options)


def _entry(name: str, kind: str, point: Any, marker: Any) -> dict[str, Any]:
    """Return a place search entry: the marker's JavaScript name opens its popup."""
    return {"name": name, "kind": kind, "lat": point.y, "lon": point.x, "layer": marker.get_name()}


def _operator(row: Any) -> str:
    value = getattr(row, "operator", None)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "not recorded"
    return plain(value)


def _radius(population: float) -> float:
    """Radius (px) of a settlement's circle: its area grows with the population, capped."""
    return min(MAX_SETTLEMENT_RADIUS, max(3.0, math.sqrt(population) / 40))


def _settlement_marker(
    row: Any,
    colour: str,
    opacity: float,
    *,
    outline: str = "#333",
    weight: float = 1,
    min_radius: float = 3.0,
) -> folium.CircleMarker:
    """Return a settlement's circle: sized by population (capped), filled with ``colour``."""
    return folium.CircleMarker(
        [row.geometry.y, row.geometry.x],
        radius=max(min_radius, _radius(row.population)),
        color=outline,
        weight=weight,
        fill=True,
        fill_color=colour,
        fill_opacity=opacity,
    )


def _time_colour(minutes: float) -> str:
    if not np.isfinite(minutes):
        return UNREACHABLE
    return next(colour for limit, colour in TIME_CLASSES if minutes <= limit)


def country_names(network: CorridorNetwork) -> dict[str, str]:
    """Return Natural Earth's country names around the corridor by ISO code."""
    areas = country_areas(tuple(network.corridor.bbox))
    return {str(r.iso_a2): str(r.name) for r in areas.itertuples()}


class Legend:
    """The legend's sections, one per kind of drawn layer, each naming its layers.

    Every section carries ``data-layers``, the names of the layers it explains as the
    layer list shows them, so a test can check that each drawn layer is explained.
    """

    def __init__(self) -> None:
        self.sections: list[tuple[list[str], str, list[str]]] = []

    def add(self, layers: Sequence[str], heading: str, items: Sequence[str]) -> None:
        """Add a section: ``items`` are HTML whose data parts the caller has escaped."""
        self.sections.append((list(layers), heading, list(items)))

    def html(self, note: str) -> str:
        """Return the legend's HTML: a folding box of the sections and a plain note."""
        parts = ["<details open><summary>Legend</summary>"]
        for layers, heading, items in self.sections:
            names = _e(json.dumps(layers))
            title = f"<b>{_e(heading)}</b>" if heading else ""
            parts.append(f'<div class="cp-sec" data-layers="{names}">{title}')
            parts += [f"<span>{item}</span>" for item in items]
            parts.append("</div>")
        parts.append(f'<div class="cp-note">{_e(note)}</div></details>')
        return "".join(parts)

    def layers(self) -> list[str]:
        """Return the names of every layer the legend explains."""
        return [name for layers, _, _ in self.sections for name in layers]


def _dot(colour: str, label: str, *, size: float = 12, border: str = "#333") -> str:
    style = f"background:{colour};width:{size:g}px;height:{size:g}px;border:1px solid {border}"
    return f'<i style="{style}"></i>{_e(label)}'


def _area(colour: str, label: str, *, opacity: float = 0.35, border: str | None = None) -> str:
    rgba = _rgba(colour, opacity)
    return (
        f'<i class="cp-sq" style="background:{rgba};border:1px solid {border or colour}"></i>'
        f"{_e(label)}"
    )


def _line(colour: str, label: str, *, dashed: bool = False, width: int = 3) -> str:
    style = "dashed" if dashed else "solid"
    return f'<i class="cp-ln" style="border-top:{width}px {style} {colour}"></i>{_e(label)}'


def _ring(colour: str, label: str) -> str:
    return f'<i class="cp-ring" style="border-color:{colour}"></i>{_e(label)}'


def _rgba(colour: str, opacity: float) -> str:
    red, green, blue = (int(colour[k : k + 2], 16) for k in (1, 3, 5))
    return f"rgba({red},{green},{blue},{opacity:g})"


def _classes(classes: Sequence[tuple[float, str]], unit: str = "min") -> list[tuple[str, str]]:
    """Return (label, colour) of each class of upper limits: "0–30 min", "over 120 min"."""
    out, previous = [], 0.0
    for limit, colour in classes:
        label = (
            f"{previous:g}–{limit:g} {unit}" if np.isfinite(limit) else f"over {previous:g} {unit}"
        )
        out.append((label, colour))
        previous = limit
    return out


# the map ---------------------------------------------------------------------------------


def base_map(
    network: CorridorNetwork,
    title: str,
    offline: bool = False,
    page: Figure | None = None,
    tiles: Mapping[str, tuple[str, str | None]] | None = None,
    **size: Any,
) -> folium.Map:
    """Make a map framed on the corridor: country areas, a scale, a title, place search.

    Every map carries Leaflet inline (the copy in the package's ``render/static``), so its
    data show even with no network. An offline map loads nothing else; its background is
    the country areas of Natural Earth, filled. An online map adds tile layers (the first
    shown) under the countries' outlines, and says so on the map when a tile cannot load.

    Parameters
    ----------
    network : CorridorNetwork
        The corridor to frame.
    title : str
        Title shown in the top right corner (escaped).
    offline : bool
        No tiles: country areas filled.
    page : branca.element.Figure, optional
        Page to put the map on, beside others (default: a page of its own).
    tiles : mapping, optional
        Tile layers of an online map, name -> (URL template or folium name, attribution);
        default :data:`TILE_LAYERS`.
    **size
        ``width``, ``height``, ``left``, ``top``, ``position`` for a pane of a page of maps.
    """
    west, south, east, north = network.corridor.bbox
    fmap = folium.Map(
        location=[(south + north) / 2, (west + east) / 2],
        zoom_start=7,
        tiles=None,
        control_scale=True,
        prefer_canvas=False,
        zoom_snap=0.5,
        **size,
    )
    if page is not None:
        page.add_child(fmap)
    fmap.add_child(FitCorridor(network.corridor.bbox))  # again once the controls are in
    inline_leaflet(fmap)
    if not offline:
        layers = TILE_LAYERS if tiles is None else tiles
        for number, (name, (url, attribution)) in enumerate(layers.items()):
            layer = folium.TileLayer(url, name=name, attr=attribution, show=number == 0)
            layer.add_child(TileErrorNotice(TILE_ERROR_MESSAGE))
            layer.add_to(fmap)
    head = page_of(fmap).header
    if "cp_style" not in head._children:
        head.add_child(LiteralHtml(_STYLE), name="cp_style")
    fmap.add_child(MapControl("topright", f"<b>{_e(title)}</b>", "cp-title", fit_width=True))
    add_country_areas(fmap, network, filled=offline)
    return fmap


#: Tile layers of an online map: name -> (URL or folium name, attribution).
TILE_LAYERS: dict[str, tuple[str, str | None]] = {
    "OpenStreetMap": ("OpenStreetMap", None),
    "Plain light (Esri)": (
        "https://server.arcgisonline.com/ArcGIS/rest/services/Canvas/"
        "World_Light_Gray_Base/MapServer/tile/{z}/{y}/{x}",
        "Tiles &copy; Esri &mdash; Esri, DeLorme, NAVTEQ",
    ),
}
#: Fills of the corridor's own countries, in order, and of their neighbours (no tiles).
COUNTRY_FILLS = ("#fbf3e2", "#eaf4e6", "#f1ecf7", "#e6f0f6")
NEIGHBOUR_FILL = "#e4e1da"
COUNTRY_LINE = "#9c8f7a"
#: Outline of the countries over tiles: darker, the tiles' own borders are faint.
COUNTRY_OUTLINE = "#6b5f4b"
COUNTRIES_LAYER = "Countries (Natural Earth)"


_STYLE = """<style>
.leaflet-container { background: #dfe7ec; }
.leaflet-top { z-index: 1001; }
.cp-title { max-width: 420px; padding: 6px 10px; background: rgba(255,255,255,.94);
  border-radius: 4px; font: 600 13px/1.3 sans-serif; box-shadow: 0 1px 4px rgba(0,0,0,.3); }
.cp-legend { padding: 6px 10px; background: rgba(255,255,255,.94); border-radius: 4px;
  font: 12px/1.25 sans-serif; box-shadow: 0 1px 4px rgba(0,0,0,.3); overflow-y: auto;
  box-sizing: border-box;
  max-width: 260px; }
.cp-legend.cp-wide { max-width: 520px; }
.cp-legend.cp-wide details[open] { column-count: 2; column-gap: 14px; }
.cp-legend .cp-sec { break-inside: avoid; }
.cp-legend summary { cursor: pointer; font-weight: 600; }
.cp-legend i { display: inline-block; width: 12px; height: 12px; border-radius: 50%;
  margin-right: 5px; vertical-align: middle; box-sizing: border-box; }
.cp-legend i.cp-sq { border-radius: 2px; }
.cp-legend i.cp-ln { width: 20px; height: 0; border-radius: 0; }
.cp-legend i.cp-ring { background: #fff; border: 3px solid; }
.cp-legend .cp-sec > span { display: block; }
.cp-legend i.cp-ab { width: auto; height: auto; border-radius: 0; font: 600 12px sans-serif; }
.cp-legend .cp-sizes i { margin-right: 3px; }
.cp-legend b { display: block; margin-top: 4px; }
.cp-legend .cp-note { color: #555; max-width: 230px; margin-top: 5px; font-size: 11px; }
.cp-tile-notice { max-width: 300px; padding: 6px 10px; background: #fff3cd; color: #5c4400;
  border: 1px solid #e0b84c; border-radius: 4px; font: 12px/1.35 sans-serif; }
.cp-search input { width: 210px; padding: 5px 8px; border: 1px solid #aaa; border-radius: 4px;
  font: 13px sans-serif; box-shadow: 0 1px 4px rgba(0,0,0,.2); }
.cp-label-icon { background: none; border: none; }
.cp-label { position: relative; left: 6px; top: -8px; white-space: nowrap; color: #222;
  font: 11px/1 sans-serif; pointer-events: none;
  text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 2px #fff; }
.cp-label-m { font-size: 12px; font-weight: 600; }
.cp-label-l { font-size: 14px; font-weight: 700; }
.cp-country { color: #8a8170; font: italic 600 15px/1 serif; letter-spacing: .15em;
  text-transform: uppercase; white-space: nowrap; pointer-events: none;
  text-shadow: 0 0 3px #fff, 0 0 3px #fff; }
table.cp-popup { border-collapse: collapse; font: 12px sans-serif; }
table.cp-popup th { text-align: left; padding: 1px 6px 1px 0; vertical-align: top; color: #444; }
table.cp-popup td { padding: 1px 0; }
.cp-pane-title { font-size: 12px; }
</style>"""


def add_country_areas(
    fmap: folium.Map, network: CorridorNetwork, *, filled: bool = True
) -> folium.FeatureGroup:
    """Country areas, boundaries and names from Natural Earth.

    ``filled`` areas are the background of a map with no tiles; unfilled, the countries
    are outlines over the tiles, which stay visible.
    """
    group = _layer(COUNTRIES_LAYER, control=True)
    own = list(network.corridor.countries)
    bbox = tuple(network.corridor.bbox)
    areas = country_areas(bbox)
    for row in areas.itertuples():
        fill = (
            COUNTRY_FILLS[own.index(row.iso_a2) % len(COUNTRY_FILLS)]
            if row.iso_a2 in own
            else NEIGHBOUR_FILL
        )
        style = {
            "color": COUNTRY_LINE if filled else COUNTRY_OUTLINE,
            "weight": 1.2 if filled else 1.8,
            "fillColor": fill,
            "fillOpacity": 1.0 if filled else 0.0,
        }
        folium.GeoJson(
            mapping(row.geometry), style_function=lambda _f, s=style: s, interactive=False
        ).add_to(group)
    names = []
    frame = box(*bbox)
    for row in areas.itertuples():
        inside = row.geometry.intersection(frame)
        point = (inside if not inside.is_empty else row.geometry).representative_point()
        names.append({"name": row.name, "lat": point.y, "lon": point.x, "population": 0})
    group.add_child(PlaceLabels(names, css_class="cp-country", every_label=True))
    group.add_to(fmap)
    return group


def legend_countries(legend: Legend, filled: bool) -> None:
    """Explain the country areas (filled with no tiles, outlines over tiles)."""
    if filled:
        items = [
            _area(COUNTRY_FILLS[0], "a corridor country", opacity=1, border=COUNTRY_LINE),
            _area(NEIGHBOUR_FILL, "a neighbouring country", opacity=1, border=COUNTRY_LINE),
        ]
    else:
        items = [_line(COUNTRY_OUTLINE, "country border (Natural Earth)", width=2)]
    legend.add([COUNTRIES_LAYER], "Background", items)


def add_roads(
    fmap: folium.Map, network: CorridorNetwork, legend: Legend | None = None
) -> folium.FeatureGroup:
    """Roads of the bundle (also the only background of an offline map)."""
    group = _layer("Roads", show=True)
    graph = network.graph
    seen: set[frozenset[int]] = set()
    lines, labels = [], []
    for u, v, data in graph.edges(data=True):
        if edge_kind(data) != "road" or frozenset((u, v)) in seen:
            continue
        seen.add(frozenset((u, v)))
        lines.append(
            data.get("geometry")
            or LineString([(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in (u, v)])
        )
        labels.append(" ".join(str(data.get(k, "")) for k in ("ref", "name")).strip())
    if len(lines) > MAP_ROAD_LIMIT:
        _merged_roads(group, lines, labels, network.corridor.crs)
        lines, labels = [], []
    wgs = gpd.GeoSeries(lines, crs=network.corridor.crs).to_crs("EPSG:4326")
    for line, label in zip(wgs, labels, strict=True):
        coords = [(y, x) for x, y in line.coords]
        _bind(
            folium.PolyLine(coords, color=ROAD_COLOUR, weight=2, opacity=0.8), None, label or None
        ).add_to(group)
    group.add_to(fmap)
    if legend is not None:
        legend.add(["Roads"], "", [_line(ROAD_COLOUR, "road of the model", width=2)])
    return group


def _merged_roads(
    group: folium.FeatureGroup, lines: Sequence[LineString], labels: Sequence[str], crs: CRS | str
) -> None:
    """Draw many road pieces as one canvas layer: merged by label, simplified to ~20 m."""
    table = gpd.GeoDataFrame({"label": list(labels)}, geometry=list(lines), crs=crs)
    merged = table.dissolve(by="label", as_index=False)
    merged["geometry"] = merged.geometry.line_merge().simplify(ROAD_SIMPLIFY_M)
    merged = merged.to_crs("EPSG:4326")
    merged["geometry"] = shapely.set_precision(merged.geometry.array, 1e-5)
    group.add_child(
        LineLayer(
            [mapping(g) for g in merged.geometry],
            [str(label) for label in merged["label"]],
            {"color": ROAD_COLOUR, "weight": 2, "opacity": 0.8},
        )
    )


#: Tolerance (m) of the simplified roads of a map of more than :data:`MAP_ROAD_LIMIT` pieces.
ROAD_SIMPLIFY_M = 20.0


def add_border(
    fmap: folium.Map, network: CorridorNetwork, legend: Legend | None = None
) -> folium.FeatureGroup | None:
    """Draw the border line(s) of the bundle, dashed."""
    border = network.corridor.border
    if border is None or border.empty:
        return None
    name = "Border line of the bundle (approximate)"
    group = _layer(name, show=False)
    for geom in border.geometry:
        for part in getattr(geom, "geoms", [geom]):
            coords = [(y, x) for x, y in part.coords]
            _bind(
                folium.PolyLine(coords, color=BORDER_COLOUR, weight=2, dash_array="6 6"),
                None,
                "International border (approximate)",
            ).add_to(group)
    group.add_to(fmap)
    if legend is not None:
        item = _line(BORDER_COLOUR, "border line of the model (approximate)", dashed=True)
        legend.add([name], "", [item])
    return group


def facility_layer_name(group: str) -> str:
    """Return the layer name of a group of services (``Facilities: primary care``)."""
    return f"Facilities: {group}"


def _service_group(service: str) -> str:
    return next((name for name, members in SERVICE_GROUPS if service in members), "other services")


def served_by_facility(
    settlements: pd.DataFrame, thresholds: Sequence[float]
) -> dict[str, list[int]]:
    """People for whom each facility is the nearest, within each threshold.

    Parameters
    ----------
    settlements : pandas.DataFrame
        :func:`~corridor_planner.analysis.access.nearest_facility_times` of one service.
    thresholds : sequence of float
        Minutes.

    Returns
    -------
    dict
        Facility id -> people within each threshold, in the order of ``thresholds``.
    """
    served: dict[str, list[int]] = {}
    reached = settlements[np.isfinite(settlements["minutes"].astype(float))]
    for facility, rows in reached.groupby("facility_id"):
        minutes = rows["minutes"].astype(float)
        served[str(facility)] = [
            int(rows.loc[minutes <= limit, "population"].sum()) for limit in thresholds
        ]
    return served


def add_facilities(
    fmap: folium.Map,
    network: CorridorNetwork,
    index: list[dict[str, Any]] | None = None,
    *,
    service: str = "emergency",
    settlements: pd.DataFrame | None = None,
    thresholds: Sequence[float] = (),
    legend: Legend | None = None,
    light: bool = False,
    book: NameBook | None = None,
) -> list[folium.FeatureGroup]:
    """Facilities styled by level, one layer per group of services (:data:`SERVICE_GROUPS`).

    The layer of ``service``'s group is shown. With ``settlements`` (the nearest-facility
    times of ``service``), a facility's popup says how many people it is the nearest
    facility of within each of ``thresholds``. Each facility is added to ``index`` (for
    the place search) when one is given. ``light`` markers (many facilities) have a
    tooltip of name and level and no popup. ``book`` (the bundle's translations; gathered
    here when not given) adds each name in the report's other languages to its popup.
    """
    facilities = network.corridor.facilities
    names = country_names(network)
    order = [name for name, _ in SERVICE_GROUPS] + ["other services"]
    present = {_service_group(s) for row in facilities["services"] for s in row}
    shown = _service_group(service)
    groups = {g: _layer(facility_layer_name(g), show=g == shown) for g in order if g in present}
    served = served_by_facility(settlements, thresholds) if settlements is not None else {}
    book = book or (NameBook() if light else _book(network))
    for row in facilities.itertuples():
        colour, radius = LEVEL_STYLE.get(row.level, ("#2e86c1", 7))
        popup = (
            None
            if light
            else _facility_popup(row, names, service, served, thresholds, settlements is not None)
        )
        if popup is not None:
            popup[1:1] = written_in_other_languages(book, row.name)
        first = True
        for group in [g for g in groups if any(_service_group(s) == g for s in row.services)]:
            marker = folium.CircleMarker(
                [row.geometry.y, row.geometry.x],
                radius=radius,
                color="#fff",
                weight=1.5,
                fill=True,
                fill_color=colour,
                fill_opacity=0.95,
            )
            _bind(marker, popup, f"{row.name} ({row.level} level)").add_to(groups[group])
            if index is not None and first:
                entry = _entry(row.name, "facility", row.geometry, marker)
                index.append({**entry, "layer": None} if light else entry)
            first = False
    for layer in groups.values():
        layer.add_to(fmap)
    if legend is not None:
        levels = [level for level in LEVEL_STYLE if level in set(facilities["level"])]
        items = [
            _dot(
                LEVEL_STYLE[level][0],
                f"{level} level",
                size=2 * LEVEL_STYLE[level][1],
                border="#fff",
            )
            for level in levels
        ]
        items.append(f'<span class="cp-note">{_e(shown)} shown; more in the layer list</span>')
        if light:
            note = f"{len(facilities):,} facilities: name and level on hover, no popup"
            items.append(f'<span class="cp-note">{_e(note)}</span>')
        legend.add(
            [facility_layer_name(g) for g in groups],
            "Facilities (colour and size: level)",
            items,
        )
    return list(groups.values())


def _facility_popup(
    row: Any,
    names: Mapping[str, str],
    service: str,
    served: Mapping[str, list[int]],
    thresholds: Sequence[float],
    with_served: bool,
) -> list[tuple[str, Any]]:
    """Rows of a facility's popup, in plain words."""
    accepts = "; ".join(
        f"{plain(group)}: " + ("all services" if v == "all" else ", ".join(map(plain, v)))
        for group, v in (row.accepts or {}).items()
    )
    popup: list[tuple[str, Any]] = [
        ("Facility", row.name),
        ("Country", names.get(row.country, row.country)),
        ("Level", row.level),
        ("Services", ", ".join(plain(s) for s in row.services)),
        ("Beds", "not sourced" if row.beds is None or pd.isna(row.beds) else int(row.beds)),
        ("Operator", _operator(row)),
        (
            "Capacity",
            ", ".join(f"{plain(k)}: {v}" for k, v in (row.capacity or {}).items()) or "not sourced",
        ),
        ("Who may use it", accepts or "not recorded"),
    ]
    if with_served and service in row.services:
        people = served.get(str(row.id), [0] * len(thresholds))
        text = "; ".join(f"{n:,} within {t:g} min" for n, t in zip(people, thresholds, strict=True))
        popup.append((f"People for whom it is the nearest {plain(service)} facility", text))
    popup += [
        ("Position", f"within {row.location_precision_m:,.0f} m"),
        ("Source", row.source),
    ]
    return popup


def _direction(direction: str, names: Mapping[str, str]) -> str:
    """``KZ->KG`` in words: "Kazakhstan to Kyrgyzstan"."""
    parts = direction.split("->")
    if len(parts) != 2:
        return direction
    return " to ".join(names.get(p.strip(), p.strip()) for p in parts)


def add_posts(
    fmap: folium.Map,
    network: CorridorNetwork,
    index: list[dict[str, Any]] | None = None,
    legend: Legend | None = None,
    book: NameBook | None = None,
) -> folium.FeatureGroup:
    """Border posts with hours, season, delays by profile and who may cross.

    ``book`` (the bundle's translations; gathered here when not given) adds each post's
    name in the report's other languages to its popup.
    """
    group = _layer("Border posts")
    names = country_names(network)
    gdf = network.corridor.posts_gdf.set_index("id")
    book = book or _book(network)
    for post in network.corridor.posts.values():
        point = gdf.loc[post.id].geometry
        delays = "; ".join(
            f"{_direction(direction, names)}: "
            + ", ".join(f"{plain(p)} {m} min" for p, m in sorted(by.items()))
            for direction, by in sorted(post.delay_minutes.items())
        )
        popup = [
            ("Border post", post.name),
            *written_in_other_languages(book, post.name),
            ("Countries", " – ".join(names.get(c, c) for c in post.countries)),
            ("Opening hours", post.opening_hours),
            ("Season", post.season or "all year"),
            ("Who may cross", ", ".join(plain(p) for p in sorted(post.profiles_allowed))),
            ("Waiting times", delays),
            ("Source", post.source),
        ]
        marker = folium.CircleMarker(
            [point.y, point.x],
            radius=9,
            color="#e74c3c",
            weight=3,
            fill=True,
            fill_color="#000",
            fill_opacity=1.0,
        )
        _bind(
            marker,
            popup,
            f"{post.name}: {post.opening_hours}" + (f", {post.season}" if post.season else ""),
        ).add_to(group)
        if index is not None:
            index.append(_entry(post.name, "border post", point, marker))
    group.add_to(fmap)
    if legend is not None:
        item = _dot("#000", "border post: hours, who may cross", size=16, border="#e74c3c")
        legend.add(["Border posts"], "Border posts", [item])
    return group


def population_layer_name(service: str) -> str:
    """Return the name of the settlements' layer of ``service``."""
    return f"Population: time to {plain(service)}"


def add_population(
    fmap: folium.Map,
    settlements: pd.DataFrame,
    service: str,
    index: list[dict[str, Any]] | None = None,
    legend: Legend | None = None,
    names: Mapping[str, str] | None = None,
    *,
    show: bool = True,
    book: NameBook | None = None,
) -> folium.FeatureGroup:
    """Settlements sized by population, coloured by minutes to the nearest facility.

    ``book`` (the bundle's translations) adds each name in the report's other languages.
    """
    name = population_layer_name(service)
    group = _layer(name, show=show)
    names = names or {}
    book = book or NameBook()
    for row in settlements.itertuples():
        minutes = float(row.minutes)
        reach = (
            f"{minutes:.0f} min to {row.facility_name}"
            if np.isfinite(minutes)
            else f"no {plain(service)} facility reachable"
        )
        popup = [
            ("Settlement", row.name),
            *written_in_other_languages(book, row.name),
            ("Country", names.get(row.country, row.country)),
            ("Population", f"{row.population:,}"),
            ("Border community", "yes" if row.border_community else "no"),
            (f"Nearest {plain(service)} facility", reach),
            ("Source", row.source),
        ]
        marker = _settlement_marker(row, _time_colour(minutes), 0.8)
        _bind(marker, popup, f"{row.name}: {reach}").add_to(group)
        if index is not None:
            index.append(_entry(row.name, "settlement", row.geometry, marker))
    group.add_to(fmap)
    if legend is not None:
        items = [_dot(colour, label) for label, colour in _classes(TIME_CLASSES)]
        items.append(_dot(UNREACHABLE, "not reachable"))
        legend.add([name], f"Settlements: minutes to {plain(service)}", items)
    return group


def _cell_tooltip(cells: Cells, row: int, labels: Sequence[str], heading: str) -> str:
    """Tooltip of one cell: its settlements, people and the people in each band."""
    people = cells.people[row]
    parts = [f"{round(n):,} {label}" for n, label in zip(people, labels, strict=True) if n >= 0.5]
    count = int(cells.counts[row])
    total = f"{count:,} settlement{'s' if count != 1 else ''}, {round(people.sum()):,} people"
    return f"{total}. {heading}: " + "; ".join(parts or ["no people recorded"])


def _cells_layer(
    fmap: folium.Map,
    name: str,
    cells: Cells,
    band_styles: Sequence[tuple[str, str]],
    heading: str,
    *,
    show: bool,
) -> folium.FeatureGroup:
    """Add a layer of cells: ``band_styles`` are (label, colour) of each band, best first."""
    labels = [label for label, _ in band_styles]
    colours = [band_styles[int(b)][1] for b in cells.band]
    tips = [_cell_tooltip(cells, i, labels, heading) for i in range(len(cells))]
    group = _layer(name, show=show)
    group.add_child(CellLayer(cells.rings, colours, tips))
    group.add_to(fmap)
    return group


def _cells_note(cells: Cells) -> str:
    """Say, for the legend, that and how the settlements are aggregated."""
    return (
        f"{cells.settlements:,} settlements aggregated into {len(cells):,} hexagons "
        f"{cells.size_km:g} km across (more than {MAP_POINT_LIMIT:,} settlements): a cell's "
        "colour is the band of its median person; hover for the people in each band"
    )


def add_population_cells(
    fmap: folium.Map,
    settlements: pd.DataFrame,
    service: str,
    crs: CRS | str,
    legend: Legend | None = None,
    *,
    show: bool = True,
) -> folium.FeatureGroup:
    """Settlements aggregated in hexagons, coloured by the minutes of the cell's median person.

    For maps of more settlements than :data:`MAP_POINT_LIMIT`: the layer keeps the name
    of :func:`add_population`'s; a cell's tooltip gives its settlements, people and the
    people in each band of minutes (:data:`TIME_CLASSES`, then not reachable).
    """
    limits = [limit for limit, _ in TIME_CLASSES]
    bands = time_bands(settlements["minutes"].to_numpy(dtype=float), limits)
    cells = bin_settlements(settlements, crs, bands, len(limits) + 1)
    styles = [*_classes(TIME_CLASSES), ("not reachable", UNREACHABLE)]
    words = f"minutes to {plain(service)}"
    name = population_layer_name(service)
    group = _cells_layer(fmap, name, cells, styles, words, show=show)
    if legend is not None:
        items = [_area(colour, label, opacity=0.65) for label, colour in styles]
        items.append(f'<span class="cp-note">{_e(_cells_note(cells))}</span>')
        legend.add([name], f"Settlements: {words}, in cells", items)
    return group


#: Minutes lost between two scenarios: upper limits and colours, mildest first.
LOSS_CLASSES = ((15, "#fdd49e"), (60, "#fc8d59"), (math.inf, "#d7301f"))
#: Care lost altogether: the strongest colour of the compare map.
CARE_LOST = "#67000d"
NO_CHANGE = "#ffffff"
FASTER = "#4393c3"
#: A change smaller than this (minutes) is no change (times are shown rounded).
NO_CHANGE_MIN = 0.5
#: Bands of a change in minutes, best first: (label, colour); see :func:`change_bands`.
CHANGE_BANDS: tuple[tuple[str, str], ...] = (
    ("faster or care gained", FASTER),
    ("no change", NO_CHANGE),
    *((label.replace("over", "more than") + " slower", c) for label, c in _classes(LOSS_CLASSES)),
    ("care lost altogether", CARE_LOST),
    ("no care in either scenario", UNREACHABLE),
)


def change_bands(was: np.ndarray, now: np.ndarray) -> np.ndarray:
    """Band of :data:`CHANGE_BANDS` of each change from ``was`` to ``now`` minutes.

    The same classes as :func:`change_style`, for arrays.
    """
    was, now = np.asarray(was, dtype=float), np.asarray(now, dtype=float)
    both = np.isfinite(was) & np.isfinite(now)
    lost = np.subtract(now, was, out=np.zeros_like(now), where=both)
    limits = np.array([limit for limit, _ in LOSS_CLASSES])
    slower = 2 + np.minimum(np.searchsorted(limits, lost, side="left"), len(limits) - 1)
    bands = np.where(np.abs(lost) < NO_CHANGE_MIN, 1, np.where(lost < 0, 0, slower))
    bands = np.where(np.isfinite(was) | np.isfinite(now), bands, len(CHANGE_BANDS) - 1)
    bands = np.where(np.isfinite(was) & ~np.isfinite(now), len(CHANGE_BANDS) - 2, bands)
    return np.where(~np.isfinite(was) & np.isfinite(now), 0, bands)


def add_minutes_lost_cells(
    fmap: folium.Map,
    reference: pd.DataFrame,
    other: pd.DataFrame,
    service: str,
    scenario: str,
    network: CorridorNetwork,
    legend: Legend | None = None,
) -> folium.FeatureGroup:
    """Draw what changes under ``scenario`` in hexagons: the band of each cell's median person.

    The cells of :func:`add_minutes_lost` for maps of more settlements than
    :data:`MAP_POINT_LIMIT`.
    """
    was = reference.set_index("id")["minutes"].reindex(other["id"]).to_numpy(dtype=float)
    bands = change_bands(was, other["minutes"].to_numpy(dtype=float))
    cells = bin_settlements(other, network.corridor.crs, bands, len(CHANGE_BANDS))
    name = minutes_lost_layer_name(scenario)
    words = f"change in minutes to {plain(service)}"
    group = _cells_layer(fmap, name, cells, CHANGE_BANDS, words, show=True)
    if legend is not None:
        items = [_area(colour, label, opacity=0.65) for label, colour in reversed(CHANGE_BANDS)]
        items.append(f'<span class="cp-note">{_e(_cells_note(cells))}</span>')
        legend.add([name], f"Settlements: {words}, in cells", items)
    return group


def legend_sizes(legend: Legend, layers: Sequence[str]) -> None:
    """Explain circle size: people in a settlement (area grows with population)."""
    dots = "".join(
        f'<i style="background:#ddd;border:1px solid #333;width:{2 * _radius(n):.0f}px;'
        f'height:{2 * _radius(n):.0f}px"></i>'
        for n in LEGEND_POPULATIONS
    )
    sizes = " · ".join(f"{n:,}" for n in LEGEND_POPULATIONS)
    legend.add(layers, "", [f'<span class="cp-sizes">{dots}</span>people: {sizes}'])


def catchments_layer_name(service: str) -> str:
    """Return the name of the catchments' layer of ``service``."""
    return f"Catchments: {plain(service)}"


def add_catchments(
    fmap: folium.Map,
    polygons: gpd.GeoDataFrame,
    service: str,
    legend: Legend | None = None,
) -> folium.FeatureGroup:
    """Catchment bands per facility and threshold, the largest drawn first.

    A band takes the colour of the settlements' time class its threshold falls in
    (:data:`TIME_CLASSES`), so a 60-minute band and a settlement 45 minutes away match.
    """
    name = catchments_layer_name(service)
    group = _layer(name)
    for row in polygons.sort_values("minutes", ascending=False).itertuples():
        colour = _time_colour(float(row.minutes))
        layer = folium.GeoJson(
            mapping(row.geometry),
            style_function=lambda _f, c=colour: {
                "color": c,
                "weight": 1,
                "fillColor": c,
                "fillOpacity": 0.25,
            },
        )
        whose = f" of {row.facility}" if hasattr(row, "facility") else ""
        label = f"within {row.minutes:g} min{whose} ({plain(service)})"
        _bind(layer, None, label).add_to(group)
    group.add_to(fmap)
    if legend is not None:
        levels = sorted({float(m) for m in polygons["minutes"]}) if len(polygons) else []
        items = [_area(_time_colour(m), f"within {m:g} min of a facility") for m in levels]
        legend.add([name], f"Catchments: {plain(service)} by road", items or ["none drawn"])
    return group


def candidate_bounds(best: float) -> list[int]:
    """Upper bounds of the candidate classes: shares of ``best``, to two significant digits."""
    bounds = []
    for limit, _ in CANDIDATE_CLASSES:
        value = best * limit
        digits = max(0, math.floor(math.log10(value)) - 1) if value >= 1 else 0
        bounds.append(int(round(value, -digits)))
    bounds[-1] = int(best)
    return bounds


def _candidate_colour(value: float, bounds: Sequence[int]) -> str:
    for bound, (_, colour) in zip(bounds, CANDIDATE_CLASSES, strict=True):
        if value <= bound:
            return colour
    return CANDIDATE_CLASSES[-1][1]


def add_sites(
    fmap: folium.Map,
    scores: SiteScores,
    legend: Legend | None = None,
    book: NameBook | None = None,
) -> folium.FeatureGroup:
    """Candidate sites as rings on their own scale: people newly within the threshold.

    ``book`` (the bundle's translations) adds each name in the report's other languages.
    """
    group = _layer("Candidate sites")
    book = book or NameBook()
    best = max([float(v) for v in scores.sites["newly_covered"]] + [0.0])
    bounds = candidate_bounds(best)
    for row in scores.sites.itertuples():
        colour = _candidate_colour(float(row.newly_covered), bounds)
        popup = [
            ("Candidate site", row.name),
            *written_in_other_languages(book, row.name),
            ("Country", row.country),
            ("Rank", row.rank),
            (f"People newly within {scores.threshold_min:g} min", f"{row.newly_covered:,}"),
            ("Of them in border communities", f"{row.newly_covered_border_community:,}"),
            (
                "Method",
                "coverage gain, each site alone"
                if scores.result.method == "gain"
                else plain(scores.result.method),
            ),
            ("Why proposed", row.reason),
        ]
        marker = folium.CircleMarker(
            [row.geometry.y, row.geometry.x],
            radius=8,
            color=colour,
            weight=4,
            fill=True,
            fill_color="#ffffff",
            fill_opacity=0.85,
        )
        _bind(marker, popup, f"#{row.rank} {row.name}: +{row.newly_covered:,}").add_to(group)
    group.add_to(fmap)
    if legend is not None:
        items, previous = [], 0
        for upper, (_, colour) in zip(bounds, CANDIDATE_CLASSES, strict=True):
            label = f"{previous:,}–{upper:,}" if previous else f"up to {upper:,}"
            items.append(_ring(colour, label))
            previous = upper
        if not best:
            items = [_ring(CANDIDATE_CLASSES[0][1], "none brings anyone newly within reach")]
        legend.add(
            ["Candidate sites"],
            f"Candidate sites: people newly within {scores.threshold_min:g} min",
            items,
        )
    return group


def add_pathways(
    fmap: folium.Map, found: Sequence[Pathway], legend: Legend | None = None
) -> folium.FeatureGroup:
    """Referral routes following the roads: across a border solid purple, at home dashed blue."""
    specialty = plain(found[0].specialty) if found else "referrals"
    name = f"Referrals: {specialty}"
    group = _layer(name)
    kinds = set()
    for path in found:
        if path.geometry is None:
            continue
        coords = [(y, x) for x, y in path.geometry.coords]
        kind = "abroad" if path.border_posts else "home"
        kinds.add(kind)
        waits = sum(w["wait_minutes"] for w in path.waits)
        via = f" via {', '.join(path.border_posts)}" if path.border_posts else ""
        wait = f" (waits {waits:.0f} min)" if waits else ""
        text = f"{path.origin} → {path.destination}: {path.minutes:.0f} min{via}{wait}"
        colour, dash = REFERRAL_STYLE[kind]
        line = folium.PolyLine(coords, color=colour, weight=3, opacity=0.85, dash_array=dash)
        _bind(line, None, text).add_to(group)
    group.add_to(fmap)
    if legend is not None:
        words = {"abroad": "referral across a border", "home": "referral within the country"}
        items = [
            _line(REFERRAL_STYLE[k][0], words[k], dashed=REFERRAL_STYLE[k][1] is not None)
            for k in ("abroad", "home")
            if k in kinds
        ]
        drawn = sum(p.geometry is not None for p in found)
        if drawn < len(found):  # beyond settings.REFERRAL_DETAIL_LIMIT: the most populous
            items.append(_e(f"lines for {drawn:,} of {len(found):,} (the most populous places)"))
        legend.add([name], f"Referral routes: {specialty}", items or ["none drawn"])
    return group


def add_legend(fmap: folium.Map, legend: Legend) -> None:
    """Add the legend as a collapsible box in the bottom-right corner (the scale is left)."""
    fmap.add_child(MapControl("bottomright", legend.html(f"{NATURAL_EARTH_CREDIT}."), "cp-legend"))


def add_place_search(fmap: folium.Map, entries: Sequence[dict[str, Any]]) -> None:
    """Add a search box over settlements, facilities and border posts."""
    if entries:
        fmap.add_child(PlaceSearch(entries))


def _named_in(text: str, names: Iterable[str]) -> set[str]:
    """Return the names that appear as whole words in ``text``."""
    return _NameIndex(names).found_in(text)


_WORD = re.compile(r"\w+")


class _NameIndex:
    """Names indexed by their first word: finding those in a text tries only a few.

    A whole-word match of a name that starts with a letter or digit starts where a word of
    the text starts, and that word is the name's first word; the other names (starting
    with a sign) are tried on every text.
    """

    def __init__(self, names: Iterable[str]) -> None:
        self.by_word: dict[str, set[str]] = {}
        self.others: set[str] = set()
        for name in names:
            first = _WORD.match(name)
            if first:
                self.by_word.setdefault(first.group().lower(), set()).add(name)
            else:
                self.others.add(name)

    def found_in(self, text: str) -> set[str]:
        """Return the names that appear as whole words in ``text`` (case-insensitive)."""
        tried = set(self.others)
        for word in _WORD.findall(text):
            tried |= self.by_word.get(word.lower(), set())
        return {
            n
            for n in tried
            if re.search(rf"(?<!\w){re.escape(n)}(?!\w)", text, flags=re.IGNORECASE)
        }


def always_named(corridor: Corridor, near_km: float = 5.0, *, nearest: bool = True) -> set[str]:
    """Settlements a map always names, whatever the zoom.

    The corridor's endpoints (settlements named in its title or its demo route) and the
    towns of its facilities and border posts: settlements named in a facility's or post's
    name, or (with ``nearest``) the nearest settlement within ``near_km`` of a facility.
    """
    population = corridor.population
    index = _NameIndex(str(n) for n in population["name"])
    keep = index.found_in(corridor.name)
    keep |= index.found_in(" ".join(corridor.demo_route or ()))
    for text in list(corridor.facilities["name"]) + [p.name for p in corridor.posts.values()]:
        keep |= index.found_in(str(text))
    if nearest and len(population) and len(corridor.facilities):
        keep |= _nearest_names(population, corridor.facilities, corridor.crs, near_km * 1000)
    return keep


def _nearest_names(
    population: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, crs: CRS | str, within_m: float
) -> set[str]:
    """Names of the settlement nearest to each facility (the first of equals), if within reach."""
    metric = population.to_crs(crs).geometry.reset_index(drop=True)
    points = facilities.to_crs(crs).geometry.to_numpy()
    pairs, _ = metric.sindex.nearest(points, max_distance=within_m, return_distance=True)
    nearest: dict[int, int] = {}
    for facility, settlement in zip(pairs[0], pairs[1], strict=True):
        nearest[int(facility)] = min(nearest.get(int(facility), int(settlement)), int(settlement))
    names = population["name"].to_numpy()
    return {str(names[i]) for i in nearest.values()}


def add_place_names(
    fmap: folium.Map,
    network: CorridorNetwork,
    legend: Legend | None = None,
    *,
    limit: int | None = None,
) -> folium.FeatureGroup:
    """Settlement names chosen by importance in view (:class:`PlaceLabels`).

    With ``limit``, only the places always named and the ``limit`` largest others are
    candidates (a country's settlements are far too many to place in a browser).
    """
    group = _layer("Place names", show=True)
    population = network.corridor.population
    # a country's facilities are too many to name the town of each at every zoom
    keep = always_named(network.corridor, nearest=limit is None)
    if limit is not None:
        population = _largest_and(population, keep, limit)
    labels = [
        {
            "name": r.name,
            "lat": r.geometry.y,
            "lon": r.geometry.x,
            "population": r.population,
            "always": str(r.name) in keep,
        }
        for r in population.itertuples()
    ]
    group.add_child(PlaceLabels(labels + _named_place_labels(network.corridor.named_places)))
    group.add_to(fmap)
    if legend is not None:
        legend.add(
            ["Place names"],
            "",
            ['<i class="cp-ab">Ab</i>place name: larger type, larger place'],
        )
    return group


def _named_place_labels(places: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """Labels of the bundle's named places (a referral city): always shown, never counted."""
    return [
        {
            "name": r.name,
            "lat": r.geometry.y,
            "lon": r.geometry.x,
            "population": 0 if pd.isna(r.population) else r.population,
            "always": True,
        }
        for r in places.itertuples()
    ]


def _largest_and(population: pd.DataFrame, keep: set[str], limit: int) -> pd.DataFrame:
    """Return the settlements named in ``keep`` and the ``limit`` largest of the others."""
    named = population["name"].astype(str).isin(keep)
    others = population[~named].nlargest(limit, "population")
    return pd.concat([population[named], others])


def aggregated(network: CorridorNetwork) -> bool:
    """Whether a map draws the settlements in cells: more than :data:`MAP_POINT_LIMIT`."""
    return len(network.corridor.population) > MAP_POINT_LIMIT


def light_facilities(network: CorridorNetwork) -> bool:
    """Whether facilities are many (:data:`MAP_FACILITY_LIMIT`): light markers, bands dissolved."""
    return len(network.corridor.facilities) > MAP_FACILITY_LIMIT


def corridor_map(
    times: CorridorTravelTimes,
    service: str,
    thresholds: Sequence[float],
    *,
    scores: SiteScores | None = None,
    pathways: Sequence[Pathway] | None = None,
    offline: bool = False,
    tiles: Mapping[str, tuple[str, str | None]] | None = None,
) -> folium.Map:
    """Build the planner's map: every layer of the corridor for one service and scenario.

    Parameters
    ----------
    times : CorridorTravelTimes
        Travel times for the chosen profile, scenario and departure.
    service : str
        Service whose access the population and catchment layers show.
    thresholds : sequence of float
        Catchment thresholds in minutes.
    scores : SiteScores, optional
        Candidate site scores to show.
    pathways : sequence of Pathway, optional
        Referral routes to draw.
    offline : bool
        No tiles: the file opens with no network.
    tiles : mapping, optional
        Tile layers of an online map (default :data:`TILE_LAYERS`).
    """
    fmap = base_map(times.network, map_title(times, service), offline=offline, tiles=tiles)
    _draw_layers(
        fmap, times, service, thresholds, scores=scores, pathways=pathways, offline=offline
    )
    return fmap


def map_title(times: CorridorTravelTimes, service: str) -> str:
    """Title of a map: corridor, service, scenario, departure and data date."""
    corridor = times.network.corridor
    when = f", departing {times.depart:%Y-%m-%d %H:%M}" if times.depart else ""
    return (
        f"{corridor.name} — {plain(service)} — scenario {times.scenario.name}{when}"
        f" — data of {corridor.metadata.get('data_date', 'unknown date')}"
    )


def _draw_layers(
    fmap: folium.Map,
    times: CorridorTravelTimes,
    service: str,
    thresholds: Sequence[float],
    *,
    scores: SiteScores | None = None,
    pathways: Sequence[Pathway] | None = None,
    lost_against: pd.DataFrame | None = None,
    offline: bool = True,
) -> Legend:
    network = times.network
    index: list[dict[str, Any]] = []
    legend = Legend()
    names = country_names(network)
    book = _book(network)
    legend_countries(legend, filled=offline)
    add_roads(fmap, network, legend)
    add_border(fmap, network, legend)
    cells = aggregated(network)
    add_place_names(fmap, network, legend, limit=MAP_LABEL_LIMIT if cells else None)
    many = light_facilities(network)
    catchments = (catchment_bands if many else facility_catchments)(times, service, thresholds)
    add_catchments(fmap, catchments, service, legend)
    settlements = nearest_facility_times(times, service)
    if cells:
        add_population_cells(
            fmap, settlements, service, network.corridor.crs, legend, show=lost_against is None
        )
        if lost_against is not None:
            add_minutes_lost_cells(
                fmap, lost_against, settlements, service, times.scenario.name, network, legend
            )
    else:
        _draw_settlements(
            fmap, settlements, service, index, legend, names, lost_against, times, book
        )
    add_facilities(
        fmap,
        network,
        index,
        service=service,
        settlements=settlements,
        thresholds=thresholds,
        legend=legend,
        light=many,
        book=book,
    )
    add_posts(fmap, network, index, legend, book)
    if scores is not None:
        add_sites(fmap, scores, legend, book)
    if pathways:
        add_pathways(fmap, pathways, legend)
    add_legend(fmap, legend)
    add_place_search(fmap, index)
    folium.LayerControl(collapsed=True).add_to(fmap)
    fmap.add_child(LayerListFit())
    fmap.add_child(FitCorridor(network.corridor.bbox))
    return legend


def _draw_settlements(
    fmap: folium.Map,
    settlements: pd.DataFrame,
    service: str,
    index: list[dict[str, Any]],
    legend: Legend,
    names: Mapping[str, str],
    lost_against: pd.DataFrame | None,
    times: CorridorTravelTimes,
    book: NameBook,
) -> None:
    """One circle per settlement (and per settlement's change, on a compare map's pane)."""
    add_population(
        fmap,
        settlements,
        service,
        index,
        legend,
        names,
        show=lost_against is None,
        book=book,
    )
    sized = [population_layer_name(service)]
    if lost_against is not None:
        add_minutes_lost(
            fmap, lost_against, settlements, service, times.scenario.name, legend, names
        )
        sized.append(minutes_lost_layer_name(times.scenario.name))
    legend_sizes(legend, sized)


def minutes_lost_layer_name(scenario: str) -> str:
    """Return the name of the compare map's layer of ``scenario``."""
    return f"Minutes lost under {scenario}"


def change_style(was: float, now: float) -> tuple[str, str]:
    """Colour and words of a settlement's change in minutes from ``was`` to ``now``.

    Returns
    -------
    tuple of str
        Fill colour and a short description ("no change", "+25 min", "care lost").
    """
    if np.isfinite(was) and not np.isfinite(now):
        return CARE_LOST, "care lost altogether"
    if not np.isfinite(was) and not np.isfinite(now):
        return UNREACHABLE, "no care in either scenario"
    if not np.isfinite(was):
        return FASTER, "care gained"
    lost = now - was
    if abs(lost) < NO_CHANGE_MIN:
        return NO_CHANGE, "no change"
    if lost < 0:
        return FASTER, f"{-lost:.0f} min faster"
    colour = next(c for limit, c in LOSS_CLASSES if lost <= limit)
    return colour, f"+{lost:.0f} min"


def add_minutes_lost(
    fmap: folium.Map,
    reference: pd.DataFrame,
    other: pd.DataFrame,
    service: str,
    scenario: str,
    legend: Legend | None = None,
    names: Mapping[str, str] | None = None,
) -> folium.FeatureGroup:
    """Settlements coloured by what changes in their minutes to ``service`` under ``scenario``.

    Care lost altogether is the strongest colour; "no change" is white and named so.

    Parameters
    ----------
    reference, other : pandas.DataFrame
        :func:`~corridor_planner.analysis.access.nearest_facility_times` of the reference scenario
        and of ``scenario``, settlement by settlement.
    """
    name = minutes_lost_layer_name(scenario)
    group = _layer(name, show=True)
    names = names or {}
    before = reference.set_index("id")
    words = plain(service)
    seen = set()
    for row in other.itertuples():
        was = float(before.loc[row.id, "minutes"])
        now = float(row.minutes)
        colour, change = change_style(was, now)
        seen.add(colour)
        if np.isfinite(was) and np.isfinite(now):
            text = f"{row.name}: {was:.0f} → {now:.0f} min ({change})"
            if change == "no change":
                text = f"{row.name}: {now:.0f} min, no change"
        elif np.isfinite(was):
            text = f"{row.name}: {was:.0f} min → no {words} reachable (care lost)"
        elif np.isfinite(now):
            text = f"{row.name}: none → {now:.0f} min (care gained)"
        else:
            text = f"{row.name}: no {words} reachable in either scenario"
        popup = [
            ("Settlement", row.name),
            ("Country", names.get(row.country, row.country)),
            ("Population", f"{row.population:,}"),
            (f"Minutes to {words}, {before.attrs.get('scenario', 'reference')}", _minutes(was)),
            (f"Minutes to {words}, {scenario}", _minutes(now)),
            ("Change", change),
            ("Nearest facility now", row.facility_name if np.isfinite(now) else "none"),
        ]
        lost_all = colour == CARE_LOST
        # care lost altogether matters most: never the smallest circle
        marker = _settlement_marker(
            row,
            colour,
            0.95,
            outline="#000" if lost_all else "#333",
            weight=3 if lost_all else 1,
            min_radius=7.0 if lost_all else 3.0,
        )
        _bind(marker, popup, text).add_to(group)
    group.add_to(fmap)
    if legend is not None:
        items = [_dot(CARE_LOST, "care lost altogether", border="#000")]
        items += [
            _dot(colour, label.replace("over", "more than") + " slower")
            for label, colour in reversed(_classes(LOSS_CLASSES))
        ]
        items += [_dot(NO_CHANGE, "no change"), _dot(FASTER, "faster or care gained")]
        if UNREACHABLE in seen:
            items.append(_dot(UNREACHABLE, "no care in either scenario"))
        legend.add([name], f"Settlements: change in minutes to {words}", items)
    return group


def _minutes(value: float) -> str:
    return f"{value:.0f}" if np.isfinite(value) else "not reachable"


def stacked(bbox: Sequence[float]) -> bool:
    """Whether a corridor is wider (east-west) than tall: compare panes are then stacked."""
    west, south, east, north = bbox
    width = (east - west) * math.cos(math.radians((south + north) / 2))
    return width > (north - south)


def compare_map(
    reference: CorridorTravelTimes,
    other: CorridorTravelTimes,
    service: str,
    thresholds: Sequence[float],
    *,
    offline: bool = False,
    tiles: Mapping[str, tuple[str, str | None]] | None = None,
) -> Figure:
    """Two synchronised panes: the reference scenario, and what changes under the other.

    The second pane colours settlements by what changes in their minutes under the other
    scenario (strongest colour for care lost altogether, "no change" named so), with both
    times in each popup. An east-west corridor gets its panes stacked, a north-south one
    side by side, so neither is cut at the pane edge. Panning or zooming one pane moves
    the other.

    Returns
    -------
    branca.element.Figure
        The page; ``render()`` gives its HTML.
    """
    network = reference.network
    page = Figure()
    panes = []
    on_top = stacked(network.corridor.bbox)
    for index, times in enumerate((reference, other)):
        title = (
            map_title(times, service)
            if index == 0
            else f"Scenario {times.scenario.name} — {plain(service)} — change against "
            f"{reference.scenario.name}"
        )
        place = (
            {"width": "100%", "height": "50%", "left": "0%", "top": f"{50 * index}%"}
            if on_top
            else {"width": "50%", "height": "100%", "left": f"{50 * index}%", "top": "0%"}
        )
        fmap = base_map(
            network, title, offline=offline, page=page, tiles=tiles, position="absolute", **place
        )
        panes.append(fmap)
    before = nearest_facility_times(reference, service)
    before.attrs["scenario"] = reference.scenario.name
    _draw_layers(panes[0], reference, service, thresholds, offline=offline)
    _draw_layers(panes[1], other, service, thresholds, lost_against=before, offline=offline)
    page.add_child(SyncViews(*panes))
    return page


def planner_map(
    times: CorridorTravelTimes,
    service: str,
    thresholds: Sequence[float],
    *,
    with_sites: bool = False,
    referral_specialty: str | None = None,
    offline: bool = False,
    tiles: Mapping[str, tuple[str, str | None]] | None = None,
) -> folium.Map:
    """Build the ``map`` command's map: optionally candidates scored, referral routes.

    Candidates are scored by coverage gain (each alone) at the smallest threshold;
    referral routes are each settlement's fastest acceptable destination.
    """
    scores = None
    if with_sites:
        candidates = candidates_for(times.network, service)
        scores = score_sites(times, service, min(thresholds), len(candidates), method="gain")
    found = None
    if referral_specialty:
        found, _ = referral_pathways(times, referral_specialty, Patient(times.profile), top=1)
    return corridor_map(
        times,
        service,
        thresholds,
        scores=scores,
        pathways=found,
        offline=offline,
        tiles=tiles,
    )


def default_map_path(
    corridor_id: str, scenario: str = "", compare_with: str | None = None, offline: bool = False
) -> Path:
    """Return where a map goes by default: ``maps/ID[_SCENARIO_vs_OTHER][_offline].html``."""
    suffix = (f"_{scenario}_vs_{compare_with}" if compare_with else "") + (
        "_offline" if offline else ""
    )
    return Path("maps") / f"{file_stem(corridor_id + suffix)}.html"


def check_map_request(
    path: Path, compare_with: str | None, with_sites: bool, referral_specialty: str | None
) -> None:
    """Refuse, before any work, a map request that cannot be drawn.

    Raises
    ------
    CorridorPlannerError
        If ``path`` is not an ``.html`` file.
    InvalidArgumentError
        If a comparison is asked for with sites or referral routes (it draws access only).
    """
    if path.suffix.lower() != ".html":
        raise CorridorPlannerError(f"cannot write {path}: a map is an .html file")
    if compare_with and (with_sites or referral_specialty):
        raise InvalidArgumentError(
            "--compare draws access only: drop --with-sites/--with-referrals"
        )


def render_map(
    times: CorridorTravelTimes,
    service: str,
    thresholds: Sequence[float],
    *,
    compare: CorridorTravelTimes | None = None,
    with_sites: bool = False,
    referral_specialty: str | None = None,
    offline: bool = False,
    tiles: Mapping[str, tuple[str, str | None]] | None = None,
) -> str:
    """Return a map's HTML page: :func:`compare_map` with ``compare``, else :func:`planner_map`."""
    if compare is not None:
        page = compare_map(times, compare, service, thresholds, offline=offline, tiles=tiles)
        return page.render()
    fmap = planner_map(
        times,
        service,
        thresholds,
        with_sites=with_sites,
        referral_specialty=referral_specialty,
        offline=offline,
        tiles=tiles,
    )
    return fmap.get_root().render()
