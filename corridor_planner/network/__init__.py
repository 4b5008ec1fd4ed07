"""The road graph of a corridor: roads, border posts as policy edges, snapping, named places."""
