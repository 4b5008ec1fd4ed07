"""The PDF report, printed by headless Chromium (Debian's chromium) and read back."""

from __future__ import annotations

import os
import re
import shutil

import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    if os.environ.get("CI"):
        pytest.fail("CI must install Debian's chromium (see .ci/run)", pytrace=False)
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)


def fonts_used(path) -> set[str]:
    """Names of the fonts the first page's text is set in (pdfium's text API)."""
    import ctypes

    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    document = pdfium.PdfDocument(str(path))
    try:
        text = document[0].get_textpage()
        names = set()
        for index in range(text.count_chars()):
            size = raw.FPDFText_GetFontInfo(text, index, None, 0, None)
            buffer = ctypes.create_string_buffer(size)
            raw.FPDFText_GetFontInfo(text, index, buffer, size, None)
            names.add(buffer.value.decode())
        return names
    finally:
        document.close()


@pytest.mark.parametrize("lang", ["en", "ru", "ur"])
def test_pdf_report_is_a4_with_page_numbers(lang, tmp_path):
    from click.testing import CliRunner

    from corridor_planner import cli

    pdfium = pytest.importorskip("pypdfium2")
    out = tmp_path / f"report_{lang}.pdf"
    result = CliRunner().invoke(
        cli.main, ["report", "almaty_bishkek", "--lang", lang, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    document = pdfium.PdfDocument(str(out))
    try:
        pages = len(document)
        assert pages >= 3
        width, height = document[0].get_size()
        assert (round(width), round(height)) == (596, 843)  # A4 in points
        for index in (0, pages - 1):
            text = document[index].get_textpage().get_text_range()
            assert f"{index + 1} / {pages}" in text  # the footer numbers every page
        first = document[0].get_textpage().get_text_range()
        # (text extraction cuts Nastaliq into its stacked glyphs: Urdu is counted by letter)
        title = {"en": "Cross-border access", "ru": "Отчёт о трансграничной"}
        if lang == "ur":
            assert len(re.findall("[\u0600-\u06ff]", first)) > 200
        else:
            assert title[lang] in first
        image = document[0].render(scale=1).to_pil().convert("L")
        image.save(tmp_path / f"page1_{lang}.png")
        dark = int((np.asarray(image) < 128).sum())
        assert dark > 2_000  # the first page has text and numbers on it, not a blank sheet
    finally:
        document.close()
    assert not list(tmp_path.glob(".report_*"))  # no half-written temporary file left
    if lang == "ur":  # Urdu letters printed with a font that has them, not as boxes
        assert any("NotoNastaliqUrdu" in name for name in fonts_used(out))


def test_urdu_pdf_without_an_urdu_font_is_refused(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from corridor_planner import cli

    if shutil.which("fc-list") is None:
        pytest.skip("fontconfig's fc-list is not installed")
    empty = tmp_path / "fonts.conf"  # a fontconfig that knows no font at all
    empty.write_text("<?xml version='1.0'?><fontconfig></fontconfig>", encoding="utf-8")
    monkeypatch.setenv("FONTCONFIG_FILE", str(empty))
    out = tmp_path / "ur.pdf"
    result = CliRunner().invoke(
        cli.main, ["report", "almaty_bishkek", "--lang", "ur", "--out", str(out)]
    )
    assert result.exit_code == 1
    assert "no installed font has Urdu letters" in result.output
    assert "fonts-noto-core" in result.output and not out.exists()


@pytest.mark.parametrize(
    ("executable", "complaint"),
    [("not-a-file", "is not a file"), ("fails.sh", "failed to start or to print the report")],
)
def test_a_broken_chromium_is_named(tmp_path, monkeypatch, executable, complaint):
    from click.testing import CliRunner

    from corridor_planner import cli

    fake = tmp_path / executable
    if executable.endswith(".sh"):  # a "browser" that exits at once
        fake.write_text("#!/bin/sh\nexit 1\n", encoding="utf-8")
        fake.chmod(0o755)
    monkeypatch.setenv("CORRIDOR_PLANNER_CHROMIUM", str(fake))
    out = tmp_path / "r.pdf"
    result = CliRunner().invoke(cli.main, ["report", "tests/data/tiny_corridor", "--out", str(out)])
    assert result.exit_code == 1
    assert complaint in result.output and not out.exists()


BRIEF_TITLE = {"en": "What to do first", "ru": "Что сделать в первую очередь"}


@pytest.mark.parametrize("lang", ["en", "ru", "ur"])
def test_brief_is_at_most_two_a4_pages(bundled_reports, lang, tmp_path):
    from corridor_planner.render.report import write_brief

    pdfium = pytest.importorskip("pypdfium2")
    for corridor_id, (_, data) in bundled_reports.items():
        out = write_brief(data, tmp_path / f"{corridor_id}_{lang}.pdf", lang)
        document = pdfium.PdfDocument(str(out))
        try:
            assert 1 <= len(document) <= 2, (corridor_id, lang, len(document))
            width, height = document[0].get_size()
            assert (round(width), round(height)) == (596, 843)  # A4
            first = document[0].get_textpage().get_text_range()
            if lang == "ur":  # Nastaliq is extracted glyph stack by glyph stack
                assert len(re.findall("[\u0600-\u06ff]", first)) > 200, corridor_id
            else:
                assert BRIEF_TITLE[lang] in first, (corridor_id, lang)
        finally:
            document.close()
        if lang == "ur":  # Urdu body text in Nastaliq, as Pakistani readers expect
            assert any("NotoNastaliqUrdu" in name for name in fonts_used(out))


#: For every <text> of every <svg>: its box (getBBox) and the view box, in user units.
OUTSIDE_VIEWBOX = """() => {
  const out = [];
  for (const svg of document.querySelectorAll("svg")) {
    const vb = svg.viewBox.baseVal;
    for (const t of svg.querySelectorAll("text")) {
      const b = t.getBBox();
      if (b.x < vb.x - 0.5 || b.y < vb.y - 0.5 || b.x + b.width > vb.x + vb.width + 0.5
          || b.y + b.height > vb.y + vb.height + 0.5) {
        out.push([t.textContent, b.x, b.y, b.width, b.height, vb.width, vb.height]);
      }
    }
  }
  return out;
}"""
#: Charts whose labels are on the left of their bars (in Urdu they must be on the right).
LABELS_LEFT = """() => Array.from(document.querySelectorAll("svg.chart")).filter(svg => {
  const label = svg.querySelector("text.label"), bar = svg.querySelector("rect");
  return label && bar && label.getBBox().x < bar.x.baseVal.value;
}).length"""


def test_no_svg_text_leaves_its_view_box(bundled_reports, tmp_path):
    """Every chart and map label fits its SVG, measured by the browser (getBBox)."""
    from playwright.sync_api import sync_playwright

    from corridor_planner.render import pdf
    from corridor_planner.render.report import render_brief_html, render_html

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=pdf.find_chromium(), args=list(pdf.CHROMIUM_ARGS)
        )
        try:
            page = browser.new_context(offline=True).new_page()
            for corridor_id, (_, data) in bundled_reports.items():
                for lang in ("en", "ru", "ur"):
                    for kind, text in (
                        ("brief", render_brief_html(data, lang)),
                        ("report", render_html(data, lang, annex="annex.html")),
                    ):
                        path = tmp_path / f"{corridor_id}_{kind}_{lang}.html"
                        path.write_text(text, encoding="utf-8")
                        page.goto(path.as_uri())
                        page.evaluate("document.fonts.ready")
                        assert page.locator("svg").count() > 0
                        clipped = page.evaluate(OUTSIDE_VIEWBOX)
                        assert clipped == [], (corridor_id, kind, lang, clipped)
                        if kind == "report":  # charts mirrored in Urdu, not in the others
                            charts = page.locator("svg.chart").count()
                            left = page.evaluate(LABELS_LEFT)
                            assert left == (0 if lang == "ur" else charts), (corridor_id, lang)
        finally:
            browser.close()
