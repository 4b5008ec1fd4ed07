"""``corridor-planner report``: the ministry report (HTML, PDF or Markdown)."""

from __future__ import annotations

from pathlib import Path

import click

from corridor_planner.cli.formatting import say
from corridor_planner.cli.options import (
    KEEP_ALL_PIECES_OPTION,
    PROFILE_OPTION,
    DeferredChoice,
    friendly_errors,
    out_option,
    refuse_bundle_output,
    refuse_input_output,
    steps,
)
from corridor_planner.extras import require


@click.command(name="report")
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
    type=DeferredChoice("corridor_planner.render.i18n", "LANGUAGES", sort=True),
    default="en",
    show_default=True,
    help="Language of the HTML or PDF report (numbers and dates follow it).",
)
@KEEP_ALL_PIECES_OPTION
@click.option(
    "--brief",
    is_flag=True,
    help="Write the two-page brief (.html or .pdf; default: reports/CORRIDOR_brief.html).",
)
@click.option(
    "--annex",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where the report's tables go (.html or .pdf; default: beside it, NAME_annex).",
)
@out_option("Output file, .html, .pdf or .md (default: reports/CORRIDOR.html).")
@friendly_errors
def command(
    corridor: str,
    scenario_names: tuple[str, ...],
    specialties: tuple[str, ...],
    profile: str,
    sweep_table: Path | None,
    lang: str,
    keep_all_pieces: bool,
    brief: bool,
    annex: Path | None,
    out: Path | None,
) -> None:
    """Write the ministry report: a summary page per country, charts, tables, sources.

    A .pdf is printed by headless Chromium (A4, page numbers).
    """
    if sweep_table is not None:
        require("sweep", "corridor-planner report --sweep")
        from corridor_planner.outputs import write_text
        from corridor_planner.render import sweep_report

        path = out or sweep_report.default_path(corridor)
        refuse_input_output(path, sweep_table)
        write_text(sweep_report.render(sweep_report.read(sweep_table)), path)
        say(f"wrote {path}")
        return
    from corridor_planner.bundle.corridor import load_corridor
    from corridor_planner.cli.options import network_of
    from corridor_planner.render import report

    refuse_bundle_output(out, corridor)
    loaded = load_corridor(corridor)
    path = out or report.default_report_path(loaded.id, lang, brief=brief)
    refuse_bundle_output(path, corridor)
    if annex is not None:
        refuse_bundle_output(annex, corridor)
    if path.suffix.lower() == ".pdf" or (annex and annex.suffix.lower() == ".pdf"):
        require("pdf", "corridor-planner report --out FILE.pdf")
    kind = report.check_report_path(path, lang, brief=brief)  # fail before the work
    if annex is not None and not brief and kind != ".md":
        report.check_report_path(annex, lang, brief=True)
    with steps("report", 3 if kind == ".pdf" else 2) as advance:
        network = network_of(loaded, keep_all_pieces)
        advance()
        scenarios = (
            [loaded.scenario(n) for n in scenario_names]
            if scenario_names
            else report.default_scenarios(loaded)
        )
        data = report.build_report(network, scenarios, specialties or None, profile=profile)
        advance()
        if brief:
            report.write_brief(data, path, lang)
        else:
            report.write_report(data, path, lang, annex)
        if kind == ".pdf":
            advance()
    say(f"wrote {path}")
    if not brief and kind != ".md":
        say(f"wrote {annex or report.default_annex_path(path)}")
