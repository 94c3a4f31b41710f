"""The web app's journal (schema 8): rows whose time is the database's, which advance no data
version, kept through an upgrade from schema 7. On PostgreSQL (`zpb db roles`): every zpb role adds
rows only as itself, nobody changes or deletes one, only the analyst reads them.

PostgreSQL: the `rights` logins of the suite (ala of KPP Bochnia, tom of KMP Tarnów, olek an analyst,
rita a reader; admin the owner), and web_app made the web app's login."""
from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import re
import sqlite3
from pathlib import Path

import psycopg
import pytest

from conftest import pg_database
from zpb_lib import store
from zpb_lib.cli import main
from zpb_lib.store.queries import journal
from zpb_lib.store.write import transaction

FIXTURES = Path(__file__).parents[1] / "fixtures"
BOCHNIA, TARNOW, ANALYST, READER = "zpb_unit_kpp_bochnia", "zpb_unit_kmp_tarnow", "zpb_analyst", "zpb_reader"
WEB = "web_app"
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")

pg_only = pytest.mark.postgresql_only


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def version_of(db) -> tuple[str, int]:
    if store.is_url(db):
        with psycopg.connect(str(db)) as con:
            return con.execute("SELECT db_id, version FROM data_version").fetchone()
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT db_id, version FROM data_version").fetchone()
    finally:
        con.close()


def add(db, login: str, role: str | None, action: str, detail: str | None = None, address: str | None = None) -> None:
    con = store.connect(db)
    try:
        with transaction(con):
            journal.record(con, login, role, action, detail, address)
    finally:
        con.close()


def owner_rows(url: str) -> list[tuple]:
    with psycopg.connect(url) as con:
        return con.execute("SELECT login, role, action, detail, address FROM journal ORDER BY id").fetchall()


# --------------------------------------------------------------------------- SQLite

def test_rows_take_the_databases_time_and_leave_the_data_version(small_copy):
    before = version_of(small_copy)
    start = now_utc().replace(microsecond=0)
    add(small_copy, "anna", BOCHNIA, "dry_run", "ankieta.csv", "127.0.0.1")
    add(small_copy, "olek", ANALYST, "login", None, "10.0.0.7")
    end = now_utc()
    assert version_of(small_copy) == before
    con = store.connect(small_copy, readonly=True)
    try:
        rows = journal.entries(con)
        assert [r[2:] for r in rows] == [("olek", ANALYST, "login", None, "10.0.0.7"),
                                         ("anna", BOCHNIA, "dry_run", "ankieta.csv", "127.0.0.1")]
        assert rows[0][0] == rows[1][0] + 1
        for row in rows:
            assert ISO.fullmatch(row[1]), row[1]
            assert start <= dt.datetime.fromisoformat(row[1]) <= end
        assert journal.entries(con, limit=1) == rows[:1]
        assert journal.entries(con, since="9999-01-01") == []
    finally:
        con.close()


def test_unknown_actions_and_overlong_text(small_copy):
    with pytest.raises(ValueError, match="unknown action 'hack'"):
        add(small_copy, "anna", None, "hack")
    con = sqlite3.connect(small_copy)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        con.execute("INSERT INTO journal (login, action) VALUES ('anna', 'hack')")
    con.close()
    add(small_copy, "x" * 300, None, "login_failed", "d" * 5000, "a" * 500)
    con = sqlite3.connect(small_copy)
    assert con.execute("SELECT length(login), length(detail), length(address) FROM journal").fetchall() == [
        (200, 1000, 100)]
    con.close()


# What versions after 8 added (version 9: a table and a column): left out, so that the rows of the
# tables version 8 had are compared over its columns.
LATER_TABLES = {"deliveries"}
LATER_COLUMNS = {"institutions": {"email"}}


def _sqlite_tables(path: Path) -> dict[str, tuple[int, str]]:
    """Row count and SHA-256 of each table's rows in the columns it has now, by name."""
    con = sqlite3.connect(path)
    out = {}
    for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"):
        if t in LATER_TABLES:
            continue
        cols = [r[1] for r in con.execute(f"PRAGMA table_info({t})") if r[1] not in LATER_COLUMNS.get(t, ())]
        rows = con.execute(f"SELECT {', '.join(cols)} FROM {t} ORDER BY {', '.join(cols)}").fetchall()
        out[t] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    con.close()
    return out


def test_upgrade_7_to_8_keeps_every_row(tmp_path, capsys):
    """A version-7 file (fixture schema-v7.sql.gz: the demo data and two imports) keeps every row
    and its database identity; the journal is new and empty, and its rows advance no version."""
    path = tmp_path / "zpb.sqlite"
    con = sqlite3.connect(path)
    con.executescript(gzip.open(FIXTURES / "schema-v7.sql.gz", "rt", encoding="utf-8").read())
    con.close()
    before, version = _sqlite_tables(path), version_of(path)
    assert "journal" not in before and before["imports"][0] == 2
    assert main(["db", "upgrade", "--db", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"upgraded from schema version 7 to {store.SCHEMA_VERSION}" in out and "keeps a journal" in out
    after = _sqlite_tables(path)
    assert {t: v for t, v in after.items() if t not in ("meta", "data_version", "journal")} == \
        {t: v for t, v in before.items() if t not in ("meta", "data_version")}
    assert after["journal"][0] == 0
    upgraded = version_of(path)
    assert upgraded[0] == version[0]
    add(path, "anna", BOCHNIA, "import", "import #3", "127.0.0.1")
    assert version_of(path) == upgraded
    assert main(["db", "check", "--db", str(path)]) == 0


# --------------------------------------------------------------------------- PostgreSQL

@pytest.fixture
def team(pg, rights, capsys) -> dict[str, str]:
    """The `rights` logins and "web": web_app, made the web app's login."""
    pg.admin(f"DROP ROLE IF EXISTS {WEB}")
    pg.admin(f"CREATE ROLE {WEB} LOGIN")
    assert main(["db", "roles", "--db", rights["admin"], "--web-login", WEB]) == 0
    capsys.readouterr()
    return rights | {"web": pg.url(rights["admin"].rsplit("/", 1)[1], user=WEB)}


def insert(url: str, login: str, role: str | None, action: str = "login", **more: str) -> None:
    """As ``url``'s login, plain SQL (no zpb code between): one journal row."""
    cols = {"login": login, "role": role, "action": action, **more}
    with psycopg.connect(url) as con:
        con.execute(f"INSERT INTO journal ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})",
                    list(cols.values()))


def refused(url: str, sql: str, match: str | None = None) -> None:
    with psycopg.connect(url) as con:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match=match):
            con.execute(sql)


@pg_only
def test_each_role_adds_rows_only_as_itself(team, db_backend):
    admin = team["admin"]
    before = version_of(admin)
    insert(team["ala"], "ala", BOCHNIA, "dry_run", detail="ankieta.csv", address="10.1.1.1")
    insert(team["olek"], "olek", ANALYST, "undo", detail="import #4")
    insert(team["rita"], "rita", READER, "download")
    assert owner_rows(admin) == [("ala", BOCHNIA, "dry_run", "ankieta.csv", "10.1.1.1"),
                                 ("olek", ANALYST, "undo", "import #4", None), ("rita", READER, "download", None, None)]
    # another role, another login, a role reached only through the analyst's, or none: refused
    for url, login, role in ((team["ala"], "ala", TARNOW), (team["ala"], "ala", ANALYST), (team["ala"], "tom", BOCHNIA),
                             (team["olek"], "olek", BOCHNIA), (team["rita"], "rita", ANALYST),
                             (team["rita"], "rita", None), (team["tom"], "tom", BOCHNIA)):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            insert(url, login, role)
    # the id and the time are the database's
    for column, value in (("at", "2020-01-01T00:00:00+00:00"), ("id", "999")):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
            insert(team["ala"], "ala", BOCHNIA, **{column: value})
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
            insert(team["olek"], "olek", ANALYST, **{column: value})
    assert version_of(admin) == before  # journal rows are not report data
    assert len(owner_rows(admin)) == 3


@pg_only
def test_nobody_changes_or_deletes_a_row_and_only_the_analyst_reads(team, db_backend):
    admin = team["admin"]
    insert(team["ala"], "ala", BOCHNIA, "login", address="10.1.1.1")
    rows = owner_rows(admin)
    for login in ("ala", "tom", "olek", "rita"):
        for sql in ("UPDATE journal SET detail = 'x'", "DELETE FROM journal", "TRUNCATE journal"):
            refused(team[login], sql, "permission denied")
    for login in ("ala", "tom", "rita"):
        refused(team[login], "SELECT * FROM journal", "permission denied")
    with psycopg.connect(team["olek"]) as con:
        assert con.execute("SELECT login, role, action, detail, address FROM journal").fetchall() == rows
    # `zpb db roles` run again: the same rights
    assert main(["db", "roles", "--db", admin]) == 0
    refused(team["ala"], "SELECT * FROM journal", "permission denied")
    refused(team["olek"], "DELETE FROM journal", "permission denied")
    insert(team["ala"], "ala", BOCHNIA, "logout")
    assert owner_rows(admin) == rows + [("ala", BOCHNIA, "logout", None, None)]
    # and `zpb db info` of a unit's login leaves out the table it may not read
    assert main(["db", "info", "--db", team["ala"]]) == 0


@pg_only
def test_the_web_app_writes_for_a_person_only_in_the_role_it_acts_in(team, db_backend):
    """The app's login holds no rights of its own; acting for anna in Bochnia's role it writes her
    rows in that role only."""
    web, admin = team["web"], team["admin"]
    refused(web, "INSERT INTO journal (login, role, action) VALUES ('anna', 'zpb_unit_kpp_bochnia', 'login')")
    with store.acting_as(BOCHNIA, "anna"):
        add(web, "anna", BOCHNIA, "login", None, "127.0.0.1")
        with pytest.raises(store.PermissionDenied):
            add(web, "anna", ANALYST, "login")
        con = store.connect(web, readonly=True)
        try:
            with pytest.raises(store.PermissionDenied):
                journal.entries(con)
        finally:
            con.close()
    with store.acting_as(ANALYST, "olek"):
        con = store.connect(web, readonly=True)
        try:
            assert [r[2:] for r in journal.entries(con)] == [("anna", BOCHNIA, "login", None, "127.0.0.1")]
        finally:
            con.close()
    assert owner_rows(admin) == [("anna", BOCHNIA, "login", None, "127.0.0.1")]


def _pg_tables(url: str) -> dict[str, tuple[int, str]]:
    with psycopg.connect(url) as con:
        out = {}
        for (t,) in con.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall():
            if t in LATER_TABLES:
                continue
            cols = [r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE "
                                              "table_schema = 'public' AND table_name = %s ORDER BY ordinal_position",
                                              (t,)) if r[0] not in LATER_COLUMNS.get(t, ())]
            rows = con.execute(f"SELECT {', '.join(cols)} FROM {t} ORDER BY {', '.join(cols)}").fetchall()
            out[t] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return out


@pg_only
def test_upgrade_7_to_8_on_postgresql_in_place(pg, db_backend, capsys):
    """A version-7 PostgreSQL database (fixture schema-v7-postgresql.sql.gz) with `zpb db roles` run:
    the upgrade makes the journal in place, keeps every row, and brings the rights up to date — a
    unit's login adds rows as itself and reads none."""
    url = pg_database(pg)
    text = "\n".join(line for line in gzip.open(FIXTURES / "schema-v7-postgresql.sql.gz", "rt", encoding="utf-8")
                     .read().splitlines() if not line.startswith("\\"))
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(text)
    with psycopg.connect(url, autocommit=True) as con:  # what `zpb db roles` of version 7 left on
        con.execute("ALTER TABLE institutions ENABLE ROW LEVEL SECURITY")
    before, version = _pg_tables(url), version_of(url)
    assert "journal" not in before and before["imports"][0] == 2
    assert main(["db", "upgrade", "--db", url]) == 0
    out = capsys.readouterr().out
    assert f"upgraded from schema version 7 to {store.SCHEMA_VERSION}" in out
    assert "rights of `zpb db roles` were brought up to date" in out
    after = _pg_tables(url)
    assert {t: v for t, v in after.items() if t not in ("meta", "data_version", "journal")} == \
        {t: v for t, v in before.items() if t not in ("meta", "data_version")}
    assert after["journal"][0] == 0
    upgraded = version_of(url)
    assert upgraded[0] == version[0]
    pg.admin("DROP ROLE IF EXISTS v7_bochnia")
    pg.admin(f"CREATE ROLE v7_bochnia LOGIN IN ROLE {BOCHNIA}")
    unit = pg.url(url.rsplit("/", 1)[1], user="v7_bochnia")
    insert(unit, "v7_bochnia", BOCHNIA, "import", detail="import #3")
    refused(unit, "SELECT * FROM journal", "permission denied")
    assert owner_rows(url) == [("v7_bochnia", BOCHNIA, "import", "import #3", None)]
    assert version_of(url) == upgraded
    assert main(["db", "check", "--db", url]) == 0
