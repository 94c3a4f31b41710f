"""Opening and creating the database. SQLite is the store; keeping every ``sqlite3`` call behind this
package is what lets another engine be added later by URL."""
from __future__ import annotations

import datetime as dt
import os
import sqlite3
from pathlib import Path

from ..paths import DB_HELP, ENV_DB  # noqa: F401  (DB_HELP re-exported for the commands' --db)
from ..reference import Reference, reference
from .schema import SCHEMA_VERSION, ddl


class StoreError(RuntimeError):
    """The database is missing, of another schema version, or refused a write."""


def default_db_path() -> Path:
    """``$ZPB_DB`` if set; else ``data/zpb.sqlite`` of the source checkout when zpb runs from one;
    else ``zpb.sqlite`` in the current folder (see :mod:`zpb_lib.paths`)."""
    from ..paths import default_db_path as _default

    return _default()


def resolve_db_path(db: str | os.PathLike | None = None) -> Path:
    return Path(db) if db else default_db_path()


def _configure(con: sqlite3.Connection) -> sqlite3.Connection:
    con.execute("PRAGMA foreign_keys = ON")
    con.execute("PRAGMA busy_timeout = 10000")
    # Writes are explicit transactions (see write.transaction); autocommit otherwise.
    con.isolation_level = None
    return con


def schema_version(con: sqlite3.Connection, path: Path) -> int:
    """The schema version recorded in an open database; refuses a file that is not a zpb database."""
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is not a zpb database: {exc}") from None
    if row is None:
        raise StoreError(f"{path} is not a zpb database: it records no schema version")
    return int(row[0])


def check_version(version: int, path: Path) -> None:
    """Refuse a database of another schema version, saying what to do about it."""
    if version < SCHEMA_VERSION:
        raise StoreError(f"{path} has schema version {version}, this zpb uses version {SCHEMA_VERSION}: "
                         f"upgrade it with `zpb db upgrade --db {path}` (a backup copy is made first)")
    if version > SCHEMA_VERSION:
        raise StoreError(f"{path} was written by a newer zpb (schema version {version}; this zpb knows up to "
                         f"{SCHEMA_VERSION}): update zpb to use this database")


def open_file(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """An existing database file, opened with the store's settings but no version check."""
    if not path.exists():
        raise StoreError(f"database {path} does not exist (create an empty one with `zpb init --db {path}`, "
                         f"or demo data with `zpb demo --db {path}`)")
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a database file")
    if readonly:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    else:
        con = sqlite3.connect(path)
    return _configure(con)


def connect(db: str | os.PathLike | None = None, *, readonly: bool = False) -> sqlite3.Connection:
    """Open an existing database, checking its schema version."""
    path = resolve_db_path(db)
    con = open_file(path, readonly=readonly)
    try:
        check_version(schema_version(con, path), path)
    except StoreError:
        con.close()
        raise
    return con


def create(db: str | os.PathLike | None = None, *, ref: Reference | None = None,
           synthetic: bool = False, overwrite: bool = False) -> sqlite3.Connection:
    """Create a new database with the schema and the reference tables, in one transaction."""
    from .write import store_reference, transaction  # here to keep module import order simple

    path = resolve_db_path(db)
    if path.exists():
        if not overwrite:
            raise StoreError(f"database {path} already exists")
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    ref = ref or reference()
    con = _configure(sqlite3.connect(path))
    con.execute("PRAGMA journal_mode = WAL")
    with transaction(con):
        for stmt in _statements(ddl(ref)):
            con.execute(stmt)
        con.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", [
            ("schema_version", str(SCHEMA_VERSION)),
            ("created_at", dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")),
            ("synthetic", "1" if synthetic else "0"),
        ])
        store_reference(con, ref)
    return con


def _statements(script: str) -> list[str]:
    """Split a DDL script into statements (``executescript`` would commit mid-transaction)."""
    out, buf = [], []
    for line in script.splitlines():
        if line.strip().startswith("--") or not line.strip():
            continue
        buf.append(line)
        if sqlite3.complete_statement("\n".join(buf)):
            out.append("\n".join(buf))
            buf = []
    if buf:
        raise StoreError("incomplete statement in schema: " + "\n".join(buf))
    return out
