"""``zpb db check``: validate any database, ours or one filled by other tools, and list every problem
as one line (table, the row as people name it, what is wrong). Constraints in the schema stop most
bad rows at the door; this check also catches what SQL cannot express: awards that contradict the
rules or the audits (the register is the official record, so such an award is stored and listed
here), audits and surveys outside an institution's participation, positive audits whose award was
never recorded, and a school of a complex holding the same award as its complex.

Besides the problems, :func:`notes` lists what is not wrong but worth a look: awards recorded without
an audit in the database (most of the programme's history comes from the register alone), which the
rules can judge only without points."""
from __future__ import annotations

from dataclasses import dataclass

from zpb_lib.reference.identifiers import label
from zpb_lib.reference import Reference, reference
from zpb_lib.domain.scoring.lifecycle import Frames, data_quality, replay
from zpb_lib.store.backend import SQLITE, Connection

_PARTICIPATES = ("EXISTS (SELECT 1 FROM participation p WHERE p.institution_id = {t}.institution_id "
                 "AND p.joined_edition <= {t}.edition AND (p.left_edition IS NULL OR p.left_edition >= {t}.edition))")
# The complex of {t}'s institution takes part in {t}'s edition (zpb_lib.domain.complexes: its schools take
# part with it, and their survey answers are the complex's).
_COMPLEX_PARTICIPATES = (
    "EXISTS (SELECT 1 FROM institutions m JOIN institutions c ON c.rspo = m.parent_rspo AND c.kind = 'complex' "
    "AND c.id <> m.id JOIN participation p ON p.institution_id = c.id WHERE m.id = {t}.institution_id "
    "AND m.kind <> 'complex' AND p.joined_edition <= {t}.edition "
    "AND (p.left_edition IS NULL OR p.left_edition >= {t}.edition))")


@dataclass(frozen=True)
class Problem:
    table: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.table} {self.key}: {self.message}"


class _Names:
    """How people name the rows a problem is about: institutions by RSPO number or POL-on id,
    audits and awards by institution, kind and edition."""

    def __init__(self, con: Connection):
        self.inst = {r[0]: label(r[1], r[2]) or f"(institution without identifier, internal id {r[0]})"
                     for r in con.execute("SELECT id, rspo, polon FROM institutions")}
        self.audits = {r[0]: r[1:] for r in con.execute("SELECT id, institution_id, kind, edition FROM audits")}
        self.awards = {r[0]: r[1:] for r in con.execute("SELECT id, institution_id, kind, edition FROM awards")}

    def institution(self, iid: int) -> str:
        return self.inst.get(iid, f"(missing institution, internal id {iid})")

    def audit(self, aid: int) -> str:
        if aid not in self.audits:
            return f"(missing audit, internal id {aid})"
        iid, kind, edition = self.audits[aid]
        return f"{self.institution(iid)} {kind} audit {edition}"

    def award(self, wid: int) -> str:
        iid, kind, edition = self.awards[wid]
        return f"{self.institution(iid)} {kind} {edition}"


def check(con: Connection, ref: Reference | None = None) -> list[Problem]:
    ref = ref or reference()
    names = _Names(con)
    problems: list[Problem] = []
    if con.backend == SQLITE:
        # SQLite checks foreign keys only while they are switched on (another tool may not).
        for (msg,) in con.execute("PRAGMA integrity_check"):
            if msg != "ok":
                problems.append(Problem("database", "-", f"integrity: {msg}"))
        for table, rowid, parent, fk in con.execute("PRAGMA foreign_key_check"):
            problems.append(Problem(table, f"rowid {rowid}", f"refers to a missing row of {parent}"))
    else:
        problems += _orphans(con)
    problems += _ranges(con, ref, names)
    problems += _participation(con, names)
    problems += _awards(con, ref, names)
    problems += _complex_awards(con, names)
    return problems


def notes(con: Connection) -> list[Problem]:
    """Awards recorded without an audit of their edition in the database (``audit_id`` empty, or
    naming an audit that is not there): stored as the register says, and judged by :func:`check`
    against the rules without points; listed so that someone can compare them with the paper record."""
    names = _Names(con)
    out = []
    for wid, in con.execute("SELECT w.id FROM awards w JOIN institutions i ON i.id = w.institution_id "
                            "WHERE w.audit_id IS NULL OR NOT EXISTS (SELECT 1 FROM audits a WHERE a.id = w.audit_id) "
                            "ORDER BY w.edition, w.kind, w.id"):
        out.append(Problem("awards", names.award(wid), "recorded without an audit in the database (the register's "
                           "record; checked against the rules without points)"))
    return out


def _orphans(con: Connection) -> list[Problem]:
    """Rows whose foreign key names a missing row: PostgreSQL never lets one in, unless its checks
    were switched off (``session_replication_role``, a restore without them)."""
    from zpb_lib.store.frames import tables

    out = []
    inspector = con.inspector()
    for table in tables(con):
        key = "id" if "id" in {c["name"] for c in inspector.get_columns(table)} else None
        for fk in inspector.get_foreign_keys(table):
            cols, parent, ref_cols = fk["constrained_columns"], fk["referred_table"], fk["referred_columns"]
            match = " AND ".join(f"p.{r} = t.{c}" for c, r in zip(cols, ref_cols))
            present = " AND ".join(f"t.{c} IS NOT NULL" for c in cols)
            for (row_key,) in con.execute(f"SELECT {'t.' + key if key else 'NULL'} FROM {table} t WHERE {present} "
                                          f"AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE {match})"):
                out.append(Problem(table, f"id {row_key}" if key else "-", f"refers to a missing row of {parent}"))
    return out


def _ranges(con: Connection, ref: Reference, names: _Names) -> list[Problem]:
    out = []
    q = """SELECT ai.audit_id, ai.criterion, ai.points, c.max_points FROM audit_items ai
           JOIN audits a ON a.id = ai.audit_id
           LEFT JOIN criteria c ON c.catalogue = a.catalogue AND c.criterion = ai.criterion
           WHERE c.max_points IS NULL OR ai.points > c.max_points OR ai.points < 0"""
    for audit_id, crit, points, mx in con.execute(q):
        msg = "criterion not in the audit's catalogue" if mx is None else f"{points} points, outside 0–{mx}"
        out.append(Problem("audit_items", f"{names.audit(audit_id)} criterion {crit}", msg))
    for col, values in ref.survey_columns().items():
        allowed = ", ".join(str(v) for v in values)
        for iid, edition, grp, wave, v, n in con.execute(
                f"SELECT institution_id, edition, grp, wave, {col}, COUNT(*) FROM survey_responses "
                f"WHERE {col} IS NOT NULL AND {col} NOT IN ({allowed}) GROUP BY 1, 2, 3, 4, 5"):
            out.append(Problem("survey_responses", f"{names.institution(iid)} {edition} {grp} {wave}",
                               f"{n} response(s) with {col} = {v!r}, expected one of {allowed}"))
    for aid, edition, date, lo, hi in con.execute(
            """SELECT a.id, a.edition, a.audit_date, e.audit_from, e.audit_to FROM audits a
               JOIN editions e ON e.edition = a.edition
               WHERE e.held = 0 OR a.audit_date NOT BETWEEN e.audit_from AND e.audit_to"""):
        out.append(Problem("audits", names.audit(aid), f"audit date {date} is outside edition {edition}'s audit window "
                           f"{lo}–{hi}" if lo else f"edition {edition} held no audits"))
    for aid, inst, edition, kind, to in con.execute(
            """SELECT a.id, a.institution_id, a.edition, i.kind, k.exists_to FROM audits a
               JOIN institutions i ON i.id = a.institution_id JOIN institution_kinds k ON k.code = i.kind
               JOIN editions e ON e.edition = a.edition
               WHERE k.exists_to IS NOT NULL AND e.start_year + 1 > k.exists_to"""):
        out.append(Problem("audits", names.audit(aid), f"{names.institution(inst)} is a {kind}, a kind that ended in "
                           f"{to}, audited in {edition}"))
    for inst, joined, left in con.execute(
            "SELECT institution_id, joined_edition, left_edition FROM participation "
            "WHERE left_edition IS NOT NULL AND left_edition < joined_edition"):
        out.append(Problem("participation", f"{names.institution(inst)} joined {joined}",
                           f"left in {left} before joining in {joined}"))
    for wid, a_on, until in con.execute("SELECT id, awarded_on, valid_until FROM awards "
                                        "WHERE valid_until IS NOT NULL AND valid_until <= awarded_on"):
        out.append(Problem("awards", names.award(wid), f"valid until {until}, not after the award date {a_on}"))
    return out


def _participation(con: Connection, names: _Names) -> list[Problem]:
    """Audits and surveys belong to editions the institution takes part in."""
    out = []
    for aid, with_complex in con.execute(
            f"SELECT id, {_COMPLEX_PARTICIPATES.format(t='a')} FROM audits a WHERE NOT {_PARTICIPATES.format(t='a')} "
            "AND a.institution_id IN (SELECT id FROM institutions)"):
        hint = ("; its complex takes part in this edition for its schools: an audit of the complex covers them, "
                "or record this school's own participation" if with_complex else "")
        out.append(Problem("audits", names.audit(aid), "the institution does not take part in the programme in "
                           f"this edition (no participation in the register covers it){hint}"))
    # A school of a complex taking part answers surveys as the complex (zpb_lib.domain.complexes).
    for iid, edition, grp, wave, n in con.execute(
            f"SELECT institution_id, edition, grp, wave, COUNT(*) FROM survey_responses r "
            f"WHERE NOT {_PARTICIPATES.format(t='r')} AND NOT {_COMPLEX_PARTICIPATES.format(t='r')} "
            "AND r.institution_id IN (SELECT id FROM institutions) GROUP BY 1, 2, 3, 4"):
        out.append(Problem("survey_responses", f"{names.institution(iid)} {edition} {grp} {wave}",
                           f"{n} response(s) in an edition the institution does not take part in"))
    return out


def _complex_awards(con: Connection, names: _Names) -> list[Problem]:
    """A certificate goes to a school or to its complex as a whole, never to both: the same award of
    the same edition held by a complex and one of its schools is a contradiction."""
    out = []
    for member_award, complex_award, c_rspo, c_name in con.execute(
            "SELECT w.id, cw.id, c.rspo, c.name FROM awards w JOIN institutions m ON m.id = w.institution_id "
            "JOIN institutions c ON c.rspo = m.parent_rspo AND c.kind = 'complex' AND c.id <> m.id "
            "JOIN awards cw ON cw.institution_id = c.id AND cw.kind = w.kind AND cw.edition = w.edition "
            "WHERE m.kind <> 'complex' ORDER BY m.rspo, w.edition, w.kind"):
        out.append(Problem("awards", names.award(member_award),
                           f"its complex RSPO {c_rspo} („{c_name}”) holds the same award ({names.award(complex_award)}): "
                           "a certificate goes to a school or to its complex as a whole, not to both; remove the one "
                           "given in error (register sheet „Nagrody”, or `zpb imports undo`)"))
    return out


def _awards(con: Connection, ref: Reference, names: _Names) -> list[Problem]:
    """Every award must follow from a positive audit under the rules in force in its edition, with
    the validity the rules give; every positive audit must have its award recorded."""
    frames = Frames.load(con)
    quality = data_quality(frames, replay(frames, ref), ref)
    out = []
    for r in quality.itertuples(index=False):
        ident = int(r.key.split()[-1])
        key = names.award(ident) if r.table == "awards" else names.audit(ident)
        out.append(Problem(r.table, key, r.message))
    return out
