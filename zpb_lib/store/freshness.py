"""How far the stored data has moved on since a build read it: the imports stored after the last one
the build's data held. Import ids are never reused and imports commit one at a time (see
:func:`.write.import_transaction`), so "stored after" is "a higher id"; an undone import's row is
gone, so only the imports still stored are counted."""
from __future__ import annotations

from zpb_lib.store.backend import Connection


def last_import(con: Connection) -> int:
    """The id of the newest import the connection sees (0: none yet)."""
    return int(con.execute("SELECT COALESCE(MAX(id), 0) FROM imports").fetchone()[0])


def imports_after(con: Connection, import_id: int) -> int:
    """How many stored imports are newer than import ``import_id``."""
    return int(con.execute("SELECT COUNT(*) FROM imports WHERE id > ?", (import_id,)).fetchone()[0])
