"""The awards the rules grant for an edition's audits, and recording them (``zpb awards confirm``)."""
from __future__ import annotations

import datetime as dt
import os

from zpb_lib import store
from zpb_lib.domain.awards import AwardsError, ConfirmResult, PendingAward, confirm as record, pending as pending_of

__all__ = ["AwardsError", "ConfirmResult", "PendingAward", "confirm", "pending"]


def pending(db: "str | os.PathLike | None", edition: str) -> list[PendingAward]:
    """The awards the rules grant for ``edition``'s audits that are not recorded yet."""
    con = store.connect(db, readonly=True)
    try:
        return pending_of(con, edition)
    finally:
        con.close()


def confirm(db: "str | os.PathLike | None", edition: str, *, date: str | dt.date | None = None,
            dry_run: bool = False) -> ConfirmResult:
    """Record them in one transaction, dated ``date`` (default: the edition's ceremony day), or with
    ``dry_run`` only list them; :class:`AwardsError` says why nothing was stored."""
    con = store.connect(db)
    try:
        return record(con, edition, date=date, dry_run=dry_run)
    finally:
        con.close()
