"""The report PDF printed by WeasyPrint: the default engine, which needs nothing but pip.

It prints the page with the print rules of `templates/zpb/static/report.css`, as a tagged PDF —
PDF/A-3a (archival) named PDF/UA-1 too (see `WEASYPRINT_PDF`) — since the law on digital
accessibility asks it of documents on public websites.
"""
from __future__ import annotations

import re
from typing import Any

_STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.S | re.I)
_RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_PDFUA_NS = "http://www.aiim.org/pdfua/ns/id/"


def _identify_pdfua(document: Any, pdf: Any) -> None:
    """Name PDF/UA-1 beside PDF/A in the PDF's XMP metadata (a WeasyPrint finisher). WeasyPrint writes
    one variant's identification; what PDF/UA asks of the document itself — tags, the language, the
    title shown, figures' alternative texts — PDF/A-3a's tagging gives it."""
    # xml.etree: only this finisher needs it, and `zpb --help` loads this module
    import xml.etree.ElementTree as ET

    ref = pdf.catalog.get("Metadata")
    if ref is None:
        return
    stream = pdf.objects[int(ref.split()[0])]  # a reference, b"12 0 R"
    xmp = b"".join(p if isinstance(p, bytes) else str(p).encode() for p in stream.stream)
    start, end = xmp.find(b"<rdf:RDF"), xmp.find(b"</rdf:RDF>")
    if start < 0 or end < 0:
        return
    end += len(b"</rdf:RDF>")
    ET.register_namespace("pdfuaid", _PDFUA_NS)
    rdf = ET.fromstring(xmp[start:end])
    description = rdf.find(f"{{{_RDF_NS}}}Description")
    if description is None:
        return
    description.set(f"{{{_PDFUA_NS}}}part", "1")
    stream.stream = [xmp[:start] + ET.tostring(rdf, encoding="utf-8") + xmp[end:]]


#: How WeasyPrint writes a report's PDF: PDF/A-3a, the archival standard at its accessible level —
#: tagged (headings, tables with header cells, each figure with its alt text, the document's
#: language, its title shown by viewers), fonts embedded, an sRGB output intent — and named PDF/UA-1
#: as well, the ISO standard for accessible PDF (reports are published where the law on digital
#: accessibility applies). About a tenth more time than an untagged PDF (benchmarks/bench_pdf.py).
WEASYPRINT_PDF: dict[str, Any] = {"pdf_variant": "pdf/a-3a", "finisher": _identify_pdfua}


class WeasyPrintEngine:
    """The ``weasyprint`` PDF engine (:class:`zpb_lib.batch.pdf.PdfEngine`).

    PDF cost, measured on the 2-core build machine (WeasyPrint 70 with libharfbuzz-subset0;
    without that library fonts are subset in Python and a one-page report takes ~0.5 s, not ~0.1 s).
    A typical report (a chart, text, a 30-row table; 2 pages): 0.2-0.25 s. One long 3-column table:
    300 rows -> 7 A4 pages, 1.3-2.5 s, +25 MB peak RSS; 3,000 rows -> 66 pages, 12-20 s, +240 MB
    (ranges: the same run on a quiet and on a busy machine).
    WeasyPrint lays out the whole document in memory, so time and memory grow with the rows;
    tables of thousands of rows belong in an annex (CSV), not in a printed report.
    """

    name = "weasyprint"

    def __init__(self) -> None:
        self.pdf_options: dict[str, Any] = dict(WEASYPRINT_PDF)
        # One font configuration and each page's stylesheet parsed once per worker, not once per
        # report (WeasyPrint spends a fifth of a school report's PDF parsing the CSS and computing
        # its selectors' specificity).
        self._fonts: Any = None
        self._stylesheets: dict[str, Any] = {}

    def check(self) -> str | None:
        return None  # a dependency of zpb itself

    def start(self) -> None:
        """WeasyPrint's imports, ahead of the first report."""
        # weasyprint: a second to import; only PDF workers need it
        import weasyprint  # noqa: F401

    def pdf_bytes(self, html: str, base_url: str | None = None) -> bytes:
        """Nothing is fetched from outside the page: only `data:` URLs are allowed, so a stray
        reference costs a missing image and a logged warning, never a network request."""
        from weasyprint import HTML  # heavy import, needed only by PDF workers

        fetcher = _offline_url_fetcher()
        body, stylesheets = self._parsed_styles(html, fetcher)
        doc = HTML(string=body, base_url=base_url, url_fetcher=fetcher)
        return doc.write_pdf(stylesheets=stylesheets, font_config=self._fonts, **self.pdf_options)

    def close(self) -> None:
        """Nothing to release: the parsed stylesheets go with the engine."""

    def _parsed_styles(self, html: str, fetcher: Any) -> tuple[str, list[Any]]:
        """The page without the ``<style>`` elements of its head, and those stylesheets parsed (once
        per distinct text). Given to WeasyPrint as user stylesheets they cascade as before: the page
        has no other author stylesheet, and the user origin ranks above the browser's defaults."""
        # weasyprint: a second to import; only PDF workers need it
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        if self._fonts is None:
            self._fonts = FontConfiguration()
        head_end = html.find("</head>")
        if head_end < 0:
            return html, []
        head, rest = html[:head_end], html[head_end:]
        sheets = []
        for text in _STYLE.findall(head):
            if text not in self._stylesheets:
                self._stylesheets[text] = CSS(string=text, font_config=self._fonts, url_fetcher=fetcher)
            sheets.append(self._stylesheets[text])
        return _STYLE.sub("", head) + rest, sheets


def _offline_url_fetcher() -> Any:
    """A WeasyPrint URL fetcher that serves `data:` URLs and refuses everything else."""
    try:
        # weasyprint: a second to import; only PDF workers need it
        from weasyprint.urls import URLFetcher  # WeasyPrint >= 68
    except ImportError:  # pragma: no cover - older WeasyPrint: plain function fetchers
        # weasyprint: a second to import; only PDF workers need it
        from weasyprint import default_url_fetcher

        def fetch(url: str, *args: Any, **kwargs: Any) -> Any:
            if not url.lower().startswith("data:"):
                raise ValueError(f"refusing to fetch {url!r}: reports are self-contained")
            return default_url_fetcher(url, *args, **kwargs)

        return fetch
    return URLFetcher(allowed_protocols={"data"})
