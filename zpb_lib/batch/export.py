"""Executed notebook -> self-contained HTML -> PDF, written atomically.

Reports travel by e-mail and open offline, so the HTML is one file with the CSS inlined and images
as data URIs, no code and no reference to anything outside it (nbconvert's default `lab` template
loads require.js and MathJax from a CDN on every open). The PDF is the same HTML printed by the
chosen PDF engine (:mod:`zpb_lib.batch.pdf`): WeasyPrint's rendering with the print rules of
`templates/zpb/static/report.css`, or a headless Chromium's print of it (about a sixth of the CPU,
needs a browser). Both are tagged PDFs, as the law on digital accessibility asks of documents on
public websites; WeasyPrint's are PDF/A-3a (archival) and PDF/UA-1.

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
from nbconvert.exporters import TemplateExporter
from nbconvert.filters import Highlight2HTML
from nbformat import NotebookNode
from traitlets.config import Config

from zpb_lib.batch import pdf
#: Directory holding the `zpb` nbconvert template (for `extra_template_basedirs`).
from zpb_lib.batch.files import TEMPLATE_BASEDIR, TEMPLATE_NAME  # noqa: F401  (re-exported)
from zpb_lib.core.errors import ZpbError
from zpb_lib.core.files import atomic_write

# Only what the template renders; text/plain stays last so that text-only reprs are chosen (and
# dropped) quietly instead of nbconvert warning that an output cannot be represented.
_DATA_PRIORITY = ["text/html", "text/markdown", "image/svg+xml", "image/png", "image/jpeg", "text/plain"]


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
    so the step changed nothing but cost a tenth of each report's export.

    The page is rendered by the template exporter's own conversion, with the HTML exporter's
    resources (its ``include_css``) and filters. Of the two filters the HTML exporter adds for each
    notebook, the template needs ``highlight_code`` only to exist (it shows no code); the widget-aware
    ``filter_data_type`` chooses as the template exporter's does when, as here, widget views are
    not among the outputs shown (``_DATA_PRIORITY``)."""

    def default_filters(self) -> Any:
        yield from super().default_filters()
        yield ("highlight_code", Highlight2HTML)

    def from_notebook_node(self, nb: NotebookNode, resources: dict[str, Any] | None = None,
                           **kw: Any) -> tuple[str, dict[str, Any]]:
        return TemplateExporter.from_notebook_node(self, nb, resources, **kw)


class Exporter:
    """Renders report notebooks to HTML and PDF; create once per worker and reuse.

    ``pdf_engine`` names the engine that prints the PDFs (:func:`zpb_lib.batch.pdf.engines`); an
    unknown name is refused here. What a PDF costs: see the engines (WeasyPrint's, in memory and
    time, grows with the rows of a report's tables)."""

    def __init__(self, pdf_engine: str = pdf.DEFAULT) -> None:
        self.engine: pdf.PdfEngine = pdf.get(pdf_engine)
        self._html = _ReportHTMLExporter(config=exporter_config())

    @property
    def pdf_engine(self) -> str:
        """The name of the engine that prints the PDFs."""
        return self.engine.name

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

        Nothing is fetched from outside the page, whichever engine prints it: a stray reference
        costs a missing image, never a network request.
        """
        with atomic_write(path) as f:
            f.write(self.pdf_bytes(html, base_url))
        return Path(path)

    def pdf_bytes(self, html: str, base_url: str | None = None) -> bytes:
        """The A4 PDF of a report page (see `write_pdf`)."""
        return self.engine.pdf_bytes(html, base_url)

    def start_pdf(self) -> pdf.PdfEngine:
        """Get the PDF engine ready ahead of the first report (WeasyPrint's imports, or the browser);
        returns it. Raises `pdf.PdfEngineError` when the engine cannot start."""
        self.engine.start()
        return self.engine

    def close(self) -> None:
        """Release what the PDF engine holds (the chromium engine's browser; idempotent)."""
        self.engine.close()


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
