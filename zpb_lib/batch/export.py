"""Executed notebook -> self-contained HTML -> PDF, written atomically.

Reports travel by e-mail and open offline, so the HTML is one file with the CSS inlined and images
as data URIs, no code and no reference to anything outside it (nbconvert's default `lab` template
loads require.js and MathJax from a CDN on every open). The PDF is WeasyPrint's rendering of the
same HTML with the print rules of `templates/zpb/static/report.css`, or, with the ``chromium``
PDF engine, a headless Chromium's print of it (`zpb_lib.batch.chromium`: about a sixth of the CPU,
needs a browser). Both are tagged PDFs, as the law on digital accessibility asks of documents on
public websites; WeasyPrint's are PDF/A-3a (archival) and PDF/UA-1 (see `WEASYPRINT_PDF`).

One `Exporter` per worker process: nbconvert builds and caches its Jinja environment and template
inside the `HTMLExporter`, so creating one per report costs more than rendering the report.

Plain nbconvert gets the same page and PDF with `jupyter nbconvert --to zpb_html` / `--to zpb_pdf`
(the exporters in `zpb_lib.batch.exporters`, which render with this `Exporter`).
"""
from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from nbconvert import HTMLExporter
from nbformat import NotebookNode
from traitlets.config import Config

#: Directory holding the `zpb` nbconvert template (for `extra_template_basedirs`).
from zpb_lib.batch.files import TEMPLATE_BASEDIR, TEMPLATE_NAME  # noqa: E402,F401  (re-exported)
from zpb_lib.core.errors import ZpbError  # noqa: E402
from zpb_lib.core.files import atomic_write  # noqa: E402
from zpb_lib.batch.pdf_engine import known_pdf_engine

# Only what the template renders; text/plain stays last so that text-only reprs are chosen (and
# dropped) quietly instead of nbconvert warning that an output cannot be represented.
_DATA_PRIORITY = ["text/html", "text/markdown", "image/svg+xml", "image/png", "image/jpeg", "text/plain"]


_STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.S | re.I)


def _identify_pdfua(document: Any, pdf: Any) -> None:
    """Name PDF/UA-1 beside PDF/A in the PDF's XMP metadata (a WeasyPrint finisher). WeasyPrint writes
    one variant's identification; what PDF/UA asks of the document itself — tags, the language, the
    title shown, figures' alternative texts — PDF/A-3a's tagging gives it."""
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


_RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_PDFUA_NS = "http://www.aiim.org/pdfua/ns/id/"

#: How WeasyPrint writes a report's PDF: PDF/A-3a, the archival standard at its accessible level —
#: tagged (headings, tables with header cells, each figure with its alt text, the document's
#: language, its title shown by viewers), fonts embedded, an sRGB output intent — and named PDF/UA-1
#: as well, the ISO standard for accessible PDF (reports are published where the law on digital
#: accessibility applies). About a tenth more time than an untagged PDF (benchmarks/bench_pdf.py).
WEASYPRINT_PDF: dict[str, Any] = {"pdf_variant": "pdf/a-3a", "finisher": _identify_pdfua}


class NotSelfContainedError(ZpbError, ValueError):
    """The HTML refers to something outside itself (a script, an external URL, a local file)."""


def exporter_config() -> Config:
    """nbconvert configuration for reports: our template, nothing but outputs and markdown."""
    c = Config()
    c.HTMLExporter.template_name = TEMPLATE_NAME
    c.HTMLExporter.extra_template_basedirs = [str(TEMPLATE_BASEDIR)]
    c.HTMLExporter.exclude_input = True
    c.HTMLExporter.exclude_input_prompt = True
    c.HTMLExporter.exclude_output_prompt = True
    c.HTMLExporter.exclude_raw = True
    c.HTMLExporter.exclude_unknown = True
    c.HTMLExporter.exclude_anchor_links = True
    c.HTMLExporter.embed_images = True  # markdown images become data URIs
    c.NbConvertBase.display_data_priority = list(_DATA_PRIORITY)
    # classic's conf.json adds Pygments CSS for code highlighting; there is no code to highlight.
    c.CSSHTMLHeaderPreprocessor.enabled = False
    return c


class _ReportHTMLExporter(HTMLExporter):
    """nbconvert's HTML exporter without its last step, which parses the finished page again with
    BeautifulSoup only to give images without ``alt`` a placeholder text and JupyterLab cells a
    ``tabindex``. Every report image has its own alt text and our template has no JupyterLab cells,
    so the step changed nothing but cost a tenth of each report's export."""

    def from_notebook_node(self, nb: NotebookNode, resources: dict[str, Any] | None = None,
                           **kw: Any) -> tuple[str, dict[str, Any]]:
        from nbconvert.exporters.templateexporter import TemplateExporter
        from nbconvert.filters.highlight import Highlight2HTML
        from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

        info = nb.metadata.get("language_info", {})
        self.register_filter("highlight_code", self.filters.get(
            "highlight_code", Highlight2HTML(pygments_lexer=info.get("pygments_lexer", info.get("name")), parent=self)))
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources))
        return TemplateExporter.from_notebook_node(self, nb, resources, **kw)


class Exporter:
    """Renders report notebooks to HTML and PDF; create once per worker and reuse.

    PDF cost, measured on the 2-core build machine (WeasyPrint 70 with libharfbuzz-subset0;
    without that library fonts are subset in Python and a one-page report takes ~0.5 s, not ~0.1 s).
    A typical report (a chart, text, a 30-row table; 2 pages): 0.2-0.25 s. One long 3-column table:
    300 rows -> 7 A4 pages, 1.3-2.5 s, +25 MB peak RSS; 3,000 rows -> 66 pages, 12-20 s, +240 MB
    (ranges: the same run on a quiet and on a busy machine).
    WeasyPrint lays out the whole document in memory, so time and memory grow with the rows;
    tables of thousands of rows belong in an annex (CSV), not in a printed report.
    """

    def __init__(self, pdf_engine: str = "weasyprint") -> None:
        self.pdf_engine = known_pdf_engine(pdf_engine)
        self._printer: Any = None  # the chromium engine's browser, started on first use
        self._html = _ReportHTMLExporter(config=exporter_config())
        # For PDFs: one font configuration and each page's stylesheet parsed once per worker, not
        # once per report (WeasyPrint spends a fifth of a school report's PDF parsing the CSS and
        # computing its selectors' specificity).
        self._fonts: Any = None
        self._stylesheets: dict[str, Any] = {}
        self.weasyprint_options = dict(WEASYPRINT_PDF)

    def to_html(
        self,
        nb: NotebookNode,
        *,
        name: str | None = None,
        base_dir: str | os.PathLike[str] | None = None,
        check: bool = True,
    ) -> str:
        """The report page for an executed notebook.

        `name` is the title fallback when the notebook carries no `zpb.title`; `base_dir` resolves
        relative images in markdown (embedded as data URIs). With `check`, raises
        `NotSelfContainedError` rather than return a page that would reach outside itself.
        """
        metadata: dict[str, str] = {}
        if name:
            metadata["name"] = name
        if base_dir is not None:
            metadata["path"] = str(base_dir)
        html, _ = self._html.from_notebook_node(nb, resources={"metadata": metadata})
        if check:
            ensure_self_contained(html)
        return html

    def write_html(self, nb: NotebookNode, path: str | os.PathLike[str], **kw: Any) -> Path:
        """Render `nb` (see `to_html` for keywords) and write it atomically; returns the path."""
        html = self.to_html(nb, **kw)
        with atomic_write(path) as f:
            f.write(html.encode("utf-8"))
        return Path(path)

    def write_pdf(
        self, html: str, path: str | os.PathLike[str], base_url: str | None = None
    ) -> Path:
        """Write the A4 PDF of a report page atomically; returns the path.

        Nothing is fetched from outside the page: only `data:` URLs are allowed, so a stray
        reference costs a missing image and a logged warning, never a network request.
        """
        with atomic_write(path) as f:
            f.write(self.pdf_bytes(html, base_url))
        return Path(path)

    def pdf_bytes(self, html: str, base_url: str | None = None) -> bytes:
        """The A4 PDF of a report page (see `write_pdf`)."""
        if self.pdf_engine == "chromium":
            return self.start_pdf().pdf_bytes(html)
        from weasyprint import HTML  # heavy import, needed only by PDF workers

        fetcher = _offline_url_fetcher()
        body, stylesheets = self._parsed_styles(html, fetcher)
        doc = HTML(string=body, base_url=base_url, url_fetcher=fetcher)
        return doc.write_pdf(stylesheets=stylesheets, font_config=self._fonts, **self.weasyprint_options)

    def start_pdf(self) -> Any:
        """Get the PDF engine ready ahead of the first report: WeasyPrint's imports, or the browser
        (returned). Raises `chromium.PdfEngineError` when the browser cannot start."""
        if self.pdf_engine == "chromium":
            if self._printer is None:
                from zpb_lib.batch.chromium import ChromiumPrinter

                self._printer = ChromiumPrinter()
            return self._printer
        import weasyprint  # noqa: F401
        return None

    def close(self) -> None:
        """Close the browser of the chromium engine, if one was started (idempotent)."""
        printer, self._printer = self._printer, None
        if printer is not None:
            printer.close()

    def _parsed_styles(self, html: str, fetcher: Any) -> tuple[str, list[Any]]:
        """The page without the ``<style>`` elements of its head, and those stylesheets parsed (once
        per distinct text). Given to WeasyPrint as user stylesheets they cascade as before: the page
        has no other author stylesheet, and the user origin ranks above the browser's defaults."""
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
        from weasyprint.urls import URLFetcher  # WeasyPrint >= 68
    except ImportError:  # pragma: no cover - older WeasyPrint: plain function fetchers
        from weasyprint import default_url_fetcher

        def fetch(url: str, *args: Any, **kwargs: Any) -> Any:
            if not url.lower().startswith("data:"):
                raise ValueError(f"refusing to fetch {url!r}: reports are self-contained")
            return default_url_fetcher(url, *args, **kwargs)

        return fetch
    return URLFetcher(allowed_protocols={"data"})


# --- self-containment check -------------------------------------------------------------------

# Attributes whose value the browser loads as part of the page: only data: URLs or #fragments.
_RESOURCE_ATTRS = {"src", "srcset", "poster", "data", "background", "lowsrc", "dynsrc", "formaction"}
_RESOURCE_HREF_TAGS = {"link", "image", "use", "feimage", "script", "base"}
# Navigation (a/area href) may be relative (the index links to reports) but not leave the machine.
_EXTERNAL_NAV = re.compile(r"^\s*(?:(?:https?|ftp|file|javascript|vbscript):|//|\\\\)", re.I)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_CSS_URL = re.compile(r"""url\(\s*(['"]?)(.*?)\1\s*\)|@import\s+(['"])(.*?)\3""", re.I | re.S)


def _inline_ok(value: str) -> bool:
    v = value.strip().lower()
    return v.startswith(("data:", "#")) or not v


class _RefFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        for name, value in attrs:
            value = value or ""
            if tag == "script" and name == "src":
                self.problems.append(f"<script src={value!r}>")
            elif name in _RESOURCE_ATTRS or (
                name in ("href", "xlink:href") and tag in _RESOURCE_HREF_TAGS
            ):
                if not (_srcset_ok(value) if name == "srcset" else _inline_ok(value)):
                    self.problems.append(f"<{tag} {name}={value!r}>")
            elif name in ("href", "xlink:href", "action", "cite") and _EXTERNAL_NAV.match(value):
                self.problems.append(f"<{tag} {name}={value!r}>")
            elif name == "style":
                self._check_css(value, f"<{tag} style>")
            elif tag == "meta" and name == "content" and "url=" in value.lower():
                self.problems.append(f"<meta content={value!r}>")

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self._check_css(data, "<style>")

    def _check_css(self, css: str, where: str) -> None:
        for m in _CSS_URL.finditer(_CSS_COMMENT.sub("", css)):
            ref = m.group(2) if m.group(2) is not None else m.group(4)
            if m.group(4) is not None or not _inline_ok(ref):
                self.problems.append(f"{where} {m.group(0)[:80]!r}")


def _srcset_ok(value: str) -> bool:
    # candidates are separated by ", " (a data: URL has its own comma, so split on comma+space only)
    return all(c.lower().startswith("data:") for c in re.split(r",\s+", value.strip()) if c)


def external_references(html: str) -> list[str]:
    """Everything in `html` that would load or link outside the file, as short descriptions.

    Flags any `<script src>`, non-`data:` resources (src, srcset, `<link href>`, CSS `url()` and
    `@import`: a relative path would break once the file is e-mailed), and links to http(s), ftp,
    file, javascript: or protocol-relative URLs. Relative links (`<a href="x.html">`) pass: the
    edition index needs them.
    """
    finder = _RefFinder()
    finder.feed(html)
    finder.close()
    return finder.problems


def is_self_contained(html: str) -> bool:
    """True when `external_references(html)` finds nothing."""
    return not external_references(html)


def ensure_self_contained(html: str) -> None:
    """Raise `NotSelfContainedError` listing the first offending references, if any."""
    problems = external_references(html)
    if problems:
        shown = "; ".join(problems[:5])
        more = f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
        raise NotSelfContainedError(f"HTML is not self-contained: {shown}{more}")
