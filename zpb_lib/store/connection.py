"""Opening and creating the database: a SQLite file (a path) or a PostgreSQL database (a
``postgresql://`` URL). Every statement zpb runs goes through the connection this module returns
(see :mod:`.backend`)."""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from zpb_lib.core import settings
from zpb_lib.core.files import atomic_path
from zpb_lib.core.paths import DB_HELP  # noqa: F401  (re-exported for the commands' --db)
from zpb_lib.core.paths import default_db_path as _default
from zpb_lib.reference import Reference, reference
from zpb_lib.store.backend import (POSTGRESQL, SQLITE, Connection, DatabaseError, StoreError, Timeouts, display, is_url,
                      open_connection)
from zpb_lib.store.schema import SCHEMA_VERSION, ddl, statements
from zpb_lib.store.write import store_reference, transaction


def default_db_path() -> Path:
    """``$ZPB_DB`` if set; else ``data/zpb.sqlite`` of the source checkout when zpb runs from one;
    else ``zpb.sqlite`` in the current folder (see :mod:`zpb_lib.core.paths`)."""
    return _default()


def resolve_db_path(db: str | os.PathLike | None = None) -> "Path | str":
    """The database ``db`` names: a PostgreSQL URL as it is, a file as a path; ``None``: the default
    (``$ZPB_DB``, which may be a URL too)."""
    if db is None or db == "":
        env = settings.db()
        if env and is_url(env):
            return env
        return default_db_path()
    return str(db) if is_url(db) else Path(db)


def locate(db: str | os.PathLike | None = None) -> "Path | str":
    """:func:`resolve_db_path` made absolute: a file's full path, or the URL."""
    found = resolve_db_path(db)
    return found if isinstance(found, str) else found.resolve()


def schema_version(con: Connection, path: "Path | str | None" = None) -> int:
    """The schema version recorded in an open database; refuses one that is not a zpb database."""
    name = display(path) if path is not None else con.name
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except DatabaseError as exc:
        raise StoreError(f"{name} is not a zpb database: {exc}") from None
    if row is None:
        raise StoreError(f"{name} is not a zpb database: it records no schema version")
    return int(row[0])


def check_version(version: int, path: "Path | str") -> None:
    """Refuse a database of another schema version, saying what to do about it."""
    name = display(path)
    if version < SCHEMA_VERSION:
        raise StoreError(f"{name} has schema version {version}, this zpb uses version {SCHEMA_VERSION}: "
                         f"upgrade it with `zpb db upgrade --db {name}` (a backup copy is made first)")
    if version > SCHEMA_VERSION:
        raise StoreError(f"{name} was written by a newer zpb (schema version {version}; this zpb knows up to "
                         f"{SCHEMA_VERSION}): update zpb to use this database")


def open_file(path: "Path | str", *, readonly: bool = False, timeouts: Timeouts | None = None) -> Connection:
    """An existing database, opened with the store's settings but no version check."""
    if is_url(path):
        con = open_connection(path, timeouts=timeouts)
        if readonly:
            con.script("SET default_transaction_read_only = on")
        return con
    path = Path(path)
    if not path.exists():
        raise StoreError(f"database {path} does not exist (create an empty one with `zpb init --db {path}`, "
                         f"or demo data with `zpb demo --db {path}`)")
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a database file")
    return open_connection(path, readonly=readonly, timeouts=timeouts)


def connect(db: str | os.PathLike | None = None, *, readonly: bool = False,
            timeouts: Timeouts | None = None) -> Connection:
    """Open an existing database, checking its schema version (``timeouts``: how long statements
    wait for locks and run; default :meth:`Timeouts.for_command`)."""
    path = resolve_db_path(db)
    con = open_file(path, readonly=readonly, timeouts=timeouts)
    try:
        check_version(schema_version(con, path), path)
    except StoreError:
        con.close()
        raise
    return con


def create(db: str | os.PathLike | None = None, *, ref: Reference | None = None,
           synthetic: bool = False, overwrite: bool = False) -> Connection:
    """Create a new database with the schema and the reference tables, in one transaction. A
    PostgreSQL database must exist (the server's administrator creates it) and hold no zpb tables,
    unless ``overwrite``. (Commands use :func:`new_database`, which makes a file whole or not at all.)"""
    path = resolve_db_path(db)
    ref = ref or reference()
    if is_url(path):
        con = _empty_server_database(path, overwrite)
    else:
        if path.exists():
            if not overwrite:
                raise StoreError(f"database {path} already exists")
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        con = _new_file(path)
    _fill_new(con, ref, synthetic)
    return con


@contextlib.contextmanager
def new_database(db: str | os.PathLike | None = None, *, ref: Reference | None = None,
                 synthetic: bool = False, overwrite: bool = False) -> Iterator[Connection]:
    """:func:`create` for a command that fills the new database in the block (the connection is
    closed when it ends). A file is made whole or not at all: at a temporary name next to it
    (:func:`zpb_lib.core.files.atomic_path`), renamed over ``db`` once complete and closed, so a full disk
    or Ctrl-C leaves no half-made database and, with ``overwrite``, the old one as it was."""
    path = resolve_db_path(db)
    ref = ref or reference()
    if is_url(path):
        con = create(path, ref=ref, synthetic=synthetic, overwrite=overwrite)
        try:
            yield con
        finally:
            con.close()
        return
    if exists(path) and not overwrite:
        raise StoreError(f"database {path} already exists")
    with atomic_path(path) as tmp:  # a folder at ``path``: an OutputError saying so
        con = _new_file(tmp)  # SQLite takes the empty temporary file as a new database
        try:
            _fill_new(con, ref, synthetic)
            yield con
        finally:
            con.close()  # checkpoints and removes the temporary file's -wal and -shm
        for suffix in ("-wal", "-shm"):  # the replaced file's: they would be read as the new one's
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def _empty_server_database(url: str, overwrite: bool) -> Connection:
    con = open_connection(url)
    if _pg_tables(con):
        if not overwrite:
            con.close()
            raise StoreError(f"database {display(url)} already holds zpb tables")
        _pg_drop_all(con)
    return con


def _new_file(path: Path) -> Connection:
    con = open_connection(path)
    con.script("PRAGMA journal_mode = WAL")
    return con


def _fill_new(con: Connection, ref: Reference, synthetic: bool) -> None:
    """The schema, the meta rows and the reference tables, in one transaction."""
    try:
        with transaction(con):
            for stmt in statements(ddl(ref, con.backend, current_schema(con)), con.backend):
                con.script(stmt)
            con.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", [
                ("schema_version", str(SCHEMA_VERSION)),
                ("created_at", dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")),
                ("synthetic", "1" if synthetic else "0"),
            ])
            init_data_version(con)
            store_reference(con, ref)
    except BaseException:
        con.close()
        raise


def exists(db: "Path | str") -> bool:
    """Whether ``db`` holds a database already: the file (or its write-ahead log) exists, or the
    PostgreSQL database holds tables."""
    if is_url(db):
        with open_connection(db) as con:
            return bool(_pg_tables(con))
    path = Path(db)  # a folder holds no database: writing one there is refused with its own message
    return (path.exists() and not path.is_dir()) or Path(f"{db}-wal").exists()


def folder_of(db: "Path | str") -> Path | None:
    """The folder that holds the database file ``db``, where files made from it may be kept next to
    it; None for a PostgreSQL database (it lives on its server)."""
    return None if is_url(db) else Path(db).parent


def optimize(con: Connection) -> None:
    """Refresh the query planner's statistics after a bulk load: SQLite's ``PRAGMA optimize``
    (PostgreSQL's autovacuum analyses changed tables by itself)."""
    if con.backend == SQLITE:
        con.script("PRAGMA optimize")


def init_data_version(con: Connection, version: int = 0) -> None:
    """The data version's one row: a new database identity (so that two databases never name the
    same version) and the counter every write transaction advances."""
    con.execute("INSERT INTO data_version(id, db_id, version) VALUES (1, ?, ?)", (uuid.uuid4().hex, version))


def current_schema(con: Connection) -> str:
    """The schema zpb's tables are made in (PostgreSQL: the first of the search path that exists)."""
    if con.backend != POSTGRESQL:
        return "main"
    return con.execute("SELECT current_schema()").fetchone()[0]


def _pg_tables(con: Connection) -> list[str]:
    return [r[0] for r in con.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")]


def _pg_drop_all(con: Connection) -> None:
    """Every table and trigger function of a zpb database on PostgreSQL (``--force``)."""
    for t in _pg_tables(con):
        con.script(f'DROP TABLE IF EXISTS "{t}" CASCADE')
    for (fn,) in con.execute("SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                             "WHERE n.nspname = current_schema() AND p.proname LIKE 'zpb\\_%'").fetchall():
        con.script(f"DROP FUNCTION IF EXISTS {fn}() CASCADE")


__all__ = ["Connection", "StoreError", "POSTGRESQL", "SQLITE", "connect", "create", "open_file",
           "resolve_db_path", "schema_version", "check_version", "default_db_path", "init_data_version"]
