"""The web app's journal: one row a login, import, undo or download (see store.roles for who may
add and read them)."""
from __future__ import annotations

from zpb_lib.store.backend import Connection
from zpb_lib.store.schema import JOURNAL_ACTIONS, JOURNAL_ADDRESS_MAX, JOURNAL_DETAIL_MAX, JOURNAL_LOGIN_MAX

# The columns :func:`entries` answers with, in order.
ENTRY_COLUMNS = ("id", "at", "login", "role", "action", "detail", "address")


def record(con: Connection, login: str, role: str | None, action: str, detail: str | None = None,
           address: str | None = None) -> None:
    """Add one row (inside the caller's transaction); its id and time are the database's. No
    RETURNING: a role that may add rows need not be one that may read them."""
    if action not in JOURNAL_ACTIONS:
        raise ValueError(f"journal: unknown action {action!r} (one of {', '.join(JOURNAL_ACTIONS)})")
    con.execute("INSERT INTO journal (login, role, action, detail, address) VALUES (?, ?, ?, ?, ?)",
                (login[:JOURNAL_LOGIN_MAX], role, action, None if detail is None else detail[:JOURNAL_DETAIL_MAX],
                 None if address is None else address[:JOURNAL_ADDRESS_MAX]))


def entries(con: Connection, since: str | None = None, limit: int = 500) -> list[tuple]:
    """The latest rows, newest first, as :data:`ENTRY_COLUMNS` (``since``: only those at or after
    that ISO time)."""
    where, params = ("WHERE at >= ? ", (since,)) if since is not None else ("", ())
    return con.execute(f"SELECT {', '.join(ENTRY_COLUMNS)} FROM journal {where}ORDER BY at DESC, id DESC LIMIT ?",
                       (*params, int(limit))).fetchall()
