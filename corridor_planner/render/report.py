"""Ministry report: coverage, referral pathways, capacity and scenarios, as HTML or Markdown."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import markupsafe
import numpy as np
import pandas as pd

from corridor_planner.analysis import access, referral
from corridor_planner.analysis.access import nearest_facility_times
from corridor_planner.analysis.continuity import continuity_summary
from corridor_planner.analysis.coverage import standards_for
from corridor_planner.analysis.summary import (
    SUMMARY_THRESHOLD_MIN,
    CountrySummary,
    FirstSteps,
    country_summaries,
    first_steps,
)
from corridor_planner.bundle.corridor import Corridor
from corridor_planner.bundle.costs import exposure_by_group
from corridor_planner.bundle.cover_rules import Patient
from corridor_planner.bundle.facilities import unknown_capacity
from corridor_planner.bundle.names import NameBook, name_book
from corridor_planner.bundle.scenario import Scenario
from corridor_planner.errors import CorridorPlannerError, InvalidArgumentError, NotFoundError
from corridor_planner.network.graph import CorridorNetwork
from corridor_planner.outputs import file_stem, json_records, write_bytes, write_text
from corridor_planner.render.brief_map import brief_map
from corridor_planner.render.i18n import RIGHT_TO_LEFT, Formats, country_name, translations
from corridor_planner.render.report_tables import SettlementTables, is_big, settlement_tables
from corridor_planner.routing.traveltimes import CorridorTravelTimes
from corridor_planner.settings import (
    DEFAULT_PROFILE,
    HEADLINE_THRESHOLD_MIN,
    LANGUAGES,
    REPORT_WORST_SHOWN,
)
from corridor_planner.translatable import N_

#: Specialties reported when the user names none (those some facility offers).
DEFAULT_SPECIALTIES = ("emergency", "surgery", "cardiology", "oncology", "tb_mdr", "tb")
COVERAGE_SERVICES = ("emergency", "surgery")


@dataclass
class SpecialtySection:
    """Referral figures for one specialty."""

    specialty: str
    analysis: referral.ReferralAnalysis
    comparison: list[dict[str, Any]]
    capacity_use: list[dict[str, Any]] = field(default_factory=list)
    exposure: list[dict[str, Any]] = field(default_factory=list)
    refusal_groups: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ReportData:
    """Everything the templates show; built once, rendered as HTML or Markdown."""

    corridor: dict[str, Any]
    generated: str
    scenarios: list[dict[str, Any]]
    summary: list[dict[str, Any]]
    coverage: dict[str, list[dict[str, Any]]]
    cooperation: dict[str, list[dict[str, Any]]]
    posts: list[dict[str, Any]]
    specialties: list[SpecialtySection]
    files: list[dict[str, str]]
    precision: dict[str, int] = field(default_factory=dict)
    limits: list[dict[str, Any]] = field(default_factory=list)
    standards: list[str] = field(default_factory=list)
    countries: list[CountrySummary] = field(default_factory=list)
    coverage_by_scenario: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    minutes_lost: list[dict[str, Any]] = field(default_factory=list)
    closed_name: str = ""
    out_of_pocket: list[dict[str, Any]] = field(default_factory=list)
    cost_sources: list[dict[str, Any]] = field(default_factory=list)
    continuity: list[dict[str, Any]] = field(default_factory=list)
    first_steps: FirstSteps | None = None
    map: dict[str, Any] = field(default_factory=dict)
    #: A big corridor's per-settlement tables, summarised (``settings.REPORT_POINT_LIMIT``).
    large: SettlementTables | None = None
    #: The bundle's names in the report's other languages (``name_ru``, ``name_ur``).
    names: NameBook = field(default_factory=NameBook)


#: Scenarios the report compares when the user names none (those the bundle has).
DEFAULT_SCENARIOS = ("baseline", "borders_closed", "agreement", "private_engaged")


def default_scenarios(corridor: Corridor) -> list[Scenario]:
    """Return the report's scenarios when none is named: baseline, closed, agreement, private."""
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
    people_by_name = dict(
        zip(corridor.population["name"], corridor.population["population"], strict=True)
    )
    sections = []
    for specialty in chosen:
        analysis = referral.analyse_referrals(times[reference.name], specialty, patient, top=1)
        comparison = referral.compare_scenarios(
            [times[s.name] for s in scenarios],
            specialty,
            patient,
            known={reference.name: analysis.pathways},  # the reference is not searched again
        )
        sections.append(
            SpecialtySection(
                specialty,
                analysis,
                json_records(comparison),
                _capacity_use(analysis),
                exposure_by_group(analysis.costs, people_by_name),
                _refusal_groups(analysis.refusals),
            )
        )
    closed_times = times[closed.name] if closed is not None else None
    names = name_book(corridor, [lang for lang in LANGUAGES if lang != "en"])
    steps = first_steps(times[reference.name], closed_times, [s.analysis for s in sections])
    large = None
    if is_big(len(corridor.population)):
        large = settlement_tables(times[reference.name], [s.analysis for s in sections])
        for section in sections:
            section.refusal_groups = _shortened(section.refusal_groups)
    return ReportData(
        corridor={
            "id": corridor.id,
            "name": corridor.name,
            "countries": list(corridor.countries),
            "data_date": str(corridor.metadata.get("data_date", "")),
        },
        generated=dt.date.today().isoformat(),
        scenarios=[
            {"name": s.name, "description": s.description, "translations": s.translations}
            for s in scenarios
        ],
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
        countries=country_summaries(
            times[reference.name], closed_times, [s.analysis for s in sections]
        ),
        coverage_by_scenario={
            service: _coverage_by_scenario([times[s.name] for s in scenarios], service)
            for service in coverage
        },
        minutes_lost=_minutes_lost(times[reference.name], closed_times),
        closed_name=closed.name if closed is not None else "",
        out_of_pocket=list(corridor.costs.exposure),
        cost_sources=_cost_sources(corridor),
        continuity=continuity_summary(times[reference.name]),
        first_steps=steps,
        map=brief_map(network, steps, names),
        large=large,
        names=names,
    )


def _shortened(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Refusal groups naming at most :data:`REPORT_WORST_SHOWN` origins; ``more``: the rest."""
    return [
        {
            **g,
            "origins": g["origins"][:REPORT_WORST_SHOWN],
            "more": max(0, len(g["origins"]) - REPORT_WORST_SHOWN),
        }
        for g in groups
    ]


def _refusal_groups(refusals: Sequence[referral.Refusal]) -> list[dict[str, Any]]:
    """Origins refused for the same reason, together: one line per reason in the report."""
    groups: dict[str, dict[str, Any]] = {}
    for refusal in refusals:
        key = json.dumps([refusal.kind, refusal.facts], sort_keys=True, default=str)
        group = groups.setdefault(
            key, {"kind": refusal.kind, "facts": refusal.facts, "origins": []}
        )
        group["origins"].append(refusal.origin)
    return list(groups.values())


def _cost_sources(corridor: Corridor) -> list[dict[str, Any]]:
    """Every charge and fare of the bundle with what it is, its source and confidence."""
    figures: list[tuple[dict[str, Any], Any]] = [
        ({"country": c.country, "amount": c.amount, "currency": c.currency, "per_km": False}, c)
        for c in corridor.costs.charges
    ]
    figures += [
        ({"country": f.country, "amount": f.per_km, "currency": f.currency, "per_km": True}, f)
        for f in corridor.costs.fares
    ]
    return [
        {
            **figure,
            "year": entry.year or "",
            "what": entry.what,
            "source": entry.source,
            "confidence": entry.confidence,
        }
        for figure, entry in figures
    ]


#: Settlements shown in the chart of minutes lost when borders close.
MINUTES_LOST_SHOWN = 12


def _coverage_by_scenario(
    scenario_times: Sequence[CorridorTravelTimes], service: str
) -> list[dict[str, Any]]:
    """Share of all people within each threshold, threshold by threshold, per scenario."""
    thresholds = scenario_times[0].network.corridor.thresholds_min
    shares: dict[tuple[float, str], float | None] = {}
    for times in scenario_times:  # one set of travel times per scenario, every threshold
        table = access.coverage(nearest_facility_times(times, service), thresholds)
        total = table[(table["country"] == "all") & (table["group"] == "all")]
        for threshold, share in zip(total["threshold_minutes"], total["share"], strict=True):
            shares[(threshold, times.scenario.name)] = float(share)
    return [
        {
            "threshold": threshold,
            "scenario": times.scenario.name,
            "share": shares.get((threshold, times.scenario.name)),
        }
        for threshold in thresholds
        for times in scenario_times
    ]


def _minutes_lost(
    reference: CorridorTravelTimes, closed: CorridorTravelTimes | None
) -> list[dict[str, Any]]:
    """Settlements that lose most minutes to emergency care when borders close."""
    offered = {s for ss in reference.network.corridor.facilities["services"] for s in ss}
    if closed is None or "emergency" not in offered:
        return []
    before = nearest_facility_times(reference, "emergency").set_index("id")["minutes"]
    after = nearest_facility_times(closed, "emergency").set_index("id")
    rows: list[dict[str, Any]] = []
    for settlement_id, row in after.iterrows():
        was, now = float(before.loc[settlement_id]), float(row["minutes"])
        if not np.isfinite(was) or now - was < 1:
            continue
        rows.append(
            {
                "settlement": row["name"],
                "country": row["country"],
                "lost": now - was,
                "care_lost": not np.isfinite(now),
            }
        )
    longest = max([r["lost"] for r in rows if not r["care_lost"]] + [60.0])
    for r in rows:  # care lost altogether: drawn as the longest bar, labelled as such
        r["lost"] = longest if r["care_lost"] else r["lost"]
        r["bar_class"] = "closed" if r["care_lost"] else ""
    rows.sort(key=lambda r: (not r["care_lost"], -float(r["lost"])))
    return rows[:MINUTES_LOST_SHOWN]


def _capacity_use(analysis: referral.ReferralAnalysis) -> list[dict[str, Any]]:
    """Patients assigned to each receiving facility (those receiving any)."""
    return [
        {"name": c["facility"], "country": c["country"], "assigned": c["assigned"]}
        for c in analysis.capacity
        if c["assigned"] > 0
    ]


def _limits(network: CorridorNetwork) -> list[dict[str, Any]]:
    """List what the data cannot support: points left out, capacities unknown (as data)."""
    items: list[dict[str, Any]] = []
    for kind in ("settlement", "facility", "candidate"):
        missing = network.left_out(kind)
        if missing["points"]:
            items.append(
                {
                    "kind": kind,
                    "points": missing["points"],
                    "people": missing["population"] if kind == "settlement" else None,
                    "names": list(missing["names"]),
                    "snap_limit_km": missing["snap_limit_km"],
                }
            )
    facilities = network.corridor.facilities
    unknown = unknown_capacity(facilities)
    if unknown:
        items.append({"kind": "capacity", "unknown": unknown, "total": len(facilities)})
    return items


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
            "profiles_list": sorted(post.profiles_allowed),
            "citizen_minutes": ", ".join(
                f"{d}: {v.get('citizen', '-')}" for d, v in sorted(post.delay_minutes.items())
            ),
            "country_codes": list(post.countries),
            "citizen_delays": [
                (d, v.get("citizen", "–")) for d, v in sorted(post.delay_minutes.items())
            ],
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


def template_environment(
    autoescape: bool, lang: str = "en", names: NameBook | None = None
) -> jinja2.Environment:
    """Jinja2 environment of the package's templates: data are values, never template source.

    Messages go through the language's gettext catalogue (newstyle: values passed to
    ``_()`` are escaped); numbers, shares and dates are formatted for the locale. The
    ``place`` filter writes a bundle's name in the language (``names``: the bundle's
    translations; a name without one stays as it is), ``name`` does so and isolates it.
    """
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("corridor_planner.render", "templates"),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    gettext = translations(lang)
    env.install_gettext_translations(gettext, newstyle=True)  # type: ignore[attr-defined]
    formats = Formats(lang)

    def term(word: Any) -> str:
        return gettext.gettext(TERMS.get(str(word), str(word).replace("_", " ")))

    env.globals["term"] = term
    env.globals["translate"] = gettext.gettext  # a fixed text from the library, no formatting

    def rule_list(pairs: list[list[str]]) -> str:
        return "; ".join(f"{gettext.gettext(name)} ({term(group)})" for name, group in pairs)

    env.globals["rule_list"] = rule_list
    env.globals["lang"] = lang
    env.globals["direction"] = "rtl" if lang in RIGHT_TO_LEFT else "ltr"
    env.filters["term"] = term
    env.filters["pct"] = formats.share
    env.filters["num"] = lambda v, d=0: formats.number(v, d)
    env.filters["date"] = formats.date
    env.filters["md"] = markdown_escape
    env.filters["heading"] = heading
    env.filters["country"] = lambda code: country_name(str(code), lang)
    env.filters["scenario"] = lambda name: gettext.gettext(
        SCENARIO_TITLES.get(str(name), str(name).replace("_", " "))
    )
    env.filters["reliability"] = lambda text: reliability(str(text), gettext.gettext)
    env.filters["prose"] = without_options
    env.filters["bdi"] = isolate if autoescape else (lambda value: value)
    book = names or NameBook()
    env.filters["place"] = lambda name: book.local(name, lang)
    env.filters["name"] = lambda name: env.filters["bdi"](book.local(name, lang))
    env.globals["figure"] = lambda f: figure(f, formats, lang, gettext.gettext)
    env.globals["threshold_min"] = SUMMARY_THRESHOLD_MIN
    return env


def heading(text: Any) -> str:
    """Capitalise the first letter only: ``MDR-TB`` stays, ``МЛУ-ТБ`` is not ``Млу-тб``."""
    value = str(text)
    return value[:1].upper() + value[1:]


_OPTION = re.compile(r"--[a-z]")


def without_options(text: Any) -> str:
    """Drop the clauses of a data text that name a command-line option (``--depart``).

    A report is read by people who never see the command line; a scenario's description
    written for its users ("no departure time unless --depart is given") loses that clause.
    """
    value = str(text)
    if not _OPTION.search(value):
        return value
    stripped = value.rstrip()
    end = stripped[-1] if stripped[-1:] in (".", "۔") else ""
    parts = re.split(r"\s*([;؛])\s*", stripped.rstrip(".۔"))
    kept = [clause for clause in parts[0::2] if not _OPTION.search(clause)]
    separator = (parts[1] if len(parts) > 1 else ";") + " "
    return separator.join(kept) + end


def isolate(value: Any) -> markupsafe.Markup:
    """Wrap a data string in ``<bdi>``, so a Latin name keeps its order in right-to-left text."""
    return markupsafe.Markup("<bdi>{}</bdi>").format(value)


#: The bundles' reliability codes, as words: sourced, estimated, source to be confirmed.
RELIABILITY = {"S?": N_("source to be confirmed"), "S": N_("sourced"), "E": N_("estimate")}
_RELIABILITY_CODE = re.compile(r"(?<![\w?])(S\?|S|E)(?![\w?])")


def reliability(text: str, gettext: Any) -> str:
    """Write the reliability codes of a confidence text (``S?``, ``S``, ``E``) as words."""
    return _RELIABILITY_CODE.sub(lambda m: gettext(RELIABILITY[m.group(1)]), text)


def figure(entry: dict[str, Any], formats: Formats, lang: str = "en", gettext: Any = str) -> str:
    """Write a charge or fare of the bundle in the locale's numbers: ``KG: 8 400 KGS, 2023``."""
    amount = formats.number(entry["amount"], 0 if not entry.get("per_km") else 2)
    text = f"{country_name(entry['country'], lang)}: {amount} {entry['currency']}"
    text += "/" + gettext("km") if entry.get("per_km") else ""
    return text + (f", {entry['year']}" if entry.get("year") else "")


#: Words of the vocabulary that reports show (services, groups, profiles, cover groups).
TERMS = {
    "emergency": N_("emergency"),
    "surgery": N_("surgery"),
    "trauma": N_("trauma"),
    "intensive_care": N_("intensive care"),
    "cardiology": N_("cardiology"),
    "oncology": N_("oncology"),
    "tb": N_("TB"),
    "tb_mdr": N_("MDR-TB"),
    "obstetrics": N_("obstetrics"),
    "paediatrics": N_("paediatrics"),
    "all": N_("all"),
    "border_community": N_("border community"),
    "migrants": N_("migrants"),
    "citizen": N_("citizen"),
    "eaeu_worker": N_("EAEU worker"),
    "third_country": N_("third-country national"),
    "ambulance": N_("ambulance"),
    "patient_handover": N_("patient handover"),
    "cargo": N_("cargo"),
    "resident_insured": N_("resident, insured"),
    "foreign_insured": N_("foreigner, insured"),
    "foreign_uninsured": N_("foreigner, uninsured"),
    "settlement": N_("settlement"),
    "facility": N_("facility"),
    "candidate": N_("candidate site"),
}

#: Titles of the bundled scenarios, by name (a scenario of another name shows its name).
SCENARIO_TITLES = {
    "baseline": N_("today"),
    "borders_closed": N_("borders closed"),
    "agreement": N_("cross-border agreement"),
    "private_engaged": N_("private hospitals contracted"),
    "winter": N_("winter"),
    "summer_weekday": N_("summer weekday"),
    "cis_migrant_card": N_("CIS migrant card"),
    "kg_tj_border_closed": N_("Kyrgyz-Tajik border closed"),
    "kordai_pass_closed": N_("Kordai post closed"),
    "tb_agreement": N_("TB agreement"),
    "pedestrians_suspended": N_("pedestrian crossing suspended"),
    "kkh_landslide_kohistan": N_("Karakoram Highway cut in Kohistan"),
}


def render_html(data: ReportData, lang: str = "en", annex: str = "") -> str:
    """Render the report as one self-contained HTML page (inline CSS and SVG, A4 print).

    Every string from the data is HTML-escaped. ``lang`` is a code of
    :data:`corridor_planner.render.i18n.LANGUAGES`; ``annex`` names the file that holds
    the tables (empty: the tables are part of the page).
    """
    env = template_environment(autoescape=True, lang=lang, names=data.names)
    return env.get_template("report.html.j2").render(r=data, annex=annex)


def render_markdown(data: ReportData, lang: str = "en") -> str:
    """Render the report as Markdown; data strings are escaped so they render as text."""
    env = template_environment(autoescape=False, lang=lang, names=data.names)
    return env.get_template("report.md.j2").render(r=data)


_MARKDOWN_SPECIAL = str.maketrans(
    {c: f"\\{c}" for c in "\\`*_{}[]#+!|"} | {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
)


def markdown_escape(value: Any) -> str:
    """Escape a data string for Markdown: no markup, no raw HTML, no table breaks."""
    return str(value).translate(_MARKDOWN_SPECIAL).replace("\n", " ")


#: The report's formats, by file suffix; the brief and the annex are HTML or PDF.
REPORT_SUFFIXES = (".html", ".pdf", ".md")
BRIEF_SUFFIXES = (".html", ".pdf")


def render_brief_html(data: ReportData, lang: str = "en") -> str:
    """Render the two-page brief: what to do first and a map; the country cards, uncertainty."""
    env = template_environment(autoescape=True, lang=lang, names=data.names)
    return env.get_template("brief.html.j2").render(r=data)


def render_annex_html(data: ReportData, lang: str = "en") -> str:
    """Render the annex: every table of the report's figures, the same numbers."""
    env = template_environment(autoescape=True, lang=lang, names=data.names)
    return env.get_template("annex.html.j2").render(r=data)


def default_report_path(corridor_id: str, lang: str = "en", *, brief: bool = False) -> Path:
    """Return where a report goes by default: ``reports/ID.html``, ``reports/ID_brief_ru.html``."""
    stem = corridor_id + ("_brief" if brief else "") + ("" if lang == "en" else "_" + lang)
    return Path("reports") / f"{file_stem(stem)}.html"


def default_annex_path(report: Path) -> Path:
    """Return where the annex of a report goes by default: beside it, ``NAME_annex.SUFFIX``."""
    return report.with_name(f"{report.stem}_annex{report.suffix}")


def check_report_path(path: Path, lang: str = "en", *, brief: bool = False) -> str:
    """Return the report's format (its suffix) or refuse, before any work, what cannot be written.

    A PDF needs Chromium and, for a language with its own script, a font with its letters.

    Raises
    ------
    CorridorPlannerError
        If the suffix is not one of :data:`REPORT_SUFFIXES` (the brief:
        :data:`BRIEF_SUFFIXES`), or the PDF cannot be printed.
    InvalidArgumentError
        If a Markdown report is asked for in another language than English.
    """
    kind = path.suffix.lower()
    if brief and kind not in BRIEF_SUFFIXES:
        raise CorridorPlannerError(
            f"cannot write {path}: the brief and the annex are .html or .pdf"
        )
    if kind not in REPORT_SUFFIXES:
        raise CorridorPlannerError(f"cannot write {path}: the report is .html, .pdf or .md")
    if kind == ".md" and lang != "en":
        raise InvalidArgumentError("the Markdown report is in English; use .html or .pdf")
    if kind == ".pdf":
        from corridor_planner.render import pdf

        pdf.find_chromium()
        pdf.check_fonts(lang)
    return kind


def _write_page(html: str, path: Path, kind: str) -> Path:
    if kind == ".html":
        return write_text(html, path)
    from corridor_planner.render import pdf

    return write_bytes(pdf.html_to_pdf(html), path)


def write_report(data: ReportData, path: Path, lang: str = "en", annex: Path | None = None) -> Path:
    """Write the report in the format its suffix names (:func:`check_report_path`).

    An HTML or PDF report keeps the narrative and charts; its tables go to the annex,
    ``annex`` or :func:`default_annex_path` beside the report (its own suffix, .html or
    .pdf). The Markdown report holds everything in one file.

    Returns
    -------
    Path
        The report (the annex is ``annex`` or :func:`default_annex_path` of it).
    """
    kind = check_report_path(path, lang)
    if data.large is not None:
        data.large.write(path)  # first: the pages name the files and their rows
    if kind == ".md":
        return write_text(render_markdown(data), path)
    annex = annex or default_annex_path(path)
    annex_kind = check_report_path(annex, lang, brief=True)
    _write_page(render_annex_html(data, lang), annex, annex_kind)
    return _write_page(render_html(data, lang, annex=annex.name), path, kind)


def write_brief(data: ReportData, path: Path, lang: str = "en") -> Path:
    """Write the two-page brief as HTML or PDF (its suffix)."""
    kind = check_report_path(path, lang, brief=True)
    return _write_page(render_brief_html(data, lang), path, kind)
