"""The prepared network and the hierarchy cache: same answers, built once, never trusted blindly."""

from __future__ import annotations

import io
import json
import logging
import multiprocessing as mp
import os
import pickle
import re
import shutil
import zipfile
from pathlib import Path

import geopandas.testing
import numpy as np
import pytest

from corridor_planner.bundle.corridor import load_corridor
from corridor_planner.network.graph import CorridorNetwork, build_network
from corridor_planner.network.prepared import (
    FORMAT_VERSION,
    bundle_files,
    input_key,
    network_file_name,
    prepared_network,
)
from corridor_planner.network.synthetic import road_like_graph
from corridor_planner.routing import hierarchy
from corridor_planner.routing.engine import TravelTimeEngine
from corridor_planner.routing.routes import find_route
from corridor_planner.routing.traveltimes import road_engine

TINY = Path(__file__).parent / "data" / "tiny_corridor"

# Hand-computed in tests/data/README.md (as in test_routing.py): minutes, km, posts
CASES = [
    ("citizen", "baseline", 39.5, 25, ["Post P"]),
    ("cargo", "baseline", 139.5, 51, ["Post Q"]),
    ("citizen", "p_closed", 54.5, 51, ["Post Q"]),
]


@pytest.fixture(autouse=True)
def user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's cache folder, inside the test's folder (also for spawned processes)."""
    folder = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    return folder


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    target = tmp_path / "tiny"
    shutil.copytree(TINY, target, ignore=shutil.ignore_patterns(".cache"))  # sweeps write one
    return target


def cache_file(bundle: Path) -> Path:
    return bundle / ".cache" / network_file_name()


def assert_same_network(got: CorridorNetwork, expected: CorridorNetwork) -> None:
    assert list(got.graph.nodes(data=True)) == list(expected.graph.nodes(data=True))
    assert list(got.graph.edges(keys=True, data=True)) == list(
        expected.graph.edges(keys=True, data=True)
    )
    graph_attrs = {k: v for k, v in got.graph.graph.items() if k != "created_date"}
    assert graph_attrs == {k: v for k, v in expected.graph.graph.items() if k != "created_date"}
    assert got.post_edges == expected.post_edges
    assert got.pieces == expected.pieces
    assert got.snaps is not None and expected.snaps is not None
    geopandas.testing.assert_geodataframe_equal(got.snaps, expected.snaps, check_dtype=True)


def route_minutes(network: CorridorNetwork) -> list[tuple[float, float, list[str]]]:
    corridor = network.corridor
    out = []
    for profile, scenario, *_ in CASES:
        route = find_route(
            network, "Town A", "Town D", profile=profile, scenario=corridor.scenario(scenario)
        )
        out.append((route.minutes, route.km, route.border_posts))
    return out


def warnings_about(caplog: pytest.LogCaptureFixture, path: Path) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and str(path) in r.getMessage()
    ]


class TestSameNetwork:
    def test_built_then_read_equals_a_fresh_build(self, bundle):
        corridor = load_corridor(bundle)
        fresh = build_network(corridor)
        first = prepared_network(corridor)
        assert first.prepared_from == "built" and cache_file(bundle).is_file()
        assert_same_network(first, fresh)
        second = prepared_network(load_corridor(bundle))
        assert second.prepared_from == "cache"
        assert_same_network(second, fresh)
        assert second.cache_dir == bundle / ".cache"

    @pytest.mark.parametrize("corridor_id", ["almaty_bishkek", "cpec_karakoram", "cpec_gwadar"])
    def test_bundled_corridors_round_trip(self, tmp_path, corridor_id):
        # road geometries (split roads, GIS lines) and every attribute kind they carry
        source = load_corridor(corridor_id).path
        shutil.copytree(source, tmp_path / corridor_id, ignore=shutil.ignore_patterns(".cache"))
        corridor = load_corridor(tmp_path / corridor_id)
        assert prepared_network(corridor).prepared_from == "built"
        again = prepared_network(corridor)
        assert again.prepared_from == "cache"
        assert_same_network(again, build_network(corridor))

    def test_read_network_gives_the_hand_computed_routes(self, bundle):
        prepared_network(load_corridor(bundle))
        network = prepared_network(load_corridor(bundle))
        assert network.prepared_from == "cache"
        for (minutes, km, posts), (_, _, want_min, want_km, want_posts) in zip(
            route_minutes(network), CASES, strict=True
        ):
            assert minutes == pytest.approx(want_min, abs=0.15)
            assert km == pytest.approx(want_km, abs=0.01)
            assert posts == want_posts
        assert network.summary() == build_network(network.corridor).summary()

    def test_keep_all_pieces_is_its_own_file(self, bundle):
        corridor = load_corridor(bundle)
        prepared_network(corridor)
        kept = prepared_network(corridor, keep_all_pieces=True)
        assert kept.prepared_from == "built" and kept.pieces.kept_all
        assert (bundle / ".cache" / network_file_name(True)).is_file()
        assert prepared_network(corridor).prepared_from == "cache"
        assert input_key(corridor) != input_key(corridor, keep_all_pieces=True)


class TestKey:
    def test_every_file_the_loader_reads_is_hashed(self, bundle):
        files = bundle_files(load_corridor(bundle))
        assert {"corridor.toml", "roads.osm", "facilities.geojson", "population.geojson"} <= set(
            files
        )
        assert "scenarios/winter.toml" in files and "cover.toml" in files  # absent, still named

    @pytest.mark.parametrize(
        ("file", "old", "new"),
        [
            ("facilities.geojson", "[74.9, 43.009]", "[74.901, 43.009]"),
            ("scenarios/winter.toml", "", "\n# a comment changes the bytes\n"),
            ("corridor.toml", "snap_limit_m = 5000", "snap_limit_m = 4000"),
        ],
    )
    def test_a_changed_input_rebuilds(self, bundle, caplog, file, old, new):
        prepared_network(load_corridor(bundle))
        path = bundle / file
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new, 1) if old else text + new)
        corridor = load_corridor(bundle)
        with caplog.at_level(logging.WARNING):
            network = prepared_network(corridor)
        assert network.prepared_from == "built"
        assert any("other inputs" in m for m in warnings_about(caplog, cache_file(bundle)))
        assert_same_network(network, build_network(corridor))
        assert prepared_network(corridor).prepared_from == "cache"

    def test_moved_facility_is_snapped_where_it_now_is(self, bundle):
        before = prepared_network(load_corridor(bundle)).snaps
        path = bundle / "facilities.geojson"
        path.write_text(path.read_text().replace("[74.9, 43.009]", "[74.9, 43.02]"))
        after = prepared_network(load_corridor(bundle)).snaps
        assert before is not None and after is not None
        moved = (
            after.set_index("id").geometry["hosp_d"].y - before.set_index("id").geometry["hosp_d"].y
        )
        assert moved == pytest.approx(1222, abs=5)  # 0.011 degree of latitude, in metres


class TestDamagedOrForeignFiles:
    def test_truncated_file_is_rebuilt_with_a_warning(self, bundle, caplog):
        corridor = load_corridor(bundle)
        prepared_network(corridor)
        path = cache_file(bundle)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        with caplog.at_level(logging.WARNING):
            network = prepared_network(corridor)
        assert network.prepared_from == "built"
        (message,) = warnings_about(caplog, path)
        assert "damaged" in message
        assert_same_network(network, build_network(corridor))
        assert prepared_network(corridor).prepared_from == "cache"

    def test_other_format_version_is_rebuilt_with_a_warning(self, bundle, caplog):
        corridor = load_corridor(bundle)
        prepared_network(corridor)
        path = cache_file(bundle)
        rewritten = io.BytesIO()
        with zipfile.ZipFile(path) as old, zipfile.ZipFile(rewritten, "w") as new:
            for item in old.namelist():
                content = old.read(item)
                if item == "meta.json":
                    meta = json.loads(content)
                    meta["format"] = FORMAT_VERSION + 1
                    content = json.dumps(meta).encode()
                new.writestr(item, content)
        path.write_bytes(rewritten.getvalue())
        with caplog.at_level(logging.WARNING):
            assert prepared_network(corridor).prepared_from == "built"
        (message,) = warnings_about(caplog, path)
        assert f"format {FORMAT_VERSION + 1}" in message

    def test_another_bundles_network_is_not_used(self, bundle, tmp_path, caplog):
        other = tmp_path / "gwadar"
        shutil.copytree(load_corridor("cpec_gwadar").path, other)
        prepared_network(load_corridor(other))
        cache_file(bundle).parent.mkdir()
        shutil.copy(cache_file(other), cache_file(bundle))
        corridor = load_corridor(bundle)
        with caplog.at_level(logging.WARNING):
            network = prepared_network(corridor)
        assert network.prepared_from == "built"
        assert any("other inputs" in m for m in warnings_about(caplog, cache_file(bundle)))
        assert_same_network(network, build_network(corridor))

    def test_a_planted_pickle_is_never_run(self, bundle, tmp_path, caplog):
        # a stranger's bundle ships a pickle where the network should be; reading it
        # as a pickle would create the marker file
        marker = tmp_path / "pickle-was-run"
        path = cache_file(bundle)
        path.parent.mkdir()
        path.write_bytes(pickle.dumps(_Planted(str(marker))))
        with caplog.at_level(logging.WARNING):
            network = prepared_network(load_corridor(bundle))
        assert not marker.exists()
        assert network.prepared_from == "built" and warnings_about(caplog, path)


class _Planted:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):  # what unpickling would call
        return (Path.touch, (Path(self.marker),))


class TestWhereItIsKept:
    def test_unwritable_bundle_falls_back_to_the_user_cache(self, bundle, user_cache):
        (bundle / ".cache").write_text("a file where the cache folder would go")
        corridor = load_corridor(bundle)
        first = prepared_network(corridor)
        assert first.prepared_from == "built"
        (stored,) = list((user_cache / "corridor-planner" / "bundles").glob("tiny-*/network.zip"))
        assert first.cache_dir == stored.parent
        again = prepared_network(corridor)
        assert again.prepared_from == "cache" and again.cache_dir == stored.parent
        assert road_engine(again).cache_dir == stored.parent  # hierarchies go there too
        assert_same_network(again, build_network(corridor))

    @pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders")
    def test_read_only_bundle_falls_back_to_the_user_cache(self, bundle, user_cache):
        bundle.chmod(0o555)
        try:
            network = prepared_network(load_corridor(bundle))
            assert network.prepared_from == "built"
            assert not (bundle / ".cache").exists()
            assert network.cache_dir is not None
            assert network.cache_dir.is_relative_to(user_cache / "corridor-planner")
            assert prepared_network(load_corridor(bundle)).prepared_from == "cache"
        finally:
            bundle.chmod(0o755)

    def test_progress_reports_each_step_and_the_log_times_it(self, bundle, caplog):
        seen: list[str] = []
        with caplog.at_level(logging.DEBUG, logger="corridor_planner"):
            prepared_network(load_corridor(bundle), progress=seen.append)
        assert [m.split(" ")[0] for m in seen] == [
            "hashing",
            "reading",
            "placing",
            "projecting",
            "snapping",
            "saving",
        ]
        assert "snapping 7 points to the roads" in seen
        timed = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
        assert any(re.fullmatch(r"snapping 7 points to the roads: \d+\.\d\d s", m) for m in timed)
        seen.clear()
        prepared_network(load_corridor(bundle), progress=seen.append)
        assert [m.split(" ")[0] for m in seen] == ["hashing", "loading"]


# several processes at once -------------------------------------------------------------


def _prepare_in_a_process(bundle: str, builds: str, barrier, results) -> None:
    """Run in a spawned process: wait for the others, then get the prepared network."""

    def count_builds(message: str) -> None:
        if message.startswith("reading roads"):
            with open(builds, "a") as handle:
                handle.write("built\n")

    corridor = load_corridor(bundle)
    barrier.wait()
    network = prepared_network(corridor, progress=count_builds)
    results.put((network.prepared_from, network.graph.number_of_edges(), route_minutes(network)))


def test_processes_started_together_build_once(bundle, tmp_path):
    context = mp.get_context("spawn")
    builds = tmp_path / "builds.txt"
    barrier, results = context.Barrier(3), context.Queue()
    workers = [
        context.Process(
            target=_prepare_in_a_process, args=(str(bundle), str(builds), barrier, results)
        )
        for _ in range(3)
    ]
    for worker in workers:
        worker.start()
    got = [results.get(timeout=240) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert builds.read_text().splitlines() == ["built"]
    assert sorted(source for source, *_ in got) == ["built", "cache", "cache"]
    expected = build_network(load_corridor(bundle))
    want = route_minutes(expected)
    for _, edges, minutes in got:
        assert edges == expected.graph.number_of_edges()
        assert minutes == want
    assert not [p for p in cache_file(bundle).parent.iterdir() if p.name.endswith(".tmp")]


# the hierarchy cache --------------------------------------------------------------------


def _graph(seed: int = 5):
    g = road_like_graph(15, 15, seed=seed)
    return g.n_nodes, g.tails, g.heads, g.travel_time


def _dijkstra(n, tails, heads, weights, nodes):
    engine = TravelTimeEngine.from_arrays(n, tails, heads, weights, backend="dijkstra")
    return engine.matrix(list(nodes), list(nodes))


class TestHierarchyCache:
    def test_truncated_npz_is_rebuilt_with_a_warning(self, tmp_path, caplog):
        n, tails, heads, weights = _graph()
        first = hierarchy.cached(tmp_path, n, tails, heads, weights)
        (saved,) = list(tmp_path.glob("hierarchy-*.npz"))
        data = saved.read_bytes()
        saved.write_bytes(data[: len(data) // 3])
        with caplog.at_level(logging.WARNING):
            rebuilt = hierarchy.cached(tmp_path, n, tails, heads, weights)
        (message,) = warnings_about(caplog, saved)
        assert "damaged" in message
        np.testing.assert_array_equal(rebuilt.rank, first.rank)
        nodes = np.arange(0, n, 7)
        np.testing.assert_allclose(
            rebuilt.matrix(nodes, nodes), _dijkstra(n, tails, heads, weights, nodes), rtol=1e-12
        )
        assert hierarchy.Hierarchy.load(saved, first.key) is not None  # saved again, whole

    def test_pickled_arrays_are_refused_not_run(self, tmp_path, caplog):
        n, tails, heads, weights = _graph()
        key = hierarchy.graph_key(n, tails, heads, weights)
        saved = tmp_path / f"hierarchy-{key[:16]}.npz"
        marker = tmp_path / "pickle-was-run"
        arrays = {name: np.zeros(1) for name in hierarchy.Hierarchy.__dataclass_fields__}
        arrays["rank"] = np.array([_Planted(str(marker))], dtype=object)
        arrays["version"] = np.array([hierarchy.FILE_VERSION])
        arrays["key"] = np.array([key])
        np.savez(saved, **arrays)
        with caplog.at_level(logging.WARNING):
            built = hierarchy.cached(tmp_path, n, tails, heads, weights)
        assert not marker.exists() and warnings_about(caplog, saved)
        assert built.n_nodes == n

    def test_file_for_another_graph_is_rebuilt_with_a_warning(self, tmp_path, caplog):
        n, tails, heads, weights = _graph()
        other = hierarchy.cached(tmp_path / "other", *_graph(seed=6))
        key = hierarchy.graph_key(n, tails, heads, weights)
        target = tmp_path / f"hierarchy-{key[:16]}.npz"
        shutil.copy(next((tmp_path / "other").glob("hierarchy-*.npz")), target)
        with caplog.at_level(logging.WARNING):
            built = hierarchy.cached(tmp_path, n, tails, heads, weights)
        assert "another graph" in warnings_about(caplog, target)[0]
        assert built.key == key != other.key


def _hierarchy_in_a_process(folder: str, builds: str, barrier, results) -> None:
    """Run in a spawned process: count real builds by writing a marker, then build."""
    real_build = hierarchy.Hierarchy.build.__func__  # type: ignore[attr-defined]

    def counted(cls, *args):
        with open(builds, "a") as handle:
            handle.write("built\n")
        return real_build(cls, *args)

    hierarchy.Hierarchy.build = classmethod(counted)  # type: ignore[method-assign,assignment]
    n, tails, heads, weights = _graph()
    barrier.wait()
    found = hierarchy.cached(Path(folder), n, tails, heads, weights)
    nodes = np.arange(0, n, 7)
    results.put(found.matrix(nodes, nodes))


def test_concurrent_hierarchy_writers_build_once(tmp_path):
    context = mp.get_context("spawn")
    builds = tmp_path / "builds.txt"
    folder = tmp_path / "cache"
    barrier, results = context.Barrier(2), context.Queue()
    workers = [
        context.Process(
            target=_hierarchy_in_a_process, args=(str(folder), str(builds), barrier, results)
        )
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    got = [results.get(timeout=240) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert builds.read_text().splitlines() == ["built"]
    n, tails, heads, weights = _graph()
    expected = _dijkstra(n, tails, heads, weights, np.arange(0, n, 7))
    for matrix in got:
        np.testing.assert_allclose(matrix, expected, rtol=1e-12)
    assert sorted(p.suffix for p in folder.iterdir()) == [".lock", ".npz"]  # no temporary left
