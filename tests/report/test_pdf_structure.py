"""Reports' PDFs are tagged for accessibility (published on public websites, they fall under the Polish
law on digital accessibility) by both PDF engines: a structure tree, marked as tagged, the document's
language and its title shown by viewers, headings as in the page, tables with header cells, and every
chart and map one Figure whose alternative text is the image's alt text in the HTML (read here from
the HTML itself). WeasyPrint's are also PDF/A-3a (archival) and named PDF/UA-1, with every mark on the
page either tagged content or an artifact.

Checked for a school, a county and the voivodeship report in Polish, and a county report in English.
"""
from __future__ import annotations

import html as htmllib
from html.parser import HTMLParser
from pathlib import Path

import pikepdf
import pytest

from pdf_references import COUNTY, EDITION, ENGINES, build_pdfs

PAINTING = {"f", "F", "f*", "B", "B*", "b", "b*", "S", "s", "Do", "sh", "Tj", "TJ", "'", '"', "BI"}


class _Page(HTMLParser):
    """What a report page says, read from its HTML: language, title, heading levels in order, tables
    (header cells per table) and the alt texts of the figures it shows (its images; not a tall
    chart's parts for paper, which are aria-hidden on the page)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lang = ""
        self.title = ""
        self.headings: list[int] = []
        self.tables = 0
        self.header_cells = 0
        self.alts: list[str] = []
        self._in_title = False
        self._hidden: list[bool] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang") or ""
        elif tag == "title":
            self._in_title = True
        elif len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            self.headings.append(int(tag[1]))
        elif tag == "table":
            self.tables += 1
        elif tag == "th":
            self.header_cells += 1
        if tag == "img":
            if (a.get("src") or "").startswith("data:image/") and not any(self._hidden):
                self.alts.append(a.get("alt") or "")
            return
        self._hidden.append(a.get("aria-hidden") == "true")

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        if self._hidden:
            self._hidden.pop()

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def page(path: Path) -> _Page:
    p = _Page()
    p.feed(path.read_text(encoding="utf-8"))
    p.close()
    return p


def structure(pdf: pikepdf.Pdf) -> list[pikepdf.Dictionary]:
    """The structure elements in reading order (depth first)."""
    out: list[pikepdf.Dictionary] = []

    def walk(node):
        kids = node.get("/K")
        if kids is None:
            return
        for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
            if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                out.append(kid)
                walk(kid)

    walk(pdf.Root.StructTreeRoot)
    return out


def kids(element: pikepdf.Dictionary) -> list[pikepdf.Dictionary]:
    k = element.get("/K")
    if k is None:
        return []
    return [c for c in (k if isinstance(k, pikepdf.Array) else [k]) if isinstance(c, pikepdf.Dictionary) and "/S" in c]


def descendants(element: pikepdf.Dictionary) -> list[pikepdf.Dictionary]:
    out = []
    for c in kids(element):
        out += [c, *descendants(c)]
    return out


def unmarked_painting(pdf: pikepdf.Pdf) -> int:
    """Painting operators outside any marked content (neither tagged content nor an artifact)."""
    count = 0
    for p in pdf.pages:
        depth = 0
        for _, op in pikepdf.parse_content_stream(p):
            name = str(op)
            if name in ("BDC", "BMC"):
                depth += 1
            elif name == "EMC":
                depth -= 1
            elif name in PAINTING and depth == 0:
                count += 1
    return count


@pytest.fixture(scope="module", params=ENGINES)
def reports(request, small_db, reference_pdfs, tmp_path_factory):
    """(engine, {name: (pdf, html)}) for a school, a county and the voivodeship report in Polish (the
    session's, shared with test_pdf_look.py) and the county report in English, HTML and PDF from one
    build each."""
    engine = request.param
    pdfs = reference_pdfs(engine)
    en = build_pdfs(small_db, tmp_path_factory.mktemp(f"pdf-structure-{engine}"), engine, formats="html,pdf",
                    lang="en", names=("county",))
    found = {name: (pdf, pdf.with_suffix(".html")) for name, pdf in pdfs.items()}
    found["county-en"] = (en["county"], en["county"].with_suffix(".html"))
    return engine, found


NAMES = ["school", "county", "voivodeship", "county-en"]


@pytest.mark.parametrize("name", NAMES)
def test_pdf_is_tagged_with_language_and_shown_title(reports, name):
    engine, found = reports
    pdf_path, html_path = found[name]
    html = page(html_path)
    assert html.lang == ("en" if name.endswith("-en") else "pl")
    with pikepdf.open(pdf_path) as pdf:
        root = pdf.Root
        assert "/StructTreeRoot" in root and structure(pdf), engine
        assert root.MarkInfo.Marked is True
        assert str(root.Lang) == html.lang
        assert root.ViewerPreferences.DisplayDocTitle is True
        title = " ".join(htmllib.unescape(html.title).split())
        assert title and str(pdf.docinfo["/Title"]) == title
        if engine == "weasyprint":  # archival and accessible, and says so in its XMP metadata
            with pdf.open_metadata() as xmp:
                assert xmp["pdfaid:part"] == "3" and xmp["pdfaid:conformance"] == "A"
                assert xmp["pdfuaid:part"] == "1"
                assert xmp["dc:title"] == title
            assert root.OutputIntents[0].S == "/GTS_PDFA1"


@pytest.mark.parametrize("name", NAMES)
def test_headings_and_tables_are_tagged(reports, name):
    engine, found = reports
    pdf_path, html_path = found[name]
    html = page(html_path)
    with pikepdf.open(pdf_path) as pdf:
        elements = structure(pdf)
        headings = [int(str(e.S)[2]) for e in elements if str(e.S) in {f"/H{i}" for i in range(1, 7)}]
        assert headings == html.headings, engine
        tables = [e for e in elements if e.S == "/Table"]
        assert html.tables >= 1
        # WeasyPrint tags a table that a page break splits as one Table per page, each with the
        # header row repeated; Chromium as one.
        assert len(tables) >= html.tables if engine == "weasyprint" else len(tables) == html.tables
        header_cells = sum(1 for e in elements if e.S == "/TH")
        assert header_cells >= html.header_cells if engine == "weasyprint" else header_cells == html.header_cells
        for table in tables:
            rows = [e for e in descendants(table) if e.S == "/TR"]
            assert rows, engine
            first = [c.S for c in kids(rows[0])]
            assert first and set(first) == {"/TH"}, (engine, first)  # the header row: header cells


@pytest.mark.parametrize("name", NAMES)
def test_every_figure_has_the_alt_text_of_its_image(reports, name):
    engine, found = reports
    pdf_path, html_path = found[name]
    html = page(html_path)
    with pikepdf.open(pdf_path) as pdf:
        figures = [e for e in structure(pdf) if e.S == "/Figure"]
        alts = [str(f.get("/Alt", "")) for f in figures]
    assert all(a.strip() for a in alts), (engine, alts)
    assert alts == html.alts and alts, engine


@pytest.mark.parametrize("name", NAMES)
def test_weasyprint_marks_everything_it_paints(reports, name):
    """PDF/UA: what is painted is tagged content or an artifact (page headers, borders, backgrounds).
    Chromium leaves such decoration unmarked, which is why only WeasyPrint's PDFs are named PDF/UA."""
    engine, found = reports
    if engine != "weasyprint":
        pytest.skip("Chromium leaves decoration outside marked content (not named PDF/UA)")
    with pikepdf.open(found[name][0]) as pdf:
        assert unmarked_painting(pdf) == 0
