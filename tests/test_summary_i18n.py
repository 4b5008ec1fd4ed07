"""The report's summary page (known answers on the tiny corridor) and its languages."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from corridor_planner.analysis.summary import country_summaries
from corridor_planner.render.i18n import Formats, translations
from corridor_planner.render.report import build_report, render_html
from corridor_planner.routing.traveltimes import CorridorTravelTimes

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "corridor_planner" / "render" / "locale"


@pytest.fixture(scope="module")
def tiny_report(tiny, tiny_network):
    return build_report(tiny_network, [tiny.scenario("baseline"), tiny.scenario("borders_closed")])


class TestSummary:
    def test_tiny_corridor_known_answers(self, tiny, tiny_network):
        baseline = CorridorTravelTimes(tiny_network, "citizen", tiny.scenario("baseline"))
        closed = CorridorTravelTimes(tiny_network, "citizen", tiny.scenario("borders_closed"))
        kz, kg = country_summaries(baseline, closed, [])
        assert (kz.country, kz.population, kg.population) == ("KZ", 11_100, 5_000)
        # Town A (10,000; 42.5 min) and Borderville (800; 45.3 min) reach Hospital D only
        # across post P: within the hour only while it is open
        assert kz.outside_hour == 0 and kz.cooperation_gain == 10_800
        assert kg.cooperation_gain == 0
        # Site B puts Town A and Borderville within 30 min of emergency care
        # no site brings anyone new within the hour (both are within it): judged at 30 min,
        # and the entry says why
        assert kz.best_site == {
            "name": "Site B",
            "id": "cand_b",
            "country": "KZ",
            "newly_covered": 10_800,
            "border_community": 10_800,
            "threshold": 30,
            "reason": "none_within_hour",
        }
        assert kg.best_site is None
        # Faraway (300 people) is beyond the snap limit: said, not silently counted
        assert kz.uncertainty["settlements_left_out"] == 1

    def test_a_bundle_without_candidate_sites_names_no_best_site(self, tiny_copy):
        # an imported bundle often has no candidates: the summary says so, never fails
        import json

        from corridor_planner import build_network, load_corridor

        empty = {"type": "FeatureCollection", "features": []}
        (tiny_copy / "candidates.geojson").write_text(json.dumps(empty))
        corridor = load_corridor(tiny_copy)
        network = build_network(corridor)
        baseline = CorridorTravelTimes(network, "citizen", corridor.scenario("baseline"))
        closed = CorridorTravelTimes(network, "citizen", corridor.scenario("borders_closed"))
        kz, kg = country_summaries(baseline, closed, [])
        assert kz.best_site is None and kg.best_site is None
        assert kz.cooperation_gain == 10_800  # the rest of the summary is unchanged

    def test_first_steps_known_answers(self, tiny, tiny_network):
        from corridor_planner.analysis.summary import first_steps

        baseline = CorridorTravelTimes(tiny_network, "citizen", tiny.scenario("baseline"))
        closed = CorridorTravelTimes(tiny_network, "citizen", tiny.scenario("borders_closed"))
        steps = first_steps(baseline, closed, [])
        assert steps.threshold == 60
        # Site B: nobody new within the hour (all are), 10,800 within 30 min, said why
        assert steps.best_site["name"] == "Site B" and steps.best_site["threshold"] == 30
        assert steps.best_site["reason"] == "none_within_hour"
        # closing post P: Town A and Borderville lose the hour, and care altogether
        assert [c["name"] for c in steps.closing] == ["Town A", "Borderville"]
        assert all(c["closed"] is None and c["loses_hour"] for c in steps.closing)
        assert steps.lose_hour == steps.lose_care == 10_800
        assert steps.failing is None  # no referral analysis given

    def test_places_in_need_when_borders_close(self, tiny, tiny_network):
        closed = CorridorTravelTimes(tiny_network, "citizen", tiny.scenario("borders_closed"))
        (kz, _) = country_summaries(closed, None, [])
        assert kz.outside_hour == 10_800 and kz.cooperation_gain is None
        assert [p["name"] for p in kz.places_in_need] == ["Town A", "Borderville"]
        assert kz.places_in_need[0]["minutes"] is None  # no emergency care reachable

    def test_minutes_lost_chart(self, tiny_report):
        # both KZ settlements lose care altogether when post P closes
        assert [r["settlement"] for r in tiny_report.minutes_lost] == ["Town A", "Borderville"]
        assert all(r["care_lost"] for r in tiny_report.minutes_lost)

    def test_report_leads_with_the_summary(self, tiny_report):
        page = render_html(tiny_report)
        assert page.index("Summary by country") < page.index("Who reaches care in time")
        assert page.index("What to do first") < page.index("Summary by country")
        assert page.index("Who reaches care in time") < page.index("Border posts")
        assert "10,800" in page and "Site B" in page


class TestLanguages:
    @pytest.mark.parametrize("lang", ["ru", "ur"])
    def test_catalogue_translates_every_message(self, lang):
        with (LOCALE / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
            catalogue = read_po(handle, locale=lang)
        with (LOCALE / "messages.pot").open("rb") as handle:
            template = read_po(handle)
        wanted = {m.id for m in template if m.id}
        translated = {m.id for m in catalogue if m.id and m.string and "fuzzy" not in m.flags}
        assert wanted - translated == set()

    def test_template_is_up_to_date(self, tmp_path):
        fresh = tmp_path / "messages.pot"
        command = [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg"]
        command += ["-k", "N_", "--no-location", "--omit-header", "-o", str(fresh), "."]
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        with fresh.open("rb") as handle:
            current = {m.id for m in read_po(handle) if m.id}
        with (LOCALE / "messages.pot").open("rb") as handle:
            committed = {m.id for m in read_po(handle) if m.id}
        assert current == committed, "run make messages and translate what is new"

    def test_locale_numbers_and_dates(self):
        ru, en = Formats("ru"), Formats("en")
        assert ru.number(1234.5, 1) == "1\xa0234,5" and en.number(1234.5, 1) == "1,234.5"
        assert ru.share(0.5) == "50,0%"
        assert ru.date("2026-11-23") == "23 ноября 2026\u202fг."
        assert translations("ru").gettext("Border posts") == "Пункты пропуска"

    def test_unknown_language_is_refused(self):
        from corridor_planner.errors import InvalidArgumentError

        with pytest.raises(InvalidArgumentError, match="available: en, ru, ur"):
            Formats("xx")

    @pytest.mark.parametrize(
        ("bundle", "lang"), [("tiny", "ru"), ("almaty_bishkek", "ru"), ("tiny", "ur")]
    )
    def test_translated_report_has_no_english_but_names(
        self, bundle, lang, tiny_report, almaty_bishkek
    ):
        if bundle == "tiny":
            data, network = tiny_report, None
            from corridor_planner.bundle.corridor import load_corridor

            corridor = load_corridor(ROOT / "tests" / "data" / "tiny_corridor")
        else:
            from corridor_planner.render.report import default_scenarios

            network = almaty_bishkek
            corridor = network.corridor
            data = build_report(network, default_scenarios(corridor))
        page = render_html(data, lang)
        assert f'<html lang="{lang}" dir="{"rtl" if lang == "ur" else "ltr"}">' in page
        text = html.unescape(
            re.sub(r"<[^>]+>", "\n", re.sub(r"<style>.*?</style>", "", page, flags=re.S))
        )
        # the bundled scenarios carry description_ru: their descriptions must be Russian too
        for name in sorted(_names(corridor, bundle == "tiny"), key=len, reverse=True):
            text = text.replace(name, " ")
            text = text.replace(name[:31] + "…", " ")  # as a chart label shortens it
        latin = set(re.findall(r"[A-Za-z]{3,}", text))  # country codes (KZ, KG) are names
        names = {"Lancet", "SOURCES"}  # no command of the tool is named in a report
        assert latin <= names | {"KGS", "KZT", "PKR"}  # and currency codes


def _names(corridor, with_descriptions: bool) -> set[str]:
    """Every data string of a bundle: names, sources, hours, scenarios, files."""
    names = {corridor.name}
    for table in (corridor.facilities, corridor.population, corridor.candidates):
        names |= set(table["name"]) | set(table["source"].dropna())
    for post in corridor.posts.values():
        names |= {post.name, post.source, post.opening_hours, post.season or ""}
    for scenario in corridor.scenarios.values():
        names |= {scenario.name} | ({scenario.description} if with_descriptions else set())
    for entry in (*corridor.costs.charges, *corridor.costs.fares):  # cited figures: data
        names |= {entry.what, entry.source, entry.confidence}
    origins = corridor.origins  # places, sites and legs beyond the corridor: data
    names |= {p.name for p in origins.places.values()} | {s.name for s in origins.tb_sites}
    for leg in origins.legs:  # a one-letter confidence ("E") is no word to strip
        names |= {leg.name, leg.source} | ({leg.confidence} if len(leg.confidence) > 2 else set())
    for key, value in (corridor.metadata.get("files") or {}).items():
        if isinstance(value, dict):
            names |= {str(value.get(k, key)) for k in ("path", "source", "licence")}
    # a confidence's codes (S, E, S?) are written as words; its explanations are data
    confidences = [e.confidence for e in (*corridor.costs.charges, *corridor.costs.fares)]
    confidences += [leg.confidence for leg in origins.legs]
    names |= {part for text in confidences for part in re.findall(r"\(([^)]*)\)", text)}
    return {n for n in names if n}


@pytest.mark.parametrize("bundle", ["cpec", "gwadar"])
def test_urdu_report_gives_every_cpec_scenario_in_urdu(bundle, request):
    """The CPEC bundles carry description_ur: the Urdu report shows it, not the English."""
    from corridor_planner.render.report import default_scenarios

    network = request.getfixturevalue(bundle)
    scenarios = default_scenarios(network.corridor)
    page = html.unescape(render_html(build_report(network, scenarios), "ur"))
    for scenario in scenarios:
        urdu = scenario.translations["ur"]
        assert re.search(r"[\u0600-\u06ff]{3}", urdu), scenario.name
        assert urdu in page
        assert scenario.description not in page
