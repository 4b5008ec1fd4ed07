"""Text output of the commands: tables for people, JSON for programs (one module for both).

Library types are imported for type checking only, and library helpers inside the
functions, so that importing the command line stays fast.
"""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import click

from corridor_planner import settings

if TYPE_CHECKING:
    from corridor_planner.analysis.access import AccessReport
    from corridor_planner.analysis.continuity import ContinuityPathway
    from corridor_planner.analysis.programme import Programme, ProgrammeSpec
    from corridor_planner.analysis.referral import Pathway, ReferralAnalysis, Refusal
    from corridor_planner.analysis.scoring import SiteScores
    from corridor_planner.importer import ImportSummary
    from corridor_planner.routing.routes import Route


#: Characters that reorder text on a terminal (bidirectional embeddings, overrides,
#: isolates and marks): a name holding U+202E would print its tail backwards.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def _unsafe(char: str, keep_newlines: bool) -> bool:
    if char == "\n":
        return not keep_newlines
    return unicodedata.category(char) in {"Cc", "Zl", "Zp"} or char in BIDI_CONTROLS


#: Escapes ``repr`` writes by name.
NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(char: str) -> str:
    code = ord(char)
    if char in NAMED_ESCAPES:
        return NAMED_ESCAPES[char]
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: object, keep_newlines: bool = True) -> str:
    r"""Return ``text`` with terminal control characters escaped, as ``repr`` writes them.

    ESC, NUL, DEL, the C1 controls and the bidirectional overrides (U+202E...) never reach
    the terminal raw: a name holding ``\x1b[2J`` prints as those six visible characters
    instead of clearing the screen. Letters of every script, and the joiners Persian and
    Urdu names need (U+200C, U+200D), are left as they are.

    Parameters
    ----------
    text : object
        What to print (``str()`` of it).
    keep_newlines : bool
        Keep line breaks (a message of several lines); a table cell escapes them.
    """
    text = str(text)
    if not any(_unsafe(c, keep_newlines) for c in text):
        return text
    return "".join(_escaped(c) if _unsafe(c, keep_newlines) else c for c in text)


def say(text: object = "", err: bool = False) -> None:
    """Print one message (stdout, or stderr with ``err``), control characters escaped."""
    click.echo(safe(text), err=err)


def print_notes(notes: Iterable[str]) -> None:
    """Print caveats for JSON users on stderr, one ``note: ...`` line each.

    stdout stays one JSON document; the same caveats are in the table output.
    """
    for note in notes:
        say(f"note: {note}", err=True)


def print_corridors(rows: Sequence[dict[str, Any]], fmt: str) -> None:
    """Print the bundled corridors (``id``, ``name``, ``countries``)."""
    if fmt == "json":
        print_json({"corridors": list(rows)})
        return
    table(
        [(r["id"], r["name"], "/".join(r["countries"])) for r in rows], ("id", "name", "countries")
    )


def print_summary(summary: dict[str, Any]) -> None:
    """Print a validation summary (:func:`validation_summary`)."""
    counts, graph = summary["counts"], summary["graph"]
    say(f"{summary['name']} ({summary['corridor']})")
    say(
        f"  {counts['facilities']} facilities, {counts['border_posts']} border posts, "
        f"{counts['settlements']} settlements ({counts['population']:,} people), "
        f"{counts['candidates']} candidate sites"
    )
    say(f"  scenarios: {', '.join(counts['scenarios'])}")
    say(
        f"  road graph: {graph['nodes']} nodes, {graph['road_edges']} road edges, "
        f"{graph['road_km']} km of road, {graph['border_posts']} border posts as edges"
    )
    for kind, numbers in graph["snapped"].items():
        say(f"  {kind}: {numbers['snapped']} of {numbers['total']} attached to the network")
    for row in summary["not_snapped"]:
        say(
            f"  NOT attached: {row['kind']} {row['id']} ({row['name']}) is {row['distance_km']} km "
            f"from the nearest road of its country (limit {summary['snap_limit_km']:g} km)"
        )
    for note in (*graph.get("notes", ()), *summary["notes"]):
        say(f"  note: {note}")
    say("  valid" if summary["valid"] else "  problems found")


def print_route(result: Route, fmt: str) -> None:
    """Print a route as JSON or as a line and a table of legs."""
    if fmt == "json":
        print_json(result.to_dict())
        return
    posts = ", ".join(result.border_posts) or "none"
    when = f", departing {result.depart}" if result.depart else ""
    say(
        f"{result.origin} -> {result.destination} ({result.profile}, scenario {result.scenario}"
        f"{when}): {result.minutes:.0f} min, {result.km:.1f} km; border posts: {posts}"
    )
    for wait in result.waits:
        if wait["wait_minutes"] > 0:
            say(
                f"  waits {wait['wait_minutes']:.0f} min at {wait['border_post']} "
                f"(arrives {wait['arrive']}, post closed)"
            )
    table(
        [
            (leg.kind, leg.ref, leg.name, f"{leg.km:.1f}", f"{leg.minutes:.1f}")
            for leg in result.legs
        ],
        ("leg", "ref", "name", "km", "min"),
    )


def print_left_out(left_out: dict[str, Any]) -> None:
    """Say which settlements (and how many people) no figure above includes, and why."""
    if not left_out.get("points"):
        return
    names = ", ".join(left_out["names"][:8]) + (" ..." if len(left_out["names"]) > 8 else "")
    say(
        f"Left out of every figure: {left_out['points']} settlement(s), "
        f"{left_out['population']:,} people ({names}): {left_out['reason']}."
    )


def print_access(corridor_id: str, result: AccessReport) -> None:
    """Print an access report: coverage, standards, farthest settlements, gain."""
    import pandas as pd

    from corridor_planner.analysis.coverage import standards_for

    when = f", departing {result.depart.isoformat()}" if result.depart else ""
    say(
        f"Access to {result.service} in {corridor_id} "
        f"({result.profile}, scenario {result.scenario}{when})"
    )
    coverage = result.coverage
    table(
        [
            (
                f"{r.threshold_minutes:g}",
                r.country,
                r.group,
                f"{r.population:,}",
                f"{r.covered:,}",
                "-" if pd.isna(r.share) else f"{r.share:.1%}",
            )
            for r in coverage.itertuples()
            if r.population > 0
        ],
        ("within min", "country", "group", "population", "covered", "share"),
    )
    for note in access_notes(result):
        say(f"({note})")
    for standard in standards_for(result.service, coverage["threshold_minutes"]):
        say(f"{standard}.")
    say("Farthest settlements:")
    for row in result.settlements.sort_values("minutes", ascending=False).head(5).itertuples():
        across = " (across the border)" if row.crosses_border else ""
        if not isinstance(row.facility_name, str):
            say(f"  {row.name} ({row.country}): no facility reachable")
            continue
        say(f"  {row.name} ({row.country}): {row.minutes:.0f} min to {row.facility_name}{across}")
    say(f"E2SFCA supply measured in: {result.supply_basis}")
    print_measure(result)
    print_unreachable(result.unreachable)
    print_left_out(result.left_out)
    if result.gain is None:
        return
    say(f"Gain of {result.scenario} over {result.compare} (people newly covered):")
    rows = result.gain[result.gain["gain"] != 0]
    if rows.empty:
        say("  none at these thresholds")
        return
    table(
        [
            (f"{r.threshold_minutes:g}", r.country, r.group, f"{r.gain:,}")
            for r in rows.itertuples()
        ],
        ("within min", "country", "group", "gain"),
    )


def access_notes(result: AccessReport) -> list[str]:
    """Caveats of an access report that its numbers alone do not say (table and JSON)."""
    coverage = result.coverage
    empty = sorted(set(coverage.loc[coverage["population"] == 0, "group"]))
    if not empty:
        return []
    return [f"no population known for: {', '.join(empty)}; see the bundle's SOURCES.md"]


#: How each capacity-aware measure is shown: column, label, and whether low is bad.
MEASURE_SHOWN = {
    "3sfca": ("3sfca_per_1000", "3SFCA per 1,000", True),
    "raam": ("raam_cost", "RAAM cost", False),
}


def print_measure(result: AccessReport, rows: int = 5) -> None:
    """Print the settlements with the worst access by the measure asked for (3SFCA, RAAM)."""
    if result.method not in MEASURE_SHOWN:
        return
    column, label, low_is_bad = MEASURE_SHOWN[result.method]
    table_ = result.settlements.dropna(subset=[column])
    worst = table_.sort_values(column, ascending=low_is_bad).head(rows)
    which = "lowest" if low_is_bad else "highest (worst)"
    say(f"{label}, {which} {len(worst)} of {len(table_)} settlements:")
    table(
        [
            (name, country, f"{e2sfca:,.3f}", f"{value:,.3f}")
            for name, country, e2sfca, value in zip(
                worst["name"],
                worst["country"],
                worst["e2sfca_per_1000"],
                worst[column],
                strict=True,
            )
        ],
        ("settlement", "country", "E2SFCA per 1,000", label),
    )
    measure = result.measure
    if result.method == "raam":
        say(
            f"RAAM: tau {measure['tau_minutes']:g} min, rho {measure['rho']:,.4g}, "
            f"equilibrium gap {measure['equilibrium_gap']:.3g} "
            f"after {measure['sweeps']} sweeps (lower cost is better access)"
        )


def print_unreachable(unreachable: dict[str, Any]) -> None:
    """Say how many attached settlements reach no facility, and why, cause by cause."""
    if not unreachable.get("settlements"):
        return
    say(
        f"{unreachable['settlements']} settlements ({unreachable['population']:,} people) "
        "reach no facility:"
    )
    for cause in unreachable["causes"]:
        say(
            f"  {cause['cause']}: {cause['settlements']} settlements, "
            f"{cause['population']:,} people"
        )


def print_scores(corridor_id: str, scores: SiteScores) -> None:
    """Print ranked sites and what the model says about them."""
    when = f", departing {scores.depart.isoformat()}" if scores.depart else ""
    say(
        f"{scores.result.method}: new {scores.service} sites in {corridor_id} within "
        f"{scores.threshold_min:g} min ({scores.profile}, scenario {scores.scenario}{when})"
    )
    say(
        f"Existing facilities cover {scores.already_covered:,.0f} of "
        f"{scores.population:,.0f} people."
    )
    for note in score_notes(scores):
        say(note)
    print_left_out(scores.left_out)
    capacitated = "served" in scores.sites.columns
    header = ["rank", "site", "country", "newly covered", "of them border", "total covered"]
    if capacitated:
        header += ["service capacity", "served"]
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
            row += [f"{r.service_capacity:,.0f}", f"{r.served:,.0f}"]
        rows.append(row)
    if rows:
        table(rows, header)
    print_objective(scores)
    extra = scores.result.extra
    if "gap" in extra:
        say(f"greedy gap to the LP upper bound: {extra['gap']:.1%} ({extra['guarantee']})")
    if "mean_time" in extra:
        say(f"mean travel time to the nearest facility: {extra['mean_time']:.1f} min")
    if "spent" in extra:
        spent = ", ".join(
            f"{r.name}: {r.cost:,.0f} ({r.covered_per_cost:,.2f} people per unit)"
            for r in scores.sites.itertuples()
        )
        say(f"spent {extra['spent']:,.0f} of a budget of {extra['budget']:,.0f}: {spent}")
    if "within_reach_over_capacity" in extra:
        say(
            f"within reach of a chosen site but over its capacity: "
            f"{extra['within_reach_over_capacity']:,.0f} (weighted people)"
        )


#: Methods whose count of sites is the model's answer (``-k`` is not used).
COUNTING_METHODS = ("lscp", "lscpb")


def score_notes(scores: SiteScores) -> list[str]:
    """Caveats of a siting run that its table alone does not say (table and JSON)."""
    notes = []
    counted = scores.method in COUNTING_METHODS
    if scores.method != "budget" and not counted and scores.requested_k > len(scores.sites):
        notes.append(
            f"Asked for {scores.requested_k} sites; only {len(scores.sites)} candidate(s) offer "
            f"{scores.service} and are on the network, so all of them are ranked."
        )
    if counted and scores.sites.empty:
        notes.append(
            f"No new site is needed: existing facilities already bring everyone a site could "
            f"reach within {scores.threshold_min:g} min."
        )
    return notes


def print_objective(scores: SiteScores) -> None:
    """Print what the covering and p-center models optimised (sites needed, longest trip)."""
    extra = scores.result.extra
    within = f"within {scores.threshold_min:g} min"
    if scores.method in COUNTING_METHODS:
        count = extra.get("sites", len(scores.sites))
        say(f"sites needed to bring everyone a site can reach {within}: {count:,.0f}")
    if scores.method == "lscpb":
        say(
            f"covered twice: {extra['backup_points']:,} settlements "
            f"({extra['backup_share']:.0%} of those covered)"
        )
    if scores.method == "pcenter":
        say(f"longest trip {scores.result.objective:,.0f} min")
    lost = extra.get("uncoverable_weight", extra.get("unreachable_weight", 0.0))
    if lost > 0:
        reach = within if scores.method in COUNTING_METHODS else "at all"
        say(
            f"{lost:,.0f} people no site or facility can bring {reach} "
            "(demand weight; left out of the model)"
        )


def print_referrals(corridor_id: str, analysis: ReferralAnalysis) -> None:
    """Print referral pathways, refusals, costs and capacity."""
    patient = analysis.patient
    when = f", departing {analysis.depart.isoformat()}" if analysis.depart else ""
    say(
        f"Referrals for {analysis.specialty} in {corridor_id}: {patient.profile} patients, "
        f"scenario {analysis.scenario}{when}"
    )
    say(f"Cover: {analysis.cover_rule}")
    say(f"Cover rules in force: {'; '.join(analysis.rules_in_force) or 'none'}")
    shown = _printed_pathways(analysis.pathways)
    rows = []
    for p in shown:
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
                "-" if p.km is None else f"{p.km:.0f}",
                posts,
                f"{p.cover_group} ({p.cover_rule})",
            )
        )
    table(rows, ("origin", "#", "destination", "min", "km", "border posts", "cover"))
    if len(shown) < len(analysis.pathways):
        say(
            f"Printed {len(shown):,} of {len(analysis.pathways):,} pathways (those of the most "
            "populous origins); --out FILE.csv writes every one."
        )
    if analysis.detail_note:
        say(f"Routes: {analysis.detail_note}")
    print_refusals(analysis.refusals)
    print_costs(analysis.costs)
    print_left_out(analysis.left_out)
    say(
        f"People concerned: {analysis.people:,} {analysis.patient.profile} "
        f"({analysis.people_basis})"
    )
    if not analysis.sized:
        for note in referral_notes(analysis):
            say(note)
        return
    say(
        f"Expected referrals: {analysis.demand:,.1f} a year at {analysis.rate_text} "
        f"({analysis.rate_basis}); assigned {analysis.assigned:,.1f}, "
        f"unserved {analysis.unserved:,.1f}; capacity adds {analysis.extra_minutes:,.0f} "
        "patient-minutes."
    )
    table(
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


def referral_notes(analysis: ReferralAnalysis) -> list[str]:
    """Caveats of a referral analysis that its numbers alone do not say (table and JSON)."""
    if analysis.sized:
        return []
    return [
        f"No referral rate for {analysis.specialty} in the bundle or scenario: "
        "pass --rate (per 100,000 people per year) to size flows against capacity."
    ]


def print_costs(costs: Sequence[Any]) -> None:
    """Who pays: the patient's charge for care, the return fare, and who pays the rest."""
    if not costs or all(c.care is None and c.travel is None for c in costs):
        return
    say("Who pays (the bundle's costs.toml; amounts in their own currency):")

    def money(amount: float | None, currency: str) -> str:
        if amount is None:
            return "not sourced"
        return f"{amount:,.0f} {currency}".strip() + (" (free)" if not currency else "")

    table(
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


def print_beyond_corridor(rows: Sequence[ContinuityPathway]) -> None:
    """List the legs beyond the corridor once for each distinct way home."""
    from corridor_planner.analysis.continuity import describe_leg

    ways = list(dict.fromkeys(tuple(map(describe_leg, r.beyond_corridor)) for r in rows))
    ways = [way for way in ways if way]
    if ways:
        say(
            "Beyond the corridor (sourced leg times, not the road graph; posts there have "
            "no opening-hours clock):"
        )
    for number, way in enumerate(ways, start=1):
        if len(ways) > 1:
            say(f"  way {number}:")
        for leg in way:
            say(f"    {leg}")


def print_json(payload: Any, **options: Any) -> None:
    r"""Print JSON, non-ASCII letters as they are, indented, control characters escaped.

    ``json`` escapes NUL to U+001F itself; DEL, the C1 controls and the bidirectional
    overrides it leaves raw become ``\u`` escapes here (valid JSON: they can only stand
    inside strings).
    """
    text = json.dumps(payload, ensure_ascii=False, indent=2, **options)
    click.echo("".join(f"\\u{ord(c):04x}" if _unsafe(c, True) else c for c in text))


def _printed_pathways(found: Sequence[Pathway]) -> Sequence[Pathway]:
    """Pick the pathways a terminal shows: all, or the first ``PRINT_ROW_LIMIT`` unpacked.

    Unpacked (``detailed``) pathways are those of the most populous origins, so a country
    prints its largest places, not the first 600 of 700,000 lines.
    """
    limit = settings.PRINT_ROW_LIMIT
    if len(found) <= limit:
        return found
    detailed = [p for p in found if p.detailed]
    return (detailed or list(found))[:limit]


def print_refusals(refusals: Sequence[Refusal]) -> None:
    """Print why origins have no pathway: each one, or a count by reason when many."""
    limit = settings.PRINT_ROW_LIMIT
    for r in refusals[:limit]:
        say(f"  {r.origin}: no pathway: {r.reason}")
    if len(refusals) > limit:
        rest = Counter(r.kind for r in refusals[limit:])
        counts = ", ".join(f"{n:,} {kind.replace('_', ' ')}" for kind, n in rest.most_common())
        say(f"  ... and {len(refusals) - limit:,} more origins with no pathway ({counts}).")


def table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> None:
    """Print rows under a header, columns padded to their widest cell."""
    cells = [[safe(c, keep_newlines=False) for c in line] for line in (header, *rows)]
    widths = [max(len(c) for c in col) for col in zip(*cells, strict=False)]
    for line in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=False)).rstrip())


def print_continuity(rows: Sequence[ContinuityPathway], title: str, caveat: str) -> None:
    """Print TB continuity rows: where treatment starts, the way home, follow-up at home."""
    say(title)
    say(caveat)

    def minutes(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f}"

    table(
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
            say(f"  {r.host}: {line}")
    print_beyond_corridor(rows)


def print_programme(spec: ProgrammeSpec, plan: Programme) -> None:
    """Print a programme plan: centres by phase, per corridor, ambulance bases, notes."""
    say(
        f"{spec.name}: {len(plan.centres)} {spec.service} centres across "
        f"{', '.join(spec.corridors)}, {spec.threshold_min:g} min threshold, scenario "
        f"{spec.scenario}"
    )
    table(
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
        say(
            f"{row['corridor']}: {row['centres']} of {row['candidates']} candidate sites; "
            f"{row['covered_before']:,.0f} -> {row['covered_after']:,.0f} of "
            f"{row['population']:,.0f} people within {spec.threshold_min:g} min"
        )
    say(
        f"People within {spec.threshold_min:g} min: {plan.covered_before:,.0f} today, "
        f"{plan.covered_after:,.0f} after, of {plan.population:,.0f}."
    )
    say(
        f"Ambulance bases ({spec.ambulance_min:g} min response, main roads): "
        f"{plan.road_km_covered:,.0f} of {plan.road_km:,.0f} km covered."
    )
    table(
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
            say(
                f"{row['corridor']}: {row['left_out']['points']} settlements "
                f"({row['left_out']['population']:,} people) left out: {row['left_out']['reason']}"
            )
    for note in plan.notes:
        say(f"Note: {note}")


def print_import(dest: Any, summary: ImportSummary) -> None:
    """Print what ``import`` wrote: its summary lines and each border crossing found."""
    say(f"wrote {dest}")
    for line in summary.lines:
        say(f"  {line}")
    for crossing in summary.crossings:
        state = "CLOSED (no post)" if crossing["closed"] else f"post {crossing['post']}"
        say(
            f"  crossing {'-'.join(crossing['countries'])} at {crossing['lat']}, "
            f"{crossing['lon']} ({crossing['road']}): {state}"
        )
    say(f"next: corridor-planner validate {dest}")
