"""Write a bundle's roads.osm (OSM XML) from its hand-digitised sources/roads.toml.

Usage: python tools/make_roads_osm.py data/corridors/<id>
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from xml.sax.saxutils import quoteattr

BORDER_POINT_PREFIX = "post_"


def build_osm_xml(spec: dict) -> str:
    """Return the OSM XML text for a roads.toml specification."""
    points: dict[str, list[float]] = spec.get("points", {})
    node_ids: dict[object, int] = {}
    nodes: list[tuple[int, float, float, str | None]] = []

    def node_for(ref: object) -> int:
        key = ref if isinstance(ref, str) else tuple(ref)
        if key not in node_ids:
            lat, lon = points[ref] if isinstance(ref, str) else ref
            node_ids[key] = len(node_ids) + 1
            name = ref if isinstance(ref, str) else None
            nodes.append((node_ids[key], float(lat), float(lon), name))
        return node_ids[key]

    ways_xml: list[str] = []
    for way in spec["ways"]:
        refs = [node_for(ref) for ref in way["nodes"]]
        tags = {
            "highway": way["highway"],
            "name": way["name"],
            "is_in:country_code": way["country"],
        }
        for key in ("ref", "maxspeed"):
            if key in way:
                tags[key] = str(way[key])
        if "distance_km" in way:
            tags["distance"] = f"{float(way['distance_km']):g}"
        if "travel_speed_kph" in way:
            tags["travel_speed"] = f"{float(way['travel_speed_kph']):g}"
        nds = "".join(f'\n    <nd ref="{r}"/>' for r in refs)
        tag_xml = "".join(
            f"\n    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in sorted(tags.items())
        )
        ways_xml.append(
            f'  <way id="{way["id"]}" version="1" visible="true">{nds}{tag_xml}\n  </way>'
        )

    lats = [n[1] for n in nodes]
    lons = [n[2] for n in nodes]
    lines = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        '<osm version="0.6" generator="corridor-planner tools/make_roads_osm.py">',
        f'  <bounds minlat="{min(lats)}" minlon="{min(lons)}" '
        f'maxlat="{max(lats)}" maxlon="{max(lons)}"/>',
    ]
    for node_id, lat, lon, name in nodes:
        if name and name.startswith(BORDER_POINT_PREFIX):
            lines.append(
                f'  <node id="{node_id}" version="1" visible="true" lat="{lat}" lon="{lon}">\n'
                f'    <tag k="barrier" v="border_control"/>\n  </node>'
            )
        else:
            lines.append(
                f'  <node id="{node_id}" version="1" visible="true" lat="{lat}" lon="{lon}"/>'
            )
    lines.extend(ways_xml)
    lines.append("</osm>")
    return "\n".join(lines) + "\n"


def main(bundle: Path) -> None:
    spec = tomllib.loads((bundle / "sources" / "roads.toml").read_text(encoding="utf-8"))
    out = bundle / "roads.osm"
    tmp = out.with_suffix(".osm.tmp")
    tmp.write_text(build_osm_xml(spec), encoding="utf-8")
    tmp.replace(out)
    print(f"wrote {out} ({len(spec['ways'])} ways)")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
