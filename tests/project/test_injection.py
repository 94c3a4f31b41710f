"""Names from the data are text, never markup: an institution called
``<script>alert(1)</script> & „Szkoła” <b>x</b>``, a county label and a partner name with markup go
through a real build (a copy of the small demo database and of the reference data) and must show as
the same text everywhere — page title, headings, tables, chart alt text and the text drawn inside
the charts' SVG, the index, the PDF — while nothing they carry runs in Chromium, neither with the
pages' Content-Security-Policy in force nor with it bypassed (escaping alone must hold).
"""
from __future__ import annotations

import base64
import csv
import re
import shutil
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from support.browser import artifact, chromium_browser, open_page, require_chromium
from zpb_lib import store
from zpb_lib.batch.pipeline import BuildOptions, build
from zpb_lib.reference import data_dir, reference
from zpb_lib.domain.labels import label
from zpb_lib.store.write import insert_one, transaction

EDITION = "2025/2026"
COUNTY = "1201"
NAME = "<script>alert(1)</script> & „Szkoła” <b>x</b>"
# A county label and a partner name whose markup would record itself in window.__xss if it ran.
COUNTY_PL = "bocheński <img src=x onerror=\"window.__xss.push('county')\"> & <i>„ąę”</i>"
COUNTY_EN = "Bochnia <svg onload=\"window.__xss.push('county-en')\"></svg> County & <u>co</u>"
PARTNER = "<img src=x onerror=\"window.__xss.push('partner')\">Straż <b>Miejska</b> & „Partner”"
PAYLOADS = (NAME, COUNTY_PL, COUNTY_EN, PARTNER)
SVG_NS = "{http://www.w3.org/2000/svg}"

# Before any page script: a record of scripts that ran, and of every dialog they opened.
PROBE = """
window.__xss = [];
for (const name of ['alert', 'confirm', 'prompt']) {
    const original = window[name];
    window[name] = function (...args) { window.__xss.push(name + ': ' + args.join(' ')); return original.apply(this, args); };
}
"""


def _copy_db(src: Path, dst: Path) -> Path:
    """A private copy (SQLite's backup: complete even while the source has a write-ahead log)."""
    a, b = sqlite3.connect(src), sqlite3.connect(dst)
    try:
        a.backup(b)
    finally:
        a.close()
        b.close()
    return dst


def _plant(db: Path) -> str:
    """Rename an institution of the county that is audited and awarded in the edition and has
    surveys in it; give its action items a partner with markup. Returns its RSPO number."""
    con = store.connect(db)
    try:
        row = con.execute(
            "SELECT i.id, i.rspo FROM institutions i "
            "JOIN audits a ON a.institution_id = i.id AND a.edition = ? AND a.kind != 'control' "
            "JOIN awards w ON w.institution_id = i.id AND w.edition = ? "
            "WHERE i.county = ? AND EXISTS (SELECT 1 FROM survey_responses s WHERE s.institution_id = i.id "
            "AND s.edition = ?) AND EXISTS (SELECT 1 FROM action_items t WHERE t.institution_id = i.id "
            "AND t.edition = ?) ORDER BY i.id LIMIT 1", (EDITION, EDITION, COUNTY, EDITION, EDITION)).fetchone()
        assert row, "the small demo database should have an audited, awarded, surveyed school in 1201"
        inst, rspo = int(row[0]), str(row[1])
        with transaction(con):
            con.execute("UPDATE institutions SET name = ? WHERE id = ?", (NAME, inst))
            partner = insert_one(con, "partners", {"name": PARTNER, "kind": "ngo", "county": COUNTY})
            con.execute("UPDATE action_items SET partner_id = ? WHERE institution_id = ? AND edition = ?",
                        (partner, inst, EDITION))
        return rspo
    finally:
        con.close()


def _copy_reference(dst: Path) -> Path:
    shutil.copytree(data_dir(), dst, ignore=shutil.ignore_patterns("*.sqlite*", ".zpb-cache"))
    path = dst / "counties.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        if r["teryt"] == COUNTY:
            r["name"], r["name_en"] = COUNTY_PL, COUNTY_EN
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return dst


@pytest.fixture(scope="module")
def planted(small_db, tmp_path_factory):
    """Builds with the planted names: Polish (voivodeship, the county, the school; HTML and PDF)
    and English (the county and the school; HTML). Returns (RSPO number, {lang: folder})."""
    require_chromium()
    tmp = tmp_path_factory.mktemp("injection")
    db = _copy_db(small_db, tmp / "planted.sqlite")
    inst = _plant(db)
    data = _copy_reference(tmp / "data")
    folders = {}
    # The report notebooks run in kernels that inherit the environment: they read the copied data.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZPB_DATA_DIR", str(data))
        ref = reference(data)
        assert ref.counties[COUNTY].name == COUNTY_PL
        for lang, runs in (("pl", [dict(only=("voivodeship",)), dict(only=("county",), counties=(COUNTY,)),
                                   dict(only=("school",), institutions=(inst,))]),
                           ("en", [dict(only=("county",), counties=(COUNTY,), formats=("html",)),
                                   dict(only=("school",), institutions=(inst,), formats=("html",))])):
            out = tmp / f"out-{lang}"
            for run in runs:
                run.setdefault("formats", ("html", "pdf"))
                summary = build(BuildOptions(db=str(db), edition=EDITION, out=str(out), lang=lang, jobs=2,
                                             progress=False, **run), ref=ref)
                assert summary.ok, summary.failed
            folders[lang] = summary.out_dir
    return inst, folders


def _files(planted, lang: str) -> dict[str, Path]:
    inst, folders = planted
    folder = folders[lang]
    found = {"index": folder / "index.html", "county": next(folder.glob(f"powiat-{COUNTY}-*.html")),
             "school": next(folder.glob(f"placowka-{inst}-*.html"))}
    if lang == "pl":
        found["voivodeship"] = folder / "wojewodztwo.html"
    return found


PAGES = [pytest.param("pl", k, id=f"pl-{k}") for k in ("index", "voivodeship", "county", "school")]
PAGES += [pytest.param("en", k, id=f"en-{k}") for k in ("index", "county", "school")]


def county_label(lang: str) -> str:
    return f"powiat {COUNTY_PL}" if lang == "pl" else COUNTY_EN


# --------------------------------------------------------------------------- the HTML source

@pytest.mark.parametrize("lang, key", PAGES)
def test_source_has_the_names_escaped(planted, lang, key):
    text = _files(planted, lang)[key].read_text(encoding="utf-8")
    # A quote in text needs no escaping (the exporter's sanitiser writes it plain); a "<" does.
    for raw in ("<script>alert(1)</script>", "<b>x</b>", "<img src=x", "<svg onload", "<i>„ąę”</i>", "<u>co</u>",
                "<b>Miejska</b>", *PAYLOADS):
        assert raw not in text, f"unescaped {raw!r} in {key}"
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; „Szkoła” &lt;b&gt;x&lt;/b&gt;" in text
    assert "&amp;lt;" not in text and "&amp;amp;" not in text, "escaped twice"
    # Partner names are not shown in any report (the action plan counts partner kinds), so the
    # partner's markup can only fail by appearing raw, which the loop above rules out.


# --------------------------------------------------------------------------- in the browser

@pytest.fixture(scope="module")
def contexts():
    """Two Chromium contexts: the pages' CSP in force (as readers open them) and CSP bypassed."""
    require_chromium()
    with chromium_browser() as b:
        strict, bare = b.new_context(), b.new_context(bypass_csp=True)
        yield {"csp": strict, "no-csp": bare}
        strict.close()
        bare.close()


TEXTS_JS = """(selector) => Array.from(document.querySelectorAll(selector)).map(e => e.textContent.trim())"""

DOM_JS = """() => {
    const withHandlers = Array.from(document.querySelectorAll('*')).filter(
        e => Array.from(e.attributes).some(a => a.name.toLowerCase().startsWith('on'))).map(e => e.tagName);
    return {
        scripts: document.querySelectorAll('script').length,
        planted: Array.from(document.querySelectorAll('b, i, u, svg, iframe, object, embed'))
            .map(e => e.outerHTML.slice(0, 80)),
        foreignImages: Array.from(document.images).filter(i => !i.getAttribute('src').startsWith('data:'))
            .map(i => i.outerHTML.slice(0, 80)),
        handlers: withHandlers,
        xss: window.__xss,
        title: document.title,
        alts: Array.from(document.images).map(i => i.getAttribute('alt')),
    };
}"""


@pytest.mark.parametrize("mode", ["csp", "no-csp"])
@pytest.mark.parametrize("lang, key", PAGES)
def test_names_are_text_and_nothing_runs(planted, contexts, mode, lang, key):
    path = _files(planted, lang)[key]
    log = open_page(contexts[mode], path, init_script=PROBE)
    page = log.page
    try:
        page.wait_for_timeout(200)  # give an onerror or onload handler the time to fire
        dom = page.evaluate(DOM_JS)
        assert dom["xss"] == [] and log.dialogs == [], "injected markup ran"
        assert dom["scripts"] == (1 if key == "index" else 0), "only the index has its own search script"
        assert dom["planted"] == [] and dom["foreignImages"] == [] and dom["handlers"] == []
        assert log.errors == [] and log.external_requests() == []
        assert [u for u in log.requests if u.startswith("file://")] == [page.url], "something else was loaded"

        if mode == "csp":  # how a reader sees the names (the top of the page)
            page.screenshot(path=str(artifact(f"injection-{lang}-{key}.png")))
        texts = lambda selector: page.evaluate(TEXTS_JS, selector)  # noqa: E731
        place = county_label(lang)
        if key == "index":
            titles = texts(".zpb-report-title")
            assert any(t.startswith(NAME + " (") for t in titles), titles
            assert place in texts("h2")
        elif key == "school":
            assert NAME in dom["title"]
            assert texts("h1") == [f"{label('title.school_report', lang)}: {NAME}"]
            assert any(place in t for t in texts(".zpb-subtitle"))
            assert any(NAME in (alt or "") for alt in dom["alts"]), "the chart's alt names the school"
        elif key == "county":
            assert place in dom["title"]
            assert texts("h1") == [f"{label('title.county_report', lang)}: {place}"]
            cells = texts("td, th")
            assert NAME in cells, "the school in the county's tables"
            assert any(place in (alt or "") for alt in dom["alts"]), "the charts' alt names the county"
        else:  # voivodeship: ranking and ceremony list name the school, tables name the county
            # a complex's ceremony cell also lists its members after the name
            assert sum(NAME in t for t in texts("td, th")) >= 2, texts("td, th")
            assert place in texts("th") and place in texts("td")
    finally:
        page.close()


# --------------------------------------------------------------------------- charts and PDF

def _svgs(path: Path) -> list[bytes]:
    text = path.read_text(encoding="utf-8")
    return [base64.b64decode(b) for b in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', text)]


def _svg_text(svg: bytes) -> str:
    root = ET.fromstring(svg)  # well-formed: markup in a label would break it or add elements
    tags = {el.tag.replace(SVG_NS, "") for el in root.iter()}
    assert not tags & {"script", "foreignObject", "b", "i", "u", "img", "iframe"}, tags
    assert not any(a.lower().startswith("on") for el in root.iter() for a in el.attrib)
    return " ".join(" ".join(el.itertext()) for el in root.iter(f"{SVG_NS}text"))


@pytest.mark.parametrize("lang", ["pl", "en"])
def test_chart_labels_are_escaped_text(planted, lang):
    files = _files(planted, lang)
    school = [_svg_text(s) for s in _svgs(files["school"])]
    assert school, "the school report has charts"
    assert any(NAME in " ".join(t.split()) for t in school), "the school's chart titles name it"
    county = [" ".join(_svg_text(s).split()) for s in _svgs(files["county"])]
    place = county_label(lang)
    assert sum(place in t for t in county) >= 2, "chart titles and the map legend name the county"
    for svg in _svgs(files["school"]) + _svgs(files["county"]):
        assert b"<script>" not in svg and b"<b>" not in svg and b"<img" not in svg
    pieces = (b"&lt;script&gt;alert(1)&lt;/script&gt;", b" &amp;", "„Szkoła”".encode(), b"&lt;b&gt;x&lt;/b&gt;")
    assert any(all(p in svg for p in pieces) for svg in _svgs(files["school"])), "the title, escaped"


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "".join("".join(p.extract_text().split()) for p in PdfReader(path).pages)


def test_pdf_shows_the_names_as_text(planted):
    files = _files(planted, "pl")
    bare = lambda s: "".join(s.split())  # noqa: E731 - PDF text extraction breaks lines anywhere
    school = _pdf_text(files["school"].with_suffix(".pdf"))
    assert bare(f"{label('title.school_report')}: {NAME}") in school
    county = _pdf_text(files["county"].with_suffix(".pdf"))
    assert bare(f"{label('title.county_report')}: powiat {COUNTY_PL}") in county
    voivodeship = _pdf_text(files["voivodeship"].with_suffix(".pdf"))
    assert bare(NAME) in voivodeship or bare("<script>alert(1)</script>&„Szkoła”") in voivodeship
    for text in (school, county, voivodeship):
        assert "&lt;" not in text and "&amp;" not in text and "&quot;" not in text and "&#" not in text
