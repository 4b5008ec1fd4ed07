"""Keep the HiGHS solver's own printing off standard output.

HiGHS (through ``scipy.optimize.milp`` and ``linprog``) writes some lines straight to file
descriptor 1 from C++, which ``contextlib.redirect_stdout`` cannot catch; on a capacitated
solve they would break ``--format json``. :func:`quiet_solver` points descriptor 1 at a
temporary file while a solve runs, then logs what was written at DEBUG level.

Descriptor 1 is the process's: while one solve runs, other threads' prints go to the
same file (and are logged). Nested and concurrent uses share one redirection.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager

LOG = logging.getLogger(__name__)
_LOCK = threading.Lock()
_state: dict[str, int] = {"depth": 0, "saved": -1, "file": -1}
_paths: list[str] = []


@contextmanager
def quiet_solver() -> Iterator[None]:
    """Run the body with file descriptor 1 (standard output) sent to a temporary file."""
    _enter()
    try:
        yield
    finally:
        _leave()


def _enter() -> None:
    with _LOCK:
        _state["depth"] += 1
        if _state["depth"] > 1:
            return
        sys.stdout.flush()
        handle, path = tempfile.mkstemp(prefix="highs-")
        _paths[:] = [path]
        _state["saved"], _state["file"] = os.dup(1), handle
        os.dup2(handle, 1)


def _leave() -> None:
    with _LOCK:
        _state["depth"] -= 1
        if _state["depth"] > 0:
            return
        sys.stdout.flush()
        os.dup2(_state["saved"], 1)
        os.close(_state["saved"])
        handle = _state["file"]
        os.lseek(handle, 0, os.SEEK_SET)
        text = os.read(handle, 1 << 16).decode("utf-8", "replace")
        os.close(handle)
        os.unlink(_paths.pop())
        if text.strip():
            LOG.debug("solver output: %s", text.strip())
