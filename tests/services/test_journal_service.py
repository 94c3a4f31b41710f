"""The journal service: a row records the person and role the code acts for (or, outside the web
app, the connected login), entries come newest first for analysts only. On PostgreSQL through the
web app's login (`zpb db roles --web-login`), which has no rights of its own."""
from __future__ import annotations

import getpass

import psycopg
import pytest

from zpb_lib import store
from zpb_lib.cli import main
from zpb_lib.core.errors import ZpbError
from zpb_lib.services import journal
from zpb_lib.services.journal import JournalEntry, JournalRefused

BOCHNIA, ANALYST, READER = "zpb_unit_kpp_bochnia", "zpb_analyst", "zpb_reader"
WEB = "web_app"


def fields(entries: list[JournalEntry]) -> list[tuple]:
    return [(e.login, e.role, e.action, e.detail, e.address) for e in entries]


def test_rows_name_whom_the_code_acts_for(small_copy):
    journal.record(small_copy, "login", "password", "127.0.0.1")
    with store.acting_as(BOCHNIA, "anna"):
        journal.record(small_copy, "dry_run", "ankieta.csv", "10.0.0.5")
        journal.record(small_copy, "import", "import #3: ankieta.csv")
    expected = [("anna", BOCHNIA, "import", "import #3: ankieta.csv", None),
                ("anna", BOCHNIA, "dry_run", "ankieta.csv", "10.0.0.5"),
                (getpass.getuser(), None, "login", "password", "127.0.0.1")]
    got = journal.entries(small_copy)
    assert fields(got) == expected
    assert [e.id for e in got] == sorted((e.id for e in got), reverse=True)
    assert fields(journal.entries(small_copy, limit=2)) == expected[:2]
    with store.acting_as(ANALYST, "olek"):
        assert fields(journal.entries(small_copy)) == expected
    with pytest.raises(ValueError, match="unknown action"):
        journal.record(small_copy, "hack")


def test_only_analysts_read(small_copy):
    for role in (BOCHNIA, READER):
        with store.acting_as(role, "anna"):
            with pytest.raises(JournalRefused, match=f"analysts only.*anna \\({role}\\)") as err:
                journal.entries(small_copy)
    assert isinstance(err.value, ZpbError)


@pytest.mark.postgresql_only
def test_through_the_web_apps_login(pg, rights, db_backend):
    admin = rights["admin"]
    pg.admin(f"DROP ROLE IF EXISTS {WEB}")
    pg.admin(f"CREATE ROLE {WEB} LOGIN")
    assert main(["db", "roles", "--db", admin, "--web-login", WEB]) == 0
    web = pg.url(admin.rsplit("/", 1)[1], user=WEB)
    with store.acting_as(BOCHNIA, "anna"):
        journal.record(web, "login", "password", "127.0.0.1")
        with pytest.raises(JournalRefused):
            journal.entries(web)
    with store.acting_as(READER, "nieznany"):  # a failed login is written in the reader's role
        journal.record(web, "login_failed", "password", "127.0.0.1")
    with store.acting_as(ANALYST, "olek"):
        assert fields(journal.entries(web)) == [("nieznany", READER, "login_failed", "password", "127.0.0.1"),
                                                ("anna", BOCHNIA, "login", "password", "127.0.0.1")]
    journal.record(rights["ala"], "logout")  # a person's own login, outside the app: as itself
    assert fields(journal.entries(rights["olek"]))[0] == ("ala", BOCHNIA, "logout", None, None)
    with pytest.raises(JournalRefused, match="analysts only"):
        journal.entries(rights["ala"])
    with psycopg.connect(admin) as con:
        assert con.execute("SELECT COUNT(*) FROM journal").fetchone()[0] == 3
