"""Scoring one audit against its catalogue and deciding what it earns under the rules in force.

Reasons are structured (code + numbers) so that reports can phrase them in any language.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Mapping

from zpb_lib.reference import Catalogue
from zpb_lib.domain.scoring.rules import AwardRule, RuleSet


@dataclass(frozen=True)
class AuditScore:
    catalogue: str
    total: int
    max_total: int
    by_area: dict[str, tuple[int, int]]  # area -> (points, maximum)
    mandatory_failed: tuple[str, ...]  # mandatory criteria below the rule set's minimum
    missing: tuple[str, ...]  # criteria of the catalogue with no points recorded (count as 0)
    points: dict[str, int] = field(default_factory=dict)  # criterion -> points (clipped)


def score_audit(catalogue: Catalogue, points: Mapping[str, int], mandatory_min_points: int = 1) -> AuditScore:
    """Total, per-area points and failed mandatory criteria. Points are clipped to each criterion's
    maximum (the database refuses more; this keeps hand-made inputs honest too)."""
    unknown = set(points) - {c.id for c in catalogue.criteria}
    if unknown:
        raise KeyError(f"criteria not in catalogue {catalogue.key}: {', '.join(sorted(unknown))}")
    by_area: dict[str, list[int]] = {a.id: [0, 0] for a in catalogue.areas}
    total, failed, missing, clipped = 0, [], [], {}
    for c in catalogue.criteria:
        if c.id not in points or points[c.id] is None:
            missing.append(c.id)
        p = max(0, min(int(points.get(c.id) or 0), c.max_points))
        clipped[c.id] = p
        total += p
        by_area[c.area][0] += p
        by_area[c.area][1] += c.max_points
        if c.mandatory and p < mandatory_min_points:
            failed.append(c.id)
    return AuditScore(catalogue.key, total, catalogue.max_total, {k: (v[0], v[1]) for k, v in by_area.items()},
                      tuple(failed), tuple(missing), clipped)


def years_in_programme(joined_start_year: int, on: dt.date) -> int:
    """Full years from 1 September of the joining school year to ``on``."""
    start = dt.date(joined_start_year, 9, 1)
    years = on.year - start.year - ((on.month, on.day) < (start.month, start.day))
    return max(0, years)


@dataclass(frozen=True)
class Reason:
    code: str  # mandatory_failed | required_failed | points_short | years_short | controls_short | requires | no_rule
    value: int | None = None
    items: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    audit_kind: str
    rule: str | None  # name of the award rule that applied
    award_kind: str | None  # what is awarded when granted
    granted: bool  # for control audits: positive
    valid_years: int | None
    threshold: int
    reasons: tuple[Reason, ...] = field(default_factory=tuple)

    @property
    def points_short(self) -> int:
        return next((r.value or 0 for r in self.reasons if r.code == "points_short"), 0)


def decide(rule_set: RuleSet, audit_kind: str, score: AuditScore, *, held: frozenset[str] = frozenset(),
           years: int = 0, positive_controls: int = 0) -> Decision:
    """What an audit earns. ``held``: award kinds the institution holds (valid) at the audit;
    ``years``: full years in the programme at the audit; ``positive_controls``: positive control
    audits since its last award."""
    if audit_kind == "control":
        reasons = _point_reasons(score, rule_set.control_min_points)
        return Decision(audit_kind, None, None, not reasons, None, rule_set.control_min_points, reasons)
    rule = rule_set.rule_for_audit(audit_kind)
    if rule is None:
        return Decision(audit_kind, None, None, False, None, 0, (Reason("no_rule"),))
    reasons = list(_point_reasons(score, rule.min_points, rule))
    if rule.requires and not held.intersection(rule.requires):
        reasons.append(Reason("requires", items=rule.requires))
    if years < rule.min_years_in_programme:
        reasons.append(Reason("years_short", rule.min_years_in_programme - years))
    if positive_controls < rule.min_positive_controls:
        reasons.append(Reason("controls_short", rule.min_positive_controls - positive_controls))
    return Decision(audit_kind, rule.name, rule.award_kind, not reasons, rule.valid_years, rule.min_points,
                    tuple(reasons))


def _point_reasons(score: AuditScore, threshold: int, rule: AwardRule | None = None) -> tuple[Reason, ...]:
    reasons = []
    failed = list(score.mandatory_failed)
    if failed:
        reasons.append(Reason("mandatory_failed", len(failed), tuple(failed)))
    if rule is not None:
        required = tuple(c for c in rule.required_criteria if score.points.get(c, 0) < 1)
        if required:
            reasons.append(Reason("required_failed", len(required), required))
    if score.total < threshold:
        reasons.append(Reason("points_short", threshold - score.total))
    return tuple(reasons)


def valid_until(awarded_on: dt.date, valid_years: int | None) -> dt.date | None:
    """End of validity: the same day ``valid_years`` later (29 Feb → 28 Feb)."""
    if valid_years is None:
        return None
    try:
        return awarded_on.replace(year=awarded_on.year + valid_years)
    except ValueError:
        return awarded_on.replace(year=awarded_on.year + valid_years, day=28)
