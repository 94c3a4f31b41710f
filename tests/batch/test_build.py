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

from bs4 import BeautifulSoup

from support.complexes import counted, in_edition, represented
from support.identity import renumber, shows_number
from zpb_lib.batch.export import external_references
from zpb_lib.batch.pipeline import BuildOptions, build
from zpb_lib.cli import main

EDITION = "2025/2026"
COUNTY = "1201"
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


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
    # Schools: every institution audited in the edition or taking part in it, itself or with its complex.
    schools = {r[0] for r in con.execute(f"SELECT i.id FROM institutions i WHERE {in_edition('i', EDITION, 2025)}")}
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
    # An unknown opening year counts as existing; a complex and the schools taking part with it count once.
    institutions = q("SELECT COUNT(*) FROM institutions i WHERE county = ? AND (opened_year IS NULL OR opened_year <= ?) "
                     f"AND (closed_year IS NULL OR closed_year > ?) AND {counted('i', EDITION, start)}",
                     COUNTY, start, start)
    participating = q("SELECT COUNT(DISTINCT p.institution_id) FROM participation p JOIN institutions i "
                      "ON i.id = p.institution_id WHERE i.county = ? AND p.joined_edition <= ? AND "
                      "(p.left_edition IS NULL OR p.left_edition >= ?) AND (i.opened_year IS NULL OR i.opened_year <= ?) AND "
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
    # A report an older build made (named by internal id) that this plan no longer has: its files go.
    stale = "placowka-17-stara-nazwa"
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    # (with the sizes its files had when that build wrote them: only such files are zpb's to remove)
    manifest["reports"][stale] = dict(next(iter(manifest["reports"].values())), key="17", html=f"{stale}.html",
                                      outputs={"html": 2, "ipynb": 2})
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    files = [folder / f"{stale}.html", folder / "notebooks" / f"{stale}.ipynb"]
    for f in files:
        f.write_text("{}", encoding="utf-8")
    again = build(BuildOptions(db=str(small_db), edition=EDITION, out=str(folder.parent), formats=("html",), jobs=2,
                               progress=False))
    assert again.ok and again.built == 0 and again.skipped == summary.total and not again.cube_rebuilt
    assert not any(f.exists() for f in files)
    assert stale not in json.loads(manifest_path.read_text(encoding="utf-8"))["reports"]
    assert stale not in (folder / "index.html").read_text(encoding="utf-8")


def test_planted_error_fails_alone(small_db, tmp_path, capsys):
    """A customised notebook folder whose school notebook fails for one institution."""
    con = sqlite3.connect(small_db)
    ids = [str(r[0]) for r in con.execute(
        "SELECT DISTINCT i.rspo FROM audits a JOIN institutions i ON i.id = a.institution_id "
        "WHERE a.edition = ? AND i.county = ? ORDER BY 1", (EDITION, COUNTY))]
    con.close()
    assert len(ids) >= 2
    bad = ids[0]  # an RSPO number: the notebook's parameter
    nbs = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, nbs)
    school = nbformat.read(nbs / "school_report.ipynb", as_version=4)
    school.cells.insert(2, nbformat.v4.new_code_cell(
        f"if str(institution) == '{bad}':\n    raise RuntimeError('planted error in the data of institution {bad}')"))
    nbformat.write(school, nbs / "school_report.ipynb")
    out = tmp_path / "out"
    status = main(["build", "--db", str(small_db), "--edition", EDITION, "--county", COUNTY, "--only", "school",
                   "--format", "html", "--jobs", "2", "--out", str(out), "--notebooks", str(nbs), "--quiet"])
    printed = capsys.readouterr().out
    assert status == 1
    assert f"planted error in the data of institution {bad}" in printed
    folder = out / "2025-2026"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    states = {r["key"]: r["status"] for r in manifest["reports"].values()}
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


# --------------------------------------------------------------------------- identifiers people use

IN_EDITION_SQL = (f"SELECT i.name, i.rspo, i.polon, i.county, CASE WHEN {represented('i', EDITION, 2025)} THEN "
                  "i.parent_rspo END FROM institutions i WHERE " + in_edition("i", EDITION, 2025))


def _in_edition(db) -> list[tuple[str, int | None, str | None, str, int | None]]:
    """Institutions with a report: name, RSPO, POL-on id, county, and the complex's RSPO number for
    a school taking part with its complex."""
    con = sqlite3.connect(db)
    try:
        return con.execute(IN_EDITION_SQL).fetchall()
    finally:
        con.close()


def test_school_reports_are_named_by_rspo_number(built, small_db):
    """Every school report's key is its RSPO number (a university's its POL-on id) and its file
    name placowka-<RSPO>-… (uczelnia-<POL-on id>-…); the report's header names it."""
    _, _, folder = built
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    schools = {stem: r for stem, r in manifest["reports"].items() if r["kind"] == "school"}
    expected = {(str(rspo) if rspo is not None else polon): (name, rspo, polon)
                for name, rspo, polon, *_ in _in_edition(small_db)}
    assert {r["key"] for r in schools.values()} == set(expected)
    assert any(p is not None for _, _, p in expected.values()), "the demo should have a university taking part"
    for stem, r in schools.items():
        name, rspo, polon = expected[r["key"]]
        prefix = f"placowka-{rspo}-" if rspo is not None else f"uczelnia-{polon}-"
        assert stem.startswith(prefix) and r["title"] == name, stem
        assert r["identifier"] == (f"RSPO {rspo}" if rspo is not None else f"POL-on {polon}")
    stem, r = next((s, r) for s, r in schools.items() if s.startswith("placowka-"))
    page = BeautifulSoup((folder / f"{stem}.html").read_text(encoding="utf-8"), "html.parser")
    name, rspo, _ = expected[r["key"]]
    assert page.find("h1").get_text() == f"Raport placówki: {name}"
    assert any(p.get_text().startswith(f"RSPO {rspo} · ") for p in page.select("p.zpb-subtitle"))
    index = BeautifulSoup((folder / "index.html").read_text(encoding="utf-8"), "html.parser")
    item = next(li for li in index.select("li[data-search]") if f"placowka-{rspo}-" in str(li))
    assert f"RSPO {rspo}" in item.get_text() and str(rspo) in item["data-search"]


def test_county_institution_list_shows_rspo_numbers(built, small_db):
    """The county report's institution list: the RSPO / POL-on column of every row is that
    institution's identifier in the database."""
    _, _, folder = built
    page = BeautifulSoup(next(folder.glob(f"powiat-{COUNTY}-*.html")).read_text(encoding="utf-8"), "html.parser")
    table = next(t for t in page.find_all("table") if t.find("caption").get_text().startswith("Placówki uczestniczące"))
    head = [th.get_text() for th in table.find("thead").find_all("th")]
    assert head[:2] == ["Placówka", "RSPO / POL-on"]
    shown = sorted(tuple(td.get_text() for td in tr.find_all(["td", "th"])[:2]) for tr in table.find("tbody").find_all("tr"))
    # A school taking part with its complex is named as one of the complex's.
    expected = sorted((f"{name} — w zespole {cx}" if cx else name, str(rspo) if rspo is not None else polon)
                      for name, rspo, polon, county, cx in _in_edition(small_db) if county == COUNTY)
    assert shown == expected and shown
    assert any(" — w zespole " in name for name, _ in shown)  # the small demo has a complex in this county


def test_build_by_rspo_number(small_db, tmp_path):
    con = sqlite3.connect(small_db)
    rspo, name = con.execute("SELECT i.rspo, i.name FROM institutions i JOIN audits a ON a.institution_id = i.id "
                             "WHERE a.edition = ? AND i.rspo IS NOT NULL ORDER BY i.rspo DESC LIMIT 1",
                             (EDITION,)).fetchone()
    con.close()
    status = main(["build", "--db", str(small_db), "--edition", "2025-2026", "--institution", str(rspo),
                   "--format", "html", "--out", str(tmp_path), "--quiet"])
    assert status == 0
    folder = tmp_path / "2025-2026"
    (page,) = [p.name for p in folder.glob("*.html") if p.name != "index.html"]
    assert page.startswith(f"placowka-{rspo}-")
    text = (folder / page).read_text(encoding="utf-8")
    assert f"RSPO {rspo} · " in text and htmllib.escape(name, quote=False) in text


def test_county_by_name_equals_county_by_teryt(small_db, tmp_path):
    """`--county bocheński` builds exactly the reports of `--county 1201`: same files, each run with
    the same notebook parameters."""
    def reports(county: str) -> dict[str, dict]:
        out = tmp_path / county
        assert main(["build", "--db", str(small_db), "--edition", EDITION, "--only", "county,school", "--format",
                     "html", "--out", str(out), "--quiet", "--county", county]) == 0
        folder = out / "2025-2026"
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["reports"]
        params = {}
        for stem, r in manifest.items():
            assert r["status"] == "ok" and (folder / f"{stem}.html").exists()
            nb = nbformat.read(folder / r["notebook"], as_version=4)
            p = nb.metadata["papermill"]["parameters"]
            params[stem] = {k: v for k, v in p.items() if k not in ("cube", "db")}  # paths differ by folder
        return params

    by_teryt = reports("1201")
    assert by_teryt and {p.get("county") for s, p in by_teryt.items() if s.startswith("powiat-")} == {COUNTY}
    assert reports("bocheński") == by_teryt


@pytest.mark.parametrize("given, says", [("999999", "RSPO 999999"), ("12ab", "'12ab'"),
                                          ("0b5e0c3a-1d2f-4e5a-8b7c-9d0e1f2a3b4c", "POL-on 0b5e0c3a")])
def test_unknown_institution_is_a_clean_error(small_db, tmp_path, capsys, given, says):
    con = sqlite3.connect(small_db)
    assert con.execute("SELECT COUNT(*) FROM institutions WHERE rspo = 999999 OR polon LIKE '0b5e0c3a%'").fetchone()[0] == 0
    con.close()
    status = main(["build", "--db", str(small_db), "--institution", given, "--out", str(tmp_path), "--quiet"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("zpb build: ") and says in err and "Traceback" not in err
    assert not (tmp_path / "2025-2026" / "cube.sqlite").exists()  # refused before any work


def test_unknown_county_is_a_clean_error(small_db, tmp_path, capsys):
    assert main(["build", "--db", str(small_db), "--county", "gdański", "--out", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'gdański'" in err and "1201 bocheński" in err


def test_an_ambiguous_county_is_asked_and_a_name_is_said(small_db, tmp_path, capsys):
    """„Tarnów” is m. Tarnów and the seat of powiat tarnowski: the build asks which; a county given
    by a name only one county answers to is built, saying which it took."""
    assert main(["build", "--db", str(small_db), "--county", "Tarnów", "--out", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "ambiguous" in err and "m. Tarnów (1263)" in err and "tarnowski (1216)" in err
    assert not (tmp_path / "2025-2026" / "cube.sqlite").exists()
    assert main(["build", "--db", str(small_db), "--county", "Olkusz", "--only", "county", "--format", "html",
                 "--out", str(tmp_path)]) == 0
    assert "--county Olkusz: powiat olkuski (1212)" in capsys.readouterr().out
    assert [p.name for p in (tmp_path / "2025-2026").glob("powiat-*.html")] == ["powiat-1212-olkuski.html"]


def test_no_report_shows_an_internal_id(small_copy, tmp_path):
    """One audited, awarded school gets an internal id no RSPO number equals: no report, index page
    or executed notebook output of the build shows that number, and its own report shows its RSPO."""
    inst = renumber(small_copy)
    out = tmp_path / "out"
    for run in (dict(counties=(inst.county,)), dict(only=("voivodeship",))):
        s = build(BuildOptions(db=str(small_copy), edition=EDITION, out=str(out), formats=("html",), jobs=2,
                               progress=False, **run))
        assert s.ok, s.failed
    folder = out / "2025-2026"
    own = next(folder.glob(f"placowka-{inst.rspo}-*.html")).read_text(encoding="utf-8")
    assert f"RSPO {inst.rspo}" in own
    checked = 0
    for path in [*folder.glob("*.html"), *(folder / "notebooks").glob("*.ipynb")]:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb":  # what the notebook shows: its outputs
            nb = nbformat.reads(text, as_version=4)
            text = json.dumps([c.get("outputs", []) for c in nb.cells], ensure_ascii=False)
        assert not shows_number(text, inst.id), path.name
        checked += 1
    assert checked > 5
    voiv = (folder / "wojewodztwo.html").read_text(encoding="utf-8")
    assert shows_number(voiv, inst.rspo)  # in the ranking and the ceremony list, by its RSPO number


def test_school_notebook_takes_an_rspo_number_under_plain_papermill(small_db, tmp_path):
    """`papermill -p institution 123456` passes a number; without the parameter, or with an unknown
    number, the run fails with a message that says what to pass."""
    con = sqlite3.connect(small_db)
    rspo, name = con.execute("SELECT i.rspo, i.name FROM institutions i JOIN audits a ON a.institution_id = i.id "
                             "WHERE a.edition = ? AND i.rspo IS NOT NULL ORDER BY i.rspo LIMIT 1", (EDITION,)).fetchone()
    assert con.execute("SELECT COUNT(*) FROM institutions WHERE rspo = 999999").fetchone()[0] == 0
    con.close()

    def run(*params: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "papermill", str(NOTEBOOKS / "school_report.ipynb"),
                               str(tmp_path / "school.ipynb"), "-p", "db", str(small_db), "-p", "edition", EDITION,
                               *params, "--no-progress-bar"], capture_output=True, text=True, cwd=tmp_path)

    done = run("-p", "institution", str(rspo))
    assert done.returncode == 0, done.stderr
    nb = nbformat.read(tmp_path / "school.ipynb", as_version=4)
    shown = json.dumps([c.outputs for c in nb.cells if c.cell_type == "code"], ensure_ascii=False)
    assert f"RSPO {rspo} · " in shown and f"Raport placówki: {htmllib.escape(name, quote=False)}" in shown
    missing = run()
    assert missing.returncode != 0 and "-p institution NUMER_RSPO" in missing.stderr
    unknown = run("-p", "institution", "999999")
    assert unknown.returncode != 0 and "Nie ma placówki RSPO 999999" in unknown.stderr
