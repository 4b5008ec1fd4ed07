"""Files kept between runs: where they go, a lock around building them, whole writes.

Derived files (the prepared network, contraction hierarchies) live in ``<bundle>/.cache``.
A bundle folder that cannot be written (a bundled corridor inside an installed wheel, a
read-only share) gets a folder of its own in the user's cache instead
(``$XDG_CACHE_HOME/corridor-planner/bundles/``, else ``~/.cache/corridor-planner/``).
Several processes may start together (a Dask cluster, two terminals): :func:`file_lock`
lets one build while the others wait, and :func:`write_atomically` makes a reader see
either the old file or the whole new one, never half of it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

#: Folder of a bundle that holds derived files; safe to delete.
BUNDLE_CACHE = ".cache"
#: Name of this tool's folder in the user's cache.
APP_NAME = "corridor-planner"
#: Mode of files written to a cache (readable by others, as the bundle itself is).
FILE_MODE = 0o644


def user_cache_dir() -> Path:
    """Return the user's cache folder for this tool: ``$XDG_CACHE_HOME/corridor-planner``.

    Without ``XDG_CACHE_HOME`` (or with it empty), ``~/.cache/corridor-planner``.
    """
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / APP_NAME


def bundle_cache_dir(bundle: Path) -> Path:
    """Folder for files derived from a bundle, created if missing.

    ``<bundle>/.cache`` when it can be written there, else a folder named after the
    bundle and a hash of its absolute path under :func:`user_cache_dir` ``/bundles``.

    Raises
    ------
    OSError
        If neither folder can be created and written.
    """
    own = bundle / BUNDLE_CACHE
    if _writable(own):
        return own
    digest = hashlib.sha256(str(bundle.resolve()).encode()).hexdigest()[:16]
    fallback = user_cache_dir() / "bundles" / f"{bundle.name}-{digest}"
    fallback.mkdir(parents=True, exist_ok=True)
    if not _writable(fallback):
        raise PermissionError(f"cannot write to {own} nor to {fallback}")
    return fallback


def _writable(folder: Path) -> bool:
    """Tell whether ``folder`` exists or can be made, and a file can be created in it."""
    try:
        folder.mkdir(exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError:
        return False
    return True


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) while the block runs.

    The lock is ``fcntl.flock`` on the open file: the system releases it when the
    process ends, however it ends, so a crashed builder never leaves others waiting.
    (On Windows, where there is no ``flock``, the block runs unlocked.)
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        if sys.platform != "win32":
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if sys.platform != "win32":
                import fcntl

                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def write_atomically(path: Path, write: Callable[[BinaryIO], None]) -> Path:
    """Write a file whole or not at all: to a unique temporary file, then rename it.

    Parameters
    ----------
    path : Path
        The file to (re)place.
    write : callable
        Writes the content to the open binary file it is given.

    Returns
    -------
    Path
        ``path``.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path
