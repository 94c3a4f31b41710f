"""The executed notebooks a build keeps for provenance: parameters, code, text outputs, errors and the
data version as executed, each image replaced by a line with its alt text and a link to the report
file that holds it (so an edition folder does not keep every chart twice); a failed report's
notebook keeps its images, which no report file holds."""
from __future__ import annotations

import base64
import html
import json
import re
import shutil
import sqlite3
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from zpb_lib.batch.pipeline import BuildOptions, build
from zpb_lib.batch.provenance import slim_notebook

EDITION = "2025/2026"
COUNTY = "1201"
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
PAYLOAD = re.compile(r"base64,[A-Za-z0-9+/=]{64,}")


class _Figures(HTMLParser):
    """The alt texts of the images a page shows readers (not those in aria-hidden containers: a tall
    chart's copy for paper), in order, and every embedded image's base64 payload."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.alts: list[str] = []
        self.payloads: list[str] = []
        self._open: list[bool] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            src = a.get("src") or ""
            if src.startswith("data:"):
                self.payloads.append(src.split(",", 1)[1])
                if not any(self._open) and a.get("alt"):
                    self.alts.append(a["alt"])
            return
        for m in re.finditer(r"url\(data:[^,]+,([^)]+)\)", a.get("style") or ""):
            self.payloads.append(m.group(1))
        self._open.append(a.get("aria-hidden") == "true")

    def handle_endtag(self, tag):
        if self._open:
            self._open.pop()


def figures(markup: str) -> _Figures:
    p = _Figures()
    p.feed(markup)
    p.close()
    return p


def _schools(db: Path) -> list[str]:
    """Two schools of the county audited in the edition with surveys of both waves (their reports
    show tall survey charts, cut into parts for paper)."""
    con = sqlite3.connect(db)
    try:
        rows = con.execute(
            "SELECT i.rspo FROM institutions i WHERE i.county = ? AND i.rspo IS NOT NULL "
            "AND EXISTS (SELECT 1 FROM audits a WHERE a.institution_id = i.id AND a.edition = ?) "
            "AND (SELECT COUNT(DISTINCT wave) FROM survey_responses r WHERE r.institution_id = i.id "
            "AND r.edition = ?) = 2 ORDER BY i.rspo LIMIT 2", (COUNTY, EDITION, EDITION)).fetchall()
    finally:
        con.close()
    assert len(rows) == 2
    return [str(r[0]) for r in rows]


@pytest.fixture(scope="module")
def built(small_db, tmp_path_factory):
    """Two school reports (HTML and PDF) from notebooks whose last cell fails for the second school,
    after every chart of its report was drawn."""
    good, bad = _schools(small_db)
    tmp = tmp_path_factory.mktemp("provenance")
    nbs = tmp / "notebooks"
    shutil.copytree(NOTEBOOKS, nbs)
    school = nbformat.read(nbs / "school_report.ipynb", as_version=4)
    school.cells.append(nbformat.v4.new_code_cell(
        f"if str(institution) == '{bad}':\n    raise RuntimeError('planted after the charts')"))
    nbformat.write(school, nbs / "school_report.ipynb")
    out = tmp / "out"
    summary = build(BuildOptions(db=str(small_db), edition=EDITION, out=str(out), institutions=(good, bad),
                                 notebooks=str(nbs), jobs=1, progress=False))
    folder = out / EDITION.replace("/", "-")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    entries = {e["key"]: e for e in manifest["reports"].values()}
    return summary, folder, entries[good], entries[bad], nbs


def _stem(entry: dict) -> str:
    return Path(entry["notebook"]).stem


def _outputs_text(nb) -> str:
    return "\n".join(json.dumps(o, ensure_ascii=False) for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def test_a_kept_notebook_holds_no_copy_of_its_reports_images(built):
    summary, folder, good, _, _ = built
    assert [k for k, _ in summary.failed] == [_stem(built[3])]
    stem = _stem(good)
    page = figures((folder / f"{stem}.html").read_text(encoding="utf-8"))
    assert len(page.alts) >= 2 and len(page.payloads) > len(page.alts)  # a tall chart: parts for paper too
    raw = (folder / good["notebook"]).read_text(encoding="utf-8")
    assert not PAYLOAD.search(raw)
    assert not any(p[:64] in raw for p in page.payloads)
    # Each figure the page shows is one line in the notebook, in the same order: its alt text and a
    # link to the report page (the notebook is in notebooks/, the page one folder up).
    nb = nbformat.reads(raw, as_version=4)
    lines = [m for c in nb.cells if c.cell_type == "code" for o in c.outputs
             for m in re.findall(r'<p class="zpb-omitted-image">(.*?)</p>', o.get("data", {}).get("text/html", ""))]
    link = f'<a href="../{stem}.html">{stem}.html</a>'
    prefix = f"[Rysunek jest w raporcie {link}: "
    assert all(line.startswith(prefix) and line.endswith("]") for line in lines), lines[:1]
    assert [html.unescape(line[len(prefix):-1]) for line in lines] == page.alts
    assert nb.metadata.zpb["images"] == {"in": f"{stem}.html", "left_out": len(page.alts)}
    # Far smaller than the page it stands for.
    assert len(raw) < (folder / f"{stem}.html").stat().st_size / 2


def test_a_kept_notebook_keeps_what_made_the_report(built, small_db, data_version):
    _, folder, good, _, nbs = built
    nb = nbformat.read(folder / good["notebook"], as_version=4)
    nbformat.validate(nb)
    source = nbformat.read(nbs / "school_report.ipynb", as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code" and "injected-parameters" not in c.metadata.get("tags", [])]
    assert code == [c.source for c in source.cells if c.cell_type == "code"]
    assert nb.metadata.papermill.parameters["institution"] == good["key"]
    assert nb.metadata.zpb.edition == EDITION and nb.metadata.zpb.key == good["key"]
    # The data version the report names, in the outputs as HTML and as text.
    version = data_version(small_db)
    texts = [o.data for c in nb.cells if c.cell_type == "code" for o in c.outputs if "data" in o]
    assert any(version in d.get("text/html", "") for d in texts) and any(version in d.get("text/plain", "") for d in texts)
    # Text outputs are the words of the page, not its markup.
    plain = "\n".join(d.get("text/plain", "") for d in texts)
    assert "<div" not in plain and "Wersja danych" in plain


def test_a_kept_notebook_runs_again_to_the_same_outputs(built, tmp_path):
    """Provenance that can be checked: papermill runs the kept notebook again (its parameters cell
    and the injected values are there) and, its images left out the same way, gets the same outputs."""
    _, folder, good, _, _ = built
    kept = folder / good["notebook"]
    again = tmp_path / "again.ipynb"
    subprocess.run([sys.executable, "-m", "papermill", str(kept), str(again), "--no-progress-bar"], check=True,
                   capture_output=True, cwd=tmp_path)
    rerun = slim_notebook(nbformat.read(again, as_version=4), f"{_stem(good)}.html")
    assert _outputs(rerun) == _outputs(nbformat.read(kept, as_version=4))


def _outputs(nb) -> list:
    return [[{k: v for k, v in o.items() if k not in ("execution_count", "metadata")} for o in c.outputs]
            for c in nb.cells if c.cell_type == "code"]


def test_a_failed_reports_notebook_keeps_its_images(built):
    _, folder, _, bad, _ = built
    assert bad["status"] == "failed" and not (folder / f"{_stem(bad)}.html").exists()
    nb = nbformat.read(folder / bad["notebook"], as_version=4)
    text = _outputs_text(nb)
    assert PAYLOAD.search(text) and "zpb-omitted-image" not in text
    assert any(o.output_type == "error" and "planted after the charts" in o.evalue
               for c in nb.cells if c.cell_type == "code" for o in c.outputs)


# --------------------------------------------------------------------------- the slimming itself

def _png() -> str:
    return base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4).decode("ascii")


def test_slim_notebook_replaces_every_kind_of_image_and_nothing_else():
    svg = base64.b64encode(b"<svg xmlns='http://www.w3.org/2000/svg'>" + b"<rect/>" * 50 + b"</svg>").decode()
    page = (f'<h2>A</h2><figure><img src="data:image/svg+xml;base64,{svg}" alt="Chart &amp; 3 &gt; 2" width="9">'
            f'<figcaption>c</figcaption></figure><p>text</p>'
            f"<img src='data:image/png;base64,{_png()}'><img src=\"plot.png\" alt=\"a file\">")
    nb = nbformat.v4.new_notebook(metadata={"zpb": {"lang": "en"}})
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_code_cell("show()", outputs=[
            nbformat.v4.new_output("display_data", data={"text/html": page, "text/plain": f"'{page}'"}),
            nbformat.v4.new_output("display_data", data={"image/png": _png(), "text/plain": "<Figure>"},
                                   metadata={"image/png": {"alt": "matplotlib"}}),
            nbformat.v4.new_output("stream", name="stdout", text="progress 50%\n"),
            nbformat.v4.new_output("error", ename="ValueError", evalue="bad", traceback=["line 1"])]),
    ]
    before = nbformat.writes(nb)
    slim = slim_notebook(nb, "report.html", "en")
    assert nbformat.writes(nb) == before  # the notebook given is not changed
    nbformat.validate(slim)
    html_out, png_out, stream, error = slim.cells[1].outputs
    line = '<p class="zpb-omitted-image">[The figure is in the report <a href="../report.html">report.html</a>{}]</p>'
    assert html_out.data["text/html"] == (f"<h2>A</h2><figure>{line.format(': Chart &amp; 3 &gt; 2')}"
                                          f"<figcaption>c</figcaption></figure><p>text</p>{line.format('')}"
                                          '<img src="plot.png" alt="a file">')
    assert not PAYLOAD.search(html_out.data["text/plain"]) and "data:image/png;base64,…" in html_out.data["text/plain"]
    assert set(png_out.data) == {"text/html", "text/plain"}
    assert png_out.data["text/html"] == line.format(": matplotlib") and png_out.data["text/plain"] == "<Figure>"
    assert stream == nb.cells[1].outputs[2] and error == nb.cells[1].outputs[3]
    assert slim.cells[0] == nb.cells[0]
    assert slim.metadata.zpb == {"lang": "en", "images": {"in": "report.html", "left_out": 3}}
    # Without images there is nothing to say.
    plain = nbformat.v4.new_notebook()
    plain.cells = [nbformat.v4.new_code_cell("1", outputs=[nbformat.v4.new_output("execute_result", data={
        "text/plain": "1"}, execution_count=1)])]
    assert slim_notebook(plain, "r.html") == plain
