"""Ministry report: coverage, referral pathways, capacity and scenarios, as HTML or Markdown."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import jinja2
import pandas as pd

from corridor_planner import access, referral
from corridor_planner.corridor import Corridor
from corridor_planner.cover import Patient
from corridor_planner.coverage import standards_for
from corridor_planner.errors import InvalidArgumentError, NotFoundError
from corridor_planner.network import CorridorNetwork
from corridor_planner.outputs import json_records
from corridor_planner.rules import Scenario
from corridor_planner.settings import DEFAULT_PROFILE, HEADLINE_THRESHOLD_MIN
from corridor_planner.traveltimes import CorridorTravelTimes

#: Specialties reported when the user names none (those some facility offers).
DEFAULT_SPECIALTIES = ("emergency", "surgery", "cardiology", "oncology", "tb_mdr", "tb")
COVERAGE_SERVICES = ("emergency", "surgery")


@dataclass
class SpecialtySection:
    """Referral figures for one specialty."""

    specialty: str
    analysis: referral.ReferralAnalysis
    comparison: list[dict[str, Any]]


@dataclass
class ReportData:
    """Everything the templates show; built once, rendered as HTML or Markdown."""

    corridor: dict[str, Any]
    generated: str
    scenarios: list[dict[str, str]]
    summary: list[dict[str, Any]]
    coverage: dict[str, list[dict[str, Any]]]
    cooperation: dict[str, list[dict[str, Any]]]
    posts: list[dict[str, Any]]
    specialties: list[SpecialtySection]
    files: list[dict[str, str]]
    precision: dict[str, int] = field(default_factory=dict)
    limits: list[str] = field(default_factory=list)
    standards: list[str] = field(default_factory=list)


#: Scenarios the report compares when the user names none (those the bundle has).
DEFAULT_SCENARIOS = ("baseline", "borders_closed", "agreement")


def default_scenarios(corridor: Corridor) -> list[Scenario]:
    """Return the report's scenarios when none is named: baseline, closed, agreement."""
    return [corridor.scenarios[n] for n in DEFAULT_SCENARIOS if n in corridor.scenarios]


def build_report(
    network: CorridorNetwork,
    scenarios: Sequence[Scenario],
    specialties: Sequence[str] | None = None,
    *,
    profile: str = DEFAULT_PROFILE,
) -> ReportData:
    """Compute every figure of the report.

    Parameters
    ----------
    network : CorridorNetwork
        The built corridor.
    scenarios : sequence of Scenario
        Scenarios to compare; the first is the reference (usually ``baseline``).
    specialties : sequence of str, optional
        Services to report referrals for; default: those of ``DEFAULT_SPECIALTIES`` that
        some facility offers.
    profile : str
        Traveller profile of the patients.
    """
    corridor = network.corridor
    if not scenarios:
        raise InvalidArgumentError("the report needs at least one scenario")
    reference = scenarios[0]
    offered = {s for services in corridor.facilities["services"] for s in services}
    chosen = [s for s in (specialties or DEFAULT_SPECIALTIES) if s in offered]
    if specialties and len(chosen) < len(specialties):
        missing = sorted(set(specialties) - offered)
        raise NotFoundError(f"no facility in corridor {corridor.id} offers {', '.join(missing)}")
    thresholds = corridor.thresholds_min
    times = {s.name: CorridorTravelTimes(network, profile, s) for s in scenarios}
    closed = corridor.scenarios.get("borders_closed")
    if closed is not None and closed.name not in times:
        times[closed.name] = CorridorTravelTimes(network, profile, closed)
    coverage, cooperation = {}, {}
    for service in (s for s in COVERAGE_SERVICES if s in offered):
        result = access.access_report(
            times[reference.name],
            service,
            thresholds,
            compare=times[closed.name] if closed is not None else None,
        )
        coverage[service] = json_records(result.coverage)
        if result.gain is not None:
            gain = result.gain[result.gain["group"] == "all"].copy()
            gain["label"] = [
                f"{c} within {t:g} min"
                for c, t in zip(gain["country"], gain["threshold_minutes"], strict=True)
            ]
            cooperation[service] = json_records(gain)
    patient = Patient(profile)
    sections = []
    for specialty in chosen:
        analysis = referral.analyse_referrals(times[reference.name], specialty, patient, top=1)
        comparison = referral.compare_scenarios(
            [times[s.name] for s in scenarios], specialty, patient
        )
        sections.append(SpecialtySection(specialty, analysis, json_records(comparison)))
    return ReportData(
        corridor={
            "id": corridor.id,
            "name": corridor.name,
            "countries": list(corridor.countries),
            "data_date": str(corridor.metadata.get("data_date", "")),
        },
        generated=dt.date.today().isoformat(),
        scenarios=[{"name": s.name, "description": s.description} for s in scenarios],
        summary=_summary(network, coverage),
        coverage=coverage,
        cooperation=cooperation,
        posts=_posts(network),
        specialties=sections,
        files=_files(corridor.metadata),
        precision=_precision(corridor.facilities),
        limits=_limits(network),
        standards=[
            text
            for service in coverage
            for text in standards_for(service, [HEADLINE_THRESHOLD_MIN])
        ],
    )


def _limits(network: CorridorNetwork) -> list[str]:
    """List what the data cannot support: points left out, capacities unknown."""
    lines = []
    for kind in ("settlement", "facility", "candidate"):
        missing = network.left_out(kind)
        if missing["points"]:
            people = f" ({missing['population']:,} people)" if kind == "settlement" else ""
            lines.append(
                f"{missing['points']} {kind}(s){people} left out of every figure: "
                f"{', '.join(missing['names'])} lie {missing['reason']}."
            )
    facilities = network.corridor.facilities
    unknown = sum(1 for c in facilities["capacity"] if not (isinstance(c, dict) and c))
    if unknown:
        lines.append(
            f"{unknown} of {len(facilities)} facilities have no sourced capacity: the referral "
            "assignment treats them as unlimited."
        )
    return lines


def _summary(
    network: CorridorNetwork, coverage: dict[str, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    corridor = network.corridor
    rows = []
    for country in corridor.countries:
        people = corridor.population[corridor.population["country"] == country]
        row: dict[str, Any] = {
            "country": country,
            "settlements": len(people),
            "population": int(people["population"].sum()),
            "facilities": int((corridor.facilities["country"] == country).sum()),
        }
        for service, table in coverage.items():
            within = [
                r
                for r in table
                if r["country"] == country
                and r["group"] == "all"
                and r["threshold_minutes"] == HEADLINE_THRESHOLD_MIN
            ]
            row[f"{service}_2h"] = within[0]["share"] if within else None
        rows.append(row)
    return rows


def _posts(network: CorridorNetwork) -> list[dict[str, Any]]:
    return [
        {
            "name": post.name,
            "countries": " – ".join(post.countries),
            "hours": post.opening_hours,
            "season": post.season or "all year",
            "profiles": ", ".join(sorted(post.profiles_allowed)),
            "citizen_minutes": ", ".join(
                f"{d}: {v.get('citizen', '-')}" for d, v in sorted(post.delay_minutes.items())
            ),
        }
        for post in network.corridor.posts.values()
    ]


def _files(metadata: dict[str, Any]) -> list[dict[str, str]]:
    files = metadata.get("files") or {}
    return [
        {
            "file": str(v.get("path", k)),
            "source": str(v.get("source", "")),
            "licence": str(v.get("licence", "")),
        }
        for k, v in files.items()
        if isinstance(v, dict)
    ]


def _precision(facilities: pd.DataFrame) -> dict[str, int]:
    precision = facilities["location_precision_m"]
    return {
        "facilities": len(facilities),
        "within_1km": int((precision <= 1000).sum()),
        "town_level": int((precision >= 5000).sum()),
    }


# rendering -------------------------------------------------------------------------------


def template_environment(autoescape: bool) -> jinja2.Environment:
    """Jinja2 environment of the package's templates: data are values, never template source."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("corridor_planner", "templates"),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = lambda v: "–" if v is None else f"{v:.1%}"
    env.filters["num"] = lambda v, d=0: "–" if v is None else f"{v:,.{d}f}"
    env.filters["md"] = markdown_escape
    return env


def render_html(data: ReportData) -> str:
    """Render the report as one self-contained HTML page (inline CSS and SVG, A4 print).

    Every string from the data is HTML-escaped.
    """
    return template_environment(autoescape=True).get_template("report.html.j2").render(r=data)


def render_markdown(data: ReportData) -> str:
    """Render the report as Markdown; data strings are escaped so they render as text."""
    return template_environment(autoescape=False).get_template("report.md.j2").render(r=data)


_MARKDOWN_SPECIAL = str.maketrans(
    {c: f"\\{c}" for c in "\\`*_{}[]#+!|"} | {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
)


def markdown_escape(value: Any) -> str:
    """Escape a data string for Markdown: no markup, no raw HTML, no table breaks."""
    return str(value).translate(_MARKDOWN_SPECIAL).replace("\n", " ")
