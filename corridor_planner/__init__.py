"""corridor-planner: health-service access, siting and referral planning along CAREC corridors."""

from corridor_planner.bundle.corridor import Corridor, load_corridor
from corridor_planner.errors import CorridorPlannerError, DataError, NoRouteError, NotFoundError
from corridor_planner.network.graph import CorridorNetwork, build_network
from corridor_planner.routing.engine import TravelTimeEngine
from corridor_planner.routing.routes import Route, find_route
from corridor_planner.routing.traveltimes import CorridorTravelTimes

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
