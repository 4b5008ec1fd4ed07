"""Registry of the file kinds a user writes and the model of each.

One line per kind: ``tools/make_schemas.py`` writes ``schemas/<kind>.schema.json`` for
every entry, and ``tests/test_schema.py`` checks the committed schemas are current.
"""

from __future__ import annotations

from corridor_planner.schema import layers
from corridor_planner.schema.base import FileModel
from corridor_planner.schema.corridor import CorridorFile
from corridor_planner.schema.costs import CostsFile
from corridor_planner.schema.cover import CoverFile
from corridor_planner.schema.import_mapping import FacilityMapping
from corridor_planner.schema.origins import OriginsFile
from corridor_planner.schema.programme import ProgrammeFile
from corridor_planner.schema.scenario import ScenarioFile

#: File kind (the name of its schema file) -> model.
FILES: dict[str, type[FileModel]] = {
    "corridor.toml": CorridorFile,
    "scenario.toml": ScenarioFile,
    "cover.toml": CoverFile,
    "costs.toml": CostsFile,
    "origins.toml": OriginsFile,
    "programme.toml": ProgrammeFile,
    "import-mapping.toml": FacilityMapping,
    "facilities.geojson.properties": layers.FacilityProperties,
    "border_posts.geojson.properties": layers.BorderPostProperties,
    "population.geojson.properties": layers.SettlementProperties,
    "candidates.geojson.properties": layers.CandidateProperties,
    "border.geojson.properties": layers.BorderLineProperties,
}
