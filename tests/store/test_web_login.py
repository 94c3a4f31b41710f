"""The web app's login (`zpb db roles --web-login`) reads and changes nothing with rights of its own;
acting for the person logged in (`store.acting_as`) it has exactly the rights of that person's role,
which PostgreSQL enforces, and every import it makes records the person (`imports.person`).

On the PostgreSQL server the suite starts: a copy of the small demo database with `zpb db roles` run
(the `rights` fixture: ala of KPP Bochnia, county 1201; tom of KMP Tarnów, 1216; olek, an analyst;
admin, the owner) and the login web_app made the web app's."""
from __future__ import annotations

import gzip
import hashlib
import sqlite3
from pathlib import Path

import psycopg
import pytest

from conftest import pg_database
from zpb_lib import store
from zpb_lib.cli import main
from zpb_lib.ingest.survey import ingest_survey
from zpb_lib.store.frames import table_hash, tables
from zpb_lib.store.history import undo
from zpb_lib.store.rights import rights_of
from zpb_lib.store.write import record_import, transaction
from support.surveys import answers, write_google_csv

FIXTURES = Path(__file__).parents[1] / "fixtures"
EDITION = "2025/2026"
BOCHNIA = "zpb_unit_kpp_bochnia"
BOCHNIA_NAME = "Komenda Powiatowa Policji w Bochni"  # data/police_units.csv
WEB = "web_app"

pg_only = pytest.mark.postgresql_only


# --------------------------------------------------------------------------- helpers

@pytest.fixture
def web(pg, rights, capsys) -> dict[str, str]:
    """The `rights` logins and "web": the login web_app, made the web app's by the command."""
    pg.admin(f"DROP ROLE IF EXISTS {WEB}")
    pg.admin(f"CREATE ROLE {WEB} LOGIN")
    capsys.readouterr()
    assert main(["db", "roles", "--db", rights["admin"], "--web-login", WEB]) == 0
    assert f"web app login {WEB}: a member of zpb_web" in capsys.readouterr().out
    return rights | {"web": pg.url(rights["admin"].rsplit("/", 1)[1], user=WEB)}


def school(db: str, county: str) -> tuple[int, int]:
    """(internal id, RSPO number) of a school of ``county`` taking part in the edition, its parents'
    follow-up answers removed (by the owner) so that an import may store them."""
    with psycopg.connect(db) as con:
        found = con.execute(
            "SELECT i.id, i.rspo FROM institutions i JOIN institution_kinds k ON k.code = i.kind "
            "WHERE i.county = %(c)s AND k.family = 'school' AND k.exists_to IS NULL AND i.closed_year IS NULL "
            "AND EXISTS (SELECT 1 FROM participation p WHERE p.institution_id = i.id AND p.joined_edition <= %(e)s "
            "AND (p.left_edition IS NULL OR p.left_edition >= %(e)s)) ORDER BY i.id LIMIT 1",
            {"c": county, "e": EDITION}).fetchone()
        con.execute("DELETE FROM survey_responses WHERE institution_id = %s AND edition = %s AND grp = 'parents' "
                    "AND wave = 'follow-up'", (found[0], EDITION))
    return found


def import_survey(db: str | Path, ref, tmp_path: Path, rspo: int, seed: int = 1) -> int:
    """12 parents' follow-up answers for the school, imported on a connection opened now (inside
    the caller's acting_as, if any); the import's id."""
    path = write_google_csv(tmp_path / f"ankieta-{rspo}-{seed}.csv", ref, "parents", answers(ref, "parents", 12, seed=seed))
    con = store.connect(db)
    try:
        return ingest_survey(con, path, institution=rspo, edition=EDITION, group="parents", wave="follow-up").import_id
    finally:
        con.close()


def imports(db: str) -> dict[int, tuple]:
    """Every import's (unit, imported_by, person, rows), read by the owner."""
    with psycopg.connect(db) as con:
        return {r[0]: r[1:] for r in con.execute("SELECT id, unit, imported_by, person, rows FROM imports")}


def table_hashes(db: str) -> dict[str, str]:
    """SHA-256 of each table's rows (the data version's row left out)."""
    con = store.connect(db, readonly=True)
    try:
        return {t: table_hash(con, t) for t in tables(con) if t != "data_version"}
    finally:
        con.close()


def insert_import(url: str, unit: str | None, login: str, person: str | None) -> int:
    """As ``url``'s login, plain SQL: an import record naming ``person``; its id."""
    with psycopg.connect(url) as con:
        return con.execute("INSERT INTO imports (kind, file_name, content_hash, imported_at, rows, unit, imported_by, "
                           "person) VALUES ('survey', 'a.csv', md5(random()::text), '2026-01-01', 0, %s, %s, %s) "
                           "RETURNING id", (unit, login, person)).fetchone()[0]


# --------------------------------------------------------------------------- the tests

@pg_only
def test_a_coordinator_imports_through_the_web_app_in_the_units_role(web, ref, tmp_path, capsys):
    """(a) Acting as KPP Bochnia's role for anna: the connection is in the unit's role (the app's
    login stays the session's), its rights are the unit's, and the survey import of a Bochnia school
    is stored with the unit, the app's login and the person."""
    admin = web["admin"]
    sid, rspo = school(admin, "1201")
    with store.acting_as(BOCHNIA, "anna"):
        con = store.connect(web["web"])
        try:
            assert con.execute("SELECT current_user, session_user, current_setting('zpb.person')").fetchone() == \
                (BOCHNIA, WEB, "anna")
            rights = rights_of(con)
            assert (rights.login, rights.role, rights.everything, rights.units) == \
                (WEB, BOCHNIA, False, frozenset({"KPP-BOCHNIA"}))
            assert rights.who() == f"anna ({BOCHNIA}: {BOCHNIA_NAME})"
        finally:
            con.close()
        iid = import_survey(web["web"], ref, tmp_path, rspo)
    assert imports(admin)[iid] == ("KPP-BOCHNIA", WEB, "anna", 12)
    with psycopg.connect(admin) as c:
        assert c.execute("SELECT COUNT(*) FROM survey_responses WHERE import_id = %s AND institution_id = %s",
                         (iid, sid)).fetchone()[0] == 12
    # The list of imports names the person and the app's login; others' rows as before.
    assert main(["imports", "list", "--db", admin]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.lstrip().startswith(f"{iid} "))
    assert f"  anna via {WEB}  " in line and line.split()[1] == "survey"


@pg_only
def test_another_units_school_is_refused_by_the_database(web):
    """(b) Acting as Bochnia, a survey row for a school of KMP Tarnów's county, inserted straight on
    the connection (zpb's own check before an import never runs): row-level security refuses it,
    and nothing of the transaction is stored."""
    admin = web["admin"]
    theirs, _ = school(admin, "1216")
    before = table_hashes(admin)
    with store.acting_as(BOCHNIA, "anna"):
        con = store.connect(web["web"])
        try:
            with pytest.raises(store.PermissionDenied, match="another police unit's institution"):
                with transaction(con):
                    iid = record_import(con, "survey", "ankieta.csv", "f" * 64, 1)
                    con.execute("INSERT INTO survey_responses (institution_id, edition, wave, grp, import_id) "
                                "VALUES (?, ?, 'follow-up', 'parents', ?)", (theirs, EDITION, iid))
        finally:
            con.close()
    assert table_hashes(admin) == before


@pg_only
def test_only_the_web_app_records_a_person_and_it_always_does(web):
    """(c) A unit's own login, or the analyst's, cannot forge a person on an import; the app's
    login acting for a unit cannot leave the person out. Each may record the other way round."""
    admin, ala, olek = web["admin"], web["ala"], web["olek"]
    for url, unit, login in ((ala, "KPP-BOCHNIA", "ala"), (olek, None, "olek")):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            insert_import(url, unit, login, "anna")
        iid = insert_import(url, unit, login, None)
        assert imports(admin)[iid] == (unit, login, None, 0)
    with store.acting_as(BOCHNIA, "anna"):
        con = store.connect(web["web"])
        try:
            sql = ("INSERT INTO imports (kind, file_name, content_hash, imported_at, rows, unit, imported_by, person) "
                   "VALUES ('survey', 'b.csv', ?, '2026-01-01', 0, 'KPP-BOCHNIA', 'web_app', ?) RETURNING id")
            with pytest.raises(store.PermissionDenied, match="may not write this imports record"):
                con.execute(sql, ("h1", None))
            iid = con.execute(sql, ("h2", "anna")).fetchone()[0]
        finally:
            con.close()
    assert imports(admin)[iid] == ("KPP-BOCHNIA", WEB, "anna", 0)


@pg_only
def test_the_web_apps_login_has_no_rights_of_its_own(web, ref):
    """(d) Without acting for anyone the app's login reads nothing and stores nothing: it is a
    member of every zpb role (and of zpb_web) only to take one, NOINHERIT."""
    admin, url = web["admin"], web["web"]
    with psycopg.connect(admin) as c:
        assert c.execute("SELECT rolinherit, rolsuper FROM pg_roles WHERE rolname = %s", (WEB,)).fetchone() == \
            (False, False)
        member_of = {r for (r,) in c.execute(
            "SELECT g.rolname FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid "
            "JOIN pg_roles m ON m.oid = a.member WHERE m.rolname = %s", (WEB,))}
    units = {"zpb_unit_" + code.lower().replace("-", "_") for code in ref.police_units}
    assert len(units) == 20 and BOCHNIA in units
    assert member_of == {"zpb_web", "zpb_analyst", "zpb_reader"} | units
    with psycopg.connect(url) as c:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied for table institutions"):
            c.execute("SELECT COUNT(*) FROM institutions")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied for table imports"):
        insert_import(url, None, WEB, "anna")
    with pytest.raises(store.StoreError):
        store.connect(url)  # not even the schema version is its to read
    # Running the command again changes nothing and keeps the login as it is.
    before = table_hashes(admin)
    assert main(["db", "roles", "--db", admin, "--web-login", WEB]) == 0
    assert table_hashes(admin) == before
    with psycopg.connect(admin) as c:
        assert c.execute("SELECT COUNT(*) FROM pg_auth_members a JOIN pg_roles m ON m.oid = a.member "
                         "WHERE m.rolname = %s", (WEB,)).fetchone()[0] == len(member_of)


@pg_only
def test_no_role_but_zpbs_can_be_acted_in(web, capsys):
    """(e) acting_as takes only zpb's roles; the app's login cannot become the database's owner;
    a role the login may not take, or one that does not exist, is refused with a plain message."""
    for role in ("postgres", "zpb_web", "zpb_unit_x; DROP TABLE imports", "ZPB_ANALYST", ""):
        with pytest.raises(ValueError, match="not a zpb role"):
            with store.acting_as(role, "anna"):
                pass
    with pytest.raises(ValueError, match="needs the person"):
        with store.acting_as(BOCHNIA, " "):
            pass
    with psycopg.connect(web["web"]) as c:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied to set role"):
            c.execute("SET ROLE postgres")
    with store.acting_as("zpb_unit_kpp_nowhere", "anna"):
        with pytest.raises(store.StoreError, match="cannot act as zpb_unit_kpp_nowhere for anna .*no such role"):
            store.connect(web["web"])
    with store.acting_as("zpb_unit_kmp_tarnow", "ala"):  # ala's own login is no web app's
        with pytest.raises(store.StoreError, match="login ala may not take it"):
            store.connect(web["ala"])
    # A command run inside acting_as meets the same refusal, in its own words.
    with store.acting_as("zpb_analyst", "ala"):
        assert main(["imports", "list", "--db", web["ala"]]) == 2
    assert "cannot act as zpb_analyst for ala" in capsys.readouterr().err


@pg_only
def test_the_analyst_through_the_web_app_is_recorded_with_the_person(web, ref, tmp_path):
    """(f) Acting as the analyst for olga: an import of any unit's school records no unit, the app's
    login and olga; olga undoes anna's Bochnia import (in the unit's role, as an analyst does) and
    the connection is back in the analyst's role after it."""
    admin = web["admin"]
    _, mine = school(admin, "1201")
    _, theirs = school(admin, "1216")
    with store.acting_as(BOCHNIA, "anna"):
        annas = import_survey(web["web"], ref, tmp_path, mine)
    with store.acting_as("zpb_analyst", "olga"):
        olgas = import_survey(web["web"], ref, tmp_path, theirs, seed=2)
        con = store.connect(web["web"])
        try:
            assert rights_of(con).who() == "olga (zpb_analyst)"
            undo(con, annas)
            assert con.execute("SELECT current_user, session_user").fetchone() == ("zpb_analyst", WEB)
        finally:
            con.close()
    found = imports(admin)
    assert found[olgas] == (None, WEB, "olga", 12) and annas not in found
    with psycopg.connect(admin) as c:
        assert c.execute("SELECT COUNT(*) FROM survey_responses WHERE import_id = %s", (annas,)).fetchone()[0] == 0


def test_on_sqlite_the_person_is_recorded_and_the_role_ignored(small_copy, ref, tmp_path):
    """A SQLite file is one person's: acting as the reader still imports (no roles), for anna."""
    rspo = sqlite3.connect(small_copy).execute(
        "SELECT i.rspo FROM institutions i JOIN institution_kinds k ON k.code = i.kind WHERE k.family = 'school' "
        "AND k.exists_to IS NULL AND i.closed_year IS NULL AND EXISTS (SELECT 1 FROM participation p WHERE "
        "p.institution_id = i.id AND p.joined_edition <= ? AND (p.left_edition IS NULL OR p.left_edition >= ?)) "
        "AND NOT EXISTS (SELECT 1 FROM survey_responses r WHERE r.institution_id = i.id AND r.edition = ? AND "
        "r.grp = 'parents' AND r.wave = 'follow-up') ORDER BY i.id LIMIT 1", (EDITION,) * 3).fetchone()[0]
    with store.acting_as("zpb_reader", "anna"):
        iid = import_survey(small_copy, ref, tmp_path, rspo)
    con = sqlite3.connect(small_copy)
    assert con.execute("SELECT person, rows FROM imports WHERE id = ?", (iid,)).fetchone() == ("anna", 12)
    assert con.execute("SELECT COUNT(*) FROM imports WHERE person IS NOT NULL AND id <> ?", (iid,)).fetchone() == (0,)


# --------------------------------------------------------------------------- (g) the upgrade from version 6

def _old_columns_hashes(rows_of) -> dict[str, tuple[int, str]]:
    out = {}
    for table, rows in rows_of.items():
        h = hashlib.sha256()
        for row in sorted(rows, key=repr):
            h.update(repr(tuple(row)).encode())
        out[table] = (len(rows), h.hexdigest())
    return out


def _sqlite_rows(path: Path, columns: dict[str, list[str]]) -> dict[str, list]:
    con = sqlite3.connect(path)
    try:
        return {t: con.execute(f"SELECT {', '.join(c)} FROM {t}").fetchall() for t, c in columns.items()}
    finally:
        con.close()


def test_upgrade_6_to_7_keeps_every_import_without_a_person(tmp_path, capsys):
    """(g) A version-6 file (fixture schema-v6.sql.gz: two imports) keeps every row of every table,
    and its imports name no person."""
    path = tmp_path / "zpb.sqlite"
    con = sqlite3.connect(path)
    con.executescript(gzip.open(FIXTURES / "schema-v6.sql.gz", "rt", encoding="utf-8").read())
    columns = {t: [r[1] for r in con.execute(f"PRAGMA table_info({t})")] for (t,) in con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").fetchall()}
    con.close()
    assert "person" not in columns["imports"]
    before = _old_columns_hashes(_sqlite_rows(path, columns))
    assert before["imports"][0] == 2
    assert main(["db", "upgrade", "--db", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"upgraded from schema version 6 to {store.SCHEMA_VERSION}" in out and "2 import(s) made before name no person" in out
    after = _old_columns_hashes(_sqlite_rows(path, columns))
    assert {t: v for t, v in after.items() if t not in ("meta", "data_version")} == \
        {t: v for t, v in before.items() if t not in ("meta", "data_version")}
    con = sqlite3.connect(path)
    assert con.execute("SELECT id, person FROM imports ORDER BY id").fetchall() == [(1, None), (2, None)]
    con.close()
    assert main(["db", "check", "--db", str(path)]) == 0


@pg_only
def test_upgrade_6_to_7_on_postgresql_in_place(pg, db_backend, capsys):
    """(g) A version-6 PostgreSQL database (fixture schema-v6-postgresql.sql.gz) with `zpb db roles`
    run: the upgrade adds the column in place, keeps every row, leaves the imports' person empty,
    and brings the rights up to date — a unit's login may no longer record a person, the web app's
    login records one."""
    url = pg_database(pg)
    text = "\n".join(line for line in gzip.open(FIXTURES / "schema-v6-postgresql.sql.gz", "rt", encoding="utf-8")
                     .read().splitlines() if not line.startswith("\\"))
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(text)
        names = [r[0] for r in con.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        columns = {t: [r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE "
                                                   "table_schema = 'public' AND table_name = %s", (t,))] for t in names}

    def rows() -> dict[str, list]:
        with psycopg.connect(url) as con:
            return {t: con.execute(f"SELECT {', '.join(c)} FROM {t}").fetchall() for t, c in columns.items()}

    assert "person" not in columns["imports"]
    assert main(["db", "roles", "--db", url]) == 2  # the version-6 database is refused until upgraded
    assert "zpb db upgrade" in capsys.readouterr().err
    with psycopg.connect(url, autocommit=True) as con:  # what `zpb db roles` of version 6 left on
        con.execute("ALTER TABLE institutions ENABLE ROW LEVEL SECURITY")
    before = _old_columns_hashes(rows())
    assert before["imports"][0] == 2
    assert main(["db", "upgrade", "--db", url]) == 0
    out = capsys.readouterr().out
    assert f"upgraded from schema version 6 to {store.SCHEMA_VERSION}" in out and "rights of `zpb db roles` were brought up to date" in out
    after = _old_columns_hashes(rows())
    assert {t: v for t, v in after.items() if t not in ("meta", "data_version")} == \
        {t: v for t, v in before.items() if t not in ("meta", "data_version")}
    with psycopg.connect(url) as con:
        assert con.execute("SELECT id, person FROM imports ORDER BY id").fetchall() == [(1, None), (2, None)]
    pg.admin("DROP ROLE IF EXISTS v6_bochnia")
    pg.admin(f"CREATE ROLE v6_bochnia LOGIN IN ROLE {BOCHNIA}")
    unit = pg.url(url.rsplit("/", 1)[1], user="v6_bochnia")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        insert_import(unit, "KPP-BOCHNIA", "v6_bochnia", "anna")
    iid = insert_import(unit, "KPP-BOCHNIA", "v6_bochnia", None)
    assert imports(url)[iid] == ("KPP-BOCHNIA", "v6_bochnia", None, 0)
