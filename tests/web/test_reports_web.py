"""The „Raporty” tab of ``zpb serve --auth password`` on the shared PostgreSQL database — the real
server process, Debian's Chromium, real builds (county reports, HTML and PDF, of powiat bocheński).

The coordinator of KPP Bochnia builds her unit's county report as a job, reloads the page and finds
its progress or its result, and sees the report listed with the data version the database holds;
after an import the list says the data changed since. She opens the HTML in the app and downloads
the PDF, and gets nothing of another county's nor of a crafted path. A second build of hers waits in
line (its position shown) while the first runs; she cancels both, and no kernel is left. axe-core
finds nothing on the tab; nothing leaves the app's origin."""
from __future__ import annotations

import os
import uuid

import psycopg
import pytest

from support.browser import artifact, chromium_browser
from support.builds import _kernels
from support.web import axe_violations, log_in, password_app, same_origin_guard, wait_text, wait_until
from zpb_lib.services import builds

EDITION = "2025/2026"
FOLDER = "2025-2026"
BOCHNIA_HTML = "powiat-1201-bochenski.html"
KRAKOW_HTML = "powiat-1261-m-krakow.html"  # KMP Kraków's county


@pytest.fixture(scope="module")
def tag():
    """Every process the server starts (runners, workers, kernels) carries this in its environment."""
    return uuid.uuid4().hex


@pytest.fixture(scope="module")
def reports(team_db, tmp_path_factory):
    """The reports folder, holding another unit's county report built beforehand (by the owner)."""
    out = tmp_path_factory.mktemp("reports")
    builds.run(builds.BuildOptions(db=team_db[0], edition=EDITION, out=str(out), formats=("html",), jobs=1,
                                   only=("county",), counties=("1261",), progress=False))
    assert (out / FOLDER / KRAKOW_HTML).is_file()
    return out


@pytest.fixture(scope="module")
def app(team_db, users, reports, tag, tmp_path_factory):
    old = os.environ.get("ZPB_TEST_TAG")
    os.environ["ZPB_TEST_TAG"] = tag
    try:
        with password_app(team_db[1], users, tmp_path_factory.mktemp("serve"), "--reports", str(reports)) as url:
            yield url
    finally:
        if old is None:
            os.environ.pop("ZPB_TEST_TAG", None)
        else:
            os.environ["ZPB_TEST_TAG"] = old


def data_version(owner: str) -> str:
    with psycopg.connect(owner) as con:
        db_id, version = con.execute("SELECT db_id, version FROM data_version WHERE id = 1").fetchone()
    return f"{db_id[:8]}-{version}"


def open_tab(page) -> None:
    page.get_by_text("Raporty", exact=True).first.click()
    wait_text(page, "Zbudowane raporty")


def reports_table(page, header: str = "Wersja danych") -> str:
    table = page.locator("table").filter(has_text=header).filter(visible=True).first
    table.wait_for(state="visible", timeout=120_000)
    return table.inner_text()


def test_a_coordinator_builds_her_countys_report_and_opens_it(app, team_db, reports, tag):
    owner, _ = team_db
    with chromium_browser() as b:
        ctx = b.new_context(bypass_csp=True, accept_downloads=True)  # axe-core is injected
        page = ctx.new_page()
        outside = same_origin_guard(page, app)
        log_in(page, app, "anna")
        wait_text(page, "Placówek:")
        open_tab(page)
        wait_text(page, "Brak zbudowanych raportów tej edycji.")  # Kraków's report is not hers
        assert page.get_by_label("Zakres").count() == 0  # she builds her unit's, nobody else's
        page.get_by_label("Raporty", exact=True).select_option(label="tylko powiatów (bez placówek)")
        page.get_by_role("button", name="Zbuduj raporty").click()
        wait_text(page, "Budowanie nr")
        page.reload()  # the build goes on without the page, and the page finds it again
        open_tab(page)
        page.get_by_text("trwa").or_(page.get_by_text("zakończone")).first.wait_for(timeout=120_000)
        wait_text(page, "zakończone: zbudowano 1, bez zmian 0, błędów 0.", timeout=600_000)
        version = data_version(owner)
        rows = reports_table(page)
        assert "Raporty: 1" in page.locator("caption").filter(has_text="Raporty:").first.inner_text()
        assert "powiat bocheński" in rows and version in rows and "Kraków" not in rows
        wait_text(page, "Dane nie zmieniły się od tej wersji.")
        assert axe_violations(page) == []

        # the HTML opens in the app (its own origin, its headers), the PDF downloads
        with ctx.expect_page() as opened:
            page.get_by_role("link", name="HTML powiat bocheński").click()
        report = opened.value
        report.wait_for_load_state()
        assert report.url == f"{app}/reports/{FOLDER}/pl/{BOCHNIA_HTML}"
        assert "bocheński" in report.content() and version in report.content()
        report.close()
        with page.expect_download() as d:
            page.get_by_role("link", name="PDF powiat bocheński").click()
        assert d.value.suggested_filename == "powiat-1201-bochenski.pdf"
        assert open(d.value.path(), "rb").read(5) == b"%PDF-"

        # nothing else: another county's report, crafted paths, the build's other files
        get = page.request.get
        ok = get(f"{app}/reports/{FOLDER}/pl/{BOCHNIA_HTML}")
        assert ok.status == 200 and "default-src 'self'" in ok.headers["content-security-policy"]
        for path in (f"{FOLDER}/pl/{KRAKOW_HTML}", f"{FOLDER}/pl/%2e%2e%2f{FOLDER}%2f{KRAKOW_HTML}",
                     f"{FOLDER}/pl/manifest.json", f"{FOLDER}/pl/cube.sqlite", f"%2e%2e/pl/{BOCHNIA_HTML}",
                     f"{FOLDER}/pl/%2Fetc%2Fpasswd", f"{FOLDER}/pl/notebooks%2Fpowiat-1201-bochenski.ipynb"):
            r = get(f"{app}/reports/{path}")
            assert r.status == 404 and b"bochen" not in r.body() and b"Krak" not in r.body(), path
        anonymous = b.new_context()
        assert anonymous.request.get(f"{app}/reports/{FOLDER}/pl/{BOCHNIA_HTML}").status == 403
        anonymous.close()

        # an import stored since: the list says the data changed
        with psycopg.connect(owner) as con:
            con.execute("INSERT INTO imports(kind, file_name, content_hash, imported_at, rows) "
                        "VALUES ('audit', 'later.xlsx', 'later', '2026-03-02T10:00:00+00:00', 0)")
        page.reload()
        open_tab(page)
        wait_text(page, "Dane zmieniły się od tej wersji: 1 import.")
        page.goto(f"{app}/?lang=en")  # the same in English
        page.get_by_text("Reports", exact=True).first.click()
        wait_text(page, "No reports of this edition have been built.")  # none in English
        page.get_by_label("Language of the reports").select_option(label="Polish")
        wait_text(page, "The data has changed since this build: 1 import.")
        assert "powiat bocheński" in reports_table(page, "Data version")
        assert axe_violations(page) == []
        assert outside == []
        ctx.close()


def test_a_second_build_waits_in_line_and_both_can_be_cancelled(app, team_db, tag):
    with chromium_browser() as b:
        ctx = b.new_context(bypass_csp=True, viewport={"width": 1280, "height": 1100})
        page = ctx.new_page()
        outside = same_origin_guard(page, app)
        log_in(page, app, "anna")
        wait_text(page, "Placówek:")
        open_tab(page)
        build = page.get_by_role("button", name="Zbuduj raporty")
        build.click()  # her counties and their institutions: long enough to be cancelled
        wait_text(page, "trwa")
        build.click()
        wait_text(page, "czeka w kolejce: pozycja 1.")
        queue = page.locator("table").filter(has_text="Pozycja").filter(visible=True).first
        assert "czeka" in queue.inner_text() and "trwa" in queue.inner_text()
        page.screenshot(path=str(artifact("reports-tab.png")), full_page=True)
        assert axe_violations(page) == []

        page.get_by_role("button", name="Anuluj").click()  # the waiting one
        wait_text(page, "anulowano (anna)")
        page.reload()
        open_tab(page)
        wait_text(page, "trwa")  # the page follows the build still running
        page.get_by_role("button", name="Anuluj").click()
        wait_text(page, "anulowano (anna)", timeout=300_000)
        assert wait_until(lambda: not _kernels(tag), timeout=120)  # its workers and kernels ended
        assert page.get_by_role("button", name="Anuluj").count() == 0 or not page.get_by_role(
            "button", name="Anuluj").is_visible()
        assert outside == []
        ctx.close()
