"""Steps of a long job: a message to the user as each starts, its time in the debug log."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator

#: Receives one line per step ("reading roads from roads.osm"); the CLI shows it.
Progress = Callable[[str], None]


@contextlib.contextmanager
def step(progress: Progress | None, message: str, logger: logging.Logger) -> Iterator[None]:
    """Report ``message`` to ``progress`` as the block starts; log its time at debug level."""
    if progress is not None:
        progress(message)
    start = time.perf_counter()
    try:
        yield
    finally:
        logger.debug("%s: %.2f s", message, time.perf_counter() - start)
