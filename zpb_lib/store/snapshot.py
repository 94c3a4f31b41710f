"""One consistent view of the data for a whole read: a build's cube, an Excel export, an explorer
load. Imports may commit meanwhile; the reader sees none of them, and the data version it names is
the one of exactly the data it read."""
from __future__ import annotations

import contextlib
import os
from typing import Iterator

from zpb_lib.store.backend import Connection
from zpb_lib.store.connection import connect
from zpb_lib.store.frames import data_version


@contextlib.contextmanager
def snapshot(db: "Connection | str | os.PathLike | None" = None) -> Iterator[tuple[Connection, str]]:
    """``(connection, data version)`` inside one read transaction (SQLite: a read transaction in
    WAL mode; PostgreSQL: REPEATABLE READ): every query on the connection sees the data as of the
    version. Given a connection, uses it (it must not be in a transaction); else opens one."""
    own = not isinstance(db, Connection)
    con = connect(db, readonly=True) if own else db
    try:
        con.begin("read")
        try:
            # The first read fixes the snapshot (SQLite's BEGIN is deferred; PostgreSQL's snapshot is
            # taken by the first statement): the version is read inside it.
            yield con, data_version(con)
        finally:
            con.rollback()
    finally:
        if own:
            con.close()
