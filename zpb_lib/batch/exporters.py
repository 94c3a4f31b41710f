"""nbconvert exporters for report notebooks: ``jupyter nbconvert --to zpb_html`` and ``--to zpb_pdf``.

Installed as entry points of the group ``nbconvert.exporters``, so nbconvert and everything built on
it finds them: JupyterLab's "File → Save and Export Notebook As…" menu lists them (as "Zpb_html" and
"Zpb_pdf"), next to nbconvert's own formats.

They are thin nbconvert front ends to :class:`zpb_lib.batch.export.Exporter`, the object ``zpb build``
renders every report with, so a report notebook run in JupyterLab or by plain papermill and exported
here gives the page and the PDF the build writes: one self-contained HTML file (outputs only, CSS
inlined, images as data URIs, nothing loaded from outside) and its A4 PDF from WeasyPrint (or from a
headless Chromium with ``ZPB_PDF_ENGINE=chromium``, as ``zpb build --pdf-engine chromium``). nbconvert's
default `html` export instead shows the code and loads require.js and MathJax from the internet.

nbconvert's own preprocessing still runs first, so its options keep working:
``jupyter nbconvert --to zpb_pdf --execute county_report.ipynb`` runs the notebook, then exports it.
"""
from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import Any

from nbconvert.exporters import Exporter as NbconvertExporter
from nbformat import NotebookNode
from traitlets import default

from zpb_lib.batch import pdf
from zpb_lib.batch.export import Exporter

_lock = threading.Lock()
_shared: Exporter | None = None


def shared_exporter() -> Exporter:
    """The process's report :class:`Exporter`, made on first use (its template environment is built
    once, as in a build worker)."""
    global _shared
    if _shared is None:
        _shared = Exporter(pdf_engine=pdf.from_environment())
    return _shared


def report_html(nb: NotebookNode, resources: dict[str, Any] | None = None) -> str:
    """The report page of an executed notebook, as ``zpb build`` renders it. ``resources`` is
    nbconvert's: its ``metadata.name`` (the notebook's file name) is the title when the notebook names
    none, its ``metadata.path`` the folder relative images in markdown are read from."""
    meta = (resources or {}).get("metadata") or {}
    # One render at a time: nbconvert's exporter keeps per-call state, and Jupyter's server exports
    # from several threads.
    with _lock:
        return shared_exporter().to_html(nb, name=meta.get("name") or None, base_dir=meta.get("path") or None)


def report_pdf(html: str) -> bytes:
    """The PDF of a report page, as ``zpb build`` writes it (:meth:`Exporter.write_pdf`)."""
    with tempfile.TemporaryDirectory(prefix="zpb-pdf-") as tmp:
        path = Path(tmp) / "report.pdf"
        shared_exporter().write_pdf(html, path)
        return path.read_bytes()


class ReportHTMLExporter(NbconvertExporter):
    """``--to zpb_html``: the self-contained report page."""

    export_from_notebook = "ZPB report (HTML)"
    output_mimetype = "text/html"

    @default("file_extension")
    def _file_extension_default(self) -> str:
        return ".html"

    def from_notebook_node(self, nb: NotebookNode, resources: dict[str, Any] | None = None,
                           **kw: Any) -> tuple[str, dict[str, Any]]:
        nb_copy, resources = super().from_notebook_node(nb, resources, **kw)  # nbconvert's preprocessors
        return report_html(nb_copy, resources), resources


class ReportPDFExporter(NbconvertExporter):
    """``--to zpb_pdf``: the report's A4 PDF (binary output)."""

    export_from_notebook = "ZPB report (PDF)"
    output_mimetype = "application/pdf"

    @default("file_extension")
    def _file_extension_default(self) -> str:
        return ".pdf"

    def from_notebook_node(self, nb: NotebookNode, resources: dict[str, Any] | None = None,
                           **kw: Any) -> tuple[bytes, dict[str, Any]]:
        nb_copy, resources = super().from_notebook_node(nb, resources, **kw)
        return report_pdf(report_html(nb_copy, resources)), resources
