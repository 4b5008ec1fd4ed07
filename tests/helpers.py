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


def large_corridor(target: Path, settlements: int, facilities: int, seed: int = 0) -> Path:
    """Write a copy of the tiny corridor with many generated settlements and facilities.

    Settlements are spread over the roads' box (within the snapping limit), north of the
    border in KZ, south in KG; the generated clinics' names hold markup, to check escaping.
    """
    import shutil

    import numpy as np

    shutil.copytree(Path(__file__).parent / "data" / "tiny_corridor", target)
    rng = np.random.default_rng(seed)
    lon, lat = rng.uniform(74.88, 75.12, settlements), rng.uniform(42.98, 43.12, settlements)
    people = rng.lognormal(6, 1.2, settlements).astype(int) + 10
    features = [
        _point(
            x,
            y,
            id=f"s{i}",
            name=f"Settlement {i}",
            country="KZ" if y > 43.05 else "KG",
            population=int(p),
            border_community=i % 7 == 0,
            migrant_share=None,
            source="generated",
        )
        for i, (x, y, p) in enumerate(zip(lon, lat, people, strict=True))
    ]
    _write_features(target / "population.geojson", features)
    path = target / "facilities.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    template = data["features"][0]["properties"]
    lon, lat = rng.uniform(74.9, 75.1, facilities), rng.uniform(43.0, 43.1, facilities)
    for i, (x, y) in enumerate(zip(lon, lat, strict=True)):
        properties = {
            **template,
            "id": f"clinic_{i}",
            "name": f"Clinic <img src=x onerror=alert({i})> {i}",
            "country": "KZ" if y > 43.05 else "KG",
            "level": "primary",
        }
        data["features"].append(_point(x, y, **properties))
    path.write_text(json.dumps(data), encoding="utf-8")
    return target


def _point(lon: float, lat: float, **properties: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(float(lon), 5), round(float(lat), 5)]},
        "properties": properties,
    }


def _write_features(path: Path, features: list[dict[str, Any]]) -> None:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
