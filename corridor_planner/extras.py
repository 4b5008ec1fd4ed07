"""Optional extras: which feature needs which optional packages, and one check for them.

The core install (``pip install corridor-planner``) validates bundles, routes, measures
access, scores sites, sizes referrals, writes HTML/Markdown reports and maps. The rest
needs an extra of ``pyproject.toml``; :func:`require` says which, in one line.
"""

from __future__ import annotations

import importlib.util

from corridor_planner.errors import CorridorPlannerError

#: Modules each optional extra provides (the extra's packages in ``pyproject.toml``).
EXTRAS: dict[str, tuple[str, ...]] = {
    "import": ("osmium", "rasterio", "openpyxl", "pycountry"),
    "sweep": ("distributed", "dask", "pyarrow"),
    "pdf": ("playwright",),
    "fast": ("numba",),
}


class MissingExtraError(CorridorPlannerError):
    """A feature needs an optional extra that is not installed."""


def missing(extra: str) -> list[str]:
    """Return the modules of ``extra`` that cannot be imported (found without importing them).

    Raises
    ------
    KeyError
        If ``extra`` is not one of :data:`EXTRAS`.
    """
    return [name for name in EXTRAS[extra] if importlib.util.find_spec(name) is None]


def require(extra: str, feature: str) -> None:
    """Fail with one line naming the extra to install when ``feature`` cannot run without it.

    Parameters
    ----------
    extra : str
        Key of :data:`EXTRAS`, e.g. ``pdf``.
    feature : str
        What the user asked for, e.g. ``corridor-planner report --out FILE.pdf``.

    Raises
    ------
    MissingExtraError
        ``"`FEATURE` needs the optional extra `EXTRA`: pip install 'corridor-planner[EXTRA]'"``.
    """
    absent = missing(extra)
    if absent:
        raise MissingExtraError(
            f"`{feature}` needs the optional extra `{extra}`: "
            f"pip install 'corridor-planner[{extra}]' (missing: {', '.join(absent)})"
        )
