"""From audit decision to recorded award: ``zpb awards confirm``.

An audit stores points; the rules say what they earn; an award exists once it is recorded (the legal
fact the lifecycle replays). This module lists the awards the rules grant for an edition's audits
that are not recorded yet and records them, after the analyst's review, as one import that
``zpb imports undo`` can take back. Awards decided otherwise go in through the register workbook.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field

import pandas as pd

from zpb_lib.core.errors import Refusal
from zpb_lib.core.text import cell_date
from zpb_lib.domain.institutions import Institution, by_ids
from zpb_lib.domain.scoring.rules import rules
from zpb_lib.reference import Reference, reference
from zpb_lib.domain.scoring.lifecycle import reason_texts, replay
from zpb_lib.domain.scoring.decisions import valid_until
from zpb_lib.store.rights import rights_of
from zpb_lib.store.write import import_transaction, insert_rows, record_import
from zpb_lib.store.backend import Connection
from zpb_lib.store.frames import Frames
from zpb_lib.store.queries.institutions import institution_of_audit

AWARD_NAMES_PL = {"certificate": "certyfikat", "extension": "przedłużenie", "leader": "tytuł Lidera Projektu",
                  "university_certificate": "certyfikat uczelni"}


class AwardsError(Refusal, ValueError):
    """The awards could not be confirmed as asked; nothing was stored."""


@dataclass(frozen=True)
class PendingAward:
    audit_id: int
    institution: Institution
    edition: str
    audit_kind: str
    audit_date: dt.date
    award_kind: str
    total: int
    max_total: int
    threshold: int
    valid_years: int | None


def outcomes(con: Connection, ref: Reference | None = None,
             institution_ids: list[int] | None = None) -> pd.DataFrame:
    """Every audit (of the given institutions) scored and decided under the rules in force, as
    :func:`zpb_lib.domain.scoring.lifecycle.replay` gives it."""
    frames = Frames.load(con)
    if institution_ids is not None:  # an institution's history depends on nothing else
        keep = set(institution_ids)
        audits = frames.audits[frames.audits["institution_id"].isin(keep)]
        frames = Frames(frames.institutions[frames.institutions["id"].isin(keep)],
                        frames.participation[frames.participation["institution_id"].isin(keep)], audits,
                        frames.audit_items[frames.audit_items["audit_id"].isin(audits["id"])],
                        frames.awards[frames.awards["institution_id"].isin(keep)])
    return replay(frames, ref or reference())


def pending(con: Connection, edition: str, ref: Reference | None = None) -> list[PendingAward]:
    """The awards the rules grant for ``edition``'s audits that are not recorded yet."""
    ref = ref or reference()
    scored = outcomes(con, ref)
    if scored.empty:
        return []
    due = scored[(scored["edition"] == edition) & (scored["kind"] != "control") & scored["granted"]
                 & scored["award_id"].isna()]
    insts = by_ids(con, [int(i) for i in due["institution_id"]])
    out = [PendingAward(int(r.audit_id), insts[int(r.institution_id)], edition, str(r.kind), r.audit_date.date(),
                        str(r.award_kind), int(r.total), int(r.max_total), int(r.threshold),
                        _valid_years(ref, insts[int(r.institution_id)].family, edition, str(r.award_kind), str(r.kind)))
           for r in due.itertuples(index=False)]
    return sorted(out, key=lambda p: (p.institution.county, p.institution.name))


def _valid_years(ref: Reference, family: str, edition: str, award_kind: str, audit_kind: str) -> int | None:
    rule = rules(ref.directory).for_edition(family, edition).rule_for_award(award_kind, audit_kind)
    return rule.valid_years if rule else None


def parse_date(text: str) -> dt.date:
    """A date written as 2026-10-15 or 15.10.2026."""
    found = cell_date(str(text))
    if found is None:
        raise AwardsError(f"{str(text).strip()!r} is not a date: write it as 2026-10-15 or 15.10.2026")
    return found


@dataclass
class ConfirmResult:
    edition: str
    awarded_on: dt.date
    awards: list[PendingAward]
    dry_run: bool
    import_id: int | None = None
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        if not self.awards and self.notes:
            return [f"edition {self.edition}: no award of your unit's institutions is left to record"] + \
                [f"  {n}" for n in self.notes]
        if not self.awards:
            return [f"edition {self.edition}: every award the rules grant for its audits is recorded; nothing to do"]
        out = [f"edition {self.edition}: {len(self.awards)} award(s) the rules grant for its audits are not "
               f"recorded yet (award date {self.awarded_on.isoformat()}):"]
        for p in self.awards:
            until = valid_until(self.awarded_on, p.valid_years)
            out.append(f"  {p.institution.label:<14} {p.institution.name} — {AWARD_NAMES_PL.get(p.award_kind, p.award_kind)}"
                       f" ({p.total}/{p.max_total} pts, threshold {p.threshold}; {p.audit_kind} audit of "
                       f"{p.audit_date.isoformat()}), valid {'until ' + until.isoformat() if until else 'indefinitely'}")
        out.extend(f"  {n}" for n in self.notes)
        if self.dry_run:
            out.append(f"dry run: nothing was stored; record them with `zpb awards confirm --edition {self.edition}`")
        else:
            out.append(f"recorded {len(self.awards)} award(s) as import #{self.import_id} "
                       f"(to take them back: `zpb imports undo {self.import_id}`); next: "
                       f"`zpb build --edition {self.edition}`")
        return out


def confirm(con: Connection, edition: str, *, date: str | dt.date | None = None, dry_run: bool = False,
            ref: Reference | None = None) -> ConfirmResult:
    """Record the awards the rules grant for ``edition``'s audits (see :func:`pending`) in one
    transaction, dated ``date`` (default: the edition's ceremony day)."""
    ref = ref or reference()
    try:
        edition = ref.edition_of(edition)
    except KeyError as exc:
        raise AwardsError(exc.args[0]) from None
    e = ref.editions[edition]
    if not e.held:
        raise AwardsError(f"edition {edition} was not held (the programme was suspended): it has no audits")
    on = date if isinstance(date, dt.date) else parse_date(date) if date else e.ceremony
    if on is None:
        raise AwardsError(f"edition {edition} has no ceremony date: give one with --date")
    latest = dt.date(e.start_year + 2, 12, 31)
    if not e.audit_from <= on <= latest:
        raise AwardsError(f"award date {on.isoformat()} is outside {e.audit_from.isoformat()}–{latest.isoformat()}, "
                          f"the time in which edition {edition}'s awards are given")
    result = ConfirmResult(edition, on, [], dry_run)
    rights = rights_of(con)
    if not rights.writes:
        raise AwardsError(f"{rights.who()} records no awards in this database")
    with import_transaction(con):
        result.awards = pending(con, edition, ref)
        others = [p for p in result.awards if not rights.may_change(p.institution.county)]
        if others:  # a police unit confirms its own institutions' awards; the rest are left to others
            result.awards = [p for p in result.awards if rights.may_change(p.institution.county)]
            result.notes.append(f"{len(others)} award(s) of other police units' institutions are left to them or an "
                                f"analyst ({rights.who()})")
        late = [p for p in result.awards if p.audit_date > on]
        if late:
            raise AwardsError(f"award date {on.isoformat()} is before the audit of {late[0].institution.label} "
                              f"({late[0].audit_date.isoformat()}): give a later --date")
        if result.awards and not dry_run:
            listing = json.dumps([(p.audit_id, p.award_kind) for p in result.awards])
            digest = hashlib.sha256(f"{edition}|{on}|{listing}".encode()).hexdigest()
            details = json.dumps({"edition": edition, "awarded_on": on.isoformat(),
                                  "awards": [{"institution": p.institution.ident, "kind": p.award_kind,
                                              "audit_id": p.audit_id} for p in result.awards]}, ensure_ascii=False)
            result.import_id = record_import(con, "awards", f"zpb awards confirm {edition}", digest,
                                             len(result.awards), details)
            insert_rows(con, "awards", ("institution_id", "kind", "edition", "audit_id", "awarded_on", "valid_until",
                                        "import_id"),
                        [(p.institution.id, p.award_kind, edition, p.audit_id, on.isoformat(),
                          (lambda u: u.isoformat() if u else None)(valid_until(on, p.valid_years)), result.import_id)
                         for p in result.awards])
    return result


def audit_outcome_lines(con: Connection, audit_id: int, ref: Reference | None = None) -> list[str]:
    """What an imported audit earns under the rules, and what to do next, in plain words."""
    ref = ref or reference()
    inst_id = institution_of_audit(con, audit_id)
    if inst_id is None:
        return []
    scored = outcomes(con, ref, [inst_id])
    row = scored[scored["audit_id"] == audit_id]
    if row.empty:
        return []
    r = row.iloc[0]
    pts = f"{int(r['total'])} of {int(r['max_total'])} points"
    if r["kind"] == "control":
        verdict = "positive" if r["granted"] else "negative"
        why = "" if r["granted"] else ": " + "; ".join(reason_texts(r["reasons"]))
        return [f"outcome: a {verdict} control audit ({pts}, at least {int(r['threshold'])} needed){why}"]
    award = AWARD_NAMES_PL.get(str(r["award_kind"]), str(r["award_kind"]))
    if r["granted"]:
        if pd.notna(r["award_id"]):
            return [f"outcome: the rules grant a {r['award_kind']} ({award}; {pts}); it is already recorded"]
        return [f"outcome: the rules grant a {r['award_kind']} ({award}; {pts}, threshold {int(r['threshold'])}).",
                f"next: after review, record it with `zpb awards confirm --edition {r['edition']}` (until then the "
                "school's status and the reports do not count it)"]
    reasons = "; ".join(reason_texts(r["reasons"])) or "no rule gives an award for this audit"
    return [f"outcome: no award ({pts}): {reasons}"]

