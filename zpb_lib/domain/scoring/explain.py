"""Explanations of an audit: the per-criterion table, the gap list and the next step within reach.

They answer the question a coordinator asks after an audit: where did we lose points, and what is
the cheapest way to the next award? A control audit answers another question — does the institution
still meet the requirements of what it holds? — and is explained as such (:func:`describe_control`);
an institution holding the leader title has no next award (:func:`describe_next_step` says so).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import pandas as pd

from zpb_lib.core import fmt
from zpb_lib.domain.labels import label
from zpb_lib.reference import Catalogue
from zpb_lib.domain.scoring.decisions import AuditScore
from zpb_lib.domain.scoring.rules import RuleSet

NEXT_AWARD = {  # current stage -> award rule names to aim for, in order
    "not_participating": ("certificate", "university_certificate"),
    "stage1": ("certificate", "university_certificate"),
    "expired": ("certificate", "university_certificate"),
    "left": ("certificate", "university_certificate"),
    "certified": ("extension", "university_renewal"),
    "extended": ("leader", "extension"),
    "leader": (),
}


def criteria_table(catalogue: Catalogue, score: AuditScore) -> pd.DataFrame:
    """One row per criterion: points, maximum, points lost, mandatory and met."""
    rows = []
    for c in catalogue.criteria:
        p = score.points.get(c.id, 0)
        rows.append({"criterion": c.id, "area": c.area, "title_pl": c.title_pl, "title_en": c.title_en,
                     "points": p, "max_points": c.max_points, "lost": c.max_points - p,
                     "mandatory": c.mandatory, "mandatory_failed": c.id in score.mandatory_failed})
    return pd.DataFrame(rows)


def gaps(catalogue: Catalogue, score: AuditScore) -> list[tuple[str, int, bool]]:
    """(criterion, points available, mandatory failed) for criteria with points still available,
    most available first; failed mandatory criteria lead (without them no award is possible), then
    catalogue order breaks ties."""
    rows = []
    for order, c in enumerate(catalogue.criteria):
        lost = c.max_points - score.points.get(c.id, 0)
        if lost > 0:
            rows.append((not (c.id in score.mandatory_failed), -lost, order, c.id))
    rows.sort()
    return [(cid, -neg_lost, not not_failed) for not_failed, neg_lost, _, cid in rows]


def gap_list(catalogue: Catalogue, score: AuditScore) -> pd.DataFrame:
    """The gap list as a table (see :func:`gaps` for the order), with titles for reports."""
    t = criteria_table(catalogue, score).set_index("criterion")
    order = [cid for cid, _, _ in gaps(catalogue, score)]
    return t.loc[order].reset_index()


@dataclass(frozen=True)
class NextStep:
    rule: str | None  # award rule aimed at (e.g. "extension"); None when nothing is left to earn
    award_kind: str | None
    threshold: int
    points_short: int  # points missing on the audit's total (0 when the points suffice)
    mandatory_failed: tuple[str, ...]
    criteria: tuple[str, ...]  # smallest set of criteria (largest gaps first) that closes the gap
    within_reach: bool
    other_conditions: tuple[str, ...] = ()  # e.g. "years_in_programme", "positive_controls"
    audit: str | None = None  # the kind of audit that gives the award aimed at


def explained_audit(audits: pd.DataFrame, edition: str) -> pd.Series | None:
    """The audit a report of ``edition`` explains, from one institution's audits up to the edition
    (columns ``kind``, ``edition``, ``audit_date``, ``audit_id``): this edition's audit (a
    certification, re-audit or leader audit before a control audit of the same edition), else the
    latest audit that could give an award, else the latest control audit. A control audit of this
    edition is newer evidence than an award audit years ago, so it comes before it."""
    if audits.empty:
        return None
    control = audits["kind"].astype(str) == "control"
    this = audits["edition"].astype(str) == edition
    rank = (~this).astype(int) * 2 + control.astype(int)  # 0: this edition's award audit … 3: an old control
    chosen = audits.assign(_rank=rank.to_numpy()).sort_values(["_rank", "audit_date", "audit_id"],
                                                               ascending=[True, False, False])
    return chosen.iloc[0].drop("_rank")


def next_step(rule_set: RuleSet, stage: str, catalogue: Catalogue, score: AuditScore, *,
              years: int = 0, positive_controls: int = 0, reach: int = 5) -> NextStep:
    """What the institution needs for its next award, judged on ``score`` (its latest audit).

    ``reach``: a gap of at most this many points (and no failed mandatory criterion beyond those the
    listed criteria fix) counts as within reach; reports phrase it as "2 points short of …".
    """
    rule = None
    for name in NEXT_AWARD.get(stage, ()):
        if name in rule_set.awards:
            rule = rule_set.awards[name]
            break
    if rule is None:
        return NextStep(None, None, 0, 0, (), (), False)
    short = max(0, rule.min_points - score.total)
    chosen, gained = closing_criteria(catalogue, score, short)
    other = []
    if years < rule.min_years_in_programme:
        other.append("years_in_programme")
    if positive_controls < rule.min_positive_controls:
        other.append("positive_controls")
    within = short <= reach and gained >= short
    return NextStep(rule.name, rule.award_kind, rule.min_points, short, score.mandatory_failed,
                    tuple(chosen), within, tuple(other), rule.audit)


def closing_criteria(catalogue: Catalogue, score: AuditScore, short: int) -> tuple[list[str], int]:
    """The failed mandatory criteria, then the criteria with the largest gaps until ``short`` points
    are made up; with the points they would add."""
    lost = {cid: n for cid, n, _ in gaps(catalogue, score)}
    chosen: list[str] = list(score.mandatory_failed)
    gained = sum(lost.get(c, 0) for c in chosen)
    for cid, n, _ in gaps(catalogue, score):
        if gained >= short:
            break
        if cid not in chosen:
            chosen.append(cid)
            gained += n
    return chosen, gained


def describe_next_step(step: NextStep, catalogue: Catalogue, award_label: Mapping[str, str],
                       lang: str = "pl") -> str:
    """One sentence, e.g. "2 points short of the extension: implementation of the plan and the
    teachers' survey". ``award_label`` maps award kinds to their label in ``lang``; the phrases are
    the ``next.*`` labels of :mod:`zpb_lib.domain.labels`."""
    if step.rule is None:
        return label("next.none", lang)
    titles = [getattr(catalogue.criterion(c), f"title_{lang}").rstrip(".") for c in step.criteria]
    conj = label("next.and", lang)
    award = award_label.get(step.award_kind or "", step.award_kind or "")
    other = [label(f"next.also_{c}", lang) for c in step.other_conditions]
    also = " " + label("next.also", lang, items=_join(other, conj)) if other else ""
    if step.points_short == 0 and not step.mandatory_failed:
        return label("next.suffice", lang, award=award) + also
    if step.points_short:
        key = "next.short_one" if step.points_short == 1 else "next.short"
        text = label(key, lang, n=step.points_short, award=award, criteria=_join(titles, conj))
    else:
        text = label("next.mandatory", lang, award=award, criteria=_join(titles, conj))
    return text + also


def describe_control(catalogue: Catalogue, score: AuditScore, threshold: int, *, positive: bool, audit_date: object,
                     stage: str, valid_until: object, step: NextStep, award_label: Mapping[str, str],
                     lang: str = "pl") -> str:
    """What a control audit says, in a few sentences: whether it confirmed that the institution meets
    the requirements (its points against the control threshold; if not, what is missing), what keeps
    its status (the leader title is indefinite and the last stage; a certificate is valid until its
    date), and — when the rules have a next stage for it — which audit gives that stage. A control
    audit gives no award, so no points gap to a next award is computed from it."""
    values = {"date": fmt.date(audit_date, lang), "total": fmt.integer(score.total, lang),
              "max": fmt.integer(score.max_total, lang), "threshold": fmt.integer(threshold, lang)}
    parts = [label("next.control_confirmed" if positive else "next.control_failed", lang, **values)]
    if not positive:
        short = max(0, threshold - score.total)
        chosen, _ = closing_criteria(catalogue, score, short)
        titles = [getattr(catalogue.criterion(c), f"title_{lang}").rstrip(".") for c in chosen]
        conj = label("next.and", lang)
        if short:
            key = "next.control_short_one" if short == 1 else "next.control_short"
            parts.append(label(key, lang, n=short, criteria=_join(titles, conj)))
        elif titles:
            parts.append(label("next.control_mandatory", lang, criteria=_join(titles, conj)))
    if stage == "leader":
        parts.append(label("next.keeps_leader", lang))
    elif stage in ("certified", "extended") and not fmt.is_missing(valid_until):
        parts.append(label("next.keeps_certificate", lang, date=fmt.date(valid_until, lang)))
    if step.rule is not None and step.audit is not None:
        text = label("next.stage", lang, award=award_label.get(step.award_kind or "", step.award_kind or ""),
                     audit=label(f"audit_after.{step.audit}", lang), points=fmt.integer(step.threshold, lang))
        other = [label(f"next.also_{c}", lang) for c in step.other_conditions]
        if other:
            text += " " + label("next.also", lang, items=_join(other, label("next.and", lang)))
        parts.append(text)
    return " ".join(parts)


def _join(items: list[str], last: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + last + items[-1]
