from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest

from corridor_planner.bundle.corridor import load_corridor
from corridor_planner.network.graph import build_network
from corridor_planner.render.i18n import Formats
from corridor_planner.render.report import (
    build_report,
    markdown_escape,
    render_annex_html,
    render_brief_html,
    render_html,
    render_markdown,
)
from tests.helpers import edit_feature

EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def evil_report(tmp_path_factory):
    target = tmp_path_factory.mktemp("evil") / "tiny"
    shutil.copytree(Path(__file__).parent / "data" / "tiny_corridor", target)
    edit_feature(target, "facilities.geojson", "hosp_d", name=EVIL)
    corridor = load_corridor(target)
    network = build_network(corridor)
    return build_report(
        network, [corridor.scenario("baseline"), corridor.scenario("borders_closed")]
    )


def test_facility_name_is_escaped_in_html(evil_report):
    page = render_html(evil_report)
    assert EVIL not in page
    assert html.escape(EVIL, quote=False) in page or "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page.lower()


def test_facility_name_is_escaped_in_markdown(evil_report):
    text = render_markdown(evil_report)
    assert EVIL not in text and "<script" not in text
    assert "&lt;script&gt;alert\\(1\\)&lt;/script&gt;" in text or "&lt;script&gt;" in text


def test_report_contents(evil_report):
    page = render_html(evil_report)
    for heading in (
        "Summary by country",
        "Who reaches care in time",
        "Border posts",
        "Referral pathways",
        "Data sources and precision",
    ):
        assert heading in page
    assert "@page { size: A4" in page and "<svg" in page
    assert "http://" not in page and "https://" not in page  # self-contained


def test_markdown_escape():
    assert markdown_escape("a|b *c* [d](e) <i>") == "a\\|b \\*c\\* \\[d\\](e) &lt;i&gt;"


def test_bundled_report_has_every_section(almaty_bishkek):
    corridor = almaty_bishkek.corridor
    data = build_report(
        almaty_bishkek, [corridor.scenario(n) for n in ("baseline", "borders_closed", "agreement")]
    )
    assert {s.specialty for s in data.specialties} >= {
        "emergency",
        "surgery",
        "cardiology",
        "oncology",
    }
    oncology = next(s for s in data.specialties if s.specialty == "oncology")
    assert oncology.analysis.rates == {"KZ": 208.6, "KG": 88}  # registered KZ rate, KG derived
    assert oncology.analysis.assigned == pytest.approx(oncology.analysis.demand, rel=1e-3)
    page = render_html(data)
    assert "Kordai (KZ) – Ak-Zhol (KG)" in page


def test_refusals_for_the_same_reason_share_one_line(almaty_bishkek):
    corridor = almaty_bishkek.corridor
    data = build_report(almaty_bishkek, [corridor.scenario("baseline")], ["tb_mdr"])
    (section,) = data.specialties
    # no MDR-TB site takes a Kazakh citizen in the bundle: one reason, every KZ settlement
    kazakh = set(corridor.population.loc[corridor.population["country"] == "KZ", "name"])
    assert len(section.analysis.refusals) == len(kazakh)
    assert [set(g["origins"]) for g in section.refusal_groups] == [kazakh]
    page = render_html(data)
    assert page.count("no pathway") == 1


def test_report_follows_tajik_migrants_home(almaty_bishkek):
    """The TB continuity section: every nationality, the Kyzyl-Bel way to Dushanbe, sources."""
    from dataclasses import replace

    from corridor_planner.analysis.continuity import continuity_pathways
    from corridor_planner.render.report import default_scenarios
    from corridor_planner.routing.traveltimes import CorridorTravelTimes

    data = build_report(almaty_bishkek, default_scenarios(almaty_bishkek.corridor))
    entries = {c["nationality"]: c for c in data.continuity}
    assert set(entries) == {"KZ", "KG", "TJ"}
    tajik = entries["TJ"]
    assert tajik["home"] == "Dushanbe"  # the most populous place of Tajikistan in origins.toml
    times = CorridorTravelTimes(
        almaty_bishkek, "third_country", almaty_bishkek.corridor.scenario("baseline")
    )
    almaty = next(r for r in continuity_pathways(times, "TJ", "Dushanbe") if r.host == "Almaty")
    shown = next(r for r in tajik["rows"] if r["host"] == "Almaty")  # the largest host
    assert shown["home_minutes"] == almaty.home_minutes
    assert [leg["name"] for leg in tajik["beyond_corridor"]][1] == "Kyzyl-Bel (KG) - Isfara (TJ)"
    assert tajik["complete"] + tajik["incomplete"] == len(almaty_bishkek.corridor.population)
    page = render_html(data)
    assert "Kyzyl-Bel (KG) - Isfara (TJ)" in page and "Sputnik Kyrgyzstan 2019-04-13" in page
    assert "Kyzyl-Bel (KG) - Isfara (TJ)" in render_markdown(data)
    # a leg's text is data: escaped like any other
    evil = dict(tajik, beyond_corridor=[dict(tajik["beyond_corridor"][0], name="<b>x</b>")])
    page = render_html(replace(data, continuity=[evil]))
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page


def _text(page: str) -> str:
    """The words of a page: no style sheet, no tags."""
    page = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_service_names_keep_their_capitals(almaty_bishkek):
    corridor = almaty_bishkek.corridor
    data = build_report(almaty_bishkek, [corridor.scenario("baseline")], ["tb_mdr"])
    page = render_html(data, "ru")
    assert "МЛУ-ТБ" in page and "Млу-тб" not in page  # no title-casing of a service id
    assert "MDR-TB" in render_html(data)


def test_charges_and_fares_in_the_locale_format(bundled_reports):
    network, data = bundled_reports["almaty_bishkek"]
    charge = max(network.corridor.costs.charges, key=lambda c: c.amount)
    assert charge.amount >= 1000
    annex = render_annex_html(data, "ru")
    assert f"{Formats('ru').number(charge.amount)} {charge.currency}" in annex  # 8 400 KGS
    assert f"{charge.amount:,.0f} {charge.currency}" not in annex  # not 8,400 KGS
    assert f"{charge.amount:,.0f} {charge.currency}" in render_annex_html(data, "en")


def test_the_annex_holds_the_tables_with_the_same_numbers(bundled_reports):
    _, data = bundled_reports["almaty_bishkek"]
    report = render_html(data, "en", annex="almaty_bishkek_annex.html")
    annex = render_annex_html(data, "en")
    assert "almaty_bishkek_annex.html" in report
    for heading in ("Border posts", "Sources of the charges and fares", "Receiving facility"):
        assert heading not in report and heading in annex
    cells = re.findall(r"<td[^>]*>(.*?)</td>", annex)
    words = {html.unescape(re.sub(r"<[^>]+>", "", c)) for c in cells}
    number = Formats("en").number
    for service, rows in data.coverage.items():
        for row in rows:
            if row["population"] > 0:
                assert number(row["covered"]) in words, (service, row)
    for section in data.specialties:
        for p in section.analysis.pathways:
            assert p.origin in words and number(p.minutes) in words
    for post in data.posts:
        assert post["name"] in words
    # the tables are the ones the report held before: render them inline and compare
    inline = render_html(data, "en")
    inline_cells = re.findall(r"<td[^>]*>.*?</td>", inline)
    report_cells = re.findall(r"<td[^>]*>.*?</td>", report)
    assert sorted(inline_cells) == sorted(report_cells + re.findall(r"<td[^>]*>.*?</td>", annex))


@pytest.mark.parametrize("lang", ["en", "ru", "ur"])
def test_no_report_refers_to_a_command_line(bundled_reports, lang):
    for corridor_id, (_, data) in bundled_reports.items():
        for page in (
            render_brief_html(data, lang),
            render_html(data, lang, annex="a.html"),
            render_annex_html(data, lang),
        ):
            text = _text(page)
            for word in ("command", "CLI", "corridor-planner", " --", "--depart"):
                assert word not in text, (corridor_id, lang, word)


@pytest.mark.parametrize("lang", ["ru", "ur"])
def test_translated_brief_has_no_latin_words_beyond_untranslated_names(bundled_reports, lang):
    for corridor_id, (_, data) in bundled_reports.items():
        text = _text(render_brief_html(data, lang))
        for name in sorted(data.names.untranslated(lang), key=len, reverse=True):
            text = text.replace(name, " ")
        latin = set(re.findall(r"[A-Za-z]{2,}", text))
        assert latin == set(), (corridor_id, lang, latin)


@pytest.mark.parametrize("lang", ["ru", "ur"])
def test_translated_pages_write_the_bundles_names_in_the_language(bundled_reports, lang):
    for corridor_id, (_, data) in bundled_reports.items():
        for render in (render_brief_html, render_html, render_annex_html):
            english, local = _text(render(data, "en")), _text(render(data, lang))
            shown = [n for n, t in data.names.translations[lang].items() if n in english]
            for name in shown:
                assert data.names.local(name, lang) in local, (corridor_id, render, name)


def test_the_brief_map_names_the_referral_city(bundled_reports):
    _, data = bundled_reports["cpec_gwadar"]
    assert "Karachi" in [label["text"] for label in data.map["labels"]["en"]]
    assert "کراچی" in [label["text"] for label in data.map["labels"]["ur"]]
    assert "کراچی" in render_brief_html(data, "ur")


def test_brief_leads_with_what_to_do_first(bundled_reports):
    _, data = bundled_reports["almaty_bishkek"]
    page = render_brief_html(data, "en")
    steps = data.first_steps
    assert steps is not None and steps.best_site is not None
    assert page.index("What to do first") < page.index("Summary by country")
    assert steps.best_site["name"] in page and "<svg" in page and "http" not in page
    # the full report opens with the same first steps, not with a caveat
    report = render_html(data, "en", annex="a.html")
    assert report.index("What to do first") < report.index("What these data cannot support")
