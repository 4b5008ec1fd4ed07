"""One way to turn one unit into another: travel seconds, minutes, metres, km/h.

The engine and the graph keep travel times in seconds (``travel_time``, as osmnx does);
people read minutes. Every conversion goes through these helpers, so the minimum edge time
(``settings.MIN_EDGE_SECONDS``, which keeps an edge from vanishing as a zero) is applied
wherever a time is made from a length and a speed, and nowhere else.
"""

from __future__ import annotations

from typing import overload

import numpy as np

from corridor_planner import settings

SECONDS_PER_MINUTE = 60.0
METRES_PER_KM = 1000.0
#: Metres a second at one km/h.
MPS_PER_KPH = METRES_PER_KM / 3600.0


@overload
def minutes(seconds: float) -> float: ...
@overload
def minutes(seconds: np.ndarray) -> np.ndarray: ...
def minutes(seconds: float | np.ndarray) -> float | np.ndarray:
    """Convert travel seconds (a number or an array; ``inf`` stays ``inf``) to minutes."""
    return seconds / SECONDS_PER_MINUTE


@overload
def seconds(minutes: float) -> float: ...
@overload
def seconds(minutes: np.ndarray) -> np.ndarray: ...
def seconds(minutes: float | np.ndarray) -> float | np.ndarray:
    """Convert minutes (a number or an array) to travel seconds."""
    return minutes * SECONDS_PER_MINUTE


@overload
def travel_seconds(metres: float, speed_kph: float) -> float: ...
@overload
def travel_seconds(metres: np.ndarray, speed_kph: np.ndarray | float) -> np.ndarray: ...
def travel_seconds(metres: float | np.ndarray, speed_kph: float | np.ndarray) -> float | np.ndarray:
    """Seconds to cover ``metres`` at ``speed_kph``, never below ``MIN_EDGE_SECONDS``."""
    raw = np.maximum(
        np.divide(metres, np.multiply(speed_kph, MPS_PER_KPH)), settings.MIN_EDGE_SECONDS
    )
    return raw if isinstance(raw, np.ndarray) and raw.ndim else float(raw)


def speed_kph(km: float, minutes: float) -> float:
    """Average speed of ``km`` driven in ``minutes`` (``inf`` for zero minutes)."""
    return km / (minutes / SECONDS_PER_MINUTE) if minutes > 0 else float("inf")


def km(metres: float) -> float:
    """Convert metres to kilometres."""
    return metres / METRES_PER_KM
