"""The two database engines behind one connection type.

``--db`` names either a SQLite file (a path: the embedded default) or a PostgreSQL database (a
``postgresql://`` URL: a team's shared server). SQLAlchemy Core opens both and binds parameters in
each driver's own style; the rest of zpb sees one :class:`Connection` whose ``execute`` takes SQL
with ``?`` (or ``:name``) placeholders, whose transactions are explicit (``BEGIN`` … ``COMMIT``, see
:mod:`.write`), and whose errors are the store's own (:class:`IntegrityError`), whichever engine
raised them.
"""
from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import NullPool

SQLITE, POSTGRESQL = "sqlite", "postgresql"

Db = "str | os.PathLike"


class StoreError(RuntimeError):
    """The database is missing, of another schema version, or refused a write."""


class DatabaseError(StoreError):
    """The database engine refused a statement (the message is the engine's own)."""


class IntegrityError(DatabaseError):
    """A row broke a constraint of the schema (CHECK, foreign key, unique key, trigger)."""


class RetryError(DatabaseError):
    """The change collided with another one made at the same moment and was rolled back whole:
    nothing of it is stored; running it again succeeds."""


def is_url(db: "str | os.PathLike | None") -> bool:
    """A PostgreSQL URL (``postgresql://…``, ``postgres://…``, ``postgresql+psycopg://…``)."""
    return isinstance(db, str) and re.match(r"^postgres(ql)?(\+\w+)?://", db) is not None


def backend_of(db: "str | os.PathLike") -> str:
    return POSTGRESQL if is_url(db) else SQLITE


def display(db: "str | os.PathLike") -> str:
    """How messages name a database: the path, or the URL without its password."""
    if is_url(db):
        return sa.engine.make_url(str(db)).render_as_string(hide_password=True)
    return str(db)


def _pg_url(db: str) -> sa.engine.URL:
    url = sa.engine.make_url(db)
    return url.set(drivername="postgresql+psycopg")  # psycopg 3, whatever the URL named


@functools.lru_cache(maxsize=None)
def _pg_engine(url: str, pid: int) -> sa.engine.Engine:
    # One engine per server URL and process (a forked worker must not share its parent's sockets).
    # No pool: a zpb command opens a connection or two, and one left open would keep the database
    # from being copied or dropped. AUTOCOMMIT: transactions are begun explicitly, so that a read
    # snapshot's isolation and a write's locking are chosen where they are opened (Connection.begin).
    return sa.create_engine(_pg_url(url), isolation_level="AUTOCOMMIT", poolclass=NullPool,
                            connect_args={"application_name": "zpb"})


def _sqlite_engine(path: Path, readonly: bool) -> sa.engine.Engine:
    uri = f"{path.resolve().as_uri()}{'?mode=ro' if readonly else ''}"
    # NullPool: closing a connection closes the file (tests and `zpb demo --force` replace files).
    # timeout: a writer waits up to 10 s for another writer's transaction instead of failing.
    return sa.create_engine("sqlite+pysqlite://", poolclass=NullPool, isolation_level="AUTOCOMMIT",
                            creator=functools.partial(_sqlite_connect, uri))


def _sqlite_connect(uri: str):
    import sqlite3

    con = sqlite3.connect(uri, uri=True, timeout=10, check_same_thread=False)
    con.isolation_level = None  # autocommit; transactions are explicit
    con.execute("PRAGMA foreign_keys = ON")
    return con


@functools.lru_cache(maxsize=4096)
def _named(sql: str) -> str:
    """``?`` placeholders as SQLAlchemy's named ones (``:_1``, ``:_2`` …); colons inside quoted
    text escaped so that SQLAlchemy does not read them as placeholders."""
    out, n, quote = [], 0, None
    for ch in sql:
        if quote:
            out.append("\\:" if ch == ":" else ch)
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
            out.append(ch)
        elif ch == "?":
            n += 1
            out.append(f":_{n}")
        else:
            out.append(ch)
    return "".join(out)


def _bind(params: Sequence[Any] | Mapping[str, Any] | None) -> dict[str, Any]:
    if params is None:
        return {}
    if isinstance(params, Mapping):
        return dict(params)
    return {f"_{i}": v for i, v in enumerate(params, 1)}


class Result:
    """What ``execute`` returns: the rows (tuples) and how many rows a change touched."""

    def __init__(self, rows: list[tuple] | None, columns: list[str], rowcount: int, lastrowid: int | None = None):
        self._rows = rows or []
        self.columns = columns
        self.rowcount = rowcount
        self.lastrowid = lastrowid

    def fetchone(self) -> tuple | None:
        return self._rows.pop(0) if self._rows else None

    def fetchall(self) -> list[tuple]:
        rows, self._rows = self._rows, []
        return rows

    def __iter__(self) -> Iterator[tuple]:
        return iter(self.fetchall())

    @property
    def description(self) -> list[tuple]:
        return [(c, None, None, None, None, None, None) for c in self.columns]


def _translate(exc: Exception) -> DatabaseError:
    """The engine's error (as SQLAlchemy wraps it, or the driver's own) as the store's, with the
    engine's message only (no SQL, no parameters)."""
    orig = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc
    msg = str(orig).strip()
    diag = getattr(orig, "diag", None)
    if diag is not None and getattr(diag, "message_primary", None):
        msg = diag.message_primary
    state = getattr(orig, "sqlstate", None) or ""
    if state in ("40001", "40P01"):  # serialization failure, deadlock: nothing was stored
        return RetryError(f"{msg}: another change collided with this one; nothing of it was stored, run it again")
    if isinstance(exc, sa_exc.IntegrityError) or state.startswith("23") or type(orig).__name__ == "IntegrityError":
        return IntegrityError(msg)
    if state == "42501":  # insufficient privilege, or a row-level security policy
        return PermissionDenied(msg)
    return DatabaseError(msg)


class PermissionDenied(DatabaseError):
    """The database refused a change the connected role has no right to make."""


class Connection:
    """One connection to a zpb database, SQLite or PostgreSQL.

    ``execute`` runs one statement and returns its rows at once (every zpb query returns a bounded
    result; reading them eagerly keeps one behaviour on both engines). Outside a transaction each
    statement commits by itself, as with SQLite's autocommit.
    """

    def __init__(self, sa_con: sa.engine.Connection, db: "str | Path", backend: str):
        self._con = sa_con
        self.db = db
        self.backend = backend
        self.in_transaction = False

    # -- what the rest of zpb uses
    @property
    def path(self) -> Path | None:
        """The SQLite file (None for PostgreSQL)."""
        return Path(self.db) if self.backend == SQLITE else None

    @property
    def name(self) -> str:
        return display(self.db)

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> Result:
        try:
            res = self._con.execute(sa.text(_named(sql)), _bind(params))
        except sa_exc.DBAPIError as exc:
            raise _translate(exc) from None
        return self._result(res)

    def stream(self, sql: str, batch: int = 10_000) -> Iterator[tuple]:
        """The rows of a large query, fetched ``batch`` at a time (a server-side cursor on
        PostgreSQL), for copying a table without holding it in memory."""
        try:
            res = self._con.execution_options(yield_per=batch).execute(sa.text(_named(sql)))
            for part in res.partitions():
                yield from (tuple(r) for r in part)
        except sa_exc.DBAPIError as exc:
            raise _translate(exc) from None

    def executemany(self, sql: str, rows: Iterable[Sequence[Any] | Mapping[str, Any]]) -> Result:
        batch = [_bind(r) for r in rows]
        if not batch:
            return Result([], [], 0)
        try:
            res = self._con.execute(sa.text(_named(sql)), batch)
        except sa_exc.DBAPIError as exc:
            raise _translate(exc) from None
        return Result([], [], len(batch))

    def insert_many(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Insert many rows the fastest way each engine has, all constraints and triggers applying:
        PostgreSQL's COPY (an INSERT a row where row-level security applies to the user, which COPY
        does not support); SQLite's own executemany (no per-row parameter mapping)."""
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        if self.backend == SQLITE:
            import sqlite3

            try:
                return self.driver_connection.executemany(sql, rows).rowcount
            except sqlite3.Error as exc:
                raise _translate(exc) from None
        if not self.execute("SELECT row_security_active(?)", (table,)).fetchone()[0]:
            return self.copy_rows(table, columns, rows)
        return self.executemany(sql, rows).rowcount

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Insert many rows by PostgreSQL's COPY (several times faster than one INSERT a row; the
        constraints and triggers apply all the same). Returns the row count."""
        n = 0
        try:
            with self.driver_connection.cursor() as cur:
                with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        n += 1
        except Exception as exc:
            import psycopg

            if isinstance(exc, psycopg.Error):
                raise _translate(exc) from None
            raise
        return n

    def script(self, sql: str) -> None:
        """Statements with no parameters, passed to the engine as they are (DDL)."""
        try:
            self._con.exec_driver_sql(sql)
        except sa_exc.DBAPIError as exc:
            raise _translate(exc) from None

    def frame(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None):
        """The rows of a query as a DataFrame (numbers the engine returns as decimals as floats)."""
        import pandas as pd

        res = self.execute(sql, params)
        return pd.DataFrame.from_records(res.fetchall(), columns=res.columns, coerce_float=True)

    def begin(self, mode: str = "write") -> None:
        """Open a transaction: ``write`` takes SQLite's write lock at once (a second writer waits
        rather than failing half-way); ``read`` is one consistent snapshot of the data (SQLite: a
        read transaction in WAL mode; PostgreSQL: REPEATABLE READ)."""
        if self.in_transaction:
            raise RuntimeError("nested transaction: one logical change is one transaction")
        if self.backend == SQLITE:
            self.script("BEGIN IMMEDIATE" if mode == "write" else "BEGIN")
        else:
            self.script("BEGIN" if mode == "write" else "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        self.in_transaction = True

    def commit(self) -> None:
        if self.in_transaction:
            self.in_transaction = False
            self.script("COMMIT")

    def rollback(self) -> None:
        if self.in_transaction:
            self.in_transaction = False
            self.script("ROLLBACK")

    def close(self) -> None:
        if self.in_transaction:
            try:
                self.rollback()
            except DatabaseError:
                pass
        self._con.close()

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def inspector(self) -> sa.engine.reflection.Inspector:
        """SQLAlchemy's view of the schema (tables, columns, keys) on either engine."""
        return sa.inspect(self._con)

    @property
    def driver_connection(self) -> Any:
        """The driver's own connection (sqlite3 or psycopg), for what only it can do: SQLite's
        online backup, PostgreSQL's COPY."""
        return self._con.connection.driver_connection

    # -- internals
    def _result(self, res: sa.engine.CursorResult) -> Result:
        if res.returns_rows:
            return Result([tuple(r) for r in res.fetchall()], list(res.keys()), res.rowcount)
        lastrowid = res.lastrowid if self.backend == SQLITE else None
        return Result([], [], res.rowcount, lastrowid)


def open_connection(db: "str | os.PathLike", *, readonly: bool = False) -> Connection:
    """A connection to the database ``db`` (a path or a PostgreSQL URL), with no checks."""
    if is_url(db):
        try:
            sa_con = _pg_engine(str(db), os.getpid()).connect()
        except ModuleNotFoundError as exc:
            raise StoreError(f"PostgreSQL needs the psycopg package ({exc}): "
                             "pip install 'zpb[postgres]'") from None
        except sa_exc.DBAPIError as exc:
            raise StoreError(f"cannot connect to {display(db)}: {_translate(exc)}") from None
        return Connection(sa_con, str(db), POSTGRESQL)
    path = Path(db)
    try:
        sa_con = _sqlite_engine(path, readonly).connect()
    except sa_exc.DBAPIError as exc:
        raise StoreError(f"cannot open {path}: {_translate(exc)}") from None
    return Connection(sa_con, path, SQLITE)
