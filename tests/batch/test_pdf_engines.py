"""Choosing the PDF engine of a build: ``--pdf-engine`` / ``$ZPB_PDF_ENGINE``, refused up front when
Chromium is missing, and a PDF of the other engine rebuilt rather than kept."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support.browser import require_chromium

EDITION = "2025/2026"
COUNTY = "1201"


def zpb_build(db, out: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "zpb_lib.cli", "build", "--db", str(db), "--edition", EDITION,
                           "--out", str(out), "--county", COUNTY, "--only", "county", "--jobs", "1", "--quiet", *args],
                          capture_output=True, text=True, env={**os.environ, **(env or {})})


def manifest(out: Path) -> dict:
    return json.loads((out / EDITION.replace("/", "-") / "manifest.json").read_text(encoding="utf-8"))


def producer(out: Path) -> str:
    from pypdf import PdfReader

    (pdf,) = (out / EDITION.replace("/", "-")).glob(f"powiat-{COUNTY}-*.pdf")
    meta = PdfReader(pdf).metadata
    return f"{meta.producer} {meta.creator}"


def test_switching_engine_rebuilds_the_pdfs(small_db, tmp_path):
    require_chromium()
    out = tmp_path / "reports"
    first = zpb_build(small_db, out, "--format", "pdf", "--pdf-engine", "weasyprint")
    assert first.returncode == 0, first.stderr
    assert "WeasyPrint" in producer(out)
    assert manifest(out)["inputs"]["pdf_engine"] == "weasyprint"

    # The same reports, nothing else changed: with the other engine every PDF is printed again…
    second = zpb_build(small_db, out, "--format", "pdf", env={"ZPB_PDF_ENGINE": "chromium"})
    assert second.returncode == 0, second.stderr
    m = manifest(out)
    assert m["summary"]["built"] == m["summary"]["planned"] == 1 and m["summary"]["skipped"] == 0
    assert {r["pdf_engine"] for r in m["reports"].values()} == {"chromium"}
    assert "WeasyPrint" not in producer(out) and "Skia" in producer(out)

    # …and with the same engine again nothing is.
    third = zpb_build(small_db, out, "--format", "pdf", "--pdf-engine", "chromium")
    assert third.returncode == 0, third.stderr
    assert manifest(out)["summary"]["skipped"] == 1


def test_missing_chromium_is_refused_before_anything_is_built(small_db, tmp_path):
    out = tmp_path / "reports"
    res = zpb_build(small_db, out, "--pdf-engine", "chromium", env={"ZPB_CHROMIUM": str(tmp_path / "no-such-browser")})
    assert res.returncode == 2
    assert "ZPB_CHROMIUM" in res.stderr and "no-such-browser" in res.stderr
    assert "Traceback" not in res.stderr
    assert not out.exists()  # refused before the cube, the folders and the workers


def test_html_only_build_needs_no_pdf_engine(small_db, tmp_path):
    out = tmp_path / "reports"
    res = zpb_build(small_db, out, "--format", "html", env={"ZPB_PDF_ENGINE": "chromium",
                                                            "ZPB_CHROMIUM": str(tmp_path / "none")})
    assert res.returncode == 0, res.stderr
    assert "pdf_engine" not in manifest(out)["inputs"]


def test_unknown_engine_is_refused(small_db, tmp_path):
    res = zpb_build(small_db, tmp_path / "reports", env={"ZPB_PDF_ENGINE": "prince"})
    assert res.returncode == 2 and "unknown PDF engine 'prince'" in res.stderr
    cli = zpb_build(small_db, tmp_path / "reports", "--pdf-engine", "prince")
    assert cli.returncode == 2 and "invalid choice" in cli.stderr


def _wait(condition, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_printer_outlives_its_browser_and_leaves_no_process(tmp_path):
    """A browser killed between two reports costs nothing: the next page gets a new one. Closing the
    printer ends the browser and Playwright's driver."""
    require_chromium()
    import psutil
    from pypdf import PdfReader

    from support.notebooks import make_notebook
    from zpb_lib.batch.pdf.chromium import ChromiumPrinter
    from zpb_lib.batch.export import Exporter

    html = Exporter().to_html(make_notebook(rows=120))
    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    printer = ChromiumPrinter()
    try:
        ours = [p for p in me.children(recursive=True) if p.pid not in before]
        browsers = [p for p in ours if "chrom" in p.name() and not any(a.startswith("--type=") for a in p.cmdline())]
        assert browsers, [p.name() for p in ours]
        first = printer.pdf_bytes(html)
        for p in browsers:
            p.kill()
        psutil.wait_procs(browsers, timeout=30)
        second = printer.pdf_bytes(html)
        pages = [len(PdfReader(io.BytesIO(pdf)).pages) for pdf in (first, second)]
        assert pages[0] >= 2 and pages[1] == pages[0]
    finally:
        printer.close()

    def ours_left() -> list:
        return [p for p in me.children(recursive=True) if p.pid not in before and p.status() != psutil.STATUS_ZOMBIE]

    assert _wait(lambda: not ours_left()), [(p.pid, p.name()) for p in ours_left()]
