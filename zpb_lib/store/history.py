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

from zpb_lib.core.errors import Refusal
from zpb_lib.core.text import norm
from zpb_lib.reference.identifiers import label
from zpb_lib.store.backend import POSTGRESQL, Connection, IntegrityError, PermissionDenied
from zpb_lib.store.rights import ANALYST, rights_of, unit_role
from zpb_lib.store.schema import IMPORTED_TABLES, REMOVED_PREFIX, quote_ident
from zpb_lib.store.write import ProvenanceError, delete_import, is_removal, removed_row, transaction


class UndoRefused(Refusal, ValueError):
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
    person: str | None = None  # the person the web app made it for (None: not made through it)

    def made_by(self) -> str:
        """Who made it, as the list of imports shows it: the login, and the person through the web app."""
        login = self.imported_by or "—"
        return f"{self.person} via {login}" if self.person else login

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
    sql = ("SELECT id, kind, file_name, content_hash, imported_at, rows, details, imported_by, unit, person FROM imports"
           + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id")
    for r in con.execute(sql, params):
        try:
            details = json.loads(r[6]) if r[6] else {}
        except json.JSONDecodeError:
            details = {}
        out.append(ImportRecord(r[0], r[1], r[2], r[3], r[4], r[5], details if isinstance(details, dict) else {},
                                r[7], r[8], r[9]))
    return out


@dataclass
class UndoResult:
    record: ImportRecord
    deleted: dict[str, int] = field(default_factory=dict)
    restored: dict[str, int] = field(default_factory=dict)  # rows whose earlier values were put back
    put_back: dict[str, int] = field(default_factory=dict)  # rows the import removed, put back
    dry_run: bool = False

    def lines(self) -> list[str]:
        done = "dry run: nothing was changed" if self.dry_run else f"import #{self.record.id} is undone"
        return self.steps() + [done]

    def steps(self) -> list[str]:
        """What the undo of this one import does (or would do)."""
        r = self.record
        what = ", ".join(f"{n} {t}" for t, n in self.deleted.items() if n) or "no rows"
        out = [f"import #{r.id} ({r.kind}, „{r.file_name}”, {r.imported_at[:19]}):",
               f"  {'would delete' if self.dry_run else 'deleted'}: {what}"]
        if any(self.restored.values()):
            out.append(f"  {'would restore' if self.dry_run else 'restored'} the earlier values of: "
                       + ", ".join(f"{n} {t}" for t, n in self.restored.items() if n))
        if any(self.put_back.values()):
            out.append(f"  {'would put back' if self.dry_run else 'put back'} the rows it removed: "
                       + ", ".join(f"{n} {t}" for t, n in self.put_back.items() if n))
        return out


@dataclass
class ChainResult:
    """An import undone together with the imports that depend on it, in the order they were undone
    (each before what it depended on), in one transaction."""
    import_id: int
    results: list[UndoResult]
    dry_run: bool = False

    def lines(self) -> list[str]:
        others = [f"#{r.record.id}" for r in self.results if r.record.id != self.import_id]
        verb = "would undo" if self.dry_run else "undid"
        out = [f"{verb} import #{self.import_id} with the {len(others)} import(s) that depend on it "
               f"({', '.join(others) or 'none'}), in this order, in one transaction:"]
        for r in self.results:
            out += r.steps()
        out.append("dry run: nothing was changed" if self.dry_run else
                   f"imports {', '.join(f'#{r.record.id}' for r in self.results)} are undone")
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


@dataclass(frozen=True)
class Blocker:
    """One reason an import cannot be undone yet: the sentence, and the imports that must be undone
    first (None: data no import stored, which no undo takes away)."""
    text: str
    imports: frozenset[int | None]


def dependents(con: Connection, import_id: int) -> list[str]:
    """Why the import cannot be undone: one line per kind of dependency (empty: it can)."""
    return [b.text for b in blockers(con, import_id)]


def blockers(con: Connection, import_id: int) -> list[Blocker]:
    """What stands in the way of undoing the import: later data that depends on what it stored or
    changed, and — for an import that removed rows — what putting them back needs."""
    x = import_id
    reasons: list[Blocker] = []

    def check(sql: str, what: str) -> None:
        rows = con.execute(sql, {"x": x}).fetchall()
        if rows:
            later = {r[0] for r in rows}
            n = sum(r[1] for r in rows)
            reasons.append(Blocker(f"{n} {what} stored by {_describe(con, later)}; undo those first", frozenset(later)))

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
    reasons += _removal_blockers(con, x)
    return reasons


def _removals(con: Connection, where: str, params: dict) -> list[tuple[int, str, int, dict]]:
    """Removal records (import, table, row id, the row) matching ``where`` (SQL over ``c``)."""
    out = []
    for iid, table, row_id, old in con.execute(
            f"SELECT c.import_id, c.tbl, c.row_id, c.old FROM import_changes c WHERE c.old LIKE :prefix AND {where} "
            "ORDER BY c.import_id, c.tbl, c.row_id", {"prefix": REMOVED_PREFIX + "%", **params}):
        row = removed_row(old)
        if row is not None:
            out.append((iid, table, row_id, row))
    return out


# What a removed row points at, which must be there when it comes back.
_REFERENCES = {"institution_id": "institutions", "partner_id": "partners", "audit_id": "audits",
               "import_id": "imports"}


def _removal_blockers(con: Connection, x: int) -> list[Blocker]:
    """Removals and undo: later imports that removed rows this import stored; and for an import that
    removed rows, what they point at that is gone (naming the import that removed it) and rows stored
    since with the same natural key (putting the removed row back would make it twice)."""
    out: list[Blocker] = []
    later: dict[tuple[int, str], int] = {}
    for iid, table, _, row in _removals(con, "c.import_id > :x", {"x": x}):
        if row.get("import_id") == x:
            later[(iid, table)] = later.get((iid, table), 0) + 1
    for (iid, table), n in sorted(later.items()):
        out.append(Blocker(f"{n} {table.replace('_', ' ')} row(s) this import added were removed by "
                           f"{_describe(con, {iid})}; undo that first", frozenset({iid})))
    mine = _removals(con, "c.import_id = :x", {"x": x})
    coming_back = {(table, row_id) for _, table, row_id, _ in mine}  # this undo puts them back itself
    for _, table, row_id, row in mine:
        what = f"removed {table.replace('_', ' ')} row {_row_label(con, table, row)}"
        for column, target in _REFERENCES.items():
            ref_id = row.get(column)
            if ref_id is None or (target, ref_id) in coming_back or \
                    con.execute(f"SELECT 1 FROM {target} WHERE id = ?", (ref_id,)).fetchone():
                continue
            records = _removals(con, "c.tbl = :t AND c.row_id = :r AND c.import_id > :x",
                                {"t": target, "r": ref_id, "x": x})
            gone = {r[0] for r in records}
            named = (f"{target.rstrip('s').replace('_', ' ')} {_row_label(con, target, records[0][3])}" if records
                     else f"a row of {target} that")
            if gone:
                out.append(Blocker(f"the {what} names {named}, which {_describe(con, gone)} removed; undo that first",
                                   frozenset(gone)))
            else:
                out.append(Blocker(f"the {what} names {named} is no longer in the database", frozenset({None})))
        same = _same_key(con, table, row)
        if same:
            out.append(Blocker(f"the {what} is in the database again ({len(same)} row(s) with the same key, stored by "
                               f"{_describe(con, set(same))}); undo that first", frozenset(same)))
    return out


def _row_label(con: Connection, table: str, row: dict) -> str:
    """A removed row as people name it: the institution's identifier and the row's key."""
    inst = ""
    if row.get("institution_id") is not None:
        found = con.execute("SELECT rspo, polon FROM institutions WHERE id = ?", (row["institution_id"],)).fetchone()
        inst = (label(found[0], found[1]) if found else f"institution {row['institution_id']}") + " "
    if table == "participation":
        return f"{inst}joined {row.get('joined_edition')}"
    if table == "awards":
        return f"{inst}{row.get('kind')} {row.get('edition')}"
    if table == "action_items":
        return f"{inst}{row.get('edition')} „{row.get('title')}”"
    return f"„{row.get('name')}”" + (f" (county {row['county']})" if row.get("county") else "")


def _same_key(con: Connection, table: str, row: dict) -> list[int | None]:
    """Imports of the rows now stored with the removed row's natural key (the register's: an
    institution's participation by the edition it joined, its award by edition and kind, its action
    by edition and title; a partner by name and county)."""
    if table == "participation":
        rows = con.execute("SELECT import_id FROM participation WHERE institution_id = ? AND joined_edition = ?",
                           (row.get("institution_id"), row.get("joined_edition"))).fetchall()
    elif table == "awards":
        rows = con.execute("SELECT import_id FROM awards WHERE institution_id = ? AND edition = ? AND kind = ?",
                           (row.get("institution_id"), row.get("edition"), row.get("kind"))).fetchall()
    elif table == "action_items":
        title = " ".join(str(row.get("title") or "").split())
        rows = [(r[0],) for r in con.execute(
            "SELECT import_id, title FROM action_items WHERE institution_id = ? AND edition = ?",
            (row.get("institution_id"), row.get("edition"))) if " ".join(r[1].split()) == title]
    elif table == "partners":
        county = row.get("county")
        found = con.execute("SELECT import_id, name FROM partners WHERE county = ?", (county,)) if county else \
            con.execute("SELECT import_id, name FROM partners WHERE county IS NULL")
        rows = [(r[0],) for r in found if norm(r[1]) == norm(row.get("name") or "")]
    else:
        rows = []
    return [r[0] for r in rows]


def undo(con: Connection, import_id: int, *, dry_run: bool = False,
         with_later: bool = False) -> UndoResult | ChainResult:
    """Take back import ``import_id`` in one transaction (``dry_run``: say what would change;
    ``with_later``: together with every import that depends on it, directly or through others)."""
    try:
        with transaction(con):
            result = _undo_chain(con, import_id, dry_run) if with_later else _undo(con, import_id, dry_run)
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
    found = blockers(con, import_id)
    if found:
        raise UndoRefused(f"import #{import_id} ({rec.kind}, „{rec.file_name}”) cannot be undone, nothing was "
                          "changed:\n" + "\n".join(f"  {b.text}" for b in found) + _chain_advice(con, rec))
    result = UndoResult(rec, dry_run=dry_run)
    result.deleted, result.restored, result.put_back = _take_back(con, import_id)
    return result


def dependent_imports(con: Connection, import_id: int) -> tuple[list[int], bool]:
    """Every import that must be undone before ``import_id`` can be, directly or through others (in
    id order), and whether data no import stored stands in the way too (which no undo takes away)."""
    seen: set[int] = set()
    untracked = False
    todo = [import_id]
    while todo:
        for b in blockers(con, todo.pop()):
            for i in b.imports:
                if i is None:
                    untracked = True
                elif i != import_id and i not in seen:
                    seen.add(i)
                    todo.append(i)
    return sorted(seen), untracked


def _chain_advice(con: Connection, rec: ImportRecord) -> str:
    """The lines after a refusal: the whole set of imports in the way, and how to undo them with it."""
    chain, untracked = dependent_imports(con, rec.id)
    if not chain:
        return ""
    out = [f"  the imports in the way, directly or through others: {_describe(con, set(chain))}"]
    foreign = _not_undoable(con, chain)
    if untracked:
        out.append("  and data no import stored, which no undo takes away: the import cannot be undone")
    elif foreign:
        out.append(f"  of these, {foreign}; ask an analyst to undo them together: "
                   f"zpb imports undo {rec.id} --with-later")
    else:
        out.append(f"  undo them together with it, in one step: zpb imports undo {rec.id} --with-later "
                   "(add --dry-run to see first everything that would be deleted and put back)")
    return "\n" + "\n".join(out)


def _not_undoable(con: Connection, ids: list[int]) -> str:
    """The imports among ``ids`` the connected login may not undo (another unit's, an analyst's),
    as a clause naming them and their makers; empty when it may undo them all."""
    rights = rights_of(con)
    if rights.everything:
        return ""
    named = []
    for rec in (_record(con, i) for i in ids):
        if rec.unit is None or rec.unit not in rights.units:
            maker = rights.unit_name(rec.unit) if rec.unit else "an analyst"
            login = f", login {rec.imported_by}" if rec.imported_by else ""
            named.append(f"#{rec.id} („{rec.file_name}”, made by {maker}{login})")
    if not named:
        return ""
    return f"{', '.join(named)} {'is' if len(named) == 1 else 'are'} not {rights.who()}'s to undo"


def _undo_chain(con: Connection, import_id: int, dry_run: bool) -> ChainResult:
    """Undo the import and every import that depends on it, in one transaction: each step takes
    back one whose dependants are gone already (so, latest first where they depend in that order),
    in the role of its maker; a police unit only when every one of them is its own unit's."""
    rec = _record(con, import_id)
    if rec.kind == "demo":
        raise UndoRefused(f"import #{import_id} is the demo data; make a new database instead")
    chain, untracked = dependent_imports(con, import_id)
    if untracked:
        raise UndoRefused(f"import #{import_id} ({rec.kind}, „{rec.file_name}”) cannot be undone, nothing was "
                          "changed: data no import stored (demo data) depends on it, which no undo takes away:\n"
                          + "\n".join(f"  {b.text}" for b in blockers(con, import_id)))
    foreign = _not_undoable(con, chain + [import_id])
    if foreign:
        raise UndoRefused(f"import #{import_id} ({rec.kind}, „{rec.file_name}”) and the imports that depend on it "
                          f"({_describe(con, set(chain))}) cannot be undone together, nothing was changed: "
                          f"{foreign}; ask an analyst")
    start = _current_role(con)
    remaining = set(chain) | {import_id}
    results: list[UndoResult] = []
    while remaining:
        for y in sorted(remaining, reverse=True):
            step = _record(con, y)
            _role_back(con, start)
            _act_as_maker(con, step)
            if not blockers(con, y):
                result = UndoResult(step, dry_run=dry_run)
                result.deleted, result.restored, result.put_back = _take_back(con, y)
                results.append(result)
                remaining.discard(y)
                break
        else:  # pragma: no cover - the closure names every import in the way
            raise UndoRefused(f"imports {', '.join(f'#{i}' for i in sorted(remaining))} depend on each other in a way "
                              "no order undoes; nothing was changed")
    _role_back(con, start)
    return ChainResult(import_id, results, dry_run)


def _current_role(con: Connection) -> str | None:
    """The role the transaction runs in before an undo takes a maker's role (None: SQLite)."""
    if con.backend != POSTGRESQL:
        return None
    current, session = con.execute("SELECT current_user, session_user").fetchone()
    return None if current == session else current


def _role_back(con: Connection, role: str | None) -> None:
    """Back to the role the transaction began in, so that the next import of a chain is undone in
    its own maker's role (a unit's role cannot take another unit's)."""
    if con.backend == POSTGRESQL:
        con.script("SET LOCAL ROLE NONE" if role is None else f"SET LOCAL ROLE {quote_ident(role)}")


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


def _take_back(con: Connection, import_id: int) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    restored: dict[str, int] = {}
    put_back: dict[str, int] = {}
    for table, old in con.execute("SELECT tbl, old FROM import_changes WHERE import_id = ?", (import_id,)):
        counts = put_back if is_removal(old) else restored
        counts[table] = counts.get(table, 0) + 1
    try:
        deleted = delete_import(con, import_id)
    except (ProvenanceError, PermissionDenied, IntegrityError) as exc:
        raise UndoRefused(f"import #{import_id} cannot be undone, nothing was changed: {exc}") from None
    deleted.pop("imports", None)
    return deleted, restored, put_back
