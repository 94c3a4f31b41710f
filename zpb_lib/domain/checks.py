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

from dataclasses import dataclass, field

from zpb_lib.reference.identifiers import label
from zpb_lib.reference import Reference, reference
from zpb_lib.domain.scoring.lifecycle import data_quality, replay
from zpb_lib.store.backend import Connection
from zpb_lib.store.frames import Frames
from zpb_lib.store.queries import checks as q

@dataclass(frozen=True)
class Problem:
    table: str
    key: str
    message: str
    # The internal id of the institution the row belongs to (None: the database as a whole), so that
    # a police unit's view keeps its own institutions' problems; not part of what the problem says.
    institution_id: int | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.table} {self.key}: {self.message}"


class _Names:
    """How people name the rows a problem is about: institutions by RSPO number or POL-on id,
    audits and awards by institution, kind and edition."""

    def __init__(self, con: Connection):
        self.inst = {r[0]: label(r[1], r[2]) or f"(institution without identifier, internal id {r[0]})"
                     for r in q.institution_identifiers(con)}
        self.audits = {r[0]: r[1:] for r in q.audit_keys(con)}
        self.awards = {r[0]: r[1:] for r in q.award_keys(con)}

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

    def audit_owner(self, aid: int) -> int | None:
        return self.audits[aid][0] if aid in self.audits else None

    def award_owner(self, wid: int) -> int | None:
        return self.awards[wid][0] if wid in self.awards else None


def check(con: Connection, ref: Reference | None = None) -> list[Problem]:
    ref = ref or reference()
    names = _Names(con)
    problems: list[Problem] = []
    for msg in q.integrity_errors(con):
        problems.append(Problem("database", "-", f"integrity: {msg}"))
    # Another tool may have written with the engine's foreign-key checks off.
    for table, row, parent in q.missing_references(con):
        problems.append(Problem(table, row, f"refers to a missing row of {parent}"))
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
    for wid in q.awards_without_audit(con):
        out.append(Problem("awards", names.award(wid), "recorded without an audit in the database (the register's "
                           "record; checked against the rules without points)", names.award_owner(wid)))
    return out


def _ranges(con: Connection, ref: Reference, names: _Names) -> list[Problem]:
    out = []
    for audit_id, crit, points, mx in q.points_out_of_range(con):
        msg = "criterion not in the audit's catalogue" if mx is None else f"{points} points, outside 0–{mx}"
        out.append(Problem("audit_items", f"{names.audit(audit_id)} criterion {crit}", msg,
                           names.audit_owner(audit_id)))
    for col, values in ref.survey_columns().items():
        allowed = ", ".join(str(v) for v in values)
        for iid, edition, grp, wave, v, n in q.answers_outside(con, col, values):
            out.append(Problem("survey_responses", f"{names.institution(iid)} {edition} {grp} {wave}",
                               f"{n} response(s) with {col} = {v!r}, expected one of {allowed}", iid))
    for aid, edition, date, lo, hi in q.audits_outside_window(con):
        out.append(Problem("audits", names.audit(aid), f"audit date {date} is outside edition {edition}'s audit window "
                           f"{lo}–{hi}" if lo else f"edition {edition} held no audits", names.audit_owner(aid)))
    for aid, inst, edition, kind, to in q.audits_of_ended_kinds(con):
        out.append(Problem("audits", names.audit(aid), f"{names.institution(inst)} is a {kind}, a kind that ended in "
                           f"{to}, audited in {edition}", inst))
    for inst, joined, left in q.participation_left_before_joining(con):
        out.append(Problem("participation", f"{names.institution(inst)} joined {joined}",
                           f"left in {left} before joining in {joined}", inst))
    for wid, a_on, until in q.awards_expiring_before_given(con):
        out.append(Problem("awards", names.award(wid), f"valid until {until}, not after the award date {a_on}",
                           names.award_owner(wid)))
    return out


def _participation(con: Connection, names: _Names) -> list[Problem]:
    """Audits and surveys belong to editions the institution takes part in."""
    out = []
    for aid, with_complex in q.audits_outside_participation(con):
        hint = ("; its complex takes part in this edition for its schools: an audit of the complex covers them, "
                "or record this school's own participation" if with_complex else "")
        out.append(Problem("audits", names.audit(aid), "the institution does not take part in the programme in "
                           f"this edition (no participation in the register covers it){hint}", names.audit_owner(aid)))
    # A school of a complex taking part answers surveys as the complex (zpb_lib.domain.complexes).
    for iid, edition, grp, wave, n in q.surveys_outside_participation(con):
        out.append(Problem("survey_responses", f"{names.institution(iid)} {edition} {grp} {wave}",
                           f"{n} response(s) in an edition the institution does not take part in", iid))
    return out


def _complex_awards(con: Connection, names: _Names) -> list[Problem]:
    """A certificate goes to a school or to its complex as a whole, never to both: the same award of
    the same edition held by a complex and one of its schools is a contradiction."""
    out = []
    for member_award, complex_award, c_rspo, c_name in q.awards_also_held_by_complex(con):
        out.append(Problem("awards", names.award(member_award),
                           f"its complex RSPO {c_rspo} („{c_name}”) holds the same award ({names.award(complex_award)}): "
                           "a certificate goes to a school or to its complex as a whole, not to both; remove the one "
                           "given in error (register sheet „Nagrody”, or `zpb imports undo`)",
                           names.award_owner(member_award)))
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
        out.append(Problem(r.table, key, r.message, int(r.institution_id)))
    return out
