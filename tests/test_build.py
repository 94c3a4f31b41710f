"""End to end: `zpb build` over a small edition — self-contained HTML without code, key figures equal
to what SQL gives, PDF text with diacritics, one planted failure that stops nothing else, skipping
of unchanged reports, and the notebooks running under plain papermill + nbconvert."""
from __future__ import annotations

import datetime as dt
import html as htmllib
import json
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from zpb_lib.build.export import external_references
from zpb_lib.build.pipeline import BuildOptions, build
from zpb_lib.cli import main

EDITION = "2025/2026"
COUNTY = "1201"
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.fixture(scope="module")
def built(small_db, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    summary = build(BuildOptions(db=str(small_db), edition=EDITION, out=str(out), formats=("html",), jobs=2,
                                 progress=False))
    pdf = build(BuildOptions(db=str(small_db), edition=EDITION, out=str(out), formats=("html", "pdf"), jobs=1,
                             counties=(COUNTY,), only=("county",), progress=False))
    return summary, pdf, out / "2025-2026"


def test_every_report_built(built, small_db, data_version):
    summary, pdf, folder = built
    assert summary.ok and pdf.ok, (summary.failed, pdf.failed)
    con = sqlite3.connect(small_db)
    # Schools: every institution audited in the edition or taking part in it.
    schools = {r[0] for r in con.execute(
        "SELECT institution_id FROM audits WHERE edition = ? UNION SELECT institution_id FROM participation "
        "WHERE joined_edition <= ? AND (left_edition IS NULL OR left_edition >= ?)", (EDITION, EDITION, EDITION))}
    con.close()
    assert summary.total == 1 + 22 + len(schools)
    htmls = sorted(folder.glob("*.html"))
    assert len(htmls) == summary.total + 1  # + index.html
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["summary"]["failed"] == 0 and len(manifest["reports"]) == summary.total
    assert manifest["versions"]["papermill"]
    # The manifest and the reports name the same data version.
    assert manifest["inputs"]["data_hash"] == data_version(small_db)
    assert data_version(small_db) in next(folder.glob(f"powiat-{COUNTY}-*.html")).read_text(encoding="utf-8")
    assert all((folder / r["notebook"]).exists() for r in manifest["reports"].values())


def test_html_is_clean_and_self_contained(built):
    _, _, folder = built
    for path in folder.glob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert external_references(text) == [], path.name
        assert not re.search(r"<(img|script|link|iframe)[^>]+(src|href)=[\"']?(https?:)?//", text), path.name
        assert "Traceback" not in text and "Error" not in text.replace("zpb-error", ""), path.name
        if path.name != "index.html":
            assert "from zpb_lib" not in text and "report.header()" not in text, path.name
            assert 'class="input' not in text and "In&nbsp;[" not in text, path.name
            assert path.stat().st_size < 2 * 2 ** 20, path.name
            assert "Dane syntetyczne" in text


def _tiles(text: str) -> dict[str, str]:
    pairs = re.findall(r'<dt class="zpb-tile-label">(.*?)</dt><dd class="zpb-tile-value">(.*?)</dd>', text)
    return {htmllib.unescape(k): htmllib.unescape(v).replace("\u00a0", "") for k, v in pairs}


def test_county_key_figures_equal_sql(built, small_db):
    _, _, folder = built
    text = next(folder.glob(f"powiat-{COUNTY}-*.html")).read_text(encoding="utf-8")
    tiles = _tiles(text)
    start = 2025
    ceremony = "2026-10-15"
    con = sqlite3.connect(small_db)
    q = lambda sql, *a: con.execute(sql, a).fetchone()[0]  # noqa: E731
    institutions = q("SELECT COUNT(*) FROM institutions WHERE county = ? AND opened_year <= ? "
                     "AND (closed_year IS NULL OR closed_year > ?)", COUNTY, start, start)
    participating = q("SELECT COUNT(DISTINCT p.institution_id) FROM participation p JOIN institutions i "
                      "ON i.id = p.institution_id WHERE i.county = ? AND p.joined_edition <= ? AND "
                      "(p.left_edition IS NULL OR p.left_edition >= ?) AND i.opened_year <= ? AND "
                      "(i.closed_year IS NULL OR i.closed_year > ?)", COUNTY, EDITION, EDITION, start, start)
    audits = q("SELECT COUNT(*) FROM audits a JOIN institutions i ON i.id = a.institution_id "
               "WHERE i.county = ? AND a.edition = ?", COUNTY, EDITION)
    granted = q("SELECT COUNT(*) FROM awards w JOIN institutions i ON i.id = w.institution_id "
                "WHERE i.county = ? AND w.edition = ?", COUNTY, EDITION)
    leaders = q("SELECT COUNT(DISTINCT w.institution_id) FROM awards w JOIN institutions i ON i.id = w.institution_id "
                "JOIN participation p ON p.institution_id = w.institution_id WHERE i.county = ? AND w.kind = 'leader' "
                "AND w.awarded_on <= ? AND (p.left_edition IS NULL OR p.left_edition >= ?)", COUNTY, ceremony, EDITION)
    con.close()
    assert tiles["Placówki"] == str(institutions)
    assert tiles["Uczestniczą w programie"] == str(participating)
    assert tiles["Audyty w tej edycji"] == str(audits)
    assert tiles["Przyznane wyróżnienia"] == str(granted)
    assert tiles["Liderzy Projektu"] == str(leaders)
    rate = f"{100 * participating / institutions:.1f}".replace(".", ",") + "%"
    assert tiles["Odsetek uczestniczących"] == rate


def test_pdf_text_has_county_name_with_diacritics(built):
    from pypdf import PdfReader

    _, pdf, folder = built
    path = next(folder.glob(f"powiat-{COUNTY}-*.pdf"))
    reader = PdfReader(path)
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "powiat bocheński" in text
    assert "Najważniejsze liczby" in text and "strona 1 z" in text
    assert len(reader.pages) >= 3


def test_index_lists_reports(built):
    _, _, folder = built
    index = (folder / "index.html").read_text(encoding="utf-8")
    links = set(re.findall(r'href="([^"#]+)"', index))
    assert links and all((folder / htmllib.unescape(l)).exists() for l in links)
    assert "powiat bocheński" in index and 'type="search"' in index


def test_second_build_skips_everything(built, small_db):
    summary, _, folder = built
    again = build(BuildOptions(db=str(small_db), edition=EDITION, out=str(folder.parent), formats=("html",), jobs=2,
                               progress=False))
    assert again.ok and again.built == 0 and again.skipped == summary.total and not again.cube_rebuilt


def test_planted_error_fails_alone(small_db, tmp_path, capsys):
    """A customised notebook folder whose school notebook fails for one institution."""
    con = sqlite3.connect(small_db)
    ids = [r[0] for r in con.execute(
        "SELECT DISTINCT a.institution_id FROM audits a JOIN institutions i ON i.id = a.institution_id "
        "WHERE a.edition = ? AND i.county = ? ORDER BY 1", (EDITION, COUNTY))]
    con.close()
    assert len(ids) >= 2
    bad = ids[0]
    nbs = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, nbs)
    school = nbformat.read(nbs / "school_report.ipynb", as_version=4)
    school.cells.insert(2, nbformat.v4.new_code_cell(
        f"if institution == {bad}:\n    raise RuntimeError('planted error in the data of institution {bad}')"))
    nbformat.write(school, nbs / "school_report.ipynb")
    out = tmp_path / "out"
    status = main(["build", "--db", str(small_db), "--edition", EDITION, "--county", COUNTY, "--only", "school",
                   "--format", "html", "--jobs", "2", "--out", str(out), "--notebooks", str(nbs), "--quiet"])
    printed = capsys.readouterr().out
    assert status == 1
    assert f"planted error in the data of institution {bad}" in printed
    folder = out / "2025-2026"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    states = {int(r["key"]): r["status"] for r in manifest["reports"].values()}
    assert states[bad] == "failed" and all(s == "ok" for k, s in states.items() if k != bad)
    failed = nbformat.read(folder / manifest["reports"][next(k for k, r in manifest["reports"].items()
                                                             if r["status"] == "failed")]["notebook"], as_version=4)
    assert any(o.get("output_type") == "error" for c in failed.cells if c.cell_type == "code" for o in c.outputs)
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert "planted error" in index  # the index lists the failure instead of hiding it


def test_plain_papermill_and_nbconvert(small_db, tmp_path):
    """One notebook run with the papermill command line and converted by jupyter nbconvert, no zpb build."""
    executed = tmp_path / "county.ipynb"
    subprocess.run([sys.executable, "-m", "papermill", str(NOTEBOOKS / "county_report.ipynb"), str(executed),
                    "-p", "county", "1261", "-p", "db", str(small_db), "-p", "edition", EDITION, "--no-progress-bar"],
                   check=True, capture_output=True, cwd=tmp_path)
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", str(executed)], check=True,
                   capture_output=True, cwd=tmp_path)
    text = (tmp_path / "county.html").read_text(encoding="utf-8")
    assert "m. Kraków" in text and "Najważniejsze liczby" in text
