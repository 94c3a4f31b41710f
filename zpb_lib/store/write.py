"""Every write to the database goes through this module: one transaction per logical change, so a
failed import or a refused row leaves the database exactly as it was."""
from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from typing import Any, Iterable, Iterator, Mapping, Sequence

from ..reference import Reference


@contextlib.contextmanager
def transaction(con: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any exception (which is re-raised)."""
    if con.in_transaction:
        raise RuntimeError("nested transaction: one logical change is one transaction")
    con.execute("BEGIN IMMEDIATE")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    else:
        con.execute("COMMIT")


def insert_rows(con: sqlite3.Connection, table: str, columns: Sequence[str],
                rows: Iterable[Sequence[Any]]) -> int:
    """Insert many rows into ``table`` (inside the caller's transaction); returns the row count."""
    if not con.in_transaction:
        raise RuntimeError("insert_rows must run inside transaction()")
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    cur = con.executemany(sql, rows)
    return cur.rowcount


def insert_one(con: sqlite3.Connection, table: str, values: Mapping[str, Any]) -> int:
    """Insert one row (inside the caller's transaction); returns its rowid."""
    if not con.in_transaction:
        raise RuntimeError("insert_one must run inside transaction()")
    cols = list(values)
    cur = con.execute(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                      [values[c] for c in cols])
    return int(cur.lastrowid)


def set_meta(con: sqlite3.Connection, key: str, value: str) -> None:
    con.execute("INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))


def record_import(con: sqlite3.Connection, kind: str, file_name: str, content_hash: str, rows: int,
                  details: str | None = None) -> int:
    """Provenance of one import, written in the same transaction as the imported rows."""
    return insert_one(con, "imports", {
        "kind": kind, "file_name": file_name, "content_hash": content_hash,
        "imported_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "rows": rows, "details": details})


def store_reference(con: sqlite3.Connection, ref: Reference) -> None:
    """Copy the reference data into its tables so that foreign keys can point at it."""
    insert_rows(con, "police_units", ("code", "kind", "name", "seat"),
                [(u.code, u.kind, u.name, u.seat) for u in ref.police_units.values()])
    insert_rows(con, "counties", ("teryt", "name", "name_en", "kind", "seat", "police_unit"),
                [(c.teryt, c.name, c.name_en, c.kind, c.seat, c.police_unit) for c in ref.counties.values()])
    insert_rows(con, "institution_kinds", ("code", "family", "name_pl", "name_en", "exists_from", "exists_to"),
                [(k.code, k.family, k.name_pl, k.name_en, k.exists_from, k.exists_to) for k in ref.kinds.values()])
    insert_rows(con, "editions", ("edition", "start_year", "number", "roman", "held", "audit_from", "audit_to", "ceremony"),
                [(e.edition, e.start_year, e.number, e.roman, int(e.held), e.audit_from.isoformat(),
                  e.audit_to.isoformat(), e.ceremony.isoformat() if e.ceremony else None)
                 for e in ref.editions.values()])
    insert_rows(con, "catalogues", ("key", "id", "version", "family", "valid_from", "max_total"),
                [(c.key, c.id, c.version, c.family, c.valid_from, c.max_total) for c in ref.catalogues.values()])
    insert_rows(con, "criteria", ("catalogue", "criterion", "area", "max_points", "mandatory"),
                [(c.key, k.id, k.area, k.max_points, int(k.mandatory))
                 for c in ref.catalogues.values() for k in c.criteria])


def delete_rows(con: sqlite3.Connection, table: str, where: Mapping[str, Any]) -> int:
    """Delete the rows of ``table`` whose columns equal ``where`` (None matches NULL), inside the
    caller's transaction; returns the count. Used to replace data on a re-import."""
    if not con.in_transaction:
        raise RuntimeError("delete_rows must run inside transaction()")
    if not where:
        raise ValueError("delete_rows needs at least one condition")
    conds = [f"{c} IS NULL" if v is None else f"{c} = ?" for c, v in where.items()]
    cur = con.execute(f"DELETE FROM {table} WHERE {' AND '.join(conds)}", [v for v in where.values() if v is not None])
    return cur.rowcount


def delete_import(con: sqlite3.Connection, import_id: int) -> dict[str, int]:
    """Delete everything one import stored (survey answers; audits with their items) and its
    provenance record, inside the caller's transaction, so that ``--replace`` swaps an import in one
    step. An audit from which an award was decided is kept by the database (foreign key)."""
    if not con.in_transaction:
        raise RuntimeError("delete_import must run inside transaction()")
    counts = {
        "survey_responses": delete_rows(con, "survey_responses", {"import_id": import_id}),
        "audit_items": con.execute("DELETE FROM audit_items WHERE audit_id IN "
                                   "(SELECT id FROM audits WHERE import_id = ?)", (import_id,)).rowcount,
        "audits": delete_rows(con, "audits", {"import_id": import_id}),
        "imports": delete_rows(con, "imports", {"id": import_id}),
    }
    return counts
