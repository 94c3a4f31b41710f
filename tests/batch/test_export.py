"""Report export: the `zpb` template shows outputs only, stays self-contained, prints well as PDF."""
from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest
from nbformat.v4 import new_code_cell, new_output
from support.browser import require_chromium
from support.notebooks import (TITLE, TITLE_ESCAPED, DIACRITICS, ROWS, HEADER_CELL, SVG, SVG_ALT, SECRETS, make_notebook)

from zpb_lib.batch.export import (
    Exporter,
    NotSelfContainedError,
    ensure_self_contained,
    external_references,
    is_self_contained,
)
from zpb_lib.batch.pdf import PDF_ENGINES
from zpb_lib.core.files import atomic_write


@pytest.fixture(scope="module")
def exporter() -> Exporter:
    return Exporter()


@pytest.fixture(scope="module")
def html(exporter) -> str:
    return exporter.to_html(make_notebook())


# --- HTML -------------------------------------------------------------------------------------


def test_no_code_prompts_streams_or_text_reprs(html):
    for secret in SECRETS:
        assert secret not in html
    for prompt in ("In [", "In&nbsp;[", "Out[", "Traceback", "UserWarning"):
        assert prompt not in html


def test_outputs_are_rendered(html):
    assert html.count("<tr>") == ROWS + 1
    assert html.count("Szkoła nr ") == ROWS
    assert "<strong>Metodologia.</strong>" in html
    assert "<h1>Raport powiatu bocheńskiego</h1>" in html
    assert f"Zażółć gęślą jaźń — {DIACRITICS}." in html
    m = re.search(r'<img [^>]*src="data:image/svg\+xml;base64,([^"]+)"', html)
    assert m and base64.b64decode(m.group(1)).decode("utf-8") == SVG
    assert f'alt="{SVG_ALT}"' in html


def test_self_contained_without_any_script(html):
    assert "<script" not in html.lower()
    # independent of external_references: no scheme-qualified or protocol-relative resource
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:[a-z]+:)?//""", html, re.I)
    assert not re.search(r"""url\(\s*["']?\s*(?:[a-z]+:)?//""", html, re.I)
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", html.split("base64,")[0])
    assert external_references(html) == []


def test_page_head(html):
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="pl">' in html
    assert f"<title>{TITLE_ESCAPED}</title>" in html
    assert "<script>alert(1)" not in html
    assert re.search(r'<meta[^>]*name="viewport"', html)
    assert re.search(r"<style[^>]*>[^<]*\.zpb-banner", html)
    meta = re.search(r"<meta[^>]*Content-Security-Policy[^>]*>", html).group(0)
    csp = re.search(r'content="([^"]+)"', meta).group(1)
    assert "default-src 'none'" in csp and "script-src" not in csp  # nothing may run or load


def test_size_under_two_megabytes(html):
    assert len(html.encode("utf-8")) < 2_000_000


def test_english_report(exporter):
    page = exporter.to_html(make_notebook(title="County report: Bochnia", lang="en", rows=3))
    assert '<html lang="en">' in page
    assert "<title>County report: Bochnia</title>" in page


def test_title_and_lang_from_output_metadata(exporter):
    """A kernel can name its report: display(..., metadata={"zpb": {...}}) under plain papermill."""
    nb = make_notebook(rows=1)
    del nb.metadata["zpb"]
    nb.cells[2].outputs[0].metadata = {"zpb": {"title": "Powiat wielicki & okolice", "lang": "en"}}
    page = exporter.to_html(nb)
    assert "<title>Powiat wielicki &amp; okolice</title>" in page
    assert '<html lang="en">' in page


def test_title_falls_back_to_name_and_lang_to_polish(exporter):
    nb = make_notebook(rows=1)
    nb.metadata["zpb"] = {"lang": "xx"}
    page = exporter.to_html(nb, name="county_report")
    assert "<title>county_report</title>" in page
    assert '<html lang="pl">' in page


def test_error_output_shows_no_traceback(exporter):
    nb = make_notebook(rows=1)
    nb.cells.append(new_code_cell("1/0", outputs=[new_output(
        "error", ename="ZeroDivisionError", evalue="SECRET_EVALUE",
        traceback=["\x1b[31mTraceback (most recent call last)\x1b[0m", "SECRET_FRAME"])]))
    page = exporter.to_html(nb)
    assert "SECRET_EVALUE" not in page and "SECRET_FRAME" not in page and "Traceback" not in page
    assert "Nie udało się przygotować tej części raportu." in page


def test_reused_exporter_gives_identical_pages(exporter, html):
    exporter.to_html(make_notebook(title="Inny raport", lang="en", rows=5))
    assert exporter.to_html(make_notebook()) == html


def test_external_output_is_refused(exporter):
    nb = make_notebook(rows=1)
    nb.cells[2].outputs[0].data["text/html"] = '<img src="https://example.org/x.png" alt="x">'
    with pytest.raises(NotSelfContainedError, match="example.org"):
        exporter.to_html(nb)
    assert "example.org" in exporter.to_html(nb, check=False)


@pytest.mark.parametrize("snippet", [
    '<script src="app.js"></script>',
    '<script src="data:text/javascript,1"></script>',
    '<img src="http://example.org/a.png">',
    "<img src='https://example.org/a.png'>",
    "<img src=//cdn.example.org/a.png>",
    '<img src="local.png">',
    '<img srcset="data:image/png;base64,AA 1x, https://x.org/b.png 2x">',
    '<link rel="stylesheet" href="style.css">',
    '<div style="background: url(https://x.org/b.png)"></div>',
    "<style>.a { background: url('//x.org/b.png') }</style>",
    '<style>@import "print.css";</style>',
    '<a href="https://example.org">x</a>',
    '<a href="//example.org">x</a>',
    '<svg><image href="http://x.org/i.png"/></svg>',
    '<iframe src="https://example.org"></iframe>',
    '<meta http-equiv="refresh" content="0; url=https://example.org">',
])
def test_external_references_are_found(snippet):
    assert external_references(f"<html><body>{snippet}</body></html>")
    assert not is_self_contained(snippet)
    with pytest.raises(NotSelfContainedError):
        ensure_self_contained(snippet)


@pytest.mark.parametrize("snippet", [
    '<img src="data:image/png;base64,iVBORw0KGgo=" alt="">',
    '<a href="county/1201.html">powiat</a> <a href="#sekcja">sekcja</a>',
    '<a href="mailto:zpb@example.org">e-mail</a>',
    '<svg xmlns="http://www.w3.org/2000/svg"><use href="#glyph"/></svg>',
    "<style>/* no url(http://x.org) here */ .a { background: url(data:image/png;base64,AA) }</style>",
    "<p>See https://example.org in the text</p>",
    "<script>var x = 1;</script>",
])
def test_inline_content_is_self_contained(snippet):
    assert external_references(snippet) == []


# --- files ------------------------------------------------------------------------------------


def test_write_html_is_atomic_and_leaves_no_temp_files(exporter, tmp_path):
    target = tmp_path / "out" / "raport.html"
    exporter.write_html(make_notebook(rows=2), target)
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in target.parent.iterdir()] == ["raport.html"]


def test_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "raport.pdf"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_write(target) as f:
            f.write(b"half of a new fi")
            raise RuntimeError("renderer crashed")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["raport.pdf"]


# --- PDF --------------------------------------------------------------------------------------


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        msg = f"{tool} not found: install poppler-utils (listed in .ci/apt-packages)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return path


def _pdf_pages(pdf: Path) -> list[str]:
    out = subprocess.run([_need("pdftotext"), "-layout", str(pdf), "-"], check=True,
                         capture_output=True, text=True).stdout
    return [p for p in out.split("\f") if p.strip()]


@pytest.fixture(scope="module", params=PDF_ENGINES)
def pdf_exporter(request) -> Iterator[Exporter]:
    """An exporter printing with each PDF engine in turn: every PDF test below holds for both."""
    if request.param == "chromium":
        require_chromium()
    exporter = Exporter(pdf_engine=request.param)
    yield exporter
    exporter.close()


@pytest.fixture(scope="module")
def pdf(pdf_exporter, html, tmp_path_factory) -> Path:
    return pdf_exporter.write_pdf(html, tmp_path_factory.mktemp("pdf") / "raport.pdf")


def test_pdf_is_a4_with_polish_text(pdf):
    assert pdf.read_bytes().startswith(b"%PDF-")
    pages = _pdf_pages(pdf)
    assert DIACRITICS in pages[0]
    assert "Raport powiatu bocheńskiego" in pages[0]
    info = subprocess.run([_need("pdfinfo"), str(pdf)], check=True, capture_output=True,
                          text=True).stdout
    size = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info)
    # A4 is 210 × 297 mm = 595.28 × 841.89 pt; Chromium rounds the page to whole CSS pixels.
    assert size and abs(float(size[1]) - 595.28) < 0.5 and abs(float(size[2]) - 841.89) < 0.5, info


def test_pdf_pages_carry_title_banner_and_numbers(pdf):
    pages = _pdf_pages(pdf)
    n = len(pages)
    for i, page in enumerate(pages, start=1):
        assert TITLE in page  # the title as text, never as markup
        assert "Dane syntetyczne" in page
        assert re.search(rf"strona {i} z {n}\s*$", page)


def test_long_table_splits_across_pages_with_repeated_header(pdf):
    pages = _pdf_pages(pdf)
    with_rows = [p for p in pages if "Szkoła nr " in p]
    assert len(with_rows) >= 3
    assert "Szkoła nr 1 w Łącku" in with_rows[0] and f"Szkoła nr {ROWS} w Łącku" in with_rows[-1]
    assert sum(p.count("Szkoła nr ") for p in with_rows) == ROWS  # no row lost or doubled
    assert all(p.count(HEADER_CELL) == 1 for p in with_rows)


def test_pdf_in_english_numbers_pages_in_english(pdf_exporter, tmp_path):
    page_html = pdf_exporter.to_html(make_notebook(title="County report", lang="en", rows=5))
    pages = _pdf_pages(pdf_exporter.write_pdf(page_html, tmp_path / "en.pdf"))
    assert re.search(r"page 1 of 1\s*$", pages[0]) and "County report" in pages[0]


def test_page_header_takes_any_title_and_banner_literally(pdf_exporter, tmp_path):
    # Chromium gets the margin boxes' texts as CSS strings: quotes, backslashes and line breaks in
    # them must print as they are, not end the string.
    title, short = 'Raport "A" \\ B; } @page { x', "Próba \"krótka\""
    nb = make_notebook(title=title, rows=80)
    nb.cells[2].outputs[0].data["text/html"] = (f'<div class="zpb-banner" data-short="{short.replace(chr(34), "&quot;")}">'
                                                 "Dane\n syntetyczne</div>")
    pages = _pdf_pages(pdf_exporter.write_pdf(pdf_exporter.to_html(nb), tmp_path / "t.pdf"))
    assert len(pages) >= 2
    for i, page in enumerate(pages, start=1):
        head = page.splitlines()[0]
        assert title in head and short in head
        assert re.search(rf"strona {i} z {len(pages)}\s*$", page)


def test_pdf_engines_are_who_they_say(pdf_exporter, pdf):
    from pypdf import PdfReader

    producer = (PdfReader(pdf).metadata.producer or "") + " " + (PdfReader(pdf).metadata.creator or "")
    assert ("WeasyPrint" in producer) == (pdf_exporter.pdf_engine == "weasyprint")
    assert ("Skia" in producer or "Chrom" in producer) == (pdf_exporter.pdf_engine == "chromium")


def test_pdf_first_page_renders_to_png(pdf, tmp_path):
    subprocess.run([_need("pdftoppm"), "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf),
                    str(tmp_path / "page")], check=True)
    (png,) = tmp_path.glob("page*.png")
    assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 5_000
