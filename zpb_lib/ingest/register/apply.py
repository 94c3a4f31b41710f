"""Carrying out the planned operations inside the import's transaction — new rows carry the
import's id, changes and removals are logged so that `zpb imports undo` puts them back — and
judging what removals would break, before and after."""
from __future__ import annotations

import datetime as dt
from typing import Any

from zpb_lib.core.text import pl_date
from zpb_lib.domain.scoring.lifecycle import CONTESTING, Frames, data_quality, participating_in, replay
from zpb_lib.ingest import Problems
from zpb_lib.ingest.register.layout import ACTIONS, AWARDS, PARTICIPATION, PARTNERS, REMOVE_HEADER
from zpb_lib.ingest.register.plan import Op, Partner
from zpb_lib.reference import Reference
from zpb_lib.store.backend import Connection
from zpb_lib.store.queries.audits import audit_of_award
from zpb_lib.store.queries.surveys import responses_per_edition
from zpb_lib.store.write import insert_one, remove_logged, update_logged


def _db_value(value: Any) -> Any:
    if isinstance(value, Partner):
        return value.id
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# Removals go after every addition and change, what points at others first (an action before the
# partner it names).
_REMOVAL_ORDER = (ACTIONS, AWARDS, PARTICIPATION, PARTNERS)


def apply_ops(con: Connection, ops: list[Op], import_id: int) -> None:
    for op in ops:
        if op.remove:
            continue
        values = {k: _db_value(v) for k, v in op.values.items() if not k.startswith("_")}
        if op.row_id is None:
            new_id = insert_one(con, op.sheet.table, {**values, "import_id": import_id})
            if "_partner" in op.values:
                op.values["_partner"].id = new_id  # actions of this file may name it
        else:
            update_logged(con, op.sheet.table, op.row_id, values, import_id)
    for sheet in _REMOVAL_ORDER:
        for op in ops:
            if op.remove and op.sheet is sheet:
                remove_logged(con, sheet.table, op.row_id, import_id)


class Consequences:
    """What removing participation periods and awards would break: the `zpb db check` problems of
    the institutions concerned after the import that they did not have before it (an audit or a
    survey outside any participation, an award the rules then deny), and awards an audit gives.
    Judged on the database as the import leaves it, inside its transaction."""

    def __init__(self, con: Connection, ref: Reference, ops: list[Op]):
        self.ref = ref
        self.ops = [op for op in ops if op.remove and op.sheet in (PARTICIPATION, AWARDS)]
        self.institutions = {op.rec.inst.id for op in self.ops}
        self.removed_awards = {op.row_id for op in self.ops if op.sheet is AWARDS}
        self.before = self._problems(con) if self.ops else {}

    def _problems(self, con: Connection) -> dict[tuple[str, int, str], tuple[int, str]]:
        """(table, row id, problem) → (institution, message) for the institutions concerned."""
        mine = self.institutions
        f = Frames.load(con)
        # The rules judge each institution on its own rows: those of the others can be left out.
        f.institutions = f.institutions[f.institutions["id"].isin(mine)]
        f.participation, f.audits, f.awards = (t[t["institution_id"].isin(mine)]
                                               for t in (f.participation, f.audits, f.awards))
        f.audit_items = f.audit_items[f.audit_items["audit_id"].isin(f.audits["id"])]
        out: dict[tuple[str, int, str], tuple[int, str]] = {}
        for r in data_quality(f, replay(f, self.ref), self.ref).itertuples(index=False):
            out[(r.table, int(r.key.split()[-1]), r.problem)] = (int(r.institution_id), r.message)
        for a in f.audits.itertuples(index=False):
            periods = f.participation[f.participation["institution_id"] == a.institution_id]
            if a.institution_id not in participating_in(periods, str(a.edition)):
                out[("audits", int(a.id), "outside")] = (int(a.institution_id), f"{a.kind} audit of {a.edition} "
                                                         "outside any participation period")
        for iid, edition, n in responses_per_edition(con, sorted(mine)):
            if iid not in participating_in(f.participation[f.participation["institution_id"] == iid], edition):
                out[("survey_responses", iid, f"outside {edition}")] = (iid, f"{n} survey response(s) of {edition} "
                                                                        "outside any participation period")
        return out

    def linked_awards(self, con: Connection, problems: Problems) -> None:
        """An award recorded as the result of an audit that gives it (the rules find nothing wrong
        with it) goes with that audit, not through the register."""
        for op in self.ops:
            if op.sheet is not AWARDS:
                continue
            row = audit_of_award(con, op.row_id)
            if row is None or any(("awards", op.row_id, c) in self.before for c in CONTESTING):
                continue
            kind, edition, date, import_id = row
            source = f"undo or replace its import #{import_id}" if import_id is not None else "correct the audit"
            problems.add(op.rec.mark.problem(
                f"award {op.label} cannot be removed: the {kind} audit of {edition} "
                f"({pl_date(dt.date.fromisoformat(date))}) gives it under the rules, and the award is recorded as "
                f"that audit's result; an award an audit gives goes with the audit ({source})"))

    def check(self, con: Connection, problems: Problems) -> None:
        """After the import's changes: each new problem is reported at the first row of its
        institution marked „Usuń”."""
        if not self.ops:
            return
        after = self._problems(con)
        new: dict[int, list[str]] = {}
        for key, (iid, message) in after.items():
            if key not in self.before and not (key[0] == "awards" and key[1] in self.removed_awards):
                new.setdefault(iid, []).append(message)
        for iid, messages in new.items():
            op = min((o for o in self.ops if o.rec.inst.id == iid), key=lambda o: (o.sheet.name, o.rec.raw.row))
            problems.add(op.rec.mark.problem(
                f"removing the row(s) of {op.rec.inst.label} marked „{REMOVE_HEADER}” would leave what depends on "
                f"them contradicting the programme's rules: {'; '.join(sorted(messages))}; mark those rows "
                f"„{REMOVE_HEADER}” as well, or correct them, or keep this row"))
