"""Travel times: the engine (Dijkstra, contraction hierarchy), per scenario and profile, routes."""
