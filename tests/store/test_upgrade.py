"""`zpb db upgrade` brings a database of an earlier schema to the current one without losing a
row. The fixtures are dumps of databases made by the releases with schema version 1, 2 and 3 (see
fixtures/README.md): `schema-v1.sql.gz` a small demo database plus one survey and one audit import,
`schema-v2.sql.gz` to `schema-v4.sql.gz` a small demo database plus one survey import, `schema-v5.sql.gz`
that plus a register import (a partner and an action naming it); versions 4 and 5 also on PostgreSQL."""
from __future__ import annotations

import gzip
import hashlib
import sqlite3
from pathlib import Path

import pytest

from zpb_lib.services import demo
from zpb_lib import store
from zpb_lib.cli import main
from zpb_lib.store.upgrade import upgrade

FIXTURES = Path(__file__).parents[1] / "fixtures"
FIXTURE = FIXTURES / "schema-v1.sql.gz"
FIXTURE_V2 = FIXTURES / "schema-v2.sql.gz"
FIXTURE_V3 = FIXTURES / "schema-v3.sql.gz"


def restore_v1(path: Path, fixture: Path = FIXTURE) -> Path:
    con = sqlite3.connect(path)
    con.executescript(gzip.open(fixture, "rt", encoding="utf-8").read())
    con.close()
    return path


@pytest.fixture
def v1(tmp_path) -> Path:
    return restore_v1(tmp_path / "zpb.sqlite")


@pytest.fixture
def v2(tmp_path) -> Path:
    return restore_v1(tmp_path / "zpb.sqlite", FIXTURE_V2)


def table_hashes(path: Path, columns: dict[str, list[str]] | None = None) -> dict[str, tuple[int, str]]:
    """Row count and SHA-256 of every table's rows over the given columns (default: all), in the
    order of those columns: equal pairs mean the same rows."""
    con = sqlite3.connect(path)
    out = {}
    names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                       "AND name NOT LIKE 'sqlite_%'")]
    for t in names:
        cols = (columns or {}).get(t) or [r[1] for r in con.execute(f"PRAGMA table_info({t})")]
        h = hashlib.sha256()
        rows = con.execute(f"SELECT {', '.join(cols)} FROM {t} ORDER BY {', '.join(cols)}").fetchall()
        for row in rows:
            h.update(repr(row).encode())
        out[t] = (len(rows), h.hexdigest())
    con.close()
    return out


def columns_of(path: Path) -> dict[str, list[str]]:
    con = sqlite3.connect(path)
    names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    out = {t: [r[1] for r in con.execute(f"PRAGMA table_info({t})")] for t in names}
    con.close()
    return out


def test_every_command_refuses_the_old_schema_and_names_the_upgrade(v1, capsys):
    with pytest.raises(store.StoreError, match=r"schema version 1.*zpb db upgrade --db"):
        store.connect(v1)
    for argv in (["db", "check"], ["db", "info"], ["imports", "list"], ["build", "--only", "county"],
                 ["export", "--edition", "2025/2026", "--out", str(v1.parent / "x.xlsx")]):
        assert main([*argv, "--db", str(v1)]) == 2, argv
        assert "zpb db upgrade" in capsys.readouterr().err


def test_upgrade_keeps_every_row(v1, ref, capsys):
    old_cols = columns_of(v1)
    before = table_hashes(v1)
    original_bytes = v1.read_bytes()
    assert main(["db", "upgrade", "--db", str(v1)]) == 0
    out = capsys.readouterr().out
    assert f"upgraded from schema version 1 to {store.SCHEMA_VERSION}" in out
    # Every table of version 1 holds the same rows over its version-1 columns.
    after = table_hashes(v1, old_cols)
    kinds_added = {k for k in ref.kinds} - {"primary", "gimnazjum", "general_secondary", "technical", "vocational",
                                            "university"}
    for table, (n, digest) in before.items():
        if table == "meta":
            continue  # the schema version changes, by design
        if table == "institution_kinds":
            assert after[table][0] == n + len(kinds_added)
            continue
        assert after[table] == (n, digest), table
    con = store.connect(v1, readonly=True)
    meta = dict(con.execute("SELECT key, value FROM meta"))
    assert meta["schema_version"] == str(store.SCHEMA_VERSION)
    assert {r[0] for r in con.execute("SELECT code FROM institution_kinds")} == set(ref.kinds)
    # The backup is the file as it was.
    backups = list(v1.parent.glob("zpb.schema-v1-backup-*.sqlite"))
    assert len(backups) == 1 and str(backups[0]) in out
    restored = v1.parent / "original.sqlite"
    restored.write_bytes(original_bytes)
    assert table_hashes(backups[0]) == table_hashes(restored)
    # The upgraded file passes the database's own checks except what version 1 let in: the fixture's
    # survey and audit are for a school that takes part in no edition (version 1 did not check).
    bad = con.execute("SELECT COUNT(*) FROM audits a WHERE NOT EXISTS (SELECT 1 FROM participation p WHERE "
                      "p.institution_id = a.institution_id)").fetchone()[0]
    con.close()
    assert bad == 1
    assert main(["db", "check", "--db", str(v1)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all("does not take part" in line for line in lines)


def test_upgraded_demo_identifiers_equal_a_new_demo(v1, tmp_path):
    """A version-1 demo database gets the identifiers the demo generator now gives the same
    institutions (same seed and scale), so demo data behaves alike however it was made."""
    upgrade(v1)
    con = sqlite3.connect(v1)
    seed, scale = (con.execute("SELECT value FROM meta WHERE key = ?", (k,)).fetchone()[0]
                   for k in ("demo_seed", "demo_scale"))
    old = con.execute("SELECT id, name, rspo, polon FROM institutions ORDER BY id").fetchall()
    con.close()
    fresh = demo.generate(tmp_path / "fresh.sqlite", seed=int(seed), scale=float(scale))
    con = sqlite3.connect(fresh)
    new = con.execute("SELECT id, name, rspo, polon, kind FROM institutions ORDER BY id").fetchall()
    con.close()
    # Since generator version 3 the first technikum taking part in a county's main town is a school
    # complex, named as one: the same institution with the same identifiers.
    assert any(k == "complex" for *_, k in new)
    assert old == [(i, n.replace("Zespół Szkół", "Technikum", 1) if k == "complex" else n, r, p)
                   for i, n, r, p, k in new]
    assert all((r[2] is None) != (r[3] is None) for r in old)
    assert len({r[2] for r in old if r[2]}) == sum(1 for r in old if r[2])


def test_upgrade_of_a_current_database_does_nothing(small_copy, content_hash, capsys):
    before = content_hash(small_copy)
    assert main(["db", "upgrade", "--db", str(small_copy)]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert content_hash(small_copy) == before
    assert not list(small_copy.parent.glob("*backup*"))


def test_upgrade_adds_new_reference_rows(small_copy, data_copy, capsys):
    """Next year's edition added to data/editions.yaml reaches an existing database by upgrade."""
    from zpb_lib.reference import load_reference

    text = (data_copy / "editions.yaml").read_text(encoding="utf-8").replace("last: 2025/2026", "last: 2026/2027")
    (data_copy / "editions.yaml").write_text(text, encoding="utf-8")
    result = upgrade(small_copy, ref=load_reference(data_copy))
    assert any("added 2026/2027" in c for c in result.reference_changes["editions"])
    assert result.backup is not None and result.backup.exists()
    con = store.connect(small_copy, readonly=True)
    assert con.execute("SELECT held FROM editions WHERE edition = '2026/2027'").fetchone() == (1,)
    con.close()


def test_newer_schema_refused(small_copy, capsys):
    con = sqlite3.connect(small_copy)
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with pytest.raises(store.StoreError, match="newer zpb"):
        store.connect(small_copy)
    assert main(["db", "upgrade", "--db", str(small_copy)]) == 2
    assert "newer zpb" in capsys.readouterr().err


def test_failed_upgrade_leaves_the_file_as_it_was(v1):
    """A column the current schema does not have would be lost: the upgrade is refused as a whole."""
    con = sqlite3.connect(v1)
    con.execute("ALTER TABLE survey_responses ADD COLUMN zzz_extra INTEGER")
    con.execute("UPDATE survey_responses SET zzz_extra = 1")
    con.commit()
    con.close()
    before = table_hashes(v1)
    with pytest.raises(store.StoreError, match="zzz_extra"):
        upgrade(v1, make_backup=False)
    assert table_hashes(v1) == before


def test_version_1_database_of_other_origin_refused(v1):
    con = sqlite3.connect(v1)
    con.execute("UPDATE meta SET value = '0' WHERE key = 'synthetic'")
    con.commit()
    con.close()
    before = table_hashes(v1)
    with pytest.raises(store.StoreError, match="not demo data"):
        upgrade(v1, make_backup=False)
    assert table_hashes(v1) == before


# --------------------------------------------------------------------------- version 2 → 3

PLACES = ("toilets", "corridors", "cloakroom", "playground", "surroundings", "bus_stop", "crossing", "way", "other")


def _place_figures(path: Path) -> dict[tuple, tuple[int, int]]:
    """Per (institution, edition, wave, group): respondents who answered the places question (any
    place column not NULL) and how many named the toilets — computed from the rows, in Python."""
    con = sqlite3.connect(path)
    rows = con.execute(f"SELECT institution_id, edition, wave, grp, {', '.join('place_' + p for p in PLACES)} "
                       "FROM survey_responses").fetchall()
    con.close()
    out: dict[tuple, list[int]] = {}
    for r in rows:
        cell = out.setdefault(tuple(r[:4]), [0, 0])
        if any(v is not None for v in r[4:]):
            cell[0] += 1
            cell[1] += r[4] == 1
    return {k: (n, k_) for k, (n, k_) in out.items() if n}


def test_v2_fixture_is_what_the_readme_says(v2):
    con = sqlite3.connect(v2)
    assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("2",)
    assert "place_nowhere" not in [r[1] for r in con.execute("PRAGMA table_info(survey_responses)")]
    imp = con.execute("SELECT id, kind, rows FROM imports WHERE kind = 'survey'").fetchall()
    assert imp == [(1, "survey", 30)]
    # Some of its respondents left the places question empty: version 2 stored that as NULLs.
    assert con.execute("SELECT COUNT(*) FROM survey_responses WHERE import_id = 1 AND place_toilets IS NULL"
                       ).fetchone()[0] > 0
    con.close()


def test_upgrade_2_to_3_keeps_every_row(v2, ref, capsys):
    old_cols = columns_of(v2)
    before = table_hashes(v2)
    places_before = _place_figures(v2)
    n_responses = before["survey_responses"][0]
    assert main(["db", "upgrade", "--db", str(v2)]) == 0
    out = capsys.readouterr().out
    assert f"upgraded from schema version 2 to {store.SCHEMA_VERSION}" in out
    assert f"{n_responses:,} survey responses stored before have no „nowhere” answer".replace(",", " ") in out
    after = table_hashes(v2, old_cols)
    for table, (n, digest) in before.items():
        if table == "meta":
            continue  # the schema version changes, by design
        assert after[table] == (n, digest), table
    # no table lost; versions 4, 8 and 9 add one
    assert set(table_hashes(v2)) == set(before) | {"data_version", "journal", "deliveries"}
    con = store.connect(v2, readonly=True)
    assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (str(store.SCHEMA_VERSION),)
    # The new column is there, empty for every stored response: their meaning is unchanged.
    assert con.execute("SELECT COUNT(*), COUNT(place_nowhere) FROM survey_responses").fetchone() == (n_responses, 0)
    # Place shares are those of the old rows: an empty answer stays skipped (outside n).
    from zpb_lib.domain.indicators import place_counts

    pc = place_counts(con, ref)
    toilets = pc[pc["place"] == "toilets"]
    got = {(int(r.institution_id), r.edition, r.wave, r.group): (int(r.n), int(r.k)) for r in toilets.itertuples()}
    assert got == places_before
    assert "nowhere" not in set(pc["place"])
    con.close()
    assert main(["db", "check", "--db", str(v2)]) == 0


def test_upgraded_v2_database_refuses_nowhere_with_a_place(v2):
    """The upgraded table carries the new CHECK: „nowhere” cannot stand beside a place."""
    upgrade(v2, make_backup=False)
    con = store.connect(v2)
    row = con.execute("SELECT institution_id, edition, wave, grp FROM survey_responses LIMIT 1").fetchone()
    with pytest.raises(store.IntegrityError):
        con.execute("INSERT INTO survey_responses (institution_id, edition, wave, grp, place_nowhere, place_way) "
                    "VALUES (?, ?, ?, ?, 1, 1)", row)
    con.execute("INSERT INTO survey_responses (institution_id, edition, wave, grp, place_nowhere, place_way) "
                "VALUES (?, ?, ?, ?, 1, 0)", row)
    con.rollback()
    con.close()


def test_v2_database_refused_until_upgraded(v2, capsys):
    with pytest.raises(store.StoreError, match=r"schema version 2.*zpb db upgrade --db"):
        store.connect(v2)
    assert main(["db", "info", "--db", str(v2)]) == 2
    assert "zpb db upgrade" in capsys.readouterr().err


# --------------------------------------------------------------------------- version 3 → 4

@pytest.fixture
def v3(tmp_path) -> Path:
    return restore_v1(tmp_path / "zpb.sqlite", FIXTURE_V3)


def test_v3_fixture_is_what_the_readme_says(v3):
    con = sqlite3.connect(v3)
    assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("3",)
    assert "data_version" not in {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert con.execute("SELECT id, kind, rows FROM imports").fetchall() == [(1, "survey", 30)]
    assert con.execute("SELECT COUNT(*) FROM survey_responses WHERE import_id = 1 AND place_nowhere = 1"
                       ).fetchone() == (7,)
    con.close()


def test_upgrade_3_to_4_keeps_every_row_and_starts_the_data_version(v3, capsys):
    before, old_cols = table_hashes(v3), columns_of(v3)
    assert main(["db", "upgrade", "--db", str(v3)]) == 0
    out = capsys.readouterr().out
    assert f"upgraded from schema version 3 to {store.SCHEMA_VERSION}" in out and "counter of changes" in out
    after = table_hashes(v3, old_cols)  # version 5 added columns to imports; the old ones keep their values
    assert set(after) == set(before) | {"data_version", "journal", "deliveries"}  # versions 8 and 9 added these
    for table, pair in before.items():
        if table != "meta":  # the schema version changes, by design
            assert after[table] == pair, table
    con = sqlite3.connect(v3)
    db_id, version = con.execute("SELECT db_id, version FROM data_version").fetchone()
    con.close()
    # The upgrade's own writes after the rebuild (the schema version in meta) are the first changes.
    assert len(db_id) == 32 and int(db_id, 16) >= 0 and version > 0
    assert store.data_version(v3) == f"{db_id[:8]}-{version}"
    # Every later change advances it, in the change's transaction, whoever makes it; a read does
    # not, nor a change rolled back.
    from zpb_lib.store.write import set_meta, transaction

    con = store.connect(v3)
    store.table_counts(con)
    assert store.data_version(con) == f"{db_id[:8]}-{version}"
    with transaction(con):
        set_meta(con, "note", "x")
    assert store.data_version(con) == f"{db_id[:8]}-{version + 1}"
    with pytest.raises(ZeroDivisionError):
        with transaction(con):
            set_meta(con, "note", "y")
            1 / 0
    assert store.data_version(con) == f"{db_id[:8]}-{version + 1}"
    con.close()
    raw = sqlite3.connect(v3)
    with raw:  # another tool's change counts too
        raw.execute("UPDATE institutions SET name = name || '.' WHERE id = (SELECT MIN(id) FROM institutions)")
    raw.close()
    assert store.data_version(v3) == f"{db_id[:8]}-{version + 2}"
    assert main(["db", "check", "--db", str(v3)]) == 0


# --------------------------------------------------------------------------- version 4 → 5

FIXTURE_V4 = FIXTURES / "schema-v4.sql.gz"
FIXTURE_V4_PG = FIXTURES / "schema-v4-postgresql.sql.gz"


@pytest.fixture
def v4(tmp_path) -> Path:
    return restore_v1(tmp_path / "zpb.sqlite", FIXTURE_V4)


def test_upgrade_4_to_5_keeps_every_row_and_guards_change_records(v4, capsys):
    """Version 5 adds who made each import (empty for the ones made before) and refuses change
    records of a table no import changes."""
    before, old_cols = table_hashes(v4), columns_of(v4)
    v_before = sqlite3.connect(v4).execute("SELECT db_id, version FROM data_version").fetchone()
    assert before["imports"][0] == 1 and "imported_by" not in old_cols["imports"]
    assert main(["db", "upgrade", "--db", str(v4)]) == 0
    out = capsys.readouterr().out
    assert f"upgraded from schema version 4 to {store.SCHEMA_VERSION}" in out
    assert "1 import(s) made before record no login" in out
    after = table_hashes(v4, old_cols)
    for table, pair in before.items():
        if table not in ("meta", "data_version"):
            assert after[table] == pair, table
    con = sqlite3.connect(v4)
    assert con.execute("SELECT imported_by, unit FROM imports").fetchall() == [(None, None)]
    db_id, version = con.execute("SELECT db_id, version FROM data_version").fetchone()
    assert db_id == v_before[0] and version > v_before[1]  # the same database, its writes counted
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        con.execute("INSERT INTO import_changes (import_id, tbl, row_id, old) VALUES (1, 'counties', 1, '{}')")
    con.close()
    assert main(["db", "check", "--db", str(v4)]) == 0


def _restore_pg(pg, fixture: Path) -> str:
    """A PostgreSQL database restored from a plain pg_dump (its psql commands left out)."""
    import psycopg

    from conftest import pg_database

    url = pg_database(pg)
    text = "\n".join(line for line in gzip.open(fixture, "rt", encoding="utf-8").read().splitlines()
                     if not line.startswith("\\"))
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(text)
    return url


@pytest.mark.postgresql_only
def test_upgrade_4_to_5_on_postgresql_in_place(pg, db_backend, capsys):
    """A PostgreSQL database made by the release with schema version 4 (fixture: pg_dump of the same
    demo database and import as schema-v4.sql.gz), with `zpb db roles` run: the upgrade adds the
    columns, the check, the functions' fixed search path and the provenance triggers in place, keeps
    every row, and brings the rights up to date."""
    import psycopg

    url = _restore_pg(pg, FIXTURE_V4_PG)
    with psycopg.connect(url, autocommit=True) as con:
        # What `zpb db roles` of version 4 left: the data version's function with its owner's rights,
        # and row-level security on.
        con.execute("ALTER FUNCTION zpb_data_changed() SECURITY DEFINER SET search_path FROM CURRENT")
        con.execute("ALTER TABLE institutions ENABLE ROW LEVEL SECURITY")
    before = _pg_hashes(url)
    assert main(["db", "roles", "--db", url]) == 2  # the old schema is refused first
    assert "zpb db upgrade" in capsys.readouterr().err
    assert main(["db", "upgrade", "--db", url]) == 0
    out = capsys.readouterr().out
    assert f"upgraded from schema version 4 to {store.SCHEMA_VERSION}" in out
    assert "1 import(s) made before record no login" in out
    after = _pg_hashes(url, {t: c for t, (_, _, c) in before.items()})
    for table, (n, digest, _) in before.items():
        if table not in ("meta", "data_version"):
            assert after[table][:2] == (n, digest), table
    with psycopg.connect(url) as con:
        config = dict(con.execute("SELECT proname, proconfig FROM pg_proc WHERE proname LIKE 'zpb%'").fetchall())
        assert set(config) == {"zpb_data_changed", "zpb_institutions_identifier", "zpb_audit_items_check",
                               "zpb_import_rows", "zpb_import_changes_check"}
        assert all([x.replace('"', "") for x in c] == ["search_path=public, pg_temp"] for c in config.values()), config
        iid = con.execute("INSERT INTO imports (kind, file_name, content_hash, imported_at, rows) "
                          "VALUES ('register', 'x', 'x', '2026', 0) RETURNING id").fetchone()[0]
        with pytest.raises(psycopg.errors.CheckViolation):
            con.execute("INSERT INTO import_changes (import_id, tbl, row_id, old) VALUES (%s, 'counties', 1, '{}')",
                        (iid,))
    with psycopg.connect(url) as con:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="same transaction"):
            con.execute("INSERT INTO survey_responses (institution_id, edition, wave, grp, import_id) "
                        "SELECT institution_id, edition, wave, grp, import_id FROM survey_responses "
                        "WHERE import_id = 1 LIMIT 1")
    assert main(["db", "roles", "--db", url]) == 0
    capsys.readouterr()
    assert main(["db", "check", "--db", url]) == 0
    assert main(["db", "upgrade", "--db", url]) == 0
    assert "nothing to do" in capsys.readouterr().out


def _pg_hashes(url: str, columns: dict[str, list[str]] | None = None) -> dict[str, tuple[int, str, list[str]]]:
    """Row count, SHA-256 over the given columns (default: all) in their order, and the columns,
    of every table of a PostgreSQL database's public schema."""
    import psycopg

    out = {}
    with psycopg.connect(url) as con:
        names = [r[0] for r in con.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        for t in names:
            cols = (columns or {}).get(t) or [r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
                (t,))]
            h = hashlib.sha256()
            rows = con.execute(f"SELECT {', '.join(cols)} FROM {t} ORDER BY {', '.join(cols)}").fetchall()
            for row in rows:
                h.update(repr(row).encode())
            out[t] = (len(rows), h.hexdigest(), cols)
    return out


FIXTURE_V5 = FIXTURES / "schema-v5.sql.gz"
FIXTURE_V5_PG = FIXTURES / "schema-v5-postgresql.sql.gz"
V5_ACTION = ("216534", None, "2025/2026", "inne", "profilaktyczne", "Festyn rodzinny", None, None, None, "x")


def _remove_and_undo(db: str, tmp_path: Path, capsys) -> None:
    """Remove the fixture's action (stored by its register import #2) with a register row marked
    „Usuń”, then undo the removal: the action is back as it was, with import #2."""
    from support.register import fill_register

    con = store.connect(db, readonly=True)
    try:
        before = con.execute("SELECT * FROM action_items WHERE title = 'Festyn rodzinny'").fetchall()
    finally:
        con.close()
    assert len(before) == 1 and before[0][-1] == 2
    path = fill_register(tmp_path / "usun.xlsx", actions=[V5_ACTION])
    assert main(["ingest", "register", str(path), "--db", db]) == 0
    removal = int(capsys.readouterr().out.split("as import #")[1].split()[0])
    assert main(["imports", "undo", str(removal), "--db", db]) == 0
    assert "put back the rows it removed: 1 action_items" in capsys.readouterr().out
    con = store.connect(db, readonly=True)
    try:
        assert con.execute("SELECT * FROM action_items WHERE title = 'Festyn rodzinny'").fetchall() == before
    finally:
        con.close()


def test_upgrade_5_to_6_keeps_every_row_and_removals_can_be_undone(tmp_path, capsys):
    """Version 6 records the rows an import removes; a SQLite file already has the tables for it."""
    v5 = restore_v1(tmp_path / "zpb.sqlite", FIXTURE_V5)
    before, old_cols = table_hashes(v5), columns_of(v5)
    assert before["imports"][0] == 2 and before["import_changes"][0] == 0
    assert main(["db", "info", "--db", str(v5)]) == 2  # refused until upgraded
    assert "zpb db upgrade" in capsys.readouterr().err
    assert main(["db", "upgrade", "--db", str(v5)]) == 0
    out = capsys.readouterr().out
    assert f"upgraded from schema version 5 to {store.SCHEMA_VERSION}" in out and "„Usuń”" in out
    after = table_hashes(v5, old_cols)  # version 7 added a column to imports; the old ones keep their values
    for table, pair in before.items():
        if table not in ("meta", "data_version"):
            assert after[table] == pair, table
    _remove_and_undo(str(v5), tmp_path, capsys)
    assert main(["db", "check", "--db", str(v5)]) == 0


@pytest.mark.postgresql_only
def test_upgrade_5_to_6_on_postgresql_in_place(pg, db_backend, tmp_path, capsys):
    """A PostgreSQL database of schema version 5 (fixture: pg_dump of the same data as
    schema-v5.sql.gz): the upgrade replaces the provenance functions in place and keeps every row;
    afterwards a police unit's removal is recorded (the database compares the record with the row)
    and undone (the row comes back with the import that first stored it), and a forged removal
    record is refused."""
    import psycopg

    url = _restore_pg(pg, FIXTURE_V5_PG)
    before = _pg_hashes(url)
    assert main(["db", "upgrade", "--db", url]) == 0
    assert f"upgraded from schema version 5 to {store.SCHEMA_VERSION}" in capsys.readouterr().out
    after = _pg_hashes(url, {t: c for t, (_, _, c) in before.items()})
    for table, (n, digest, _) in before.items():
        if table not in ("meta", "data_version"):
            assert after[table][:2] == (n, digest), table
    assert main(["db", "roles", "--db", url]) == 0
    pg.admin("DROP ROLE IF EXISTS v5_tarnow")
    pg.admin("CREATE ROLE v5_tarnow LOGIN IN ROLE zpb_unit_kmp_tarnow")  # RSPO 216534 is in powiat tarnowski
    unit = pg.url(url.rsplit("/", 1)[1], user="v5_tarnow")
    capsys.readouterr()
    _remove_and_undo(unit, tmp_path, capsys)
    with psycopg.connect(unit) as con:
        row = con.execute("SELECT id FROM action_items WHERE title = 'Festyn rodzinny'").fetchone()[0]
        iid = con.execute("INSERT INTO imports (kind, file_name, content_hash, imported_at, rows, unit, imported_by) "
                          "VALUES ('register', 'r.xlsx', 'h', '2026-01-01', 1, 'KMP-TARNOW', 'v5_tarnow') "
                          "RETURNING id").fetchone()[0]
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="exactly as it is"):
            con.execute("INSERT INTO import_changes (import_id, tbl, row_id, old) VALUES (%s, 'action_items', %s, %s)",
                        (iid, row, '{"*removed": {"id": %d, "title": "forged"}}' % row))
