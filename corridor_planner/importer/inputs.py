"""Input files of an import: what they are, their hash and date, and reading GIS tables."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd

from corridor_planner.errors import DataError, Problem


@dataclass(frozen=True)
class InputFile:
    """One file read by an import, as SOURCES.md lists it."""

    role: str
    path: Path
    sha256: str
    modified: str
    size: int

    @classmethod
    def of(cls, role: str, path: Path) -> InputFile:
        """Hash and date a file (streamed: extracts can be gigabytes)."""
        digest = hashlib.sha256()
        with path.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
        stat = path.stat()
        modified = dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC).strftime("%Y-%m-%d")
        return cls(role, path, digest.hexdigest(), modified, stat.st_size)


def require_file(path: Path, role: str) -> Path:
    """Return ``path`` if it is a readable file, else raise a DataError naming it."""
    if not path.is_file():
        raise DataError(Problem(str(path), "-", "-", f"{role} file not found"))
    return path


def read_gis(path: Path, role: str) -> gpd.GeoDataFrame:
    """Read any GIS table geopandas can (GeoPackage, GeoJSON, Shapefile...) in WGS84.

    Raises
    ------
    DataError
        If the file cannot be read, has no geometry or no CRS.
    """
    require_file(path, role)
    try:
        table = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise DataError(Problem(path.name, "-", "-", f"cannot read {role} ({exc})")) from exc
    if table.crs is None:
        raise DataError(Problem(path.name, "-", "crs", f"{role} file has no CRS"))
    return table.to_crs("EPSG:4326")
