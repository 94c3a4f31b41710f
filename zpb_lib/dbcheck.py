"""``zpb db check``: validate any database, ours or one filled by other tools, and list every problem
as one line (table, key, what is wrong). Constraints in the schema stop most bad rows at the door;
this check also catches what SQL cannot express: awards that the rules do not give."""
from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

import pandas as pd

from .reference import Reference, reference
from .scoring import decide, rules as load_rules, score_audit, valid_until, years_in_programme
from .store import load


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
    """Every award must follow from a positive audit under the rules in force in its edition."""
    rules = load_rules(ref.directory)
    out: list[Problem] = []
    insts = load(con, "institutions").set_index("id")
    kinds = {k.code: k.family for k in ref.kinds.values()}
    audits = load(con, "audits").set_index("id")
    items = load(con, "audit_items")
    points = {aid: dict(zip(g["criterion"].astype(str), g["points"].astype(int)))
              for aid, g in items.groupby("audit_id", sort=False)}
    awards = load(con, "awards").sort_values(["institution_id", "awarded_on", "id"])
    joined = load(con, "participation").groupby("institution_id")["joined_edition"].min()
    for award in awards.itertuples(index=False):
        key = f"id {award.id}"
        family = kinds.get(str(insts.at[award.institution_id, "kind"])) if award.institution_id in insts.index else None
        if family is None:
            continue  # reported by the foreign-key check
        rs = rules.for_edition(family, str(award.edition))
        if pd.isna(award.audit_id) or int(award.audit_id) not in audits.index:
            out.append(Problem("awards", key, f"{award.kind} for institution {award.institution_id} has no audit"))
            continue
        audit = audits.loc[int(award.audit_id)]
        if audit.institution_id != award.institution_id or str(audit.edition) != str(award.edition):
            out.append(Problem("awards", key, f"its audit {award.audit_id} is of another institution or edition"))
            continue
        rule = rs.rule_for_award(str(award.kind), str(audit.kind))
        if rule is None:
            out.append(Problem("awards", key, f"a {audit.kind} audit cannot give a {award.kind} "
                               f"under the rules valid from {rs.valid_from}"))
            continue
        cat = ref.catalogues[str(audit.catalogue)]
        score = score_audit(cat, _known(cat, points.get(int(award.audit_id), {})), rs.mandatory_min_points)
        audit_date = audit.audit_date.date()
        held = _held(awards, award.institution_id, audit_date)
        join = joined.get(award.institution_id)
        years = years_in_programme(int(str(join)[:4]), audit_date) if join is not None and not pd.isna(join) else 0
        controls = _positive_controls(audits, points, ref, rules, kinds, family, award.institution_id, awards, audit_date)
        decision = decide(rs, str(audit.kind), score, held=held, years=years, positive_controls=controls)
        if not decision.granted:
            out.append(Problem("awards", key, f"{award.kind} without a positive audit: "
                               + "; ".join(_reason_text(r) for r in decision.reasons)))
        awarded_on = award.awarded_on.date()
        expected = valid_until(awarded_on, rule.valid_years)
        actual = None if pd.isna(award.valid_until) else award.valid_until.date()
        if expected != actual:
            out.append(Problem("awards", key, f"valid until {actual or 'indefinitely'}, the rules give "
                               f"{expected or 'indefinitely'} ({rule.valid_years or 'no'} years from {awarded_on})"))
    return out


def _held(awards: pd.DataFrame, inst: int, on: dt.date) -> frozenset[str]:
    mine = awards[awards["institution_id"] == inst]
    ts = pd.Timestamp(on)
    valid = mine[(mine["awarded_on"] <= ts) & (mine["valid_until"].isna() | (mine["valid_until"] > ts))]
    return frozenset(str(k) for k in valid["kind"])


def _positive_controls(audits, points, ref, rules, kinds, family, inst, awards, before: dt.date) -> int:
    """Positive control audits after the institution's latest award before ``before``."""
    ts = pd.Timestamp(before)
    mine = awards[(awards["institution_id"] == inst) & (awards["awarded_on"] < ts)]
    since = mine["awarded_on"].max() if len(mine) else pd.Timestamp.min
    ctrl = audits[(audits["institution_id"] == inst) & (audits["kind"] == "control")
                  & (audits["audit_date"] > since) & (audits["audit_date"] < ts)]
    n = 0
    for aid, a in ctrl.iterrows():
        rs = rules.for_edition(family, str(a.edition))
        cat = ref.catalogues[str(a.catalogue)]
        score = score_audit(cat, _known(cat, points.get(aid, {})), rs.mandatory_min_points)
        n += decide(rs, "control", score).granted
    return n


def _known(cat, points: dict[str, int]) -> dict[str, int]:
    """Points of the catalogue's own criteria (unknown ones are reported separately)."""
    ids = {c.id for c in cat.criteria}
    return {k: v for k, v in points.items() if k in ids}


def _reason_text(r) -> str:
    return {
        "mandatory_failed": f"mandatory criteria not met: {', '.join(r.items)}",
        "required_failed": f"required criteria not met: {', '.join(r.items)}",
        "points_short": f"{r.value} points short of the threshold",
        "years_short": f"{r.value} year(s) short of the years in the programme required",
        "controls_short": f"{r.value} positive control audit(s) missing",
        "requires": f"requires a valid {' or '.join(r.items)}",
        "no_rule": "no rule for this audit kind",
    }.get(r.code, r.code)
