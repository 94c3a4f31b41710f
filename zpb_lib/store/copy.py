"""``zpb db copy SRC DST``: a whole database from SQLite to PostgreSQL or back (or to another file or
server), verified.

The source is read in one snapshot; the destination gets the current schema and every row in one
transaction, tables in foreign-key order, then the copy is checked: every table must hold as many
rows as the source, with the same content hash. The copy is a new database: it gets its own
identity in its data version (the counter carries on from the source's), so builds never take one
for the other.
"""
from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from zpb_lib.core.files import atomic_path, check_target
from zpb_lib.reference import Reference, reference
from zpb_lib.store.backend import Connection, StoreError, Timeouts, display, is_url
from zpb_lib.store.connection import _pg_drop_all, connect, current_schema, exists, open_connection, resolve_db_path
from zpb_lib.store.frames import NOT_CONTENT, table_hash, tables
from zpb_lib.store.schema import ddl, statements
from zpb_lib.store.write import insert_rows, transaction

BATCH = 20_000


@dataclass
class CopyResult:
    source: str
    target: str
    rows: dict[str, int] = field(default_factory=dict)
    version: str = ""

    def lines(self) -> list[str]:
        total = sum(self.rows.values())
        return [f"copied {self.source} → {self.target}: {len(self.rows)} tables, {total:,} rows; "
                f"row counts and content hashes of every table verified equal".replace(",", " "),
                f"  data version of the copy: {self.version}"]


def _table_order(con: Connection) -> list[str]:
    """Tables with the ones others refer to first (SQLAlchemy's reflection sorts them)."""
    meta = sa.MetaData()
    meta.reflect(bind=con._con)
    return [t.name for t in meta.sorted_tables]


def copy_database(src: "str | os.PathLike", dst: "str | os.PathLike", *, ref: Reference | None = None,
                  overwrite: bool = False) -> CopyResult:
    ref = ref or reference()
    src_db, dst_db = resolve_db_path(src), resolve_db_path(dst)
    if display(src_db) == display(dst_db):
        raise StoreError("the source and the destination are the same database")
    if exists(dst_db) and not overwrite:
        raise StoreError(f"{display(dst_db)} already holds a database (--force replaces it)")
    if not is_url(dst_db):  # a path that cannot be written: said before the source is read

        check_target(dst_db)
    result = CopyResult(display(src_db), display(dst_db))
    source = connect(src_db, readonly=True, timeouts=Timeouts.for_command("long"))
    try:
        source.begin("read")
        with _empty_target(dst_db, overwrite) as target:
            order = [t for t in _table_order(source) if t != "data_version"]
            with transaction(target):
                for stmt in statements(ddl(ref, target.backend, current_schema(target)), target.backend):
                    target.script(stmt)
                for table in order:
                    cols = [c["name"] for c in source.inspector().get_columns(table)]
                    missing = set(cols) - {c["name"] for c in target.inspector().get_columns(table)}
                    if missing:
                        raise StoreError(f"the schema of this zpb has no column {', '.join(sorted(missing))} of "
                                         f"table {table}: copy refused (upgrade the source first?)")
                    result.rows[table] = insert_rows(target, table, cols,
                                                     source.stream(f"SELECT {', '.join(cols)} FROM {table}", BATCH))
                # Last: until its row exists the triggers have nothing to count (the copy is no change).
                src_version = source.execute("SELECT version FROM data_version WHERE id = 1").fetchone()[0]
                target.execute("INSERT INTO data_version(id, db_id, version) VALUES (1, ?, ?)",
                               (uuid.uuid4().hex, int(src_version)))
            _verify(source, target, order)
            db_id, version = target.execute("SELECT db_id, version FROM data_version").fetchone()
            result.version = f"{db_id[:8]}-{version}"
    finally:
        source.close()
    return result


@contextlib.contextmanager
def _empty_target(db: "str | os.PathLike", overwrite: bool) -> Iterator[Connection]:
    """The target, empty, closed when the block ends. A file is made at a temporary name next to it
    and replaces ``db`` only once the copy is complete and verified (zpb_lib.core.files.atomic_path): a
    full disk or a failed check leaves no half copy, and an old file as it was."""
    if is_url(db):
        con = open_connection(db, timeouts=Timeouts.for_command("long"))
        try:
            if overwrite:
                _pg_drop_all(con)
            yield con
        finally:
            con.close()
        return

    path = Path(db)
    with atomic_path(path) as tmp:
        con = open_connection(tmp, timeouts=Timeouts.for_command("long"))
        try:
            con.script("PRAGMA journal_mode = WAL")
            yield con
        finally:
            con.close()
        for suffix in ("-wal", "-shm"):  # the replaced file's: they would be read as the copy's
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def _verify(source: Connection, target: Connection, order: list[str]) -> None:
    """Row counts and content hashes of every table equal, or the copy is reported broken."""
    bad = []
    if set(tables(target)) != set(tables(source)):
        bad.append(f"tables differ: {sorted(set(tables(source)) ^ set(tables(target)))}")
    for table in order:
        if table in NOT_CONTENT:
            continue
        n_src = source.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        n_dst = target.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        if n_src != n_dst:
            bad.append(f"{table}: {n_src} rows in the source, {n_dst} in the copy")
        elif table_hash(source, table) != table_hash(target, table):
            bad.append(f"{table}: the rows differ (content hash)")
    if bad:
        raise StoreError("the copy does not equal the source: " + "; ".join(bad))
