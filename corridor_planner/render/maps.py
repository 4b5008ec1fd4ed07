"""Planner maps: functions that build folium maps of a corridor (they never write files).

Every string from the data reaches the page HTML-escaped and JSON-encoded: popups and
tooltips are bound with :class:`BoundText`, not folium's templates, which paste raw text
into JavaScript.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Figure
from shapely.geometry import LineString, box, mapping

from corridor_planner.analysis.access import nearest_facility_times
from corridor_planner.analysis.catchments import facility_catchments
from corridor_planner.analysis.referral import Pathway
from corridor_planner.analysis.referral import pathways as referral_pathways
from corridor_planner.analysis.scoring import SiteScores, candidates_for, score_sites
from corridor_planner.bundle.cover_rules import Patient
from corridor_planner.errors import CorridorPlannerError, InvalidArgumentError
from corridor_planner.network.graph import CorridorNetwork
from corridor_planner.network.roads import edge_kind
from corridor_planner.outputs import file_stem
from corridor_planner.render.map_context import NATURAL_EARTH_CREDIT, country_areas
from corridor_planner.render.map_elements import (
    BoundText,
    LiteralHtml,
    MapControl,
    PlaceLabels,
    PlaceSearch,
    SyncViews,
    escape,
    inline_leaflet,
    page_of,
)
from corridor_planner.routing.traveltimes import CorridorTravelTimes

LEVEL_STYLE = {  # colour and radius (px) by facility level
    "primary": ("#7fb3d5", 5),
    "district": ("#2e86c1", 7),
    "regional": ("#1b4f72", 9),
    "national": ("#512e5f", 11),
}
TIME_CLASSES = ((30, "#1a9850"), (60, "#fee08b"), (120, "#fc8d59"), (math.inf, "#d73027"))
UNREACHABLE = "#7f7f7f"
MAX_SETTLEMENT_RADIUS = 22.0  # px: a city of millions must not hide its neighbours
CATCHMENT_COLOURS = ("#1a9850", "#91cf60", "#d9ef8b", "#fee08b")


_e = escape


def _table(rows: Iterable[tuple[str, Any]]) -> str:
    cells = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return f'<table class="cp-popup">{cells}</table>'


def _bind(layer: Any, popup_rows: Sequence[tuple[str, Any]] | None, tooltip: str | None) -> Any:
    layer.add_child(BoundText(_table(popup_rows) if popup_rows else None, tooltip))
    return layer


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
    return str(value).replace("_", " ")


def _settlement_marker(row: Any, colour: str, opacity: float) -> folium.CircleMarker:
    """Return a settlement's circle: sized by population (capped), filled with ``colour``."""
    return folium.CircleMarker(
        [row.geometry.y, row.geometry.x],
        radius=min(MAX_SETTLEMENT_RADIUS, max(3.0, math.sqrt(row.population) / 40)),
        color="#333",
        weight=1,
        fill=True,
        fill_color=colour,
        fill_opacity=opacity,
    )


def _time_colour(minutes: float) -> str:
    if not np.isfinite(minutes):
        return UNREACHABLE
    return next(colour for limit, colour in TIME_CLASSES if minutes <= limit)


# the map ---------------------------------------------------------------------------------


def base_map(
    network: CorridorNetwork,
    title: str,
    offline: bool = False,
    page: Figure | None = None,
    **size: Any,
) -> folium.Map:
    """Make a map framed on the corridor: country areas, a scale, a title, place search.

    An offline map carries Leaflet inline (the copy in the package's ``render/static``) and
    no other script, so it opens with no network at all; its background is the country
    areas of Natural Earth. An online map adds OpenStreetMap and a plain light basemap as
    switchable tile layers.

    Parameters
    ----------
    network : CorridorNetwork
        The corridor to frame.
    title : str
        Title shown in the top right corner (escaped).
    offline : bool
        No tiles and Leaflet inline.
    page : branca.element.Figure, optional
        Page to put the map on, beside others (default: a page of its own).
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
        **size,
    )
    if page is not None:
        page.add_child(fmap)
    fmap.fit_bounds([[south, west], [north, east]])
    if offline:
        inline_leaflet(fmap)
    else:
        for name, (tiles, attribution) in TILE_LAYERS.items():
            folium.TileLayer(
                tiles, name=name, attr=attribution, show=name == "OpenStreetMap"
            ).add_to(fmap)
    head = page_of(fmap).header
    if "cp_style" not in head._children:
        head.add_child(LiteralHtml(_STYLE), name="cp_style")
    fmap.add_child(MapControl("topright", f"<b>{_e(title)}</b>", "cp-title", fit_width=True))
    add_country_areas(fmap, network)
    return fmap


#: Tile layers of an online map: name -> (URL or folium name, attribution).
TILE_LAYERS = {
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


_STYLE = """<style>
.leaflet-container { background: #dfe7ec; }
.cp-title { max-width: 420px; padding: 6px 10px; background: rgba(255,255,255,.94);
  border-radius: 4px; font: 600 13px/1.3 sans-serif; box-shadow: 0 1px 4px rgba(0,0,0,.3); }
.cp-legend { padding: 6px 10px; background: rgba(255,255,255,.94); border-radius: 4px;
  font: 12px/1.4 sans-serif; box-shadow: 0 1px 4px rgba(0,0,0,.3);
  max-height: calc(100vh - 190px); overflow-y: auto; }
.cp-legend summary { cursor: pointer; font-weight: 600; }
.cp-legend i { display: inline-block; width: 12px; height: 12px; border-radius: 50%;
  margin-right: 5px; vertical-align: middle; }
.cp-legend b { display: block; margin-top: 4px; }
.cp-legend .cp-note { color: #555; max-width: 220px; margin-top: 4px; }
.cp-search input { width: 210px; padding: 5px 8px; border: 1px solid #aaa; border-radius: 4px;
  font: 13px sans-serif; box-shadow: 0 1px 4px rgba(0,0,0,.2); }
.cp-label-icon { background: none; border: none; }
.cp-label { position: relative; left: 6px; top: -8px; white-space: nowrap; color: #222;
  font: 11px/1 sans-serif; pointer-events: none;
  text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 2px #fff; }
.cp-label-m { font-size: 12px; font-weight: 600; }
.cp-label-l { font-size: 14px; font-weight: 700; }
.cp-country { color: #8a8170; font: italic 600 15px/1 serif; letter-spacing: .15em;
  text-transform: uppercase; white-space: nowrap; pointer-events: none; }
table.cp-popup { border-collapse: collapse; font: 12px sans-serif; }
table.cp-popup th { text-align: left; padding: 1px 6px 1px 0; vertical-align: top; color: #444; }
table.cp-popup td { padding: 1px 0; }
.cp-pane-title { font-size: 12px; }
</style>"""


def add_country_areas(fmap: folium.Map, network: CorridorNetwork) -> folium.FeatureGroup:
    """Country areas, boundaries and names from Natural Earth: context with no tiles."""
    group = _layer("Countries (Natural Earth)", control=True)
    own = list(network.corridor.countries)
    bbox = tuple(network.corridor.bbox)
    areas = country_areas(bbox)
    for row in areas.itertuples():
        fill = (
            COUNTRY_FILLS[own.index(row.iso_a2) % len(COUNTRY_FILLS)]
            if row.iso_a2 in own
            else NEIGHBOUR_FILL
        )
        folium.GeoJson(
            mapping(row.geometry),
            style_function=lambda _f, c=fill: {
                "color": "#9c8f7a",
                "weight": 1.2,
                "fillColor": c,
                "fillOpacity": 1.0,
            },
            interactive=False,
        ).add_to(group)
    names = []
    frame = box(*bbox)
    for row in areas.itertuples():
        inside = row.geometry.intersection(frame)
        point = (inside if not inside.is_empty else row.geometry).representative_point()
        names.append({"name": row.name, "lat": point.y, "lon": point.x, "population": 0})
    group.add_child(PlaceLabels(names, css_class="cp-country", min_zoom=0))
    group.add_to(fmap)
    return group


def add_roads(fmap: folium.Map, network: CorridorNetwork) -> folium.FeatureGroup:
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
    wgs = gpd.GeoSeries(lines, crs=network.corridor.crs).to_crs("EPSG:4326")
    for line, label in zip(wgs, labels, strict=True):
        coords = [(y, x) for x, y in line.coords]
        _bind(
            folium.PolyLine(coords, color="#555", weight=2, opacity=0.8), None, label or None
        ).add_to(group)
    group.add_to(fmap)
    return group


def add_border(fmap: folium.Map, network: CorridorNetwork) -> folium.FeatureGroup | None:
    """Draw the border line(s) of the bundle, dashed."""
    border = network.corridor.border
    if border is None or border.empty:
        return None
    group = _layer("Border line of the bundle (approximate)", show=False)
    for geom in border.geometry:
        for part in getattr(geom, "geoms", [geom]):
            coords = [(y, x) for x, y in part.coords]
            _bind(
                folium.PolyLine(coords, color="#b03a2e", weight=2, dash_array="6 6"),
                None,
                "International border (approximate)",
            ).add_to(group)
    group.add_to(fmap)
    return group


def add_facilities(
    fmap: folium.Map, network: CorridorNetwork, index: list[dict[str, Any]] | None = None
) -> list[folium.FeatureGroup]:
    """Facilities styled by level, one layer per service so planners can filter.

    Each facility is added to ``index`` (for the place search) when one is given.
    """
    facilities = network.corridor.facilities
    services = sorted({s for row in facilities["services"] for s in row})
    groups = {
        s: _layer(f"Facilities: {s.replace('_', ' ')}", show=s == "emergency") for s in services
    }
    for row in facilities.itertuples():
        colour, radius = LEVEL_STYLE.get(row.level, ("#2e86c1", 7))
        popup = [
            ("Facility", row.name),
            ("Country", row.country),
            ("Level", row.level),
            ("Services", ", ".join(s.replace("_", " ") for s in row.services)),
            ("Beds", "not sourced" if row.beds is None or pd.isna(row.beds) else int(row.beds)),
            ("Operator", _operator(row)),
            (
                "Capacity",
                ", ".join(f"{k}: {v}" for k, v in (row.capacity or {}).items()) or "not sourced",
            ),
            (
                "Who may use it",
                "; ".join(
                    f"{k}: {v if v == 'all' else ', '.join(v)}"
                    for k, v in (row.accepts or {}).items()
                ),
            ),
            ("Position", f"within {row.location_precision_m:,.0f} m"),
            ("Source", row.source),
        ]
        for service in row.services:
            marker = folium.CircleMarker(
                [row.geometry.y, row.geometry.x],
                radius=radius,
                color="#fff",
                weight=1.5,
                fill=True,
                fill_color=colour,
                fill_opacity=0.95,
            )
            _bind(marker, popup, f"{row.name} ({row.level})").add_to(groups[service])
            if index is not None and service == row.services[0]:
                index.append(_entry(row.name, "facility", row.geometry, marker))
    for group in groups.values():
        group.add_to(fmap)
    return list(groups.values())


def add_posts(
    fmap: folium.Map, network: CorridorNetwork, index: list[dict[str, Any]] | None = None
) -> folium.FeatureGroup:
    """Border posts with hours, season, delays by profile and who may cross."""
    group = _layer("Border posts")
    gdf = network.corridor.posts_gdf.set_index("id")
    for post in network.corridor.posts.values():
        point = gdf.loc[post.id].geometry
        delays = "; ".join(
            f"{direction}: " + ", ".join(f"{p} {m} min" for p, m in sorted(by.items()))
            for direction, by in sorted(post.delay_minutes.items())
        )
        popup = [
            ("Border post", post.name),
            ("Countries", " – ".join(post.countries)),
            ("Opening hours", post.opening_hours),
            ("Season", post.season or "all year"),
            ("Who may cross", ", ".join(sorted(post.profiles_allowed))),
            ("Delays", delays),
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
    return group


def add_population(
    fmap: folium.Map,
    settlements: pd.DataFrame,
    service: str,
    index: list[dict[str, Any]] | None = None,
) -> folium.FeatureGroup:
    """Settlements sized by population, coloured by minutes to the nearest facility."""
    group = _layer(f"Population: time to {service.replace('_', ' ')}")
    for row in settlements.itertuples():
        minutes = float(row.minutes)
        reach = (
            f"{minutes:.0f} min to {row.facility_name}"
            if np.isfinite(minutes)
            else "no facility reachable"
        )
        popup = [
            ("Settlement", row.name),
            ("Country", row.country),
            ("Population", f"{row.population:,}"),
            ("Border community", "yes" if row.border_community else "no"),
            (f"Nearest {service}", reach),
            ("Source", row.source),
        ]
        marker = _settlement_marker(row, _time_colour(minutes), 0.8)
        _bind(marker, popup, f"{row.name}: {reach}").add_to(group)
        if index is not None:
            index.append(_entry(row.name, "settlement", row.geometry, marker))
    group.add_to(fmap)
    return group


def add_catchments(
    fmap: folium.Map, polygons: gpd.GeoDataFrame, service: str
) -> folium.FeatureGroup:
    """Catchment polygons per facility and threshold, the largest drawn first."""
    group = _layer(f"Catchments: {service.replace('_', ' ')}")
    levels = sorted(set(polygons["minutes"])) if len(polygons) else []
    for row in polygons.sort_values("minutes", ascending=False).itertuples():
        rank = levels.index(row.minutes)
        colour = CATCHMENT_COLOURS[min(rank, len(CATCHMENT_COLOURS) - 1)]
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
        label = f"within {row.minutes:g} min{whose} ({service.replace('_', ' ')})"
        _bind(layer, None, label).add_to(group)
    group.add_to(fmap)
    return group


def add_sites(fmap: folium.Map, scores: SiteScores) -> folium.FeatureGroup:
    """Candidate sites coloured by score, with rank and newly covered population."""
    group = _layer("Candidate sites")
    best = max([float(v) for v in scores.sites["newly_covered"]] + [1.0])
    for row in scores.sites.itertuples():
        share = float(row.newly_covered) / best
        colour = f"#{int(255 * (1 - share)):02x}{int(120 + 100 * share):02x}{40:02x}"
        popup = [
            ("Candidate site", row.name),
            ("Country", row.country),
            ("Rank", row.rank),
            (f"Newly within {scores.threshold_min:g} min", f"{row.newly_covered:,}"),
            ("Of them in border communities", f"{row.newly_covered_border_community:,}"),
            ("Method", scores.result.method),
            ("Why proposed", row.reason),
        ]
        marker = folium.CircleMarker(
            [row.geometry.y, row.geometry.x],
            radius=8,
            color="#000",
            weight=1.5,
            dash_array="3",
            fill=True,
            fill_color=colour,
            fill_opacity=0.9,
        )
        _bind(marker, popup, f"#{row.rank} {row.name}: +{row.newly_covered:,}").add_to(group)
    group.add_to(fmap)
    return group


def add_pathways(fmap: folium.Map, found: Sequence[Pathway]) -> folium.FeatureGroup:
    """Referral routes following the roads; posts crossed and time in the tooltip."""
    specialty = found[0].specialty.replace("_", " ") if found else "referrals"
    group = _layer(f"Referrals: {specialty}")
    for path in found:
        if path.geometry is None:
            continue
        coords = [(y, x) for x, y in path.geometry.coords]
        abroad = bool(path.border_posts)
        waits = sum(w["wait_minutes"] for w in path.waits)
        via = f" via {', '.join(path.border_posts)}" if abroad else ""
        wait = f" (waits {waits:.0f} min)" if waits else ""
        text = f"{path.origin} → {path.destination}: {path.minutes:.0f} min{via}{wait}"
        line = folium.PolyLine(
            coords, color="#8e44ad" if abroad else "#2471a3", weight=3, opacity=0.8
        )
        _bind(line, None, text).add_to(group)
    group.add_to(fmap)
    return group


def add_legend(
    fmap: folium.Map,
    service: str,
    with_sites: bool,
    with_referrals: bool,
    *,
    minutes_lost: bool = False,
) -> None:
    """Add the legend as a collapsible box in the bottom-right corner (the scale is left)."""
    parts = ["<details open><summary>Legend</summary><b>Facilities (by level)</b>"]
    parts += [
        f'<i style="background:{c}"></i>{_e(level)}<br>' for level, (c, _) in LEVEL_STYLE.items()
    ]
    parts.append('<i style="background:#000;border:2px solid #e74c3c"></i>border post<br>')
    if minutes_lost:
        parts.append("<b>Settlements: minutes lost</b>")
        previous: float = 0
        for limit, colour in LOSS_CLASSES:
            label = f"{previous:g}–{limit:g}" if np.isfinite(limit) else f"over {previous:g}"
            parts.append(f'<i style="background:{colour}"></i>{label}<br>')
            previous = limit
        parts.append(f'<i style="background:{UNREACHABLE}"></i>care lost altogether<br>')
    else:
        parts.append(f"<b>Settlements: minutes to {_e(service.replace('_', ' '))}</b>")
        previous = 0
        for limit, colour in TIME_CLASSES:
            label = f"{previous:g}–{limit:g}" if np.isfinite(limit) else f"over {previous:g}"
            parts.append(f'<i style="background:{colour}"></i>{label}<br>')
            previous = limit
        parts.append(f'<i style="background:{UNREACHABLE}"></i>not reachable<br>')
    if with_sites:
        parts.append("<b>Candidate sites</b>green: most newly covered<br>")
    if with_referrals:
        parts.append('<b>Referral routes</b><i style="background:#8e44ad"></i>across a border<br>')
    parts.append(f'<div class="cp-note">{_e(NATURAL_EARTH_CREDIT)}.</div></details>')
    fmap.add_child(MapControl("bottomright", "".join(parts), "cp-legend"))


#: Colours of minutes lost between two scenarios.
LOSS_CLASSES = ((0, "#e0e0e0"), (15, "#fee08b"), (60, "#fc8d59"), (math.inf, "#d73027"))


def add_place_search(fmap: folium.Map, entries: Sequence[dict[str, Any]]) -> None:
    """Add a search box over settlements, facilities and border posts."""
    if entries:
        fmap.add_child(PlaceSearch(entries))


def add_place_names(fmap: folium.Map, network: CorridorNetwork) -> folium.FeatureGroup:
    """Settlement names, larger places shown from further out."""
    group = _layer("Place names", show=True)
    population = network.corridor.population
    group.add_child(
        PlaceLabels(
            [
                {
                    "name": r.name,
                    "lat": r.geometry.y,
                    "lon": r.geometry.x,
                    "population": r.population,
                }
                for r in population.itertuples()
            ]
        )
    )
    group.add_to(fmap)
    return group


def corridor_map(
    times: CorridorTravelTimes,
    service: str,
    thresholds: Sequence[float],
    *,
    scores: SiteScores | None = None,
    pathways: Sequence[Pathway] | None = None,
    offline: bool = False,
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
        No tiles and Leaflet inline: the file opens with no network.
    """
    fmap = base_map(times.network, map_title(times, service), offline=offline)
    _draw_layers(fmap, times, service, thresholds, scores=scores, pathways=pathways)
    return fmap


def map_title(times: CorridorTravelTimes, service: str) -> str:
    """Title of a map: corridor, service, scenario, departure and data date."""
    corridor = times.network.corridor
    when = f", departing {times.depart:%Y-%m-%d %H:%M}" if times.depart else ""
    return (
        f"{corridor.name} — {service.replace('_', ' ')} — scenario {times.scenario.name}{when}"
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
) -> None:
    network = times.network
    index: list[dict[str, Any]] = []
    add_roads(fmap, network)
    add_border(fmap, network)
    add_catchments(fmap, facility_catchments(times, service, thresholds), service)
    settlements = nearest_facility_times(times, service)
    add_population(fmap, settlements, service, index)
    if lost_against is not None:
        add_minutes_lost(fmap, lost_against, settlements, service, times.scenario.name)
    add_place_names(fmap, network)
    add_facilities(fmap, network, index)
    add_posts(fmap, network, index)
    if scores is not None:
        add_sites(fmap, scores)
    if pathways:
        add_pathways(fmap, pathways)
    add_legend(
        fmap, service, scores is not None, bool(pathways), minutes_lost=lost_against is not None
    )
    add_place_search(fmap, index)
    folium.LayerControl(collapsed=True).add_to(fmap)


def add_minutes_lost(
    fmap: folium.Map,
    reference: pd.DataFrame,
    other: pd.DataFrame,
    service: str,
    scenario: str,
) -> folium.FeatureGroup:
    """Settlements coloured by the minutes to ``service`` they lose under ``scenario``.

    Parameters
    ----------
    reference, other : pandas.DataFrame
        :func:`~corridor_planner.analysis.access.nearest_facility_times` of the reference scenario
        and of ``scenario``, settlement by settlement.
    """
    group = _layer(f"Minutes lost under {scenario}", show=True)
    before = reference.set_index("id")
    for row in other.itertuples():
        was = float(before.loc[row.id, "minutes"])
        now = float(row.minutes)
        lost = now - was
        if np.isfinite(now) and np.isfinite(was):
            colour = next(c for limit, c in LOSS_CLASSES if lost <= limit)
            text = f"{row.name}: {was:.0f} → {now:.0f} min (+{max(lost, 0):.0f})"
        elif np.isfinite(was):
            colour, text = UNREACHABLE, f"{row.name}: {was:.0f} min → no {service} reachable"
        else:
            colour, text = UNREACHABLE, f"{row.name}: no {service} reachable in either scenario"
        popup = [
            ("Settlement", row.name),
            ("Population", f"{row.population:,}"),
            (f"Minutes to {service}, {before.attrs.get('scenario', 'reference')}", _minutes(was)),
            (f"Minutes to {service}, {scenario}", _minutes(now)),
            ("Nearest facility now", row.facility_name if np.isfinite(now) else "none"),
        ]
        marker = _settlement_marker(row, colour, 0.9)
        _bind(marker, popup, text).add_to(group)
    group.add_to(fmap)
    return group


def _minutes(value: float) -> str:
    return f"{value:.0f}" if np.isfinite(value) else "not reachable"


def compare_map(
    reference: CorridorTravelTimes,
    other: CorridorTravelTimes,
    service: str,
    thresholds: Sequence[float],
    *,
    offline: bool = False,
) -> Figure:
    """Two synchronised panes: the reference scenario left, the other right.

    The right pane colours settlements by the minutes they lose (or gain) under the other
    scenario, with both times in each popup, so a planner sees who loses access and by how
    much. Panning or zooming one pane moves the other.

    Returns
    -------
    branca.element.Figure
        The page; ``render()`` gives its HTML.
    """
    network = reference.network
    page = Figure()
    panes = []
    for index, times in enumerate((reference, other)):
        title = (
            map_title(times, service)
            if index == 0
            else f"Scenario {times.scenario.name} — {service.replace('_', ' ')} — minutes lost "
            f"against {reference.scenario.name}"
        )
        fmap = base_map(
            network,
            title,
            offline=offline,
            page=page,
            width="50%",
            height="100%",
            left=f"{50 * index}%",
            top="0%",
            position="absolute",
        )
        panes.append(fmap)
    before = nearest_facility_times(reference, service)
    before.attrs["scenario"] = reference.scenario.name
    _draw_layers(panes[0], reference, service, thresholds)
    _draw_layers(panes[1], other, service, thresholds, lost_against=before)
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
    return corridor_map(times, service, thresholds, scores=scores, pathways=found, offline=offline)


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
) -> str:
    """Return a map's HTML page: :func:`compare_map` with ``compare``, else :func:`planner_map`."""
    if compare is not None:
        return compare_map(times, compare, service, thresholds, offline=offline).render()
    fmap = planner_map(
        times,
        service,
        thresholds,
        with_sites=with_sites,
        referral_specialty=referral_specialty,
        offline=offline,
    )
    return fmap.get_root().render()
