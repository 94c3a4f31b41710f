"""Attacks on zpb by its own users and by whoever hands it a file. Each test is an attack and
asserts that it is refused, or that it has no effect, with per-table content hashes before and after.

The database's part runs on the PostgreSQL server the suite starts (a copy of the small demo
database with `zpb db roles` run; logins: ala of KPP Bochnia, county 1201; tom of KMP Tarnów,
counties 1216 and 1263; olek, an analyst; rita, the reader; admin, the owner). The attacker is a
coordinator with a unit's login and plain SQL, or with zpb's own commands.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import psycopg
import pytest

from zpb_lib import store
from zpb_lib.cli import main
from zpb_lib.ingest import IngestError
from zpb_lib.ingest.survey import ingest_survey
from zpb_lib.store.frames import table_hash, tables
from support.register import fill_register
from support.rspo import universities, write_university_list
from support.surveys import answers, write_google_csv

ROOT = Path(__file__).resolve().parents[2]
EDITION = "2025/2026"
BOCHNIA, TARNOW = "KPP-BOCHNIA", "KMP-TARNOW"


# --------------------------------------------------------------------------- helpers

def table_hashes(db: str | Path) -> dict[str, str]:
    """SHA-256 of each table's rows (the data version's row left out: a refused change may not
    advance it, which the tests check on their own)."""
    con = store.connect(db, readonly=True)
    try:
        return {t: table_hash(con, t) for t in tables(con) if t != "data_version"}
    finally:
        con.close()


def version(db: str) -> int:
    with psycopg.connect(db) as con:
        return con.execute("SELECT version FROM data_version").fetchone()[0]


def sql(url: str, *statements: str | tuple[str, tuple]) -> list:
    """Run statements as the user of ``url`` in one transaction and commit; each one's rows (or
    row count)."""
    out = []
    with psycopg.connect(url) as con:
        for st in statements:
            text, params = st if isinstance(st, tuple) else (st, ())
            cur = con.execute(text, params or None)
            out.append(cur.fetchall() if cur.description else cur.rowcount)
    return out


def school(db: str, county: str, *, participating: bool = False, offset: int = 0) -> tuple[int, int, str]:
    """(internal id, RSPO number, name) of a school of ``county`` (taking part in the edition)."""
    cond = ("AND EXISTS (SELECT 1 FROM participation p WHERE p.institution_id = i.id AND p.joined_edition <= %(e)s "
            "AND (p.left_edition IS NULL OR p.left_edition >= %(e)s)) AND k.exists_to IS NULL AND i.closed_year IS NULL"
            if participating else "")
    with psycopg.connect(db) as con:
        return con.execute(f"SELECT i.id, i.rspo, i.name FROM institutions i JOIN institution_kinds k ON k.code = i.kind "
                           f"WHERE i.county = %(c)s AND i.rspo IS NOT NULL {cond} ORDER BY i.id OFFSET %(o)s LIMIT 1",
                           {"c": county, "e": EDITION, "o": offset}).fetchone()


def survey_import(db: str, ref, tmp_path: Path, rspo: int, name: str, seed: int = 1, group: str = "parents"):
    """An import of 12 parents' follow-up answers for a school, made by the login of ``db``."""
    path = write_google_csv(tmp_path / name, ref, group, answers(ref, group, 12, seed=seed))
    con = store.connect(db)
    try:
        con.execute("DELETE FROM survey_responses WHERE edition = ? AND grp = ? AND wave = 'follow-up' AND "
                    "institution_id = (SELECT id FROM institutions WHERE rspo = ?)", (EDITION, group, rspo))
        return ingest_survey(con, path, institution=rspo, edition=EDITION, group=group, wave="follow-up")
    finally:
        con.close()


def zpb(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "zpb_lib.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout)


def forged_import(url: str, unit: str, login: str, *changes: tuple[str, int, dict]) -> int:
    """As ``url``'s login, in one transaction: an import record for ``unit`` and change records
    (table, row id, "old" values) of the attacker's choosing. Returns the import's id."""
    with psycopg.connect(url) as con:
        iid = con.execute("INSERT INTO imports (kind, file_name, content_hash, imported_at, rows, unit, imported_by) "
                          "VALUES ('register', 'rejestr.xlsx', md5(random()::text), '2026-01-01', 1, %s, %s) "
                          "RETURNING id", (unit, login)).fetchone()[0]
        for table, row_id, old in changes:
            con.execute("INSERT INTO import_changes (import_id, tbl, row_id, old) VALUES (%s, %s, %s, %s)",
                        (iid, table, row_id, json.dumps(old)))
    return iid


pg_only = pytest.mark.postgresql_only
pytestmark = pytest.mark.both_backends


# --------------------------------------------------------------------------- provenance and undo

@pg_only
def test_forged_change_records_and_an_analysts_undo_never_reach_another_county(rights, capsys):
    """The finding: a unit forged an import whose change records name a table, columns and rows of
    its choice, and the analyst's `zpb imports undo` moved other units' schools (or, through a table
    name carrying SQL, every county) into the unit. Now each forgery is refused where it is
    stored, and the one record a unit can store (of its own import, in its own transaction) is
    undone in the unit's role, which cannot reach another unit's row."""
    admin, ala, olek = rights["admin"], rights["ala"], rights["olek"]
    mine, theirs = school(admin, "1201")[0], school(admin, "1216")[0]
    before = table_hashes(admin)

    # A table name carrying SQL, a table that no import changes: refused by the schema's CHECK.
    for table in ("counties SET police_unit = 'KPP-BOCHNIA' --", "counties", "meta", "imports"):
        with pytest.raises(psycopg.errors.CheckViolation):
            forged_import(ala, BOCHNIA, "ala", (table, 1, {"police_unit": BOCHNIA}))
    # Change records for an import of another unit, or of an earlier transaction: refused.
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        forged_import(ala, TARNOW, "ala", ("institutions", theirs, {"county": "1201"}))
    older = forged_import(ala, BOCHNIA, "ala")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="same transaction"):
        sql(ala, ("INSERT INTO import_changes (import_id, tbl, row_id, old) VALUES (%s, 'institutions', %s, %s)",
                  (older, theirs, json.dumps({"county": "1201"}))))
    # What a unit can store: its own import's records — naming another unit's school, a column that
    # is SQL, and its own school moved out of its counties.
    for change in (("institutions", theirs, {"county": "1201"}),
                   ("institutions", mine, {"county = '1201' WHERE true; --": 1}),
                   ("institutions", mine, {"county": "1261"})):
        iid = forged_import(ala, BOCHNIA, "ala", change)
        for login in (olek, admin, ala):  # the analyst, the owner and the unit itself
            assert main(["imports", "undo", str(iid), "--db", login]) == 2
            err = capsys.readouterr().err
            assert f"import #{iid}" in err and "nothing was changed" in err, err
        sql(admin, f"DELETE FROM import_changes WHERE import_id = {iid}", f"DELETE FROM imports WHERE id = {iid}")
    sql(admin, f"DELETE FROM imports WHERE id = {older}")
    assert table_hashes(admin) == before


@pg_only
def test_provenance_cannot_be_edited_or_deleted_by_another_unit(rights, ref, tmp_path, capsys):
    """The finding: any unit could UPDATE or DELETE other units' imports and change records (an
    import relabelled `demo` could no longer be undone; deleted change records meant an undo
    restored nothing). Also: forging another login's or unit's name on an import, attaching rows to
    another unit's import (which would block its undo), detaching rows from their import."""
    admin, ala, tom = rights["admin"], rights["ala"], rights["tom"]
    _, rspo, _ = school(admin, "1216", participating=True)
    theirs = survey_import(tom, ref, tmp_path, rspo, "tarnow.csv").import_id
    mine_id, mine_rspo, _ = school(admin, "1201", participating=True)
    before = table_hashes(admin)

    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
        sql(ala, f"UPDATE imports SET kind = 'demo' WHERE id = {theirs}")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
        sql(tom, f"UPDATE imports SET kind = 'demo' WHERE id = {theirs}")  # not even its own, once recorded
    assert sql(ala, f"DELETE FROM import_changes WHERE import_id = {theirs}",
               f"UPDATE import_changes SET old = '{{}}' WHERE import_id = {theirs}") == [0, 0]
    with pytest.raises(psycopg.errors.ForeignKeyViolation):  # its rows still name it; and RLS hides it anyway
        sql(tom, f"DELETE FROM imports WHERE id = {theirs}")
    assert sql(ala, f"DELETE FROM imports WHERE id = {theirs}") == [0]
    for unit, login in ((TARNOW, "ala"), (BOCHNIA, "tom"), (None, "ala")):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            forged_import(ala, unit, login)
    # Rows of its own school attached to another unit's import, or to an earlier import of its own.
    for import_id in (theirs, forged := forged_import(ala, BOCHNIA, "ala")):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="same transaction"):
            sql(ala, ("INSERT INTO survey_responses (institution_id, edition, wave, grp, import_id) "
                      "VALUES (%s, %s, 'baseline', 'students', %s)", (mine_id, EDITION, import_id)))
    sql(admin, f"DELETE FROM imports WHERE id = {forged}")
    # Detaching a row from the import that stored it, or moving it to another.
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="cannot be changed"):
        sql(tom, f"UPDATE survey_responses SET import_id = NULL WHERE import_id = {theirs}")
    # zpb's own undo, run by another unit, refuses and names the maker.
    assert main(["imports", "undo", str(theirs), "--db", ala]) == 2
    err = capsys.readouterr().err
    assert "Tarnowie" in err and "login tom" in err and "only its own unit's imports" in err, err
    assert table_hashes(admin) == before
    # The maker's own undo still works, and so does the analyst's.
    assert main(["imports", "undo", str(theirs), "--db", tom]) == 0
    assert f"import #{theirs} is undone" in capsys.readouterr().out


@pg_only
def test_imports_record_who_made_them_and_a_unit_lists_its_own(rights, ref, tmp_path, capsys):
    admin, ala, tom, olek = rights["admin"], rights["ala"], rights["tom"], rights["olek"]
    a = survey_import(ala, ref, tmp_path, school(admin, "1201", participating=True)[1], "ala.csv").import_id
    t = survey_import(tom, ref, tmp_path, school(admin, "1216", participating=True)[1], "tom.csv", seed=2).import_id
    o = survey_import(olek, ref, tmp_path, school(admin, "1263", participating=True)[1], "olek.csv", seed=3).import_id
    rows = {r[0]: r[1:] for r in sql(admin, "SELECT id, imported_by, unit FROM imports")[0]}
    assert rows[a] == ("ala", BOCHNIA) and rows[t] == ("tom", TARNOW) and rows[o] == ("olek", None)
    assert main(["imports", "list", "--db", ala]) == 0
    out = capsys.readouterr().out
    assert "ala.csv" in out and "tom.csv" not in out and "olek.csv" not in out and "not listed" in out
    assert main(["imports", "list", "--db", olek]) == 0
    out = capsys.readouterr().out
    assert all(f in out for f in ("ala.csv", "tom.csv", "olek.csv")) and " tom " in out
    # The analyst undoes a unit's import (in the unit's role); a unit cannot undo the analyst's.
    assert main(["imports", "undo", str(o), "--db", tom]) == 2
    assert "made by an analyst" in capsys.readouterr().err
    assert main(["imports", "undo", str(t), "--db", olek]) == 0
    capsys.readouterr()
    # The reader undoes nothing.
    assert main(["imports", "undo", str(a), "--db", rights["rita"]]) == 2
    assert "changes nothing" in capsys.readouterr().err


# --------------------------------------------------------------------------- the data version

@pg_only
def test_the_data_version_can_be_neither_dodged_nor_faked(rights):
    """The finding: the counter's trigger function ran with its owner's rights and a search path
    that let a session's temporary table named data_version take the writes (a change went
    uncounted and the next build skipped its reports), and any role could advance the counter by
    calling the function from a trigger of its own temporary table."""
    admin, ala, rita = rights["admin"], rights["ala"], rights["rita"]
    mine = school(admin, "1201")[0]
    v0 = version(admin)
    sql(ala, "CREATE TEMP TABLE data_version (id int, db_id text, version int)",
        "INSERT INTO data_version VALUES (1, 'x', 0)",
        (f"UPDATE institutions SET name = name || ' ' WHERE id = {mine}", ()),
        (f"UPDATE institutions SET name = rtrim(name) WHERE id = {mine}", ()))
    assert version(admin) == v0 + 2  # the real counter took both changes
    for url in (ala, rita):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied for function"):
            sql(url, "CREATE TEMP TABLE t (a int)",
                "CREATE TRIGGER t AFTER INSERT ON t FOR EACH STATEMENT EXECUTE FUNCTION zpb_data_changed()")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
            sql(url, "SELECT zpb_data_changed()")
    assert version(admin) == v0 + 2
    # Every function zpb made has a fixed search path with the temporary schema last, and no EXECUTE
    # for PUBLIC.
    rows = sql(admin, "SELECT p.proname, p.proconfig, p.proacl::text FROM pg_proc p JOIN pg_namespace n "
                      "ON n.oid = p.pronamespace WHERE n.nspname = current_schema() AND p.proname LIKE 'zpb%'")[0]
    assert len(rows) == 5
    for name, config, acl in rows:
        assert [c.replace('"', "") for c in config] == ["search_path=public, pg_temp"], (name, config)
        grants = acl.strip("{}").split(",") if acl else []  # an empty grantee is PUBLIC
        assert grants and not any(g.startswith("=") for g in grants), (name, acl)


@pg_only
def test_temporary_tables_cannot_stand_in_for_the_rules_tables(rights):
    """Own attack: a unit shadows `criteria` (maximum points) and `institution_kinds` (which kinds
    are schools) with temporary tables of its own, to store an audit above the maximum and a school
    with a university's identifier. The rule functions read zpb's tables whatever the session has."""
    admin, ala = rights["admin"], rights["ala"]
    mine = school(admin, "1201")[0]
    audit = sql(admin, f"SELECT a.id, i.criterion FROM audits a JOIN audit_items i ON i.audit_id = a.id "
                       f"JOIN institutions s ON s.id = a.institution_id WHERE s.county = '1201' LIMIT 1")[0][0]
    before = table_hashes(admin)
    with pytest.raises(psycopg.errors.CheckViolation, match="above the criterion"):
        sql(ala, "CREATE TEMP TABLE criteria AS SELECT catalogue, criterion, area, 1000 AS max_points, mandatory "
                 "FROM public.criteria",
            (f"UPDATE audit_items SET points = 999 WHERE audit_id = {audit[0]} AND criterion = %s", (audit[1],)))
    with pytest.raises(psycopg.errors.CheckViolation, match="POL-on"):
        sql(ala, "CREATE TEMP TABLE institution_kinds AS SELECT code, 'university' AS family FROM "
                 "public.institution_kinds",
            f"UPDATE institutions SET rspo = NULL, polon = '00000000-0000-0000-0000-000000000001' WHERE id = {mine}")
    # Nor can it create objects in zpb's schema to stand in for them.
    for st in ("CREATE TABLE public.x (a int)", "CREATE FUNCTION public.zpb_x() RETURNS int LANGUAGE sql AS 'SELECT 1'"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            sql(ala, st)
    assert table_hashes(admin) == before


# --------------------------------------------------------------------------- refusals in plain words

@pg_only
def test_a_units_import_of_another_units_rows_is_refused_before_anything_is_written(rights, ref, tmp_path, capsys):
    """The finding: `zpb ingest register` or `ingest institutions` touching another unit's rows
    exited 0 with "1 changed … stored as import #6" although nothing changed. Now refused, naming
    the file, sheet, row, column, the institution and its unit; nothing recorded."""
    admin, ala = rights["admin"], rights["ala"]
    mine, theirs = school(admin, "1201"), school(admin, "1263")
    before = table_hashes(admin)
    path = fill_register(tmp_path / "rejestr.xlsx", participation=[
        (mine[1], mine[2], "2010/2011", None), (theirs[1], theirs[2], "2010/2011", None)])
    assert main(["ingest", "register", str(path), "--db", ala]) == 2
    err = capsys.readouterr().err
    assert "rejestr.xlsx" in err and "sheet „Udział”, row 3, column A" in err, err
    assert f"RSPO {theirs[1]} („{theirs[2]}”)" in err and "powiat m. Tarnów" in err and "Tarnowie" in err
    assert "login ala" in err and f"RSPO {mine[1]}" not in err
    # A list of universities: every one is in Kraków's or Nowy Sącz's county, none of them Bochnia's.
    csv = write_university_list(tmp_path / "uczelnie.csv", universities())
    assert main(["ingest", "institutions", str(csv), "--db", ala]) == 2
    err = capsys.readouterr().err
    assert "uczelnie.csv" in err and "powiat" in err and "login ala" in err and "stored as import" not in err, err
    assert table_hashes(admin) == before


@pg_only
def test_database_refusals_reach_the_user_as_sentences(rights, capsys):
    """The finding: refusals reached the user as raw database text ("new row violates row-level
    security policy …", "permission denied for table import_changes"). zpb's store says what it
    means first, and keeps the engine's text on a second line."""
    ala = rights["ala"]
    con = store.connect(ala)
    try:
        with pytest.raises(store.PermissionDenied) as exc:
            con.execute("INSERT INTO participation (institution_id, joined_edition) VALUES (?, '2024/2025')",
                        (school(rights["admin"], "1216")[0],))
        first, second = str(exc.value).split("\n", 1)
        assert "another police unit's institution" in first and "row-level security" in second
        with pytest.raises(store.PermissionDenied) as exc:
            con.execute("UPDATE imports SET kind = 'demo'")
        assert str(exc.value).startswith("your role may not change table imports directly")
    finally:
        con.close()


# --------------------------------------------------------------------------- locks

@pg_only
def test_a_table_locked_by_a_unit_ends_the_readers_command_with_a_message(rights, ref, tmp_path):
    """The finding: `LOCK TABLE institutions IN ACCESS EXCLUSIVE MODE` from a unit's session made
    the reader's `zpb db info` hang for ever. zpb's connections have a lock timeout: the command ends
    after it, saying who holds the lock."""
    holder = psycopg.connect(rights["ala"])
    try:
        holder.execute("LOCK TABLE institutions IN ACCESS EXCLUSIVE MODE")
        result = zpb("db", "info", "--db", rights["rita"], env={"ZPB_LOCK_TIMEOUT": "1"}, timeout=300)
        assert result.returncode == 2, result
        assert "the database is busy" in result.stderr and "login ala" in result.stderr
        assert "institutions (AccessExclusiveLock)" in result.stderr and "Traceback" not in result.stderr
        # A writer that holds the data version (an open transaction that changed a row) stops imports
        # the same way, not for ever.
        holder.rollback()
        rspo = school(rights["admin"], "1216", participating=True)[1]
        sql(rights["admin"], ("DELETE FROM survey_responses WHERE grp = 'parents' AND wave = 'follow-up' AND "
                              "institution_id = (SELECT id FROM institutions WHERE rspo = %s)", (rspo,)))
        csv = write_google_csv(tmp_path / "rodzice.csv", ref, "parents", answers(ref, "parents", 12, seed=4))
        before = table_hashes(rights["admin"])
        holder.execute(f"UPDATE institutions SET pupils = pupils WHERE id = {school(rights['admin'], '1201')[0]}")
        result = zpb("ingest", "survey", str(csv), "--institution", str(rspo), "--edition", EDITION, "--group",
                     "parents", "--wave", "follow-up", "--db", rights["tom"], env={"ZPB_LOCK_TIMEOUT": "1"}, timeout=300)
        assert result.returncode == 2, result
        assert "rodzice.csv" in result.stderr and "the database is busy" in result.stderr
        assert "login ala" in result.stderr and "an open transaction that has written" in result.stderr, result.stderr
        holder.rollback()
        assert table_hashes(rights["admin"]) == before
    finally:
        holder.close()


# --------------------------------------------------------------------------- imports at the same moment

ROUNDS, AT_ONCE = 20, 16


def test_imports_started_together_store_one_file_once(small_copy, ref, tmp_path, db_backend):
    """The finding: two `zpb ingest survey` into the same school, edition, group and wave started
    together stored both files (or the same file twice) on PostgreSQL, since the "already
    imported" check ran before the insert without a lock. Each round starts 16 imports into one
    slot at once — 8 of the same file, 8 of different files — on one barrier: exactly one is
    stored, every other is refused with a message naming its file."""
    db = small_copy
    con = store.connect(db)
    rspo = con.execute("SELECT i.rspo FROM institutions i JOIN participation p ON p.institution_id = i.id "
                       "JOIN institution_kinds k ON k.code = i.kind WHERE i.rspo IS NOT NULL AND k.exists_to IS NULL "
                       "AND i.closed_year IS NULL AND p.joined_edition <= ? AND (p.left_edition IS NULL OR "
                       "p.left_edition >= ?) ORDER BY i.id LIMIT 1", (EDITION, EDITION)).fetchone()[0]
    con.execute("DELETE FROM survey_responses WHERE edition = ? AND grp = 'teachers' AND wave = 'follow-up' AND "
                "institution_id = (SELECT id FROM institutions WHERE rspo = ?)", (EDITION, rspo))
    con.close()
    sizes = {}
    files = []
    for i in range(AT_ONCE):
        n = 5 + (i if i >= AT_ONCE // 2 else 0)  # the first half: one file; the rest: each its own
        path = tmp_path / f"ankieta-{i}.csv"
        if i < AT_ONCE // 2 and i:
            path.write_bytes(files[0].read_bytes())
        else:
            write_google_csv(path, ref, "teachers", answers(ref, "teachers", n, seed=50 + i))
        files.append(path)
        sizes[path.name] = n
    for round_ in range(ROUNDS):
        barrier = threading.Barrier(AT_ONCE)
        outcomes: list = [None] * AT_ONCE

        def one(i: int) -> None:
            c = store.connect(db)
            try:
                barrier.wait()
                outcomes[i] = ingest_survey(c, files[i], institution=rspo, edition=EDITION, group="teachers",
                                            wave="follow-up")
            except Exception as exc:  # noqa: BLE001 - every outcome is examined below
                outcomes[i] = exc
            finally:
                c.close()

        threads = [threading.Thread(target=one, args=(i,)) for i in range(AT_ONCE)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stored = [o for o in outcomes if not isinstance(o, Exception)]
        refused = [(files[i].name, o) for i, o in enumerate(outcomes) if isinstance(o, Exception)]
        assert len(stored) == 1, (round_, outcomes)
        for name, exc in refused:
            assert isinstance(exc, IngestError), (round_, name, repr(exc))
            assert str(exc).startswith(name + ":") and "nothing was stored" in str(exc), str(exc)
            assert "already imported" in str(exc) or "already has" in str(exc) or "busy" in str(exc), str(exc)
        con = store.connect(db)
        try:
            rows = con.execute("SELECT r.import_id, COUNT(*) FROM survey_responses r JOIN institutions i "
                               "ON i.id = r.institution_id WHERE i.rspo = ? AND r.edition = ? AND r.grp = 'teachers' "
                               "AND r.wave = 'follow-up' GROUP BY r.import_id", (rspo, EDITION)).fetchall()
            won = stored[0]
            assert rows == [(won.import_id, sizes[won.file.path.name])], (round_, rows)
            assert con.execute("SELECT COUNT(*) FROM imports WHERE kind = 'survey'").fetchone()[0] == 1
        finally:
            con.close()
        assert main(["imports", "undo", str(won.import_id), "--db", str(db)]) == 0


# --------------------------------------------------------------------------- more of a unit's attacks

@pg_only
def test_replace_cannot_take_back_another_units_import(rights, ref, tmp_path, capsys):
    """Own attack: the same bytes another unit imported for its school, imported with --replace for
    one's own: the replace would undo the other unit's import. Refused; its import stays whole."""
    admin, ala, tom = rights["admin"], rights["ala"], rights["tom"]
    theirs = survey_import(tom, ref, tmp_path, school(admin, "1216", participating=True)[1], "wspolny.csv", seed=7)
    mine = school(admin, "1201", participating=True)[1]
    sql(admin, ("DELETE FROM survey_responses WHERE grp = 'parents' AND wave = 'follow-up' AND "
                "institution_id = (SELECT id FROM institutions WHERE rspo = %s)", (mine,)))
    before = table_hashes(admin)
    assert main(["ingest", "survey", str(tmp_path / "wspolny.csv"), "--institution", str(mine), "--edition", EDITION,
                 "--group", "parents", "--wave", "follow-up", "--replace", "--db", ala]) == 2
    err = capsys.readouterr().err
    assert f"import #{theirs.import_id}" in err and "Tarnowie" in err and "replaces only its own" in err, err
    assert table_hashes(admin) == before


@pg_only
def test_a_unit_records_only_its_own_institutions_awards(rights, capsys):
    """Own attack: `zpb awards confirm` run by a unit would record the awards of every county's
    audits. A unit records its own; the others are left, and said to be."""
    admin, ala = rights["admin"], rights["ala"]
    pending = sql(admin, ("SELECT w.id, i.county FROM awards w JOIN institutions i ON i.id = w.institution_id "
                          "WHERE w.edition = %s AND w.audit_id IS NOT NULL ORDER BY w.id", (EDITION,)))[0]
    ours = next(i for i, c in pending if c == "1201")
    others = [i for i, c in pending if c != "1201"][:2]
    assert others
    sql(admin, f"DELETE FROM awards WHERE id IN ({', '.join(str(i) for i in [ours, *others])})")
    before = {r[0]: r[1:] for r in sql(admin, "SELECT id, institution_id, kind FROM awards")[0]}
    assert main(["awards", "confirm", "--edition", EDITION, "--db", ala]) == 0
    out = capsys.readouterr().out
    assert "recorded 1 award(s)" in out and f"{len(others)} award(s) of other police units' institutions" in out
    after = sql(admin, "SELECT w.id, i.county, w.import_id FROM awards w JOIN institutions i ON i.id = w.institution_id")[0]
    new = [r for r in after if r[0] not in before]
    assert len(new) == 1 and new[0][1] == "1201"
    assert sql(admin, f"SELECT unit, imported_by FROM imports WHERE id = {new[0][2]}")[0] == [(BOCHNIA, "ala")]


@pg_only
def test_a_unit_cannot_switch_off_the_rules(rights):
    """Own attack: the switches that would let a unit's writes skip the rules — another role, the
    triggers off (replication role, DISABLE TRIGGER), row security off, the counter's sequence moved
    — are all refused."""
    admin, ala = rights["admin"], rights["ala"]
    before = table_hashes(admin)
    for st in ("SET ROLE zpb_analyst", "SET ROLE zpb_unit_kmp_tarnow", "SET session_replication_role = replica",
               "ALTER TABLE survey_responses DISABLE TRIGGER ALL", "ALTER TABLE imports DISABLE ROW LEVEL SECURITY",
               "SELECT setval(pg_get_serial_sequence('imports', 'id'), 1)", "TRUNCATE survey_responses",
               "GRANT zpb_analyst TO ala", "ALTER FUNCTION zpb_data_changed() SET search_path = pg_temp, public"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            sql(ala, st)
    with psycopg.connect(ala) as con:  # row security off is an error when a policy would apply
        con.execute("SET row_security = off")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            con.execute("SELECT COUNT(*) FROM institutions")
    assert table_hashes(admin) == before


@pg_only
def test_a_lock_held_by_a_unit_on_the_imports_ends_others_imports_with_a_message(rights, ref, tmp_path):
    """Own attack: a unit takes the advisory lock every import takes first (its key is public) and
    keeps it, to stop every other unit's imports. They end after the lock timeout, saying who."""
    from zpb_lib.store.write import IMPORT_LOCK

    rspo = school(rights["admin"], "1216", participating=True)[1]
    csv = write_google_csv(tmp_path / "nauczyciele.csv", ref, "teachers", answers(ref, "teachers", 7, seed=9))
    sql(rights["admin"], ("DELETE FROM survey_responses WHERE grp = 'teachers' AND wave = 'follow-up' AND "
                          "institution_id = (SELECT id FROM institutions WHERE rspo = %s)", (rspo,)))
    before = table_hashes(rights["admin"])
    holder = psycopg.connect(rights["ala"], autocommit=True)
    try:
        holder.execute("SELECT pg_advisory_lock(%s)", (IMPORT_LOCK,))
        result = zpb("ingest", "survey", str(csv), "--institution", str(rspo), "--edition", EDITION, "--group",
                     "teachers", "--wave", "follow-up", "--db", rights["tom"], env={"ZPB_LOCK_TIMEOUT": "1"})
        assert result.returncode == 2 and "nauczyciele.csv" in result.stderr
        assert "the database is busy" in result.stderr and "login ala" in result.stderr
        assert "an advisory lock" in result.stderr, result.stderr
    finally:
        holder.close()
    assert table_hashes(rights["admin"]) == before
    result = zpb("ingest", "survey", str(csv), "--institution", str(rspo), "--edition", EDITION, "--group",
                 "teachers", "--wave", "follow-up", "--db", rights["tom"])
    assert result.returncode == 0, result.stderr


# --------------------------------------------------------------------------- removals and chains

NEW_IMPORT = ("INSERT INTO imports (kind, file_name, content_hash, imported_at, rows, unit, imported_by) "
              "VALUES ('register', 'r.xlsx', %s, '2026-01-01', 1, %s, 'ala') RETURNING id")


def register_action(rspo: int, title: str, status: str = "planowane") -> tuple:
    return (str(rspo), None, EDITION, "inne", "profilaktyczne", title, None, "15.03.2026", status)


@pg_only
def test_a_unit_removes_only_its_own_units_register_rows_and_undoes_the_removal(rights, tmp_path, capsys):
    """A coordinator marks „Usuń” on a row of another unit's school: refused before anything is
    written, naming the file, sheet, row, column, the school and its unit. Its own school's action
    (stored by its own earlier import) goes, recorded whole — the database compares the record with
    the row — and the undo puts it back with the import that first stored it."""
    admin, ala = rights["admin"], rights["ala"]
    mine = school(admin, "1201")
    added = fill_register(tmp_path / "dodaj.xlsx", actions=[register_action(mine[1], "Dyżury przy przejściu")])
    assert main(["ingest", "register", str(added), "--db", ala]) == 0
    capsys.readouterr()
    stored = sql(admin, "SELECT * FROM action_items WHERE title = 'Dyżury przy przejściu'")[0]
    rspo, edition, title = sql(admin, "SELECT i.rspo, a.edition, a.title FROM action_items a JOIN institutions i "
                                      "ON i.id = a.institution_id WHERE i.county = '1263' AND i.rspo IS NOT NULL "
                                      "ORDER BY a.id LIMIT 1")[0][0]
    before = table_hashes(admin)
    foreign = fill_register(tmp_path / "cudze.xlsx", actions=[
        register_action(mine[1], "Dyżury przy przejściu") + ("x",),
        (str(rspo), None, edition, None, None, title, None, None, None, "x")])
    assert main(["ingest", "register", str(foreign), "--db", ala]) == 2
    err = capsys.readouterr().err
    assert "cudze.xlsx" in err and "sheet „Plany działań”, row 3, column A" in err and "would remove action" in err
    assert f"RSPO {rspo}" in err and "Tarnowie" in err and "login ala" in err, err
    assert "row 2" not in err  # its own school's row is fine
    assert table_hashes(admin) == before

    own = fill_register(tmp_path / "usun.xlsx", actions=[register_action(mine[1], "Dyżury przy przejściu") + ("x",)])
    assert main(["ingest", "register", str(own), "--db", ala]) == 0
    removal = int(capsys.readouterr().out.split("as import #")[1].split()[0])
    assert sql(admin, "SELECT COUNT(*) FROM action_items WHERE title = 'Dyżury przy przejściu'")[0] == [(0,)]
    assert sql(admin, f"SELECT unit, imported_by FROM imports WHERE id = {removal}")[0] == [(BOCHNIA, "ala")]
    assert main(["imports", "undo", str(removal), "--db", ala]) == 0
    assert sql(admin, "SELECT * FROM action_items WHERE title = 'Dyżury przy przejściu'")[0] == stored
    assert table_hashes(admin) == before


@pg_only
def test_removal_records_cannot_be_forged_to_bring_rows_back_under_another_import(rights, tmp_path, capsys):
    """A unit writes removal records itself: of its own row with another unit's import in it, of a
    row that is not there, and a genuine one it then edits; and inserts a row claiming another
    unit's import next to a genuine record. Each is refused: a removal record holds the row exactly
    as it is, never changes, and only the row it holds may come back with its first import."""
    admin, ala, tom = rights["admin"], rights["ala"], rights["tom"]
    mine, theirs = school(admin, "1201"), school(admin, "1216")
    assert main(["ingest", "register", str(fill_register(tmp_path / "t.xlsx", actions=[
        register_action(theirs[1], "Akcja w Tarnowie")])), "--db", tom]) == 0
    tom_import = sql(admin, "SELECT MAX(id) FROM imports")[0][0][0]
    assert main(["ingest", "register", str(fill_register(tmp_path / "a.xlsx", actions=[
        register_action(mine[1], "Akcja w Bochni")])), "--db", ala]) == 0
    capsys.readouterr()
    (row,) = sql(admin, "SELECT row_to_json(a)::text FROM action_items a WHERE title = 'Akcja w Bochni'")[0]
    real = json.loads(row[0])
    before = table_hashes(admin)
    forged = dict(real, import_id=tom_import)
    for record in ({"*removed": forged}, {"*removed": dict(real, id=999999)}):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="exactly as it is"):
            forged_import(ala, BOCHNIA, "ala", ("action_items", record["*removed"]["id"], record))
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="never changed"):
        with psycopg.connect(ala) as con:
            iid = con.execute(NEW_IMPORT, ("h", BOCHNIA)).fetchone()[0]
            con.execute("INSERT INTO import_changes (import_id, tbl, row_id, old) VALUES (%s, 'action_items', %s, %s)",
                        (iid, real["id"], json.dumps({"*removed": real})))
            con.execute("UPDATE import_changes SET old = %s WHERE import_id = %s",
                        (json.dumps({"*removed": forged}), iid))
    # A row of its own school claiming Tarnów's import, beside the genuine record of another row.
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="same transaction"):
        with psycopg.connect(ala) as con:
            iid = con.execute(NEW_IMPORT, ("h2", BOCHNIA)).fetchone()[0]
            con.execute("INSERT INTO import_changes (import_id, tbl, row_id, old) VALUES (%s, 'action_items', %s, %s)",
                        (iid, real["id"], json.dumps({"*removed": real})))
            con.execute("INSERT INTO action_items (id, institution_id, edition, area, kind, title, deadline, status, "
                        "import_id) VALUES (%s, %s, %s, 'other', 'prevention', 'Podrzucony', '2026-03-15', 'planned', "
                        "%s)", (real["id"] + 100000, mine[0], EDITION, tom_import))
    assert table_hashes(admin) == before


@pg_only
def test_a_unit_undoes_a_chain_only_when_every_import_in_it_is_its_own(rights, tmp_path, capsys):
    """KPP Bochnia adds a partner; an analyst then adds an action of a Bochnia school naming it. The
    unit's undo of its import with the later ones is refused naming the analyst's import; the
    analyst's succeeds — its own import undone as itself, the unit's in the unit's role."""
    admin, ala, olek = rights["admin"], rights["ala"], rights["olek"]
    mine = school(admin, "1201")
    before = table_hashes(admin)
    assert main(["ingest", "register", str(fill_register(tmp_path / "p.xlsx", partners=[
        ("Rada Osiedla Krzęczków", "samorząd", "bocheński")])), "--db", ala]) == 0
    partner_import = sql(admin, "SELECT MAX(id) FROM imports")[0][0][0]
    action = register_action(mine[1], "Wspólny patrol")
    action = action[:6] + ("Rada Osiedla Krzęczków",) + action[7:]
    assert main(["ingest", "register", str(fill_register(tmp_path / "a.xlsx", actions=[action])), "--db", olek]) == 0
    action_import = sql(admin, "SELECT MAX(id) FROM imports")[0][0][0]
    capsys.readouterr()
    middle = table_hashes(admin)
    assert main(["imports", "undo", str(partner_import), "--db", ala]) == 2
    err = capsys.readouterr().err
    assert f"#{action_import} („a.xlsx”, made by an analyst, login olek) is not login ala" in err, err
    assert main(["imports", "undo", str(partner_import), "--with-later", "--db", ala]) == 2
    err = capsys.readouterr().err
    assert "cannot be undone together" in err and f"#{action_import}" in err and "made by an analyst" in err, err
    assert table_hashes(admin) == middle
    assert main(["imports", "undo", str(partner_import), "--with-later", "--db", olek]) == 0
    assert f"imports #{action_import}, #{partner_import} are undone" in capsys.readouterr().out
    assert table_hashes(admin) == before


def one_value(db: str | Path, query: str):
    """The first column of the first row of ``query`` (either engine)."""
    con = store.connect(db, readonly=True)
    try:
        return con.execute(query).fetchone()[0]
    finally:
        con.close()


def cross_unit_chain(db: str | Path, tmp_path: Path, partner_by: str | Path, action_by: str | Path
                     ) -> tuple[int, int]:
    """A partner of KPP Bochnia's county (imported by ``partner_by``), then an action of a school of
    KMP Tarnów's county naming it (imported by ``action_by``): an action names the only partner of
    its name whatever the county, so the second import depends on the first across units. Returns
    the two imports' ids."""
    theirs = one_value(db, "SELECT rspo FROM institutions WHERE county = '1216' AND rspo IS NOT NULL ORDER BY id")
    assert main(["ingest", "register", str(fill_register(tmp_path / "partner.xlsx", partners=[
        ("Stowarzyszenie Bezpieczna Droga", "organizacja pozarządowa", "bocheński")])), "--db", str(partner_by)]) == 0
    partner_import = one_value(db, "SELECT MAX(id) FROM imports")
    action = register_action(theirs, "Wspólne szkolenie")
    action = action[:6] + ("Stowarzyszenie Bezpieczna Droga",) + action[7:]
    assert main(["ingest", "register", str(fill_register(tmp_path / "akcja.xlsx", actions=[action])),
                 "--db", str(action_by)]) == 0
    action_import = one_value(db, "SELECT MAX(id) FROM imports")
    assert action_import > partner_import
    return partner_import, action_import


def watch_deletes(admin: str) -> None:
    """Note the role (current_user) that deletes each row of the partners, the actions and the
    imports, in a schema of the test's own (so that zpb's tables and their hashes stay as they are)."""
    sql(admin, "CREATE SCHEMA spy", "CREATE TABLE spy.deletes (tbl text, row_id int, who text)",
        "GRANT USAGE ON SCHEMA spy TO PUBLIC", "GRANT INSERT ON spy.deletes TO PUBLIC",
        "CREATE FUNCTION spy.note() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN INSERT INTO spy.deletes VALUES (TG_TABLE_NAME, OLD.id, current_user); RETURN OLD; END $$",
        *(f"CREATE TRIGGER spy AFTER DELETE ON {t} FOR EACH ROW EXECUTE FUNCTION spy.note()"
          for t in ("partners", "action_items", "imports")))


@pg_only
def test_a_units_undo_of_a_chain_stops_at_another_units_import(rights, tmp_path, capsys):
    """Own attack: KPP Bochnia adds a partner; KMP Tarnów then adds an action of its own school
    naming it. Bochnia's `undo --with-later` would take Tarnów's import back with its own: refused,
    naming Tarnów's import and its maker, nothing changed (nor by a dry run, nor by Tarnów's undo of
    the chain from Bochnia's import). The analyst's undo of the chain takes each import back in its
    maker's role: Tarnów's action as Tarnów, Bochnia's partner as Bochnia."""
    admin, ala, tom, olek = rights["admin"], rights["ala"], rights["tom"], rights["olek"]
    before = table_hashes(admin)
    partner_import, action_import = cross_unit_chain(admin, tmp_path, ala, tom)
    capsys.readouterr()
    middle = table_hashes(admin)
    for args in ([], ["--dry-run"]):
        assert main(["imports", "undo", str(partner_import), "--with-later", *args, "--db", ala]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "cannot be undone together, nothing was changed" in err, err
        assert (f"#{action_import} („akcja.xlsx”, made by Komenda Miejska Policji w Tarnowie, login tom) is not "
                "login ala") in err and err.rstrip().endswith("ask an analyst"), err
    assert main(["imports", "undo", str(partner_import), "--with-later", "--db", tom]) == 2
    err = capsys.readouterr().err
    assert f"#{partner_import} („partner.xlsx”, made by Komenda Powiatowa Policji w Bochni, login ala)" in err, err
    assert table_hashes(admin) == middle

    partner_id = one_value(admin, "SELECT id FROM partners WHERE name = 'Stowarzyszenie Bezpieczna Droga'")
    action_id = one_value(admin, "SELECT id FROM action_items WHERE title = 'Wspólne szkolenie'")
    watch_deletes(admin)
    assert main(["imports", "undo", str(partner_import), "--with-later", "--db", olek]) == 0
    assert f"imports #{action_import}, #{partner_import} are undone" in capsys.readouterr().out
    assert sorted(sql(admin, "SELECT tbl, row_id, who FROM spy.deletes")[0]) == sorted([
        ("action_items", action_id, "zpb_unit_kmp_tarnow"), ("imports", action_import, "zpb_unit_kmp_tarnow"),
        ("partners", partner_id, "zpb_unit_kpp_bochnia"), ("imports", partner_import, "zpb_unit_kpp_bochnia")])
    sql(admin, "DROP SCHEMA spy CASCADE")
    assert table_hashes(admin) == before


def test_a_chain_across_counties_is_undone_in_one_step(small_copy, tmp_path, capsys):
    """The same chain on either engine, imported and undone by the database's owner (a SQLite file
    has no units): both imports go, latest first, and the database is as it was."""
    before = table_hashes(small_copy)
    partner_import, action_import = cross_unit_chain(small_copy, tmp_path, small_copy, small_copy)
    capsys.readouterr()
    assert main(["imports", "undo", str(partner_import), "--with-later", "--db", str(small_copy)]) == 0
    assert f"imports #{action_import}, #{partner_import} are undone" in capsys.readouterr().out
    assert table_hashes(small_copy) == before
