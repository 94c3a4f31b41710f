"""Imports as an importer looks them up before storing a file."""
from __future__ import annotations

from zpb_lib.store.backend import Connection


def import_of_content(con: Connection, content_hash: str) -> tuple | None:
    """The first import of a file with these bytes (its ``content_hash``), as ``(id, kind,
    file_name, imported_at, rows)``; None when no import has it."""
    return con.execute("SELECT id, kind, file_name, imported_at, rows FROM imports WHERE content_hash = ? "
                       "ORDER BY id LIMIT 1", (content_hash,)).fetchone()
