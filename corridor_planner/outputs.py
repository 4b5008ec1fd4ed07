"""Write result tables to CSV, GeoJSON or GeoPackage, atomically (temporary file, then rename)."""

from __future__ import annotations

import contextlib
import math
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from corridor_planner.errors import CorridorPlannerError

FORMATS = {".csv": "csv", ".geojson": "GeoJSON", ".gpkg": "GPKG"}
PUBLIC_FILE_MODE = 0o644


def refuse_bundle_file(path: Path, bundle: Path) -> None:
    """Refuse an output path that would replace or add to what a bundle's loader reads.

    ``access --out BUNDLE/population.geojson`` would otherwise replace the bundle's own
    layer with a results table, and ``BUNDLE/scenarios/x.toml`` would become a scenario.
    A new file in a sub-folder of the bundle of one's own (``BUNDLE/results/``) is fine.

    Raises
    ------
    CorridorPlannerError
        Naming the path and the bundle.
    """
    target = path.expanduser().resolve()
    folder = bundle.expanduser().resolve()
    if folder not in target.parents:
        return
    read_by_loader = target.parent in {folder, folder / "scenarios"}
    if target.exists() or read_by_loader:
        raise CorridorPlannerError(
            f"cannot write {path}: it is inside the corridor bundle {bundle} being read, "
            "and would replace or add to its input files; write outside the bundle"
        )


#: Longest file name made from an id (most file systems allow 255 bytes).
MAX_STEM = 120


def file_stem(name: str) -> str:
    """Make an id safe as one file name in a default output path (``reports/<id>.html``).

    Path separators, control and format characters, and anything but letters, digits,
    ``-``, ``_`` and ``.`` become ``_``; leading dots go (no hidden file, no ``..``), and
    the result is at most :data:`MAX_STEM` characters. A bundle's ``id`` is already
    validated as a plain identifier; this keeps the default path a file in its folder
    whatever the caller passes.

    Examples
    --------
    >>> file_stem("../../etc/x")
    'etc_x'
    >>> file_stem("almaty_bishkek")
    'almaty_bishkek'
    """
    cleaned = "".join(
        c if (c.isalnum() or c in "-_.") and unicodedata.category(c)[0] != "C" else "_"
        for c in unicodedata.normalize("NFC", name)
    )
    cleaned = re.sub(r"_+", "_", cleaned).lstrip("._")[:MAX_STEM]
    return cleaned or "corridor"


def write_table(table: pd.DataFrame, path: Path, layer: str = "results") -> Path:
    """Write ``table`` to ``path``; the extension picks the format.

    A GeoDataFrame written to CSV gets ``lon`` and ``lat`` columns instead of geometry.
    Nothing is left half-written: the file appears complete or not at all.

    Raises
    ------
    CorridorPlannerError
        If the extension is not ``.csv``, ``.geojson`` or ``.gpkg``, or a spatial format
        is asked for a table without geometry.
    """
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise CorridorPlannerError(
            f"cannot write {path}: use one of {', '.join(FORMATS)} as the extension"
        )
    spatial = isinstance(table, gpd.GeoDataFrame)
    if suffix != ".csv" and not spatial:
        raise CorridorPlannerError(f"cannot write {path}: this table has no geometry; use .csv")
    with _writing(path):
        handle, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=suffix, dir=path.parent)
        os.close(handle)
        tmp = Path(tmp_name)
        try:
            tmp.unlink()  # GDAL drivers refuse to overwrite an existing empty file
            if suffix == ".csv":
                defuse_formulas(_as_plain(table)).to_csv(tmp, index=False)
            else:
                _stringify_nested(table).to_file(tmp, driver=FORMATS[suffix], layer=layer)
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)
    return path


@contextlib.contextmanager
def _writing(path: Path) -> Iterator[None]:
    """Make the parent folder, and turn any failure to write into one clear error.

    Raises
    ------
    CorridorPlannerError
        Naming the path and the reason (read-only folder, full disk, a parent that is a
        file, a path that is a folder, ...).
    """
    try:
        if path.is_dir():
            raise IsADirectoryError(21, "it is a folder", str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        yield
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if isinstance(exc, FileExistsError | NotADirectoryError):
            reason = "a part of its folder path is a file, not a folder"
        raise CorridorPlannerError(f"cannot write {path}: {reason}") from exc


def _as_plain(table: pd.DataFrame) -> pd.DataFrame:
    """Drop the geometry: ``lon``/``lat`` for points, ``wkt`` (WGS 84) otherwise."""
    if not isinstance(table, gpd.GeoDataFrame):
        return _stringify_nested(table)
    shapes = table.to_crs("EPSG:4326").geometry
    plain = pd.DataFrame(table.drop(columns=table.geometry.name))
    if len(shapes) and (shapes.geom_type == "Point").all():
        plain["lon"], plain["lat"] = shapes.x.round(6), shapes.y.round(6)
    else:  # routes and areas: a point would misplace them
        plain["wkt"] = shapes.to_wkt(rounding_precision=6)
    return _stringify_nested(plain)


#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defuse_formulas(table: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with an apostrophe.

    A facility named ``=HYPERLINK(...)`` or ``+1-2`` is written ``'=HYPERLINK(...)``, as
    OWASP's CSV-injection guidance advises: Excel and LibreOffice show the text as written
    and run nothing. Numbers (a negative change, say) are not text and stay as they are.
    """
    out = table.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(_defused)
    out.columns = [_defused(str(name)) for name in out.columns]
    return out


def _defused(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _stringify_nested(table: pd.DataFrame) -> pd.DataFrame:
    out = table.copy()
    for column in out.columns:
        if (
            out[column].dtype == object
            and out[column].map(lambda v: isinstance(v, list | dict)).any()
        ):
            out[column] = out[column].map(lambda v: v if not isinstance(v, list | dict) else str(v))
    return out


def write_text(text: str, path: Path) -> Path:
    """Write a text file (a report, a map) atomically: complete or not at all.

    Raises
    ------
    CorridorPlannerError
        If the file cannot be written (see :func:`write_table`).
    """
    return write_bytes(text.encode("utf-8"), path)


def write_bytes(data: bytes, path: Path) -> Path:
    """Write a binary file (a PDF) atomically: complete or not at all.

    Raises
    ------
    CorridorPlannerError
        If the file cannot be written (see :func:`write_table`).
    """
    with _writing(path):
        handle, tmp_name = tempfile.mkstemp(
            prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent
        )
        tmp = Path(tmp_name)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            tmp.chmod(PUBLIC_FILE_MODE)  # mkstemp makes 0600; reports are meant to be shared
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)
    return path


def write_parquet(table: pd.DataFrame, path: Path, metadata: dict[str, str] | None = None) -> Path:
    """Write a table to Parquet (GeoParquet for a GeoDataFrame) atomically, with metadata.

    Raises
    ------
    CorridorPlannerError
        If the path does not end in ``.parquet`` or cannot be written.
    """
    import pyarrow.parquet as pq

    if path.suffix.lower() != ".parquet":
        raise CorridorPlannerError(f"cannot write {path}: a sweep's table is a .parquet file")
    with _writing(path):
        handle, tmp_name = tempfile.mkstemp(
            prefix=f".{path.stem}.", suffix=".parquet", dir=path.parent
        )
        os.close(handle)
        tmp = Path(tmp_name)
        try:
            _stringify_nested(table).to_parquet(tmp, index=False)
            arrow = pq.read_table(tmp)
            extra = {k.encode(): v.encode() for k, v in (metadata or {}).items()}
            arrow = arrow.replace_schema_metadata({**(arrow.schema.metadata or {}), **extra})
            pq.write_table(arrow, tmp)
            tmp.chmod(PUBLIC_FILE_MODE)
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)
    return path


def json_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a table as JSON-safe dicts: NaN and infinity become None."""
    return [
        {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
        for row in table.to_dict(orient="records")
    ]
