"""The executed notebook a build keeps for provenance, without a second copy of its images.

A report's notebook, executed, holds everything its page shows — charts and maps as data URIs — so
kept as it is it doubles the report page's size, and an edition of 50,000 reports in tens of GB.
What an analyst re-opening it needs is what made the report: its parameters, code, text outputs,
errors and data version (the footer), and what each figure showed. So every embedded image is
replaced by one line that keeps its alt text (a chart's alt text states its numbers) and links the
report file that holds the image; the paper copy of a tall chart (its parts) goes; everything else
stays as executed. The notebook still opens in JupyterLab and runs again with papermill.

A failed report's notebook keeps its images: no report file holds them.
"""
from __future__ import annotations

import html as _html
import re
from typing import Any

from nbformat import NotebookNode

from zpb_lib.report.html import PRINT_PARTS
from zpb_lib.domain.labels import label

#: Output types whose data an image may be.
IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif", "image/webp")
#: Text outputs searched for embedded images.
TEXT_TYPES = ("text/html", "text/markdown", "text/plain")

# An <img> start tag, its attribute values quoted or not (a quoted value may hold ">").
_IMG = re.compile(r"""<img\b(?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?)*\s*/?>""", re.I)
_ATTR = re.compile(r"""([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
# An image's base64 payload anywhere else (CSS url(), a text repr): what follows the comma goes.
_DATA_URI = re.compile(r"(data:image/[\w.+-]+(?:;[\w=.+-]+)*;base64,)[A-Za-z0-9+/=]{64,}")


def _attributes(tag: str) -> dict[str, str]:
    body = tag[4:].rstrip(">").rstrip("/")
    out: dict[str, str] = {}
    for m in _ATTR.finditer(body):
        value = next((v for v in m.group(2, 3, 4) if v is not None), "")
        out.setdefault(m.group(1).lower(), _html.unescape(value))
    return out


def placeholder(alt: str, report_file: str, lang: str) -> str:
    """The line that stands for an image: its alt text and a link to the report file holding it
    (notebooks sit in ``notebooks/``, the report one folder up)."""
    e = _html.escape
    link = f'<a href="../{e(report_file, quote=True)}">{e(report_file)}</a>'
    return (f'<p class="zpb-omitted-image">[{e(label("provenance.image", lang))} {link}'
            f'{": " + e(alt) if alt else ""}]</p>')


class _Slimmer:
    def __init__(self, report_file: str, lang: str) -> None:
        self.report_file, self.lang = report_file, lang
        self.images = 0

    def html(self, text: str) -> str:
        text = _IMG.sub(self._img, PRINT_PARTS.sub("", text))
        return self.data_uris(text)

    def _img(self, m: re.Match[str]) -> str:
        attrs = _attributes(m.group(0))
        if not attrs.get("src", "").strip().lower().startswith("data:"):
            return m.group(0)
        self.images += 1
        alt = attrs.get("alt", "").strip()
        return placeholder(alt, self.report_file, self.lang)

    @staticmethod
    def data_uris(text: str) -> str:
        return _DATA_URI.sub(r"\1…", text)

    def output(self, output: NotebookNode) -> NotebookNode:
        data = output.get("data")
        if not data:
            return output
        new = dict(data)
        images = [t for t in IMAGE_TYPES if t in new]
        for t in images:
            del new[t]
        if images and "text/html" not in new:
            self.images += 1
            meta = output.get("metadata") or {}
            alt = next((str(meta[t].get("alt", "")) for t in images if isinstance(meta.get(t), dict)), "")
            new["text/html"] = placeholder(alt, self.report_file, self.lang)
        for t in TEXT_TYPES:
            if isinstance(new.get(t), str):
                new[t] = self.html(new[t]) if t != "text/plain" else self.data_uris(new[t])
        out = NotebookNode(dict(output))
        out["data"] = NotebookNode(new)
        return out


def slim_notebook(nb: NotebookNode, report_file: str, lang: str = "pl") -> NotebookNode:
    """A copy of the executed ``nb`` whose outputs hold no image: each one replaced by a placeholder
    naming ``report_file`` (the report's file name, in the folder above the notebook's). ``nb`` is
    not changed. ``metadata.zpb.images`` records the file and how many placeholders there are."""
    slim = _Slimmer(report_file, lang)
    cells = []
    for cell in nb.cells:
        if cell.get("cell_type") == "code" and cell.get("outputs"):
            cell = NotebookNode(dict(cell))
            cell["outputs"] = [slim.output(o) for o in cell["outputs"]]
        cells.append(cell)
    out = NotebookNode(dict(nb))
    out["cells"] = cells
    metadata: dict[str, Any] = dict(nb.get("metadata") or {})
    if slim.images:
        zpb = dict(metadata.get("zpb") or {})
        zpb["images"] = {"in": report_file, "left_out": slim.images}
        metadata["zpb"] = zpb
    out["metadata"] = NotebookNode(metadata)
    return out
