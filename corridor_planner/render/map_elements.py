"""Page elements of the planner maps: literal HTML, bound popups, controls, labels, search.

branca renders an ``Element(text)`` and the output of every ``MacroElement`` macro as Jinja
source, so data inside them would be evaluated. Everything here builds its HTML and script
in Python, passes data to the browser as JSON values (never as markup or template source)
and adds the result to the page as :class:`LiteralHtml`.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Sequence
from importlib import resources
from typing import Any, cast

import folium
from branca.element import Element, Figure, MacroElement

from corridor_planner.errors import CorridorPlannerError

#: Leaflet's files in the package, relative to ``corridor_planner.render`` (static/README.md).
LEAFLET_DIR = "static/leaflet"
LEAFLET_VERSION = "1.9.4"
#: The images leaflet.css refers to, written into it as data URLs.
LEAFLET_IMAGES = ("layers.png", "layers-2x.png", "marker-icon.png")

#: A map pane smaller than this (width, height in px) opens with its legend folded.
COLLAPSE_BELOW_PX = (900, 700)
#: Zoom level from which settlements of at least this many people get a name label.
LABEL_ZOOM_POPULATION = ((0, 1_000_000), (8, 100_000), (9, 20_000), (10, 5_000), (11, 0))


class LiteralHtml(Element):
    """HTML, CSS or script placed in the page exactly as given: never a Jinja template."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "LiteralHtml"
        self.text = text

    def render(self, **kwargs: Any) -> str:
        """Return the text unchanged."""
        return self.text


def page_of(element: Element) -> Figure:
    """Return the page (branca Figure) an element belongs to."""
    return cast(Figure, element.get_root())


def js_value(value: Any) -> str:
    """Encode a JSON value as JavaScript that is safe inside a <script> element.

    ``<``, ``>`` and ``&`` are written as Unicode escapes, so no markup from the data
    appears in the page source, not even inside a string.
    """
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def escape(value: Any) -> str:
    """HTML-escape a value for the page (``None`` is empty)."""
    return html.escape("" if value is None else str(value))


class _ScriptElement(MacroElement):
    """A macro element whose script is built in Python from its parent's JavaScript name."""

    def script(self, parent_name: str) -> str:
        raise NotImplementedError

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Add the script to the page as literal text."""
        assert self._parent is not None
        text = self.script(self._parent.get_name())
        page_of(self).script.add_child(LiteralHtml(text), name=self.get_name())


class BoundText(_ScriptElement):
    """Bind a popup and/or tooltip to its parent layer, JSON-encoded so nothing executes.

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
        self.popup = js_value(popup_html) if popup_html else None
        self.tooltip = js_value(html.escape(tooltip_text)) if tooltip_text else None

    def script(self, parent_name: str) -> str:
        """Return the binding script."""
        parts = []
        if self.popup:
            parts.append(f"{parent_name}.bindPopup({self.popup}, {{maxWidth: 360}});")
        if self.tooltip:
            parts.append(f"{parent_name}.bindTooltip({self.tooltip}, {{sticky: true}});")
        return "".join(parts)


class MapControl(_ScriptElement):
    """A box placed in one of Leaflet's control corners, so boxes stack and never overlap.

    Parameters
    ----------
    position : str
        ``topleft``, ``topright``, ``bottomleft`` or ``bottomright``.
    inner_html : str
        The box's HTML; the caller has escaped every data part.
    css_class : str
        Class of the box (styled by the map's stylesheet).
    fit_width : bool
        Keep the box narrower than the map, less room for the other corner's controls.
    """

    def __init__(
        self, position: str, inner_html: str, css_class: str, *, fit_width: bool = False
    ) -> None:
        super().__init__()
        self._name = "MapControl"
        self.position = position
        self.inner_html = inner_html
        self.css_class = css_class
        self.fit_width = fit_width

    def script(self, parent_name: str) -> str:
        """Return the script that adds the control to the map."""
        fit = (
            "var fit=function(){d.style.maxWidth=Math.max(160,m.getSize().x-300)+'px';};"
            "fit();m.on('resize',fit);"
            if self.fit_width
            else ""
        )
        return (
            f"(function(m){{var c=L.control({{position:{js_value(self.position)}}});"
            f"c.onAdd=function(){{var d=L.DomUtil.create('div',{js_value(self.css_class)});"
            f"d.innerHTML={js_value(self.inner_html)};{fit}"
            f"var s=m.getSize();if(s.x<{COLLAPSE_BELOW_PX[0]}||s.y<{COLLAPSE_BELOW_PX[1]}){{"
            "d.querySelectorAll('details').forEach(function(x){x.open=false;});}"
            "L.DomEvent.disableClickPropagation(d);L.DomEvent.disableScrollPropagation(d);"
            f"return d;}};c.addTo(m);}})({parent_name});"
        )


class PlaceLabels(_ScriptElement):
    """Settlement names on the map, larger places shown from further out.

    Added to a ``folium.FeatureGroup`` so the layer control can hide them. A name is shown
    once the zoom reaches the level ``LABEL_ZOOM_POPULATION`` gives for its population.

    Parameters
    ----------
    places : sequence of dict
        ``name``, ``lat``, ``lon`` and ``population`` of each settlement.
    css_class : str
        Class of every label; a size class ``-s``, ``-m`` or ``-l`` is added.
    min_zoom : int, optional
        Show every label from this zoom on, whatever its population.
    """

    def __init__(
        self,
        places: Sequence[dict[str, Any]],
        *,
        css_class: str = "cp-label",
        min_zoom: int | None = None,
    ) -> None:
        super().__init__()
        self._name = "PlaceLabels"
        self.places = [
            {
                "name": str(p["name"]),
                "lat": float(p["lat"]),
                "lon": float(p["lon"]),
                "css": f"{css_class} {css_class}-{_label_size(int(p['population']))}",
                "zoom": _label_zoom(int(p["population"])) if min_zoom is None else min_zoom,
            }
            for p in places
        ]

    def script(self, parent_name: str) -> str:
        """Return the script that places the labels and shows them by zoom."""
        return (
            f"(function(g){{var places={js_value(self.places)},marks=[];"
            "places.forEach(function(p){var e=document.createElement('span');"
            "e.textContent=p.name;e.className=p.css;"
            "var k=L.marker([p.lat,p.lon],{icon:L.divIcon({html:e,className:'cp-label-icon',"
            "iconSize:null}),interactive:false,keyboard:false});"
            "marks.push([k,p.zoom]);g.addLayer(k);});"
            "function show(m){var z=m.getZoom();marks.forEach(function(x){"
            "var el=x[0].getElement();if(el){el.style.display=z>=x[1]?'':'none';}});}"
            "g.on('add',function(){var m=g._map;show(m);m.on('zoomend',function(){show(m);});});"
            "if(g._map){show(g._map);g._map.on('zoomend',function(){show(g._map);});}"
            f"}})({parent_name});"
        )


def _label_zoom(population: int) -> int:
    return next(zoom for zoom, least in LABEL_ZOOM_POPULATION if population >= least)


def _label_size(population: int) -> str:
    if population >= 500_000:
        return "l"
    return "m" if population >= 50_000 else "s"


class PlaceSearch(_ScriptElement):
    """A search box for places: choosing a name zooms there and opens its popup.

    Parameters
    ----------
    entries : sequence of dict
        ``name``, ``kind``, ``lat``, ``lon`` and optionally ``layer`` (the JavaScript name
        of the marker whose popup to open; made by folium, never from data).
    """

    def __init__(self, entries: Sequence[dict[str, Any]]) -> None:
        super().__init__()
        self._name = "PlaceSearch"
        self.entries = [
            {
                "label": f"{e['name']} ({e['kind']})",
                "lat": float(e["lat"]),
                "lon": float(e["lon"]),
                "layer": e.get("layer"),
            }
            for e in entries
        ]

    def script(self, parent_name: str) -> str:
        """Return the script of the search control."""
        layers = sorted({str(e["layer"]) for e in self.entries if e["layer"]})
        lookup = "{" + ",".join(f"{js_value(name)}:{name}" for name in layers) + "}"
        return (
            f"(function(m){{var entries={js_value(self.entries)},layers={lookup};"
            "var c=L.control({position:'topleft'});c.onAdd=function(){"
            "var d=L.DomUtil.create('div','cp-search');var i=document.createElement('input');"
            "i.type='search';i.placeholder='Find a place';"
            "i.style.width=Math.min(210,Math.round(m.getSize().x*0.35))+'px';"
            "i.setAttribute('aria-label','Find a place');"
            "var id='cp-places-'+Math.random().toString(36).slice(2);i.setAttribute('list',id);"
            "var l=document.createElement('datalist');l.id=id;entries.forEach(function(e){"
            "var o=document.createElement('option');o.value=e.label;l.appendChild(o);});"
            "d.appendChild(i);d.appendChild(l);"
            "i.addEventListener('change',function(){var e=entries.find(function(x){"
            "return x.label===i.value;});if(!e){return;}m.setView([e.lat,e.lon],"
            "Math.max(m.getZoom(),11));var k=e.layer&&layers[e.layer];"
            "if(k&&k.openPopup){if(k._map){k.openPopup();}else{"
            "L.popup().setLatLng([e.lat,e.lon]).setContent(k.getPopup().getContent()).openOn(m);}}});"
            "L.DomEvent.disableClickPropagation(d);return d;};c.addTo(m);"
            f"}})({parent_name});"
        )


class AttributionPrefix(_ScriptElement):
    """Credit Leaflet without the remote link (an offline map has no network)."""

    def script(self, parent_name: str) -> str:
        """Return the script that sets the prefix."""
        return f"{parent_name}.attributionControl.setPrefix('Leaflet');"


class SyncViews(_ScriptElement):
    """Keep two maps of one page at the same view, both ways (side-by-side panes).

    Add it to the page after both maps, so their scripts have run when it runs.

    Parameters
    ----------
    first, second : folium.Map
        The maps to keep in step.
    """

    def __init__(self, first: folium.Map, second: folium.Map) -> None:
        super().__init__()
        self._name = "SyncViews"
        self.names = (first.get_name(), second.get_name())

    def script(self, parent_name: str) -> str:
        """Return the script that keeps both views together."""
        first, second = self.names
        return (
            "(function(a,b){var busy=false;function follow(from,to){from.on('move',function(){"
            "if(busy){return;}busy=true;to.setView(from.getCenter(),from.getZoom(),"
            "{animate:false});busy=false;});}follow(a,b);follow(b,a);"
            f"}})({first},{second});"
        )


def leaflet_file(name: str) -> bytes:
    """Read one of Leaflet's files from the package (``static/leaflet/<name>``)."""
    ref = resources.files("corridor_planner.render").joinpath(LEAFLET_DIR, *name.split("/"))
    return ref.read_bytes()


def inline_leaflet(fmap: folium.Map) -> None:
    """Put Leaflet's script, stylesheet and images into the page: no network needed."""
    fmap.default_js = []
    fmap.default_css = []
    fmap.add_child(AttributionPrefix())
    header = page_of(fmap).header
    if "leaflet_js" in header._children:
        return  # a second map on the same page
    script = leaflet_file("leaflet.js").decode("utf-8")
    script = re.sub(r"^//# sourceMappingURL=.*$", "", script, flags=re.MULTILINE)
    if "</script" in script.lower():
        raise CorridorPlannerError("the packaged leaflet.js cannot be inlined (contains </script)")
    css = leaflet_file("leaflet.css").decode("utf-8")
    for image in LEAFLET_IMAGES:
        data = base64.b64encode(leaflet_file(f"images/{image}")).decode("ascii")
        css = css.replace(f"url(images/{image})", f"url(data:image/png;base64,{data})")
    header.add_child(LiteralHtml(f"<style>{css}</style>"), name="leaflet_css", index=0)
    header.add_child(LiteralHtml(f"<script>{script}</script>"), name="leaflet_js", index=0)
