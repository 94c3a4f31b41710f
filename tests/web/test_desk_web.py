"""The „Mój powiat” tab of ``zpb serve --auth password`` on the shared PostgreSQL database — the real
server process, users from `zpb users add`, Debian's Chromium. The coordinator of KPP Bochnia sees
the counts of what is due that the desk service gives for her unit, the county report's key figures
for powiat bocheński (the report built by its own code from a cube of the same data), only her
county's institutions (the database says where each one is), a search that narrows the table, a
workbook with as many rows as the page, and a link that opens a school's page. The analyst picks another
unit; the reader reads every county, in English too. axe-core finds nothing; nothing leaves the
app's origin."""
from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from bs4 import BeautifulSoup
from openpyxl import load_workbook

from support.browser import artifact, chromium_browser
from support.web import EDITION, axe_violations, open_desk, password_app, same_origin_guard, wait_text
from zpb_lib import store
from zpb_lib.domain import cube as cube_mod
from zpb_lib.domain.labels import label
from zpb_lib.report.county import CountyReport
from zpb_lib.services.due import desk

BOCHNIA = "1201"
SEARCH = "Szukaj placówki (RSPO, nazwa, miejscowość)"
# The report's key figures the page shows under the same words.
REPORT_WORDS = ("Placówki", "Uczestniczą w programie", "Ważne certyfikaty", "Liderzy Projektu", "Audyty w tej edycji",
                "Przyznane wyróżnienia")


@pytest.fixture(scope="module")
def app(team_db, users, tmp_path_factory):
    with password_app(team_db[1], users, tmp_path_factory.mktemp("serve")) as url:
        yield url


def tiles(page, css: str) -> dict[str, str]:
    out = {}
    for tile in page.locator(f".{css} .zpb-tile").all():
        out[tile.locator("dt").inner_text()] = tile.locator("dd").inner_text()
    return out


def table_rows(page) -> list[list[str]]:
    return [[td.inner_text() for td in tr.locator("td").all()]
            for tr in page.locator(".zpb-desk-table tbody tr").all()]


def counts_in_words(d) -> dict[str, str]:
    return {label(f"due_kind.{k}", "pl"): str(n) for k, n in d.counts().items()}


def report_figures(owner: str, county: str, folder: Path) -> dict[str, str]:
    """The county report's key figure tiles (words → number), from a cube of the owner's data."""
    con = store.connect(owner, readonly=True)
    try:
        path = cube_mod.build(con, EDITION, folder / "cube.sqlite")
    finally:
        con.close()
    with cube_mod.Cube(path) as cube:
        soup = BeautifulSoup(str(CountyReport(cube, county, lang="pl").key_figures()), "html.parser")
    return {t.find("dt").get_text(): t.find("dd").get_text() for t in soup.select(".zpb-tile")}


def counties_of(owner: str, idents: list[str]) -> set[str]:
    with psycopg.connect(owner) as con:
        return {c for (c,) in con.execute(
            "SELECT DISTINCT county FROM institutions WHERE COALESCE(CAST(rspo AS TEXT), polon) = ANY(%s)", (idents,))}


def test_the_coordinator_reads_her_countys_desk(app, team_db, tmp_path):
    owner, _ = team_db
    mine = desk(owner, unit="KPP-BOCHNIA")
    report = report_figures(owner, BOCHNIA, tmp_path)
    with chromium_browser() as b:
        page = b.new_page(viewport={"width": 1280, "height": 900})
        outside = same_origin_guard(page, app)
        open_desk(page, app, "anna")
        page.screenshot(path=str(artifact("web-desk-coordinator.png")), full_page=True)
        assert page.get_by_label("Jednostka Policji").count() == 0  # her unit's counties, no other
        assert tiles(page, "zpb-due-counts") == counts_in_words(mine)
        figures = tiles(page, "zpb-figures")
        assert {w: figures[w] for w in REPORT_WORDS} == {w: report[w] for w in REPORT_WORDS}
        assert (figures["Certyfikaty"], figures["Przedłużenia"]) == (str(mine.totals().certified),
                                                                   str(mine.totals().extended))
        # only county 1201's institutions, every one of the desk's
        rows = table_rows(page)
        shown = [r[0] for r in rows]
        assert sorted(shown) == sorted(r.ident for r in mine.rows) and len(shown) == len(set(shown))
        assert counties_of(owner, shown) == {BOCHNIA}
        assert {r[3] for r in rows} == {"powiat bocheński"}
        wait_text(page, f"Placówki w tabeli: {len(mine.rows)} z {len(mine.rows)}.")
        # the search narrows the table: by RSPO number, then by a word of a name
        one = next(r for r in mine.rows if r.ident.isdigit())
        page.get_by_label(SEARCH).press_sequentially(one.ident, delay=20)
        wait_text(page, f"Placówki w tabeli: 1 z {len(mine.rows)}.")
        assert [r[:2] for r in table_rows(page)] == [[one.ident, one.name]]
        page.get_by_label(SEARCH).fill("")
        word = one.locality
        page.get_by_label(SEARCH).press_sequentially(word, delay=20)
        expected = sum(all(w in f"{r.ident} {r.name} {r.locality}".lower() for w in word.lower().split())
                       for r in mine.rows)
        wait_text(page, f"Placówki w tabeli: {expected} z {len(mine.rows)}.")
        # the workbook: as many institutions and items as the page
        with page.expect_download(timeout=60_000) as d:
            page.get_by_role("button", name="Pobierz XLSX").click()
        path = tmp_path / d.value.suggested_filename
        d.value.save_as(path)
        assert path.name == f"moj-powiat-kpp-bochnia-{EDITION.replace('/', '-')}.xlsx"
        wb = load_workbook(path, read_only=True)
        # rows with an RSPO number or POL-on id (an empty sheet says so in its first cell)
        assert sum(1 for r in wb["Placówki"].iter_rows(min_row=5, values_only=True) if r[1]) == len(rows)
        assert sum(1 for r in wb["Do zrobienia"].iter_rows(min_row=5, values_only=True) if r[2]) == \
            sum(int(v) for v in tiles(page, "zpb-due-counts").values())
        # one click opens the school's page (tests/web/test_school_web.py reads it)
        page.get_by_label(SEARCH).fill("")
        page.get_by_role("link", name=one.name, exact=True).first.click()
        page.get_by_role("heading", name=one.name, level=2).wait_for(timeout=60_000)
        assert page.get_by_role("link", name="← Wszystkie placówki").count() == 1
        assert outside == []


def test_axe_on_the_coordinators_desk(app):
    with chromium_browser() as b:
        ctx = b.new_context(bypass_csp=True)  # axe-core is injected
        page = ctx.new_page()
        outside = same_origin_guard(page, app)
        open_desk(page, app, "anna")
        found = axe_violations(page)
        ctx.close()
    assert found == []
    assert outside == []


def test_the_analyst_picks_another_unit(app, team_db):
    owner, _ = team_db
    tarnow = desk(owner, unit="KMP-TARNOW")
    with chromium_browser() as b:
        ctx = b.new_context(bypass_csp=True)
        page = ctx.new_page()
        outside = same_origin_guard(page, app)
        open_desk(page, app, "olek")
        wait_text(page, "wszystkie powiaty · edycja")
        page.get_by_label("Jednostka Policji").select_option(label="Komenda Miejska Policji w Tarnowie")
        wait_text(page, "powiat tarnowski, m. Tarnów · edycja")
        wait_text(page, f"Placówki w tabeli: {len(tarnow.rows)} z {len(tarnow.rows)}.")
        assert tiles(page, "zpb-due-counts") == counts_in_words(tarnow)
        shown = [r[0] for r in table_rows(page)]
        assert sorted(shown) == sorted(r.ident for r in tarnow.rows)
        assert counties_of(owner, shown) <= {"1216", "1263"}
        assert axe_violations(page) == []
        ctx.close()
    assert outside == []


def test_the_reader_reads_every_county_in_english(app, team_db):
    owner, _ = team_db
    everything = desk(owner)
    with chromium_browser() as b:
        ctx = b.new_context(bypass_csp=True)
        page = ctx.new_page()
        outside = same_origin_guard(page, app)
        open_desk(page, app, "rita", lang="en")
        wait_text(page, "every county · edition")
        assert page.evaluate("document.documentElement.lang") == "en"
        assert tiles(page, "zpb-due-counts") == {label(f"due_kind.{k}", "en"): str(n)
                                                 for k, n in everything.counts().items()}
        assert page.get_by_role("button", name="Download XLSX").count() == 1
        assert axe_violations(page) == []
        ctx.close()
    assert outside == []
