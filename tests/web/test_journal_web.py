"""The journal („Dziennik”) in ``zpb serve --auth password`` on the shared PostgreSQL database — the
real server process, users from `zpb users add`, Debian's Chromium. The coordinator of KPP Bochnia
fails to log in once, logs in, checks and stores a survey export, and logs out; she has no journal
tab. The analyst's „Dziennik” tab lists exactly those entries (and the analyst's own login), newest
first, with her login, role, action and the address 127.0.0.1; the database holds the same rows; the
tab passes axe-core and no request leaves the app's origin."""
from __future__ import annotations

import asyncio
import logging

import psycopg
import pytest

from support.browser import artifact, chromium_browser
from support.surveys import answers, write_google_csv
from support.web import (axe_violations, cleared_school, log_in, password_app, same_origin_guard, wait_text,
                         wait_until)
from zpb_lib.web.auth import Identity
from zpb_lib.web.config import ServeConfig
from zpb_lib.web.journal import note, note_login, typed_login
from zpb_lib.web.pages import Session

EDITION = "2025/2026"
BOCHNIA = "zpb_unit_kpp_bochnia"
EXPORT = "uczniowie dziennik.csv"
# The journal's words for each action, as the Polish page shows them.
ACTION_WORDS = {"login": "logowanie", "login_failed": "nieudane logowanie", "logout": "wylogowanie",
                "dry_run": "sprawdzenie pliku", "import": "zapis importu"}


@pytest.fixture(scope="module")
def app(team_db, users, tmp_path_factory):
    with password_app(team_db[1], users, tmp_path_factory.mktemp("serve")) as url:
        yield url


def journal_rows(owner: str) -> list[tuple]:
    with psycopg.connect(owner) as con:
        return con.execute("SELECT login, role, action, detail, address FROM journal ORDER BY id").fetchall()


def test_the_analyst_reads_what_the_coordinator_did(app, team_db, ref, tmp_path):
    owner, _ = team_db
    rspo = cleared_school(owner, "1201")[0]
    export = write_google_csv(tmp_path / EXPORT, ref, "students", answers(ref, "students", 20, seed=5))
    with chromium_browser() as b:
        ctx = b.new_context(bypass_csp=True)  # axe-core is injected
        page = ctx.new_page()
        outside = same_origin_guard(page, app)
        log_in(page, app, "anna", "zle-haslo-000000")
        wait_text(page, "Nieprawidłowy login lub hasło.")
        log_in(page, app, "anna")
        wait_text(page, "Placówek:")
        assert page.get_by_text("Dziennik", exact=True).count() == 0  # a coordinator has no journal
        page.get_by_text("Import", exact=True).first.click()
        page.get_by_label("Placówka", exact=True).press_sequentially(str(rspo), delay=20)
        page.get_by_text(f"(RSPO {rspo})").first.click()
        page.locator("input[type=file]").set_input_files(str(export))
        check = page.get_by_role("button", name="Sprawdź (bez zapisu)")
        check.and_(page.locator(":enabled")).wait_for(timeout=60_000)
        check.click()
        wait_text(page, "Po zapisaniu w bazie znajdzie się")
        page.get_by_role("button", name="Zapisz").click()
        wait_text(page, "Zapisano jako import nr")
        wait_until(lambda: ("anna", BOCHNIA, "import") in {r[:3] for r in journal_rows(owner)})  # the note follows
        page.goto(app + "/logout")
        wait_text(page, "Wylogowano.")

        log_in(page, app, "olek")
        wait_text(page, "Placówek:")
        page.get_by_text("Dziennik", exact=True).first.click()
        wait_text(page, "nieudane logowanie")
        page.screenshot(path=str(artifact("web-journal.png")), full_page=True)
        table = page.locator("table", has_text="Ostatnie wpisy")
        shown = [cells for cells in (row.locator("td").all_inner_texts() for row in table.locator("tbody tr").all())]
        violations = axe_violations(page)
        ctx.close()
    with psycopg.connect(owner) as con:
        import_id = con.execute("SELECT id FROM imports WHERE file_name = %s", (EXPORT,)).fetchone()[0]
    expected = [("olek", "zpb_analyst", "login"), ("anna", BOCHNIA, "logout"), ("anna", BOCHNIA, "import"),
                ("anna", BOCHNIA, "dry_run"), ("anna", BOCHNIA, "login"), ("anna", "zpb_reader", "login_failed")]
    # columns: when, login, role, action, details, address
    assert [(c[1], c[2], c[3], c[5]) for c in shown] == \
        [(login, role, ACTION_WORDS[action], "127.0.0.1") for login, role, action in expected]
    assert EXPORT in shown[2][4] and f"#{import_id}" in shown[2][4] and EXPORT in shown[3][4]
    assert [(r[0], r[1], r[2], r[4]) for r in journal_rows(owner)] == \
        [(login, role, action, "127.0.0.1") for login, role, action in reversed(expected)]
    assert violations == []
    assert outside == []


def test_a_journal_that_cannot_be_written_is_logged_and_nothing_else(tmp_path, caplog):
    """No database where the config points: the notes of a page and of a login come back quietly
    (the action's own result stands), each failure in the server's log."""
    config = ServeConfig(db=tmp_path / "nowhere.sqlite")
    session = Session(config, Identity("anna", BOCHNIA), "pl", address="10.0.0.1")
    with caplog.at_level(logging.ERROR, logger="zpb_lib.web.journal"):
        asyncio.run(note(session, "dry_run", "x.csv"))
        asyncio.run(note_login(config, "login_failed", typed_login("  " + "x" * 100 + " "), "zpb_reader", "10.0.0.1"))
    assert "journal: dry_run of anna was not recorded" in caplog.text
    assert f"journal: login_failed of {'x' * 64} was not recorded" in caplog.text
    assert typed_login("   ") == "?"
