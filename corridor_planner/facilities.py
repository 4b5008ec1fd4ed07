"""Facilities and candidate sites as records: services, capacity, beds, who they accept."""

from __future__ import annotations

import numpy as np
import pandas as pd


def offers(table: pd.DataFrame, service: str) -> np.ndarray:
    """Boolean mask of the rows (facilities or candidates) that offer ``service``.

    Works on an empty table too (a bundle may have no candidates), where a pandas
    ``apply`` would return a frame and select columns instead of rows.
    """
    return np.array(
        [isinstance(s, list | tuple) and service in s for s in table["services"]], dtype=bool
    )
