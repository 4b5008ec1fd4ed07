"""Command line of corridor-planner: thin click commands over the library."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from functools import wraps
from pathlib import Path
from typing import Any

import click
import pandas as pd
from branca.element import Element

from corridor_planner import settings
from corridor_planner.analysis import access, continuity, programme, referral, scoring, sweep
from corridor_planner.analysis.coverage import standards_for
from corridor_planner.bundle.corridor import bundled_corridors, load_corridor
from corridor_planner.bundle.cover_rules import Patient
from corridor_planner.errors import CorridorPlannerError, InvalidArgumentError, NotFoundError
from corridor_planner.importer import ImportOptions, import_bundle
from corridor_planner.network.graph import build_network, validation_summary
from corridor_planner.network.places import demo_places
from corridor_planner.outputs import write_bytes, write_table, write_text
from corridor_planner.render import maps, pdf, report, sweep_report
from corridor_planner.render.i18n import LANGUAGES
from corridor_planner.routing.routes import Route, find_route
from corridor_planner.routing.traveltimes import CorridorTravelTimes

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
        except BrokenPipeError:
            # the reader (e.g. `head`) closed the pipe: stop quietly, as Unix tools do
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - swallow the final flush
            sys.exit(141)
        except Exception as exc:
            if os.environ.get("CORRIDOR_PLANNER_DEBUG"):
                raise
            click.echo(
                f"error: unexpected {type(exc).__name__}: {exc} (a bug: please report it; "
                "set CORRIDOR_PLANNER_DEBUG=1 to see the traceback)",
                err=True,
            )
            sys.exit(3)

    return wrapper


@click.group()
@click.version_option(package_name="corridor-planner")
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Say on stderr what the engine does (e.g. which backend answered each matrix).",
)
def main(verbose: bool) -> None:
    """Plan health services along cross-border corridors: access, sites, referrals."""
    if verbose:
        _log_to_stderr()


def _log_to_stderr() -> None:
    """Send the package's INFO messages to (the current) stderr, once."""
    logger = logging.getLogger("corridor_planner")
    for handler in [h for h in logger.handlers if getattr(h, "corridor_planner_cli", False)]:
        logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    handler.corridor_planner_cli = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


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
    summary = validation_summary(network)
    unsnapped = summary["not_snapped"]
    if fmt == "json":
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        _print_summary(summary)
    if unsnapped:
        sys.exit(2)


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
    for note in summary["notes"]:
        click.echo(f"  note: {note}")
    click.echo("  valid" if summary["valid"] else "  problems found")


class Duration(click.ParamType):
    """A duration such as ``2h``, ``90min``, ``1h30``, ``45m`` or ``30`` (minutes)."""

    name = "duration"
    _pattern = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)\s*h)?\s*(?:(\d+(?:\.\d+)?)\s*(?:m|min)?)?\s*$")

    def convert(self, value: Any, param: Any, ctx: Any) -> float:
        """Return the duration in minutes."""
        if isinstance(value, int | float):
            return float(value)
        match = self._pattern.match(str(value).lower())
        if not match or not any(match.groups()):
            self.fail(f"{value!r} is not a duration such as 2h, 90min or 1h30", param, ctx)
        hours, minutes = (float(g) if g else 0.0 for g in match.groups())
        total = hours * 60 + minutes
        complaint = settings.RANGES["threshold_minutes"].problem(total)
        if complaint:
            self.fail(f"{value!r}: {complaint}", param, ctx)
        return total


class DateTime(click.ParamType):
    """An ISO date-time such as ``2027-01-13T08:00``."""

    name = "iso-datetime"

    def convert(self, value: Any, param: Any, ctx: Any) -> dt.datetime:
        """Return the parsed date-time."""
        if isinstance(value, dt.datetime):
            return value
        try:
            return dt.datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not an ISO date-time such as 2027-01-13T08:00", param, ctx)


class Plausible(click.ParamType):
    """A number within the plausible range of its kind (``settings.RANGES``): finite."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.name = settings.RANGES[kind].unit

    def convert(self, value: Any, param: Any, ctx: Any) -> float:
        """Return the number, or fail with its range."""
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        complaint = settings.RANGES[self.kind].problem(number)
        if complaint:
            self.fail(complaint, param, ctx)
        return number


def out_option(help_text: str) -> Callable[[Any], Any]:
    """Make the ``--out FILE`` option; each command decides the formats it writes."""
    return click.option(
        "--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help=help_text
    )


PROFILE_OPTION = click.option(
    "--profile",
    type=click.Choice(sorted(settings.PROFILES)),
    default=settings.DEFAULT_PROFILE,
    show_default=True,
    help="Who travels: decides which border posts may be crossed and their delays.",
)
SCENARIO_OPTION = click.option(
    "--scenario", default="baseline", show_default=True, help="Scenario name (scenarios/*.toml)."
)
DEPART_OPTION = click.option(
    "--depart",
    type=DateTime(),
    default=None,
    help="Departure date-time (local); closed posts make travellers wait. "
    "Default: the scenario's, else posts count as open.",
)


@contextmanager
def steps(label: str, count: int) -> Iterator[Callable[[], None]]:
    """Show a progress bar on a terminal (stderr), nothing otherwise; yield 'advance one step'."""
    if not sys.stderr.isatty():
        yield lambda: None
        return
    with click.progressbar(length=count, label=label, file=sys.stderr) as bar:
        yield lambda: bar.update(1)


@main.command()
@click.argument("corridor")
@click.option(
    "--from", "origin", required=True, help="Settlement or facility name, id, or 'lat,lon'."
)
@click.option(
    "--to", "destination", required=True, help="Settlement or facility name, id, or 'lat,lon'."
)
@PROFILE_OPTION
@SCENARIO_OPTION
@DEPART_OPTION
@FORMAT_OPTION
@friendly_errors
def route(
    corridor: str,
    origin: str,
    destination: str,
    profile: str,
    scenario: str,
    depart: dt.datetime | None,
    fmt: str,
) -> None:
    """Fastest route between two places, with the border posts crossed, waits and legs."""
    loaded = load_corridor(corridor)
    network = build_network(loaded)
    result = find_route(
        network,
        origin,
        destination,
        profile=profile,
        scenario=loaded.scenario(scenario),
        depart=depart,
    )
    _print_route(result, fmt)


def _print_route(result: Route, fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    posts = ", ".join(result.border_posts) or "none"
    when = f", departing {result.depart}" if result.depart else ""
    click.echo(
        f"{result.origin} -> {result.destination} ({result.profile}, scenario {result.scenario}"
        f"{when}): {result.minutes:.0f} min, {result.km:.1f} km; border posts: {posts}"
    )
    for wait in result.waits:
        if wait["wait_minutes"] > 0:
            click.echo(
                f"  waits {wait['wait_minutes']:.0f} min at {wait['border_post']} "
                f"(arrives {wait['arrive']}, post closed)"
            )
    _table(
        [
            (leg.kind, leg.ref, leg.name, f"{leg.km:.1f}", f"{leg.minutes:.1f}")
            for leg in result.legs
        ],
        ("leg", "ref", "name", "km", "min"),
    )


@main.command(name="access")
@click.argument("corridor")
@click.option("--service", required=True, help="Service to reach, e.g. emergency or surgery.")
@click.option(
    "--threshold",
    "thresholds",
    type=Duration(),
    multiple=True,
    help="Access threshold (repeatable): 30min, 1h, 2h... Default: the corridor's.",
)
@PROFILE_OPTION
@SCENARIO_OPTION
@DEPART_OPTION
@click.option(
    "--compare",
    default=None,
    help="Also compute this scenario (e.g. borders_closed) and report who gains with --scenario.",
)
@click.option(
    "--catchment",
    type=Duration(),
    default=60.0,
    show_default=True,
    help="E2SFCA catchment (minutes or 1h...).",
)
@out_option("Write per-settlement results: .csv, .geojson or .gpkg.")
@FORMAT_OPTION
@friendly_errors
def access_command(
    corridor: str,
    service: str,
    thresholds: tuple[float, ...],
    profile: str,
    scenario: str,
    depart: dt.datetime | None,
    compare: str | None,
    catchment: float,
    out: Path | None,
    fmt: str,
) -> None:
    """Who reaches SERVICE in time: coverage by country and group, E2SFCA, cooperation gain."""
    with steps("access", 4) as advance:
        loaded = load_corridor(corridor)
        network = build_network(loaded)
        advance()
        result = access.access_report(
            CorridorTravelTimes(network, profile, loaded.scenario(scenario), depart=depart),
            service,
            thresholds or loaded.thresholds_min,
            compare=CorridorTravelTimes(network, profile, loaded.scenario(compare), depart=depart)
            if compare
            else None,
            catchment_min=catchment,
            progress=advance,
        )
    if out is not None:
        write_table(result.settlements, out)
    if fmt == "json":
        _print_json({"corridor": loaded.id, **result.to_dict()})
        return
    _print_access(loaded.id, result)
    if out is not None:
        click.echo(f"wrote {out}")


def _print_left_out(left_out: dict[str, Any]) -> None:
    """Say which settlements (and how many people) no figure above includes, and why."""
    if not left_out.get("points"):
        return
    names = ", ".join(left_out["names"][:8]) + (" ..." if len(left_out["names"]) > 8 else "")
    click.echo(
        f"Left out of every figure: {left_out['points']} settlement(s), "
        f"{left_out['population']:,} people ({names}): {left_out['reason']}."
    )


def _print_access(corridor_id: str, result: access.AccessReport) -> None:
    when = f", departing {result.depart.isoformat()}" if result.depart else ""
    click.echo(
        f"Access to {result.service} in {corridor_id} "
        f"({result.profile}, scenario {result.scenario}{when})"
    )
    table = result.coverage
    _table(
        [
            (
                f"{r.threshold_minutes:g}",
                r.country,
                r.group,
                f"{r.population:,}",
                f"{r.covered:,}",
                "-" if pd.isna(r.share) else f"{r.share:.1%}",
            )
            for r in table.itertuples()
            if r.population > 0
        ],
        ("within min", "country", "group", "population", "covered", "share"),
    )
    empty = sorted(set(table.loc[table["population"] == 0, "group"]))
    if empty:
        click.echo(f"(no population known for: {', '.join(empty)}; see the bundle's SOURCES.md)")
    for standard in standards_for(result.service, table["threshold_minutes"]):
        click.echo(f"{standard}.")
    click.echo("Farthest settlements:")
    for row in result.settlements.sort_values("minutes", ascending=False).head(5).itertuples():
        across = " (across the border)" if row.crosses_border else ""
        target = row.facility_name if isinstance(row.facility_name, str) else "none reachable"
        click.echo(f"  {row.name} ({row.country}): {row.minutes:.0f} min to {target}{across}")
    click.echo(f"E2SFCA supply measured in: {result.supply_basis}")
    _print_left_out(result.left_out)
    if result.gain is None:
        return
    click.echo(f"Gain of {result.scenario} over {result.compare} (people newly covered):")
    rows = result.gain[result.gain["gain"] != 0]
    if rows.empty:
        click.echo("  none at these thresholds")
        return
    _table(
        [
            (f"{r.threshold_minutes:g}", r.country, r.group, f"{r.gain:,}")
            for r in rows.itertuples()
        ],
        ("within min", "country", "group", "gain"),
    )


class GroupWeight(click.ParamType):
    """``GROUP=MULTIPLIER``, e.g. ``border_community=2``."""

    name = "group=multiplier"

    def convert(self, value: Any, param: Any, ctx: Any) -> tuple[str, float]:
        """Return ``(group, multiplier)``."""
        if isinstance(value, tuple):
            return value
        group, _, number = str(value).partition("=")
        try:
            multiplier = float(number)
        except ValueError:
            multiplier = -1.0
        if group not in settings.WEIGHT_GROUPS or multiplier < 0:
            self.fail(
                f"{value!r} is not GROUP=MULTIPLIER with GROUP one of "
                f"{', '.join(settings.WEIGHT_GROUPS)} and MULTIPLIER >= 0",
                param,
                ctx,
            )
        return group, multiplier


@main.command(name="score-sites")
@click.argument("corridor")
@click.option("--service", required=True, help="Service the new sites would offer.")
@click.option("--threshold", type=Duration(), required=True, help="Access threshold: 2h, 90min...")
@click.option(
    "-k",
    "k",
    type=click.IntRange(min=1),
    default=None,
    help="Sites to choose (default 3; with --budget, at most this many, default all).",
)
@click.option(
    "--method",
    type=click.Choice(scoring.METHODS),
    default="mclp",
    show_default=True,
    help="gain: each site alone; mclp: exact max coverage; greedy; pmedian: least "
    "weighted travel time; capacitated: mclp within each site's capacity.",
)
@PROFILE_OPTION
@SCENARIO_OPTION
@DEPART_OPTION
@click.option(
    "--weight-group",
    "weight_groups",
    type=GroupWeight(),
    multiple=True,
    help="Count a group more: border_community=2, migrants=1.5 (repeatable).",
)
@click.option(
    "--site-capacity",
    type=Plausible("population"),
    default=None,
    help="People a site can serve, for candidates without a capacity (capacitated only).",
)
@click.option(
    "--budget",
    type=Plausible("cost"),
    default=None,
    help="Choose the best sites whose candidates' cost fits this budget (exact MCLP).",
)
@out_option("Write the ranked sites: .csv, .geojson or .gpkg.")
@FORMAT_OPTION
@friendly_errors
def score_sites_command(
    corridor: str,
    service: str,
    threshold: float,
    k: int | None,
    method: str,
    profile: str,
    scenario: str,
    depart: dt.datetime | None,
    weight_groups: tuple[tuple[str, float], ...],
    site_capacity: float | None,
    budget: float | None,
    out: Path | None,
    fmt: str,
) -> None:
    """Rank candidate sites for a new SERVICE centre (existing facilities stay).

    With --budget, choose the best set whose candidates' costs fit the budget (exact).
    """
    if budget is not None:
        method, k = "budget", k or 10_000
    k = k or 3
    with steps("score-sites", 2) as advance:
        loaded = load_corridor(corridor)
        network = build_network(loaded)
        advance()
        scores = scoring.score_sites(
            CorridorTravelTimes(network, profile, loaded.scenario(scenario), depart=depart),
            service,
            threshold,
            k,
            method=method,
            group_weights=dict(weight_groups),
            site_capacity=site_capacity,
            budget=budget,
        )
        advance()
    if out is not None:
        write_table(scores.sites, out)
    if fmt == "json":
        _print_json({"corridor": loaded.id, **scores.to_dict()})
        return
    _print_scores(loaded.id, scores)
    if out is not None:
        click.echo(f"wrote {out}")


def _print_scores(corridor_id: str, scores: scoring.SiteScores) -> None:
    when = f", departing {scores.depart.isoformat()}" if scores.depart else ""
    click.echo(
        f"{scores.result.method}: new {scores.service} sites in {corridor_id} within "
        f"{scores.threshold_min:g} min ({scores.profile}, scenario {scores.scenario}{when})"
    )
    click.echo(
        f"Existing facilities cover {scores.already_covered:,.0f} of "
        f"{scores.population:,.0f} people."
    )
    if scores.method != "budget" and scores.requested_k > len(scores.sites):
        click.echo(
            f"Asked for {scores.requested_k} sites; only {len(scores.sites)} candidate(s) offer "
            f"{scores.service} and are on the network, so all of them are ranked."
        )
    _print_left_out(scores.left_out)
    capacitated = "served" in scores.sites.columns
    header = ["rank", "site", "country", "newly covered", "of them border", "total covered"]
    if capacitated:
        header += ["capacity", "served"]
    rows = []
    for r in scores.sites.itertuples():
        row = [
            str(r.rank),
            f"{r.name} ({r.id})",
            r.country,
            f"{r.newly_covered:,}",
            f"{r.newly_covered_border_community:,}",
            f"{r.total_covered:,}",
        ]
        if capacitated:
            row += [f"{r.capacity:,.0f}", f"{r.served:,.0f}"]
        rows.append(row)
    _table(rows, header)
    extra = scores.result.extra
    if "gap" in extra:
        click.echo(f"greedy gap to the LP upper bound: {extra['gap']:.1%} ({extra['guarantee']})")
    if "mean_time" in extra:
        click.echo(f"mean travel time to the nearest facility: {extra['mean_time']:.1f} min")
    if "spent" in extra:
        spent = ", ".join(
            f"{r.name}: {r.cost:,.0f} ({r.covered_per_cost:,.2f} people per unit)"
            for r in scores.sites.itertuples()
        )
        click.echo(f"spent {extra['spent']:,.0f} of a budget of {extra['budget']:,.0f}: {spent}")
    if "within_reach_over_capacity" in extra:
        click.echo(
            f"within reach of a chosen site but over its capacity: "
            f"{extra['within_reach_over_capacity']:,.0f} (weighted people)"
        )


@main.command(name="referrals")
@click.argument("corridor")
@click.option(
    "--specialty", required=True, help="Service referred for: cardiology, oncology, tb_mdr..."
)
@click.option(
    "--from", "origin", default=None, help="One settlement or facility (default: all settlements)."
)
@PROFILE_OPTION
@click.option(
    "--nationality",
    default=None,
    help="Country whose cover the patient holds (default: the origin's; for eaeu_worker, the "
    "corridor's other country).",
)
@SCENARIO_OPTION
@DEPART_OPTION
@click.option(
    "--rate",
    type=Plausible("referral_rate"),
    default=None,
    help="Referrals per 100,000 people per year (default: the scenario's or corridor's).",
)
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Destinations per origin.",
)
@out_option("Write the pathways: .csv, .geojson (route lines) or .gpkg.")
@FORMAT_OPTION
@friendly_errors
def referrals_command(
    corridor: str,
    specialty: str,
    origin: str | None,
    profile: str,
    nationality: str | None,
    scenario: str,
    depart: dt.datetime | None,
    rate: float | None,
    top: int,
    out: Path | None,
    fmt: str,
) -> None:
    """Referral pathways for SPECIALTY: where patients go, how long, which posts, capacity."""
    with steps("referrals", 2) as advance:
        loaded = load_corridor(corridor)
        network = build_network(loaded)
        advance()
        analysis = referral.analyse_referrals(
            CorridorTravelTimes(network, profile, loaded.scenario(scenario), depart=depart),
            specialty,
            Patient(profile, nationality),
            origin=origin,
            rate_per_100k=rate,
            top=top,
        )
        advance()
    if out is not None:
        write_table(referral.pathway_table(analysis.pathways), out)
    if fmt == "json":
        _print_json({"corridor": loaded.id, **analysis.to_dict()})
        return
    _print_referrals(loaded.id, analysis)
    if out is not None:
        click.echo(f"wrote {out}")


def _print_referrals(corridor_id: str, analysis: referral.ReferralAnalysis) -> None:
    patient = analysis.patient
    when = f", departing {analysis.depart.isoformat()}" if analysis.depart else ""
    click.echo(
        f"Referrals for {analysis.specialty} in {corridor_id}: {patient.profile} patients, "
        f"scenario {analysis.scenario}{when}"
    )
    click.echo(f"Cover: {analysis.cover_rule}")
    click.echo(f"Cover rules in force: {'; '.join(analysis.rules_in_force) or 'none'}")
    rows = []
    for p in analysis.pathways:
        waits = sum(w["wait_minutes"] for w in p.waits)
        posts = ", ".join(p.border_posts) or "-"
        if waits:
            posts += f" (waits {waits:.0f} min)"
        rows.append(
            (
                p.origin,
                str(p.rank),
                p.destination,
                f"{p.minutes:.0f}",
                f"{p.km:.0f}",
                posts,
                f"{p.cover_group} ({p.cover_rule})",
            )
        )
    _table(rows, ("origin", "#", "destination", "min", "km", "border posts", "cover"))
    for r in analysis.refusals:
        click.echo(f"  {r.origin}: no pathway: {r.reason}")
    _print_costs(analysis.costs)
    _print_left_out(analysis.left_out)
    click.echo(
        f"People concerned: {analysis.people:,} {analysis.patient.profile} "
        f"({analysis.people_basis})"
    )
    if not analysis.sized:
        click.echo(
            f"No referral rate for {analysis.specialty} in the bundle or scenario: "
            "pass --rate (per 100,000 people per year) to size flows against capacity."
        )
        return
    click.echo(
        f"Expected referrals: {analysis.demand:,.1f} a year at {analysis.rate_text} "
        f"({analysis.rate_basis}); assigned {analysis.assigned:,.1f}, "
        f"unserved {analysis.unserved:,.1f}; capacity adds {analysis.extra_minutes:,.0f} "
        "patient-minutes."
    )
    _table(
        [
            (
                c["facility"],
                c["country"],
                "unknown" if c["capacity"] is None else f"{c['capacity']:,.0f}",
                f"{c['assigned']:,.1f}",
                c["capacity_basis"],
            )
            for c in analysis.capacity
        ],
        ("receiver", "country", "capacity", "assigned", "capacity from"),
    )


def _print_costs(costs: Sequence[Any]) -> None:
    """Who pays: the patient's charge for care, the return fare, and who pays the rest."""
    if not costs or all(c.care is None and c.travel is None for c in costs):
        return
    click.echo("Who pays (the bundle's costs.toml; amounts in their own currency):")

    def money(amount: float | None, currency: str) -> str:
        if amount is None:
            return "not sourced"
        return f"{amount:,.0f} {currency}".strip() + (" (free)" if not currency else "")

    _table(
        [
            (
                c.origin,
                c.destination,
                money(c.care, c.care_currency),
                c.rest_paid_by,
                money(c.travel, c.travel_currency),
            )
            for c in costs
        ],
        ("origin", "destination", "patient pays for care", "the rest paid by", "return fare"),
    )


@main.command(name="tb-continuity")
@click.argument("corridor")
@click.option("--nationality", required=True, help="The migrants' country (ISO code), e.g. KG.")
@click.option("--home", required=True, help="Their home settlement (name, id or lat,lon).")
@click.option(
    "--specialty",
    type=click.Choice(["tb", "tb_mdr"]),
    default="tb",
    show_default=True,
    help="TB or MDR-TB.",
)
@click.option(
    "--profile",
    type=click.Choice(sorted(settings.PROFILES)),
    default=None,
    help="Their traveller profile at border posts (default: eaeu_worker for a national of "
    "an EAEU member, third_country otherwise).",
)
@SCENARIO_OPTION
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@friendly_errors
def tb_continuity_command(
    corridor: str,
    nationality: str,
    home: str,
    specialty: str,
    profile: str | None,
    scenario: str,
    fmt: str,
) -> None:
    """TB continuity for migrants: where treatment starts, the way home, follow-up at home.

    NATIONALITY may be a corridor country or a country of origin of the bundle's
    origins.toml (Tajikistan for almaty_bishkek); the way home is then the corridor route
    to its edge and the sourced legs beyond it, listed with their sources.
    """
    nationality = nationality.upper()
    profile = profile or continuity.migrant_profile(nationality)
    loaded = load_corridor(corridor)
    network = build_network(loaded)
    times = CorridorTravelTimes(network, profile, loaded.scenario(scenario))
    rows = continuity.continuity_pathways(
        times, nationality, home, specialty=specialty, profile=profile
    )
    if fmt == "json":
        click.echo(json.dumps([r.to_dict() for r in rows], indent=2, ensure_ascii=False))
        return
    click.echo(
        f"TB continuity ({specialty}) for {nationality} migrants ({profile}) in "
        f"{loaded.id}, home {home}, scenario {scenario}:"
    )
    click.echo(
        f"How many {nationality} migrants live in each host is not in the bundle (settlements "
        "record no migrant stock by nationality); the rows are per host settlement."
    )

    def minutes(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f}"

    _table(
        [
            (
                r.host,
                r.start_site or "none",
                minutes(r.start_minutes),
                ", ".join(r.border_posts) or "-",
                minutes(r.home_minutes),
                r.follow_up_site or "none",
            )
            for r in rows
        ],
        ("host", "treatment starts at", "min", "way home via", "min home", "follow-up at home"),
    )
    for r in rows:
        for line in (*r.gaps, *r.notes):
            click.echo(f"  {r.host}: {line}")
    _echo_beyond_corridor(rows)


def _echo_beyond_corridor(rows: list[continuity.ContinuityPathway]) -> None:
    """List the legs beyond the corridor once for each distinct way home."""
    ways = list(dict.fromkeys(tuple(map(continuity.describe_leg, r.beyond_corridor)) for r in rows))
    ways = [way for way in ways if way]
    if ways:
        click.echo(
            "Beyond the corridor (sourced leg times, not the road graph; posts there have "
            "no opening-hours clock):"
        )
    for number, way in enumerate(ways, start=1):
        if len(ways) > 1:
            click.echo(f"  way {number}:")
        for leg in way:
            click.echo(f"    {leg}")


@main.command(name="programme")
@click.argument("name")
@click.option(
    "--centres",
    type=click.IntRange(min=1, max=100),
    default=None,
    help="Centres to place (default: the programme file's).",
)
@FORMAT_OPTION
@friendly_errors
def programme_command(name: str, centres: int | None, fmt: str) -> None:
    """Plan a programme of centres across corridors: sites, their order, ambulance bases.

    NAME is a programme file in data/programmes/ (cpec_emergency_care) or a path to one.
    The sites are the tool's answer from need (exact MCLP per corridor, split between
    corridors exactly), phased by the people each newly covers; ambulance bases cover
    the most main road within the programme's response time.
    """
    spec = programme.load_programme(name)
    if centres is not None:
        spec = replace(spec, centres=centres)
    try:
        networks = [build_network(load_corridor(c)) for c in spec.corridors]
    except NotFoundError as exc:
        raise NotFoundError(f"programme {spec.id}: corridors: {exc}") from exc
    programme.check_corridors(spec, networks)
    plan = programme.plan_programme(spec, networks)
    if fmt == "json":
        click.echo(json.dumps(plan.to_dict(), indent=2, ensure_ascii=False, default=str))
        return
    click.echo(
        f"{spec.name}: {len(plan.centres)} {spec.service} centres across "
        f"{', '.join(spec.corridors)}, {spec.threshold_min:g} min threshold, scenario "
        f"{spec.scenario}"
    )
    _table(
        [
            (
                c.phase,
                c.site,
                c.corridor,
                f"{c.newly_covered:,.0f}",
                f"{c.covered_after:,.0f}",
                ", ".join(c.ambulance_bases) or "-",
            )
            for c in plan.centres
        ],
        ("phase", "site", "corridor", "newly covered", "covered after", "bases bringing patients"),
    )
    for row in plan.per_corridor:
        click.echo(
            f"{row['corridor']}: {row['centres']} of {row['candidates']} candidate sites; "
            f"{row['covered_before']:,.0f} -> {row['covered_after']:,.0f} of "
            f"{row['population']:,.0f} people within {spec.threshold_min:g} min"
        )
    click.echo(
        f"People within {spec.threshold_min:g} min: {plan.covered_before:,.0f} today, "
        f"{plan.covered_after:,.0f} after, of {plan.population:,.0f}."
    )
    click.echo(
        f"Ambulance bases ({spec.ambulance_min:g} min response, main roads): "
        f"{plan.road_km_covered:,.0f} of {plan.road_km:,.0f} km covered."
    )
    _table(
        [
            (
                b.place,
                b.corridor,
                f"{b.road_km_newly_covered:,.1f}",
                b.brings_patients_to or "none reachable",
                "-" if b.minutes_to_destination is None else f"{b.minutes_to_destination:.0f}",
            )
            for b in plan.bases
        ],
        ("base", "corridor", "road km newly covered", "brings patients to", "min"),
    )
    for row in plan.per_corridor:
        if row["left_out"]["points"]:
            click.echo(
                f"{row['corridor']}: {row['left_out']['points']} settlements "
                f"({row['left_out']['population']:,} people) left out: {row['left_out']['reason']}"
            )
    for note in plan.notes:
        click.echo(f"Note: {note}")


@main.command(name="report")
@click.argument("corridor")
@click.option(
    "--scenario",
    "scenario_names",
    multiple=True,
    help="Scenarios to compare (repeatable; the first is the reference). "
    "Default: baseline, borders_closed and agreement where the bundle has them.",
)
@click.option(
    "--specialty",
    "specialties",
    multiple=True,
    help="Specialties for the referral sections (repeatable). Default: those offered.",
)
@PROFILE_OPTION
@click.option(
    "--sweep",
    "sweep_table",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Draw the comparison charts of a sweep's table (corridor-planner sweep --out) instead.",
)
@click.option(
    "--lang",
    type=click.Choice(sorted(LANGUAGES)),
    default="en",
    show_default=True,
    help="Language of the HTML or PDF report (numbers and dates follow it).",
)
@out_option("Output file, .html, .pdf or .md (default: reports/CORRIDOR.html).")
@friendly_errors
def report_command(
    corridor: str,
    scenario_names: tuple[str, ...],
    specialties: tuple[str, ...],
    profile: str,
    sweep_table: Path | None,
    lang: str,
    out: Path | None,
) -> None:
    """Write the ministry report: a summary page per country, charts, tables, sources.

    A .pdf is printed by headless Chromium (A4, page numbers).
    """
    if sweep_table is not None:
        path = out or Path("reports") / f"{Path(corridor).name}_sweep.html"
        write_text(sweep_report.render(sweep_report.read(sweep_table)), path)
        click.echo(f"wrote {path}")
        return
    loaded = load_corridor(corridor)
    path = out or Path("reports") / f"{loaded.id}{'' if lang == 'en' else '_' + lang}.html"
    kind = path.suffix.lower()
    if kind not in (".html", ".pdf", ".md"):
        raise CorridorPlannerError(f"cannot write {path}: the report is .html, .pdf or .md")
    if kind == ".md" and lang != "en":
        raise InvalidArgumentError("the Markdown report is in English; use .html or .pdf")
    if kind == ".pdf":
        pdf.find_chromium()  # fail before the work, not after
        pdf.check_fonts(lang)
    with steps("report", 3 if kind == ".pdf" else 2) as advance:
        network = build_network(loaded)
        advance()
        scenarios = (
            [loaded.scenario(n) for n in scenario_names]
            if scenario_names
            else report.default_scenarios(loaded)
        )
        data = report.build_report(network, scenarios, specialties or None, profile=profile)
        advance()
        if kind == ".md":
            write_text(report.render_markdown(data), path)
        elif kind == ".html":
            write_text(report.render_html(data, lang), path)
        else:
            write_bytes(pdf.html_to_pdf(report.render_html(data, lang)), path)
            advance()
    click.echo(f"wrote {path}")


@main.command(name="map")
@click.argument("corridor")
@click.option(
    "--service", default="emergency", show_default=True, help="Service whose access is shown."
)
@SCENARIO_OPTION
@PROFILE_OPTION
@DEPART_OPTION
@click.option(
    "--threshold",
    "thresholds",
    type=Duration(),
    multiple=True,
    help="Catchment thresholds (repeatable): 30min, 1h, 2h. Default: the corridor's.",
)
@click.option("--with-sites", is_flag=True, help="Show candidate sites scored for SERVICE.")
@click.option(
    "--with-referrals",
    "referral_specialty",
    default=None,
    help="Draw referral routes for a specialty.",
)
@click.option(
    "--compare",
    "compare_with",
    default=None,
    metavar="SCENARIO",
    help="Two synchronised panes: --scenario left, this scenario right, settlements coloured "
    "by the minutes they lose.",
)
@click.option("--offline", is_flag=True, help="No tiles, Leaflet inline: opens with no network.")
@out_option("Output .html (default: maps/CORRIDOR.html).")
@friendly_errors
def map_command(
    corridor: str,
    service: str,
    scenario: str,
    profile: str,
    depart: dt.datetime | None,
    thresholds: tuple[float, ...],
    with_sites: bool,
    referral_specialty: str | None,
    compare_with: str | None,
    offline: bool,
    out: Path | None,
) -> None:
    """Write one self-contained HTML map of the corridor for planners."""
    loaded = load_corridor(corridor)
    suffix = (f"_{scenario}_vs_{compare_with}" if compare_with else "") + (
        "_offline" if offline else ""
    )
    path = out or Path("maps") / f"{loaded.id}{suffix}.html"
    if path.suffix.lower() != ".html":
        raise CorridorPlannerError(f"cannot write {path}: a map is an .html file")
    if compare_with and (with_sites or referral_specialty):
        raise InvalidArgumentError(
            "--compare draws access only: drop --with-sites/--with-referrals"
        )
    other = loaded.scenario(compare_with) if compare_with else None
    with steps("map", 2) as advance:
        network = build_network(loaded)
        advance()
        times = CorridorTravelTimes(network, profile, loaded.scenario(scenario), depart=depart)
        page: Element
        if other is not None:
            page = maps.compare_map(
                times,
                CorridorTravelTimes(network, profile, other, depart=depart),
                service,
                thresholds or loaded.thresholds_min,
                offline=offline,
            )
        else:
            page = maps.planner_map(
                times,
                service,
                thresholds or loaded.thresholds_min,
                with_sites=with_sites,
                referral_specialty=referral_specialty,
                offline=offline,
            ).get_root()
        advance()
    write_text(page.render(), path)
    click.echo(f"wrote {path}")


@main.command()
@click.option("--corridor", "corridor", default=DEFAULT_CORRIDOR, show_default=True)
@friendly_errors
def demo(corridor: str) -> None:
    """Run the main job on a bundled corridor: validate, route, access, report, map."""
    loaded = load_corridor(corridor)
    network = build_network(loaded)
    _print_summary(validation_summary(network))
    click.echo("")
    origin, destination = loaded.demo_route or demo_places(network)
    _print_route(find_route(network, origin, destination), "table")
    click.echo("")
    baseline = CorridorTravelTimes(network, settings.DEFAULT_PROFILE, loaded.scenario("baseline"))
    closed = CorridorTravelTimes(
        network, settings.DEFAULT_PROFILE, loaded.scenario("borders_closed")
    )
    emergency = access.access_report(baseline, "emergency", loaded.thresholds_min, compare=closed)
    _print_access(loaded.id, emergency)
    click.echo("")
    data = report.build_report(network, report.default_scenarios(loaded))
    path = write_text(report.render_html(data), Path("reports") / f"{loaded.id}.html")
    click.echo(f"wrote the ministry report: {path}")
    fmap = maps.planner_map(
        baseline,
        "emergency",
        loaded.thresholds_min,
        with_sites=True,
        referral_specialty="surgery",
        offline=True,
    )
    path = write_text(fmap.get_root().render(), Path("maps") / f"{loaded.id}.html")
    click.echo(f"wrote the planner map (opens offline): {path}")


class BoundingBox(click.ParamType):
    """``W,S,E,N`` in degrees."""

    name = "W,S,E,N"

    def convert(self, value: Any, param: Any, ctx: Any) -> tuple[float, float, float, float]:
        """Return the four numbers."""
        if isinstance(value, tuple):
            return value
        try:
            west, south, east, north = (float(v) for v in str(value).split(","))
        except ValueError:
            self.fail(f"{value!r} is not W,S,E,N such as 73.4,42.6,77.1,43.5", param, ctx)
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            self.fail(f"{value!r}: need -180 <= W < E <= 180 and -90 <= S < N <= 90", param, ctx)
        return (west, south, east, north)


@main.command(name="import")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--roads",
    required=True,
    help="OSM extract (.osm.pbf or .osm XML), GIS road lines with a highway column, or 'osm' "
    "to download the clip area with osmnx (needs internet).",
)
@click.option(
    "--boundaries",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Country polygons (any GIS format) with an ISO alpha-2 or alpha-3 column.",
)
@click.option("--country-column", default=None, help="Column of --boundaries with the country.")
@click.option(
    "--facilities",
    default=None,
    help="Facility list (CSV, XLSX, GeoJSON, GeoPackage), or 'osm' for health amenities of the "
    "extract.",
)
@click.option(
    "--facility-schema",
    default="healthsites",
    show_default=True,
    help="healthsites (healthsites.io / OSM tags), osm, or a mapping TOML for a spreadsheet.",
)
@click.option(
    "--population",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Population raster (GeoTIFF, e.g. WorldPop) or a table of places with a population.",
)
@click.option("--population-year", type=click.IntRange(1950, 2100), default=None)
@click.option(
    "--census",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Admin units with census totals: the population points are scaled to them.",
)
@click.option(
    "--census-column", default=None, help="Column of --census with the total (default: population)."
)
@click.option(
    "--cell-km",
    type=click.FloatRange(0.1, 50),
    default=1.0,
    show_default=True,
    help="Size of the demand points made from a raster.",
)
@click.option(
    "--border-posts",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Border posts (GeoJSON, bundle format); OSM barrier=border_control nodes are also used.",
)
@click.option("--bbox", type=BoundingBox(), default=None, help="Clip to W,S,E,N degrees.")
@click.option(
    "--clip",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Clip to this polygon file instead of --bbox.",
)
@click.option("--name", default=None, help="Corridor name (default: from DEST).")
@click.option("--id", "bundle_id", default=None, help="Corridor id (default: DEST's name).")
@click.option(
    "--licence",
    default="not given (--licence)",
    help="Licence of the input files, written into SOURCES.md (e.g. 'ODbL').",
)
@click.option("--force", is_flag=True, help="Replace DEST if it holds files.")
@FORMAT_OPTION
@friendly_errors
def import_command(
    dest: Path,
    roads: str,
    boundaries: Path,
    country_column: str | None,
    facilities: str | None,
    facility_schema: str,
    population: Path | None,
    population_year: int | None,
    census: Path | None,
    census_column: str | None,
    cell_km: float,
    border_posts: Path | None,
    bbox: tuple[float, float, float, float] | None,
    clip: Path | None,
    name: str | None,
    bundle_id: str | None,
    licence: str,
    force: bool,
    fmt: str,
) -> None:
    """Build a corridor bundle in DEST from an OSM extract, boundaries, facilities, population."""
    options = ImportOptions(
        dest=dest,
        roads=roads,
        boundaries=boundaries,
        country_column=country_column,
        facilities=facilities,
        facility_schema=facility_schema,
        population=population,
        population_year=population_year,
        census=census,
        census_column=census_column,
        cell_km=cell_km,
        border_posts=border_posts,
        bbox=bbox,
        clip=clip,
        name=name,
        id=bundle_id,
        licence=licence,
        force=force,
    )
    say = (lambda message: click.echo(f"  {message}...", err=True)) if sys.stderr.isatty() else None
    summary = import_bundle(options, progress=say)
    if fmt == "json":
        _print_json(summary.to_dict())
        return
    click.echo(f"wrote {dest}")
    for line in summary.lines:
        click.echo(f"  {line}")
    for crossing in summary.crossings:
        state = "CLOSED (no post)" if crossing["closed"] else f"post {crossing['post']}"
        click.echo(
            f"  crossing {'-'.join(crossing['countries'])} at {crossing['lat']}, "
            f"{crossing['lon']} ({crossing['road']}): {state}"
        )
    click.echo(f"next: corridor-planner validate {dest}")


@main.command(name="sweep")
@click.argument("corridor")
@click.option(
    "--analysis",
    type=click.Choice(sweep.ANALYSES),
    default="access",
    show_default=True,
    help="The question asked of every combination.",
)
@click.option(
    "--scenario",
    "scenarios",
    multiple=True,
    help="Scenario names (repeatable) or 'all' (default: all).",
)
@click.option(
    "--profile",
    "profiles",
    multiple=True,
    help="Traveller profiles (repeatable) or 'all' (default: all).",
)
@click.option(
    "--service",
    "services",
    multiple=True,
    required=True,
    help="Services (access, score-sites) or specialties (referrals); repeatable.",
)
@click.option(
    "--threshold",
    "thresholds",
    type=Duration(),
    multiple=True,
    help="Thresholds (repeatable); default: the corridor's.",
)
@click.option("-k", "k", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--method", type=click.Choice(scoring.METHODS[:-1]), default="mclp")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Results table: .parquet (GeoParquet when rows carry geometry).",
)
@click.option(
    "--scheduler",
    default="local",
    show_default=True,
    help="'local' starts a LocalCluster; or a running scheduler such as tcp://host:8786.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Worker processes of a local cluster.",
)
@friendly_errors
def sweep_command(
    corridor: str,
    analysis: str,
    scenarios: tuple[str, ...],
    profiles: tuple[str, ...],
    services: tuple[str, ...],
    thresholds: tuple[float, ...],
    k: int,
    method: str,
    out: Path,
    scheduler: str,
    workers: int,
) -> None:
    """Run one analysis over every scenario x profile x service (x threshold) on Dask."""
    loaded = load_corridor(corridor, skip_bad_scenarios=True)
    combos = sweep.combinations(
        loaded, analysis, scenarios, profiles, services, thresholds, k=k, method=method
    )
    terminal = sys.stderr.isatty()
    with sweep.start_client(scheduler, workers) as client:
        if terminal:
            click.echo(f"dashboard: {client.dashboard_link}", err=True)
        result = sweep.run_sweep(
            corridor, combos, client, progress=_dask_progress if terminal else None
        )
    sweep.write_sweep(result, out)
    click.echo(
        f"wrote {out}: {len(result.table)} rows from {result.tasks} combinations in "
        f"{result.seconds:.1f} s"
    )
    for failure in result.failed:
        click.echo(
            f"  FAILED {failure['analysis']} {failure['scenario']} / {failure['profile']} / "
            f"{failure['service']}: {failure['error']}",
            err=True,
        )
    if result.partial:
        click.echo(f"{len(result.failed)} combination(s) failed; {out} is partial", err=True)
        sys.exit(1)


def _dask_progress(futures: Any) -> None:
    from distributed import progress

    progress(futures)


@main.command(name="sweep-report")
@click.argument("table", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@out_option("Output .html (default: the table's name with .html).")
@friendly_errors
def sweep_report_command(table: Path, out: Path | None) -> None:
    """Draw a sweep's comparison charts: coverage by threshold and scenario, minutes lost."""
    path = out or table.with_suffix(".html")
    write_text(sweep_report.render(sweep_report.read(table)), path)
    click.echo(f"wrote {path}")


def _print_json(payload: dict[str, Any]) -> None:
    click.echo(json.dumps(payload, ensure_ascii=False, indent=2))


def _table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=False)]
    for line in (header, *rows):
        click.echo("  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=False)).rstrip())


if __name__ == "__main__":
    main()
