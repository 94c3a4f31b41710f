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
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import NullPool

from zpb_lib.core import settings
from zpb_lib.core.errors import ZpbError
from zpb_lib.store.acting import Acting, acting
from zpb_lib.store.schema import quote_ident

SQLITE, POSTGRESQL = "sqlite", "postgresql"

Db = "str | os.PathLike"


class StoreError(ZpbError, RuntimeError):
    """The database is missing, of another schema version, or refused a write."""


class DatabaseError(StoreError):
    """The database engine refused a statement (the message is the engine's own)."""


class IntegrityError(DatabaseError):
    """A row broke a constraint of the schema (CHECK, foreign key, unique key, trigger)."""


class Busy(DatabaseError):
    """Another session held a lock longer than zpb waits (the lock timeout), or a statement ran past
    the statement timeout: nothing of the change was stored."""


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


@dataclass(frozen=True)
class Timeouts:
    """How long zpb waits on the database before it gives up with a message, rather than hanging:
    ``lock`` for a lock another session holds (another import's, or a table a user locked by hand),
    ``statement`` for one statement to finish (0: no limit). Seconds."""
    lock: float
    statement: float

    @classmethod
    def for_command(cls, kind: str = "command") -> "Timeouts":
        """``command``: imports, undo, lookups, a build's reads (none of them needs a statement of
        more than minutes); ``long``: copying or upgrading a whole database. ``$ZPB_LOCK_TIMEOUT`` and
        ``$ZPB_STATEMENT_TIMEOUT`` (seconds) override the defaults."""
        lock, statement = {"command": (30.0, 900.0), "long": (60.0, 0.0)}[kind]
        # a value that is no number of seconds: a StoreError, as the database's other refusals
        return cls(settings.lock_timeout(lock, error=StoreError),
                   settings.statement_timeout(statement, error=StoreError))


@functools.lru_cache(maxsize=None)
def _pg_engine(url: str, pid: int, timeouts: Timeouts) -> sa.engine.Engine:
    # One engine per server URL and process (a forked worker must not share its parent's sockets).
    # No pool: a zpb command opens a connection or two, and one left open would keep the database
    # from being copied or dropped. AUTOCOMMIT: transactions are begun explicitly, so that a read
    # snapshot's isolation and a write's locking are chosen where they are opened (Connection.begin).
    # The timeouts are the session's own settings: no statement of zpb's waits for ever on a lock.
    options = (f"-c lock_timeout={int(timeouts.lock * 1000)} "
               f"-c statement_timeout={int(timeouts.statement * 1000)}")
    return sa.create_engine(_pg_url(url), isolation_level="AUTOCOMMIT", poolclass=NullPool,
                            connect_args={"application_name": "zpb", "options": options})


def _sqlite_engine(path: Path, readonly: bool, timeouts: Timeouts) -> sa.engine.Engine:
    uri = f"{path.resolve().as_uri()}{'?mode=ro' if readonly else ''}"
    # NullPool: closing a connection closes the file (tests and `zpb demo --force` replace files).
    # timeout: a writer waits for another writer's transaction up to the lock timeout, then fails.
    return sa.create_engine("sqlite+pysqlite://", poolclass=NullPool, isolation_level="AUTOCOMMIT",
                            creator=functools.partial(_sqlite_connect, uri, timeouts.lock))


def _sqlite_connect(uri: str, timeout: float):
    con = sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False)
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
    engine's message only (no SQL, no parameters); a refusal of rights or of a reference gets a
    plain sentence first and the engine's text on a second line."""
    orig = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc
    msg = str(orig).strip()
    diag = getattr(orig, "diag", None)
    if diag is not None and getattr(diag, "message_primary", None):
        msg = diag.message_primary
    state = getattr(orig, "sqlstate", None) or ""
    if state == "55P03" or (state == "57014" and "statement timeout" in msg) or \
            (type(orig).__name__ == "OperationalError" and "database is locked" in msg):
        return Busy(msg)
    if state in ("40001", "40P01"):  # serialization failure, deadlock: nothing was stored
        return RetryError(f"{msg}: another change collided with this one; nothing of it was stored, run it again")
    plain = _plain(state, msg)
    text = f"{plain}\n  (the database: {msg})" if plain else msg
    if isinstance(exc, sa_exc.IntegrityError) or state.startswith("23") or type(orig).__name__ == "IntegrityError":
        return IntegrityError(text)
    if state == "42501":  # insufficient privilege, or a row-level security policy
        return PermissionDenied(text)
    error = DatabaseError(text)
    # SQLite's code (SQLITE_FULL…): zpb_lib.core.files tells a full or read-only disk by it
    error.sqlite_errorname = getattr(orig, "sqlite_errorname", None)
    return error


_PROVENANCE = ("imports", "import_changes")


def _plain(state: str, msg: str) -> str | None:
    """What a refusal of PostgreSQL's means for the person who met it (None: the engine's text says it)."""
    if state == "42501":
        m = re.search(r'row-level security policy for table "(\w+)"', msg)
        if m:
            if m.group(1) in _PROVENANCE:
                return (f"your role may not write this {m.group(1).replace('_', ' ')} record: a police unit records "
                        "and undoes only its own unit's imports, through zpb's own commands")
            return (f"your role may not store or change this row of table {m.group(1)}: it is another police "
                    "unit's institution's (each unit changes only the institutions of its counties)")
        m = re.search(r'permission denied for (table|sequence|function|schema) "?(\w+)"?', msg)
        if m:
            what = m.group(2)
            if what in _PROVENANCE:
                return (f"your role may not change table {what} directly: imports are recorded and undone only "
                        "by zpb's import and undo commands")
            return f"your role has no right to change {m.group(1)} {what} (ask the database's administrator)"
        return None
    if state == "23503":
        m = re.search(r'table "(\w+)" violates foreign key constraint "\w+_(\w+)_fkey"', msg)
        if m and m.group(2) == "import_id":
            return (f"a row of table {m.group(1)} names an import that is not there (it was undone meanwhile, or the "
                    "row was not stored by an import of this transaction)")
        if m:
            return (f"a row of table {m.group(1)} refers to a {m.group(2).replace('_id', '').replace('_', ' ')} that "
                    "is not in the database (removed meanwhile?)")
        m = re.search(r'on table "(\w+)" violates foreign key constraint .* on table "(\w+)"', msg)
        if m:
            return f"rows of table {m.group(2)} still refer to this row of table {m.group(1)}: it cannot be removed"
    return None


class PermissionDenied(DatabaseError):
    """The database refused a change the connected role has no right to make."""


class Connection:
    """One connection to a zpb database, SQLite or PostgreSQL.

    ``execute`` runs one statement and returns its rows at once (every zpb query returns a bounded
    result; reading them eagerly keeps one behaviour on both engines). Outside a transaction each
    statement commits by itself, as with SQLite's autocommit.
    """

    def __init__(self, sa_con: sa.engine.Connection, db: "str | Path", backend: str, timeouts: Timeouts):
        self._con = sa_con
        self.db = db
        self.backend = backend
        self.timeouts = timeouts
        self.in_transaction = False
        self.cache: dict[str, Any] = {}  # facts read once per connection (the login's rights)
        self.person: str | None = None  # whom the web app acts for on it (store.acting_as), whom imports record

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
            raise self._error(exc) from None
        return self._result(res)

    def stream(self, sql: str, batch: int = 10_000) -> Iterator[tuple]:
        """The rows of a large query, fetched ``batch`` at a time (a server-side cursor on
        PostgreSQL), for copying a table without holding it in memory."""
        try:
            res = self._con.execution_options(yield_per=batch).execute(sa.text(_named(sql)))
            for part in res.partitions():
                yield from (tuple(r) for r in part)
        except sa_exc.DBAPIError as exc:
            raise self._error(exc) from None

    def executemany(self, sql: str, rows: Iterable[Sequence[Any] | Mapping[str, Any]]) -> Result:
        batch = [_bind(r) for r in rows]
        if not batch:
            return Result([], [], 0)
        try:
            res = self._con.execute(sa.text(_named(sql)), batch)
        except sa_exc.DBAPIError as exc:
            raise self._error(exc) from None
        return Result([], [], len(batch))

    def insert_many(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Insert many rows the fastest way each engine has, all constraints and triggers applying:
        PostgreSQL's COPY (an INSERT a row where row-level security applies to the user, which COPY
        does not support); SQLite's own executemany (no per-row parameter mapping)."""
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        if self.backend == SQLITE:
            try:
                return self.driver_connection.executemany(sql, rows).rowcount
            except sqlite3.Error as exc:
                raise self._error(exc) from None
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
            # psycopg: optional (the postgres extra)
            import psycopg

            if isinstance(exc, psycopg.Error):
                raise self._error(exc) from None
            raise
        return n

    def script(self, sql: str) -> None:
        """Statements with no parameters, passed to the engine as they are (DDL)."""
        try:
            self._con.exec_driver_sql(sql)
        except sa_exc.DBAPIError as exc:
            raise self._error(exc) from None

    def frame(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None):
        """The rows of a query as a DataFrame (numbers the engine returns as decimals as floats)."""
        # pandas: only frame() needs it; the backend stays light on the `zpb --help` path
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

    def update_row(self, table: str, row_id: int, values: Mapping[str, Any]) -> int:
        """``UPDATE table SET … WHERE id = row_id`` built by SQLAlchemy (identifiers quoted, values
        bound), for names that come from data (``zpb imports undo``); the number of rows changed."""
        t = sa.table(table, sa.column("id"), *(sa.column(c) for c in values))
        stmt = sa.update(t).where(t.c.id == row_id).values({t.c[c]: v for c, v in values.items()})
        try:
            return self._con.execute(stmt).rowcount
        except sa_exc.DBAPIError as exc:
            raise self._error(exc) from None

    def insert_row(self, table: str, values: Mapping[str, Any]) -> None:
        """``INSERT INTO table (…) VALUES (…)`` built by SQLAlchemy (identifiers quoted, values bound),
        for a row whose columns come from data (``zpb imports undo`` putting a removed row back). A
        row the database refuses (a constraint, row-level security) raises."""
        t = sa.table(table, *(sa.column(c) for c in values))
        stmt = sa.insert(t).values({t.c[c]: v for c, v in values.items()})
        try:
            self._con.execute(stmt)
        except sa_exc.DBAPIError as exc:
            raise self._error(exc) from None

    # -- internals
    def _error(self, exc: Exception) -> DatabaseError:
        err = _translate(exc)
        return Busy(self._busy(str(err))) if isinstance(err, Busy) else err

    def _busy(self, msg: str) -> str:
        """Who holds what zpb waited for, as far as the server shows it to this login."""
        waited = self.timeouts.statement if "statement timeout" in msg else self.timeouts.lock
        limit = "statement timeout" if "statement timeout" in msg else "lock timeout"
        if self.backend == SQLITE:
            return (f"the database is busy: another program kept {self.name} locked for writing longer than zpb "
                    f"waits ({waited:g} s, ${settings.LOCK_TIMEOUT.name}); nothing was changed: run it again when that "
                    "program has finished")
        holders = _lock_holders(str(self.db), self.timeouts, self._backend_pid())
        variable = settings.LOCK_TIMEOUT if limit == "lock timeout" else settings.STATEMENT_TIMEOUT
        out = [f"the database is busy: zpb waited {waited:g} s ({limit}; ${variable.name})"
               + (" for a lock" if limit == "lock timeout" else " for a statement") + "; nothing was changed"]
        if holders:
            out.append("  held by " + "; ".join(holders))
            out.append("  run it again when they have finished, or ask the server's administrator to end that "
                       "session (pg_terminate_backend(pid))")
        else:
            out.append("  run it again later")
        return "\n".join(out) + f"\n  (the database: {msg})"

    def _backend_pid(self) -> int | None:
        try:
            return int(self.driver_connection.info.backend_pid)
        except Exception:  # the connection is gone
            return None

    def _result(self, res: sa.engine.CursorResult) -> Result:
        if res.returns_rows:
            return Result([tuple(r) for r in res.fetchall()], list(res.keys()), res.rowcount)
        lastrowid = res.lastrowid if self.backend == SQLITE else None
        return Result([], [], res.rowcount, lastrowid)


# Sessions that can keep zpb waiting: strong locks on tables, advisory locks, and open write
# transactions (which hold the rows they changed, the data version's among them).
_HOLDERS = """
SELECT l.pid, a.usename,
       (SELECT string_agg(r.rolname, ', ' ORDER BY r.rolname) FROM pg_roles r
         WHERE r.rolname LIKE 'zpb\\_%' AND pg_has_role(a.usesysid, r.oid, 'MEMBER')) AS roles,
       string_agg(DISTINCT CASE WHEN l.locktype = 'relation' THEN coalesce(c.relname, '?') || ' (' || l.mode || ')'
                                WHEN l.locktype = 'advisory' THEN 'an advisory lock'
                                ELSE 'an open transaction that has written' END, ', ') AS what
  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid LEFT JOIN pg_class c ON c.oid = l.relation
 WHERE l.granted AND l.pid <> pg_backend_pid() AND l.pid IS DISTINCT FROM :me AND a.datname = current_database()
   AND (l.locktype IN ('advisory', 'transactionid')
        OR (l.locktype = 'relation' AND l.mode IN ('ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock',
                                                   'AccessExclusiveLock')))
 GROUP BY l.pid, a.usename, a.usesysid ORDER BY l.pid"""


def _lock_holders(db: str, timeouts: Timeouts, me: int | None) -> list[str]:
    """One line per session that holds a lock zpb may wait for (read on a connection of its own,
    since the waiting one is in a failed transaction)."""
    try:
        with _pg_engine(db, os.getpid(), Timeouts(5, 10)).connect() as con:
            rows = con.execute(sa.text(_HOLDERS), {"me": me}).fetchall()
    except sa_exc.DBAPIError:
        return []
    return [f"login {user}" + (f" (role {roles})" if roles else "") + f", pid {pid}: {what}"
            for pid, user, roles, what in rows]


def open_connection(db: "str | os.PathLike", *, readonly: bool = False,
                    timeouts: Timeouts | None = None) -> Connection:
    """A connection to the database ``db`` (a path or a PostgreSQL URL), with no checks;
    ``timeouts``: how long it waits (default: :meth:`Timeouts.for_command`)."""
    timeouts = timeouts or Timeouts.for_command()
    if is_url(db):
        try:
            sa_con = _pg_engine(str(db), os.getpid(), timeouts).connect()
        except ModuleNotFoundError as exc:
            raise StoreError(f"PostgreSQL needs the psycopg package ({exc}): "
                             "pip install 'zpb[postgres]'") from None
        except sa_exc.DBAPIError as exc:
            raise StoreError(f"cannot connect to {display(db)}: {_translate(exc)}") from None
        con = Connection(sa_con, str(db), POSTGRESQL, timeouts)
    else:
        path = Path(db)
        try:
            sa_con = _sqlite_engine(path, readonly, timeouts).connect()
        except sa_exc.DBAPIError as exc:
            raise StoreError(f"cannot open {path}: {_translate(exc)}") from None
        con = Connection(sa_con, path, SQLITE, timeouts)
    who = acting()
    if who is not None:
        _act(con, who)
    return con


def _act(con: Connection, who: Acting) -> None:
    """The connection in the role of the person the web app acts for (see :mod:`.acting`), for
    the whole session: a transaction's ``SET LOCAL ROLE`` (an undo in its maker's role) returns to
    it. The person is the session's setting ``zpb.person`` too, for whoever reads the session."""
    con.person = who.person
    if con.backend != POSTGRESQL:
        return  # a file is one person's: no roles
    try:
        con.script(f"SET ROLE {quote_ident(who.role)}")
        con.execute("SELECT set_config('zpb.person', ?, false)", (who.person,))
    except DatabaseError as exc:
        login = con.execute("SELECT session_user").fetchone()[0]
        known = con.execute("SELECT 1 FROM pg_roles WHERE rolname = ?", (who.role,)).fetchone() is not None
        con.close()
        why = (f"login {login} may not take it (`zpb db roles --web-login {login}` makes the web app's login a "
               "member of every zpb role)" if known else
               "there is no such role (`zpb db roles` makes the roles of the police units in the reference data)")
        raise StoreError(f"cannot act as {who.role} for {who.person} on {con.name}: {why}\n"
                         f"  (the database: {str(exc).splitlines()[0]})") from None
