"""Planner maps: functions that build folium maps of a corridor (they never write files).

Every string from the data reaches the page HTML-escaped and JSON-encoded: popups and
tooltips are bound with :class:`BoundText`, not folium's templates, which paste raw text
into JavaScript.
"""

from __future__ import annotations

import base64
import html
import importlib.metadata
import json
import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, cast

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Element, Figure, MacroElement
from shapely.geometry import LineString, mapping

from corridor_planner.access import nearest_facility_times
from corridor_planner.catchments import catchment_polygons
from corridor_planner.cover import Patient
from corridor_planner.errors import CorridorPlannerError
from corridor_planner.network import CorridorNetwork
from corridor_planner.referral import Pathway
from corridor_planner.referral import pathways as referral_pathways
from corridor_planner.roads import edge_kind
from corridor_planner.scoring import SiteScores, candidates_for, score_sites
from corridor_planner.traveltimes import CorridorTravelTimes

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
LEAFLET_DIST = "django-js-lib-leaflet"
LEAFLET_DIR = "js_lib_leaflet/static/js_lib_leaflet"


class LiteralHtml(Element):
    """HTML, CSS or script placed in the page exactly as given: never a Jinja template.

    branca renders an ``Element(text)`` and the output of every ``MacroElement`` macro as
    template source, so data inside them would be evaluated (``{{ 7*7 }}`` becomes ``49``).
    Everything this module builds from data goes into the page through this class instead.
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "LiteralHtml"
        self.text = text

    def render(self, **kwargs: Any) -> str:
        """Return the text unchanged."""
        return self.text


class BoundText(MacroElement):
    """Bind a popup and/or tooltip to its parent layer, JSON-encoded so nothing executes.

    The script is built in Python and added as :class:`LiteralHtml`, bypassing branca's
    macro rendering, which would treat the data as template source.

    Parameters
    ----------
    popup_html : str, optional
        HTML whose data parts the caller has already escaped.
    tooltip_text : str, optional
        Plain text; escaped here.
    """

    def __init__(self, popup_html: str | None = None, tooltip_text: str | None = None) -> None:
        super().__init__()
        self._name = "BoundText"
        self.popup = _js_string(popup_html) if popup_html else None
        self.tooltip = _js_string(html.escape(tooltip_text)) if tooltip_text else None

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Add the binding script to the page as literal text."""
        assert self._parent is not None
        layer = self._parent.get_name()
        parts = []
        if self.popup:
            parts.append(f"{layer}.bindPopup({self.popup}, {{maxWidth: 360}});")
        if self.tooltip:
            parts.append(f"{layer}.bindTooltip({self.tooltip}, {{sticky: true}});")
        _page(self).script.add_child(LiteralHtml("".join(parts)), name=self.get_name())


def _page(element: Element) -> Figure:
    """Return the page (branca Figure) an element belongs to."""
    return cast(Figure, element.get_root())


def _js_string(text: str) -> str:
    """Encode text as a JavaScript string literal that is safe inside a <script> element."""
    return json.dumps(text).replace("</", "<\\/").replace("<!--", "<\\!--")


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _table(rows: Iterable[tuple[str, Any]]) -> str:
    cells = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return f'<table class="cp-popup">{cells}</table>'


def _bind(layer: Any, popup_rows: Sequence[tuple[str, Any]] | None, tooltip: str | None) -> Any:
    layer.add_child(BoundText(_table(popup_rows) if popup_rows else None, tooltip))
    return layer


def _time_colour(minutes: float) -> str:
    if not np.isfinite(minutes):
        return UNREACHABLE
    return next(colour for limit, colour in TIME_CLASSES if minutes <= limit)


# the map ---------------------------------------------------------------------------------


def base_map(network: CorridorNetwork, title: str, offline: bool = False) -> folium.Map:
    """Make an empty map framed on the corridor, with a scale; offline maps have no tiles.

    An offline map carries Leaflet inline (from the ``django-js-lib-leaflet`` package) and
    no other script, so it opens with no network at all.
    """
    west, south, east, north = network.corridor.bbox
    fmap = folium.Map(
        location=[(south + north) / 2, (west + east) / 2],
        zoom_start=7,
        tiles=None if offline else "OpenStreetMap",
        control_scale=True,
        prefer_canvas=False,
    )
    fmap.fit_bounds([[south, west], [north, east]])
    if offline:
        _inline_leaflet(fmap)
    _page(fmap).header.add_child(LiteralHtml(_STYLE), name="cp_style")
    _page(fmap).html.add_child(LiteralHtml(f'<div class="cp-title">{_e(title)}</div>'))
    return fmap


def _inline_leaflet(fmap: folium.Map) -> None:
    fmap.default_js = []
    fmap.default_css = []
    # the attribution prefix links to leafletjs.com: keep the credit, drop the remote link
    fmap.add_child(_AttributionPrefix())
    dist = importlib.metadata.distribution(LEAFLET_DIST)

    def read(name: str) -> bytes:
        return Path(str(dist.locate_file(f"{LEAFLET_DIR}/{name}"))).read_bytes()

    script = read("leaflet.js").decode("utf-8")
    script = re.sub(r"^//# sourceMappingURL=.*$", "", script, flags=re.MULTILINE)
    if "</script" in script.lower():
        raise CorridorPlannerError("the packaged leaflet.js cannot be inlined (contains </script)")
    css = read("leaflet.css").decode("utf-8")
    for image in ("layers.png", "layers-2x.png", "marker-icon.png"):
        data = base64.b64encode(read(f"images/{image}")).decode("ascii")
        css = css.replace(f"url(images/{image})", f"url(data:image/png;base64,{data})")
    header = _page(fmap).header
    header.add_child(LiteralHtml(f"<style>{css}</style>"), name="leaflet_css", index=0)
    header.add_child(LiteralHtml(f"<script>{script}</script>"), name="leaflet_js", index=0)


class _AttributionPrefix(MacroElement):
    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        assert self._parent is not None
        prefix = f"{self._parent.get_name()}.attributionControl.setPrefix('Leaflet');"
        _page(self).script.add_child(LiteralHtml(prefix), name=self.get_name())


_STYLE = """<style>
.cp-title { position: absolute; top: 10px; left: 50px; z-index: 1000; padding: 6px 10px;
  background: rgba(255,255,255,.92); border-radius: 4px; font: 600 14px/1.3 sans-serif;
  box-shadow: 0 1px 4px rgba(0,0,0,.3); }
.cp-legend { position: absolute; bottom: 30px; left: 10px; z-index: 1000; padding: 8px 10px;
  background: rgba(255,255,255,.92); border-radius: 4px; font: 12px/1.4 sans-serif;
  box-shadow: 0 1px 4px rgba(0,0,0,.3); }
.cp-legend i { display: inline-block; width: 12px; height: 12px; border-radius: 50%;
  margin-right: 5px; vertical-align: middle; }
.cp-legend b { display: block; margin-top: 4px; }
table.cp-popup { border-collapse: collapse; font: 12px sans-serif; }
table.cp-popup th { text-align: left; padding: 1px 6px 1px 0; vertical-align: top; color: #444; }
table.cp-popup td { padding: 1px 0; }
</style>"""


def add_roads(fmap: folium.Map, network: CorridorNetwork) -> folium.FeatureGroup:
    """Roads of the bundle (also the only background of an offline map)."""
    group = folium.FeatureGroup(name="Roads", show=True)
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
    group = folium.FeatureGroup(name="Border (approximate)")
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


def add_facilities(fmap: folium.Map, network: CorridorNetwork) -> list[folium.FeatureGroup]:
    """Facilities styled by level, one layer per service so planners can filter."""
    facilities = network.corridor.facilities
    services = sorted({s for row in facilities["services"] for s in row})
    groups = {
        s: folium.FeatureGroup(name=f"Facilities: {s.replace('_', ' ')}", show=s == "emergency")
        for s in services
    }
    for row in facilities.itertuples():
        colour, radius = LEVEL_STYLE.get(row.level, ("#2e86c1", 7))
        popup = [
            ("Facility", row.name),
            ("Country", row.country),
            ("Level", row.level),
            ("Services", ", ".join(row.services)),
            ("Beds", "not sourced" if row.beds is None or pd.isna(row.beds) else int(row.beds)),
            (
                "Capacity",
                ", ".join(f"{k}: {v}" for k, v in (row.capacity or {}).items()) or "not sourced",
            ),
            (
                "Accepts",
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
    for group in groups.values():
        group.add_to(fmap)
    return list(groups.values())


def add_posts(fmap: folium.Map, network: CorridorNetwork) -> folium.FeatureGroup:
    """Border posts with hours, season, delays by profile and who may cross."""
    group = folium.FeatureGroup(name="Border posts")
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
    group.add_to(fmap)
    return group


def add_population(
    fmap: folium.Map, settlements: pd.DataFrame, service: str
) -> folium.FeatureGroup:
    """Settlements sized by population, coloured by minutes to the nearest facility."""
    group = folium.FeatureGroup(name=f"Population: time to {service.replace('_', ' ')}")
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
        marker = folium.CircleMarker(
            [row.geometry.y, row.geometry.x],
            radius=min(MAX_SETTLEMENT_RADIUS, max(3.0, math.sqrt(row.population) / 40)),
            color="#333",
            weight=1,
            fill=True,
            fill_color=_time_colour(minutes),
            fill_opacity=0.8,
        )
        _bind(marker, popup, f"{row.name}: {reach}").add_to(group)
    group.add_to(fmap)
    return group


def add_catchments(
    fmap: folium.Map, polygons: gpd.GeoDataFrame, service: str
) -> folium.FeatureGroup:
    """Catchment polygons, the largest drawn first."""
    group = folium.FeatureGroup(name=f"Catchments: {service.replace('_', ' ')}")
    ordered = polygons.sort_values("minutes", ascending=False)
    for index, row in enumerate(ordered.itertuples()):
        colour = CATCHMENT_COLOURS[min(len(ordered) - 1 - index, len(CATCHMENT_COLOURS) - 1)]
        layer = folium.GeoJson(
            mapping(row.geometry),
            style_function=lambda _f, c=colour: {
                "color": c,
                "weight": 1,
                "fillColor": c,
                "fillOpacity": 0.25,
            },
        )
        _bind(layer, None, f"within {row.minutes:g} min of {service.replace('_', ' ')}").add_to(
            group
        )
    group.add_to(fmap)
    return group


def add_sites(fmap: folium.Map, scores: SiteScores) -> folium.FeatureGroup:
    """Candidate sites coloured by score, with rank and newly covered population."""
    group = folium.FeatureGroup(name="Candidate sites")
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
    group = folium.FeatureGroup(name=f"Referrals: {specialty}")
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


def add_legend(fmap: folium.Map, service: str, with_sites: bool, with_referrals: bool) -> None:
    """Add a static legend of the layers' colours."""
    parts = ['<div class="cp-legend"><b>Facilities (by level)</b>']
    parts += [
        f'<i style="background:{c}"></i>{_e(level)}<br>' for level, (c, _) in LEVEL_STYLE.items()
    ]
    parts.append('<i style="background:#000;border:2px solid #e74c3c"></i>border post<br>')
    parts.append(f"<b>Settlements: minutes to {_e(service.replace('_', ' '))}</b>")
    previous: float = 0
    for limit, colour in TIME_CLASSES:
        label = f"{previous}–{limit:g}" if np.isfinite(limit) else f"over {previous}"
        parts.append(f'<i style="background:{colour}"></i>{label}<br>')
        previous = limit
    parts.append(f'<i style="background:{UNREACHABLE}"></i>not reachable<br>')
    if with_sites:
        parts.append("<b>Candidate sites</b>green: most newly covered<br>")
    if with_referrals:
        parts.append('<b>Referral routes</b><i style="background:#8e44ad"></i>across a border<br>')
    parts.append("</div>")
    _page(fmap).html.add_child(LiteralHtml("".join(parts)))


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
    network = times.network
    corridor = network.corridor
    when = f", departing {times.depart:%Y-%m-%d %H:%M}" if times.depart else ""
    title = (
        f"{corridor.name} — {service.replace('_', ' ')} — scenario {times.scenario.name}{when}"
        f" — data of {corridor.metadata.get('data_date', 'unknown date')}"
    )
    fmap = base_map(network, title, offline=offline)
    add_roads(fmap, network)
    add_border(fmap, network)
    add_catchments(fmap, catchment_polygons(times, service, thresholds), service)
    add_population(fmap, nearest_facility_times(times, service), service)
    add_facilities(fmap, network)
    add_posts(fmap, network)
    if scores is not None:
        add_sites(fmap, scores)
    if pathways:
        add_pathways(fmap, pathways)
    add_legend(fmap, service, scores is not None, bool(pathways))
    folium.LayerControl(collapsed=True).add_to(fmap)
    return fmap


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
