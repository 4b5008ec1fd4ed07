"""Road-like random graphs (perturbed grids) for tests and benchmarks."""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from corridor_planner import units
from corridor_planner.settings import DEFAULT_SPEEDS_KPH

#: Road classes of a synthetic grid: every ``stride``-th row or column is a faster road.
_CLASSES = (("trunk", 50), ("primary", 10), ("secondary", 5))
_LOCAL = ("tertiary", "unclassified", "residential")


@dataclass
class RoadLikeGraph:
    """Edges of a road-like graph as arrays (two-way roads are two directed edges).

    Attributes
    ----------
    x, y : numpy.ndarray
        Node coordinates in metres.
    tails, heads : numpy.ndarray
        Node indices of each directed edge.
    length, travel_time : numpy.ndarray
        Metres and seconds of each edge.
    """

    x: np.ndarray
    y: np.ndarray
    tails: np.ndarray
    heads: np.ndarray
    length: np.ndarray
    travel_time: np.ndarray

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.x)

    def to_networkx(self) -> nx.DiGraph:
        """Return the same graph as a networkx DiGraph (``travel_time`` on each edge)."""
        graph = nx.DiGraph()
        graph.add_nodes_from(range(self.n_nodes))
        graph.add_weighted_edges_from(
            zip(self.tails.tolist(), self.heads.tolist(), self.travel_time.tolist(), strict=True),
            weight="travel_time",
        )
        return graph


def road_like_graph(
    rows: int,
    cols: int,
    spacing_m: float = 500.0,
    gap_share: float = 0.15,
    oneway_share: float = 0.02,
    seed: int = 0,
) -> RoadLikeGraph:
    """Make a perturbed grid with random gaps, road classes and a few one-way streets.

    Parameters
    ----------
    rows, cols : int
        Grid size (``rows * cols`` nodes).
    spacing_m : float
        Mean distance between neighbouring nodes.
    gap_share : float
        Share of local grid links left out (arterials are never cut).
    oneway_share : float
        Share of links that exist in one direction only.
    seed : int
        Random seed.
    """
    rng = np.random.default_rng(seed)
    n = rows * cols
    r, c = np.divmod(np.arange(n), cols)
    x = c * spacing_m + rng.uniform(-0.3, 0.3, n) * spacing_m
    y = r * spacing_m + rng.uniform(-0.3, 0.3, n) * spacing_m
    right = np.flatnonzero(c < cols - 1)
    down = np.flatnonzero(r < rows - 1)
    tails = np.concatenate([right, down])
    heads = np.concatenate([right + 1, down + cols])
    line = np.concatenate([r[right], c[down]])  # row of a horizontal link, column of a vertical one
    speed = np.full(len(tails), 0.0)
    for name in _LOCAL:
        pick = rng.random(len(tails)) < 1 / len(_LOCAL)
        speed[(speed == 0) & pick] = DEFAULT_SPEEDS_KPH[name]
    speed[speed == 0] = DEFAULT_SPEEDS_KPH[_LOCAL[0]]
    arterial = np.zeros(len(tails), dtype=bool)
    for name, stride in reversed(_CLASSES):
        on = line % stride == 0
        speed[on] = DEFAULT_SPEEDS_KPH[name]
        arterial |= on
    keep = arterial | (rng.random(len(tails)) >= gap_share)
    tails, heads, speed = tails[keep], heads[keep], speed[keep]
    length = np.hypot(x[tails] - x[heads], y[tails] - y[heads]) * rng.uniform(1.0, 1.3, len(tails))
    time = units.travel_seconds(length, speed)
    both = rng.random(len(tails)) >= oneway_share
    return RoadLikeGraph(
        x=x,
        y=y,
        tails=np.concatenate([tails, heads[both]]),
        heads=np.concatenate([heads, tails[both]]),
        length=np.concatenate([length, length[both]]),
        travel_time=np.concatenate([time, time[both]]),
    )
