"""The brief's small static map: settlements, facilities, posts and the best next site, as SVG.

No tiles and no network: the points of the bundle are projected (equirectangular, scaled
by the cosine of the mean latitude) into a fixed view box, and the template draws them.
Labels are placed so that their estimated width stays inside the box.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from corridor_planner.analysis.summary import SUMMARY_SERVICE, FirstSteps
from corridor_planner.bundle.names import NameBook
from corridor_planner.network.graph import CorridorNetwork
from corridor_planner.settings import LANGUAGES

#: The map's view box (SVG user units) and the margin kept free around the points.
WIDTH, HEIGHT, MARGIN = 640.0, 360.0, 18.0
#: Label font size (user units) and the width of one character, as a share of the size,
#: generous enough for DejaVu Sans capitals.
LABEL_SIZE, CHAR_WIDTH = 10.0, 0.68
#: Distance (user units) from a point to its label, beyond the largest circle.
LABEL_GAP = 11.0
#: Settlements drawn at most, the largest (a country's are too many for a printed page).
BRIEF_POINTS = 5_000
#: Settlements named on the map besides the best site and the most affected when closed.
LARGEST_NAMED = 3


def brief_map(
    network: CorridorNetwork, steps: FirstSteps | None, names: NameBook | None = None
) -> dict[str, Any]:
    """Project the corridor's points for the brief's map.

    Parameters
    ----------
    network : CorridorNetwork
        The built corridor (its baseline-free layers: points only).
    steps : FirstSteps, optional
        What to do first; its best site is ringed and named, the settlements most affected
        by closed borders are named.
    names : NameBook, optional
        The bundle's translations: labels are placed for each language of
        ``settings.LANGUAGES`` with the name as that language writes it (a Russian name
        is often longer than the English one).

    Returns
    -------
    dict
        ``width``, ``height``, ``settlements`` (``x``, ``y``, ``r``, ``name``, ``within``:
        reached within the hour in the reference scenario), ``facilities`` (``x``, ``y``,
        ``emergency``), ``posts`` (``x``, ``y``), ``border`` (SVG path data), ``site``
        (``x``, ``y``) and ``labels`` (by language: ``x``, ``y``, ``text``, ``anchor``);
        empty when the corridor has no settlements.
    """
    corridor = network.corridor
    people = corridor.population
    if people.empty:
        return {}
    layers = [people, corridor.facilities, corridor.posts_gdf]
    xs = np.concatenate([layer.geometry.x.to_numpy() for layer in layers if not layer.empty])
    ys = np.concatenate([layer.geometry.y.to_numpy() for layer in layers if not layer.empty])
    project = _projection(xs, ys)
    within_hour = _within_hour(steps)
    largest = float(people["population"].max()) or 1.0
    settlements = [
        {
            **_xy(project, row.geometry.x, row.geometry.y),
            "r": round(2.0 + 7.0 * math.sqrt(float(row.population) / largest), 1),
            "name": row.name,
            "within": within_hour.get(row.id, True),
        }
        for row in people.sort_values("population", ascending=False).head(BRIEF_POINTS).itertuples()
    ]
    facilities = [
        {
            **_xy(project, row.geometry.x, row.geometry.y),
            "emergency": SUMMARY_SERVICE in row.services,
        }
        for row in corridor.facilities.itertuples()
    ]
    posts = [_xy(project, p.x, p.y) for p in corridor.posts_gdf.geometry]
    site = _best_site_point(network, steps, project)
    named = [*_endpoints(people, project), *_named(people, steps)]
    extra = {str(site["name"]): (site["x"], site["y"])} if site else {}
    extra |= _named_places(corridor.named_places, project)
    book = names or NameBook()
    labels = {
        lang: _labels(project, people, named, extra, functools.partial(_written, book, lang))
        for lang in LANGUAGES
    }
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "settlements": settlements,
        "facilities": facilities,
        "posts": posts,
        "border": _border_path(network, project),
        "site": site,
        "labels": labels,
        "label_size": LABEL_SIZE,
    }


def _projection(xs: np.ndarray, ys: np.ndarray) -> Any:
    """Return a function of (lon, lat) to view-box (x, y), fitting every point in the box."""
    west, east, south, north = xs.min(), xs.max(), ys.min(), ys.max()
    cos = math.cos(math.radians((south + north) / 2))
    span_x = max((east - west) * cos, 1e-6)
    span_y = max(north - south, 1e-6)
    scale = min((WIDTH - 2 * MARGIN) / span_x, (HEIGHT - 2 * MARGIN) / span_y)
    left = (WIDTH - span_x * scale) / 2
    top = (HEIGHT - span_y * scale) / 2

    def project(lon: float, lat: float) -> tuple[float, float]:
        return left + (lon - west) * cos * scale, top + (north - lat) * scale

    return project


def _xy(project: Any, lon: float, lat: float) -> dict[str, float]:
    x, y = project(float(lon), float(lat))
    return {"x": round(x, 1), "y": round(y, 1)}


def _within_hour(steps: FirstSteps | None) -> dict[str, bool]:
    return dict(steps.reached) if steps is not None else {}


def _best_site_point(
    network: CorridorNetwork, steps: FirstSteps | None, project: Any
) -> dict[str, Any] | None:
    if steps is None or steps.best_site is None:
        return None
    candidates = network.corridor.candidates
    rows = candidates[candidates["id"] == steps.best_site.get("id")]
    if rows.empty:
        return None
    point = rows.geometry.iloc[0]
    x, y = project(point.x, point.y)
    if not (0 <= x <= WIDTH and 0 <= y <= HEIGHT):
        return None  # a candidate beyond the settlements' box: named, not drawn
    return {"x": round(x, 1), "y": round(y, 1), "name": steps.best_site["name"]}


def _written(book: NameBook, lang: str, name: str) -> str:
    """Return ``name`` as a label in ``lang`` writes it."""
    return book.local(name, lang)


def _named_places(places: Any, project: Any) -> dict[str, tuple[float, float]]:
    """View-box positions of the bundle's named places (a referral city) inside the box."""
    positions = {}
    for name, point in zip(places["name"], places.geometry, strict=True):
        x, y = project(point.x, point.y)
        if 0 <= x <= WIDTH and 0 <= y <= HEIGHT:
            positions[str(name)] = (round(x, 1), round(y, 1))
    return positions


def _endpoints(people: Any, project: Any) -> list[str]:
    """Name the two settlements at the ends of the corridor's longer side (its endpoints)."""
    points = np.array([project(p.x, p.y) for p in people.geometry])
    axis = int(np.ptp(points[:, 1]) > np.ptp(points[:, 0]))
    names = people["name"].tolist()
    return [names[int(points[:, axis].argmin())], names[int(points[:, axis].argmax())]]


def _named(people: Any, steps: FirstSteps | None) -> list[str]:
    """Settlements to name: the most affected when borders close, then the largest."""
    names = [r["name"] for r in steps.closing[:2]] if steps is not None else []
    largest = people.sort_values("population", ascending=False)["name"].head(LARGEST_NAMED)
    return list(dict.fromkeys([*names, *largest]))


def _labels(
    project: Any,
    people: Any,
    names: list[str],
    extra: dict[str, tuple[float, float]],
    written: Callable[[str], str],
) -> list[dict[str, Any]]:
    """Place a label beside each named point (``extra`` first); skip one that would overlap.

    ``written`` gives a name as the label writes it (its language's form), which sets the
    label's width.
    """
    placed: list[tuple[float, float, float, float]] = []
    labels = []
    positions = {
        name: project(point.x, point.y)
        for name, point in zip(people["name"], people.geometry, strict=False)
    }
    positions.update(extra)
    for name in [*extra, *names]:
        if name not in positions:
            continue
        x, y = positions[name]
        text = written(str(name))
        width = len(text) * LABEL_SIZE * CHAR_WIDTH
        gap = LABEL_GAP
        anchor = "start" if x + gap + width <= WIDTH else "end"
        left = x + gap if anchor == "start" else x - gap - width
        left = max(left, 1.0)
        top = min(max(y - LABEL_SIZE / 2 - 1, 1.0), HEIGHT - LABEL_SIZE - 3)
        box = (left, top, left + width, top + LABEL_SIZE + 2)
        if any(_overlap(box, other) for other in placed):
            continue
        placed.append(box)
        labels.append(
            {
                "x": round(left if anchor == "start" else left + width, 1),
                "y": round(top + LABEL_SIZE, 1),
                "text": text,
                "anchor": anchor,
            }
        )
    return labels


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _border_path(network: CorridorNetwork, project: Any) -> str:
    """SVG path data of the bundle's border lines (empty without ``border.geojson``)."""
    border = network.corridor.border
    if border is None or border.empty:
        return ""
    parts = []
    for geometry in border.geometry:
        lines = getattr(geometry, "geoms", [geometry])
        for line in lines:
            coords = [project(x, y) for x, y, *_ in getattr(line, "coords", [])]
            if len(coords) > 1:
                parts.append("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in coords))
    return " ".join(parts)
