"""Build a corridor bundle from the files planners already hold.

An OpenStreetMap extract (PBF or XML) or GIS road lines, a boundaries file, a facility
list (healthsites.io / HDX / OSM / a ministry spreadsheet) and a population raster or
table become a bundle in the standard format (``data/corridors/<id>/``), with a
SOURCES.md that lists every input file, its SHA-256 and licence, and what was kept,
dropped and why. :func:`import_bundle` runs the whole import.
"""

from corridor_planner.importer.bundle import ImportOptions, ImportSummary, import_bundle

__all__ = ["ImportOptions", "ImportSummary", "import_bundle"]
