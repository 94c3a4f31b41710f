"""Every write to the database goes through this module: one transaction per logical change, so a
failed import or a refused row leaves the database exactly as it was."""
from __future__ import annotations

import contextlib
import datetime as dt
import json
from typing import Any, Iterable, Iterator, Mapping, Sequence

from zpb_lib.reference import Reference
from zpb_lib.store.backend import POSTGRESQL, Connection, PermissionDenied, StoreError
from zpb_lib.store.frames import columns
from zpb_lib.store.schema import CHANGED_TABLES, ID_TABLES, IMPORTED_TABLES, REMOVABLE_TABLES, REMOVED_KEY, REMOVED_PREFIX


@contextlib.contextmanager
def transaction(con: Connection) -> Iterator[Connection]:
    """One logical change: BEGIN … COMMIT, or ROLLBACK on any exception (which is re-raised). The
    data version advances with every change, in the same transaction (the schema's triggers), so a
    reader that sees the change sees the new version, and one that does not, the old."""
    con.begin("write")
    try:
        yield con
    except BaseException:
        con.rollback()
        raise
    else:
        con.commit()


def insert_rows(con: Connection, table: str, columns: Sequence[str],
                rows: Iterable[Sequence[Any]]) -> int:
    """Insert many rows into ``table`` (inside the caller's transaction); returns the row count."""
    if not con.in_transaction:
        raise RuntimeError("insert_rows must run inside transaction()")
    n = con.insert_many(table, columns, rows)
    if "id" in columns and con.backend == POSTGRESQL and table in ID_TABLES:
        _sync_identity(con, table)
    return n


def _sync_identity(con: Connection, table: str) -> None:
    """After rows with explicit ids, PostgreSQL's id sequence must continue past them (SQLite's
    rowid does so by itself)."""
    con.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"GREATEST((SELECT MAX(id) FROM {table}), 1))")


def insert_one(con: Connection, table: str, values: Mapping[str, Any]) -> int:
    """Insert one row (inside the caller's transaction); returns its id (0 for a table without one
    on PostgreSQL; SQLite gives its rowid)."""
    if not con.in_transaction:
        raise RuntimeError("insert_one must run inside transaction()")
    cols = list(values)
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    if con.backend == POSTGRESQL and table not in ID_TABLES:
        con.execute(sql, [values[c] for c in cols])
        return 0
    if con.backend == POSTGRESQL:
        row_id = int(con.execute(sql + " RETURNING id", [values[c] for c in cols]).fetchone()[0])
        if "id" in cols and table in ID_TABLES:
            _sync_identity(con, table)
        return row_id
    return int(con.execute(sql, [values[c] for c in cols]).lastrowid)


def set_meta(con: Connection, key: str, value: str) -> None:
    con.execute("INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))


# The key of the transaction-scoped advisory lock every import on PostgreSQL takes first ("zpbimp").
IMPORT_LOCK = 0x7A7062696D70


@contextlib.contextmanager
def import_transaction(con: Connection) -> Iterator[Connection]:
    """The transaction of one import. Imports run one at a time, as SQLite's write lock makes them
    there: on PostgreSQL the first statement takes an advisory lock held to the commit, so that the
    check that a file or a survey's target is new and the insert are one step (two imports started
    together never both store). Waiting for it ends after the lock timeout with a message."""
    with transaction(con):
        if con.backend == POSTGRESQL:
            con.execute("SELECT pg_advisory_xact_lock(?)", (IMPORT_LOCK,))
        yield con


def record_import(con: Connection, kind: str, file_name: str, content_hash: str, rows: int,
                  details: str | None = None) -> int:
    """Provenance of one import, written in the same transaction as the imported rows: who made it
    (the login) and, for a police unit's role, for which unit (the database checks both); through
    the web app, for which person (the one it acts for on ``con``, see :mod:`.acting`)."""
    # store.rights: only when an import is recorded, not for `zpb --help`
    from zpb_lib.store.rights import rights_of

    rights = rights_of(con)
    return insert_one(con, "imports", {
        "kind": kind, "file_name": file_name, "content_hash": content_hash,
        "imported_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "rows": rows, "details": details, "imported_by": rights.login, "unit": rights.unit,
        "person": con.person})


def reference_rows(ref: Reference) -> dict[str, tuple[tuple[str, ...], list[tuple]]]:
    """The reference tables' rows (columns; rows, primary key first) as ``data/`` defines them."""
    return {
        "police_units": (("code", "kind", "name", "seat"),
                         [(u.code, u.kind, u.name, u.seat) for u in ref.police_units.values()]),
        "counties": (("teryt", "name", "name_en", "kind", "seat", "police_unit"),
                     [(c.teryt, c.name, c.name_en, c.kind, c.seat, c.police_unit) for c in ref.counties.values()]),
        "institution_kinds": (("code", "family", "name_pl", "name_en", "exists_from", "exists_to"),
                              [(k.code, k.family, k.name_pl, k.name_en, k.exists_from, k.exists_to)
                               for k in ref.kinds.values()]),
        "editions": (("edition", "start_year", "number", "roman", "held", "audit_from", "audit_to", "ceremony"),
                     [(e.edition, e.start_year, e.number, e.roman, int(e.held), e.audit_from.isoformat(),
                       e.audit_to.isoformat(), e.ceremony.isoformat() if e.ceremony else None)
                      for e in ref.editions.values()]),
        "catalogues": (("key", "id", "version", "family", "valid_from", "max_total"),
                       [(c.key, c.id, c.version, c.family, c.valid_from, c.max_total)
                        for c in ref.catalogues.values()]),
        "criteria": (("catalogue", "criterion", "area", "max_points", "mandatory"),
                     [(c.key, k.id, k.area, k.max_points, int(k.mandatory))
                      for c in ref.catalogues.values() for k in c.criteria]),
    }


REFERENCE_KEYS = {"police_units": 1, "counties": 1, "institution_kinds": 1, "editions": 1, "catalogues": 1,
                  "criteria": 2}  # how many leading columns form the primary key


def store_reference(con: Connection, ref: Reference) -> None:
    """Copy the reference data into its tables so that foreign keys can point at it."""
    for table, (cols, rows) in reference_rows(ref).items():
        insert_rows(con, table, cols, rows)


def sync_reference(con: Connection, ref: Reference) -> dict[str, list[str]]:
    """Bring the reference tables in line with ``data/`` (inside the caller's transaction): add new
    rows (a new edition, kind or catalogue) and update changed ones. Rows that ``data/`` no longer
    holds stay, since stored data may point at them. Returns what changed per table."""
    if not con.in_transaction:
        raise RuntimeError("sync_reference must run inside transaction()")
    changes: dict[str, list[str]] = {}
    for table, (cols, rows) in reference_rows(ref).items():
        nkey = REFERENCE_KEYS[table]
        key_sql = " AND ".join(f"{c} = ?" for c in cols[:nkey])
        for row in rows:
            key, rest = row[:nkey], row[nkey:]
            old = con.execute(f"SELECT {', '.join(cols[nkey:])} FROM {table} WHERE {key_sql}", key).fetchone()
            name = "/".join(str(k) for k in key)
            if old is None:
                insert_rows(con, table, cols, [row])
                changes.setdefault(table, []).append(f"added {name}")
            elif tuple(old) != tuple(rest):
                sets = ", ".join(f"{c} = ?" for c in cols[nkey:])
                con.execute(f"UPDATE {table} SET {sets} WHERE {key_sql}", (*rest, *key))
                diff = [c for c, a, b in zip(cols[nkey:], old, rest) if a != b]
                changes.setdefault(table, []).append(f"updated {name} ({', '.join(diff)})")
    return changes


def delete_rows(con: Connection, table: str, where: Mapping[str, Any]) -> int:
    """Delete the rows of ``table`` whose columns equal ``where`` (None matches NULL), inside the
    caller's transaction; returns the count. Used to replace data on a re-import."""
    if not con.in_transaction:
        raise RuntimeError("delete_rows must run inside transaction()")
    if not where:
        raise ValueError("delete_rows needs at least one condition")
    conds = [f"{c} IS NULL" if v is None else f"{c} = ?" for c, v in where.items()]
    cur = con.execute(f"DELETE FROM {table} WHERE {' AND '.join(conds)}", [v for v in where.values() if v is not None])
    return cur.rowcount


def delete_import(con: Connection, import_id: int) -> dict[str, int]:
    """Take back everything one import did, inside the caller's transaction: delete the rows it
    stored (audits with their items), put back the values of rows it changed, and delete its
    provenance record. Used by ``zpb imports undo`` (after its dependency checks) and by
    ``--replace``, which swaps an import in one step. Rows that other data still points at (an
    award decided from an audit) are kept by the database's foreign keys."""
    if not con.in_transaction:
        raise RuntimeError("delete_import must run inside transaction()")
    records = con.execute("SELECT tbl, row_id, old FROM import_changes WHERE import_id = ? ORDER BY tbl, row_id",
                          (import_id,)).fetchall()
    # Changed rows first: a change may point at a row the import stored (an award linked to its audit).
    for table, row_id, old in records:
        if not is_removal(old):
            restore_row(con, import_id, table, row_id, old)
    # Removed rows come back before the records that hold them go (on PostgreSQL the record is what
    # lets a row return with the import that first stored it), partners before the actions naming them.
    order = {t: i for i, t in enumerate(REMOVABLE_TABLES)}
    removals = sorted((r for r in records if is_removal(r[2])), key=lambda r: (order.get(r[0], -1), r[1]))
    for table, row_id, old in removals:
        restore_removed(con, import_id, table, row_id, old)
    delete_rows(con, "import_changes", {"import_id": import_id})
    counts = {"audit_items": con.execute("DELETE FROM audit_items WHERE audit_id IN "
                                         "(SELECT id FROM audits WHERE import_id = ?)", (import_id,)).rowcount}
    for table in IMPORTED_TABLES:
        counts[table] = delete_rows(con, table, {"import_id": import_id})
    counts["imports"] = delete_rows(con, "imports", {"id": import_id})
    return {t: n for t, n in counts.items() if n}


class ProvenanceError(StoreError):
    """A change record of an import names a table, a column or a row that an undo may not restore."""


def restore_row(con: Connection, import_id: int, table: str, row_id: int, old: str) -> None:
    """Put back the values an import changed in one row. The stored record is data, not code: its
    table must be one an import may change, its columns the table's own (read from the schema; never
    ``id`` or ``import_id``), and the statement is built with quoted identifiers and bound values.
    The row must change: one the connection's role may not change (row-level security hides it) is
    refused rather than silently skipped."""
    if table not in CHANGED_TABLES:
        raise ProvenanceError(f"import #{import_id}: a change record names table {table!r}, which no import changes")
    try:
        values = json.loads(old)
    except json.JSONDecodeError:
        values = None
    if not isinstance(values, dict) or not values:
        raise ProvenanceError(f"import #{import_id}: the change record of {table} row {row_id} holds no values")
    key = f"changeable:{table}"
    if key not in con.cache:
        con.cache[key] = frozenset(columns(con, table)) - {"id", "import_id"}
    allowed = con.cache[key]
    unknown = [c for c in values if c not in allowed]
    if unknown:
        raise ProvenanceError(f"import #{import_id}: the change record of {table} row {row_id} names "
                              f"{', '.join(repr(c) for c in unknown)}, not a column an import changes in {table}")
    if con.update_row(table, row_id, values) != 1:
        raise ProvenanceError(f"import #{import_id}: {table} row {row_id} cannot be put back: it is not there, or "
                              "not the undoing role's to change")


def is_removal(old: str) -> bool:
    """Whether a change record's ``old`` records a removed row (see :data:`.schema.REMOVED_PREFIX`)."""
    return isinstance(old, str) and old.startswith(REMOVED_PREFIX)


def _all_columns(con: Connection, table: str) -> list[str]:
    key = f"columns:{table}"
    if key not in con.cache:
        con.cache[key] = columns(con, table)
    return con.cache[key]


def remove_logged(con: Connection, table: str, row_id: int, import_id: int) -> dict[str, Any]:
    """Delete one row (by ``id``) for an import, inside the caller's transaction, keeping the whole
    row in ``import_changes`` so that ``zpb imports undo`` can put it back as it was (its id and the
    import that stored it included). The record is written while the row still exists: on
    PostgreSQL the database compares the two. Returns the row's values."""
    if not con.in_transaction:
        raise RuntimeError("remove_logged must run inside transaction()")
    if table not in REMOVABLE_TABLES:
        raise ValueError(f"rows of {table} are not removed by an import")
    cols = _all_columns(con, table)
    row = con.execute(f"SELECT {', '.join(cols)} FROM {table} WHERE id = ?", (row_id,)).fetchone()
    if row is None:
        raise KeyError(f"{table} has no row {row_id}")
    values = dict(zip(cols, row))
    if con.execute("SELECT 1 FROM import_changes WHERE import_id = ? AND tbl = ? AND row_id = ?",
                   (import_id, table, row_id)).fetchone():
        raise ValueError(f"import #{import_id} already changed {table} row {row_id}; it cannot also remove it")
    con.execute("INSERT INTO import_changes(import_id, tbl, row_id, old) VALUES (?, ?, ?, ?)",
                (import_id, table, row_id, json.dumps({REMOVED_KEY: values}, ensure_ascii=False)))
    if con.execute(f"DELETE FROM {table} WHERE id = ?", (row_id,)).rowcount != 1:
        raise PermissionDenied(f"{table} row {row_id} is not the connected role's to remove (another police unit's)")
    return values


def removed_row(old: str) -> dict[str, Any] | None:
    """The row a removal record holds (None: not a removal record, or not a readable one)."""
    if not is_removal(old):
        return None
    try:
        values = json.loads(old).get(REMOVED_KEY)
    except (json.JSONDecodeError, AttributeError):
        return None
    return values if isinstance(values, dict) and values else None


def restore_removed(con: Connection, import_id: int, table: str, row_id: int, old: str) -> None:
    """Put back a row an import removed, exactly as its record holds it. The record is data, not
    code: its table must be one an import removes rows of, its columns exactly the table's own (read
    from the schema), its id the record's row; the statement is built with quoted identifiers and
    bound values. On PostgreSQL the row keeps the import that first stored it only because the
    database finds the same row in a removal record (see the schema's ``zpb_import_rows``)."""
    if table not in REMOVABLE_TABLES:
        raise ProvenanceError(f"import #{import_id}: a removal record names table {table!r}, whose rows no import "
                              "removes")
    values = removed_row(old)
    if values is None:
        raise ProvenanceError(f"import #{import_id}: the removal record of {table} row {row_id} holds no row")
    cols = _all_columns(con, table)
    if set(values) != set(cols) or values.get("id") != row_id:
        raise ProvenanceError(f"import #{import_id}: the removal record of {table} row {row_id} does not hold that "
                              f"row of {table} (its columns or id differ)")
    con.insert_row(table, {c: values[c] for c in cols})


def update_logged(con: Connection, table: str, row_id: int, values: Mapping[str, Any],
                  import_id: int) -> dict[str, Any]:
    """Change columns of one row (by ``id``) for an import, inside the caller's transaction, keeping
    the values they had before in ``import_changes`` so that ``zpb imports undo`` can restore them.
    Only columns whose value differs are written; returns the old values of those."""
    if not con.in_transaction:
        raise RuntimeError("update_logged must run inside transaction()")
    cols = list(values)
    old_row = con.execute(f"SELECT {', '.join(cols)} FROM {table} WHERE id = ?", (row_id,)).fetchone()
    if old_row is None:
        raise KeyError(f"{table} has no row {row_id}")
    old = {c: v for c, v in zip(cols, old_row) if v != values[c]}
    if not old:
        return {}
    changed = con.execute(f"UPDATE {table} SET {', '.join(f'{c} = ?' for c in old)} WHERE id = ?",
                          [values[c] for c in old] + [row_id]).rowcount
    if changed != 1:  # row-level security hid it: another police unit's row
        raise PermissionDenied(f"{table} row {row_id} is not the connected role's to change (another police unit's "
                               "institution)")
    prev = con.execute("SELECT old FROM import_changes WHERE import_id = ? AND tbl = ? AND row_id = ?",
                       (import_id, table, row_id)).fetchone()
    if prev is None:
        con.execute("INSERT INTO import_changes(import_id, tbl, row_id, old) VALUES (?, ?, ?, ?)",
                    (import_id, table, row_id, json.dumps(old, ensure_ascii=False)))
    else:  # the same import changed the row twice: keep the first old values
        merged = dict(old, **json.loads(prev[0]))
        con.execute("UPDATE import_changes SET old = ? WHERE import_id = ? AND tbl = ? AND row_id = ?",
                    (json.dumps(merged, ensure_ascii=False), import_id, table, row_id))
    return old
