"""Printable PDF of an HTML report, rendered by headless Chromium (A4, page numbers).

Chromium is driven through Playwright with the machine's own browser (Debian's
``chromium`` package), so nothing is downloaded. The page footer is a fixed template of
this module: no data string is ever part of it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from corridor_planner.errors import CorridorPlannerError
from corridor_planner.extras import require

#: Environment variable naming the Chromium executable, when it is not on the PATH.
CHROMIUM_VARIABLE = "CORRIDOR_PLANNER_CHROMIUM"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
if TYPE_CHECKING:
    from playwright._impl._api_structures import PdfMargins

FOOTER = (
    '<div style="width:100%;font:8px sans-serif;color:#555;text-align:center;">'
    '<span class="pageNumber"></span> / <span class="totalPages"></span></div>'
)
MARGINS: PdfMargins = {"top": "16mm", "bottom": "18mm", "left": "14mm", "right": "14mm"}


def find_chromium() -> str:
    """Return the path of a Chromium executable.

    Raises
    ------
    CorridorPlannerError
        When none is installed, saying how to install one.
    """
    named = os.environ.get(CHROMIUM_VARIABLE)
    if named:
        if not Path(named).is_file():
            raise CorridorPlannerError(f"{CHROMIUM_VARIABLE}={named} is not a file")
        return named
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise CorridorPlannerError(
        "a PDF report needs Chromium: install it (Debian: apt-get install chromium) or set "
        f"{CHROMIUM_VARIABLE} to its path; or write .html and print it from a browser"
    )


#: A letter each script needs a font for, to check before printing (Urdu: U+06D2 YEH BARREE).
SCRIPT_LETTERS = {"ur": ("Urdu", "6d2")}


def check_fonts(lang: str) -> None:
    """Refuse to print a language whose letters no installed font has (they would print as boxes).

    Uses fontconfig's ``fc-list``; where it is missing, nothing is checked.

    Raises
    ------
    CorridorPlannerError
        Saying which font package to install.
    """
    if lang not in SCRIPT_LETTERS or shutil.which("fc-list") is None:
        return
    script, codepoint = SCRIPT_LETTERS[lang]
    found = subprocess.run(
        ["fc-list", f":charset={codepoint}", "family"], capture_output=True, text=True, check=False
    )
    if not found.stdout.strip():
        raise CorridorPlannerError(
            f"no installed font has {script} letters, so the PDF would print boxes: install one "
            "(Debian: apt-get install fonts-noto-core), or write .html"
        )


def html_to_pdf(html: str) -> bytes:
    """Render an HTML page to an A4 PDF with page numbers in the footer.

    Parameters
    ----------
    html : str
        A self-contained page (no network is used: the browser context is offline).

    Returns
    -------
    bytes
        The PDF.
    """
    require("pdf", "corridor_planner.render.pdf.html_to_pdf")
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    executable = find_chromium()
    with tempfile.TemporaryDirectory(prefix="corridor-planner-pdf-") as folder:
        page_file = Path(folder) / "report.html"
        page_file.write_text(html, encoding="utf-8")
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=executable, args=list(CHROMIUM_ARGS)
                )
                try:
                    context = browser.new_context(offline=True)
                    page = context.new_page()
                    page.goto(page_file.as_uri())
                    return page.pdf(
                        format="A4",
                        print_background=True,
                        display_header_footer=True,
                        header_template="<span></span>",
                        footer_template=FOOTER,
                        margin=MARGINS,
                    )
                finally:
                    browser.close()
        except PlaywrightError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CorridorPlannerError(
                f"Chromium ({executable}) failed to start or to print the report: {first}"
            ) from exc
