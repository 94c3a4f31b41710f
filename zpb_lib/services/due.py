"""„Mój powiat — what is due”: a coordinator's desk for the counties of a police unit (an analyst: any
unit, or all counties).

Every institution of those counties with its stage, valid-to date and last audit, and what the
programme's rules make due in the edition (:mod:`zpb_lib.domain.due`): audits to plan (certification,
re-audit, Lider candidates), certificates expiring within a chosen number of months, surveys missing,
awards the rules grant that nobody has recorded (:func:`zpb_lib.domain.awards.pending`) and the
contradictions ``zpb db check`` finds (:func:`zpb_lib.domain.checks.check`).

Stages and certificates are those of ``today``; the key figures (:attr:`Desk.figures`) are the county
report's for the edition, computed with the cube's own code on the report's day, so the page and the
report show the same numbers for the same data version. All of it is read in one snapshot.

A police unit's role reads every county (row-level security limits what it changes, not what it
reads), so the desk itself keeps to the unit's counties: :func:`desk` without a unit gives a unit's
role its own, and refuses another unit's.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from zpb_lib import store
from zpb_lib.core import fmt
from zpb_lib.core.errors import ZpbError
from zpb_lib.core.memo import Memo
from zpb_lib.domain import complexes
from zpb_lib.domain.awards import pending
from zpb_lib.domain.checks import check
from zpb_lib.domain.cube import as_of_date, audits_table, history_upto, institution_table, summary_by_county, \
    with_complexes
from zpb_lib.domain.due import KINDS, AuditDue, audits_due, survey_counts, window_opens
from zpb_lib.domain.labels import label
from zpb_lib.domain.scoring.lifecycle import accepted_awards, data_quality, renewals_due, replay, status_on
from zpb_lib.domain.scoring.rules import rules as load_rules
from zpb_lib.reference import Reference, reference
from zpb_lib.services import due_xlsx
from zpb_lib.services.imports import Db
from zpb_lib.store.backend import Connection
from zpb_lib.store.frames import Frames
from zpb_lib.store.queries.meta import is_synthetic
from zpb_lib.store.queries.surveys import respondents
from zpb_lib.store.rights import Rights, rights_of

__all__ = ["KINDS", "Desk", "DeskError", "DeskRow", "DueItem", "Figures", "LastAudit", "SurveyDue", "desk",
           "to_xlsx"]


class DeskError(ZpbError, ValueError):
    """The desk cannot be shown as asked (an unknown unit or edition, another unit's counties)."""


@dataclass(frozen=True)
class DueItem:
    """One thing due: of which kind (:data:`KINDS`), for which institution, and a short detail in
    Polish and English. A contradiction of the database as a whole has no institution."""
    kind: str
    ident: str | None  # RSPO number or POL-on id
    name: str | None
    county: str | None  # TERYT
    detail_pl: str
    detail_en: str

    def detail(self, lang: str = "pl") -> str:
        return self.detail_en if lang == "en" else self.detail_pl


@dataclass(frozen=True)
class SurveyDue:
    """One survey (group and wave) of an institution taking part in the edition, with the
    respondents so far and, where the register knows the group's size, the response rate."""
    ident: str
    name: str
    county: str  # TERYT
    group: str  # students, parents or teachers
    wave: str  # baseline or follow-up
    respondents: int
    pupils: int | None = None  # the group's size (the register knows the number of pupils only)

    @property
    def missing(self) -> bool:
        return self.respondents == 0

    @property
    def rate(self) -> float | None:
        """Respondents per member of the group (None when its size is unknown)."""
        if not self.pupils:
            return None
        return self.respondents / self.pupils


@dataclass(frozen=True)
class LastAudit:
    edition: str
    kind: str  # certification, reaudit, control or leader
    date: dt.date
    total: int
    max_total: int


@dataclass(frozen=True)
class DeskRow:
    """One institution of the desk's counties (existing in the edition's school year, or taking part)."""
    ident: str  # RSPO number or POL-on id
    name: str
    locality: str
    county: str  # TERYT
    kind: str  # institution kind code
    in_register: bool
    taking_part: bool  # in the edition (a school of a complex: with it, or on its own)
    joined_edition: str | None  # taking part since
    stage: str  # status code on the desk's day (zpb_lib.domain.scoring.lifecycle.STATUSES)
    via_complex: bool  # the stage is its complex's
    valid_until: dt.date | None  # of the award that gives the stage
    last_audit: LastAudit | None
    due: tuple[DueItem, ...] = ()


@dataclass(frozen=True)
class Figures:
    """A county's key figures as the county report shows them (participants: a complex with its
    schools counts once)."""
    institutions: int
    participating: int
    certified: int
    extended: int
    leaders: int
    valid_awards: int
    audits: int
    granted: int

    def __add__(self, other: "Figures") -> "Figures":
        return Figures(*(a + b for a, b in zip(self.values(), other.values())))

    def values(self) -> tuple[int, ...]:
        return (self.institutions, self.participating, self.certified, self.extended, self.leaders,
                self.valid_awards, self.audits, self.granted)


FIGURES = ("institutions", "participating", "certified", "extended", "leaders", "valid_awards", "audits", "granted")


@dataclass
class Desk:
    edition: str
    today: dt.date
    months: int
    as_of: dt.date  # the day the county report's figures describe
    units: frozenset[str] | None  # the police units the desk covers (None: every county)
    counties: tuple[str, ...]  # TERYT codes
    rows: list[DeskRow]
    items: list[DueItem]
    surveys: list[SurveyDue]  # of the institutions taking part on their own
    figures: dict[str, Figures]  # per county (TERYT)
    data_version: str
    synthetic: bool

    def counts(self) -> dict[str, int]:
        """Items per kind, every kind of :data:`KINDS` in its order (0 when none)."""
        out = dict.fromkeys(KINDS, 0)
        for item in self.items:
            out[item.kind] += 1
        return out

    def totals(self) -> Figures:
        """The key figures summed over the desk's counties."""
        total = Figures(*([0] * len(FIGURES)))
        for f in self.figures.values():
            total = total + f
        return total


# --------------------------------------------------------------------------- scope

def _unit_code(ref: Reference, unit: str) -> str:
    wanted = str(unit).strip().upper()
    if wanted not in ref.police_units:
        raise DeskError(f"unknown police unit {unit!r}: give its code, one of {', '.join(ref.police_units)}")
    return wanted


def _scope(ref: Reference, rights: Rights, unit: str | None) -> tuple[frozenset[str] | None, tuple[str, ...]]:
    """The police units and the counties the desk covers for this login."""
    own = None if rights.everything or not rights.units else rights.units
    if unit is None:
        units = own
    else:
        code = _unit_code(ref, unit)
        if own is not None and code not in own:
            raise DeskError(f"{rights.who()} sees the desk of its own unit's counties only, not of {code}")
        units = frozenset([code])
    counties = tuple(t for t, c in ref.counties.items() if units is None or c.police_unit in units)
    return units, counties


def _edition(ref: Reference, edition: str | None) -> str:
    if not edition:
        return ref.current_edition().edition
    try:
        e = ref.edition(ref.edition_of(edition))
    except KeyError as exc:
        raise DeskError(exc.args[0]) from None
    if not e.held:
        raise DeskError(f"edition {e.edition} was not held (the programme was suspended): nothing is due in it")
    return e.edition


# --------------------------------------------------------------------------- the desk

_DESKS: Memo[Desk] = Memo(64)  # by data version and what was asked
_CHECKS: Memo[list] = Memo(4)  # `zpb db check` of the whole database, by data version: every unit's desk lists its part

def desk(db: Db, *, unit: str | None = None, edition: str | None = None, months: int = 6,
         today: dt.date | None = None) -> Desk:
    """The desk of ``unit``'s counties (None: the connected login's unit, or every county for an
    analyst, a reader or a SQLite file) for ``edition`` (default: the latest held) on ``today``;
    certificates expiring within ``months`` months."""
    ref = reference()
    edition = _edition(ref, edition)
    if months < 0:
        raise DeskError(f"months must be 0 or more, got {months}")
    today = today or dt.date.today()
    with store.snapshot(db) as (con, version):
        units, counties = _scope(ref, rights_of(con), unit)
        # The same for whoever may ask (a unit's role reads every county): kept per data version,
        # so a unit's twenty coordinators opening it at once compute it once.
        # (The database's name too: copies of one file share its identity and may reach the same count.)
        name = str(store.locate(db))
        key = (name, version, ref.directory, units, counties, edition, months, today)
        return _DESKS.get(key, lambda: _compute(con, ref, edition, months, today, units, counties, version, name))


def _compute(con: Connection, ref: Reference, edition: str, months: int, today: dt.date,
             units: frozenset[str] | None, counties: tuple[str, ...], version: str, db_name: str) -> Desk:
    rules = load_rules(ref.directory)
    as_of = as_of_date(ref, edition)
    frames = history_upto(Frames.load(con), ref, edition)
    scored = replay(frames, ref, rules)
    problems = data_quality(frames, scored, ref, rules, as_of=as_of)
    accepted = replace(frames, awards=accepted_awards(frames.awards, problems))
    members = complexes.units(frames.institutions, frames.participation, edition)

    # The county report's figures: the cube's tables on the report's day.
    reported = with_complexes(institution_table(frames, status_on(accepted, as_of), scored, ref, edition), members)
    audits = audits_table(scored, reported.set_index("id")) if len(scored) else \
        pd.DataFrame(columns=["edition", "county", "kind", "granted", "share"])
    summary = summary_by_county(reported, audits, edition, list(counties)).set_index("county")
    figures = {t: Figures(*(int(summary.at[t, k]) for k in FIGURES)) for t in counties}

    # Stages on the desk's day.
    status = status_on(accepted, today)
    inst = with_complexes(institution_table(frames, status, scored, ref, edition), members)
    inst = inst[inst["county"].isin(counties)]
    mine = set(inst["id"].astype(int))
    shown = inst[inst["exists"] | inst["in_edition"]].sort_values(["county", "name", "ident"])
    by_id = inst.set_index("id")

    items: list[tuple[int | None, DueItem]] = []

    def add(iid: int, kind: str, pl: str, en: str) -> None:
        r = by_id.loc[iid]
        items.append((iid, DueItem(kind, str(r["ident"]), str(r["name"]), str(r["county"]), pl, en)))

    opens = window_opens(ref, edition)
    for a in audits_due(frames, accepted.awards, scored, ref, rules, edition):
        if a.institution_id in mine:
            add(a.institution_id, a.kind, *_audit_detail(a, opens))
    for r in renewals_due(status, today, months, ref).itertuples(index=False):
        if int(r.institution_id) in mine:
            add(int(r.institution_id), "expiring", *(
                label("due_detail.expiring", lang, award=label(f"award.{r.award_kind}", lang),
                      date=fmt.date(r.valid_until, lang), days=int(r.days_left)) for lang in ("pl", "en")))
    surveys = []
    for s in survey_counts(frames, respondents(con, edition), edition):
        if s.institution_id not in mine:
            continue
        r = by_id.loc[s.institution_id]
        surveys.append(SurveyDue(str(r["ident"]), str(r["name"]), str(r["county"]), s.group, s.wave,
                                 s.respondents, s.size))
        if s.respondents == 0:
            add(s.institution_id, "survey_missing", *(
                label("due_detail.survey_missing", lang, group=label(f"group.{s.group}", lang),
                      wave=label(f"wave.{s.wave}", lang)) for lang in ("pl", "en")))
    for p in pending(con, edition, ref):
        if p.institution.id in mine:
            add(p.institution.id, "award_unconfirmed", *(
                label("due_detail.award_unconfirmed", lang, award=label(f"award.{p.award_kind}", lang),
                      total=p.total, max=p.max_total, audit=label(f"audit_kind.{p.audit_kind}", lang),
                      date=fmt.date(p.audit_date, lang)) for lang in ("pl", "en")))
    for problem in _CHECKS.get((db_name, version, ref.directory), lambda: check(con, ref)):
        iid = problem.institution_id
        if iid in mine:
            add(iid, "contradiction", str(problem), str(problem))
        elif iid is None and units is None:  # the database as a whole: shown when the desk covers it all
            items.append((None, DueItem("contradiction", None, None, None, str(problem), str(problem))))

    order = {k: i for i, k in enumerate(KINDS)}
    items.sort(key=lambda x: (x[1].county or "", x[1].name or "", x[1].ident or "", order[x[1].kind]))
    due_of: dict[int, list[DueItem]] = {}
    for iid, item in items:
        if iid is not None:
            due_of.setdefault(iid, []).append(item)
    last = _last_audits(scored)
    rows = [_row(r, last.get(int(r.id)), tuple(due_of.get(int(r.id), ()))) for r in shown.itertuples(index=False)]
    surveys.sort(key=lambda s: (s.county, s.name, s.ident))
    return Desk(edition, today, months, as_of, units, counties, rows, [i for _, i in items], surveys, figures,
                version, is_synthetic(con))


def _audit_detail(a: AuditDue, opens: dt.date) -> tuple[str, str]:
    def text(lang: str) -> str:
        award = label(f"award.{a.award_kind}", lang)
        if a.kind == "certification_audit":
            return label("due_detail.certification_audit", lang, date=fmt.date(opens, lang), award=award)
        if a.kind == "reaudit":
            return label("due_detail.reaudit", lang, held=label(f"award.{a.held}", lang), award=award,
                         date=fmt.date(a.valid_until, lang))
        return label("due_detail.leader_candidate", lang, years=a.years, controls=a.positive_controls, award=award)
    return text("pl"), text("en")


def _last_audits(scored: pd.DataFrame) -> dict[int, LastAudit]:
    """Each institution's latest audit up to the edition."""
    if scored.empty:
        return {}
    latest = scored.sort_values(["audit_date", "audit_id"]).groupby("institution_id").tail(1)
    return {int(r.institution_id): LastAudit(str(r.edition), str(r.kind), r.audit_date.date(), int(r.total),
                                             int(r.max_total)) for r in latest.itertuples(index=False)}


def _row(r: Any, last: LastAudit | None, due: tuple[DueItem, ...]) -> DeskRow:
    until = None if pd.isna(r.valid_until) else pd.Timestamp(r.valid_until).date()
    joined = None if pd.isna(r.joined_edition) else str(r.joined_edition)
    return DeskRow(str(r.ident), str(r.name), str(r.locality), str(r.county), str(r.kind), bool(r.in_register),
                   bool(r.participating), joined, str(r.status), bool(r.via_complex), until, last, due)


# --------------------------------------------------------------------------- workbook

def to_xlsx(d: Desk, path: "str | os.PathLike[str]", lang: str = "pl") -> Path:
    """The desk as an XLSX workbook: a sheet per table (institutions, what is due, surveys, key
    figures) and one about the desk, with headers in ``lang`` (Polish by default, or English)."""
    return due_xlsx.write(d, Path(path), lang)
