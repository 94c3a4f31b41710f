"""What the programme's rules make due in an edition: the audits to plan and the surveys still missing.

The rules are the certificate rules of ``data/rules/<family>.yaml`` (:mod:`zpb_lib.domain.scoring.rules`),
applied to the history up to the edition with the awards the rules do not deny
(:func:`zpb_lib.domain.scoring.lifecycle.accepted_awards`), as the reports count them:

* **certification audit** — an institution taking part in the edition that holds no valid award when
  the edition's audit window opens (stage I, or its certificate has lapsed): the rule whose audit is
  ``certification`` gives it its certificate;
* **re-audit** — one holding an award the ``reaudit`` rule requires (a certificate or an extension)
  that is valid when the window opens but no longer when the next edition's window opens: this
  edition's audit is the last one before it runs out;
* **Lider candidate** — one holding what the ``leader`` rule requires, with the years in the
  programme and the positive control audits (since its latest award) that rule asks for.

An audit of that kind already recorded in the edition is done, not due. Only institutions taking part
in the edition on their own are audited and surveyed: a school taking part with its complex is covered
by the complex's (:mod:`zpb_lib.domain.complexes`).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

import pandas as pd

from zpb_lib.domain.scoring.decisions import years_in_programme
from zpb_lib.domain.scoring.lifecycle import participating_in
from zpb_lib.domain.scoring.rules import Rules
from zpb_lib.reference import GROUPS, WAVES, Reference
from zpb_lib.store.frames import Frames

#: The kinds of item the desk lists, in the order it shows them.
KINDS = ("certification_audit", "reaudit", "leader_candidate", "expiring", "survey_missing", "award_unconfirmed",
         "contradiction")
#: The audit each planned kind stands for (its rule is the one whose ``audit`` is this kind).
AUDIT_OF = {"certification_audit": "certification", "reaudit": "reaudit", "leader_candidate": "leader"}


@dataclass(frozen=True)
class AuditDue:
    """An audit the rules call for in the edition."""
    institution_id: int
    kind: str  # certification_audit, reaudit or leader_candidate
    award_kind: str  # what the audit gives when positive
    held: str | None = None  # re-audit: the award kind that runs out
    valid_until: dt.date | None = None  # re-audit: the day it runs out
    years: int | None = None  # Lider candidate: full years in the programme when the window opens
    positive_controls: int | None = None  # Lider candidate: positive control audits since its latest award


class SurveyCount(NamedTuple):
    """One survey (group and wave) of an institution taking part in the edition."""
    institution_id: int
    group: str  # students, parents or teachers
    wave: str  # baseline or follow-up
    respondents: int  # responses stored so far (0: the survey is missing)
    size: int | None  # the group's size where the register knows it


def window_opens(ref: Reference, edition: str) -> dt.date:
    return ref.edition(edition).audit_from


def next_window_opens(ref: Reference, edition: str) -> dt.date:
    """When the next held edition's audit window opens; past the last edition known, a year after
    this one's (an edition is a school year)."""
    start = ref.edition(edition).start_year
    later = [e for e in ref.editions.values() if e.held and e.start_year > start]
    if later:
        return later[0].audit_from
    opens = window_opens(ref, edition)
    return opens.replace(year=opens.year + 1)


def participants(frames: Frames, edition: str) -> set[int]:
    """Institutions taking part in ``edition`` on their own (a school taking part with its complex has
    no participation of its own covering the edition)."""
    return participating_in(frames.participation, edition)


def _held(awards: pd.DataFrame, on: pd.Timestamp) -> pd.DataFrame:
    """Awards valid on ``on``: given by then and not expired (``valid_until`` after it; none: indefinite)."""
    return awards[(awards["awarded_on"] <= on) & (awards["valid_until"].isna() | (awards["valid_until"] > on))]


def audits_due(frames: Frames, awards: pd.DataFrame, scored: pd.DataFrame, ref: Reference, rules: Rules,
               edition: str) -> list[AuditDue]:
    """The audits the rules call for in ``edition`` (see the module's text). ``frames``: the history
    up to the edition; ``awards``: the awards a status may count (accepted); ``scored``: the replayed
    audits (:func:`zpb_lib.domain.scoring.lifecycle.replay`), for the control audits' verdicts."""
    opens = pd.Timestamp(window_opens(ref, edition))
    closes = pd.Timestamp(ref.edition(edition).audit_to)
    next_opens = pd.Timestamp(next_window_opens(ref, edition))
    family = {k: v.family for k, v in ref.kinds.items()}
    kinds = frames.institutions.set_index("id")["kind"].astype(str)
    joined = frames.participation.groupby("institution_id", observed=True)["joined_edition"].min()
    audits = frames.audits[frames.audits["edition"].astype(str) == edition]
    done = {(int(i), str(k)) for i, k in zip(audits["institution_id"], audits["kind"].astype(str))}
    held_now = _held(awards, opens)
    held_by = {int(i): g for i, g in held_now.groupby("institution_id")}
    given = awards[awards["awarded_on"] < opens]
    last_award = given.groupby("institution_id")["awarded_on"].max()
    controls = scored[(scored["kind"] == "control") & scored["granted"] & (scored["audit_date"] <= closes)] \
        if len(scored) else pd.DataFrame(columns=["institution_id", "audit_date"])
    out: list[AuditDue] = []
    for iid in sorted(participants(frames, edition)):
        rs = rules.for_edition(family[kinds[iid]], edition)
        mine = held_by.get(iid, held_now.iloc[0:0])
        held = set(mine["kind"].astype(str))
        rule = rs.rule_for_audit(AUDIT_OF["certification_audit"])
        if rule and not held and (iid, rule.audit) not in done:
            out.append(AuditDue(iid, "certification_audit", rule.award_kind))
        rule = rs.rule_for_audit(AUDIT_OF["reaudit"])
        lasting = mine[mine["valid_until"].isna()]
        if rule and held & set(rule.requires) and lasting.empty and (iid, rule.audit) not in done:
            running = mine[mine["kind"].astype(str).isin(rule.requires)].sort_values("valid_until").iloc[-1]
            until = running["valid_until"]
            if until <= next_opens:
                out.append(AuditDue(iid, "reaudit", rule.award_kind, held=str(running["kind"]),
                                    valid_until=until.date()))
        rule = rs.rule_for_audit(AUDIT_OF["leader_candidate"])
        if rule and held & set(rule.requires) and rule.award_kind not in held and (iid, rule.audit) not in done:
            years = years_in_programme(int(str(joined[iid])[:4]), opens.date())
            since = last_award.get(iid, pd.Timestamp.min)
            mine_controls = controls[controls["institution_id"] == iid]
            n = int((mine_controls["audit_date"] > since).sum())
            if years >= rule.min_years_in_programme and n >= rule.min_positive_controls:
                out.append(AuditDue(iid, "leader_candidate", rule.award_kind, years=years, positive_controls=n))
    return out


def survey_counts(frames: Frames, respondents: list[tuple[int, str, str, int]], edition: str) -> list[SurveyCount]:
    """Every survey (group and wave) of each institution taking part in ``edition`` on its own, with
    its respondents so far (``respondents``: rows of
    :func:`zpb_lib.store.queries.surveys.respondents`). Only the students' group has a size the
    register knows: the RSPO register's number of pupils."""
    counts = {(int(i), str(g), str(w)): int(n) for i, g, w, n in respondents}
    pupils = frames.institutions.set_index("id")["pupils"]
    out = []
    for iid in sorted(participants(frames, edition)):
        size = pupils.get(iid)
        for group in GROUPS:
            for wave in WAVES:
                known = group == "students" and size is not None and not pd.isna(size)
                out.append(SurveyCount(iid, group, wave, counts.get((iid, group, wave), 0),
                                       int(size) if known else None))
    return out
