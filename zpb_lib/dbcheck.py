"""``zpb db check``: validate any database, ours or one filled by other tools, and list every problem
as one line (table, key, what is wrong). Constraints in the schema stop most bad rows at the door;
this check also catches what SQL cannot express: awards that the rules do not give."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from .reference import Reference, reference
from .scoring.lifecycle import Frames, data_quality, replay


@dataclass(frozen=True)
class Problem:
    table: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.table} {self.key}: {self.message}"


def check(con: sqlite3.Connection, ref: Reference | None = None) -> list[Problem]:
    ref = ref or reference()
    problems: list[Problem] = []
    for (msg,) in con.execute("PRAGMA integrity_check"):
        if msg != "ok":
            problems.append(Problem("database", "-", f"integrity: {msg}"))
    for table, rowid, parent, fk in con.execute("PRAGMA foreign_key_check"):
        problems.append(Problem(table, f"rowid {rowid}", f"refers to a missing row of {parent}"))
    problems += _ranges(con, ref)
    problems += _awards(con, ref)
    return problems


def _ranges(con: sqlite3.Connection, ref: Reference) -> list[Problem]:
    out = []
    q = """SELECT ai.audit_id, ai.criterion, ai.points, c.max_points FROM audit_items ai
           JOIN audits a ON a.id = ai.audit_id
           LEFT JOIN criteria c ON c.catalogue = a.catalogue AND c.criterion = ai.criterion
           WHERE c.max_points IS NULL OR ai.points > c.max_points OR ai.points < 0"""
    for audit_id, crit, points, mx in con.execute(q):
        msg = "criterion not in the audit's catalogue" if mx is None else f"{points} points, outside 0–{mx}"
        out.append(Problem("audit_items", f"audit {audit_id} criterion {crit}", msg))
    for col, values in ref.survey_columns().items():
        allowed = ", ".join(str(v) for v in values)
        for rid, v in con.execute(f"SELECT id, {col} FROM survey_responses WHERE {col} IS NOT NULL "
                                  f"AND {col} NOT IN ({allowed})"):
            out.append(Problem("survey_responses", f"id {rid}", f"{col} = {v!r}, expected one of {allowed}"))
    for aid, edition, date, lo, hi in con.execute(
            """SELECT a.id, a.edition, a.audit_date, e.audit_from, e.audit_to FROM audits a
               JOIN editions e ON e.edition = a.edition
               WHERE e.held = 0 OR a.audit_date NOT BETWEEN e.audit_from AND e.audit_to"""):
        out.append(Problem("audits", f"id {aid}", f"audit date {date} is outside edition {edition}'s audit window {lo}–{hi}"
                           if lo else f"edition {edition} held no audits"))
    for aid, inst, edition, kind, to in con.execute(
            """SELECT a.id, a.institution_id, a.edition, i.kind, k.exists_to FROM audits a
               JOIN institutions i ON i.id = a.institution_id JOIN institution_kinds k ON k.code = i.kind
               JOIN editions e ON e.edition = a.edition
               WHERE k.exists_to IS NOT NULL AND e.start_year + 1 > k.exists_to"""):
        out.append(Problem("audits", f"id {aid}", f"institution {inst} is a {kind}, a kind that ended in {to}, "
                           f"audited in {edition}"))
    for pid, inst, joined, left in con.execute(
            "SELECT id, institution_id, joined_edition, left_edition FROM participation "
            "WHERE left_edition IS NOT NULL AND left_edition < joined_edition"):
        out.append(Problem("participation", f"id {pid}", f"left in {left} before joining in {joined}"))
    for aid, a_on, until in con.execute("SELECT id, awarded_on, valid_until FROM awards "
                                        "WHERE valid_until IS NOT NULL AND valid_until <= awarded_on"):
        out.append(Problem("awards", f"id {aid}", f"valid until {until}, not after the award date {a_on}"))
    return out


def _awards(con: sqlite3.Connection, ref: Reference) -> list[Problem]:
    """Every award must follow from a positive audit under the rules in force in its edition, with
    the validity the rules give; every positive audit must have its award recorded."""
    frames = Frames.load(con)
    quality = data_quality(frames, replay(frames, ref), ref)
    return [Problem(r.table, r.key, r.message) for r in quality.itertuples(index=False)]
