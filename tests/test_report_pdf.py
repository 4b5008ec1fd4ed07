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


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_pdf_report_is_a4_with_page_numbers(lang, tmp_path):
    from click.testing import CliRunner

    import cli

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
        title = "Отчёт о трансграничной" if lang == "ru" else "Cross-border access"
        assert title in first
        image = document[0].render(scale=1).to_pil().convert("L")
        image.save(tmp_path / f"page1_{lang}.png")
        dark = int((np.asarray(image) < 128).sum())
        assert dark > 2_000  # the first page has text and numbers on it, not a blank sheet
    finally:
        document.close()
    assert not list(tmp_path.glob(".report_*"))  # no half-written temporary file left
