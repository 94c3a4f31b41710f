"""The user guide builds with MkDocs with no warning (`--strict`, as `make docs` does), offline, with the
API reference of every public module; the README links it."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
API_MODULES = ("core", "reference", "store", "domain", "ingest", "report", "batch", "services")
TASK_PAGES = ("first-build", "own-data", "customise", "sharing", "cluster", "shared-database")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    assert "WARNING" not in done.stderr, done.stderr[-4000:]
    return out


def test_make_docs_builds_strictly_into_site():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^docs:", makefile, re.M)
    assert "mkdocs build --strict --site-dir site" in makefile
    assert re.search(r"pip install .*-e '\.\[[^]]*\bdocs\b[^]]*\]'", makefile)  # make test's set-up has mkdocs
    assert "/site/" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()


def test_guide_has_the_tasks_and_the_api_reference(site):
    for page in ("index", "install", *TASK_PAGES, "commands"):
        assert (site / f"{page}.html").is_file(), page
    for module in API_MODULES:
        page = (site / "api" / f"{module}.html").read_text(encoding="utf-8")
        assert f"zpb_lib.{module}" in page, module
        assert 'class="doc doc-object' in page or "doc-heading" in page, module  # rendered from docstrings
    build = (site / "api" / "batch.html").read_text(encoding="utf-8")
    for name in ("Exporter", "ReportPDFExporter", "copy_notebooks", "external_references"):
        assert name in build, name
    files = (site / "api" / "core.html").read_text(encoding="utf-8")
    assert "default_db_path" in files and "atomic_write" in files


def test_guide_loads_nothing_from_the_internet(site):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 15
    loads = re.compile(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", re.I)
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not loads.search(text), (page.name, loads.search(text).group(0))
        assert "cdnjs" not in text and "googletagmanager" not in text and "fonts.googleapis" not in text
    for css in site.rglob("*.css"):
        assert not re.search(r"@import\s+url\(\s*['\"]?https?:|url\(\s*['\"]?https?://", css.read_text(
            encoding="utf-8", errors="replace")), css.name


def test_readme_links_the_guide():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "](docs/index.md)" in readme
    assert "make docs" in readme
