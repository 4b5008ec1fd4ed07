"""Write ``schemas/<kind>.schema.json`` for every file kind in the schema registry.

Usage: ``python tools/make_schemas.py [--check]``. With ``--check``, write nothing and exit
1 when a committed schema differs from what the models give (``tests/test_schema.py`` runs
the same comparison).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from corridor_planner.schema.files import FILES

#: Folder of the committed schemas.
SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "schemas"


def schema_text(kind: str) -> str:
    """Return the JSON Schema of one file kind, as committed (sorted keys, newline at end)."""
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{kind}.schema.json",
        **FILES[kind].model_json_schema(),
    }
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def stale(folder: Path = SCHEMAS_DIR) -> list[str]:
    """Return the kinds whose committed schema is missing or differs from the models."""
    return [
        kind
        for kind in FILES
        if not (folder / f"{kind}.schema.json").is_file()
        or (folder / f"{kind}.schema.json").read_text(encoding="utf-8") != schema_text(kind)
    ]


def main(argv: list[str]) -> int:
    """Write every schema (or, with ``--check``, only report the stale ones)."""
    if "--check" in argv:
        kinds = stale()
        for kind in kinds:
            print(f"schemas/{kind}.schema.json is stale: run python tools/make_schemas.py")
        return 1 if kinds else 0
    SCHEMAS_DIR.mkdir(exist_ok=True)
    for kind in FILES:
        (SCHEMAS_DIR / f"{kind}.schema.json").write_text(schema_text(kind), encoding="utf-8")
        print(f"wrote schemas/{kind}.schema.json")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
