"""Comparing the checked rows with what the database holds: the operations an import would carry
out (insert, update, remove), what each sheet brings, and the problems found on the way — another
police unit's rows, a partner still named by actions. Runs inside the import's transaction."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from zpb_lib.core.text import norm
from zpb_lib.domain.institutions import Institution
from zpb_lib.domain.scoring.decisions import valid_until
from zpb_lib.domain.scoring.rules import rules
from zpb_lib.ingest import Problems, rights_problem
from zpb_lib.ingest.register.check import PARSERS, Record, Checker, check_rows
from zpb_lib.ingest.register.layout import (ACTIONS, ACTIONS_SHEET, AWARDS, PARTICIPATION, PARTNERS, PARTNERS_SHEET,
                                            REMOVE_HEADER, SHEETS, Sheet)
from zpb_lib.ingest.register.read import RawRow, SheetRows
from zpb_lib.ingest.register.result import RegisterImport, SheetResult
from zpb_lib.reference import Reference
from zpb_lib.reference.identifiers import label
from zpb_lib.store.backend import Connection
from zpb_lib.store.queries.audits import audit_kind, audits_of
from zpb_lib.store.queries.register import action_rows, actions_naming_partner, award_rows, participation_rows, partners


@dataclass
class Partner:
    """A partner as the import sees it: stored (``id``) or new from the file (``id`` set on insert)."""
    name: str
    kind: str
    county: str | None
    id: int | None = None


@dataclass
class Op:
    sheet: Sheet
    label: str
    values: dict[str, Any]  # column -> value to store (an action's partner_id may be a new Partner)
    row_id: int | None = None  # the stored row it changes; None: a new row
    rec: Record | None = None  # the file's row it comes from
    remove: bool = False  # the stored row goes (the file's row is marked „Usuń”)


def _owner(rec: Record) -> tuple[str | None, str, str]:
    """Whose row a record changes: (county, what to call it, the column that names it)."""
    if rec.inst is not None:
        return rec.inst.county, f"{rec.inst.label} („{rec.inst.name}”)", "institution"
    v = rec.values
    return v.get("county"), f"partner „{v['name']}”", "name"


def _check_rights(con: Connection, ops: list[Op], problems: Problems) -> None:
    """Every row the import would add or change must be the connected login's to change; another
    police unit's is named with its sheet, row and column before anything is written (rows of other
    units that the file repeats unchanged are fine: they change nothing)."""
    for op in ops:
        if op.rec is None:
            continue
        county, what, column = _owner(op.rec)
        verb = "remove" if op.remove else "change" if op.row_id else "add"
        p = rights_problem(con, county, f"{what}: this row would {verb} {op.sheet.what} {op.label};",
                           op.rec.raw.cells[column].problem(""))
        if p:
            problems.add(p)


_SHOWN = {"partner_id": "partner", "awarded_on": "award date", "valid_until": "valid until", "audit_id": "audit",
          "left_edition": "left edition"}


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Partner):
        return f"„{value.name}”"
    return str(value)


class Planner:
    """Compares the checked rows with what is stored, inside the import's transaction."""

    def __init__(self, con: Connection, ref: Reference, problems: Problems):
        self.con, self.ref, self.problems = con, ref, problems
        self.rules = rules(ref.directory)
        self.unlinked_awards = 0  # awards of the file with no audit that can give them
        self.rejected_partners: set[str] = set()  # names of the file's partner rows refused (reported there)
        self.removed_partners: dict[int, Record] = {}  # stored partners the file removes, by id
        self.partners: dict[tuple[str, str | None], Partner] = {}
        self.partner_by_id: dict[int, Partner] = {}
        for pid, name, kind, county in partners(con):
            p = Partner(name, kind, county, pid)
            self.partner_by_id[pid] = p
            self.partners.setdefault((norm(name), county), p)

    def _removal(self, sheet: Sheet, label: str, row_id: int | None, rec: Record,
                 result: SheetResult) -> Op | None:
        """The operation for a row marked „Usuń”: remove the stored row with its key; a key the
        database does not hold is only reported (removed before, or never stored)."""
        if row_id is None:
            result.absent.append(label)
            return None
        result.removed.append(label)
        return Op(sheet, label, {}, row_id, rec, remove=True)

    def _diff(self, sheet: Sheet, label: str, stored: dict[str, Any] | None, row_id: int | None,
              values: dict[str, Any], result: SheetResult) -> Op | None:
        """The operation for one row: insert when not stored, update when a value differs, else none."""
        if stored is None:
            result.new.append(label)
            return Op(sheet, label, values)
        changes = {k: (self._show(k, stored[k]), self._show(k, v)) for k, v in values.items()
                   if k in stored and not _same(stored[k], v)}
        if not changes:
            result.unchanged += 1
            return None
        result.changed.append(label + ": " + "; ".join(f"{_SHOWN.get(k, k)} {a} → {b}"
                                                       for k, (a, b) in changes.items()))
        return Op(sheet, label, values, row_id)

    def _show(self, key: str, value: Any) -> str:
        if key == "audit_id" and value is not None:  # the audit's kind, not its internal id
            kind = audit_kind(self.con, value)
            return f"{kind} audit" if kind is not None else "an audit"
        return _show(value)

    # -- partners
    def plan_partners(self, recs: list[Record], result: SheetResult) -> list[Op]:
        ops: list[Op] = []
        matched: set[int] = set()
        for rec in recs:
            v = rec.values
            county = self.ref.counties[v["county"]].name if v["county"] else "no county"
            label = f"„{v['name']}” ({county})"
            stored = self.partners.get(rec.key)
            if rec.remove:
                op = self._removal(PARTNERS, label, stored.id if stored else None, rec, result)
                if op is not None:
                    matched.add(op.row_id)
                    self.removed_partners[op.row_id] = rec
                    ops.append(op)
                continue
            if stored is not None and stored.id is not None:
                matched.add(stored.id)
                op = self._diff(PARTNERS, label, {"kind": stored.kind}, stored.id, {"kind": v["kind"]}, result)
                stored.kind = v["kind"]
            else:
                stored = Partner(v["name"], v["kind"], v["county"])
                self.partners[rec.key] = stored
                op = self._diff(PARTNERS, label, None, None, {"name": v["name"], "kind": v["kind"],
                                                                   "county": v["county"]}, result)
                if op is not None:
                    op.values["_partner"] = stored
            if op is not None:
                op.rec = rec
                ops.append(op)
        result.kept = len(self.partner_by_id) - len(matched)
        return ops

    def partner(self, raw: RawRow, name: str, inst: Institution, by_name: dict[str, list[Partner]]
                ) -> Partner | None:
        """The partner an action names: of the institution's county, else one without a county, else the
        only one of that name."""
        same = by_name.get(norm(name), [])
        for choose in ([p for p in same if p.county == inst.county], [p for p in same if p.county is None], same):
            if len(choose) == 1:
                return choose[0]
        where = raw.cells["partner"]
        if not same and norm(name) in self.rejected_partners:
            return None  # its own row in „Partnerzy” is reported; one problem is enough
        going = [r for r in self.removed_partners.values() if r.key[0] == norm(name)]
        if not same and going:
            self.problems.add(where.problem(f"partner „{name}” is marked „{REMOVE_HEADER}” in sheet "
                                            f"„{PARTNERS_SHEET}”, row {going[0].raw.row}: name another partner or "
                                            "leave the cell empty"))
            return None
        if not same:
            self.problems.add(where.problem(f"unknown partner „{name}”: not in sheet „{PARTNERS_SHEET}” nor in the "
                                            "database; add it to „Partnerzy” (name, kind, county) or leave the "
                                            "cell empty"))
        else:
            counties = ", ".join(sorted(self.ref.counties[p.county].name if p.county else "no county" for p in same))
            self.problems.add(where.problem(
                f"partner „{name}” is ambiguous: there are several ({counties}), none of them in the county of "
                f"{inst.label} ({self.ref.counties[inst.county].name}); add the partner for that county to sheet "
                f"„{PARTNERS_SHEET}”"))
        return None

    # -- participation
    def plan_participation(self, recs: list[Record], result: SheetResult) -> list[Op]:
        stored = _stored(participation_rows(self.con), lambda r: (r[1], r[2]), lambda r: {"left_edition": r[3]})
        ops = []
        for rec in recs:
            v = rec.values
            row_id, old = stored.get(rec.key, (None, None))
            label = f"{rec.inst.label} joined {v['joined_edition']}"
            if rec.remove:
                if (op := self._removal(PARTICIPATION, label, row_id, rec, result)) is not None:
                    ops.append(op)
                continue
            values = dict(v) if old is None else {"left_edition": v["left_edition"]}
            op = self._diff(PARTICIPATION, label, old, row_id, values, result)
            if op:
                op.rec = rec
                ops.append(op)
        result.kept = len(stored) - len({r.key for r in recs} & set(stored))
        return ops

    # -- awards
    def plan_awards(self, recs: list[Record], result: SheetResult) -> list[Op]:
        stored = _stored(award_rows(self.con), lambda r: (r[1], r[2], r[3]),
                         lambda r: {"awarded_on": dt.date.fromisoformat(r[4]),
                                    "valid_until": dt.date.fromisoformat(r[5]) if r[5] else None, "audit_id": r[6]})
        ops = []
        for rec in recs:
            v = rec.values
            row_id, old = stored.get(rec.key, (None, None))
            if rec.remove:
                label = f"{rec.inst.label} {v['edition']} {v['kind']}"
                if (op := self._removal(AWARDS, label, row_id, rec, result)) is not None:
                    ops.append(op)
                continue
            audit_id, valid_until = self._derived(rec.inst, v["edition"], v["kind"], v["awarded_on"],
                                                  old["audit_id"] if old else None)
            self.unlinked_awards += audit_id is None
            derived = {"awarded_on": v["awarded_on"], "valid_until": valid_until, "audit_id": audit_id}
            label = f"{rec.inst.label} {v['edition']} {v['kind']}"
            op = self._diff(AWARDS, label, old, row_id, derived if old else {**v, **derived}, result)
            if op:
                op.rec = rec
                ops.append(op)
        result.kept = len(stored) - len({r.key for r in recs} & set(stored))
        return ops

    def _derived(self, inst: Institution, edition: str, kind: str, awarded_on: dt.date,
                 stored_audit: int | None) -> tuple[int | None, dt.date | None]:
        """The audit an award comes from (one of that edition whose kind can give the award under the
        rules in force; the stored link when still such an audit) and the end of its validity."""
        try:
            rule_set = self.rules.for_edition(inst.family, edition)
            audit_kinds = [r.audit for r in rule_set.awards.values() if r.award_kind == kind]
        except KeyError:
            rule_set, audit_kinds = None, []
        audits = audits_of(self.con, inst.id, edition)
        fitting = [(aid, akind) for aid, akind in audits if akind in audit_kinds]
        chosen = next((a for a in fitting if a[0] == stored_audit), fitting[0] if fitting else None)
        if kind == "leader":
            return (chosen[0] if chosen else None), None
        rule = None
        if rule_set is not None:
            rule = rule_set.rule_for_award(kind, chosen[1] if chosen else None) or rule_set.rule_for_award(kind)
        if rule is None:  # the award contradicts the rules of its edition: take its validity from any edition
            rule = next((r for rs in reversed(self.rules.rule_sets.get(inst.family, ()))
                         for r in rs.awards.values() if r.award_kind == kind), None)
        years = rule.valid_years if rule else None
        return (chosen[0] if chosen else None), valid_until(awarded_on, years) if years else None

    # -- actions
    def plan_actions(self, recs: list[Record], result: SheetResult) -> list[Op]:
        stored = _stored(action_rows(self.con), lambda r: (r[1], r[2], " ".join(r[3].split())),
                         lambda r: {"area": r[4], "kind": r[5],
                                    "partner_id": self.partner_by_id.get(r[6]) if r[6] is not None else None,
                                    "deadline": dt.date.fromisoformat(r[7]), "status": r[8]})
        by_name: dict[str, list[Partner]] = {}
        for (n, _), p in self.partners.items():  # stored and the file's own, planned before
            if p.id is None or p.id not in self.removed_partners:
                by_name.setdefault(n, []).append(p)
        ops = []
        for rec in recs:
            v = dict(rec.values)
            if rec.remove:
                row_id, _ = stored.get(rec.key, (None, None))
                label = f"{rec.inst.label} {v['edition']} „{v['title']}”"
                if (op := self._removal(ACTIONS, label, row_id, rec, result)) is not None:
                    ops.append(op)
                continue
            name = v.pop("partner")
            partner = self.partner(rec.raw, name, rec.inst, by_name) if name else None
            if name and partner is None:
                continue  # reported
            v["partner_id"] = partner
            row_id, old = stored.get(rec.key, (None, None))
            label = f"{rec.inst.label} {v['edition']} „{v['title']}”"
            values = v if old is None else {k: v[k] for k in ("area", "kind", "partner_id", "deadline", "status")}
            op = self._diff(ACTIONS, label, old, row_id, values, result)
            if op:
                op.rec = rec
                ops.append(op)
        result.kept = len(stored) - len({r.key for r in recs} & set(stored))
        return ops


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, Partner) or isinstance(new, Partner):
        return old is new  # one object per partner, new partners included
    return old == new


def _stored(rows: Iterable[tuple], key: Callable[[tuple], tuple],
            values: Callable[[tuple], dict[str, Any]]) -> dict[tuple, tuple[int, dict[str, Any]]]:
    """Stored rows (id first, by id) by natural key (the first, should the database hold a key twice)."""
    out: dict[tuple, tuple[int, dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(key(r), (r[0], values(r)))
    return out


def _partner_dependants(con: Connection, ops: list[Op], problems: Problems) -> None:
    """A partner marked „Usuń” that stored actions still name (actions the file removes, or changes,
    which then name another partner, do not count) is refused, naming those actions."""
    gone = {op.row_id for op in ops if op.sheet is ACTIONS and op.row_id is not None}
    for op in ops:
        if not (op.remove and op.sheet is PARTNERS):
            continue
        rows = [r for r in actions_naming_partner(con, op.row_id) if r[0] not in gone]
        if not rows:
            continue
        named = [f"{label(r[4], r[5])} {r[1]} „{r[2]}”" + (f" (import #{r[3]})" if r[3] is not None else "")
                 for r in rows[:5]] + ([f"… and {len(rows) - 5} more"] if len(rows) > 5 else [])
        problems.add(op.rec.mark.problem(
            f"partner {op.label} cannot be removed: {len(rows)} action(s) name it: {'; '.join(named)}; mark those "
            f"actions „{REMOVE_HEADER}” in sheet „{ACTIONS_SHEET}” as well, or name another partner in them"))


def plan_register(con: Connection, ref: Reference, path: Path, read: SheetRows) -> tuple[RegisterImport, list[Op]]:
    """Check every row and compare it with what is stored; raises with every problem found."""
    sheets = read.sheets
    problems = Problems(path)
    checker = Checker(con, ref, lookup=read.lookup)
    recs = {name: check_rows(rows, checker, problems, PARSERS[name]) for name, rows in sheets.items()}
    planner = Planner(con, ref, problems)
    checked = {r.raw.row for r in recs.get(PARTNERS.name, [])}
    planner.rejected_partners = {norm(raw.cells["name"].value or "") for raw in sheets.get(PARTNERS.name, [])
                                 if raw.row not in checked}
    results = {s.name: SheetResult(s.name, s.table, s.name in sheets) for s in SHEETS}
    ops: list[Op] = []
    # Partners first: an action may name a partner added by the same file.
    ops += planner.plan_partners(recs.get(PARTNERS.name, []), results[PARTNERS.name])
    plans = ((PARTICIPATION, planner.plan_participation), (AWARDS, planner.plan_awards),
             (ACTIONS, planner.plan_actions))
    for sheet, plan in plans:
        if sheet.name in sheets:
            ops += plan(recs[sheet.name], results[sheet.name])
    _check_rights(con, ops, problems)
    _partner_dependants(con, ops, problems)
    problems.raise_if_any()
    if not results[PARTNERS.name].present:
        results[PARTNERS.name].kept = 0
    editions = sorted({r.values.get("edition") or r.values.get("joined_edition")
                       for name in (PARTICIPATION.name, AWARDS.name, ACTIONS.name) for r in recs.get(name, [])})
    return RegisterImport(path, False, [results[s.name] for s in SHEETS], editions,
                          unlinked_awards=planner.unlinked_awards, unmatched=read.unmatched), ops
