"""Command line of corridor-planner: thin click commands over the library."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any

import click

from corridor_planner import settings
from corridor_planner.corridor import bundled_corridors, load_corridor
from corridor_planner.errors import CorridorPlannerError
from corridor_planner.network import CorridorNetwork, build_network
from corridor_planner.routing import Route, find_route

DEFAULT_CORRIDOR = "almaty_bishkek"
FORMAT_OPTION = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Print a table for people or JSON for programs.",
)


def friendly_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library errors into a message on stderr and exit status 1, no traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except CorridorPlannerError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)

    return wrapper


@click.group()
@click.version_option(package_name="corridor-planner")
def main() -> None:
    """Plan health services along cross-border corridors: access, sites, referrals."""


@main.command()
@FORMAT_OPTION
@friendly_errors
def corridors(fmt: str) -> None:
    """List the bundled corridors."""
    rows = []
    for path in bundled_corridors():
        corridor = load_corridor(path)
        rows.append(
            {"id": corridor.id, "name": corridor.name, "countries": list(corridor.countries)}
        )
    if fmt == "json":
        click.echo(json.dumps({"corridors": rows}, ensure_ascii=False, indent=2))
        return
    _table(
        [(r["id"], r["name"], "/".join(r["countries"])) for r in rows], ("id", "name", "countries")
    )


@main.command()
@click.argument("corridor")
@FORMAT_OPTION
@friendly_errors
def validate(corridor: str, fmt: str) -> None:
    """Check a corridor bundle and its road graph; list every problem.

    CORRIDOR is a bundled id (e.g. almaty_bishkek) or the path of a bundle folder.
    """
    network = build_network(load_corridor(corridor))
    summary = _validation_summary(network)
    unsnapped = summary["not_snapped"]
    if fmt == "json":
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        _print_summary(summary)
    if unsnapped:
        sys.exit(2)


def _validation_summary(network: CorridorNetwork) -> dict[str, Any]:
    corridor = network.corridor
    snaps = network.snaps
    assert snaps is not None
    far = snaps[~snaps["snapped"]]
    return {
        "corridor": corridor.id,
        "name": corridor.name,
        "valid": far.empty,
        "counts": {
            "facilities": len(corridor.facilities),
            "border_posts": len(corridor.posts),
            "settlements": len(corridor.population),
            "population": int(corridor.population["population"].sum()),
            "candidates": len(corridor.candidates),
            "scenarios": sorted(corridor.scenarios),
        },
        "graph": network.summary(),
        "not_snapped": [
            {
                "kind": row.kind,
                "id": row.id,
                "name": row.name,
                "distance_km": round(row.access_m / 1000, 1),
            }
            for row in far.itertuples()
        ],
        "snap_limit_km": corridor.snap_limit_m / 1000,
    }


def _print_summary(summary: dict[str, Any]) -> None:
    counts, graph = summary["counts"], summary["graph"]
    click.echo(f"{summary['name']} ({summary['corridor']})")
    click.echo(
        f"  {counts['facilities']} facilities, {counts['border_posts']} border posts, "
        f"{counts['settlements']} settlements ({counts['population']:,} people), "
        f"{counts['candidates']} candidate sites"
    )
    click.echo(f"  scenarios: {', '.join(counts['scenarios'])}")
    click.echo(
        f"  road graph: {graph['nodes']} nodes, {graph['road_edges']} road edges, "
        f"{graph['road_km']} km of road, {graph['border_posts']} border posts as edges"
    )
    for kind, numbers in graph["snapped"].items():
        click.echo(f"  {kind}: {numbers['snapped']} of {numbers['total']} attached to the network")
    for row in summary["not_snapped"]:
        click.echo(
            f"  NOT attached: {row['kind']} {row['id']} ({row['name']}) is {row['distance_km']} km "
            f"from the nearest road of its country (limit {summary['snap_limit_km']:g} km)"
        )
    click.echo("  valid" if summary["valid"] else "  problems found")


@main.command()
@click.argument("corridor")
@click.option(
    "--from", "origin", required=True, help="Settlement or facility name, id, or 'lat,lon'."
)
@click.option(
    "--to", "destination", required=True, help="Settlement or facility name, id, or 'lat,lon'."
)
@click.option(
    "--profile",
    type=click.Choice(sorted(settings.PROFILES)),
    default=settings.DEFAULT_PROFILE,
    show_default=True,
    help="Who travels: decides which border posts may be crossed and their delays.",
)
@click.option(
    "--scenario", default="baseline", show_default=True, help="Scenario name (scenarios/*.toml)."
)
@FORMAT_OPTION
@friendly_errors
def route(
    corridor: str, origin: str, destination: str, profile: str, scenario: str, fmt: str
) -> None:
    """Fastest route between two places, with the border posts crossed and the legs."""
    loaded = load_corridor(corridor)
    network = build_network(loaded)
    result = find_route(
        network, origin, destination, profile=profile, scenario=loaded.scenario(scenario)
    )
    _print_route(result, fmt)


def _print_route(result: Route, fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    posts = ", ".join(result.border_posts) or "none"
    click.echo(
        f"{result.origin} -> {result.destination} ({result.profile}, scenario {result.scenario}): "
        f"{result.minutes:.0f} min, {result.km:.1f} km; border posts: {posts}"
    )
    _table(
        [
            (leg.kind, leg.ref, leg.name, f"{leg.km:.1f}", f"{leg.minutes:.1f}")
            for leg in result.legs
        ],
        ("leg", "ref", "name", "km", "min"),
    )


@main.command()
@click.option("--corridor", "corridor", default=DEFAULT_CORRIDOR, show_default=True)
@friendly_errors
def demo(corridor: str) -> None:
    """Run the main job on the default corridor: validate, build, route Almaty -> Bishkek."""
    loaded = load_corridor(corridor)
    network = build_network(loaded)
    _print_summary(_validation_summary(network))
    click.echo("")
    _print_route(find_route(network, "Almaty", "Bishkek"), "table")


def _table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=False)]
    for line in (header, *rows):
        click.echo("  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=False)).rstrip())


if __name__ == "__main__":
    main()
