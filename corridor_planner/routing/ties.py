"""Nearest source with ties broken as a dense matrix's ``argmin`` breaks them.

A multi-source search finds the time to the nearest source exactly, but when two sources
are equally near (two facilities attached to one road node, say) it names whichever it
settled first. :func:`first_of_equals` names the first of them in the order given, as
``matrix.argmin(axis=1)`` does: ties travel along the edges that are tight in the
search's own times (``time[u] + w == time[v]``), and every edge has a positive weight, so
one pass over the nodes in order of time settles each label.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np
from scipy.sparse import csr_array


def _propagate_labels(order, indptr, indices, weights, times, label):  # type: ignore[no-untyped-def]
    for u in order:
        here = label[u]
        if here < 0:
            continue
        for k in range(indptr[u], indptr[u + 1]):
            v = indices[k]
            if times[u] + weights[k] == times[v] and (label[v] < 0 or here < label[v]):
                label[v] = here
    return label


if importlib.util.find_spec("numba") is not None:  # the ``fast`` extra: compiled
    import numba as nb

    _propagate: Any = nb.njit(cache=True)(_propagate_labels)
else:  # the core install: the same loop in Python (slower on a country-size graph)
    _propagate = _propagate_labels


def first_of_equals(graph: csr_array, sources: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Position in ``sources`` of the first source at ``times[v]`` from each node ``v``.

    Parameters
    ----------
    graph : scipy.sparse.csr_array
        The graph the multi-source search ran on (the reversed graph for travel to the
        sources).
    sources : numpy.ndarray
        Engine indices of the sources, in the order whose first is wanted.
    times : numpy.ndarray
        The search's times from the nearest source, one per node (``inf``: none).

    Returns
    -------
    numpy.ndarray
        One position per node, ``-1`` where no source is reached.
    """
    label = np.full(len(times), -1, dtype=np.int64)
    for position in range(len(sources) - 1, -1, -1):
        label[sources[position]] = position
    finite = np.flatnonzero(np.isfinite(times))
    order = finite[np.argsort(times[finite], kind="stable")]
    return _propagate(  # type: ignore[no-any-return]
        order,
        graph.indptr.astype(np.int64),
        graph.indices.astype(np.int64),
        graph.data.astype(np.float64),
        times,
        label,
    )
