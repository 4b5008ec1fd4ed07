from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def edit_feature(bundle: Path, file: str, feature_id: str, **changes: Any) -> None:
    """Change (or, with value ..., delete) properties of one feature in a bundle file."""
    path = bundle / file
    data = json.loads(path.read_text(encoding="utf-8"))
    for feature in data["features"]:
        if feature["properties"]["id"] == feature_id:
            for key, value in changes.items():
                if value is ...:
                    feature["properties"].pop(key, None)
                elif key == "geometry":
                    feature["geometry"] = value
                else:
                    feature["properties"][key] = value
            break
    else:
        raise KeyError(feature_id)
    path.write_text(json.dumps(data), encoding="utf-8")


def append_feature(bundle: Path, file: str, feature: dict[str, Any]) -> None:
    path = bundle / file
    data = json.loads(path.read_text(encoding="utf-8"))
    data["features"].append(feature)
    path.write_text(json.dumps(data), encoding="utf-8")
