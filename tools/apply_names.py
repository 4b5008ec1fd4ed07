"""Set ``name_ru``/``name_ur`` on a bundle's facilities, border posts and candidates.

Usage: ``python tools/apply_names.py data/corridors/<id>``

Reads ``sources/names.csv`` (columns ``id``, ``lang``, ``name``, ``source``; the source of
every name is cited there and summarised in SOURCES.md) and writes ``name_<lang>`` on the
feature with that id, right after its ``name``. Only the lines of features whose names
change are rewritten; the one-feature-per-line layout and every other key stay as they
are, so running it twice changes nothing. Places get their names from the same file
through ``tools/make_population.py``.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

LAYERS = ("facilities.geojson", "border_posts.geojson", "candidates.geojson")


def read_names(bundle: Path) -> dict[str, dict[str, str]]:
    """Read ``sources/names.csv``: a feature id's name per language (``ru``, ``ur``)."""
    path = bundle / "sources" / "names.csv"
    names: dict[str, dict[str, str]] = {}
    if path.exists():
        for row in csv.DictReader(path.open(encoding="utf-8")):
            names.setdefault(row["id"], {})[row["lang"]] = row["name"]
    return names


def with_names(props: dict, names: dict[str, str]) -> dict:
    """The properties with ``name_<lang>`` set, new keys placed after ``name``."""
    new = {f"name_{lang}": name for lang, name in sorted(names.items())}
    out: dict = {}
    for key, value in props.items():
        if key in new:
            continue
        out[key] = value
        if key == "name":
            out.update(new)
    for key, value in new.items():
        out.setdefault(key, value)
    return out


def apply_layer(path: Path, names: dict[str, dict[str, str]]) -> int:
    """Write the names into one layer file; return how many features carry one."""
    lines = path.read_text(encoding="utf-8").split("\n")
    count = 0
    for i, line in enumerate(lines):
        body = line.rstrip()
        comma = body.endswith(",")
        body = body[:-1] if comma else body
        if not body.startswith('{"type": "Feature"'):
            continue
        feature = json.loads(body)
        props = feature["properties"]
        wanted = names.get(props.get("id"))
        if not wanted:
            continue
        count += 1
        if all(props.get(f"name_{lang}") == name for lang, name in wanted.items()):
            continue
        feature["properties"] = with_names(props, wanted)
        lines[i] = json.dumps(feature, ensure_ascii=False) + ("," if comma else "")
    text = "\n".join(lines)
    if text != path.read_text(encoding="utf-8"):
        path.write_text(text, encoding="utf-8")
    return count


def main(bundle: Path) -> None:
    names = read_names(bundle)
    for layer in LAYERS:
        path = bundle / layer
        if path.exists():
            print(f"{path}: {apply_layer(path, names)} features named")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
