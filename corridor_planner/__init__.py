"""corridor-planner: health-service access, siting and referral planning along CAREC corridors.

The names below load on first use (a module ``__getattr__``), so that importing one
subpackage, or starting the command line, does not import the road-graph stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from corridor_planner.bundle.corridor import Corridor, load_corridor
    from corridor_planner.errors import (
        CorridorPlannerError,
        DataError,
        NoRouteError,
        NotFoundError,
    )
    from corridor_planner.network.graph import CorridorNetwork, build_network
    from corridor_planner.routing.engine import TravelTimeEngine
    from corridor_planner.routing.routes import Route, find_route
    from corridor_planner.routing.traveltimes import CorridorTravelTimes

#: Public name -> module that defines it.
_HOMES = {
    "Corridor": "corridor_planner.bundle.corridor",
    "load_corridor": "corridor_planner.bundle.corridor",
    "CorridorPlannerError": "corridor_planner.errors",
    "DataError": "corridor_planner.errors",
    "NoRouteError": "corridor_planner.errors",
    "NotFoundError": "corridor_planner.errors",
    "CorridorNetwork": "corridor_planner.network.graph",
    "build_network": "corridor_planner.network.graph",
    "TravelTimeEngine": "corridor_planner.routing.engine",
    "Route": "corridor_planner.routing.routes",
    "find_route": "corridor_planner.routing.routes",
    "CorridorTravelTimes": "corridor_planner.routing.traveltimes",
}

__all__ = [
    "Corridor",
    "CorridorNetwork",
    "CorridorPlannerError",
    "CorridorTravelTimes",
    "DataError",
    "NoRouteError",
    "NotFoundError",
    "Route",
    "TravelTimeEngine",
    "build_network",
    "find_route",
    "load_corridor",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'corridor_planner' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
