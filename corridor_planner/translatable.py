"""Mark a message for translation where it is written, at any layer of the package.

The marker lives at the root so that data modules (settings, cover rules, facilities) can
mark their labels without importing the report's languages (``render.i18n``).
"""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802 (the gettext convention for "mark only")
    """Mark a message for the catalogue without translating it where it is written."""
    return message
