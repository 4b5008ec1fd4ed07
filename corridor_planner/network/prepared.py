"""The prepared network: a corridor's built and snapped graph, stored once and read back.

Building a network (reading roads, placing posts, projecting, snapping every point)
takes about a minute on a country's roads; every command needs the same result. The
first :func:`prepared_network` builds it and stores it in the bundle's cache folder
(:func:`corridor_planner.cachefiles.bundle_cache_dir`); later calls, in any process,
read it back in seconds. The file is keyed by a SHA-256 of what the network came from:
the bytes of every file the bundle loader reads, the package version and source of the
code that builds networks, :data:`FORMAT_VERSION` and the build options. A file made
from other inputs, by another format, or damaged, is rebuilt with a warning naming it.

A bundle may come from someone else, so the file holds only data that cannot run code
when read: a zip archive of JSON (small metadata) and Parquet tables (nodes, edges, the
snapped points, pieces), read with pyarrow, geometries as WKB. Nothing is unpickled.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import json
import logging
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

import geopandas as gpd
import networkx as nx
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from corridor_planner import cachefiles
from corridor_planner.bundle.corridor import (
    BORDER_FILE,
    CANDIDATES_FILE,
    CORRIDOR_FILE,
    COVER_FILE,
    FACILITIES_FILE,
    POPULATION_FILE,
    POSTS_FILE,
    Corridor,
)
from corridor_planner.bundle.costs import COSTS_FILE
from corridor_planner.bundle.origins import ORIGINS_FILE
from corridor_planner.network.graph import CorridorNetwork, build_network
from corridor_planner.network.pieces import Pieces
from corridor_planner.progress import Progress, step

log = logging.getLogger(__name__)

#: Layout of the stored file; bump it whenever what is stored, or how, changes.
FORMAT_VERSION = 1
#: Code whose change changes the network built from the same bundle (hashed into the key,
#: so a development checkout never reads a network an older build step made).
_BUILD_CODE = ("network", "bundle", "settings.py", "units.py")
_PACKAGE = Path(__file__).resolve().parent.parent
_META = "meta.json"
_READ_CHUNK = 1 << 20


class StaleNetworkError(ValueError):
    """A stored network that cannot be used: damaged, from other inputs or another format."""


# the key ----------------------------------------------------------------------------------


def network_file_name(keep_all_pieces: bool = False) -> str:
    """Name of the stored network in the cache folder, one per set of build options."""
    return "network-all-pieces.zip" if keep_all_pieces else "network.zip"


def bundle_files(corridor: Corridor) -> list[str]:
    """Paths (relative to the bundle) of every file the bundle loader reads, sorted.

    Optional files that are absent are listed too: adding one changes the key.
    """
    names = {
        CORRIDOR_FILE,
        FACILITIES_FILE,
        POSTS_FILE,
        POPULATION_FILE,
        CANDIDATES_FILE,
        BORDER_FILE,
        COVER_FILE,
        COSTS_FILE,
        ORIGINS_FILE,
        corridor.roads_path.relative_to(corridor.path).as_posix(),
    }
    scenarios = corridor.path / "scenarios"
    if scenarios.is_dir():
        names.update(f"scenarios/{p.name}" for p in scenarios.glob("*.toml"))
    return sorted(names)


def input_key(corridor: Corridor, keep_all_pieces: bool = False) -> str:
    """SHA-256 (hex) of everything a corridor's network is built from.

    Parameters
    ----------
    corridor : Corridor
        The loaded bundle (its files are read again, byte for byte).
    keep_all_pieces : bool
        The build option.
    """
    digest = hashlib.sha256()
    header = {
        "format": FORMAT_VERSION,
        "package": _package_version(),
        "code": _code_digest(),
        "options": {"keep_all_pieces": bool(keep_all_pieces)},
    }
    digest.update(json.dumps(header, sort_keys=True).encode())
    for name in bundle_files(corridor):
        digest.update(b"\0file\0" + name.encode() + b"\0")
        _update_with_file(digest, corridor.path / name)
    return digest.hexdigest()


def _update_with_file(digest: Any, path: Path) -> None:
    if not path.is_file():
        digest.update(b"absent")
        return
    digest.update(str(path.stat().st_size).encode() + b"\0")
    with open(path, "rb") as handle:
        while chunk := handle.read(_READ_CHUNK):
            digest.update(chunk)


def _package_version() -> str:
    try:
        return importlib.metadata.version("corridor-planner")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _code_digest() -> str:
    digest = hashlib.sha256()
    for part in _BUILD_CODE:
        base = _PACKAGE / part
        files = sorted(base.rglob("*.py")) if base.is_dir() else [base]
        for file in files:
            digest.update(file.relative_to(_PACKAGE).as_posix().encode() + b"\0")
            digest.update(file.read_bytes())
    return digest.hexdigest()


# prepared_network --------------------------------------------------------------------------


def prepared_network(
    corridor: Corridor, keep_all_pieces: bool = False, progress: Progress | None = None
) -> CorridorNetwork:
    """Return the corridor's network: read from its stored file, or built and stored.

    Gives what :func:`~corridor_planner.network.graph.build_network` gives (graph,
    ``post_edges``, ``snaps``, ``pieces``), with ``prepared_from`` ``cache`` or ``built``
    and ``cache_dir`` set. Processes that start together build it once: one holds a
    lock beside the file and builds, the others wait, then read what it wrote.

    Parameters
    ----------
    corridor : Corridor
        A loaded bundle.
    keep_all_pieces : bool
        See :func:`~corridor_planner.network.graph.build_network`.
    progress : callable, optional
        Called with a message as each step starts (loading, reading roads, snapping,
        saving); each step's time goes to the debug log.

    Returns
    -------
    CorridorNetwork

    Raises
    ------
    DataError
        As :func:`~corridor_planner.network.graph.build_network`, for a bundle whose
        roads, posts or scenarios do not fit.
    """
    with step(progress, "hashing the bundle's files", log):
        key = input_key(corridor, keep_all_pieces)
    try:
        folder = cachefiles.bundle_cache_dir(corridor.path)
    except OSError as exc:
        log.warning(
            "no cache folder for %s (%s): the network is built, not stored", corridor.id, exc
        )
        return build_network(corridor, keep_all_pieces, progress)
    path = folder / network_file_name(keep_all_pieces)
    found = _read_quietly(path, corridor, key, progress)
    if found is not None:
        return _finish(found, "cache", folder)
    with cachefiles.file_lock(path.with_name(path.name + ".lock")):
        found = _read_or_warn(path, corridor, key, progress)  # another process may have built it
        if found is not None:
            return _finish(found, "cache", folder)
        network = build_network(corridor, keep_all_pieces, progress)
        with step(progress, f"saving the prepared network to {path}", log):
            try:
                save_network(network, path, key)
            except (OSError, TypeError, ValueError, pa.ArrowException) as exc:
                log.warning("could not store the prepared network in %s: %s", path, exc)
    return _finish(network, "built", folder)


def _finish(network: CorridorNetwork, source: str, folder: Path) -> CorridorNetwork:
    network.prepared_from = source
    network.cache_dir = folder
    return network


def _read_quietly(
    path: Path, corridor: Corridor, key: str, progress: Progress | None
) -> CorridorNetwork | None:
    """Read without the lock; any problem is looked at again (and reported) under it."""
    if not path.is_file():
        return None
    try:
        with step(progress, f"loading the prepared network from {path}", log):
            return load_network(path, corridor, key)
    except StaleNetworkError:
        return None


def _read_or_warn(
    path: Path, corridor: Corridor, key: str, progress: Progress | None
) -> CorridorNetwork | None:
    if not path.is_file():
        return None
    try:
        with step(progress, f"loading the prepared network from {path}", log):
            return load_network(path, corridor, key)
    except StaleNetworkError as exc:
        log.warning("prepared network %s: %s; building it again", path, exc)
        return None


# writing ----------------------------------------------------------------------------------


def save_network(network: CorridorNetwork, path: Path, key: str) -> Path:
    """Store a network at ``path`` (written whole or not at all), tagged with ``key``.

    Raises
    ------
    TypeError
        If a node id is not an integer or an attribute holds a value JSON cannot hold.
    """
    graph = network.graph
    assert network.snaps is not None
    node_ids = _int_array(list(graph.nodes), "node id")
    edges = list(graph.edges(keys=True, data=True))
    node_table, node_columns = _encode_records([d for _, d in graph.nodes(data=True)])
    node_table = node_table.add_column(0, "id", pa.array(node_ids))
    edge_table, edge_columns = _encode_records([d for *_, d in edges])
    for position, (name, values) in enumerate(
        (
            ("u", [e[0] for e in edges]),
            ("v", [e[1] for e in edges]),
            ("key", [e[2] for e in edges]),
        )
    ):
        edge_table = edge_table.add_column(position, name, pa.array(_int_array(values, name)))
    pieces = network.pieces
    piece_table = pa.table(
        {
            "node": _int_array(list(pieces.piece_of), "piece node"),
            "piece": np.array(list(pieces.piece_of.values()), dtype=np.int64),
        }
    )
    snaps = network.snaps
    plain = snaps.drop(columns=snaps.geometry.name)
    snap_table = pa.Table.from_pandas(plain, preserve_index=False).append_column(
        "__geometry", pa.array(shapely.to_wkb(snaps.geometry.values), type=pa.binary())
    )
    meta = {
        "format": FORMAT_VERSION,
        "key": key,
        "package": _package_version(),
        "corridor": network.corridor.id,
        "graph": {name: _plain_graph_value(value) for name, value in graph.graph.items()},
        "node_columns": node_columns,
        "edge_columns": edge_columns,
        "post_edges": {p: [list(e) for e in pairs] for p, pairs in network.post_edges.items()},
        "pieces": {
            "nodes": list(pieces.nodes),
            "km": list(pieces.km),
            "between_km": pieces.between_km,
            "kept_all": pieces.kept_all,
            "posts_left_out": list(pieces.posts_left_out),
        },
        "snaps": {
            "columns": [str(c) for c in snaps.columns],
            "geometry": str(snaps.geometry.name),
            "crs": snaps.crs.to_wkt() if snaps.crs is not None else None,
        },
    }
    tables = {
        "nodes.parquet": node_table,
        "edges.parquet": edge_table,
        "pieces.parquet": piece_table,
        "snaps.parquet": snap_table,
    }

    def write(handle: BinaryIO) -> None:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr(_META, json.dumps(meta, allow_nan=True))
            for name, table in tables.items():
                buffer = io.BytesIO()
                pq.write_table(table, buffer, compression="zstd")
                archive.writestr(name, buffer.getvalue())

    return cachefiles.write_atomically(path, write)


def _int_array(values: Sequence[Any], what: str) -> np.ndarray:
    if not all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in values):
        raise TypeError(f"every {what} must be an integer to store the network")
    return np.array(values, dtype=np.int64)


def _plain_graph_value(value: Any) -> Any:
    if isinstance(value, CRS):
        return {"__crs__": value.to_wkt()}
    json.dumps(value)  # TypeError for anything JSON cannot hold
    return value


#: State of an attribute on one node or edge: absent, present as None, present.
_ABSENT, _NONE, _VALUE = 0, 1, 2
_MISSING = object()


def _kind(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "bool"
    if isinstance(value, int | np.integer):
        return "int" if -(2**63) <= int(value) < 2**63 else "json"
    if isinstance(value, float | np.floating):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, BaseGeometry):
        return "wkb"
    return "json"


def _encode_records(records: list[dict[str, Any]]) -> tuple[pa.Table, list[dict[str, Any]]]:
    """Attribute dicts as a table: one typed column per attribute, plus its state if sparse."""
    names = list(dict.fromkeys(name for record in records for name in record))
    arrays: dict[str, pa.Array] = {}
    columns = []
    for i, name in enumerate(names):
        values = [record.get(name, _MISSING) for record in records]
        state = np.fromiter(
            (_ABSENT if v is _MISSING else _NONE if v is None else _VALUE for v in values),
            dtype=np.uint8,
            count=len(values),
        )
        present = [v for v in values if v is not _MISSING and v is not None]
        kinds = {_kind(v) for v in present}
        kind = kinds.pop() if len(kinds) == 1 else "json"
        arrays[f"c{i}"] = _encode_column(name, kind, values)
        dense = bool((state == _VALUE).all())
        if not dense:
            arrays[f"s{i}"] = pa.array(state)
        columns.append({"name": name, "kind": kind, "dense": dense})
    return pa.table(arrays) if arrays else pa.table({}), columns


def _encode_column(name: str, kind: str, values: list[Any]) -> pa.Array:
    def given(v: Any) -> bool:
        return v is not _MISSING and v is not None

    if kind == "wkb":
        geoms = np.array([v if given(v) else None for v in values], dtype=object)
        return pa.array(shapely.to_wkb(geoms), type=pa.binary())
    if kind == "json":
        try:
            return pa.array(
                [json.dumps(_plain(v)) if given(v) else "" for v in values], type=pa.string()
            )
        except TypeError as exc:
            raise TypeError(f"attribute {name!r}: {exc}") from exc
    fill: Any = {"bool": False, "int": 0, "float": 0.0, "str": ""}[kind]
    kind_type = {"bool": pa.bool_(), "int": pa.int64(), "float": pa.float64(), "str": pa.string()}
    cast = {"bool": bool, "int": int, "float": float, "str": str}[kind]
    return pa.array([cast(v) if given(v) else fill for v in values], type=kind_type[kind])


def _plain(value: Any) -> Any:
    """Turn numpy scalars and tuples into what JSON writes."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


# reading ----------------------------------------------------------------------------------


def load_network(path: Path, corridor: Corridor, key: str) -> CorridorNetwork:
    """Read a stored network for ``corridor``; refuse one made from other inputs.

    Raises
    ------
    StaleNetworkError
        If the file is damaged or truncated, not a stored network, of another
        :data:`FORMAT_VERSION`, or made from other inputs (another ``key``).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            meta = json.loads(archive.read(_META))
            _check_meta(meta, key)
            tables = {n: _read_table(archive, n) for n in ("nodes", "edges", "pieces", "snaps")}
        return _network_from(corridor, meta, tables)
    except StaleNetworkError:
        raise
    except (
        zipfile.BadZipFile,
        EOFError,
        OSError,
        KeyError,
        ValueError,
        TypeError,
        IndexError,
        pa.ArrowException,
    ) as exc:
        raise StaleNetworkError(
            f"damaged or not a prepared network ({type(exc).__name__}: {exc})"
        ) from exc


def _check_meta(meta: Any, key: str) -> None:
    if not isinstance(meta, dict):
        raise StaleNetworkError("not a prepared network (no metadata)")
    if meta.get("format") != FORMAT_VERSION:
        raise StaleNetworkError(
            f"stored in format {meta.get('format')!r}, this version reads {FORMAT_VERSION}"
        )
    if meta.get("key") != key:
        raise StaleNetworkError(
            "made from other inputs (bundle files, options or program version changed)"
        )


def _read_table(archive: zipfile.ZipFile, name: str) -> pa.Table:
    return pq.read_table(pa.BufferReader(archive.read(f"{name}.parquet")))


def _network_from(
    corridor: Corridor, meta: dict[str, Any], tables: dict[str, pa.Table]
) -> CorridorNetwork:
    graph = nx.MultiDiGraph(**{name: _graph_value(value) for name, value in meta["graph"].items()})
    nodes = tables["nodes"]
    node_attrs = _decode_records(nodes, meta["node_columns"])
    graph.add_nodes_from(zip(nodes.column("id").to_numpy().tolist(), node_attrs, strict=True))
    edges = tables["edges"]
    edge_attrs = _decode_records(edges, meta["edge_columns"])
    _add_edges(
        graph,
        edges.column("u").to_numpy().tolist(),
        edges.column("v").to_numpy().tolist(),
        edges.column("key").to_numpy().tolist(),
        edge_attrs,
    )
    stored = meta["pieces"]
    piece_table = tables["pieces"]
    pieces = Pieces(
        piece_of=dict(
            zip(
                piece_table.column("node").to_numpy().tolist(),
                piece_table.column("piece").to_numpy().tolist(),
                strict=True,
            )
        ),
        nodes=[int(n) for n in stored["nodes"]],
        km=[float(k) for k in stored["km"]],
        between_km=float(stored["between_km"]),
        kept_all=bool(stored["kept_all"]),
        posts_left_out=[str(p) for p in stored["posts_left_out"]],
    )
    post_edges = {
        str(post): [(int(a), int(b)) for a, b in pairs]
        for post, pairs in meta["post_edges"].items()
    }
    network = CorridorNetwork(corridor=corridor, graph=graph, post_edges=post_edges, pieces=pieces)
    network.snaps = _snaps_from(tables["snaps"], meta["snaps"])
    return network


def _add_edges(
    graph: nx.MultiDiGraph,
    tails: list[int],
    heads: list[int],
    keys: list[int],
    attrs: list[dict[str, Any]],
) -> None:
    """Add edges with their keys and attribute dicts, in order, between existing nodes.

    Fills the adjacency as ``MultiDiGraph.add_edge`` does (one key dict shared by
    ``_succ[u][v]`` and ``_pred[v][u]``) without its per-edge checks and views, which
    take most of the load time of a large graph (``add_edges_from``: 2.7 of 4.6 s at
    360k edges). Raises KeyError for an edge whose end is not a node.
    """
    succ, pred = graph._succ, graph._pred
    for u, v, key, data in zip(tails, heads, keys, attrs, strict=True):
        keydict = succ[u].get(v)
        if keydict is None:
            if v not in pred:
                raise KeyError(f"edge ({u}, {v}) ends at no node")
            keydict = succ[u][v] = pred[v][u] = graph.edge_key_dict_factory()
        keydict[key] = data
    graph.__networkx_cache__.clear()


def _graph_value(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"__crs__"}:
        return CRS.from_wkt(value["__crs__"])
    return value


def _snaps_from(table: pa.Table, stored: dict[str, Any]) -> gpd.GeoDataFrame:
    wkb = table.column("__geometry").to_numpy(zero_copy_only=False)
    frame = table.drop_columns(["__geometry"]).to_pandas()
    geometry = gpd.GeoSeries(shapely.from_wkb(wkb), crs=stored["crs"])
    frame[stored["geometry"]] = geometry.values
    snaps = gpd.GeoDataFrame(frame, geometry=stored["geometry"], crs=stored["crs"])
    return snaps[list(stored["columns"])]


def _decode_records(table: pa.Table, columns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Attribute dicts back from :func:`_encode_records`' table and column list."""
    n = table.num_rows
    dense = [
        (c["name"], _decode_column(table, i, c["kind"]))
        for i, c in enumerate(columns)
        if c["dense"]
    ]
    if dense:
        names = [name for name, _ in dense]
        records = [
            dict(zip(names, row, strict=True)) for row in zip(*(v for _, v in dense), strict=True)
        ]
    else:
        records = [{} for _ in range(n)]
    for i, column in enumerate(columns):
        if column["dense"]:
            continue
        state = table.column(f"s{i}").to_numpy()
        name = column["name"]
        for row in np.flatnonzero(state == _NONE).tolist():
            records[row][name] = None
        given = np.flatnonzero(state == _VALUE)
        if len(given):
            values = _decode_column(table, i, column["kind"], given)
            for row, value in zip(given.tolist(), values, strict=True):
                records[row][name] = value
    return records


def _decode_column(table: pa.Table, i: int, kind: str, rows: np.ndarray | None = None) -> list[Any]:
    array = table.column(f"c{i}")
    if rows is not None:
        array = array.take(pa.array(rows))
    if kind == "wkb":
        return list(shapely.from_wkb(array.to_numpy(zero_copy_only=False)))
    if kind == "json":
        return [json.loads(text) for text in array.to_pylist()]
    if kind in ("bool", "int", "float"):
        return array.to_numpy(zero_copy_only=False).tolist()  # type: ignore[no-any-return]
    if kind == "str":
        return array.to_pylist()  # type: ignore[no-any-return]
    raise StaleNetworkError(f"unknown column kind {kind!r}")
