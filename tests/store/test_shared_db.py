"""A database shared by a team: imports running at once, a build reading one snapshot meanwhile,
each police unit's rights enforced by PostgreSQL, and whole databases copied between the engines."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from zpb_lib.domain import cube
from zpb_lib import store
from zpb_lib.cli import main
from zpb_lib.store.write import insert_one, transaction
from support.surveys import answers, free_target, write_google_csv

pytestmark = pytest.mark.both_backends

ROOT = Path(__file__).resolve().parents[2]
EDITION = "2025/2026"
IMPORTS = 8
RESPONSES = 20
HANG = 600  # seconds after which a wait is a failure, not a timing assumption


def _wait_for(condition, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + HANG
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"the build ended ({proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {HANG} s")
        time.sleep(0.05)


def _zpb(*args: str, env: dict[str, str] | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "zpb_lib.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          env=env, **kw)


def _institution_rows(cube_path: Path, ids: set[int]) -> set[int]:
    """The institutions among ``ids`` whose students' baseline answers the cube holds."""
    with cube.Cube(cube_path) as c:
        t = c.table("indicators")
    t = t[(t["level"] == "institution") & (t["edition"] == EDITION) & (t["group"] == "students")]
    return {int(k) for k in t["key"]} & ids


def test_imports_while_a_build_reads_one_snapshot(small_copy, ref, tmp_path, data_version):
    """Eight coordinators import surveys of eight schools at once while a build is between reading
    the data version and computing its cube: every import is stored exactly once, and the build's
    cube holds none of them — exactly the data its manifest's data version names."""
    db = str(small_copy)
    con = store.connect(db)
    targets = [free_target(con, offset=i) for i in range(IMPORTS)]
    ids = {con.execute("SELECT id FROM institutions WHERE rspo = ?", (r,)).fetchone()[0] for r in targets}
    con.close()
    before = data_version(db)
    files = [write_google_csv(tmp_path / f"ankieta-{rspo}.csv", ref, "students",
                              answers(ref, "students", RESPONSES, seed=100 + i))
             for i, rspo in enumerate(targets)]

    pause, out = tmp_path / "pause", tmp_path / "reports"
    pause.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZPB_TEST_PAUSE")}
    build = subprocess.Popen(
        [sys.executable, "-m", "zpb_lib.cli", "build", "--db", db, "--edition", EDITION, "--out", str(out),
         "--only", "county", "--county", "1201", "--format", "html", "--quiet", "--jobs", "1"],
        cwd=ROOT, env={**env, "ZPB_TEST_PAUSE_DIR": str(pause), "ZPB_TEST_PAUSE_AT": "start"},
        stdout=open(tmp_path / "build.out", "wb"), stderr=open(tmp_path / "build.err", "wb"))
    try:
        # The build holds its snapshot and has read the data version: now everyone imports at once.
        _wait_for((pause / "start.reached").exists, build, "pause at the start")

        def one(i: int) -> subprocess.CompletedProcess:
            return _zpb("ingest", "survey", str(files[i]), "--institution", str(targets[i]), "--edition", EDITION,
                        "--group", "students", "--wave", "baseline", "--db", db, env=env)

        with ThreadPoolExecutor(IMPORTS) as pool:
            results = list(pool.map(one, range(IMPORTS)))
        assert [r.returncode for r in results] == [0] * IMPORTS, [r.stderr for r in results]
        (pause / "start.go").touch()
        assert build.wait(timeout=HANG) == 0, (tmp_path / "build.err").read_text()
    finally:
        if build.poll() is None:
            build.kill()

    # Every import stored exactly once.
    con = store.connect(db, readonly=True)
    stored = con.execute("SELECT i.rspo, COUNT(*) FROM survey_responses r JOIN institutions i "
                         "ON i.id = r.institution_id WHERE r.import_id IS NOT NULL GROUP BY i.rspo").fetchall()
    records = con.execute("SELECT file_name, rows FROM imports WHERE kind = 'survey' ORDER BY id").fetchall()
    con.close()
    assert sorted(stored) == sorted((r, RESPONSES) for r in targets)
    assert sorted(records) == sorted((f.name, RESPONSES) for f in files)
    after = data_version(db)
    assert after != before
    # The build read the snapshot of before the imports: its manifest and its cube say so.
    folder = out / "2025-2026"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["inputs"]["data_hash"] == before
    assert cube.Cube(folder / "cube.sqlite").meta["data_hash"] == before
    assert _institution_rows(folder / "cube.sqlite", ids) == set()
    # …and a cube computed now holds all eight (so the check above can tell the difference).
    con = store.connect(db, readonly=True)
    now = cube.build(con, EDITION, tmp_path / "now.sqlite")
    con.close()
    assert _institution_rows(now, ids) == ids and cube.Cube(now).meta["data_hash"] == after


def test_db_copy_both_ways_keeps_every_row(small_db, db_backend, pg, tmp_path, content_hash, capsys):
    """SQLite → PostgreSQL → SQLite (or the other way round): equal content, verified by the copy
    itself and here; each copy is a database of its own (its own data version)."""
    other = pg.create_database(f"copy_{os.getpid()}_{time.monotonic_ns()}") if db_backend == "sqlite" \
        else str(tmp_path / "copy.sqlite")
    back = tmp_path / "back.sqlite" if db_backend == "sqlite" else \
        pg.create_database(f"back_{os.getpid()}_{time.monotonic_ns()}")
    assert main(["db", "copy", str(small_db), str(other)]) == 0
    assert "verified equal" in capsys.readouterr().out
    assert main(["db", "copy", str(other), str(back)]) == 0
    capsys.readouterr()
    assert content_hash(small_db) == content_hash(other) == content_hash(back)
    versions = {store.data_version(d) for d in (small_db, other, back)}
    assert len(versions) == 3
    # The copy is a working database: its ids carry on past the copied ones.
    con = store.connect(back)
    with transaction(con):
        new = insert_one(con, "partners", {"name": "Straż Miejska", "kind": "city_guard", "county": "1201"})
    assert new == con.execute("SELECT MAX(id) FROM partners").fetchone()[0]
    assert store.data_version(con) != store.data_version(small_db)
    con.close()
    assert main(["db", "check", "--db", str(back)]) == 0
    # A second copy onto a database that holds one is refused, unless forced.
    assert main(["db", "copy", str(small_db), str(other)]) == 2
    assert "already holds a database" in capsys.readouterr().err


def test_db_upgrade_and_check_work_on_both(small_db, capsys):
    assert main(["db", "upgrade", "--db", str(small_db)]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert main(["db", "check", "--db", str(small_db)]) == 0


# --------------------------------------------------------------------------- rights (PostgreSQL)
# (A SQLite file's rights are its file permissions: `zpb db roles` refuses one.)

def test_roles_are_for_a_server(small_sqlite, capsys):
    assert main(["db", "roles", "--db", str(small_sqlite)]) == 2
    assert "PostgreSQL" in capsys.readouterr().err


BOCHNIA, TARNOW = "KPP-BOCHNIA", "KMP-TARNOW"  # counties 1201; 1216 and 1263


def _one(url: str, county: str, inside: bool) -> int:
    """The id of a school with survey responses in (``inside``) or outside ``county``."""
    with psycopg.connect(url) as con:
        return con.execute(f"SELECT id FROM institutions i WHERE {'' if inside else 'NOT'} (county = %s) "
                           "AND rspo IS NOT NULL AND EXISTS (SELECT 1 FROM survey_responses r WHERE "
                           "r.institution_id = i.id) ORDER BY id LIMIT 1", (county,)).fetchone()[0]


def _raw(url: str, sql: str, params: tuple = ()) -> int:
    """Run one statement as the user of ``url`` and commit; the number of rows it changed."""
    with psycopg.connect(url) as con:
        return con.execute(sql, params).rowcount


@pytest.mark.postgresql_only
def test_a_unit_changes_only_its_own_schools(rights, content_hash):
    admin = rights["admin"]
    mine, theirs = _one(admin, "1201", True), _one(admin, "1201", False)
    with psycopg.connect(admin) as con:
        pupils = con.execute("SELECT pupils FROM institutions WHERE id = %s", (mine,)).fetchone()[0]
    before = content_hash(admin)
    ala = rights["ala"]

    # Its own school: insert, update, delete all work.
    assert _raw(ala, "UPDATE institutions SET pupils = 123 WHERE id = %s", (mine,)) == 1
    assert _raw(ala, "INSERT INTO participation (institution_id, joined_edition) VALUES (%s, '2024/2025')",
                (mine,)) == 1
    assert _raw(ala, "DELETE FROM participation WHERE institution_id = %s AND joined_edition = '2024/2025'",
                (mine,)) == 1
    # Another unit's school: a new row is refused by the database…
    for sql in ("INSERT INTO participation (institution_id, joined_edition) VALUES (%s, '2024/2025')",
                "INSERT INTO survey_responses (institution_id, edition, wave, grp) VALUES (%s, '2025/2026', "
                "'baseline', 'students')"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            _raw(ala, sql, (theirs,))
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        _raw(ala, "INSERT INTO institutions (name, kind, county, rspo, municipality, locality) "
                  "VALUES ('Szkoła', 'primary', '1216', 999777, 'Tarnów', 'Tarnów')")
    # …its rows are out of reach of a change (none changes), and none can be moved into the unit.
    assert _raw(ala, "UPDATE institutions SET pupils = 1 WHERE id = %s", (theirs,)) == 0
    assert _raw(ala, "UPDATE institutions SET county = '1201' WHERE id = %s", (theirs,)) == 0
    assert _raw(ala, "DELETE FROM survey_responses WHERE institution_id = %s", (theirs,)) == 0
    assert _raw(ala, "DELETE FROM audit_items WHERE audit_id IN (SELECT a.id FROM audits a JOIN institutions i "
                     "ON i.id = a.institution_id WHERE i.county <> '1201')") == 0
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        _raw(ala, "UPDATE institutions SET county = '1216' WHERE id = %s", (mine,))  # out of its unit
    # Reference tables, meta and the data version are the analyst's.
    for sql in ("UPDATE editions SET ceremony = NULL", "INSERT INTO police_units VALUES ('X', 'KPP', 'x', 'x')",
                "DELETE FROM criteria", "UPDATE counties SET police_unit = 'KPP-BOCHNIA'",
                "UPDATE meta SET value = '9' WHERE key = 'schema_version'", "UPDATE data_version SET version = 0"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
            _raw(ala, sql)
    # It reads everything.
    counts = []
    for url in (ala, admin):
        with psycopg.connect(url) as con:
            counts.append(con.execute("SELECT COUNT(*) FROM survey_responses").fetchone()[0])
    assert counts[0] == counts[1] > 0
    # Nothing but its own school's pupils changed.
    _raw(admin, "UPDATE institutions SET pupils = %s WHERE id = %s", (pupils, mine))
    assert content_hash(admin) == before


@pytest.mark.postgresql_only
def test_imports_of_another_units_school_refused_with_nothing_stored(rights, ref, tmp_path, capsys, content_hash):
    admin, ala = rights["admin"], rights["ala"]
    con = store.connect(admin, readonly=True)
    # A school of the unit taking part in the edition, its teachers' follow-up answers cleared first.
    mine = con.execute(
        "SELECT i.rspo FROM institutions i JOIN participation p ON p.institution_id = i.id "
        "WHERE i.county = '1201' AND i.rspo IS NOT NULL AND p.joined_edition <= :e "
        "AND (p.left_edition IS NULL OR p.left_edition >= :e) ORDER BY i.id LIMIT 1", {"e": EDITION}).fetchone()[0]
    group = "teachers"
    _raw(admin, "DELETE FROM survey_responses WHERE edition = %s AND grp = 'teachers' AND wave = 'follow-up' "
                "AND institution_id = (SELECT id FROM institutions WHERE rspo = %s)", (EDITION, mine))
    theirs = free_target(con)
    assert con.execute("SELECT county FROM institutions WHERE rspo = ?", (theirs,)).fetchone()[0] != "1201"
    con.close()
    before = content_hash(admin)
    path = write_google_csv(tmp_path / "a.csv", ref, group, answers(ref, group, 12, seed=3))
    argv = ["ingest", "survey", str(path), "--edition", EDITION, "--group", group, "--wave", "follow-up",
            "--db", ala]
    assert main(argv[:3] + ["--institution", str(theirs)] + argv[3:]) == 2
    err = capsys.readouterr().err
    # Refused before anything is written, naming the file, the school, its county and unit, and the login.
    unit = con_name = None
    with psycopg.connect(admin) as c:
        county, con_name, unit = c.execute(
            "SELECT c.name, i.name, p.name FROM institutions i JOIN counties c ON c.teryt = i.county "
            "JOIN police_units p ON p.code = c.police_unit WHERE i.rspo = %s", (theirs,)).fetchone()
    assert f"refused: {path.name}: RSPO {theirs} („{con_name}”" in err
    assert f"powiat {county}" in err and unit in err and "login ala" in err, err
    assert content_hash(admin) == before
    assert main(argv[:3] + ["--institution", str(mine)] + argv[3:]) == 0
    assert "stored 12 responses" in capsys.readouterr().out


@pytest.mark.postgresql_only
def test_the_reader_reads_and_builds_but_changes_nothing(rights):
    rita, olek = rights["rita"], rights["olek"]
    for sql in ("UPDATE institutions SET pupils = 1", "INSERT INTO partners (name, kind) VALUES ('x', 'ngo')",
                "DELETE FROM awards"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            _raw(rita, sql)
    con = store.connect(rita, readonly=True)
    assert store.data_version(con)
    con.close()
    # The analyst changes anything, reference tables included.
    assert _raw(olek, "UPDATE editions SET ceremony = ceremony") > 0
    assert _raw(olek, "UPDATE institutions SET pupils = pupils WHERE county = '1216'") > 0
