"""nbconvert exporters `zpb_html` and `zpb_pdf`: a report notebook run by plain papermill (or in
JupyterLab) and exported with `jupyter nbconvert --to zpb_html|zpb_pdf`, or from JupyterLab's export
menu, gives the self-contained page and the PDF that `zpb build` writes, through the same Exporter."""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from pypdf import PdfReader

from support.browser import require_chromium

from zpb_lib.batch.export import Exporter, external_references
from zpb_lib.batch.plan import notebooks_dir

BIN = Path(sys.executable).parent
TITLE_PL = "Raport powiatowy — powiat bocheński — 2025/2026"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZPB_")}
    env["PYTHONWARNINGS"] = "ignore"
    return env


@pytest.fixture(scope="module")
def executed(small_db, tmp_path_factory) -> Path:
    """county_report.ipynb for county 1201, run by the papermill command line on the zpb kernel, as an
    analyst would run it (its own database copy: the notebook caches its cube next to it)."""
    where = tmp_path_factory.mktemp("nbconvert")
    db = where / "zpb.sqlite"
    shutil.copy(small_db, db)
    out = where / "county.ipynb"
    done = subprocess.run([str(BIN / "papermill"), str(notebooks_dir() / "county_report.ipynb"), str(out),
                           "-p", "county", "1201", "-p", "db", str(db), "--no-progress-bar"],
                          cwd=where, env=_env(), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    nb = nbformat.read(out, as_version=4)
    assert "zpb" not in nb.metadata  # plain papermill: only the report itself names the page
    return out


def _nbconvert(nb_path: Path, to: str, out_dir: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", to, str(nb_path), "--output-dir", str(out_dir)],
                          cwd=nb_path.parent, env={**_env(), **env}, capture_output=True, text=True, timeout=900)


def test_exporters_are_installed_for_nbconvert_and_jupyterlab():
    """JupyterLab's export menu lists what /api/nbconvert returns: every installed exporter with its
    output MIME type (jupyter_server's NbconvertRootHandler, mirrored here)."""
    from nbconvert.exporters import get_export_names, get_exporter

    names = get_export_names()
    assert {"zpb_html", "zpb_pdf"} <= set(names)
    html_cls, pdf_cls = get_exporter("zpb_html"), get_exporter("zpb_pdf")
    assert (html_cls.output_mimetype, html_cls().file_extension) == ("text/html", ".html")
    assert (pdf_cls.output_mimetype, pdf_cls().file_extension) == ("application/pdf", ".pdf")
    assert html_cls.export_from_notebook and pdf_cls.export_from_notebook
    helped = subprocess.run([str(BIN / "jupyter"), "nbconvert", "--help-all"], capture_output=True, text=True,
                            env=_env(), timeout=300)
    assert "'zpb_html'" in helped.stdout and "'zpb_pdf'" in helped.stdout


def test_nbconvert_to_zpb_html_is_the_build_page(executed, tmp_path):
    done = _nbconvert(executed, "zpb_html", tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    page = (tmp_path / "county.html").read_text(encoding="utf-8")
    assert external_references(page) == []
    assert "<script" not in page.lower() and "require.js" not in page and "mathjax" not in page.lower()
    # the title and language the build gives this report, named by the report's own header
    assert re.search(r"<title>(.*?)</title>", page).group(1) == TITLE_PL
    assert '<html lang="pl">' in page
    assert "Raport powiatowy: powiat bocheński" in page
    assert "report.key_figures()" not in page and "CountyReport" not in page  # no code
    # one implementation: exactly what the build's Exporter renders from this notebook
    nb = nbformat.read(executed, as_version=4)
    assert page == Exporter().to_html(nb, name="county", base_dir=str(executed.parent))


@pytest.mark.parametrize("engine", ["weasyprint", "chromium"])
def test_nbconvert_to_zpb_pdf(executed, tmp_path, engine):
    if engine == "chromium":
        require_chromium()
    done = _nbconvert(executed, "zpb_pdf", tmp_path, ZPB_PDF_ENGINE=engine)
    assert done.returncode == 0, done.stderr[-3000:]
    data = (tmp_path / "county.pdf").read_bytes()
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    assert ("Skia" in (reader.metadata.producer or "")) == (engine == "chromium")  # $ZPB_PDF_ENGINE chose it
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    assert "Raport powiatowy: powiat bocheński" in text
    assert "KPP" in text or "Komenda Powiatowa Policji w Bochni" in text
    assert reader.pages[0].mediabox.width == pytest.approx(595.3, abs=1)  # A4, as the build prints


def test_exporters_through_the_api_as_jupyter_server_calls_them(executed):
    """jupyter_server's export handler: exporter(config=…).from_notebook_node(nb, resources) with the
    notebook's name, folder and the server's config folder; a PDF is bytes."""
    from nbconvert.exporters import get_exporter
    from traitlets.config import Config

    nb = nbformat.read(executed, as_version=4)
    resources = {"metadata": {"name": "county", "modified_date": "1 January 2026", "path": str(executed.parent)},
                 "config_dir": str(executed.parent)}
    html, res = get_exporter("zpb_html")(config=Config()).from_notebook_node(nb, resources=resources)
    assert res["output_extension"] == ".html" and external_references(html) == []
    pdf, res = get_exporter("zpb_pdf")(config=Config()).from_notebook_node(nb, resources=resources)
    assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF-") and res["output_extension"] == ".pdf"
    assert "outputs" not in res or not res["outputs"]  # a single file, not a zip of several


def test_report_header_names_the_page_as_the_build_does(small_db, tmp_path):
    """The header's display carries zpb.title / zpb.lang: the build's title for the same report."""
    from zpb_lib.batch.pipeline import full_title
    from zpb_lib.batch.plan import plan
    from zpb_lib.reference import reference
    from zpb_lib.report.context import open_cube
    from zpb_lib.report.county import CountyReport
    from zpb_lib.report.school import SchoolReport
    from zpb_lib.report.voivodeship import VoivodeshipReport

    db = tmp_path / "zpb.sqlite"
    shutil.copy(small_db, db)
    cube = open_cube(None, str(db), None)
    ref = reference()
    edition = cube.meta["edition"]
    institutions = cube.table("institutions")
    for lang in ("pl", "en"):
        jobs = plan(institutions, ref, edition, lang=lang)
        by_kind = {}
        for job in jobs:
            by_kind.setdefault(job.kind, job)
        reports = {"voivodeship": VoivodeshipReport(cube, lang=lang),
                   "county": CountyReport(cube, by_kind["county"].key, lang=lang),
                   "school": SchoolReport(cube, by_kind["school"].key, lang=lang)}
        for kind, report in reports.items():
            data, metadata = report.header()._repr_mimebundle_()
            assert metadata == {"zpb": {"title": full_title(by_kind[kind], lang), "lang": lang}}, kind
            assert data["text/html"] == str(report.header())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_jupyterlab_export_menu(executed, tmp_path):
    """A Jupyter server (what JupyterLab runs on), on loopback: /api/nbconvert — the list JupyterLab's
    "Save and Export Notebook As…" menu is made from — has both exporters, and the menu's download
    URLs give the report page and its PDF."""
    root = tmp_path / "lab"
    root.mkdir()
    shutil.copy(executed, root / "county.ipynb")
    port, token = _free_port(), "zpb-test-token"
    env = dict(_env(), JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    server = subprocess.Popen(
        [str(BIN / "jupyter"), "server", "--no-browser", f"--ServerApp.root_dir={root}", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         "--allow-root"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"

    def get(path: str) -> tuple[bytes, str]:
        req = urllib.request.Request(base + path, headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(req, timeout=300) as resp:
            return resp.read(), resp.headers.get("Content-Type", "")

    try:
        for _ in range(600):  # bounded: up to about two minutes for the server to start on a busy machine
            if server.poll() is not None:
                pytest.fail(f"jupyter server exited: {server.stderr.read()[-2000:]}")
            try:
                get("/api/status")
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("jupyter server did not answer")
        formats = json.loads(get("/api/nbconvert")[0])
        assert formats["zpb_html"] == {"output_mimetype": "text/html"}
        assert formats["zpb_pdf"] == {"output_mimetype": "application/pdf"}
        page, ctype = get("/nbconvert/zpb_html/county.ipynb?download=true")
        assert ctype.startswith("text/html")
        page_text = page.decode("utf-8")
        assert external_references(page_text) == [] and f"<title>{TITLE_PL}</title>" in page_text
        pdf, ctype = get("/nbconvert/zpb_pdf/county.ipynb?download=true")
        assert ctype.startswith("application/pdf") and pdf.startswith(b"%PDF-")
        text = "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages)
        assert "powiat bocheński" in text
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
