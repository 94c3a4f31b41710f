"""The database's own facts in table ``meta`` (schema version, synthetic flag, demo seed…)."""
from __future__ import annotations

from zpb_lib.store.backend import Connection


def meta(con: Connection) -> dict[str, str]:
    """Every key of ``meta`` with its value."""
    return {str(k): v for k, v in con.execute("SELECT key, value FROM meta")}


def meta_value(con: Connection, key: str) -> str | None:
    """The value of one key of ``meta`` (None when it is not recorded)."""
    row = con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else row[0]


def is_synthetic(con: Connection) -> bool:
    """Whether the database holds the demo generator's synthetic data (``meta.synthetic`` is "1")."""
    return meta_value(con, "synthetic") == "1"
