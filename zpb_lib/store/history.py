"""``zpb imports list`` and ``zpb imports undo``: every import is listed and can be taken back.

An import stores rows that carry its id (``import_id``) and may change rows stored earlier (their
old values are kept in ``import_changes``). Undoing it deletes exactly the rows it stored and puts
back the values it changed, in one transaction, unless later data depends on it: rows another import
stored that point at its rows, later changes to the same rows, or surveys and audits that only its
participation rows allow. Then it refuses and says which imports to undo first.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from .backend import POSTGRESQL, Connection, IntegrityError, PermissionDenied
from .rights import ANALYST, rights_of, unit_role
from .schema import IMPORTED_TABLES, quote_ident
from .write import ProvenanceError, delete_import, transaction


class UndoRefused(ValueError):
    """The import cannot be undone as things stand; the message says why and what to do."""


@dataclass(frozen=True)
class ImportRecord:
    id: int
    kind: str
    file_name: str
    content_hash: str
    imported_at: str
    rows: int
    details: dict
    imported_by: str | None = None  # the login that made it (None: before schema version 5)
    unit: str | None = None  # the police unit whose role made it (None: an analyst's)

    def target(self) -> str:
        """A short description of what the import was for."""
        d = self.details
        if self.kind == "survey":
            return f"{d.get('institution', d.get('institution_id', '?'))} {d.get('edition', '')} {d.get('group', '')} " \
                   f"{d.get('wave', '')}".strip()
        if self.kind == "audit":
            return f"{d.get('institution', d.get('institution_id', '?'))} {d.get('edition', '')} {d.get('kind', '')}".strip()
        if self.kind == "awards":
            return f"edition {d.get('edition', '?')}"
        return ""


def list_imports(con: Connection, *, unit: str | None = None, import_id: int | None = None) -> list[ImportRecord]:
    """Every import in order (``unit``: only that police unit's; ``import_id``: only that one)."""
    out = []
    where, params = [], []
    if unit is not None:
        where.append("unit = ?")
        params.append(unit)
    if import_id is not None:
        where.append("id = ?")
        params.append(import_id)
    sql = ("SELECT id, kind, file_name, content_hash, imported_at, rows, details, imported_by, unit FROM imports"
           + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id")
    for r in con.execute(sql, params):
        try:
            details = json.loads(r[6]) if r[6] else {}
        except json.JSONDecodeError:
            details = {}
        out.append(ImportRecord(r[0], r[1], r[2], r[3], r[4], r[5], details if isinstance(details, dict) else {},
                                r[7], r[8]))
    return out


@dataclass
class UndoResult:
    record: ImportRecord
    deleted: dict[str, int] = field(default_factory=dict)
    restored: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False

    def lines(self) -> list[str]:
        r = self.record
        what = ", ".join(f"{n} {t}" for t, n in self.deleted.items() if n) or "no rows"
        out = [f"import #{r.id} ({r.kind}, „{r.file_name}”, {r.imported_at[:19]}):",
               f"  {'would delete' if self.dry_run else 'deleted'}: {what}"]
        if any(self.restored.values()):
            out.append(f"  {'would restore' if self.dry_run else 'restored'} the earlier values of: "
                       + ", ".join(f"{n} {t}" for t, n in self.restored.items() if n))
        out.append("dry run: nothing was changed" if self.dry_run else f"import #{r.id} is undone")
        return out


def _record(con: Connection, import_id: int) -> ImportRecord:
    found = list_imports(con, import_id=import_id)
    if found:
        return found[0]
    known = [r.id for r in list_imports(con)]
    raise UndoRefused(f"there is no import #{import_id}" + (f" (imports: #{known[0]}–#{known[-1]}; "
                      "see `zpb imports list`)" if known else " (the database holds no imports)"))


def _describe(con: Connection, ids: set[int | None]) -> str:
    named = []
    for iid in sorted(i for i in ids if i is not None):
        row = con.execute("SELECT kind, file_name FROM imports WHERE id = ?", (iid,)).fetchone()
        named.append(f"#{iid} ({row[0]}, „{row[1]}”)" if row else f"#{iid}")
    if None in ids:
        named.append("data not from an import (demo data)")
    return ", ".join(named)


def dependents(con: Connection, import_id: int) -> list[str]:
    """Why the import cannot be undone: one line per kind of dependency (empty: it can)."""
    x = import_id
    reasons: list[str] = []

    def check(sql: str, what: str) -> None:
        rows = con.execute(sql, {"x": x}).fetchall()
        if rows:
            later = {r[0] for r in rows}
            n = sum(r[1] for r in rows)
            reasons.append(f"{n} {what} stored by {_describe(con, later)}; undo those first")

    for table in ("participation", "audits", "survey_responses", "awards", "action_items"):
        check(f"""SELECT t.import_id, COUNT(*) FROM {table} t JOIN institutions i ON i.id = t.institution_id
                  WHERE i.import_id = :x AND (t.import_id IS NULL OR t.import_id <> :x) GROUP BY t.import_id""",
              f"{table.replace('_', ' ')} row(s) of institutions this import added are")
    check("""SELECT w.import_id, COUNT(*) FROM awards w JOIN audits a ON a.id = w.audit_id
             WHERE a.import_id = :x AND (w.import_id IS NULL OR w.import_id <> :x)
               AND NOT EXISTS (SELECT 1 FROM import_changes c WHERE c.import_id = :x AND c.tbl = 'awards'
                               AND c.row_id = w.id)
             GROUP BY w.import_id""",
          "award(s) decided from this import's audit(s) are")
    check("""SELECT t.import_id, COUNT(*) FROM action_items t JOIN partners p ON p.id = t.partner_id
             WHERE p.import_id = :x AND (t.import_id IS NULL OR t.import_id <> :x)
               AND NOT EXISTS (SELECT 1 FROM import_changes c WHERE c.import_id = :x AND c.tbl = 'action_items'
                               AND c.row_id = t.id)
             GROUP BY t.import_id""",
          "action(s) naming partners this import added are")
    # Surveys and audits that only this import's participation rows allow.
    for table, what in (("audits", "audit(s)"), ("survey_responses", "survey response(s)")):
        check(f"""SELECT t.import_id, COUNT(*) FROM {table} t
                  WHERE (t.import_id IS NULL OR t.import_id <> :x)
                    AND EXISTS (SELECT 1 FROM participation p WHERE p.import_id = :x AND p.institution_id = t.institution_id
                                AND p.joined_edition <= t.edition AND (p.left_edition IS NULL OR p.left_edition >= t.edition))
                    AND NOT EXISTS (SELECT 1 FROM participation p WHERE (p.import_id IS NULL OR p.import_id <> :x)
                                AND p.institution_id = t.institution_id AND p.joined_edition <= t.edition
                                AND (p.left_edition IS NULL OR p.left_edition >= t.edition))
                  GROUP BY t.import_id""", f"{what} in editions that only this import's participation rows cover are")
    # Later changes to rows this import stored or changed.
    for table in IMPORTED_TABLES:
        check(f"""SELECT c.import_id, COUNT(*) FROM import_changes c JOIN {table} t ON t.id = c.row_id
                  WHERE c.tbl = '{table}' AND c.import_id > :x AND t.import_id = :x GROUP BY c.import_id""",
              f"later change(s) to {table.replace('_', ' ')} rows this import added are")
    check("""SELECT c.import_id, COUNT(*) FROM import_changes c JOIN import_changes mine
             ON mine.tbl = c.tbl AND mine.row_id = c.row_id AND mine.import_id = :x
             WHERE c.import_id > :x GROUP BY c.import_id""",
          "later change(s) to rows this import changed are")
    return reasons


def undo(con: Connection, import_id: int, *, dry_run: bool = False) -> UndoResult:
    """Take back import ``import_id`` in one transaction (``dry_run``: say what would change)."""
    try:
        with transaction(con):
            result = _undo(con, import_id, dry_run)
            if dry_run:
                raise _Rollback
    except _Rollback:
        pass
    return result


class _Rollback(Exception):
    """Rolls a dry run back after everything was checked and counted."""


def _undo(con: Connection, import_id: int, dry_run: bool) -> UndoResult:
    rec = _record(con, import_id)
    if rec.kind == "demo":
        raise UndoRefused(f"import #{import_id} is the demo data; make a new database instead")
    _act_as_maker(con, rec)
    reasons = dependents(con, import_id)
    if reasons:
        raise UndoRefused(f"import #{import_id} ({rec.kind}, „{rec.file_name}”) cannot be undone, nothing was "
                          "changed:\n" + "\n".join(f"  {r}" for r in reasons))
    result = UndoResult(rec, dry_run=dry_run)
    result.deleted, result.restored = _take_back(con, import_id)
    return result


def _act_as_maker(con: Connection, rec: ImportRecord) -> None:
    """An import is undone with the rights of the police unit it was made for, whoever undoes it: a
    unit undoes only its own unit's imports, and an analyst undoing a unit's import does so in the
    unit's role (``SET LOCAL ROLE``, for this transaction), so that what the import's records ask to
    restore or delete can never reach beyond that unit's rows (row-level security decides)."""
    rights = rights_of(con)
    if not rights.writes:
        raise UndoRefused(f"import #{rec.id} cannot be undone: {rights.who()} changes nothing in this database")
    if rec.unit is None:
        if not rights.everything:
            raise UndoRefused(f"import #{rec.id} ({rec.kind}, „{rec.file_name}”) was made by an analyst"
                              + (f" (login {rec.imported_by})" if rec.imported_by else "")
                              + f"; {rights.who()} undoes only its own unit's imports")
        return
    if not rights.everything:
        if rec.unit not in rights.units:
            raise UndoRefused(f"import #{rec.id} ({rec.kind}, „{rec.file_name}”) was made for {rights.unit_name(rec.unit)}"
                              + (f" (login {rec.imported_by})" if rec.imported_by else "")
                              + f"; {rights.who()} undoes only its own unit's imports: ask that unit or an analyst")
        return
    if con.backend != POSTGRESQL:
        return
    role = unit_role(rec.unit)
    try:
        con.script(f"SET LOCAL ROLE {quote_ident(role)}")
    except PermissionDenied:
        raise UndoRefused(f"import #{rec.id} was made for police unit {rec.unit}; it is undone in that unit's role "
                          f"{role}, which {rights.who()} cannot take: log in as an analyst (a member of {ANALYST}, "
                          "which `zpb db roles` makes a member of every unit's role)") from None


def replace_refusal(con: Connection, import_id: int) -> str | None:
    """Why the connected login may not take import ``import_id`` back to replace it (None: it may):
    a police unit replaces only its own unit's imports, as it undoes only those."""
    rec = _record(con, import_id)
    rights = rights_of(con)
    if rights.everything or (rec.unit is not None and rec.unit in rights.units):
        return None
    maker = rights.unit_name(rec.unit) if rec.unit else "an analyst"
    return (f"import #{rec.id} („{rec.file_name}”) was made by {maker}"
            + (f" (login {rec.imported_by})" if rec.imported_by else "")
            + f", and {rights.who()} replaces only its own unit's imports: ask an analyst to undo it first")


def _take_back(con: Connection, import_id: int) -> tuple[dict[str, int], dict[str, int]]:
    restored = {t: n for t, n in con.execute("SELECT tbl, COUNT(*) FROM import_changes WHERE import_id = ? "
                                             "GROUP BY tbl", (import_id,))}
    try:
        deleted = delete_import(con, import_id)
    except (ProvenanceError, PermissionDenied, IntegrityError) as exc:
        raise UndoRefused(f"import #{import_id} cannot be undone, nothing was changed: {exc}") from None
    deleted.pop("imports", None)
    return deleted, restored


