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
            parts.append(
                f"{parent_name}.bindPopup({self.popup}, {{maxWidth: 360, "
                "autoPanPaddingTopLeft: [60, 90], autoPanPaddingBottomRight: [40, 20]});"
            )
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
            "return d;};c.addTo(m);var d=c.getContainer();"
            "if(d.classList.contains('cp-legend')){d._cpFit=function(){"
            "var t=m.getContainer().querySelector('.leaflet-top.leaflet-right');"
            "var h=Math.max(80,d.getBoundingClientRect().bottom-"
            "(t?t.getBoundingClientRect().bottom:0)-10);d.style.maxHeight=h+'px';"
            "if(d.scrollHeight>h+4&&m.getSize().x>=1000){d.classList.add('cp-wide');}};"
            "d._cpFit();d.addEventListener('toggle',d._cpFit,true);}"
            f"}})({parent_name});"
        )


class PlaceLabels(_ScriptElement):
    """Place names on the map, chosen by importance among the places in view.

    Added to a ``folium.FeatureGroup`` so the layer control can hide them. Places marked
    ``always`` (corridor endpoints, the towns of facilities and border posts) are named at
    every zoom; the others are named largest first wherever their name does not run into
    one already placed, so a map names what matters and never a heap of overlapping words.

    Parameters
    ----------
    places : sequence of dict
        ``name``, ``lat``, ``lon`` and ``population`` of each place, optionally ``always``.
    css_class : str
        Class of every label; a size class ``-s``, ``-m`` or ``-l`` is added.
    every_label : bool
        Name every place at every zoom, overlapping or not (country names).
    """

    def __init__(
        self,
        places: Sequence[dict[str, Any]],
        *,
        css_class: str = "cp-label",
        every_label: bool = False,
    ) -> None:
        super().__init__()
        self._name = "PlaceLabels"
        ranked = sorted(places, key=lambda p: (not p.get("always"), -int(p["population"])))
        self.places = []
        for p in ranked:
            always = every_label or bool(p.get("always"))
            size = _label_size(int(p["population"]), always)
            self.places.append(
                {
                    "name": str(p["name"]),
                    "lat": float(p["lat"]),
                    "lon": float(p["lon"]),
                    "css": f"{css_class} {css_class}-{size}",
                    "always": always,
                    "w": LABEL_CHAR_PX[size],
                    "h": LABEL_LINE_PX[size],
                }
            )

    def script(self, parent_name: str) -> str:
        """Return the script that places the labels and picks those shown in view."""
        return (
            f"(function(g){{var places={js_value(self.places)},marks=[];"
            "places.forEach(function(p){var e=document.createElement('span');"
            "e.textContent=p.name;e.className=p.css;"
            "var k=L.marker([p.lat,p.lon],{icon:L.divIcon({html:e,className:'cp-label-icon',"
            "iconSize:null}),interactive:false,keyboard:false});"
            "marks.push([k,p]);g.addLayer(k);});"
            "function boxes(q,p){var w=p.name.length*p.w,h=p.h;return ["
            "[6,-8,[q.x+4,q.y-9,q.x+8+w,q.y-7+h]],[-8-w,-8,[q.x-10-w,q.y-9,q.x-4,q.y-7+h]],"
            "[-w/2,-10-h,[q.x-w/2-2,q.y-11-h,q.x+w/2+2,q.y-3]],"
            "[-w/2,6,[q.x-w/2-2,q.y+4,q.x+w/2+2,q.y+8+h]]];}"
            "function free(b,taken){return taken.every(function(t){"
            "return b[2]<t[0]||b[0]>t[2]||b[3]<t[1]||b[1]>t[3];});}"
            "function show(m){var s=m.getSize(),taken=[];marks.forEach(function(x){"
            "var el=x[0].getElement(),p=x[1];if(!el){return;}"
            "var q=m.latLngToContainerPoint([p.lat,p.lon]),all=boxes(q,p);"
            "var inView=q.x>-50&&q.x<s.x+50&&q.y>-20&&q.y<s.y+20;"
            "var pick=all.find(function(c){return free(c[2],taken);});"
            "if(!pick&&p.always){pick=all[0];}var on=!!pick&&(p.always||inView);"
            "el.style.display=on?'':'none';if(!on){return;}"
            "var span=el.firstChild;span.style.left=pick[0]+'px';span.style.top=pick[1]+'px';"
            "if(inView){taken.push(pick[2]);}});}"
            "var watched=false;function watch(m){show(m);if(watched){return;}watched=true;"
            "m.on('moveend',function(){if(g._map){show(m);}});}"
            "g.on('add',function(){watch(g._map);});if(g._map){watch(g._map);}"
            f"}})({parent_name});"
        )


#: Estimated width of a character and height of a line (px) of each label size.
LABEL_CHAR_PX = {"s": 6.0, "m": 7.2, "l": 8.6}
LABEL_LINE_PX = {"s": 12, "m": 14, "l": 16}


def _label_size(population: int, always: bool = False) -> str:
    if population >= 500_000:
        return "l"
    return "m" if population >= 50_000 or always else "s"


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


class CellLayer(_ScriptElement):
    """Polygons of one layer drawn on a canvas, each with its colour and tooltip.

    Added to a ``folium.FeatureGroup``: the aggregated settlements of a big map (thousands
    of cells), passed as one JSON value and drawn by one ``L.geoJSON`` layer.

    Parameters
    ----------
    rings : sequence of list
        Each polygon's closed outline, ``[lon, lat]`` pairs.
    colours : sequence of str
        Fill colour of each polygon (``#rrggbb``).
    tooltips : sequence of str
        Plain text of each polygon's tooltip; escaped here.
    """

    def __init__(
        self, rings: Sequence[Any], colours: Sequence[str], tooltips: Sequence[str]
    ) -> None:
        super().__init__()
        self._name = "CellLayer"
        self.data = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                    "properties": {"c": colour, "t": html.escape(tip)},
                }
                for ring, colour, tip in zip(rings, colours, tooltips, strict=True)
            ],
        }

    def script(self, parent_name: str) -> str:
        """Return the script that draws the cells into the parent group."""
        return (
            f"(function(g){{var cells={js_value(self.data)};"
            "L.geoJSON(cells,{renderer:L.canvas({padding:0.2}),style:function(f){"
            "return {color:f.properties.c,weight:0.5,opacity:0.9,fillColor:f.properties.c,"
            "fillOpacity:0.65};},onEachFeature:function(f,l){"
            "l.bindTooltip(f.properties.t,{sticky:true});}}).addTo(g);"
            f"}})({parent_name});"
        )


class LineLayer(_ScriptElement):
    """Lines of one layer drawn on a canvas, one colour, each with a tooltip.

    Added to a ``folium.FeatureGroup``: the roads of a big map (a country's tens of
    thousands of road pieces, merged by name), passed as one JSON value.

    Parameters
    ----------
    geometries : sequence of dict
        GeoJSON ``LineString`` or ``MultiLineString`` geometries.
    tooltips : sequence of str
        Plain text of each geometry's tooltip (escaped here); empty: none.
    style : dict
        Leaflet path options (``color``, ``weight``, ``opacity``).
    """

    def __init__(
        self, geometries: Sequence[Any], tooltips: Sequence[str], style: dict[str, Any]
    ) -> None:
        super().__init__()
        self._name = "LineLayer"
        self.style = style
        self.data = {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "geometry": g, "properties": {"t": html.escape(t)}}
                for g, t in zip(geometries, tooltips, strict=True)
            ],
        }

    def script(self, parent_name: str) -> str:
        """Return the script that draws the lines into the parent group."""
        return (
            f"(function(g){{var lines={js_value(self.data)},s={js_value(self.style)};"
            "L.geoJSON(lines,{renderer:L.canvas({padding:0.2}),style:function(){return s;},"
            "onEachFeature:function(f,l){if(f.properties.t){"
            "l.bindTooltip(f.properties.t,{sticky:true});}}}).addTo(g);"
            f"}})({parent_name});"
        )


class TileErrorNotice(_ScriptElement):
    """Say so on the map, once, when its tile layer cannot load a tile (no network).

    Added to a ``folium.TileLayer``; the notice is a small box in the bottom-left corner.

    Parameters
    ----------
    message : str
        Plain text of the notice (set as text, never as HTML).
    """

    def __init__(self, message: str) -> None:
        super().__init__()
        self._name = "TileErrorNotice"
        self.message = message

    def script(self, parent_name: str) -> str:
        """Return the script that listens for the layer's tile errors."""
        return (
            f"(function(t){{t.on('tileerror',function(){{var m=t._map;"
            "if(!m||m._cpTileNotice){return;}m._cpTileNotice=true;"
            "var c=L.control({position:'bottomleft'});c.onAdd=function(){"
            "var d=L.DomUtil.create('div','cp-tile-notice');d.setAttribute('role','status');"
            f"d.textContent={js_value(self.message)};return d;}};c.addTo(m);}});"
            f"}})({parent_name});"
        )


class LayerListFit(_ScriptElement):
    """Keep the open layer list above the legend: it scrolls, or the legend folds, first.

    Add it to the map after ``folium.LayerControl`` and the legend (class ``cp-legend``).
    """

    def script(self, parent_name: str) -> str:
        """Return the script that fits the opened layer list into the room above the legend."""
        return (
            "(function(m){var c=m.getContainer(),lc=c.querySelector('.leaflet-control-layers'),"
            "lg=c.querySelector('.cp-legend');if(!lc||!lg){return;}"
            "var s=lc.querySelector('.leaflet-control-layers-list');"
            "if(lg._cpFit){lg._cpFit();}"
            "function room(){return lg.getBoundingClientRect().top"
            "-s.getBoundingClientRect().top-12;}"
            "function fit(){if(!lc.classList.contains('leaflet-control-layers-expanded')){return;}"
            "s.style.height='';s.classList.remove('leaflet-control-layers-scrollbar');"
            "var d=lg.querySelector('details');"
            "if(d&&d.open&&room()<Math.min(s.scrollHeight,220)){d.open=false;}"
            "var r=room();if(s.scrollHeight>r){s.style.height=Math.max(40,r)+'px';"
            "s.classList.add('leaflet-control-layers-scrollbar');}}"
            "new MutationObserver(fit).observe(lc,{attributes:true,attributeFilter:['class']});"
            f"}})({parent_name});"
        )


class FitCorridor(_ScriptElement):
    """Frame the corridor in the room the title and the open legend leave free.

    Add it to the map after its controls, so their sizes are known.

    Parameters
    ----------
    bounds : tuple of float
        ``(west, south, east, north)`` in degrees.
    """

    def __init__(self, bounds: Sequence[float]) -> None:
        super().__init__()
        self._name = "FitCorridor"
        west, south, east, north = (float(v) for v in bounds)
        self.bounds = [[south, west], [north, east]]

    def script(self, parent_name: str) -> str:
        """Return the script that fits the view."""
        return (
            f"(function(m){{var c=m.getContainer(),s=m.getSize(),right=10,top=10;"
            "var lg=c.querySelector('.cp-legend details[open]'),t=c.querySelector('.cp-title');"
            "if(lg){var w=lg.parentNode.offsetWidth;if(w<s.x*0.4){right+=w+10;}}"
            "if(t){var h=t.offsetHeight+10;if(h<s.y*0.2){top+=h;}}"
            f"m.fitBounds({js_value(self.bounds)},{{paddingTopLeft:[10,top],"
            "paddingBottomRight:[right,10],animate:false});"
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
