"""`zpb db upgrade` brings a database of the previous schema to the current one without losing a
row. The fixture `fixtures/schema-v1.sql.gz` is a dump of a database made by the release with schema
version 1 (see fixtures/README.md): a small demo database plus one survey and one audit import."""
from __future__ import annotations

import gzip
import hashlib
import sqlite3
from pathlib import Path

import pytest

from zpb_lib import demo, store
from zpb_lib.cli import main
from zpb_lib.store.upgrade import upgrade

FIXTURE = Path(__file__).parent / "fixtures" / "schema-v1.sql.gz"


def restore_v1(path: Path) -> Path:
    con = sqlite3.connect(path)
    con.executescript(gzip.open(FIXTURE, "rt", encoding="utf-8").read())
    con.close()
    return path


@pytest.fixture
def v1(tmp_path) -> Path:
    return restore_v1(tmp_path / "zpb.sqlite")


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
    assert "upgraded from schema version 1 to 2" in out
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
    new = con.execute("SELECT id, name, rspo, polon FROM institutions ORDER BY id").fetchall()
    con.close()
    assert old == new
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
