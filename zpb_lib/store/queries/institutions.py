"""Institutions as the domain reads them: by identifier, by internal id, all of them for a search
or a match, and the RSPO imports that listed a number without storing it; and as an import of the
register of institutions compares a file with them."""
from __future__ import annotations

from typing import Any, Sequence

from zpb_lib.store.backend import Connection

#: The columns of every institution row these queries return, in order.
INSTITUTION_COLUMNS = ("id", "rspo", "polon", "name", "kind", "family", "county", "locality", "closed_year",
                       "exists_to", "in_register")
_SELECT = ("SELECT i.id, i.rspo, i.polon, i.name, i.kind, k.family, i.county, i.locality, i.closed_year, "
           "k.exists_to, i.in_register FROM institutions i JOIN institution_kinds k ON k.code = i.kind")
# Identifier columns a person may name an institution by (never interpolated from input).
_IDENTIFIERS = ("rspo", "polon")
_CHUNK = 500  # ids bound per statement: well under either engine's limit on parameters


def institution_by(con: Connection, column: str, value: Any) -> tuple | None:
    """The institution whose identifier ``column`` ("rspo" or "polon") is ``value``, as a row of
    :data:`INSTITUTION_COLUMNS`; None when there is none."""
    if column not in _IDENTIFIERS:
        raise ValueError(f"institutions are not looked up by {column!r}")
    return con.execute(f"{_SELECT} WHERE i.{column} = ?", (value,)).fetchone()


def institutions_identified_by(con: Connection, column: str, columns: Sequence[str]) -> list[tuple]:
    """Every institution that has an identifier ``column`` ("rspo" or "polon"), as ``(id,
    identifier, *columns)``."""
    if column not in _IDENTIFIERS:
        raise ValueError(f"institutions are not looked up by {column!r}")
    return con.execute(f"SELECT id, {column}, {', '.join(columns)} FROM institutions WHERE {column} IS NOT NULL"
                       ).fetchall()


def institutions_by_ids(con: Connection, ids: Sequence[int]) -> list[tuple]:
    """The institutions with these internal ids, as rows of :data:`INSTITUTION_COLUMNS`."""
    out: list[tuple] = []
    for i in range(0, len(ids), _CHUNK):
        chunk = list(ids[i:i + _CHUNK])
        out += con.execute(f"{_SELECT} WHERE i.id IN ({', '.join('?' * len(chunk))})", chunk).fetchall()
    return out


def institutions_with_county_name(con: Connection) -> list[tuple]:
    """Every institution as ``(county name, *row of INSTITUTION_COLUMNS)``, for a search by words."""
    return con.execute(f"{_SELECT.replace('SELECT ', 'SELECT c.name, ', 1)} JOIN counties c ON c.teryt = i.county"
                       ).fetchall()


def match_candidates(con: Connection, family: str | None = None) -> list[tuple]:
    """Every institution (of kind family ``family`` if given) by internal id, as ``(id, rspo, polon,
    name, locality, county, county name, kind, family, closed_year, exists_to)``."""
    return con.execute(
        "SELECT i.id, i.rspo, i.polon, i.name, i.locality, i.county, c.name, i.kind, k.family, i.closed_year, "
        "k.exists_to FROM institutions i JOIN institution_kinds k ON k.code = i.kind "
        "JOIN counties c ON c.teryt = i.county" + (" WHERE k.family = ?" if family else "") + " ORDER BY i.id",
        (family,) if family else ()).fetchall()


def institution_imports_mentioning(con: Connection, text: str) -> list[tuple]:
    """RSPO imports whose details mention ``text`` (an RSPO number), latest first, as ``(id,
    file_name, imported_at, details)``: the caller reads the details to see in what role."""
    return con.execute("SELECT id, file_name, imported_at, details FROM imports WHERE kind = 'institutions' "
                       "AND details LIKE ? ORDER BY id DESC", (f"%{text}%",)).fetchall()


def institution_of_audit(con: Connection, audit_id: int) -> int | None:
    """The internal id of the institution audit ``audit_id`` is of (None: no such audit)."""
    row = con.execute("SELECT institution_id FROM audits WHERE id = ?", (audit_id,)).fetchone()
    return None if row is None else int(row[0])
