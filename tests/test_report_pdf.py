"""The PDF report, printed by headless Chromium (Debian's chromium) and read back."""

from __future__ import annotations

import os
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
        # (text extraction reorders right-to-left runs: an Urdu phrase it reads back whole)
        title = {
            "en": "Cross-border access",
            "ru": "Отчёт о трансграничной",
            "ur": "ریفرل رپورٹ",
        }
        assert title[lang] in first
        image = document[0].render(scale=1).to_pil().convert("L")
        image.save(tmp_path / f"page1_{lang}.png")
        dark = int((np.asarray(image) < 128).sum())
        assert dark > 2_000  # the first page has text and numbers on it, not a blank sheet
    finally:
        document.close()
    assert not list(tmp_path.glob(".report_*"))  # no half-written temporary file left
    if lang == "ur":  # Urdu letters printed with a font that has them, not as boxes
        assert any("NotoNaskhArabic" in name for name in fonts_used(out))


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
