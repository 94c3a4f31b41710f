"""The web app's journal („Dziennik”): who logged in (or failed to), imported, checked, undid or
downloaded what, when and from where. Anyone acting records their own doings; only analysts read.

Writing a row must never change what the action it records did: callers catch and log a failure of
:func:`record` and go on (the row is written in a transaction of its own, after the action)."""
from __future__ import annotations

from dataclasses import dataclass

from zpb_lib import store
from zpb_lib.core.errors import ZpbError
from zpb_lib.services.imports import Db
from zpb_lib.store.acting import acting
from zpb_lib.store.queries import journal as journal_rows
from zpb_lib.store.rights import ANALYST, rights_of
from zpb_lib.store.schema import JOURNAL_ACTIONS

ACTIONS = JOURNAL_ACTIONS


class JournalRefused(ZpbError, PermissionError):
    """The journal was asked for by someone who may not read it."""


@dataclass(frozen=True)
class JournalEntry:
    id: int
    at: str  # ISO time, the database server's clock (UTC)
    login: str  # the person (the web app's login), or the database login outside the app
    role: str | None  # the zpb role acted in (None: the database's owner or a SQLite file's user)
    action: str  # one of ACTIONS
    detail: str | None
    address: str | None  # the client's address as the server saw it


def record(db: Db, action: str, detail: str | None = None, address: str | None = None) -> None:
    """Add a row for the person the code acts for (:func:`zpb_lib.store.acting_as`), in their role;
    outside it, for the connected login."""
    who = acting()
    with store.connect(db) as con:
        if who is not None:
            login, role = who.person, who.role
        else:
            rights = rights_of(con)
            login, role = rights.login, rights.role
        with store.transaction(con):
            journal_rows.record(con, login, role, action, detail, address)


def entries(db: Db, limit: int = 500, since: str | None = None) -> list[JournalEntry]:
    """The latest ``limit`` rows, newest first; for analysts only (the database's owner and a SQLite
    file's user included, unless the web app acts for someone else)."""
    who = acting()
    with store.connect(db, readonly=True) as con:
        rights = rights_of(con)
        role = who.role if who is not None else rights.role
        if not rights.everything or (role is not None and role != ANALYST):
            raise JournalRefused(f"the journal is read by analysts only ({ANALYST}); "
                                 f"{rights.who() if who is None else f'{who.person} ({who.role})'} cannot read it")
        return [JournalEntry(*row) for row in journal_rows.entries(con, since=since, limit=limit)]
